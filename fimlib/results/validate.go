package results

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits Validate puts on sizes. A real run has a few pruned fractions, 96
// features, a 45,222-row data set, 6 parameter tensors and 24 histogram bins;
// the limits are orders of magnitude above that, so that they only refuse
// files that are corrupt or made to exhaust the reader (each element of
// these lists becomes a table row, a plot or a figure panel in the report).
const (
	// MaxPrunedModels bounds models.pruned, config.fractions and
	// fisher.other.top_overlap.
	MaxPrunedModels = 1000
	// MaxFeatureNames bounds dataset.feature_names.
	MaxFeatureNames = 10_000
	// MaxRows bounds dataset.rows, and with it every split, the deletion set
	// and the attack's rows, so that sums of them cannot overflow.
	MaxRows = 1_000_000_000
	// MaxDeletionRows bounds dataset.deletion_rows. (A file that long is
	// near MaxBytes already: written back indented by Marshal it may exceed
	// MaxBytes and no longer decode.)
	MaxDeletionRows = 10_000_000
	// MaxHistogramBins bounds the bins of each fisher.tensors[] histogram
	// (len(counts); log10_bins has one edge more).
	MaxHistogramBins = 1000
	// MaxTensors bounds fisher.tensors and models.pruned[].layers.
	MaxTensors = 1000
	// MaxHiddenLayers bounds config.model.hidden.
	MaxHiddenLayers = 1000
	// MaxShapeRank bounds the length of fisher.tensors[].shape.
	MaxShapeRank = 32
	// MaxClasses bounds each classes list (models.*.classes).
	MaxClasses = 1000
	// MaxChecksums bounds the entries of dataset.sha256.
	MaxChecksums = 100
	// MaxStringBytes bounds every string, map keys included.
	MaxStringBytes = 10_000
	// MaxSeconds bounds every time (about 31.7 years): larger values are
	// corrupt, and their plots would overflow.
	MaxSeconds = 1e9
	// MinSeconds is the smallest positive time: times are measured with
	// time.Since, in whole nanoseconds. With MaxSeconds it keeps every
	// speed-up ratio finite.
	MinSeconds = 1e-9
	// MaxLog10Edge bounds |fisher.tensors[].log10_bins[i]|: log10 of a
	// positive float64 lies in (−324, 309), so an edge beyond ±400 cannot
	// come from a score.
	MaxLog10Edge = 400

	// MaxStudySeeds bounds study.seeds, and with it the values of every
	// estimate in the study (a study runs a handful of seeds).
	MaxStudySeeds = 10_000
	// MaxStudyMethods bounds study.methods (a study compares about ten).
	MaxStudyMethods = 1000
	// MaxStudyAttacks bounds each study.methods[].attacks (four scores).
	MaxStudyAttacks = 100
)

// FieldError is a field of a [Results] that [Results.Validate] refuses.
type FieldError struct {
	// Path is the field's JSON path, e.g. "models.pruned[1].mia.auc" or
	// `dataset.sha256["adult.data"]`.
	Path string
	// Problem says what the field holds and what was expected.
	Problem string
}

func (e *FieldError) Error() string {
	return "results: invalid " + e.Path + ": " + e.Problem
}

