package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// rotatedWorld: example j has a difficulty b_j ~ N(0, 3²); unlearned
// model m scores it b_j + leak + N(0, 1), retrained model m b_j + N(0, 1).
// Layout [models][examples].
func rotatedWorld(seed uint64, nu, nr, examples int, leak float64) (unlearned, retrained [][]float64) {
	r := rand.New(rand.NewPCG(seed, 95))
	b := make([]float64, examples)
	for j := range b {
		b[j] = 3 * r.NormFloat64()
	}
	side := func(n int, shift float64) [][]float64 {
		s := make([][]float64, n)
		for m := range s {
			s[m] = make([]float64, examples)
			for j := range s[m] {
				s[m][j] = b[j] + shift + r.NormFloat64()
			}
		}
		return s
	}
	return side(nu, leak), side(nr, 0)
}

// checkRotatedTotals: the pooled accuracy is the mean of the per-example
// accuracies and the balance of the per-model shares.
func checkRotatedTotals(t *testing.T, res ULiRARotatedResult, nu, nr, examples int) {
	t.Helper()
	if res.Models != nu+nr || res.Examples != examples || len(res.PerModel) != nu+nr || len(res.PerExample) != examples {
		t.Fatalf("counts: %d models, %d examples, %d per model, %d per example", res.Models, res.Examples, len(res.PerModel), len(res.PerExample))
	}
	var ex, u, r float64
	for _, a := range res.PerExample {
		ex += a / float64(examples)
	}
	for i, a := range res.PerModel {
		if i < nu {
			u += a / float64(nu)
		} else {
			r += a / float64(nr)
		}
	}
	if math.Abs(ex-res.Accuracy) > 1e-12 || math.Abs((u+r)/2-res.Accuracy) > 1e-12 {
		t.Errorf("accuracy %v, per-example mean %v, per-model balance %v", res.Accuracy, ex, (u+r)/2)
	}
}

