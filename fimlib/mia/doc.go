// Package mia runs population membership-inference attacks on per-example
// scores.
//
// Entry points:
//
//   - [Attack] reports, for one model, the seed notebook's best-threshold
//     accuracy, ROC AUC with a bootstrap 95 % interval, and the attacker
//     advantage max |TPR − FPR|.
//   - [SeedBestThresholdAccuracy] is the seed's attack alone, step for step.
//   - [AUC] is the ROC AUC alone.
//   - [LossScores] and [ConfidenceScores] turn the model's probability of
//     the true class into scores; [SampleNonMembers] draws the non-member rows.
//
// Conventions: a HIGHER score means "more likely a member" (so the loss
// attack uses −loss = log p). Scores must be finite and both sides non-empty;
// otherwise the functions return an error. Randomness comes from a
// math/rand/v2 PCG generator seeded by the caller, so results are
// reproducible for a given seed and Go release; they cannot match numpy's
// random streams. Percentiles follow numpy.percentile's default "linear"
// rule, so the intervals equal np.percentile(aucs, [2.5, 97.5]).
//
// The ROC is gonum's [stat.ROC] over every distinct score, integrated with
// [integrate.Trapezoidal]; tied scores therefore count one half, as in the
// Mann–Whitney U statistic, and all-equal scores give AUC 0.5.
//
// With 100 members and 100 non-members the seed's accuracy has a standard
// error near 0.035 and, because its threshold is chosen on the rows it is
// scored on, is biased upward: report the AUC interval next to it.
package mia
