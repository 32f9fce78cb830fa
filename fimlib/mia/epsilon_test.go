package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// referenceEpsilon is metric.py's _get_epsilons for one example, written
// out as literally as Go allows: every threshold's four rates by scanning
// all models, then the per-threshold rules and a NaN-skipping maximum. It
// shares only linspace and median with the package.
func referenceEpsilon(unlearned, retrained []float64) float64 {
	const delta, capEps, perUnit, buffer = 1e-5, 50.0, 100.0, 2.0
	pos, neg := unlearned, retrained
	if median(retrained) > median(unlearned) {
		pos, neg = retrained, unlearned
	}
	spread := func(x []float64) float64 { return slices.Max(x) - slices.Min(x) }
	posDiff, negDiff := spread(pos), spread(neg)
	largest, smallest := negDiff, posDiff
	if posDiff > negDiff {
		largest, smallest = posDiff, negDiff
	}
	if smallest/largest < 0.01 {
		return capEps
	}
	type rates struct{ tpr, fnr, fpr, tnr float64 }
	var all []rates
	mean := func(x []float64, pred func(float64) bool) float64 {
		c := 0
		for _, v := range x {
			if pred(v) {
				c++
			}
		}
		return float64(c) / float64(len(x))
	}
	// _get_double_threshold_rates.
	dp, dn := pos, neg
	if posDiff >= negDiff {
		dp, dn = neg, pos
	}
	width := smallest
	lo := float64(slices.Min(dp)+width) - buffer
	hi := slices.Max(dp) + buffer
	for _, r := range linspace(lo, hi, int(math.Ceil((hi-lo)*perUnit))) {
		for _, l := range linspace(r-width-buffer, r-width+buffer, int(math.Ceil(2*buffer*perUnit))) {
			pp := func(c float64) bool { return l <= c && c <= r }
			pn := func(c float64) bool { return !pp(c) }
			all = append(all, rates{mean(dp, pp), mean(dp, pn), mean(dn, pp), mean(dn, pn)})
		}
	}
	// _get_single_threshold_rates.
	both := append(slices.Clone(pos), neg...)
	lo, hi = slices.Min(both), slices.Max(both)
	for _, th := range linspace(lo, hi, int(math.Ceil((hi-lo)*perUnit))) {
		ge := func(c float64) bool { return c >= th }
		lt := func(c float64) bool { return c < th }
		all = append(all, rates{mean(pos, ge), mean(pos, lt), mean(neg, ge), mean(neg, lt)})
	}
	best := math.NaN()
	for _, r := range all {
		var e float64
		switch {
		case r.fpr+r.fnr == 0 && r.tpr+r.tnr == 2:
			e = math.Inf(1)
		case r.fpr*r.fnr == 0:
			continue
		default:
			a := math.Log(1-delta-r.fpr) - math.Log(r.fnr)
			b := math.Log(1-delta-r.fnr) - math.Log(r.fpr)
			switch {
			case math.IsNaN(a):
				e = b
			case math.IsNaN(b):
				e = a
			default:
				e = math.Max(a, b)
			}
			if math.IsNaN(e) {
				continue
			}
			e = math.Max(e, 0)
		}
		if math.IsNaN(best) || e > best {
			best = e
		}
	}
	if math.IsNaN(best) { // metric.py's assertion; the package returns 0
		return 0
	}
	return math.Min(best, capEps)
}

// TestEpsilonMatchesReference compares the sorted-count sweep with the
// literal one on random small examples, ties and near-peaky ones included.
func TestEpsilonMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for i := range 40 {
		n := 2 + r.IntN(24)
		shift, scale := 3*r.Float64()-1, 0.05+2*r.Float64()
		u, v := make([]float64, n), make([]float64, n)
		for k := range n {
			u[k] = r.NormFloat64()
			v[k] = shift + scale*r.NormFloat64()
			if i%4 == 0 { // ties: quarter steps, exact in binary
				u[k], v[k] = math.Round(4*u[k])/4, math.Round(4*v[k])/4
			}
		}
		compareReference(t, i, u, v)
	}
	// Scores on the single-threshold grid itself, so that thresholds equal
	// scores and "≥ t" must count them: with 0 and 1 present the grid is
	// linspace(0, 1, 100).
	grid := linspace(0, 1, 100)
	for i := range 20 {
		n := 4 + r.IntN(12)
		u, v := []float64{0}, []float64{1}
		for range n - 1 {
			u = append(u, grid[r.IntN(60)])
			v = append(v, grid[40+r.IntN(60)])
		}
		compareReference(t, 100+i, u, v)
	}
	// Pairs one grid step apart: only the threshold at the upper score of a
	// pair splits it.
	for i := range 20 {
		n := 4 + r.IntN(12)
		u, v := []float64{0}, []float64{1}
		for range n - 1 {
			k := 20 + r.IntN(60)
			u, v = append(u, grid[k]), append(v, grid[k+1+r.IntN(3)])
		}
		compareReference(t, 300+i, u, v)
	}
	// Integers with equal ranges: which side counts as the peakier one on
	// a tie decides the double-threshold grid.
	for i := range 20 {
		n := 3 + r.IntN(10)
		u, v := []float64{0, 4}, []float64{1, 5}
		for range n - 2 {
			u = append(u, float64(r.IntN(5)))
			v = append(v, float64(1+r.IntN(5)))
		}
		compareReference(t, 200+i, u, v)
	}
}

