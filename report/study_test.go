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
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
)

// studyMethod is one method of the synthetic study: per-seed values of the
// metrics it sets; recomputeStudy derives the rest.
type studyMethod struct {
	name                 string
	zeroed               float64
	test, retain, forget []float64
	kl, lira, secs       []float64
	lossAUC, logitAUC    []float64
	ulira                *results.ULiRA
	eps                  *results.EpsilonScore
}

// add returns xs + d elementwise.
func add(xs []float64, d ...float64) []float64 {
	out := make([]float64, len(xs))
	for i := range xs {
		out[i] = xs[i] + d[i%len(d)]
	}
	return out
}

func ulira(acc, lo, hi float64) *results.ULiRA {
	return &results.ULiRA{Accuracy: acc, CI95: [2]float64{lo, hi}, Examples: 10, Pairs: 160}
}

func epsilon(mean, f float64) *results.EpsilonScore {
	return &results.EpsilonScore{MeanEpsilon: mean, ForgetScore: f, ModelsPerSide: 8, Ceiling: math.Log(8*(1-1e-5) - 1)}
}

// studyFixture is a synthetic study over 5 seeds of the eight methods the
// experiment runs, on small.json's data (17 parameters, 10 forget rows).
// Its numbers are chosen so that FIM pruning at 25 % is not distinguishable
// from random pruning on test accuracy, higher than magnitude pruning and
// lower than fine-tuning and retraining.
func studyFixture() *results.Study {
	fimTest := []float64{0.84, 0.85, 0.83, 0.86, 0.84}
	retrainTest := []float64{0.852, 0.856, 0.849, 0.861, 0.853}
	retain := []float64{0.87, 0.88, 0.86, 0.88, 0.87}
	forget := []float64{0.8, 0.9, 0.8, 0.8, 0.9}
	secs := []float64{1.2, 1.3, 1.25, 1.4, 1.35}
	fimLiRA := []float64{0.55, 0.56, 0.54, 0.57, 0.55}
	auc := []float64{0.52, 0.5, 0.55, 0.51, 0.53}
	ms := []studyMethod{
		{fimPrefix + "0.25", 4, fimTest, retain, forget, []float64{0.02, 0.03, 0.025, 0.02, 0.03}, fimLiRA, secs, auc, add(auc, 0.01), ulira(0.62, 0.57, 0.67), epsilon(1.71, 0.31)},
		{ratioPrefix + "10", 4, add(fimTest, 0.002), retain, forget, []float64{0.01, 0.02, 0.015, 0.01, 0.02}, add(fimLiRA, -0.02), secs, auc, auc, ulira(0.58, 0.53, 0.63), epsilon(1.52, 0.36)},
		{"ssd-a10-l1", 0, add(fimTest, 0.001), retain, forget, []float64{0.05, 0.04, 0.06, 0.05, 0.04}, add(fimLiRA, 0.03), add(secs, -1), auc, auc, ulira(0.7, 0.65, 0.75), epsilon(1.8, 0.27)},
		{fineTuneName, 0, add(fimTest, 0.004, 0.005, 0.006, 0.005, 0.004), retain, forget, []float64{0.01, 0.01, 0.02, 0.01, 0.01}, add(fimLiRA, 0.02, 0, 0.03, 0.01, 0.02), secs, auc, auc, ulira(0.72, 0.68, 0.76), epsilon(1.85, 0.25)},
		{randomPrefix + "0.25", 4, add(fimTest, 0.005, -0.01, 0.01, -0.01, 0.005), retain, forget, []float64{0.03, 0.03, 0.02, 0.03, 0.03}, add(fimLiRA, 0.01, -0.02, 0.02, 0, -0.01), secs, auc, auc, ulira(0.6, 0.55, 0.65), epsilon(1.68, 0.3)},
		{magnitudePrefix + "0.25", 4, add(fimTest, -0.01, -0.012, -0.011, -0.009, -0.01), retain, forget, []float64{0.04, 0.05, 0.04, 0.05, 0.04}, add(fimLiRA, -0.01, -0.02, 0, -0.01, -0.015), secs, auc, auc, ulira(0.64, 0.59, 0.69), epsilon(1.75, 0.28)},
		{negGradPrefix + "0.95", 0, add(fimTest, -0.02), retain, add(forget, -0.1), []float64{0.1, 0.12, 0.11, 0.1, 0.09}, add(fimLiRA, -0.05), add(secs, -0.5), auc, auc, ulira(0.52, 0.47, 0.57), epsilon(1.49, 0.42)},
		{retrainName, 0, retrainTest, retain, forget, []float64{0, 0, 0, 0, 0}, []float64{0.5, 0.52, 0.49, 0.51, 0.5}, []float64{2.5, 2.6, 2.4, 2.55, 2.45}, auc, auc, nil, nil},
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

// method returns the study's method of that name.
func method(t *testing.T, st *results.Study, name string) *results.Method {
	t.Helper()
	for i := range st.Methods {
		if st.Methods[i].Name == name {
			return &st.Methods[i]
		}
	}
	t.Fatalf("no method %q", name)
	return nil
}

// recomputeStudy derives every estimate from its values, and the gaps from
// the accuracies and the retrained model's, as the experiment does.
func recomputeStudy(st *results.Study) {
	var retrain *results.Method
	for i := range st.Methods {
		if st.Methods[i].Name == retrainName {
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
		}
		for _, e := range es {
			*e = results.NewEstimate(e.Values)
		}
	}
}

func neg(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = -x
	}
	return out
}

// withStudy returns small.json as schema v2 with the study st.
func withStudy(t testing.TB, st *results.Study) *results.Results {
	t.Helper()
	res := loadResults(t, "small.json")
	res.Schema = results.Schema
	res.Study = st
	if err := res.Validate(); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return res
}

func TestStudyGolden(t *testing.T) {
	res := withStudy(t, studyFixture())
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "study.report.md", files.Markdown)
	golden(t, "study.report.html", elideSVG(files.HTML))
	checkPage(t, files.HTML)
	// Without the study the report is the v1 one, apart from the schema line.
	v1 := loadResults(t, "small.json")
	plain, err := Render(v1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res.Study = nil
	nostudy, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(plain.Markdown, []byte(results.SchemaV1), []byte(results.Schema), 1)
	if !bytes.Equal(nostudy.Markdown, want) {
		t.Errorf("a v2 report without a study differs from the v1 report beyond the schema line:\n%s", firstDiff(want, nostudy.Markdown))
	}
}

// TestStudyFuzzSeeds keeps FuzzRender's study seeds equal to the fixtures
// (-update rewrites them): study-compact is studyFixture, study-hostile
// hostileStudy.
func TestStudyFuzzSeeds(t *testing.T) {
	for name, st := range map[string]*results.Study{"study-compact": studyFixture(), "study-hostile": hostileStudy()} {
		data, err := results.Marshal(withStudy(t, st))
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "fuzz", "FuzzRender", name)
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

// verdictLine returns the verdict bullet that compares FIM pruning with
// the named method.
func verdictLine(t *testing.T, md []byte, against string) string {
	t.Helper()
	prefix := "- **FIM pruning at 25\u00a0% against " + against + ".**"
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("no verdict %q in the report", prefix)
	return ""
}

// TestStudyVerdicts pins the verdicts of the fixture, with numbers worked
// out by hand from the per-seed differences, t(0.975, 4) = 2.776445
// (scipy.stats.t.ppf(0.975, 4)) and half-width t · s/√5:
//
//	FIM − magnitude {0.01, 0.012, 0.011, 0.009, 0.01}: 0.0104, s 0.0011402, ±0.0014158
//	FIM − random {−0.005, 0.01, −0.01, 0.01, −0.005}: 0, s 0.0093541, ±0.0116143
//	FIM − fine-tune {−0.004, −0.005, −0.006, −0.005, −0.004}: −0.0048, s 0.00083666, ±0.0010388
//	FIM − retrain {−0.012, −0.006, −0.019, −0.001, −0.013}: −0.0102, s 0.0069065, ±0.0085755
//	LiRA AUC, FIM − retrain {0.05, 0.04, 0.05, 0.06, 0.05}: 0.05, s 0.0070711, ±0.0087797
func TestStudyVerdicts(t *testing.T) {
	files, err := Render(withStudy(t, studyFixture()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	md := files.Markdown
	for _, tc := range []struct{ against, want string }{
		{"magnitude pruning at 25\u00a0%", "FIM pruning at 25\u00a0% is higher than magnitude pruning at 25\u00a0% on test accuracy by 0.0104 (95 % CI [+0.0090, +0.0118], 5 seeds)."},
		{"random pruning at 25\u00a0%", "FIM pruning at 25\u00a0% is not distinguishable from random pruning at 25\u00a0% on test accuracy (difference ±0.0000, 95 % CI [−0.0116, +0.0116], 5 seeds)."},
		{"fine-tuning", "FIM pruning at 25\u00a0% is lower than fine-tuning on test accuracy by 0.0048 (95 % CI [−0.0058, −0.0038], 5 seeds)."},
		{"retraining (the gold standard)", "FIM pruning at 25\u00a0% is lower than retraining (the gold standard) on test accuracy by 0.0102 (95 % CI [−0.0188, −0.0016], 5 seeds)."},
		{"retraining (the gold standard)", "FIM pruning at 25\u00a0% is higher than retraining (the gold standard) on offline-LiRA AUC by 0.050 (95 % CI [+0.041, +0.059], 5 seeds)."},
		{"retraining (the gold standard)", "Its U-LiRA accuracy, a shadow-model estimate without per-seed values, is 0.620 [0.570, 0.670]: the interval lies above 0.5"},
		{"random pruning at 25\u00a0%", "(0.620 [0.570, 0.670]) and random pruning at 25\u00a0% (0.600 [0.550, 0.650]) have overlapping 95 % intervals: not distinguishable at this sample size."},
		{"fine-tuning", "(0.620 [0.570, 0.670]) and fine-tuning (0.720 [0.680, 0.760]) have disjoint 95 % intervals: FIM pruning at 25\u00a0% is lower"},
	} {
		if line := verdictLine(t, md, tc.against); !strings.Contains(line, tc.want) {
			t.Errorf("verdict against %s:\n%s\nlacks\n%s", tc.against, line, tc.want)
		}
	}
	// Every verdict carries its interval: no bare "higher"/"lower" claim.
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "- **FIM pruning") && (strings.Contains(line, "is higher than") || strings.Contains(line, "is lower than")) && !strings.Contains(line, "95 % CI [") {
			t.Errorf("a verdict without its interval: %s", line)
		}
	}
}

// TestStudyVerdictFlips checks that the verdicts follow the data: the same
// comparison reads "higher", "lower" or "not distinguishable" as the
// per-seed values make it.
func TestStudyVerdictFlips(t *testing.T) {
	render := func(mutate func(st *results.Study)) string {
		t.Helper()
		st := studyFixture()
		mutate(st)
		recomputeStudy(st)
		files, err := Render(withStudy(t, st), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return verdictLine(t, files.Markdown, "magnitude pruning at 25\u00a0%")
	}
	const subject = "FIM pruning at 25\u00a0% is "
	const object = " magnitude pruning at 25\u00a0% on test accuracy"
	higher := render(func(*results.Study) {})
	if !strings.Contains(higher, subject+"higher than"+object) {
		t.Fatalf("fixture: %s", higher)
	}
	// Magnitude pruning now beats FIM pruning by the same margins.
	lower := render(func(st *results.Study) {
		fim, mag := method(t, st, fimPrefix+"0.25"), method(t, st, magnitudePrefix+"0.25")
		mag.TestAccuracy.Values = add(fim.TestAccuracy.Values, 0.01, 0.012, 0.011, 0.009, 0.01)
	})
	if !strings.Contains(lower, subject+"lower than"+object+" by 0.0104 (95 % CI [−0.0118, −0.0090], 5 seeds)") {
		t.Errorf("flipped data, verdict: %s", lower)
	}
	// Differences of both signs: no claim.
	mixed := render(func(st *results.Study) {
		fim, mag := method(t, st, fimPrefix+"0.25"), method(t, st, magnitudePrefix+"0.25")
		mag.TestAccuracy.Values = add(fim.TestAccuracy.Values, 0.01, -0.012, 0.011, -0.009, 0.0)
	})
	if !strings.Contains(mixed, subject+"not distinguishable from"+object) {
		t.Errorf("mixed data, verdict: %s", mixed)
	}
	// Disjoint U-LiRA intervals flip with the data too.
	u := render(func(st *results.Study) { method(t, st, magnitudePrefix+"0.25").ULiRA = ulira(0.8, 0.75, 0.85) })
	if !strings.Contains(u, "have disjoint 95 % intervals: FIM pruning at 25\u00a0% is lower") {
		t.Errorf("U-LiRA above FIM's, verdict: %s", u)
	}
	u = render(func(st *results.Study) { method(t, st, magnitudePrefix+"0.25").ULiRA = ulira(0.4, 0.35, 0.45) })
	if !strings.Contains(u, "have disjoint 95 % intervals: FIM pruning at 25\u00a0% is higher") {
		t.Errorf("U-LiRA below FIM's, verdict: %s", u)
	}
}

// TestStudyOneSeed: with one seed there is no interval and no claim.
func TestStudyOneSeed(t *testing.T) {
	st := studyFixture()
	st.Seeds = st.Seeds[:1]
	for i := range st.Methods {
		m := &st.Methods[i]
		for _, e := range []*results.Estimate{&m.Zeroed, &m.TestAccuracy, &m.RetainAccuracy, &m.ForgetAccuracy, &m.ForgetKL, &m.LiRAOfflineAUC, &m.Seconds} {
			e.Values = e.Values[:1]
		}
		for j := range m.Attacks {
			a := &m.Attacks[j]
			a.AUC.Values, a.Advantage.Values, a.TPRAt1pctFPR.Values = a.AUC.Values[:1], a.Advantage.Values[:1], a.TPRAt1pctFPR.Values[:1]
		}
	}
	recomputeStudy(st)
	files, err := Render(withStudy(t, st), Options{})
	if err != nil {
		t.Fatal(err)
	}
	line := verdictLine(t, files.Markdown, "magnitude pruning at 25\u00a0%")
	if !strings.Contains(line, "cannot be compared on test accuracy: one seed gives no interval (difference +0.0100)") || strings.Contains(line, "is higher than") {
		t.Errorf("one seed: %s", line)
	}
	if !bytes.Contains(files.Markdown, []byte("With one seed there are no intervals")) {
		t.Error("the section does not say that one seed gives no intervals")
	}
}

// TestStudyWithoutComparisons: a study without FIM pruning, or without its
// controls, says so instead of comparing.
func TestStudyWithoutComparisons(t *testing.T) {
	st := studyFixture()
	st.Methods = st.Methods[:1] // FIM pruning alone
	files, err := Render(withStudy(t, st), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(files.Markdown, []byte("The study has no method to compare it with")) {
		t.Error("FIM pruning alone: no note that nothing compares")
	}
	st = studyFixture()
	st.Methods = st.Methods[1:] // no FIM pruning
	files, err = Render(withStudy(t, st), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(files.Markdown, []byte("The study has no FIM-pruning method")) {
		t.Error("no FIM pruning: no note that nothing compares")
	}
}

// TestParetoFigure checks the figure's structure: one legend entry per
// family present plus the reference, every method's label drawn, and the
// y measure falling back to offline LiRA when U-LiRA is missing.
func TestParetoFigure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(st *results.Study)
		axis   string
		legend []string
	}{
		{"U-LiRA", func(*results.Study) {}, "U-LiRA accuracy",
			[]string{"perfect unlearner (0.5)", "FIM pruning", "Fisher-ratio pruning", "SSD", "fine-tune", "NegGrad+", "random pruning", "magnitude pruning", "retrain (gold standard)"}},
		{"offline LiRA", func(st *results.Study) { st.Methods[2].ULiRA = nil }, "offline-LiRA AUC",
			[]string{"retrain's value", "FIM pruning", "Fisher-ratio pruning", "SSD", "fine-tune", "NegGrad+", "random pruning", "magnitude pruning", "retrain (gold standard)"}},
		{"no retrain", func(st *results.Study) { st.Methods = st.Methods[:1] }, "U-LiRA accuracy",
			[]string{"perfect unlearner (0.5)", "FIM pruning"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := studyFixture()
			tc.mutate(st)
			files, err := Render(withStudy(t, st), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var fig *Figure
			for i := range files.Figures {
				if files.Figures[i].Name == "fig-5-pareto.svg" {
					fig = &files.Figures[i]
				}
			}
			if fig == nil {
				t.Fatal("no Pareto figure")
			}
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
			for _, m := range st.Methods {
				if !texts[m.Name] {
					t.Errorf("label %q not drawn", m.Name)
				}
			}
			for _, s := range append([]string{tc.axis, p.title}, tc.legend...) {
				if !texts[s] {
					t.Errorf("%q not drawn", s)
				}
			}
		})
	}
	// Results without a study have no such figure.
	files, err := Render(loadResults(t, "small.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files.Figures {
		if f.Name == "fig-5-pareto.svg" {
			t.Error("a Pareto figure without a study")
		}
	}
}

// TestStudySections: the study adds section 8 before the appendices.
func TestStudySections(t *testing.T) {
	sections, err := Sections(withStudy(t, studyFixture()), Options{})
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
}

// hostileStudy is the fixture with hostile method names and an attack
// score that is markup.
func hostileStudy() *results.Study {
	st := studyFixture()
	hostile := []string{evil, "![x](fig-5-pareto.svg)", "a|b", "`tick`", "x\ny", "[link](javascript:alert(1))", fimPrefix + "NaN", fimPrefix + evil}
	for i, name := range hostile {
		st.Methods[i].Name = name
	}
	st.Methods[1].Attacks[0].Score = evil
	return st
}

// TestStudyEscaped puts hostile method names into the study: they reach
// the page as text (tables, verdicts, figure labels), never as markup.
func TestStudyEscaped(t *testing.T) {
	files, err := Render(withStudy(t, hostileStudy()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ToLower(files.HTML), []byte("<script")) {
		t.Fatal("report.html contains <script")
	}
	n := checkPage(t, files.HTML)
	if n.figures != len(files.Figures) {
		t.Errorf("%d <figure> elements, want %d", n.figures, len(files.Figures))
	}
	for _, s := range []string{evil, "![x](fig-5-pareto.svg)", "a|b", "`tick`", "x y", fimPrefix + "NaN"} {
		if !n.text[s] {
			t.Errorf("%q does not appear verbatim as text", s)
		}
	}
	// A name that only looks like a pruning method is shown as code, not
	// read as a fraction.
	if !bytes.Contains(files.Markdown, []byte("- **`"+fimPrefix+"NaN`.** The study has no method")) {
		t.Error("fim-prune-NaN is not shown as its name in the verdicts")
	}
	var fig *Figure
	for i := range files.Figures {
		if files.Figures[i].Name == "fig-5-pareto.svg" {
			fig = &files.Figures[i]
		}
	}
	svg := parseSVG(t, fig.Name, fig.SVG) // well-formed with the labels in it
	found := false
	for _, s := range svg.texts {
		found = found || s == figureLabel(evil)
	}
	if !found || !bytes.Contains(fig.SVG, []byte(html.EscapeString(figureLabel(evil)))) {
		t.Error("the hostile label is not drawn as escaped text")
	}
}

func TestMethodLabel(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"fim-prune-0.2", "FIM pruning at 20\u00a0%"},
		{"fim-prune-0.125", "FIM pruning at 12.5\u00a0%"},
		{"random-prune-0.1", "random pruning at 10\u00a0%"},
		{"magnitude-prune-0.4", "magnitude pruning at 40\u00a0%"},
		{"ratio-prune-a10", "Fisher-ratio pruning (α = 10)"},
		{"ssd-a10-l1", "SSD (α = 10, λ = 1)"},
		{"ssd-a50-l0.1", "SSD (α = 50, λ = 0.1)"},
		{"neggrad+-a0.95", "NegGrad+ (α = 0.95)"},
		{"finetune", "fine-tuning"},
		{"retrain", "retraining"},
		{"fim-prune-1", "`fim-prune-1`"},       // not a fraction in (0, 1)
		{"fim-prune-0.20", "`fim-prune-0.20`"}, // not the canonical spelling
		{"fim-prune-NaN", "`fim-prune-NaN`"},
		{"fim-prune-0x1p-3", "`fim-prune-0x1p-3`"},
		{"ssd-a10", "`ssd-a10`"},
		{"neggrad+-a*x*", "`neggrad+-a*x*`"},
		{"my method", "`my method`"},
	} {
		if got := methodLabel(tc.name); got != tc.want {
			t.Errorf("methodLabel(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPairedVerdict covers the three outcomes and the degenerate cases.
func TestPairedVerdict(t *testing.T) {
	for _, tc := range []struct {
		d    []float64
		want string
	}{
		// mean 0.02, s = 0.01, t(0.975, 2) = 4.302653: half-width 0.024841.
		{[]float64{0.01, 0.02, 0.03}, "A is not distinguishable from B on m (difference +0.020, 95 % CI [−0.005, +0.045], 3 seeds)."},
		{[]float64{0.02, 0.021, 0.019}, "A is higher than B on m by 0.020 (95 % CI [+0.018, +0.022], 3 seeds)."},
		{[]float64{-0.02, -0.021, -0.019}, "A is lower than B on m by 0.020 (95 % CI [−0.022, −0.018], 3 seeds)."},
		{[]float64{0, 0, 0}, "A is not distinguishable from B on m (difference ±0.000, 95 % CI [±0.000, ±0.000], 3 seeds)."},
		{[]float64{0.01, 0.01}, "A is higher than B on m by 0.010 (95 % CI [+0.010, +0.010], 2 seeds)."},
		{[]float64{0.01}, "A and B cannot be compared on m: one seed gives no interval (difference +0.010)."},
	} {
		got := pairedVerdict("A", "B", "m", results.NewEstimate(tc.d), 3)
		if got != tc.want {
			t.Errorf("pairedVerdict(%v):\n got  %s\n want %s", tc.d, got, tc.want)
		}
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

// TestStudyRandom renders random valid studies (seeded): 1 to 6 seeds, 1 to
// 12 methods with names from the study's families and hostile ones, values
// anywhere in their ranges (ties, zeros, ones), U-LiRA and ε present or
// not. Every study results.Validate accepts must render, with the section,
// the figure and a well-formed page.
func TestStudyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{fimPrefix + "0.25", fimPrefix + "0.5", randomPrefix + "0.25", magnitudePrefix + "0.25", fineTuneName, retrainName,
		ratioPrefix + "10", "ssd-a10-l1", negGradPrefix + "0.95", evil, "x\ny", fimPrefix + "1e-05", randomPrefix + "1e-05"}
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
	for iter := range 40 {
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
		}
		perm := rng.Perm(len(names))[:1+rng.IntN(len(names)-1)]
		for _, k := range perm {
			m := results.Method{Name: names[k],
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
			if st.Shadows > 0 && rng.IntN(4) > 0 {
				a, b := unit(), unit()
				m.ULiRA = &results.ULiRA{Accuracy: unit(), CI95: [2]float64{min(a, b), max(a, b)}, Examples: 1, Pairs: 1}
			}
			if st.Shadows > 0 && rng.IntN(2) > 0 {
				m.Epsilon = &results.EpsilonScore{MeanEpsilon: 50 * unit(), ForgetScore: unit(), ModelsPerSide: 2 + rng.IntN(10), Ceiling: 0}
			}
			st.Methods = append(st.Methods, m)
		}
		recomputeStudy(st)
		res := loadResults(t, "small.json")
		res.Schema, res.Study = results.Schema, st
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
