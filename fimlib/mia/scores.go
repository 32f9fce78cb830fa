package mia

import (
	"errors"
	"fmt"
	"math"
)

// ErrShape is returned (wrapped) when slice lengths disagree or a label is
// not a class.
var ErrShape = errors.New("mia: shape mismatch")

// ScoreKind names a per-example attack score computed from a model's class
// probabilities and the true label y. Every kind is oriented so that a
// HIGHER score means "more likely a member", the package's convention.
type ScoreKind int

const (
	// NegLoss is −cross-entropy, log max(p_y, MinProb), as LossScores: a
	// lower loss scores higher.
	NegLoss ScoreKind = iota
	// Confidence is p_y, the probability of the true class.
	Confidence
	// NegEntropy is −H(p) = Σ_c p_c log p_c, which ignores the label: a
	// peakier prediction scores higher (terms with p_c = 0 count 0).
	NegEntropy
	// LogitConfidence is the logit-scaled confidence of LiRA (Carlini et
	// al., IEEE S&P 2022) and of the NeurIPS 2023 unlearning challenge:
	// log(p_y + 1e-45) − log(Σ_{c≠y} p_c + 1e-45). The second term sums the
	// other classes instead of computing 1 − p_y, so it stays exact when
	// p_y rounds to 1; the 1e-45 (metric.py's constant) bounds it to about
	// ±103.6. For two classes it is the logit margin.
	LogitConfidence
)

// logitFloor is ln(1e-45), the log of metric.py's additive guard.
var logitFloor = math.Log(1e-45)

// logMinProb is the log-space floor of NegLoss.
var logMinProb = math.Log(MinProb)

// String returns the kind's name as reports print it.
func (k ScoreKind) String() string {
	switch k {
	case NegLoss:
		return "neg-loss"
	case Confidence:
		return "confidence"
	case NegEntropy:
		return "neg-entropy"
	case LogitConfidence:
		return "logit-confidence"
	}
	return fmt.Sprintf("ScoreKind(%d)", int(k))
}

// ScoresFromLogProbs returns one score per row of row-major [rows, classes]
// log-probabilities, as train.Evaluator.LogProbabilities returns them, with
// rows = len(labels) and classes = len(logProbs)/rows. Log-probabilities
// are the better input: they keep p_y < 1 distinguishable where a float32
// probability has rounded to 1. −Inf entries (p = 0) are allowed; NaN and
// +Inf are errors, as are lengths that do not divide and labels outside
// [0, classes).
func ScoresFromLogProbs[F ~float32 | ~float64](kind ScoreKind, logProbs []F, labels []int32) ([]float64, error) {
	classes, err := shape(len(logProbs), labels)
	if err != nil {
		return nil, err
	}
	if err := validKind(kind); err != nil {
		return nil, err
	}
	out := make([]float64, len(labels))
	row := make([]float64, classes)
	for i, y := range labels {
		for c := range row {
			v := float64(logProbs[i*classes+c])
			if math.IsNaN(v) || math.IsInf(v, 1) {
				return nil, fmt.Errorf("%w: log-probability %v at row %d, class %d", ErrNonFinite, v, i, c)
			}
			row[c] = v
		}
		out[i] = scoreLog(kind, row, int(y))
	}
	return out, nil
}

// ScoresFromProbs is ScoresFromLogProbs for probabilities, as
// train.Evaluator.Probabilities returns them. NaN, infinite or negative
// probabilities are errors; rows are not renormalised.
func ScoresFromProbs[F ~float32 | ~float64](kind ScoreKind, probs []F, labels []int32) ([]float64, error) {
	classes, err := shape(len(probs), labels)
	if err != nil {
		return nil, err
	}
	if err := validKind(kind); err != nil {
		return nil, err
	}
	out := make([]float64, len(labels))
	row := make([]float64, classes)
	for i, y := range labels {
		for c := range row {
			v := float64(probs[i*classes+c])
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("%w: probability %v at row %d, class %d", ErrNonFinite, v, i, c)
			}
			row[c] = v
		}
		out[i] = scoreProb(kind, row, int(y))
	}
	return out, nil
}

func validKind(kind ScoreKind) error {
	if kind < NegLoss || kind > LogitConfidence {
		return fmt.Errorf("mia: unknown score kind %v", kind)
	}
	return nil
}

// shape checks that n values split into len(labels) rows of at least one
// class and that every label is a class; it returns the class count.
func shape(n int, labels []int32) (int, error) {
	if len(labels) == 0 {
		if n != 0 {
			return 0, fmt.Errorf("%w: %d values for no labels", ErrShape, n)
		}
		return 0, nil
	}
	if n == 0 || n%len(labels) != 0 {
		return 0, fmt.Errorf("%w: %d values do not split into %d rows", ErrShape, n, len(labels))
	}
	classes := n / len(labels)
	for i, y := range labels {
		if y < 0 || int(y) >= classes {
			return 0, fmt.Errorf("%w: label %d at row %d, with %d classes", ErrShape, y, i, classes)
		}
	}
	return classes, nil
}

func scoreLog(kind ScoreKind, lp []float64, y int) float64 {
	switch kind {
	case NegLoss:
		return math.Max(lp[y], logMinProb)
	case Confidence:
		return math.Exp(lp[y])
	case NegEntropy:
		var s float64
		for _, v := range lp {
			if !math.IsInf(v, -1) {
				s += math.Exp(v) * v
			}
		}
		return s
	default: // LogitConfidence
		others := math.Inf(-1)
		for c, v := range lp {
			if c != y {
				others = logAddExp(others, v)
			}
		}
		return logAddExp(lp[y], logitFloor) - logAddExp(others, logitFloor)
	}
}

func scoreProb(kind ScoreKind, p []float64, y int) float64 {
	switch kind {
	case NegLoss:
		return math.Log(math.Max(p[y], MinProb))
	case Confidence:
		return p[y]
	case NegEntropy:
		var s float64
		for _, v := range p {
			if v > 0 {
				s += v * math.Log(v)
			}
		}
		return s
	default: // LogitConfidence
		var others float64
		for c, v := range p {
			if c != y {
				others += v
			}
		}
		return math.Log(p[y]+1e-45) - math.Log(others+1e-45)
	}
}

// logAddExp is log(exp(a) + exp(b)) without overflow; −Inf is the identity.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(a, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}
