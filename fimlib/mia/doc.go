// Package mia runs membership-inference attacks on per-example scores and
// computes the statistics an unlearning evaluation reports. Inputs are
// plain slices; nothing here touches a model.
//
// Entry points, from scores to verdicts:
//
//   - [ScoresFromLogProbs] and [ScoresFromProbs] turn a model's row-major
//     class (log-)probabilities and the labels into per-example scores of
//     a [ScoreKind]: [NegLoss], [Confidence], [NegEntropy] or
//     [LogitConfidence] (log p_y − log Σ_{c≠y} p_c, computed stably).
//     [LossScores] and [ConfidenceScores] do the first two from p_y.
//   - [Summarize] is the population attack on one score, as TensorFlow
//     Privacy's membership_inference_attack and ML Privacy Meter report
//     it: ROC AUC, advantage max |TPR − FPR| and TPR at FPR 1 % and 0.1 %,
//     each with a bootstrap 95 % interval. A TPR at FPR α is reported only
//     when the n non-members resolve it, n·α ≥ 1; otherwise its
//     [TPRAtFPR] has Resolvable false and NaN values.
//   - [Attack] is the seed notebook's report (best-threshold accuracy, AUC
//     with its interval, advantage); [SeedBestThresholdAccuracy] the seed's
//     attack alone and [AUC] the AUC alone.
//   - [LiRA] is the likelihood-ratio attack of Carlini et al. ("Membership
//     inference attacks from first principles", IEEE S&P 2022;
//     tensorflow/privacy research/mi_lira_2021), online or offline, with a
//     global ("fixed") or per-example variance, from K shadow models'
//     scores and IN/OUT flags. [SplitMembers] pairs its statistics with the
//     target's membership for [Summarize].
//   - [RMIA] is the offline robust membership-inference attack of
//     Zarifzadeh, Liu and Shokri ("Low-cost high-power membership
//     inference attacks", ICML 2024): each row's likelihood ratio
//     P(x|θ)/P(x), with P(x) from its OUT references, is compared with
//     those of population rows, and the score is the fraction it beats by
//     a factor γ. [RMIATune] chooses the offline scaling a on the
//     references.
//   - [TieRobust] gives rows whose attacked-model signal is exactly tied
//     (a pruned model's collapsed logits) one common statistic, so that
//     offline LiRA and RMIA cannot rank them by the shadows alone.
//   - [ULiRA] is U-LiRA (Hayes et al., "Inexact unlearning needs more
//     careful evaluations to avoid a false sense of privacy", SaTML 2025):
//     IN shadows trained on x and then unlearned it, OUT shadows never saw
//     it; the result is the attack's balanced accuracy on (unlearned model,
//     x) against (retrained model, x) pairs, 0.5 for a perfect unlearner.
//     [ULiRARotated] judges every unlearned and retrained model once, each
//     against Gaussians fitted on the other models.
//   - [Epsilon] and [ChallengeScore] are the NeurIPS 2023 Machine
//     Unlearning challenge's metric (google-deepmind/unlearning_evaluation,
//     metric.py): per forget example, ε from single- and double-threshold
//     attacks on its statistic under N unlearned and N retrained models;
//     [ForgetScore] buckets the ε values into F and [FinalScore] scales F by
//     the retain- and test-accuracy ratios. [MaxFiniteEpsilon] is the
//     estimator's ceiling, ln(N(1 − δ) − 1) ≈ ln(N − 1): print it next to
//     any ε, which cannot exceed it except as the cap (50).
//     [Challenge.Summary] counts the capped ε apart from the finite ones
//     and takes the median of the finite.
//   - [MeanKL] and [MeanKLFromLogProbs] are the mean KL(p_method ‖
//     p_retrain) between two models' predictive distributions.
//   - [SampleNonMembers] draws the non-member rows.
//
// Conventions: a HIGHER score or statistic means "more likely a member"
// (so the loss attack uses −loss = log p, and the entropy attack −H).
// Scores must be finite and both sides non-empty; otherwise the functions
// return an error ([ErrEmpty], [ErrNonFinite], [ErrShape],
// [ErrTooFewShadows], wrapped). Probability matrices are row-major [rows,
// classes], float32 or float64, as train.Evaluator returns them. Shadow
// matrices follow their references' layouts: LiRA's, RMIA's, the
// challenge's and ULiRARotated's are [models][examples], U-LiRA's are per
// example, [examples][models].
// Configuration structs have a useful zero value: the references' settings.
//
// Randomness comes from a math/rand/v2 PCG generator seeded by the caller,
// so results are reproducible for a given seed and Go release; they cannot
// match numpy's random streams. Bootstrap resamples redraw members and
// non-members separately; Attack and Summarize share one stream, so equal
// seeds give them equal AUC intervals. U-LiRA's interval resamples examples,
// whose pairs share a fitted attack. Percentiles follow numpy.percentile's
// default "linear" rule, so the intervals equal np.percentile(stats, [2.5,
// 97.5]).
//
// The ROC is gonum's [stat.ROC] over every distinct score, integrated with
// [integrate.Trapezoidal]; tied scores therefore count one half, as in the
// Mann–Whitney U statistic, and all-equal scores give AUC 0.5.
//
// With 100 members and 100 non-members the seed's accuracy has a standard
// error near 0.035 and, because its threshold is chosen on the rows it is
// scored on, is biased upward: report the AUC interval next to it. Population
// attacks overstate the protection an unlearning method gives (Hayes et
// al.); report the per-example ones (LiRA, U-LiRA, the challenge's ε) next
// to them.
package mia
