// Package selection scores pruned models the way the seed notebook does and
// picks the best pruning fraction.
//
// Entry points: [Score] computes utility, privacy and their weighted sum for
// one model; [Best] returns the arg-max over candidates.
//
// The seed's definitions (notebook cell 12):
//
//	utility  = 1 − |acc − accRetrain| / accRetrain
//	privacy  = 1 − MIA accuracy
//	combined = UtilityWeight·utility + PrivacyWeight·privacy  (0.7, 0.3)
//
// Accuracies are fractions in [0, 1]; accRetrain must be positive (0 gives
// ±Inf or NaN, which Best never selects). The scores inherit the noise of
// their inputs: with 100 vs 100 MIA rows the privacy term moves by about
// 0.035 between identical models, more than the utility differences it is
// compared with.
package selection
