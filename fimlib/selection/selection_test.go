package selection

import (
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	const tol = 1e-9
	for i, tc := range []struct {
		acc, accRetrain, mia float64
		want                 Scores
	}{
		// The seed's pruned-0.2 model (PROTOCOL.md): utility
		// 1 − 0.0015/0.8485 = 0.99823217…, privacy 0.495, combined
		// 0.7·0.99823217 + 0.3·0.495 = 0.84726252…, the seed's 0.8473.
		0: {0.8500, 0.8485, 0.505, Scores{1 - 0.0015/0.8485, 0.495, 0.7*(1-0.0015/0.8485) + 0.3*0.495}},
		// Matching the retrained model and a coin-flip attack.
		1: {0.8, 0.8, 0.5, Scores{1, 0.5, 0.85}},
		// Falling short by 10 % of the retrained accuracy.
		2: {0.72, 0.8, 0.6, Scores{0.9, 0.4, 0.75}},
	} {
		got := Score(tc.acc, tc.accRetrain, tc.mia)
		if math.Abs(got.Utility-tc.want.Utility) > tol || math.Abs(got.Privacy-tc.want.Privacy) > tol ||
			math.Abs(got.Combined-tc.want.Combined) > tol {
			t.Errorf("%d: got %+v, want %+v", i, got, tc.want)
		}
	}
	if got := Score(0.85, 0.8485, 0.505).Combined; math.Round(got*1e4)/1e4 != 0.8473 {
		t.Errorf("combined %v does not round to the seed's 0.8473", got)
	}
}

func TestBest(t *testing.T) {
	// The seed's table (PROTOCOL.md): retrain accuracy 0.8485; combined
	// ≈ 0.8466, 0.8473, 0.8440, 0.8429, so 0.2 wins as in the seed.
	seed := []Candidate{
		{0.1, Score(0.8490, 0.8485, 0.510)},
		{0.2, Score(0.8500, 0.8485, 0.505)},
		{0.3, Score(0.8449, 0.8485, 0.510)},
		{0.4, Score(0.8454, 0.8485, 0.515)},
	}
	nan := math.NaN()
	for i, tc := range []struct {
		c    []Candidate
		want int
	}{
		0: {seed, 1},
		1: {nil, -1},
		// Ties: the smaller fraction, then the earlier candidate.
		2: {[]Candidate{{0.3, Scores{Combined: 0.8}}, {0.1, Scores{Combined: 0.8}}, {0.2, Scores{Combined: 0.7}}}, 1},
		3: {[]Candidate{{0.2, Scores{Combined: 0.8}}, {0.2, Scores{Combined: 0.8}}}, 0},
		4: {[]Candidate{{0.1, Scores{Combined: nan}}, {0.2, Scores{Combined: 0.1}}}, 1},
		5: {[]Candidate{{0.1, Scores{Combined: nan}}}, -1},
	} {
		if got := Best(tc.c); got != tc.want {
			t.Errorf("%d: Best = %d, want %d", i, got, tc.want)
		}
	}
}