// Validate reports the first field of r that a report cannot honestly
// render, as a [*FieldError] naming its JSON path (or a [*SchemaError] for
// another schema). It refuses:
//
//   - NaN or ±Inf in any float field (JSON cannot hold them, but a Go value
//     can), strings longer than [MaxStringBytes] or not valid UTF-8;
//   - lists longer than the Max* limits above, and a histogram whose edges
//     are not one more than its counts (both may be empty) or do not
//     increase;
//   - accuracies, precision, recall, F1, attack accuracies, AUCs, their
//     intervals, advantages, privacy, utility and overlaps outside [0, 1]
//     (utility = 1 − |a − r|/r is negative only when a pruned model is more
//     than twice as accurate as the retrained one), an interval with lo > hi,
//     a combined score outside [0, max(1, utility_weight + privacy_weight)],
//     a Spearman correlation outside [−1, 1];
//   - pruning fractions outside (0, 1), repeated, not ascending, or models.pruned not
//     following config.fractions; best.fraction that is no pruned model's
//     fraction, or best.combined_score that is not that model's;
//   - negative counts, times or Fisher scores, positive times outside
//     [MinSeconds, MaxSeconds], more than [MaxRows] rows; splits that do not
//     add up to dataset.rows, retained ≠ train − deletion; attacks with no
//     members or no non-members, or other than dataset.deletion members and
//     config.non_members non-members (at most dataset.test); class supports
//     that do not add up to dataset.test; pruned counts above their totals,
//     per-tensor counts that do not add up to the model's, histogram counts
//     that do not add up to the non-zero scores; best_epoch above epochs;
//     deletion rows that are not dataset.deletion valid row ids;
//   - summary ratios (SeedSummary) that overflow;
//   - a study section in a [SchemaV1] file; in a study: no seed, repeated
//     seeds, no method, empty or repeated method names or attack scores
//     within a method, a fraction outside (0, 1), forget rows or
//     non-members outside [1, dataset.train] or [1, dataset.test], an
//     estimate without exactly one value per seed, a value outside its
//     metric's range (accuracies, AUCs, advantages, TPRs in [0, 1], gaps in
//     [−1, 1], KL ≥ 0, times in [0, MaxSeconds], zeroed parameters in [0,
//     config.model.params]), a mean that is not the values' mean (1e-9
//     relative) or an interval that is not NewEstimate's 95 % t interval
//     (to 1e-6 of its width), a U-LiRA accuracy or interval outside [0, 1]
//     or fewer than 1 example or pair, ε < 0, a ceiling outside [0, ln(models_per_side)], fewer than 2 models
//     per side, and U-LiRA or ε with study.shadows = 0.
//
// It does not recompute derived values (utility, privacy, the combined score,
// accuracies from class reports), so a results file edited by hand can still
// be inconsistent in those.
func (r *Results) Validate() error {
	if r == nil {
		return errors.New("results: nil results")
	}
	if !supportedSchema(r.Schema) {
		return &SchemaError{Got: r.Schema}
	}
	if r.Schema == SchemaV1 && r.Study != nil {
		return &FieldError{Path: "study", Problem: fmt.Sprintf("present in a %q file, want schema %q for a study", SchemaV1, Schema)}
	}
	v := &validator{}
	v.sizes(r)
	if v.err != nil {
		return v.err
	}
	walkLeaves(reflect.ValueOf(r).Elem(), "", v)
	if v.err != nil {
		return v.err
	}
	if r.Schema != Schema && r.Study != nil {
		if err := r.Study.v2Only(); err != nil {
			return err
		}
	}
	v.config(&r.Config)
	v.environment(&r.Environment)
	v.dataset(&r.Dataset)
	v.atMost("config.non_members", r.Config.NonMembers, "dataset.test", r.Dataset.Test)
	v.model(r, "models.full", &r.Models.Full)
	v.model(r, "models.retrain", &r.Models.Retrain)
	v.pruned(r)
	v.fisher(r)
	v.best(r)
	v.timings(&r.Timings)
	if r.Study != nil {
		v.study(r)
		if r.Schema == Schema {
			v.studyV3(r)
		}
	}
	return v.err
}

// validator records the first problem found.
type validator struct{ err error }

