package mia

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

// DefaultBootstrap is the number of bootstrap resamples Attack uses when
// given 0.
const DefaultBootstrap = 1000

// MinProb is the floor LossScores puts under a probability, so that a
// probability that underflowed to 0 scores log(1e-12) ≈ −27.6 instead of −Inf.
const MinProb = 1e-12

// pcgStream is the second PCG seed word; fixed so that seed alone decides.
const pcgStream = 0x6d69615f70636721

// seedThresholds is the number of evenly spaced thresholds the seed tries.
const seedThresholds = 100

var (
	// ErrEmpty is returned when members or non-members are empty.
	ErrEmpty = errors.New("mia: empty scores")
	// ErrNonFinite is returned (wrapped) for a NaN or infinite score.
	ErrNonFinite = errors.New("mia: non-finite score")
)

// Result is one model's attack summary.
type Result struct {
	Members, NonMembers int
	// BestThresholdAccuracy and BestThreshold are the seed's attack: see
	// SeedBestThresholdAccuracy.
	BestThresholdAccuracy float64
	BestThreshold         float64
	AUC                   float64
	// AUCCI95 is the 2.5 and 97.5 percentiles of the AUC over bootstrap
	// resamples that redraw members and non-members separately.
	AUCCI95 [2]float64
	// Advantage is max |TPR − FPR| over all thresholds.
	Advantage float64
	// FPR and TPR are the ROC curve from (0, 0) to (1, 1), one point per
	// distinct score (member iff score ≥ cutoff), FPR ascending.
	FPR, TPR []float64
}

// Attack scores member against non-member rows. bootstrap is the number of
// resamples for AUCCI95 (0 means DefaultBootstrap; negative is an error) and
// seed seeds them.
func Attack(member, nonMember []float64, bootstrap int, seed uint64) (Result, error) {
	if err := check(member, nonMember); err != nil {
		return Result{}, err
	}
	bootstrap, err := resamples(bootstrap)
	if err != nil {
		return Result{}, err
	}
	res := Result{Members: len(member), NonMembers: len(nonMember)}
	res.BestThresholdAccuracy, res.BestThreshold = SeedBestThresholdAccuracy(member, nonMember)
	tpr, fpr := roc(member, nonMember)
	res.AUC = integrate.Trapezoidal(fpr, tpr)
	for i := range tpr {
		res.Advantage = max(res.Advantage, math.Abs(tpr[i]-fpr[i]))
	}
	res.FPR, res.TPR = fpr, tpr

	aucs := make([]float64, bootstrap)
	resample(member, nonMember, bootstrap, seed, func(b int, m, n []float64) {
		tpr, fpr := roc(m, n)
		aucs[b] = integrate.Trapezoidal(fpr, tpr)
	})
	res.AUCCI95 = ci95(aucs)
	return res, nil
}

// AUC returns the area under the ROC curve of member against non-member
// scores: the probability that a random member outscores a random
// non-member, ties counting one half.
func AUC(member, nonMember []float64) (float64, error) {
	if err := check(member, nonMember); err != nil {
		return 0, err
	}
	tpr, fpr := roc(member, nonMember)
	return integrate.Trapezoidal(fpr, tpr), nil
}

// SeedBestThresholdAccuracy is the seed notebook's attack, step for step:
//
//	thresholds = np.linspace(scores.min(), scores.max(), 100)
//	for t in thresholds:
//	    preds = (scores > t).astype(int)   # strictly greater
//	    best = max(best, (preds == labels).mean())
//
// with labels 1 for members and 0 for non-members. threshold is the first
// (lowest) threshold that reaches the best accuracy. The thresholds are
// computed as numpy.linspace does (start + i·step, the last set to the
// maximum). Inputs are not checked: with no scores it returns NaN, NaN, and
// NaN scores give meaningless results; Attack checks first.
func SeedBestThresholdAccuracy(member, nonMember []float64) (acc, threshold float64) {
	total := len(member) + len(nonMember)
	if total == 0 {
		return math.NaN(), math.NaN()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{member, nonMember} {
		for _, v := range s {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	acc = -1
	for _, t := range linspace(lo, hi, seedThresholds) {
		correct := 0
		for _, v := range member {
			if v > t {
				correct++
			}
		}
		for _, v := range nonMember {
			if !(v > t) {
				correct++
			}
		}
		if a := float64(correct) / float64(total); a > acc {
			acc, threshold = a, t
		}
	}
	return acc, threshold
}

// LossScores returns log(max(p, MinProb)) for each probability of the true
// class: −cross-entropy, so higher means lower loss. Callers holding
// log-probabilities (from a log-softmax) should use them directly.
func LossScores(probTrue []float64) []float64 {
	out := make([]float64, len(probTrue))
	for i, p := range probTrue {
		out[i] = math.Log(math.Max(p, MinProb))
	}
	return out
}

// ConfidenceScores returns a copy of the probabilities of the true class.
func ConfidenceScores(probTrue []float64) []float64 {
	return slices.Clone(probTrue)
}

// SampleNonMembers draws n distinct entries of pool uniformly without
// replacement, in draw order, with a PCG generator seeded by seed. pool is
// not modified.
func SampleNonMembers(pool []int, n int, seed uint64) ([]int, error) {
	if n < 0 || n > len(pool) {
		return nil, fmt.Errorf("mia: cannot sample %d of %d without replacement", n, len(pool))
	}
	p := slices.Clone(pool)
	r := rand.New(rand.NewPCG(seed, pcgStream))
	for i := range n { // partial Fisher–Yates
		j := i + r.IntN(len(p)-i)
		p[i], p[j] = p[j], p[i]
	}
	return p[:n:n], nil
}

func check(member, nonMember []float64) error {
	if len(member) == 0 || len(nonMember) == 0 {
		return fmt.Errorf("%w: %d members, %d non-members", ErrEmpty, len(member), len(nonMember))
	}
	for _, s := range [][]float64{member, nonMember} {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: %v at %d", ErrNonFinite, v, i)
			}
		}
	}
	return nil
}

// roc returns the ROC points from (0, 0) to (1, 1), fpr ascending, with one
// cutoff per distinct score (member iff score ≥ cutoff).
func roc(member, nonMember []float64) (tpr, fpr []float64) {
	y := make([]float64, 0, len(member)+len(nonMember))
	y = append(append(y, member...), nonMember...)
	classes := make([]bool, len(y))
	for i := range member {
		classes[i] = true
	}
	stat.SortWeightedLabeled(y, classes, nil)
	tpr, fpr, _ = stat.ROC(nil, y, classes, nil)
	return tpr, fpr
}
