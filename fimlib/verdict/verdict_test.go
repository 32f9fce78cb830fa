package verdict_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/verdict"
	"gonum.org/v1/gonum/stat/distuv"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// estimate returns NewEstimate of values, for building comparisons by hand.
func estimate(values ...float64) results.Estimate { return results.NewEstimate(values) }

// TestHolm checks Holm's adjusted p-values on a family worked by hand.
//
// p = (0.01, 0.04, 0.03, 0.005) and one comparison with a single seed,
// which takes no part (m = 4). Sorted: 0.005 < 0.01 < 0.03 < 0.04; the
// step-down multipliers are m − j + 1 = 4, 3, 2, 1, so the products are
// 0.02, 0.03, 0.06, 0.04 and their running maximum 0.02, 0.03, 0.06, 0.06.
// In the original order: 0.03, 0.06, 0.06, 0.02. At α = 0.05 the first and
// the last are significant (higher and lower by the sign of their mean
// difference), the middle two not.
func TestHolm(t *testing.T) {
	cs := []results.Comparison{
		{Difference: estimate(0.1, 0.2, 0.3), P: 0.01, PHolm: 0.01},
		{Difference: estimate(0.1, 0.3, 0.2), P: 0.04, PHolm: 0.04},
		{Difference: estimate(-0.1, -0.3, 0), P: 0.03, PHolm: 0.03},
		{Difference: estimate(-0.2, -0.2, -0.1), P: 0.005, PHolm: 0.005},
		verdict.Paired([]float64{0.9}, []float64{0.1}, verdict.Default), // one seed: undecided
	}
	verdict.Holm(cs, verdict.Default)
	want := []struct {
		pHolm   float64
		outcome results.Outcome
	}{
		{0.03, results.OutcomeHigher},
		{0.06, results.OutcomeNotDist},
		{0.06, results.OutcomeNotDist},
		{0.02, results.OutcomeLower},
		{1, results.OutcomeUndecided},
	}
	for i, w := range want {
		if !near(cs[i].PHolm, w.pHolm, 1e-15) || cs[i].Outcome != w.outcome {
			t.Errorf("comparison %d: p_holm %v, %s; want %v, %s", i, cs[i].PHolm, cs[i].Outcome, w.pHolm, w.outcome)
		}
	}
	if cs[4].MDE != 0 || cs[4].P != 1 {
		t.Errorf("undecided comparison: p %v, MDE %v; want 1 and 0", cs[4].P, cs[4].MDE)
	}
	// Each MDE is at the family's strictest level α/m, m = 4 decided
	// comparisons: (t₁₋α/(2m),ₙ₋₁ + t_power,ₙ₋₁) · s/√n with n = 3.
	t2 := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 2}
	k := t2.Quantile(1-0.05/8) + t2.Quantile(0.8)
	for i := range 4 {
		d := cs[i].Difference.Values
		if want := k * sd(d) / math.Sqrt(3); !near(cs[i].MDE, want, 1e-12) {
			t.Errorf("comparison %d: MDE %v, want %v", i, cs[i].MDE, want)
		}
	}

	// Adjusted p-values are capped at 1: 2·0.6 and 1·0.7 give 1 and 1.
	cs = []results.Comparison{
		{Difference: estimate(0, 0.1), P: 0.7},
		{Difference: estimate(0, 0.1), P: 0.6},
	}
	verdict.Holm(cs, verdict.Default)
	if cs[0].PHolm != 1 || cs[1].PHolm != 1 {
		t.Errorf("capped: p_holm %v, %v; want 1, 1", cs[0].PHolm, cs[1].PHolm)
	}

	// One comparison: Holm changes nothing.
	cs = []results.Comparison{{Difference: estimate(0.1, 0.3), P: 0.049}}
	verdict.Holm(cs, verdict.Default)
	if cs[0].PHolm != 0.049 || cs[0].Outcome != results.OutcomeHigher {
		t.Errorf("m = 1: p_holm %v, %s; want 0.049, higher", cs[0].PHolm, cs[0].Outcome)
	}
}

