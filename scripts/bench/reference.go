package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
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

// ensureTorch reports whether python can import torch. If it cannot, and
// this process is root on a machine with apt-get, it installs Debian's
// python3-torch first (progress on log). ok false comes with the reason.
func ensureTorch(ctx context.Context, python string, log io.Writer) (ok bool, why string) {
	if _, err := exec.LookPath(python); err != nil {
		return false, fmt.Sprintf("%s not found (%v)", python, err)
	}
	canImport := func() error {
		out, err := exec.CommandContext(ctx, python, "-c", "import torch, numpy").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, lastLine(out))
		}
		return nil
	}
	err := canImport()
	if err == nil {
		return true, ""
	}
	aptGet, lookErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || lookErr != nil {
		return false, fmt.Sprintf("%s cannot import torch (%v); install Debian's python3-torch as root (apt-get install -y python3-torch)", python, err)
	}
	fmt.Fprintf(log, "bench: %s cannot import torch; running apt-get install -y python3-torch\n", python)
	install := func(args ...string) error {
		cmd := exec.CommandContext(ctx, aptGet, args...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.Run()
	}
	// Stale package lists make the first install fail; refresh them once.
	if err := install("install", "-y", "python3-torch"); err != nil {
		if err := install("update"); err != nil {
			return false, fmt.Sprintf("apt-get update failed: %v", err)
		}
		if err := install("install", "-y", "python3-torch"); err != nil {
			return false, fmt.Sprintf("apt-get install -y python3-torch failed: %v", err)
		}
	}
	if err := canImport(); err != nil {
		return false, fmt.Sprintf("%s still cannot import torch after installing python3-torch: %v", python, err)
	}
	return true, ""
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
	dataDir, outDir string   // the export it reads; where it writes files for the Go side
	sections        []string // its --only
	threads         int      // its --threads (0: PyTorch's default)
	libs            string   // put first on LD_LIBRARY_PATH ("" leaves it)
}

// runReference runs the reference script, with its progress on log; it
// keeps its raw output in outDir/reference.json.
func runReference(ctx context.Context, r referenceRun, log io.Writer) (*Reference, error) {
	args := []string{r.script, "--data", r.dataDir, "--out", r.outDir, "--only", strings.Join(r.sections, ",")}
	if r.threads > 0 {
		args = append(args, "--threads", fmt.Sprint(r.threads))
	}
	cmd := exec.CommandContext(ctx, r.python, args...)
	if r.libs != "" {
		path := r.libs
		if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
			path += string(os.PathListSeparator) + old
		}
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+path)
	}
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
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ReferenceScript)
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: pass -reference-script")
		}
		dir = parent
	}
}
