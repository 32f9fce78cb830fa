package adult

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// synthetic returns a dataset of n rows whose labels are 1 with the given
// probability, with three features: a random one, a large-valued one and a
// constant.
func synthetic(n int, p float64, seed uint64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	d := &Dataset{Features: []string{"x", "big", "const"}, X: make([]float32, 3*n), Y: make([]int32, n)}
	for i := range n {
		if r.Float64() < p {
			d.Y[i] = 1
		}
		x := d.Row(i)
		x[0] = float32(r.NormFloat64()*3 + 5)
		x[1] = float32(1e5 + r.Float64()*1e6)
		x[2] = 7
	}
	return d
}

func countClass(d *Dataset, rows []int, label int32) int {
	n := 0
	for _, i := range rows {
		if d.Y[i] == label {
			n++
		}
	}
	return n
}

// checkSplits checks sizes, disjointness and coverage, and that each split
// holds each class within maxDev rows of its share of the whole dataset.
func checkSplits(t *testing.T, d *Dataset, s Splits, train, val, test int, maxDev float64) {
	t.Helper()
	if len(s.Train) != train || len(s.Val) != val || len(s.Test) != test {
		t.Fatalf("sizes %d/%d/%d, want %d/%d/%d", len(s.Train), len(s.Val), len(s.Test), train, val, test)
	}
	all := slices.Concat(s.Train, s.Val, s.Test)
	slices.Sort(all)
	for i, id := range all {
		if id != i {
			t.Fatalf("splits are not a partition of 0..%d (first gap or repeat at %d)", d.Rows()-1, i)
		}
	}
	ones := float64(countClass(d, all, 1)) / float64(d.Rows())
	for name, rows := range map[string][]int{"train": s.Train, "val": s.Val, "test": s.Test} {
		want := ones * float64(len(rows))
		if got := float64(countClass(d, rows, 1)); math.Abs(got-want) > maxDev {
			t.Errorf("%s: %v ones, want %.2f ± %v", name, got, want, maxDev)
		}
	}
}

func TestSplitSynthetic(t *testing.T) {
	d := synthetic(1000, 0.3, 1)
	s, err := Split(d, 42)
	if err != nil {
		t.Fatal(err)
	}
	// test = ceil(0.2·1000) = 200; val = ceil(0.2·800) = 160.
	checkSplits(t, d, s, 640, 160, 200, 1.5)

	again, _ := Split(d, 42)
	if !slices.Equal(s.Train, again.Train) || !slices.Equal(s.Val, again.Val) || !slices.Equal(s.Test, again.Test) {
		t.Error("same seed gave different splits")
	}
	other, _ := Split(d, 43)
	if slices.Equal(s.Train, other.Train) {
		t.Error("seeds 42 and 43 gave the same training split")
	}
	// The output order is shuffled, not sorted or grouped by class.
	if slices.IsSorted(s.Train) || slices.IsSortedFunc(s.Train, func(a, b int) int { return int(d.Y[a] - d.Y[b]) }) {
		t.Error("training split is not shuffled")
	}
}

func TestSplitErrors(t *testing.T) {
	if _, err := Split(&Dataset{}, 1); err == nil {
		t.Error("empty dataset: no error")
	}
	d := synthetic(50, 0, 1)
	d.Y[3] = 1 // a class of one row cannot be stratified
	if _, err := Split(d, 1); err == nil {
		t.Error("singleton class: no error")
	}
	// 4 rows: test 1 < 2 classes.
	d = &Dataset{Features: []string{"x"}, X: make([]float32, 4), Y: []int32{0, 0, 1, 1}}
	if _, err := Split(d, 1); err == nil {
		t.Error("too few rows for two classes: no error")
	}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		counts []int
		total  int
		want   []int
	}{
		// Real data, first split: 36177·34014/45222 = 27210.75, 36177·11208/45222 = 8966.25
		{[]int{34014, 11208}, 36177, []int{27211, 8966}},
		{[]int{5, 5}, 5, []int{3, 2}},          // tie goes to the first class
		{[]int{1, 1, 1}, 2, []int{1, 1, 0}},    // three-way tie
		{[]int{10, 0, 3}, 13, []int{10, 0, 3}}, // all rows
		{[]int{7, 3}, 0, []int{0, 0}},
	}
	for _, tt := range tests {
		if got := allocate(tt.counts, tt.total); !slices.Equal(got, tt.want) {
			t.Errorf("allocate(%v, %d) = %v, want %v", tt.counts, tt.total, got, tt.want)
		}
	}
}

func TestScalerFitOnTrain(t *testing.T) {
	d := synthetic(500, 0.5, 2)
	s, err := Split(d, 7)
	if err != nil {
		t.Fatal(err)
	}
	sc := FitScaler(d, s.Train)
	if sc.Std[2] != 1 || sc.Mean[2] != 7 {
		t.Errorf("constant feature: mean %v std %v, want 7 and 1", sc.Mean[2], sc.Std[2])
	}
	x := sc.Apply(d, s.Train)
	f := len(d.Features)
	for j := range f {
		var m, v float64
		for i := range len(s.Train) {
			m += float64(x[i*f+j])
		}
		m /= float64(len(s.Train))
		for i := range len(s.Train) {
			dv := float64(x[i*f+j]) - m
			v += dv * dv
		}
		sd := math.Sqrt(v / float64(len(s.Train)))
		wantSD := 1.0
		if j == 2 {
			wantSD = 0
		}
		// float32 output limits agreement to ~1e-6 relative.
		if math.Abs(m) > 1e-5 || math.Abs(sd-wantSD) > 1e-5 {
			t.Errorf("feature %s on train: mean %g std %g, want 0 and %g", d.Features[j], m, sd, wantSD)
		}
	}
	// Fitting on all rows gives a different scaler: the training fit does
	// not see the held-out rows.
	all := FitScaler(d, slices.Concat(s.Train, s.Val, s.Test))
	if all.Mean[0] == sc.Mean[0] {
		t.Error("fit on train equals fit on all rows")
	}
	// Apply keeps the order of rows.
	rows := []int{s.Test[1], s.Test[0]}
	y := sc.Apply(d, rows)
	for k, i := range rows {
		if want := float32((float64(d.Row(i)[1]) - sc.Mean[1]) / sc.Std[1]); y[k*f+1] != want {
			t.Errorf("Apply row %d: %v, want %v", i, y[k*f+1], want)
		}
	}
	if empty := FitScaler(d, nil); empty.Mean[0] != 0 || empty.Std[0] != 1 {
		t.Errorf("no rows: %+v, want identity", empty)
	}
}
