package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/report"
	"github.com/fimprune/fimprune/scripts/internal/cli"
)

func hashOf(label string) string {
	sum := sha256.Sum256([]byte(label))
	return hex.EncodeToString(sum[:])
}

// deletionRecord is a valid record of n deleted rows (FIM pruning, verified
// with a pass). Its stored statistics follow from its numbers as
// deletion.Record.Validate checks them; the p-values and upper bounds,
// which Validate does not recompute, are plausible values for K = 4.
func deletionRecord(n int) *deletion.Record {
	rows := make([]deletion.Row, n)
	ids := make([]string, n)
	for i := range rows {
		ids[i] = fmt.Sprintf("adult.data:%d", 3+5*i)
		rows[i] = deletion.Row{ID: ids[i], SHA256: hashOf(ids[i])}
	}
	null := []float64{0.49, 0.51, 0.50, 0.50}
	mean, ss := 0.0, 0.0
	for _, a := range null {
		mean += a
	}
	mean /= float64(len(null))
	for _, a := range null {
		ss += (a - mean) * (a - mean)
	}
	sd := math.Sqrt(ss / float64(len(null)-1))
	scale := sd * math.Sqrt(1+1/float64(len(null)))
	v := &deletion.Verification{
		Test: deletion.TestName, References: len(null), Seeds: []uint64{1, 2, 3, 4},
		ReferenceKey: hashOf("refs"), ControlRows: 1000,
		Alpha: 0.05, Power: 0.8, Margin: 0.5,
		NullAUCs: null, NullMean: mean, NullSD: sd,
		Input:  deletion.Score{AUC: 0.6, T: (0.6 - mean) / scale, P: 0.0004, Upper: 0.62},
		Output: deletion.Score{AUC: 0.501, T: (0.501 - mean) / scale, P: 0.46, Upper: 0.52},
		MDE:    0.03, PassBound: mean + 0.5*(0.6-mean),
		Reason:           "the output's upper bound is below the pass bound",
		ReferenceSeconds: 12, TestSeconds: 0.1,
	}
	v.Verdict = v.Want()
	return &deletion.Record{
		Schema:  deletion.Schema,
		Created: "2026-03-04T05:06:07Z",
		Request: deletion.Request{Source: "file rows.txt", Count: n, IDsSHA256: modelcard.RowIDsHash(ids), Rows: rows},
		Input:   deletion.Checkpoint{Dir: "../base", ParamsSHA256: hashOf("in"), CardSHA256: hashOf("card in"), TrainedRows: 1000, TestAccuracy: 0.85},
		Output:  deletion.Checkpoint{Dir: ".", ParamsSHA256: hashOf("out"), CardSHA256: hashOf("card out"), TrainedRows: 1000 - n, TestAccuracy: 0.849},
		Data:    map[string]string{"adult.data": hashOf("data"), "adult.test": hashOf("test")},
		Method: deletion.Method{
			ID:       results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeFast},
			Default:  true,
			Training: &results.TrainConfig{Optimizer: "adam", LearningRate: 1e-4, AdamEpsilon: 1e-7, BatchSize: 64, MaxEpochs: 2},
			Seed:     1, ParamsChanged: 10, RelativeChange: 0.01, Seconds: 1,
		},
		Verification: v,
		Difference:   deletion.Difference{AUC: 0.95, ExactAUC: 0.9, Deleted: n, Retained: 500, MeanChangeDeleted: 0.5, MeanChangeRetained: 0.01},
		Seconds:      deletion.Timings{Load: 0.1, Method: 1, References: 12, Verification: 0.1, Total: 13.3},
		Build:        modelcard.Build{GoVersion: "go1.26.8", GOOS: "linux", GOARCH: "amd64"},
	}
}

// writeDeletionDir writes rec as dir/deletion.json and a one-line ledger
// standing for it, and returns the ledger line.
func writeDeletionDir(t *testing.T, dir string, rec *deletion.Record) []byte {
	t.Helper()
	data, err := deletion.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, deletion.File), data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	line, err := deletion.MarshalEntry(deletion.NewEntry(rec, hex.EncodeToString(sum[:]), filepath.Base(dir), nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, deletion.LedgerFile), append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return line
}

