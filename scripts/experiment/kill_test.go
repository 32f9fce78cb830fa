package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
)

// TestMain lets the test binary act as the command (for TestKilledRuns).
func TestMain(m *testing.M) {
	if os.Getenv("FIMPRUNE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKilledRuns kills runs with SIGKILL at moments spread over a run's
// length, including the write phase, and checks after each kill that every
// output file present is complete (parses) — the previous run's or the new
// one's, never a torn one — and finally that a run after the kills succeeds.
func TestKilledRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: kills several runs")
	}
	data := adulttest.Dir(t)
	out := t.TempDir()
	args := []string{"-data", data, "-out", out, "-quiet", "-epochs", "1", "-finetune-epochs", "1",
		"-fractions", "0.3", "-bootstrap", "20"}
	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "FIMPRUNE_TEST_MAIN=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &stderr
	}

	// One complete run first: its files are the "previous" ones.
	t0 := time.Now()
	if cmd, stderr := start(); cmd.Wait() != nil {
		t.Fatalf("first run failed: %s", stderr)
	}
	length := time.Since(t0)
	checkOutputs(t, out)

	// Random moments, half of them in the last 10 % of a run where the files
	// are written; the seed is logged so that a failure can be replayed.
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("kill moments drawn with seed %d", seed)
	for i := range 6 {
		frac := rng.Float64()
		if i%2 == 1 {
			frac = 0.9 + 0.1*frac
		}
		cmd, _ := start()
		time.Sleep(time.Duration(frac * float64(length)))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Logf("kill %d at %.0f%% of a run", i, 100*frac)
		checkOutputs(t, out)
	}
	if cmd, stderr := start(); cmd.Wait() != nil {
		t.Fatalf("run after the kills failed: %s", stderr)
	}
	checkOutputs(t, out)
	leftovers, _ := filepath.Glob(filepath.Join(out, "*", ".*tmp-*"))
	top, _ := filepath.Glob(filepath.Join(out, ".*tmp-*"))
	if len(leftovers)+len(top) > 0 {
		t.Errorf("temporary files left after a complete run: %v %v", top, leftovers)
	}
}

// TestInterruptedRuns sends Ctrl-C's SIGINT, and SIGTERM (what `kill PID`
// and a container's stop send), to a run in training: both stop it the same
// way, with exit status 1 and "interrupted: nothing was written", leaving the
// run directory exactly as it was (no partial or temporary file).
func TestInterruptedRuns(t *testing.T) {
	data := adulttest.Dir(t)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := outDir(t)
			before := snapshot(t, out)
			cmd := exec.Command(os.Args[0], "-data", data, "-out", out, "-epochs", "3", "-finetune-epochs", "1", "-fractions", "0.3", "-bootstrap", "20")
			cmd.Env = append(os.Environ(), "FIMPRUNE_TEST_MAIN=1")
			pipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Signal once training has started (its first progress line), and
			// keep reading stderr to the end.
			var stderr bytes.Buffer
			training, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				sc := bufio.NewScanner(pipe)
				for sc.Scan() {
					stderr.WriteString(sc.Text() + "\n")
					if training != nil && strings.Contains(sc.Text(), "epoch 1/") {
						close(training)
						training = nil
					}
				}
			}()
			select {
			case <-training:
			case <-done:
				t.Fatalf("the run ended before training:\n%s", stderr.String())
			case <-time.After(2 * time.Minute):
				_ = cmd.Process.Kill()
				t.Fatal("no training progress within 2 minutes")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			<-done
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1 (a clean stop), not death by the signal", err)
			}
			want := "experiment: interrupted: nothing was written; files already in " + out + " are unchanged\n"
			if !strings.HasSuffix(stderr.String(), want) {
				t.Errorf("stderr does not end with %q:\n%s", want, stderr.String())
			}
			if !reflect.DeepEqual(snapshot(t, out), before) {
				t.Errorf("the run directory changed: %v, was %v", snapshot(t, out), before)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 1 {
				t.Errorf("the run directory holds %v, want only the previous results.json (no partial, temporary or cache file)", entries)
			}
		})
	}
}

// checkOutputs parses every output file present in out.
func checkOutputs(t *testing.T, out string) {
	t.Helper()
	if _, err := results.Read(filepath.Join(out, experiment.ResultsFile)); err != nil && !os.IsNotExist(err) {
		t.Errorf("results.json: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, experiment.SummaryFile)); err == nil {
		var s results.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Errorf("%s: %v", experiment.SummaryFile, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "report.md")); err == nil && !strings.Contains(string(b), "Appendix B. Inputs") {
		t.Error("report.md is incomplete (no last section)")
	}
	// The page and the figures are XML (the page is XHTML-compatible): a
	// torn file does not parse.
	svgs, _ := filepath.Glob(filepath.Join(out, "*.svg"))
	for _, name := range append(svgs, filepath.Join(out, "report.html")) {
		b, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil || !wellFormedXML(b) {
			t.Errorf("%s is torn or unreadable (%v)", name, err)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(out, experiment.CheckpointsDir, "*"))
	for _, dir := range dirs {
		if strings.HasPrefix(filepath.Base(dir), ".") || strings.HasSuffix(dir, ".old") {
			continue // the writer's own temporaries, never read as checkpoints
		}
		params, err := experiment.LoadCheckpoint(dir, mlp.Seed)
		if err != nil {
			t.Errorf("checkpoint %s: %v", dir, err)
			continue
		}
		// A checkpoint and its card appear together, and match.
		card, err := modelcard.Read(filepath.Join(dir, modelcard.File))
		if err != nil {
			t.Errorf("checkpoint %s: %v", dir, err)
		} else if modelcard.ParamsHash(params) != card.ParamsSHA256 {
			t.Errorf("checkpoint %s: its parameters are not the ones its card names", dir)
		}
	}
}

// wellFormedXML reports whether b is one complete XML document (HTML entities
// and void elements are tolerated, so that the report page qualifies).
func wellFormedXML(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	depth, seen := 0, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return seen && depth == 0
		}
		if err != nil {
			return false
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			seen = true
		case xml.EndElement:
			depth--
		}
	}
}

func TestWellFormedXMLDetectsTornFiles(t *testing.T) {
	for _, name := range []string{"../../report/example/report.html", "../../report/example/fig-1-overview.svg"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !wellFormedXML(b) {
			t.Errorf("%s: a complete file is not well formed", name)
		}
		if wellFormedXML(b[:len(b)/2]) {
			t.Errorf("%s: half a file passes as well formed", name)
		}
	}
}
