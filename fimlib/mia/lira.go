package mia

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ErrTooFewShadows is returned (wrapped) when no variance can be estimated:
// with the global variance, when no example has two shadows on a side the
// attack needs.
var ErrTooFewShadows = errors.New("mia: too few shadow models")

// MinShadowStd floors every fitted standard deviation, so that shadows that
// agree to the last digit give a steep but finite Gaussian (LiRA's code adds
// 1e-30 instead, which lets (s − μ)²/σ² overflow).
const MinShadowStd = 1e-6

// LiRAConfig configures LiRA's per-example Gaussians. The zero value is the
// online attack with global variances and per-example means: what to use
// with few shadow models (Carlini et al. recommend the global, "fixed",
// variance below 64 shadows).
type LiRAConfig struct {
	// Offline fits only the OUT Gaussian and returns the one-sided
	// z-score (s − μ_out)/σ_out instead of the likelihood ratio.
	Offline bool
	// PerExampleVariance fits one variance per example and side instead of
	// a global one; it needs two shadows per example and side.
	PerExampleVariance bool
	// Median centres each Gaussian at the median of the example's shadow
	// scores, as mi_lira_2021/plot.py does, instead of their mean.
	Median bool
}

// LiRAResult is LiRA's per-example output.
type LiRAResult struct {
	// Stat is one attack statistic per example, higher meaning member; NaN
	// for a skipped example.
	Stat []float64
	// Skipped counts the examples without enough shadows: online needs at
	// least one IN and one OUT shadow (two each with PerExampleVariance),
	// offline at least one OUT (two with PerExampleVariance).
	Skipped int
	// In and Out count each example's IN and OUT shadows.
	In, Out []int
	// SigmaIn and SigmaOut are the global standard deviations; NaN with
	// PerExampleVariance, and SigmaIn is NaN offline.
	SigmaIn, SigmaOut float64
}

// LiRA is the likelihood-ratio attack of Carlini et al. ("Membership
// inference attacks from first principles", IEEE S&P 2022). shadow[k][j] is
// example j's score (the logit-scaled confidence) under shadow model k, and
// in[k][j] says whether shadow k trained on example j; target[j] is its
// score under the model attacked, which must not be one of the shadows.
// Each example gets Gaussians over its IN and its OUT shadow scores; the
// statistic is
//
//	online:  log N(s; μ_in, σ_in²) − log N(s; μ_out, σ_out²)
//	offline: (s − μ_out)/σ_out, whose one-sided p-value is Φ(−z)
//
// (only the order matters to Summarize). Variances are unbiased (n − 1):
// per example, or pooled within examples, Σ_j Σ_k (s_jk − s̄_j)² / Σ_j
// (n_j − 1), over every example with shadows on that side. plot.py's fixed
// variance is instead np.std over all scores, which adds the spread of the
// example means, and its online variant uses the IN one for both sides.
// Examples without enough shadows are skipped (see LiRAResult.Skipped).
// Pair the statistics with the target's membership through SplitMembers
// and pass them to Summarize.
func LiRA(shadow [][]float64, in [][]bool, target []float64, cfg LiRAConfig) (LiRAResult, error) {
	n := len(target)
	if len(shadow) == 0 {
		return LiRAResult{}, fmt.Errorf("%w: no shadow models", ErrTooFewShadows)
	}
	if len(in) != len(shadow) {
		return LiRAResult{}, fmt.Errorf("%w: %d shadow score rows, %d membership rows", ErrShape, len(shadow), len(in))
	}
	if err := finite("target", target); err != nil {
		return LiRAResult{}, err
	}
	inGroups, outGroups := make([][]float64, n), make([][]float64, n)
	for k, row := range shadow {
		if len(row) != n || len(in[k]) != n {
			return LiRAResult{}, fmt.Errorf("%w: shadow %d has %d scores and %d membership flags, want %d", ErrShape, k, len(row), len(in[k]), n)
		}
		if err := finite(fmt.Sprintf("shadow %d", k), row); err != nil {
			return LiRAResult{}, err
		}
		for j, s := range row {
			if in[k][j] {
				inGroups[j] = append(inGroups[j], s)
			} else {
				outGroups[j] = append(outGroups[j], s)
			}
		}
	}
	res := LiRAResult{Stat: make([]float64, n), In: make([]int, n), Out: make([]int, n), SigmaIn: math.NaN()}
	for j := range n {
		res.In[j], res.Out[j] = len(inGroups[j]), len(outGroups[j])
	}
	out, err := fitSide(outGroups, cfg.PerExampleVariance, cfg.Median)
	if err != nil {
		return LiRAResult{}, fmt.Errorf("OUT shadows: %w", err)
	}
	res.SigmaOut = out.pooled
	var inFit gaussians
	if !cfg.Offline {
		if inFit, err = fitSide(inGroups, cfg.PerExampleVariance, cfg.Median); err != nil {
			return LiRAResult{}, fmt.Errorf("IN shadows: %w", err)
		}
		res.SigmaIn = inFit.pooled
	}
	for j, s := range target {
		switch {
		case !out.ok(j) || (!cfg.Offline && !inFit.ok(j)):
			res.Stat[j] = math.NaN()
			res.Skipped++
		case cfg.Offline:
			res.Stat[j] = (s - out.mu[j]) / out.sd[j]
		default:
			res.Stat[j] = logLikelihoodRatio(s, inFit, out, j)
		}
	}
	return res, nil
}

