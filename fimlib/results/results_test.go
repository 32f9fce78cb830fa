package results_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// Test files. golden is hand-made, small and complete (schema v3: every
// field of every type is set somewhere, two pruned fractions, a study of
// four methods over three seeds with its verdicts), apart from the schema
// v2 study fields (ulira, epsilon), which goldenV2 sets; goldenV2 is the
// golden file before v3 (the same run, a v2 study of three methods),
// goldenV1 the same run in schema v1, without the study, both kept
// unchanged to show that older files stay readable; goldenSummary is
// SeedSummary of goldenV2; real is the output of a full `go run
// ./scripts/experiment` on the UCI data with the default settings (schema
// v1).
const (
	goldenResults   = "testdata/golden/results.json"
	goldenV2Results = "testdata/golden/results-v2.json"
	goldenV1Results = "testdata/golden/results-v1.json"
	goldenSummary   = "testdata/golden/inference_report_summary.json"
	realResults     = "testdata/real/results.json"
	realSummary     = "testdata/real/inference_report_summary.json"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readResults(t *testing.T, path string) *results.Results {
	t.Helper()
	r, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRoundTrip checks that Decode then Marshal reproduces each file byte for
// byte: every field of the file is known to the types, none is lost, and
// the writer's formatting is the one checked in.
func TestRoundTrip(t *testing.T) {
	for _, path := range []string{goldenResults, goldenV2Results, goldenV1Results, realResults} {
		t.Run(path, func(t *testing.T) {
			want := readFile(t, path)
			r, err := results.Decode(bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			got, err := results.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Decode→Marshal differs from %s at %s", path, testsupport.FirstDiff(string(got), string(want)))
			}
		})
	}
}

func TestGoldenValues(t *testing.T) {
	r := readResults(t, goldenResults)
	// A few values from each section, to catch a field decoded into the
	// wrong place (a round trip alone would not).
	checks := []struct {
		name      string
		got, want any
	}{
		{"schema", r.Schema, results.Schema},
		{"config.seed", r.Config.Seed, uint64(7)},
		{"config.split_seed", r.Config.SplitSeed, int64(11)},
		{"config.fractions", r.Config.Fractions, []float64{0.25, 0.5}},
		{"config.model.hidden", r.Config.Model.Hidden, []int{2}},
		{"config.finetune.learning_rate", r.Config.FineTune.LearningRate, 1e-4},
		{"config.parallel", r.Config.Parallel, 2},
		{"environment.cores", r.Environment.Cores, 4},
		{"dataset.deletion_rows", r.Dataset.DeletionRows, []int{14, 3}},
		{"dataset.sha256 keys", slices.Sorted(maps.Keys(r.Dataset.SHA256)), []string{"adult.data", "adult.test"}},
		{"models.full.classes[0].label", r.Models.Full.Classes[0].Label, "<=50K"},
		{"models.retrain.train_seconds", r.Models.Retrain.TrainSeconds, 2.25},
		{"models.pruned[1].fraction", r.Models.Pruned[1].Fraction, 0.5},
		{"models.pruned[1].seed_rule_pruned_params", r.Models.Pruned[1].SeedRulePrunedParams, 6},
		{"models.pruned[0].mia.auc_ci95", r.Models.Pruned[0].MIA.AUCCI95, [2]float64{0, 0.25}},
		{"models.pruned[0].mia_confidence.score", r.Models.Pruned[0].MIAConfidence.Score, "confidence"},
		{"fisher.tensors[2].shape", r.Fisher.Tensors[2].Shape, []int{2, 2}},
		{"fisher.other.top_overlap", r.Fisher.Other.TopOverlap, []float64{0.75, 0.8571428571428571}},
		{"best.fraction", r.Best.Fraction, 0.25},
		{"timings.total_seconds", r.Timings.Total, 6.5},
		{"study.seeds", r.Study.Seeds, []uint64{7, 8, 9}},
		{"study.shadows", r.Study.Shadows, 8},
		{"study.forget_sets[1].rows", r.Study.ForgetSets[1].Rows, []int{0, 5}},
		{"study.forget_sets[2].seed", r.Study.ForgetSets[2].Seed, int64(-9009)},
		{"study.forget_sets[0].split_seed", r.Study.ForgetSets[0].SplitSeed, int64(11)},
		{"study.rmia.grid_auc", r.Study.RMIA.GridAUC, []float64{0.5625, 0.625, 0.59375}},
		{"study.rmia.population_rows", r.Study.RMIA.PopulationRows, 3},
		{"study.methods[0].name", r.Study.Methods[0].Name, "fim-prune-0.25"},
		{"study.methods[0].id", r.Study.Methods[0].ID, results.MethodID{Family: results.FamilyFIM, Fraction: 0.25, Recipe: results.RecipeSeed}},
		{"study.methods[1].id", r.Study.Methods[1].ID, results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1}},
		{"study.methods[3].id", r.Study.Methods[3].ID, results.MethodID{Family: results.FamilyRetrain, Replica: 2}},
		{"study.methods[0].test_accuracy.values", r.Study.Methods[0].TestAccuracy.Values, []float64{0.8, 0.6, 0.8}},
		{"study.methods[1].attacks[1].score", r.Study.Methods[1].Attacks[1].Score, "logit_confidence"},
		{"study.methods[1].change.parameters.values", r.Study.Methods[1].Change.Parameters.Values, []float64{3, 5, 2}},
		{"study.methods[2].rmia_auc.values", r.Study.Methods[2].RMIAAUC.Values, []float64{0.5, 0.375, 0.5}},
		{"study.methods[0].shadow.capped_rows.values", r.Study.Methods[0].Shadow.Capped.Values, []float64{1, 0, 1}},
		{"study.methods[1].shadow.median_finite_epsilon", r.Study.Methods[1].Shadow.MedianFiniteEpsilon, (*float64)(nil)},
		{"study.methods[3].shadow.models_per_side", r.Study.Methods[3].Shadow.ModelsPerSide, 4},
		{"study.methods[0].ulira", r.Study.Methods[0].ULiRA, (*results.ULiRA)(nil)},
		{"study.verdicts.correction", r.Study.Verdicts.Correction, "holm"},
		{"study.verdicts.comparisons[10].reference", r.Study.Verdicts.Comparisons[10].Reference, "retrain"},
		{"study.verdicts.comparisons[10].outcome", r.Study.Verdicts.Comparisons[10].Outcome, results.OutcomeLower},
		{"study.verdicts.findings[9].outcome", r.Study.Verdicts.Findings[9].Outcome, results.OutcomeHigher},
		{"study.seconds", r.Study.Seconds, 42.5},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestGoldenComplete checks that the golden file sets every field of every
// type in the schema (non-zero in at least one place), so that the round
// trip covers them all; the fields only schema v2 has (ulira, epsilon) are
// set in the v2 golden file instead. A field added to the types fails here
// until the golden file (and docs/results-schema.md) shows it.
func TestGoldenComplete(t *testing.T) {
	r := readResults(t, goldenResults)
	if n := len(r.Models.Pruned); n != 2 {
		t.Errorf("golden has %d pruned models, want 2", n)
	}
	v2 := readResults(t, goldenV2Results)
	// Every (type, field) pair reachable from Results.
	fields := map[string]bool{}
	var collect func(reflect.Type)
	seen := map[reflect.Type]bool{}
	collect = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			fields[typ.Name()+"."+typ.Field(i).Name] = false
			collect(typ.Field(i).Type)
		}
	}
	collect(reflect.TypeFor[results.Results]())
	if len(fields) < 100 {
		t.Fatalf("found only %d fields; the walk is broken", len(fields))
	}
	var mark func(reflect.Value)
	mark = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				mark(v.Elem())
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				mark(v.Index(i))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Field(i)
				if !f.IsZero() && (f.Kind() != reflect.Slice || f.Len() > 0) && (f.Kind() != reflect.Map || f.Len() > 0) {
					fields[v.Type().Name()+"."+v.Type().Field(i).Name] = true
				}
				mark(f)
			}
		}
	}
	mark(reflect.ValueOf(r))
	// The v2-only fields, from the v2 golden file.
	v2Only := map[string]bool{"Method.ULiRA": true, "Method.Epsilon": true}
	for name := range fields {
		if strings.HasPrefix(name, "ULiRA.") || strings.HasPrefix(name, "EpsilonScore.") {
			v2Only[name] = true
		}
	}
	for name := range v2Only {
		if fields[name] {
			t.Errorf("%s is set in %s, a schema v3 file", name, goldenResults)
		}
	}
	mark(reflect.ValueOf(v2))
	// A study with a split per seed holds one RMIA setting per seed instead
	// of study.rmia: the golden study's, repeated, must validate.
	split := *r
	st := *r.Study
	for range st.Seeds {
		st.RMIASplits = append(st.RMIASplits, *st.RMIA)
	}
	st.RMIA = nil
	split.Study = &st
	if err := split.Validate(); err != nil {
		t.Errorf("the golden study with one RMIA setting per seed: %v", err)
	}
	mark(reflect.ValueOf(&split))
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !fields[name] {
			t.Errorf("%s is zero or empty everywhere in %s and %s", name, goldenResults, goldenV2Results)
		}
	}
}

