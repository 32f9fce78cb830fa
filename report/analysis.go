package report

import (
	"math"
	"slices"
	"strings"

	"github.com/fimprune/fimprune/fimlib/results"
)

// analysis holds the numbers derived from a results file that several
// sections share: which pruned model is best, the attack's sampling noise,
// the test split's size and majority-class rate.
type analysis struct {
	res     *results.Results
	summary results.Summary
	bestIdx int // index into res.Models.Pruned

	members, nonMembers int     // attack rows of the full model's loss attack
	seAttack            float64 // standard error of a best-threshold accuracy near 0.5
	nullAttack          float64 // its expected value for identical distributions (NaN unless members == non-members)

	testRows int     // rows the test accuracies are computed on
	majority float64 // accuracy of always predicting the most frequent test class
	majLabel string  // that class's label (data)
}

// modelRow is one evaluated model; rows lists them, in the report's order: full,
// retrain, then each pruned fraction.
type modelRow struct {
	name      string // Markdown: "full", "retrain", "pruned f = 0.1"
	short     string // plain text for figures: "full", "retrain", "0.1"
	pruned    *results.Pruned
	acc       float64 // test accuracy
	beforeFT  float64 // accuracy before fine-tuning (NaN if not pruned)
	mia, conf results.MIA
	seconds   float64 // train seconds (full, retrain) or deletion seconds (pruned)
	best      bool
	isRetrain bool
}

func analyse(res *results.Results, sum results.Summary) *analysis {
	a := &analysis{res: res, summary: sum, bestIdx: -1}
	for i, p := range res.Models.Pruned {
		if p.Fraction == res.Best.Fraction {
			a.bestIdx = i
			break
		}
	}
	m := res.Models.Full.MIA
	a.members, a.nonMembers = m.Members, m.NonMembers
	a.seAttack, a.nullAttack = math.NaN(), math.NaN()
	if n := m.Members + m.NonMembers; n > 0 {
		// Binomial standard error of an accuracy near 0.5 over n rows.
		a.seAttack = math.Sqrt(0.25 / float64(n))
	}
	if m.Members == m.NonMembers && m.Members > 0 {
		// With equal groups, best accuracy = 0.5 + max_t(TPR − FPR)/2 and
		// max_t(TPR − FPR) is the one-sided two-sample Kolmogorov–Smirnov
		// statistic D⁺. Under H0, √(mn/(m+n))·D⁺ → sup of a Brownian bridge,
		// whose mean is √(π/2)/2. So E[acc] ≈ 0.5 + √(π/2)/4 · √((m+n)/(mn)).
		mm, nn := float64(m.Members), float64(m.NonMembers)
		a.nullAttack = 0.5 + math.Sqrt(math.Pi/2)/4*math.Sqrt((mm+nn)/(mm*nn))
	}
	a.testRows = res.Dataset.Test
	total, most := 0, -1
	for i, c := range res.Models.Full.Classes {
		total += c.Support
		if most < 0 || c.Support > res.Models.Full.Classes[most].Support {
			most = i
		}
	}
	if a.testRows == 0 {
		a.testRows = total
	}
	a.majority = math.NaN()
	if most >= 0 && total > 0 {
		a.majority = float64(res.Models.Full.Classes[most].Support) / float64(total)
		a.majLabel = res.Models.Full.Classes[most].Label
	}
	return a
}

// best returns the best pruned model, or nil.
func (a *analysis) best() *results.Pruned {
	if a.bestIdx < 0 {
		return nil
	}
	return &a.res.Models.Pruned[a.bestIdx]
}

func (a *analysis) rows() []modelRow {
	r := a.res
	out := []modelRow{
		{name: "full", short: "full", acc: r.Models.Full.TestAccuracy, beforeFT: math.NaN(),
			mia: r.Models.Full.MIA, conf: r.Models.Full.MIAConfidence, seconds: r.Models.Full.TrainSeconds},
		{name: "retrain", short: "retrain", acc: r.Models.Retrain.TestAccuracy, beforeFT: math.NaN(),
			mia: r.Models.Retrain.MIA, conf: r.Models.Retrain.MIAConfidence, seconds: r.Models.Retrain.TrainSeconds, isRetrain: true},
	}
	for i := range r.Models.Pruned {
		p := &r.Models.Pruned[i]
		out = append(out, modelRow{
			name: "pruned f = " + frac(p.Fraction), short: frac(p.Fraction), pruned: p,
			acc: p.TestAccuracy, beforeFT: p.AccuracyBeforeFinetune, mia: p.MIA, conf: p.MIAConfidence,
			seconds: p.DeletionSeconds, best: i == a.bestIdx,
		})
	}
	return out
}

// accSE is the binomial standard error of an accuracy p on n rows.
func accSE(p float64, n int) float64 {
	if n <= 0 {
		return math.NaN()
	}
	return math.Sqrt(p * (1 - p) / float64(n))
}

// gapSE is the standard error of the difference of two accuracies on n rows
// each, treating them as independent (conservative: both models are scored
// on the same rows, which makes the true error of the difference smaller).
func gapSE(p, q float64, n int) float64 {
	return math.Hypot(accSE(p, n), accSE(q, n))
}

// contains reports whether the interval holds x.
func contains(iv [2]float64, x float64) bool { return iv[0] <= x && x <= iv[1] }

// overlap reports whether two intervals share a point.
func overlap(a, b [2]float64) bool { return a[0] <= b[1] && b[0] <= a[1] }

// chance describes an AUC interval relative to 0.5.
func chance(iv [2]float64) string {
	switch {
	case contains(iv, 0.5):
		return "contains 0.5"
	case iv[1] < 0.5:
		return "below 0.5"
	}
	return "above 0.5"
}

// join joins items as "a, b and c".
func join(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// span formats the range of xs as "lo–hi" (or one value when all are equal).
func span(xs []float64, format func(float64) string) string {
	if len(xs) == 0 {
		return "n/a"
	}
	lo, hi := slices.Min(xs), slices.Max(xs)
	if format(lo) == format(hi) {
		return format(lo)
	}
	return format(lo) + "–" + format(hi)
}
