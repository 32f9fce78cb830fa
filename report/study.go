package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fimprune/fimprune/fimlib/results"
	"gonum.org/v1/gonum/stat/distuv"
)

// Section 8: the multi-seed comparison of deletion methods (results.Study,
// schema v2). Every number is shown with its interval, and every verdict is
// computed: from the per-seed values as a paired difference with its 95 % t
// interval (results.NewEstimate), or, for the shadow-model attacks that
// have one estimate per method and no per-seed values, from whether two
// intervals overlap. There are no fixed verdicts.

// Method names of the study (unlearn.Method.Name). A pruning method's name
// ends with its fraction as strconv.FormatFloat(f, 'g', -1, 64) writes it
// ("fim-prune-0.2"); the controls of a FIM method are the methods with the
// same suffix.
const (
	fimPrefix       = "fim-prune-"
	randomPrefix    = "random-prune-"
	magnitudePrefix = "magnitude-prune-"
	ratioPrefix     = "ratio-prune-a"
	ssdPrefix       = "ssd-a"
	negGradPrefix   = "neggrad+-a"
	fineTuneName    = "finetune"
	retrainName     = "retrain"
)

// Attack scores the tables show (results.AttackEstimate.Score); names are
// compared with '-' read as '_'.
const (
	scoreLogitConfidence = "logit_confidence"
	scoreLoss            = "neg_loss"
)

// studyView is the study with what several parts of section 8 need.
type studyView struct {
	s       *results.Study
	seeds   int
	byName  map[string]*results.Method
	retrain *results.Method // nil when the study has none
	// ulira: the figure's forgetting axis is U-LiRA accuracy (every method
	// but retrain has it); otherwise offline-LiRA AUC.
	ulira bool
}

func newStudyView(s *results.Study) *studyView {
	v := &studyView{s: s, seeds: len(s.Seeds), byName: make(map[string]*results.Method, len(s.Methods)), ulira: true}
	for i := range s.Methods {
		m := &s.Methods[i]
		v.byName[m.Name] = m
		if m.Name == retrainName {
			v.retrain = m
		} else if m.ULiRA == nil {
			v.ulira = false
		}
	}
	if v.retrain != nil && len(s.Methods) == 1 {
		v.ulira = v.retrain.ULiRA != nil
	}
	return v
}

// canonicalNumber parses s if it is a finite number written exactly as
// strconv.FormatFloat(x, 'g', -1, 64) writes it (so "0.2", "1e-05", not
// "NaN", "0x1p-3" or "+0.2").
func canonicalNumber(s string) (float64, bool) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || strconv.FormatFloat(x, 'g', -1, 64) != s {
		return 0, false
	}
	return x, true
}

// percentOf formats a fraction as a percentage with as few digits as it
// needs (0.2 → "20 %", 0.125 → "12.5 %").
func percentOf(x float64) string {
	return strconv.FormatFloat(100*x, 'g', 6, 64) + "\u00a0%"
}

// methodLabel names a method in prose (Markdown): "FIM pruning at 20 %",
// "SSD (α = 10, λ = 1)", or the name as code when it is not one the study
// writes.
func methodLabel(name string) string {
	at := func(prefix, what string) (string, bool) {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if f, ok := canonicalNumber(rest); ok && f > 0 && f < 1 {
				return what + " at " + percentOf(f), true
			}
		}
		return "", false
	}
	if s, ok := at(fimPrefix, "FIM pruning"); ok {
		return s
	}
	if s, ok := at(randomPrefix, "random pruning"); ok {
		return s
	}
	if s, ok := at(magnitudePrefix, "magnitude pruning"); ok {
		return s
	}
	if rest, ok := strings.CutPrefix(name, ratioPrefix); ok {
		if _, ok := canonicalNumber(rest); ok {
			return "Fisher-ratio pruning (α = " + rest + ")"
		}
	}
	if rest, ok := strings.CutPrefix(name, negGradPrefix); ok {
		if _, ok := canonicalNumber(rest); ok {
			return "NegGrad+ (α = " + rest + ")"
		}
	}
	if rest, ok := strings.CutPrefix(name, ssdPrefix); ok {
		if a, l, ok := strings.Cut(rest, "-l"); ok {
			_, okA := canonicalNumber(a)
			_, okL := canonicalNumber(l)
			if okA && okL {
				return "SSD (α = " + a + ", λ = " + l + ")"
			}
		}
	}
	switch name {
	case fineTuneName:
		return "fine-tuning"
	case retrainName:
		return "retraining"
	}
	return code(name)
}

