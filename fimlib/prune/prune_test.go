package prune

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// mlpShapes are the seed MLP's six tensors (96→128→64→2): 20,802 entries.
var mlpShapes = []struct {
	name  string
	shape []int
}{
	{"dense0/weights", []int{96, 128}}, {"dense0/biases", []int{128}},
	{"dense1/weights", []int{128, 64}}, {"dense1/biases", []int{64}},
	{"dense2/weights", []int{64, 2}}, {"dense2/biases", []int{2}},
}

// randomMLP returns the MLP's tensors filled with distinct-with-probability-1
// uniform scores.
func randomMLP(seed uint64) []Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	var ts []Tensor
	for _, s := range mlpShapes {
		v := make([]float32, size(s.shape))
		for i := range v {
			v[i] = r.Float32()
		}
		ts = append(ts, Tensor{Name: s.name, Shape: s.shape, Values: v})
	}
	return ts
}

func flat(v ...float32) []Tensor {
	return []Tensor{{Name: "t", Shape: []int{len(v)}, Values: v}}
}

// keeps returns each tensor's Keep slice.
func keeps(m Mask) [][]float32 {
	var out [][]float32
	for _, t := range m.Tensors {
		out = append(out, t.Keep)
	}
	return out
}

func TestGlobal(t *testing.T) {
	inf := float32(math.Inf(1))
	for i, tc := range []struct {
		scores   []Tensor
		fraction float64
		want     [][]float32
	}{
		0: {flat(3, 1, 2), 0, [][]float32{{1, 1, 1}}},
		1: {flat(3, 1, 2), 1, [][]float32{{0, 0, 0}}},
		2: {flat(3, 1, 2), 1.0 / 3, [][]float32{{0, 1, 1}}},
		// Ties: of the three 3s the two lowest indices go first.
		3: {flat(1, 3, 3, 3, 2), 0.4, [][]float32{{1, 0, 0, 1, 1}}},
		// Across tensors: 9 first, then the tie at 5 goes to a[0] (flat
		// index 0) before b[0] (flat index 2).
		4: {[]Tensor{
			{Name: "a", Shape: []int{2}, Values: []float32{5, 1}},
			{Name: "b", Shape: []int{1, 2}, Values: []float32{5, 9}},
		}, 0.5, [][]float32{{0, 1}, {1, 0}}},
		// round(0.5·5) = 3, half away from zero.
		5: {flat(5, 4, 3, 2, 1), 0.5, [][]float32{{0, 0, 0, 1, 1}}},
		6: {flat(0, inf, -inf, 1), 0.5, [][]float32{{1, 0, 1, 0}}},
		7: {nil, 0.5, nil},
	} {
		m, err := Global(tc.scores, tc.fraction)
		if err != nil {
			t.Errorf("%d: %v", i, err)
			continue
		}
		if got := keeps(m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d: keep = %v, want %v", i, got, tc.want)
		}
	}
}

func TestGlobalCounts(t *testing.T) {
	scores := randomMLP(1)
	const n = 20802
	for i, tc := range []struct {
		fraction float64
		want     int
	}{
		0: {0.1, 2080}, // 2080.2
		1: {0.2, 4160}, // 4160.4
		2: {0.3, 6241}, // 6240.6
		3: {0.4, 8321}, // 8320.8
		4: {0, 0},
		5: {1, n},
	} {
		m, err := Global(scores, tc.fraction)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.PrunedTotal(); got != tc.want {
			t.Errorf("%d: pruned %d, want %d", i, got, tc.want)
		}
		sum, total := 0, 0
		for _, c := range m.Counts() {
			sum += c.Pruned
			total += c.Total
		}
		if sum != tc.want || total != n {
			t.Errorf("%d: counts sum to %d of %d, want %d of %d", i, sum, total, tc.want, n)
		}
		// Every pruned score is ≥ every kept score.
		minPruned, maxKept := math.Inf(1), math.Inf(-1)
		for ti, tm := range m.Tensors {
			for j, k := range tm.Keep {
				v := float64(scores[ti].Values[j])
				if k == 0 {
					minPruned = min(minPruned, v)
				} else {
					maxKept = max(maxKept, v)
				}
			}
		}
		if minPruned < maxKept {
			t.Errorf("%d: pruned score %v below kept score %v", i, minPruned, maxKept)
		}
	}
}