// gaussians are one side's per-example fits; sd[j] is NaN where example j
// has too few shadows.
type gaussians struct {
	mu, sd []float64
	pooled float64 // the global standard deviation; NaN per example
}

func (g gaussians) ok(j int) bool { return !math.IsNaN(g.sd[j]) }

// fitSide fits a Gaussian to each group of scores (one group per example).
func fitSide(groups [][]float64, perExample, useMedian bool) (gaussians, error) {
	g := gaussians{mu: make([]float64, len(groups)), sd: make([]float64, len(groups)), pooled: math.NaN()}
	var ss, dof float64
	for j, s := range groups {
		g.mu[j], g.sd[j] = math.NaN(), math.NaN()
		if len(s) == 0 {
			continue
		}
		var mean float64
		for _, v := range s {
			mean += v
		}
		mean /= float64(len(s))
		var sj float64
		for _, v := range s {
			sj += (v - mean) * (v - mean)
		}
		g.mu[j] = mean
		if useMedian {
			g.mu[j] = median(s)
		}
		if perExample {
			if len(s) >= 2 {
				g.sd[j] = math.Max(math.Sqrt(sj/float64(len(s)-1)), MinShadowStd)
			}
			continue
		}
		ss += sj
		dof += float64(len(s) - 1)
	}
	if perExample {
		return g, nil
	}
	if dof == 0 {
		return gaussians{}, fmt.Errorf("%w: no example has two shadows to estimate the global variance", ErrTooFewShadows)
	}
	g.pooled = math.Max(math.Sqrt(ss/dof), MinShadowStd)
	for j, s := range groups {
		if len(s) > 0 {
			g.sd[j] = g.pooled
		}
	}
	return g, nil
}

// logLikelihoodRatio is log N(s; in_j) − log N(s; out_j).
func logLikelihoodRatio(s float64, in, out gaussians, j int) float64 {
	zi := (s - in.mu[j]) / in.sd[j]
	zo := (s - out.mu[j]) / out.sd[j]
	return (zo*zo-zi*zi)/2 + math.Log(out.sd[j]/in.sd[j])
}

func finite(what string, s []float64) error {
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s: %v at %d", ErrNonFinite, what, v, i)
		}
	}
	return nil
}

// ULiRAConfig configures ULiRA. The zero value uses global variances,
// per-example means and DefaultBootstrap resamples from seed 0.
type ULiRAConfig struct {
	// PerExampleVariance and Median are as in LiRAConfig.
	PerExampleVariance bool
	Median             bool
	// Bootstrap is the number of resamples for CI95: 0 means
	// DefaultBootstrap, negative is an error. Seed seeds them.
	Bootstrap int
	Seed      uint64
}

// ULiRAResult is U-LiRA's attack accuracy.
type ULiRAResult struct {
	// Accuracy is the balanced accuracy ½(TPR + TNR) over all evaluation
	// pairs of the examples used: 0.5 for a perfect unlearner.
	Accuracy float64
	// CI95 is its bootstrap interval over examples (see ULiRA).
	CI95 [2]float64
	// Examples counts the examples used; Skipped those without enough IN
	// or OUT shadows (as LiRA's online attack) or without an unlearned and
	// a retrained evaluation pair.
	Examples, Skipped int
	// UnlearnedPairs and RetrainedPairs count the evaluation pairs used.
	UnlearnedPairs, RetrainedPairs int
	// PerExample is each example's own balanced accuracy, NaN if skipped:
	// per-example vulnerability varies widely (Hayes et al.).
	PerExample []float64
}

