package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/internal/testsupport"
	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
)

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-only", "protocol,nosuch"}, `unknown benchmark "nosuch"`},
		{[]string{"-torch-threads", "-1"}, "must not be negative"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-reference=false", "-install"}, "-install is for the reference, which -reference=false turns off"},
		{[]string{"-reference=false", "-python", "python3"}, "-python is for the reference"},
		{[]string{"-openblas=false", "-openblas-dir", "/usr/lib"}, "-openblas-dir is for the OpenBLAS run, which -openblas=false turns off"},
		{[]string{"-reference=false", "-probe"}, "-probe is for the reference"},
		{[]string{"-probe=false", "-probe-threads", "1"}, "-probe-threads is for the probe, which -probe=false turns off"},
		{[]string{"-probe-threads", "1,0"}, `-probe-threads: "0" is not a positive thread count`},
		{[]string{"-probe-threads", ""}, `-probe-threads: "" is not a positive thread count`},
	} {
		err := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, c.args)
		var usage cli.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a usage error containing %q", c.args, err, c.want)
		}
	}
}

func TestSelectBenchmarksKeepsHarnessOrder(t *testing.T) {
	got, err := selectBenchmarks(" epoch , protocol")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "protocol" || got[1].Name != "epoch" {
		t.Errorf("got %v, want protocol then epoch", got)
	}
	if all, _ := selectBenchmarks(""); len(all) != len(benchmarks) {
		t.Errorf("empty -only selected %d benchmarks, want all %d", len(all), len(benchmarks))
	}
	names := map[string]bool{}
	for _, b := range benchmarks {
		if names[b.Name] || b.Name == "" || strings.Contains(b.Name, ",") {
			t.Errorf("benchmark name %q is empty, repeated or holds a comma", b.Name)
		}
		names[b.Name] = true
	}
}

// TestFisherOnRealData runs the cheapest benchmark on the real data, Go side
// only: export, timing and table.
func TestFisherOnRealData(t *testing.T) {
	dir := adulttest.Dir(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), &stdout, &stderr, []string{"-data", dir, "-out", out, "-only", "fisher-all", "-reference=false", "-markdown"}); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"Fisher, all 28941 train rows", "peak RSS of the process", "PyTorch: not run (-reference=false)", "| --- |"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	r, err := ReadRefData(filepath.Join(out, "refdata"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Train.Rows() != 28941 || r.Val.Rows() != 7236 || r.Test.Rows() != 9045 || len(r.Meta.DeletionRows) != 100 ||
		len(r.Meta.ShadowRows) != 28941/2 || len(r.Params) != 6 {
		t.Errorf("export: train %d, val %d, test %d, deletion %d, shadow %d, %d parameter tensors",
			r.Train.Rows(), r.Val.Rows(), r.Test.Rows(), len(r.Meta.DeletionRows), len(r.Meta.ShadowRows), len(r.Params))
	}
	if _, err := os.Stat(filepath.Join(out, "table.md")); err != nil {
		t.Error(err)
	}
}

// TestReferenceScript runs bench/reference.py on a tiny export with one-epoch
// recipes, where Debian's python3 with torch is installed (skipped otherwise).
func TestReferenceScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python")
	}
	if err := exec.Command(DefaultPython, "-c", "import torch, numpy").Run(); err != nil {
		t.Skipf("%s cannot import torch: %v", DefaultPython, err)
	}
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tinyExport().Write(dir); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	ref, err := runReference(context.Background(), referenceRun{python: DefaultPython, script: script, dataDir: dir, outDir: dir,
		sections: []string{"ensemble", "epoch", "fisher-all", "probe", "protocol", "shadow", "not-a-python-section"},
		config:   torchConfig{Threads: 1, Loader: loaderIndex}}, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, key := range []string{"seconds/train_full", "seconds/prune_finetune/0.5", "seconds/total_protocol", "epochs/full",
		"test_accuracy/pruned_0.5", "seconds/fisher_all_closed_form", "seconds/fisher_all_loop_extrapolated",
		"seconds/shadow_one", "seconds/epoch_index", "cpu_seconds/total_protocol", "cpu_seconds/epoch_dataloader", "peak_rss_mb", "threads",
		"seconds/ensemble_per_model_epoch", "cpu_seconds/ensemble_per_model_epoch", "ensemble/epochs", "test_accuracy/ensemble_mean",
		"seconds/probe_epoch", "cpu_seconds/probe_epoch", "probe/epochs"} {
		if _, ok := ref.Values[key]; !ok {
			t.Errorf("reference output lacks %s", key)
		}
	}
	// --threads, --loader and --ensemble-models reached it; the ensemble's
	// per-model-epoch time is its wall time over models × epochs.
	if loader, _ := ref.String("loader"); ref.Values["threads"] != 1 || loader != loaderIndex || ref.Values["ensemble/models"] != shadowModels {
		t.Errorf("threads %v, loader %q, ensemble models %v; want 1, index, %d", ref.Values["threads"], loader, ref.Values["ensemble/models"], shadowModels)
	}
	if got, want := ref.Values["seconds/ensemble_per_model_epoch"], ref.Values["seconds/ensemble"]/(shadowModels*ref.Values["ensemble/epochs"]); !sameFloat(got, want) {
		t.Errorf("ensemble per model-epoch %v, want %v", got, want)
	}
	if _, ok := ref.Raw["openblas"]; !ok {
		t.Error("reference output lacks openblas (null without OpenBLAS)")
	}
	if _, ok := ref.Raw["openblas_env"].(map[string]any); !ok {
		t.Error("reference output lacks openblas_env")
	}
	// The per-row loop and the closed form agree; the closed form's file is in fimprune's layout.
	if d := ref.Values["fisher_loop_vs_closed_form_max_rel_diff"]; !(d < 1e-4) {
		t.Errorf("loop vs closed form: max relative difference %g", d)
	}
	path, ok := ref.String("fisher_all_file")
	if !ok {
		t.Fatal("no fisher_all_file")
	}
	if _, err := readFloats(path, 5*4+4+4*2+2); err != nil {
		t.Error(err)
	}
}