func sd(x []float64) float64 {
	var mean, ss float64
	for _, v := range x {
		mean += v / float64(len(x))
	}
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return math.Sqrt(ss / float64(len(x)-1))
}

// TestPaired checks the paired t test against values computed elsewhere.
func TestPaired(t *testing.T) {
	// Student's sleep data (Cushny and Peebles; R's datasets::sleep): extra
	// hours of sleep of 10 patients under two drugs. R's
	// t.test(extra ~ group, data = sleep, paired = TRUE) prints t = −4.0621,
	// df = 9, p-value = 0.002833, 95 % interval −2.4598858 −0.7001142 and
	// mean difference −1.58 (group 1 − group 2; here group 2 − group 1).
	drug1 := []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	drug2 := []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
	c := verdict.Paired(drug2, drug1, verdict.Default)
	if !near(c.P, 0.002833, 5e-7) || !near(c.Difference.Mean, 1.58, 1e-12) ||
		!near(c.Difference.CI95[0], 0.7001142, 5e-8) || !near(c.Difference.CI95[1], 2.4598858, 5e-8) {
		t.Errorf("sleep data: p %v, difference %v; want 0.002833, 1.58 in [0.7001142, 2.4598858]", c.P, c.Difference)
	}
	if c.PHolm != c.P || c.Outcome != results.OutcomeUndecided {
		t.Errorf("before Holm: p_holm %v, outcome %s; want p and undecided", c.PHolm, c.Outcome)
	}
	// The order of the arguments only flips the sign.
	if r := verdict.Paired(drug1, drug2, verdict.Default); r.P != c.P || r.Difference.Mean != -c.Difference.Mean {
		t.Errorf("reversed: p %v, mean %v", r.P, r.Difference.Mean)
	}

	// Three seeds: Student's t with 2 degrees of freedom has the closed form
	// CDF ½ + t/(2√(2 + t²)), so the two-sided p is 1 − |t|/√(2 + t²).
	// Differences 1, 2, 3: mean 2, s = 1, t = 2√3, p = 1 − √(12/14).
	c = verdict.Paired([]float64{1.5, 2.5, 3.5}, []float64{0.5, 0.5, 0.5}, verdict.Default)
	if want := 1 - math.Sqrt(12.0/14); !near(c.P, want, 1e-12) {
		t.Errorf("three seeds: p %v, want %v", c.P, want)
	}
	// Two seeds: 1 degree of freedom (Cauchy), p = 1 − (2/π)·atan|t|.
	// Differences 1, 3: mean 2, s = √2, t = 2.
	c = verdict.Paired([]float64{1, 3}, []float64{0, 0}, verdict.Default)
	if want := 1 - 2/math.Pi*math.Atan(2); !near(c.P, want, 1e-12) {
		t.Errorf("two seeds: p %v, want %v", c.P, want)
	}
}

// TestPairedNoSpread checks differences that do not vary: all 0 gives
// p = 1 and not distinguishable, a constant non-zero difference p = 0 and
// higher or lower; either way the MDE is 0.
func TestPairedNoSpread(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    []float64
		p       float64
		outcome results.Outcome
	}{
		{"all equal", []float64{0.5, 0.75, 0.25}, []float64{0.5, 0.75, 0.25}, 1, results.OutcomeNotDist},
		{"constant +0.25", []float64{0.75, 0.5, 0.25}, []float64{0.5, 0.25, 0}, 0, results.OutcomeHigher},
		{"constant −0.5", []float64{0, 0.25, 0.5}, []float64{0.5, 0.75, 1}, 0, results.OutcomeLower},
	} {
		c := verdict.Paired(tc.a, tc.b, verdict.Default)
		cs := []results.Comparison{c}
		verdict.Holm(cs, verdict.Default)
		if c := cs[0]; c.P != tc.p || c.PHolm != tc.p || c.Outcome != tc.outcome || c.MDE != 0 {
			t.Errorf("%s: p %v, p_holm %v, %s, MDE %v; want p %v, %s, MDE 0", tc.name, c.P, c.PHolm, c.Outcome, c.MDE, tc.p, tc.outcome)
		}
	}
}

