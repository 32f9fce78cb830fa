package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/verdict"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// add returns xs + d elementwise.
func add(xs []float64, d ...float64) []float64 {
	out := make([]float64, len(xs))
	for i := range xs {
		out[i] = xs[i] + d[i%len(d)]
	}
	return out
}

func neg(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = -x
	}
	return out
}

// method returns the study's method of that name.
func method(t *testing.T, st *results.Study, name string) *results.Method {
	t.Helper()
	if m := st.MethodByName(name); m != nil {
		return m
	}
	t.Fatalf("no method %q", name)
	return nil
}

// recomputeStudy derives the gaps from the accuracies and the retrained
// model's (the method whose identity is the reference), and every estimate
// of schema v2 from its values, as the experiment does.
func recomputeStudy(st *results.Study) {
	var retrain *results.Method
	for i := range st.Methods {
		if id, ok := st.Methods[i].Identity(); ok && id.Role() == results.RoleReference {
			retrain = &st.Methods[i]
		}
	}
	for i := range st.Methods {
		m := &st.Methods[i]
		if retrain != nil {
			m.TestGap.Values = add(m.TestAccuracy.Values, neg(retrain.TestAccuracy.Values)...)
			m.RetainGap.Values = add(m.RetainAccuracy.Values, neg(retrain.RetainAccuracy.Values)...)
			m.ForgetGap.Values = add(m.ForgetAccuracy.Values, neg(retrain.ForgetAccuracy.Values)...)
		}
		es := []*results.Estimate{&m.Zeroed, &m.TestAccuracy, &m.RetainAccuracy, &m.ForgetAccuracy, &m.TestGap, &m.RetainGap, &m.ForgetGap, &m.ForgetKL, &m.LiRAOfflineAUC, &m.Seconds}
		for j := range m.Attacks {
			es = append(es, &m.Attacks[j].AUC, &m.Attacks[j].Advantage, &m.Attacks[j].TPRAt1pctFPR)
			if m.Attacks[j].TPRAt01pctFPR != nil {
				es = append(es, m.Attacks[j].TPRAt01pctFPR)
			}
		}
		if c := m.Change; c != nil {
			es = append(es, &c.Parameters, &c.RelativeL2)
		}
		for _, e := range []*results.Estimate{m.LiRATiedShare, m.RMIAAUC, m.RMIATPRAt1pctFPR} {
			if e != nil {
				es = append(es, e)
			}
		}
		if sh := m.Shadow; sh != nil {
			es = append(es, &sh.ULiRA, &sh.ForgetScore, &sh.Capped)
		}
		for _, e := range es {
			*e = results.NewEstimate(e.Values)
		}
	}
}

// withStudy returns small.json with the study st under the given schema
// (results.Schema or results.SchemaV2), failing unless it validates.
func withStudy(t testing.TB, st *results.Study, schema string) *results.Results {
	t.Helper()
	res := loadResults(t, "small.json")
	res.Schema = schema
	res.Study = st
	if err := res.Validate(); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return res
}

// mustRender renders res, failing on an error.
func mustRender(t *testing.T, res *results.Results) *Files {
	t.Helper()
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// section8 returns section 8 of a report's Markdown.
func section8(t *testing.T, md []byte) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(md), "## 8. Methods compared over seeds\n")
	if !ok {
		t.Fatal("no section 8")
	}
	sec, _, _ := strings.Cut(rest, "\n## ")
	return sec
}

// ---- schema v2 ----

// studyMethodV2 is one method of the synthetic v2 study: per-seed values
// of the metrics it sets; recomputeStudy derives the rest.
type studyMethodV2 struct {
	name                 string
	zeroed               float64
	test, retain, forget []float64
	kl, lira, secs       []float64
	lossAUC, logitAUC    []float64
	ulira                *results.ULiRA
	eps                  *results.EpsilonScore
}

func ulira(acc, lo, hi float64) *results.ULiRA {
	return &results.ULiRA{Accuracy: acc, CI95: [2]float64{lo, hi}, Examples: 10, Pairs: 160}
}

func epsilon(mean, f float64) *results.EpsilonScore {
	return &results.EpsilonScore{MeanEpsilon: mean, ForgetScore: f, ModelsPerSide: 8, Ceiling: math.Log(8*(1-1e-5) - 1)}
}

