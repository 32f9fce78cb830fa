package experiment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// quick is the seed protocol with few epochs, for tests.
func quick(dataDir, outDir string) experiment.Config {
	cfg := experiment.Default()
	cfg.DataDir, cfg.OutDir = dataDir, outDir
	cfg.Fractions = []float64{0.1, 0.3}
	cfg.Train.MaxEpochs, cfg.Train.Patience = 4, 2
	cfg.FineTune.MaxEpochs = 2
	cfg.Bootstrap = 200
	return cfg
}

// TestRunOnAdult runs the whole protocol (with few epochs) on the real UCI
// files and checks the shapes, the accuracy, the outputs on disk, and that a
// second run with the same seed, one model at a time, gives the same results.
func TestRunOnAdult(t *testing.T) {
	dir := adulttest.Dir(t)
	out := t.TempDir()
	res, err := experiment.Run(context.Background(), quick(dir, out))
	if err != nil {
		t.Fatal(err)
	}
	ds := res.Dataset
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"rows", ds.Rows, 45222}, {"features", ds.Features, 96}, {"train", ds.Train, 28941},
		{"val", ds.Val, 7236}, {"test", ds.Test, 9045}, {"deletion", ds.Deletion, 100},
		{"retained", ds.Retained, 28841}, {"params", res.Config.Model.Params, 20802},
		{"pruned models", len(res.Models.Pruned), 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if acc := res.Models.Full.TestAccuracy; acc < 0.84 {
		t.Errorf("full model test accuracy %.4f < 0.84", acc)
	}
	for _, p := range res.Models.Pruned {
		if want := int(p.Fraction*20802 + 0.5); p.PrunedParams != want {
			t.Errorf("fraction %g pruned %d parameters, want %d", p.Fraction, p.PrunedParams, want)
		}
		sum := 0
		for _, l := range p.Layers {
			sum += l.Pruned
		}
		if sum != p.PrunedParams {
			t.Errorf("fraction %g: per-tensor counts sum to %d, not %d", p.Fraction, sum, p.PrunedParams)
		}
		m := p.MIA
		if m.Members != 100 || m.NonMembers != 100 || m.AUCCI95[0] > m.AUC || m.AUC > m.AUCCI95[1] {
			t.Errorf("fraction %g: implausible attack %+v", p.Fraction, m)
		}
	}

	// The files on disk.
	onDisk, err := results.Read(filepath.Join(out, experiment.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(onDisk, res) {
		t.Error("results.json differs from the returned results")
	}
	var summary results.Summary
	data, err := os.ReadFile(filepath.Join(out, experiment.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Values.CombinedScore != res.Best.CombinedScore {
		t.Errorf("summary combined score %v, results say %v", summary.Values.CombinedScore, res.Best.CombinedScore)
	}

	// Pruned checkpoints hold at least the pruned number of exact zeros.
	for _, p := range res.Models.Pruned {
		params, err := experiment.LoadCheckpoint(filepath.Join(out, p.Checkpoint), mlp.Seed)
		if err != nil {
			t.Fatal(err)
		}
		zeros := 0
		for _, tensor := range params {
			for _, v := range tensor.Values {
				if v == 0 {
					zeros++
				}
			}
		}
		if zeros < p.PrunedParams {
			t.Errorf("checkpoint %s has %d zeros, %d parameters were pruned", p.Checkpoint, zeros, p.PrunedParams)
		}
	}

	// The full model's checkpoint reproduces its test accuracy.
	full, err := experiment.LoadCheckpoint(filepath.Join(out, res.Models.Full.Checkpoint), mlp.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if acc := testAccuracy(t, dir, full); acc != res.Models.Full.TestAccuracy {
		t.Errorf("reloaded full model: test accuracy %v, results say %v", acc, res.Models.Full.TestAccuracy)
	}

	// Every checkpoint has a card that the data confirms.
	set, err := adult.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cards := checkCards(t, quick(dir, out), res, set)

	// Same seed, one model at a time: identical apart from times and
	// environment, and the same cards byte for byte.
	cfg := quick(dir, t.TempDir())
	cfg.Parallel = 1
	again, err := experiment.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := withoutTimes(t, res), withoutTimes(t, again); a != b {
		t.Errorf("two runs with seed %d differ:\n%s", cfg.Seed, testsupport.FirstDiff(b, a))
	}
	for name := range cards {
		a, errA := os.ReadFile(filepath.Join(out, experiment.CheckpointsDir, name, modelcard.File))
		b, errB := os.ReadFile(filepath.Join(cfg.OutDir, experiment.CheckpointsDir, name, modelcard.File))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("card of %s differs between the two runs (%v, %v):\n%s", name, errA, errB, testsupport.FirstDiff(string(b), string(a)))
		}
	}
}

// testAccuracy evaluates params on the test split of the default configuration.
func testAccuracy(t *testing.T, dir string, params []mlp.Tensor) float64 {
	t.Helper()
	set, err := adult.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := experiment.Prepare(set, quick(dir, ""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := train.NewEvaluator(b, store, mlp.Seed)
	defer ev.Finalize()
	probs, err := ev.Probabilities(d.Test)
	if err != nil {
		t.Fatal(err)
	}
	return train.Accuracy(probs, d.Test.Y)
}

// withoutTimes renders r as JSON without what varies from run to run
// (results.Results.WithoutTimes).
func withoutTimes(t *testing.T, r *results.Results) string {
	t.Helper()
	data, err := results.Marshal(r.WithoutTimes())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestConfigValidate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		mutate func(*experiment.Config)
		want   string
	}{
		{"fraction 0", func(c *experiment.Config) { c.Fractions = []float64{0} }, "fraction 0 must be in (0, 1)"},
		{"fraction 1", func(c *experiment.Config) { c.Fractions = []float64{0.2, 1} }, "fraction 1 must be in (0, 1)"},
		{"duplicates", func(c *experiment.Config) { c.Fractions = []float64{0.2, 0.2} }, "duplicates"},
		{"no fractions", func(c *experiment.Config) { c.Fractions = nil }, "no pruning fractions"},
		{"deletion", func(c *experiment.Config) { c.Deletion = "last:5" }, "last:5"},
		{"epochs", func(c *experiment.Config) { c.Train.MaxEpochs = 0 }, "epochs 0 must be positive"},
		{"batch", func(c *experiment.Config) { c.FineTune.BatchSize = -1 }, "batch size -1"},
		{"out is a file", func(c *experiment.Config) { c.OutDir = file }, "is a file"},
		{"fisher", func(c *experiment.Config) { c.Fisher = "squared" }, "squared"},
		{"parallel", func(c *experiment.Config) { c.Parallel = 0 }, "parallel 0"},
		{"shadows", func(c *experiment.Config) { c.Study = experiment.StudyConfig{Seeds: 2, Shadows: 6, Fraction: 0.2} }, "shadows 6"},
		{"study fraction", func(c *experiment.Config) { c.Study = experiment.StudyConfig{Seeds: 2, Fraction: 0} }, "study fraction 0"},
	} {
		cfg := experiment.Default()
		c.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if err := experiment.Default().Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
}

// generatedSet writes a small generated dataset in the Adult format (600
// training-file rows, 300 test-file rows) into dir and loads it.
func generatedSet(t *testing.T, dir string) *adult.Dataset {
	t.Helper()
	dataPath, testPath := filepath.Join(dir, "a.data"), filepath.Join(dir, "a.test")
	adulttest.WriteSynthetic(t, dataPath, 600, 1)
	adulttest.WriteSynthetic(t, testPath, 300, 2)
	set, err := adult.LoadFiles(dataPath, testPath, adult.Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestRunWithGeneratedData runs every phase on a small generated dataset in
// the Adult format, so the pipeline is covered without the real files.
func TestRunWithGeneratedData(t *testing.T) {
	dir := t.TempDir()
	set := generatedSet(t, dir)
	cfg := experiment.Default()
	cfg.OutDir = filepath.Join(dir, "run")
	cfg.Arch.Inputs = len(set.Features)
	cfg.Deletion = "random:20"
	cfg.NonMembers = 20
	cfg.Bootstrap = 50
	cfg.Train.MaxEpochs, cfg.FineTune.MaxEpochs = 3, 2
	cfg.Study = experiment.StudyConfig{Seeds: 2, Shadows: 8, ULiRAModels: 3, Fraction: 0.2}
	d, err := experiment.Prepare(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := experiment.RunWithData(context.Background(), cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Models.Pruned) != 4 || res.Best.Fraction == 0 {
		t.Errorf("pruned %d fractions, best %v", len(res.Models.Pruned), res.Best)
	}
	onDisk, err := results.Read(filepath.Join(cfg.OutDir, experiment.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	st := onDisk.Study
	if st == nil || len(st.Seeds) != 2 || st.Shadows != 8 || len(st.Methods) == 0 {
		t.Fatalf("study missing or incomplete: %+v", st)
	}
	for _, m := range st.Methods {
		if m.Shadow == nil || m.RMIAAUC == nil {
			t.Errorf("%s: no shadow attacks", m.Name)
		}
	}
	if st.Verdicts == nil || len(st.ForgetSets) != 2 {
		t.Errorf("study: verdicts %v, %d forget sets; want verdicts and one forget set per seed", st.Verdicts != nil, len(st.ForgetSets))
	}
	checkCards(t, cfg, onDisk, set)
}

// TestCardsRefuseRowsTheSpecDoesNotGive: a card records how its rows were
// formed, and Write checks that this gives the rows the models used. Data
// whose record is wrong (here the deletion seed) makes Write refuse before
// touching the run directory.
func TestCardsRefuseRowsTheSpecDoesNotGive(t *testing.T) {
	dir := t.TempDir()
	dataPath, testPath := filepath.Join(dir, "a.data"), filepath.Join(dir, "a.test")
	adulttest.WriteSynthetic(t, dataPath, 300, 1)
	adulttest.WriteSynthetic(t, testPath, 100, 2)
	set, err := adult.LoadFiles(dataPath, testPath, adult.Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := experiment.Default()
	cfg.OutDir = filepath.Join(dir, "run")
	cfg.Arch.Inputs = len(set.Features)
	cfg.Fractions = []float64{0.2}
	cfg.Deletion, cfg.NonMembers, cfg.Bootstrap = "random:10", 10, 20
	cfg.Train.MaxEpochs, cfg.FineTune.MaxEpochs = 1, 1
	d, err := experiment.Prepare(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.DeletionSeed++
	_, err = experiment.RunWithData(context.Background(), cfg, d)
	var me *modelcard.RowsMismatchError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "refusing to write checkpoints") {
		t.Fatalf("RunWithData = %v, want a refusal with a *modelcard.RowsMismatchError", err)
	}
	for _, name := range []string{experiment.ResultsFile, experiment.CheckpointsDir} {
		if _, err := os.Stat(filepath.Join(cfg.OutDir, name)); !os.IsNotExist(err) {
			t.Errorf("%s written after the refusal (%v)", name, err)
		}
	}
}

// checkCards checks the model card beside every checkpoint of the run in
// cfg.OutDir: it validates; its content hash is the hash of the parameters
// reloaded from the checkpoint; its row sets, scaler and data sums are what
// the data and the specs give (Card.VerifyData); the row counts are the
// results'; and every pruned model names the full model's hash as its parent.
func checkCards(t *testing.T, cfg experiment.Config, res *results.Results, set *adult.Dataset) map[string]*modelcard.Card {
	t.Helper()
	dir := filepath.Join(cfg.OutDir, experiment.CheckpointsDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cards := map[string]*modelcard.Card{}
	for _, e := range entries {
		if !e.IsDir() {
			t.Errorf("%s: not a checkpoint directory", e.Name())
			continue
		}
		c, err := modelcard.Read(filepath.Join(dir, e.Name(), modelcard.File))
		if err != nil {
			t.Errorf("checkpoint %s: %v", e.Name(), err)
			continue
		}
		cards[e.Name()] = c
		if c.Name != e.Name() {
			t.Errorf("checkpoint %s: card names %q", e.Name(), c.Name)
		}
		params, err := experiment.LoadCheckpoint(filepath.Join(dir, e.Name()), cfg.Arch)
		if err != nil {
			t.Fatal(err)
		}
		if got := modelcard.ParamsHash(params); got != c.ParamsSHA256 {
			t.Errorf("checkpoint %s: reloaded parameters hash to %s, the card says %s", e.Name(), got, c.ParamsSHA256)
		}
		for i, p := range params {
			if i >= len(c.Model.Tensors) || c.Model.Tensors[i].Name != p.Name || !slices.Equal(c.Model.Tensors[i].Shape, p.Shape) {
				t.Errorf("checkpoint %s: tensor %d is %s %v, the card lists %v", e.Name(), i, p.Name, p.Shape, c.Model.Tensors)
			}
		}
		if err := c.VerifyData(set); err != nil {
			t.Errorf("checkpoint %s: %v", e.Name(), err)
		}
		if c.Training.Seed != cfg.Seed || c.Data.SplitSeed != cfg.SplitSeed {
			t.Errorf("checkpoint %s: seed %d, split seed %d; want %d, %d", e.Name(), c.Training.Seed, c.Data.SplitSeed, cfg.Seed, cfg.SplitSeed)
		}
	}
	want := []string{"full", "retrain"}
	for _, f := range cfg.Fractions {
		want = append(want, experiment.PrunedName(f))
	}
	if got := slices.Sorted(maps.Keys(cards)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("cards for %v, want one per checkpoint %v", got, want)
	}
	full, retrain := cards["full"], cards["retrain"]
	if full.Parent != nil || full.Method != nil || retrain.Parent != nil || retrain.Method != nil {
		t.Error("a model trained from scratch has a parent or a method")
	}
	if full.TrainedRows.Count != res.Dataset.Train || retrain.TrainedRows.Count != res.Dataset.Retained {
		t.Errorf("trained rows: full %d, retrain %d; results say %d, %d",
			full.TrainedRows.Count, retrain.TrainedRows.Count, res.Dataset.Train, res.Dataset.Retained)
	}
	deleted, err := set.RowIDs(res.Dataset.DeletionRows)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Models.Pruned {
		c := cards[path.Base(p.Checkpoint)]
		switch {
		case c.Parent == nil || *c.Parent != full.ParamsSHA256:
			t.Errorf("%s: parent %v, want the full model's hash %s", c.Name, c.Parent, full.ParamsSHA256)
		case c.Method == nil || c.Method.ID.Family != results.FamilyFIM || c.Method.ID.Fraction != p.Fraction:
			t.Errorf("%s: method %+v, want fim-prune at %g", c.Name, c.Method, p.Fraction)
		case c.Method.Forget.SHA256 != modelcard.RowIDsHash(deleted) || c.Method.Forget.Count != res.Dataset.Deletion:
			t.Errorf("%s: forget rows %+v are not results.json's deletion rows", c.Name, c.Method.Forget)
		case !reflect.DeepEqual(c.TrainedRows, retrain.TrainedRows):
			t.Errorf("%s: trained rows %+v, want the retrained model's %+v", c.Name, c.TrainedRows, retrain.TrainedRows)
		}
	}
	return cards
}

// TestStudySplitSeeds: with StudyConfig.SplitSeeds each seed of the study
// has its own split (split seeds SplitSeed, SplitSeed+1) and its own shadows,
// and the results file records both and validates.
func TestStudySplitSeeds(t *testing.T) {
	dir := t.TempDir()
	set := generatedSet(t, dir)
	cfg := experiment.Default()
	cfg.OutDir = filepath.Join(dir, "run")
	cfg.Arch.Inputs = len(set.Features)
	cfg.Deletion, cfg.NonMembers, cfg.Bootstrap = "random:20", 20, 50
	cfg.Fractions = []float64{0.2}
	cfg.Train.MaxEpochs, cfg.FineTune.MaxEpochs = 2, 1
	cfg.Checkpoints = false
	cfg.Study = experiment.StudyConfig{Seeds: 2, Shadows: 6, ULiRAModels: 3, Fraction: 0.2, SplitSeeds: true}
	d, err := experiment.Prepare(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := experiment.RunWithData(context.Background(), cfg, d); err != nil {
		t.Fatal(err)
	}
	res, err := results.Read(filepath.Join(cfg.OutDir, experiment.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	st := res.Study
	if st == nil || len(st.ForgetSets) != 2 || len(st.RMIASplits) != 2 || st.RMIA != nil {
		t.Fatalf("study %+v: want two forget sets and one RMIA setting per seed", st)
	}
	if a, b := st.ForgetSets[0].SplitSeed, st.ForgetSets[1].SplitSeed; a != cfg.SplitSeed || b != cfg.SplitSeed+1 {
		t.Errorf("split seeds %d, %d; want %d, %d", a, b, cfg.SplitSeed, cfg.SplitSeed+1)
	}
}
