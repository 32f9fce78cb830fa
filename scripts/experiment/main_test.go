package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/experiment"
)

func TestUsageErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-fractions", "0.1,1.5"}, "fraction 1.5 must be in (0, 1)"},
		{[]string{"-fractions", "0.1,x"}, `-fractions: "x" is not a number`},
		{[]string{"-fractions", "0.2,0.2"}, "duplicates"},
		{[]string{"-deletion", "last:3"}, `unknown kind "last"`},
		{[]string{"-fisher", "squared"}, `unknown kind "squared"`},
		{[]string{"-epochs", "0"}, "epochs 0 must be positive"},
		{[]string{"-batch", "-1"}, "batch size -1 must be positive"},
		{[]string{"-parallel", "0"}, "parallel 0 must be positive"},
		{[]string{"-out", file}, "is a file, not a directory"},
		{[]string{"-out", filepath.Join(file, "sub")}, "cannot be created"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"extra-argument"}, "unexpected arguments"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), &stdout, &stderr, c.args)
		var usage cli.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a usage error (exit status 2) containing %q", c.args, err, c.want)
		}
	}
	t.Setenv("GOMLX_BACKEND", "nosuch")
	var usage cli.UsageError
	if err := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, nil); !errors.As(err, &usage) {
		t.Errorf("unknown backend: got %v, want a usage error", err)
	}
}

func TestTinyRun(t *testing.T) {
	dir := adulttest.Dir(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-data", dir, "-out", out, "-epochs", "1", "-finetune-epochs", "1", "-fractions", "0.2", "-bootstrap", "20", "-no-checkpoints"}
	if err := run(context.Background(), &stdout, &stderr, args); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"FINAL RESULTS SUMMARY", "full", "retrain", "pruned 0.2 (best)", "timings (s, wall"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "full: epoch 1/1") {
		t.Errorf("no progress lines on stderr:\n%s", stderr.String())
	}
	for _, f := range []string{"results.json", "inference_report_summary.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints")); !os.IsNotExist(err) {
		t.Errorf("-no-checkpoints wrote checkpoints (stat: %v)", err)
	}
}

// snapshot lists a directory's files with their contents, to show a failed
// run changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// outDir returns a run directory that already holds a previous result.
func outDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(`{"previous": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBadConfigurationNeedingData covers configuration errors that can only
// be seen once the data is loaded: they are still usage errors, raised before
// any training, and leave the run directory as it was.
func TestBadConfigurationNeedingData(t *testing.T) {
	data := adulttest.Dir(t)
	ids := filepath.Join(t.TempDir(), "ids")
	set, err := adult.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := adult.Split(set, experiment.Default().SplitSeed)
	if err != nil {
		t.Fatal(err)
	}
	inTrain := fmt.Sprint(splits.Train[0])
	for _, c := range []struct {
		name, ids string
		args      []string
		want      string
	}{
		{"deletion larger than the training split", "", []string{"-deletion", "first:28942"}, "N must be in [1, 28941]"},
		{"random deletion too large", "", []string{"-deletion", "random:100000"}, "N must be in [1, 28941]"},
		{"missing deletion file", "", []string{"-deletion", "file:/nonexistent/ids"}, "/nonexistent/ids"},
		{"empty deletion file", "# nothing\n", []string{"-deletion", "file:" + ids}, "no row ids"},
		{"duplicate row id", inTrain + "\n" + inTrain + "\n", []string{"-deletion", "file:" + ids}, "already listed"},
		{"row id out of range", "99999999\n", []string{"-deletion", "file:" + ids}, "not in the training split"},
		{"too many non-members", "", []string{"-non-members", "9046"}, "-non-members 9046"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.ids != "" {
				if err := os.WriteFile(ids, []byte(c.ids), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := outDir(t)
			before := snapshot(t, out)
			var stderr bytes.Buffer
			err := run(context.Background(), &bytes.Buffer{}, &stderr, append([]string{"-data", data, "-out", out}, c.args...))
			var usage cli.UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a usage error containing %q", err, c.want)
			}
			if strings.Contains(stderr.String(), "epoch") {
				t.Error("training started before the configuration error was found")
			}
			if !reflect.DeepEqual(snapshot(t, out), before) {
				t.Error("the run directory changed")
			}
		})
	}
}

// TestBadDataFiles: a data directory with a damaged or missing file fails
// with an error naming the file, and leaves the run directory as it was.
func TestBadDataFiles(t *testing.T) {
	real := adulttest.Dir(t)
	original, err := os.ReadFile(filepath.Join(real, "adult.data"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := os.ReadFile(filepath.Join(real, "adult.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		data, test []byte // nil: file missing
		want       []string
	}{
		{"checksum mismatch", append(append([]byte(nil), original[:len(original)-2]...), "X\n"...), test, []string{"adult.data", "SHA-256"}},
		{"truncated file", original[:len(original)/2], test, []string{"adult.data", "SHA-256"}},
		{"empty file", []byte{}, test, []string{"adult.data"}},
		{"missing adult.test", original, nil, []string{"adult.test"}},
		{"unreadable adult.test (a directory)", original, []byte("dir"), []string{"adult.test"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range map[string][]byte{"adult.data": c.data, "adult.test": c.test} {
				if string(b) == "dir" { // a path that exists but cannot be read as a file
					if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if b != nil {
					if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			out := outDir(t)
			before := snapshot(t, out)
			err := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, []string{"-data", dir, "-out", out, "-quiet"})
			if err == nil {
				t.Fatal("run succeeded on damaged data")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !reflect.DeepEqual(snapshot(t, out), before) {
				t.Error("the run directory changed")
			}
		})
	}
}
