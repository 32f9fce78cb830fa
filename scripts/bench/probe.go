package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The reference's configuration space: what a user of Debian's PyTorch on
// this machine could try without building anything. Which BLAS the process
// calls ([blasChoice]), how many intra-op threads torch runs, and how the
// training batches are drawn. Before the reference's columns run, the
// harness times a short probe (bench/reference.py's "probe" section:
// PROBE_EPOCHS epochs of the seed recipe on the training split, batch 64,
// validation included) in one process per configuration, and runs the
// fastest as the "PyTorch (best)" column. The protocol, the shadow model and
// the epoch rows are mostly such epochs, so the probe ranks configurations
// by what those rows measure.

// blasChoice is which BLAS a reference process calls, and how OpenBLAS picks
// its kernels.
type blasChoice int

const (
	// blasInstalled: whatever libblas.so.3 resolves to (the netlib reference
	// BLAS where python3-torch is all that is installed).
	blasInstalled blasChoice = iota
	// blasOpenBLAS: OpenBLAS first on LD_LIBRARY_PATH, with the environment
	// as it is (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE included).
	blasOpenBLAS
	// blasOpenBLASDetect: the same with [openBLASTuning] unset for that
	// process, so that OpenBLAS detects the CPU and picks its kernels.
	blasOpenBLASDetect
)

// openBLASTuning are the environment variables that override OpenBLAS's own
// choice of kernels (core type) and blocking (L2 size).
var openBLASTuning = []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}

// String names the choice in the probe's table.
func (b blasChoice) String() string {
	switch b {
	case blasInstalled:
		return "BLAS as installed"
	case blasOpenBLAS:
		return "OpenBLAS, environment as is"
	case blasOpenBLASDetect:
		return "OpenBLAS, " + strings.Join(openBLASTuning, " and ") + " unset"
	}
	return fmt.Sprintf("blasChoice(%d)", int(b))
}

// Training batches of the reference (its --loader).
const (
	loaderDataLoader = "dataloader" // a DataLoader over a TensorDataset: the notebook idiom
	loaderIndex      = "index"      // randperm and tensor indexing
)

// loaderName is a --loader value in words.
func loaderName(loader string) string {
	switch loader {
	case loaderDataLoader:
		return "DataLoader"
	case loaderIndex:
		return "tensor indexing"
	}
	return loader
}

// torchConfig is one configuration of the reference process.
type torchConfig struct {
	BLAS    blasChoice
	Threads int    // its --threads: torch.set_num_threads (0: PyTorch's default)
	Loader  string // its --loader
}

// name is the configuration as a file name (the probe's work directory).
func (c torchConfig) name() string {
	blas := [...]string{"installed", "openblas", "openblas-detect"}[c.BLAS]
	return fmt.Sprintf("%s-t%d-%s", blas, c.Threads, c.Loader)
}

// String is the configuration in words.
func (c torchConfig) String() string {
	threads := "PyTorch's default intra-op threads"
	switch {
	case c.Threads == 1:
		threads = "1 intra-op thread"
	case c.Threads > 1:
		threads = fmt.Sprintf("%d intra-op threads", c.Threads)
	}
	return fmt.Sprintf("%s; %s; batches from %s", c.BLAS, threads, loaderName(c.Loader))
}

// tuningSet reports whether environ sets any of [openBLASTuning]; if not,
// blasOpenBLASDetect is the same as blasOpenBLAS.
func tuningSet(environ []string) bool {
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if slices.Contains(openBLASTuning, k) && v != "" {
			return true
		}
	}
	return false
}

// probeConfigs lists the configurations the probe times, in the order they
// run and print: each BLAS choice that exists here (OpenBLAS only if
// openblas; the detecting variant only if tuned, else it would repeat the
// other) × threads × both loaders.
func probeConfigs(openblas, tuned bool, threads []int) []torchConfig {
	blas := []blasChoice{blasInstalled}
	if openblas {
		blas = append(blas, blasOpenBLAS)
		if tuned {
			blas = append(blas, blasOpenBLASDetect)
		}
	}
	var out []torchConfig
	for _, b := range blas {
		for _, t := range threads {
			for _, l := range []string{loaderDataLoader, loaderIndex} {
				out = append(out, torchConfig{BLAS: b, Threads: t, Loader: l})
			}
		}
	}
	return out
}