func compareReference(t *testing.T, i int, u, v []float64) {
	t.Helper()
	got, err := Epsilon(u, v, EpsilonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if want := referenceEpsilon(u, v); math.Abs(got.Epsilon-want) > 1e-12 {
		t.Errorf("case %d (%v against %v): ε %v, literal metric.py %v", i, u, v, got.Epsilon, want)
	}
}

// TestEpsilonHand: N = 4. Retrained 1.5, 2.5, 3.5, 4.5 (median 3) is the
// positive side against unlearned 0, 1, 2, 3 (median 1.5). A single
// threshold in (2, 2.5] misses 1.5 (FNR ¼) and admits 3 (FPR ¼):
// ε = log(1 − δ − ¼) − log ¼ = ln(3 − 4δ), the ceiling ln(N(1 − δ) − 1).
func TestEpsilonHand(t *testing.T) {
	est, err := Epsilon([]float64{0, 1, 2, 3}, []float64{1.5, 2.5, 3.5, 4.5}, EpsilonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want := math.Log(3 - 4*ChallengeDelta)
	if math.Abs(est.Epsilon-want) > 1e-12 || math.Abs(MaxFiniteEpsilon(4, EpsilonConfig{})-want) > 1e-12 {
		t.Errorf("ε %v, ceiling %v, want %v", est.Epsilon, MaxFiniteEpsilon(4, EpsilonConfig{}), want)
	}
	if !est.RetrainedPositive || est.FPR != 0.25 || est.FNR != 0.25 || est.Peaky {
		t.Errorf("attack %+v, want retrained positive with FPR = FNR = ¼", est)
	}
}

// TestEpsilonCeiling: N = 512 with one model of each side across the gap
// reaches MaxFiniteEpsilon = ln(512(1 − δ) − 1) = 6.236359570584036
// (Python math.log); separating that pair gives Cap.
func TestEpsilonCeiling(t *testing.T) {
	const n = 512
	u, v := make([]float64, n), make([]float64, n)
	for k := range n {
		u[k], v[k] = float64(k%7)/7, 5+float64(k%5)/5 // ranges 6/7 and 4/5: not peaky
	}
	u[0], v[0] = 5.5, 0.5 // one stray on each side
	ceiling := MaxFiniteEpsilon(n, EpsilonConfig{})
	if math.Abs(ceiling-6.236359570584036) > 1e-12 {
		t.Fatalf("ceiling %v", ceiling)
	}
	est, err := Epsilon(u, v, EpsilonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(est.Epsilon-ceiling) > 1e-12 {
		t.Errorf("one stray per side: ε %v, want the ceiling %v", est.Epsilon, ceiling)
	}
	u[0], v[0] = 0.5, 5.5
	est, _ = Epsilon(u, v, EpsilonConfig{})
	if est.Epsilon != ChallengeEpsilonCap || est.FPR != 0 || est.FNR != 0 || est.Peaky {
		t.Errorf("separated: %+v, want Cap by a threshold with no errors", est)
	}
	est, _ = Epsilon(u, v, EpsilonConfig{Cap: 10})
	if est.Epsilon != 10 {
		t.Errorf("separated with Cap 10: ε %v", est.Epsilon)
	}
	// With MinRate 1 %, the smallest usable count is ⌈5.12⌉ = 6 of 512:
	// ln((1 − δ − 6/512)/(6/512)) = 4.434767081431143 (Python).
	if got := MaxFiniteEpsilon(n, EpsilonConfig{MinRate: 0.01}); math.Abs(got-4.434767081431143) > 1e-12 {
		t.Errorf("ceiling at MinRate 1 %%: %v", got)
	}
}

// TestEpsilonGaussian: unlearned ~ N(0, 1), retrained ~ N(μ, 1), N = 10⁵
// per side, MinRate m = 1 %. For equal-variance normals the likelihood
// ratio is monotone, so single thresholds are optimal (Neyman–Pearson),
// and log(1 − δ − FPR) − log FNR = log(Φ(t) − δ) − log Φ(t − μ) grows as t
// falls; with FNR ≥ m it peaks at t* = μ + Φ⁻¹(m):
//
//	ε* = log(Φ(μ + Φ⁻¹(m)) − δ) − log m,
//
// and the other term gives the same by symmetry. The estimate's standard
// error (delta method, t̂ the pos sample's m-quantile) is
// sqrt((1 − p)/(Np) + (φ(t*)/p)²·m(1 − m)/(N φ(Φ⁻¹(m))²)), p = Φ(t*);
// the 0.01-wide grid adds at most |dε/dt|·0.01 < 0.01.
func TestEpsilonGaussian(t *testing.T) {
	const n, mu, m = 100000, 1.0, 0.01
	r := rand.New(rand.NewPCG(31, 32))
	u, v := normals(r, n, 0), normals(r, n, mu)
	est, err := Epsilon(u, v, EpsilonConfig{MinRate: m})
	if err != nil {
		t.Fatal(err)
	}
	zm := stdNormal.Quantile(m)
	tStar := mu + zm
	p := stdNormal.CDF(tStar)
	want := math.Log(p-ChallengeDelta) - math.Log(m)
	ratio := stdNormal.Prob(tStar) / p
	se := math.Sqrt((1-p)/(n*p) + ratio*ratio*m*(1-m)/(n*math.Pow(stdNormal.Prob(zm), 2)))
	if math.Abs(est.Epsilon-want) > 4*se+0.01 {
		t.Errorf("ε %.4f, want %.4f ± 4·%.4f + 0.01 (attack %+v)", est.Epsilon, want, se, est)
	}
	if !est.RetrainedPositive {
		t.Error("retrained (the larger median) should be positive")
	}
	// Without MinRate the maximum moves to the tails, where a handful of
	// models decides it: larger, and bounded only by the ceiling.
	tail, _ := Epsilon(u, v, EpsilonConfig{})
	if !(tail.Epsilon > est.Epsilon+0.5 && tail.Epsilon <= MaxFiniteEpsilon(n, EpsilonConfig{})) {
		t.Errorf("MinRate 0: ε %v, want well above %v and at most %v", tail.Epsilon, est.Epsilon, MaxFiniteEpsilon(n, EpsilonConfig{}))
	}
}

// TestEpsilonIdentical: the same scores on both sides make TPR = FPR at
// every threshold, so each ε is log(1 − δ/(1 − FPR)) < 0, clipped to 0.
func TestEpsilonIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	u := normals(r, 64, 0)
	est, err := Epsilon(u, slices.Clone(u), EpsilonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if est.Epsilon != 0 {
		t.Errorf("identical samples: ε %v", est.Epsilon)
	}
	// Both sides one constant: no threshold has both rates nonzero.
	est, _ = Epsilon([]float64{1, 1}, []float64{1, 1}, EpsilonConfig{})
	if est.Epsilon != 0 || !math.IsNaN(est.FPR) {
		t.Errorf("constant sides: %+v", est)
	}
}

// TestEpsilonPeaky: an unlearned side whose range is under 1 % of the
// retrained side's gets Cap without a sweep; NoPeakyCap sweeps it.
func TestEpsilonPeaky(t *testing.T) {
	u := []float64{1, 1, 1, 1.001}
	v := []float64{0, 0.5, 1.5, 2} // range 2, ratio 0.0005
	est, err := Epsilon(u, v, EpsilonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !est.Peaky || est.Epsilon != ChallengeEpsilonCap || !math.IsNaN(est.Lower) {
		t.Errorf("peaky: %+v", est)
	}
	// Swept, a double threshold around [1, 1.001] holds every unlearned
	// score and no retrained one: Cap again, by perfect separation.
	est, _ = Epsilon(u, v, EpsilonConfig{NoPeakyCap: true})
	if est.Peaky || est.Epsilon != ChallengeEpsilonCap || est.FPR != 0 || est.FNR != 0 || math.IsInf(est.Upper, 1) || est.InsideRetrained {
		t.Errorf("NoPeakyCap, separable: %+v", est)
	}
	// A retrained score inside the unlearned range makes every such
	// interval admit it (the grids, 0.01 apart, cannot split scores 0.0005
	// apart), and no single threshold has both error rates nonzero with
	// a positive ε: the sweep finds 0 where the rule gives Cap.
	v[1] = 1.0005
	est, _ = Epsilon(u, v, EpsilonConfig{NoPeakyCap: true})
	if est.Peaky || est.Epsilon != 0 {
		t.Errorf("NoPeakyCap, overlapping: %+v", est)
	}
	if est, _ := Epsilon(u, v, EpsilonConfig{}); !est.Peaky {
		t.Errorf("overlapping, with the rule: %+v", est)
	}
}

func TestForgetScore(t *testing.T) {
	// N = 512: buckets end at ⌈ln 511⌉ = 7, 14 buckets worth 1 … 2⁻¹³.
	eps := []float64{0, 0.49, 0.5, 1.2, 6.236, 6.7, 7, 50}
	want := (1 + 1 + 0.5 + 0.25 + math.Pow(2, -12) + math.Pow(2, -13) + 0 + 0) / 8
	if got := ForgetScore(eps, 512); math.Abs(got-want) > 1e-15 {
		t.Errorf("F = %v, want %v", got, want)
	}
	// N = 16: ⌈ln 15⌉ = 3, so ε in [2.5, 3) still earns 2⁻⁵, 3 earns 0.
	if got := ForgetScore([]float64{2.7, 3}, 16); got != math.Pow(2, -5)/2 {
		t.Errorf("N = 16: %v", got)
	}
	// N = 2: ⌈ln 1⌉ = 0, no bucket, every ε earns 0 (as metric.py).
	if got := ForgetScore([]float64{0}, 2); got != 0 {
		t.Errorf("N = 2: %v", got)
	}
	if !math.IsNaN(ForgetScore(nil, 512)) || !math.IsNaN(ForgetScore([]float64{0}, 1)) {
		t.Error("degenerate inputs should give NaN")
	}
	if got := FinalScore(0.5, 0.8, 1, 0.9, 0.9); math.Abs(got-0.4) > 1e-15 {
		t.Errorf("final score %v, want 0.5·0.8·1", got)
	}
}

// TestChallengeScore: the matrix entry point equals per-example Epsilon,
// whatever the parallel schedule.
func TestChallengeScore(t *testing.T) {
	const models, examples = 32, 40
	r := rand.New(rand.NewPCG(51, 52))
	u, v := make([][]float64, models), make([][]float64, models)
	shift := make([]float64, examples)
	for j := range shift {
		shift[j] = 2 * r.Float64()
	}
	for m := range models {
		u[m], v[m] = make([]float64, examples), make([]float64, examples)
		for j := range examples {
			u[m][j], v[m][j] = shift[j]+r.NormFloat64(), r.NormFloat64()
		}
	}
	c, err := ChallengeScore(u, v, EpsilonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	col := func(x [][]float64, j int) []float64 {
		out := make([]float64, models)
		for m := range x {
			out[m] = x[m][j]
		}
		return out
	}
	for j := range examples {
		est, err := Epsilon(col(u, j), col(v, j), EpsilonConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if est != c.Estimates[j] || est.Epsilon != c.Epsilon[j] {
			t.Errorf("example %d: %+v, Epsilon gives %+v", j, c.Estimates[j], est)
		}
		if c.Epsilon[j] > c.MaxFiniteEpsilon && c.Epsilon[j] != ChallengeEpsilonCap {
			t.Errorf("example %d: ε %v above the ceiling %v", j, c.Epsilon[j], c.MaxFiniteEpsilon)
		}
	}
	if c.ForgetScore != ForgetScore(c.Epsilon, models) || c.Models != models || c.Examples != examples {
		t.Errorf("score %v, counts %d %d", c.ForgetScore, c.Models, c.Examples)
	}
	if c.MaxFiniteEpsilon != MaxFiniteEpsilon(models, EpsilonConfig{}) {
		t.Errorf("ceiling %v", c.MaxFiniteEpsilon)
	}
}

// TestChallengeNull pins the estimator's noise floor: with unlearned and
// retrained statistics from one distribution (a perfect unlearner) the
// sweep still finds ε ≈ 1.5 in the sampling noise of 16 models per side,
// so F ≈ 0.18, far from 1. Compare methods against such a baseline.
func TestChallengeNull(t *testing.T) {
	const models, examples = 16, 200
	r := rand.New(rand.NewPCG(71, 72))
	u, v := make([][]float64, models), make([][]float64, models)
	for m := range models {
		u[m], v[m] = normals(r, examples, 0), normals(r, examples, 0)
	}
	c, err := ChallengeScore(u, v, EpsilonConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for _, e := range c.Epsilon {
		mean += e / examples
	}
	if !(c.ForgetScore > 0.1 && c.ForgetScore < 0.3 && mean > 1 && mean < 2) {
		t.Errorf("null: F %v, mean ε %v; want about 0.18 and 1.5", c.ForgetScore, mean)
	}
}

func TestEpsilonErrors(t *testing.T) {
	ok := []float64{0, 1}
	for i, tc := range []struct {
		u, v []float64
		cfg  EpsilonConfig
		want error
	}{
		0: {ok, []float64{0, 1, 2}, EpsilonConfig{}, ErrShape},
		1: {[]float64{0}, []float64{1}, EpsilonConfig{}, ErrEmpty},
		2: {ok, []float64{0, math.NaN()}, EpsilonConfig{}, ErrNonFinite},
		3: {ok, ok, EpsilonConfig{Delta: 1}, nil},
		4: {ok, ok, EpsilonConfig{Cap: -1}, nil},
		5: {ok, ok, EpsilonConfig{MinRate: 1}, nil},
		6: {ok, ok, EpsilonConfig{ThresholdsPerUnit: -1}, nil},
	} {
		_, err := Epsilon(tc.u, tc.v, tc.cfg)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
	two := [][]float64{ok, ok}
	if _, err := ChallengeScore(two, two[:1], EpsilonConfig{}); !errors.Is(err, ErrShape) {
		t.Errorf("model count mismatch: %v", err)
	}
	if _, err := ChallengeScore(two, [][]float64{ok, {1}}, EpsilonConfig{}); !errors.Is(err, ErrShape) {
		t.Errorf("ragged: %v", err)
	}
	if _, err := ChallengeScore([][]float64{{}, {}}, [][]float64{{}, {}}, EpsilonConfig{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("no examples: %v", err)
	}
	if !math.IsNaN(MaxFiniteEpsilon(1, EpsilonConfig{})) {
		t.Error("ceiling with one model")
	}
}

// TestChallengeSummary: of ten examples under 16 models per side, one is
// fully separated (retrained scores 20 above: a threshold with FPR = FNR
// = 0), one peaky (constant unlearned scores), and eight from one
// distribution on both sides (finite ε). The summary counts 2 capped and
// takes the median of the 8 finite ε. With a cap of 2, below the ceiling
// ln(15) ≈ 2.71, finite ε above 2 are clipped to 2 but still count as
// finite.
func TestChallengeSummary(t *testing.T) {
	const models, examples = 16, 10
	r := rand.New(rand.NewPCG(81, 82))
	u, v := make([][]float64, models), make([][]float64, models)
	for m := range models {
		u[m], v[m] = normals(r, examples, 0), normals(r, examples, 0)
		v[m][0] += 20
		u[m][1] = 0.5
	}
	for _, cfg := range []EpsilonConfig{{}, {Cap: 2}} {
		c, err := ChallengeScore(u, v, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := c.Summary()
		want := EpsilonSummary{ForgetScore: c.ForgetScore, Capped: 2, Finite: 8, MedianFinite: median(c.Epsilon[2:]), Ceiling: c.MaxFiniteEpsilon}
		if s != want {
			t.Errorf("cap %v: %+v, want %+v", cfg.Cap, s, want)
		}
		if !c.Estimates[1].Peaky || c.Estimates[0].Peaky {
			t.Errorf("cap %v: peaky flags %v %v", cfg.Cap, c.Estimates[0].Peaky, c.Estimates[1].Peaky)
		}
		if s.MedianFinite > s.Ceiling {
			t.Errorf("cap %v: median finite ε %v above the ceiling %v", cfg.Cap, s.MedianFinite, s.Ceiling)
		}
	}

	// Without Estimates an ε above the ceiling counts as capped.
	s := Challenge{Epsilon: []float64{0.5, 50, 1.5, 2.5, 50}, ForgetScore: 0.3, MaxFiniteEpsilon: 2.7}.Summary()
	if want := (EpsilonSummary{ForgetScore: 0.3, Capped: 2, Finite: 3, MedianFinite: 1.5, Ceiling: 2.7}); s != want {
		t.Errorf("no estimates: %+v, want %+v", s, want)
	}
	s = Challenge{Epsilon: []float64{50}, MaxFiniteEpsilon: 2.7}.Summary()
	if s.Capped != 1 || s.Finite != 0 || !math.IsNaN(s.MedianFinite) {
		t.Errorf("all capped: %+v", s)
	}
}