// studyFixtureV2 is a synthetic schema v2 study over 5 seeds of the eight
// methods the v2 experiment ran, on small.json's data (17 parameters, 10
// forget rows), with U-LiRA and ε from shared shadow models.
func studyFixtureV2() *results.Study {
	fimTest := []float64{0.84, 0.85, 0.83, 0.86, 0.84}
	retrainTest := []float64{0.852, 0.856, 0.849, 0.861, 0.853}
	retain := []float64{0.87, 0.88, 0.86, 0.88, 0.87}
	forget := []float64{0.8, 0.9, 0.8, 0.8, 0.9}
	secs := []float64{1.2, 1.3, 1.25, 1.4, 1.35}
	fimLiRA := []float64{0.55, 0.56, 0.54, 0.57, 0.55}
	auc := []float64{0.52, 0.5, 0.55, 0.51, 0.53}
	ms := []studyMethodV2{
		{"fim-prune-0.25", 4, fimTest, retain, forget, []float64{0.02, 0.03, 0.025, 0.02, 0.03}, fimLiRA, secs, auc, add(auc, 0.01), ulira(0.62, 0.57, 0.67), epsilon(1.71, 0.31)},
		{"ratio-prune-a10", 4, add(fimTest, 0.002), retain, forget, []float64{0.01, 0.02, 0.015, 0.01, 0.02}, add(fimLiRA, -0.02), secs, auc, auc, ulira(0.58, 0.53, 0.63), epsilon(1.52, 0.36)},
		{"ssd-a10-l1", 0, add(fimTest, 0.001), retain, forget, []float64{0.05, 0.04, 0.06, 0.05, 0.04}, add(fimLiRA, 0.03), add(secs, -1), auc, auc, ulira(0.7, 0.65, 0.75), epsilon(1.8, 0.27)},
		{"finetune", 0, add(fimTest, 0.004, 0.005, 0.006, 0.005, 0.004), retain, forget, []float64{0.01, 0.01, 0.02, 0.01, 0.01}, add(fimLiRA, 0.02, 0, 0.03, 0.01, 0.02), secs, auc, auc, ulira(0.72, 0.68, 0.76), epsilon(1.85, 0.25)},
		{"random-prune-0.25", 4, add(fimTest, 0.005, -0.01, 0.01, -0.01, 0.005), retain, forget, []float64{0.03, 0.03, 0.02, 0.03, 0.03}, add(fimLiRA, 0.01, -0.02, 0.02, 0, -0.01), secs, auc, auc, ulira(0.6, 0.55, 0.65), epsilon(1.68, 0.3)},
		{"magnitude-prune-0.25", 4, add(fimTest, -0.01, -0.012, -0.011, -0.009, -0.01), retain, forget, []float64{0.04, 0.05, 0.04, 0.05, 0.04}, add(fimLiRA, -0.01, -0.02, 0, -0.01, -0.015), secs, auc, auc, ulira(0.64, 0.59, 0.69), epsilon(1.75, 0.28)},
		{"neggrad+-a0.95", 0, add(fimTest, -0.02), retain, add(forget, -0.1), []float64{0.1, 0.12, 0.11, 0.1, 0.09}, add(fimLiRA, -0.05), add(secs, -0.5), auc, auc, ulira(0.52, 0.47, 0.57), epsilon(1.49, 0.42)},
		{"retrain", 0, retrainTest, retain, forget, []float64{0, 0, 0, 0, 0}, []float64{0.5, 0.52, 0.49, 0.51, 0.5}, []float64{2.5, 2.6, 2.4, 2.55, 2.45}, auc, auc, nil, nil},
	}
	st := &results.Study{Seeds: []uint64{11, 12, 13, 14, 15}, Fraction: 0.25, ForgetRows: 10, NonMembers: 10, Shadows: 16, Seconds: 123.4}
	for _, m := range ms {
		n := len(st.Seeds)
		z := make([]float64, n)
		for i := range z {
			z[i] = m.zeroed
		}
		zero := make([]float64, n)
		st.Methods = append(st.Methods, results.Method{
			Name: m.name, Zeroed: results.Estimate{Values: z},
			TestAccuracy: results.Estimate{Values: m.test}, RetainAccuracy: results.Estimate{Values: m.retain}, ForgetAccuracy: results.Estimate{Values: m.forget},
			ForgetKL: results.Estimate{Values: m.kl},
			Attacks: []results.AttackEstimate{
				{Score: "neg_loss", AUC: results.Estimate{Values: m.lossAUC}, Advantage: results.Estimate{Values: zero}, TPRAt1pctFPR: results.Estimate{Values: zero}},
				{Score: "logit_confidence", AUC: results.Estimate{Values: m.logitAUC}, Advantage: results.Estimate{Values: zero}, TPRAt1pctFPR: results.Estimate{Values: zero}},
			},
			LiRAOfflineAUC: results.Estimate{Values: m.lira}, Seconds: results.Estimate{Values: m.secs},
			ULiRA: m.ulira, Epsilon: m.eps,
		})
	}
	recomputeStudy(st)
	return st
}

// hostileStudyV2 is the v2 fixture with hostile method names (v2 names are
// free text) and an attack score that is markup.
func hostileStudyV2() *results.Study {
	st := studyFixtureV2()
	hostile := []string{evil, "![x](fig-5-pareto.svg)", "a|b", "`tick`", "x\ny", "[link](javascript:alert(1))", "fim-prune-NaN", "fim-prune-" + evil}
	for i, name := range hostile {
		st.Methods[i].Name = name
	}
	st.Methods[1].Attacks[0].Score = evil
	return st
}

// ---- schema v3 ----

// v3Spec is one method of the synthetic v3 study: its identity and its
// offsets from retraining's per-seed values, with the scale of its own
// seed-to-seed noise.
type v3Spec struct {
	id                           results.MethodID
	zeroed, changed, l2          float64
	test, ulira, pop, rmia, lira float64 // offsets from retraining's values
	testNoise, noise             float64 // noise of test accuracy and of the attacks
	secs                         float64
}

// patterns are the fixture's seed-to-seed noise shapes (sum 0 over 5 seeds).
var patterns = [][]float64{
	{1, -1, 0.5, -0.5, 0},
	{-0.6, 0.8, -1, 0.4, 0.4},
	{0.3, 0.7, -0.9, -0.6, 0.5},
	{-1, 0.2, 0.6, 0.9, -0.7},
	{0.8, -0.4, -0.8, 0.2, 0.2},
}

// v3Specs are the fixture's methods: the v3 experiment's, with the null
// (a second retrain) and the upper reference (the identity).
var v3Specs = []v3Spec{
	{id: results.MethodID{Family: results.FamilyFIM, Fraction: 0.25, Recipe: results.RecipeSeed}, zeroed: 4, changed: 15, l2: 0.4, test: -0.012, ulira: 0.12, pop: 0.01, rmia: 0.01, lira: 0.02, testNoise: 0.0008, noise: 0.006, secs: 1.3},
	{id: results.MethodID{Family: results.FamilyFIM, Fraction: 0.25, Recipe: results.RecipeFast}, zeroed: 4, changed: 15, l2: 0.3, test: -0.02, ulira: 0.15, pop: 0.01, rmia: 0.02, lira: 0.02, testNoise: 0.006, noise: 0.05, secs: 0.4},
	{id: results.MethodID{Family: results.FamilyRatio, Alpha: 10, Recipe: results.RecipeSeed}, zeroed: 3, changed: 14, l2: 0.35, test: -0.003, ulira: 0.05, pop: 0.005, rmia: 0.01, lira: 0.01, testNoise: 0.004, noise: 0.04, secs: 1.3},
	{id: results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1}, changed: 5, l2: 0.1, test: -0.001, ulira: 0.2, pop: 0.03, rmia: 0.03, lira: 0.04, testNoise: 0.003, noise: 0.05, secs: 0.2},
	{id: results.MethodID{Family: results.FamilyFineTune, Recipe: results.RecipeSeed}, changed: 17, l2: 0.3, test: -0.002, ulira: 0.22, pop: 0.02, rmia: 0.02, lira: 0.03, testNoise: 0.003, noise: 0.012, secs: 1.2},
	{id: results.MethodID{Family: results.FamilyRandom, Fraction: 0.25, Recipe: results.RecipeSeed}, zeroed: 4, changed: 17, l2: 0.45, test: -0.01, ulira: 0.1, pop: 0.01, rmia: 0.01, lira: 0.01, testNoise: 0.008, noise: 0.06, secs: 1.3},
	{id: results.MethodID{Family: results.FamilyMagnitude, Fraction: 0.25, Recipe: results.RecipeSeed}, zeroed: 4, changed: 17, l2: 0.35, test: -0.022, ulira: 0.11, pop: 0.01, rmia: 0.01, lira: 0.01, testNoise: 0.0008, noise: 0.05, secs: 1.3},
	{id: results.MethodID{Family: results.FamilyNegGrad, Alpha: 0.95, Recipe: results.RecipeSeed}, changed: 17, l2: 0.5, test: -0.03, ulira: 0.02, pop: -0.01, rmia: -0.01, lira: -0.01, testNoise: 0.002, noise: 0.03, secs: 0.8},
	{id: results.MethodID{Family: results.FamilyRetrain}, changed: 17, l2: 1.2, secs: 2.5},
	{id: results.MethodID{Family: results.FamilyRetrain, Replica: 2}, changed: 17, l2: 1.2, testNoise: 0.001, noise: 0.01, secs: 2.5},
	{id: results.MethodID{Family: results.FamilyIdentity}, test: 0.002, ulira: 0.3, pop: 0.05, rmia: 0.08, lira: 0.1, testNoise: 0.002, noise: 0.005},
}