// TestPairedFewSeeds checks that fewer than two seeds decide nothing.
func TestPairedFewSeeds(t *testing.T) {
	for _, n := range []int{0, 1} {
		a, b := slices.Repeat([]float64{0.9}, n), slices.Repeat([]float64{0.1}, n)
		cs := []results.Comparison{verdict.Paired(a, b, verdict.Default)}
		verdict.Holm(cs, verdict.Default)
		c := cs[0]
		if c.Outcome != results.OutcomeUndecided || c.P != 1 || c.PHolm != 1 || c.MDE != 0 || len(c.Difference.Values) != n {
			t.Errorf("%d seeds: %+v; want undecided, p 1, MDE 0", n, c)
		}
	}
}

// TestMDE checks the minimum detectable effect against the formula with
// table values: five seeds, α = 0.05, power 0.8, one comparison:
// (t₀.₉₇₅,₄ + t₀.₈,₄) · s/√5 with t₀.₉₇₅,₄ = 2.776445 and t₀.₈,₄ = 0.940965
// (R: qt(0.975, 4), qt(0.8, 4)). Paired alone uses the level α; Holm with
// one comparison keeps it.
func TestMDE(t *testing.T) {
	a := []float64{0.81, 0.84, 0.80, 0.86, 0.83}
	b := []float64{0.80, 0.80, 0.81, 0.82, 0.80}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	want := (2.776445 + 0.940965) * sd(d) / math.Sqrt(5)
	c := verdict.Paired(a, b, verdict.Default)
	if !near(c.MDE, want, 1e-6*want) {
		t.Errorf("Paired MDE %v, want %v", c.MDE, want)
	}
	cs := []results.Comparison{c}
	verdict.Holm(cs, verdict.Default)
	if !near(cs[0].MDE, want, 1e-6*want) {
		t.Errorf("Holm MDE with m = 1: %v, want %v", cs[0].MDE, want)
	}
	// Another power: 90 % (t₀.₉,₄ = 1.533206, R: qt(0.9, 4)).
	cfg := verdict.Config{Alpha: 0.05, Power: 0.9}
	want = (2.776445 + 1.533206) * sd(d) / math.Sqrt(5)
	if c := verdict.Paired(a, b, cfg); !near(c.MDE, want, 1e-6*want) {
		t.Errorf("power 0.9: MDE %v, want %v", c.MDE, want)
	}
}

// per-seed values of one method, by metric.
type values map[results.Metric][]float64

// method builds a study method with id and the given per-seed metrics.
func method(id results.MethodID, v values) results.Method {
	m := results.Method{Name: id.Name(), ID: id}
	for metric, x := range v {
		e := results.NewEstimate(x)
		switch metric {
		case results.MetricTestAccuracy:
			m.TestAccuracy = e
		case results.MetricPopulationAUC:
			m.Attacks = []results.AttackEstimate{{Score: "neg_loss"}, {Score: "logit_confidence", AUC: e}}
		case results.MetricRMIAAUC:
			m.RMIAAUC = &e
		case results.MetricLiRAAUC:
			m.LiRAOfflineAUC = e
		case results.MetricULiRA:
			m.Shadow = &results.Shadow{ModelsPerSide: 4, ULiRA: e}
		}
	}
	return m
}

// plus returns x + d, elementwise; d is repeated when shorter.
func plus(x []float64, d ...float64) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] + d[i%len(d)]
	}
	return out
}

var (
	idRetrain   = results.MethodID{Family: results.FamilyRetrain}
	idRetrain2  = results.MethodID{Family: results.FamilyRetrain, Replica: 2}
	idIdentity  = results.MethodID{Family: results.FamilyIdentity}
	idFIM       = results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeSeed}
	idRandom    = results.MethodID{Family: results.FamilyRandom, Fraction: 0.2, Recipe: results.RecipeSeed}
	idMagnitude = results.MethodID{Family: results.FamilyMagnitude, Fraction: 0.2, Recipe: results.RecipeSeed}
	idFineTune  = results.MethodID{Family: results.FamilyFineTune, Recipe: results.RecipeSeed}
)

