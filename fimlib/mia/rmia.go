package mia

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// DefaultRMIAGamma is the γ that RMIA uses when RMIAConfig.Gamma is 0: 2,
// the value of every offline configuration in the paper's code
// (privacytrustlab/ml_privacy_meter, commit d327341, research/2024_rmia:
// attack_configs/*/rmia_offline_*.yaml, "gamma: 2.0", and its README,
// "default is 2.0"). ML Privacy Meter's later library code
// (modules/mia/attacks/rmia.py) fixes γ = 1 instead and counts LR > 1.
const DefaultRMIAGamma = 2.0

// RMIAConfig configures RMIA's offline attack. A has no reference default:
// its zero value is the valid a = 0, while the paper's code sets a per
// dataset (0.3 for CIFAR-10, 0.6 for CIFAR-100) and ML Privacy Meter tunes
// it; choose it with RMIATune.
type RMIAConfig struct {
	// A is the offline scaling a in [0, 1]: P(x) ≈ ½[(1 + a)·P_OUT(x) +
	// (1 − a)], the mean of P_IN(x) ≈ a·P_OUT(x) + (1 − a) and P_OUT(x).
	// a = 1 takes P(x) = P_OUT(x), a = 0 takes P(x) = ½[P_OUT(x) + 1].
	A float64
	// Gamma is the likelihood-ratio threshold γ > 0 (0 means
	// DefaultRMIAGamma).
	Gamma float64
}

func (c RMIAConfig) resolved() (RMIAConfig, error) {
	if c.Gamma == 0 {
		c.Gamma = DefaultRMIAGamma
	}
	if !(c.A >= 0 && c.A <= 1) {
		return c, fmt.Errorf("mia: RMIA offline a %v must be in [0, 1]", c.A)
	}
	if !(c.Gamma > 0) || math.IsInf(c.Gamma, 1) {
		return c, fmt.Errorf("mia: RMIA γ %v must be positive and finite", c.Gamma)
	}
	return c, nil
}

// RMIAResult is RMIA's per-row output.
type RMIAResult struct {
	// Score is one score per attacked row, higher meaning member: the
	// fraction of population rows z with LR(x, z) ≥ γ; NaN when the row
	// has no OUT reference.
	Score []float64
	// Skipped counts the NaN rows.
	Skipped int
}

// RMIA is the offline robust membership-inference attack of Zarifzadeh,
// Liu and Shokri ("Low-cost high-power membership inference attacks",
// ICML 2024; arXiv 2312.03262). target[x] is P(y_x | x, θ), the attacked
// model's probability of row x's true label; refs[k][x] is the same under
// reference model k, and refIn[k][x] says whether reference k trained on
// x; popTarget[z] and popRefs[k][z] are the same for the population rows
// z, which no reference trained on (popRefs has one row per reference,
// in the order of refs). The attacked model must not be a reference.
//
// Offline, only the OUT references of a row are used. With P_OUT(·) the
// mean over them,
//
//	P(x) = ½[(1 + a)·P_OUT(x) + (1 − a)]
//	LR(x, z) = [P(x|θ)/P(x)] / [P(z|θ)/P(z)]
//	Score(x) = |{z : LR(x, z) ≥ γ}| / |Z|
//
// P(z) takes the same offline formula over all references (every
// reference is OUT for a population row). The paper's code does this
// (research/2024_rmia/main.py computes prob_ratio_z with the same
// (1+a)/2·mean + (1−a)/2 as prob_ratio_x; its README: offline_a is "used to
// compute p(x) and p(z) from p_OUT(x) and p_OUT(z)"), and ML Privacy
// Meter's library code does too (modules/mia/attacks/rmia.py, mean_z); a
// raw mean would rate the population against a different baseline than
// the attacked rows. Differences from those codes: P_OUT is the plain mean
// (the paper's code trims 20 % of the references at each end, ML Privacy
// Meter's library takes the plain mean), pairs count at LR ≥ γ, as the
// score is defined (Score = Pr_z[LR(x, z) ≥ γ]; also ML Privacy Meter's
// documentation/mia.md) where both codes count LR > γ, and P(·) is floored
// at MinProb so that a = 1 with OUT probabilities of 0 stays finite.
//
// A pair counts when r_x ≥ γ·r_z with r = P(·|θ)/P(·), so the r_z are
// sorted once and each row costs one binary search: O(K(X + Z) + (X + Z)
// log Z) for K references, X attacked and Z population rows.
//
// Probabilities must be finite and in [0, 1] (else ErrNonFinite); there
// must be at least one reference (else ErrTooFewShadows), attacked and
// population rows (else ErrEmpty), and at least one attacked row with an
// OUT reference (else ErrTooFewShadows). Pair the scores with the target's
// membership through SplitMembers.
func RMIA(target []float64, refs [][]float64, refIn [][]bool, popTarget []float64, popRefs [][]float64, cfg RMIAConfig) (RMIAResult, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return RMIAResult{}, err
	}
	if err := checkRMIA(target, refs, refIn, popTarget, popRefs); err != nil {
		return RMIAResult{}, err
	}
	outX := outMeans(refs, refIn, -1, len(target))
	outZ := outMeans(popRefs, nil, -1, len(popTarget))
	res := rmiaScores(target, outX, popTarget, outZ, cfg.A, cfg.Gamma)
	if res.Skipped == len(target) {
		return RMIAResult{}, fmt.Errorf("%w: no attacked row has an OUT reference", ErrTooFewShadows)
	}
	return res, nil
}

