package train

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/gomlx/compute"
)

// blobs returns a nearly linearly separable two-class problem: the label is
// the sign of a random projection (fixed by seed) plus noise. Use [split] to
// get training and validation rows of the same problem.
func blobs(rows, features int, seed uint64) Data {
	rng := rand.New(rand.NewPCG(seed, 7))
	dir := make([]float64, features)
	for i := range dir {
		dir[i] = rng.NormFloat64()
	}
	d := Data{Features: features, X: make([]float32, rows*features), Y: make([]int32, rows)}
	for r := 0; r < rows; r++ {
		var dot float64
		for f := 0; f < features; f++ {
			v := rng.NormFloat64()
			d.X[r*features+f] = float32(v)
			dot += v * dir[f]
		}
		if dot+0.3*rng.NormFloat64() > 0 {
			d.Y[r] = 1
		}
	}
	return d
}

// split cuts d into its first n rows and the rest.
func split(d Data, n int) (Data, Data) {
	f := d.Features
	return Data{Features: f, X: d.X[:n*f], Y: d.Y[:n]}, Data{Features: f, X: d.X[n*f:], Y: d.Y[n:]}
}

var smallArch = mlp.Arch{Inputs: 6, Hidden: []int{16, 8}, Classes: 2, Dropout: 0.2}

func newBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := newBackendB()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newBackendB starts one backend per test binary: tensors cannot move between
// backend instances.
func newBackendB() (compute.Backend, error) {
	backendOnce.Do(func() { sharedBackend, backendErr = backend.New() })
	return sharedBackend, backendErr
}

var (
	backendOnce   sync.Once
	sharedBackend compute.Backend
	backendErr    error
)

