// Command bench times fimprune against a PyTorch reference of the same
// protocol on the same machine and the same data, and prints a table with a
// row per figure: benchmark | fimprune (Go) | then, for each run of the
// reference, its value and the ratio Go ÷ that value.
//
// Usage:
//
//	GOEXPERIMENT=simd go run ./scripts/bench [flags]
//
// It loads and prepares UCI Adult as scripts/experiment does (the data
// directory is -data, $FIMPRUNE_DATA, the user cache, else a download),
// exports the prepared splits for bench/reference.py (raw little-endian
// arrays plus meta.json: see [RefData]), runs the Go benchmarks ([benchmarks];
// -only picks some), then the reference with Debian's /usr/bin/python3: once
// as installed and, with -openblas (the default), once more with Debian's
// OpenBLAS first on its LD_LIBRARY_PATH, because Debian's python3-torch
// otherwise calls the netlib reference BLAS (see openblas.go). With -probe
// (the default) it first times a short probe of every configuration a user
// could try (BLAS as installed, OpenBLAS with the environment's core type
// and with it unset, -probe-threads, DataLoader or tensor indexing; see
// probe.go), prints the probe's own table, and runs the fastest as a third
// column, "PyTorch (best)".
//
// It installs nothing unless -install is given. Without it, a missing
// python3-torch or OpenBLAS is reported, before anything is measured, with
// the command that gets it; that reference run is then skipped and the Go
// side still runs, unless the run was asked for explicitly (-reference,
// -python, -reference-script or -torch-threads for the reference,
// -openblas or -openblas-dir for the OpenBLAS run), in which case bench
// fails at once. With -install it installs python3-torch with apt-get (as
// root) and fetches OpenBLAS with apt-get download into the user cache (no
// root), and fails if either cannot be had.
//
// Progress goes to stderr, the table to stdout and to table.md in the work
// directory (-out, default a new temporary directory), beside the exported
// data, the protocol's run directory and each reference run's raw
// reference.json.
//
// Usage errors exit with status 2, failures with 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/experiment"
)

func main() { cli.Main("bench", run) }

// options are the command line's settings.
type options struct {
	dataDir, outDir string
	reference       bool
	python, script  string
	torchThreads    int
	openblas        bool
	openblasDir     string
	probe           bool
	probeThreads    []int
	install         bool
	only            []Benchmark
	markdown, quiet bool
	// What was asked for explicitly on the command line: then a missing
	// piece is an error rather than a skipped column.
	askedReference, askedOpenBLAS bool
}

// defaultPython is -python's default (a variable so that tests can point it
// at an interpreter without torch).
var defaultPython = DefaultPython

