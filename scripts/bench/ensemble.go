package main

import (
	"context"
	"fmt"
	"time"

	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/prune"
	"github.com/fimprune/fimprune/fimlib/shadow"
	"github.com/fimprune/fimprune/fimlib/train"
)

// benchShadows trains 64 shadow models with the seed recipe (early stopping
// on the validation split), each on a random half of the training rows, as
// shadow.Train does by default (train.FitEnsemble ensembles, two of 32 side
// by side: shadow.DefaultGraphs). Its cost per
// model-epoch is compared with the reference's batched ensemble (section
// "ensemble": 64 models stacked into single tensors, trained for a fixed
// number of epochs on the exported shadow half) and with its one shadow model
// trained alone (section "shadow").
//
// The two sides' rows differ in which rows, not in how many: shadow.Train
// gives each of its models its own random half of the training split (every
// row in exactly 32 of the 64, so 14,470.5 rows per model on average), the
// reference trains all its models on the one exported half (14,470 rows),
// each in its own order. An epoch costs the same number of batch-64 steps
// (227) and one validation pass either way.
func benchShadows(ctx context.Context, env *Env) ([]Figure, error) {
	cfg := shadow.Config{Models: shadowModels, Seed: env.Config.Seed + 400, Arch: env.Config.Arch, Train: env.Config.Train}
	cpu0 := cpuSeconds()
	set, err := shadow.Train(ctx, env.Backend, env.Data.Train, &env.Data.Val, cfg, train.NewProgress(env.Log))
	if err != nil {
		return nil, err
	}
	cpu := cpuSeconds() - cpu0
	epochs := 0
	for _, h := range set.History {
		epochs += h.Epochs
	}
	logp, err := set.LogProbabilities(env.Backend, env.Data.Test)
	if err != nil {
		return nil, err
	}
	var acc float64
	for _, lp := range logp {
		acc += train.Accuracy(lp, env.Data.Test.Y) / float64(len(logp))
	}
	oneRef := RefKey("seconds/shadow_one")
	label := shadowsLabel(shadowModels)
	perModelEpoch := set.Seconds / float64(epochs)
	return []Figure{
		{Label: label + " (vs the reference's one shadow × 64)", Unit: Seconds, Go: set.Seconds, Ref: oneRef.Times(shadowModels)},
		{Label: label + ", CPU time (vs the reference's one shadow × 64)", Unit: Seconds, Go: cpu, Ref: RefKey("cpu_seconds/shadow_one").Times(shadowModels)},
		{Label: label + ", per model-epoch, vs PyTorch batched ensemble", Unit: Seconds, Go: perModelEpoch, Ref: RefKey("seconds/ensemble_per_model_epoch")},
		{Label: label + ", CPU time per model-epoch, vs PyTorch batched ensemble", Unit: Seconds, Go: cpu / float64(epochs), Ref: RefKey("cpu_seconds/ensemble_per_model_epoch")},
		{Label: label + ", per model-epoch, vs PyTorch one model at a time", Unit: Seconds, Go: perModelEpoch, Ref: oneRef.Per(RefKey("epochs/shadow"))},
		{Label: label + ", mean epochs (PyTorch: its one shadow)", Unit: Epochs, Go: float64(epochs) / shadowModels, Ref: RefKey("epochs/shadow")},
		{Label: label + ", mean test accuracy (PyTorch: its one shadow)", Unit: Accuracy, Go: acc, Ref: RefKey("test_accuracy/shadow")},
		{Label: "PyTorch batched ensemble: epochs timed (fixed, no early stopping)", Unit: Epochs, Go: noGo, Ref: RefKey("ensemble/epochs")},
		{Label: "PyTorch batched ensemble: mean test accuracy after those epochs (a sanity check)", Unit: Accuracy, Go: noGo, Ref: RefKey("test_accuracy/ensemble_mean")},
	}, nil
}

// shadowsLabel names the shadows rows by how shadow.Train splits k shadows
// into ensembles on this machine.
func shadowsLabel(k int) string {
	g := shadow.DefaultGraphs(k)
	if g == 1 {
		return fmt.Sprintf("%d shadow models, one ensemble", k)
	}
	return fmt.Sprintf("%d shadow models, %d ensembles of %d side by side", k, g, (k+g-1)/g)
}

// deletionFraction is the pruning fraction of the deletion benchmark (the
// seed's best).
const deletionFraction = 0.2

