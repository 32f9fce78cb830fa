// Package study compares deletion methods over several seeds on one split
// and one forget set, with attacks strong enough to tell them apart: what
// `scripts/experiment -seeds N` runs after the seed protocol.
//
// For every seed, a full model is trained on the training split and every
// method of [unlearn.Standard] (retraining included) deletes the forget rows
// from it. Each deleted model is measured against the retrained model of the
// same seed (accuracy gaps, KL divergence on the forget rows) and attacked
// with population attacks (forget rows vs every test row) and offline LiRA.
// With shadow models, the per-example attacks follow: U-LiRA (Hayes et al.,
// SaTML 2025) and the NeurIPS-2023 challenge's ε. Every per-seed number is
// summarised as a mean with a 95 % t interval ([results.NewEstimate]).
//
// The shadow design: half of the shadows train on the forget set and half do
// not; on the retained rows each shadow takes a random half (every retained
// row in exactly half of the shadows). For U-LiRA and ε, a method runs on
// every shadow that trained on the forget set ("unlearned" shadows); the
// shadows that never saw it are the "retrained" side. The first half of each
// side fits U-LiRA's Gaussians and the second half supplies its evaluation
// pairs, so no model is both fitted and judged.
//
// Entry point: [Run].
package study

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/fimlib/unlearn"
	"github.com/gomlx/compute"
)

// Config describes a study.
type Config struct {
	Seeds    []uint64
	Fraction float64 // pruning fraction of the methods that prune a fixed share
	// Shadows is the number of shadow models (even, ≥ 8 for U-LiRA to have
	// two models per side and half; 0 skips the per-example attacks).
	Shadows int
	// Bootstrap is the number of resamples of U-LiRA's interval.
	Bootstrap int
	Arch      mlp.Arch
	Train     train.Config // full models, retraining and shadows
	FineTune  train.Config // every method that trains after its edit
	// Methods returns the methods compared at a fraction; nil means
	// unlearn.Standard.
	Methods  func(fraction float64) []unlearn.Method
	Progress *train.Progress
	// Log, if not nil, receives one line per stage.
	Log func(format string, args ...any)
}

// Data is the study's data: the training split (the pool the forget rows
// are positions of), validation and test rows.
type Data struct {
	Train, Val, Test train.Data
	// Forget holds positions in Train of the rows to forget.
	Forget []int
}

func (c Config) validate(d Data) error {
	switch {
	case len(c.Seeds) == 0:
		return errors.New("study: no seeds")
	case !(c.Fraction > 0 && c.Fraction < 1):
		return fmt.Errorf("study: fraction %g must be in (0, 1)", c.Fraction)
	case c.Shadows != 0 && (c.Shadows < 8 || c.Shadows%4 != 0):
		return fmt.Errorf("study: shadows %d must be 0 or a multiple of 4 of at least 8", c.Shadows)
	case len(d.Forget) == 0 || len(d.Forget) >= d.Train.Rows():
		return fmt.Errorf("study: %d forget rows of %d training rows", len(d.Forget), d.Train.Rows())
	case d.Test.Rows() == 0:
		return errors.New("study: no test rows")
	}
	seen := map[int]bool{}
	for _, r := range d.Forget {
		if r < 0 || r >= d.Train.Rows() || seen[r] {
			return fmt.Errorf("study: forget row %d is outside the training split or repeated", r)
		}
		seen[r] = true
	}
	return nil
}

