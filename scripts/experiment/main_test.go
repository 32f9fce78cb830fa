package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/internal/testsupport"
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
		// Study flags with the study off are refused, not ignored.
		{[]string{"-study-shadows", "16"}, "-study-shadows needs -study-seeds N (the study is off)"},
		{[]string{"-study-fraction", "0.3"}, "-study-fraction needs -study-seeds N (the study is off)"},
		{[]string{"-study-ulira-models", "4"}, "-study-ulira-models needs -study-seeds N (the study is off)"},
		{[]string{"-study-split-seeds"}, "-study-split-seeds needs -study-seeds N (the study is off)"},
		{[]string{"-study-seeds", "0", "-study-shadows", "16"}, "-study-shadows needs -study-seeds N (the study is off)"},
		{[]string{"-shadows", "16"}, "-shadows needs -study-seeds N (the study is off)"},
		{[]string{"-seeds", "0", "-study-fraction", "0.3"}, "-study-fraction needs -study-seeds N (the study is off)"},
		// Bad study values name their flag, under the name given.
		{[]string{"-study-seeds", "2", "-study-shadows", "6"}, "-study-shadows 6 must be 0, or even and at least 16 (2 × -study-ulira-models 8)"},
		{[]string{"-study-seeds", "2", "-shadows", "7"}, "-shadows 7 must be 0, or even and at least 16"},
		{[]string{"-study-seeds", "2", "-study-ulira-models", "2"}, "-study-ulira-models 2 must be at least 3"},
		{[]string{"-study-seeds", "2", "-study-fraction", "1"}, "-study-fraction 1 must be in (0, 1)"},
		{[]string{"-study-seeds", "-1"}, "-study-seeds -1 must not be negative"},
		{[]string{"-seeds", "-1"}, "-seeds -1 must not be negative"},
		{[]string{"-seeds", "2", "-study-seeds", "2"}, "-seeds is the deprecated name of -study-seeds: give only -study-seeds"},
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

// TestDeprecatedStudyFlags: -seeds and -shadows still work for one release,
// with a one-line warning each, and reach the configuration the new names
// would (seen here through the study validation's messages).
func TestDeprecatedStudyFlags(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), &bytes.Buffer{}, &stderr, []string{"-seeds", "2", "-shadows", "10", "-study-ulira-models", "5", "-study-fraction", "2"})
	want := "-study-fraction 2 must be in (0, 1)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want only %q (-seeds turned the study on, -shadows 10 passed as -study-shadows 10)", err, want)
	}
	if got, want := stderr.String(), "experiment: -seeds is deprecated; use -study-seeds\nexperiment: -shadows is deprecated; use -study-shadows\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	stderr.Reset()
	err = run(context.Background(), &bytes.Buffer{}, &stderr, []string{"-study-seeds", "2", "-shadows", "12", "-study-fraction", "2"})
	if err == nil || !strings.Contains(err.Error(), "-shadows 12 must be 0, or even and at least 16") {
		t.Errorf("got %v, want -shadows 12 refused under its own name", err)
	}
	if got, want := stderr.String(), "experiment: -shadows is deprecated; use -study-shadows\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// TestHelp: -h documents every flag with a placeholder for its value, and
// the -batch text says it also sets the fine-tuning's batch size.
func TestHelp(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), &bytes.Buffer{}, &stderr, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"\n  -deletion SPEC\n", "\n  -study-seeds N\n", "\n  -study-shadows K\n", "\n  -seeds N\n    \tdeprecated: use -study-seeds N\n",
		"\n  -batch N\n    \tbatch size N of training and of the fine-tuning after pruning (default 64)\n"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("-h lacks %q", want)
		}
	}
	// Booleans take no value.
	missing, _ := testsupport.MissingPlaceholders(stderr.String(), "cache", "no-checkpoints", "quiet", "study-split-seeds")
	for _, n := range missing {
		t.Errorf("-%s has no placeholder in -h (a backquoted word in its usage)", n)
	}
}

var updateReadme = flag.Bool("update-readme", false, "rewrite README.md's Options block from -h")

// TestReadmeOptions: README.md's "Options" block is `-h`'s output, byte for byte.
func TestReadmeOptions(t *testing.T) {
	const readme, command = "../../README.md", "go run ./scripts/experiment -h\n"
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	_, after, ok := strings.Cut(text, "\n## Options\n")
	start := strings.Index(after, "```\n")
	end := strings.Index(after[start+4:], "\n```\n")
	if !ok || start < 0 || end < 0 {
		t.Fatal(`README.md has no code block after "## Options"`)
	}
	block := after[start+4 : start+4+end+1]
	var help bytes.Buffer
	if err := run(context.Background(), &bytes.Buffer{}, &help, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	want := command + help.String()
	if block == want {
		return
	}
	if *updateReadme {
		offset := len(text) - len(after) + start + 4
		text = text[:offset] + want + text[offset+len(block):]
		if err := os.WriteFile(readme, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote README.md's Options block")
		return
	}
	t.Errorf("README.md's Options block is not the output of -h; refresh it with\n\tgo test ./scripts/experiment -run TestReadmeOptions -update-readme\n--- README.md\n%s--- -h\n%s", block, want)
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