func fit(t *testing.T, b compute.Backend, seed uint64, cfg Config, trainData, val Data) ([]mlp.Tensor, History, float64) {
	t.Helper()
	store, err := mlp.NewStore(smallArch.Init(seed), int64(seed))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = seed
	hist, err := Fit(b, store, smallArch, trainData, &val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	params, err := smallArch.ReadParams(store)
	if err != nil {
		t.Fatal(err)
	}
	ev := NewEvaluator(b, store, smallArch)
	defer ev.Finalize()
	probs, err := ev.Probabilities(val)
	if err != nil {
		t.Fatal(err)
	}
	return params, hist, Accuracy(probs, val.Y)
}

func TestFitLearnsAndIsDeterministic(t *testing.T) {
	b := newBackend(t)
	trainData, val := split(blobs(800, 6, 1), 600)
	cfg := Seed
	cfg.MaxEpochs = 15
	cfg.Patience = 3
	p1, h1, acc := fit(t, b, 5, cfg, trainData, val)
	if acc < 0.85 {
		t.Errorf("validation accuracy %.3f < 0.85 on an easy problem", acc)
	}
	if h1.BestEpoch < 1 || h1.BestEpoch > h1.Epochs || len(h1.ValLoss) != h1.Epochs {
		t.Errorf("inconsistent history %+v", h1)
	}
	p2, h2, _ := fit(t, b, 5, cfg, trainData, val)
	if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(h1.ValLoss, h2.ValLoss) {
		t.Error("two runs with the same seed differ")
	}
	p3, _, _ := fit(t, b, 6, cfg, trainData, val)
	if reflect.DeepEqual(p1, p3) {
		t.Error("runs with different seeds are identical")
	}
}

// TestEarlyStoppingRestoresBest checks that the returned weights are those of
// the best validation epoch, not the last one.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	b := newBackend(t)
	trainData, val := split(blobs(400, 6, 3), 300)
	cfg := Seed
	cfg.MaxEpochs = 30
	cfg.Patience = 2
	cfg.LearningRate = 3e-2 // noisy enough that validation loss goes up and down
	store, _ := mlp.NewStore(smallArch.Init(1), 1)
	hist, err := Fit(b, store, smallArch, trainData, &val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ev := NewEvaluator(b, store, smallArch)
	defer ev.Finalize()
	got, err := ev.MeanLoss(val)
	if err != nil {
		t.Fatal(err)
	}
	if hist.BestEpoch == hist.Epochs {
		t.Fatalf("best epoch is the last (%d): the test does not exercise the restore", hist.Epochs)
	}
	want := hist.ValLoss[hist.BestEpoch-1]
	if d := got - want; d > 1e-5 || d < -1e-5 {
		t.Errorf("restored weights have val loss %.6f, best epoch %d had %.6f", got, hist.BestEpoch, want)
	}
	for _, v := range hist.ValLoss {
		if v < want {
			t.Errorf("best epoch loss %.6f is not the minimum (saw %.6f)", want, v)
		}
	}
}

func TestMaskKeepsPrunedWeightsAtZero(t *testing.T) {
	b := newBackend(t)
	trainData := blobs(300, 6, 5)
	params := smallArch.Init(2)
	rng := rand.New(rand.NewPCG(9, 9))
	var mask []mlp.Tensor
	for i := range params {
		keep := make([]float32, len(params[i].Values))
		for j := range keep {
			if rng.IntN(3) > 0 {
				keep[j] = 1
			} else {
				params[i].Values[j] = 0
			}
		}
		mask = append(mask, mlp.Tensor{Name: params[i].Name, Shape: params[i].Shape, Values: keep})
	}
	store, _ := mlp.NewStore(params, 2)
	cfg := SeedFineTune
	cfg.MaxEpochs = 3
	cfg.LearningRate = 1e-2
	cfg.Mask = mask
	if _, err := Fit(b, store, smallArch, trainData, nil, cfg); err != nil {
		t.Fatal(err)
	}
	after, _ := smallArch.ReadParams(store)
	moved := 0
	for i := range after {
		for j, v := range after[i].Values {
			if mask[i].Values[j] == 0 && v != 0 {
				t.Fatalf("%s[%d] = %g, masked weights must be exactly 0", after[i].Name, j, v)
			}
			if mask[i].Values[j] == 1 && v != params[i].Values[j] {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Fatal("no kept weight changed: training did not run")
	}
}

func TestConfigValidate(t *testing.T) {
	for i, c := range []Config{
		{LearningRate: 0, BatchSize: 1, MaxEpochs: 1},
		{LearningRate: 1e-3, BatchSize: 0, MaxEpochs: 1},
		{LearningRate: 1e-3, BatchSize: 1, MaxEpochs: 0},
		{LearningRate: 1e-3, BatchSize: 1, MaxEpochs: 1, Patience: -1},
	} {
		if c.Validate() == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
	}
	if err := Seed.Validate(); err != nil {
		t.Error(err)
	}
}

func TestAccuracy(t *testing.T) {
	probs := []float32{0.9, 0.1, 0.2, 0.8, 0.5, 0.5}
	if got := Accuracy(probs, []int32{0, 1, 1}); got != 2.0/3 {
		t.Errorf("Accuracy = %v, want 2/3 (a tie goes to class 0)", got)
	}
}

func TestFitStopsWhenCancelled(t *testing.T) {
	b := newBackend(t)
	trainData := blobs(300, 6, 5)
	store, _ := mlp.NewStore(smallArch.Init(2), 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := SeedFineTune
	_, err := FitContext(ctx, b, store, smallArch, trainData, nil, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("FitContext with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestDataSelect(t *testing.T) {
	d := Data{Features: 2, X: []float32{0, 1, 10, 11, 20, 21}, Y: []int32{0, 1, 0}}
	got := d.Select([]int{2, 0})
	want := Data{Features: 2, X: []float32{20, 21, 0, 1}, Y: []int32{0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Select = %+v, want %+v", got, want)
	}
	got.X[0] = -1
	if d.X[4] != 20 {
		t.Error("Select shares memory with its source")
	}
}