// studyFixtureV3 is a synthetic schema v3 study over the first n (≤ 5)
// seeds of the eleven methods of v3Specs, on small.json's data, with
// per-seed forget sets, RMIA settings, per-seed shadow attacks and the
// verdicts verdict.Compare computes. Its numbers make FIM pruning at 25 %
// lower than both retrains on test accuracy and higher on U-LiRA accuracy,
// and leave most other comparisons undecided by the data.
func studyFixtureV3(n int) *results.Study {
	base := struct{ test, retain, forget, ulira, pop, rmia, lira, kl []float64 }{
		test:   []float64{0.852, 0.856, 0.849, 0.861, 0.853},
		retain: []float64{0.87, 0.88, 0.86, 0.88, 0.87},
		forget: []float64{0.8, 0.9, 0.8, 0.8, 0.9},
		ulira:  []float64{0.5, 0.52, 0.49, 0.51, 0.5},
		pop:    []float64{0.52, 0.5, 0.55, 0.51, 0.53},
		rmia:   []float64{0.51, 0.5, 0.53, 0.49, 0.52},
		lira:   []float64{0.5, 0.52, 0.49, 0.51, 0.5},
	}
	st := &results.Study{Fraction: 0.25, ForgetRows: 10, NonMembers: 10, Shadows: 16, Seconds: 321.5,
		RMIA: &results.RMIASettings{Signal: "true-label probability", Gamma: 2, A: 0.5, Grid: []float64{0, 0.5, 1}, GridAUC: []float64{0.56, 0.625, 0.59}, TuneTargets: 4, TuneRows: 60, PopulationRows: 20}}
	for k := range n {
		st.Seeds = append(st.Seeds, uint64(11+k))
		rows := make([]int, 10)
		for j := range rows {
			rows[j] = 10*k + j // disjoint forget sets, one per seed
		}
		st.ForgetSets = append(st.ForgetSets, results.ForgetSet{Spec: "random:10", Seed: int64(1000 + k), Rows: rows, SplitSeed: 7})
	}
	vals := func(b []float64, off, scale float64, p int) results.Estimate {
		v := make([]float64, n)
		for k := range v {
			v[k] = b[k] + off + scale*patterns[p%len(patterns)][k]
		}
		return results.Estimate{Values: v}
	}
	flat := func(x float64) results.Estimate { return vals(make([]float64, 5), x, 0, 0) }
	for i, sp := range v3Specs {
		u := vals(base.ulira, sp.ulira, sp.noise, i+1)
		f := make([]float64, n)
		capped := make([]float64, n)
		for k := range f {
			f[k] = min(1, max(0, 1-2*(u.Values[k]-0.5)))
			capped[k] = math.Round(10 * (u.Values[k] - 0.5))
			capped[k] = min(10, max(0, capped[k]))
		}
		pop := vals(base.pop, sp.pop, sp.noise, i+2)
		var tied results.Estimate
		if sp.zeroed > 0 {
			tied = vals(make([]float64, 5), 0.05, 0.01, i)
		} else {
			tied = flat(0)
		}
		rmia := vals(base.rmia, sp.rmia, sp.noise, i+3)
		rmiaTPR := vals(make([]float64, 5), 0.1+sp.rmia, sp.noise/2, i+3)
		median := 0.4 + sp.ulira
		st.Methods = append(st.Methods, results.Method{
			Name: sp.id.Name(), ID: sp.id,
			Zeroed:         flat(sp.zeroed),
			Change:         &results.Change{Parameters: flat(sp.changed), RelativeL2: vals(make([]float64, 5), sp.l2, 0.01*min(1, sp.l2), i)},
			TestAccuracy:   vals(base.test, sp.test, sp.testNoise, i),
			RetainAccuracy: vals(base.retain, sp.test, sp.testNoise, i),
			ForgetAccuracy: vals(base.forget, sp.test, sp.testNoise, i),
			ForgetKL:       vals(make([]float64, 5), sp.ulira/4+sp.noise/10, sp.noise/20, i),
			Attacks: []results.AttackEstimate{
				{Score: "neg_loss", AUC: vals(base.pop, sp.pop-0.01, sp.noise, i+2), Advantage: vals(make([]float64, 5), 0.1+sp.pop, sp.noise/2, i), TPRAt1pctFPR: flat(0.1), TPRAt01pctFPR: ptr(flat(0))},
				{Score: "logit_confidence", AUC: pop, Advantage: vals(make([]float64, 5), 0.1+sp.pop, sp.noise/2, i), TPRAt1pctFPR: flat(0.1), TPRAt01pctFPR: ptr(flat(0))},
			},
			LiRAOfflineAUC:   vals(base.lira, sp.lira, sp.noise, i+4),
			LiRATiedShare:    &tied,
			RMIAAUC:          &rmia,
			RMIATPRAt1pctFPR: &rmiaTPR,
			Shadow: &results.Shadow{ModelsPerSide: 8, ULiRA: u, ForgetScore: results.Estimate{Values: f}, Capped: results.Estimate{Values: capped},
				MedianFiniteEpsilon: &median, Ceiling: math.Log(8*(1-1e-5) - 1)},
			Seconds: vals(make([]float64, 5), sp.secs, 0.05*min(1, sp.secs), i),
		})
	}
	recomputeStudy(st)
	if n >= 2 {
		st.Verdicts = verdict.Compare(st, verdict.Default)
	}
	return st
}

func ptr[T any](x T) *T { return &x }