func TestGlobalDeterministic(t *testing.T) {
	scores := randomMLP(2)
	before := slices.Clone(scores[0].Values)
	a, err := Global(scores, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Global(scores, 0.3)
	if !reflect.DeepEqual(a, b) {
		t.Error("two calls gave different masks")
	}
	if !slices.Equal(before, scores[0].Values) {
		t.Error("Global modified its input")
	}
}

func TestErrors(t *testing.T) {
	nan := float32(math.NaN())
	bad := []Tensor{{Name: "x", Shape: []int{2, 2}, Values: []float32{1, 2, 3}}}
	for i, tc := range []struct {
		scores   []Tensor
		fraction float64
		want     error
	}{
		0: {flat(1, 2), -0.1, ErrFraction},
		1: {flat(1, 2), 1.1, ErrFraction},
		2: {flat(1, 2), math.NaN(), ErrFraction},
		3: {flat(1, nan), 0.5, ErrNaN},
		4: {bad, 0.5, ErrShape},
	} {
		if _, err := Global(tc.scores, tc.fraction); !errors.Is(err, tc.want) {
			t.Errorf("%d: Global error %v, want %v", i, err, tc.want)
		}
		if _, _, err := SeedThreshold(tc.scores, tc.fraction); !errors.Is(err, tc.want) {
			t.Errorf("%d: SeedThreshold error %v, want %v", i, err, tc.want)
		}
		if _, err := Magnitude(tc.scores, tc.fraction); !errors.Is(err, tc.want) {
			t.Errorf("%d: Magnitude error %v, want %v", i, err, tc.want)
		}
	}
	if _, _, err := SeedThreshold(nil, 0.5); err == nil {
		t.Error("SeedThreshold(nil) succeeded")
	}
	if _, err := Random(flat(1), 2, 1); !errors.Is(err, ErrFraction) {
		t.Errorf("Random error %v, want ErrFraction", err)
	}
}

func TestSeedThreshold(t *testing.T) {
	// Thresholds worked by hand with numpy's linear rule
	// (index = q/100·(n−1), interpolated between sorted neighbours):
	//   np.percentile([1,2,3,4], 90)  = 3 + 0.7·1  = 3.7   (index 2.7)
	//   np.percentile([1,2,3,4], 50)  = 2 + 0.5·1  = 2.5   (index 1.5)
	//   np.percentile([1,2,3,4], 100) = 4,  np.percentile([1,2,3,4], 0) = 1
	//   np.percentile([1,2,2,2,2], 60) = 2                  (index 2.4)
	//   np.percentile(np.arange(10), 75) = 6 + 0.75 = 6.75 (index 6.75)
	for i, tc := range []struct {
		scores    []Tensor
		fraction  float64
		threshold float64
		want      [][]float32
	}{
		0: {flat(4, 1, 3, 2), 0.1, 3.7, [][]float32{{0, 1, 1, 1}}},
		1: {flat(4, 1, 3, 2), 0.5, 2.5, [][]float32{{0, 1, 0, 1}}},
		2: {flat(4, 1, 3, 2), 0, 4, [][]float32{{1, 1, 1, 1}}},
		// Fraction 1 keeps the minimum: score ≤ min is true for it.
		3: {flat(4, 1, 3, 2), 1, 1, [][]float32{{0, 1, 0, 0}}},
		// Ties at the threshold are all kept: nothing pruned where Global
		// would prune round(0.4·5) = 2.
		4: {flat(1, 2, 2, 2, 2), 0.4, 2, [][]float32{{1, 1, 1, 1, 1}}},
		5: {flat(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 0.25, 6.75, [][]float32{{1, 1, 1, 1, 1, 1, 1, 0, 0, 0}}},
	} {
		m, thr, err := SeedThreshold(tc.scores, tc.fraction)
		if err != nil {
			t.Errorf("%d: %v", i, err)
			continue
		}
		if thr != tc.threshold {
			t.Errorf("%d: threshold = %v, want %v", i, thr, tc.threshold)
		}
		if got := keeps(m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d: keep = %v, want %v", i, got, tc.want)
		}
	}
}

// TestSeedThresholdCounts: with 20,802 distinct scores the seed's rule keeps
// the entries up to sorted index floor(20801·(1−f)), so it prunes
// 20801 − floor(20801·(1−f)): 2081, 4161, 6241, 8321 — one more than Global
// at 0.1 and 0.2.
func TestSeedThresholdCounts(t *testing.T) {
	scores := randomMLP(3)
	for i, tc := range []struct {
		fraction float64
		want     int
	}{
		0: {0.1, 2081}, // index 18720.9
		1: {0.2, 4161}, // index 16640.8
		2: {0.3, 6241}, // index 14560.7
		3: {0.4, 8321}, // index 12480.6
	} {
		m, _, err := SeedThreshold(scores, tc.fraction)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.PrunedTotal(); got != tc.want {
			t.Errorf("%d: pruned %d, want %d", i, got, tc.want)
		}
	}
}

func TestRandom(t *testing.T) {
	shapes := randomMLP(4)
	for i := range shapes {
		shapes[i].Values = nil // only shapes are used
	}
	for i, f := range []float64{0, 0.1, 0.3, 1} {
		m, err := Random(shapes, f, 7)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.PrunedTotal(), int(math.Round(f*20802)); got != want {
			t.Errorf("%d: pruned %d, want %d", i, got, want)
		}
	}
	a, _ := Random(shapes, 0.3, 7)
	b, _ := Random(shapes, 0.3, 7)
	c, _ := Random(shapes, 0.3, 8)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different masks")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave the same mask")
	}
}

