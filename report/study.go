package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fimprune/fimprune/fimlib/results"
	"gonum.org/v1/gonum/stat/distuv"
)

// Section 8: the multi-seed comparison of deletion methods (results.Study).
// It renders what the results file holds and computes no statistic of its
// own: every interval is the file's 95 % t interval over the seeds, and the
// verdicts of a schema v3 file are the ones package fimlib/verdict stored
// in Study.Verdicts (paired t tests, Holm's correction, minimum detectable
// effects). A schema v2 file has no verdicts, so none are shown. Methods
// are named from their typed identity (results.Method.Identity), never by
// parsing a name.

// Attack scores the tables show (results.AttackEstimate.Score); names are
// compared with '-' read as '_'.
const (
	scoreLogitConfidence = "logit_confidence"
	scoreLoss            = "neg_loss"
)

// methodView is one method of the study with its identity.
type methodView struct {
	m     *results.Method
	id    results.MethodID
	known bool // the identity is known (always in v3; from the name in v2)
	role  results.Role
}

// studyView is the study with what several parts of section 8 need.
type studyView struct {
	s       *results.Study
	schema  string
	v3      bool // schema v3: per-seed shadow attacks, identities, verdicts
	seeds   int
	methods []methodView
	byName  map[string]*methodView
	ref     *methodView // retrain, the reference; nil when the study has none
	null    *methodView // retrain-2, an independent retrain; nil when none
	upper   *methodView // identity, no deletion; nil when none
	// ulira: the figure's forgetting axis is U-LiRA accuracy (every method
	// but the reference has it); otherwise offline-LiRA AUC.
	ulira bool
}

func newStudyView(s *results.Study, schema string) *studyView {
	v := &studyView{s: s, schema: schema, v3: schema == results.Schema, seeds: len(s.Seeds), byName: make(map[string]*methodView, len(s.Methods))}
	v.methods = make([]methodView, len(s.Methods))
	for i := range s.Methods {
		m := &s.Methods[i]
		id, ok := m.Identity()
		role := results.RoleMethod
		if ok {
			role = id.Role()
		}
		v.methods[i] = methodView{m: m, id: id, known: ok, role: role}
		mv := &v.methods[i]
		v.byName[m.Name] = mv
		switch {
		case role == results.RoleReference && v.ref == nil:
			v.ref = mv
		case role == results.RoleNull && v.null == nil:
			v.null = mv
		case role == results.RoleUpper && v.upper == nil:
			v.upper = mv
		}
	}
	some := false
	v.ulira = true
	for i := range v.methods {
		mv := &v.methods[i]
		if _, _, _, ok := mv.uliraPoint(); ok {
			some = true
		} else if mv != v.ref {
			v.ulira = false
		}
	}
	v.ulira = v.ulira && some
	return v
}

// uliraPoint is the method's U-LiRA accuracy with its interval: in v3 the
// mean over seeds of Shadow.ULiRA with its t interval, in v2 the single
// shadow-model estimate with its bootstrap interval.
func (mv *methodView) uliraPoint() (y, lo, hi float64, ok bool) {
	if sh := mv.m.Shadow; sh != nil {
		return sh.ULiRA.Mean, sh.ULiRA.CI95[0], sh.ULiRA.CI95[1], true
	}
	if u := mv.m.ULiRA; u != nil {
		return u.Accuracy, u.CI95[0], u.CI95[1], true
	}
	return 0, 0, 0, false
}

// num formats an identity's number as results files write it (0.95, 10,
// 1e-05): digits, '.', 'e', '+' and '-' only, inert in Markdown.
func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// percentOf formats a fraction as a percentage with as few digits as it
// needs (0.2 → "20 %", 0.125 → "12.5 %").
func percentOf(x float64) string {
	return strconv.FormatFloat(100*x, 'g', 6, 64) + "\u00a0%"
}

// describe names a method from its identity. long selects the prose form
// ("FIM pruning at 20 %, fast recipe") over the table form ("FIM 20 %,
// fast"); esc makes the one data string an identity can carry, the recipe,
// safe for the output (text for Markdown, the identity for figures).
func describe(id results.MethodID, long bool, esc func(string) string) string {
	pick := func(l, s string) string {
		if long {
			return l
		}
		return s
	}
	var s string
	switch id.Family {
	case results.FamilyFIM:
		s = pick("FIM pruning at ", "FIM ") + percentOf(id.Fraction)
	case results.FamilyRandom:
		s = pick("random pruning at ", "random ") + percentOf(id.Fraction)
	case results.FamilyMagnitude:
		s = pick("magnitude pruning at ", "magnitude ") + percentOf(id.Fraction)
	case results.FamilyRatio:
		s = pick("Fisher-ratio pruning (α = "+num(id.Alpha)+")", "Fisher ratio, α = "+num(id.Alpha))
	case results.FamilySSD:
		s = pick("SSD (α = "+num(id.Alpha)+", λ = "+num(id.Lambda)+")", "SSD, α = "+num(id.Alpha)+", λ = "+num(id.Lambda))
	case results.FamilyNegGrad:
		s = pick("NegGrad+ (α = "+num(id.Alpha)+")", "NegGrad+, α = "+num(id.Alpha))
	case results.FamilyFineTune:
		s = "fine-tuning"
	case results.FamilyIdentity:
		s = pick("no deletion (identity)", "identity")
	case results.FamilyRetrain:
		switch {
		case id.Replica == 2:
			s = pick("retraining, second seed (null)", "2nd retrain (null)")
		case id.Replica > 2:
			s = pick("retraining, replica "+strconv.Itoa(id.Replica)+" (null)", "retrain #"+strconv.Itoa(id.Replica)+" (null)")
		default:
			s = "retraining"
		}
	default:
		s = esc(string(id.Family))
	}
	if r := id.Recipe; r != "" && r != results.RecipeSeed {
		s += ", " + esc(r) + pick(" recipe", "")
	}
	if id.Replica >= 2 && id.Family != results.FamilyRetrain {
		s += pick(", replica ", " #") + strconv.Itoa(id.Replica)
	}
	return s
}

