// Command notebooks executes the project's GoNB notebooks headless, the way
// CI does, and exports each one as an executed .ipynb and as HTML.
//
// Usage:
//
//	go run ./scripts/notebooks [-quick] [-out DIR] [-rundir DIR] [-update] [-timeout D] [NOTEBOOK.ipynb ...]
//
// Without arguments it runs every notebook under notebooks/. For each it
// calls
//
//	jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=gonb ...
//
// then `jupyter nbconvert --to html` on the result, and writes NAME.ipynb and
// NAME.html into -out (default runs/notebooks in the repository). It fails when a cell fails:
// a Go compile error, a panic or a non-zero exit (error outputs), and also a
// shell line (`!cmd`) that failed, which GoNB only reports as "exit status N"
// on stderr. The executed notebook is written even then, so the failure can
// be read in context.
//
// -quick sets FIMPRUNE_NOTEBOOK_QUICK=1, which the notebooks' parameters cell
// reads (nbconvert cannot inject parameters): few epochs, a separate run
// directory. -rundir sets FIMPRUNE_NOTEBOOK_RUNDIR, the directory the
// notebooks cache trained models and write results in. -update copies each
// executed notebook back over its source (timing metadata removed), after
// checking that no output shows an absolute path of this machine; that is
// how the committed notebook gets its outputs.
//
// Needs jupyter (nbconvert, nbclient) and the gonb kernel; see
// scripts/setup-notebooks.sh. $(go env GOPATH)/bin and the go command's own
// directory are put on the kernel's PATH, since GoNB runs go and goimports.
// Usage errors exit with status 2, failures with 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fimprune/fimprune/internal/modroot"
	"github.com/fimprune/fimprune/scripts/internal/cli"
)

// Environment variables the notebooks read.
const (
	EnvQuick  = "FIMPRUNE_NOTEBOOK_QUICK"
	EnvRunDir = "FIMPRUNE_NOTEBOOK_RUNDIR"
)

// Kernel is the Jupyter kernel the notebooks run on.
const Kernel = "gonb"

func main() {
	cli.Exit("notebooks", run(os.Stdout, os.Stderr, os.Args[1:]))
}

// options are the parsed command line.
type options struct {
	quick, update bool
	out, runDir   string
	timeout       time.Duration
	notebooks     []string
}

func parseArgs(stderr io.Writer, args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("notebooks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/notebooks [flags] [NOTEBOOK.ipynb ...]")
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.quick, "quick", false, "quick settings (few epochs): sets $"+EnvQuick+"=1 for the notebooks")
	fs.StringVar(&o.out, "out", "", "`DIR` for the executed notebooks and their HTML exports (default runs/notebooks in the repository)")
	fs.StringVar(&o.runDir, "rundir", "", "the notebooks' run directory `DIR` (sets $"+EnvRunDir+"; default: theirs, under runs/)")
	fs.BoolVar(&o.update, "update", false, "copy each executed notebook back over its source, to commit its outputs")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "time limit `D` for one cell, such as 30m (fim_pruning.ipynb's study cell takes minutes in a full run)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, cli.Usage(err)
	}
	if o.timeout < time.Second {
		return o, cli.Usage(fmt.Errorf("-timeout %v must be at least 1s", o.timeout))
	}
	for _, nb := range fs.Args() {
		if filepath.Ext(nb) != ".ipynb" {
			return o, cli.Usage(fmt.Errorf("%s is not a notebook (.ipynb)", nb))
		}
	}
	o.notebooks = fs.Args()
	return o, nil
}