// parseThreads reads -probe-threads: distinct positive counts, in order.
func parseThreads(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-probe-threads: %q is not a positive thread count", f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// referenceEnv is the environment of a reference process: environ with libs
// first on LD_LIBRARY_PATH ("" leaves it) and, if unsetTuning, without
// [openBLASTuning].
func referenceEnv(environ []string, libs string, unsetTuning bool) []string {
	out := make([]string, 0, len(environ)+1)
	path := libs
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case unsetTuning && slices.Contains(openBLASTuning, k):
			continue
		case k == "LD_LIBRARY_PATH" && libs != "":
			if v != "" {
				path += string(os.PathListSeparator) + v
			}
			continue
		}
		out = append(out, kv)
	}
	if libs != "" {
		out = append(out, "LD_LIBRARY_PATH="+path)
	}
	return out
}

// probeResult is one configuration's probe.
type probeResult struct {
	Config  torchConfig
	Seconds float64 // wall time of its fastest probe epoch
	CPU     float64 // CPU time (user + system, all threads) of that epoch
	Ref     *Reference
	Err     error
}

// newProbeResult reads a probe's output.
func newProbeResult(c torchConfig, ref *Reference, err error) probeResult {
	p := probeResult{Config: c, Seconds: math.NaN(), CPU: math.NaN(), Ref: ref, Err: err}
	if err != nil {
		return p
	}
	var ok bool
	if p.Seconds, ok = ref.Values["seconds/probe_epoch"]; !ok {
		p.Seconds, p.Err = math.NaN(), fmt.Errorf("the reference's output has no seconds/probe_epoch")
	}
	if v, ok := ref.Values["cpu_seconds/probe_epoch"]; ok {
		p.CPU = v
	}
	return p
}

// bestProbe returns the index of the fastest successful probe (the first of
// equals, i.e. the simpler configuration), or -1 if none succeeded.
func bestProbe(results []probeResult) int {
	best := -1
	for i, r := range results {
		if r.Err != nil || math.IsNaN(r.Seconds) || r.Seconds <= 0 {
			continue
		}
		if best < 0 || r.Seconds < results[best].Seconds {
			best = i
		}
	}
	return best
}

// runProbes times the probe in one reference process per configuration.
// A failed probe is reported and left out of the choice.
func runProbes(ctx context.Context, base referenceRun, configs []torchConfig, openblasLibs string, workDir string, log io.Writer) []probeResult {
	out := make([]probeResult, 0, len(configs))
	for i, c := range configs {
		r := base
		r.sections, r.config, r.outDir = []string{"probe"}, c, filepath.Join(workDir, c.name())
		r.libs = ""
		if c.BLAS != blasInstalled {
			r.libs = openblasLibs
		}
		fmt.Fprintf(log, "bench: probe %d/%d: %s\n", i+1, len(configs), c)
		var ref *Reference
		err := os.MkdirAll(r.outDir, 0o755)
		if err == nil {
			ref, err = runReference(ctx, r, log)
		}
		p := newProbeResult(c, ref, err)
		if p.Err != nil {
			fmt.Fprintf(log, "bench: probe %s failed: %v\n", c, p.Err)
		}
		out = append(out, p)
	}
	return out
}

// effectiveConfig is the configuration a finished run actually had: its
// thread count and loader as the reference reports them (a configuration
// with PyTorch's default threads is then comparable with a probe's).
func effectiveConfig(c torchConfig, ref *Reference) torchConfig {
	if ref == nil {
		return c
	}
	if t, ok := ref.Values["threads"]; ok {
		c.Threads = int(t)
	}
	if l, ok := ref.String("loader"); ok {
		c.Loader = l
	}
	return c
}

// ProbeTable is the probe's report: one row per configuration.
type ProbeTable struct {
	Title   string
	Results []probeResult
	Best    int // index into Results; -1: none
}