// TestInvariants checks the relations between fields that the experiment
// guarantees (and docs/results-schema.md states), on the hand-made file and
// on a real run.
func TestInvariants(t *testing.T) {
	for _, path := range []string{goldenResults, goldenV2Results, goldenV1Results, realResults} {
		t.Run(path, func(t *testing.T) { checkInvariants(t, readResults(t, path)) })
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }

func checkInvariants(t *testing.T, r *results.Results) {
	t.Helper()
	c, d, m, f := r.Config, r.Dataset, r.Models, r.Fisher

	// config and dataset
	if r.Schema != results.Schema && r.Schema != results.SchemaV2 && r.Schema != results.SchemaV1 {
		t.Errorf("schema %q", r.Schema)
	}
	if c.FisherKind != f.Kind {
		t.Errorf("config.fisher_kind %q, fisher.kind %q", c.FisherKind, f.Kind)
	}
	if !near(c.Selection.UtilityWeight+c.Selection.PrivacyWeight, 1) {
		t.Errorf("selection weights %v", c.Selection)
	}
	if c.Model.Inputs != d.Features || len(d.FeatureNames) != d.Features {
		t.Errorf("inputs %d, features %d, feature names %d", c.Model.Inputs, d.Features, len(d.FeatureNames))
	}
	if d.Train+d.Val+d.Test != d.Rows || d.Deletion+d.Retained != d.Train || len(d.DeletionRows) != d.Deletion {
		t.Errorf("dataset sizes inconsistent: %+v", d)
	}
	ids := map[int]bool{}
	for _, id := range d.DeletionRows {
		if id < 0 || id >= d.Rows || ids[id] {
			t.Errorf("deletion row %d out of range or repeated", id)
		}
		ids[id] = true
	}
	if _, err := time.Parse(time.RFC3339, r.Environment.Time); err != nil || !strings.HasSuffix(r.Environment.Time, "Z") {
		t.Errorf("environment.time %q is not RFC 3339 UTC", r.Environment.Time)
	}

	// models
	type named struct {
		name  string
		acc   float64
		class []results.ClassReport
		mias  [2]results.MIA
	}
	all := []named{
		{"full", m.Full.TestAccuracy, m.Full.Classes, [2]results.MIA{m.Full.MIA, m.Full.MIAConfidence}},
		{"retrain", m.Retrain.TestAccuracy, m.Retrain.Classes, [2]results.MIA{m.Retrain.MIA, m.Retrain.MIAConfidence}},
	}
	for _, p := range m.Pruned {
		all = append(all, named{fmt.Sprintf("pruned %g", p.Fraction), p.TestAccuracy, p.Classes, [2]results.MIA{p.MIA, p.MIAConfidence}})
	}
	for _, x := range all {
		// accuracy = Σ recall·support / test rows
		support, correct := 0, 0.0
		for i, cr := range x.class {
			support += cr.Support
			correct += cr.Recall * float64(cr.Support)
			if cr.Class != i {
				t.Errorf("%s: class %d at index %d", x.name, cr.Class, i)
			}
			if f1 := 2 * cr.Precision * cr.Recall / (cr.Precision + cr.Recall); cr.Precision+cr.Recall > 0 && !near(f1, cr.F1) {
				t.Errorf("%s: class %d f1 %v, want %v", x.name, cr.Class, cr.F1, f1)
			}
		}
		if support != d.Test || !near(correct/float64(d.Test), x.acc) {
			t.Errorf("%s: supports sum to %d (test %d), recall-weighted accuracy %v, test_accuracy %v", x.name, support, d.Test, correct/float64(d.Test), x.acc)
		}
		for i, a := range x.mias {
			if want := [2]string{"loss", "confidence"}[i]; a.Score != want {
				t.Errorf("%s: attack %d score %q, want %q", x.name, i, a.Score, want)
			}
			if a.Members != d.Deletion || a.NonMembers != c.NonMembers {
				t.Errorf("%s %s: %d members, %d non-members", x.name, a.Score, a.Members, a.NonMembers)
			}
			floor := float64(a.NonMembers) / float64(a.Members+a.NonMembers)
			if a.BestThresholdAccuracy < floor || a.BestThresholdAccuracy > 1 {
				t.Errorf("%s %s: best_threshold_accuracy %v outside [%v, 1]", x.name, a.Score, a.BestThresholdAccuracy, floor)
			}
			if a.Members == a.NonMembers && a.Advantage < 2*a.BestThresholdAccuracy-1-1e-12 {
				t.Errorf("%s %s: advantage %v < 2·%v − 1", x.name, a.Score, a.Advantage, a.BestThresholdAccuracy)
			}
			if a.AUC < 0 || a.AUC > 1 || a.AUCCI95[0] > a.AUCCI95[1] {
				t.Errorf("%s %s: auc %v, interval %v", x.name, a.Score, a.AUC, a.AUCCI95)
			}
		}
	}
	for _, x := range []results.Model{m.Full, m.Retrain} {
		if x.BestEpoch < 1 || x.BestEpoch > x.Epochs || x.Epochs > c.Train.MaxEpochs {
			t.Errorf("epochs %d, best %d, max %d", x.Epochs, x.BestEpoch, c.Train.MaxEpochs)
		}
	}
	if m.Full.Checkpoint != "" && (filepath.ToSlash(m.Full.Checkpoint) != "checkpoints/full" || filepath.ToSlash(m.Retrain.Checkpoint) != "checkpoints/retrain") {
		t.Errorf("checkpoints %q, %q", m.Full.Checkpoint, m.Retrain.Checkpoint)
	}

	// pruned models
	if len(m.Pruned) != len(c.Fractions) {
		t.Fatalf("%d pruned models for %d fractions", len(m.Pruned), len(c.Fractions))
	}
	for i, p := range m.Pruned {
		if p.Fraction != c.Fractions[i] {
			t.Errorf("pruned[%d].fraction %v, config.fractions[%d] %v", i, p.Fraction, i, c.Fractions[i])
		}
		if p.TotalParams != c.Model.Params || p.PrunedParams != int(math.Round(p.Fraction*float64(p.TotalParams))) {
			t.Errorf("fraction %v: pruned %d of %d (params %d)", p.Fraction, p.PrunedParams, p.TotalParams, c.Model.Params)
		}
		pruned, total := 0, 0
		for j, l := range p.Layers {
			pruned += l.Pruned
			total += l.Total
			if j >= len(f.Tensors) || l.Name != f.Tensors[j].Name || l.Total != f.Tensors[j].Stats.Count {
				t.Errorf("fraction %v: layer %d %+v does not match fisher.tensors", p.Fraction, j, l)
			}
		}
		if pruned != p.PrunedParams || total != p.TotalParams || len(p.Layers) != len(f.Tensors) {
			t.Errorf("fraction %v: layers sum to %d of %d", p.Fraction, pruned, total)
		}
		u := 1 - math.Abs(p.TestAccuracy-m.Retrain.TestAccuracy)/m.Retrain.TestAccuracy
		pr := 1 - p.MIA.BestThresholdAccuracy
		comb := float64(c.Selection.UtilityWeight*u) + float64(c.Selection.PrivacyWeight*pr)
		if p.Utility != u || p.Privacy != pr || p.CombinedScore != comb {
			t.Errorf("fraction %v: utility %v privacy %v combined %v, want %v %v %v", p.Fraction, p.Utility, p.Privacy, p.CombinedScore, u, pr, comb)
		}
		if p.DeletionSeconds < f.Seconds+p.FinetuneSeconds-1e-9 {
			t.Errorf("fraction %v: deletion_seconds %v < fisher %v + fine-tune %v", p.Fraction, p.DeletionSeconds, f.Seconds, p.FinetuneSeconds)
		}
		if p.Checkpoint != "" && filepath.ToSlash(p.Checkpoint) != "checkpoints/pruned-"+strconv.FormatFloat(p.Fraction, 'g', -1, 64) {
			t.Errorf("fraction %v: checkpoint %q", p.Fraction, p.Checkpoint)
		}
	}

	// best
	best, err := r.BestPruned()
	if err != nil {
		t.Fatal(err)
	}
	if best.CombinedScore != r.Best.CombinedScore {
		t.Errorf("best.combined_score %v, its model's %v", r.Best.CombinedScore, best.CombinedScore)
	}
	for _, p := range m.Pruned {
		if p.CombinedScore > best.CombinedScore || (p.CombinedScore == best.CombinedScore && p.Fraction < best.Fraction) {
			t.Errorf("fraction %v (combined %v) beats the best %v", p.Fraction, p.CombinedScore, best.Fraction)
		}
	}

	// fisher
	if f.Rows != d.Deletion || f.Summary.Count != c.Model.Params {
		t.Errorf("fisher rows %d, count %d", f.Rows, f.Summary.Count)
	}
	checkStats(t, "fisher.summary", f.Summary)
	count, zeros, sum, maxScore := 0, 0, 0.0, 0.0
	for _, ts := range f.Tensors {
		checkStats(t, ts.Name, ts.Stats)
		size := 1
		for _, n := range ts.Shape {
			size *= n
		}
		binned := 0
		for _, n := range ts.Counts {
			binned += n
		}
		if size != ts.Stats.Count || binned != ts.Stats.Count-ts.Stats.Zeros {
			t.Errorf("%s: shape %v, count %d, %d zeros, %d binned", ts.Name, ts.Shape, ts.Stats.Count, ts.Stats.Zeros, binned)
		}
		if len(ts.Log10Bins) != len(ts.Counts)+1 || !slices.Equal(ts.Log10Bins, f.Tensors[0].Log10Bins) || !slices.IsSorted(ts.Log10Bins) {
			t.Errorf("%s: %d edges for %d counts, or edges not shared and ascending", ts.Name, len(ts.Log10Bins), len(ts.Counts))
		}
		count, zeros, sum, maxScore = count+ts.Stats.Count, zeros+ts.Stats.Zeros, sum+ts.Stats.Sum, max(maxScore, ts.Stats.Max)
	}
	if count != f.Summary.Count || zeros != f.Summary.Zeros || !near(sum, f.Summary.Sum) || maxScore != f.Summary.Max {
		t.Errorf("tensors total count %d zeros %d sum %v max %v; summary %+v", count, zeros, sum, maxScore, f.Summary)
	}
	if o := f.Other; o == nil {
		t.Error("fisher.other missing")
	} else {
		if o.Kind == f.Kind || (o.Kind != "empirical" && o.Kind != "true") {
			t.Errorf("fisher.other.kind %q with fisher.kind %q", o.Kind, f.Kind)
		}
		checkStats(t, "fisher.other.summary", o.Summary)
		if o.Summary.Count != f.Summary.Count || len(o.TopOverlap) != len(c.Fractions) || math.Abs(o.SpearmanWithUsed) > 1 {
			t.Errorf("fisher.other: count %d, %d overlaps, spearman %v", o.Summary.Count, len(o.TopOverlap), o.SpearmanWithUsed)
		}
		for _, v := range o.TopOverlap {
			if v < 0 || v > 1 {
				t.Errorf("top_overlap %v", v)
			}
		}
	}

	// timings: phases run one after another inside total
	tm := r.Timings
	phases := tm.LoadData + tm.Train + tm.Fisher + tm.PruneFinetune + tm.Write
	if phases > tm.Total || tm.Fisher < f.Seconds || tm.Train < max(m.Full.TrainSeconds, m.Retrain.TrainSeconds) {
		t.Errorf("timings %+v inconsistent with fisher.seconds %v and train seconds", tm, f.Seconds)
	}
	for _, p := range m.Pruned {
		if tm.PruneFinetune < p.FinetuneSeconds {
			t.Errorf("prune_finetune_seconds %v < fine-tune %v", tm.PruneFinetune, p.FinetuneSeconds)
		}
	}
	if r.Study != nil {
		checkStudy(t, r)
	}
}

// checkStudy checks the study's relations: each gap is the method's
// accuracy minus the retrained model's of the same seed; every estimate's
// mean and interval are NewEstimate's of its values.
func checkStudy(t *testing.T, r *results.Results) {
	t.Helper()
	s := r.Study
	var retrain *results.Method
	for i := range s.Methods {
		if s.Methods[i].Name == "retrain" {
			retrain = &s.Methods[i]
		}
	}
	if retrain == nil {
		t.Fatal("study without a retrain method")
	}
	same := func(what string, got, want results.Estimate) {
		t.Helper()
		if len(got.Values) != len(want.Values) {
			t.Fatalf("%s: %d values, want %d", what, len(got.Values), len(want.Values))
		}
		for i := range got.Values {
			if !near(got.Values[i], want.Values[i]) {
				t.Errorf("%s: values[%d] = %v, want %v", what, i, got.Values[i], want.Values[i])
			}
		}
		w := results.NewEstimate(got.Values)
		if !near(got.Mean, w.Mean) || !near(got.CI95[0], w.CI95[0]) || !near(got.CI95[1], w.CI95[1]) {
			t.Errorf("%s: mean %v ci %v, NewEstimate gives %v %v", what, got.Mean, got.CI95, w.Mean, w.CI95)
		}
	}
	diff := func(a, b results.Estimate) results.Estimate {
		d := make([]float64, len(a.Values))
		for i := range d {
			d[i] = a.Values[i] - b.Values[i]
		}
		return results.NewEstimate(d)
	}
	for _, m := range s.Methods {
		same(m.Name+" test_gap", m.TestGap, diff(m.TestAccuracy, retrain.TestAccuracy))
		same(m.Name+" retain_gap", m.RetainGap, diff(m.RetainAccuracy, retrain.RetainAccuracy))
		same(m.Name+" forget_gap", m.ForgetGap, diff(m.ForgetAccuracy, retrain.ForgetAccuracy))
		if m.Epsilon != nil && m.Epsilon.ModelsPerSide*2 > s.Shadows {
			t.Errorf("%s: %d models per side from %d shadows", m.Name, m.Epsilon.ModelsPerSide, s.Shadows)
		}
	}
	if r.Schema == results.Schema {
		checkStudyV3(t, r)
	}
}

// checkStudyV3 checks what a schema v3 study guarantees beyond Validate:
// the seeds' forget sets are disjoint and drawn as "random:<forget_rows>";
// one reference (retrain) and at most one null (retrain-2); shadow blocks
// fit in the shadows, their finite ε under the ceiling; RMIA's population
// within the validation rows; and each comparison's difference is the
// method's per-seed values minus the reference's on its metric, each
// finding what its comparisons with retrain and retrain-2 say together.
func checkStudyV3(t *testing.T, r *results.Results) {
	t.Helper()
	s := r.Study
	taken := map[int]int{}
	for i, f := range s.ForgetSets {
		if f.Spec != fmt.Sprintf("random:%d", s.ForgetRows) {
			t.Errorf("forget_sets[%d].spec %q, want random:%d", i, f.Spec, s.ForgetRows)
		}
		for _, row := range f.Rows {
			if j, dup := taken[row]; dup {
				t.Errorf("row %d in the forget sets of seeds %d and %d", row, j, i)
			}
			taken[row] = i
		}
	}
	roles := map[results.Role]int{}
	for _, m := range s.Methods {
		roles[m.ID.Role()]++
		if sh := m.Shadow; sh != nil {
			if sh.ModelsPerSide*2 > s.Shadows {
				t.Errorf("%s: %d models per side from %d shadows", m.Name, sh.ModelsPerSide, s.Shadows)
			}
			if e := sh.MedianFiniteEpsilon; e != nil && *e > sh.Ceiling {
				t.Errorf("%s: median finite ε %v above the ceiling %v", m.Name, *e, sh.Ceiling)
			}
		}
	}
	if roles[results.RoleReference] != 1 || roles[results.RoleNull] > 1 {
		t.Errorf("roles %v, want one reference and at most one null", roles)
	}
	if a := s.RMIA; a != nil && a.PopulationRows > r.Dataset.Val {
		t.Errorf("rmia.population_rows %d > dataset.val %d", a.PopulationRows, r.Dataset.Val)
	}
	vd := s.Verdicts
	if vd == nil {
		return
	}
	type key struct {
		method, reference string
		metric            results.Metric
	}
	outcomes := map[key]results.Outcome{}
	for i, c := range vd.Comparisons {
		a, b := s.MethodByName(c.Method).Estimate(c.Metric), s.MethodByName(c.Reference).Estimate(c.Metric)
		if a == nil || b == nil {
			t.Errorf("comparisons[%d]: %s or %s has no %s", i, c.Method, c.Reference, c.Metric)
			continue
		}
		d := make([]float64, len(a.Values))
		for j := range d {
			d[j] = a.Values[j] - b.Values[j]
		}
		if !reflect.DeepEqual(c.Difference, results.NewEstimate(d)) {
			t.Errorf("comparisons[%d].difference %v, want %s − %s = %v", i, c.Difference, c.Method, c.Reference, d)
		}
		outcomes[key{c.Method, c.Reference, c.Metric}] = c.Outcome
	}
	ref, null := s.MethodByRole(results.RoleReference), s.MethodByRole(results.RoleNull)
	for i, f := range vd.Findings {
		want := outcomes[key{f.Method, ref.Name, f.Metric}]
		if null != nil && f.Method != null.Name {
			switch b := outcomes[key{f.Method, null.Name, f.Metric}]; {
			case want == results.OutcomeUndecided || b == results.OutcomeUndecided:
				want = results.OutcomeUndecided
			case b != want:
				want = results.OutcomeNotDist
			}
		}
		if f.Outcome != want {
			t.Errorf("findings[%d] (%s, %s) = %s, want %s", i, f.Method, f.Metric, f.Outcome, want)
		}
	}
}

func checkStats(t *testing.T, name string, s results.Stats) {
	t.Helper()
	if s.Count <= 0 || s.Zeros < 0 || s.Zeros > s.Count || !near(s.Mean*float64(s.Count), s.Sum) ||
		!(0 <= s.Median && s.Median <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max) {
		t.Errorf("%s: inconsistent stats %+v", name, s)
	}
}

// goldenWith returns the golden file's bytes with the first old replaced by new.
func goldenWith(t *testing.T, old, new string) []byte {
	t.Helper()
	data := string(readFile(t, goldenResults))
	if !strings.Contains(data, old) {
		t.Fatalf("golden file has no %q", old)
	}
	return []byte(strings.Replace(data, old, new, 1))
}

// schemaLine is the golden file's schema field.
const schemaLine = `"schema": "` + results.Schema + `"`

func TestDecodeRefusesOtherSchema(t *testing.T) {
	for _, other := range []string{"fimprune/results/v9", "fimprune/results/v0", "FIMPRUNE/RESULTS/V3", "fimprune/results/v3 ", "fimprune/results/v4"} {
		data := goldenWith(t, schemaLine, `"schema": "`+other+`"`)
		r, err := results.Decode(bytes.NewReader(data))
		var se *results.SchemaError
		if !errors.As(err, &se) {
			t.Fatalf("schema %q: got %v, %v; want a *SchemaError", other, r, err)
		}
		if se.Got != other {
			t.Errorf("SchemaError.Got = %q, want %q", se.Got, other)
		}
		if msg := err.Error(); !strings.Contains(msg, `"`+other+`"`) || !strings.Contains(msg, `"`+results.Schema+`"`) ||
			!strings.Contains(msg, `"`+results.SchemaV2+`"`) || !strings.Contains(msg, `"`+results.SchemaV1+`"`) {
			t.Errorf("message %q does not name %q and the supported %q, %q and %q", msg, other, results.Schema, results.SchemaV2, results.SchemaV1)
		}
	}
}

func TestDecodeRefusesMissingSchema(t *testing.T) {
	for name, data := range map[string][]byte{
		"absent": goldenWith(t, schemaLine+`,`, ``),
		"empty":  goldenWith(t, schemaLine, `"schema": ""`),
		"null":   goldenWith(t, schemaLine, `"schema": null`),
		"{}":     []byte(`{}`),
	} {
		_, err := results.Decode(bytes.NewReader(data))
		var se *results.SchemaError
		if !errors.As(err, &se) || se.Got != "" {
			t.Errorf("%s: got %v, want a *SchemaError with Got \"\"", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "no \"schema\"") || !strings.Contains(msg, results.Schema) {
			t.Errorf("%s: message %q should say the field is missing and name %q", name, msg, results.Schema)
		}
	}
}

func TestDecodeRefusesUnknownFields(t *testing.T) {
	for _, file := range []struct {
		path    string
		objects map[string][]any // name → path of the object in the document
	}{
		{goldenResults, map[string][]any{
			"top level":                       {},
			"config.model":                    {"config", "model"},
			"models.pruned[1]":                {"models", "pruned", 1},
			"models.pruned[0].mia_confidence": {"models", "pruned", 0, "mia_confidence"},
			"fisher.tensors[3].stats":         {"fisher", "tensors", 3, "stats"},
			"fisher.other":                    {"fisher", "other"},
			"timings":                         {"timings"},
			"study":                           {"study"},
			"study.forget_sets[2]":            {"study", "forget_sets", 2},
			"study.rmia":                      {"study", "rmia"},
			"study.methods[1].id":             {"study", "methods", 1, "id"},
			"study.methods[1].attacks[0]":     {"study", "methods", 1, "attacks", 0},
			"study.methods[0].change":         {"study", "methods", 0, "change"},
			"study.methods[3].shadow":         {"study", "methods", 3, "shadow"},
			"study.methods[2].seconds":        {"study", "methods", 2, "seconds"},
			"study.verdicts":                  {"study", "verdicts"},
			"study.verdicts.comparisons[4]":   {"study", "verdicts", "comparisons", 4},
			"study.verdicts.findings[1]":      {"study", "verdicts", "findings", 1},
		}},
		{goldenV2Results, map[string][]any{
			"study.methods[0].ulira":   {"study", "methods", 0, "ulira"},
			"study.methods[0].epsilon": {"study", "methods", 0, "epsilon"},
		}},
	} {
		var doc map[string]any
		if err := json.Unmarshal(readFile(t, file.path), &doc); err != nil {
			t.Fatal(err)
		}
		at := func(path ...any) map[string]any {
			var v any = doc
			for _, k := range path {
				switch k := k.(type) {
				case string:
					v = v.(map[string]any)[k]
				case int:
					v = v.([]any)[k]
				}
			}
			return v.(map[string]any)
		}
		for _, name := range slices.Sorted(maps.Keys(file.objects)) {
			object := at(file.objects[name]...)
			object["unexpected_field"] = 1.5
			data, err := json.Marshal(doc)
			delete(object, "unexpected_field")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := results.Decode(bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), `unknown field "unexpected_field"`) {
				t.Errorf("%s, %s: got %v, want an unknown-field error", file.path, name, err)
			}
		}
		// The document is back to the golden one and decodes.
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := results.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s after the edits: %v", file.path, err)
		}
	}
}