func parseArgs(stderr io.Writer, args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dataDir, "data", "", "`DIR` holding adult.data and adult.test (default: $FIMPRUNE_DATA, then the user cache, then a download)")
	fs.StringVar(&o.outDir, "out", "", "work `DIR` for the exported data, the protocol's run directory, reference.json and table.md (default: a new temporary directory)")
	fs.BoolVar(&o.reference, "reference", true, "run the PyTorch reference (bench/reference.py) side by side. If its Python, torch or numpy is missing (and no -install), it is skipped with a note naming the command that gets them; with -reference given explicitly, bench fails instead")
	fs.StringVar(&o.python, "python", defaultPython, "`PYTHON` interpreter for the reference (Debian's, where apt's python3-torch lives)")
	fs.StringVar(&o.script, "reference-script", "", "`PATH` of the reference script (default: "+ReferenceScript+" in the module)")
	fs.IntVar(&o.torchThreads, "torch-threads", 0, "`N` PyTorch intra-op threads for the reference's \"PyTorch\" and \"PyTorch + OpenBLAS\" columns (0: PyTorch's default); \"PyTorch (best)\" runs with the probe's choice")
	fs.BoolVar(&o.openblas, "openblas", true, "also run the reference with Debian's OpenBLAS (libopenblas0-pthread, installed or fetched by -install into the user cache) first on its LD_LIBRARY_PATH: Debian's python3-torch otherwise calls the netlib reference BLAS. If OpenBLAS is missing, that run is skipped with a note naming the command that gets it; with -openblas given explicitly, bench fails instead")
	fs.StringVar(&o.openblasDir, "openblas-dir", "", "`DIR` holding OpenBLAS's libblas.so.3 for the -openblas run (default: the installed package's, else the one -install put in the user cache)")
	fs.BoolVar(&o.probe, "probe", true, "before the reference's columns, time a short probe (2 epochs of the seed recipe, batch 64, validation included; the faster epoch counts) in one reference process per configuration: BLAS as installed, OpenBLAS with the environment's OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, OpenBLAS with those unset (where the environment sets them), each with every -probe-threads count and with DataLoader or tensor-indexing batches; print the probe's table and run the fastest configuration as the \"PyTorch (best)\" column")
	probeThreads := fs.String("probe-threads", "1,2", "comma-separated `LIST` of PyTorch intra-op thread counts the probe tries")
	fs.BoolVar(&o.install, "install", false, "install what the reference needs when it is missing: Debian's python3-torch (apt-get install, as root) and, for -openblas, libopenblas0-pthread (apt-get download into the user cache; no root, nothing installed system-wide); fail if either cannot be had. Without -install nothing is installed or downloaded")
	only := fs.String("only", "", "comma-separated `LIST` of benchmarks to run (default all: "+benchmarkNames()+")")
	fs.BoolVar(&o.markdown, "markdown", false, "also print the table as Markdown (for BENCHMARKS.md)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/bench [flags]\n\nbenchmarks:")
		for _, b := range benchmarks {
			fmt.Fprintf(stderr, "  %-12s %s\n", b.Name, b.About)
		}
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, cli.Usage(err)
	}
	if fs.NArg() > 0 {
		return o, cli.Usage(fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !o.reference {
		for _, name := range []string{"install", "python", "reference-script", "torch-threads", "openblas", "openblas-dir", "probe", "probe-threads"} {
			if set[name] {
				return o, cli.Usage(fmt.Errorf("-%s is for the reference, which -reference=false turns off", name))
			}
		}
	}
	if !o.openblas && set["openblas-dir"] {
		return o, cli.Usage(errors.New("-openblas-dir is for the OpenBLAS run, which -openblas=false turns off"))
	}
	if !o.probe && set["probe-threads"] {
		return o, cli.Usage(errors.New("-probe-threads is for the probe, which -probe=false turns off"))
	}
	o.askedReference = set["reference"] || set["install"] || set["python"] || set["reference-script"] || set["torch-threads"] ||
		(o.probe && (set["probe"] || set["probe-threads"]))
	o.askedOpenBLAS = o.openblas && (set["openblas"] || set["openblas-dir"] || set["install"])
	var err error
	if o.only, err = selectBenchmarks(*only); err != nil {
		return o, cli.Usage(err)
	}
	if o.probeThreads, err = parseThreads(*probeThreads); err != nil {
		return o, cli.Usage(err)
	}
	if o.torchThreads < 0 {
		return o, cli.Usage(fmt.Errorf("-torch-threads %d must not be negative", o.torchThreads))
	}
	return o, nil
}

// selectBenchmarks returns the benchmarks named in list, in the harness's
// order; an empty list selects all.
func selectBenchmarks(list string) ([]Benchmark, error) {
	if strings.TrimSpace(list) == "" {
		return benchmarks, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if !slices.ContainsFunc(benchmarks, func(b Benchmark) bool { return b.Name == name }) {
			return nil, fmt.Errorf("-only: unknown benchmark %q (known: %s)", name, benchmarkNames())
		}
		want[name] = true
	}
	var out []Benchmark
	for _, b := range benchmarks {
		if want[b.Name] {
			out = append(out, b)
		}
	}
	return out, nil
}

func run(ctx context.Context, stdout, stderr io.Writer, args []string) (err error) {
	o, err := parseArgs(stderr, args)
	if err != nil {
		return err
	}
	if err := backend.Check(backend.Config()); err != nil {
		return cli.Usage(err)
	}
	logw := stderr
	if o.quiet {
		logw = io.Discard
	}
	start, startLoad := time.Now(), loadAverage()
	if o.outDir == "" {
		if o.outDir, err = os.MkdirTemp("", "fimprune-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(logw, "bench: work directory %s\n", o.outDir)

	// Settle the reference before the Go benchmarks, not after them.
	variants, whyNot, err := referenceVariants(ctx, &o, logw)
	if err != nil {
		return err
	}
	if whyNot != "" {
		fmt.Fprintf(stderr, "bench: skipping the PyTorch reference: %s\n", whyNot)
	}
	for _, v := range variants {
		if v.skipped != "" {
			fmt.Fprintf(stderr, "bench: skipping the %s run: %s\n", v.column, v.skipped)
		}
	}

	env, err := newEnv(o, logw)
	if err != nil {
		return err
	}
	defer env.Backend.Finalize()
	exportDir := filepath.Join(o.outDir, "refdata")
	if err := env.Export.Write(exportDir); err != nil {
		return fmt.Errorf("exporting data for the reference: %w", err)
	}

	var figs []Figure
	for _, b := range o.only {
		fmt.Fprintf(logw, "bench: == %s: %s\n", b.Name, b.About)
		more, err := b.Run(ctx, env)
		if err != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
		figs = append(figs, more...)
	}
	// Taken before the reference runs; it is a separate process anyway.
	figs = append(figs, Figure{Label: "peak RSS of the process", Unit: Megabytes, Go: peakRSSMegabytes(), Ref: RefKey("peak_rss_mb")})

	base := referenceRun{python: o.python, script: o.script, dataDir: exportDir}
	var probe *ProbeTable
	if o.probe && len(variants) > 0 {
		var best *referenceVariant
		probe, best = probeBest(ctx, o, variants, base, env.Data.Train.Rows(), logw)
		variants = append(variants, best)
	}

	var refErr error
	for i, v := range variants {
		if v.skipped != "" {
			continue
		}
		if u := reusable(v, variants[:i]); u != nil {
			fmt.Fprintf(logw, "bench: == %s reference: the same configuration as the %s column (%s), not run again\n", v.column, u.column, v.config)
			v.ref, v.sameAs = u.ref, u.column
			continue
		}
		fmt.Fprintf(logw, "bench: == %s reference (%s %s; %s)\n", v.column, o.python, o.script, v.config)
		if err := os.MkdirAll(v.outDir, 0o755); err != nil {
			return err
		}
		r := base
		r.outDir, r.sections, r.config, r.libs = v.outDir, referenceSections(o.only), v.config, v.libs
		v.ref, v.err = runReference(ctx, r, logw)
		if v.err != nil {
			// The Go figures took long to measure: print them anyway, fail at the end.
			fmt.Fprintf(stderr, "bench: the %s reference failed: %v\n", v.column, v.err)
			refErr = errors.Join(refErr, fmt.Errorf("%s reference: %w", v.column, v.err))
		}
	}

	t := Table{Header: machineHeader(start, env.Backend.Name())}
	t.Header = append(t.Header, HeaderLine{"load average (1 min)", fmt.Sprintf("%s at the start, %s at the end (%d cores)", startLoad, loadAverage(), runtime.NumCPU())})
	var refs []*Reference
	switch {
	case !o.reference:
		t.Header = append(t.Header, HeaderLine{"PyTorch", "not run (-reference=false)"})
	case whyNot != "":
		t.Header = append(t.Header, HeaderLine{"PyTorch", "not run: " + whyNot})
	}
	for _, v := range variants {
		switch {
		case v.skipped != "":
			t.Header = append(t.Header, HeaderLine{v.column, "not run: " + v.skipped})
			continue
		case v.err != nil:
			t.Header = append(t.Header, HeaderLine{v.column, "failed: " + v.err.Error()})
		default:
			t.Header = append(t.Header, referenceHeader(v, o.python))
		}
		t.Columns = append(t.Columns, v.column)
		refs = append(refs, v.ref)
		for _, n := range v.ref.Notes() {
			if !slices.Contains(t.Notes, n) {
				t.Notes = append(t.Notes, n)
			}
		}
	}
	t.Rows = Resolve(figs, refs)
	t.Header = append(t.Header, HeaderLine{"command", commandLine(args)})
	if err := t.WriteText(stdout); err != nil {
		return err
	}
	if probe != nil {
		fmt.Fprintln(stdout)
		if err := probe.WriteText(stdout); err != nil {
			return err
		}
	}
	if o.markdown {
		fmt.Fprintln(stdout)
		if err := t.WriteMarkdown(stdout); err != nil {
			return err
		}
		if probe != nil {
			if err := probe.WriteMarkdown(stdout); err != nil {
				return err
			}
		}
	}
	f, err := os.Create(filepath.Join(o.outDir, "table.md"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := t.WriteMarkdown(f); err != nil {
		return err
	}
	if probe != nil {
		if err := probe.WriteMarkdown(f); err != nil {
			return err
		}
	}
	return refErr
}

// reusable returns the earlier column whose run the best column v takes
// over, or nil: the probe's choice may be a configuration that already ran
// (e.g. OpenBLAS as the environment sets it, PyTorch's default of 1 thread
// and a DataLoader), which is then not run again.
func reusable(v *referenceVariant, earlier []*referenceVariant) *referenceVariant {
	if v.chosen == "" {
		return nil
	}
	for _, u := range earlier {
		if u.ref != nil && u.err == nil && effectiveConfig(u.config, u.ref) == v.config {
			return u
		}
	}
	return nil
}

// bestColumn is the title of the probe's column.
const bestColumn = "PyTorch (best)"

// probeBest runs the probe over every configuration available here (the
// OpenBLAS ones only where the OpenBLAS column can run) and returns its table
// and the "PyTorch (best)" column: the fastest configuration, or a skipped
// column if every probe failed.
func probeBest(ctx context.Context, o options, variants []*referenceVariant, base referenceRun, trainRows int, logw io.Writer) (*ProbeTable, *referenceVariant) {
	libs := ""
	for _, v := range variants {
		if v.config.BLAS == blasOpenBLAS && v.skipped == "" {
			libs = v.libs
		}
	}
	configs := probeConfigs(libs != "", tuningSet(os.Environ()), o.probeThreads)
	fmt.Fprintf(logw, "bench: == probe: %d configurations of the reference\n", len(configs))
	results := runProbes(ctx, base, configs, libs, filepath.Join(o.outDir, "probe"), logw)
	best := bestProbe(results)
	epochs := "the probe's epochs"
	for _, r := range results {
		if n, ok := r.Ref.valueOK("probe/epochs"); ok {
			epochs = fmt.Sprintf("%d epochs", int(n))
			break
		}
	}
	table := &ProbeTable{Results: results, Best: best,
		Title: fmt.Sprintf("probe (how the %s column was chosen): one reference process per configuration, %s of the seed recipe on the %d training rows "+
			"(batch 64, validation loss every epoch); s per epoch is its fastest epoch, wall time; the fastest configuration is chosen", bestColumn, epochs, trainRows)}
	v := &referenceVariant{column: bestColumn, outDir: filepath.Join(o.outDir, "reference-best")}
	if best < 0 {
		v.skipped = fmt.Sprintf("every one of the %d probes failed (see above)", len(results))
		return table, v
	}
	v.config = results[best].Config
	if v.config.BLAS != blasInstalled {
		v.libs = libs
	}
	v.chosen = fmt.Sprintf("the fastest of %d probe configurations (%s per epoch)", len(results), formatValue(results[best].Seconds, Seconds))
	fmt.Fprintf(logw, "bench: probe: fastest %s, %s per epoch\n", v.config, formatValue(results[best].Seconds, Seconds))
	return table, v
}

// referenceVariant is one run of the reference: a value and a ratio column.
type referenceVariant struct {
	column  string      // its columns' title
	config  torchConfig // BLAS choice, threads, loader
	outDir  string      // its --out: where it leaves files for the Go side, and reference.json
	libs    string      // put first on its LD_LIBRARY_PATH; "" runs it as installed
	skipped string      // why it does not run ("": it runs)
	chosen  string      // for the best column: how the probe chose it
	sameAs  string      // the earlier column whose run it reuses (the same configuration)
	ref     *Reference
	err     error
}

// referenceVariants decides which reference runs happen: PyTorch as Debian
// installs it and, with -openblas, the same with OpenBLAS. It installs or
// fetches what is missing only with -install. Otherwise whyNot says why there
// are none although -reference asked for them, and a variant's skipped why it
// does not run, each with the command that gets what is missing; err is set
// instead when the missing run was asked for explicitly. It fills in o.script.
func referenceVariants(ctx context.Context, o *options, logw io.Writer) (variants []*referenceVariant, whyNot string, err error) {
	if !o.reference || len(referenceSections(o.only)) == 0 {
		return nil, "", nil
	}
	if o.script == "" {
		if o.script, err = findScript(); err != nil {
			whyNot = fmt.Sprintf("reference script not found (%v)", err)
		}
	}
	if whyNot == "" {
		whyNot = checkTorch(ctx, o.python)
		if whyNot != "" && o.install {
			if err := installTorch(ctx, o.python, logw); err != nil {
				return nil, "", err
			}
			whyNot = ""
		}
	}
	if whyNot != "" {
		if o.askedReference {
			return nil, "", fmt.Errorf("the PyTorch reference cannot run: %s", whyNot)
		}
		return nil, whyNot, nil
	}
	variants = append(variants, &referenceVariant{column: "PyTorch", outDir: filepath.Join(o.outDir, "reference"),
		config: torchConfig{BLAS: blasInstalled, Threads: o.torchThreads, Loader: loaderDataLoader}})
	if !o.openblas {
		return variants, "", nil
	}
	v := &referenceVariant{column: "PyTorch + OpenBLAS", outDir: filepath.Join(o.outDir, "reference-openblas"), libs: o.openblasDir,
		config: torchConfig{BLAS: blasOpenBLAS, Threads: o.torchThreads, Loader: loaderDataLoader}}
	switch {
	case v.libs != "":
		if err := checkOpenBLASDir(v.libs); err != nil {
			return nil, "", err
		}
	default:
		v.libs, v.skipped = findOpenBLAS()
		if v.skipped != "" && o.install {
			if v.libs, err = fetchOpenBLAS(ctx, logw); err != nil {
				return nil, "", err
			}
			v.skipped = ""
		}
		if v.skipped != "" && o.askedOpenBLAS {
			return nil, "", fmt.Errorf("the %s run (-openblas) cannot run: %s", v.column, v.skipped)
		}
	}
	return append(variants, v), "", nil
}

// newEnv loads and prepares the data with the default protocol's
// configuration and fills the export: the shadow half and the parameters of
// the Fisher cross-check are drawn here, so that both sides use the same.
func newEnv(o options, logw io.Writer) (*Env, error) {
	cfg := experiment.Default()
	var err error
	if cfg.DataDir, err = adult.ResolveDir(o.dataDir, logw); err != nil {
		return nil, err
	}
	set, err := adult.Load(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	d, err := experiment.Prepare(set, cfg)
	if err != nil {
		return nil, err
	}
	export, err := NewRefData(d, cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5ade))
	half := rng.Perm(d.Train.Rows())[:d.Train.Rows()/2]
	slices.Sort(half)
	export.Meta.ShadowRows = half
	export.Params = cfg.Arch.Init(cfg.Seed + 100)
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	return &Env{Config: cfg, Data: d, Export: export, Backend: b, WorkDir: o.outDir, Log: logw}, nil
}

// commandLine is how this run was started, for the table's header.
func commandLine(args []string) string {
	cmd := "go run ./scripts/bench"
	if e := os.Getenv("GOEXPERIMENT"); e != "" {
		cmd = "GOEXPERIMENT=" + e + " " + cmd
	}
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	return cmd
}
