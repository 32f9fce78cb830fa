package mlp_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func TestSeedArchitecture(t *testing.T) {
	if n := mlp.Seed.NumParams(); n != 20802 {
		t.Fatalf("NumParams = %d, want 20,802 (96·128+128 + 128·64+64 + 64·2+2)", n)
	}
	params := mlp.Seed.Init(1)
	wantShapes := [][]int{{96, 128}, {128}, {128, 64}, {64}, {64, 2}, {2}}
	total := 0
	for i, p := range params {
		if !reflect.DeepEqual(p.Shape, wantShapes[i]) {
			t.Errorf("%s: shape %v, want %v", p.Name, p.Shape, wantShapes[i])
		}
		total += len(p.Values)
	}
	if total != 20802 {
		t.Errorf("Init made %d values", total)
	}
}

// TestInitXavier checks the bounds, zero biases, spread and determinism of
// the initialisation: U(−a, a) with a = √(6/(in+out)) has variance a²/3.
func TestInitXavier(t *testing.T) {
	params := mlp.Seed.Init(7)
	for _, p := range params {
		if len(p.Shape) == 1 {
			for _, v := range p.Values {
				if v != 0 {
					t.Fatalf("%s: bias %g, want 0", p.Name, v)
				}
			}
			continue
		}
		a := math.Sqrt(6 / float64(p.Shape[0]+p.Shape[1]))
		var sumSq float64
		for _, v := range p.Values {
			if math.Abs(float64(v)) > a {
				t.Fatalf("%s: %g outside ±%g", p.Name, v, a)
			}
			sumSq += float64(v) * float64(v)
		}
		// The sample variance has relative standard deviation √(0.8/n) for a
		// uniform distribution; allow four of them.
		n := float64(len(p.Values))
		if got, want := sumSq/n, a*a/3; math.Abs(got-want) > 4*math.Sqrt(0.8/n)*want {
			t.Errorf("%s: variance %g, want ≈ %g", p.Name, got, want)
		}
	}
	if !reflect.DeepEqual(params, mlp.Seed.Init(7)) {
		t.Error("same seed, different parameters")
	}
	if reflect.DeepEqual(params, mlp.Seed.Init(8)) {
		t.Error("different seeds, same parameters")
	}
}

func TestStoreRoundTripAndForward(t *testing.T) {
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	arch := mlp.Arch{Inputs: 3, Hidden: []int{4}, Classes: 2, Dropout: 0.5}
	params := arch.Init(1)
	store, err := mlp.NewStore(params, 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := arch.ReadParams(store)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, params) {
		t.Fatal("ReadParams does not return what NewStore stored")
	}
	// Hand-computed forward pass: logits = relu(x·W0 + b0)·W1 + b1; dropout
	// is off outside training graphs.
	x := []float32{0.5, -1, 2}
	exec := model.MustNewExec(b, store, func(_ *model.Scope, in *Node) *Node { return arch.Forward(store, in).Logits })
	out := tensors.MustCopyFlatData[float32](exec.MustCall(tensors.FromFlatDataAndDimensions(x, 1, 3))[0])
	w0, w1 := params[0].Values, params[2].Values
	hidden := make([]float64, 4)
	for j := range hidden {
		for i := range x {
			hidden[j] += float64(x[i]) * float64(w0[i*4+j])
		}
		hidden[j] = max(hidden[j], 0)
	}
	for c := range 2 {
		var want float64
		for j := range hidden {
			want += hidden[j] * float64(w1[j*2+c])
		}
		if math.Abs(float64(out[c])-want) > 1e-5 {
			t.Errorf("logit %d = %g, want %g", c, out[c], want)
		}
	}
}

func TestValidate(t *testing.T) {
	for i, a := range []mlp.Arch{
		{Inputs: 0, Classes: 2}, {Inputs: 3, Classes: 1}, {Inputs: 3, Classes: 2, Dropout: 1},
		{Inputs: 3, Hidden: []int{0}, Classes: 2},
	} {
		if a.Validate() == nil {
			t.Errorf("case %d: %+v accepted", i, a)
		}
	}
	if err := mlp.Seed.Validate(); err != nil {
		t.Error(err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	a := mlp.Seed.Init(1)
	b := mlp.Clone(a)
	b[0].Values[0]++
	b[0].Shape[0]++
	if a[0].Values[0] == b[0].Values[0] || a[0].Shape[0] == b[0].Shape[0] {
		t.Error("Clone shares memory with its source")
	}
}