func run(stdout, stderr io.Writer, args []string) error {
	o, err := parseArgs(stderr, args)
	if err != nil {
		return err
	}
	root, err := modroot.Find()
	if err != nil {
		return err
	}
	if len(o.notebooks) == 0 {
		if o.notebooks, err = filepath.Glob(filepath.Join(root, "notebooks", "*.ipynb")); err != nil {
			return err
		}
		if len(o.notebooks) == 0 {
			return fmt.Errorf("no notebooks in %s", filepath.Join(root, "notebooks"))
		}
	}
	for i, nb := range o.notebooks {
		if o.notebooks[i], err = filepath.Abs(nb); err != nil {
			return err
		}
		if _, err := os.Stat(o.notebooks[i]); err != nil {
			return cli.Usage(err)
		}
	}
	env, err := kernelEnv(o)
	if err != nil {
		return err
	}
	if err := CheckTools(env); err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(root, "runs", "notebooks")
	}
	if o.out, err = filepath.Abs(o.out); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	var failed []string
	for _, nb := range o.notebooks {
		if err := runNotebook(stdout, stderr, o, env, root, nb); err != nil {
			fmt.Fprintf(stderr, "notebooks: %s: %v\n", filepath.Base(nb), err)
			failed = append(failed, filepath.Base(nb))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d notebooks failed: %s", len(failed), len(o.notebooks), strings.Join(failed, ", "))
	}
	return nil
}

