package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
)

// shadowModels is how many shadow models the extrapolated row stands for
// (a LiRA-style study).
const shadowModels = 64

// benchProtocol runs experiment.Run with the default configuration, as
// scripts/experiment does, and reports the per-phase times it records.
func benchProtocol(ctx context.Context, env *Env) ([]Figure, error) {
	cfg := env.Config
	cfg.OutDir = filepath.Join(env.WorkDir, "protocol")
	cfg.Log = env.Log
	t0, cpu0 := time.Now(), cpuSeconds()
	res, err := experiment.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-cpu0
	m := res.Models
	figs := []Figure{
		{Label: "protocol: load data", Unit: Seconds, Go: res.Timings.LoadData, Ref: RefKey("seconds/load")},
		{Label: "protocol: train full model", Unit: Seconds, Go: m.Full.TrainSeconds, Ref: RefKey("seconds/train_full")},
		{Label: "protocol: full model, epochs", Unit: Epochs, Go: float64(m.Full.Epochs), Ref: RefKey("epochs/full")},
		{Label: "protocol: train retrained model", Unit: Seconds, Go: m.Retrain.TrainSeconds, Ref: RefKey("seconds/train_retrain")},
		{Label: "protocol: retrained model, epochs", Unit: Epochs, Go: float64(m.Retrain.Epochs), Ref: RefKey("epochs/retrain")},
		{Label: fmt.Sprintf("protocol: Fisher of the %d deletion rows", res.Fisher.Rows), Unit: Seconds, Go: res.Fisher.Seconds, Ref: RefKey("seconds/fisher_deletion")},
	}
	for _, p := range m.Pruned {
		f := strconv.FormatFloat(p.Fraction, 'g', -1, 64)
		// DeletionSeconds includes the Fisher, which has its own row.
		figs = append(figs, Figure{Label: "protocol: prune + fine-tune " + f, Unit: Seconds,
			Go: p.DeletionSeconds - res.Fisher.Seconds, Ref: RefKey("seconds/prune_finetune/" + f)})
	}
	figs = append(figs,
		Figure{Label: "protocol: attacks (all models)", Unit: Seconds, Go: noGo, Ref: RefKey("seconds/mia")},
		Figure{Label: "protocol: total (wall)", Unit: Seconds, Go: wall, Ref: RefKey("seconds/total_protocol")},
		Figure{Label: "protocol: total CPU time (user + system, all threads)", Unit: Seconds, Go: cpu, Ref: RefKey("cpu_seconds/total_protocol")},
		Figure{Label: "test accuracy: full", Unit: Accuracy, Go: m.Full.TestAccuracy, Ref: RefKey("test_accuracy/full")},
		Figure{Label: "test accuracy: retrained", Unit: Accuracy, Go: m.Retrain.TestAccuracy, Ref: RefKey("test_accuracy/retrain")},
	)
	for _, p := range m.Pruned {
		f := strconv.FormatFloat(p.Fraction, 'g', -1, 64)
		figs = append(figs, Figure{Label: "test accuracy: pruned " + f + " + fine-tune", Unit: Accuracy,
			Go: p.TestAccuracy, Ref: RefKey("test_accuracy/pruned_" + f)})
	}
	return figs, nil
}

// fisherRepeats is how many timed runs the Fisher benchmark takes the best of.
const fisherRepeats = 3

// fisherLoopRows is how many rows bench/reference.py times its per-row
// Fisher loop on before extrapolating (its FISHER_LOOP_ROWS).
const fisherLoopRows = 2000

// benchFisherAll times fisher.Diagonal over the whole training split at the
// exported parameters, after one untimed warm-up, best of fisherRepeats.
// Each call builds its graph anew (Diagonal compiles per call), so the time
// includes that.
func benchFisherAll(ctx context.Context, env *Env) ([]Figure, error) {
	store, err := mlp.NewStore(env.Export.Params, 0)
	if err != nil {
		return nil, err
	}
	defer store.Finalize()
	d := env.Data.Train
	var scores []mlp.Tensor
	best := math.Inf(1)
	for i := range fisherRepeats + 1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if scores, err = fisher.Diagonal(env.Backend, store, env.Config.Arch, d, fisher.Empirical); err != nil {
			return nil, err
		}
		if secs := time.Since(t0).Seconds(); i > 0 { // i == 0 is the warm-up
			best = min(best, secs)
		}
	}
	fmt.Fprintf(env.Log, "bench: Fisher over %d rows: best of %d %.4fs\n", d.Rows(), fisherRepeats, best)
	label := fmt.Sprintf("Fisher, all %d train rows", d.Rows())
	figs := []Figure{
		{Label: label + ", vs PyTorch per-row loop (extrapolated)", Unit: Seconds, Go: best, Ref: RefKey("seconds/fisher_all_loop_extrapolated")},
		{Label: label + ", vs PyTorch closed form", Unit: Seconds, Go: best, Ref: RefKey("seconds/fisher_all_closed_form")},
		{Label: label + ", vs PyTorch functorch vmap", Unit: Seconds, Go: best, Ref: RefKey("seconds/fisher_all_vmap")},
	}
	// The reference writes its closed-form Fisher at the same parameters:
	// how far apart are the two sides' numbers?
	diffFromGo := func(ref *Reference) (float64, bool) {
		path, ok := ref.String("fisher_all_file")
		if !ok {
			return 0, false
		}
		theirs, err := readFloats(path, env.Config.Arch.NumParams())
		if err != nil {
			fmt.Fprintf(env.Log, "bench: Fisher cross-check: %v\n", err)
			return 0, false
		}
		return maxRelDiff(scores, theirs), true
	}
	figs = append(figs,
		Figure{Label: "Fisher, all train rows: PyTorch closed form vs Go, max rel. difference", Unit: RelDiff, Go: noGo, Ref: diffFromGo},
		Figure{Label: fmt.Sprintf("Fisher, first %d train rows: PyTorch per-row loop vs its closed form, max rel. difference", fisherLoopRows),
			Unit: RelDiff, Go: noGo, Ref: RefKey("fisher_loop_vs_closed_form_max_rel_diff")})
	return figs, nil
}

