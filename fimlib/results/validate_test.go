package results_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
)

// TestValidateTestFiles checks that every real and hand-made results file in
// the repository is valid (Read validates; this says which rule failed).
func TestValidateTestFiles(t *testing.T) {
	for _, path := range []string{goldenResults, goldenV2Results, goldenV1Results, realResults, "../../report/testdata/small.json", "../../report/testdata/real-results.json"} {
		data := readFile(t, path)
		if _, err := results.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestValidate checks each rule of Validate on a mutated copy of the golden
// file (of the v2 golden file for the cases wrapped in v2): the error is a
// *FieldError whose path is the offending field's, and the message names
// the path and what was expected.
func TestValidate(t *testing.T) {
	long := strings.Repeat("x", results.MaxStringBytes+1)
	v2 := func(mutate func(r *results.Results)) func(r *results.Results) {
		return func(r *results.Results) {
			*r = *readResults(t, goldenV2Results)
			mutate(r)
		}
	}
	inV2 := `present in a "` + results.SchemaV2 + `" file`
	est := func(v ...float64) *results.Estimate { e := results.NewEstimate(v); return &e }
	for _, tc := range []struct {
		path   string // want FieldError.Path
		want   string // in the message: what was expected
		mutate func(r *results.Results)
	}{
		// Not finite (also see TestValidateNonFinite).
		{"models.full.test_accuracy", "finite", func(r *results.Results) { r.Models.Full.TestAccuracy = math.NaN() }},
		{"models.pruned[1].mia.auc_ci95[0]", "finite", func(r *results.Results) { r.Models.Pruned[1].MIA.AUCCI95[0] = math.Inf(-1) }},
		{"fisher.tensors[2].log10_bins[3]", "finite", func(r *results.Results) { r.Fisher.Tensors[2].Log10Bins[3] = math.Inf(1) }},

		// Fractions in [0, 1].
		{"models.full.test_accuracy", "[0, 1]", func(r *results.Results) { r.Models.Full.TestAccuracy = 1.5 }},
		{"models.retrain.test_accuracy", "[0, 1]", func(r *results.Results) { r.Models.Retrain.TestAccuracy = -0.1 }},
		{"models.pruned[1].accuracy_before_finetune", "[0, 1]", func(r *results.Results) { r.Models.Pruned[1].AccuracyBeforeFinetune = 2 }},
		{"models.pruned[0].test_accuracy", "[0, 1]", func(r *results.Results) { r.Models.Pruned[0].TestAccuracy = 1.0000001 }},
		{"models.full.classes[1].precision", "[0, 1]", func(r *results.Results) { r.Models.Full.Classes[1].Precision = 1.1 }},
		{"models.retrain.classes[0].recall", "[0, 1]", func(r *results.Results) { r.Models.Retrain.Classes[0].Recall = -1 }},
		{"models.pruned[1].classes[0].f1", "[0, 1]", func(r *results.Results) { r.Models.Pruned[1].Classes[0].F1 = 3 }},
		{"models.full.mia.auc", "[0, 1]", func(r *results.Results) { r.Models.Full.MIA.AUC = 1.2 }},
		{"models.retrain.mia_confidence.best_threshold_accuracy", "[0, 1]", func(r *results.Results) { r.Models.Retrain.MIAConfidence.BestThresholdAccuracy = -0.5 }},
		{"models.pruned[1].mia.advantage", "[0, 1]", func(r *results.Results) { r.Models.Pruned[1].MIA.Advantage = 1.5 }},
		{"models.pruned[0].utility", "[0, 1]", func(r *results.Results) { r.Models.Pruned[0].Utility = 1.2 }},
		{"models.pruned[1].privacy", "[0, 1]", func(r *results.Results) { r.Models.Pruned[1].Privacy = -0.1 }},
		{"fisher.other.top_overlap[1]", "[0, 1]", func(r *results.Results) { r.Fisher.Other.TopOverlap[1] = 1.5 }},
		{"config.selection.utility_weight", "[0, 1]", func(r *results.Results) { r.Config.Selection.UtilityWeight = 2 }},
		{"models.pruned[0].combined_score", "[0, 1]", func(r *results.Results) { r.Models.Pruned[0].CombinedScore = -0.1 }},
		{"models.pruned[1].combined_score", "[0, 1]", func(r *results.Results) { r.Models.Pruned[1].CombinedScore = 1.5 }},
		{"fisher.other.spearman_with_used", "[−1, 1]", func(r *results.Results) { r.Fisher.Other.SpearmanWithUsed = -1.5 }},

		// Confidence intervals.
		{"models.full.mia.auc_ci95", "lo ≤ hi", func(r *results.Results) { r.Models.Full.MIA.AUCCI95 = [2]float64{0.9, 0.1} }},
		{"models.pruned[0].mia_confidence.auc_ci95[1]", "[0, 1]", func(r *results.Results) { r.Models.Pruned[0].MIAConfidence.AUCCI95[1] = 1.01 }},
		{"models.retrain.mia.auc_ci95[0]", "[0, 1]", func(r *results.Results) { r.Models.Retrain.MIA.AUCCI95[0] = -0.01 }},

		// ROC curves.
		{"models.full.mia.roc.tpr", "as many as fpr", func(r *results.Results) { r.Models.Full.MIA.ROC.TPR = r.Models.Full.MIA.ROC.TPR[:2] }},
		{"models.full.mia.roc.fpr[2]", "non-decreasing", func(r *results.Results) { r.Models.Full.MIA.ROC.FPR[2] = 0; r.Models.Full.MIA.ROC.FPR[1] = 0.4 }},
		{"models.full.mia.roc", "want (0, 0) to (1, 1)", func(r *results.Results) { r.Models.Full.MIA.ROC.TPR[3] = 0.9; r.Models.Full.MIA.ROC.TPR[2] = 0.9 }},
		{"models.full.mia.roc.fpr", "at most members + non_members + 1", func(r *results.Results) {
			r.Models.Full.MIA.ROC = &results.ROC{FPR: []float64{0, 0, 0, 0, 0, 0.5, 1}, TPR: []float64{0, 0, 0, 0, 0.5, 1, 1}}
		}},
		{"models.full.mia.roc.tpr[1]", "[0, 1]", func(r *results.Results) { r.Models.Full.MIA.ROC.TPR[1] = -0.5 }},

		// Pruning fractions.
		{"config.fractions[1]", "(0, 1)", func(r *results.Results) { r.Config.Fractions[1] = 1 }},
		{"config.fractions[0]", "(0, 1)", func(r *results.Results) { r.Config.Fractions[0] = 0 }},
		{"config.fractions[1]", "distinct", func(r *results.Results) { r.Config.Fractions[1] = r.Config.Fractions[0] }},
		{"models.pruned[1].fraction", "distinct", func(r *results.Results) { r.Models.Pruned[1].Fraction = r.Models.Pruned[0].Fraction }},
		{"models.pruned[0].fraction", "(0, 1)", func(r *results.Results) { r.Models.Pruned[0].Fraction = -0.25 }},
		{"models.pruned[0].fraction", "config.fractions[0]", func(r *results.Results) {
			r.Models.Pruned[0].Fraction, r.Models.Pruned[1].Fraction = r.Models.Pruned[1].Fraction, r.Models.Pruned[0].Fraction
		}},
		{"config.fractions[1]", "ascending", func(r *results.Results) {
			r.Config.Fractions[0], r.Config.Fractions[1] = r.Config.Fractions[1], r.Config.Fractions[0]
		}},
		{"models.pruned", "one per config.fractions entry", func(r *results.Results) { r.Models.Pruned = r.Models.Pruned[:1] }},
		{"fisher.other.top_overlap", "one per config.fractions entry", func(r *results.Results) { r.Fisher.Other.TopOverlap = r.Fisher.Other.TopOverlap[:1] }},
		{"best.fraction", "best fraction must be one of the pruned models' fractions [0.25, 0.5]", func(r *results.Results) { r.Best.Fraction = 0.3 }},
		{"best.combined_score", "models.pruned[0].combined_score", func(r *results.Results) { r.Best.CombinedScore = 0.1 }},

		// Counts.
		{"config.non_members", "≥ 1", func(r *results.Results) { r.Config.NonMembers = 0 }},
		{"config.bootstrap", "≥ 0", func(r *results.Results) { r.Config.Bootstrap = -1 }},
		{"config.model.hidden[0]", "≥ 1", func(r *results.Results) { r.Config.Model.Hidden[0] = 0 }},
		{"config.model.params", "≥ 1", func(r *results.Results) { r.Config.Model.Params = -14 }},
		{"config.model.dropout", "[0, 1)", func(r *results.Results) { r.Config.Model.Dropout = 1 }},
		{"config.train.batch_size", "≥ 1", func(r *results.Results) { r.Config.Train.BatchSize = 0 }},
		{"config.finetune.max_epochs", "≥ 0", func(r *results.Results) { r.Config.FineTune.MaxEpochs = -3 }},
		{"config.finetune.learning_rate", "≥ 0", func(r *results.Results) { r.Config.FineTune.LearningRate = -1e-4 }},
		{"config.parallel", "≥ 0", func(r *results.Results) { r.Config.Parallel = -2 }},
		{"environment.cores", "≥ 0", func(r *results.Results) { r.Environment.Cores = -1 }},
		{"dataset.rows", "≥ 0", func(r *results.Results) { r.Dataset.Rows = -20 }},
		{"dataset.deletion", "dataset.train", func(r *results.Results) { r.Dataset.Deletion = r.Dataset.Train + 1 }},
		{"dataset.deletion_rows", "dataset.deletion (2)", func(r *results.Results) { r.Dataset.DeletionRows = append(r.Dataset.DeletionRows, 5) }},
		{"dataset.deletion_rows[1]", "[0, 20)", func(r *results.Results) { r.Dataset.DeletionRows[1] = 20 }},
		{"dataset.deletion_rows[0]", "row id", func(r *results.Results) { r.Dataset.DeletionRows[0] = -1 }},
		{"dataset.rows", "MaxRows", func(r *results.Results) { r.Dataset.Rows = results.MaxRows + 1 }},
		{"dataset.rows", "dataset.train + dataset.val + dataset.test (20)", func(r *results.Results) { r.Dataset.Rows = 21 }},
		{"dataset.test", "dataset.rows (20)", func(r *results.Results) { r.Dataset.Test = 100 }},
		{"dataset.retained", "dataset.train − dataset.deletion (10)", func(r *results.Results) { r.Dataset.Retained = 12 }},
		{"config.non_members", "dataset.test (5)", func(r *results.Results) { r.Config.NonMembers = 6 }},
		{"models.pruned[0].mia.members", "dataset.deletion (2)", func(r *results.Results) { r.Models.Pruned[0].MIA.Members = math.MaxInt }},
		{"models.full.mia_confidence.non_members", "config.non_members (2)", func(r *results.Results) { r.Models.Full.MIAConfidence.NonMembers = 3 }},
		{"models.full.classes", "supports sum to 6, want dataset.test (5)", func(r *results.Results) { r.Models.Full.Classes[0].Support++ }},
		{"models.pruned[1].classes[1].support", "dataset.test (5)", func(r *results.Results) { r.Models.Pruned[1].Classes[1].Support = math.MaxInt }},
		{"models.full.classes[0].support", "≥ 0", func(r *results.Results) { r.Models.Full.Classes[0].Support = -3 }},
		{"models.full.best_epoch", "models.full.epochs", func(r *results.Results) { r.Models.Full.BestEpoch = r.Models.Full.Epochs + 1 }},
		{"models.retrain.epochs", "≥ 0", func(r *results.Results) { r.Models.Retrain.Epochs = -1 }},
		{"models.full.mia.members", "≥ 1", func(r *results.Results) { r.Models.Full.MIA.Members = 0 }},
		{"models.pruned[1].mia_confidence.non_members", "≥ 1", func(r *results.Results) { r.Models.Pruned[1].MIAConfidence.NonMembers = -2 }},
		{"models.pruned[0].pruned_params", "models.pruned[0].total_params", func(r *results.Results) { r.Models.Pruned[0].PrunedParams = r.Models.Pruned[0].TotalParams + 1 }},
		{"models.pruned[1].seed_rule_pruned_params", "total_params", func(r *results.Results) { r.Models.Pruned[1].SeedRulePrunedParams = 15 }},
		{"models.pruned[1].seed_rule_threshold", "≥ 0", func(r *results.Results) { r.Models.Pruned[1].SeedRuleThreshold = -0.1 }},
		{"models.pruned[0].layers[0].pruned", "models.pruned[0].layers[0].total", func(r *results.Results) {
			l := &r.Models.Pruned[0].Layers[0]
			l.Pruned = l.Total + 1
		}},
		{"models.pruned[1].layers[2].total", "≥ 0", func(r *results.Results) { r.Models.Pruned[1].Layers[2].Total = -1 }},
		{"models.pruned[0].layers", "pruned counts sum to", func(r *results.Results) { r.Models.Pruned[0].PrunedParams-- }},
		{"models.pruned[1].layers", "total counts sum to", func(r *results.Results) {
			p := &r.Models.Pruned[1]
			p.Layers[0].Total += 1
		}},
		{"models.pruned[0].layers", "more than the largest int", func(r *results.Results) {
			p := &r.Models.Pruned[0]
			for i := range p.Layers {
				p.Layers[i].Pruned, p.Layers[i].Total = math.MaxInt, math.MaxInt
			}
		}},
		{"fisher.rows", "≥ 0", func(r *results.Results) { r.Fisher.Rows = -2 }},
		{"fisher.summary.zeros", "fisher.summary.count", func(r *results.Results) { r.Fisher.Summary.Zeros = r.Fisher.Summary.Count + 1 }},
		{"fisher.summary.mean", "Fisher score ≥ 0", func(r *results.Results) { r.Fisher.Summary.Mean = -1 }},
		{"fisher.other.summary.p99", "Fisher score ≥ 0", func(r *results.Results) { r.Fisher.Other.Summary.P99 = -1e-9 }},
		{"fisher.tensors[1].stats.count", "≥ 0", func(r *results.Results) { r.Fisher.Tensors[1].Stats.Count = -1 }},
		{"fisher.tensors[0].shape[1]", "≥ 0", func(r *results.Results) { r.Fisher.Tensors[0].Shape[1] = -2 }},

		// Histograms.
		{"fisher.tensors[0].log10_bins", "len(counts) + 1", func(r *results.Results) { r.Fisher.Tensors[0].Counts = r.Fisher.Tensors[0].Counts[1:] }},
		{"fisher.tensors[3].log10_bins", "len(counts) + 1", func(r *results.Results) { r.Fisher.Tensors[3].Log10Bins = nil }},
		{"fisher.tensors[1].log10_bins[2]", "increase", func(r *results.Results) { b := r.Fisher.Tensors[1].Log10Bins; b[2] = b[1] }},
		{"fisher.tensors[1].log10_bins[0]", "[−400, 400]", func(r *results.Results) { r.Fisher.Tensors[1].Log10Bins[0] = -1e6 }},
		{"fisher.tensors[2].counts[0]", "≥ 0", func(r *results.Results) { c := r.Fisher.Tensors[2].Counts; c[0], c[1] = -1, c[1]+1 }},
		{"fisher.tensors[2].counts", "stats.count − stats.zeros", func(r *results.Results) { r.Fisher.Tensors[2].Counts[0]++ }},

		// Times.
		{"timings.total_seconds", "seconds in", func(r *results.Results) { r.Timings.Total = -1 }},
		{"models.full.train_seconds", "seconds in [1e-09, 1e+09]", func(r *results.Results) { r.Models.Full.TrainSeconds = 2e9 }},
		{"models.pruned[0].deletion_seconds", "0 or seconds", func(r *results.Results) { r.Models.Pruned[0].DeletionSeconds = 1e-300 }},
		{"models.pruned[1].finetune_seconds", "seconds", func(r *results.Results) { r.Models.Pruned[1].FinetuneSeconds = -0.5 }},
		{"fisher.seconds", "seconds", func(r *results.Results) { r.Fisher.Seconds = math.Inf(1) }},
		{"timings.load_data_seconds", "seconds", func(r *results.Results) { r.Timings.LoadData = -1e-9 }},

		// The summary must be finite.
		{"models.full.test_accuracy", "utility retention", func(r *results.Results) { r.Models.Full.TestAccuracy = 5e-324 }},
		{"models.full.mia.best_threshold_accuracy", "privacy improvement", func(r *results.Results) { r.Models.Full.MIA.BestThresholdAccuracy = 5e-324 }},

		// Sizes.
		{"config.fractions", "at most 1000", func(r *results.Results) { r.Config.Fractions = make([]float64, results.MaxPrunedModels+1) }},
		{"models.pruned", "at most 1000", func(r *results.Results) { r.Models.Pruned = make([]results.Pruned, results.MaxPrunedModels+1) }},
		{"dataset.feature_names", "at most 10000", func(r *results.Results) { r.Dataset.FeatureNames = make([]string, results.MaxFeatureNames+1) }},
		{"dataset.deletion_rows", "at most 10000000", func(r *results.Results) { r.Dataset.DeletionRows = make([]int, results.MaxDeletionRows+1) }},
		{"fisher.tensors[1].counts", "at most 1000", func(r *results.Results) { r.Fisher.Tensors[1].Counts = make([]int, results.MaxHistogramBins+1) }},
		{"fisher.tensors[1].log10_bins", "at most 1001", func(r *results.Results) { r.Fisher.Tensors[1].Log10Bins = make([]float64, results.MaxHistogramBins+2) }},
		{"fisher.tensors", "at most 1000", func(r *results.Results) { r.Fisher.Tensors = make([]results.TensorStats, results.MaxTensors+1) }},
		{"fisher.tensors[0].shape", "at most 32", func(r *results.Results) { r.Fisher.Tensors[0].Shape = make([]int, results.MaxShapeRank+1) }},
		{"models.pruned[1].layers", "at most 1000", func(r *results.Results) { r.Models.Pruned[1].Layers = make([]results.LayerCount, results.MaxTensors+1) }},
		{"models.retrain.classes", "at most 1000", func(r *results.Results) { r.Models.Retrain.Classes = make([]results.ClassReport, results.MaxClasses+1) }},
		{"models.pruned[0].classes", "at most 1000", func(r *results.Results) {
			r.Models.Pruned[0].Classes = make([]results.ClassReport, results.MaxClasses+1)
		}},
		{"config.model.hidden", "at most 1000", func(r *results.Results) { r.Config.Model.Hidden = make([]int, results.MaxHiddenLayers+1) }},
		{"fisher.other.top_overlap", "at most 1000", func(r *results.Results) { r.Fisher.Other.TopOverlap = make([]float64, results.MaxPrunedModels+1) }},
		{"dataset.sha256", "at most 100", func(r *results.Results) {
			for i := range results.MaxChecksums {
				r.Dataset.SHA256[fmt.Sprint("file", i)] = ""
			}
		}},

		// Strings.
		{"dataset.name", "at most 10000", func(r *results.Results) { r.Dataset.Name = long }},
		{"dataset.feature_names[2]", "at most 10000", func(r *results.Results) { r.Dataset.FeatureNames[2] = long }},
		{`dataset.sha256["adult.test"]`, "at most 10000", func(r *results.Results) { r.Dataset.SHA256["adult.test"] = long }},
		{`dataset.sha256 key "` + long[:40] + `…"`, "at most 10000", func(r *results.Results) { r.Dataset.SHA256[long] = "" }},
		{`dataset.sha256["a0"]`, "at most 10000", func(r *results.Results) { r.Dataset.SHA256["zz"], r.Dataset.SHA256["a0"] = long, long }}, // first in key order
		{"models.pruned[1].layers[0].name", "at most 10000", func(r *results.Results) { r.Models.Pruned[1].Layers[0].Name = long }},
		{"environment.cpu", "UTF-8", func(r *results.Results) { r.Environment.CPU = "a\xffb" }},

		// The study (schema v2 and v3).
		{"study", `want schema "` + results.Schema + `" for a study`, func(r *results.Results) { r.Schema = results.SchemaV1 }},
		{"study", `present in a "` + results.SchemaV1 + `" file`, v2(func(r *results.Results) { r.Schema = results.SchemaV1 })},
		{"study.seeds", "at least one seed", func(r *results.Results) { r.Study.Seeds = nil }},
		{"study.seeds[2]", "distinct", func(r *results.Results) { r.Study.Seeds[2] = r.Study.Seeds[0] }},
		{"study.seeds", "at most 10000", func(r *results.Results) { r.Study.Seeds = make([]uint64, results.MaxStudySeeds+1) }},
		{"study.methods", "at most 1000", func(r *results.Results) { r.Study.Methods = make([]results.Method, results.MaxStudyMethods+1) }},
		{"study.methods[1].attacks", "at most 100", func(r *results.Results) {
			r.Study.Methods[1].Attacks = make([]results.AttackEstimate, results.MaxStudyAttacks+1)
		}},
		{"study.methods[2].forget_kl.values", "at most 10000", func(r *results.Results) {
			r.Study.Methods[2].ForgetKL.Values = make([]float64, results.MaxStudySeeds+1)
		}},
		{"study.fraction", "(0, 1)", func(r *results.Results) { r.Study.Fraction = 1 }},
		{"study.forget_rows", "≥ 1", func(r *results.Results) { r.Study.ForgetRows = 0 }},
		{"study.forget_rows", "dataset.train", func(r *results.Results) { r.Study.ForgetRows = r.Dataset.Train + 1 }},
		{"study.non_members", "dataset.test", func(r *results.Results) { r.Study.NonMembers = r.Dataset.Test + 1 }},
		{"study.shadows", "≥ 0", func(r *results.Results) { r.Study.Shadows = -1 }},
		{"study.seconds", "seconds", func(r *results.Results) { r.Study.Seconds = -1 }},
		{"study.methods", "at least one method", func(r *results.Results) { r.Study.Methods = nil }},
		{"study.methods[0].name", "empty", func(r *results.Results) { r.Study.Methods[0].Name = "" }},
		{"study.methods[2].name", "distinct", func(r *results.Results) { r.Study.Methods[2].Name = r.Study.Methods[0].Name }},
		{"study.methods[1].name", "at most 10000", func(r *results.Results) { r.Study.Methods[1].Name = long }},
		{"study.methods[0].attacks[0].score", "empty", func(r *results.Results) { r.Study.Methods[0].Attacks[0].Score = "" }},
		{"study.methods[1].attacks[1].score", "one attack per score", func(r *results.Results) {
			r.Study.Methods[1].Attacks[1].Score = r.Study.Methods[1].Attacks[0].Score
		}},
		{"study.methods[1].attacks[0].score", "UTF-8", func(r *results.Results) { r.Study.Methods[1].Attacks[0].Score = "a\xff" }},
		{"study.methods[0].test_accuracy.values", "one per study.seeds entry (3)", func(r *results.Results) {
			e := &r.Study.Methods[0].TestAccuracy
			e.Values = e.Values[:2]
		}},
		{"study.methods[1].test_accuracy.values[0]", "[0, 1]", func(r *results.Results) { r.Study.Methods[1].TestAccuracy.Values[0] = 1.5 }},
		{"study.methods[0].test_gap.values[1]", "[-1, 1]", func(r *results.Results) { r.Study.Methods[0].TestGap.Values[1] = -1.5 }},
		{"study.methods[0].forget_kl.values[0]", "[0, +Inf]", func(r *results.Results) { r.Study.Methods[0].ForgetKL.Values[0] = -0.1 }},
		{"study.methods[0].zeroed.values[0]", "config.model.params", func(r *results.Results) {
			r.Study.Methods[0].Zeroed.Values[0] = float64(r.Config.Model.Params + 1)
		}},
		{"study.methods[2].seconds.values[0]", "[0, 1e+09]", func(r *results.Results) { r.Study.Methods[2].Seconds.Values[0] = 2e9 }},
		{"study.methods[0].attacks[1].auc.values[2]", "[0, 1]", func(r *results.Results) { r.Study.Methods[0].Attacks[1].AUC.Values[2] = 1.25 }},
		{"study.methods[0].test_accuracy.mean", "mean of the values", func(r *results.Results) { r.Study.Methods[0].TestAccuracy.Mean += 0.01 }},
		{"study.methods[0].lira_offline_auc.ci95", "95 % t interval", func(r *results.Results) { r.Study.Methods[0].LiRAOfflineAUC.CI95[1] += 0.01 }},
		{"study.methods[2].zeroed.ci95", "95 % t interval", func(r *results.Results) { r.Study.Methods[2].Zeroed.CI95 = [2]float64{-1, 1} }},

		// Schema v2's shadow-model attacks, one estimate for all seeds.
		{"study.methods[0].ulira.accuracy", "[0, 1]", v2(func(r *results.Results) { r.Study.Methods[0].ULiRA.Accuracy = 1.5 })},
		{"study.methods[0].ulira.ci95", "lo ≤ hi", v2(func(r *results.Results) { r.Study.Methods[0].ULiRA.CI95 = [2]float64{0.7, 0.6} })},
		{"study.methods[1].ulira.examples", "≥ 1", v2(func(r *results.Results) { r.Study.Methods[1].ULiRA.Examples = 0 })},
		{"study.methods[0].ulira", "shadow models", v2(func(r *results.Results) { r.Study.Shadows = 0 })},
		{"study.methods[0].epsilon.models_per_side", "at least 2", v2(func(r *results.Results) { r.Study.Methods[0].Epsilon.ModelsPerSide = 1 })},
		{"study.methods[0].epsilon.ceiling", "ln(models_per_side)", v2(func(r *results.Results) { r.Study.Methods[0].Epsilon.Ceiling = 2 })},
		{"study.methods[0].epsilon.forget_score", "[0, 1]", v2(func(r *results.Results) { r.Study.Methods[0].Epsilon.ForgetScore = 1.5 })},
		{"study.methods[0].epsilon.mean_epsilon", "≥ 0", v2(func(r *results.Results) { r.Study.Methods[0].Epsilon.MeanEpsilon = -1 })},
		{"study.methods[0].epsilon", "shadow models", v2(func(r *results.Results) { r.Study.Shadows = 0; r.Study.Methods[0].ULiRA = nil })},

		// What schema v3 added, in a v2 file.
		{"study.forget_sets", inV2, v2(func(r *results.Results) { r.Study.ForgetSets = []results.ForgetSet{{Spec: "random:2"}} })},
		{"study.rmia", inV2, v2(func(r *results.Results) { r.Study.RMIA = &results.RMIASettings{} })},
		{"study.verdicts", inV2, v2(func(r *results.Results) { r.Study.Verdicts = &results.Verdicts{} })},
		{"study.methods[2].id", inV2, v2(func(r *results.Results) { r.Study.Methods[2].ID = results.MethodID{Family: results.FamilyRetrain} })},
		{"study.methods[1].change", inV2, v2(func(r *results.Results) { r.Study.Methods[1].Change = &results.Change{} })},
		{"study.methods[0].lira_tied_share", inV2, v2(func(r *results.Results) { r.Study.Methods[0].LiRATiedShare = est(0, 0, 0) })},
		{"study.methods[0].rmia_auc", inV2, v2(func(r *results.Results) { r.Study.Methods[0].RMIAAUC = est(0.5, 0.5, 0.5) })},
		{"study.methods[2].rmia_tpr_at_1pct_fpr", inV2, v2(func(r *results.Results) { r.Study.Methods[2].RMIATPRAt1pctFPR = est(0, 0, 0) })},
		{"study.methods[1].shadow", inV2, v2(func(r *results.Results) { r.Study.Methods[1].Shadow = &results.Shadow{} })},

		// Schema v2's shadow-model attacks in a v3 file.
		{"study.methods[1].ulira", "per-seed study.methods[1].shadow", func(r *results.Results) {
			r.Study.Methods[1].ULiRA = &results.ULiRA{Accuracy: 0.5, CI95: [2]float64{0.5, 0.5}, Examples: 2, Pairs: 16}
		}},
		{"study.methods[0].epsilon", "per-seed study.methods[0].shadow", func(r *results.Results) {
			r.Study.Methods[0].Epsilon = &results.EpsilonScore{ModelsPerSide: 4}
		}},

		// Forget sets (v3).
		{"study.forget_sets", "2 forget sets, want one per seed (3)", func(r *results.Results) { r.Study.ForgetSets = r.Study.ForgetSets[:2] }},
		{"study.forget_sets", "0 forget sets, want one per seed (3)", func(r *results.Results) { r.Study.ForgetSets = nil }},
		{"study.forget_sets", "at most 10000", func(r *results.Results) {
			r.Study.ForgetSets = make([]results.ForgetSet, results.MaxStudySeeds+1)
		}},
		{"study.forget_sets[1].spec", "empty", func(r *results.Results) { r.Study.ForgetSets[1].Spec = "" }},
		{"study.forget_sets[1].rows", "1 rows, want study.forget_rows (2)", func(r *results.Results) { r.Study.ForgetSets[1].Rows = []int{5} }},
		{"study.forget_sets[2].rows", "3 rows, want study.forget_rows (2)", func(r *results.Results) { r.Study.ForgetSets[2].Rows = []int{1, 4, 11} }},
		{"study.forget_sets[0].rows[1]", "ascending distinct", func(r *results.Results) { r.Study.ForgetSets[0].Rows = []int{9, 3} }},
		{"study.forget_sets[0].rows[1]", "ascending distinct", func(r *results.Results) { r.Study.ForgetSets[0].Rows = []int{3, 3} }},
		{"study.forget_sets[2].rows[1]", "training split [0, 12)", func(r *results.Results) { r.Study.ForgetSets[2].Rows[1] = 12 }},
		{"study.forget_sets[1].rows[0]", "training split [0, 12)", func(r *results.Results) { r.Study.ForgetSets[1].Rows[0] = -1 }},

		// Method identities (v3).
		{"study.methods[1].name", `"ssd-a10-l1", want "ssd-a10-l2", the name of its id`, func(r *results.Results) { r.Study.Methods[1].ID.Lambda = 2 }},
		{"study.methods[0].name", `want "fim-prune-0.25-fast"`, func(r *results.Results) { r.Study.Methods[0].ID.Recipe = results.RecipeFast }},
		{"study.methods[0].name", `want "fim-prune-0.5"`, func(r *results.Results) { r.Study.Methods[0].ID.Fraction = 0.5 }},
		{"study.methods[3].name", `"retrain-2", want "retrain"`, func(r *results.Results) { r.Study.Methods[3].ID.Replica = 0 }},
		{"study.methods[2].name", `"retrain", want "retrain-3"`, func(r *results.Results) { r.Study.Methods[2].ID.Replica = 3 }},
		{"study.methods[0].id.family", `"fim", want one of [fim-prune ratio-prune ssd`, func(r *results.Results) { r.Study.Methods[0].ID.Family = "fim" }},
		{"study.methods[2].id.family", `"", want one of`, func(r *results.Results) { r.Study.Methods[2].ID = results.MethodID{} }},
		{"study.methods[1].id.family", `"SSD", want one of`, func(r *results.Results) { r.Study.Methods[1].ID.Family = "SSD" }},

		// Per-seed estimates v3 added.
		{"study.methods[2].change", "missing", func(r *results.Results) { r.Study.Methods[2].Change = nil }},
		{"study.methods[0].change.parameters.values[1]", "count of parameters ≤ config.model.params in [0, 14]", func(r *results.Results) {
			r.Study.Methods[0].Change.Parameters = *est(14, 15, 14)
		}},
		{"study.methods[1].change.relative_l2.values[0]", "relative norm in [0, +Inf]", func(r *results.Results) { r.Study.Methods[1].Change.RelativeL2 = *est(-0.5, 0, 0) }},
		{"study.methods[1].change.relative_l2.values", "one per study.seeds entry (3)", func(r *results.Results) { r.Study.Methods[1].Change.RelativeL2 = *est(0.5, 0.5) }},
		{"study.methods[0].lira_tied_share.values[2]", "[0, 1]", func(r *results.Results) { r.Study.Methods[0].LiRATiedShare = est(0, 0, 1.25) }},
		{"study.methods[3].rmia_auc.values", "one per study.seeds entry (3)", func(r *results.Results) { r.Study.Methods[3].RMIAAUC = est(0.5) }},
		{"study.methods[3].rmia_auc.mean", "mean of the values", func(r *results.Results) { r.Study.Methods[3].RMIAAUC.Mean = 0.9 }},
		{"study.methods[2].rmia_tpr_at_1pct_fpr.values[0]", "[0, 1]", func(r *results.Results) { r.Study.Methods[2].RMIATPRAt1pctFPR = est(-0.5, 0, 0) }},
		{"study.methods[1].rmia_auc.values", "at most 10000", func(r *results.Results) {
			r.Study.Methods[1].RMIAAUC.Values = make([]float64, results.MaxStudySeeds+1)
		}},

		// Shadow blocks (v3).
		{"study.methods[0].shadow", "present with study.shadows = 0", func(r *results.Results) { r.Study.Shadows = 0 }},
		{"study.methods[1].shadow.models_per_side", "at least 2", func(r *results.Results) { r.Study.Methods[1].Shadow.ModelsPerSide = 1 }},
		{"study.methods[2].shadow.ceiling", "ln(models_per_side)", func(r *results.Results) { r.Study.Methods[2].Shadow.Ceiling = 1.5 }},
		{"study.methods[2].shadow.ceiling", "ln(models_per_side)", func(r *results.Results) { r.Study.Methods[2].Shadow.Ceiling = -0.5 }},
		{"study.methods[0].shadow.median_finite_epsilon", "ε ≥ 0", func(r *results.Results) { *r.Study.Methods[0].Shadow.MedianFiniteEpsilon = -1 }},
		{"study.methods[3].shadow.ulira_accuracy.values[1]", "[0, 1]", func(r *results.Results) { r.Study.Methods[3].Shadow.ULiRA = *est(0.5, 1.5, 0.5) }},
		{"study.methods[3].shadow.forget_score.values", "one per study.seeds entry (3)", func(r *results.Results) { r.Study.Methods[3].Shadow.ForgetScore = *est() }},
		{"study.methods[1].shadow.capped_rows.values[0]", "count of forget rows in [0, 2]", func(r *results.Results) { r.Study.Methods[1].Shadow.Capped = *est(3, 2, 2) }},

		// RMIA settings (v3).
		{"study.rmia", "want γ > 0", func(r *results.Results) { r.Study.RMIA.Gamma = 0 }},
		{"study.rmia", "a in [0, 1]", func(r *results.Results) { r.Study.RMIA.A = 1.5 }},
		{"study.rmia.grid", "a on the grid", func(r *results.Results) { r.Study.RMIA.A = 0.25 }},
		{"study.rmia.grid", "one AUC per point", func(r *results.Results) { r.Study.RMIA.GridAUC = r.Study.RMIA.GridAUC[:2] }},
		{"study.rmia.grid[2]", "[0, 1]", func(r *results.Results) { r.Study.RMIA.Grid[2] = 2 }},
		{"study.rmia.grid_auc[1]", "[0, 1]", func(r *results.Results) { r.Study.RMIA.GridAUC[1] = 1.5 }},
		{"study.rmia.population_rows", "≥ 1", func(r *results.Results) { r.Study.RMIA.PopulationRows = 0 }},
		{"study.rmia.tune_targets", "≥ 0", func(r *results.Results) { r.Study.RMIA.TuneTargets = -1 }},
		{"study.rmia.tune_rows", "≥ 0", func(r *results.Results) { r.Study.RMIA.TuneRows = -6 }},
		{"study.rmia.grid", "at most 1000", func(r *results.Results) { r.Study.RMIA.Grid = make([]float64, results.MaxStudyMethods+1) }},

		// Verdicts (v3).
		{"study.verdicts", "want both in (0, 1)", func(r *results.Results) { r.Study.Verdicts.Alpha = 0 }},
		{"study.verdicts", "want both in (0, 1)", func(r *results.Results) { r.Study.Verdicts.Power = 1 }},
		{"study.verdicts.correction", `"bonferroni", want "holm"`, func(r *results.Results) { r.Study.Verdicts.Correction = "bonferroni" }},
		{"study.verdicts.comparisons[3]", `compares "finetune" with "retrain"`, func(r *results.Results) { r.Study.Verdicts.Comparisons[3].Method = "finetune" }},
		{"study.verdicts.comparisons[7]", `compares "fim-prune-0.25" with "retrain-3"`, func(r *results.Results) { r.Study.Verdicts.Comparisons[7].Reference = "retrain-3" }},
		{"study.verdicts.comparisons[0]", "two different methods", func(r *results.Results) { r.Study.Verdicts.Comparisons[0].Reference = "fim-prune-0.25" }},
		{"study.verdicts.comparisons[2].metric", `"accuracy", want one of [test_accuracy`, func(r *results.Results) { r.Study.Verdicts.Comparisons[2].Metric = "accuracy" }},
		{"study.verdicts.comparisons[2].metric", `"", want one of`, func(r *results.Results) { r.Study.Verdicts.Comparisons[2].Metric = "" }},
		{"study.verdicts.comparisons[1].p_holm", "below p (0.5)", func(r *results.Results) {
			c := &r.Study.Verdicts.Comparisons[1]
			c.P, c.PHolm = 0.5, 0.25
		}},
		{"study.verdicts.comparisons[1].p", "[0, 1]", func(r *results.Results) { r.Study.Verdicts.Comparisons[1].P = 1.5 }},
		{"study.verdicts.comparisons[4].p_holm", "[0, 1]", func(r *results.Results) { r.Study.Verdicts.Comparisons[4].PHolm = -0.5 }},
		{"study.verdicts.comparisons[4].mde", "≥ 0", func(r *results.Results) { r.Study.Verdicts.Comparisons[4].MDE = -0.1 }},
		{"study.verdicts.comparisons[5].outcome", `"better", want higher, lower, not_distinguishable or undecided`, func(r *results.Results) {
			r.Study.Verdicts.Comparisons[5].Outcome = "better"
		}},
		{"study.verdicts.comparisons[6].difference.values", "one per study.seeds entry (3)", func(r *results.Results) {
			r.Study.Verdicts.Comparisons[6].Difference = *est(0.1, 0.2)
		}},
		{"study.verdicts.comparisons[6].difference.values[0]", "difference of fractions in [-1, 1]", func(r *results.Results) {
			r.Study.Verdicts.Comparisons[6].Difference = *est(-1.5, 0, 0)
		}},
		{"study.verdicts.comparisons[6].difference.ci95", "95 % t interval", func(r *results.Results) {
			r.Study.Verdicts.Comparisons[6].Difference.CI95[0] -= 0.1
		}},
		{"study.verdicts.findings[2].method", `"identity", want a method of the study`, func(r *results.Results) { r.Study.Verdicts.Findings[2].Method = "identity" }},
		{"study.verdicts.findings[3].metric", `"forget_kl", want one of`, func(r *results.Results) { r.Study.Verdicts.Findings[3].Metric = "forget_kl" }},
		{"study.verdicts.findings[4].outcome", `"same", want higher, lower`, func(r *results.Results) { r.Study.Verdicts.Findings[4].Outcome = "same" }},
		{"study.verdicts.comparisons", "at most 20000", func(r *results.Results) {
			r.Study.Verdicts.Comparisons = make([]results.Comparison, results.MaxStudyMethods*len(results.Metrics)*4+1)
		}},
		{"study.verdicts.comparisons[0].difference.values", "at most 10000", func(r *results.Results) {
			r.Study.Verdicts.Comparisons[0].Difference.Values = make([]float64, results.MaxStudySeeds+1)
		}},
	} {
		r := readResults(t, goldenResults)
		tc.mutate(r)
		err := r.Validate()
		var fe *results.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: Validate = %v, want a *FieldError", tc.path, err)
			continue
		}
		msg := err.Error()
		if fe.Path != tc.path || !strings.Contains(msg, tc.path) || !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "results: invalid ") {
			t.Errorf("Validate = %q (path %q),\nwant one about %s that says %q", msg, fe.Path, tc.path, tc.want)
		}
	}
}

