// Package verdict turns a study's per-seed numbers into verdicts: paired
// comparisons of every deletion method with retraining (the reference) and
// with an independently seeded retrain (the null), one family of tests
// under Holm's step-down correction, each with the smallest difference it
// could have detected. Package study stores the result in results.json;
// package report only renders it.
//
// The unit of replication is the seed: in a schema v3 study each seed draws
// its own forget set, trains its own full model, runs every method and its
// own unlearned shadow models, so a per-seed value carries the randomness
// of all of these, and a paired t interval over seeds covers it. Rows and
// models within a seed are not treated as independent replicates (they
// share the seed's forget set and full model). TestCalibration in package
// study checks the coverage on generated data.
//
// Entry point: [Compare].
package verdict

import (
	"math"
	"sort"

	"github.com/fimprune/fimprune/fimlib/results"
	"gonum.org/v1/gonum/stat/distuv"
)

// Config sets the family's error rate and the power of the minimum
// detectable effect.
type Config struct {
	Alpha float64 // family-wise error rate (Holm)
	Power float64 // of Comparison.MDE
}

// Default is α = 0.05 and 80 % power.
var Default = Config{Alpha: 0.05, Power: 0.8}

// Compare builds the study's verdicts: every method under test and the
// identity against retrain and against retrain-2, retrain-2 against
// retrain (the null check), and each FIM-pruning method against its
// controls with the same fraction and recipe (random and magnitude pruning,
// fine-tuning), on every metric of results.Metrics both methods have. It
// returns nil when the study has no reference (retrain) method.
func Compare(s *results.Study, cfg Config) *results.Verdicts {
	ref := s.MethodByRole(results.RoleReference)
	if ref == nil {
		return nil
	}
	null := s.MethodByRole(results.RoleNull)
	var cs []results.Comparison
	add := func(m, r *results.Method) {
		for _, metric := range results.Metrics {
			a, b := m.Estimate(metric), r.Estimate(metric)
			if a == nil || b == nil || len(a.Values) != len(b.Values) {
				continue
			}
			c := Paired(a.Values, b.Values, cfg)
			c.Method, c.Reference, c.Metric = m.Name, r.Name, metric
			cs = append(cs, c)
		}
	}
	for i := range s.Methods {
		m := &s.Methods[i]
		switch m.ID.Role() {
		case results.RoleMethod, results.RoleUpper:
			add(m, ref)
			if null != nil {
				add(m, null)
			}
		case results.RoleNull:
			add(m, ref)
		}
	}
	for i := range s.Methods {
		m := &s.Methods[i]
		if m.ID.Family != results.FamilyFIM {
			continue
		}
		for j := range s.Methods {
			o := &s.Methods[j]
			same := o.ID.Recipe == m.ID.Recipe
			switch {
			case (o.ID.Family == results.FamilyRandom || o.ID.Family == results.FamilyMagnitude) && o.ID.Fraction == m.ID.Fraction && same,
				o.ID.Family == results.FamilyFineTune && same:
				add(m, o)
			}
		}
	}
	Holm(cs, cfg)
	v := &results.Verdicts{Alpha: cfg.Alpha, Power: cfg.Power, Correction: "holm", Comparisons: cs}
	v.Findings = findings(s, cs, ref, null)
	return v
}

// findings combines each method's comparisons with retrain and retrain-2:
// higher or lower only when both say so.
func findings(s *results.Study, cs []results.Comparison, ref, null *results.Method) []results.Finding {
	find := func(m, r string, metric results.Metric) *results.Comparison {
		for i := range cs {
			if cs[i].Method == m && cs[i].Reference == r && cs[i].Metric == metric {
				return &cs[i]
			}
		}
		return nil
	}
	var out []results.Finding
	for i := range s.Methods {
		m := &s.Methods[i]
		role := m.ID.Role()
		if role == results.RoleReference {
			continue
		}
		for _, metric := range results.Metrics {
			a := find(m.Name, ref.Name, metric)
			if a == nil {
				continue
			}
			o := a.Outcome
			if role != results.RoleNull && null != nil {
				if b := find(m.Name, null.Name, metric); b != nil {
					o = combine(a.Outcome, b.Outcome)
				}
			}
			out = append(out, results.Finding{Method: m.Name, Metric: metric, Outcome: o})
		}
	}
	return out
}

func combine(a, b results.Outcome) results.Outcome {
	switch {
	case a == results.OutcomeUndecided || b == results.OutcomeUndecided:
		return results.OutcomeUndecided
	case a == b:
		return a
	}
	return results.OutcomeNotDist
}

// Paired is the paired t test of a − b over seeds (same order): the
// differences with their 95 % t interval, the two-sided p-value and the
// minimum detectable effect at level cfg.Alpha (Holm later lowers that
// level to α/m for MDE). With fewer than two seeds the outcome is
// undecided. With no spread in the differences, p is 1 when they are all 0
// and 0 otherwise.
func Paired(a, b []float64, cfg Config) results.Comparison {
	d := make([]float64, len(a))
	for i := range d {
		d[i] = a[i] - b[i]
	}
	c := results.Comparison{Difference: results.NewEstimate(d), P: 1, PHolm: 1, Outcome: results.OutcomeUndecided}
	n := len(d)
	if n < 2 {
		return c
	}
	se := stdErr(d)
	mean := c.Difference.Mean
	switch {
	case se > 0:
		t := math.Abs(mean) / se
		c.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Survival(t)
	case mean != 0:
		c.P = 0
	}
	c.PHolm = c.P
	c.MDE = mde(se, n, cfg.Alpha, cfg.Power)
	return c
}

func stdErr(d []float64) float64 {
	n := float64(len(d))
	var mean, ss float64
	for _, x := range d {
		mean += x / n
	}
	for _, x := range d {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / (n - 1) / n)
}

// mde is (t₁₋α/2,ₙ₋₁ + t_power,ₙ₋₁) · se: the true mean difference a two-sided
// level-α paired t test detects with the given power (the usual normal-
// approximation formula with t quantiles; it ignores the non-central t's
// skew, which makes it slightly optimistic for n ≤ 5).
func mde(se float64, n int, alpha, power float64) float64 {
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	return (t.Quantile(1-alpha/2) + t.Quantile(power)) * se
}

// Holm applies Holm's step-down correction to the family cs in place: the
// adjusted p-values max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎) over the sorted
// p-values, outcomes from the adjusted p-values at cfg.Alpha, and each MDE
// at the strictest level α/m, what the family can promise for any one
// comparison. Undecided comparisons (fewer than two seeds) take no part.
func Holm(cs []results.Comparison, cfg Config) {
	var idx []int
	for i := range cs {
		if len(cs[i].Difference.Values) >= 2 {
			idx = append(idx, i)
		}
	}
	m := len(idx)
	sort.SliceStable(idx, func(a, b int) bool { return cs[idx[a]].P < cs[idx[b]].P })
	running := 0.0
	for rank, i := range idx {
		adj := min(1, float64(m-rank)*cs[i].P)
		running = max(running, adj)
		cs[i].PHolm = running
	}
	for _, i := range idx {
		c := &cs[i]
		c.MDE = mde(stdErr(c.Difference.Values), len(c.Difference.Values), cfg.Alpha/float64(m), cfg.Power)
		switch {
		case c.PHolm >= cfg.Alpha:
			c.Outcome = results.OutcomeNotDist
		case c.Difference.Mean > 0:
			c.Outcome = results.OutcomeHigher
		default:
			c.Outcome = results.OutcomeLower
		}
	}
}
