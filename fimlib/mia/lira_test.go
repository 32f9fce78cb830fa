package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

var stdNormal = distuv.Normal{Mu: 0, Sigma: 1}

// liraWorld is a synthetic LiRA experiment. Example j has a difficulty
// b_j ~ N(0, 3²), shared by every model; a model that trained on it scores
// b_j + sep + N(0, 1), one that did not b_j + N(0, 1). Each example is IN
// for exactly half of the shadows, and the target trained on a random half
// of the examples.
type liraWorld struct {
	shadow [][]float64
	in     [][]bool
	target []float64
	member []bool
}

func newLiRAWorld(seed uint64, examples, shadows int, sep float64) liraWorld {
	r := rand.New(rand.NewPCG(seed, 99))
	w := liraWorld{shadow: make([][]float64, shadows), in: make([][]bool, shadows), target: make([]float64, examples), member: make([]bool, examples)}
	for k := range shadows {
		w.shadow[k], w.in[k] = make([]float64, examples), make([]bool, examples)
	}
	for j := range examples {
		b := 3 * r.NormFloat64()
		for i, k := range r.Perm(shadows) {
			in := i < shadows/2
			w.in[k][j] = in
			w.shadow[k][j] = b + r.NormFloat64()
			if in {
				w.shadow[k][j] += sep
			}
		}
		w.member[j] = r.IntN(2) == 0
		w.target[j] = b + r.NormFloat64()
		if w.member[j] {
			w.target[j] += sep
		}
	}
	return w
}

