package results

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Study is the multi-seed comparison of deletion methods that
// `scripts/experiment -study-seeds N` adds to a results file. Every method
// ran on the same data with the same budget; every number is an Estimate
// over the seeds.
//
// Schema v3: each seed draws its own forget set (ForgetSets) and, with
// split seeds, its own split; the shadow-model attacks are per seed
// (Method.Shadow, Method.RMIAAUC); methods carry a typed identity
// (Method.ID); Verdicts holds the paired comparisons. Schema v2 files (one
// forget set, U-LiRA and ε from one set of shadows in Method.ULiRA and
// Method.Epsilon) are still read.
type Study struct {
	// Seeds are the seeds of the repetitions (model initialisation, dropout,
	// shuffling, random masks and, in schema v3, the forget set).
	Seeds []uint64 `json:"seeds"`
	// Fraction is the pruning fraction of the methods that prune a fixed
	// share of the parameters.
	Fraction float64 `json:"fraction"`
	// ForgetRows and NonMembers are the population attacks' members (the
	// forget set) and non-members (test rows).
	ForgetRows int `json:"forget_rows"`
	NonMembers int `json:"non_members"`
	// Shadows is the number of shadow models behind the per-example attacks.
	Shadows int `json:"shadows"`
	// ForgetSets are the seeds' forget sets, in the order of Seeds (v3).
	ForgetSets []ForgetSet `json:"forget_sets,omitempty"`
	// RMIA records the RMIA attack's settings (v3, with shadows, one split).
	// With a split per seed, each seed's pool of shadows chose its own a:
	// RMIASplits has one entry per seed and RMIA is absent.
	RMIA       *RMIASettings  `json:"rmia,omitempty"`
	RMIASplits []RMIASettings `json:"rmia_splits,omitempty"`
	Methods    []Method       `json:"methods"`
	// Verdicts are the paired comparisons of every method with retrain and
	// retrain-2 (v3, at least two seeds).
	Verdicts *Verdicts `json:"verdicts,omitempty"`
	Seconds  float64   `json:"seconds"`
}

// Estimate is one metric over the seeds: the per-seed values (in the order
// of Study.Seeds), their mean and a 95 % t interval for the mean.
type Estimate struct {
	Mean   float64    `json:"mean"`
	CI95   [2]float64 `json:"ci95"`
	Values []float64  `json:"values"`
}

// Method is one deletion method's results over the seeds.
type Method struct {
	Name string `json:"name"`
	// ID is the method's identity (v3; zero in v2 files, whose identity
	// Method.Identity recovers from Name).
	ID MethodID `json:"id,omitzero"`
	// Zeroed is the number of parameters the method sets to zero (0 for
	// methods that do not prune).
	Zeroed Estimate `json:"zeroed"`
	// Change is how much the method changed the full model (v3).
	Change *Change `json:"change,omitempty"`
	// Accuracy on the test rows, the retained training rows and the forget
	// rows, and each minus the retrained model's of the same seed.
	TestAccuracy   Estimate `json:"test_accuracy"`
	RetainAccuracy Estimate `json:"retain_accuracy"`
	ForgetAccuracy Estimate `json:"forget_accuracy"`
	TestGap        Estimate `json:"test_gap"`
	RetainGap      Estimate `json:"retain_gap"`
	ForgetGap      Estimate `json:"forget_gap"`
	// ForgetKL is the mean KL(method ‖ retrain) over the forget rows, in nats.
	ForgetKL Estimate `json:"forget_kl"`
	// Attacks are the population attacks (forget rows vs NonMembers test
	// rows), one per score.
	Attacks []AttackEstimate `json:"attacks"`
	// LiRAOfflineAUC is offline LiRA (fixed variance) against the method's
	// model on the forget rows vs the test rows; in v3 tie-robust (rows the
	// model scores identically get one statistic), with LiRATiedShare the
	// share of attacked rows in such ties.
	LiRAOfflineAUC Estimate  `json:"lira_offline_auc"`
	LiRATiedShare  *Estimate `json:"lira_tied_share,omitempty"`
	// RMIAAUC and RMIATPRAt1pctFPR are offline RMIA against the method's
	// model, forget rows vs test rows, tie-robust like LiRA (v3).
	RMIAAUC          *Estimate `json:"rmia_auc,omitempty"`
	RMIATPRAt1pctFPR *Estimate `json:"rmia_tpr_at_1pct_fpr,omitempty"`
	// Shadow holds the per-seed U-LiRA and ε (v3, with shadows).
	Shadow *Shadow `json:"shadow,omitempty"`
	// ULiRA and Epsilon are schema v2's shadow-model attacks, one estimate
	// from shadows shared by all seeds (nil in v3 files).
	ULiRA   *ULiRA        `json:"ulira,omitempty"`
	Epsilon *EpsilonScore `json:"epsilon,omitempty"`
	// Seconds is the method's wall time per deletion.
	Seconds Estimate `json:"seconds"`
}

