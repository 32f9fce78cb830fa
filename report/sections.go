package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fimprune/fimprune/fimlib/results"
)

// markdown writes the whole report. Sections mirror the seed notebook's
// report (docs/protocol.md): metadata, 1 performance, 2 privacy,
// 3 trade-off, 4 efficiency, 5 pruning and Fisher scores, 6 key findings,
// 7 method notes, 8 the methods compared over seeds (only when the results
// carry a study, schema v2 or v3), then appendices.
func (a *analysis) markdown(title string, figs []Figure) []byte {
	var m md
	m.h(1, text(title))
	a.metadata(&m)
	a.atAGlance(&m)
	fig := func(name string) {
		for i, f := range figs {
			if f.Name == name {
				m.figure(f, i+1)
			}
		}
	}
	a.performance(&m)
	fig("fig-1-overview.svg")
	a.privacy(&m)
	a.tradeoff(&m)
	fig("fig-2-tradeoff.svg")
	a.efficiency(&m)
	a.layers(&m)
	a.fisher(&m)
	fig("fig-3-fisher.svg")
	fig("fig-4-roc.svg")
	a.findings(&m)
	a.methods(&m)
	a.studySection(&m, fig)
	a.appendix(&m)
	return []byte(m.String())
}

func (a *analysis) metadata(m *md) {
	r := a.res
	c := r.Config
	e := r.Environment
	d := r.Dataset
	hidden := make([]string, len(c.Model.Hidden))
	for i, h := range c.Model.Hidden {
		hidden[i] = strconv.Itoa(h)
	}
	arch := fmt.Sprintf("MLP %d → %s → %d", c.Model.Inputs, strings.Join(hidden, " → "), c.Model.Classes)
	fractions := make([]string, len(c.Fractions))
	for i, f := range c.Fractions {
		fractions[i] = frac(f)
	}
	rows := [][]string{
		{"Experiment", text(a.summary.Metadata.Experiment)},
		{"Date (run start, UTC)", codeCell(e.Time)},
		{"Results schema", codeCell(r.Schema)},
		{"Dataset", fmt.Sprintf("%s: %s rows, %d features; train %s, validation %s, test %s", text(d.Name), count(d.Rows), d.Features, count(d.Train), count(d.Val), count(d.Test))},
		{"Scaling", text(d.Scaler)},
	}
	for _, name := range sortedKeys(d.SHA256) {
		rows = append(rows, []string{"SHA-256 of " + codeCell(name), codeCell(d.SHA256[name])})
	}
	rows = append(rows,
		[]string{"Model", fmt.Sprintf("%s, %s parameters, dropout %s; init: %s", arch, count(c.Model.Params), frac(c.Model.Dropout), text(c.Model.Init))},
		[]string{"Training", recipe(c.Train)},
		[]string{"Fine-tuning", recipe(c.FineTune)},
		[]string{"Deletion set", fmt.Sprintf("%s: %s rows forgotten, %s retained", codeCell(c.Deletion), count(d.Deletion), count(d.Retained))},
		[]string{"Fisher used for pruning", fmt.Sprintf("%s, over the %s deletion rows", text(r.Fisher.Kind), count(r.Fisher.Rows))},
		[]string{"Pruned fractions", strings.Join(fractions, ", ")},
		[]string{"Attack", fmt.Sprintf("%s members vs %s non-members (test rows); %s bootstrap resamples", count(a.members), count(a.nonMembers), count(c.Bootstrap))},
		[]string{"Selection", fmt.Sprintf("combined = %s · utility + %s · privacy", frac(c.Selection.UtilityWeight), frac(c.Selection.PrivacyWeight))},
		[]string{"Seeds", fmt.Sprintf("seed %d, split seed %d", c.Seed, c.SplitSeed)},
		[]string{"Backend", fmt.Sprintf("%s (%s)", codeCell(c.Backend), text(e.Backend))},
		[]string{"Versions", fmt.Sprintf("Go %s, gomlx %s, GOEXPERIMENT %s, %s", codeCell(e.GoVersion), codeCell(e.GomlxVersion), orNone(codeCell(e.GOEXPERIMENT)), codeCell(e.GOOS+"/"+e.GOARCH))},
		[]string{"Machine", fmt.Sprintf("%s, %d cores; %s", text(e.CPU), e.Cores, parallelNote(c.Parallel))},
	)
	m.table([]string{"run", ""}, "ll", rows)
}