func TestDecodeRefusesMalformed(t *testing.T) {
	golden := readFile(t, goldenResults)
	for name, data := range map[string][]byte{
		"empty":          nil,
		"truncated":      golden[:len(golden)/2],
		"trailing data":  append(slices.Clone(golden), `{`+schemaLine+`}`...),
		"array":          []byte(`[]`),
		"schema number":  goldenWith(t, schemaLine, `"schema": 1`),
		"wrong type":     goldenWith(t, `"seed": 7`, `"seed": "7"`),
		"negative uint":  goldenWith(t, `"seed": 7`, `"seed": -7`),
		"fraction array": goldenWith(t, `"fraction": 0.25,`, `"fraction": [0.25],`),
	} {
		if r, err := results.Decode(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: decoded %v without error", name, r != nil)
		}
	}
}

// spaces is an endless reader of blanks (JSON whitespace).
type spaces struct{ read int64 }

func (s *spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	s.read += int64(len(p))
	return len(p), nil
}

func TestDecodeSizeLimit(t *testing.T) {
	golden := readFile(t, goldenResults)
	pad := results.MaxBytes - len(golden)

	// Exactly MaxBytes: valid JSON followed by blanks, accepted.
	if _, err := results.Decode(io.MultiReader(bytes.NewReader(golden), io.LimitReader(&spaces{}, int64(pad)))); err != nil {
		t.Errorf("file of exactly MaxBytes: %v", err)
	}
	// One byte more: refused, whatever the content.
	_, err := results.Decode(io.MultiReader(bytes.NewReader(golden), io.LimitReader(&spaces{}, int64(pad+1))))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("file of MaxBytes+1: got %v, want a size error", err)
	}
	// An endless input is refused after reading little more than MaxBytes.
	endless := &spaces{}
	if _, err := results.Decode(endless); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("endless input: got %v, want a size error", err)
	}
	if endless.read > 2*results.MaxBytes {
		t.Errorf("read %d bytes of an endless input, limit %d", endless.read, results.MaxBytes)
	}
	// Read applies the same limit to a file.
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, append(slices.Clone(golden), bytes.Repeat([]byte(" "), pad+1)...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := results.Read(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Read of a file of MaxBytes+1: got %v", err)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := results.Read(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
	// A schema error keeps its type through Read's wrapping and names the file.
	path := filepath.Join(dir, "v9.json")
	if err := os.WriteFile(path, goldenWith(t, schemaLine, `"schema": "fimprune/results/v9"`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := results.Read(path)
	var se *results.SchemaError
	if !errors.As(err, &se) || se.Got != "fimprune/results/v9" || !strings.Contains(err.Error(), path) {
		t.Errorf("Read of a v9 file: got %v, want a *SchemaError naming %s", err, path)
	}
}

func TestWriteRead(t *testing.T) {
	want := readResults(t, goldenResults)
	path := filepath.Join(t.TempDir(), "results.json")
	if err := results.Write(path, want); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); !bytes.Equal(got, readFile(t, goldenResults)) {
		t.Errorf("Write output differs from the golden file at %s", testsupport.FirstDiff(string(got), string(readFile(t, goldenResults))))
	}
	got := readResults(t, path)
	if !reflect.DeepEqual(got, want) {
		t.Error("Read(Write(r)) != r")
	}
}

func TestWriteRefusesNaN(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.json")
	old := []byte("previous results\n")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		r := readResults(t, goldenResults)
		r.Models.Pruned[1].MIA.AUC = v
		if err := results.Write(path, r); err == nil {
			t.Errorf("Write with an AUC of %v succeeded", v)
		}
		if _, err := results.Marshal(r); err == nil {
			t.Errorf("Marshal with an AUC of %v succeeded", v)
		}
	}
	if got := readFile(t, path); !bytes.Equal(got, old) {
		t.Errorf("failed Write changed the file to %q", got)
	}
	assertEntries(t, dir, "results.json")
}

// assertEntries checks that dir holds exactly the named entries (no
// temporary files left behind).
func assertEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return // no Unix permission bits
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode(); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.json")

	first := []byte("first\n")
	if err := results.WriteFileAtomic(path, first); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); !bytes.Equal(got, first) {
		t.Errorf("wrote %q, want %q", got, first)
	}
	assertMode(t, path, 0o644)
	assertEntries(t, dir, "results.json")

	// Replacing: new contents, and mode 0644 even over a 0600 file.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	second := bytes.Repeat([]byte("second, longer\n"), 1000)
	if err := results.WriteFileAtomic(path, second); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); !bytes.Equal(got, second) {
		t.Errorf("replacement holds %d bytes, want %d", len(got), len(second))
	}
	assertMode(t, path, 0o644)

	// Empty data gives an empty file.
	if err := results.WriteFileAtomic(path, nil); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); len(got) != 0 {
		t.Errorf("empty write left %d bytes", len(got))
	}
	assertEntries(t, dir, "results.json")
}

