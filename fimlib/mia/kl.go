package mia

import (
	"fmt"
	"math"
)

// MeanKL is the mean over rows of KL(p ‖ q) = Σ_c p_c log(p_c/q_c) between
// two models' predictive distributions, row-major [rows, classes]
// probabilities: p the method's model, q the retrained one for
// KL(p_method ‖ p_retrain). Each probability is floored at MinProb and
// each row renormalised before the sum, so that a class one model rounds
// to 0 gives a large finite term instead of +Inf and float32 rows that do
// not sum to exactly 1 cannot make the divergence negative; identical
// inputs give exactly 0. NaN, infinite or negative probabilities, lengths
// that differ or do not split into classes ≥ 1 columns, and no rows are
// errors.
func MeanKL[F ~float32 | ~float64](p, q []F, classes int) (float64, error) {
	return meanKL(p, q, classes, func(v float64) (float64, bool) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return 0, false
		}
		return math.Log(math.Max(v, MinProb)), true
	})
}

// MeanKLFromLogProbs is MeanKL for log-probabilities, as
// train.Evaluator.LogProbabilities returns them: each is floored at
// log MinProb and each row renormalised in log space. −Inf is allowed;
// NaN and +Inf are errors.
func MeanKLFromLogProbs[F ~float32 | ~float64](logP, logQ []F, classes int) (float64, error) {
	return meanKL(logP, logQ, classes, func(v float64) (float64, bool) {
		if math.IsNaN(v) || math.IsInf(v, 1) {
			return 0, false
		}
		return math.Max(v, logMinProb), true
	})
}

// meanKL does the work: toLog maps an input value to its floored log, or
// reports it invalid.
func meanKL[F ~float32 | ~float64](p, q []F, classes int, toLog func(float64) (float64, bool)) (float64, error) {
	if len(p) != len(q) {
		return 0, fmt.Errorf("%w: %d and %d values", ErrShape, len(p), len(q))
	}
	if classes < 1 || len(p) == 0 || len(p)%classes != 0 {
		return 0, fmt.Errorf("%w: %d values do not split into rows of %d classes", ErrShape, len(p), classes)
	}
	rows := len(p) / classes
	lp, lq := make([]float64, classes), make([]float64, classes)
	var sum float64
	for i := range rows {
		for c := range classes {
			var ok1, ok2 bool
			lp[c], ok1 = toLog(float64(p[i*classes+c]))
			lq[c], ok2 = toLog(float64(q[i*classes+c]))
			if !ok1 || !ok2 {
				return 0, fmt.Errorf("%w: row %d, class %d: %v, %v", ErrNonFinite, i, c, p[i*classes+c], q[i*classes+c])
			}
		}
		normalize(lp)
		normalize(lq)
		var kl float64
		for c := range classes {
			kl += math.Exp(lp[c]) * (lp[c] - lq[c])
		}
		sum += kl
	}
	return sum / float64(rows), nil
}

// normalize subtracts the log-sum-exp of the finite log-probabilities l.
func normalize(l []float64) {
	z := math.Inf(-1)
	for _, v := range l {
		z = logAddExp(z, v)
	}
	for c := range l {
		l[c] -= z
	}
}
