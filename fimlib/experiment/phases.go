package experiment

import (
	"fmt"
	"time"

	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/prune"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/selection"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/gomlx/ml/model"
)

// trainFromScratch initialises a model and trains it with the seed recipe,
// early-stopping on the validation split.
func (r *run) trainFromScratch(name string, rows train.Data) (trained, error) {
	store, err := mlp.NewStore(r.cfg.Arch.Init(subSeed(r.cfg.Seed, name+"/init")), int64(subSeed(r.cfg.Seed, name+"/dropout")))
	if err != nil {
		return trained{}, err
	}
	cfg := r.cfg.Train
	cfg.Name, cfg.Seed = name, subSeed(r.cfg.Seed, name+"/shuffle")
	cfg.Progress = r.progress
	hist, err := train.Fit(r.backend, store, r.cfg.Arch, rows, &r.d.val, cfg)
	if err != nil {
		return trained{}, err
	}
	params, err := r.cfg.Arch.ReadParams(store)
	if err != nil {
		return trained{}, err
	}
	m, err := r.evaluate(store, name)
	if err != nil {
		return trained{}, err
	}
	m.Epochs, m.BestEpoch, m.TrainSeconds = hist.Epochs, hist.BestEpoch, hist.Seconds
	r.log("%s: %d epochs (best %d), test accuracy %.4f, MIA %.3f (AUC %.3f), %.1fs",
		name, hist.Epochs, hist.BestEpoch, m.TestAccuracy, m.MIA.BestThresholdAccuracy, m.MIA.AUC, hist.Seconds)
	return trained{params: params, model: m}, nil
}