// family is a group of methods drawn alike in the figure.
type family int

const (
	famFIM family = iota
	famRatio
	famSSD
	famFineTune
	famNegGrad
	famRandom
	famMagnitude
	famRetrain
	famOther
	numFamilies
)

// familyNames are the figure's legend entries (fixed text, never data).
var familyNames = [numFamilies]string{
	famFIM:       "FIM pruning",
	famRatio:     "Fisher-ratio pruning",
	famSSD:       "SSD",
	famFineTune:  "fine-tune",
	famNegGrad:   "NegGrad+",
	famRandom:    "random pruning",
	famMagnitude: "magnitude pruning",
	famRetrain:   "retrain (gold standard)",
	famOther:     "other",
}

func familyOf(name string) family {
	switch {
	case name == retrainName:
		return famRetrain
	case name == fineTuneName:
		return famFineTune
	case strings.HasPrefix(name, fimPrefix):
		return famFIM
	case strings.HasPrefix(name, ratioPrefix):
		return famRatio
	case strings.HasPrefix(name, ssdPrefix):
		return famSSD
	case strings.HasPrefix(name, negGradPrefix):
		return famNegGrad
	case strings.HasPrefix(name, randomPrefix):
		return famRandom
	case strings.HasPrefix(name, magnitudePrefix):
		return famMagnitude
	}
	return famOther
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

// paired returns the per-seed differences a − b with their mean and 95 % t
// interval. Both estimates hold one value per seed, in the same seed order
// (results.Validate checks it).
func paired(a, b results.Estimate) results.Estimate {
	d := make([]float64, len(a.Values))
	for i := range d {
		d[i] = a.Values[i] - b.Values[i]
	}
	return results.NewEstimate(d)
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

func fixedFn(prec int) func(float64) string { return func(x float64) string { return fixed(x, prec) } }
func signedFn(prec int) func(float64) string {
	return func(x float64) string { return signed(x, prec) }
}

// zeroedCell formats the parameters a method zeroes: a count when every
// seed zeroed the same whole number.
func zeroedCell(e results.Estimate) string {
	same := len(e.Values) > 0
	for _, v := range e.Values {
		same = same && v == e.Values[0]
	}
	if same && e.Values[0] == math.Trunc(e.Values[0]) && e.Values[0] < 1e15 {
		return count(int(e.Values[0]))
	}
	return est(e, fixedFn(1))
}

// pairedVerdict is the sentence comparing method a with method b on a
// metric through the per-seed differences d = a − b.
func pairedVerdict(a, b, metric string, d results.Estimate, prec int) string {
	n := len(d.Values)
	if n < 2 {
		return fmt.Sprintf("%s and %s cannot be compared on %s: one seed gives no interval (difference %s).", a, b, metric, signed(d.Mean, prec))
	}
	iv := signedCI(d.CI95, prec)
	switch {
	case d.CI95[0] > 0:
		return fmt.Sprintf("%s is higher than %s on %s by %s (95 %% CI %s, %d seeds).", a, b, metric, fixed(d.Mean, prec), iv, n)
	case d.CI95[1] < 0:
		return fmt.Sprintf("%s is lower than %s on %s by %s (95 %% CI %s, %d seeds).", a, b, metric, fixed(-d.Mean, prec), iv, n)
	}
	return fmt.Sprintf("%s is not distinguishable from %s on %s (difference %s, 95 %% CI %s, %d seeds).", a, b, metric, signed(d.Mean, prec), iv, n)
}

// uliraCell formats a U-LiRA estimate.
func uliraCell(u *results.ULiRA) string {
	if u == nil {
		return "—"
	}
	return fixed(u.Accuracy, 3) + " " + ci(u.CI95, 3)
}

// overlapVerdict compares two single estimates (U-LiRA) by their intervals.
func overlapVerdict(a, b string, x, y *results.ULiRA) string {
	s := fmt.Sprintf("On U-LiRA accuracy, one shadow-model estimate per method with a bootstrap interval and no per-seed values, %s (%s) and %s (%s) ", a, uliraCell(x), b, uliraCell(y))
	switch {
	case overlap(x.CI95, y.CI95):
		return s + "have overlapping 95 % intervals: not distinguishable at this sample size."
	case x.CI95[0] > y.CI95[1]:
		return s + "have disjoint 95 % intervals: " + a + " is higher, so the attack tells its models from retrained ones more easily."
	}
	return s + "have disjoint 95 % intervals: " + a + " is lower, so the attack tells its models from retrained ones less easily."
}

// chanceVerdict compares a U-LiRA estimate with 0.5, a perfect unlearner.
func chanceVerdict(a string, x *results.ULiRA) string {
	s := fmt.Sprintf("Its U-LiRA accuracy, a shadow-model estimate without per-seed values, is %s: the interval ", uliraCell(x))
	switch {
	case contains(x.CI95, 0.5):
		return s + "contains 0.5, the value of a perfect unlearner, so the attack does not tell " + a + " from retraining at this sample size."
	case x.CI95[0] > 0.5:
		return s + "lies above 0.5, the value of a perfect unlearner: the attack tells " + a + " from retraining."
	}
	return s + "lies below 0.5, the value of a perfect unlearner: below chance, which only noise or a mis-specified attack produces."
}

// studySection writes section 8; fig inserts a figure by file name.
func (a *analysis) studySection(m *md, fig func(string)) {
	s := a.res.Study
	if s == nil {
		return
	}
	v := newStudyView(s)
	m.h(2, "8. Methods compared over seeds")
	seeds := make([]string, 0, min(len(s.Seeds), 21))
	for i, seed := range s.Seeds {
		if i == 20 {
			seeds = append(seeds, "…")
			break
		}
		seeds = append(seeds, strconv.FormatUint(seed, 10))
	}
	intro := fmt.Sprintf("%d deletion methods, each run once per seed (%d seeds: %s) on the same split and forget set with the same budget; seeds set initialisation, dropout, shuffling and random masks. The study took %s s. ",
		len(s.Methods), v.seeds, strings.Join(seeds, ", "), secs(s.Seconds))
	if v.seeds >= 2 {
		intro += fmt.Sprintf("Each cell is the mean over the seeds with its 95 %% t interval, mean ± t₀.₉₇₅,ₙ₋₁ · s/√n (here t₀.₉₇₅,%d = %s), unless marked otherwise; a cell without an interval had the same value on every seed. Every method ran on every seed, so two methods are compared through their per-seed differences (paired), which removes the variation the seeds share (verdicts in §8.4, formulas in §8.5).",
			v.seeds-1, fixed(tQuantile975(v.seeds-1), 3))
	} else {
		intro += "With one seed there are no intervals: the cells hold single values, and no comparison is claimed."
	}
	m.p(intro)

	// Four narrow tables rather than one wide one: each fits the page's
	// column (and an A4 print) with its intervals on one line.
	m.h(3, "8.1 Utility and cost")
	var rows [][]string
	for i := range s.Methods {
		mt := &s.Methods[i]
		rows = append(rows, []string{codeCell(mt.Name), est(mt.TestAccuracy, fixedFn(4)), est(mt.TestGap, signedFn(4)), est(mt.ForgetAccuracy, fixedFn(4))})
	}
	m.table([]string{"method", "test accuracy", "test gap to retrain", "forget accuracy"}, "lrrr", rows)
	m.p(fmt.Sprintf("Test gap: test accuracy minus the retrained model's of the same seed. Forget accuracy is on the %s forget rows; a method that forgot should match the retrained model there, not fall below it.", count(s.ForgetRows)))
	rows = nil
	for i := range s.Methods {
		mt := &s.Methods[i]
		rows = append(rows, []string{codeCell(mt.Name), est(mt.Seconds, secs), zeroedCell(mt.Zeroed)})
	}
	m.table([]string{"method", "seconds per deletion", "parameters zeroed"}, "lrr", rows)
	m.p(fmt.Sprintf("Seconds: wall time of one deletion (for retrain, training from scratch on the retained rows). Parameters zeroed: out of %s.", count(a.res.Config.Model.Params)))

	m.h(3, "8.2 Forgetting")
	rows = nil
	for i := range s.Methods {
		mt := &s.Methods[i]
		auc := func(score string) string {
			if at := attackOf(mt, score); at != nil {
				return est(at.AUC, fixedFn(3))
			}
			return "—"
		}
		rows = append(rows, []string{codeCell(mt.Name), est(mt.ForgetKL, fixedFn(4)), auc(scoreLogitConfidence), auc(scoreLoss)})
	}
	m.table([]string{"method", "forget KL to retrain (nats)", "population AUC, logit-confidence", "population AUC, loss"}, "lrrr", rows)
	m.p(fmt.Sprintf("Forget KL: mean over the %s forget rows of KL(method ‖ retrain) between the two models' predicted class distributions, retrained model of the same seed. Population attacks: the forget rows as members against %s test rows as non-members, per seed. The target of a deletion is the retrained model's row, not 0.5: the forget rows can differ from test rows in ways that have nothing to do with membership.",
		count(s.ForgetRows), count(s.NonMembers)))
	rows = nil
	for i := range s.Methods {
		mt := &s.Methods[i]
		at := attackOf(mt, scoreLogitConfidence)
		if at == nil {
			continue
		}
		tpr01 := "—"
		if at.TPRAt01pctFPR != nil {
			tpr01 = est(*at.TPRAt01pctFPR, fixedFn(3))
		}
		rows = append(rows, []string{codeCell(mt.Name), est(at.Advantage, fixedFn(3)), est(at.TPRAt1pctFPR, fixedFn(3)), tpr01})
	}
	if rows != nil {
		m.table([]string{"method", "advantage, logit-confidence", "TPR at 1 % FPR", "TPR at 0.1 % FPR"}, "lrrr", rows)
		m.p(fmt.Sprintf("The same population attack read at its most useful points: advantage is max |TPR − FPR| over all thresholds; TPR at a false-positive rate is the share of forget rows caught while wrongly flagging at most that share of the %s test rows (a dash: too few test rows to resolve the rate). An attack with no signal has TPR ≈ FPR.",
			count(s.NonMembers)))
	}
	rows = nil
	for i := range s.Methods {
		mt := &s.Methods[i]
		eps, f := "—", "—"
		if e := mt.Epsilon; e != nil {
			eps = fmt.Sprintf("%s; ε ≤ %s with %d models per side", fixed(e.MeanEpsilon, 2), fixed(e.Ceiling, 2), e.ModelsPerSide)
			if e.MeanEpsilon >= e.Ceiling {
				eps += " (at or above the ceiling)"
			}
			f = fixed(e.ForgetScore, 3)
		}
		rows = append(rows, []string{codeCell(mt.Name), est(mt.LiRAOfflineAUC, fixedFn(3)), uliraCell(mt.ULiRA), eps, f})
	}
	m.table([]string{"method", "offline-LiRA AUC", "U-LiRA accuracy [95 % CI]", "mean ε", "F"}, "lrrlr", rows)
	m.p(fmt.Sprintf("Offline LiRA: per seed, on the same rows as the population attacks. "+
		"U-LiRA, ε and F come from %s shadow models shared by all seeds: one estimate per method (U-LiRA with a bootstrap interval over the forget examples; ε and F without an interval), not a mean over seeds. U-LiRA accuracy is 0.5 for a perfect unlearner. "+
		"A finite ε cannot exceed its ceiling, about ln(N − 1) with N models per side, so an ε at the ceiling means \"fully distinguishable as far as N models can show\" (examples the models separate completely count with the cap, which can lift a mean above the ceiling); and even a perfect unlearner shows a mean ε near 1.5 (the estimator's noise floor, simulated for 8 to 512 models per side in fimlib/mia), so compare ε between methods, not with 0.",
		count(s.Shadows)))

	m.h(3, "8.3 Utility cost against forgetting")
	fig("fig-5-pareto.svg")

	m.h(3, "8.4 Verdicts")
	m.bullets(v.verdicts()...)
	if v.seeds >= 2 {
		m.p(fmt.Sprintf("\"Not distinguishable\" is not \"equal\": each interval bounds the differences these %d seeds can resolve, and a difference smaller than its half-width would go unseen. Intervals of different metrics are not adjusted for being read together.", v.seeds))
	}

	m.h(3, "8.5 How these numbers are computed")
	m.p("Methods (names as in results.json): " + code("fim-prune-f") + " zeroes the fraction f of parameters with the highest forget-set Fisher and fine-tunes on the retained rows with the mask kept (the seed's recipe); " +
		code("ratio-prune-aA") + " zeroes the parameters whose forget-set Fisher exceeds α times their Fisher on all training rows (SSD's selection rule, so how many it takes depends on the data) and fine-tunes the same way; " + code("ssd-aA-lL") + " is selective synaptic dampening (Foster et al., AAAI 2024): those parameters are multiplied by min(λ · imp_D / imp_f, 1), without training; " +
		code("finetune") + " fine-tunes on the retained rows without pruning; " + code("random-prune-f") + " and " + code("magnitude-prune-f") + " are the controls, zeroing f of the parameters at random or by smallest magnitude, then fine-tuning the same way; " +
		code("neggrad+-aA") + " minimises α · ℓ_retain − (1 − α) · ℓ_forget (NegGrad+, Kurmanji et al., NeurIPS 2023); " + code("retrain") + " trains from scratch on the retained rows, the gold standard.")
	m.block(
		"paired difference, seeds i = 1 … n:   dᵢ = metric(A, seed i) − metric(B, seed i)",
		"interval:                             mean(d) ± t₀.₉₇₅,ₙ₋₁ · sd(d) / √n",
		"forget KL to retrain:                 mean over forget rows of Σ_c p_A(c|x) · log(p_A(c|x) / p_retrain(c|x))",
		"logit-scaled confidence:              log p_y − log Σ_{c≠y} p_c",
		"ε (per forget example):               max over thresholds of max[log(1 − δ − FPR) − log FNR, log(1 − δ − FNR) − log FPR], δ = 1e-5",
	)
	m.p("A verdict says \"higher\" or \"lower\" only when the 95 % interval of the paired differences excludes 0, and \"not distinguishable\" otherwise. U-LiRA has no per-seed values, so two methods are compared by whether their intervals overlap (disjoint intervals imply a difference; overlapping ones do not rule one out). Offline LiRA (Carlini et al., IEEE S&P 2022) fits a Gaussian to each forget row's logit-scaled confidence under shadow models that did not train on it and scores the method's model against it, one-sided, with a global variance. " +
		"U-LiRA (Hayes et al., SaTML 2025) asks whether a model that trained on x and then ran the method can be told from one retrained without x, per example; its accuracy is balanced over the two kinds. " +
		"ε and F follow the NeurIPS 2023 machine-unlearning challenge (google-deepmind/unlearning_evaluation, metric.py): F scores each example's ε in bins of width 0.5 worth 1, ½, ¼, … and averages them.")
}

// tQuantile975 is the 97.5 % quantile of Student's t with df degrees of
// freedom, the one results.NewEstimate uses.
func tQuantile975(df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}

// verdicts compares each FIM-pruning method with its controls at the same
// fraction, with fine-tuning and with retraining, on test accuracy and on
// the forgetting measures.
func (v *studyView) verdicts() []string {
	var out []string
	for i := range v.s.Methods {
		fim := &v.s.Methods[i]
		suffix, ok := strings.CutPrefix(fim.Name, fimPrefix)
		if !ok {
			continue
		}
		a := upperFirst(methodLabel(fim.Name))
		compared := 0
		for _, name := range []string{randomPrefix + suffix, magnitudePrefix + suffix, fineTuneName, retrainName} {
			other := v.byName[name]
			if other == nil {
				continue
			}
			compared++
			b := methodLabel(name)
			if name == retrainName {
				b = "retraining (the gold standard)"
			}
			s := "**" + a + " against " + b + ".** " +
				pairedVerdict(a, b, "test accuracy", paired(fim.TestAccuracy, other.TestAccuracy), 4) + " " +
				pairedVerdict(a, b, "offline-LiRA AUC", paired(fim.LiRAOfflineAUC, other.LiRAOfflineAUC), 3)
			switch {
			case fim.ULiRA != nil && other.ULiRA != nil:
				s += " " + overlapVerdict(a, b, fim.ULiRA, other.ULiRA)
			case fim.ULiRA != nil && name == retrainName:
				s += " " + chanceVerdict(a, fim.ULiRA)
			}
			out = append(out, s)
		}
		if compared == 0 {
			out = append(out, "**"+a+".** The study has no method to compare it with (random or magnitude pruning at the same fraction, fine-tuning, retraining).")
		}
	}
	if len(out) == 0 {
		out = append(out, "The study has no FIM-pruning method ("+code(fimPrefix+"f")+"), so there is nothing to compare.")
	}
	return out
}