// fixture is a study of five seeds with retrain, retrain-2, identity,
// fim-prune-0.2 and its controls, every method with every metric:
//   - fim-prune-0.2's test accuracy is retrain's minus 0.05 on every seed
//     (lower than retrain), but retrain-2 differs from retrain enough that
//     the comparison with retrain-2 cannot tell (not distinguishable);
//   - magnitude-prune-0.2's test accuracy is far below both (lower);
//   - identity's population, RMIA and U-LiRA numbers are far above both
//     (higher); everything else is noise of about 0.01.
func fixture() *results.Study {
	test := []float64{0.80, 0.82, 0.84, 0.86, 0.88}
	pop := []float64{0.50, 0.52, 0.49, 0.51, 0.50}
	rmia := []float64{0.50, 0.51, 0.49, 0.52, 0.50}
	lira := []float64{0.50, 0.49, 0.52, 0.50, 0.51}
	ulira := []float64{0.50, 0.52, 0.50, 0.49, 0.51}
	noise := func(d ...float64) func([]float64) []float64 {
		return func(x []float64) []float64 { return plus(x, d...) }
	}
	n1, n2, n3 := noise(0.01, -0.02, 0.01, 0, -0.01), noise(-0.01, 0, 0.02, -0.01, 0.01), noise(0, 0.01, -0.01, 0.02, -0.02)
	all := func(f func([]float64) []float64) values {
		return values{results.MetricTestAccuracy: f(test), results.MetricPopulationAUC: f(pop), results.MetricRMIAAUC: f(rmia), results.MetricLiRAAUC: f(lira), results.MetricULiRA: f(ulira)}
	}
	retrain2 := all(n1)
	retrain2[results.MetricTestAccuracy] = []float64{0.79, 0.85, 0.80, 0.90, 0.84}
	identity := all(n2)
	identity[results.MetricPopulationAUC] = []float64{0.70, 0.72, 0.71, 0.69, 0.70}
	identity[results.MetricRMIAAUC] = []float64{0.80, 0.82, 0.79, 0.81, 0.80}
	identity[results.MetricULiRA] = []float64{0.90, 0.88, 0.91, 0.92, 0.90}
	fim := all(n3)
	fim[results.MetricTestAccuracy] = plus(test, -0.05)
	magnitude := all(n2)
	magnitude[results.MetricTestAccuracy] = []float64{0.30, 0.31, 0.29, 0.30, 0.32}
	return &results.Study{
		Seeds: []uint64{1, 2, 3, 4, 5},
		Methods: []results.Method{
			method(idFIM, fim),
			method(idFineTune, all(n1)),
			method(idRandom, all(n3)),
			method(idMagnitude, magnitude),
			method(idRetrain, all(func(x []float64) []float64 { return x })),
			method(idRetrain2, retrain2),
			method(idIdentity, identity),
		},
	}
}

type pair struct{ method, reference string }

