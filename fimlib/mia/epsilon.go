package mia

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// The NeurIPS 2023 Machine Unlearning challenge's constants
// (google-deepmind/unlearning_evaluation, metric.py).
const (
	// ChallengeDelta is the δ of the (ε, δ) estimate.
	ChallengeDelta = 1e-5
	// ChallengeEpsilonCap is the value given to a perfectly separated or a
	// "peaky" example, and the largest ε reported.
	ChallengeEpsilonCap = 50
	// ChallengeThresholdsPerUnit is the threshold grid's density: 100 per
	// unit of score.
	ChallengeThresholdsPerUnit = 100
	// challengeBuffer widens the double-threshold search on each side.
	challengeBuffer = 2.0
	// challengePeakyRatio: a side whose range (max − min) is below this
	// fraction of the other side's gets ε = Cap without a sweep.
	challengePeakyRatio = 0.01
	// challengeBucket is the width of a score bucket.
	challengeBucket = 0.5
)

// EpsilonConfig sets the challenge estimator's constants. The zero value is
// metric.py's.
type EpsilonConfig struct {
	// Delta is δ; 0 means ChallengeDelta. Must be in [0, 1).
	Delta float64
	// Cap is the largest ε; 0 means ChallengeEpsilonCap.
	Cap float64
	// ThresholdsPerUnit is the grid density; 0 means
	// ChallengeThresholdsPerUnit.
	ThresholdsPerUnit int
	// MinRate, when > 0, also drops every threshold whose FPR or FNR is
	// below it (metric.py drops only rates of exactly 0). The estimator's
	// maximum then sits where both rates are resolvable instead of in the
	// tails, where a handful of models decides it. Not in metric.py.
	MinRate float64
	// NoPeakyCap skips metric.py's rule that gives ε = Cap to an example
	// one of whose sides has a range under 1 % of the other's.
	NoPeakyCap bool
}

func (c EpsilonConfig) resolved() (EpsilonConfig, error) {
	if c.Delta == 0 {
		c.Delta = ChallengeDelta
	}
	if c.Cap == 0 {
		c.Cap = ChallengeEpsilonCap
	}
	if c.ThresholdsPerUnit == 0 {
		c.ThresholdsPerUnit = ChallengeThresholdsPerUnit
	}
	switch {
	case !(c.Delta > 0 && c.Delta < 1):
		return c, fmt.Errorf("mia: delta %v must be in (0, 1)", c.Delta)
	case !(c.Cap > 0) || math.IsInf(c.Cap, 1):
		return c, fmt.Errorf("mia: epsilon cap %v must be positive and finite", c.Cap)
	case c.ThresholdsPerUnit < 0:
		return c, fmt.Errorf("mia: thresholds per unit %d must be positive", c.ThresholdsPerUnit)
	case !(c.MinRate >= 0 && c.MinRate < 1):
		return c, fmt.Errorf("mia: minimum rate %v must be in [0, 1)", c.MinRate)
	}
	return c, nil
}

// minCount is the smallest error count k ≥ 1 whose rate k/n is ≥ MinRate.
func (c EpsilonConfig) minCount(n int) int {
	k := max(1, int(math.Ceil(c.MinRate*float64(n)))-1)
	for k <= n && float64(k)/float64(n) < c.MinRate {
		k++
	}
	return k
}

// MaxFiniteEpsilon is the largest finite ε the estimator can report with
// models models per side. Every error rate it sees is a count over models,
// k/N, and a threshold counts only when both rates are nonzero (and, with
// MinRate, ≥ MinRate), so both are ≥ r = the smallest such k/N (1/N by
// default); ε = log(1 − δ − FPR) − log FNR is largest at FPR = FNR = r:
//
//	ε_max = log(1 − δ − r) − log r = ln(N(1 − δ) − 1)   for r = 1/N,
//
// about ln(N − 1) (6.236 for N = 512). One model of each side on the wrong
// side of a threshold reaches it. Anything above is Cap, given to perfect
// separation or a peaky example. It returns 0 when the bound is negative
// and NaN for a bad configuration or models < 2.
func MaxFiniteEpsilon(models int, cfg EpsilonConfig) float64 {
	cfg, err := cfg.resolved()
	if err != nil || models < 2 {
		return math.NaN()
	}
	r := float64(cfg.minCount(models)) / float64(models)
	return math.Max(0, math.Log(1-cfg.Delta-r)-math.Log(r))
}