// runNotebook executes one notebook, exports it, and checks its outputs.
func runNotebook(stdout, stderr io.Writer, o options, env []string, root, nb string) error {
	name := strings.TrimSuffix(filepath.Base(nb), ".ipynb")
	executed := filepath.Join(o.out, name+".ipynb")
	mode := "full"
	if o.quick {
		mode = "quick"
	}
	fmt.Fprintf(stdout, "== %s (%s settings)\n", filepath.Base(nb), mode)
	t0 := time.Now()
	// --allow-errors: write the notebook even when a cell fails, so that the
	// failure can be read in context; the outputs are checked below.
	err := jupyter(stderr, env, filepath.Dir(nb), "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.kernel_name="+Kernel,
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(o.timeout.Seconds())),
		"--output-dir", o.out, "--output", name, nb)
	if err != nil {
		return fmt.Errorf("executing: %w", err)
	}
	secs := time.Since(t0).Seconds()
	book, err := ReadNotebook(executed)
	if err != nil {
		return err
	}
	if err := jupyter(stderr, env, o.out, "nbconvert", "--to", "html", "--output-dir", o.out, executed); err != nil {
		return fmt.Errorf("HTML export: %w", err)
	}
	fmt.Fprintf(stdout, "executed %d cells in %.1fs; wrote %s and %s\n", book.CodeCells(), secs, executed, filepath.Join(o.out, name+".html"))
	if errs := book.Errors(); len(errs) > 0 {
		return fmt.Errorf("%d failing cells:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	paths := book.AbsolutePaths(machinePaths(root, o))
	for _, p := range paths {
		fmt.Fprintf(stderr, "notebooks: %s: warning: output shows a path of this machine: %s\n", filepath.Base(nb), p)
	}
	if o.update {
		if len(paths) > 0 {
			return fmt.Errorf("not updating %s: its outputs show paths of this machine", nb)
		}
		book.StripTiming()
		data, err := book.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(nb, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "updated %s with its outputs\n", nb)
	}
	return nil
}

// jupyter runs `jupyter args...` in dir with env, its output going to w.
func jupyter(w io.Writer, env []string, dir string, args ...string) error {
	cmd := exec.Command("jupyter", args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// nbconvert's own progress lines are noise on success.
	if err != nil {
		w.Write(out.Bytes())
		return fmt.Errorf("jupyter %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// kernelEnv is the environment of jupyter and the kernel: ours, with the Go
// tool directories on PATH and the notebook settings.
func kernelEnv(o options) ([]string, error) {
	env := os.Environ()
	var dirs []string
	for _, q := range []string{"GOBIN", "GOPATH", "GOROOT"} {
		out, err := exec.Command("go", "env", q).Output()
		if err != nil {
			return nil, fmt.Errorf("go env %s: %w (is go on PATH?)", q, err)
		}
		v := strings.TrimSpace(string(out))
		switch {
		case v == "":
		case q == "GOPATH":
			dirs = append(dirs, filepath.Join(filepath.SplitList(v)[0], "bin"))
		case q == "GOROOT":
			dirs = append(dirs, filepath.Join(v, "bin"))
		default:
			dirs = append(dirs, v)
		}
	}
	path := strings.Join(append(dirs, os.Getenv("PATH")), string(os.PathListSeparator))
	set := func(k, v string) {
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		env = append(env, k+"="+v)
	}
	set("PATH", path)
	set("PYDEVD_DISABLE_FILE_VALIDATION", "1") // a debugpy warning on every jupyter start
	if o.quick {
		set(EnvQuick, "1")
	} else {
		set(EnvQuick, "")
	}
	if o.runDir != "" {
		abs, err := filepath.Abs(o.runDir)
		if err != nil {
			return nil, err
		}
		set(EnvRunDir, abs)
	}
	return env, nil
}

// ErrMissingTool is wrapped by CheckTools' errors.
var ErrMissingTool = errors.New("missing tool")

// CheckTools reports what the headless run needs and env (as given to
// jupyter) lacks: jupyter with nbconvert, the gonb kernel and its program,
// go and goimports.
func CheckTools(env []string) error {
	look := func(name string) error {
		for _, e := range env {
			if p, ok := strings.CutPrefix(e, "PATH="); ok {
				for _, dir := range filepath.SplitList(p) {
					if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
						return nil
					}
				}
			}
		}
		return fmt.Errorf("%w: %s is not on PATH (run bash scripts/setup-notebooks.sh)", ErrMissingTool, name)
	}
	for _, tool := range []string{"jupyter", "go", "goimports"} {
		if err := look(tool); err != nil {
			return err
		}
	}
	cmd := exec.Command("jupyter", "kernelspec", "list", "--json")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%w: jupyter kernelspec list: %v (run bash scripts/setup-notebooks.sh)", ErrMissingTool, err)
	}
	var specs struct {
		Kernelspecs map[string]struct {
			Spec struct {
				Argv []string `json:"argv"`
			} `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &specs); err != nil {
		return fmt.Errorf("jupyter kernelspec list: %w", err)
	}
	spec, ok := specs.Kernelspecs[Kernel]
	if !ok || len(spec.Spec.Argv) == 0 {
		return fmt.Errorf("%w: no %q Jupyter kernel registered (run bash scripts/setup-notebooks.sh)", ErrMissingTool, Kernel)
	}
	// The kernel spec names the gonb binary, usually by absolute path.
	if bin := spec.Spec.Argv[0]; filepath.IsAbs(bin) {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%w: the %q kernel's program: %v (run bash scripts/setup-notebooks.sh)", ErrMissingTool, Kernel, err)
		}
	} else if err := look(bin); err != nil {
		return err
	}
	cmd = exec.Command("jupyter", "nbconvert", "--version")
	cmd.Env = env
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: jupyter nbconvert: %v (run bash scripts/setup-notebooks.sh)", ErrMissingTool, err)
	}
	return nil
}

// machinePaths are the absolute paths of this machine that a committed
// notebook must not show.
func machinePaths(root string, o options) []string {
	paths := []string{root}
	if parent := filepath.Dir(root); len(parent) > 1 {
		paths = append(paths, parent+string(filepath.Separator))
	}
	if home, err := os.UserHomeDir(); err == nil && home != "/" {
		paths = append(paths, home)
	}
	if o.runDir != "" {
		if abs, err := filepath.Abs(o.runDir); err == nil {
			paths = append(paths, abs)
		}
	}
	paths = append(paths, os.TempDir()+string(filepath.Separator))
	if dir := os.Getenv("FIMPRUNE_DATA"); dir != "" {
		paths = append(paths, dir)
	}
	return paths
}

// exitStatus matches what GoNB prints on stderr when a shell line fails.
var exitStatus = regexp.MustCompile(`(?m)^exit status \d+\s*$`)