func TestStudyFixtureV3(t *testing.T) {
	st := studyFixtureV3(5)
	withStudy(t, st, results.Schema)
	if got := len(st.Verdicts.Comparisons); got != 110 {
		t.Errorf("%d comparisons, want 110 (9 × 2 × 5 + 5 + 3 × 5)", got)
	}
	want := map[string]results.Outcome{
		"fim-prune-0.25/test_accuracy":  results.OutcomeLower,
		"fim-prune-0.25/ulira_accuracy": results.OutcomeHigher,
		"fim-prune-0.25/rmia_auc":       results.OutcomeNotDist,
		"retrain-2/ulira_accuracy":      results.OutcomeNotDist,
		"identity/ulira_accuracy":       results.OutcomeHigher,
	}
	for _, f := range st.Verdicts.Findings {
		key := f.Method + "/" + string(f.Metric)
		if w, ok := want[key]; ok && f.Outcome != w {
			t.Errorf("finding %s = %s, want %s", key, f.Outcome, w)
		}
	}
}

// TestStudyGolden pins the whole report of small.json with the v3 study,
// and section 8 of a v2 study (go test ./report -run Golden -update).
func TestStudyGolden(t *testing.T) {
	res := withStudy(t, studyFixtureV3(5), results.Schema)
	files := mustRender(t, res)
	golden(t, "study.report.md", files.Markdown)
	golden(t, "study.report.html", elideSVG(files.HTML))
	checkPage(t, files.HTML)
	v2 := mustRender(t, withStudy(t, studyFixtureV2(), results.SchemaV2))
	golden(t, "study-v2.section8.md", []byte(section8(t, v2.Markdown)))
	checkPage(t, v2.HTML)
	// Without the study the report is the v1 one, apart from the schema line.
	plain := mustRender(t, loadResults(t, "small.json"))
	res.Study = nil
	nostudy := mustRender(t, res)
	want := bytes.Replace(plain.Markdown, []byte(results.SchemaV1), []byte(results.Schema), 1)
	if !bytes.Equal(nostudy.Markdown, want) {
		t.Errorf("a v3 report without a study differs from the v1 report beyond the schema line:\n%s", testsupport.FirstDiff(string(nostudy.Markdown), string(want)))
	}
}

// hostileStudyV3 is the v3 fixture with markup in every string a v3 file
// lets through validation: a recipe (and so a name), the forget sets'
// spec, RMIA's signal and an attack score.
func hostileStudyV3() *results.Study {
	st := studyFixtureV3(5)
	m := &st.Methods[1]
	m.ID.Recipe = evil
	m.Name = m.ID.Name()
	for i := range st.ForgetSets {
		st.ForgetSets[i].Spec = "[link](javascript:alert(1))"
	}
	st.RMIA.Signal = evil
	st.Methods[2].Attacks[0].Score = evil
	st.Verdicts = verdict.Compare(st, verdict.Default)
	return st
}

// TestStudyFuzzSeeds keeps FuzzRender's study seeds equal to the fixtures
// (-update rewrites them): study-compact is studyFixtureV3, study-v3-hostile
// hostileStudyV3, study-v2-compact studyFixtureV2 and study-hostile
// hostileStudyV2.
func TestStudyFuzzSeeds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     *results.Study
		schema string
	}{
		{"study-compact", studyFixtureV3(5), results.Schema},
		{"study-v3-hostile", hostileStudyV3(), results.Schema},
		{"study-v2-compact", studyFixtureV2(), results.SchemaV2},
		{"study-hostile", hostileStudyV2(), results.SchemaV2},
	} {
		data, err := results.Marshal(withStudy(t, tc.st, tc.schema))
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "fuzz", "FuzzRender", tc.name)
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(compact.String()))
		if *update {
			if err := os.WriteFile(path, []byte(seed), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./report -run StudyFuzzSeeds -update to create it)", err)
		}
		if string(got) != seed {
			t.Errorf("%s is not the current fixture; run go test ./report -run StudyFuzzSeeds -update", path)
		}
	}
}

// TestStudyVerdictsV3 checks §8.5 against the verdicts the fixture stores:
// the family's size and level, the findings table, the sentences with
// their intervals, the comparisons and the MDE sentences.
func TestStudyVerdictsV3(t *testing.T) {
	st := studyFixtureV3(5)
	sec := section8(t, mustRender(t, withStudy(t, st, results.Schema)).Markdown)
	vd := st.Verdicts
	for _, want := range []string{
		"The file holds 110 paired comparisons",
		"45 of a method or the identity against retraining, 45 against the second retrain",
		"5 of the second retrain against retraining (the null check)",
		"15 of FIM pruning against its controls",
		"The 110 tests form one family at α = 0.05 under Holm's step-down correction (Holm 1979)",
		"α/m = 0.000455",
		"| method | test accuracy | population AUC (logit-confidence) | RMIA AUC | offline-LiRA AUC | U-LiRA accuracy |",
		"| FIM 25\u00a0% | lower | not distinguishable | not distinguishable | not distinguishable | higher |",
		"| 2nd retrain (null) | not distinguishable | not distinguishable | not distinguishable | not distinguishable | not distinguishable |",
		"| method − reference | difference [95 % CI] | Holm p | MDE | verdict |",
		"Null check: as it should, the second retrain is not distinguishable from retraining on test accuracy ",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("section 8 lacks %q", want)
		}
	}
	// The FIM findings, stated with both comparisons' intervals.
	ref := comparison(vd, "fim-prune-0.25", "retrain", results.MetricULiRA)
	null := comparison(vd, "fim-prune-0.25", "retrain-2", results.MetricULiRA)
	want := fmt.Sprintf("- FIM pruning at 25\u00a0%% is higher than retraining on U-LiRA accuracy: %s (95 %% CI %s, Holm p %s) against retraining and %s (95 %% CI %s, Holm p %s) against the second retrain.",
		signed(ref.Difference.Mean, 3), signedCI(ref.Difference.CI95, 3), pval(ref.PHolm), signed(null.Difference.Mean, 3), signedCI(null.Difference.CI95, 3), pval(null.PHolm))
	if !strings.Contains(sec, want) {
		t.Errorf("section 8 lacks the U-LiRA finding\n%s", want)
	}
	// A comparison row renders the stored numbers.
	c := comparison(vd, "fim-prune-0.25", "magnitude-prune-0.25", results.MetricTestAccuracy)
	row := fmt.Sprintf("| FIM 25\u00a0%% − magnitude 25\u00a0%% | %s %s | %s | %s | %s |", signed(c.Difference.Mean, 4), signedCI(c.Difference.CI95, 4), pval(c.PHolm), fixed(c.MDE, 4), outcomeWord(c.Outcome))
	if !strings.Contains(sec, row) {
		t.Errorf("section 8 lacks the row\n%s", row)
	}
	// What the data cannot decide, from the MDEs of each metric.
	for _, metric := range results.Metrics {
		lo := math.Inf(1)
		for _, c := range vd.Comparisons {
			if c.Metric == metric && c.MDE > 0 {
				lo = min(lo, c.MDE)
			}
		}
		info := metricOf(metric)
		want := fmt.Sprintf("On %s, differences smaller than %s could go unseen even in the most precise comparison", info.name, fixed(lo, info.prec))
		if !strings.Contains(sec, want) {
			t.Errorf("section 8 lacks the MDE sentence %q", want)
		}
	}
	// Every sentence that states a verdict carries its interval.
	for _, line := range strings.Split(sec, "\n") {
		if (strings.Contains(line, " is higher than ") || strings.Contains(line, " is lower than ") || strings.Contains(line, "not distinguishable from")) && !strings.Contains(line, "95 % CI [") {
			t.Errorf("a verdict without its interval: %s", line)
		}
	}
}