// TestULiRARotatedNull: a perfect unlearner, both sides drawn from one
// distribution. Accuracy 0.5 within 4 standard errors. The pairs of one
// example share most of their fits, so the standard error is that of the
// mean of the independent per-example accuracies, sd/√E (simulated: 0.013
// at 8 + 8 models and 200 examples, against 0.009 for independent pairs).
// The leave-one-out pessimism (simulated mean 0.495 with the global
// variance, 0.488 with per-example variances and medians) is well inside.
func TestULiRARotatedNull(t *testing.T) {
	const examples = 200
	for _, tc := range []struct {
		nu, nr int
		cfg    ULiRAConfig
	}{
		{8, 8, ULiRAConfig{}},
		{8, 8, ULiRAConfig{PerExampleVariance: true, Median: true}},
		{5, 11, ULiRAConfig{}},
	} {
		for seed := range uint64(3) {
			u, r := rotatedWorld(seed+1, tc.nu, tc.nr, examples, 0)
			res, err := ULiRARotated(u, r, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkRotatedTotals(t, res, tc.nu, tc.nr, examples)
			var mean, ss float64
			for _, a := range res.PerExample {
				mean += a / examples
			}
			for _, a := range res.PerExample {
				ss += (a - mean) * (a - mean)
			}
			se := math.Sqrt(ss / (examples - 1) / examples)
			if math.Abs(res.Accuracy-0.5) > 4*se {
				t.Errorf("%d + %d models, %+v, seed %d: accuracy %.4f, want 0.5 ± 4·%.4f", tc.nu, tc.nr, tc.cfg, seed, res.Accuracy, se)
			}
		}
	}
}

// TestULiRARotatedSeparated: unlearned scores d = 2 standard deviations
// above retrained ones. The Bayes rule at equal priors thresholds at the
// midpoint and is right with probability Φ(d/2) = 0.8413 on either side.
// The fitted threshold ((μ̂_in + μ̂_out)/2, 7 models on one side and 8 on
// the other) has variance v = (1/7 + 1/8)/4, which costs ½·(d/2)φ(d/2)·v
// ≈ 0.008 (the second derivative of ½[Φ(d/2 − e) + Φ(d/2 + e)] at e = 0).
func TestULiRARotatedSeparated(t *testing.T) {
	const nu, nr, examples, d = 8, 8, 500, 2.0
	u, r := rotatedWorld(7, nu, nr, examples, d)
	res, err := ULiRARotated(u, r, ULiRAConfig{})
	if err != nil {
		t.Fatal(err)
	}
	checkRotatedTotals(t, res, nu, nr, examples)
	bayes := stdNormal.CDF(d / 2)
	want := bayes - 0.5*(d/2)*stdNormal.Prob(d/2)*(1.0/7+1.0/8)/4
	se := math.Sqrt(want*(1-want)*(1/float64(nu*examples)+1/float64(nr*examples))) / 2
	if math.Abs(res.Accuracy-want) > 4*se {
		t.Errorf("accuracy %.4f, want %.4f ± 4·%.4f (Bayes %.4f)", res.Accuracy, want, se, bayes)
	}
	for i, a := range res.PerModel {
		if math.Abs(a-want) > 0.1 {
			t.Errorf("model %d: %.3f correct, want about %.3f", i, a, want)
		}
	}
}

// TestULiRARotatedHoldOut: one example, unlearned scores 0, 2, 9 and
// retrained 4, 5, 6; fold h holds out unlearned h and retrained h, fits on
// the other two of each side (log ratios by hand, Python):
//
//	fold 0: IN {2, 9} (5.5, σ² 24.5), OUT {5, 6} (5.5, ½): unlearned 0 +27.687 ✓, retrained 4 +0.258 ✗
//	fold 1: IN {0, 9} (4.5, 40.5),    OUT {4, 6} (5, 2):    unlearned 2 +0.669 ✓,  retrained 5 −1.507 ✓
//	fold 2: IN {0, 2} (1, 2),         OUT {4, 5} (4.5, ½):  unlearned 9 +3.557 ✓,  retrained 6 −4.693 ✓
//
// Balanced accuracy (3/3 + 2/3)/2 = 5/6. The judged models' own scores
// never enter the fits; ULiRA fitted on all three unlearned models shows
// what a leak does to unlearned 9.
func TestULiRARotatedHoldOut(t *testing.T) {
	u := [][]float64{{0}, {2}, {9}}
	r := [][]float64{{4}, {5}, {6}}
	for _, cfg := range []ULiRAConfig{{}, {PerExampleVariance: true}} {
		res, err := ULiRARotated(u, r, cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := []float64{1, 1, 1, 0, 1, 1}
		for i, w := range want {
			if res.PerModel[i] != w {
				t.Errorf("%+v: model %d correct share %v, want %v", cfg, i, res.PerModel[i], w)
			}
		}
		if math.Abs(res.Accuracy-5.0/6) > 1e-15 || math.Abs(res.PerExample[0]-5.0/6) > 1e-15 || res.Examples != 1 || res.Models != 6 {
			t.Errorf("%+v: %+v, want accuracy 5/6 over 1 example and 6 models", cfg, res)
		}
	}
	leaky, err := ULiRA([][]float64{{0, 2, 9}}, [][]float64{{4, 5, 6}}, [][]float64{{9}}, [][]float64{{5}}, ULiRAConfig{Bootstrap: 1})
	if err != nil {
		t.Fatal(err)
	}
	if leaky.Accuracy != 1 {
		t.Errorf("leaky fit: accuracy %v, want 1 (unlearned 9 called unlearned)", leaky.Accuracy)
	}
}

func TestULiRARotatedErrors(t *testing.T) {
	three := [][]float64{{0, 1}, {1, 2}, {2, 3}}
	for i, tc := range []struct {
		u, r [][]float64
		want error
	}{
		0: {three[:2], three, ErrTooFewShadows},
		1: {three, three[:2], ErrTooFewShadows},
		2: {nil, nil, ErrTooFewShadows},
		3: {three, [][]float64{{0, 1}, {1}, {2, 3}}, ErrShape},
		4: {[][]float64{{0}, {1}, {2}}, three, ErrShape},
		5: {three, [][]float64{{0, 1}, {1, math.NaN()}, {2, 3}}, ErrNonFinite},
		6: {[][]float64{{}, {}, {}}, [][]float64{{}, {}, {}}, ErrEmpty},
	} {
		_, err := ULiRARotated(tc.u, tc.r, ULiRAConfig{})
		if !errors.Is(err, tc.want) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
}