func (v *validator) fail(path, format string, args ...any) {
	if v.err == nil {
		v.err = &FieldError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// maxLen checks a list's length.
func (v *validator) maxLen(path string, n, limit int) {
	if n > limit {
		v.fail(path, "%d entries, want at most %d", n, limit)
	}
}

// unit checks a fraction in [0, 1].
func (v *validator) unit(path string, x float64) {
	if !(x >= 0 && x <= 1) {
		v.fail(path, "%s, want a fraction in [0, 1]", num(x))
	}
}

// interval checks a [lo, hi] fraction interval.
func (v *validator) interval(path string, iv [2]float64) {
	v.unit(path+"[0]", iv[0])
	v.unit(path+"[1]", iv[1])
	if iv[0] > iv[1] {
		v.fail(path, "[%s, %s], want lo ≤ hi", num(iv[0]), num(iv[1]))
	}
}

// pruneFraction checks a pruning fraction in (0, 1).
func (v *validator) pruneFraction(path string, x float64) {
	if !(x > 0 && x < 1) {
		v.fail(path, "%s, want a pruning fraction in (0, 1)", num(x))
	}
}

// nonNeg checks a float that cannot be negative.
func (v *validator) nonNeg(path string, x float64, what string) {
	if !(x >= 0) {
		v.fail(path, "%s, want a %s ≥ 0", num(x), what)
	}
}

// seconds checks a time.
func (v *validator) seconds(path string, x float64) {
	if !(x == 0 || x >= MinSeconds && x <= MaxSeconds) {
		v.fail(path, "%s, want 0 or seconds in [%g, %g]", num(x), MinSeconds, float64(MaxSeconds))
	}
}

// count checks an int that cannot be negative.
func (v *validator) count(path string, n int) {
	if n < 0 {
		v.fail(path, "%d, want a count ≥ 0", n)
	}
}

// positive checks an int that must be at least 1.
func (v *validator) positive(path string, n int) {
	if n <= 0 {
		v.fail(path, "%d, want a count ≥ 1", n)
	}
}

// atMost checks n ≤ limit for a count bounded by another field.
func (v *validator) atMost(path string, n int, limitPath string, limit int) {
	if n > limit {
		v.fail(path, "%d, want at most %s (%d)", n, limitPath, limit)
	}
}

// sum adds non-negative counts, reporting false on overflow.
func sum(ns []int) (int, bool) {
	s := 0
	for _, n := range ns {
		if n < 0 || s > math.MaxInt-n {
			return 0, false
		}
		s += n
	}
	return s, true
}

// sizes checks every list against its limit before anything walks them.
func (v *validator) sizes(r *Results) {
	v.maxLen("config.fractions", len(r.Config.Fractions), MaxPrunedModels)
	v.maxLen("config.model.hidden", len(r.Config.Model.Hidden), MaxHiddenLayers)
	v.maxLen("dataset.sha256", len(r.Dataset.SHA256), MaxChecksums)
	v.maxLen("dataset.deletion_rows", len(r.Dataset.DeletionRows), MaxDeletionRows)
	v.maxLen("dataset.feature_names", len(r.Dataset.FeatureNames), MaxFeatureNames)
	v.maxLen("models.full.classes", len(r.Models.Full.Classes), MaxClasses)
	v.maxLen("models.retrain.classes", len(r.Models.Retrain.Classes), MaxClasses)
	v.maxLen("models.pruned", len(r.Models.Pruned), MaxPrunedModels)
	for i := range r.Models.Pruned {
		p := &r.Models.Pruned[i]
		path := fmt.Sprintf("models.pruned[%d]", i)
		v.maxLen(path+".classes", len(p.Classes), MaxClasses)
		v.maxLen(path+".layers", len(p.Layers), MaxTensors)
	}
	v.maxLen("fisher.tensors", len(r.Fisher.Tensors), MaxTensors)
	for i := range r.Fisher.Tensors {
		t := &r.Fisher.Tensors[i]
		path := fmt.Sprintf("fisher.tensors[%d]", i)
		v.maxLen(path+".shape", len(t.Shape), MaxShapeRank)
		v.maxLen(path+".counts", len(t.Counts), MaxHistogramBins)
		v.maxLen(path+".log10_bins", len(t.Log10Bins), MaxHistogramBins+1)
	}
	if o := r.Fisher.Other; o != nil {
		v.maxLen("fisher.other.top_overlap", len(o.TopOverlap), MaxPrunedModels)
	}
	if s := r.Study; s != nil {
		v.studySizes(s)
	}
}

// walkLeaves checks every float (finite) and string (length, UTF-8) in x,
// naming fields by their JSON paths.
func walkLeaves(x reflect.Value, path string, v *validator) {
	if v.err != nil {
		return
	}
	switch x.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := x.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			v.fail(path, "%s, want a finite number", num(f))
		}
	case reflect.String:
		checkString(path, x.String(), v)
	case reflect.Pointer:
		if !x.IsNil() {
			walkLeaves(x.Elem(), path, v)
		}
	case reflect.Struct:
		t := x.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if path != "" {
				name = path + "." + name
			}
			walkLeaves(x.Field(i), name, v)
		}
	case reflect.Slice, reflect.Array:
		switch x.Type().Elem().Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Bool:
			return // nothing to check, and deletion_rows can be long
		}
		for i := range x.Len() {
			walkLeaves(x.Index(i), fmt.Sprintf("%s[%d]", path, i), v)
		}
	case reflect.Map:
		keys := x.MapKeys() // sorted, so that the first problem is always the same
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			ks := fmt.Sprint(k)
			checkString(path+" key "+strconv.Quote(clip(ks)), ks, v)
			walkLeaves(x.MapIndex(k), path+"["+strconv.Quote(clip(ks))+"]", v)
		}
	}
}

