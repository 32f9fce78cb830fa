package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestMeanKL(t *testing.T) {
	// By hand (Python): ½ ln(0.5/0.9) + ½ ln(0.5/0.1) = 0.5108256237659907,
	// and the second row is KL of a distribution with itself, 0.
	p := []float64{0.5, 0.5, 0.2, 0.8}
	q := []float64{0.9, 0.1, 0.2, 0.8}
	got, err := MeanKL(p, q, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.5108256237659907 / 2; math.Abs(got-want) > 1e-12 {
		t.Errorf("MeanKL = %v, want %v", got, want)
	}
	lp, lq := make([]float32, len(p)), make([]float32, len(q))
	for i := range p {
		lp[i], lq[i] = float32(math.Log(p[i])), float32(math.Log(q[i]))
	}
	gotLog, err := MeanKLFromLogProbs(lp, lq, 2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(gotLog-got) > 1e-6 { // float32 inputs
		t.Errorf("from log-probabilities %v, from probabilities %v", gotLog, got)
	}
	// KL is not symmetric: KL(q ‖ p) = 0.9 ln 1.8 + 0.1 ln 0.2 = 0.3680642071684971.
	if back, _ := MeanKL(q[:2], p[:2], 2); math.Abs(back-0.3680642071684971) > 1e-12 {
		t.Errorf("KL(q ‖ p) = %v", back)
	}
}

func TestMeanKLIdenticalAndFloors(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	p := make([]float32, 300)
	for i := range p {
		p[i] = r.Float32()
	}
	// Unnormalised float32 rows, a zero included: still exactly 0.
	p[7] = 0
	if got, err := MeanKL(p, p, 3); err != nil || got != 0 {
		t.Errorf("identical: %v, %v", got, err)
	}
	// A class q rounds to 0: finite, about p·ln(p/MinProb) = ½·ln(½·10¹²).
	got, err := MeanKL([]float64{0.5, 0.5}, []float64{1, 0}, 2)
	if err != nil || math.IsInf(got, 0) || math.Abs(got-(0.5*math.Log(0.5/MinProb)+0.5*math.Log(0.5))) > 1e-9 {
		t.Errorf("q = 0: %v, %v", got, err)
	}
	gotLog, _ := MeanKLFromLogProbs([]float64{math.Log(0.5), math.Log(0.5)}, []float64{0, math.Inf(-1)}, 2)
	if math.Abs(gotLog-got) > 1e-12 {
		t.Errorf("q = 0 from log-probabilities: %v, want %v", gotLog, got)
	}
}

func TestMeanKLErrors(t *testing.T) {
	for i, tc := range []struct {
		p, q    []float64
		classes int
		want    error
	}{
		0: {[]float64{0.5, 0.5}, []float64{1}, 2, ErrShape},
		1: {[]float64{0.5, 0.5, 1}, []float64{0.5, 0.5, 1}, 2, ErrShape},
		2: {nil, nil, 2, ErrShape},
		3: {[]float64{0.5, 0.5}, []float64{0.5, 0.5}, 0, ErrShape},
		4: {[]float64{0.5, math.NaN()}, []float64{0.5, 0.5}, 2, ErrNonFinite},
		5: {[]float64{0.5, 0.5}, []float64{-0.5, 0.5}, 2, ErrNonFinite},
	} {
		if _, err := MeanKL(tc.p, tc.q, tc.classes); !errors.Is(err, tc.want) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
	if _, err := MeanKLFromLogProbs([]float64{0, math.Inf(1)}, []float64{0, 0}, 2); !errors.Is(err, ErrNonFinite) {
		t.Errorf("+Inf log-probability: %v", err)
	}
}
