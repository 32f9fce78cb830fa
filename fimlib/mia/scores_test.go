package mia

import (
	"errors"
	"math"
	"testing"
)

// TestScoresHand checks every kind against values computed by hand (Python
// math.log) on two three-class rows and a two-class row with p_y = 0.
func TestScoresHand(t *testing.T) {
	probs := []float64{
		0.7, 0.2, 0.1, // y = 0
		0.1, 0.3, 0.6, // y = 2
	}
	labels := []int32{0, 2}
	want := map[ScoreKind][]float64{
		// ln 0.7 = −0.35667494393873245; ln 0.6.
		NegLoss:    {-0.35667494393873245, math.Log(0.6)},
		Confidence: {0.7, 0.6},
		// 0.7 ln 0.7 + 0.2 ln 0.2 + 0.1 ln 0.1 = −0.8018185525433372 (the
		// second row is a permutation of the same numbers but 0.3, 0.6).
		NegEntropy: {-0.8018185525433372, 0.1*math.Log(0.1) + 0.3*math.Log(0.3) + 0.6*math.Log(0.6)},
		// ln(0.7/0.3) = ln(7/3) = 0.8472978603872037; ln(0.6/0.4).
		LogitConfidence: {0.8472978603872037, math.Log(1.5)},
	}
	logProbs := make([]float64, len(probs))
	for i, p := range probs {
		logProbs[i] = math.Log(p)
	}
	for kind, w := range want {
		got, err := ScoresFromProbs(kind, probs, labels)
		if err != nil {
			t.Fatal(err)
		}
		gotLog, err := ScoresFromLogProbs(kind, logProbs, labels)
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if math.Abs(got[i]-w[i]) > 1e-12 {
				t.Errorf("%v from probabilities, row %d: %v, want %v", kind, i, got[i], w[i])
			}
			if math.Abs(gotLog[i]-w[i]) > 1e-12 {
				t.Errorf("%v from log-probabilities, row %d: %v, want %v", kind, i, gotLog[i], w[i])
			}
		}
	}

	// p_y = 0: the loss is floored at MinProb, the entropy term 1·ln 1 = 0,
	// and the logit confidence is ln(1e-45) − ln(1 + 1e-45) = −103.6163…
	zero := []float64{0, 1}
	for kind, w := range map[ScoreKind]float64{NegLoss: math.Log(MinProb), Confidence: 0, NegEntropy: 0, LogitConfidence: math.Log(1e-45)} {
		got, err := ScoresFromProbs(kind, zero, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		gotLog, err := ScoresFromLogProbs(kind, []float64{math.Inf(-1), 0}, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got[0]-w) > 1e-9 || math.Abs(gotLog[0]-w) > 1e-9 {
			t.Errorf("%v with p_y = 0: %v / %v, want %v", kind, got[0], gotLog[0], w)
		}
	}
}

// TestLogitConfidenceStable: where a float32 p_y rounds to 1,
// log p_y − log(1 − p_y) computed naively is +Inf; working from the
// log-probabilities, or summing the other classes, keeps it exact.
func TestLogitConfidenceStable(t *testing.T) {
	// Log-softmax of float32 logits (30, 0): log p_0 = −log(1 + e^−30),
	// log p_1 = −30 − log(1 + e^−30); the margin is exactly 30.
	lse := math.Log1p(math.Exp(-30))
	lp := []float32{float32(-lse), float32(-30 - lse)}
	// As train.Evaluator.Probabilities computes it, p_0 is exactly 1.
	if p0 := float32(math.Exp(float64(lp[0]))); p0 != 1 {
		t.Fatalf("test premise: float32 p_0 should round to 1, got %v", p0)
	}
	got, err := ScoresFromLogProbs(LogitConfidence, lp, []int32{0})
	if err != nil {
		t.Fatal(err)
	}
	// float32 rounds −30 − lse by half an ulp of 30 (≈ 1e-6).
	if math.Abs(got[0]-30) > 2e-6 {
		t.Errorf("from log-probabilities: %v, want 30", got[0])
	}
	p := []float32{1, float32(math.Exp(-30 - lse))}
	got, err = ScoresFromProbs(LogitConfidence, p, []int32{0})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got[0]-30) > 1e-6 {
		t.Errorf("from probabilities: %v, want 30", got[0])
	}
	// Label 1: the negative margin.
	got, _ = ScoresFromLogProbs(LogitConfidence, lp, []int32{1})
	if math.Abs(got[0]+30) > 2e-6 {
		t.Errorf("label 1: %v, want −30", got[0])
	}
}

// TestNegLossMatchesLossScores: the kind and the older helper agree.
func TestNegLossMatchesLossScores(t *testing.T) {
	probs := []float64{0.9, 0.1, 0.25, 0.75, 1, 0}
	labels := []int32{0, 0, 1}
	got, err := ScoresFromProbs(NegLoss, probs, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := LossScores([]float64{0.9, 0.25, 0})
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %v, LossScores %v", i, got[i], want[i])
		}
	}
}

func TestScoresErrors(t *testing.T) {
	for i, tc := range []struct {
		kind   ScoreKind
		probs  []float64
		labels []int32
		want   error
	}{
		0: {NegLoss, []float64{0.5, 0.5, 1}, []int32{0, 1}, ErrShape}, // 3 values, 2 rows
		1: {NegLoss, []float64{0.5, 0.5}, []int32{2}, ErrShape},
		2: {NegLoss, []float64{0.5, 0.5}, []int32{-1}, ErrShape},
		3: {NegLoss, []float64{math.NaN(), 0.5}, []int32{0}, ErrNonFinite},
		4: {NegLoss, []float64{-0.1, 1.1}, []int32{0}, ErrNonFinite},
		5: {ScoreKind(9), []float64{0.5, 0.5}, []int32{0}, nil},
		6: {NegLoss, []float64{0.5}, nil, ErrShape},
	} {
		_, err := ScoresFromProbs(tc.kind, tc.probs, tc.labels)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
	if _, err := ScoresFromLogProbs(NegLoss, []float64{math.Inf(1), 0}, []int32{0}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("+Inf log-probability: %v", err)
	}
	if s, err := ScoresFromLogProbs(NegLoss, []float32{}, nil); err != nil || len(s) != 0 {
		t.Errorf("no rows: %v, %v", s, err)
	}
	if LogitConfidence.String() != "logit-confidence" || ScoreKind(9).String() != "ScoreKind(9)" {
		t.Error("ScoreKind.String")
	}
}