// TestStudyVerdictsFollowFile: section 8 shows the verdicts the file holds
// and computes none; with the data flipped and the verdicts recomputed by
// fimlib/verdict, the finding flips.
func TestStudyVerdictsFollowFile(t *testing.T) {
	st := studyFixtureV3(5)
	// A stored number the data would not give is shown as stored.
	c := comparison(st.Verdicts, "fim-prune-0.25", "retrain", results.MetricTestAccuracy)
	c.MDE = 0.123456
	sec := section8(t, mustRender(t, withStudy(t, st, results.Schema)).Markdown)
	if !strings.Contains(sec, "| 0.1235 | lower |") {
		t.Error("section 8 does not show the stored MDE")
	}
	// FIM pruning's test accuracy now above retraining's by the same margin.
	st = studyFixtureV3(5)
	fim, ref := method(t, st, "fim-prune-0.25"), method(t, st, "retrain")
	for k, r := range ref.TestAccuracy.Values {
		fim.TestAccuracy.Values[k] = 2*r - fim.TestAccuracy.Values[k]
	}
	recomputeStudy(st)
	st.Verdicts = verdict.Compare(st, verdict.Default)
	sec = section8(t, mustRender(t, withStudy(t, st, results.Schema)).Markdown)
	if !strings.Contains(sec, "| FIM 25\u00a0% | higher |") || !strings.Contains(sec, "- FIM pruning at 25\u00a0% is higher than retraining on test accuracy: +0.0") {
		t.Errorf("flipped data, findings:\n%s", sec)
	}
	// No verdicts in the file: none shown, whatever the data.
	st.Verdicts = nil
	sec = section8(t, mustRender(t, withStudy(t, st, results.Schema)).Markdown)
	if !strings.Contains(sec, "The file holds no verdicts, so none are shown.") || strings.Contains(sec, "**Findings") || strings.Contains(sec, " is higher than ") {
		t.Error("a v3 study without verdicts shows verdicts")
	}
}

// TestStudyV2NoVerdicts: a schema v2 study shows its tables (U-LiRA and ε
// as v2 had them) and says that it predates verdicts, without any.
func TestStudyV2NoVerdicts(t *testing.T) {
	sec := section8(t, mustRender(t, withStudy(t, studyFixtureV2(), results.SchemaV2)).Markdown)
	for _, want := range []string{
		"This file predates schema v3's verdicts (it is `fimprune/results/v2`), so none are shown",
		"| method | offline-LiRA AUC | U-LiRA accuracy [95 % CI] | mean ε | F |",
		"| FIM 25\u00a0% | 0.554 [0.540, 0.568] | 0.620 [0.570, 0.670] | 1.71; ε ≤ 1.95 with 8 models per side | 0.310 |",
		"| method | seconds per deletion | parameters zeroed |\n",
		"All seeds share the split and the forget set (10 rows) and the 16 shadow models behind U-LiRA and ε",
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("v2 section 8 lacks %q", want)
		}
	}
	for _, bad := range []string{"**Findings", "Holm p", "MDE", " is higher than ", " is lower than ", "not distinguishable from", "RMIA", "capped rows"} {
		if strings.Contains(sec, bad) {
			t.Errorf("v2 section 8 contains %q", bad)
		}
	}
}

// TestStudyLabelsFromID: section 8 names methods from their identity, not
// their name.
func TestStudyLabelsFromID(t *testing.T) {
	sec := section8(t, mustRender(t, withStudy(t, studyFixtureV3(5), results.Schema)).Markdown)
	for _, want := range []string{"| FIM 25\u00a0% |", "| FIM 25\u00a0%, fast |", "| Fisher ratio, α = 10 |", "| SSD, α = 10, λ = 1 |", "| fine-tuning |",
		"| random 25\u00a0% |", "| magnitude 25\u00a0% |", "| NegGrad+, α = 0.95 |", "| retraining |", "| 2nd retrain (null) |", "| identity |",
		"The 2nd retrain (null) row is the noise floor", "The identity row is the upper reference",
		"No deletion (identity) is higher than retraining on U-LiRA accuracy"} {
		if !strings.Contains(sec, want) {
			t.Errorf("section 8 lacks %q", want)
		}
	}
	for _, name := range []string{"fim-prune", "retrain-2", "`identity`", "ssd-a10"} {
		if strings.Contains(sec, name) {
			t.Errorf("section 8 shows the name %q instead of a label", name)
		}
	}
	// The label comes from the ID even when the name says otherwise.
	mv := methodView{m: &results.Method{Name: "ssd-a1-l1"}, id: results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeFast}, known: true}
	if got, want := mv.label(), "FIM pruning at 20\u00a0%, fast recipe"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
}