func (w liraWorld) auc(t *testing.T, cfg LiRAConfig) (auc float64, members, nonMembers int) {
	t.Helper()
	res, err := LiRA(w.shadow, w.in, w.target, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, n, skipped, err := SplitMembers(res.Stat, w.member)
	if err != nil || skipped != 0 || res.Skipped != 0 {
		t.Fatalf("split: %v, %d skipped (%d)", err, skipped, res.Skipped)
	}
	a, err := AUC(m, n)
	if err != nil {
		t.Fatal(err)
	}
	return a, len(m), len(n)
}

// TestLiRASeparated: the per-example attack removes the difficulty b_j, so
// its AUC is that of N(sep, 1 + v) against N(0, 1 + v), Φ(sep/√(2(1 + v))),
// where v is the variance the fitted centre adds: online the threshold is
// (μ̂_in + μ̂_out)/2, v = (1/K_in + 1/K_out)/4; offline it is μ̂_out,
// v = 1/K_out. A global threshold on the raw score only reaches
// Φ(sep/√(2(1 + 9))).
func TestLiRASeparated(t *testing.T) {
	const examples, shadows, sep = 4000, 32, 2.0
	w := newLiRAWorld(1, examples, shadows, sep)
	half := float64(shadows / 2)
	for _, tc := range []struct {
		cfg LiRAConfig
		v   float64
	}{
		{LiRAConfig{}, (1/half + 1/half) / 4},
		{LiRAConfig{Offline: true}, 1 / half},
		{LiRAConfig{Median: true}, math.Pi / 2 * (1/half + 1/half) / 4}, // a median's variance is π/2 a mean's
	} {
		got, m, n := w.auc(t, tc.cfg)
		want := stdNormal.CDF(sep / math.Sqrt(2*(1+tc.v)))
		if se := aucSE(want, m, n); math.Abs(got-want) > 4*se {
			t.Errorf("%+v: AUC %.4f, want %.4f ± 4·%.4f", tc.cfg, got, want, se)
		}
		if got < 0.85 {
			t.Errorf("%+v: AUC %.4f, want clearly above 0.8", tc.cfg, got)
		}
	}
	// Per-example variances estimated from 16 scores add noise of their
	// own; the attack must still beat the raw score by far.
	got, _, _ := w.auc(t, LiRAConfig{PerExampleVariance: true})
	if got < 0.85 {
		t.Errorf("per-example variance: AUC %.4f", got)
	}
	m, n, _, _ := SplitMembers(w.target, w.member)
	raw, _ := AUC(m, n)
	if want := stdNormal.CDF(sep / math.Sqrt(20)); math.Abs(raw-want) > 4*aucSE(want, len(m), len(n)) {
		t.Errorf("raw-score AUC %.4f, want %.4f", raw, want)
	}
}

// TestLiRANull: IN and OUT from one distribution (sep = 0), so no
// statistic can separate members: AUC 0.5 within 4 null standard errors.
func TestLiRANull(t *testing.T) {
	w := newLiRAWorld(2, 4000, 16, 0)
	for _, cfg := range []LiRAConfig{{}, {Offline: true}, {PerExampleVariance: true}} {
		got, m, n := w.auc(t, cfg)
		if se := nullAUCSE(m, n); math.Abs(got-0.5) > 4*se {
			t.Errorf("%+v: AUC %.4f, want 0.5 ± 4·%.4f", cfg, got, se)
		}
	}
}

// TestLiRAHand: one example with IN scores 0, 2 (mean 1, variance 2) and
// OUT scores −1, 1 (mean 0, variance 2); the target scores 1:
// online (1 − 0)²/(2·2) − (1 − 1)²/(2·2) = 0.25, offline 1/√2.
func TestLiRAHand(t *testing.T) {
	shadow := [][]float64{{0}, {2}, {-1}, {1}}
	in := [][]bool{{true}, {true}, {false}, {false}}
	for _, tc := range []struct {
		cfg  LiRAConfig
		want float64
	}{
		{LiRAConfig{}, 0.25},
		{LiRAConfig{PerExampleVariance: true}, 0.25},
		{LiRAConfig{Offline: true}, 1 / math.Sqrt2},
	} {
		res, err := LiRA(shadow, in, []float64{1}, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.Stat[0]-tc.want) > 1e-12 {
			t.Errorf("%+v: %v, want %v", tc.cfg, res.Stat[0], tc.want)
		}
	}
	// Unequal variances, per example: IN 0, 2 (variance 2), OUT −1, 0, 1
	// (variance 1); at s = 1, z_in = 0 and z_out = 1, so the ratio is
	// ½ + log(1/√2) = 0.5 − 0.34657359027997264 (Python).
	res, err := LiRA(append(shadow, []float64{0}), append(in, []bool{false}), []float64{1}, LiRAConfig{PerExampleVariance: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.5 - 0.34657359027997264; math.Abs(res.Stat[0]-want) > 1e-12 {
		t.Errorf("unequal variances: %v, want %v", res.Stat[0], want)
	}
	res, _ = LiRA(shadow, in, []float64{1}, LiRAConfig{})
	if math.Abs(res.SigmaIn-math.Sqrt2) > 1e-12 || math.Abs(res.SigmaOut-math.Sqrt2) > 1e-12 || res.In[0] != 2 || res.Out[0] != 2 {
		t.Errorf("σ %v %v, counts %v %v", res.SigmaIn, res.SigmaOut, res.In, res.Out)
	}
}

// TestLiRASkips: example 1 has no IN shadow, example 2 one IN shadow.
func TestLiRASkips(t *testing.T) {
	shadow := [][]float64{{0, 5, 1}, {2, 6, 2}, {-1, 7, 3}, {1, 8, 4}}
	in := [][]bool{{true, false, true}, {true, false, false}, {false, false, false}, {false, false, false}}
	target := []float64{1, 6, 2}
	for _, tc := range []struct {
		cfg     LiRAConfig
		skipped []bool
	}{
		{LiRAConfig{}, []bool{false, true, false}},
		{LiRAConfig{Offline: true}, []bool{false, false, false}},
		{LiRAConfig{PerExampleVariance: true}, []bool{false, true, true}},
	} {
		res, err := LiRA(shadow, in, target, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for j, s := range tc.skipped {
			if math.IsNaN(res.Stat[j]) != s {
				t.Errorf("%+v: example %d statistic %v, want skipped %v", tc.cfg, j, res.Stat[j], s)
			}
			if s {
				n++
			}
		}
		if res.Skipped != n {
			t.Errorf("%+v: Skipped %d, want %d", tc.cfg, res.Skipped, n)
		}
	}
}

func TestLiRAErrors(t *testing.T) {
	two := [][]float64{{0, 1}, {1, 2}}
	inTwo := [][]bool{{true, false}, {false, true}}
	for i, tc := range []struct {
		shadow [][]float64
		in     [][]bool
		target []float64
		want   error
	}{
		0: {nil, nil, []float64{1}, ErrTooFewShadows},
		1: {two, inTwo[:1], []float64{1, 2}, ErrShape},
		2: {two, inTwo, []float64{1}, ErrShape},
		3: {two, inTwo, []float64{1, math.NaN()}, ErrNonFinite},
		4: {[][]float64{{0, math.Inf(1)}, {1, 2}}, inTwo, []float64{1, 2}, ErrNonFinite},
		// Every example has exactly one IN shadow: no global IN variance.
		5: {two, inTwo, []float64{1, 2}, ErrTooFewShadows},
	} {
		_, err := LiRA(tc.shadow, tc.in, tc.target, LiRAConfig{})
		if !errors.Is(err, tc.want) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
}

// uliraWorld: per example j with difficulty b_j, IN (unlearned) shadows
// and unlearned evaluation models score b_j + leak + N(0, 1), OUT and
// retrained ones b_j + N(0, 1).
func uliraWorld(seed uint64, examples, shadows, pairs int, leak float64) (in, out, unlearned, retrained [][]float64) {
	r := rand.New(rand.NewPCG(seed, 98))
	draw := func(n int, mean float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = mean + r.NormFloat64()
		}
		return s
	}
	for range examples {
		b := 3 * r.NormFloat64()
		in = append(in, draw(shadows, b+leak))
		out = append(out, draw(shadows, b))
		unlearned = append(unlearned, draw(pairs, b+leak))
		retrained = append(retrained, draw(pairs, b))
	}
	return in, out, unlearned, retrained
}

// TestULiRALeaky: with IN ~ N(b + 1, 1) and OUT ~ N(b, 1) the Bayes rule
// at equal priors thresholds at b + ½ and is right with probability
// Φ(½) = 0.6915 on either side. The fitted rule loses only
// ½·|d²acc/dt²|·Var(threshold) = 0.176/2·(2/64)/4 ≈ 0.0007.
func TestULiRALeaky(t *testing.T) {
	const examples, pairs = 500, 4
	in, out, u, r := uliraWorld(3, examples, 64, pairs, 1)
	res, err := ULiRA(in, out, u, r, ULiRAConfig{Bootstrap: 500, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := stdNormal.CDF(0.5)
	// Balanced accuracy of independent pairs: ¼(p(1−p)/n_u + p(1−p)/n_r).
	n := float64(examples * pairs)
	se := math.Sqrt(want * (1 - want) * (2 / n) / 4)
	if math.Abs(res.Accuracy-want) > 4*se {
		t.Errorf("accuracy %.4f, want %.4f ± 4·%.4f", res.Accuracy, want, se)
	}
	if !(res.CI95[0] < res.Accuracy && res.Accuracy < res.CI95[1]) || res.CI95[0] < 0.6 {
		t.Errorf("interval %v around %v", res.CI95, res.Accuracy)
	}
	if res.Examples != examples || res.Skipped != 0 || res.UnlearnedPairs != examples*pairs || res.RetrainedPairs != examples*pairs {
		t.Errorf("counts %+v", res)
	}
	var mean float64
	for _, a := range res.PerExample {
		mean += a / examples
	}
	// With equal pair counts the pooled accuracy is the per-example mean.
	if math.Abs(mean-res.Accuracy) > 1e-12 {
		t.Errorf("per-example mean %v, pooled %v", mean, res.Accuracy)
	}
}

// TestULiRAPerfect: a perfect unlearner's unlearned models are distributed
// as retrained ones; whatever rule each example's fit gives, it calls
// "unlearned" as often on either side, so the accuracy is 0.5 with a
// standard error at most 0.25·sqrt(1/n_u + 1/n_r).
func TestULiRAPerfect(t *testing.T) {
	const examples, pairs = 500, 4
	for _, cfg := range []ULiRAConfig{{Bootstrap: 300}, {Bootstrap: 300, PerExampleVariance: true, Median: true}} {
		in, out, u, r := uliraWorld(4, examples, 16, pairs, 0)
		res, err := ULiRA(in, out, u, r, cfg)
		if err != nil {
			t.Fatal(err)
		}
		n := float64(examples * pairs)
		if se := 0.25 * math.Sqrt(2/n); math.Abs(res.Accuracy-0.5) > 4*se {
			t.Errorf("%+v: accuracy %.4f, want 0.5 ± 4·%.4f", cfg, res.Accuracy, se)
		}
		if !(res.CI95[0] < 0.5 && 0.5 < res.CI95[1]) {
			t.Errorf("%+v: interval %v excludes 0.5", cfg, res.CI95)
		}
	}
}

// TestULiRAHand: IN 0, 2 and OUT −1, 1 as in TestLiRAHand, so the log
// ratio is (s² − (s − 1)²)/4 = (2s − 1)/4, > 0 iff s > ½ (a ratio of
// exactly 0, at s = ½, calls "retrained"). Unlearned scores 1, 0.2, 0.5, 2
// → 2 of 4 right; retrained 0, 0.5, 3 → 2 of 3 right. Balanced:
// (½ + ⅔)/2 = 7/12.
func TestULiRAHand(t *testing.T) {
	in := [][]float64{{0, 2}, {5, 7}} // example 1 adds variance 2 to the pool
	out := [][]float64{{-1, 1}, {}}
	u := [][]float64{{1, 0.2, 0.5, 2}, {5}}
	r := [][]float64{{0, 0.5, 3}, {4}}
	res, err := ULiRA(in, out, u, r, ULiRAConfig{Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Accuracy-7.0/12) > 1e-12 || res.Examples != 1 || res.Skipped != 1 || !math.IsNaN(res.PerExample[1]) {
		t.Errorf("%+v, want accuracy 7/12 from example 0, example 1 skipped (no OUT)", res)
	}
	// One example: every resample is that example.
	if res.CI95 != [2]float64{res.Accuracy, res.Accuracy} {
		t.Errorf("interval %v", res.CI95)
	}
}

func TestULiRAErrors(t *testing.T) {
	ok := [][]float64{{0, 1}}
	if _, err := ULiRA(ok, ok, ok, nil, ULiRAConfig{}); !errors.Is(err, ErrShape) {
		t.Errorf("shape: %v", err)
	}
	if _, err := ULiRA(ok, ok, ok, [][]float64{{math.NaN()}}, ULiRAConfig{}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN: %v", err)
	}
	if _, err := ULiRA(ok, ok, ok, [][]float64{{}}, ULiRAConfig{}); !errors.Is(err, ErrTooFewShadows) {
		t.Errorf("no retrained pairs: %v", err)
	}
	if _, err := ULiRA(ok, ok, ok, ok, ULiRAConfig{Bootstrap: -1}); err == nil {
		t.Error("negative bootstrap accepted")
	}
}