// AttackEstimate is one population attack over the seeds.
type AttackEstimate struct {
	Score     string   `json:"score"` // neg-loss, confidence, neg-entropy, logit-confidence (mia.ScoreKind names)
	AUC       Estimate `json:"auc"`
	Advantage Estimate `json:"advantage"`
	// TPRAt1pctFPR is the true-positive rate at 1 % false positives.
	TPRAt1pctFPR Estimate `json:"tpr_at_1pct_fpr"`
	// TPRAt01pctFPR is the true-positive rate at 0.1 % false positives
	// (resolvable with at least 1,000 non-members; absent in files written
	// before it was added).
	TPRAt01pctFPR *Estimate `json:"tpr_at_0_1pct_fpr,omitempty"`
}

// ULiRA is the per-example unlearning attack of Hayes et al. (SaTML 2025):
// the accuracy of telling (unlearned model, x) from (retrained model, x);
// 0.5 for a perfect unlearner.
type ULiRA struct {
	Accuracy float64    `json:"accuracy"`
	CI95     [2]float64 `json:"ci95"` // bootstrap over forget examples
	Examples int        `json:"examples"`
	Pairs    int        `json:"pairs"`
}

// EpsilonScore is the NeurIPS-2023 unlearning challenge's statistic on the
// forget rows, from ModelsPerSide unlearned and retrained shadow models.
type EpsilonScore struct {
	MeanEpsilon   float64 `json:"mean_epsilon"`
	ForgetScore   float64 `json:"forget_score"`
	ModelsPerSide int     `json:"models_per_side"`
	// Ceiling is the largest finite ε these many models can show, about
	// ln(ModelsPerSide − 1); an ε at the ceiling means "as far as this
	// sample can tell, fully distinguishable".
	Ceiling float64 `json:"ceiling"`
}

// studyEstimate is one estimate of a method, with its JSON path and the
// range its per-seed values must lie in.
type studyEstimate struct {
	path string
	est  *Estimate
	lo   float64 // smallest value allowed
	hi   float64 // largest value allowed (+Inf: no bound)
	what string  // what a value is, for the error message
}

// studyEstimates lists every estimate of m, in the order of the JSON file,
// with the range of its values. params bounds the count of zeroed
// parameters (config.model.params).
func studyEstimates(path string, m *Method, params int) []studyEstimate {
	inf := math.Inf(1)
	out := []studyEstimate{
		{path + ".zeroed", &m.Zeroed, 0, float64(params), "count of parameters ≤ config.model.params"},
		{path + ".test_accuracy", &m.TestAccuracy, 0, 1, "fraction"},
		{path + ".retain_accuracy", &m.RetainAccuracy, 0, 1, "fraction"},
		{path + ".forget_accuracy", &m.ForgetAccuracy, 0, 1, "fraction"},
		{path + ".test_gap", &m.TestGap, -1, 1, "difference of fractions"},
		{path + ".retain_gap", &m.RetainGap, -1, 1, "difference of fractions"},
		{path + ".forget_gap", &m.ForgetGap, -1, 1, "difference of fractions"},
		{path + ".forget_kl", &m.ForgetKL, 0, inf, "KL divergence"},
	}
	for j := range m.Attacks {
		a := &m.Attacks[j]
		ap := fmt.Sprintf("%s.attacks[%d]", path, j)
		out = append(out,
			studyEstimate{ap + ".auc", &a.AUC, 0, 1, "fraction"},
			studyEstimate{ap + ".advantage", &a.Advantage, 0, 1, "fraction"},
			studyEstimate{ap + ".tpr_at_1pct_fpr", &a.TPRAt1pctFPR, 0, 1, "fraction"},
		)
		if a.TPRAt01pctFPR != nil {
			out = append(out, studyEstimate{ap + ".tpr_at_0_1pct_fpr", a.TPRAt01pctFPR, 0, 1, "fraction"})
		}
	}
	return append(out,
		studyEstimate{path + ".lira_offline_auc", &m.LiRAOfflineAUC, 0, 1, "fraction"},
		studyEstimate{path + ".seconds", &m.Seconds, 0, MaxSeconds, "time in seconds"},
	)
}