func TestMethodLabel(t *testing.T) {
	for _, tc := range []struct {
		id          results.MethodID
		long, short string
	}{
		{results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeSeed}, "FIM pruning at 20\u00a0%", "FIM 20\u00a0%"},
		{results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeFast}, "FIM pruning at 20\u00a0%, fast recipe", "FIM 20\u00a0%, fast"},
		{results.MethodID{Family: results.FamilyFIM, Fraction: 0.125}, "FIM pruning at 12.5\u00a0%", "FIM 12.5\u00a0%"},
		{results.MethodID{Family: results.FamilyRandom, Fraction: 0.1}, "random pruning at 10\u00a0%", "random 10\u00a0%"},
		{results.MethodID{Family: results.FamilyMagnitude, Fraction: 0.4}, "magnitude pruning at 40\u00a0%", "magnitude 40\u00a0%"},
		{results.MethodID{Family: results.FamilyRatio, Alpha: 10}, "Fisher-ratio pruning (α = 10)", "Fisher ratio, α = 10"},
		{results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1}, "SSD (α = 10, λ = 1)", "SSD, α = 10, λ = 1"},
		{results.MethodID{Family: results.FamilySSD, Alpha: 50, Lambda: 0.1}, "SSD (α = 50, λ = 0.1)", "SSD, α = 50, λ = 0.1"},
		{results.MethodID{Family: results.FamilyNegGrad, Alpha: 0.95}, "NegGrad+ (α = 0.95)", "NegGrad+, α = 0.95"},
		{results.MethodID{Family: results.FamilyFineTune, Recipe: results.RecipeSeed}, "fine-tuning", "fine-tuning"},
		{results.MethodID{Family: results.FamilyRetrain}, "retraining", "retraining"},
		{results.MethodID{Family: results.FamilyRetrain, Replica: 2}, "retraining, second seed (null)", "2nd retrain (null)"},
		{results.MethodID{Family: results.FamilyRetrain, Replica: 3}, "retraining, replica 3 (null)", "retrain #3 (null)"},
		{results.MethodID{Family: results.FamilyIdentity}, "no deletion (identity)", "identity"},
		{results.MethodID{Family: results.FamilyFineTune, Recipe: "a*b"}, "fine-tuning, a\\*b recipe", "fine-tuning, a\\*b"},
		{results.MethodID{Family: results.FamilySSD, Alpha: 1, Lambda: 1, Replica: 2}, "SSD (α = 1, λ = 1), replica 2", "SSD, α = 1, λ = 1 #2"},
	} {
		mv := methodView{m: &results.Method{Name: tc.id.Name(), ID: tc.id}, id: tc.id, known: true}
		if got := mv.label(); got != tc.long {
			t.Errorf("label(%+v) = %q, want %q", tc.id, got, tc.long)
		}
		if got := mv.cell(); got != tc.short {
			t.Errorf("cell(%+v) = %q, want %q", tc.id, got, tc.short)
		}
	}
	// Schema v2 names, through results.Method.Identity.
	for _, tc := range []struct{ name, want string }{
		{"fim-prune-0.2", "FIM pruning at 20\u00a0%"},
		{"fim-prune-0.2-fast", "FIM pruning at 20\u00a0%, fast recipe"},
		{"ssd-a10-l1", "SSD (α = 10, λ = 1)"},
		{"neggrad+-a0.95", "NegGrad+ (α = 0.95)"},
		{"finetune", "fine-tuning"},
		{"retrain", "retraining"},
		{"fim-prune-0.20", "`fim-prune-0.20`"}, // not the canonical spelling
		{"fim-prune-NaN", "`fim-prune-NaN`"},
		{"ssd-a10", "`ssd-a10`"},
		{"my method", "`my method`"},
	} {
		st := &results.Study{Methods: []results.Method{{Name: tc.name}}}
		v := newStudyView(st, results.SchemaV2)
		if got := v.methods[0].label(); got != tc.want {
			t.Errorf("v2 label(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestStudyOneSeed: with one seed there is no interval and no verdict.
func TestStudyOneSeed(t *testing.T) {
	st := studyFixtureV3(1)
	sec := section8(t, mustRender(t, withStudy(t, st, results.Schema)).Markdown)
	for _, want := range []string{"With one seed there are no intervals", "With one seed there is no interval and no test, so the file holds no verdicts"} {
		if !strings.Contains(sec, want) {
			t.Errorf("one seed: section 8 lacks %q", want)
		}
	}
	// Verdicts computed on one seed are all undecided, and shown so.
	st.Verdicts = verdict.Compare(st, verdict.Default)
	sec = section8(t, mustRender(t, withStudy(t, st, results.Schema)).Markdown)
	for _, want := range []string{"110 comparisons rest on fewer than two seeds and are undecided", "| FIM 25\u00a0% | undecided |", "With fewer than two seeds no comparison is tested"} {
		if !strings.Contains(sec, want) {
			t.Errorf("one seed with verdicts: section 8 lacks %q", want)
		}
	}
	if strings.Contains(sec, " is higher than ") || strings.Contains(sec, " is lower than ") {
		t.Error("one seed: a verdict")
	}
}

// TestStudyWithoutReference: without a retrained model there is nothing to
// compare with, and the section says so.
func TestStudyWithoutReference(t *testing.T) {
	st := studyFixtureV3(5)
	st.Methods = slices.DeleteFunc(st.Methods, func(m results.Method) bool { return m.ID.Family == results.FamilyRetrain })
	st.Verdicts = verdict.Compare(st, verdict.Default)
	if st.Verdicts != nil {
		t.Fatal("verdict.Compare without retrain returned verdicts")
	}
	sec := section8(t, mustRender(t, withStudy(t, st, results.Schema)).Markdown)
	if !strings.Contains(sec, "The study has no retrained model to compare with, so the file holds no verdicts") {
		t.Error("no retrain: no note that nothing compares")
	}
}

// paretoOf returns the report's Pareto figure.
func paretoOf(t *testing.T, files *Files) *Figure {
	t.Helper()
	for i := range files.Figures {
		if files.Figures[i].Name == "fig-5-pareto.svg" {
			return &files.Figures[i]
		}
	}
	t.Fatal("no Pareto figure")
	return nil
}

// TestParetoFigure checks the figure's structure: the reference line and
// one legend entry per method, labelled from its identity, every entry
// drawn; the y measure falling back to offline LiRA when U-LiRA is
// missing; one entry per family for a large study.
func TestParetoFigure(t *testing.T) {
	v3Labels := []string{"FIM pruning at 25\u00a0%", "FIM pruning at 25\u00a0%, fast recipe", "Fisher-ratio pruning (α = 10)", "SSD (α = 10, λ = 1)", "fine-tuning",
		"random pruning at 25\u00a0%", "magnitude pruning at 25\u00a0%", "NegGrad+ (α = 0.95)", "retraining", "retraining, second seed (null)", "no deletion (identity)"}
	v2Labels := []string{"FIM pruning at 25\u00a0%", "Fisher-ratio pruning (α = 10)", "SSD (α = 10, λ = 1)", "fine-tuning", "random pruning at 25\u00a0%", "magnitude pruning at 25\u00a0%", "NegGrad+ (α = 0.95)", "retraining"}
	large := func() *results.Study {
		st := studyFixtureV2()
		proto := st.Methods[0]
		st.Methods = nil
		for k := 1; k <= 30; k++ {
			m := proto
			m.Name = "fim-prune-" + strconv.FormatFloat(float64(k)/100, 'g', -1, 64)
			st.Methods = append(st.Methods, m)
		}
		return st
	}
	for _, tc := range []struct {
		name   string
		st     func() *results.Study
		schema string
		axis   string
		legend []string
	}{
		{"v3", func() *results.Study { return studyFixtureV3(5) }, results.Schema, "U-LiRA accuracy", append([]string{"retraining's value"}, v3Labels...)},
		{"v3 offline LiRA", func() *results.Study {
			st := studyFixtureV3(5)
			st.Methods[2].Shadow = nil
			st.Verdicts = verdict.Compare(st, verdict.Default)
			return st
		}, results.Schema, "offline-LiRA AUC", append([]string{"retraining's value"}, v3Labels...)},
		{"v2", studyFixtureV2, results.SchemaV2, "U-LiRA accuracy", append([]string{"perfect unlearner (0.5)"}, v2Labels...)},
		{"v2 offline LiRA", func() *results.Study { st := studyFixtureV2(); st.Methods[2].ULiRA = nil; return st }, results.SchemaV2, "offline-LiRA AUC", append([]string{"retraining's value"}, v2Labels...)},
		{"no retrain", func() *results.Study { st := studyFixtureV2(); st.Methods = st.Methods[:1]; return st }, results.SchemaV2, "U-LiRA accuracy", []string{"perfect unlearner (0.5)", "FIM pruning at 25\u00a0%"}},
		{"large", large, results.SchemaV2, "U-LiRA accuracy", []string{"perfect unlearner (0.5)", "FIM pruning"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := mustRender(t, withStudy(t, tc.st(), tc.schema))
			fig := paretoOf(t, files)
			if !bytes.Contains(files.Markdown, []byte("](fig-5-pareto.svg)")) {
				t.Error("report.md does not show the Pareto figure")
			}
			p := fig.panels[0]
			if got, want := strings.Join(p.legend, " | "), strings.Join(tc.legend, " | "); got != want {
				t.Errorf("legend %q, want %q", got, want)
			}
			if p.series != len(tc.legend) {
				t.Errorf("%d series, want %d", p.series, len(tc.legend))
			}
			svg := parseSVG(t, fig.Name, fig.SVG)
			texts := map[string]bool{}
			for _, s := range svg.texts {
				texts[s] = true
			}
			for _, s := range append([]string{tc.axis, p.title}, tc.legend...) {
				if !texts[s] {
					t.Errorf("%q not drawn", s)
				}
			}
		})
	}
	// Results without a study have no such figure.
	for _, f := range mustRender(t, loadResults(t, "small.json")).Figures {
		if f.Name == "fig-5-pareto.svg" {
			t.Error("a Pareto figure without a study")
		}
	}
}

// TestStudySections: the study adds section 8 before the appendices.
func TestStudySections(t *testing.T) {
	sections, err := Sections(withStudy(t, studyFixtureV3(5), results.Schema), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sections {
		got = append(got, s.Heading)
	}
	want := []string{"1. Model performance", "2. Privacy evaluation", "3. Utility–privacy trade-off",
		"4. Computational efficiency", "5. Pruning by layer and Fisher scores", "6. Key findings",
		"7. Method notes", "8. Methods compared over seeds", "Appendix A. Seed summary", "Appendix B. Inputs"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sections %q, want %q", got, want)
	}
	if !bytes.Contains(sections[7].HTML, []byte(`<figure id="fig-5-pareto">`)) {
		t.Error("section 8 does not hold the Pareto figure")
	}
	var subs []string
	for _, line := range strings.Split(section8(t, mustRender(t, withStudy(t, studyFixtureV3(5), results.Schema)).Markdown), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			subs = append(subs, h)
		}
	}
	wantSubs := []string{"8.1 Utility and cost", "8.2 Forgetting", "8.3 Per-example attacks", "8.4 Utility cost against forgetting", "8.5 Verdicts", "8.6 How these numbers are computed"}
	if !reflect.DeepEqual(subs, wantSubs) {
		t.Errorf("subsections %q, want %q", subs, wantSubs)
	}
}

// TestStudyEscaped puts hostile strings into the study: v2 method names,
// and the recipe, forget-set spec, RMIA signal and attack score of a v3
// study. They reach the page as text (tables, sentences, figure legends),
// never as markup.
func TestStudyEscaped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		res    func(t *testing.T) *results.Results
		texts  []string
		legend string
	}{
		{"v2", func(t *testing.T) *results.Results { return withStudy(t, hostileStudyV2(), results.SchemaV2) },
			[]string{evil, "![x](fig-5-pareto.svg)", "a|b", "`tick`", "x y", "fim-prune-NaN"}, figureLabel(evil)},
		{"v3", func(t *testing.T) *results.Results { return withStudy(t, hostileStudyV3(), results.Schema) },
			[]string{"[link](javascript:alert(1))"}, figureText("FIM pruning at 25\u00a0%, "+evil+" recipe", 44)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := mustRender(t, tc.res(t))
			if bytes.Contains(bytes.ToLower(files.HTML), []byte("<script")) {
				t.Fatal("report.html contains <script")
			}
			n := checkPage(t, files.HTML)
			if n.figures != len(files.Figures) {
				t.Errorf("%d <figure> elements, want %d", n.figures, len(files.Figures))
			}
			for _, s := range tc.texts {
				if !n.text[s] {
					t.Errorf("%q does not appear verbatim as text", s)
				}
			}
			if n.evilText == 0 {
				t.Error("the hostile string does not appear as text")
			}
			fig := paretoOf(t, files)
			svg := parseSVG(t, fig.Name, fig.SVG) // well-formed with the legend in it
			if !slices.Contains(svg.texts, tc.legend) || !bytes.Contains(fig.SVG, []byte(html.EscapeString(tc.legend))) {
				t.Errorf("the hostile legend entry %q is not drawn as escaped text", tc.legend)
			}
		})
	}
}

