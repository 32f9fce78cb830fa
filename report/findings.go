package report

import (
	"fmt"
	"math"
	"strings"
)

// findings writes section 6. Every statement is computed from the numbers
// and its wording depends on them; nothing here is a fixed verdict.
func (a *analysis) findings(m *md) {
	r := a.res
	pr := r.Models.Pruned
	m.h(2, "6. Key findings")
	var items []string

	// Accuracy: full vs retrain, pruned vs retrain.
	accR, accF := r.Models.Retrain.TestAccuracy, r.Models.Full.TestAccuracy
	if a.testRows > 0 {
		d, se := accF-accR, gapSE(accF, accR, a.testRows)
		s := fmt.Sprintf("**Full vs retrain.** Test accuracy differs by %s points (full %s, retrain %s; standard error of the gap ≈ %s points on %s test rows): %s.",
			signed(100*d, 2), fixed(accF, 4), fixed(accR, 4), fixed(100*se, 2), count(a.testRows), noiseWord(d, se))
		if math.Abs(d) <= 2*se {
			s += " Test accuracy therefore cannot show whether a model still reflects the deletion rows."
		}
		items = append(items, s)
	}
	if len(pr) > 0 && a.testRows > 0 {
		var gaps, within, beyond []string
		for _, p := range pr {
			d, se := p.TestAccuracy-accR, gapSE(p.TestAccuracy, accR, a.testRows)
			gaps = append(gaps, fmt.Sprintf("f = %s: %s", frac(p.Fraction), signed(100*d, 2)))
			if math.Abs(d) <= 2*se {
				within = append(within, frac(p.Fraction))
			} else {
				beyond = append(beyond, frac(p.Fraction))
			}
		}
		s := fmt.Sprintf("**Accuracy after pruning and fine-tuning**, in points against the retrained model: %s.", strings.Join(gaps, "; "))
		if len(within) > 0 {
			s += fmt.Sprintf(" Within 2 standard errors (not distinguishable from noise): f = %s.", join(within))
		}
		if len(beyond) > 0 {
			s += fmt.Sprintf(" Beyond 2 standard errors: f = %s.", join(beyond))
		}
		items = append(items, s)
	}
	if t := a.tiedSentence(); t != "" {
		items = append(items, t)
	}
	if len(pr) > 0 && !math.IsNaN(a.majority) {
		before := make([]float64, len(pr))
		var atMajority []string
		for i, p := range pr {
			before[i] = p.AccuracyBeforeFinetune
			if p.AccuracyBeforeFinetune <= a.majority+2*accSE(a.majority, a.testRows) {
				atMajority = append(atMajority, frac(p.Fraction))
			}
		}
		s := fmt.Sprintf("**Pruning before fine-tuning** leaves a test accuracy of %s (always predicting %s: %s); fine-tuning brings it back to %s.",
			span(before, func(x float64) string { return fixed(x, 4) }), text(a.majLabel), fixed(a.majority, 4), span(accs(a), func(x float64) string { return fixed(x, 4) }))
		if len(atMajority) > 0 {
			s += fmt.Sprintf(" At f = %s the pruned network is no better than the majority class (within 2 SE), so fine-tuning, not the pruned weights, carries the final model.", join(atMajority))
		}
		items = append(items, s)
	}

	// The seed's attack and its noise.
	if !math.IsNaN(a.seAttack) {
		var obs []float64
		for _, row := range a.rows() {
			obs = append(obs, row.mia.BestThresholdAccuracy)
		}
		s := fmt.Sprintf("**The seed's attack accuracy** ranges over %s across all models; its standard error with %d + %d rows is about %s, so differences below about %s are noise.",
			span(obs, func(x float64) string { return fixed(x, 3) }), a.members, a.nonMembers, fixed(a.seAttack, 3), fixed(2*a.seAttack, 3))
		if !math.IsNaN(a.nullAttack) {
			var near []string
			for _, row := range a.rows() {
				if math.Abs(row.mia.BestThresholdAccuracy-a.nullAttack) <= 2*a.seAttack {
					near = append(near, row.short)
				}
			}
			s += fmt.Sprintf(" With no signal at all its expected value is about %s (the threshold is chosen on the scored rows); within 2 SE of that: %s (%d of %d models).", fixed(a.nullAttack, 3), describeModels(near), len(near), len(a.rows()))
		}
		items = append(items, s)
	}

	// AUC against chance and against the retrained model.
	var inside, below, above []string
	for _, row := range a.rows() {
		iv := row.mia.AUCCI95
		label := describeModels([]string{row.short}) + " " + ci(iv, 3)
		switch {
		case contains(iv, 0.5):
			inside = append(inside, label)
		case iv[1] < 0.5:
			below = append(below, label)
		default:
			above = append(above, label)
		}
	}
	s := "**Loss-attack AUC against chance.**"
	if len(inside) > 0 {
		s += fmt.Sprintf(" Intervals containing 0.5, not distinguishable from noise: %s.", join(inside))
	}
	if len(above) > 0 {
		s += fmt.Sprintf(" Above 0.5 (members score higher): %s.", join(above))
	}
	if len(below) > 0 {
		s += fmt.Sprintf(" Below 0.5 (members score lower than non-members, a signal the seed's one-sided threshold cannot use): %s.", join(below))
	}
	items = append(items, s)

	retrainCI := r.Models.Retrain.MIA.AUCCI95
	if !contains(retrainCI, 0.5) {
		items = append(items, fmt.Sprintf("**The retrained model is not at chance.** It never saw the deletion rows, yet its AUC interval %s excludes 0.5: the attack separates the deletion rows from the sampled test rows by something other than membership (e.g. how hard the rows are to classify). The reference for forgetting is therefore the retrained model's value, not 0.5 (Hayes et al., SaTML 2025).",
			ci(retrainCI, 3)))
	}
	var same, differ []string
	for _, row := range a.rows() {
		if row.isRetrain {
			continue
		}
		if overlap(row.mia.AUCCI95, retrainCI) {
			same = append(same, row.short)
		} else {
			differ = append(differ, row.short)
		}
	}
	s = "**Against the retrained model** (AUC intervals):"
	if len(same) > 0 {
		s += fmt.Sprintf(" overlapping, so the attack does not tell them apart at this sample size: %s.", describeModels(same))
	}
	if len(differ) > 0 {
		s += fmt.Sprintf(" Disjoint, so their scores on the deletion rows differ from the gold standard's: %s.", describeModels(differ))
	}
	if overlap(r.Models.Full.MIA.AUCCI95, retrainCI) {
		s += " Because even the full model, which trained on the deletion rows, is not distinguishable from the retrained one, this attack cannot certify forgetting in either direction."
	}
	items = append(items, s)

	// Selection.
	if len(pr) > 1 && a.best() != nil && !math.IsNaN(a.seAttack) {
		items = append(items, "**Selection.** "+a.selectionNoise())
	}

	// Cost.
	if b := a.best(); b != nil {
		sp := make([]float64, len(pr))
		for i, p := range pr {
			sp[i] = ratioOf(r.Models.Retrain.TrainSeconds, p.DeletionSeconds)
		}
		s := fmt.Sprintf("**Cost.** Deletion against retraining: %s at the best fraction (%s s vs %s s, %s); %s over all fractions.",
			times(sp[a.bestIdx]), secs(b.DeletionSeconds), secs(r.Models.Retrain.TrainSeconds), speedWord(sp[a.bestIdx]), span(sp, times))
		if ft, re := r.Config.FineTune.MaxEpochs, r.Models.Retrain.Epochs; ft > 0 && re > 0 {
			s += fmt.Sprintf(" Fine-tuning alone runs %d epochs over the retained rows, retraining stopped after %d.", ft, re)
		}
		if r.Config.Parallel > 1 {
			s += fmt.Sprintf(" (Times measured with %d models sharing the machine.)", r.Config.Parallel)
		}
		items = append(items, s)
	}

	// Layers.
	if len(pr) > 0 {
		var heavy, whole []string
		for li, l := range pr[0].Layers {
			shares := make([]float64, 0, len(pr))
			all := true
			for _, p := range pr {
				if li >= len(p.Layers) || p.Layers[li].Name != l.Name || p.Layers[li].Total == 0 {
					all = false
					break
				}
				c := p.Layers[li]
				shares = append(shares, float64(c.Pruned)/float64(c.Total))
			}
			if !all {
				continue
			}
			minShare := shares[0]
			for _, x := range shares {
				minShare = min(minShare, x)
			}
			switch {
			case minShare == 1:
				whole = append(whole, code(l.Name))
			case minShare >= 0.5:
				heavy = append(heavy, fmt.Sprintf("%s (%s)", code(l.Name), span(shares, func(x float64) string { return pct(x, 0) })))
			}
		}
		if len(whole)+len(heavy) > 0 {
			s := "**Where pruning lands.**"
			if len(whole) > 0 {
				s += fmt.Sprintf(" Removed entirely at every fraction: %s.", join(whole))
			}
			if len(heavy) > 0 {
				s += fmt.Sprintf(" More than half removed at every fraction: %s.", join(heavy))
			}
			s += " Importance on the deletion rows alone also ranks high the parameters that matter for every row; a ratio of deletion-row to retained-row Fisher would select what is specific to the deletion rows (the selection rule of SSD, Foster et al., AAAI 2024; docs/methods.md)."
			items = append(items, s)
		}
		var diffs []string
		for _, p := range pr {
			if p.SeedRulePrunedParams != p.PrunedParams {
				diffs = append(diffs, fmt.Sprintf("f = %s: %s instead of %s", frac(p.Fraction), count(p.SeedRulePrunedParams), count(p.PrunedParams)))
			}
		}
		if len(diffs) > 0 {
			items = append(items, fmt.Sprintf("**The seed's percentile rule** would prune a different number of parameters than round(f · N): %s.", strings.Join(diffs, "; ")))
		}
	}

	// Fisher.
	f := r.Fisher
	if f.Summary.Count > 0 {
		s := fmt.Sprintf("**Fisher scores.** %s of %s parameters (%s) have a score of exactly 0 over the deletion rows; the top 1 %% of scores start at %s, %s× the median.",
			count(f.Summary.Zeros), count(f.Summary.Count), pct(float64(f.Summary.Zeros)/float64(f.Summary.Count), 1), sci(f.Summary.P99), fixed(ratioOf(f.Summary.P99, f.Summary.Median), 0))
		if o := f.Other; o != nil && len(o.TopOverlap) > 0 {
			s += fmt.Sprintf(" The %s and %s Fisher have Spearman correlation %s and agree on %s of the pruned parameters across fractions, so the choice of Fisher changes %s of the pruned set.",
				text(f.Kind), text(o.Kind), fixed(o.SpearmanWithUsed, 3), span(o.TopOverlap, func(x float64) string { return pct(x, 1) }), span(complement(o.TopOverlap), func(x float64) string { return pct(x, 1) }))
		}
		items = append(items, s)
	}
	m.bullets(items...)
}

// accs returns the pruned models' test accuracies.
func accs(a *analysis) []float64 {
	out := make([]float64, len(a.res.Models.Pruned))
	for i, p := range a.res.Models.Pruned {
		out[i] = p.TestAccuracy
	}
	return out
}

func complement(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = 1 - x
	}
	return out
}

// describeModels names models by their short names ("full", "retrain", or a
// fraction), as "none" when empty.
func describeModels(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, n := range names {
		if n == "full" || n == "retrain" {
			out[i] = n
		} else {
			out[i] = "f = " + n
		}
	}
	return join(out)
}
