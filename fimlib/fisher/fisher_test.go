package fisher

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// smallProblem returns a small random architecture, its parameters and rows.
func smallProblem(t *testing.T, rows int) (mlp.Arch, *model.Store, train.Data) {
	t.Helper()
	arch := mlp.Arch{Inputs: 5, Hidden: []int{7, 4}, Classes: 2, Dropout: 0.2}
	params := arch.Init(3)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range params { // non-zero biases exercise the bias terms
		for i := range p.Values {
			p.Values[i] += float32(0.3 * rng.NormFloat64())
		}
	}
	store, err := mlp.NewStore(params, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := train.Data{Features: arch.Inputs, X: make([]float32, rows*arch.Inputs), Y: make([]int32, rows)}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64())
	}
	for i := range d.Y {
		d.Y[i] = int32(rng.IntN(2))
	}
	return arch, store, d
}

// naive computes the Fisher the slow, obvious way: one gradient per row with
// respect to the parameters themselves, squared and averaged on the host.
func naive(t *testing.T, b compute.Backend, arch mlp.Arch, store *model.Store, d train.Data, kind Kind) [][]float64 {
	t.Helper()
	exec := model.MustNewExec(b, store, func(_ *model.Scope, x, y *graph.Node) []*graph.Node {
		logits := arch.Forward(store, x).Logits
		loss := graph.ReduceAllSum(mlp.Loss(logits, y))
		var vars []*graph.Node
		for l := 0; l < arch.Layers(); l++ {
			vars = append(vars, store.GetVariable(mlp.WeightsPath(l)).NodeValue(x.Graph()),
				store.GetVariable(mlp.BiasesPath(l)).NodeValue(x.Graph()))
		}
		return append(graph.Gradient(loss, vars...), graph.Softmax(logits, -1))
	})
	defer exec.Finalize()
	var sums [][]float64
	for i := 0; i < d.Rows(); i++ {
		x := tensors.FromFlatDataAndDimensions(append([]float32(nil), d.X[i*d.Features:(i+1)*d.Features]...), 1, d.Features)
		labels := []int32{d.Y[i]}
		weights := []float64{1}
		if kind == True {
			out := exec.MustCall(x, tensors.FromFlatDataAndDimensions([]int32{0}, 1))
			p := tensors.MustCopyFlatData[float32](out[len(out)-1])
			labels, weights = []int32{0, 1}, []float64{float64(p[0]), float64(p[1])}
		}
		for k, label := range labels {
			out := exec.MustCall(x, tensors.FromFlatDataAndDimensions([]int32{label}, 1))
			if sums == nil {
				sums = make([][]float64, len(out)-1)
			}
			for j, g := range out[:len(out)-1] {
				vals := tensors.MustCopyFlatData[float32](g)
				if sums[j] == nil {
					sums[j] = make([]float64, len(vals))
				}
				for m, v := range vals {
					sums[j][m] += weights[k] * float64(v) * float64(v) / float64(d.Rows())
				}
			}
		}
	}
	return sums
}

func TestDiagonalMatchesPerRowLoop(t *testing.T) {
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []Kind{Empirical, True} {
		t.Run(string(kind), func(t *testing.T) {
			arch, store, d := smallProblem(t, 37)
			got, err := Diagonal(b, store, arch, d, kind)
			if err != nil {
				t.Fatal(err)
			}
			want := naive(t, b, arch, store, d, kind)
			if len(got) != len(want) {
				t.Fatalf("got %d tensors, want %d", len(got), len(want))
			}
			for i := range got {
				var diff, norm float64
				for j, v := range got[i].Values {
					diff += math.Abs(float64(v) - want[i][j])
					norm += math.Abs(want[i][j])
				}
				if norm == 0 {
					t.Fatalf("%s: reference is all zero", got[i].Name)
				}
				if rel := diff / norm; rel > 1e-4 {
					t.Errorf("%s: relative L1 error %.3g > 1e-4", got[i].Name, rel)
				}
			}
		})
	}
}