func TestWriteFileAtomicFailures(t *testing.T) {
	dir := t.TempDir()

	// Into a directory that does not exist: an error, and nothing created.
	missing := filepath.Join(dir, "missing", "results.json")
	err := results.WriteFileAtomic(missing, []byte("x"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("write into a missing directory: got %v, want fs.ErrNotExist", err)
	}
	assertEntries(t, dir)

	// Over a directory: the rename fails, and the temporary file is removed.
	target := filepath.Join(dir, "results.json")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteFileAtomic(target, []byte("x")); err == nil {
		t.Error("write over a directory succeeded")
	}
	assertEntries(t, dir, "results.json")
	if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
		t.Errorf("target directory changed: %v, %v", fi, err)
	}
}

// TestDecodeV1 checks that schema v1 files stay readable: the real run and
// the v1 golden file decode with Schema = SchemaV1 and no study, and write
// back unchanged (TestRoundTrip); a v1 file that carries a study is refused,
// and the same study under schema v2 is accepted.
func TestDecodeV1(t *testing.T) {
	for _, path := range []string{realResults, goldenV1Results} {
		r := readResults(t, path)
		if r.Schema != results.SchemaV1 || r.Study != nil {
			t.Errorf("%s: schema %q, study %v; want %q and none", path, r.Schema, r.Study != nil, results.SchemaV1)
		}
	}
	v2 := readResults(t, goldenV2Results)
	v1 := readResults(t, goldenV1Results)
	v1.Study = v2.Study
	data, err := results.Marshal(v1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = results.Decode(bytes.NewReader(data))
	var fe *results.FieldError
	if !errors.As(err, &fe) || fe.Path != "study" || !strings.Contains(err.Error(), results.SchemaV1) {
		t.Errorf("v1 file with a study: got %v, want a *FieldError for study naming %q", err, results.SchemaV1)
	}
	v1.Schema = results.SchemaV2
	data, err = results.Marshal(v1)
	if err != nil {
		t.Fatal(err)
	}
	back, err := results.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the same file as v2: %v", err)
	}
	if !reflect.DeepEqual(back, v2) {
		t.Error("v1 golden + study under schema v2 differs from the v2 golden file")
	}
}