func TestTQuantile(t *testing.T) {
	// scipy.stats.t.ppf(0.975, df)
	for df, want := range map[int]float64{1: 12.706204736, 2: 4.302652730, 4: 2.776445105, 9: 2.262157163, 30: 2.042272456} {
		if got := tQuantile975(df); math.Abs(got-want) > 1e-6 {
			t.Errorf("t(0.975, %d) = %.9f, want %.9f", df, got, want)
		}
	}
}

// TestStudyRandom renders random valid studies (seeded), v2 and v3: 1 to 6
// seeds, 1 to 12 methods (v2: names from the study's families and hostile
// ones; v3: identities with random settings), values anywhere in their
// ranges (ties, zeros, ones), shadow-model attacks present or not, v3
// verdicts from fimlib/verdict. Every study results.Validate accepts must
// render, with the section, the figure and a well-formed page.
func TestStudyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"fim-prune-0.25", "fim-prune-0.5", "random-prune-0.25", "magnitude-prune-0.25", "finetune", "retrain",
		"ratio-prune-a10", "ssd-a10-l1", "neggrad+-a0.95", evil, "x\ny", "fim-prune-1e-05", "random-prune-1e-05"}
	ids := []results.MethodID{
		{Family: results.FamilyFIM, Fraction: 0.25, Recipe: results.RecipeSeed}, {Family: results.FamilyFIM, Fraction: 0.25, Recipe: results.RecipeFast},
		{Family: results.FamilyFIM, Fraction: 1e-05, Recipe: results.RecipeSeed}, {Family: results.FamilyRandom, Fraction: 0.25, Recipe: results.RecipeSeed},
		{Family: results.FamilyMagnitude, Fraction: 0.25, Recipe: results.RecipeSeed}, {Family: results.FamilyFineTune, Recipe: results.RecipeSeed},
		{Family: results.FamilyRatio, Alpha: 10, Recipe: results.RecipeSeed}, {Family: results.FamilySSD, Alpha: 10, Lambda: 1},
		{Family: results.FamilyNegGrad, Alpha: 0.95, Recipe: results.RecipeSeed}, {Family: results.FamilyRetrain}, {Family: results.FamilyRetrain, Replica: 2},
		{Family: results.FamilyIdentity}, {Family: results.FamilyFineTune, Recipe: "x\ny"},
	}
	unit := func() float64 {
		switch rng.IntN(6) {
		case 0:
			return 0
		case 1:
			return 1
		case 2:
			return 0.5
		}
		return rng.Float64()
	}
	for iter := range 60 {
		v3 := iter%2 == 1
		n := 1 + rng.IntN(6)
		vals := func(f func() float64) results.Estimate {
			v := make([]float64, n)
			for i := range v {
				v[i] = f()
			}
			return results.Estimate{Values: v}
		}
		st := &results.Study{Fraction: 0.25, ForgetRows: 10, NonMembers: 10, Shadows: rng.IntN(3)}
		for i := range n {
			st.Seeds = append(st.Seeds, uint64(i))
			if v3 {
				rows := make([]int, 10)
				for j := range rows {
					rows[j] = 10*i + j
				}
				st.ForgetSets = append(st.ForgetSets, results.ForgetSet{Spec: "random:10", Seed: int64(i), Rows: rows, SplitSeed: int64(rng.IntN(2))})
			}
		}
		if v3 && st.Shadows > 0 && rng.IntN(2) > 0 {
			st.RMIA = &results.RMIASettings{Signal: "true-label probability", Gamma: 2, A: 0.5, Grid: []float64{0.5}, GridAUC: []float64{unit()}, PopulationRows: 1}
		}
		count := len(names)
		if v3 {
			count = len(ids)
		}
		for _, k := range rng.Perm(count)[:1+rng.IntN(count-1)] {
			m := results.Method{
				Zeroed:       vals(func() float64 { return float64(rng.IntN(18)) }),
				TestAccuracy: vals(unit), RetainAccuracy: vals(unit), ForgetAccuracy: vals(unit),
				ForgetKL: vals(func() float64 { return 5 * unit() }), LiRAOfflineAUC: vals(unit),
				Seconds: vals(func() float64 { return 100 * unit() }),
				// Overwritten by recomputeStudy when the study has retrain.
				TestGap: vals(func() float64 { return 2*unit() - 1 }), RetainGap: vals(func() float64 { return 2*unit() - 1 }),
				ForgetGap: vals(func() float64 { return 2*unit() - 1 }),
			}
			for _, score := range []string{"neg_loss", "logit-confidence", "confidence"}[:rng.IntN(4)] {
				m.Attacks = append(m.Attacks, results.AttackEstimate{Score: score, AUC: vals(unit), Advantage: vals(unit), TPRAt1pctFPR: vals(unit)})
			}
			if v3 {
				m.ID = ids[k]
				m.Name = m.ID.Name()
				m.Change = &results.Change{Parameters: vals(func() float64 { return float64(rng.IntN(18)) }), RelativeL2: vals(func() float64 { return 3 * unit() })}
				if st.Shadows > 0 && rng.IntN(4) > 0 {
					tied, a, tpr := vals(unit), vals(unit), vals(unit)
					m.LiRATiedShare, m.RMIAAUC, m.RMIATPRAt1pctFPR = &tied, &a, &tpr
					sh := &results.Shadow{ModelsPerSide: 2 + rng.IntN(10), ULiRA: vals(unit), ForgetScore: vals(unit), Capped: vals(func() float64 { return float64(rng.IntN(11)) })}
					if rng.IntN(2) > 0 {
						e := 5 * unit()
						sh.MedianFiniteEpsilon = &e
					}
					m.Shadow = sh
				}
			} else {
				m.Name = names[k]
				if st.Shadows > 0 && rng.IntN(4) > 0 {
					a, b := unit(), unit()
					m.ULiRA = &results.ULiRA{Accuracy: unit(), CI95: [2]float64{min(a, b), max(a, b)}, Examples: 1, Pairs: 1}
				}
				if st.Shadows > 0 && rng.IntN(2) > 0 {
					m.Epsilon = &results.EpsilonScore{MeanEpsilon: 50 * unit(), ForgetScore: unit(), ModelsPerSide: 2 + rng.IntN(10), Ceiling: 0}
				}
			}
			st.Methods = append(st.Methods, m)
		}
		recomputeStudy(st)
		schema := results.SchemaV2
		if v3 {
			schema = results.Schema
			if rng.IntN(4) > 0 {
				st.Verdicts = verdict.Compare(st, verdict.Default)
			}
		}
		res := loadResults(t, "small.json")
		res.Schema, res.Study = schema, st
		if err := res.Validate(); err != nil {
			t.Fatalf("iteration %d: the generator made an invalid study: %v", iter, err)
		}
		files, err := Render(res, Options{})
		if err != nil {
			t.Fatalf("iteration %d: Render: %v", iter, err)
		}
		if !bytes.Contains(files.Markdown, []byte("## 8. Methods compared over seeds")) || !bytes.Contains(files.Markdown, []byte("](fig-5-pareto.svg)")) {
			t.Errorf("iteration %d: no section 8 or no figure", iter)
		}
		checkPage(t, files.HTML)
	}
}