// TestEmpiricalDiffersFromTrue guards against computing one kind twice.
func TestEmpiricalDiffersFromTrue(t *testing.T) {
	b, _ := backend.New()
	arch, store, d := smallProblem(t, 20)
	e, err := Diagonal(b, store, arch, d, Empirical)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Diagonal(b, store, arch, d, True)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range e {
		for j := range e[i].Values {
			if math.Abs(float64(e[i].Values[j]-tr[i].Values[j])) > 1e-6*math.Abs(float64(e[i].Values[j])) {
				same = false
			}
		}
	}
	if same {
		t.Fatal("empirical and true Fisher are identical on random labels")
	}
}

func TestParseKind(t *testing.T) {
	if _, err := ParseKind("squared-batch"); err == nil {
		t.Fatal("unknown kind accepted")
	}
	if k, err := ParseKind("true"); err != nil || k != True {
		t.Fatalf("ParseKind(true) = %v, %v", k, err)
	}
}

// TestLogisticClosedForm checks both kinds against the textbook Fisher of a
// softmax regression, computed on the host without gomlx: for logits
// z = x·W + b and ∂ log p(y|x)/∂z_c = δ_yc − p_c, the empirical Fisher of
// W[i][c] is mean over rows of x_i²·(δ_yc − p_c)², and the true Fisher is
// mean of x_i²·Σ_y p_y (δ_yc − p_c)² = x_i²·p_c(1 − p_c) (for two classes,
// the familiar Σ p(1−p)·x² of logistic regression).
func TestLogisticClosedForm(t *testing.T) {
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	arch := mlp.Arch{Inputs: 3, Classes: 2}
	params := arch.Init(5)
	params[1].Values = []float32{0.3, -0.2} // non-zero biases
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Finalize()
	rng := rand.New(rand.NewPCG(4, 4))
	const rows = 25
	d := train.Data{Features: 3, X: make([]float32, rows*3), Y: make([]int32, rows)}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64())
	}
	for i := range d.Y {
		d.Y[i] = int32(rng.IntN(2))
	}
	w, bias := params[0].Values, params[1].Values // w is [in=3, out=2]
	wantEmp, wantTrue := make([]float64, 6), make([]float64, 6)
	bEmp, bTrue := make([]float64, 2), make([]float64, 2)
	for n := range rows {
		x := d.X[n*3 : n*3+3]
		var z [2]float64
		for c := range 2 {
			z[c] = float64(bias[c])
			for i := range 3 {
				z[c] += float64(x[i]) * float64(w[i*2+c])
			}
		}
		m := math.Max(z[0], z[1])
		e0, e1 := math.Exp(z[0]-m), math.Exp(z[1]-m)
		p := [2]float64{e0 / (e0 + e1), e1 / (e0 + e1)}
		for c := range 2 {
			delta := -p[c]
			if int32(c) == d.Y[n] {
				delta++
			}
			bEmp[c] += delta * delta / rows
			bTrue[c] += p[c] * (1 - p[c]) / rows
			for i := range 3 {
				x2 := float64(x[i]) * float64(x[i])
				wantEmp[i*2+c] += x2 * delta * delta / rows
				wantTrue[i*2+c] += x2 * p[c] * (1 - p[c]) / rows
			}
		}
	}
	for _, c := range []struct {
		kind         Kind
		wantW, wantB []float64
	}{{Empirical, wantEmp, bEmp}, {True, wantTrue, bTrue}} {
		got, err := Diagonal(b, store, arch, d, c.kind)
		if err != nil {
			t.Fatal(err)
		}
		for j, want := range append(append([]float64(nil), c.wantW...), c.wantB...) {
			v := got[0].Values
			k := j
			if j >= 6 {
				v, k = got[1].Values, j-6
			}
			if math.Abs(float64(v[k])-want) > 1e-5*max(1, want) {
				t.Errorf("%s: entry %d = %g, closed form %g", c.kind, j, v[k], want)
			}
		}
	}
}
