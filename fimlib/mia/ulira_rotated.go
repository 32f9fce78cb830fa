package mia

import (
	"fmt"
	"math"
)

// minRotatedModels is the fewest models ULiRARotated accepts per side: with
// one held out, two remain to fit a variance from.
const minRotatedModels = 3

// ULiRARotatedResult is U-LiRA's balanced accuracy with every model judged
// once.
type ULiRARotatedResult struct {
	// Accuracy is ½(share of unlearned pairs called unlearned + share of
	// retrained pairs called retrained) over the examples used: 0.5 for a
	// perfect unlearner (slightly less in expectation, see ULiRARotated).
	Accuracy float64
	// PerModel is each judged model's share of correct calls over the
	// examples used; unlearned models first, then retrained.
	PerModel []float64
	// PerExample is each example's balanced accuracy over all judged
	// models; NaN for a skipped example.
	PerExample []float64
	// Models is the number of judged models (unlearned plus retrained);
	// Examples the number of examples used.
	Models, Examples int
}

// ULiRARotated is U-LiRA (see ULiRA; Hayes et al., SaTML 2025) where every
// model is judged once: unlearned[m][j] and retrained[m][j] are example
// j's score under unlearned model m and retrained model m (same number of
// examples; the two sides may have different numbers of models, each at
// least 3). Fold h holds out unlearned model h mod U and retrained model
// h mod R, for h < max(U, R); the IN Gaussian is fitted on the other
// unlearned models and the OUT Gaussian on the other retrained models
// (global pooled variance by default, per cfg.PerExampleVariance and
// cfg.Median as in LiRA), and the held-out models' (model, example) pairs
// are called "unlearned" when the log-likelihood ratio is > 0. So every
// model is judged once, by fits its own scores never entered. Accuracy is
// balanced: ½(share of unlearned pairs called unlearned + share of
// retrained pairs called retrained). cfg.Bootstrap and cfg.Seed are not
// used.
//
// Why a pair is held out: leaving out only the judged model fits its own
// side on one model fewer, so that side's mean is the noisier one and an
// independent score lands nearer the other side a little more often, which
// pulls a perfect unlearner below 0.5 (simulated: 0.495 with 8 models per
// side and the global variance, 0.488 with per-example variances and
// medians). With both sides one model short, the two are symmetric.
//
// Examples without enough shadows on a side are skipped as in ULiRA
// (PerExample NaN); with full matrices that happens only through the
// variance rules. The cost is O((U + R)²·E) for U unlearned and R retrained
// models over E examples. Errors: ErrTooFewShadows (wrapped) for fewer than
// 3 models on a side or no usable example, ErrShape for ragged matrices,
// ErrEmpty for no examples, ErrNonFinite for a NaN or infinite score.
func ULiRARotated(unlearned, retrained [][]float64, cfg ULiRAConfig) (ULiRARotatedResult, error) {
	nu, nr := len(unlearned), len(retrained)
	if nu < minRotatedModels || nr < minRotatedModels {
		return ULiRARotatedResult{}, fmt.Errorf("%w: %d unlearned and %d retrained models, need %d per side", ErrTooFewShadows, nu, nr, minRotatedModels)
	}
	e := len(unlearned[0])
	if e == 0 {
		return ULiRARotatedResult{}, fmt.Errorf("%w: no examples", ErrEmpty)
	}
	for _, side := range []struct {
		name   string
		models [][]float64
	}{{"unlearned", unlearned}, {"retrained", retrained}} {
		for m, row := range side.models {
			if len(row) != e {
				return ULiRARotatedResult{}, fmt.Errorf("%w: %s model %d has %d scores, want %d", ErrShape, side.name, m, len(row), e)
			}
			if err := finite(fmt.Sprintf("%s model %d", side.name, m), row); err != nil {
				return ULiRARotatedResult{}, err
			}
		}
	}

	// groups[j] holds example j's scores under every model of a side but
	// the held-out one; the buffers are reused across held-out models.
	groups := func(models [][]float64, skip int, buf [][]float64) [][]float64 {
		for j := range buf {
			buf[j] = buf[j][:0]
			for m, row := range models {
				if m != skip {
					buf[j] = append(buf[j], row[j])
				}
			}
		}
		return buf
	}
	newBuf := func(n int) [][]float64 {
		buf := make([][]float64, e)
		for j := range buf {
			buf[j] = make([]float64, 0, n)
		}
		return buf
	}
	inBuf, outBuf := newBuf(nu), newBuf(nr)
	// Fits with no model held out, for the other side's held-out models.
	res := ULiRARotatedResult{PerModel: make([]float64, nu+nr), PerExample: make([]float64, e), Models: nu + nr}
	// calls[i][j]: judged model i called example j correctly; usable[j]:
	// every fit had enough shadows for example j.
	calls := make([][]bool, nu+nr)
	usable := make([]bool, e)
	for j := range usable {
		usable[j] = true
	}
	judge := func(i int, scores []float64, in, out gaussians, unlearnedSide bool) {
		calls[i] = make([]bool, e)
		for j, s := range scores {
			if !in.ok(j) || !out.ok(j) {
				usable[j] = false
				continue
			}
			calls[i][j] = (logLikelihoodRatio(s, in, out, j) > 0) == unlearnedSide
		}
	}
	// Each judged model is held out together with a partner from the other
	// side, so that both Gaussians always rest on one model fewer: holding
	// out only the judged model would leave its own side's fit the noisier
	// one and pull a perfect unlearner's accuracy below 0.5 (0.495 at 8 + 8
	// models, measured).
	for h := range max(nu, nr) {
		hu, hr := h%nu, h%nr
		in, err := fitSide(groups(unlearned, hu, inBuf), cfg.PerExampleVariance, cfg.Median)
		if err != nil {
			return ULiRARotatedResult{}, fmt.Errorf("IN (unlearned) models without model %d: %w", hu, err)
		}
		out, err := fitSide(groups(retrained, hr, outBuf), cfg.PerExampleVariance, cfg.Median)
		if err != nil {
			return ULiRARotatedResult{}, fmt.Errorf("OUT (retrained) models without model %d: %w", hr, err)
		}
		if h < nu {
			judge(h, unlearned[h], in, out, true)
		}
		if h < nr {
			judge(nu+h, retrained[h], in, out, false)
		}
	}

	var cu, cr int // correct calls on each side, over usable examples
	for j := range e {
		if !usable[j] {
			res.PerExample[j] = math.NaN()
			continue
		}
		res.Examples++
		var u, r int
		for i := range nu + nr {
			if !calls[i][j] {
				continue
			}
			if i < nu {
				u++
			} else {
				r++
			}
		}
		res.PerExample[j] = balanced(u, nu, r, nr)
		cu, cr = cu+u, cr+r
	}
	if res.Examples == 0 {
		return ULiRARotatedResult{}, fmt.Errorf("%w: no example has enough unlearned and retrained models", ErrTooFewShadows)
	}
	for i, c := range calls {
		n := 0
		for j, ok := range c {
			if ok && usable[j] {
				n++
			}
		}
		res.PerModel[i] = float64(n) / float64(res.Examples)
	}
	res.Accuracy = balanced(cu, nu*res.Examples, cr, nr*res.Examples)
	return res, nil
}