// TestCompare checks the family Compare builds on the fixture: exactly the
// comparisons its documentation promises, Holm over all of them, and
// findings that say higher or lower only when retrain and retrain-2 agree.
func TestCompare(t *testing.T) {
	s := fixture()
	v := verdict.Compare(s, verdict.Default)
	if v == nil {
		t.Fatal("Compare = nil")
	}
	if v.Alpha != 0.05 || v.Power != 0.8 || v.Correction != "holm" {
		t.Errorf("alpha %v, power %v, correction %q", v.Alpha, v.Power, v.Correction)
	}
	// The family: 5 methods (identity, fim-prune-0.2 and its three
	// controls) × 2 references, retrain-2 against retrain, and fim-prune-0.2
	// against its 3 controls: 14 pairs, each on the 5 metrics.
	want := map[pair]bool{{"retrain-2", "retrain"}: true}
	for _, m := range []string{"identity", "fim-prune-0.2", "random-prune-0.2", "magnitude-prune-0.2", "finetune"} {
		want[pair{m, "retrain"}], want[pair{m, "retrain-2"}] = true, true
	}
	for _, c := range []string{"random-prune-0.2", "magnitude-prune-0.2", "finetune"} {
		want[pair{"fim-prune-0.2", c}] = true
	}
	if len(want) != 14 || len(v.Comparisons) != 14*5 {
		t.Errorf("%d comparisons, want 14 pairs × 5 metrics = 70", len(v.Comparisons))
	}
	metrics := map[pair][]results.Metric{}
	for _, c := range v.Comparisons {
		p := pair{c.Method, c.Reference}
		if !want[p] {
			t.Errorf("unexpected comparison %s vs %s", c.Method, c.Reference)
		}
		metrics[p] = append(metrics[p], c.Metric)
		if c.PHolm < c.P || c.PHolm > 1 {
			t.Errorf("%s vs %s, %s: p %v, p_holm %v", c.Method, c.Reference, c.Metric, c.P, c.PHolm)
		}
		// Holm's MDE at α/m, m = 70, n = 5.
		t4 := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 4}
		if mde := (t4.Quantile(1-0.05/140) + t4.Quantile(0.8)) * sd(c.Difference.Values) / math.Sqrt(5); !near(c.MDE, mde, 1e-12) {
			t.Errorf("%s vs %s, %s: MDE %v, want %v", c.Method, c.Reference, c.Metric, c.MDE, mde)
		}
		// The difference is the method's values minus the reference's.
		a, b := s.MethodByName(c.Method).Estimate(c.Metric), s.MethodByName(c.Reference).Estimate(c.Metric)
		for i := range a.Values {
			if c.Difference.Values[i] != a.Values[i]-b.Values[i] {
				t.Errorf("%s vs %s, %s: difference[%d] %v", c.Method, c.Reference, c.Metric, i, c.Difference.Values[i])
			}
		}
	}
	for p := range want {
		if !slices.Equal(metrics[p], results.Metrics) {
			t.Errorf("%s vs %s on %v, want every metric in order", p.method, p.reference, metrics[p])
		}
	}

	// Findings: one per method other than retrain and metric (6 × 5).
	outcome := map[pair]map[results.Metric]results.Outcome{}
	for _, c := range v.Comparisons {
		p := pair{c.Method, c.Reference}
		if outcome[p] == nil {
			outcome[p] = map[results.Metric]results.Outcome{}
		}
		outcome[p][c.Metric] = c.Outcome
	}
	if len(v.Findings) != 30 {
		t.Errorf("%d findings, want 30", len(v.Findings))
	}
	decided := 0
	for _, f := range v.Findings {
		ref := outcome[pair{f.Method, "retrain"}][f.Metric]
		want := ref
		if f.Method != "retrain-2" {
			if null := outcome[pair{f.Method, "retrain-2"}][f.Metric]; null != ref {
				want = results.OutcomeNotDist
			}
		}
		if f.Outcome != want {
			t.Errorf("finding %s, %s = %s; comparisons say %s and %s", f.Method, f.Metric, f.Outcome, ref, outcome[pair{f.Method, "retrain-2"}][f.Metric])
		}
		if f.Outcome == results.OutcomeHigher || f.Outcome == results.OutcomeLower {
			decided++
		}
	}
	find := func(m string, metric results.Metric) results.Outcome {
		for _, f := range v.Findings {
			if f.Method == m && f.Metric == metric {
				return f.Outcome
			}
		}
		return ""
	}
	for _, tc := range []struct {
		method  string
		metric  results.Metric
		ref     results.Outcome // against retrain
		null    results.Outcome // against retrain-2
		finding results.Outcome
	}{
		{"fim-prune-0.2", results.MetricTestAccuracy, results.OutcomeLower, results.OutcomeNotDist, results.OutcomeNotDist},
		{"magnitude-prune-0.2", results.MetricTestAccuracy, results.OutcomeLower, results.OutcomeLower, results.OutcomeLower},
		{"identity", results.MetricPopulationAUC, results.OutcomeHigher, results.OutcomeHigher, results.OutcomeHigher},
		{"identity", results.MetricRMIAAUC, results.OutcomeHigher, results.OutcomeHigher, results.OutcomeHigher},
		{"identity", results.MetricULiRA, results.OutcomeHigher, results.OutcomeHigher, results.OutcomeHigher},
		{"finetune", results.MetricLiRAAUC, results.OutcomeNotDist, results.OutcomeNotDist, results.OutcomeNotDist},
	} {
		ref, null := outcome[pair{tc.method, "retrain"}][tc.metric], outcome[pair{tc.method, "retrain-2"}][tc.metric]
		if got := find(tc.method, tc.metric); ref != tc.ref || null != tc.null || got != tc.finding {
			t.Errorf("%s, %s: against retrain %s, retrain-2 %s, finding %s; want %s, %s, %s", tc.method, tc.metric, ref, null, got, tc.ref, tc.null, tc.finding)
		}
	}
	if decided != 4 {
		t.Errorf("%d findings higher or lower, want 4 (magnitude-prune's accuracy, identity's three attacks)", decided)
	}
	if got := find("retrain-2", results.MetricTestAccuracy); got != results.OutcomeNotDist {
		t.Errorf("retrain-2 test accuracy: %s, want not distinguishable", got)
	}
}