// recipe describes a training configuration.
func recipe(t results.TrainConfig) string {
	s := fmt.Sprintf("%s, learning rate %s, batch %d, ", text(t.Optimizer), strconv.FormatFloat(t.LearningRate, 'g', -1, 64), t.BatchSize)
	if t.Patience > 0 {
		return s + fmt.Sprintf("up to %d epochs, early stopping with patience %d", t.MaxEpochs, t.Patience)
	}
	return s + fmt.Sprintf("%d epochs, no early stopping", t.MaxEpochs)
}

func parallelNote(n int) string {
	if n > 1 {
		return fmt.Sprintf("%d models trained at once", n)
	}
	return "one model at a time"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// atAGlance is the abstract: the seed's headline numbers, each next to what
// bounds its meaning.
func (a *analysis) atAGlance(m *md) {
	b := a.best()
	if b == nil {
		return
	}
	r := a.res
	accR := r.Models.Retrain.TestAccuracy
	gap := b.TestAccuracy - accR
	se := gapSE(b.TestAccuracy, accR, a.testRows)
	speed := ratioOf(r.Models.Retrain.TrainSeconds, b.DeletionSeconds)
	s := fmt.Sprintf("**Summary.** The seed's combined score picks f = %s (combined %s). That model's test accuracy is %s, %s points from the retrained model's %s (standard error of the gap ≈ %s points: %s). ",
		frac(b.Fraction), fixed(b.CombinedScore, 4), fixed(b.TestAccuracy, 4), signed(100*gap, 2), fixed(accR, 4), fixed(100*se, 2), noiseWord(gap, se))
	s += fmt.Sprintf("Its loss-attack AUC is %s %s against the retrained model's %s %s (intervals %s). ",
		fixed(b.MIA.AUC, 3), ci(b.MIA.AUCCI95, 3), fixed(r.Models.Retrain.MIA.AUC, 3), ci(r.Models.Retrain.MIA.AUCCI95, 3), overlapWord(b.MIA.AUCCI95, r.Models.Retrain.MIA.AUCCI95))
	s += fmt.Sprintf("The deletion took %s s against %s s for retraining: %s (%s).", secs(b.DeletionSeconds), secs(r.Models.Retrain.TrainSeconds), times(speed), speedWord(speed))
	if st := r.Study; st != nil {
		s += fmt.Sprintf(" Section 8 compares %d deletion methods over %d seeds", len(st.Methods), len(st.Seeds))
		if st.Verdicts != nil {
			s += fmt.Sprintf(", with %d paired comparisons under Holm's correction, each with its interval.", len(st.Verdicts.Comparisons))
		} else {
			s += "; the file holds no verdicts, so it shows none."
		}
	}
	m.p(s)
}

// noiseWord says whether a difference is within two standard errors.
func noiseWord(d, se float64) string {
	if math.IsNaN(se) {
		return "no error estimate"
	}
	if math.Abs(d) <= 2*se {
		return "within 2 SE, not distinguishable from noise"
	}
	return "larger than 2 SE"
}

func overlapWord(x, y [2]float64) string {
	if overlap(x, y) {
		return "overlap: not distinguishable at this sample size"
	}
	return "do not overlap"
}

func speedWord(s float64) string {
	switch {
	case math.IsNaN(s):
		return "no time recorded"
	case s < 1:
		return fmt.Sprintf("slower than retraining, by %s", pct(1/s-1, 0))
	case s == 1:
		return "as fast as retraining"
	}
	return "faster than retraining"
}

func (a *analysis) performance(m *md) {
	m.h(2, "1. Model performance")
	m.p(fmt.Sprintf("Test accuracy on %s test rows; the seed's attack (loss score, best of 100 thresholds chosen on the %d + %d attack rows themselves); its ROC AUC with a bootstrap 95 %% interval; the attacker advantage max |TPR − FPR|. Time: training (full, retrain) or the whole deletion (Fisher + pruning + fine-tuning) in wall-clock seconds%s.",
		count(a.testRows), a.members, a.nonMembers, timeCaveat(a.res.Config.Parallel)))
	var rows [][]string
	for _, r := range a.rows() {
		name := r.name
		if r.best {
			name = "**" + name + " (best)**"
		}
		before := "—"
		if r.pruned != nil {
			before = fixed(r.beforeFT, 4)
		}
		rows = append(rows, []string{name, fixed(r.acc, 4), before, fixed(r.mia.BestThresholdAccuracy, 3), fixed(r.mia.AUC, 3) + " " + ci(r.mia.AUCCI95, 3), fixed(r.mia.Advantage, 3), secs(r.seconds)})
	}
	m.table([]string{"model", "test accuracy", "before fine-tune", "MIA accuracy", "MIA AUC [95 % CI]", "advantage", "time (s)"}, "lrrrrrr", rows)
	if !math.IsNaN(a.majority) {
		m.p(fmt.Sprintf("For scale: always predicting the most frequent class (%s) scores %s on this test split; one standard error of a test accuracy near %s is %s points.",
			text(a.majLabel), fixed(a.majority, 4), fixed(a.res.Models.Retrain.TestAccuracy, 2), fixed(100*accSE(a.res.Models.Retrain.TestAccuracy, a.testRows), 2)))
	}
	if t := a.tiedSentence(); t != "" {
		m.p(t)
	}
	// Classification report of full, retrain and the best pruned model.
	var crows [][]string
	add := func(name string, cs []results.ClassReport) {
		for _, c := range cs {
			crows = append(crows, []string{name, text(c.Label), fixed(c.Precision, 4), fixed(c.Recall, 4), fixed(c.F1, 4), count(c.Support)})
			name = ""
		}
	}
	add("full", a.res.Models.Full.Classes)
	add("retrain", a.res.Models.Retrain.Classes)
	if b := a.best(); b != nil {
		add("pruned f = "+frac(b.Fraction)+" (best)", b.Classes)
	}
	if len(crows) > 0 {
		m.p("Per-class precision, recall and F1 on the test split:")
		m.table([]string{"model", "class", "precision", "recall", "F1", "support"}, "llrrrr", crows)
	}
}

func timeCaveat(parallel int) string {
	if parallel > 1 {
		return fmt.Sprintf(", measured with %d models training at once and sharing the cores", parallel)
	}
	return ""
}

func (a *analysis) privacy(m *md) {
	r := a.res
	m.h(2, "2. Privacy evaluation")
	m.p(fmt.Sprintf("Members are the %d deletion rows, non-members %d rows drawn from the test split. A higher score means \"more likely a member\". Two population attacks are run on every model: the seed's loss score (−cross-entropy = log p(y|x)) and the confidence score p(y|x). "+
		"A model that forgot the deletion rows should look like the retrained model, which never saw them, so each interval is compared with the retrained model's as well as with chance (0.5).",
		a.members, a.nonMembers))
	if !math.IsNaN(a.seAttack) {
		s := fmt.Sprintf("**Sampling noise.** With %d + %d rows, a best-threshold accuracy near 0.5 has a standard error of about 0.5/√%d = %s; because the threshold is chosen on the same rows, it is also biased upward",
			a.members, a.nonMembers, a.members+a.nonMembers, fixed(a.seAttack, 3))
		if !math.IsNaN(a.nullAttack) {
			s += fmt.Sprintf(": when members and non-members are indistinguishable its expected value is about %s, not 0.5 (see §7.3)", fixed(a.nullAttack, 3))
		}
		m.p(s + ".")
	}
	retrain := r.Models.Retrain.MIA.AUCCI95
	var rows [][]string
	for _, row := range a.rows() {
		vs := "—"
		if !row.isRetrain {
			vs = "overlaps"
			if !overlap(row.mia.AUCCI95, retrain) {
				vs = "**disjoint**"
			}
		}
		rows = append(rows, []string{row.name, fixed(row.mia.BestThresholdAccuracy, 3), sig3(row.mia.BestThreshold), fixed(row.mia.AUC, 3) + " " + ci(row.mia.AUCCI95, 3), chance(row.mia.AUCCI95), vs, fixed(row.mia.Advantage, 3)})
	}
	m.p("Loss attack (the seed's):")
	m.table([]string{"model", "best-threshold accuracy", "threshold", "AUC [95 % CI]", "AUC CI vs 0.5", "AUC CI vs retrain", "advantage"}, "lrrrllr", rows)
	rows = nil
	for _, row := range a.rows() {
		rows = append(rows, []string{row.name, fixed(row.conf.BestThresholdAccuracy, 3), fixed(row.conf.AUC, 3) + " " + ci(row.conf.AUCCI95, 3), chance(row.conf.AUCCI95), fixed(row.conf.Advantage, 3)})
	}
	m.p("Confidence attack:")
	m.table([]string{"model", "best-threshold accuracy", "AUC [95 % CI]", "AUC CI vs 0.5", "advantage"}, "lrrlr", rows)
	if a.sameRanking() {
		m.p("The two attacks give the same AUC and advantage for every model: for a fixed label, p(y|x) and log p(y|x) order the rows identically, so any rank statistic agrees; only the seed's 100 evenly spaced thresholds, placed on different scales, can make the best-threshold accuracies differ.")
	}
	if st := r.Study; st != nil {
		attacks := "offline LiRA and U-LiRA"
		if r.Schema == results.Schema {
			attacks = "RMIA, offline LiRA, U-LiRA and the unlearning challenge's ε"
		}
		if st.Shadows > 0 {
			m.p(fmt.Sprintf("Per-example attacks, the tests to trust for unlearning (§7.3), are in section 8: %s for every deletion method over %d seeds.", attacks, len(st.Seeds)))
		} else {
			m.p(fmt.Sprintf("Section 8 compares the deletion methods over %d seeds; its study trained no shadow models, so it has no per-example attacks (§7.3).", len(st.Seeds)))
		}
	} else {
		m.p("Not in this report: ROC curves (results.json holds AUC, CI and advantage, not the curves) and per-example attacks such as LiRA or U-LiRA, the tests to trust for unlearning (§7.3).")
	}
}

// sameRanking reports whether the loss and confidence attacks agree on AUC
// and advantage for every model.
func (a *analysis) sameRanking() bool {
	for _, r := range a.rows() {
		if r.mia.AUC != r.conf.AUC || r.mia.Advantage != r.conf.Advantage {
			return false
		}
	}
	return true
}

func (a *analysis) tradeoff(m *md) {
	r := a.res
	w := r.Config.Selection
	m.h(2, "3. Utility–privacy trade-off")
	m.p(fmt.Sprintf("The seed's selection: utility = 1 − |acc − acc_retrain| / acc_retrain, privacy = 1 − MIA accuracy (loss attack), combined = %s · utility + %s · privacy; the best fraction is the arg-max.",
		frac(w.UtilityWeight), frac(w.PrivacyWeight)))
	var rows [][]string
	for i, p := range r.Models.Pruned {
		name := "f = " + frac(p.Fraction)
		comb := fixed(p.CombinedScore, 4)
		if i == a.bestIdx {
			name, comb = "**"+name+" (best)**", "**"+comb+"**"
		}
		rows = append(rows, []string{name, fixed(p.TestAccuracy, 4), fixed(p.Utility, 4), fixed(p.MIA.BestThresholdAccuracy, 3), fixed(p.Privacy, 3), comb})
	}
	m.table([]string{"pruned fraction", "test accuracy", "utility", "MIA accuracy", "privacy", "combined"}, "lrrrrr", rows)
	if noise := w.PrivacyWeight * a.seAttack; !math.IsNaN(noise) && len(r.Models.Pruned) > 1 {
		m.p(a.selectionNoise())
	}
}

// selectionNoise compares the best combined score's lead with the noise its
// privacy term carries.
func (a *analysis) selectionNoise() string {
	r := a.res
	w := r.Config.Selection
	noise := w.PrivacyWeight * a.seAttack
	b := a.best()
	if b == nil {
		return ""
	}
	second := math.Inf(-1)
	for i, p := range r.Models.Pruned {
		if i != a.bestIdx {
			second = max(second, p.CombinedScore)
		}
	}
	lead := b.CombinedScore - second
	s := fmt.Sprintf("The best score leads the runner-up by %s. The privacy term alone carries a standard error of about %s × %s = %s between identical models",
		fixed(lead, 4), frac(w.PrivacyWeight), fixed(a.seAttack, 3), fixed(noise, 4))
	if lead < noise {
		return s + ", more than the lead: the choice of the best fraction is not distinguishable from noise."
	}
	if lead < 2*noise {
		return s + ": the lead is within two standard errors, so the choice of the best fraction is not clearly distinguishable from noise."
	}
	return s + ": the lead is larger than two standard errors."
}

func (a *analysis) efficiency(m *md) {
	r := a.res
	m.h(2, "4. Computational efficiency")
	retrain := r.Models.Retrain.TrainSeconds
	m.p(fmt.Sprintf("Deletion cost = Fisher scores + pruning + fine-tuning, against retraining from scratch on the retained rows (%s s). Speed-up = retrain seconds / deletion seconds; below 1 the deletion was slower than retraining. %s",
		secs(retrain), parallelSentence(r.Config.Parallel, r.Environment.Cores)))
	var rows [][]string
	for i, p := range r.Models.Pruned {
		name := "f = " + frac(p.Fraction)
		if i == a.bestIdx {
			name = "**" + name + " (best)**"
		}
		sp := ratioOf(retrain, p.DeletionSeconds)
		rows = append(rows, []string{name, secs(p.DeletionSeconds), secs(p.FinetuneSeconds), times(sp), speedVerdict(sp)})
	}
	m.table([]string{"pruned fraction", "deletion (s)", "of which fine-tuning (s)", "speed-up vs retrain", "verdict"}, "lrrrl", rows)
	ft, re := r.Config.FineTune.MaxEpochs, r.Models.Retrain.Epochs
	if ft > 0 && re > 0 {
		m.p(fmt.Sprintf("Fine-tuning runs %d epochs over the %s retained rows; retraining ran %d epochs (early stopping, best epoch %d) over the same rows, so the deletion makes %s× the passes over the data that retraining did. The Fisher scores took %s s.",
			ft, count(r.Dataset.Retained), re, r.Models.Retrain.BestEpoch, fixed(float64(ft)/float64(re), 2), secs(r.Fisher.Seconds)))
	}
	t := r.Timings
	m.p("Phase wall times of the whole run (a phase that trains several models runs them at once, so it takes less than the sum of their times):")
	m.table([]string{"phase", "seconds"}, "lr", [][]string{
		{"load data", secs(t.LoadData)},
		{"train full + retrain", secs(t.Train)},
		{"Fisher", secs(t.Fisher)},
		{"prune + fine-tune, every fraction", secs(t.PruneFinetune)},
		{"write", secs(t.Write)},
		{"total", secs(t.Total)},
	})
}

func parallelSentence(parallel, cores int) string {
	if parallel > 1 {
		return fmt.Sprintf("All times were measured with %d models training at once on %d cores, so each is longer than the same model alone would take; ratios between them are comparable only because all shared the machine alike.", parallel, cores)
	}
	return fmt.Sprintf("Models were trained one at a time on %d cores.", cores)
}

func speedVerdict(s float64) string {
	switch {
	case math.IsNaN(s):
		return ""
	case s < 1:
		return "slower than retraining"
	case s == 1:
		return "same as retraining"
	}
	return "faster than retraining"
}

func (a *analysis) layers(m *md) {
	r := a.res
	pr := r.Models.Pruned
	if len(pr) == 0 {
		return
	}
	m.h(2, "5. Pruning by layer and Fisher scores")
	m.h(3, "5.1 Pruned parameters per tensor")
	m.p(fmt.Sprintf("Parameters set to zero in each tensor, out of its size, for each fraction: round(f · N) of the N = %s parameters with the highest %s Fisher scores, ranked across all tensors together.",
		count(pr[0].TotalParams), text(r.Fisher.Kind)))
	header := []string{"tensor", "size"}
	align := "lr"
	for _, p := range pr {
		header = append(header, "f = "+frac(p.Fraction))
		align += "r"
	}
	// Tensors in the order of the first pruned model.
	var rows [][]string
	for li, l := range pr[0].Layers {
		row := []string{codeCell(l.Name), count(l.Total)}
		for _, p := range pr {
			cell := "—"
			if li < len(p.Layers) && p.Layers[li].Name == l.Name {
				c := p.Layers[li]
				cell = fmt.Sprintf("%s (%s)", count(c.Pruned), pct(ratioOf(float64(c.Pruned), float64(c.Total)), 1))
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	total := []string{"**all**", count(pr[0].TotalParams)}
	seed := []string{"seed's percentile rule", ""}
	differs := false
	for _, p := range pr {
		total = append(total, fmt.Sprintf("**%s (%s)**", count(p.PrunedParams), pct(ratioOf(float64(p.PrunedParams), float64(p.TotalParams)), 1)))
		if p.SeedRulePrunedParams != p.PrunedParams {
			differs = true
			seed = append(seed, fmt.Sprintf("%s (%s)", count(p.SeedRulePrunedParams), signed(float64(p.SeedRulePrunedParams-p.PrunedParams), 0)))
		} else {
			seed = append(seed, "same")
		}
	}
	rows = append(rows, total)
	if differs {
		rows = append(rows, seed)
	}
	m.table(header, align, rows)
	if differs {
		m.p("The last row is what the seed's rule (prune scores above numpy.percentile(scores, 100·(1 − f)), linear interpolation) would prune; it differs from round(f · N) where the percentile falls between two scores or scores tie (§7.2).")
	}
}

func (a *analysis) fisher(m *md) {
	f := a.res.Fisher
	m.h(3, "5.2 Fisher scores")
	m.p(fmt.Sprintf("%s Fisher diagonal over the %s deletion rows (mean over rows of per-example squared gradients; §7.1), computed in %s s.", upperFirst(text(f.Kind)), count(f.Rows), secs(f.Seconds)))
	header := []string{"", "count", "zeros", "mean", "median", "p90", "p99", "max", "sum"}
	stat := func(name string, s results.Stats) []string {
		return []string{name, count(s.Count), count(s.Zeros), sci(s.Mean), sci(s.Median), sci(s.P90), sci(s.P99), sci(s.Max), sci(s.Sum)}
	}
	rows := [][]string{stat("**all ("+text(f.Kind)+")**", f.Summary)}
	for _, t := range f.Tensors {
		rows = append(rows, stat(codeCell(t.Name), t.Stats))
	}
	if f.Other != nil {
		rows = append(rows, stat("all ("+text(f.Other.Kind)+", not used)", f.Other.Summary))
	}
	m.table(header, "lrrrrrrrr", rows)
	if o := f.Other; o != nil {
		m.h(3, "5.3 "+upperFirst(text(f.Kind))+" against "+text(o.Kind)+" Fisher")
		m.p(fmt.Sprintf("The %s Fisher (not used for pruning) on the same rows: Spearman rank correlation with the %s scores %s. Share of the top-f parameters the two kinds agree on, i.e. how much of each pruned set would stay the same with the other Fisher:",
			text(o.Kind), text(f.Kind), fixed(o.SpearmanWithUsed, 3)))
		var rows [][]string
		for i, ov := range o.TopOverlap {
			name := "?"
			if i < len(a.res.Config.Fractions) {
				name = "f = " + frac(a.res.Config.Fractions[i])
			}
			rows = append(rows, []string{name, pct(ov, 1), pct(1-ov, 1)})
		}
		m.table([]string{"pruned fraction", "agree", "would change"}, "lrr", rows)
	}
}

func (a *analysis) appendix(m *md) {
	r := a.res
	m.h(2, "Appendix A. Seed summary")
	s := a.summary.Summary
	v := a.summary.Values
	m.p("The seed notebook's summary lines (" + code(SummaryFile) + "), with their definitions. Utility retention and privacy improvement are relative to the full model, not the retrained one.")
	m.table([]string{"line", "value", "definition"}, "lrl", [][]string{
		{"best pruning fraction", text(s.BestPruningFraction), "arg-max of the combined score"},
		{"utility retention", text(s.UtilityRetention), "best pruned accuracy / full accuracy"},
		{"privacy improvement", text(s.PrivacyImprovement), "(full MIA accuracy − best MIA accuracy) / full MIA accuracy" + negativeNote(v.PrivacyImprovement)},
		{"speed-up vs retrain", text(s.SpeedupVsRetrain), "retrain seconds / deletion seconds" + slowerNote(v.SpeedupVsRetrain)},
		{"combined score", text(s.CombinedScore), "utility and privacy weighted as in §3"},
		{"final accuracy", text(s.FinalAccuracy), "test accuracy of the best pruned model"},
		{"final MIA accuracy", text(s.FinalMIAAccuracy), "the seed's attack on the best pruned model"},
	})
	m.h(2, "Appendix B. Inputs")
	names := make([]string, len(r.Dataset.FeatureNames))
	for i, n := range r.Dataset.FeatureNames {
		names[i] = code(n)
	}
	if len(names) > 0 {
		m.p(fmt.Sprintf("The model's %d input features, in order: %s.", len(names), strings.Join(names, ", ")))
	}
	if rows := r.Dataset.DeletionRows; len(rows) > 0 {
		ids := make([]string, len(rows))
		for i, id := range rows {
			ids[i] = strconv.Itoa(id)
		}
		m.p(fmt.Sprintf("The %d deletion rows (indices into the cleaned data, in training-split order): %s.", len(rows), strings.Join(ids, ", ")))
	}
}

func negativeNote(x float64) string {
	if x < 0 {
		return "; negative: the attack did better on the pruned model than on the full one"
	}
	return ""
}

func slowerNote(x float64) string {
	if x > 0 && x < 1 {
		return "; below 1: slower than retraining"
	}
	return ""
}

// tiedSentence describes the models that give exactly equal class
// probabilities for some test rows (results' tied_predictions), or is "".
func (a *analysis) tiedSentence() string {
	r := a.res
	if a.testRows <= 0 {
		return ""
	}
	var parts []string
	share := func(n int) string { return fixed(100*float64(n)/float64(a.testRows), 1) + " %" }
	for _, c := range []struct {
		name string
		n    int
	}{{"full", r.Models.Full.TiedPredictions}, {"retrain", r.Models.Retrain.TiedPredictions}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", c.name, count(c.n), share(c.n)))
		}
	}
	for _, p := range r.Models.Pruned {
		if p.TiedPredictions > 0 {
			parts = append(parts, fmt.Sprintf("f = %s %s (%s)", frac(p.Fraction), count(p.TiedPredictions), share(p.TiedPredictions)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	first := "class 0"
	if cs := r.Models.Full.Classes; len(cs) > 0 {
		first = cs[0].Label
	}
	return fmt.Sprintf("**Tied predictions.** Test rows for which a model gives exactly equal class probabilities (identical logits): %s. "+
		"The arg-max sends such rows to the first class (%s), as numpy and torch do, so they count as correct exactly when they belong to it: "+
		"that part of the accuracy is the tie-break's, not the model's. The attack rows are affected the same way: many of them share one score.",
		strings.Join(parts, "; "), text(first))
}
