package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/fimprune/fimprune/fimlib/backend"
)

// machineHeader describes where and how the Go side ran; backendName is the
// started backend's own name (Config says what was asked for).
func machineHeader(now time.Time, backendName string) []HeaderLine {
	goexperiment, gomlx := "(none)", "?"
	b := backend.CurrentBuild()
	if b.GOEXPERIMENT != "" {
		goexperiment = b.GOEXPERIMENT
	}
	if b.Gomlx != "" {
		gomlx = b.Gomlx
	}
	return []HeaderLine{
		{"machine", fmt.Sprintf("%s, %d cores, %s/%s", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)},
		{"Go", fmt.Sprintf("%s, GOEXPERIMENT=%s, gomlx %s, backend %s (%s)", runtime.Version(), goexperiment, gomlx, backend.Config(), backendName)},
		{"date", now.Format("2006-01-02")},
	}
}

// cpuModel is /proc/cpuinfo's first "model name" (Linux), else "unknown CPU".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// referenceHeader describes a reference column's full configuration from
// its own report: torch, Python and numpy; the BLAS (for OpenBLAS the core
// type it runs, its threads and the environment that steered it); torch's
// intra-op threads; the training batches; for the best column how the probe
// chose it and whether it reuses an earlier column's run.
func referenceHeader(v *referenceVariant, python string) HeaderLine {
	ref := v.ref
	torch, _ := ref.String("torch_version")
	py, _ := ref.String("python_version")
	np, _ := ref.String("numpy_version")
	loader, _ := ref.String("loader")
	how := "PyTorch's default"
	if v.config.Threads > 0 {
		how = "torch.set_num_threads"
	}
	threads := fmt.Sprintf("%g intra-op threads", ref.Values["threads"])
	if ref.Values["threads"] == 1 {
		threads = "1 intra-op thread"
	}
	value := fmt.Sprintf("torch %s (%s, Python %s, numpy %s); BLAS %s; %s (%s); training batches from %s",
		torch, python, py, np, blasDescription(ref), threads, how, loaderName(loader))
	if v.chosen != "" {
		value = v.chosen + ": " + value
	}
	if v.sameAs != "" {
		value += "; the same run as the " + v.sameAs + " column"
	}
	return HeaderLine{v.column, value}
}

// loadAverage is the 1-minute load average from /proc/loadavg (Linux), else
// "?". Other processes on the machine change every timing here; the header
// shows the load at the start and the end so a reader can tell.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
