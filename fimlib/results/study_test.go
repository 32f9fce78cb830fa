package results

import (
	"math"
	"testing"
)

func TestNewEstimate(t *testing.T) {
	e := NewEstimate([]float64{1, 2, 3, 4, 5})
	// mean 3, s = √2.5, t(0.975, 4) = 2.776445
	half := 2.776445105 * math.Sqrt(2.5) / math.Sqrt(5)
	if math.Abs(e.Mean-3) > 1e-12 || math.Abs(e.CI95[0]-(3-half)) > 1e-6 || math.Abs(e.CI95[1]-(3+half)) > 1e-6 {
		t.Errorf("NewEstimate = %+v, want 3 ± %.6f", e, half)
	}
	if one := NewEstimate([]float64{0.7}); one.CI95 != [2]float64{0.7, 0.7} {
		t.Errorf("one value: %+v", one)
	}
	if err := e.validate(5); err != nil {
		t.Error(err)
	}
	if err := e.validate(4); err == nil {
		t.Error("5 values accepted for 4 seeds")
	}
}