// EpsilonEstimate is the challenge's ε for one forget example and the
// attack that reached it.
type EpsilonEstimate struct {
	// Epsilon is in [0, Cap]: Cap for perfect separation or a peaky
	// example, otherwise at most MaxFiniteEpsilon; 0 when no threshold has
	// both error rates nonzero (metric.py stops with an assertion there).
	Epsilon float64
	// RetrainedPositive: the retrained scores have the larger median, so
	// the single-threshold attacks call a score ≥ t "retrained".
	RetrainedPositive bool
	// Peaky: Epsilon is Cap by the peaky rule, without a sweep.
	Peaky bool
	// Lower and Upper bound the best attack's region: it calls the scores
	// in [Lower, Upper] "retrained" when InsideRetrained, else
	// "unlearned". Upper is +Inf for a single threshold. NaN when Peaky or
	// no threshold survived.
	Lower, Upper    float64
	InsideRetrained bool
	// FPR is the fraction of the other side's scores inside the region,
	// FNR the fraction of the inside side's scores outside it. NaN as
	// Lower.
	FPR, FNR float64
}

// Epsilon is metric.py's per-example ε (the NeurIPS 2023 Machine
// Unlearning challenge; google-deepmind/unlearning_evaluation): unlearned
// and retrained are the example's statistic (the logit-scaled confidence)
// under N unlearned and N retrained models, N ≥ 2 each.
//
// The side with the larger median (numpy.median; ties go to the unlearned
// side) is "positive". Unless NoPeakyCap, an example whose smaller range
// (max − min) is below 1 % of the larger gets ε = Cap. Otherwise two
// families of attacks are swept on metric.py's grids:
//
//   - single thresholds t, ThresholdsPerUnit per unit from the lowest to
//     the highest score: positive iff score ≥ t;
//   - double thresholds [l, r]: the peakier side (smaller range w; the
//     unlearned side when the ranges are equal) is called positive iff
//     l ≤ score ≤ r, for r on a grid from max_peaky − 2 to max_peaky + 2
//     and, for each r, 4·ThresholdsPerUnit values of l from r − w − 2 to
//     r − w + 2.
//
// For each threshold, with δ = Delta: FPR = FNR = 0 gives +Inf; otherwise
// a threshold where FPR or FNR is 0 (or below MinRate) is dropped, and the
// rest give max(0, max[log(1 − δ − FPR) − log FNR, log(1 − δ − FNR) −
// log FPR]), a log of a negative number counting as missing. ε is the
// largest over the thresholds, clipped to [0, Cap]. Grids follow
// numpy.linspace in float64; metric.py builds the single grid with
// torch.linspace in float32 and its rates and logs in float32, so values
// agree to about 1e-6 and a threshold that lands on a score to within
// float32 rounding can count it differently. Counting uses sorted scores,
// not metric.py's models × thresholds comparison matrices.
func Epsilon(unlearned, retrained []float64, cfg EpsilonConfig) (EpsilonEstimate, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return EpsilonEstimate{}, err
	}
	if len(unlearned) != len(retrained) {
		return EpsilonEstimate{}, fmt.Errorf("%w: %d unlearned and %d retrained models", ErrShape, len(unlearned), len(retrained))
	}
	if len(unlearned) < 2 {
		return EpsilonEstimate{}, fmt.Errorf("%w: %d models per side, need 2", ErrEmpty, len(unlearned))
	}
	if err := finite("unlearned", unlearned); err != nil {
		return EpsilonEstimate{}, err
	}
	if err := finite("retrained", retrained); err != nil {
		return EpsilonEstimate{}, err
	}
	return newSweep(len(unlearned), cfg).epsilon(unlearned, retrained), nil
}