// studySizes checks the study's lists against their limits before anything
// walks them.
func (v *validator) studySizes(s *Study) {
	v.maxLen("study.seeds", len(s.Seeds), MaxStudySeeds)
	v.maxLen("study.methods", len(s.Methods), MaxStudyMethods)
	v.maxLen("study.forget_sets", len(s.ForgetSets), MaxStudySeeds)
	for i := range s.ForgetSets {
		v.maxLen(fmt.Sprintf("study.forget_sets[%d].rows", i), len(s.ForgetSets[i].Rows), MaxRows)
	}
	v.maxLen("study.rmia_splits", len(s.RMIASplits), MaxStudySeeds)
	for i, r := range append([]RMIASettings(nil), s.RMIASplits...) {
		v.maxLen(fmt.Sprintf("study.rmia_splits[%d].grid", i), len(r.Grid), MaxStudyMethods)
		v.maxLen(fmt.Sprintf("study.rmia_splits[%d].grid_auc", i), len(r.GridAUC), MaxStudyMethods)
	}
	if s.RMIA != nil {
		v.maxLen("study.rmia.grid", len(s.RMIA.Grid), MaxStudyMethods)
		v.maxLen("study.rmia.grid_auc", len(s.RMIA.GridAUC), MaxStudyMethods)
	}
	if vd := s.Verdicts; vd != nil {
		v.maxLen("study.verdicts.comparisons", len(vd.Comparisons), MaxStudyMethods*len(Metrics)*4)
		v.maxLen("study.verdicts.findings", len(vd.Findings), MaxStudyMethods*len(Metrics))
		for i := range vd.Comparisons {
			v.maxLen(fmt.Sprintf("study.verdicts.comparisons[%d].difference.values", i), len(vd.Comparisons[i].Difference.Values), MaxStudySeeds)
		}
	}
	for i := range s.Methods {
		if v.err != nil {
			return
		}
		m := &s.Methods[i]
		path := fmt.Sprintf("study.methods[%d]", i)
		v.maxLen(path+".attacks", len(m.Attacks), MaxStudyAttacks)
		if v.err != nil {
			return
		}
		for _, e := range append(studyEstimates(path, m, 0), studyEstimatesV3(path, m, 0, 0)...) {
			v.maxLen(e.path+".values", len(e.est.Values), MaxStudySeeds)
		}
	}
}

// study checks the study section: at least one seed, all distinct; the
// fraction in (0, 1); forget rows and non-members ≥ 1 and within
// dataset.train and dataset.test; at least one method, names non-empty and
// distinct, attack scores non-empty and distinct within a method; every
// estimate with one value per seed, each value in its metric's range, its
// mean the mean of the values and its interval the 95 % t interval of
// NewEstimate (to 1e-9 relative for the mean, 1e-6 of the width for the
// interval); U-LiRA accuracy and interval in [0, 1]; ε and its ceiling
// ≥ 0 with the ceiling at most ln(models_per_side), forget score in [0, 1],
// at least 2 models per side; shadow-model results only with shadows ≥ 1.
func (v *validator) study(r *Results) {
	s := r.Study
	n := len(s.Seeds)
	if n == 0 {
		v.fail("study.seeds", "empty, want at least one seed")
	}
	seen := make(map[uint64]int, n)
	for i, seed := range s.Seeds {
		if j, dup := seen[seed]; dup {
			v.fail(fmt.Sprintf("study.seeds[%d]", i), "%d repeats study.seeds[%d], want distinct seeds", seed, j)
			break
		}
		seen[seed] = i
	}
	v.pruneFraction("study.fraction", s.Fraction)
	v.positive("study.forget_rows", s.ForgetRows)
	v.atMost("study.forget_rows", s.ForgetRows, "dataset.train", r.Dataset.Train)
	v.positive("study.non_members", s.NonMembers)
	v.atMost("study.non_members", s.NonMembers, "dataset.test", r.Dataset.Test)
	v.count("study.shadows", s.Shadows)
	v.seconds("study.seconds", s.Seconds)
	if len(s.Methods) == 0 {
		v.fail("study.methods", "empty, want at least one method")
	}
	names := make(map[string]int, len(s.Methods))
	for i := range s.Methods {
		if v.err != nil {
			return
		}
		m := &s.Methods[i]
		path := fmt.Sprintf("study.methods[%d]", i)
		if m.Name == "" {
			v.fail(path+".name", "empty, want the method's name")
		} else if j, dup := names[m.Name]; dup {
			v.fail(path+".name", "%q repeats study.methods[%d].name, want distinct names", clip(m.Name), j)
		}
		names[m.Name] = i
		scores := make(map[string]int, len(m.Attacks))
		for j, a := range m.Attacks {
			sp := fmt.Sprintf("%s.attacks[%d].score", path, j)
			if a.Score == "" {
				v.fail(sp, "empty, want the attack's score name")
			} else if k, dup := scores[a.Score]; dup {
				v.fail(sp, "%q repeats %s.attacks[%d].score, want one attack per score", clip(a.Score), path, k)
			}
			scores[a.Score] = j
		}
		for _, e := range studyEstimates(path, m, r.Config.Model.Params) {
			v.estimate(e, n)
		}
		if u := m.ULiRA; u != nil {
			v.unit(path+".ulira.accuracy", u.Accuracy)
			v.interval(path+".ulira.ci95", u.CI95)
			v.positive(path+".ulira.examples", u.Examples)
			v.positive(path+".ulira.pairs", u.Pairs)
			if s.Shadows < 1 {
				v.fail(path+".ulira", "present with study.shadows = %d, want the shadow models it rests on", s.Shadows)
			}
		}
		if e := m.Epsilon; e != nil {
			ep := path + ".epsilon"
			v.nonNeg(ep+".mean_epsilon", e.MeanEpsilon, "ε")
			v.unit(ep+".forget_score", e.ForgetScore)
			if e.ModelsPerSide < 2 {
				v.fail(ep+".models_per_side", "%d, want at least 2", e.ModelsPerSide)
			} else if lim := math.Log(float64(e.ModelsPerSide)); !(e.Ceiling >= 0 && e.Ceiling <= lim) {
				v.fail(ep+".ceiling", "%s, want an ε in [0, ln(models_per_side)] = [0, %s]", num(e.Ceiling), num(lim))
			}
			if s.Shadows < 1 {
				v.fail(ep, "present with study.shadows = %d, want the shadow models it rests on", s.Shadows)
			}
		}
	}
}

