package results

import (
	"fmt"
	"math"
	"slices"
)

// Identity returns the method's identity: ID in schema v3 files, recovered
// from the name for v2 files (ok is false for a name no writer produced).
func (m *Method) Identity() (id MethodID, ok bool) {
	if m.ID != (MethodID{}) {
		return m.ID, true
	}
	return legacyID(m.Name)
}

// v2Only refuses the fields schema v3 added in a v2 study.
func (s *Study) v2Only() error {
	bad := func(path string) error {
		return &FieldError{Path: path, Problem: fmt.Sprintf("present in a %q file, want schema %q", SchemaV2, Schema)}
	}
	switch {
	case s.ForgetSets != nil:
		return bad("study.forget_sets")
	case s.RMIA != nil:
		return bad("study.rmia")
	case s.RMIASplits != nil:
		return bad("study.rmia_splits")
	case s.Verdicts != nil:
		return bad("study.verdicts")
	}
	for i := range s.Methods {
		m := &s.Methods[i]
		p := fmt.Sprintf("study.methods[%d]", i)
		switch {
		case m.ID != (MethodID{}):
			return bad(p + ".id")
		case m.Change != nil:
			return bad(p + ".change")
		case m.LiRATiedShare != nil:
			return bad(p + ".lira_tied_share")
		case m.RMIAAUC != nil:
			return bad(p + ".rmia_auc")
		case m.RMIATPRAt1pctFPR != nil:
			return bad(p + ".rmia_tpr_at_1pct_fpr")
		case m.Shadow != nil:
			return bad(p + ".shadow")
		}
	}
	return nil
}

// studyV3 checks what schema v3 requires of a study: one forget set per
// seed with study.forget_rows distinct ascending rows of the training
// split; every method's identity known and its name the identity's name;
// the v3 estimates in their ranges with one value per seed; no v2 U-LiRA or
// ε; RMIA settings and verdicts consistent with the methods.
func (v *validator) studyV3(r *Results) {
	s := r.Study
	n := len(s.Seeds)
	if len(s.ForgetSets) != n {
		v.fail("study.forget_sets", "%d forget sets, want one per seed (%d)", len(s.ForgetSets), n)
		return
	}
	for i, f := range s.ForgetSets {
		p := fmt.Sprintf("study.forget_sets[%d]", i)
		if f.Spec == "" {
			v.fail(p+".spec", "empty, want the deletion spec it was drawn with")
			return
		}
		if len(f.Rows) != s.ForgetRows {
			v.fail(p+".rows", "%d rows, want study.forget_rows (%d)", len(f.Rows), s.ForgetRows)
			return
		}
		for j, row := range f.Rows {
			if row < 0 || row >= r.Dataset.Train || (j > 0 && row <= f.Rows[j-1]) {
				v.fail(fmt.Sprintf("%s.rows[%d]", p, j), "%d, want ascending distinct positions in the training split [0, %d)", row, r.Dataset.Train)
				return
			}
		}
	}
	names := map[string]bool{}
	for i := range s.Methods {
		m := &s.Methods[i]
		p := fmt.Sprintf("study.methods[%d]", i)
		names[m.Name] = true
		if !m.ID.Family.Known() {
			v.fail(p+".id.family", "%q, want one of %v", clip(string(m.ID.Family)), Families)
			return
		}
		if want := m.ID.Name(); m.Name != want {
			v.fail(p+".name", "%q, want %q, the name of its id", clip(m.Name), want)
			return
		}
		if m.ULiRA != nil {
			v.fail(p+".ulira", "present in a %q file, want the per-seed %s.shadow", Schema, p)
			return
		}
		if m.Epsilon != nil {
			v.fail(p+".epsilon", "present in a %q file, want the per-seed %s.shadow", Schema, p)
			return
		}
		if m.Change == nil {
			v.fail(p+".change", "missing, want how much the method changed the full model")
			return
		}
		if sh := m.Shadow; sh != nil {
			if s.Shadows < 1 {
				v.fail(p+".shadow", "present with study.shadows = %d", s.Shadows)
				return
			}
			if sh.ModelsPerSide < 2 {
				v.fail(p+".shadow.models_per_side", "%d, want at least 2", sh.ModelsPerSide)
				return
			}
			if lim := math.Log(float64(sh.ModelsPerSide)); !(sh.Ceiling >= 0 && sh.Ceiling <= lim) {
				v.fail(p+".shadow.ceiling", "%s, want an ε in [0, ln(models_per_side)] = [0, %s]", num(sh.Ceiling), num(lim))
				return
			}
			if e := sh.MedianFiniteEpsilon; e != nil {
				v.nonNeg(p+".shadow.median_finite_epsilon", *e, "ε")
			}
		}
		for _, e := range studyEstimatesV3(p, m, r.Config.Model.Params, s.ForgetRows) {
			v.estimate(e, n)
		}
		if v.err != nil {
			return
		}
	}
	if s.RMIA != nil {
		v.rmia("study.rmia", s.RMIA)
	}
	if len(s.RMIASplits) > 0 {
		if s.RMIA != nil || len(s.RMIASplits) != n {
			v.fail("study.rmia_splits", "%d entries with study.rmia %s, want one per seed (%d) and no study.rmia", len(s.RMIASplits), map[bool]string{true: "present", false: "absent"}[s.RMIA != nil], n)
			return
		}
		for i := range s.RMIASplits {
			v.rmia(fmt.Sprintf("study.rmia_splits[%d]", i), &s.RMIASplits[i])
		}
	}
	if v.err != nil {
		return
	}
	if vd := s.Verdicts; vd != nil {
		v.verdicts(vd, names, n)
	}
}