// TestRunDeletion: -deletion DIR renders DIR's record and ledger into DIR,
// the same bytes report.RenderDeletion gives, again on a second run; -out
// and -title apply.
func TestRunDeletion(t *testing.T) {
	dir := t.TempDir()
	rec := deletionRecord(3)
	writeDeletionDir(t, dir, rec)
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, []string{"-deletion", dir}); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	want := "wrote " + filepath.Join(dir, report.DeletionMarkdownFile) + "\nwrote " + filepath.Join(dir, report.DeletionHTMLFile) + "\n"
	if stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("stdout %q, want %q; stderr %q", stdout.String(), want, stderr.String())
	}
	for _, name := range []string{report.MarkdownFile, report.HTMLFile, report.SummaryFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("-deletion wrote %s (stat: %v)", name, err)
		}
	}
	lines, err := deletion.ReadLedgerLines(filepath.Join(dir, deletion.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := deletion.CheckChain(lines)
	if err != nil {
		t.Fatal(err)
	}
	recHash, err := deletion.FileHash(filepath.Join(dir, deletion.File))
	if err != nil {
		t.Fatal(err)
	}
	files, err := report.RenderDeletion(rec, entries, report.DeletionOptions{RecordSHA256: recHash})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files.List() {
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s is not report.RenderDeletion's (%v)", f.Name, err)
		}
	}
	if !bytes.Contains(files.Markdown, []byte("Line 1 stands for this record")) {
		t.Error("the page does not name the ledger line of the record")
	}
	// A second run gives the same bytes.
	if err := run(&bytes.Buffer{}, &stderr, []string{"-deletion", dir}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files.List() {
		if got, _ := os.ReadFile(filepath.Join(dir, f.Name)); !bytes.Equal(got, f.Data) {
			t.Errorf("%s changed between two runs", f.Name)
		}
	}
	// -out and -title.
	out := filepath.Join(t.TempDir(), "pages")
	if err := run(&bytes.Buffer{}, &stderr, []string{"-deletion", dir, "-out", out, "-title", "Request 7"}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, report.DeletionMarkdownFile))
	if err != nil || !bytes.HasPrefix(md, []byte("# Request 7\n")) {
		t.Errorf("-out/-title: %v, deletion.md starts %q", err, md[:min(len(md), 40)])
	}
}

// TestRunDeletionWithoutLedger: a directory without ledger.jsonl renders,
// saying there is no ledger.
func TestRunDeletionWithoutLedger(t *testing.T) {
	dir := t.TempDir()
	writeDeletionDir(t, dir, deletionRecord(1))
	os.Remove(filepath.Join(dir, deletion.LedgerFile))
	if err := run(&bytes.Buffer{}, &bytes.Buffer{}, []string{"-deletion", dir}); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, report.DeletionMarkdownFile))
	if !bytes.Contains(md, []byte("No ledger was given")) {
		t.Error("the page does not say there is no ledger")
	}
}

func TestRunDeletionErrors(t *testing.T) {
	good := t.TempDir()
	writeDeletionDir(t, good, deletionRecord(2))

	broken := t.TempDir()
	line := writeDeletionDir(t, broken, deletionRecord(2))
	os.WriteFile(filepath.Join(broken, deletion.LedgerFile), bytes.Replace(append(line, '\n'), []byte(`"seq":1`), []byte(`"seq":2`), 1), 0o644)

	v9 := t.TempDir()
	writeDeletionDir(t, v9, deletionRecord(2))
	data, _ := os.ReadFile(filepath.Join(v9, deletion.File))
	os.WriteFile(filepath.Join(v9, deletion.File), bytes.Replace(data, []byte(deletion.Schema), []byte("fimprune/deletion/v9"), 1), 0o644)

	for _, tc := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"-deletion", good, "-in", small}, true, "give one of them"},
		{[]string{"-in", small, "-deletion", good}, true, "give one of them"},
		{[]string{"-deletion", good, "-pdf"}, true, "cannot be used with -deletion"},
		{[]string{"-deletion", ""}, true, "-deletion must name"},
		{[]string{"-deletion", filepath.Join(good, "missing")}, false, "no such file"},
		{[]string{"-deletion", broken}, false, "ledger line 1: seq 2, want 1"},
		{[]string{"-deletion", v9}, false, `unsupported schema "fimprune/deletion/v9"`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(&stdout, &stderr, tc.args)
		var u cli.UsageError
		if err == nil || errors.As(err, &u) != tc.usage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v (usage error: %v), want an error containing %q (usage error: %v)", tc.args, err, errors.As(err, &u), tc.want, tc.usage)
		}
	}
	if _, err := os.Stat(filepath.Join(broken, report.DeletionHTMLFile)); !os.IsNotExist(err) {
		t.Errorf("a broken ledger still got a page (stat: %v)", err)
	}
}
