package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestProbeConfigs(t *testing.T) {
	all := probeConfigs(true, true, []int{1, 2})
	if len(all) != 12 {
		t.Fatalf("%d configurations with OpenBLAS and a tuned environment, want 3 BLAS × 2 threads × 2 loaders = 12", len(all))
	}
	want := []torchConfig{{blasInstalled, 1, loaderDataLoader}, {blasInstalled, 1, loaderIndex}, {blasInstalled, 2, loaderDataLoader}}
	if !reflect.DeepEqual(all[:3], want) {
		t.Errorf("first configurations %v, want %v", all[:3], want)
	}
	names := map[string]bool{}
	for _, c := range all {
		if names[c.name()] {
			t.Errorf("two configurations named %s", c.name())
		}
		names[c.name()] = true
	}
	// Without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE in the environment, unsetting
	// them changes nothing: that BLAS choice is left out.
	if got := probeConfigs(true, false, []int{1, 2}); len(got) != 8 || slices.ContainsFunc(got, func(c torchConfig) bool { return c.BLAS == blasOpenBLASDetect }) {
		t.Errorf("untuned environment: %v", got)
	}
	if got := probeConfigs(false, true, []int{3}); !reflect.DeepEqual(got, []torchConfig{{blasInstalled, 3, loaderDataLoader}, {blasInstalled, 3, loaderIndex}}) {
		t.Errorf("without OpenBLAS: %v", got)
	}
}

func TestTuningSet(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want bool
	}{
		{[]string{"PATH=/bin", "OPENBLAS_CORETYPE=Haswell"}, true},
		{[]string{"OPENBLAS_L2_SIZE=512"}, true},
		{[]string{"OPENBLAS_CORETYPE="}, false},
		{[]string{"OPENBLAS_NUM_THREADS=2", "XOPENBLAS_CORETYPE=Haswell"}, false},
	} {
		if got := tuningSet(c.env); got != c.want {
			t.Errorf("tuningSet(%q) = %v, want %v", c.env, got, c.want)
		}
	}
}

func TestParseThreads(t *testing.T) {
	got, err := parseThreads(" 2,1, 2")
	if err != nil || !reflect.DeepEqual(got, []int{2, 1}) {
		t.Errorf("parseThreads = %v, %v; want [2 1]", got, err)
	}
	for _, bad := range []string{"", "0", "1,x", "-1"} {
		if _, err := parseThreads(bad); err == nil {
			t.Errorf("parseThreads(%q) accepted", bad)
		}
	}
}