// studyEstimatesV3 lists the estimates schema v3 adds to a method.
func studyEstimatesV3(path string, m *Method, params, forgetRows int) []studyEstimate {
	var out []studyEstimate
	if c := m.Change; c != nil {
		out = append(out,
			studyEstimate{path + ".change.parameters", &c.Parameters, 0, float64(params), "count of parameters ≤ config.model.params"},
			studyEstimate{path + ".change.relative_l2", &c.RelativeL2, 0, math.Inf(1), "relative norm"})
	}
	if m.LiRATiedShare != nil {
		out = append(out, studyEstimate{path + ".lira_tied_share", m.LiRATiedShare, 0, 1, "fraction"})
	}
	if m.RMIAAUC != nil {
		out = append(out, studyEstimate{path + ".rmia_auc", m.RMIAAUC, 0, 1, "fraction"})
	}
	if m.RMIATPRAt1pctFPR != nil {
		out = append(out, studyEstimate{path + ".rmia_tpr_at_1pct_fpr", m.RMIATPRAt1pctFPR, 0, 1, "fraction"})
	}
	if sh := m.Shadow; sh != nil {
		out = append(out,
			studyEstimate{path + ".shadow.ulira_accuracy", &sh.ULiRA, 0, 1, "fraction"},
			studyEstimate{path + ".shadow.forget_score", &sh.ForgetScore, 0, 1, "fraction"},
			studyEstimate{path + ".shadow.capped_rows", &sh.Capped, 0, float64(forgetRows), "count of forget rows"})
	}
	return out
}

// verdicts checks the verdicts: α and power in (0, 1), Holm's correction,
// comparisons of methods the study has on known metrics, differences with
// one value per seed, p-values in [0, 1] with p_holm ≥ p, MDE ≥ 0, known
// outcomes, and findings of known methods and metrics.
func (v *validator) verdicts(vd *Verdicts, names map[string]bool, seeds int) {
	if !(vd.Alpha > 0 && vd.Alpha < 1) || !(vd.Power > 0 && vd.Power < 1) {
		v.fail("study.verdicts", "alpha %s and power %s, want both in (0, 1)", num(vd.Alpha), num(vd.Power))
		return
	}
	if vd.Correction != "holm" {
		v.fail("study.verdicts.correction", "%q, want \"holm\"", clip(vd.Correction))
		return
	}
	outcome := func(path string, o Outcome) {
		switch o {
		case OutcomeHigher, OutcomeLower, OutcomeNotDist, OutcomeUndecided:
		default:
			v.fail(path, "%q, want higher, lower, not_distinguishable or undecided", clip(string(o)))
		}
	}
	metric := func(path string, m Metric) {
		if !slices.Contains(Metrics, m) {
			v.fail(path, "%q, want one of %v", clip(string(m)), Metrics)
		}
	}
	for i, c := range vd.Comparisons {
		p := fmt.Sprintf("study.verdicts.comparisons[%d]", i)
		if !names[c.Method] || !names[c.Reference] || c.Method == c.Reference {
			v.fail(p, "compares %q with %q, want two different methods of the study", clip(c.Method), clip(c.Reference))
			return
		}
		metric(p+".metric", c.Metric)
		v.estimate(studyEstimate{p + ".difference", &c.Difference, -1, 1, "difference of fractions"}, seeds)
		v.unit(p+".p", c.P)
		v.unit(p+".p_holm", c.PHolm)
		if c.PHolm < c.P {
			v.fail(p+".p_holm", "%s, below p (%s): Holm's correction never lowers a p-value", num(c.PHolm), num(c.P))
		}
		v.nonNeg(p+".mde", c.MDE, "difference")
		outcome(p+".outcome", c.Outcome)
		if v.err != nil {
			return
		}
	}
	for i, f := range vd.Findings {
		p := fmt.Sprintf("study.verdicts.findings[%d]", i)
		if !names[f.Method] {
			v.fail(p+".method", "%q, want a method of the study", clip(f.Method))
			return
		}
		metric(p+".metric", f.Metric)
		outcome(p+".outcome", f.Outcome)
	}
}

// rmia checks one set of RMIA settings: γ > 0, a in [0, 1] and on the grid,
// one AUC per grid point, grid points and AUCs in [0, 1], at least one
// population row.
func (v *validator) rmia(path string, a *RMIASettings) {
	if !(a.Gamma > 0) || !(a.A >= 0 && a.A <= 1) {
		v.fail(path, "γ %s and a %s, want γ > 0 and a in [0, 1]", num(a.Gamma), num(a.A))
		return
	}
	if len(a.Grid) != len(a.GridAUC) || !slices.Contains(a.Grid, a.A) {
		v.fail(path+".grid", "%d grid points, %d AUCs, a = %s; want one AUC per point and a on the grid", len(a.Grid), len(a.GridAUC), num(a.A))
		return
	}
	for j, x := range a.Grid {
		v.unit(fmt.Sprintf("%s.grid[%d]", path, j), x)
	}
	for j, x := range a.GridAUC {
		v.unit(fmt.Sprintf("%s.grid_auc[%d]", path, j), x)
	}
	v.count(path+".tune_targets", a.TuneTargets)
	v.count(path+".tune_rows", a.TuneRows)
	v.positive(path+".population_rows", a.PopulationRows)
}
