package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/internal/modroot"
	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/results"
)

// notebookPath is the notebook the tests check.
func notebookPath(t *testing.T) string {
	t.Helper()
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "notebooks", "fim_pruning.ipynb")
}

// TestNotebookQuick executes notebooks/fim_pruning.ipynb headless with the
// quick settings on the real Adult data, as CI does, and checks what its
// cells show. It needs Jupyter and the GoNB kernel (scripts/setup-notebooks.sh):
// without them it skips, except under CI ($CI set), where that is a failure.
func TestNotebookQuick(t *testing.T) {
	nb := notebookPath(t)
	env, err := kernelEnv(options{quick: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTools(env); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("skipping the headless notebook run (CI unset): %v", err)
		}
		t.Fatalf("CI is set, so the notebook tools must be installed: %v", err)
	}
	t.Setenv("FIMPRUNE_DATA", adulttest.Dir(t))

	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err = run(&stdout, &stderr, []string{"-quick", "-out", out, "-rundir", filepath.Join(out, "run"), nb})
	t.Logf("stdout:\n%s", stdout.String())
	if stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Fatalf("headless run failed: %v (the executed notebook is kept only for the test's lifetime; run go run ./scripts/notebooks -quick to inspect)", err)
	}
	if fi, err := os.Stat(filepath.Join(out, "fim_pruning.html")); err != nil || fi.Size() == 0 {
		t.Errorf("no HTML export: %v", err)
	}
	book, err := ReadNotebook(filepath.Join(out, "fim_pruning.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	checkOutputs(t, book, 0.80, 2, 3)
	if paths := book.AbsolutePaths(machinePaths(filepath.Dir(filepath.Dir(nb)), options{runDir: filepath.Join(out, "run")})); len(paths) > 0 {
		t.Errorf("outputs show paths of this machine: %q", paths)
	}
	// The quick run wrote its results, with the study's quick settings,
	// into the run directory given.
	res, err := results.Read(filepath.Join(out, "run", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Study; st == nil || len(st.Seeds) != 2 || st.Shadows != 8 || st.Fraction != 0.2 {
		t.Errorf("results.json: study %+v, want 2 seeds, 8 shadows, fraction 0.2", st)
	}
}

// checkOutputs checks what the executed notebook shows: every code cell ran
// without errors, the full model's test accuracy is at least minAcc, there
// are at least four SVG figures, the pruning cell shows per-tensor counts,
// section 13 ran a study over seeds seeds and shows the report's section 8
// with its verdicts, one of which it recomputes by hand, and section 14
// honoured two deletion requests, each verified with refs reference models,
// and checked their chain.
func checkOutputs(t *testing.T, book *Notebook, minAcc float64, seeds, refs int) {
	t.Helper()
	if errs := book.Errors(); len(errs) > 0 {
		t.Errorf("failing cells:\n%s", strings.Join(errs, "\n"))
	}
	for i, c := range book.Cells {
		if c.Type() == "code" && c.raw["execution_count"] == nil {
			t.Errorf("cell %d (%s) did not run", i, c.Label())
		}
		// A program that exits right after displaying can lose the display
		// (the notebook's show() waits for GoNB with gonbui.Sync).
		if _, main, ok := strings.Cut(c.Source(), "%%\n"); ok && strings.Contains(main, "show(") && c.HTML() == "" {
			t.Errorf("cell %d (%s) displays nothing", i, c.Label())
		}
		if _, main, ok := strings.Cut(c.Source(), "%%\n"); ok && strings.Contains(main, "showMarkdown(") && c.Markdown() == "" {
			t.Errorf("cell %d (%s) displays no Markdown", i, c.Label())
		}
	}

	cell, ok := book.Tagged("train-full")
	if !ok {
		t.Fatal("no cell tagged train-full")
	}
	m := regexp.MustCompile(`test accuracy (0\.\d+)`).FindStringSubmatch(cell.OutputText())
	if m == nil {
		t.Errorf("the train-full cell prints no test accuracy:\n%s", cell.OutputText())
	} else if acc, _ := strconv.ParseFloat(m[1], 64); acc < minAcc {
		t.Errorf("full model test accuracy %v < %v", acc, minAcc)
	}

	svgs := 0
	for _, c := range book.Cells {
		svgs += strings.Count(c.HTML(), "<svg")
	}
	if svgs < 4 {
		t.Errorf("%d SVG figures, want at least 4", svgs)
	}

	cell, ok = book.Tagged("pruning")
	if !ok {
		t.Fatal("no cell tagged pruning")
	}
	h := cell.HTML()
	for _, tensor := range []string{"/dense0/weights", "/dense0/biases", "/dense1/weights", "/dense1/biases", "/dense2/weights", "/dense2/biases"} {
		if !regexp.MustCompile(regexp.QuoteMeta(tensor) + `</td>(<td[^>]*>[\d,]+ / [\d,]+ \([\d.]+ %\)</td>)+`).MatchString(h) {
			t.Errorf("the pruning cell shows no counts for %s", tensor)
		}
	}
	if !strings.Contains(h, "/ 20,802") {
		t.Error("the pruning cell shows no total over the 20,802 parameters")
	}
	checkStudy(t, book, seeds)
	checkForget(t, book, refs)
}

// findingsRE matches the report's findings on FIM pruning (the seed
// recipe's row of the findings table, section 8.5).
var findingsRE = regexp.MustCompile(`FIM 20 ?\s?%</td>\s*<td[^>]*>(higher|lower|not distinguishable)</td>`)

// checkStudy checks section 13: the study cell ran the study over seeds
// seeds and printed every method, the report cell shows section 8 with its
// tables, the Pareto figure and the verdicts, and the hand computation of
// one stored comparison agrees with results.json.
func checkStudy(t *testing.T, book *Notebook, seeds int) {
	t.Helper()
	cell, ok := book.Tagged("study")
	if !ok {
		t.Fatal("no cell tagged study")
	}
	out := cell.OutputText()
	if !regexp.MustCompile(`(?m)^study: (computed in|loaded from)`).MatchString(out) {
		t.Errorf("the study cell does not report the study phase:\n%s", out)
	}
	if m := regexp.MustCompile(`study: (\d+) methods × (\d+) seeds`).FindStringSubmatch(out); m == nil {
		t.Errorf("the study cell prints no summary:\n%s", out)
	} else if n, _ := strconv.Atoi(m[2]); n != seeds {
		t.Errorf("the study ran over %d seeds, want %d", n, seeds)
	}
	for _, name := range []string{"fim-prune-0.2 ", "random-prune-0.2 ", "finetune ", "retrain ", "retrain-2 ", "identity "} {
		if !strings.Contains(out, "\n"+name) {
			t.Errorf("the study cell prints no line for %s", name)
		}
	}

	cell, ok = book.Tagged("study-report")
	if !ok {
		t.Fatal("no cell tagged study-report")
	}
	h := cell.HTML()
	for _, want := range []string{"8.1 Utility and cost", "8.2 Forgetting", "8.3 Per-example attacks", "U-LiRA accuracy", "RMIA", `<figure id="fig-5-pareto">`, "<svg", "8.5 Verdicts", "paired comparisons", "Holm", "What these data cannot decide"} {
		if !strings.Contains(h, want) {
			t.Errorf("the study-report cell shows no %q", want)
		}
	}
	if !findingsRE.MatchString(h) {
		t.Error("the study-report cell shows no finding on FIM pruning")
	}

	cell, ok = book.Tagged("study-paired")
	if !ok {
		t.Fatal("no cell tagged study-paired")
	}
	out = cell.OutputText()
	if !strings.Contains(out, "by hand and in results.json: the same") {
		t.Errorf("the hand computation was not checked against results.json:\n%s", out)
	}
	m := regexp.MustCompile(`verdict by the rule: (\S+); stored outcome: (\S+)`).FindStringSubmatch(out)
	switch {
	case m == nil:
		t.Errorf("the study-paired cell prints no verdict:\n%s", out)
	case m[1] != m[2]:
		t.Errorf("verdict by hand %q, stored %q", m[1], m[2])
	}
}

// checkForget checks section 14: the first request printed its verdict with
// a reason, the power statement for refs reference models and the difference
// attack; the record cell shows the deletion page with the same verdict; the
// second request's cell checked the chain of both records back to the run's
// full model, and its ledger's first line is the first request's model.
func checkForget(t *testing.T, book *Notebook, refs int) {
	t.Helper()
	cell, ok := book.Tagged("forget")
	if !ok {
		t.Fatal("no cell tagged forget")
	}
	out := cell.OutputText()
	verdict := regexp.MustCompile(`(?m)^verdict: (pass|fail|inconclusive)\nreason: \S`).FindStringSubmatch(out)
	if verdict == nil {
		t.Errorf("the forget cell prints no verdict with its reason:\n%s", out)
	}
	if m := regexp.MustCompile(`power: with K = (\d+) reference models the test detects an excess AUC of 0\.\d+`).FindStringSubmatch(out); m == nil {
		t.Errorf("the forget cell prints no power statement:\n%s", out)
	} else if k, _ := strconv.Atoi(m[1]); k != refs {
		t.Errorf("the request was verified with %d reference models, want %d", k, refs)
	}
	if !regexp.MustCompile(`difference attack: AUC [01]\.\d+ for this deletion, [01]\.\d+ for exact retraining`).MatchString(out) {
		t.Errorf("the forget cell prints no difference attack against exact retraining:\n%s", out)
	}
	models := regexp.MustCompile(`deleted 50 rows \(.*\) with ssd-a10-l1: model ([0-9a-f]{12}) → ([0-9a-f]{12})`).FindStringSubmatch(out)
	if models == nil {
		t.Errorf("the forget cell does not say which model it made:\n%s", out)
	}

	cell, ok = book.Tagged("forget-record")
	if !ok {
		t.Fatal("no cell tagged forget-record")
	}
	page := cell.Markdown()
	for _, want := range []string{"# Deletion record", "## What was asked", "## Verification", "## Before/after leakage", "## Ledger", "Line 1 stands for this record"} {
		if !strings.Contains(page, want) {
			t.Errorf("the forget-record cell's page shows no %q", want)
		}
	}
	if verdict != nil && !strings.Contains(page, "**Verdict: "+verdict[1]+".**") {
		t.Errorf("the deletion page does not give the verdict %s the forget cell printed", verdict[1])
	}

	cell, ok = book.Tagged("forget-chain")
	if !ok {
		t.Fatal("no cell tagged forget-chain")
	}
	out = cell.OutputText()
	for _, want := range []string{"checkpoints/full: no ledger, a model trained by a run: the start of the chain",
		"forget-1: its ledger is the next model's without the last line", "card matches the data",
		"the chain of 2 records and every checkpoint found are intact"} {
		if !strings.Contains(out, want) {
			t.Errorf("the forget-chain cell prints no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\nmissing ") {
		t.Errorf("the check did not find every model of the chain:\n%s", out)
	}
	if models != nil && !strings.Contains(out, fmt.Sprintf("ledger line 1: forget-1, 50 rows by ssd-a10-l1, model %s → %s,", models[1], models[2])) {
		t.Errorf("the ledger's first line is not the first request (%s → %s):\n%s", models[1], models[2], out)
	}
	in := `[0-9a-f]{12}` // the second request's input: the first's output
	if models != nil {
		in = models[2]
	}
	if !regexp.MustCompile(`ledger line 2: forget-2, 50 rows by ssd-a10-l1, model ` + in + ` → [0-9a-f]{12}, verdict (pass|fail|inconclusive)`).MatchString(out) {
		t.Errorf("the ledger has no second line for forget-2 starting from forget-1's model:\n%s", out)
	}
}

// TestCommittedNotebook checks the notebook as committed, without running
// it: it carries the outputs of a full (not quick) run with no failing cell
// and no absolute paths, and rewriting it (as -update does) changes nothing.
func TestCommittedNotebook(t *testing.T) {
	path := notebookPath(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	book, err := ParseNotebook(data)
	if err != nil {
		t.Fatal(err)
	}
	checkOutputs(t, book, 0.84, 5, 8)
	for _, c := range book.Cells {
		if strings.Contains(c.OutputText(), "quick settings: too few epochs") {
			t.Errorf("cell %s: the committed outputs come from a quick run; refresh them with go run ./scripts/notebooks -update", c.Label())
		}
		if _, ok := c.raw["metadata"].(map[string]any)["execution"]; ok {
			t.Errorf("cell %s keeps execution timestamps (-update strips them)", c.Label())
		}
	}
	abs := regexp.MustCompile(`(^|[\s"'(=])(/home/|/root/|/tmp/|/Users/|/work/|[A-Z]:\\)`)
	root := filepath.Dir(filepath.Dir(path))
	for i, c := range book.Cells {
		text := c.OutputText()
		if m := abs.FindString(text); m != "" || strings.Contains(text, root) {
			t.Errorf("cell %d (%s) shows an absolute path (%q)", i, c.Label(), m)
		}
	}
	again, err := book.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("rewriting the notebook changes it: it is not in Jupyter's own format (keys sorted, indent 1)")
	}
}

func TestErrors(t *testing.T) {
	book, err := ParseNotebook([]byte(`{"cells": [
 {"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
 {"cell_type": "code", "execution_count": 1, "metadata": {"tags": ["setup"]}, "outputs": [
  {"name": "stderr", "output_type": "stream", "text": ["go: bad module\n", "exit status 1\n"]}], "source": ["!*go mod edit"]},
 {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [
  {"name": "stderr", "output_type": "stream", "text": "error: no data\nexit status 1\n"},
  {"ename": "ERROR", "evalue": "exit status 1", "output_type": "error", "traceback": ["exit status 1"]}], "source": "%%\nfmt.Println(1)"},
 {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [
  {"data": {"text/html": ["<svg></svg>"], "text/plain": ["x"]}, "metadata": {}, "output_type": "display_data"}], "source": ""}
], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	errs := book.Errors()
	if len(errs) != 2 {
		t.Fatalf("Errors() = %q, want 2", errs)
	}
	if !strings.Contains(errs[0], "cell 1 (setup): a shell line failed") || !strings.Contains(errs[0], "go: bad module") {
		t.Errorf("shell failure: %q", errs[0])
	}
	if !strings.Contains(errs[1], "cell 2 (%%): ERROR: exit status 1") || !strings.Contains(errs[1], "error: no data") ||
		strings.Count(errs[1], "exit status 1") != 2 {
		t.Errorf("cell error: %q", errs[1])
	}
	if n := book.CodeCells(); n != 3 {
		t.Errorf("CodeCells() = %d", n)
	}
	if got := book.Cells[3].HTML(); got != "<svg></svg>" {
		t.Errorf("HTML() = %q", got)
	}
	if got := book.AbsolutePaths([]string{"/no/such", "no data"}); len(got) != 1 || got[0] != "no data" {
		t.Errorf("AbsolutePaths = %q", got)
	}
	if _, err := ParseNotebook([]byte(`{"cells": 3}`)); err == nil {
		t.Error("a notebook without a cell list parsed")
	}
}

func TestUsageErrors(t *testing.T) {
	txt := filepath.Join(t.TempDir(), "notes.txt")
	for _, args := range [][]string{
		{"-nosuchflag"},
		{"-timeout", "soon"},
		{"-timeout", "0s"},
		{txt},
		{filepath.Join(t.TempDir(), "missing.ipynb")},
	} {
		var stdout, stderr bytes.Buffer
		err := run(&stdout, &stderr, args)
		var usage cli.UsageError
		if !errors.As(err, &usage) {
			t.Errorf("%q: got %v, want a usage error (exit status 2)", args, err)
		}
	}
}