// sweep holds what depends only on N and the configuration: the logs of
// the rates k/N and of 1 − δ − k/N.
type sweep struct {
	cfg              EpsilonConfig
	n, minK          int
	logRate, logComp []float64
}

func newSweep(n int, cfg EpsilonConfig) *sweep {
	s := &sweep{cfg: cfg, n: n, minK: cfg.minCount(n), logRate: make([]float64, n+1), logComp: make([]float64, n+1)}
	for k := range n + 1 {
		rate := float64(k) / float64(n)
		s.logRate[k] = math.Log(rate)
		s.logComp[k] = math.Log(1 - cfg.Delta - rate)
	}
	return s
}

// thresholdEpsilon is one threshold's ε from its false-positive and
// false-negative counts; keep is false for a dropped threshold.
func (s *sweep) thresholdEpsilon(fp, fn int) (eps float64, keep bool) {
	switch {
	case fp == 0 && fn == 0:
		return math.Inf(1), true
	case fp == 0 || fn == 0 || fp < s.minK || fn < s.minK:
		return 0, false
	}
	a := s.logComp[fp] - s.logRate[fn]
	b := s.logComp[fn] - s.logRate[fp]
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0, false
	case math.IsNaN(a):
		a = b
	case math.IsNaN(b):
		b = a
	}
	return math.Max(0, math.Max(a, b)), true
}

func (s *sweep) epsilon(unlearned, retrained []float64) EpsilonEstimate {
	nan := math.NaN()
	est := EpsilonEstimate{Lower: nan, Upper: nan, FPR: nan, FNR: nan}
	est.RetrainedPositive = median(retrained) > median(unlearned)
	pos, neg := slices.Sorted(slices.Values(unlearned)), slices.Sorted(slices.Values(retrained))
	if est.RetrainedPositive {
		pos, neg = neg, pos
	}
	posDiff, negDiff := pos[len(pos)-1]-pos[0], neg[len(neg)-1]-neg[0]
	largest, smallest := negDiff, posDiff
	if posDiff > negDiff {
		largest, smallest = posDiff, negDiff
	}
	if !s.cfg.NoPeakyCap && smallest/largest < challengePeakyRatio {
		est.Epsilon, est.Peaky = s.cfg.Cap, true
		return est
	}

	best, found := math.Inf(-1), false
	consider := func(fp, fn int, lo, hi float64, insideRetrained bool) {
		e, keep := s.thresholdEpsilon(fp, fn)
		if !keep || !(e > best) {
			return
		}
		best, found = e, true
		est.Lower, est.Upper, est.InsideRetrained = lo, hi, insideRetrained
		est.FPR, est.FNR = float64(fp)/float64(s.n), float64(fn)/float64(s.n)
	}

	// Double thresholds first, as metric.py concatenates them, so that the
	// first of equal maxima is the same attack.
	peaky, other := pos, neg
	peakyRetrained := est.RetrainedPositive
	if posDiff >= negDiff {
		peaky, other = neg, pos
		peakyRetrained = !peakyRetrained
	}
	width := smallest
	perUnit := float64(s.cfg.ThresholdsPerUnit)
	lo := float64(peaky[0]+width) - challengeBuffer
	hi := peaky[len(peaky)-1] + challengeBuffer
	rights := linspace(lo, hi, int(math.Ceil(float64((hi-lo)*perUnit))))
	numLeft := int(math.Ceil(2 * challengeBuffer * perUnit))
	for _, r := range rights {
		c := r - width
		lefts := linspace(c-challengeBuffer, c+challengeBuffer, numLeft)
		leP, leO := countLE(peaky, r), countLE(other, r)
		ip, io := countLT(peaky, lefts[0]), countLT(other, lefts[0])
		for _, l := range lefts {
			for ip < len(peaky) && peaky[ip] < l {
				ip++
			}
			for io < len(other) && other[io] < l {
				io++
			}
			tp, fp := max(0, leP-ip), max(0, leO-io)
			consider(fp, s.n-tp, l, r, peakyRetrained)
		}
	}

	// Single thresholds: positive iff score ≥ t.
	lo, hi = min(pos[0], neg[0]), max(pos[len(pos)-1], neg[len(neg)-1])
	ip, in := 0, 0
	for _, t := range linspace(lo, hi, int(math.Ceil(float64((hi-lo)*perUnit)))) {
		for ip < len(pos) && pos[ip] < t {
			ip++
		}
		for in < len(neg) && neg[in] < t {
			in++
		}
		// ip positives fall below t (false negatives); len(neg) − in
		// negatives reach it (false positives).
		consider(len(neg)-in, ip, t, math.Inf(1), est.RetrainedPositive)
	}

	if found {
		est.Epsilon = math.Min(best, s.cfg.Cap)
	}
	return est
}