// ULiRA is U-LiRA, the per-example unlearning attack of Hayes et al.
// ("Inexact unlearning needs more careful evaluations to avoid a false
// sense of privacy", SaTML 2025): LiRA's online attack where, for example
// j, in[j] are its scores under shadow models that trained on it and then
// ran the unlearning method on it, and out[j] its scores under shadow
// models that never saw it. unlearned[j] and retrained[j] are its scores
// under held-out evaluation models: models that unlearned it, and models
// retrained without it. Each (model, example) pair is called "unlearned"
// when the log-likelihood ratio of its score is > 0 (equal priors), and the
// result is the balanced accuracy over the pairs, equal to plain accuracy
// when the two sides have equally many pairs. A perfect unlearner's
// unlearned and retrained scores are identically distributed, so any rule
// scores 0.5 in expectation. The interval resamples examples (each with
// all its pairs), since pairs of one example share its fitted attack.
func ULiRA(in, out, unlearned, retrained [][]float64, cfg ULiRAConfig) (ULiRAResult, error) {
	n := len(in)
	if len(out) != n || len(unlearned) != n || len(retrained) != n {
		return ULiRAResult{}, fmt.Errorf("%w: %d IN, %d OUT, %d unlearned and %d retrained examples", ErrShape, len(in), len(out), len(unlearned), len(retrained))
	}
	boot, err := resamples(cfg.Bootstrap)
	if err != nil {
		return ULiRAResult{}, err
	}
	for j := range n {
		for _, s := range []struct {
			name string
			v    []float64
		}{{"IN", in[j]}, {"OUT", out[j]}, {"unlearned", unlearned[j]}, {"retrained", retrained[j]}} {
			if err := finite(fmt.Sprintf("example %d, %s", j, s.name), s.v); err != nil {
				return ULiRAResult{}, err
			}
		}
	}
	inFit, err := fitSide(in, cfg.PerExampleVariance, cfg.Median)
	if err != nil {
		return ULiRAResult{}, fmt.Errorf("IN shadows: %w", err)
	}
	outFit, err := fitSide(out, cfg.PerExampleVariance, cfg.Median)
	if err != nil {
		return ULiRAResult{}, fmt.Errorf("OUT shadows: %w", err)
	}

	// Per used example: correct "unlearned" calls, unlearned pairs,
	// correct "retrained" calls, retrained pairs.
	type tally struct{ cu, nu, cr, nr int }
	var used []tally
	res := ULiRAResult{PerExample: make([]float64, n)}
	for j := range n {
		if !inFit.ok(j) || !outFit.ok(j) || len(unlearned[j]) == 0 || len(retrained[j]) == 0 {
			res.PerExample[j] = math.NaN()
			res.Skipped++
			continue
		}
		t := tally{nu: len(unlearned[j]), nr: len(retrained[j])}
		for _, s := range unlearned[j] {
			if logLikelihoodRatio(s, inFit, outFit, j) > 0 {
				t.cu++
			}
		}
		for _, s := range retrained[j] {
			if !(logLikelihoodRatio(s, inFit, outFit, j) > 0) {
				t.cr++
			}
		}
		res.PerExample[j] = balanced(t.cu, t.nu, t.cr, t.nr)
		used = append(used, t)
	}
	if len(used) == 0 {
		return ULiRAResult{}, fmt.Errorf("%w: no example has IN and OUT shadows and both kinds of evaluation pair", ErrTooFewShadows)
	}
	sum := func(pick func(int) tally) float64 {
		var a tally
		for i := range used {
			t := pick(i)
			a.cu, a.nu, a.cr, a.nr = a.cu+t.cu, a.nu+t.nu, a.cr+t.cr, a.nr+t.nr
		}
		return balanced(a.cu, a.nu, a.cr, a.nr)
	}
	res.Examples = len(used)
	for _, t := range used {
		res.UnlearnedPairs += t.nu
		res.RetrainedPairs += t.nr
	}
	res.Accuracy = sum(func(i int) tally { return used[i] })
	r := rand.New(rand.NewPCG(cfg.Seed, pcgStream))
	accs := make([]float64, boot)
	for b := range accs {
		accs[b] = sum(func(int) tally { return used[r.IntN(len(used))] })
	}
	res.CI95 = ci95(accs)
	return res, nil
}

func balanced(cu, nu, cr, nr int) float64 {
	return (float64(cu)/float64(nu) + float64(cr)/float64(nr)) / 2
}