// label names the method in prose (Markdown): "FIM pruning at 20 %",
// "SSD (α = 10, λ = 1)", "retraining, second seed (null)"; a v2 name no
// writer produced is shown as code.
func (mv *methodView) label() string {
	if !mv.known {
		return code(mv.m.Name)
	}
	return describe(mv.id, true, text)
}

// cell names the method in a table's first column, in the short form.
func (mv *methodView) cell() string {
	if !mv.known {
		return codeCell(mv.m.Name)
	}
	return describe(mv.id, false, text)
}

// plain names the method in a figure's legend: the prose form as plain
// text, on one line and at most 44 characters (a name that is no known
// method at most 32).
func (mv *methodView) plain() string {
	if !mv.known {
		return figureLabel(mv.m.Name)
	}
	return figureText(describe(mv.id, true, func(s string) string { return s }), 44)
}

// labelOf names a method of the verdicts by its name (the verdicts refer to
// methods by name; results.Validate checks that they exist).
func (v *studyView) labelOf(name string) string {
	if mv := v.byName[name]; mv != nil {
		return mv.label()
	}
	return code(name)
}

func (v *studyView) cellOf(name string) string {
	if mv := v.byName[name]; mv != nil {
		return mv.cell()
	}
	return codeCell(name)
}

// attackOf returns m's population attack with the given score, or nil.
func attackOf(m *results.Method, score string) *results.AttackEstimate {
	norm := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	for i := range m.Attacks {
		got := norm(m.Attacks[i].Score)
		if got == score || (score == scoreLoss && got == "loss") {
			return &m.Attacks[i]
		}
	}
	return nil
}

// signedCI formats an interval of differences with explicit signs.
func signedCI(iv [2]float64, prec int) string {
	return "[" + signed(iv[0], prec) + ", " + signed(iv[1], prec) + "]"
}

// est formats an estimate as "mean [lo, hi]" with format f. A point
// interval (one seed, or the same value on every seed) is not shown.
func est(e results.Estimate, f func(float64) string) string {
	if len(e.Values) < 2 || e.CI95[0] == e.CI95[1] {
		return f(e.Mean)
	}
	return f(e.Mean) + " [" + f(e.CI95[0]) + ", " + f(e.CI95[1]) + "]"
}

// estPtr is est for an optional estimate ("—" when absent).
func estPtr(e *results.Estimate, f func(float64) string) string {
	if e == nil {
		return "—"
	}
	return est(*e, f)
}

func fixedFn(prec int) func(float64) string { return func(x float64) string { return fixed(x, prec) } }
func signedFn(prec int) func(float64) string {
	return func(x float64) string { return signed(x, prec) }
}

// countCell formats a per-seed count (parameters zeroed or changed, capped
// rows): the count when every seed had the same whole number, else the
// estimate.
func countCell(e results.Estimate) string {
	same := len(e.Values) > 0
	for _, v := range e.Values {
		same = same && v == e.Values[0]
	}
	if same && e.Values[0] == math.Trunc(e.Values[0]) && e.Values[0] < 1e15 {
		return count(int(e.Values[0]))
	}
	if math.Abs(e.Mean) >= 100 { // a tenth of a parameter says nothing at this size
		return est(e, fixedFn(0))
	}
	return est(e, fixedFn(1))
}

// uliraCell formats a schema v2 U-LiRA estimate.
func uliraCell(u *results.ULiRA) string {
	if u == nil {
		return "—"
	}
	return fixed(u.Accuracy, 3) + " " + ci(u.CI95, 3)
}

// pval formats a p-value.
func pval(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fixed(p, 3)
}

// metricInfo says how section 8 names and prints a verdict metric.
type metricInfo struct {
	name string // in prose and table headers
	prec int    // digits of its values and differences
}

func metricOf(m results.Metric) metricInfo {
	switch m {
	case results.MetricTestAccuracy:
		return metricInfo{"test accuracy", 4}
	case results.MetricPopulationAUC:
		return metricInfo{"population AUC (logit-confidence)", 3}
	case results.MetricRMIAAUC:
		return metricInfo{"RMIA AUC", 3}
	case results.MetricLiRAAUC:
		return metricInfo{"offline-LiRA AUC", 3}
	case results.MetricULiRA:
		return metricInfo{"U-LiRA accuracy", 3}
	}
	return metricInfo{text(string(m)), 3}
}

// outcomeWord is an outcome as the report writes it.
func outcomeWord(o results.Outcome) string {
	switch o {
	case results.OutcomeHigher:
		return "higher"
	case results.OutcomeLower:
		return "lower"
	case results.OutcomeNotDist:
		return "not distinguishable"
	case results.OutcomeUndecided:
		return "undecided"
	}
	return text(string(o))
}