// checkRMIA validates RMIA's shapes and probabilities.
func checkRMIA(target []float64, refs [][]float64, refIn [][]bool, popTarget []float64, popRefs [][]float64) error {
	x, z := len(target), len(popTarget)
	switch {
	case len(refs) == 0:
		return fmt.Errorf("%w: no reference models", ErrTooFewShadows)
	case len(refIn) != len(refs) || len(popRefs) != len(refs):
		return fmt.Errorf("%w: %d reference score rows, %d membership rows, %d population rows", ErrShape, len(refs), len(refIn), len(popRefs))
	case x == 0 || z == 0:
		return fmt.Errorf("%w: %d attacked and %d population rows", ErrEmpty, x, z)
	}
	if err := probabilities("target", -1, target); err != nil {
		return err
	}
	if err := probabilities("population target", -1, popTarget); err != nil {
		return err
	}
	for k := range refs {
		if len(refs[k]) != x || len(refIn[k]) != x || len(popRefs[k]) != z {
			return fmt.Errorf("%w: reference %d has %d scores, %d membership flags and %d population scores, want %d, %d, %d", ErrShape, k, len(refs[k]), len(refIn[k]), len(popRefs[k]), x, x, z)
		}
		if err := probabilities("reference", k, refs[k]); err != nil {
			return err
		}
		if err := probabilities("population reference", k, popRefs[k]); err != nil {
			return err
		}
	}
	return nil
}

// probabilities checks that every value is a probability; what and, if
// k ≥ 0, the model k name the slice in the error.
func probabilities(what string, k int, p []float64) error {
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			if k >= 0 {
				what = fmt.Sprintf("%s %d", what, k)
			}
			return fmt.Errorf("%w: %s: probability %v at %d is not in [0, 1]", ErrNonFinite, what, v, i)
		}
	}
	return nil
}

// outMeans returns, for each of n rows, the mean of probs[k][row] over the
// models k ≠ skip that did not train on the row (in == nil: no model
// trained on any row), and NaN for a row without such a model.
func outMeans(probs [][]float64, in [][]bool, skip, n int) []float64 {
	sum, count := make([]float64, n), make([]float64, n)
	for k, row := range probs {
		if k == skip {
			continue
		}
		if in == nil {
			for i, p := range row {
				sum[i] += p
				count[i]++
			}
			continue
		}
		for i, p := range row {
			if !in[k][i] {
				sum[i] += p
				count[i]++
			}
		}
	}
	for i, c := range count {
		if c == 0 {
			sum[i] = math.NaN()
			continue
		}
		sum[i] /= c
	}
	return sum
}

// offlineRatio is r = P(·|θ)/P(·) with P(·) = ½[(1 + a)·out + (1 − a)],
// floored at MinProb.
func offlineRatio(p, out, a float64) float64 {
	return p / math.Max(((1+a)*out+(1-a))/2, MinProb)
}