func checkString(path, s string, v *validator) {
	if len(s) > MaxStringBytes {
		v.fail(path, "a string of %d bytes, want at most %d", len(s), MaxStringBytes)
	} else if !utf8.ValidString(s) {
		v.fail(path, "%q is not valid UTF-8", clip(s))
	}
}

// clip shortens s for an error message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func (v *validator) config(c *Config) {
	seen := make(map[float64]int, len(c.Fractions))
	for i, f := range c.Fractions {
		path := fmt.Sprintf("config.fractions[%d]", i)
		v.pruneFraction(path, f)
		if j, dup := seen[f]; dup {
			v.fail(path, "%s repeats config.fractions[%d], want distinct fractions", num(f), j)
		} else if i > 0 && f < c.Fractions[i-1] {
			// The report draws fractions as an x axis from first to last.
			v.fail(path, "%s after %s, want fractions in ascending order", num(f), num(c.Fractions[i-1]))
		}
		seen[f] = i
	}
	v.positive("config.non_members", c.NonMembers)
	v.count("config.bootstrap", c.Bootstrap)
	m := &c.Model
	v.positive("config.model.inputs", m.Inputs)
	for i, h := range m.Hidden {
		v.positive(fmt.Sprintf("config.model.hidden[%d]", i), h)
	}
	v.positive("config.model.classes", m.Classes)
	if !(m.Dropout >= 0 && m.Dropout < 1) {
		v.fail("config.model.dropout", "%s, want a probability in [0, 1)", num(m.Dropout))
	}
	v.positive("config.model.params", m.Params)
	for _, t := range []struct {
		path string
		tc   *TrainConfig
	}{{"config.train", &c.Train}, {"config.finetune", &c.FineTune}} {
		v.nonNeg(t.path+".learning_rate", t.tc.LearningRate, "learning rate")
		v.nonNeg(t.path+".adam_epsilon", t.tc.AdamEpsilon, "epsilon")
		v.positive(t.path+".batch_size", t.tc.BatchSize)
		v.count(t.path+".max_epochs", t.tc.MaxEpochs)
		v.count(t.path+".patience", t.tc.Patience)
	}
	v.unit("config.selection.utility_weight", c.Selection.UtilityWeight)
	v.unit("config.selection.privacy_weight", c.Selection.PrivacyWeight)
	v.count("config.parallel", c.Parallel)
}

func (v *validator) environment(e *Environment) {
	v.count("environment.cores", e.Cores)
}

func (v *validator) dataset(d *Dataset) {
	for _, f := range []struct {
		name string
		n    int
	}{{"rows", d.Rows}, {"features", d.Features}, {"train", d.Train}, {"val", d.Val}, {"test", d.Test}, {"deletion", d.Deletion}, {"retained", d.Retained}} {
		v.count("dataset."+f.name, f.n)
	}
	v.atMost("dataset.rows", d.Rows, "MaxRows", MaxRows)
	if v.err != nil {
		return
	}
	v.atMost("dataset.train", d.Train, "dataset.rows", d.Rows)
	v.atMost("dataset.val", d.Val, "dataset.rows", d.Rows)
	v.atMost("dataset.test", d.Test, "dataset.rows", d.Rows)
	if v.err == nil && d.Train+d.Val+d.Test != d.Rows {
		v.fail("dataset.rows", "%d, want dataset.train + dataset.val + dataset.test (%d)", d.Rows, d.Train+d.Val+d.Test)
	}
	v.atMost("dataset.deletion", d.Deletion, "dataset.train", d.Train)
	if d.Retained != d.Train-d.Deletion {
		v.fail("dataset.retained", "%d, want dataset.train − dataset.deletion (%d)", d.Retained, d.Train-d.Deletion)
	}
	if len(d.DeletionRows) != d.Deletion {
		v.fail("dataset.deletion_rows", "%d row ids, want dataset.deletion (%d)", len(d.DeletionRows), d.Deletion)
	}
	for i, id := range d.DeletionRows {
		if id < 0 || id >= d.Rows {
			v.fail(fmt.Sprintf("dataset.deletion_rows[%d]", i), "%d, want a row id in [0, dataset.rows) = [0, %d)", id, d.Rows)
			return
		}
	}
}