// rolesNote says what the null and upper rows of a table are, for the
// roles the study has; null and upper say what those rows show in that
// table.
func (v *studyView) rolesNote(null, upper string) string {
	s := []string{""}
	if v.null != nil {
		s = append(s, "The "+v.null.cell()+" row is the noise floor: "+null+".")
	}
	if v.upper != nil {
		s = append(s, "The "+v.upper.cell()+" row is the upper reference: "+upper+".")
	}
	return strings.Join(s, " ")
}

// studySection writes section 8; fig inserts a figure by file name.
func (a *analysis) studySection(m *md, fig func(string)) {
	s := a.res.Study
	if s == nil {
		return
	}
	v := newStudyView(s, a.res.Schema)
	m.h(2, "8. Methods compared over seeds")
	m.p(v.intro())

	// Narrow tables rather than one wide one: each fits the page's column
	// (and an A4 print) with its intervals on one line.
	m.h(3, "8.1 Utility and cost")
	var rows [][]string
	for i := range v.methods {
		mv := &v.methods[i]
		mt := mv.m
		rows = append(rows, []string{mv.cell(), est(mt.TestAccuracy, fixedFn(4)), est(mt.TestGap, signedFn(4)), est(mt.ForgetAccuracy, fixedFn(4))})
	}
	m.table([]string{"method", "test accuracy", "test gap to retrain", "forget accuracy"}, "lrrr", rows)
	m.p(fmt.Sprintf("Test gap: test accuracy minus the retrained model's of the same seed. Forget accuracy is on the %s forget rows; a method that forgot should match the retrained model there, not fall below it.", count(s.ForgetRows)),
		v.rolesNote("how far an independent retrain lands from the reference by chance", "the full model, which never forgot anything"))
	change := false
	for i := range s.Methods {
		change = change || s.Methods[i].Change != nil
	}
	rows = nil
	for i := range v.methods {
		mv := &v.methods[i]
		mt := mv.m
		row := []string{mv.cell(), est(mt.Seconds, secs), countCell(mt.Zeroed)}
		if change {
			if c := mt.Change; c != nil {
				row = append(row, countCell(c.Parameters), est(c.RelativeL2, fixedFn(3)))
			} else {
				row = append(row, "—", "—")
			}
		}
		rows = append(rows, row)
	}
	params := count(a.res.Config.Model.Params)
	if change {
		m.table([]string{"method", "seconds per deletion", "parameters zeroed", "parameters changed", "relative L2 change"}, "lrrrr", rows)
		m.p(fmt.Sprintf("Seconds: wall time of one deletion (for retraining, training from scratch on the retained rows). Parameters zeroed and changed: out of %s, against the full model of the same seed; relative L2 change: ‖θ′ − θ‖₂ / ‖θ‖₂. A retrained model changes every parameter.", params))
	} else {
		m.table([]string{"method", "seconds per deletion", "parameters zeroed"}, "lrr", rows)
		m.p(fmt.Sprintf("Seconds: wall time of one deletion (for retraining, training from scratch on the retained rows). Parameters zeroed: out of %s.", params))
	}

	m.h(3, "8.2 Forgetting")
	rows = nil
	for i := range v.methods {
		mv := &v.methods[i]
		auc := func(score string) string {
			if at := attackOf(mv.m, score); at != nil {
				return est(at.AUC, fixedFn(3))
			}
			return "—"
		}
		rows = append(rows, []string{mv.cell(), est(mv.m.ForgetKL, fixedFn(4)), auc(scoreLogitConfidence), auc(scoreLoss)})
	}
	m.table([]string{"method", "forget KL to retrain (nats)", "population AUC, logit-confidence", "population AUC, loss"}, "lrrr", rows)
	m.p(fmt.Sprintf("Forget KL: mean over the %s forget rows of KL(method ‖ retrain) between the two models' predicted class distributions, retrained model of the same seed. Population attacks: the forget rows as members against %s test rows as non-members, per seed. The target of a deletion is the retrained model's row, not 0.5: the forget rows can differ from test rows in ways that have nothing to do with membership.",
		count(s.ForgetRows), count(s.NonMembers)),
		v.rolesNote("the KL and AUC differences two retrains show by chance", "what the attacks see when nothing was deleted"))
	rows = nil
	for i := range v.methods {
		mv := &v.methods[i]
		at := attackOf(mv.m, scoreLogitConfidence)
		if at == nil {
			continue
		}
		rows = append(rows, []string{mv.cell(), est(at.Advantage, fixedFn(3)), est(at.TPRAt1pctFPR, fixedFn(3)), estPtr(at.TPRAt01pctFPR, fixedFn(3))})
	}
	if rows != nil {
		m.table([]string{"method", "advantage, logit-confidence", "TPR at 1 % FPR", "TPR at 0.1 % FPR"}, "lrrr", rows)
		m.p(fmt.Sprintf("The same population attack read at its most useful points: advantage is max |TPR − FPR| over all thresholds; TPR at a false-positive rate is the share of forget rows caught while wrongly flagging at most that share of the %s test rows (a dash: too few test rows to resolve the rate). An attack with no signal has TPR ≈ FPR.",
			count(s.NonMembers)))
	}
	if v.v3 {
		v.referenceAttacks(m)
	}

	m.h(3, "8.3 Per-example attacks")
	if v.v3 {
		v.perExampleV3(m)
	} else {
		v.perExampleV2(m)
	}

	m.h(3, "8.4 Utility cost against forgetting")
	fig("fig-5-pareto.svg")

	m.h(3, "8.5 Verdicts")
	v.verdicts(m)

	m.h(3, "8.6 How these numbers are computed")
	v.computed(m)
}

