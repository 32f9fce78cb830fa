// Package prune turns per-parameter scores into pruning masks and applies
// them to weights.
//
// Entry points:
//
//   - [Global] prunes exactly round(fraction·N) parameters with the highest
//     scores, ranked across all tensors together (the rule to use).
//   - [SeedThreshold] reproduces the seed notebook's rule: prune scores above
//     numpy.percentile(scores, 100·(1−fraction)); with ties it may prune fewer.
//   - [Random] and [Magnitude] build control masks with the same count rule
//     as Global.
//   - [Apply] zeroes the pruned entries of weights in place.
//
// Conventions: a [Tensor] holds one named parameter tensor flattened in
// row-major order; len(Values) must equal the product of Shape (an empty
// Shape is a scalar). A [Mask] keeps, per tensor, float32 factors that are 1
// for kept and 0 for pruned entries, so a training loop can multiply weights
// or gradients by it directly. N is the total number of entries over all
// tensors and the number pruned is round(fraction·N) with [math.Round] (half
// away from zero). fraction must lie in [0, 1]; NaN scores or weights are
// errors because they cannot be ranked. Ties are broken by the global flat
// index (tensors in the given order, then row-major): of equal scores, the
// lower index is pruned first, so masks are deterministic.
//
// Functions return errors rather than panic; on error, nothing was modified.
package prune