// benchDeletion measures what one deletion costs against retraining from
// scratch, one model at a time, on the real forget set: retraining (seed
// recipe, early stopping), the seed's deletion (Fisher + prune + 20 epochs
// at lr 1e-4) and the fast recipe (train.FastFineTune: 1 epoch at lr 1e-3). Each
// result's test accuracy and population-attack AUC (forget rows vs every
// test row, logit-scaled confidence) are printed beside its cost.
func benchDeletion(ctx context.Context, env *Env) ([]Figure, error) {
	arch, d := env.Config.Arch, env.Data
	progress := train.NewProgress(env.Log)
	fit := func(name string, init []mlp.Tensor, rows train.Data, val *train.Data, cfg train.Config, mask []mlp.Tensor) ([]mlp.Tensor, float64, error) {
		store, err := mlp.NewStore(init, int64(env.Config.Seed+500))
		if err != nil {
			return nil, 0, err
		}
		defer store.Finalize()
		cfg.Name, cfg.Seed, cfg.Mask, cfg.Progress = name, env.Config.Seed+500, mask, progress
		hist, err := train.FitContext(ctx, env.Backend, store, arch, rows, val, cfg)
		if err != nil {
			return nil, 0, err
		}
		params, err := arch.ReadParams(store)
		return params, hist.Seconds, err
	}
	full, _, err := fit("full", arch.Init(env.Config.Seed+500), d.Train, &d.Val, env.Config.Train, nil)
	if err != nil {
		return nil, err
	}
	retrained, retrainSecs, err := fit("retrain", arch.Init(env.Config.Seed+501), d.Retained, &d.Val, env.Config.Train, nil)
	if err != nil {
		return nil, err
	}
	deletion := func(name string, cfg train.Config) ([]mlp.Tensor, float64, error) {
		t0 := time.Now()
		store, err := mlp.NewStore(full, 0)
		if err != nil {
			return nil, 0, err
		}
		scores, err := fisher.Diagonal(env.Backend, store, arch, d.Deletion, fisher.Empirical)
		store.Finalize()
		if err != nil {
			return nil, 0, err
		}
		mask, err := prune.Global(scores, deletionFraction)
		if err != nil {
			return nil, 0, err
		}
		params := mlp.Clone(full)
		if err := prune.Apply(params, mask); err != nil {
			return nil, 0, err
		}
		cfg.BatchSize = env.Config.Train.BatchSize
		out, _, err := fit(name, params, d.Retained, nil, cfg, mask.AsTensors())
		return out, time.Since(t0).Seconds(), err
	}
	seedOut, seedSecs, err := deletion("deletion, seed recipe", train.SeedFineTune)
	if err != nil {
		return nil, err
	}
	fastOut, fastSecs, err := deletion("deletion, fast recipe", train.FastFineTune)
	if err != nil {
		return nil, err
	}
	measure := func(params []mlp.Tensor) (acc, auc float64, err error) {
		store, err := mlp.NewStore(params, 0)
		if err != nil {
			return 0, 0, err
		}
		defer store.Finalize()
		ev := train.NewEvaluator(env.Backend, store, arch)
		defer ev.Finalize()
		test, err := ev.LogProbabilities(d.Test)
		if err != nil {
			return 0, 0, err
		}
		forget, err := ev.LogProbabilities(d.Deletion)
		if err != nil {
			return 0, 0, err
		}
		m, err := mia.ScoresFromLogProbs(mia.LogitConfidence, forget, d.Deletion.Y)
		if err != nil {
			return 0, 0, err
		}
		n, err := mia.ScoresFromLogProbs(mia.LogitConfidence, test, d.Test.Y)
		if err != nil {
			return 0, 0, err
		}
		auc, err = mia.AUC(m, n)
		return train.Accuracy(test, d.Test.Y), auc, err
	}
	var figs []Figure
	for _, c := range []struct {
		name   string
		params []mlp.Tensor
		secs   float64
	}{{"retrain from scratch", retrained, retrainSecs}, {"deletion, seed recipe (20 epochs, lr 1e-4)", seedOut, seedSecs}, {"deletion, fast recipe (1 epoch, lr 1e-3)", fastOut, fastSecs}} {
		acc, auc, err := measure(c.params)
		if err != nil {
			return nil, err
		}
		label := fmt.Sprintf("%s, f = %g", c.name, deletionFraction)
		if c.params == nil || c.name == "retrain from scratch" {
			label = c.name
		}
		figs = append(figs,
			Figure{Label: label + ", seconds", Unit: Seconds, Go: c.secs},
			Figure{Label: label + ", cost ÷ retraining", Unit: Ratio, Go: c.secs / retrainSecs},
			Figure{Label: label + ", test accuracy", Unit: Accuracy, Go: acc},
			Figure{Label: label + ", attack AUC (forget rows vs all test rows)", Unit: Accuracy, Go: auc})
	}
	return figs, nil
}