// intro is section 8's first paragraph: what varies per seed, what the
// seeds share, how many there are, the time, and what an interval is.
func (v *studyView) intro() string {
	s := v.s
	seeds := make([]string, 0, min(len(s.Seeds), 21))
	for i, seed := range s.Seeds {
		if i == 20 {
			seeds = append(seeds, "…")
			break
		}
		seeds = append(seeds, strconv.FormatUint(seed, 10))
	}
	out := fmt.Sprintf("%d deletion methods, each run once per seed (%d seeds: %s) with the same budget. ", len(s.Methods), v.seeds, strings.Join(seeds, ", "))
	if v.v3 {
		vary := fmt.Sprintf("the forget set (%s rows drawn afresh for each seed", count(s.ForgetRows))
		if spec, same := sameSpec(s.ForgetSets); same {
			vary += ", " + code(spec)
		}
		vary += "), the full model's initialisation, dropout, shuffling and random masks"
		var shared []string
		if split, same := sameSplit(s.ForgetSets); same {
			shared = append(shared, fmt.Sprintf("the train/test split (split seed %d)", split))
		} else {
			vary += ", and the train/test split"
		}
		if s.Shadows > 0 {
			shared = append(shared, fmt.Sprintf("the %s shadow models that the per-example attacks take as references", count(s.Shadows)))
		}
		out += "What changes from seed to seed: " + vary + ". "
		if len(shared) > 0 {
			out += "What all seeds share: " + join(shared) + ". "
		}
	} else {
		out += fmt.Sprintf("All seeds share the split and the forget set (%s rows)", count(s.ForgetRows))
		if s.Shadows > 0 {
			out += fmt.Sprintf(" and the %s shadow models behind U-LiRA and ε", count(s.Shadows))
		}
		out += "; a seed sets the initialisation, dropout, shuffling and random masks. "
	}
	out += fmt.Sprintf("The study took %s s. ", secs(s.Seconds))
	if v.seeds < 2 {
		return out + "With one seed there are no intervals: the cells hold single values, and nothing is compared."
	}
	out += fmt.Sprintf("Each cell is the mean over the seeds with its 95 %% t interval, mean ± t₀.₉₇₅,ₙ₋₁ · s/√n (here t₀.₉₇₅,%d = %s), as the results file holds it; the per-seed values are the unit of replication, and rows or models within a seed are not counted as replicates. A cell without an interval had the same value on every seed.",
		v.seeds-1, fixed(tQuantile975(v.seeds-1), 3))
	if !v.v3 && v.ulira {
		out += " U-LiRA is the exception: one estimate per method from the shared shadow models, with a bootstrap interval over the forget rows."
	}
	return out
}

// sameSpec returns the forget sets' common spec.
func sameSpec(fs []results.ForgetSet) (string, bool) {
	if len(fs) == 0 {
		return "", false
	}
	for _, f := range fs[1:] {
		if f.Spec != fs[0].Spec {
			return "", false
		}
	}
	return fs[0].Spec, true
}

// sameSplit returns the forget sets' common split seed.
func sameSplit(fs []results.ForgetSet) (int64, bool) {
	if len(fs) == 0 {
		return 0, false
	}
	for _, f := range fs[1:] {
		if f.SplitSeed != fs[0].SplitSeed {
			return 0, false
		}
	}
	return fs[0].SplitSeed, true
}

// referenceAttacks writes the v3 table of the attacks that take the shadow
// models as references: RMIA and tie-robust offline LiRA.
func (v *studyView) referenceAttacks(m *md) {
	var rows [][]string
	for i := range v.methods {
		mv := &v.methods[i]
		mt := mv.m
		tied := "—"
		if t := mt.LiRATiedShare; t != nil {
			tied = pct(t.Mean, 1)
		}
		rows = append(rows, []string{mv.cell(), estPtr(mt.RMIAAUC, fixedFn(3)), estPtr(mt.RMIATPRAt1pctFPR, fixedFn(3)), est(mt.LiRAOfflineAUC, fixedFn(3)), tied})
	}
	m.table([]string{"method", "RMIA AUC", "RMIA TPR at 1 % FPR", "offline-LiRA AUC", "rows in ties (mean)"}, "lrrrr", rows)
	s := "RMIA and offline LiRA attack each seed's model of the method with the shadow models as references, the forget rows as members against the test rows as non-members, so 0.5 is no signal and the retrained row is the target. Both are tie-robust: rows the attacked model scores identically (a pruned model ties many) get one statistic, so a tie cannot be ranked by how hard the shadows find the row; the last column is the mean share of attacked rows in such ties, where a large share means the AUC rests on few distinct scores."
	if r := v.s.RMIA; r != nil {
		s += " " + v.rmiaSettings(r)
	}
	if rs := v.s.RMIASplits; len(rs) > 0 {
		// A split per seed: each seed's shadows chose their own a.
		as := make([]string, len(rs))
		for i := range rs {
			as[i] = num(rs[i].A)
		}
		s += fmt.Sprintf(" With a split per seed, each seed's own shadow models chose RMIA's a (per seed: %s), with γ = %s and signal P(x|θ) = %s.", strings.Join(as, ", "), num(rs[0].Gamma), text(rs[0].Signal))
	}
	m.p(s, v.rolesNote("the AUCs two retrains show by chance", "the full model, which every attack should tell apart from retraining as well as the data allow"))
}