// Run runs the study. It trains len(cfg.Seeds) full models, runs every
// method on each, and, with shadows, cfg.Shadows shadow models plus every
// method on half of them.
func Run(ctx context.Context, backend compute.Backend, d Data, cfg Config) (*results.Study, error) {
	start := time.Now()
	if err := cfg.validate(d); err != nil {
		return nil, err
	}
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	methodsOf := cfg.Methods
	if methodsOf == nil {
		methodsOf = unlearn.Standard
	}
	methods := methodsOf(cfg.Fraction)
	retain := complement(d.Train.Rows(), d.Forget)
	env := unlearn.Env{Backend: backend, Arch: cfg.Arch, Pool: d.Train, Val: &d.Val, FineTune: cfg.FineTune, Train: cfg.Train, Progress: cfg.Progress}

	// Full models, one per seed, in one ensemble.
	members := make([]train.Member, len(cfg.Seeds))
	for i, s := range cfg.Seeds {
		seed := mix(s, 1)
		members[i] = train.Member{Name: fmt.Sprintf("full seed %d", s), Init: cfg.Arch.Init(seed), Seed: seed}
	}
	tc := cfg.Train
	tc.Name, tc.Progress = fmt.Sprintf("full models × %d seeds", len(cfg.Seeds)), cfg.Progress
	fulls, err := train.FitEnsemble(ctx, backend, cfg.Arch, d.Train, &d.Val, tc, int64(mix(cfg.Seeds[0], 2)), members)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	logf("trained %d full models in %.1f s", len(fulls), time.Since(start).Seconds())
	tasks := make([]unlearn.Task, len(cfg.Seeds))
	for i, s := range cfg.Seeds {
		tasks[i] = unlearn.Task{Name: fmt.Sprintf("seed %d", s), Model: fulls[i].Params, Retain: retain, Forget: d.Forget, Seed: mix(s, 3)}
	}

	// Every method on every seed's full model.
	outcomes := make([][]unlearn.Outcome, len(methods))
	retrainIdx := -1
	for mi, m := range methods {
		t0 := time.Now()
		if outcomes[mi], err = m.Unlearn(ctx, env, tasks); err != nil {
			return nil, err
		}
		if _, ok := m.(unlearn.Retrain); ok {
			retrainIdx = mi
		}
		logf("%s on %d models: %.1f s", m.Name(), len(tasks), time.Since(t0).Seconds())
	}
	if retrainIdx < 0 {
		return nil, errors.New("study: the methods must include unlearn.Retrain, the reference of every gap")
	}

	ev := newEvaluator(backend, cfg.Arch, d, retain)
	var shadows *shadowAttack
	if cfg.Shadows > 0 {
		if shadows, err = trainShadows(ctx, env, d, retain, ev, cfg, logf); err != nil {
			return nil, err
		}
	}

	st := &results.Study{Seeds: cfg.Seeds, Fraction: cfg.Fraction, ForgetRows: len(d.Forget), NonMembers: d.Test.Rows(), Shadows: cfg.Shadows}
	retrained := make([]*view, len(tasks))
	for i := range tasks {
		if retrained[i], err = ev.view(outcomes[retrainIdx][i].Params); err != nil {
			return nil, err
		}
	}
	for mi, m := range methods {
		var per []metrics
		for i := range tasks {
			v, err := ev.view(outcomes[mi][i].Params)
			if err != nil {
				return nil, err
			}
			mt, err := ev.measure(v, retrained[i], shadows)
			if err != nil {
				return nil, fmt.Errorf("study: %s, %s: %w", m.Name(), tasks[i].Name, err)
			}
			mt.zeroed, mt.seconds = float64(outcomes[mi][i].Zeroed), outcomes[mi][i].Seconds
			per = append(per, mt)
		}
		sm := summarise(m.Name(), per)
		if shadows != nil {
			t0 := time.Now()
			if sm.ULiRA, sm.Epsilon, err = shadows.perExample(ctx, env, m, cfg.Bootstrap, mix(cfg.Seeds[0], 4)); err != nil {
				return nil, fmt.Errorf("study: %s on the shadows: %w", m.Name(), err)
			}
			logf("%s on %d shadows: U-LiRA accuracy %.3f, ε %.2f (%.1f s)", m.Name(), cfg.Shadows/2, sm.ULiRA.Accuracy, sm.Epsilon.MeanEpsilon, time.Since(t0).Seconds())
		}
		st.Methods = append(st.Methods, sm)
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// mix derives a seed for one purpose from a study seed (splitmix64).
func mix(seed uint64, purpose uint64) uint64 {
	z := seed + purpose*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// complement returns 0..n−1 without the rows in drop, ascending.
func complement(n int, drop []int) []int {
	skip := make([]bool, n)
	for _, r := range drop {
		skip[r] = true
	}
	out := make([]int, 0, n-len(drop))
	for i := range n {
		if !skip[i] {
			out = append(out, i)
		}
	}
	return out
}
