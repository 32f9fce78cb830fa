package numpyq

import (
	"math"
	"testing"
)

// Values calculated with numpy.percentile (method="linear") by hand:
// index = q/100·(n−1), interpolated between the neighbours.
func TestPercentile(t *testing.T) {
	for i, c := range []struct {
		x       []float64
		q, want float64
	}{
		{[]float64{1, 2, 3, 4}, 90, 3.7},
		{[]float64{1, 2, 3, 4}, 50, 2.5},
		{[]float64{1, 2, 3, 4}, 0, 1},
		{[]float64{1, 2, 3, 4}, 100, 4},
		{[]float64{5}, 37, 5},
		{[]float64{0, 10}, 2.5, 0.25},
		{[]float64{0, 10}, 97.5, 9.75},
		{[]float64{2, 2, 2}, 60, 2},
		{seq(1000), 2.5, 24.975},   // np.percentile(np.arange(1000), 2.5)
		{seq(1000), 97.5, 974.025}, // np.percentile(np.arange(1000), 97.5)
	} {
		if got := Percentile(c.x, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("case %d: Percentile(%v, %v) = %v, want %v", i, c.x, c.q, got, c.want)
		}
	}
}

func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(i)
	}
	return s
}
