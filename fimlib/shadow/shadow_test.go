package shadow

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
)

func TestInclusionIsBalancedAndSeeded(t *testing.T) {
	in := Inclusion(8, 500, 3)
	for i := 0; i < 500; i++ {
		n := 0
		for k := range in {
			if in[k][i] {
				n++
			}
		}
		if n != 4 {
			t.Fatalf("row %d is IN for %d of 8 models, want 4", i, n)
		}
	}
	for k := range in {
		n := 0
		for _, v := range in[k] {
			if v {
				n++
			}
		}
		if n < 200 || n > 300 { // Binomial(500, ½): sd ≈ 11
			t.Errorf("model %d trains on %d of 500 rows, far from half", k, n)
		}
	}
	if !reflect.DeepEqual(in, Inclusion(8, 500, 3)) {
		t.Error("same seed, different inclusion")
	}
	if reflect.DeepEqual(in, Inclusion(8, 500, 4)) {
		t.Error("different seeds, same inclusion")
	}
}

// noisyRows is a problem with label noise: a model that memorises its
// training rows has a clearly lower loss on them than on rows it never saw.
func noisyRows(rows, features int, seed uint64) train.Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := train.Data{Features: features, X: make([]float32, rows*features), Y: make([]int32, rows)}
	for r := range rows {
		var s float64
		for f := range features {
			v := rng.NormFloat64()
			d.X[r*features+f] = float32(v)
			s += v
		}
		if s+2*rng.NormFloat64() > 0 {
			d.Y[r] = 1
		}
	}
	return d
}

func TestShadowsTrainOnTheirHalf(t *testing.T) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	arch := mlp.Arch{Inputs: 8, Hidden: []int{64, 32}, Classes: 2}
	pool := noisyRows(200, 8, 1)
	cfg := Config{Models: 4, Seed: 9, Arch: arch, Train: train.SeedFineTune, PerGraph: 3}
	cfg.Train.LearningRate = 1e-2
	cfg.Train.MaxEpochs = 60
	set, err := Train(context.Background(), be, pool, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Params) != 4 || len(set.History) != 4 || len(set.In) != 4 {
		t.Fatalf("got %d params, %d histories, %d inclusion rows for 4 shadows", len(set.Params), len(set.History), len(set.In))
	}
	logp, err := set.LogProbabilities(be, pool)
	if err != nil {
		t.Fatal(err)
	}
	for k := range logp {
		var inLoss, outLoss float64
		var nIn, nOut int
		for i, y := range pool.Y {
			l := -float64(logp[k][i*2+int(y)])
			if set.In[k][i] {
				inLoss, nIn = inLoss+l, nIn+1
			} else {
				outLoss, nOut = outLoss+l, nOut+1
			}
		}
		inLoss /= float64(nIn)
		outLoss /= float64(nOut)
		if !(inLoss < 0.5*outLoss) || math.IsNaN(inLoss) {
			t.Errorf("shadow %d: mean loss %.3f on its rows, %.3f on the others: it did not train on its half", k, inLoss, outLoss)
		}
	}
	if _, err := Train(context.Background(), be, pool, nil, Config{Models: 3, Arch: arch, Train: train.SeedFineTune}, nil); err == nil {
		t.Error("an odd number of shadows was accepted")
	}
}