// evaluate measures test accuracy, the classification report and both
// membership-inference attacks of the model in store.
func (r *run) evaluate(store *model.Store, name string) (results.Model, error) {
	ev := train.NewEvaluator(r.backend, store, r.cfg.Arch)
	defer ev.Finalize()
	probs, err := ev.Probabilities(r.d.test)
	if err != nil {
		return results.Model{}, err
	}
	m := results.Model{TestAccuracy: train.Accuracy(probs, r.d.test.Y), Classes: classReport(probs, r.d.test.Y)}
	memberP, err := ev.Probabilities(r.d.deletion)
	if err != nil {
		return m, err
	}
	nonMemberP, err := ev.Probabilities(r.d.nonMems)
	if err != nil {
		return m, err
	}
	pm, pn := trueClassProb(memberP, r.d.deletion.Y), trueClassProb(nonMemberP, r.d.nonMems.Y)
	seed := subSeed(r.cfg.Seed, "mia/bootstrap")
	if m.MIA, err = attack("loss", mia.LossScores(pm), mia.LossScores(pn), r.cfg.Bootstrap, seed); err != nil {
		return m, fmt.Errorf("%s: %w", name, err)
	}
	if m.MIAConfidence, err = attack("confidence", mia.ConfidenceScores(pm), mia.ConfidenceScores(pn), r.cfg.Bootstrap, seed); err != nil {
		return m, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

func attack(score string, members, nonMembers []float64, bootstrap int, seed uint64) (results.MIA, error) {
	a, err := mia.Attack(members, nonMembers, bootstrap, seed)
	if err != nil {
		return results.MIA{}, err
	}
	return results.MIA{
		Score: score, Members: a.Members, NonMembers: a.NonMembers,
		BestThresholdAccuracy: a.BestThresholdAccuracy, BestThreshold: a.BestThreshold,
		AUC: a.AUC, AUCCI95: a.AUCCI95, Advantage: a.Advantage,
	}, nil
}

// trueClassProb picks p(y|x) out of row-major class probabilities.
func trueClassProb(probs []float32, labels []int32) []float64 {
	classes := len(probs) / len(labels)
	out := make([]float64, len(labels))
	for i, y := range labels {
		out[i] = float64(probs[i*classes+int(y)])
	}
	return out
}

func (r *run) fisher() error {
	t0 := time.Now()
	store, err := mlp.NewStore(r.full.params, 0)
	if err != nil {
		return err
	}
	if r.scores, err = fisher.Diagonal(r.backend, store, r.cfg.Arch, r.d.deletion, r.cfg.Fisher); err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	r.res.Fisher = fisherSummary(r.cfg.Fisher, r.d.deletion.Rows(), secs, r.scores)

	// The other kind, for the record: how much would the choice matter?
	other := fisher.True
	if r.cfg.Fisher == fisher.True {
		other = fisher.Empirical
	}
	otherScores, err := fisher.Diagonal(r.backend, store, r.cfg.Arch, r.d.deletion, other)
	if err != nil {
		return err
	}
	if r.res.Fisher.Other, err = compareFisher(other, r.scores, otherScores, r.cfg.Fractions); err != nil {
		return err
	}
	r.log("fisher (%s) over %d rows: %.3fs; rank correlation with the %s Fisher %.3f",
		r.cfg.Fisher, r.d.deletion.Rows(), secs, other, r.res.Fisher.Other.SpearmanWithUsed)
	r.res.Timings.Fisher = time.Since(t0).Seconds()
	return nil
}

// pruneAll prunes, fine-tunes and evaluates every fraction (cfg.Parallel at
// a time), then selects the best.
func (r *run) pruneAll() error {
	t0 := time.Now()
	pruned := make([]results.Pruned, len(r.cfg.Fractions))
	tasks := make([]func() error, len(r.cfg.Fractions))
	for i, f := range r.cfg.Fractions {
		tasks[i] = func() (err error) {
			if pruned[i], err = r.pruneOne(f); err != nil {
				return fmt.Errorf("fraction %g: %w", f, err)
			}
			return nil
		}
	}
	if err := parallel(r.cfg.Parallel, tasks...); err != nil {
		return err
	}
	r.res.Models.Pruned = pruned
	r.res.Timings.PruneFinetune = time.Since(t0).Seconds()
	candidates := make([]selection.Candidate, len(pruned))
	for i, p := range pruned {
		candidates[i] = selection.Candidate{Fraction: p.Fraction,
			Scores: selection.Scores{Utility: p.Utility, Privacy: p.Privacy, Combined: p.CombinedScore}}
	}
	best := selection.Best(candidates)
	if best < 0 {
		return fmt.Errorf("no fraction has a finite combined score")
	}
	r.res.Best = results.Best{Fraction: candidates[best].Fraction, CombinedScore: candidates[best].Combined}
	r.log("best fraction %.2f (combined score %.4f)", r.res.Best.Fraction, r.res.Best.CombinedScore)
	return nil
}

func (r *run) pruneOne(f float64) (results.Pruned, error) {
	t0 := time.Now()
	mask, err := prune.Global(r.scores, f)
	if err != nil {
		return results.Pruned{}, err
	}
	seedMask, threshold, err := prune.SeedThreshold(r.scores, f)
	if err != nil {
		return results.Pruned{}, err
	}
	params := cloneParams(r.full.params)
	if err := prune.Apply(params, mask); err != nil {
		return results.Pruned{}, err
	}
	pruneSecs := time.Since(t0).Seconds()

	name := fmt.Sprintf("pruned-%.2f", f)
	store, err := mlp.NewStore(params, int64(subSeed(r.cfg.Seed, name+"/dropout")))
	if err != nil {
		return results.Pruned{}, err
	}
	before, err := r.evaluate(store, name)
	if err != nil {
		return results.Pruned{}, err
	}
	cfg := r.cfg.FineTune
	cfg.Name, cfg.Seed, cfg.Mask = name, subSeed(r.cfg.Seed, name+"/shuffle"), maskTensors(mask)
	cfg.Progress = r.progress
	hist, err := train.Fit(r.backend, store, r.cfg.Arch, r.d.retained, nil, cfg)
	if err != nil {
		return results.Pruned{}, err
	}
	after, err := r.evaluate(store, name)
	if err != nil {
		return results.Pruned{}, err
	}
	s := selection.Score(after.TestAccuracy, r.retrain.model.TestAccuracy, after.MIA.BestThresholdAccuracy)
	p := results.Pruned{
		Fraction: f, PrunedParams: mask.PrunedTotal(), TotalParams: r.cfg.Arch.NumParams(),
		SeedRulePrunedParams: seedMask.PrunedTotal(), SeedRuleThreshold: threshold,
		AccuracyBeforeFinetune: before.TestAccuracy, TestAccuracy: after.TestAccuracy, Classes: after.Classes,
		FinetuneSeconds: hist.Seconds, DeletionSeconds: r.res.Fisher.Seconds + pruneSecs + hist.Seconds,
		MIA: after.MIA, MIAConfidence: after.MIAConfidence,
		Utility: s.Utility, Privacy: s.Privacy, CombinedScore: s.Combined,
	}
	for _, c := range mask.Counts() {
		p.Layers = append(p.Layers, results.LayerCount{Name: c.Name, Pruned: c.Pruned, Total: c.Total})
	}
	params, err = r.cfg.Arch.ReadParams(store)
	if err != nil {
		return results.Pruned{}, err
	}
	r.mu.Lock()
	r.pruned[name] = params
	r.mu.Unlock()
	r.log("%s: pruned %d/%d (seed rule %d), accuracy %.4f before fine-tuning, %.4f after, MIA %.3f (AUC %.3f), combined %.4f",
		name, p.PrunedParams, p.TotalParams, p.SeedRulePrunedParams, p.AccuracyBeforeFinetune, p.TestAccuracy,
		p.MIA.BestThresholdAccuracy, p.MIA.AUC, p.CombinedScore)
	return p, nil
}

func maskTensors(m prune.Mask) []mlp.Tensor {
	out := make([]mlp.Tensor, len(m.Tensors))
	for i, t := range m.Tensors {
		out[i] = mlp.Tensor{Name: t.Name, Shape: t.Shape, Values: t.Keep}
	}
	return out
}

func cloneParams(ps []mlp.Tensor) []mlp.Tensor {
	out := make([]mlp.Tensor, len(ps))
	for i, p := range ps {
		out[i] = mlp.Tensor{Name: p.Name, Shape: append([]int(nil), p.Shape...), Values: append([]float32(nil), p.Values...)}
	}
	return out
}