// rmiaSettings is one sentence on RMIA's settings.
func (v *studyView) rmiaSettings(r *results.RMIASettings) string {
	var grid []string
	for i := range r.Grid {
		if i == 12 {
			grid = append(grid, "…")
			break
		}
		g := num(r.Grid[i])
		if i < len(r.GridAUC) {
			g += " → " + fixed(r.GridAUC[i], 3)
		}
		grid = append(grid, g)
	}
	return fmt.Sprintf("RMIA's settings: signal P(x|θ) = %s, γ = %s, and a = %s, chosen on the grid of a → mean AUC (%s) by attacking %d shadow models in turn on %s rows each, with %s population rows z.",
		text(r.Signal), num(r.Gamma), num(r.A), strings.Join(grid, "; "), r.TuneTargets, count(r.TuneRows), count(r.PopulationRows))
}

// perExampleV3 writes the v3 table of the shadow-model attacks per seed.
func (v *studyView) perExampleV3(m *md) {
	var rows [][]string
	models := 0
	for i := range v.methods {
		mv := &v.methods[i]
		sh := mv.m.Shadow
		if sh == nil {
			rows = append(rows, []string{mv.cell(), "—", "—", "—", "—"})
			continue
		}
		models = max(models, sh.ModelsPerSide)
		eps := "none finite"
		if e := sh.MedianFiniteEpsilon; e != nil {
			eps = fixed(*e, 2)
		}
		eps += " (≤ " + fixed(sh.Ceiling, 2) + ")"
		rows = append(rows, []string{mv.cell(), est(sh.ULiRA, fixedFn(3)), est(sh.ForgetScore, fixedFn(3)), countCell(sh.Capped), eps})
	}
	if models == 0 {
		m.p("No shadow models were trained (study.shadows = 0), so there are no per-example attacks.")
		return
	}
	m.table([]string{"method", "U-LiRA accuracy", "F", "capped rows", "median finite ε (ceiling)"}, "lrrrr", rows)
	m.p(fmt.Sprintf("For each seed the method ran on shadow models that trained on that seed's forget set, and these \"unlearned\" shadows are compared, row by row of the forget set, with as many shadows that never saw it (%d per side). ", models)+
		"U-LiRA accuracy: per seed, the balanced accuracy of telling an unlearned shadow from a retrained one on the forget rows, every model judged once by Gaussians fitted on the others; 0.5 for a perfect unlearner. "+
		fmt.Sprintf("F: the NeurIPS 2023 unlearning challenge's forget score per seed, 1 when every row's ε is below 0.5. Capped rows: forget rows per seed (of %s) whose ε is the cap, because the threshold sweep separated the two sides completely; the cap stands for \"fully distinguishable as far as N models can tell\", not for a measured ε, so it is counted here and not averaged: one capped row would outweigh dozens of finite ones in a mean. ", count(v.s.ForgetRows))+
		"Median finite ε: the median of the finite ε over every seed's rows together (so no interval), next to the ceiling ln(N − 1) that N models per side can show at most; even a perfect unlearner shows ε above 0 with few models, so compare methods with each other and with retraining, not with 0.",
		v.rolesNote("what the attacks find between two retrains", "what they find when nothing was deleted"))
}

// perExampleV2 writes schema v2's table: offline LiRA per seed, and U-LiRA
// and ε from one set of shadow models shared by all seeds.
func (v *studyView) perExampleV2(m *md) {
	var rows [][]string
	for i := range v.methods {
		mv := &v.methods[i]
		mt := mv.m
		eps, f := "—", "—"
		if e := mt.Epsilon; e != nil {
			eps = fmt.Sprintf("%s; ε ≤ %s with %d models per side", fixed(e.MeanEpsilon, 2), fixed(e.Ceiling, 2), e.ModelsPerSide)
			if e.MeanEpsilon >= e.Ceiling {
				eps += " (at or above the ceiling)"
			}
			f = fixed(e.ForgetScore, 3)
		}
		rows = append(rows, []string{mv.cell(), est(mt.LiRAOfflineAUC, fixedFn(3)), uliraCell(mt.ULiRA), eps, f})
	}
	m.table([]string{"method", "offline-LiRA AUC", "U-LiRA accuracy [95 % CI]", "mean ε", "F"}, "lrrlr", rows)
	m.p(fmt.Sprintf("Offline LiRA: per seed, on the same rows as the population attacks. "+
		"U-LiRA, ε and F come from %s shadow models shared by all seeds: one estimate per method (U-LiRA with a bootstrap interval over the forget examples; ε and F without an interval), not a mean over seeds. U-LiRA accuracy is 0.5 for a perfect unlearner. "+
		"A finite ε cannot exceed its ceiling, about ln(N − 1) with N models per side, so an ε at the ceiling means \"fully distinguishable as far as N models can show\"; rows the models separate completely count with the cap, which can lift a mean above the ceiling (schema v3 counts them instead). Even a perfect unlearner shows a mean ε near 1.5 with few models, so compare ε between methods, not with 0.",
		count(v.s.Shadows)))
}