// probeTitles are the probe table's column titles.
var probeTitles = []string{"configuration", "BLAS", "OpenBLAS core (its threads)", "torch threads", "batches", "s per epoch", "CPU s per epoch", "chosen"}

func (t ProbeTable) rows() [][]string {
	var rows [][]string
	for i, r := range t.Results {
		blas, core, threads := "—", "—", "—"
		if r.Ref != nil {
			blas = blasName(r.Ref)
			core = openBLASCore(r.Ref)
			if v, ok := r.Ref.Values["threads"]; ok {
				threads = strconv.Itoa(int(v))
			}
		} else if r.Err != nil {
			blas = "failed: " + r.Err.Error()
		}
		chosen := ""
		if i == t.Best {
			chosen = "best"
		}
		rows = append(rows, []string{r.Config.BLAS.String(), blas, core, threads, loaderName(r.Config.Loader),
			formatValue(r.Seconds, Seconds), formatValue(r.CPU, Seconds), chosen})
	}
	return rows
}

// WriteText writes the probe table for a terminal.
func (t ProbeTable) WriteText(w io.Writer) error {
	fmt.Fprintln(w, t.Title)
	fmt.Fprintln(w)
	return writeTextGrid(w, probeTitles, t.rows())
}

// WriteMarkdown writes the probe table as Markdown.
func (t ProbeTable) WriteMarkdown(w io.Writer) error {
	fmt.Fprintln(w, escapeCell(t.Title))
	fmt.Fprintln(w)
	if err := writeMarkdownGrid(w, probeTitles, t.rows(), 5); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
}

// openBLAS is the reference's "openblas" object: what OpenBLAS reported
// about itself (nil when the process had none).
func openBLAS(ref *Reference) map[string]any {
	if ref == nil {
		return nil
	}
	m, _ := ref.Raw["openblas"].(map[string]any)
	return m
}

// blasName is the BLAS a reference process loaded, short: "OpenBLAS 0.3.21"
// (from openblas_get_config), else the reference's own description without
// the library's path ("netlib reference BLAS").
func blasName(ref *Reference) string {
	if ob := openBLAS(ref); ob != nil {
		if cfg, ok := ob["config"].(string); ok {
			if f := strings.Fields(cfg); len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
		return "OpenBLAS"
	}
	s, ok := ref.String("blas")
	if !ok {
		return "unknown"
	}
	kind, _, _ := strings.Cut(s, ":")
	return kind
}

// openBLASCore is "Cooperlake (2)": the core type OpenBLAS runs its kernels
// for, and its thread count; "—" without OpenBLAS.
func openBLASCore(ref *Reference) string {
	ob := openBLAS(ref)
	if ob == nil {
		return "—"
	}
	core, _ := ob["corename"].(string)
	if n, ok := ob["num_threads"].(float64); ok {
		return fmt.Sprintf("%s (%d)", core, int(n))
	}
	return core
}

// openBLASEnv is how the reference process's environment steered OpenBLAS:
// "OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512", or which were unset.
func openBLASEnv(ref *Reference) string {
	env, _ := ref.Raw["openblas_env"].(map[string]any)
	var set, unset []string
	for _, k := range openBLASTuning {
		if v, ok := env[k].(string); ok {
			set = append(set, k+"="+v)
		} else {
			unset = append(unset, k)
		}
	}
	switch {
	case len(unset) == 0:
		return strings.Join(set, ", ")
	case len(set) == 0:
		return strings.Join(unset, " and ") + " unset"
	}
	return strings.Join(set, ", ") + "; " + strings.Join(unset, " and ") + " unset"
}

// blasDescription is a reference run's BLAS in full, for the table's header.
func blasDescription(ref *Reference) string {
	if ob := openBLAS(ref); ob != nil {
		lib, _ := ob["library"].(string)
		core, _ := ob["corename"].(string)
		threads := "?"
		if n, ok := ob["num_threads"].(float64); ok {
			threads = strconv.Itoa(int(n))
		}
		return fmt.Sprintf("%s (%s), core %s (openblas_get_corename), %s OpenBLAS threads, %s", blasName(ref), lib, core, threads, openBLASEnv(ref))
	}
	s, _ := ref.String("blas")
	return s
}