func TestReferenceEnv(t *testing.T) {
	env := []string{"PATH=/bin", "OPENBLAS_CORETYPE=Haswell", "OPENBLAS_L2_SIZE=512", "OPENBLAS_NUM_THREADS=2", "LD_LIBRARY_PATH=/opt/lib"}
	for _, c := range []struct {
		name  string
		libs  string
		unset bool
		want  []string
	}{
		{"as installed", "", false, env},
		{"OpenBLAS, environment as is", "/ob", false,
			[]string{"PATH=/bin", "OPENBLAS_CORETYPE=Haswell", "OPENBLAS_L2_SIZE=512", "OPENBLAS_NUM_THREADS=2", "LD_LIBRARY_PATH=/ob:/opt/lib"}},
		{"OpenBLAS, tuning unset", "/ob", true, []string{"PATH=/bin", "OPENBLAS_NUM_THREADS=2", "LD_LIBRARY_PATH=/ob:/opt/lib"}},
	} {
		if got := referenceEnv(env, c.libs, c.unset); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	if got := referenceEnv([]string{"PATH=/bin"}, "/ob", false); !reflect.DeepEqual(got, []string{"PATH=/bin", "LD_LIBRARY_PATH=/ob"}) {
		t.Errorf("no LD_LIBRARY_PATH before: got %q", got)
	}
}

func TestReferenceArgs(t *testing.T) {
	r := referenceRun{script: "ref.py", dataDir: "d", outDir: "o", sections: []string{"ensemble", "shadow"},
		config: torchConfig{BLAS: blasOpenBLASDetect, Threads: 2, Loader: loaderIndex}}
	want := []string{"ref.py", "--data", "d", "--out", "o", "--only", "ensemble,shadow", "--threads", "2", "--loader", "index", "--ensemble-models", "64"}
	if got := r.args(); !reflect.DeepEqual(got, want) {
		t.Errorf("args %q, want %q", got, want)
	}
	r.sections, r.config = []string{"probe"}, torchConfig{}
	if got := r.args(); !reflect.DeepEqual(got, []string{"ref.py", "--data", "d", "--out", "o", "--only", "probe"}) {
		t.Errorf("PyTorch's defaults: args %q", got)
	}
}

// probeOutput is a probe's JSON as bench/reference.py writes it.
func probeOutput(t *testing.T, seconds float64, threads int, loader string, corename string) *Reference {
	t.Helper()
	ob := "null"
	if corename != "" {
		ob = `{"corename": "` + corename + `", "config": "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY ` + corename + ` MAX_THREADS=64", "num_threads": 2, "library": "/x/libopenblasp-r0.3.21.so"}`
	}
	ref, err := ParseReference([]byte(`{"seconds": {"load": 0.05, "probe_epoch": ` + jsonFloat(seconds) + `}, "cpu_seconds": {"probe_epoch": 0.5},
		"probe": {"epochs": 2, "epoch_seconds": [0.9, 0.4]}, "threads": ` + jsonFloat(float64(threads)) + `, "loader": "` + loader + `",
		"blas": "netlib reference BLAS: /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "openblas": ` + ob + `,
		"openblas_env": {"OPENBLAS_L2_SIZE": "512"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func jsonFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestBestProbe(t *testing.T) {
	c := probeConfigs(true, true, []int{1, 2})
	results := []probeResult{
		newProbeResult(c[0], probeOutput(t, 0.9, 1, loaderDataLoader, ""), nil),
		newProbeResult(c[1], nil, errors.New("crashed")),
		newProbeResult(c[2], probeOutput(t, 0.31, 2, loaderDataLoader, "Haswell"), nil),
		newProbeResult(c[3], probeOutput(t, 0.25, 2, loaderIndex, "Cooperlake"), nil),
		newProbeResult(c[4], probeOutput(t, 0.25, 1, loaderIndex, "Cooperlake"), nil), // as fast: the earlier one stays
		newProbeResult(c[5], &Reference{Values: map[string]float64{}}, nil),           // no probe figure: an error
	}
	if got := bestProbe(results); got != 3 {
		t.Errorf("best = %d, want 3 (the fastest, first of equals)", got)
	}
	if results[5].Err == nil || !math.IsNaN(results[5].Seconds) {
		t.Errorf("output without seconds/probe_epoch: %+v", results[5])
	}
	if results[3].Seconds != 0.25 || results[3].CPU != 0.5 {
		t.Errorf("parsed %v s, CPU %v s; want 0.25 and 0.5", results[3].Seconds, results[3].CPU)
	}
	if got := bestProbe(results[1:2]); got != -1 {
		t.Errorf("only failures: best = %d, want -1", got)
	}
	if got := bestProbe(nil); got != -1 {
		t.Errorf("no probes: best = %d, want -1", got)
	}
}

func TestEffectiveConfig(t *testing.T) {
	// A column at PyTorch's default threads that ran with 1 thread is the
	// probe's 1-thread configuration: the best column reuses its run.
	col := torchConfig{BLAS: blasOpenBLAS, Threads: 0, Loader: loaderDataLoader}
	got := effectiveConfig(col, probeOutput(t, 1, 1, loaderDataLoader, "Haswell"))
	if want := (torchConfig{BLAS: blasOpenBLAS, Threads: 1, Loader: loaderDataLoader}); got != want {
		t.Errorf("effective %v, want %v", got, want)
	}
	if got := effectiveConfig(col, nil); got != col {
		t.Errorf("without output: %v", got)
	}
}

func TestReusable(t *testing.T) {
	ref := probeOutput(t, 1, 1, loaderDataLoader, "Haswell")
	netlib := &referenceVariant{column: "PyTorch", config: torchConfig{BLAS: blasInstalled, Loader: loaderDataLoader}, ref: ref}
	openblas := &referenceVariant{column: "PyTorch + OpenBLAS", config: torchConfig{BLAS: blasOpenBLAS, Loader: loaderDataLoader}, ref: ref}
	best := &referenceVariant{column: bestColumn, chosen: "the fastest", config: torchConfig{BLAS: blasOpenBLAS, Threads: 1, Loader: loaderDataLoader}}
	if u := reusable(best, []*referenceVariant{netlib, openblas}); u != openblas {
		t.Errorf("reusable = %v, want the OpenBLAS column", u)
	}
	for name, c := range map[string]torchConfig{
		"other loader":  {BLAS: blasOpenBLAS, Threads: 1, Loader: loaderIndex},
		"other threads": {BLAS: blasOpenBLAS, Threads: 2, Loader: loaderDataLoader},
		"other BLAS":    {BLAS: blasOpenBLASDetect, Threads: 1, Loader: loaderDataLoader},
	} {
		b := *best
		b.config = c
		if u := reusable(&b, []*referenceVariant{netlib, openblas}); u != nil {
			t.Errorf("%s: reuses the %s column", name, u.column)
		}
	}
	failed := *openblas
	failed.err = errors.New("failed")
	if u := reusable(best, []*referenceVariant{&failed}); u != nil {
		t.Error("reuses a failed run")
	}
	plain := *openblas
	if u := reusable(&plain, []*referenceVariant{openblas}); u != nil {
		t.Error("a column the probe did not choose reuses a run")
	}
}

func TestReferenceHeader(t *testing.T) {
	ref := probeOutput(t, 0.2, 1, loaderIndex, "Cooperlake")
	ref.Raw["torch_version"], ref.Raw["python_version"], ref.Raw["numpy_version"] = "1.13.0a0", "3.11.2", "1.24.2"
	v := &referenceVariant{column: bestColumn, config: torchConfig{BLAS: blasOpenBLASDetect, Threads: 1, Loader: loaderIndex},
		chosen: "the fastest of 12 probe configurations (0.200 s per epoch)", sameAs: "PyTorch + OpenBLAS", ref: ref}
	h := referenceHeader(v, "/usr/bin/python3")
	for _, want := range []string{"the fastest of 12 probe configurations (0.200 s per epoch): torch 1.13.0a0 (/usr/bin/python3, Python 3.11.2, numpy 1.24.2)",
		"BLAS OpenBLAS 0.3.21 (/x/libopenblasp-r0.3.21.so), core Cooperlake (openblas_get_corename), 2 OpenBLAS threads",
		"1 intra-op thread (torch.set_num_threads); training batches from tensor indexing; the same run as the PyTorch + OpenBLAS column"} {
		if h.Key != bestColumn || !strings.Contains(h.Value, want) {
			t.Errorf("header %s: %q lacks %q", h.Key, h.Value, want)
		}
	}
	v = &referenceVariant{column: "PyTorch", ref: probeOutput(t, 0.9, 2, loaderDataLoader, "")}
	if h := referenceHeader(v, "python3"); !strings.Contains(h.Value, "BLAS netlib reference BLAS: /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0; 2 intra-op threads (PyTorch's default); training batches from DataLoader") {
		t.Errorf("header %q", h.Value)
	}
}

func TestBLASDescriptions(t *testing.T) {
	ob := probeOutput(t, 0.3, 1, loaderIndex, "Cooperlake")
	if got, want := blasName(ob), "OpenBLAS 0.3.21"; got != want {
		t.Errorf("blasName = %q, want %q", got, want)
	}
	if got, want := openBLASCore(ob), "Cooperlake (2)"; got != want {
		t.Errorf("openBLASCore = %q, want %q", got, want)
	}
	if got, want := openBLASEnv(ob), "OPENBLAS_L2_SIZE=512; OPENBLAS_CORETYPE unset"; got != want {
		t.Errorf("openBLASEnv = %q, want %q", got, want)
	}
	if got := blasDescription(ob); !strings.Contains(got, "core Cooperlake (openblas_get_corename), 2 OpenBLAS threads") {
		t.Errorf("blasDescription = %q", got)
	}
	netlib := probeOutput(t, 0.9, 1, loaderDataLoader, "")
	if got, want := blasName(netlib), "netlib reference BLAS"; got != want {
		t.Errorf("blasName = %q, want %q", got, want)
	}
	if got := openBLASCore(netlib); got != "—" {
		t.Errorf("openBLASCore without OpenBLAS = %q", got)
	}
}

func TestProbeTableRendering(t *testing.T) {
	c := probeConfigs(true, true, []int{1})
	tab := ProbeTable{Title: "probe: test", Best: 1, Results: []probeResult{
		newProbeResult(c[0], probeOutput(t, 0.9, 1, loaderDataLoader, ""), nil),
		newProbeResult(c[5], probeOutput(t, 0.25, 1, loaderIndex, "Cooperlake"), nil),
		newProbeResult(c[2], nil, errors.New("exit status 1")),
	}}
	var md bytes.Buffer
	if err := tab.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	want := `probe: test

| configuration | BLAS | OpenBLAS core (its threads) | torch threads | batches | s per epoch | CPU s per epoch | chosen |
| --- | --- | --- | --- | --- | ---: | ---: | ---: |
| BLAS as installed | netlib reference BLAS | — | 1 | DataLoader | 0.900 s | 0.500 s |  |
| OpenBLAS, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset | OpenBLAS 0.3.21 | Cooperlake (2) | 1 | tensor indexing | 0.250 s | 0.500 s | best |
| OpenBLAS, environment as is | failed: exit status 1 | — | — | DataLoader | — | — |  |

`
	if md.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", md.String(), want)
	}
}

// fakeReference writes a stand-in for bench/reference.py's interpreter: a
// shell script that answers the probe as if OpenBLAS with its core type
// unset, 2 threads and tensor indexing were fastest, and logs its arguments
// and OpenBLAS environment.
func fakeReference(t *testing.T) (python, calls string) {
	t.Helper()
	dir := t.TempDir()
	calls = filepath.Join(dir, "calls.log")
	script := `#!/bin/sh
threads=1 loader=dataloader
while [ $# -gt 0 ]; do
	case "$1" in
	--threads) threads=$2; shift ;;
	--loader) loader=$2; shift ;;
	esac
	shift
done
secs=9
case "$LD_LIBRARY_PATH" in /ob*) secs=5 ;; esac
if [ "$secs" = 5 ] && [ -z "$OPENBLAS_CORETYPE" ]; then secs=3; fi
if [ "$threads" = 2 ]; then secs=$((secs - 1)); fi
if [ "$loader" = index ]; then secs=$((secs - 1)); fi
echo "threads=$threads loader=$loader lib=$LD_LIBRARY_PATH core=$OPENBLAS_CORETYPE l2=$OPENBLAS_L2_SIZE secs=$secs" >> "` + calls + `"
echo "{\"seconds\": {\"probe_epoch\": $secs}, \"threads\": $threads, \"loader\": \"$loader\", \"probe\": {\"epochs\": 2}}"
`
	python = filepath.Join(dir, "python3")
	if err := os.WriteFile(python, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return python, calls
}

// TestProbeChoosesFastest runs the probe against the fake reference: every
// configuration in its own process with its own environment, and the
// fastest becomes the best column.
func TestProbeChoosesFastest(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake reference is a shell script")
	}
	python, calls := fakeReference(t)
	t.Setenv("OPENBLAS_CORETYPE", "Haswell")
	t.Setenv("OPENBLAS_L2_SIZE", "512")
	t.Setenv("LD_LIBRARY_PATH", "")
	work := t.TempDir()
	o := options{outDir: work, probeThreads: []int{1, 2}}
	variants := []*referenceVariant{
		{column: "PyTorch", config: torchConfig{BLAS: blasInstalled, Loader: loaderDataLoader}},
		{column: "PyTorch + OpenBLAS", config: torchConfig{BLAS: blasOpenBLAS, Loader: loaderDataLoader}, libs: "/ob"},
	}
	var log bytes.Buffer
	table, best := probeBest(context.Background(), o, variants, referenceRun{python: python, script: "ref.py", dataDir: "d"}, 100, &log)
	if len(table.Results) != 12 {
		t.Fatalf("%d probes, want 12\n%s", len(table.Results), log.String())
	}
	want := torchConfig{BLAS: blasOpenBLASDetect, Threads: 2, Loader: loaderIndex}
	if best.skipped != "" || best.config != want || best.libs != "/ob" || table.Results[table.Best].Config != want {
		t.Errorf("best %+v, want %v with OpenBLAS at /ob\n%s", best, want, log.String())
	}
	if best.column != bestColumn || !strings.Contains(best.chosen, "fastest of 12") || !strings.Contains(table.Title, "2 epochs") {
		t.Errorf("column %q, chosen %q, title %q", best.column, best.chosen, table.Title)
	}
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d processes, want 12:\n%s", len(lines), b)
	}
	for _, want := range []string{
		"threads=1 loader=dataloader lib= core=Haswell l2=512 secs=9", // as installed: environment untouched
		"threads=2 loader=index lib=/ob core=Haswell l2=512 secs=3",   // OpenBLAS as the environment sets it
		"threads=2 loader=index lib=/ob core= l2= secs=1",             // OpenBLAS detecting the CPU
		"threads=1 loader=dataloader lib=/ob core= l2= secs=3",        // ... with 1 thread and a DataLoader
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no process %q among:\n%s", want, b)
		}
	}

	// Every probe failing leaves the best column skipped, with the reason.
	_, best = probeBest(context.Background(), o, variants, referenceRun{python: "/nonexistent/python3", script: "ref.py"}, 100, &bytes.Buffer{})
	if !strings.Contains(best.skipped, "every one of the 12 probes failed") {
		t.Errorf("all probes failing: skipped %q", best.skipped)
	}
	// Without the OpenBLAS column the probe tries the installed BLAS only.
	variants[1].skipped = "no OpenBLAS"
	table, _ = probeBest(context.Background(), o, variants, referenceRun{python: python, script: "ref.py"}, 100, &bytes.Buffer{})
	if len(table.Results) != 4 {
		t.Errorf("without OpenBLAS: %d probes, want 4", len(table.Results))
	}
}
