// Package numpyq computes quantiles exactly as numpy does, for the places
// where fimprune must reproduce a number of the seed notebook (the pruning
// threshold) or report one as numpy users would compute it (bootstrap
// percentiles).
package numpyq

import "math"

// Percentile is numpy.percentile(sorted, q) with method="linear" (numpy ≥
// 1.22, functions _quantile and _lerp), step for step so that the result
// matches to the last bit: the virtual index is (n−1)·(q/100), and the value
// is interpolated between its floor and ceiling neighbours, from the upper
// neighbour when the weight is ≥ 0.5. The float64 conversions stop the
// compiler fusing multiply-adds, which numpy does not do. sorted must be in
// ascending order and non-empty; q is in [0, 100].
func Percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	vi := float64(n-1) * (q / 100)
	if vi >= float64(n-1) {
		return sorted[n-1]
	}
	if vi <= 0 {
		return sorted[0]
	}
	lo := math.Floor(vi)
	t := vi - lo
	a, b := sorted[int(lo)], sorted[int(lo)+1]
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}