// rmiaScores scores each attacked row against the population, given each
// row's mean OUT probability (NaN: skipped).
func rmiaScores(target, outX, popTarget, outZ []float64, a, gamma float64) RMIAResult {
	rz := make([]float64, len(popTarget))
	for i, p := range popTarget {
		rz[i] = gamma * offlineRatio(p, outZ[i], a)
	}
	slices.Sort(rz)
	res := RMIAResult{Score: make([]float64, len(target))}
	n := float64(len(rz))
	for i, p := range target {
		if math.IsNaN(outX[i]) {
			res.Score[i] = math.NaN()
			res.Skipped++
			continue
		}
		rx := offlineRatio(p, outX[i], a)
		// The number of z with γ·r_z ≤ r_x.
		c := sort.Search(len(rz), func(j int) bool { return rz[j] > rx })
		res.Score[i] = float64(c) / n
	}
	return res
}

// RMIATune chooses RMIA's offline a on reference models, as the paper's
// authors do: each model t in targets in turn is attacked with all the
// other models as references (offline, OUT-only per row), its members
// being the rows it trained on (in[t][x]) and its non-members the others;
// for each a in grid the AUC is averaged over targets, and best is the a
// with the highest mean AUC (ties: the smallest a). meanAUC[i] belongs to
// grid[i]. ML Privacy Meter's tune_offline_a attacks a single paired
// reference model on the grid 0, 0.1, …, 1 and keeps the first a with a
// strictly higher AUC; targets = {t} and that grid reproduce its rule
// with all other models as references.
//
// probs[m][x] is P(y_x | x, θ_m) under model m, in[m][x] whether m trained
// on x, and popProbs[m][z] the same for population rows, which no model
// trained on. gamma is RMIAConfig.Gamma (0: DefaultRMIAGamma). Each
// target needs members and non-members with an OUT reference (else
// ErrEmpty); rows without one are left out of its AUC.
func RMIATune(probs [][]float64, in [][]bool, popProbs [][]float64, targets []int, grid []float64, gamma float64) (best float64, meanAUC []float64, err error) {
	if len(probs) < 2 {
		return 0, nil, fmt.Errorf("%w: %d models, need a target and a reference", ErrTooFewShadows, len(probs))
	}
	if len(popProbs) != len(probs) {
		return 0, nil, fmt.Errorf("%w: %d models, %d population score rows", ErrShape, len(probs), len(popProbs))
	}
	if err := checkRMIA(probs[0], probs, in, popProbs[0], popProbs); err != nil {
		return 0, nil, err
	}
	if len(targets) == 0 || len(grid) == 0 {
		return 0, nil, fmt.Errorf("%w: %d targets, %d values of a", ErrEmpty, len(targets), len(grid))
	}
	cfg := RMIAConfig{Gamma: gamma}
	for _, a := range grid {
		cfg.A = a
		if _, err := cfg.resolved(); err != nil {
			return 0, nil, err
		}
	}
	cfg, _ = cfg.resolved()
	for _, t := range targets {
		if t < 0 || t >= len(probs) {
			return 0, nil, fmt.Errorf("%w: target model %d of %d", ErrShape, t, len(probs))
		}
	}
	meanAUC = make([]float64, len(grid))
	for _, t := range targets {
		outX := outMeans(probs, in, t, len(probs[t]))
		outZ := outMeans(popProbs, nil, t, len(popProbs[t]))
		for g, a := range grid {
			res := rmiaScores(probs[t], outX, popProbs[t], outZ, a, cfg.Gamma)
			m, n, _, err := SplitMembers(res.Score, in[t])
			if err != nil {
				return 0, nil, err
			}
			auc, err := AUC(m, n)
			if err != nil {
				return 0, nil, fmt.Errorf("target model %d: %w", t, err)
			}
			meanAUC[g] += auc / float64(len(targets))
		}
	}
	bestAUC := math.Inf(-1)
	for g, a := range grid {
		if meanAUC[g] > bestAUC || (meanAUC[g] == bestAUC && a < best) {
			best, bestAUC = a, meanAUC[g]
		}
	}
	return best, meanAUC, nil
}
