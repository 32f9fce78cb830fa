package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fimprune/fimprune/internal/modroot"
)

// DefaultPython is Debian's interpreter, where `apt-get install python3-torch`
// puts PyTorch (a python3 earlier on PATH, e.g. pyenv's, would not see it).
const DefaultPython = "/usr/bin/python3"

// ReferenceScript is the PyTorch reference, relative to the module root.
const ReferenceScript = "bench/reference.py"

// Reference is the PyTorch reference's output.
type Reference struct {
	Raw map[string]any
	// Values holds every number of the output, keyed by its path of JSON
	// object keys joined by "/" ("seconds/train_full").
	Values map[string]float64
}

// ParseReference decodes the reference's JSON output.
func ParseReference(data []byte) (*Reference, error) {
	r := &Reference{Values: map[string]float64{}}
	if err := json.Unmarshal(data, &r.Raw); err != nil {
		return nil, fmt.Errorf("reference output: %w", err)
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case float64:
			r.Values[prefix] = v
		case map[string]any:
			for k, child := range v {
				if prefix != "" {
					k = prefix + "/" + k
				}
				walk(k, child)
			}
		}
	}
	walk("", r.Raw)
	return r, nil
}

// String returns the string at a top-level key.
func (r *Reference) String(key string) (string, bool) {
	if r == nil {
		return "", false
	}
	s, ok := r.Raw[key].(string)
	return s, ok
}

// valueOK is Values[key] on a possibly nil reference.
func (r *Reference) valueOK(key string) (float64, bool) {
	if r == nil {
		return 0, false
	}
	v, ok := r.Values[key]
	return v, ok
}

// Notes returns the reference's own remarks (what it extrapolated, what it could not run).
func (r *Reference) Notes() []string {
	if r == nil {
		return nil
	}
	var out []string
	if notes, ok := r.Raw["notes"].([]any); ok {
		for _, n := range notes {
			if s, ok := n.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// torchPackage is Debian's PyTorch for /usr/bin/python3 (it pulls in
// python3 and python3-numpy).
const torchPackage = "python3-torch"

// aptInstallTorch is the command that installs it.
const aptInstallTorch = "sudo apt-get install -y " + torchPackage

// checkTorch reports what keeps python from running the reference ("": it
// can import torch and numpy), with the command that gets it.
func checkTorch(ctx context.Context, python string) (missing string) {
	fix := "get it with: " + aptInstallTorch + " (or rerun with -install, as root)"
	if python != DefaultPython {
		fix = "install PyTorch and numpy for it (for Debian's " + DefaultPython + ": " + aptInstallTorch + ")"
	}
	if _, err := exec.LookPath(python); err != nil {
		return fmt.Sprintf("Python interpreter %s not found; %s", python, fix)
	}
	out, err := exec.CommandContext(ctx, python, "-c", "import torch, numpy").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s cannot import torch and numpy (%s); %s", python, lastLine(out), fix)
	}
	return ""
}

// installTorch installs Debian's python3-torch with apt-get (-install):
// as root only, for Debian's own python3 only. Progress goes to log.
func installTorch(ctx context.Context, python string, log io.Writer) error {
	if python != DefaultPython {
		return fmt.Errorf("-install installs Debian's %s for %s, not for -python %s: install PyTorch and numpy for it yourself", torchPackage, DefaultPython, python)
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil {
		return fmt.Errorf("-install: apt-get not found (not Debian?): install PyTorch and numpy for %s yourself", python)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("-install: installing %s needs root; run: %s", torchPackage, aptInstallTorch)
	}
	fmt.Fprintf(log, "bench: %s cannot import torch; running apt-get install -y %s (-install)\n", python, torchPackage)
	install := func(args ...string) error {
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.Run()
	}
	// Stale package lists make the first install fail; refresh them once.
	if err := install("install", "-y", torchPackage); err != nil {
		if err := install("update"); err != nil {
			return fmt.Errorf("-install: apt-get update failed: %w", err)
		}
		if err := install("install", "-y", torchPackage); err != nil {
			return fmt.Errorf("-install: apt-get install -y %s failed: %w", torchPackage, err)
		}
	}
	if missing := checkTorch(ctx, python); missing != "" {
		return fmt.Errorf("-install: after installing %s: %s", torchPackage, missing)
	}
	return nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// referenceSections is the union of the selected benchmarks' reference sections, sorted.
func referenceSections(selected []Benchmark) []string {
	seen := map[string]bool{}
	for _, b := range selected {
		for _, s := range b.Reference {
			seen[s] = true
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// referenceRun is one invocation of the reference script.
type referenceRun struct {
	python, script  string
	dataDir, outDir string      // the export it reads; where it writes files for the Go side
	sections        []string    // its --only
	config          torchConfig // its --threads and --loader; BLAS says whether to unset openBLASTuning
	libs            string      // put first on LD_LIBRARY_PATH ("" leaves it)
}

// args are the reference script's command-line arguments.
func (r referenceRun) args() []string {
	args := []string{r.script, "--data", r.dataDir, "--out", r.outDir, "--only", strings.Join(r.sections, ",")}
	if r.config.Threads > 0 {
		args = append(args, "--threads", fmt.Sprint(r.config.Threads))
	}
	if r.config.Loader != "" {
		args = append(args, "--loader", r.config.Loader)
	}
	if slices.Contains(r.sections, "ensemble") {
		args = append(args, "--ensemble-models", fmt.Sprint(shadowModels))
	}
	return args
}

// runReference runs the reference script, with its progress on log; it
// keeps its raw output in outDir/reference.json.
func runReference(ctx context.Context, r referenceRun, log io.Writer) (*Reference, error) {
	cmd := exec.CommandContext(ctx, r.python, r.args()...)
	cmd.Env = referenceEnv(os.Environ(), r.libs, r.config.BLAS == blasOpenBLASDetect)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.python, r.script, err)
	}
	if err := os.WriteFile(filepath.Join(r.outDir, "reference.json"), stdout.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return ParseReference(stdout.Bytes())
}

// findScript resolves ReferenceScript against the module root above the
// working directory (go run and go test run in the module).
func findScript() (string, error) {
	root, err := modroot.Find()
	if err != nil {
		return "", fmt.Errorf("%w: pass -reference-script", err)
	}
	p := filepath.Join(root, ReferenceScript)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}