// verdicts writes §8.5 from Study.Verdicts.
func (v *studyView) verdicts(m *md) {
	vd := v.s.Verdicts
	if vd == nil {
		switch {
		case !v.v3:
			m.p(fmt.Sprintf("This file predates schema v3's verdicts (it is %s), so none are shown: the tables above describe the methods, and no difference between them is claimed here.", code(v.schema)))
		case v.seeds < 2:
			m.p("With one seed there is no interval and no test, so the file holds no verdicts and none are shown.")
		case v.ref == nil:
			m.p("The study has no retrained model to compare with, so the file holds no verdicts and none are shown.")
		default:
			m.p("The file holds no verdicts, so none are shown.")
		}
		return
	}
	decided, undecided := 0, 0
	for _, c := range vd.Comparisons {
		if len(c.Difference.Values) >= 2 {
			decided++
		} else {
			undecided++
		}
	}
	s := fmt.Sprintf("The file holds %d paired comparisons, computed when the study ran (package fimlib/verdict)%s. ", len(vd.Comparisons), v.familyParts(vd))
	if decided > 0 {
		s += fmt.Sprintf("Each is a paired t test over the %d seeds of method − reference. The %d tests form one family at α = %s under Holm's step-down correction (Holm 1979), which keeps the chance of any false \"higher\" or \"lower\" in the whole family at most %s. The MDE of a comparison is the smallest true difference it would detect with %s power at the family's strictest level, α/m = %s.",
			v.seeds, decided, num(vd.Alpha), pct(vd.Alpha, 0), pct(vd.Power, 0), sig3(vd.Alpha/float64(decided)))
	}
	if undecided > 0 {
		s += fmt.Sprintf(" %d comparisons rest on fewer than two seeds and are undecided: there is no test.", undecided)
	}
	m.p(s)

	m.p("**Findings against retraining.** \"Higher\" or \"lower\" only when the comparisons with retraining and with the second retrain agree after Holm's correction; \"not distinguishable\" means these data cannot tell the two apart at the family's level, not that they are equal.")
	v.findingsTable(m, vd)
	m.bullets(v.findingSentences(vd)...)

	m.p("**Comparisons.** Difference: method − reference, the mean over seeds with its 95 % t interval (not adjusted for the family); Holm p: the p-value after Holm's correction; MDE: as above.")
	for _, metric := range results.Metrics {
		var rows [][]string
		prec := metricOf(metric).prec
		for _, c := range vd.Comparisons {
			if c.Metric != metric {
				continue
			}
			diff := signed(c.Difference.Mean, prec)
			if len(c.Difference.Values) >= 2 {
				diff += " " + signedCI(c.Difference.CI95, prec)
			}
			rows = append(rows, []string{v.cellOf(c.Method) + " − " + v.cellOf(c.Reference), diff, pval(c.PHolm), fixed(c.MDE, prec), outcomeWord(c.Outcome)})
		}
		if rows == nil {
			continue
		}
		m.p("*" + upperFirst(metricOf(metric).name) + "*:")
		m.table([]string{"method − reference", "difference [95 % CI]", "Holm p", "MDE", "verdict"}, "lrrrl", rows)
	}

	m.p("**What these data cannot decide.**")
	m.bullets(v.cannotDecide(vd)...)
}