// countLT is the number of sorted values < x; countLE the number ≤ x.
func countLT(sorted []float64, x float64) int { return sort.SearchFloat64s(sorted, x) }

func countLE(sorted []float64, x float64) int {
	return sort.Search(len(sorted), func(i int) bool { return sorted[i] > x })
}

// Challenge is the NeurIPS 2023 unlearning challenge's forget-quality
// score for one unlearning method.
type Challenge struct {
	Models, Examples int
	// Estimates holds each forget example's ε and its attack; Epsilon the
	// ε values alone.
	Estimates []EpsilonEstimate
	Epsilon   []float64
	// ForgetScore is F, see ForgetScore.
	ForgetScore float64
	// MaxFiniteEpsilon is the estimator's ceiling for Models models per
	// side: print it next to any ε.
	MaxFiniteEpsilon float64
}

// ChallengeScore runs Epsilon on every forget example and scores them:
// unlearned[m][j] and retrained[m][j] are example j's statistic under
// unlearned (retrained) model m, metric.py's [num models, num examples]
// layout, with the same N ≥ 2 models per side. Examples run in parallel;
// the result does not depend on the scheduling.
//
// The estimate has a noise floor: with unlearned and retrained statistics
// drawn from one Gaussian (a perfect unlearner) the sweep still finds a
// mean ε near 1.5 and F near 0.2 for N from 8 to 512 (simulated;
// TestChallengeNull pins N = 16). Compare a method's F with such a
// baseline, not with 1.
func ChallengeScore(unlearned, retrained [][]float64, cfg EpsilonConfig) (Challenge, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return Challenge{}, err
	}
	models := len(unlearned)
	if len(retrained) != models {
		return Challenge{}, fmt.Errorf("%w: %d unlearned and %d retrained models", ErrShape, models, len(retrained))
	}
	if models < 2 {
		return Challenge{}, fmt.Errorf("%w: %d models per side, need 2", ErrEmpty, models)
	}
	examples := len(unlearned[0])
	if examples == 0 {
		return Challenge{}, fmt.Errorf("%w: no forget examples", ErrEmpty)
	}
	for m := range models {
		if len(unlearned[m]) != examples || len(retrained[m]) != examples {
			return Challenge{}, fmt.Errorf("%w: model %d has %d unlearned and %d retrained scores, want %d", ErrShape, m, len(unlearned[m]), len(retrained[m]), examples)
		}
		if err := finite(fmt.Sprintf("unlearned model %d", m), unlearned[m]); err != nil {
			return Challenge{}, err
		}
		if err := finite(fmt.Sprintf("retrained model %d", m), retrained[m]); err != nil {
			return Challenge{}, err
		}
	}
	res := Challenge{Models: models, Examples: examples, Estimates: make([]EpsilonEstimate, examples), Epsilon: make([]float64, examples)}
	s := newSweep(models, cfg)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), examples) {
		wg.Go(func() {
			u, r := make([]float64, models), make([]float64, models)
			for j := int(next.Add(1) - 1); j < examples; j = int(next.Add(1) - 1) {
				for m := range models {
					u[m], r[m] = unlearned[m][j], retrained[m][j]
				}
				res.Estimates[j] = s.epsilon(u, r)
				res.Epsilon[j] = res.Estimates[j].Epsilon
			}
		})
	}
	wg.Wait()
	res.ForgetScore = ForgetScore(res.Epsilon, models)
	res.MaxFiniteEpsilon = MaxFiniteEpsilon(models, cfg)
	return res, nil
}

