package main

import (
	"context"
	"io"
	"math"
	"strings"

	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/gomlx/compute"
)

// Benchmark is one named entry of the harness. To add one, write its Run and
// append it to [benchmarks]; -only selects entries by Name. A Go-only entry
// leaves Reference empty and its figures' Ref nil; one that compares with an
// existing reference figure points Ref at it (e.g. the shadow section's
// "seconds/shadow_one" for the one-at-a-time comparison of batched shadow
// training); a new PyTorch figure
// needs a section in bench/reference.py, named in Reference. Data both sides
// must share goes into the export in newEnv.
type Benchmark struct {
	Name  string // what -only selects
	About string // one line: what it measures (shown by -h)
	// Reference names the sections of bench/reference.py this entry compares
	// with (passed to its --only); none means a Go-only entry.
	Reference []string
	// Run measures the Go side. Its figures say where the reference keeps the
	// numbers they are compared with (Figure.Ref), which are looked up after
	// the reference has run.
	Run func(ctx context.Context, env *Env) ([]Figure, error)
}

// Unit says what a figure measures, how it is printed, and whether a
// Go ÷ PyTorch ratio means something.
type Unit string

const (
	Seconds   Unit = "s"
	Epochs    Unit = "epochs"
	Accuracy  Unit = "accuracy"
	Megabytes Unit = "MB"
	RelDiff   Unit = "rel. diff"
	Ratio     Unit = "ratio" // a Go-side ratio (e.g. a deletion's cost ÷ retraining's)
)

// hasRatio reports whether Go ÷ PyTorch is meaningful for u (costs, not scores).
func (u Unit) hasRatio() bool { return u == Seconds || u == Megabytes }

// Figure is one row of the table: a Go number and how to find the PyTorch
// number it is compared with.
type Figure struct {
	Label string
	Unit  Unit
	Go    float64  // NaN: the Go side has no such figure
	Ref   RefValue // nil: the reference has no such figure
}

// noGo marks a figure only the reference has.
var noGo = math.NaN()

// RefValue extracts a number from one run of the reference (ref is never
// nil); false leaves the cell empty.
type RefValue func(ref *Reference) (float64, bool)

// RefKey reads the reference's figure at key: JSON object keys joined by
// "/", e.g. "seconds/train_full" or "seconds/prune_finetune/0.2".
func RefKey(key string) RefValue {
	return func(ref *Reference) (float64, bool) {
		v, ok := ref.Values[key]
		return v, ok
	}
}

// Times scales a reference figure by k (e.g. one shadow model × 64).
func (r RefValue) Times(k float64) RefValue {
	return func(ref *Reference) (float64, bool) {
		v, ok := r(ref)
		return v * k, ok
	}
}

// Per divides a reference figure by another (e.g. seconds per epoch).
func (r RefValue) Per(d RefValue) RefValue {
	return func(ref *Reference) (float64, bool) {
		a, ok1 := r(ref)
		b, ok2 := d(ref)
		return a / b, ok1 && ok2 && b != 0
	}
}

// Env is what benchmarks share: the seed protocol's configuration, its
// prepared data, the export the reference reads, and a compute backend.
type Env struct {
	Config  experiment.Config // experiment.Default with DataDir set
	Data    *experiment.Data
	Export  *RefData // written for the reference before any benchmark runs
	Backend compute.Backend
	WorkDir string
	Log     io.Writer // progress; io.Discard with -quiet
}

// benchmarks is the harness's list, in the order they run and print.
var benchmarks = []Benchmark{
	{Name: "protocol", About: "the seed protocol end to end (fimlib/experiment, default configuration)",
		Reference: []string{"protocol"}, Run: benchProtocol},
	{Name: "fisher-all", About: "the exact per-example diagonal Fisher over every training row (fimlib/fisher)",
		Reference: []string{"fisher-all"}, Run: benchFisherAll},
	{Name: "shadow", About: "one shadow model, seed recipe, on a random half of the training rows",
		Reference: []string{"shadow"}, Run: benchShadow},
	{Name: "epoch", About: "one training epoch at batch 64 over the training split",
		Reference: []string{"epoch"}, Run: benchEpoch},
	{Name: "shadows", About: "64 shadow models (seed recipe, random halves) as shadow.Train trains them (train.FitEnsemble ensembles, two side by side), against PyTorch's batched ensemble and its one shadow at a time",
		Reference: []string{"ensemble", "shadow"}, Run: benchShadows},
	{Name: "deletion", About: "one deletion (Fisher + prune 0.2 + fine-tune, seed and fast recipes) against retraining, one model at a time",
		Run: benchDeletion},
}

// benchmarkNames lists the known names, for usage messages.
func benchmarkNames() string {
	names := make([]string, len(benchmarks))
	for i, b := range benchmarks {
		names[i] = b.Name
	}
	return strings.Join(names, ",")
}