// tinyExport is a 40-row, 5-feature problem with the seed's recipes cut to
// an epoch or two.
func tinyExport() *RefData {
	rng := rand.New(rand.NewPCG(7, 8))
	data := func(rows int) train.Data {
		d := train.Data{X: make([]float32, rows*5), Y: make([]int32, rows), Features: 5}
		for i := range d.X {
			d.X[i] = float32(rng.NormFloat64())
		}
		for i := range d.Y {
			d.Y[i] = int32(rng.IntN(2))
		}
		return d
	}
	arch := mlp.Arch{Inputs: 5, Hidden: []int{4}, Classes: 2, Dropout: 0.2}
	return &RefData{
		Meta: RefMeta{
			DeletionRows: []int{0, 1, 2, 3}, NonMemberRows: []int{0, 1, 2, 3}, ShadowRows: []int{0, 2, 4, 6, 8},
			Fractions: []float64{0.5}, Seed: 1,
			Model:    RefModel{Inputs: arch.Inputs, Hidden: arch.Hidden, Classes: arch.Classes, Dropout: arch.Dropout},
			Train:    RefTrain{LearningRate: 1e-3, BatchSize: 8, MaxEpochs: 2, Patience: 1, AdamEpsilon: 1e-8},
			FineTune: RefTrain{LearningRate: 1e-4, BatchSize: 8, MaxEpochs: 1, AdamEpsilon: 1e-8},
		},
		Train: data(40), Val: data(10), Test: data(10),
		Params: arch.Init(2),
	}
}

// TestHelpPlaceholders: in -h every flag but the booleans shows a placeholder
// for its value (a backquoted word in its usage, as flag.UnquoteUsage reads it).
func TestHelpPlaceholders(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), &bytes.Buffer{}, &stderr, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	bools := []string{"install", "markdown", "openblas", "probe", "quiet", "reference"}
	missing, listed := testsupport.MissingPlaceholders(stderr.String(), bools...)
	for _, name := range missing {
		t.Errorf("-%s has no placeholder in -h", name)
	}
	if !listed {
		t.Errorf("-h lists no flags:\n%s", stderr.String())
	}
}