// TestCompareMatching checks which methods are compared with what: a fast
// FIM pruning has no controls (they use the seed recipe), a random pruning
// of another fraction is no control of fim-prune-0.2, and every method is
// still compared with both references.
func TestCompareMatching(t *testing.T) {
	s := fixture()
	fast := s.Methods[0]
	fast.ID.Recipe = results.RecipeFast
	fast.Name = fast.ID.Name()
	other := s.Methods[2]
	other.ID.Fraction = 0.3
	other.Name = other.ID.Name()
	s.Methods = append(s.Methods, fast, other)
	v := verdict.Compare(s, verdict.Default)
	pairs := map[pair]int{}
	for _, c := range v.Comparisons {
		pairs[pair{c.Method, c.Reference}]++
	}
	if len(v.Comparisons) != (14+4)*5 {
		t.Errorf("%d comparisons, want 18 pairs × 5 metrics", len(v.Comparisons))
	}
	for _, p := range []pair{{"fim-prune-0.2-fast", "retrain"}, {"fim-prune-0.2-fast", "retrain-2"}, {"random-prune-0.3", "retrain"}, {"random-prune-0.3", "retrain-2"}} {
		if pairs[p] != 5 {
			t.Errorf("%s vs %s: %d comparisons, want 5", p.method, p.reference, pairs[p])
		}
	}
	for p := range pairs {
		if p.method == "fim-prune-0.2-fast" && p.reference != "retrain" && p.reference != "retrain-2" || p.reference == "random-prune-0.3" {
			t.Errorf("unexpected comparison %s vs %s", p.method, p.reference)
		}
	}
}

// TestCompareReferences checks Compare without retrain (nil), without
// retrain-2 (findings are the comparisons with retrain) and with one seed
// (everything undecided).
func TestCompareReferences(t *testing.T) {
	s := fixture()
	s.Methods = slices.DeleteFunc(s.Methods, func(m results.Method) bool { return m.ID.Role() == results.RoleReference })
	if v := verdict.Compare(s, verdict.Default); v != nil {
		t.Errorf("without retrain: %d comparisons, want nil", len(v.Comparisons))
	}

	s = fixture()
	s.Methods = slices.DeleteFunc(s.Methods, func(m results.Method) bool { return m.ID.Role() == results.RoleNull })
	v := verdict.Compare(s, verdict.Default)
	if len(v.Comparisons) != (5+3)*5 || len(v.Findings) != 5*5 {
		t.Errorf("without retrain-2: %d comparisons, %d findings; want 40 and 25", len(v.Comparisons), len(v.Findings))
	}
	for _, f := range v.Findings {
		for _, c := range v.Comparisons {
			if c.Method == f.Method && c.Reference == "retrain" && c.Metric == f.Metric && c.Outcome != f.Outcome {
				t.Errorf("without retrain-2: finding %s, %s = %s, comparison with retrain %s", f.Method, f.Metric, f.Outcome, c.Outcome)
			}
		}
	}

	s = fixture()
	s.Seeds = s.Seeds[:1]
	for i := range s.Methods {
		m := &s.Methods[i]
		for _, metric := range results.Metrics {
			e := m.Estimate(metric)
			*e = results.NewEstimate(e.Values[:1])
		}
	}
	v = verdict.Compare(s, verdict.Default)
	if len(v.Comparisons) != 70 || len(v.Findings) != 30 {
		t.Errorf("one seed: %d comparisons, %d findings", len(v.Comparisons), len(v.Findings))
	}
	for _, c := range v.Comparisons {
		if c.Outcome != results.OutcomeUndecided || c.P != 1 || c.PHolm != 1 || c.MDE != 0 {
			t.Errorf("one seed: %s vs %s, %s: %s, p %v, p_holm %v, MDE %v", c.Method, c.Reference, c.Metric, c.Outcome, c.P, c.PHolm, c.MDE)
		}
	}
	for _, f := range v.Findings {
		if f.Outcome != results.OutcomeUndecided {
			t.Errorf("one seed: finding %s, %s = %s", f.Method, f.Metric, f.Outcome)
		}
	}
}

