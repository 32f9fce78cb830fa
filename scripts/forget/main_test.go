package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/internal/testsupport"
	"github.com/fimprune/fimprune/report"
	"github.com/fimprune/fimprune/scripts/internal/cli"
)

// TestForgetRealAdult is the end-to-end test on the real Adult files: a
// trained model (3 epochs, to keep it short) forgets 50 rows with the
// default method and the default verification, -check passes; a second
// request forgets 50 more from the first's output: the chain has two
// records, both checkable, and the second's input is the first's output.
func TestForgetRealAdult(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models on the real data")
	}
	dataDir := adulttest.Dir(t)
	set, err := adult.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cfg := experiment.Default()
	cfg.OutDir = filepath.Join(work, "run")
	cfg.Fractions = []float64{0.2}
	cfg.Train.MaxEpochs, cfg.FineTune.MaxEpochs = 3, 1
	d, err := experiment.Prepare(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := experiment.RunWithData(context.Background(), cfg, d); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(cfg.OutDir, experiment.CheckpointsDir, "full")
	cache := filepath.Join(work, "cache")
	forgetRun := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), &stdout, &stderr, append(args, "-data", dataDir, "-cache", cache)); err != nil {
			t.Fatalf("forget %q: %v\n%s", args, err, stderr.String())
		}
		return stdout.String()
	}
	check := func(dir string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), &stdout, &stderr, []string{"-check", dir, "-data", dataDir}); err != nil {
			t.Fatalf("-check %s: %v\n%s%s", dir, err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	first := filepath.Join(work, "forget-1")
	out := forgetRun("-model", model, "-deletion", "random:50", "-out", first)
	t.Log(out)
	if !strings.Contains(out, "deleted 50 rows with "+DefaultMethod) || !strings.Contains(out, "verification (8 reference models)") {
		t.Errorf("first request printed:\n%s", out)
	}
	for _, f := range []string{modelcard.File, deletion.File, deletion.LedgerFile, report.DeletionMarkdownFile, report.DeletionHTMLFile} {
		if _, err := os.Stat(filepath.Join(first, f)); err != nil {
			t.Errorf("first output: %v", err)
		}
	}
	rec1, err := deletion.Read(filepath.Join(first, deletion.File))
	if err != nil {
		t.Fatal(err)
	}
	if rec1.Verification == nil || rec1.Verification.References != 8 || !rec1.Method.Default || rec1.Request.Count != 50 {
		t.Errorf("first record: verification %v, default method %v, %d rows", rec1.Verification != nil, rec1.Method.Default, rec1.Request.Count)
	}
	if c := check(first); !strings.Contains(c, "the chain of 1 records") {
		t.Errorf("-check of the first output:\n%s", c)
	}

	// The second request names its rows in a file: 50 of the first
	// output's trained rows.
	card, err := modelcard.Read(filepath.Join(first, modelcard.File))
	if err != nil {
		t.Fatal(err)
	}
	trained, err := card.TrainedRows.Spec.Rows(set)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := set.RowIDs(trained[1000:1050])
	if err != nil {
		t.Fatal(err)
	}
	rowsFile := filepath.Join(work, "request-2.txt")
	if err := os.WriteFile(rowsFile, []byte("# second request\n"+strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(work, "forget-2")
	t.Log(forgetRun("-model", first, "-rows", rowsFile, "-out", second))
	c := check(second)
	if !strings.Contains(c, "the chain of 2 records") || strings.Contains(c, "missing") {
		t.Errorf("-check of the second output:\n%s", c)
	}
	lines, err := deletion.ReadLedgerLines(filepath.Join(second, deletion.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := deletion.CheckChain(lines)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].Input != entries[0].Output || entries[0].Output != rec1.Output.ParamsSHA256 {
		t.Errorf("ledger: %d entries, second input %s, first output %s", len(entries), entries[min(1, len(entries)-1)].Input, rec1.Output.ParamsSHA256)
	}
	first1, err := os.ReadFile(filepath.Join(first, deletion.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	second2, err := os.ReadFile(filepath.Join(second, deletion.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(second2, first1) {
		t.Error("the second ledger does not extend the first")
	}

	// The same request again is refused: its rows are already deleted.
	var stderr bytes.Buffer
	err = run(context.Background(), &bytes.Buffer{}, &stderr, []string{"-model", second, "-rows", rowsFile, "-out", filepath.Join(work, "again"), "-data", dataDir, "-cache", cache})
	if err == nil || !strings.Contains(err.Error(), "50 already deleted") {
		t.Errorf("repeated request: %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(work, "again")); !os.IsNotExist(statErr) {
		t.Error("a refused request wrote its output directory")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-out", "x", "-deletion", "random:5"},
		{"-model", "m", "-deletion", "random:5"},
		{"-model", "m", "-out", "x"},
		{"-model", "m", "-out", "x", "-deletion", "random:5", "-rows", "f"},
		{"-model", "m", "-out", "x", "-deletion", "random:5", "-verify", "2"},
		{"-model", "m", "-out", "x", "-deletion", "random:5", "-fallback", "magic"},
		{"-model", "m", "-out", "x", "-deletion", "random:5", "-fallback", "retrain", "-verify", "0"},
		{"-model", "m", "-out", "x", "-deletion", "random:5", "-method", "nothing"},
		{"-model", "m", "-out", "x", "-rows", "f", "-deletion-seed", "3"},
		{"-check", "d", "-model", "m"},
	} {
		err := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, args)
		var ue cli.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

func TestHelpPlaceholders(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), &bytes.Buffer{}, &stderr, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	missing, listed := testsupport.MissingPlaceholders(stderr.String())
	for _, name := range missing {
		t.Errorf("-%s has no placeholder in -h", name)
	}
	if !listed {
		t.Errorf("-h lists no flags:\n%s", stderr.String())
	}
}
