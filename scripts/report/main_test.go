package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
	"github.com/fimprune/fimprune/internal/testsupport"
	"github.com/fimprune/fimprune/report"
	"github.com/fimprune/fimprune/scripts/internal/cli"
)

const small = "../../report/testdata/small.json"

func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	if err := run(&stdout, &stderr, []string{"-in", small, "-out", dir}); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	t.Logf("rendered in %v", time.Since(start).Round(time.Millisecond))
	want := strings.Join([]string{
		"wrote " + filepath.Join(dir, report.MarkdownFile),
		"wrote " + filepath.Join(dir, report.HTMLFile),
		"wrote " + filepath.Join(dir, report.SummaryFile),
	}, "\n") + "\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	first := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		first[e.Name()], _ = os.ReadFile(filepath.Join(dir, e.Name()))
	}
	for _, name := range []string{report.MarkdownFile, report.HTMLFile, report.SummaryFile, "fig-1-overview.svg", "fig-2-tradeoff.svg", "fig-3-fisher.svg"} {
		if len(first[name]) == 0 {
			t.Errorf("%s missing or empty", name)
		}
	}
	// A second run over the same results gives the same bytes.
	if err := run(&stdout, &stderr, []string{"-in", small, "-out", dir}); err != nil {
		t.Fatal(err)
	}
	for name, data := range first {
		again, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(again, data) {
			t.Errorf("%s changed between two runs", name)
		}
	}
}

func TestRunDefaultOut(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "results.json")
	os.WriteFile(in, data, 0o644)
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, []string{"-in", in}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, report.HTMLFile)); err != nil {
		t.Errorf("without -out the report goes beside results.json: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	v9 := filepath.Join(dir, "v9.json")
	data, _ := os.ReadFile(small)
	os.WriteFile(v9, bytes.Replace(data, []byte("fimprune/results/v1"), []byte("fimprune/results/v9"), 1), 0o644)
	for _, tc := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"-bogus"}, true, "flag provided but not defined"},
		{[]string{"-in", small, "extra"}, true, "unexpected arguments"},
		{[]string{"-in", ""}, true, "-in must name"},
		{[]string{"-in", filepath.Join(dir, "missing.json")}, false, "no such file"},
		{[]string{"-in", v9, "-out", dir}, false, `unsupported schema "fimprune/results/v9"`},
	} {
		var stdout, stderr bytes.Buffer
		err := run(&stdout, &stderr, tc.args)
		var u cli.UsageError
		if err == nil || errors.As(err, &u) != tc.usage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v (usage error: %v), want an error containing %q (usage error: %v)", tc.args, err, errors.As(err, &u), tc.want, tc.usage)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "usage: go run ./scripts/report [flags]") {
		t.Errorf("-h printed %q", stderr.String())
	}
}

// TestHelpPlaceholders: in -h every flag but the booleans shows a placeholder
// for its value (a backquoted word in its usage, as flag.UnquoteUsage reads it).
func TestHelpPlaceholders(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(&bytes.Buffer{}, &stderr, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	bools := []string{"pdf"}
	missing, listed := testsupport.MissingPlaceholders(stderr.String(), bools...)
	for _, name := range missing {
		t.Errorf("-%s has no placeholder in -h", name)
	}
	if !listed {
		t.Errorf("-h lists no flags:\n%s", stderr.String())
	}
}

// TestRunRefusesALockedDirectory: while another writer (a run, a notebook)
// holds the output directory, the report is refused at once, naming the
// directory, and nothing is written; once it is released the report runs.
func TestRunRefusesALockedDirectory(t *testing.T) {
	if !rundir.Supported {
		t.Skip("no flock(2) on this system")
	}
	dir := t.TempDir()
	lock, err := rundir.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	var stdout, stderr bytes.Buffer
	err = run(&stdout, &stderr, []string{"-in", small, "-out", dir})
	var u cli.UsageError
	if !errors.Is(err, rundir.ErrInUse) || errors.As(err, &u) || !strings.Contains(err.Error(), "run directory "+dir+" is in use by ") {
		t.Fatalf("err = %v, want the in-use error naming %s (exit status 1)", err, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, report.HTMLFile)); !os.IsNotExist(err) {
		t.Errorf("a refused report wrote %s (stat: %v)", report.HTMLFile, err)
	}
	lock.Unlock()
	if err := run(&stdout, &stderr, []string{"-in", small, "-out", dir}); err != nil {
		t.Fatalf("after the lock was released: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, rundir.LockFile)); !os.IsNotExist(err) {
		t.Errorf("the report left its lock file (stat: %v)", err)
	}
}