// ForgetScore is metric.py's F: each ε earns the points of its bucket,
// [0, 0.5) → 1, [0.5, 1) → ½, [1, 1.5) → ¼, …, for the buckets that end
// at or below ⌈ln(N − 1)⌉ (metric.py's estimate of the largest ε with N =
// models models per side); ε past the last bucket, Cap included, earns 0.
// F is the mean over the examples, in [0, 1]; NaN with no examples or
// models < 2.
func ForgetScore(eps []float64, models int) float64 {
	if len(eps) == 0 || models < 2 {
		return math.NaN()
	}
	limit := math.Ceil(math.Log(float64(models - 1)))
	var starts, points []float64
	p := 1.0
	for start := 0.0; start+challengeBucket <= limit; start += challengeBucket {
		starts, points = append(starts, start), append(points, p)
		p /= 2
	}
	var f float64
	for _, e := range eps {
		for i, start := range starts {
			if e < start+challengeBucket {
				f += points[i]
				break
			}
		}
	}
	return f / float64(len(eps))
}

// FinalScore is the challenge's final score: the forget score F times the
// ratios of mean retain accuracy and of mean test accuracy, unlearned
// models over retrained models (main.py).
func FinalScore(forgetScore, unlearnedRetainAcc, retrainedRetainAcc, unlearnedTestAcc, retrainedTestAcc float64) float64 {
	return forgetScore * (unlearnedRetainAcc / retrainedRetainAcc) * (unlearnedTestAcc / retrainedTestAcc)
}

// EpsilonSummary describes a Challenge's ε values without mixing the cap
// into a mean: a capped example's ε is the cap (50 by default), not an
// estimate, and one of them outweighs dozens of finite values, which
// cannot exceed the ceiling ln(N(1 − δ) − 1).
type EpsilonSummary struct {
	// ForgetScore is F, as Challenge.ForgetScore.
	ForgetScore float64
	// Capped counts the examples whose ε is the cap: no finite threshold,
	// because the sweep separated the two sides fully (a threshold with
	// FPR = FNR = 0) or the peaky rule applied.
	Capped int
	// Finite counts the others, including ε = 0.
	Finite int
	// MedianFinite is the median (numpy.median) of the finite ε values;
	// NaN when Finite is 0.
	MedianFinite float64
	// Ceiling is Challenge.MaxFiniteEpsilon, the largest finite ε.
	Ceiling float64
}

// Summary counts c's capped and finite ε values and takes the median of
// the finite ones. An example is capped when its estimate is Peaky or its
// best threshold has FPR = FNR = 0, which is what gives the cap
// (EpsilonConfig.Cap) whatever its value. For a Challenge without
// Estimates (built by hand), an ε above Ceiling counts as capped.
func (c Challenge) Summary() EpsilonSummary {
	s := EpsilonSummary{ForgetScore: c.ForgetScore, MedianFinite: math.NaN(), Ceiling: c.MaxFiniteEpsilon}
	withEstimates := len(c.Estimates) == len(c.Epsilon)
	var finiteEps []float64
	for j, e := range c.Epsilon {
		capped := e > c.MaxFiniteEpsilon
		if withEstimates {
			est := c.Estimates[j]
			capped = est.Peaky || (est.FPR == 0 && est.FNR == 0)
		}
		if capped {
			s.Capped++
			continue
		}
		finiteEps = append(finiteEps, e)
	}
	s.Finite = len(finiteEps)
	if s.Finite > 0 {
		s.MedianFinite = median(finiteEps)
	}
	return s
}
