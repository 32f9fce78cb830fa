// Package study compares deletion methods over several seeds, with attacks
// strong enough to tell them apart and a null row to judge them against:
// what `scripts/experiment -study-seeds N` runs after the seed protocol.
//
// The design (docs/methods.md has the reasons):
//
//   - Each seed draws its own forget set (ForgetRows rows of the training
//     split, disjoint from the other seeds' sets), trains its own full model
//     and runs every method on it. So a per-seed number carries the
//     randomness of the forget set, the training and the method, and an
//     interval over seeds covers all of it.
//   - The methods include retrain (the reference of every gap), retrain-2
//     (an independently seeded retrain: the null row, whose distance from
//     retrain is the noise floor) and identity (the full model, unchanged:
//     the upper reference).
//   - Shadow models: Shadows models on the training split. Every row outside
//     the forget sets is in a random half of them; each seed's forget set is
//     in a random half as one block, independently of the other seeds'. So
//     for each seed half of the shadows trained on its forget set (IN) and
//     half did not (OUT), and every test and validation row is OUT for all.
//   - Population attacks (forget rows as members, every test row as a
//     non-member), offline LiRA and offline RMIA attack each method's model
//     per seed; LiRA and RMIA take the shadows as reference models and are
//     tie-robust (rows the attacked model scores identically get one
//     statistic).
//   - U-LiRA and the challenge's ε, per seed: the method runs on
//     ULiRAModels IN shadows (the "unlearned" side), which are compared with
//     ULiRAModels OUT shadows (the "retrained" side); U-LiRA judges each of
//     these models once with Gaussians fitted on the others.
//   - Verdicts (package verdict): paired comparisons over seeds with
//     retrain and retrain-2, Holm-corrected as one family.
//
// Entry point: [Run].
package study

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/store"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/fimlib/unlearn"
	"github.com/fimprune/fimprune/fimlib/verdict"
	"github.com/gomlx/compute"
)

// DefaultULiRAModels is the number of unlearned and of retrained shadow
// models per seed behind U-LiRA and ε: the method runs on this many shadows
// per seed, which is most of the study's cost.
const DefaultULiRAModels = 8

// Config describes a study.
type Config struct {
	Seeds    []uint64
	Fraction float64 // pruning fraction of the methods that prune a fixed share
	// ForgetRows is the size of each seed's forget set.
	ForgetRows int
	// Shadows is the number of shadow models (0 skips LiRA, RMIA, U-LiRA
	// and ε; else even and at least 2·ULiRAModels).
	Shadows int
	// ULiRAModels is the number of models per side and seed for U-LiRA and
	// ε (0: DefaultULiRAModels; at least 3).
	ULiRAModels int
	Arch        mlp.Arch
	Train       train.Config // full models, retraining and shadows
	FineTune    train.Config // every method that trains after its edit
	// Methods returns the methods compared at a fraction; nil means
	// unlearn.Standard. They must include unlearn.Retrain{}.
	Methods func(fraction float64) []unlearn.Method
	Verdict verdict.Config // zero: verdict.Default
	// Store, if not nil, keeps every unit's models (the full models, the
	// shadow models, each method's outcomes on them) under content keys: a
	// run reuses what is there, so an interrupted run resumes and shards
	// share their work. CodeVersion is part of every key (the version of
	// the code behind the numbers, experiment.CacheVersion).
	Store       *store.Store
	CodeVersion string
	// Shard, when Shard.Count > 0, computes only this shard's units into
	// Store and returns ErrShardDone; a run without a shard then assembles
	// the study from the store. ShardWait bounds waiting for a unit another
	// shard computes (0: DefaultShardWait).
	Shard     Shard
	ShardWait time.Duration
	Progress  *train.Progress
	// Log, if not nil, receives one line per stage.
	Log func(format string, args ...any)
}

// Data is the study's data: the training split (the pool the forget rows
// are drawn from), validation rows (RMIA's population; early stopping) and
// test rows (the attacks' non-members).
type Data struct {
	Train, Val, Test train.Data
	// SplitSeed is recorded with the forget sets: the split their positions
	// refer to.
	SplitSeed int64
}

func (c Config) uliraModels() int {
	if c.ULiRAModels == 0 {
		return DefaultULiRAModels
	}
	return c.ULiRAModels
}

