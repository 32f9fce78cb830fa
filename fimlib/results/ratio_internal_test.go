package results

import (
	"math"
	"testing"
)

func TestRatio(t *testing.T) {
	for _, c := range []struct{ a, b, want float64 }{
		{3, 2, 1.5},
		{-1, 4, -0.25},
		{0, 5, 0},
		{1, 0, 0},
		{-1, 0, 0},
		{0, 0, 0},
		{1, math.Copysign(0, -1), 0},
	} {
		got := ratio(c.a, c.b)
		if got != c.want || math.IsNaN(got) || math.IsInf(got, 0) {
			t.Errorf("ratio(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
