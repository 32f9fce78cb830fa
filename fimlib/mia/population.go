package mia

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/integrate"
)

// DefaultLowFPRs are the false-positive rates Summarize reports the
// true-positive rate at when SummaryConfig.FPRs is nil: 1 % and 0.1 %, as
// LiRA and ML Privacy Meter report.
var DefaultLowFPRs = [...]float64{0.01, 0.001}

// SummaryConfig configures Summarize. The zero value reports TPR at
// DefaultLowFPRs with DefaultBootstrap resamples from seed 0.
type SummaryConfig struct {
	// Bootstrap is the number of resamples for the intervals: 0 means
	// DefaultBootstrap, negative is an error.
	Bootstrap int
	// Seed seeds the resamples; the stream is Attack's, so Attack and
	// Summarize give the same AUCCI95 for the same seed and count.
	Seed uint64
	// FPRs are the false-positive rates, each in (0, 1), to report the
	// true-positive rate at; nil means DefaultLowFPRs.
	FPRs []float64
}

// TPRAtFPR is the true-positive rate at one false-positive rate.
type TPRAtFPR struct {
	// FPR is the requested false-positive rate α.
	FPR float64
	// Resolvable is whether the non-members can show that rate:
	// n·α ≥ 1 for n non-members, so that at least one false positive is
	// allowed. Below that the only operating point with FPR ≤ α is zero
	// false positives, which measures FPR 0, not α.
	Resolvable bool
	// TPR is the largest TPR among the ROC points with at most ⌊n·α⌋
	// false positives (no interpolation between points; LiRA's plot.py
	// uses a strict FPR < α, which at n·α = 1 is the zero-false-positive
	// point). NaN when not Resolvable.
	TPR float64
	// CI95 is its bootstrap interval; NaN, NaN when not Resolvable.
	CI95 [2]float64
}

// Summary is a population attack's summary for one score: what TensorFlow
// Privacy's membership_inference_attack and ML Privacy Meter report.
type Summary struct {
	Members, NonMembers int
	// AUC is the ROC AUC (ties count one half); AUCCI95 its bootstrap
	// interval.
	AUC     float64
	AUCCI95 [2]float64
	// Advantage is max |TPR − FPR| over the ROC points; AdvantageCI95 its
	// bootstrap interval.
	Advantage     float64
	AdvantageCI95 [2]float64
	// LowFPR has one entry per requested false-positive rate, in order.
	LowFPR []TPRAtFPR
	// FPR and TPR are the ROC curve, as in Result.
	FPR, TPR []float64
}

// Summarize is the population attack on one score (higher = member): AUC,
// advantage and TPR at low FPR, each with a bootstrap 95 % interval whose
// resamples redraw members and non-members separately. Scores must be
// finite and both sides non-empty.
func Summarize(member, nonMember []float64, cfg SummaryConfig) (Summary, error) {
	if err := check(member, nonMember); err != nil {
		return Summary{}, err
	}
	boot, err := resamples(cfg.Bootstrap)
	if err != nil {
		return Summary{}, err
	}
	fprs := cfg.FPRs
	if fprs == nil {
		fprs = DefaultLowFPRs[:]
	}
	n := len(nonMember)
	allowed := make([]int, len(fprs)) // false positives allowed; 0 = unresolvable
	res := Summary{Members: len(member), NonMembers: n, LowFPR: make([]TPRAtFPR, len(fprs))}
	for i, a := range fprs {
		if !(a > 0 && a < 1) {
			return Summary{}, fmt.Errorf("mia: FPR %v must be in (0, 1)", a)
		}
		// The 1e-9 absorbs the rounding of a·n (0.001·1000 must allow 1).
		allowed[i] = int(math.Floor(a*float64(n) + 1e-9))
		res.LowFPR[i] = TPRAtFPR{FPR: a, Resolvable: allowed[i] >= 1, TPR: math.NaN(), CI95: [2]float64{math.NaN(), math.NaN()}}
	}

	res.TPR, res.FPR = roc(member, nonMember)
	tprs := make([]float64, len(fprs))
	res.AUC, res.Advantage = rocStats(res.TPR, res.FPR, n, allowed, tprs)
	for i := range fprs {
		if allowed[i] >= 1 {
			res.LowFPR[i].TPR = tprs[i]
		}
	}

	aucs, advs := make([]float64, boot), make([]float64, boot)
	lows := make([][]float64, len(fprs))
	for i := range lows {
		if allowed[i] >= 1 {
			lows[i] = make([]float64, boot)
		}
	}
	resample(member, nonMember, boot, cfg.Seed, func(b int, m, nm []float64) {
		tpr, fpr := roc(m, nm)
		aucs[b], advs[b] = rocStats(tpr, fpr, n, allowed, tprs)
		for i, l := range lows {
			if l != nil {
				l[b] = tprs[i]
			}
		}
	})
	res.AUCCI95, res.AdvantageCI95 = ci95(aucs), ci95(advs)
	for i, l := range lows {
		if l != nil {
			res.LowFPR[i].CI95 = ci95(l)
		}
	}
	return res, nil
}

// rocStats returns the AUC and advantage of a curve from roc over n
// non-members, and writes into tprAt[i] the largest TPR with at most
// allowed[i] false positives.
func rocStats(tpr, fpr []float64, n int, allowed []int, tprAt []float64) (auc, advantage float64) {
	auc = integrate.Trapezoidal(fpr, tpr)
	for i := range tprAt {
		tprAt[i] = 0
	}
	for i := range tpr {
		advantage = max(advantage, math.Abs(tpr[i]-fpr[i]))
		fp := int(math.Round(fpr[i] * float64(n)))
		for j, k := range allowed {
			if fp <= k {
				tprAt[j] = max(tprAt[j], tpr[i])
			}
		}
	}
	return auc, advantage
}

// SplitMembers splits per-example attack statistics by true membership:
// stat[i] goes to members when member[i]. NaN statistics, which LiRA
// writes for the examples it skipped, are left out and counted in skipped.
func SplitMembers(stat []float64, member []bool) (members, nonMembers []float64, skipped int, err error) {
	if len(stat) != len(member) {
		return nil, nil, 0, fmt.Errorf("%w: %d statistics, %d membership labels", ErrShape, len(stat), len(member))
	}
	for i, s := range stat {
		switch {
		case math.IsNaN(s):
			skipped++
		case member[i]:
			members = append(members, s)
		default:
			nonMembers = append(nonMembers, s)
		}
	}
	return members, nonMembers, skipped, nil
}
