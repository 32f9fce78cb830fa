package selection

import "math"

// The seed's weights for the combined score.
const (
	UtilityWeight = 0.7
	PrivacyWeight = 0.3
)

// Scores are one model's selection scores; higher is better for each.
type Scores struct {
	Utility, Privacy, Combined float64
}

// Score returns the seed's scores for a model with test accuracy acc, the
// retrained model's accuracy accRetrain, and membership-inference accuracy
// miaAcc. Utility penalises deviation from the retrained model in either
// direction, so beating it is no better than matching it.
func Score(acc, accRetrain, miaAcc float64) Scores {
	u := 1 - math.Abs(acc-accRetrain)/accRetrain
	p := 1 - miaAcc
	// float64(...) stops a fused multiply-add, so the sum rounds as Python's.
	return Scores{Utility: u, Privacy: p, Combined: float64(UtilityWeight*u) + float64(PrivacyWeight*p)}
}

// Candidate is one pruning fraction and its scores.
type Candidate struct {
	Fraction float64
	Scores
}

// Best returns the index of the candidate with the highest Combined score;
// ties go to the smaller Fraction, then to the earlier candidate. NaN scores
// are never chosen. It returns −1 if no candidate has a non-NaN score.
func Best(candidates []Candidate) int {
	best := -1
	for i, c := range candidates {
		if math.IsNaN(c.Combined) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := candidates[best]
		if c.Combined > b.Combined || (c.Combined == b.Combined && c.Fraction < b.Fraction) {
			best = i
		}
	}
	return best
}