func (v *validator) classes(r *Results, path string, cs []ClassReport) {
	total := 0
	for i := range cs {
		c := &cs[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		v.count(p+".class", c.Class)
		v.unit(p+".precision", c.Precision)
		v.unit(p+".recall", c.Recall)
		v.unit(p+".f1", c.F1)
		v.count(p+".support", c.Support)
		v.atMost(p+".support", c.Support, "dataset.test", r.Dataset.Test)
		total += max(c.Support, 0) // ≤ MaxClasses · MaxRows: no overflow
	}
	if len(cs) > 0 && total != r.Dataset.Test {
		v.fail(path, "supports sum to %d, want dataset.test (%d)", total, r.Dataset.Test)
	}
}

func (v *validator) mia(r *Results, path string, m *MIA) {
	v.positive(path+".members", m.Members)
	v.positive(path+".non_members", m.NonMembers)
	if m.Members != r.Dataset.Deletion {
		v.fail(path+".members", "%d, want dataset.deletion (%d)", m.Members, r.Dataset.Deletion)
	}
	if m.NonMembers != r.Config.NonMembers {
		v.fail(path+".non_members", "%d, want config.non_members (%d)", m.NonMembers, r.Config.NonMembers)
	}
	v.unit(path+".best_threshold_accuracy", m.BestThresholdAccuracy)
	v.unit(path+".auc", m.AUC)
	v.interval(path+".auc_ci95", m.AUCCI95)
	v.unit(path+".advantage", m.Advantage)
	if m.ROC != nil {
		v.roc(path+".roc", m)
	}
}

// roc checks a ROC curve: as many TPR as FPR values (at most one point per
// scored row, plus the origin), each in [0, 1], both non-decreasing, from
// (0, 0) to (1, 1).
func (v *validator) roc(path string, m *MIA) {
	c := m.ROC
	n := len(c.FPR)
	if len(c.TPR) != n {
		v.fail(path+".tpr", "%d points, want as many as fpr (%d)", len(c.TPR), n)
		return
	}
	if n < 2 {
		v.fail(path+".fpr", "%d points, want at least (0, 0) and (1, 1)", n)
		return
	}
	if rows := m.Members + m.NonMembers; rows >= 0 && n > rows+1 {
		v.fail(path+".fpr", "%d points, want at most members + non_members + 1 (%d)", n, rows+1)
		return
	}
	for i := range n {
		v.unit(fmt.Sprintf("%s.fpr[%d]", path, i), c.FPR[i])
		v.unit(fmt.Sprintf("%s.tpr[%d]", path, i), c.TPR[i])
		if i > 0 && (c.FPR[i] < c.FPR[i-1] || c.TPR[i] < c.TPR[i-1]) {
			v.fail(fmt.Sprintf("%s.fpr[%d]", path, i), "the curve goes back, want fpr and tpr non-decreasing")
		}
	}
	if c.FPR[0] != 0 || c.TPR[0] != 0 || c.FPR[n-1] != 1 || c.TPR[n-1] != 1 {
		v.fail(path, "runs from (%s, %s) to (%s, %s), want (0, 0) to (1, 1)", num(c.FPR[0]), num(c.TPR[0]), num(c.FPR[n-1]), num(c.TPR[n-1]))
	}
}

func (v *validator) model(r *Results, path string, m *Model) {
	v.unit(path+".test_accuracy", m.TestAccuracy)
	v.count(path+".tied_predictions", m.TiedPredictions)
	v.atMost(path+".tied_predictions", m.TiedPredictions, "dataset.test", r.Dataset.Test)
	v.classes(r, path+".classes", m.Classes)
	v.count(path+".epochs", m.Epochs)
	v.count(path+".best_epoch", m.BestEpoch)
	v.atMost(path+".best_epoch", m.BestEpoch, path+".epochs", m.Epochs)
	v.seconds(path+".train_seconds", m.TrainSeconds)
	v.mia(r, path+".mia", &m.MIA)
	v.mia(r, path+".mia_confidence", &m.MIAConfidence)
}

func (v *validator) pruned(r *Results) {
	pr := r.Models.Pruned
	if len(pr) != len(r.Config.Fractions) {
		v.fail("models.pruned", "%d models, want one per config.fractions entry (%d)", len(pr), len(r.Config.Fractions))
	}
	maxScore := max(1, r.Config.Selection.UtilityWeight+r.Config.Selection.PrivacyWeight)
	seen := make(map[float64]int, len(pr))
	for i := range pr {
		p := &pr[i]
		path := fmt.Sprintf("models.pruned[%d]", i)
		v.pruneFraction(path+".fraction", p.Fraction)
		if j, dup := seen[p.Fraction]; dup {
			v.fail(path+".fraction", "%s repeats models.pruned[%d].fraction, want distinct fractions", num(p.Fraction), j)
		}
		seen[p.Fraction] = i
		if i < len(r.Config.Fractions) && p.Fraction != r.Config.Fractions[i] {
			v.fail(path+".fraction", "%s, want config.fractions[%d] (%s)", num(p.Fraction), i, num(r.Config.Fractions[i]))
		}
		v.count(path+".pruned_params", p.PrunedParams)
		v.count(path+".total_params", p.TotalParams)
		v.atMost(path+".pruned_params", p.PrunedParams, path+".total_params", p.TotalParams)
		v.count(path+".seed_rule_pruned_params", p.SeedRulePrunedParams)
		v.atMost(path+".seed_rule_pruned_params", p.SeedRulePrunedParams, path+".total_params", p.TotalParams)
		v.nonNeg(path+".seed_rule_threshold", p.SeedRuleThreshold, "Fisher score")
		v.unit(path+".accuracy_before_finetune", p.AccuracyBeforeFinetune)
		v.unit(path+".test_accuracy", p.TestAccuracy)
		v.count(path+".tied_predictions", p.TiedPredictions)
		v.atMost(path+".tied_predictions", p.TiedPredictions, "dataset.test", r.Dataset.Test)
		v.classes(r, path+".classes", p.Classes)
		v.seconds(path+".finetune_seconds", p.FinetuneSeconds)
		v.seconds(path+".deletion_seconds", p.DeletionSeconds)
		v.layers(path, p)
		v.mia(r, path+".mia", &p.MIA)
		v.mia(r, path+".mia_confidence", &p.MIAConfidence)
		v.unit(path+".utility", p.Utility)
		v.unit(path+".privacy", p.Privacy)
		if !(p.CombinedScore >= 0 && p.CombinedScore <= maxScore) {
			v.fail(path+".combined_score", "%s, want a score in [0, %s] (max(1, utility_weight + privacy_weight))", num(p.CombinedScore), num(maxScore))
		}
	}
}

// layers checks one pruned model's per-tensor counts.
func (v *validator) layers(path string, p *Pruned) {
	if len(p.Layers) == 0 {
		return
	}
	pruned, total := make([]int, len(p.Layers)), make([]int, len(p.Layers))
	for i, l := range p.Layers {
		lp := fmt.Sprintf("%s.layers[%d]", path, i)
		v.count(lp+".pruned", l.Pruned)
		v.count(lp+".total", l.Total)
		v.atMost(lp+".pruned", l.Pruned, lp+".total", l.Total)
		pruned[i], total[i] = l.Pruned, l.Total
	}
	if v.err != nil {
		return
	}
	if s, ok := sum(pruned); !ok || s != p.PrunedParams {
		v.fail(path+".layers", "pruned counts sum to %s, want %s.pruned_params (%d)", sumText(s, ok), path, p.PrunedParams)
	}
	if s, ok := sum(total); !ok || s != p.TotalParams {
		v.fail(path+".layers", "total counts sum to %s, want %s.total_params (%d)", sumText(s, ok), path, p.TotalParams)
	}
}

func sumText(s int, ok bool) string {
	if !ok {
		return "more than the largest int"
	}
	return strconv.Itoa(s)
}

func (v *validator) stats(path string, s *Stats) {
	v.count(path+".count", s.Count)
	v.count(path+".zeros", s.Zeros)
	v.atMost(path+".zeros", s.Zeros, path+".count", s.Count)
	for _, f := range []struct {
		name string
		x    float64
	}{{"mean", s.Mean}, {"max", s.Max}, {"median", s.Median}, {"p90", s.P90}, {"p99", s.P99}, {"sum", s.Sum}} {
		v.nonNeg(path+"."+f.name, f.x, "Fisher score")
	}
}

func (v *validator) fisher(r *Results) {
	f := &r.Fisher
	v.count("fisher.rows", f.Rows)
	v.seconds("fisher.seconds", f.Seconds)
	v.stats("fisher.summary", &f.Summary)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		path := fmt.Sprintf("fisher.tensors[%d]", i)
		for j, d := range t.Shape {
			v.count(fmt.Sprintf("%s.shape[%d]", path, j), d)
		}
		v.stats(path+".stats", &t.Stats)
		v.histogram(path, t)
	}
	if o := f.Other; o != nil {
		v.stats("fisher.other.summary", &o.Summary)
		if !(o.SpearmanWithUsed >= -1 && o.SpearmanWithUsed <= 1) {
			v.fail("fisher.other.spearman_with_used", "%s, want a correlation in [−1, 1]", num(o.SpearmanWithUsed))
		}
		if len(o.TopOverlap) != len(r.Config.Fractions) {
			v.fail("fisher.other.top_overlap", "%d entries, want one per config.fractions entry (%d)", len(o.TopOverlap), len(r.Config.Fractions))
		}
		for i, x := range o.TopOverlap {
			v.unit(fmt.Sprintf("fisher.other.top_overlap[%d]", i), x)
		}
	}
}

