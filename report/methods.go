package report

import (
	"fmt"
	"math"
)

// methods writes section 7: the definitions behind every number, with
// formulas and sources. The sources are those of the project's notes on
// evaluation (docs/methods.md).
func (a *analysis) methods(m *md) {
	r := a.res
	c := r.Config
	m.h(2, "7. Method notes")

	m.h(3, "7.1 Fisher information")
	m.p("For parameters θ and the n deletion rows (xₖ, yₖ), both kinds are means over rows of per-example squared gradients of the log-likelihood:")
	m.block(
		"empirical:  F̂ᵢ = (1/n) Σₖ ( ∂ log p(yₖ | xₖ) / ∂θᵢ )²",
		"true:       Fᵢ = (1/n) Σₖ Σ_c p(c | xₖ) · ( ∂ log p(c | xₖ) / ∂θᵢ )²",
	)
	m.p(fmt.Sprintf("The empirical Fisher uses the true labels (the seed's choice); the true Fisher takes the expectation under the model's own predictive distribution and is the one that equals the Fisher information (Kunstner et al., NeurIPS 2019). This run prunes with the %s one. A mean of per-example squares is not the square of a batch-mean gradient, which differs by the variance of the per-example gradients over the batch size.",
		text(r.Fisher.Kind)))

	m.h(3, "7.2 Pruning rule")
	n := 0
	if len(r.Models.Pruned) > 0 {
		n = r.Models.Pruned[0].TotalParams
	}
	m.p("Of all N parameters, ranked together across tensors by Fisher score, the k with the highest scores are set to zero, ties broken by position (earlier first):")
	lines := []string{"k = round(f · N)   (half away from zero)"}
	for _, p := range r.Models.Pruned {
		lines = append(lines, fmt.Sprintf("f = %s:  k = round(%s · %d) = %d", frac(p.Fraction), frac(p.Fraction), n, int(math.Round(p.Fraction*float64(n)))))
	}
	m.block(lines...)
	m.p(fmt.Sprintf("The seed instead prunes every score above t = numpy.percentile(scores, 100 · (1 − f)) with linear interpolation, which can prune one more or fewer than k and, with tied scores (e.g. the exact zeros), fewer; §5.1 shows its count where it differs. After pruning, each model is fine-tuned on the retained rows (%s) with the mask re-applied after every step, so pruned weights stay zero.",
		recipe(c.FineTune)))

	m.h(3, "7.3 Membership-inference attack")
	m.p(fmt.Sprintf("Members: the %d deletion rows; non-members: %d rows drawn at random from the test split. Scores: loss s = −ℓ(x, y) = log p(y | x) (the seed's) and confidence s = p(y | x); a higher score means \"member\". The seed's attack:",
		a.members, a.nonMembers))
	m.block(
		"tⱼ = min s + j · (max s − min s) / 99,   j = 0 … 99",
		"acc = maxⱼ [ #{members: s > tⱼ} + #{non-members: s ≤ tⱼ} ] / (m + n)",
	)
	m.p(fmt.Sprintf("The threshold is chosen on the same rows the accuracy is computed on, so the accuracy is biased upward; with m = %d members and n = %d non-members its standard error near 0.5 is √(0.25 / %d) ≈ %s. With m = n, acc = 0.5 + maxⱼ(TPR − FPR)/2, and max(TPR − FPR) is the one-sided two-sample Kolmogorov–Smirnov statistic D⁺; when members and non-members come from one distribution, √(mn/(m+n)) · D⁺ tends to the maximum of a Brownian bridge, whose mean is √(π/2)/2. Hence the expected accuracy with no signal at all:", a.members, a.nonMembers, a.members+a.nonMembers, fixed(a.seAttack, 3)))
	m.block("E[acc] ≈ 0.5 + (√(π/2) / 4) · √((m + n) / (m n))")
	if !math.IsNaN(a.nullAttack) {
		m.p(fmt.Sprintf("For m = %d and n = %d this is %s (an asymptotic value; the seed's 100-point grid lowers it a little).", a.members, a.nonMembers, fixed(a.nullAttack, 3)))
	}
	m.p(fmt.Sprintf("AUC is the area under the ROC over every distinct score, which equals P(s_member > s_non-member) + ½ P(equal) (Mann–Whitney); its 95 %% interval is the 2.5th and 97.5th percentiles over %s bootstrap resamples of both groups. The advantage is maxₜ |TPR − FPR| over all thresholds, in either direction. These are population attacks as in TensorFlow Privacy's membership_inference_attack and ML Privacy Meter. They measure one model at a time; the tests to trust for unlearning are per-example likelihood-ratio attacks over shadow models, LiRA (Carlini et al., IEEE S&P 2022) and its unlearning form U-LiRA (Hayes et al., SaTML 2025), which compare unlearned models with retrained ones example by example.",
		count(c.Bootstrap)))

	m.h(3, "7.4 Combined score and selection")
	w := c.Selection
	m.block(
		"utility  = 1 − |acc − acc_retrain| / acc_retrain",
		"privacy  = 1 − MIA accuracy",
		fmt.Sprintf("combined = %s · utility + %s · privacy", frac(w.UtilityWeight), frac(w.PrivacyWeight)),
	)
	m.p(fmt.Sprintf("The best fraction is the arg-max of combined. Two properties follow from the definition: privacy rewards a lower attack accuracy even below the retrained model's, although an unlearned model should match the retrained model rather than beat it; and the privacy term inherits the attack's noise, %s × %s ≈ %s per model.",
		frac(w.PrivacyWeight), fixed(a.seAttack, 3), fixed(w.PrivacyWeight*a.seAttack, 4)))

	m.h(3, "7.5 Accuracy and timing")
	m.p("Accuracy intervals are binomial: SE = √(p(1 − p)/N) on the N test rows; for a gap between two models the two errors are added in quadrature, which overstates it (both models are scored on the same rows). A difference within 2 SE is reported as not distinguishable from noise. Times are wall-clock seconds; speed-up = retrain seconds / deletion seconds.")

	m.h(3, "7.6 Sources")
	m.bullets(
		"The seed notebook's protocol: docs/protocol.md. The deletion methods, the attacks and how verdicts are judged: docs/methods.md.",
		"F. Kunstner et al. Limitations of the empirical Fisher approximation for natural gradient descent. NeurIPS 2019.",
		"N. Carlini et al. Membership inference attacks from first principles. IEEE S&P 2022.",
		"J. Hayes et al. Inexact unlearning needs more careful evaluations to avoid a false sense of privacy. SaTML 2025.",
		"R. Kohavi. Scaling up the accuracy of naive-Bayes classifiers: a decision-tree hybrid. KDD 1996 (UCI Adult; C4.5 84.46 %, NBTree 85.90 %).",
	)
}