// maxRelDiff is the largest |a−b| of a tensor relative to its largest |b|,
// over all tensors; b is flat, in a's order.
func maxRelDiff(a []mlp.Tensor, b []float32) float64 {
	worst := 0.0
	for _, t := range a {
		theirs := b[:len(t.Values)]
		b = b[len(t.Values):]
		scale := 0.0
		for _, v := range theirs {
			scale = max(scale, math.Abs(float64(v)))
		}
		if scale == 0 {
			scale = 1
		}
		for i, v := range t.Values {
			worst = max(worst, math.Abs(float64(v)-float64(theirs[i]))/scale)
		}
	}
	return worst
}

// benchShadow trains one model with the seed recipe (early stopping on the
// validation split) on the exported half of the training rows.
func benchShadow(ctx context.Context, env *Env) ([]Figure, error) {
	half := env.Data.Train.Select(env.Export.Meta.ShadowRows)
	arch := env.Config.Arch
	store, err := mlp.NewStore(arch.Init(env.Config.Seed+200), int64(env.Config.Seed+200))
	if err != nil {
		return nil, err
	}
	defer store.Finalize()
	cfg := env.Config.Train
	cfg.Name, cfg.Seed, cfg.Progress = "shadow", env.Config.Seed+200, train.NewProgress(env.Log)
	cpu0 := cpuSeconds()
	hist, err := train.FitContext(ctx, env.Backend, store, arch, half, &env.Data.Val, cfg)
	if err != nil {
		return nil, err
	}
	cpu := cpuSeconds() - cpu0
	ev := train.NewEvaluator(env.Backend, store, arch)
	defer ev.Finalize()
	logp, err := ev.LogProbabilities(env.Data.Test)
	if err != nil {
		return nil, err
	}
	label := fmt.Sprintf("shadow model (%d rows)", half.Rows())
	oneRef := RefKey("seconds/shadow_one")
	return []Figure{
		{Label: label + ", one", Unit: Seconds, Go: hist.Seconds, Ref: oneRef},
		{Label: label + ", one, CPU time", Unit: Seconds, Go: cpu, Ref: RefKey("cpu_seconds/shadow_one")},
		{Label: label + ", epochs", Unit: Epochs, Go: float64(hist.Epochs), Ref: RefKey("epochs/shadow")},
		{Label: label + ", per epoch", Unit: Seconds, Go: hist.Seconds / float64(hist.Epochs), Ref: oneRef.Per(RefKey("epochs/shadow"))},
		{Label: fmt.Sprintf("%d shadow models, one at a time (extrapolated)", shadowModels), Unit: Seconds,
			Go: shadowModels * hist.Seconds, Ref: oneRef.Times(shadowModels)},
		{Label: label + ", test accuracy", Unit: Accuracy, Go: train.Accuracy(logp, env.Data.Test.Y), Ref: RefKey("test_accuracy/shadow")},
	}, nil
}

// benchEpoch measures the steady-state cost of one epoch at the training
// batch size: a 1-epoch and a 4-epoch run differ by three epochs, so their
// difference leaves out the fixed cost of a run (building and compiling the
// train-step graph). That cost is too small (tens of milliseconds) to
// report on its own: on a shared machine the noise is larger.
func benchEpoch(ctx context.Context, env *Env) ([]Figure, error) {
	// fit returns the wall and CPU seconds of a run of that many epochs.
	fit := func(epochs int) (wall, cpu float64, err error) {
		arch := env.Config.Arch
		store, err := mlp.NewStore(arch.Init(env.Config.Seed+300), int64(env.Config.Seed+300))
		if err != nil {
			return 0, 0, err
		}
		defer store.Finalize()
		cfg := env.Config.Train
		cfg.Name, cfg.Seed, cfg.MaxEpochs, cfg.Patience = "epoch", env.Config.Seed+300, epochs, 0
		cpu0 := cpuSeconds()
		hist, err := train.FitContext(ctx, env.Backend, store, arch, env.Data.Train, nil, cfg)
		return hist.Seconds, cpuSeconds() - cpu0, err
	}
	one, oneCPU, err := fit(1)
	if err != nil {
		return nil, err
	}
	four, fourCPU, err := fit(4)
	if err != nil {
		return nil, err
	}
	perEpoch, perEpochCPU := (four-one)/3, (fourCPU-oneCPU)/3
	fmt.Fprintf(env.Log, "bench: 1 epoch %.2fs, 4 epochs %.2fs: %.3fs per epoch (CPU %.3fs)\n", one, four, perEpoch, perEpochCPU)
	label := fmt.Sprintf("one epoch, batch %d, %d rows", env.Config.Train.BatchSize, env.Data.Train.Rows())
	return []Figure{
		{Label: label + ", vs PyTorch DataLoader", Unit: Seconds, Go: perEpoch, Ref: RefKey("seconds/epoch_dataloader")},
		{Label: label + ", vs PyTorch tensor indexing", Unit: Seconds, Go: perEpoch, Ref: RefKey("seconds/epoch_index")},
		{Label: label + ", CPU time, vs PyTorch DataLoader", Unit: Seconds, Go: perEpochCPU, Ref: RefKey("cpu_seconds/epoch_dataloader")},
	}, nil
}