// familyParts says what the comparisons compare (": 18 against
// retraining, …"), by the roles of their methods.
func (v *studyView) familyParts(vd *results.Verdicts) string {
	role := func(name string) results.Role {
		if mv := v.byName[name]; mv != nil {
			return mv.role
		}
		return results.RoleMethod
	}
	var toRef, toNull, nullCheck, controls, other int
	for _, c := range vd.Comparisons {
		mr, rr := role(c.Method), role(c.Reference)
		switch {
		case mr == results.RoleNull && rr == results.RoleReference:
			nullCheck++
		case rr == results.RoleReference:
			toRef++
		case rr == results.RoleNull:
			toNull++
		case rr == results.RoleMethod:
			controls++
		default:
			other++
		}
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(toRef, "of a method or the identity against retraining")
	add(toNull, "against the second retrain")
	add(nullCheck, "of the second retrain against retraining (the null check)")
	add(controls, "of FIM pruning against its controls (random and magnitude pruning at the same fraction and recipe, fine-tuning)")
	add(other, "others")
	if len(parts) == 0 {
		return ""
	}
	return ": " + join(parts)
}

// findingsTable writes the method × metric table of the findings.
func (v *studyView) findingsTable(m *md, vd *results.Verdicts) {
	var metrics []results.Metric
	for _, metric := range results.Metrics {
		for _, f := range vd.Findings {
			if f.Metric == metric {
				metrics = append(metrics, metric)
				break
			}
		}
	}
	if len(metrics) == 0 {
		m.p("The file holds no findings.")
		return
	}
	header := []string{"method"}
	align := "l"
	for _, metric := range metrics {
		header = append(header, metricOf(metric).name)
		align += "l"
	}
	var rows [][]string
	seen := map[string]bool{}
	var order []string
	for i := range v.methods { // the study's order, then any other name
		order = append(order, v.methods[i].m.Name)
	}
	for _, f := range vd.Findings {
		order = append(order, f.Method)
	}
	for _, name := range order {
		if seen[name] {
			continue
		}
		seen[name] = true
		row := []string{v.cellOf(name)}
		found := false
		for _, metric := range metrics {
			cell := "—"
			for _, f := range vd.Findings {
				if f.Method == name && f.Metric == metric {
					cell, found = outcomeWord(f.Outcome), true
					break
				}
			}
			row = append(row, cell)
		}
		if found {
			rows = append(rows, row)
		}
	}
	m.table(header, align, rows)
}

// comparison returns the verdicts' comparison of method with reference on
// metric, or nil.
func comparison(vd *results.Verdicts, method, reference string, metric results.Metric) *results.Comparison {
	for i := range vd.Comparisons {
		c := &vd.Comparisons[i]
		if c.Method == method && c.Reference == reference && c.Metric == metric {
			return c
		}
	}
	return nil
}

// diffText is a comparison's difference with its interval and Holm p.
func diffText(c *results.Comparison) string {
	prec := metricOf(c.Metric).prec
	return fmt.Sprintf("%s (95 %% CI %s, Holm p %s)", signed(c.Difference.Mean, prec), signedCI(c.Difference.CI95, prec), pval(c.PHolm))
}

// findingSentences states every "higher" or "lower" finding and every
// decided comparison with a control, each with its interval, and the null
// check.
func (v *studyView) findingSentences(vd *results.Verdicts) []string {
	var out []string
	refName, nullName := "", ""
	if v.ref != nil {
		refName = v.ref.m.Name
	}
	if v.null != nil {
		nullName = v.null.m.Name
	}
	for _, f := range vd.Findings {
		if f.Outcome != results.OutcomeHigher && f.Outcome != results.OutcomeLower {
			continue
		}
		mv := v.byName[f.Method]
		if mv != nil && mv.role == results.RoleNull {
			continue // the null check below
		}
		a := comparison(vd, f.Method, refName, f.Metric)
		if a == nil {
			continue
		}
		s := fmt.Sprintf("%s is %s than retraining on %s: %s against retraining", upperFirst(v.labelOf(f.Method)), outcomeWord(f.Outcome), metricOf(f.Metric).name, diffText(a))
		if b := comparison(vd, f.Method, nullName, f.Metric); b != nil && nullName != "" {
			s += " and " + diffText(b) + " against the second retrain"
		}
		out = append(out, s+".")
	}
	if len(out) == 0 && len(vd.Findings) > 0 {
		out = append(out, "No method is higher or lower than retraining on any metric by both comparisons; the comparisons below give each difference with its interval.")
	}
	for _, c := range vd.Comparisons {
		ref := v.byName[c.Reference]
		if ref == nil || ref.role != results.RoleMethod || (c.Outcome != results.OutcomeHigher && c.Outcome != results.OutcomeLower) {
			continue
		}
		out = append(out, fmt.Sprintf("Against its control: %s is %s than %s on %s: %s.", v.labelOf(c.Method), outcomeWord(c.Outcome), v.labelOf(c.Reference), metricOf(c.Metric).name, diffText(&c)))
	}
	if v.null != nil && v.ref != nil {
		var same, differ []string
		for _, metric := range results.Metrics {
			c := comparison(vd, nullName, refName, metric)
			if c == nil || len(c.Difference.Values) < 2 {
				continue
			}
			item := metricOf(metric).name + " " + diffText(c)
			if c.Outcome == results.OutcomeNotDist {
				same = append(same, item)
			} else {
				differ = append(differ, item)
			}
		}
		if len(differ) > 0 {
			out = append(out, "Null check: the second retrain, an independent retraining, differs from retraining on "+strings.Join(differ, "; ")+". Two retrains should not differ, so the verdicts on these metrics deserve less trust than their p-values suggest.")
		}
		if len(same) > 0 {
			out = append(out, "Null check: as it should, the second retrain is not distinguishable from retraining on "+strings.Join(same, "; ")+".")
		}
	}
	return out
}

// cannotDecide turns the MDEs into what the data cannot decide, per metric.
func (v *studyView) cannotDecide(vd *results.Verdicts) []string {
	var out []string
	for _, metric := range results.Metrics {
		var lo, hi *results.Comparison
		n, nd := 0, 0
		for i := range vd.Comparisons {
			c := &vd.Comparisons[i]
			if c.Metric != metric || len(c.Difference.Values) < 2 {
				continue
			}
			n++
			if c.Outcome == results.OutcomeNotDist {
				nd++
			}
			if c.MDE > 0 && (lo == nil || c.MDE < lo.MDE) {
				lo = c
			}
			if hi == nil || c.MDE > hi.MDE {
				hi = c
			}
		}
		if n == 0 {
			continue
		}
		info := metricOf(metric)
		var s string
		if lo == nil {
			s = fmt.Sprintf("On %s, every comparison had the same difference on every seed, so its MDE is 0: the seeds cannot show how much a difference varies. ", info.name)
		} else {
			s = fmt.Sprintf("On %s, differences smaller than %s could go unseen even in the most precise comparison (its MDE: the difference it detects with %s power), and differences up to %s in the least precise one, %s against %s. ",
				info.name, fixed(lo.MDE, info.prec), pct(vd.Power, 0), fixed(hi.MDE, info.prec), v.labelOf(hi.Method), v.labelOf(hi.Reference))
		}
		s += fmt.Sprintf("%d of its %d comparisons are not distinguishable (their intervals are in the table above); each of those says only that a difference, if any, is probably smaller than about its MDE, not that there is none.", nd, n)
		out = append(out, s)
	}
	if len(out) == 0 {
		out = append(out, "With fewer than two seeds no comparison is tested, so the data decide nothing.")
	}
	return out
}

// computed writes §8.6: methods, formulas and sources.
func (v *studyView) computed(m *md) {
	m.p("Methods, by their identity in results.json (docs/methods.md has the settings): FIM pruning zeroes the fraction f of parameters with the highest forget-set Fisher and fine-tunes on the retained rows with the mask kept (the seed's recipe, or the fast recipe); Fisher-ratio pruning zeroes the parameters whose forget-set Fisher exceeds α times their Fisher on all training rows (SSD's selection rule, so how many it takes depends on the data) and fine-tunes the same way; SSD is selective synaptic dampening (Foster et al., AAAI 2024): those parameters are multiplied by min(λ · imp_D / imp_f, 1), without training; " +
		"fine-tuning trains on the retained rows without pruning; random and magnitude pruning are the controls, zeroing f of the parameters at random or by smallest magnitude, then fine-tuning the same way; NegGrad+ minimises α · ℓ_retain − (1 − α) · ℓ_forget (Kurmanji et al., NeurIPS 2023); retraining trains from scratch on the retained rows, the gold standard" + v.extraRoles() + ".")
	lines := []string{
		"interval over n seeds:               mean ± t₀.₉₇₅,ₙ₋₁ · s / √n   (s: standard deviation of the n per-seed values)",
		"forget KL to retrain:                mean over forget rows of Σ_c p_A(c|x) · log(p_A(c|x) / p_retrain(c|x))",
		"logit-scaled confidence:             φ(x) = log p_y − log Σ_{c≠y} p_c",
		"offline LiRA, per row:               Λ(x) = (φ_θ(x) − μ_OUT(x)) / σ_OUT   (one global σ_OUT)",
	}
	if v.v3 {
		lines = append(lines,
			"tie-robust:                          rows with equal φ_θ(x) (RMIA: equal P(x|θ)) share one statistic, their mean",
			"RMIA:                                LR(x, z) = [P(x|θ) / P(x)] / [P(z|θ) / P(z)]",
			"                                     P(x) = ½ [(1 + a) · P_OUT(x) + (1 − a)]",
			"                                     score(x) = share of population rows z with LR(x, z) ≥ γ",
			"rotated U-LiRA:                      each unlearned and retrained shadow judged once, by Gaussians of φ(x)",
			"                                     fitted on the other models; accuracy balanced over the two sides",
		)
	} else {
		lines = append(lines,
			"U-LiRA:                              Gaussians of φ(x) fitted on a quarter of the shadows per side,",
			"                                     the other pairs judged; accuracy balanced over the two sides",
		)
	}
	lines = append(lines,
		"ε per forget row (δ = 1e-5):         max over thresholds of max[log(1 − δ − FPR) − log FNR, log(1 − δ − FNR) − log FPR]",
		"                                     finite ε ≤ ln(N(1 − δ) − 1) ≈ ln(N − 1) with N models per side",
		"F:                                   mean over forget rows of 2^−k for ε in [k/2, (k+1)/2), 0 past ⌈ln(N − 1)⌉",
	)
	if v.v3 {
		lines = append(lines,
			"paired difference, seed i:           dᵢ = metric(A, seed i) − metric(B, seed i)",
			"paired t test:                       t = mean(d) / (s_d / √n), two-sided p from Student's t with n − 1 df",
			"Holm over m tests:                   p₍₁₎ ≤ … ≤ p₍ₘ₎;  p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1) · p₍ⱼ₎);  verdict when p̃ < α",
			"MDE:                                 (t₁₋α/(2m),ₙ₋₁ + t_power,ₙ₋₁) · s_d / √n",
		)
	}
	m.block(lines...)
	s := "Offline LiRA (Carlini et al., \"Membership inference attacks from first principles\", IEEE S&P 2022) compares each row's score under the attacked model with a Gaussian fitted to the shadow models that did not train on it. "
	if v.v3 {
		s += "RMIA (Zarifzadeh et al., \"Low-cost high-power membership inference attacks\", ICML 2024) compares the row's likelihood ratio with those of population rows z, which no model trained on; a is chosen on the shadow models, not on the attacked model. " +
			"U-LiRA (Hayes et al., \"Inexact unlearning needs more careful evaluations to avoid a false sense of privacy\", SaTML 2025) asks, per forget row, whether a model that trained on it and then ran the method can be told from one that never saw it; the rotation judges every shadow once, by fits its own scores never entered. "
	} else {
		s += "U-LiRA (Hayes et al., \"Inexact unlearning needs more careful evaluations to avoid a false sense of privacy\", SaTML 2025) asks, per forget row, whether a model that trained on it and then ran the method can be told from one that never saw it. "
	}
	s += "ε and F follow the NeurIPS 2023 machine unlearning challenge (Triantafillou et al., \"Are we making progress in unlearning? Findings from the first NeurIPS unlearning competition\", 2024). "
	if v.v3 {
		s += "Holm's step-down correction (S. Holm, \"A simple sequentially rejective multiple test procedure\", Scandinavian Journal of Statistics, 1979) holds the family-wise error rate at α. The MDE uses the normal approximation with t quantiles, slightly optimistic for five seeds or fewer. "
	}
	m.p(s + "docs/methods.md in the repository describes the methods and the attacks in full.")
}

// extraRoles describes the null and upper methods the study has.
func (v *studyView) extraRoles() string {
	s := ""
	if v.null != nil {
		s += "; the second retrain is an independently seeded retraining, whose distance from the first is the noise floor"
	}
	if v.upper != nil {
		s += "; the identity is the full model, unchanged"
	}
	return s
}

// tQuantile975 is the 97.5 % quantile of Student's t with df degrees of
// freedom, the one results.NewEstimate uses (shown in the intro, not used
// to compute anything).
func tQuantile975(df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}
