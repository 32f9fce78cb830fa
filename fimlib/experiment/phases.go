package experiment

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/internal/parallel"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/prune"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/selection"
	"github.com/fimprune/fimprune/fimlib/train"
)

// trainFromScratch initialises a model and trains it with the seed recipe,
// early-stopping on the validation split.
func (s *Session) trainFromScratch(ctx context.Context, name string, rows train.Data) (trained, error) {
	store, err := mlp.NewStore(s.cfg.Arch.Init(subSeed(s.cfg.Seed, name+"/init")), 0)
	if err != nil {
		return trained{}, err
	}
	defer store.Finalize()
	cfg := s.cfg.Train
	cfg.Name, cfg.Seed = name, subSeed(s.cfg.Seed, name+"/shuffle")
	cfg.Progress = s.progress
	hist, err := train.FitContext(ctx, s.backend, store, s.cfg.Arch, rows, &s.d.Val, cfg)
	if err != nil {
		return trained{}, err
	}
	params, err := s.cfg.Arch.ReadParams(store)
	if err != nil {
		return trained{}, err
	}
	ev := train.NewEvaluator(s.backend, store, s.cfg.Arch)
	defer ev.Finalize()
	m, err := s.evaluate(ev, name)
	if err != nil {
		return trained{}, err
	}
	m.Epochs, m.BestEpoch, m.TrainSeconds = hist.Epochs, hist.BestEpoch, hist.Seconds
	s.log("%s: %d epochs (best %d), test accuracy %.4f, MIA %.3f (AUC %.3f), %.1fs",
		name, hist.Epochs, hist.BestEpoch, m.TestAccuracy, m.MIA.BestThresholdAccuracy, m.MIA.AUC, hist.Seconds)
	return trained{params: params, model: m}, nil
}