// histogram checks one tensor's log10 histogram.
func (v *validator) histogram(path string, t *TensorStats) {
	if len(t.Log10Bins) == 0 && len(t.Counts) == 0 {
		return // no positive score
	}
	if len(t.Log10Bins) != len(t.Counts)+1 {
		v.fail(path+".log10_bins", "%d edges for %d counts, want len(counts) + 1", len(t.Log10Bins), len(t.Counts))
		return
	}
	for j, e := range t.Log10Bins {
		ep := fmt.Sprintf("%s.log10_bins[%d]", path, j)
		if math.Abs(e) > MaxLog10Edge {
			v.fail(ep, "%s, want a log10 score in [−%d, %d]", num(e), MaxLog10Edge, MaxLog10Edge)
		}
		if j > 0 && !(e > t.Log10Bins[j-1]) {
			v.fail(ep, "%s, want edges that increase (previous %s)", num(e), num(t.Log10Bins[j-1]))
		}
	}
	for j, c := range t.Counts {
		v.count(fmt.Sprintf("%s.counts[%d]", path, j), c)
	}
	if v.err != nil {
		return
	}
	if s, ok := sum(t.Counts); !ok || s != t.Stats.Count-t.Stats.Zeros {
		v.fail(path+".counts", "sum to %s, want stats.count − stats.zeros (%d)", sumText(s, ok), t.Stats.Count-t.Stats.Zeros)
	}
}

