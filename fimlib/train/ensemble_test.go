package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/mlp"
)

// maxRelDiff is max |a−b| / (max |b| + 1e-6) over all parameters.
func maxRelDiff(a, b []mlp.Tensor) float64 {
	var diff, scale float64
	for i := range a {
		for j := range a[i].Values {
			diff = max(diff, math.Abs(float64(a[i].Values[j]-b[i].Values[j])))
			scale = max(scale, math.Abs(float64(b[i].Values[j])))
		}
	}
	return diff / (scale + 1e-6)
}

// TestFitMatchesAutodiff checks the hand-written training step (Fit is an
// ensemble of one) against the textbook gomlx step (autodiff and gomlx's
// Adam in the graph, fitAutodiff): same initialisation, shuffling and early
// stopping must give the same weights up to float rounding and the same
// history. Dropout is off: the two draw their masks from different streams;
// TestFitMatchesAutodiffStatistically covers that case.
func TestFitMatchesAutodiff(t *testing.T) {
	b := newBackend(t)
	smallArch := smallArch
	smallArch.Dropout = 0
	trainData, val := split(blobs(700, 6, 11), 500)
	cfg := Seed
	cfg.MaxEpochs = 12
	cfg.Patience = 3
	cfg.Seed = 4
	ref, err := mlp.NewStore(smallArch.Init(3), 77)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := fitAutodiff(b, ref, smallArch, trainData, &val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := smallArch.ReadParams(ref)

	store, err := mlp.NewStore(smallArch.Init(3), 0)
	if err != nil {
		t.Fatal(err)
	}
	gotHist, err := Fit(b, store, smallArch, trainData, &val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := smallArch.ReadParams(store)
	if d := maxRelDiff(got, want); d > 1e-5 {
		t.Errorf("Fit differs from the autodiff step: max relative difference %.3g", d)
	}
	if gotHist.Epochs != hist.Epochs || gotHist.BestEpoch != hist.BestEpoch {
		t.Errorf("Fit ran %d epochs (best %d), the autodiff step %d (best %d)", gotHist.Epochs, gotHist.BestEpoch, hist.Epochs, hist.BestEpoch)
	}
	for i := range min(len(hist.ValLoss), len(gotHist.ValLoss)) {
		if d := math.Abs(hist.ValLoss[i] - gotHist.ValLoss[i]); d > 1e-4 {
			t.Errorf("epoch %d: validation loss %.6f, autodiff step %.6f", i+1, gotHist.ValLoss[i], hist.ValLoss[i])
		}
	}
}

// TestFitMatchesAutodiffMasked is TestFitMatchesAutodiff for a masked
// fine-tune of a heavily pruned model (the protocol's case): 40 % of every
// tensor pruned, the output layer's biases and all but a few of its weights
// included, so that many rows reach the output through few units.
func TestFitMatchesAutodiffMasked(t *testing.T) {
	b := newBackend(t)
	arch := smallArch
	arch.Dropout = 0
	trainData, _ := split(blobs(700, 6, 31), 500)
	rng := rand.New(rand.NewPCG(5, 6))
	params := arch.Init(8)
	var mask []mlp.Tensor
	for i, p := range params {
		keep := make([]float32, len(p.Values))
		for j := range keep {
			out := i >= len(params)-2 // the output layer
			if (out && (i == len(params)-1 || j%5 != 0)) || (!out && rng.Float64() < 0.4) {
				params[i].Values[j] = 0
				continue
			}
			keep[j] = 1
		}
		mask = append(mask, mlp.Tensor{Name: p.Name, Shape: p.Shape, Values: keep})
	}
	cfg := SeedFineTune
	cfg.MaxEpochs, cfg.LearningRate, cfg.Seed, cfg.Mask = 6, 1e-3, 9, mask
	ref, err := mlp.NewStore(params, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fitAutodiff(b, ref, arch, trainData, nil, cfg); err != nil {
		t.Fatal(err)
	}
	want, _ := arch.ReadParams(ref)
	store, err := mlp.NewStore(params, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fit(b, store, arch, trainData, nil, cfg); err != nil {
		t.Fatal(err)
	}
	got, _ := arch.ReadParams(store)
	if d := maxRelDiff(got, want); d > 1e-5 {
		t.Errorf("masked Fit differs from the autodiff step: max relative difference %.3g", d)
	}
	for i, m := range mask {
		for j, keep := range m.Values {
			if keep == 0 && got[i].Values[j] != 0 {
				t.Fatalf("%s[%d] = %g, masked", got[i].Name, j, got[i].Values[j])
			}
		}
	}
	if maxRelDiff(got, params) == 0 {
		t.Error("fine-tuning changed nothing")
	}
}

// TestEnsembleSizeKeepsMembersExact trains seed-recipe members (96 features,
// 128 and 64 hidden units) in ensembles of 16, 8 and 1: the first two reach
// the backend's packed kernels, the last its small-matrix ones. With the
// AVX-512 kernels (GOEXPERIMENT=simd on an AVX-512 CPU) a member's weights
// must be the same to the bit in all three; the plain build's kernels
// round differently (3e-7 relative measured), so there they must agree to
// 1e-5 (BENCHMARKS.md, "Training speed, change by change").
func TestEnsembleSizeKeepsMembersExact(t *testing.T) {
	b := newBackend(t)
	trainData, val := split(blobs(3000, 96, 3), 2500)
	cfg := Seed
	cfg.MaxEpochs, cfg.Patience = 6, 2
	members := make([]Member, 16)
	for i := range members {
		members[i] = Member{Name: fmt.Sprintf("m%d", i), Init: mlp.Seed.Init(uint64(i)), Seed: uint64(i)}
	}
	var runs [][]MemberResult
	for _, k := range []int{16, 8, 1} {
		res, err := FitEnsemble(context.Background(), b, mlp.Seed, trainData, &val, cfg, members[:k])
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, res)
	}
	for _, res := range runs[1:] {
		for m := range res {
			tol := 1e-5
			if avx512Build {
				tol = 0
			}
			if d := maxRelDiff(res[m].Params, runs[0][m].Params); d > tol {
				t.Errorf("member %d in an ensemble of %d differs from the ensemble of 16: max relative difference %.3g", m, len(res), d)
			}
		}
	}
}

// TestEnsembleMembersAreIndependent trains a member alone and next to others
// that see different rows, stop at different times and use another learning
// rate: with dropout on (each member draws from its own stream), its result
// must not change beyond float rounding.
func TestEnsembleMembersAreIndependent(t *testing.T) {
	b := newBackend(t)
	arch := smallArch
	if arch.Dropout == 0 {
		t.Fatal("the test needs an architecture with dropout")
	}
	trainData, val := split(blobs(700, 6, 12), 500)
	cfg := Seed
	cfg.MaxEpochs = 20
	cfg.Patience = 2
	cfg.LearningRate = 1e-2
	subset := make([]float32, trainData.Rows())
	for i := range subset {
		if i%3 != 0 {
			subset[i] = 1
		}
	}
	target := Member{Name: "subset", Init: arch.Init(1), Seed: 1, RowWeights: subset}
	alone, err := FitEnsemble(context.Background(), b, arch, trainData, &val, cfg, []Member{target})
	if err != nil {
		t.Fatal(err)
	}
	others := []Member{
		{Name: "all rows", Init: arch.Init(2), Seed: 2},
		target,
		{Name: "slow", Init: arch.Init(3), Seed: 3, LearningRate: 1e-4},
	}
	together, err := FitEnsemble(context.Background(), b, arch, trainData, &val, cfg, others)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRelDiff(together[1].Params, alone[0].Params); d > 1e-5 {
		t.Errorf("member changed when trained with others: max relative difference %.3g", d)
	}
	if together[1].History.Epochs != alone[0].History.Epochs {
		t.Errorf("member ran %d epochs with others, %d alone", together[1].History.Epochs, alone[0].History.Epochs)
	}
	ep := []int{together[0].History.Epochs, together[1].History.Epochs, together[2].History.Epochs}
	if ep[0] == ep[1] && ep[1] == ep[2] {
		t.Errorf("all members ran %d epochs: the test does not exercise leaving the ensemble early", ep[0])
	}
	if maxRelDiff(together[0].Params, together[1].Params) == 0 {
		t.Error("different members ended with identical weights")
	}
}

// TestEnsembleStoppedMembersTakeNoStep: a member that stopped early stays in
// the graph until a quarter of the ensemble has stopped, and until then it
// must sit out every step (no Adam update), as its documentation says. One
// member of eight diverges (learning rate 10) and stops after its patience;
// the others keep training, so the ensemble does not shrink at once.
func TestEnsembleStoppedMembersTakeNoStep(t *testing.T) {
	b := newBackend(t)
	arch := smallArch
	arch.Dropout = 0
	trainData, val := split(blobs(400, 6, 12), 300)
	cfg := Seed
	cfg.MaxEpochs, cfg.Patience, cfg.LearningRate = 8, 1, 1e-3
	members := make([]Member, 8)
	for i := range members {
		members[i] = Member{Name: fmt.Sprintf("m%d", i), Init: arch.Init(uint64(i + 1)), Seed: uint64(i + 1)}
	}
	members[0].LearningRate = 10
	steps := 0 // steps member 0 took
	stepHook = func(slots []int, active []bool) {
		for slot, m := range slots {
			if m == 0 && active[slot] {
				steps++
			}
		}
	}
	defer func() { stepHook = nil }()
	res, err := FitEnsemble(context.Background(), b, arch, trainData, &val, cfg, members)
	if err != nil {
		t.Fatal(err)
	}
	stopped := res[0].History.Epochs
	if stopped >= cfg.MaxEpochs || res[1].History.Epochs <= stopped {
		t.Fatalf("member 0 ran %d epochs, member 1 %d: the test does not exercise a member stopping while others train", stopped, res[1].History.Epochs)
	}
	stepsPerEpoch := (trainData.Rows() + cfg.BatchSize - 1) / cfg.BatchSize
	if want := stopped * stepsPerEpoch; steps != want {
		t.Errorf("the member that stopped after %d epochs took %d steps, want %d (%d per epoch)", stopped, steps, want, stepsPerEpoch)
	}
}

// TestEnsembleRowWeightZeroIsNeverSeen checks that a member never learns
// from rows of weight 0: with labels flipped on those rows, its weights equal
// those of a member trained on the data without them.
func TestEnsembleRowWeightZeroIsNeverSeen(t *testing.T) {
	b := newBackend(t)
	arch := smallArch
	arch.Dropout = 0
	d := blobs(400, 6, 13)
	keepRows := Data{Features: d.Features}
	weights := make([]float32, d.Rows())
	poisoned := Data{Features: d.Features, X: append([]float32(nil), d.X...), Y: append([]int32(nil), d.Y...)}
	for i := range weights {
		if i%4 == 0 {
			poisoned.Y[i] = 1 - poisoned.Y[i]
			continue
		}
		weights[i] = 1
		keepRows.X = append(keepRows.X, d.X[i*d.Features:(i+1)*d.Features]...)
		keepRows.Y = append(keepRows.Y, d.Y[i])
	}
	cfg := SeedFineTune
	cfg.MaxEpochs = 3
	cfg.LearningRate = 1e-2
	// The weighted member draws its permutation over the kept rows in order,
	// so the same seed gives the same batches as training on keepRows.
	a, err := FitEnsemble(context.Background(), b, arch, poisoned, nil, cfg, []Member{{Name: "weighted", Init: arch.Init(5), Seed: 5, RowWeights: weights}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := FitEnsemble(context.Background(), b, arch, keepRows, nil, cfg, []Member{{Name: "subset", Init: arch.Init(5), Seed: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if dd := maxRelDiff(a[0].Params, c[0].Params); dd > 1e-5 {
		t.Errorf("weight-0 rows influenced training: max relative difference %.3g", dd)
	}
}

func TestEnsembleMasksStayZero(t *testing.T) {
	b := newBackend(t)
	d := blobs(300, 6, 14)
	rng := rand.New(rand.NewPCG(9, 9))
	var members []Member
	for m := range 3 {
		params := smallArch.Init(uint64(m))
		var mask []mlp.Tensor
		for i := range params {
			if m == 2 && i%2 == 1 {
				continue // member 2 leaves the biases unmasked
			}
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
		members = append(members, Member{Name: "m", Init: params, Seed: uint64(m), Mask: mask})
	}
	cfg := SeedFineTune
	cfg.MaxEpochs = 2
	cfg.LearningRate = 1e-2
	res, err := FitEnsemble(context.Background(), b, smallArch, d, nil, cfg, members)
	if err != nil {
		t.Fatal(err)
	}
	for m, r := range res {
		moved := 0
		for _, mt := range members[m].Mask {
			var p mlp.Tensor
			for _, q := range r.Params {
				if q.Name == mt.Name {
					p = q
				}
			}
			for j, keep := range mt.Values {
				if keep == 0 && p.Values[j] != 0 {
					t.Fatalf("member %d: %s[%d] = %g, masked weights must be exactly 0", m, p.Name, j, p.Values[j])
				}
				if keep == 1 && p.Values[j] != members[m].Init[indexOf(members[m].Init, p.Name)].Values[j] {
					moved++
				}
			}
		}
		if moved == 0 {
			t.Errorf("member %d: no kept weight moved", m)
		}
	}
}

func indexOf(ts []mlp.Tensor, name string) int {
	for i, t := range ts {
		if t.Name == name {
			return i
		}
	}
	return -1
}

func TestEnsembleRejectsBadMembers(t *testing.T) {
	b := newBackend(t)
	d := blobs(50, 6, 1)
	cfg := SeedFineTune
	cfg.MaxEpochs = 1
	cases := map[string][]Member{
		"no member":         nil,
		"wrong init":        {{Name: "x", Init: mlp.Seed.Init(1)}},
		"short row weights": {{Name: "x", Init: smallArch.Init(1), RowWeights: make([]float32, 3)}},
		"all rows weight 0": {{Name: "x", Init: smallArch.Init(1), RowWeights: make([]float32, 50)}},
		"unknown mask":      {{Name: "x", Init: smallArch.Init(1), Mask: []mlp.Tensor{{Name: "/nope", Values: []float32{1}}}}},
		"NaN row weight":    {{Name: "x", Init: smallArch.Init(1), RowWeights: append(make([]float32, 49), float32(math.NaN()))}},
	}
	for name, members := range cases {
		if _, err := FitEnsemble(context.Background(), b, smallArch, d, nil, cfg, members); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), "train: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
}

// TestFitMatchesAutodiffStatistically trains the same seeds with dropout on
// with the textbook gomlx step (dropout drawn in the graph) and with Fit
// (dropout drawn on the host): the draws differ, so the weights do, but the
// validation accuracy must agree within the noise across seeds.
func TestFitMatchesAutodiffStatistically(t *testing.T) {
	b := newBackend(t)
	trainData, val := split(blobs(1500, 6, 21), 1000)
	cfg := Seed
	cfg.MaxEpochs = 15
	cfg.Patience = 3
	const seeds = 6
	var autodiff, ours []float64
	for s := range uint64(seeds) {
		_, _, acc := fit(t, b, 100+s, cfg, trainData, val)
		ours = append(ours, acc)
		store, err := mlp.NewStore(smallArch.Init(100+s), int64(100+s))
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Seed = 100 + s
		if _, err := fitAutodiff(b, store, smallArch, trainData, &val, c); err != nil {
			t.Fatal(err)
		}
		ev := NewEvaluator(b, store, smallArch)
		probs, err := ev.Probabilities(val)
		ev.Finalize()
		if err != nil {
			t.Fatal(err)
		}
		autodiff = append(autodiff, Accuracy(probs, val.Y))
	}
	ma, sa := meanSD(autodiff)
	mo, so := meanSD(ours)
	// Difference of two means of `seeds` runs, plus one validation row's worth.
	tol := 3*math.Sqrt((sa*sa+so*so)/seeds) + 1.0/float64(val.Rows())
	if math.Abs(ma-mo) > tol {
		t.Errorf("mean validation accuracy with the autodiff step %.4f (sd %.4f), with Fit %.4f (sd %.4f): differ by more than %.4f", ma, sa, mo, so, tol)
	}
	t.Logf("validation accuracy, autodiff step %.4f ± %.4f, Fit %.4f ± %.4f (mean ± sd over %d seeds)", ma, sa, mo, so, seeds)
	if mo < 0.75 {
		t.Errorf("Fit reaches only %.3f on an easy problem", mo)
	}
}

func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)-1))
}

// TestEnsembleNegativeWeightsAscend checks NegGrad-style weights: rows with a
// negative weight end with a higher loss than when they are left out.
func TestEnsembleNegativeWeightsAscend(t *testing.T) {
	b := newBackend(t)
	arch := smallArch
	arch.Dropout = 0
	d := blobs(400, 6, 15)
	ascend := make([]float32, d.Rows())
	omit := make([]float32, d.Rows())
	var forget []int
	for i := range ascend {
		ascend[i], omit[i] = 1, 1
		if i%10 == 0 {
			ascend[i], omit[i] = -1, 0
			forget = append(forget, i)
		}
	}
	cfg := SeedFineTune
	cfg.MaxEpochs = 5
	cfg.LearningRate = 1e-2
	res, err := FitEnsemble(context.Background(), b, arch, d, nil, cfg, []Member{
		{Name: "ascend", Init: arch.Init(1), Seed: 1, RowWeights: ascend},
		{Name: "omit", Init: arch.Init(1), Seed: 1, RowWeights: omit},
	})
	if err != nil {
		t.Fatal(err)
	}
	forgetLoss := func(params []mlp.Tensor) float64 {
		store, err := mlp.NewStore(params, 0)
		if err != nil {
			t.Fatal(err)
		}
		ev := NewEvaluator(b, store, arch)
		defer ev.Finalize()
		logp, err := ev.LogProbabilities(d)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, i := range forget {
			sum -= float64(logp[2*i+int(d.Y[i])])
		}
		return sum / float64(len(forget))
	}
	if a, o := forgetLoss(res[0].Params), forgetLoss(res[1].Params); !(a > 1.15*o) {
		t.Errorf("loss on the rows weighted −1: %.3f, on the same rows left out: %.3f; ascending should raise it", a, o)
	}
}