// TestGoldenVerdicts checks that the verdicts of the golden results file
// (fimlib/results/testdata/golden/results.json) are what Compare gives for
// its study.
func TestGoldenVerdicts(t *testing.T) {
	r, err := results.Read("../results/testdata/golden/results.json")
	if err != nil {
		t.Fatal(err)
	}
	want := r.Study.Verdicts
	r.Study.Verdicts = nil
	if got := verdict.Compare(r.Study, verdict.Default); !reflect.DeepEqual(got, want) {
		t.Errorf("Compare of the golden study differs from its verdicts:\n got %+v\nwant %+v", got, want)
	}
}

// TestCalibration runs the machinery on generated numbers. Under the null
// (retrain, retrain-2, identity, fim-prune-0.2 and its three controls drawn from one distribution, five
// seeds, 2,000 repetitions) the 95 % interval of retrain-2 − retrain must
// cover 0 in 95 % ± 1.5 % of repetitions, its unadjusted p must fall below
// α in 5 % ± 1.5 %, and the family of 14 comparisons must claim a
// difference (any higher or lower) in at most α of repetitions (Holm holds
// the family-wise error rate at α; with comparisons sharing their
// references it is conservative).
func TestCalibration(t *testing.T) {
	const reps, seeds = 2000, 5
	r := rand.New(rand.NewPCG(2024, 7))
	cfg := verdict.Default
	draw := func() []float64 {
		x := make([]float64, seeds)
		for i := range x {
			x[i] = 0.84 + 0.005*r.NormFloat64()
		}
		return x
	}
	ids := []results.MethodID{idRetrain, idRetrain2, idIdentity, idFIM, idRandom, idMagnitude, idFineTune}
	var covered, rejected, familyErrors, comparisons int
	for range reps {
		s := &results.Study{Seeds: make([]uint64, seeds)}
		for _, id := range ids {
			s.Methods = append(s.Methods, method(id, values{results.MetricTestAccuracy: draw()}))
		}
		v := verdict.Compare(s, cfg)
		anyClaim := false
		for _, c := range v.Comparisons {
			if c.Metric != results.MetricTestAccuracy {
				continue // the other metrics are empty: undecided
			}
			comparisons++
			if c.Outcome == results.OutcomeHigher || c.Outcome == results.OutcomeLower {
				anyClaim = true
			}
			if c.Method == "retrain-2" && c.Reference == "retrain" {
				if c.Difference.CI95[0] <= 0 && 0 <= c.Difference.CI95[1] {
					covered++
				}
				if c.P < cfg.Alpha {
					rejected++
				}
			}
		}
		if anyClaim {
			familyErrors++
		}
	}
	if comparisons != 14*reps {
		t.Fatalf("%d comparisons on test accuracy, want 14 per repetition", comparisons)
	}
	coverage, size, fwer := float64(covered)/reps, float64(rejected)/reps, float64(familyErrors)/reps
	t.Logf("null, %d seeds, %d repetitions: 95 %% interval covers 0 in %.2f %%; p < α in %.2f %%; Holm family of 14 claims a difference in %.2f %% (α = %g)",
		seeds, reps, 100*coverage, 100*size, 100*fwer, cfg.Alpha)
	if math.Abs(coverage-0.95) > 0.015 {
		t.Errorf("coverage %.4f, want 0.95 ± 0.015", coverage)
	}
	if math.Abs(size-cfg.Alpha) > 0.015 {
		t.Errorf("unadjusted false-positive rate %.4f, want %g ± 0.015", size, cfg.Alpha)
	}
	if fwer > cfg.Alpha {
		t.Errorf("family-wise false-positive rate %.4f, want ≤ %g", fwer, cfg.Alpha)
	}
}