func (c Config) validate(d Data) error {
	m := c.uliraModels()
	switch {
	case len(c.Seeds) == 0:
		return errors.New("study: no seeds")
	case !(c.Fraction > 0 && c.Fraction < 1):
		return fmt.Errorf("study: fraction %g must be in (0, 1)", c.Fraction)
	case m < 3:
		return fmt.Errorf("study: %d U-LiRA models per side, want at least 3", m)
	case c.Shadows != 0 && (c.Shadows%2 != 0 || c.Shadows < 2*m):
		return fmt.Errorf("study: shadows %d must be 0 or even and at least 2 × %d (U-LiRA models per side)", c.Shadows, m)
	case c.ForgetRows < 1 || c.ForgetRows*len(c.Seeds) >= d.Train.Rows():
		return fmt.Errorf("study: %d seeds × %d forget rows do not leave rows to retain among %d training rows", len(c.Seeds), c.ForgetRows, d.Train.Rows())
	case d.Test.Rows() == 0 || d.Val.Rows() == 0:
		return errors.New("study: no test or no validation rows")
	case c.Shard.Count < 0 || c.Shard.Count > 0 && (c.Shard.Index < 0 || c.Shard.Index >= c.Shard.Count):
		return fmt.Errorf("study: shard %d/%d, want 0 ≤ index < count", c.Shard.Index, c.Shard.Count)
	case c.Shard.Stage < 0 || c.Shard.Stage > StageMethods || c.Shard.Stage != 0 && c.Shard.Count == 0:
		return fmt.Errorf("study: stage %d of shard %d/%d, want 0, %d or %d of a shard", c.Shard.Stage, c.Shard.Index, c.Shard.Count, StageModels, StageMethods)
	case c.Shard.Count > 0 && c.Store == nil:
		return errors.New("study: a shard needs a store to put its units in")
	}
	seen := map[uint64]bool{}
	for _, s := range c.Seeds {
		if seen[s] {
			return fmt.Errorf("study: seed %d repeated", s)
		}
		seen[s] = true
	}
	return nil
}

// ForgetSpec is how each seed's forget set is drawn, as results record it.
func ForgetSpec(rows int) string { return fmt.Sprintf("random:%d", rows) }

// forgetSets draws each seed's forget set: rows positions of the pool,
// seeded by the seed, disjoint from the earlier seeds' sets, ascending.
func forgetSets(pool int, seeds []uint64, rows int) [][]int {
	taken := make([]bool, pool)
	out := make([][]int, len(seeds))
	for i, s := range seeds {
		r := rand.New(rand.NewPCG(mix(s, 7), 0xf0))
		for _, p := range r.Perm(pool) {
			if len(out[i]) == rows {
				break
			}
			if !taken[p] {
				taken[p] = true
				out[i] = append(out[i], p)
			}
		}
		slices.Sort(out[i])
	}
	return out
}

// Run runs the study on one split: every seed draws its forget set from
// d.Train, and all seeds share d's split and one pool of shadow models.
func Run(ctx context.Context, backend compute.Backend, d Data, cfg Config) (*results.Study, error) {
	return run(ctx, backend, []Data{d}, cfg)
}

// RunSplits runs the study with a split per seed: ds[i] is seed i's data
// (its own train/validation/test split, as Data.SplitSeed records). Each
// seed then trains its own pool of shadow models on its own split, so a
// per-seed number also carries the split's randomness, at the cost of
// cfg.Shadows shadow models per seed.
func RunSplits(ctx context.Context, backend compute.Backend, ds []Data, cfg Config) (*results.Study, error) {
	if len(ds) != len(cfg.Seeds) {
		return nil, fmt.Errorf("study: %d splits for %d seeds, want one per seed", len(ds), len(cfg.Seeds))
	}
	return run(ctx, backend, ds, cfg)
}