// evaluate measures test accuracy, the classification report and both
// membership-inference attacks of the model ev evaluates.
func (s *Session) evaluate(ev *train.Evaluator, name string) (results.Model, error) {
	logp, err := ev.LogProbabilities(s.d.Test)
	if err != nil {
		return results.Model{}, err
	}
	m := results.Model{TestAccuracy: train.Accuracy(logp, s.d.Test.Y), Classes: classReport(logp, s.d.Test.Y),
		TiedPredictions: tiedRows(logp, s.d.Test.Rows())}
	memberLogP, err := ev.LogProbabilities(s.d.Deletion)
	if err != nil {
		return m, err
	}
	nonMemberLogP, err := ev.LogProbabilities(s.d.NonMembers)
	if err != nil {
		return m, err
	}
	// The seed's score is −cross-entropy = log p(y|x), from the log-softmax.
	lm, ln := trueClassLogProb(memberLogP, s.d.Deletion.Y), trueClassLogProb(nonMemberLogP, s.d.NonMembers.Y)
	seed := subSeed(s.cfg.Seed, "mia/bootstrap")
	if m.MIA, err = attack("loss", lm, ln, s.cfg.Bootstrap, seed); err != nil {
		return m, fmt.Errorf("%s: %w", name, err)
	}
	if m.MIAConfidence, err = attack("confidence", exp(lm), exp(ln), s.cfg.Bootstrap, seed); err != nil {
		return m, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// testAccuracy is the test-split accuracy of the model ev evaluates.
func (s *Session) testAccuracy(ev *train.Evaluator) (float64, error) {
	logp, err := ev.LogProbabilities(s.d.Test)
	if err != nil {
		return 0, err
	}
	return train.Accuracy(logp, s.d.Test.Y), nil
}

// PrunedName names the model pruned at fraction f: its checkpoint directory
// and the purpose of its random streams. The shortest exact decimal keeps
// distinct fractions apart (0.101 and 0.104 would both round to "0.10").
func PrunedName(f float64) string { return "pruned-" + strconv.FormatFloat(f, 'g', -1, 64) }

func attack(score string, members, nonMembers []float64, bootstrap int, seed uint64) (results.MIA, error) {
	a, err := mia.Attack(members, nonMembers, bootstrap, seed)
	if err != nil {
		return results.MIA{}, err
	}
	return results.MIA{
		Score: score, Members: a.Members, NonMembers: a.NonMembers,
		BestThresholdAccuracy: a.BestThresholdAccuracy, BestThreshold: a.BestThreshold,
		AUC: a.AUC, AUCCI95: a.AUCCI95, Advantage: a.Advantage,
		ROC: &results.ROC{FPR: a.FPR, TPR: a.TPR},
	}, nil
}

// trueClassLogProb picks log p(y|x) out of row-major class log-probabilities.
func trueClassLogProb(logp []float32, labels []int32) []float64 {
	classes := len(logp) / len(labels)
	out := make([]float64, len(labels))
	for i, y := range labels {
		out[i] = float64(logp[i*classes+int(y)])
	}
	return out
}

// tiedRows counts the rows of row-major log-probabilities whose largest value
// is shared by two classes or more.
func tiedRows(logp []float32, rows int) int {
	classes := len(logp) / max(rows, 1)
	tied := 0
	for i := range rows {
		row := logp[i*classes : (i+1)*classes]
		best, n := row[0], 1
		for _, v := range row[1:] {
			switch {
			case v > best:
				best, n = v, 1
			case v == best:
				n++
			}
		}
		if n > 1 {
			tied++
		}
	}
	return tied
}

// exp returns e^v for each v: probabilities from log-probabilities.
func exp(vs []float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = math.Exp(v)
	}
	return out
}

// Fisher computes the deletion set's Fisher scores under the full model. It
// takes no time worth cancelling: ctx is for the phases' common signature.
func (s *Session) Fisher(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t0 := time.Now()
	store, err := mlp.NewStore(s.full.params, 0)
	if err != nil {
		return err
	}
	defer store.Finalize()
	if s.scores, err = fisher.Diagonal(s.backend, store, s.cfg.Arch, s.d.Deletion, s.cfg.Fisher); err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	s.res.Fisher = fisherSummary(s.cfg.Fisher, s.d.Deletion.Rows(), secs, s.scores)

	// The other kind, for the record: how much would the choice matter?
	other := fisher.True
	if s.cfg.Fisher == fisher.True {
		other = fisher.Empirical
	}
	otherScores, err := fisher.Diagonal(s.backend, store, s.cfg.Arch, s.d.Deletion, other)
	if err != nil {
		return err
	}
	if s.res.Fisher.Other, err = compareFisher(other, s.scores, otherScores, s.cfg.Fractions); err != nil {
		return err
	}
	s.log("fisher (%s) over %d rows: %.3fs; rank correlation with the %s Fisher %.3f",
		s.cfg.Fisher, s.d.Deletion.Rows(), secs, other, s.res.Fisher.Other.SpearmanWithUsed)
	s.res.Timings.Fisher = time.Since(t0).Seconds()
	return nil
}

// PruneAll prunes, fine-tunes and evaluates every fraction (cfg.Parallel at
// a time), then selects the best. Cancelling ctx stops fine-tuning between
// two steps.
func (s *Session) PruneAll(ctx context.Context) error {
	t0 := time.Now()
	pruned := make([]results.Pruned, len(s.cfg.Fractions))
	tasks := make([]func(context.Context) error, len(s.cfg.Fractions))
	for i, f := range s.cfg.Fractions {
		tasks[i] = func(ctx context.Context) (err error) {
			if pruned[i], err = s.pruneOne(ctx, f); err != nil {
				return fmt.Errorf("fraction %g: %w", f, err)
			}
			return nil
		}
	}
	if err := parallel.Run(ctx, s.cfg.Parallel, tasks...); err != nil {
		return err
	}
	s.res.Models.Pruned = pruned
	s.res.Timings.PruneFinetune = time.Since(t0).Seconds()
	candidates := make([]selection.Candidate, len(pruned))
	for i, p := range pruned {
		candidates[i] = selection.Candidate{Fraction: p.Fraction,
			Scores: selection.Scores{Utility: p.Utility, Privacy: p.Privacy, Combined: p.CombinedScore}}
	}
	best := selection.Best(candidates)
	if best < 0 {
		return fmt.Errorf("no fraction has a finite combined score")
	}
	s.res.Best = results.Best{Fraction: candidates[best].Fraction, CombinedScore: candidates[best].Combined}
	s.log("best fraction %.2f (combined score %.4f)", s.res.Best.Fraction, s.res.Best.CombinedScore)
	return nil
}

func (s *Session) pruneOne(ctx context.Context, f float64) (results.Pruned, error) {
	t0 := time.Now()
	mask, err := prune.Global(s.scores, f)
	if err != nil {
		return results.Pruned{}, err
	}
	seedMask, threshold, err := prune.SeedThreshold(s.scores, f)
	if err != nil {
		return results.Pruned{}, err
	}
	params := mlp.Clone(s.full.params)
	if err := prune.Apply(params, mask); err != nil {
		return results.Pruned{}, err
	}
	pruneSecs := time.Since(t0).Seconds()

	name := PrunedName(f)
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		return results.Pruned{}, err
	}
	defer store.Finalize()
	// The evaluator reads the store's variables at each call, so it serves
	// both before and after fine-tuning.
	ev := train.NewEvaluator(s.backend, store, s.cfg.Arch)
	defer ev.Finalize()
	beforeAcc, err := s.testAccuracy(ev)
	if err != nil {
		return results.Pruned{}, err
	}
	cfg := s.cfg.FineTune
	cfg.Name, cfg.Seed, cfg.Mask = name, subSeed(s.cfg.Seed, name+"/shuffle"), mask.AsTensors()
	cfg.Progress = s.progress
	var val *train.Data // fine-tuning epochs chosen by validation loss only when asked for
	if cfg.Patience > 0 {
		val = &s.d.Val
	}
	hist, err := train.FitContext(ctx, s.backend, store, s.cfg.Arch, s.d.Retained, val, cfg)
	if err != nil {
		return results.Pruned{}, err
	}
	after, err := s.evaluate(ev, name)
	if err != nil {
		return results.Pruned{}, err
	}
	sc := selection.Score(after.TestAccuracy, s.retrain.model.TestAccuracy, after.MIA.BestThresholdAccuracy)
	p := results.Pruned{
		Fraction: f, PrunedParams: mask.PrunedTotal(), TotalParams: s.cfg.Arch.NumParams(),
		SeedRulePrunedParams: seedMask.PrunedTotal(), SeedRuleThreshold: threshold,
		AccuracyBeforeFinetune: beforeAcc, TestAccuracy: after.TestAccuracy, Classes: after.Classes,
		TiedPredictions: after.TiedPredictions,
		FinetuneSeconds: hist.Seconds, DeletionSeconds: s.res.Fisher.Seconds + pruneSecs + hist.Seconds,
		MIA: after.MIA, MIAConfidence: after.MIAConfidence,
		Utility: sc.Utility, Privacy: sc.Privacy, CombinedScore: sc.Combined,
	}
	for _, c := range mask.Counts() {
		p.Layers = append(p.Layers, results.LayerCount{Name: c.Name, Pruned: c.Pruned, Total: c.Total})
	}
	params, err = s.cfg.Arch.ReadParams(store)
	if err != nil {
		return results.Pruned{}, err
	}
	s.mu.Lock()
	s.pruned[name] = params
	s.mu.Unlock()
	s.log("%s: pruned %d/%d (seed rule %d), accuracy %.4f before fine-tuning, %.4f after, MIA %.3f (AUC %.3f), combined %.4f",
		name, p.PrunedParams, p.TotalParams, p.SeedRulePrunedParams, p.AccuracyBeforeFinetune, p.TestAccuracy,
		p.MIA.BestThresholdAccuracy, p.MIA.AUC, p.CombinedScore)
	return p, nil
}