// TestShadowsDoNotDependOnTheirGraphs trains the same 8 shadows in one
// ensemble, in two side by side, and in ensembles of 3 (with dropout and
// early stopping, so members leave their ensembles at different times): the
// weights must be identical to the bit, as Config.Graphs promises.
func TestShadowsDoNotDependOnTheirGraphs(t *testing.T) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	arch := mlp.Arch{Inputs: 8, Hidden: []int{64, 32}, Classes: 2, Dropout: 0.2}
	pool, val := noisyRows(300, 8, 2), noisyRows(100, 8, 3)
	cfg := Config{Models: 8, Seed: 5, Arch: arch, Train: train.Seed}
	cfg.Train.MaxEpochs, cfg.Train.Patience, cfg.Train.LearningRate = 40, 2, 1e-2
	var sets []*Set
	for _, c := range []struct{ graphs, per int }{{1, 0}, {2, 0}, {2, 3}} {
		cfg.Graphs, cfg.PerGraph = c.graphs, c.per
		set, err := Train(context.Background(), be, pool, &val, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, set)
	}
	epochs := map[int]bool{}
	for _, h := range sets[0].History {
		epochs[h.Epochs] = true
	}
	if len(epochs) < 2 {
		t.Fatalf("every shadow ran the same epochs (%v): the test does not exercise members leaving an ensemble", epochs)
	}
	for i, set := range sets[1:] {
		if !reflect.DeepEqual(set.Params, sets[0].Params) {
			t.Errorf("configuration %d: shadows differ from those trained in one ensemble", i+1)
		}
		for k := range set.History {
			if set.History[k].Epochs != sets[0].History[k].Epochs || !reflect.DeepEqual(set.History[k].ValLoss, sets[0].History[k].ValLoss) {
				t.Errorf("configuration %d, shadow %d: history differs", i+1, k)
			}
		}
	}
}

// TestLiRAOnOverfitModels is LiRA end to end on real (tiny, overfit) models:
// 17 shadows and a target, each trained on a random half of 200 rows with
// random labels.
// With the true inclusion the attack separates the target's members from
// its non-members; told a random inclusion instead (IN and OUT shadows then
// come from one distribution), it sits at chance.
func TestLiRAOnOverfitModels(t *testing.T) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	arch := mlp.Arch{Inputs: 8, Hidden: []int{64, 32}, Classes: 2}
	// Labels independent of the features: whatever a model gets right about
	// a row, it memorised.
	pool := noisyRows(200, 8, 7)
	rng := rand.New(rand.NewPCG(8, 8))
	for i := range pool.Y {
		pool.Y[i] = int32(rng.IntN(2))
	}
	cfg := Config{Models: 18, Seed: 21, Arch: arch, Train: train.SeedFineTune}
	cfg.Train.LearningRate, cfg.Train.MaxEpochs, cfg.Train.BatchSize = 1e-2, 300, 16
	set, err := Train(context.Background(), be, pool, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	logp, err := set.LogProbabilities(be, pool)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([][]float64, len(logp))
	for k := range logp {
		if scores[k], err = mia.ScoresFromLogProbs(mia.LogitConfidence, logp[k], pool.Y); err != nil {
			t.Fatal(err)
		}
	}
	// The last model is the target; the other 17 are the attacker's shadows.
	target, member := scores[17], set.In[17]
	auc := func(in [][]bool) float64 {
		res, err := mia.LiRA(scores[:17], in, target, mia.LiRAConfig{})
		if err != nil {
			t.Fatal(err)
		}
		m, n, _, err := mia.SplitMembers(res.Stat, member)
		if err != nil {
			t.Fatal(err)
		}
		a, err := mia.AUC(m, n)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	against := auc(set.In[:17])
	t.Logf("LiRA AUC against the overfit target: %.3f", against)
	if against <= 0.8 {
		t.Errorf("LiRA AUC %.3f against an overfit target, want > 0.8", against)
	}
	fake := Inclusion(17, pool.Rows(), 99)
	// Hanley–McNeil standard error of an AUC of 0.5 with ~100 rows a side.
	se := math.Sqrt((0.25 + 99*(1.0/12) + 99*(1.0/12)) / (100 * 100))
	null := auc(fake)
	t.Logf("LiRA AUC with an unrelated inclusion: %.3f (0.5 ± %.3f allowed)", null, 4*se)
	if a := null; math.Abs(a-0.5) > 4*se {
		t.Errorf("LiRA AUC %.3f with an inclusion unrelated to training, want 0.5 ± %.3f", a, 4*se)
	}
}