// estimate checks one estimate over seeds seeds (see [Results.Validate]).
func (v *validator) estimate(e studyEstimate, seeds int) {
	x := e.est
	if len(x.Values) != seeds {
		v.fail(e.path+".values", "%d values, want one per study.seeds entry (%d)", len(x.Values), seeds)
		return
	}
	for j, val := range x.Values {
		if !(val >= e.lo && val <= e.hi) { // also refuses NaN
			v.fail(fmt.Sprintf("%s.values[%d]", e.path, j), "%s, want a %s in [%s, %s]", num(val), e.what, num(e.lo), num(e.hi))
			return
		}
	}
	for _, f := range []struct {
		name string
		x    float64
	}{{".mean", x.Mean}, {".ci95[0]", x.CI95[0]}, {".ci95[1]", x.CI95[1]}} {
		if math.IsNaN(f.x) || math.IsInf(f.x, 0) {
			v.fail(e.path+f.name, "%s, want a finite number", num(f.x))
			return
		}
	}
	if seeds == 0 {
		return
	}
	want := NewEstimate(x.Values)
	scale := max(1, math.Abs(want.Mean))
	if math.Abs(x.Mean-want.Mean) > 1e-9*scale {
		v.fail(e.path+".mean", "%s, want the mean of the values (%s)", num(x.Mean), num(want.Mean))
		return
	}
	tol := 1e-6*(want.CI95[1]-want.CI95[0]) + 1e-9*scale
	if math.Abs(x.CI95[0]-want.CI95[0]) > tol || math.Abs(x.CI95[1]-want.CI95[1]) > tol {
		v.fail(e.path+".ci95", "[%s, %s], want the 95 %% t interval of the values, [%s, %s]", num(x.CI95[0]), num(x.CI95[1]), num(want.CI95[0]), num(want.CI95[1]))
	}
}

// validate checks e as an estimate over seeds seeds, without a range for
// its values.
func (e Estimate) validate(seeds int) error {
	v := &validator{}
	v.estimate(studyEstimate{"estimate", &e, math.Inf(-1), math.Inf(1), "number"}, seeds)
	return v.err
}

// NewEstimate summarises per-seed values: their mean and the 95 % t
// interval mean ± t₀.₉₇₅,ₙ₋₁·s/√n (a single value gives a zero-width
// interval; with so few seeds the t quantile, not 1.96, is what makes the
// interval honest).
func NewEstimate(values []float64) Estimate {
	e := Estimate{Values: append([]float64(nil), values...)}
	n := float64(len(values))
	if n == 0 {
		return e
	}
	for _, v := range values {
		e.Mean += v / n
	}
	e.CI95 = [2]float64{e.Mean, e.Mean}
	if len(values) < 2 {
		return e
	}
	var ss float64
	for _, v := range values {
		ss += (v - e.Mean) * (v - e.Mean)
	}
	half := tQuantile975(len(values)-1) * math.Sqrt(ss/(n-1)/n)
	e.CI95 = [2]float64{e.Mean - half, e.Mean + half}
	return e
}

// tQuantile975 is the 97.5 % quantile of Student's t with df degrees of freedom.
func tQuantile975(df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}