func (v *validator) best(r *Results) {
	for i := range r.Models.Pruned {
		p := &r.Models.Pruned[i]
		if p.Fraction != r.Best.Fraction {
			continue
		}
		if p.CombinedScore != r.Best.CombinedScore {
			v.fail("best.combined_score", "%s, want models.pruned[%d].combined_score (%s)", num(r.Best.CombinedScore), i, num(p.CombinedScore))
		}
		// The summary's ratios (SeedSummary) must be finite to be written.
		full := &r.Models.Full
		if full.TestAccuracy != 0 && math.IsInf(p.TestAccuracy/full.TestAccuracy, 0) {
			v.fail("models.full.test_accuracy", "%s, too small: the summary's utility retention (models.pruned[%d].test_accuracy / it) overflows", num(full.TestAccuracy), i)
		}
		if a := full.MIA.BestThresholdAccuracy; a != 0 && math.IsInf((a-p.MIA.BestThresholdAccuracy)/a, 0) {
			v.fail("models.full.mia.best_threshold_accuracy", "%s, too small: the summary's privacy improvement overflows", num(a))
		}
		return
	}
	fs := make([]string, 0, 10)
	for i, p := range r.Models.Pruned {
		if i == cap(fs) {
			fs = append(fs, "…")
			break
		}
		fs = append(fs, num(p.Fraction))
	}
	v.fail("best.fraction", "%s: the best fraction must be one of the pruned models' fractions [%s]", num(r.Best.Fraction), strings.Join(fs, ", "))
}

func (v *validator) timings(t *Timings) {
	v.seconds("timings.load_data_seconds", t.LoadData)
	v.seconds("timings.train_seconds", t.Train)
	v.seconds("timings.fisher_seconds", t.Fisher)
	v.seconds("timings.prune_finetune_seconds", t.PruneFinetune)
	v.seconds("timings.write_seconds", t.Write)
	v.seconds("timings.total_seconds", t.Total)
}