// TestPower checks the minimum detectable effect: a method shifted by the
// MDE for one comparison at level α (computed from the true spread of the
// differences) should be found higher in about `power` of repetitions.
// The formula (t₁₋α/2,ₙ₋₁ + t_power,ₙ₋₁) · σ/√n is the normal approximation
// with t quantiles; the exact power is that of the non-central t, computed
// here by integrating over the sample variance: P(|Z + λ| > c · √(V/ν)),
// V ~ χ²_ν, ν = n − 1, λ = t₁₋α/2,ₙ₋₁ + t_power,ₙ₋₁ and c = t₁₋α/2,ₙ₋₁.
// The measured rate must be within 3 % of the exact power and within
// 80 % ± 5 %.
func TestPower(t *testing.T) {
	const reps, seeds, sigma = 2000, 5, 0.005
	cfg := verdict.Default
	tn := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: seeds - 1}
	c := tn.Quantile(1 - cfg.Alpha/2)
	lambda := c + tn.Quantile(cfg.Power)
	sdDiff := sigma * math.Sqrt2 // method and retrain independent
	shift := lambda * sdDiff / math.Sqrt(seeds)

	chi := distuv.ChiSquared{K: seeds - 1}
	var exact float64
	const h = 1e-3
	for v := h / 2; v < 60; v += h {
		q := c * math.Sqrt(v/(seeds-1))
		exact += chi.Prob(v) * (distuv.UnitNormal.Survival(q-lambda) + distuv.UnitNormal.CDF(-q-lambda)) * h
	}

	r := rand.New(rand.NewPCG(2024, 8))
	var found int
	var mdeSum float64
	for range reps {
		ref, m := make([]float64, seeds), make([]float64, seeds)
		for i := range ref {
			ref[i] = 0.84 + sigma*r.NormFloat64()
			m[i] = 0.84 + shift + sigma*r.NormFloat64()
		}
		cs := []results.Comparison{verdict.Paired(m, ref, cfg)}
		verdict.Holm(cs, cfg)
		if cs[0].Outcome == results.OutcomeHigher {
			found++
		}
		mdeSum += cs[0].MDE
	}
	power := float64(found) / reps
	t.Logf("shift = MDE (%.5f, %d seeds, α = %g, m = 1): found higher in %.2f %% of %d repetitions; exact non-central t power %.2f %%, nominal %.0f %%; mean reported MDE %.5f",
		shift, seeds, cfg.Alpha, 100*power, reps, 100*exact, 100*cfg.Power, mdeSum/reps)
	if math.Abs(power-exact) > 0.03 {
		t.Errorf("power %.4f, want the exact %.4f ± 0.03", power, exact)
	}
	if math.Abs(power-cfg.Power) > 0.05 {
		t.Errorf("power %.4f, want %g ± 0.05", power, cfg.Power)
	}
	if exact > cfg.Power || exact < cfg.Power-0.05 {
		t.Errorf("exact power %.4f: the formula should be slightly optimistic (below %g, by less than 0.05)", exact, cfg.Power)
	}
}

func Example() {
	// Two methods over four seeds: the paired difference, its p-value
	// and what Holm's correction makes of it as a family of one.
	c := verdict.Paired([]float64{0.84, 0.85, 0.83, 0.86}, []float64{0.80, 0.82, 0.81, 0.83}, verdict.Default)
	cs := []results.Comparison{c}
	verdict.Holm(cs, verdict.Default)
	fmt.Printf("difference %.3f, p %.4f, %s\n", cs[0].Difference.Mean, cs[0].P, cs[0].Outcome)
	// Output: difference 0.030, p 0.0052, higher
}