// run runs the study: one group of seeds per element of ds (all seeds in
// one group when ds has one element, else seed i alone on ds[i]).
func run(ctx context.Context, backend compute.Backend, ds []Data, cfg Config) (*results.Study, error) {
	start := time.Now()
	for _, d := range ds {
		if err := cfg.validate(d); err != nil {
			return nil, err
		}
	}
	if cfg.Verdict == (verdict.Config{}) {
		cfg.Verdict = verdict.Default
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	methodsOf := cfg.Methods
	if methodsOf == nil {
		methodsOf = unlearn.Standard
	}
	methods := methodsOf(cfg.Fraction)
	if !slices.ContainsFunc(methods, func(m unlearn.Method) bool { return m.ID().Role() == results.RoleReference }) {
		return nil, errors.New("study: the methods must include unlearn.Retrain, the reference of every gap")
	}
	n := len(cfg.Seeds)
	st := &results.Study{Seeds: cfg.Seeds, Fraction: cfg.Fraction, ForgetRows: cfg.ForgetRows, NonMembers: ds[0].Test.Rows(), Shadows: cfg.Shadows}
	per := make([][]metrics, len(methods)) // [method][seed]
	for mi := range per {
		per[mi] = make([]metrics, n)
	}
	st.ForgetSets = make([]results.ForgetSet, n)
	groups := [][]int{}
	if len(ds) == 1 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		groups = append(groups, all)
	} else {
		for i := range n {
			groups = append(groups, []int{i})
		}
	}
	plan := newPlanner(cfg)
	for g, idx := range groups {
		d := ds[min(g, len(ds)-1)]
		seeds := make([]uint64, len(idx))
		for j, i := range idx {
			seeds[j] = cfg.Seeds[i]
		}
		gr, err := runGroup(ctx, backend, d, seeds, methods, cfg, plan)
		if err != nil {
			return nil, err
		}
		if plan.sharded() {
			continue
		}
		for j, i := range idx {
			st.ForgetSets[i] = gr.forgetSets[j]
			for mi := range methods {
				per[mi][i] = gr.per[mi][j]
			}
		}
		if gr.rmia != nil {
			if len(groups) == 1 {
				st.RMIA = gr.rmia
			} else {
				st.RMIASplits = append(st.RMIASplits, *gr.rmia)
			}
		}
	}
	if plan.sharded() {
		cfg.Log("shard %d of %d: its units are in the store (%.1f s)", cfg.Shard.Index, cfg.Shard.Count, time.Since(start).Seconds())
		return nil, ErrShardDone
	}
	for mi, m := range methods {
		st.Methods = append(st.Methods, summarise(m.ID(), per[mi], cfg.Shadows > 0, cfg.uliraModels()))
	}
	if n >= 2 {
		st.Verdicts = verdict.Compare(st, cfg.Verdict)
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// group is what runGroup measured: per method and seed of the group.
type group struct {
	per        [][]metrics // [method][seed of the group]
	forgetSets []results.ForgetSet
	rmia       *results.RMIASettings // nil without shadows
}

// runGroup runs every method for seeds on one split d: the seeds' forget
// sets (disjoint), full models, methods, shadow models and measurements. Its
// units go through plan (the store and the shard); in a shard it computes
// only the shard's units and measures nothing.
func runGroup(ctx context.Context, backend compute.Backend, d Data, seeds []uint64, methods []unlearn.Method, cfg Config, plan *planner) (*group, error) {
	start := time.Now()
	logf := cfg.Log
	env := unlearn.Env{Backend: backend, Arch: cfg.Arch, Pool: d.Train, Val: &d.Val, FineTune: cfg.FineTune, Train: cfg.Train, Progress: cfg.Progress}
	n := len(seeds)
	forget := forgetSets(d.Train.Rows(), seeds, cfg.ForgetRows)
	gr := &group{per: make([][]metrics, len(methods))}
	for i, s := range seeds {
		gr.forgetSets = append(gr.forgetSets, results.ForgetSet{Spec: ForgetSpec(cfg.ForgetRows), Seed: int64(mix(s, 7)), Rows: forget[i], SplitSeed: d.SplitSeed})
	}
	plan.group(env, d)
	nm := len(methods)
	base := plan.reserve(2 + 2*nm)
	onFulls := func(mi int) int { return base + 2 + mi }
	onShadows := func(mi int) int { return base + 2 + nm + mi }
	needFulls, needShadows := !plan.sharded(), !plan.sharded()
	if cfg.Shard.Stage != StageModels {
		for mi := range methods {
			needFulls = needFulls || plan.owns(onFulls(mi))
			needShadows = needShadows || plan.owns(onShadows(mi))
		}
	}

	// Full models, one per seed, in one ensemble.
	members := make([]train.Member, n)
	for i, s := range seeds {
		seed := mix(s, 1)
		members[i] = train.Member{Name: fmt.Sprintf("full seed %d", s), Init: cfg.Arch.Init(seed), Seed: seed}
	}
	tc := cfg.Train
	tc.Name, tc.Progress = fmt.Sprintf("full models × %d seeds", n), cfg.Progress
	var fulls [][]mlp.Tensor
	fullsDesc := struct {
		Seeds []uint64            `json:"seeds"`
		Train results.TrainConfig `json:"train"`
	}{seeds, cfg.Train.Recipe()}
	haveFulls, err := plan.unit(ctx, base, StageModels, fmt.Sprintf("full models × %d seeds", n), fullsDesc, &fulls, needFulls, func() error {
		res, err := train.FitEnsemble(ctx, backend, cfg.Arch, d.Train, &d.Val, tc, members)
		if err != nil {
			return fmt.Errorf("study: %w", err)
		}
		fulls = make([][]mlp.Tensor, n)
		for i, r := range res {
			fulls[i] = r.Params
		}
		logf("trained %d full models in %.1f s", n, time.Since(start).Seconds())
		return nil
	})
	if err != nil {
		return nil, err
	}
	var tasks []unlearn.Task
	if haveFulls {
		tasks = make([]unlearn.Task, n)
		for i, s := range seeds {
			tasks[i] = unlearn.Task{Name: fmt.Sprintf("seed %d", s), Model: fulls[i], Retain: complement(d.Train.Rows(), forget[i]), Forget: forget[i], Seed: mix(s, 3)}
		}
	}

	ev := newEvaluator(backend, cfg.Arch, d)
	defer ev.finalize()
	var sh *shadowAttack
	if cfg.Shadows > 0 {
		if sh, err = trainShadows(ctx, env, d, forget, ev, seeds, cfg, logf, plan, base+1, needShadows); err != nil {
			return nil, err
		}
		if sh != nil && !plan.sharded() {
			gr.rmia = sh.rmiaSettings()
		}
	}

	if plan.sharded() {
		for mi, m := range methods {
			if plan.owns(onFulls(mi)) {
				if _, _, err := plan.unlearnUnit(ctx, onFulls(mi), env, m, tasks, fmt.Sprintf("%s on %d full models", m.Name(), n)); err != nil {
					return nil, err
				}
			}
			if sh != nil && plan.owns(onShadows(mi)) {
				t := sh.uliraTasks(seeds)
				if _, _, err := plan.unlearnUnit(ctx, onShadows(mi), env, m, t, fmt.Sprintf("%s on %d shadows", m.Name(), len(t))); err != nil {
					return nil, err
				}
			}
		}
		return gr, nil
	}

	// Every method on every seed's full model, then on the shadows.
	per := gr.per
	views := make([][]*view, len(methods))
	var retrained []*view
	for mi, m := range methods {
		t0 := time.Now()
		out, _, err := plan.unlearnUnit(ctx, onFulls(mi), env, m, tasks, fmt.Sprintf("%s on %d full models", m.Name(), n))
		if err != nil {
			return nil, err
		}
		logf("%s on %d models: %.1f s", m.Name(), n, time.Since(t0).Seconds())
		views[mi] = make([]*view, n)
		per[mi] = make([]metrics, n)
		for i := range tasks {
			if views[mi][i], err = ev.view(out[i].Params); err != nil {
				return nil, err
			}
			per[mi][i].zeroed, per[mi][i].seconds = float64(out[i].Zeroed), out[i].Seconds
			per[mi][i].changed, per[mi][i].relL2 = change(fulls[i], out[i].Params)
		}
		if m.ID().Role() == results.RoleReference && retrained == nil {
			retrained = views[mi]
		}
	}
	for mi, m := range methods {
		for i := range tasks {
			if err := ev.measure(&per[mi][i], views[mi][i], retrained[i], forget[i], sh, i); err != nil {
				return nil, fmt.Errorf("study: %s, %s: %w", m.Name(), tasks[i].Name, err)
			}
		}
		if sh != nil {
			t0 := time.Now()
			t := sh.uliraTasks(seeds)
			out, _, err := plan.unlearnUnit(ctx, onShadows(mi), env, m, t, fmt.Sprintf("%s on %d shadows", m.Name(), len(t)))
			if err != nil {
				return nil, err
			}
			if err := sh.perExample(env, out, per[mi], seeds); err != nil {
				return nil, fmt.Errorf("study: %s on the shadows: %w", m.Name(), err)
			}
			logf("%s on %d shadows: U-LiRA accuracy %.3f (%.1f s)", m.Name(), n*sh.models, meanOf(per[mi], func(x metrics) float64 { return x.ulira }), time.Since(t0).Seconds())
		}
	}
	return gr, nil
}

// change counts the parameters of after that differ from before and
// returns ‖after − before‖₂ / ‖before‖₂.
func change(before, after []mlp.Tensor) (changed, relL2 float64) {
	var num, den float64
	for p := range before {
		for j, b := range before[p].Values {
			a := after[p].Values[j]
			if a != b {
				changed++
			}
			d := float64(a) - float64(b)
			num += d * d
			den += float64(b) * float64(b)
		}
	}
	if den == 0 {
		return changed, 0
	}
	return changed, math.Sqrt(num / den)
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