// TestValidateAllowed checks values at the edges of what Validate accepts.
func TestValidateAllowed(t *testing.T) {
	for name, mutate := range map[string]func(r *results.Results){
		"zero times":      func(r *results.Results) { r.Timings = results.Timings{}; r.Models.Full.TrainSeconds = 0 },
		"largest time":    func(r *results.Results) { r.Timings.Total = results.MaxSeconds },
		"no other Fisher": func(r *results.Results) { r.Fisher.Other = nil },
		"no histograms":   func(r *results.Results) { r.Fisher.Tensors = nil },
		"empty histogram": func(r *results.Results) {
			r.Fisher.Tensors[0].Log10Bins, r.Fisher.Tensors[0].Counts = nil, nil
			r.Fisher.Tensors[0].Stats.Zeros = r.Fisher.Tensors[0].Stats.Count
		},
		"no layers":          func(r *results.Results) { r.Models.Pruned[0].Layers = nil },
		"accuracies 0 and 1": func(r *results.Results) { r.Models.Full.TestAccuracy, r.Models.Retrain.TestAccuracy = 0, 1 },
		"point interval":     func(r *results.Results) { r.Models.Full.MIA.AUCCI95 = [2]float64{0.5, 0.5} },
		"hostile strings":    func(r *results.Results) { r.Dataset.FeatureNames[0] = "<script>alert(1)</script>\n|`" },
		"longest string":     func(r *results.Results) { r.Dataset.Name = strings.Repeat("é", results.MaxStringBytes/2) },
		"most feature names": func(r *results.Results) { r.Dataset.FeatureNames = make([]string, results.MaxFeatureNames) },
		"negative Spearman":  func(r *results.Results) { r.Fisher.Other.SpearmanWithUsed = -1 },
		"empty sha256":       func(r *results.Results) { r.Dataset.SHA256 = nil },
		"no study":           func(r *results.Results) { r.Study = nil },
		"v1 without a study": func(r *results.Results) { r.Schema, r.Study = results.SchemaV1, nil },
		"v2 without a study": func(r *results.Results) { r.Schema, r.Study = results.SchemaV2, nil },
		"v2 golden":          func(r *results.Results) { *r = *readResults(t, goldenV2Results) },
		"v2, one seed": func(r *results.Results) {
			*r = *readResults(t, goldenV2Results)
			keepSeeds(r.Study, 1)
		},
		"v2, no shadow results": func(r *results.Results) {
			*r = *readResults(t, goldenV2Results)
			r.Study.Shadows = 0
			for i := range r.Study.Methods {
				r.Study.Methods[i].ULiRA, r.Study.Methods[i].Epsilon = nil, nil
			}
		},
		"one seed":    func(r *results.Results) { keepSeeds(r.Study, 1) },
		"no verdicts": func(r *results.Results) { r.Study.Verdicts = nil },
		"no comparisons": func(r *results.Results) {
			r.Study.Verdicts.Comparisons, r.Study.Verdicts.Findings = nil, nil
		},
		"no shadow results": func(r *results.Results) {
			s := r.Study
			s.Shadows, s.RMIA = 0, nil
			for i := range s.Methods {
				m := &s.Methods[i]
				m.Shadow, m.RMIAAUC, m.RMIATPRAt1pctFPR, m.LiRATiedShare = nil, nil, nil, nil
			}
			keep := func(m results.Metric) bool { return m != results.MetricRMIAAUC && m != results.MetricULiRA }
			s.Verdicts.Comparisons = slices.DeleteFunc(s.Verdicts.Comparisons, func(c results.Comparison) bool { return !keep(c.Metric) })
			s.Verdicts.Findings = slices.DeleteFunc(s.Verdicts.Findings, func(f results.Finding) bool { return !keep(f.Metric) })
		},
		"every ε capped": func(r *results.Results) {
			sh := r.Study.Methods[0].Shadow
			sh.MedianFiniteEpsilon, sh.Capped = nil, results.NewEstimate([]float64{2, 2, 2})
		},
		"ε at the ceiling": func(r *results.Results) {
			sh := r.Study.Methods[0].Shadow
			sh.Ceiling = math.Log(float64(sh.ModelsPerSide))
			sh.MedianFiniteEpsilon = &sh.Ceiling
		},
		"a at the grid's end": func(r *results.Results) { r.Study.RMIA.A = 1 },
		"fast recipe": func(r *results.Results) {
			renameMethod(r.Study, 0, results.MethodID{Family: results.FamilyFIM, Fraction: 0.25, Recipe: results.RecipeFast})
		},
		"identity and retrain-3": func(r *results.Results) {
			renameMethod(r.Study, 1, results.MethodID{Family: results.FamilyIdentity})
			renameMethod(r.Study, 3, results.MethodID{Family: results.FamilyRetrain, Replica: 3})
		},
		"every family": func(r *results.Results) {
			m := r.Study.Methods[0]
			for _, id := range []results.MethodID{
				{Family: results.FamilyRatio, Alpha: 10, Recipe: results.RecipeSeed},
				{Family: results.FamilyFineTune, Recipe: results.RecipeSeed},
				{Family: results.FamilyNegGrad, Alpha: 0.95, Recipe: results.RecipeSeed},
				{Family: results.FamilyRandom, Fraction: 0.25, Recipe: results.RecipeSeed},
				{Family: results.FamilyMagnitude, Fraction: 0.25, Recipe: results.RecipeSeed},
				{Family: results.FamilyIdentity},
			} {
				m.ID, m.Name = id, id.Name()
				r.Study.Methods = append(r.Study.Methods, m)
			}
		},
		"undecided and extreme p": func(r *results.Results) {
			c := &r.Study.Verdicts.Comparisons[0]
			c.Outcome, c.P, c.PHolm, c.MDE = results.OutcomeUndecided, 1, 1, 0
			c = &r.Study.Verdicts.Comparisons[1]
			c.P, c.PHolm = 0, 0
		},
		"no attacks": func(r *results.Results) { r.Study.Methods[1].Attacks = nil },
		"interval off by 1e-8 relative": func(r *results.Results) {
			e := &r.Study.Methods[0].TestAccuracy
			e.CI95[0] *= 1 + 1e-8
		},
		"most seeds": func(r *results.Results) {
			seeds := make([]uint64, results.MaxStudySeeds)
			for i := range seeds {
				seeds[i] = uint64(i)
			}
			r.Study.Seeds = seeds
			r.Study.ForgetSets = slices.Repeat(r.Study.ForgetSets[:1], len(seeds))
			for i := range r.Study.Methods {
				for _, e := range studyEstimates(&r.Study.Methods[i]) {
					*e = results.NewEstimate(slices.Repeat(e.Values[:1], len(seeds)))
				}
			}
			for i := range r.Study.Verdicts.Comparisons {
				e := &r.Study.Verdicts.Comparisons[i].Difference
				*e = results.NewEstimate(slices.Repeat(e.Values[:1], len(seeds)))
			}
		},
	} {
		r := readResults(t, goldenResults)
		mutate(r)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestValidateNonFinite sets every float of the golden files (v3 and v2),
// one at a time, to NaN, +Inf and −Inf, and checks that Validate names its
// JSON path.
func TestValidateNonFinite(t *testing.T) {
	for _, path := range []string{goldenResults, goldenV2Results} {
		t.Run(path, func(t *testing.T) { validateNonFinite(t, readResults(t, path)) })
	}
}

func validateNonFinite(t *testing.T, r *results.Results) {
	type leaf struct {
		path string
		v    reflect.Value
	}
	var leaves []leaf
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Float64:
			leaves = append(leaves, leaf{path, v})
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
				if path != "" {
					name = path + "." + name
				}
				walk(v.Field(i), name)
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(reflect.ValueOf(r).Elem(), "")
	// The golden file sets every float field somewhere, many of them in
	// lists: well over 100 leaves.
	if len(leaves) < 100 {
		t.Fatalf("found only %d float fields", len(leaves))
	}
	for _, l := range leaves {
		old := l.v.Float()
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			l.v.SetFloat(bad)
			err := r.Validate()
			var fe *results.FieldError
			if !errors.As(err, &fe) || fe.Path != l.path || !strings.Contains(err.Error(), "want a finite number") {
				t.Errorf("%s = %v: Validate = %v, want a *FieldError for %s", l.path, bad, err, l.path)
			}
		}
		l.v.SetFloat(old)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("restored golden results: %v", err)
	}
}

// studyEstimates lists every estimate of m.
func studyEstimates(m *results.Method) []*results.Estimate {
	out := []*results.Estimate{&m.Zeroed, &m.TestAccuracy, &m.RetainAccuracy, &m.ForgetAccuracy,
		&m.TestGap, &m.RetainGap, &m.ForgetGap, &m.ForgetKL, &m.LiRAOfflineAUC, &m.Seconds}
	for j := range m.Attacks {
		a := &m.Attacks[j]
		out = append(out, &a.AUC, &a.Advantage, &a.TPRAt1pctFPR)
		if a.TPRAt01pctFPR != nil {
			out = append(out, a.TPRAt01pctFPR)
		}
	}
	if c := m.Change; c != nil {
		out = append(out, &c.Parameters, &c.RelativeL2)
	}
	for _, e := range []*results.Estimate{m.LiRATiedShare, m.RMIAAUC, m.RMIATPRAt1pctFPR} {
		if e != nil {
			out = append(out, e)
		}
	}
	if sh := m.Shadow; sh != nil {
		out = append(out, &sh.ULiRA, &sh.ForgetScore, &sh.Capped)
	}
	return out
}

// keepSeeds shortens s to its first n seeds, recomputing every estimate
// (the verdicts' differences too; their p-values stay as they were).
func keepSeeds(s *results.Study, n int) {
	s.Seeds = s.Seeds[:n]
	if s.ForgetSets != nil {
		s.ForgetSets = s.ForgetSets[:n]
	}
	for i := range s.Methods {
		for _, e := range studyEstimates(&s.Methods[i]) {
			*e = results.NewEstimate(e.Values[:n])
		}
	}
	if vd := s.Verdicts; vd != nil {
		for i := range vd.Comparisons {
			e := &vd.Comparisons[i].Difference
			*e = results.NewEstimate(e.Values[:n])
		}
	}
}

// renameMethod gives s.Methods[i] the identity id and its name, in the
// verdicts too.
func renameMethod(s *results.Study, i int, id results.MethodID) {
	old := s.Methods[i].Name
	s.Methods[i].ID, s.Methods[i].Name = id, id.Name()
	if vd := s.Verdicts; vd != nil {
		for j := range vd.Comparisons {
			c := &vd.Comparisons[j]
			if c.Method == old {
				c.Method = id.Name()
			}
			if c.Reference == old {
				c.Reference = id.Name()
			}
		}
		for j := range vd.Findings {
			if vd.Findings[j].Method == old {
				vd.Findings[j].Method = id.Name()
			}
		}
	}
}

func TestValidateSchemaAndNil(t *testing.T) {
	var r *results.Results
	if err := r.Validate(); err == nil {
		t.Error("Validate(nil) succeeded")
	}
	r = readResults(t, goldenResults)
	r.Schema = "fimprune/results/v0"
	var se *results.SchemaError
	if err := r.Validate(); !errors.As(err, &se) || se.Got != r.Schema {
		t.Errorf("Validate = %v, want a *SchemaError", err)
	}
}

// TestDecodeValidates checks that Decode and Read refuse invalid files with
// the field's path (and Read with the file's name).
func TestDecodeValidates(t *testing.T) {
	for _, tc := range []struct {
		old, new, path string
	}{
		{`"auc": 0.75,`, `"auc": 1.5,`, "models.full.mia.auc"},
		{`"members": 2,`, `"members": 0,`, "models.full.mia.members"},
		{`"fractions": [
      0.25,
      0.5
    ]`, `"fractions": [
      0.25,
      0.25
    ]`, "config.fractions[1]"},
		{`"fraction": 0.25,
    "combined_score"`, `"fraction": 0.75,
    "combined_score"`, "best.fraction"},
		{`"deletion_rows": [
      14,`, `"deletion_rows": [
      -14,`, "dataset.deletion_rows[0]"},
		{`"total_seconds": `, `"total_seconds": -`, "timings.total_seconds"},
	} {
		data := goldenWith(t, tc.old, tc.new)
		r, err := results.Decode(bytes.NewReader(data))
		if err == nil || r != nil || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Decode with %s: got %v, want an error naming %s", tc.new, err, tc.path)
		}
		path := filepath.Join(t.TempDir(), "results.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := results.Read(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Read with %s: got %v, want an error naming %s and %s", tc.new, err, path, tc.path)
		}
	}
}