func TestMagnitude(t *testing.T) {
	for i, tc := range []struct {
		weights  []Tensor
		fraction float64
		want     [][]float32
	}{
		// |−0.1| = |0.1|: the lower index goes first.
		0: {flat(-3, 0.5, -0.1, 2, 0.1), 0.2, [][]float32{{1, 1, 0, 1, 1}}},
		1: {flat(-3, 0.5, -0.1, 2, 0.1), 0.6, [][]float32{{1, 0, 0, 1, 0}}},
		2: {flat(-3, 0.5), 1, [][]float32{{0, 0}}},
	} {
		m, err := Magnitude(tc.weights, tc.fraction)
		if err != nil {
			t.Fatal(err)
		}
		if got := keeps(m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d: keep = %v, want %v", i, got, tc.want)
		}
	}
}

func TestApply(t *testing.T) {
	nan := float32(math.NaN())
	w := []Tensor{
		{Name: "a", Shape: []int{2}, Values: []float32{1, nan}},
		{Name: "b", Shape: []int{1, 2}, Values: []float32{3, 4}},
	}
	m := Mask{Tensors: []TensorMask{
		{Name: "a", Shape: []int{2}, Keep: []float32{1, 0}},
		{Name: "b", Shape: []int{1, 2}, Keep: []float32{0, 1}},
	}}
	if err := Apply(w, m); err != nil {
		t.Fatal(err)
	}
	if got := [][]float32{w[0].Values, w[1].Values}; !reflect.DeepEqual(got, [][]float32{{1, 0}, {0, 4}}) {
		t.Errorf("weights = %v", got)
	}

	for i, bad := range []Mask{
		0: {Tensors: m.Tensors[:1]},
		1: {Tensors: []TensorMask{m.Tensors[0], {Name: "c", Shape: []int{1, 2}, Keep: []float32{0, 0}}}},
		2: {Tensors: []TensorMask{m.Tensors[0], {Name: "b", Shape: []int{2}, Keep: []float32{0, 0}}}},
	} {
		w := []Tensor{
			{Name: "a", Shape: []int{2}, Values: []float32{1, 2}},
			{Name: "b", Shape: []int{1, 2}, Values: []float32{3, 4}},
		}
		if err := Apply(w, bad); !errors.Is(err, ErrShape) {
			t.Errorf("%d: error %v, want ErrShape", i, err)
		}
		if !slices.Equal(w[0].Values, []float32{1, 2}) {
			t.Errorf("%d: weights modified on error: %v", i, w[0].Values)
		}
	}
}

func TestMaskAsTensors(t *testing.T) {
	m := Mask{Tensors: []TensorMask{{Name: "/w", Shape: []int{2}, Keep: []float32{1, 0}}}}
	got := m.AsTensors()
	if len(got) != 1 || got[0].Name != "/w" || !slices.Equal(got[0].Values, []float32{1, 0}) || !slices.Equal(got[0].Shape, []int{2}) {
		t.Errorf("AsTensors = %+v", got)
	}
}
