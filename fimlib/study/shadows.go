package study

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/shadow"
	"github.com/fimprune/fimprune/fimlib/unlearn"
)

// rmiaGrid is the grid the offline scaling a is chosen from.
var rmiaGrid = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}

// RMIA's tuning: how many shadows are attacked in turn and on how many pool
// rows outside the forget sets.
const (
	rmiaTuneTargets = 4
	rmiaTuneRows    = 2000
)

// shadowAttack holds the shadow models, their scores and what the attacks
// of each seed need.
type shadowAttack struct {
	set    *shadow.Set
	ev     *evaluator
	forget [][]int
	// block[s][i] says whether shadow s trained on seed i's forget set;
	// inOf[i] and outOf[i] list the shadows that did and did not.
	block       [][]bool
	inOf, outOf [][]int
	models      int // U-LiRA and ε models per side and seed
	// Per shadow: logit-scaled confidence (LiRA's statistic) and
	// true-label probability (RMIA's signal) on the pool, test and
	// validation rows.
	lcPool, lcTest [][]float64
	pPool, pTest   [][]float64
	pVal           [][]float64
	rmia           mia.RMIAConfig
	rmiaAUC        []float64
	tuneRows       int
	// seeds caches each seed's reference rows (forget rows then test rows).
	seeds []*seedRefs
}

type seedRefs struct {
	lc, p  [][]float64 // [shadow][attacked row]
	in     [][]bool
	member []bool
}

// trainShadows trains cfg.Shadows shadows (see the package documentation),
// scores them and chooses RMIA's a on them.
//
// The training is unit i of plan: in a shard that does not need the shadows
// it returns nil, and in a shard that does it returns them unscored (the
// shard only runs methods on them).
func trainShadows(ctx context.Context, env unlearn.Env, d Data, forget [][]int, ev *evaluator, seeds []uint64, cfg Config, logf func(string, ...any), plan *planner, i int, needed bool) (*shadowAttack, error) {
	t0 := time.Now()
	k, pool := cfg.Shadows, d.Train.Rows()
	background := complement(pool, slices.Concat(forget...))
	halves := shadow.Inclusion(k, len(background), mix(seeds[0], 5))
	sa := &shadowAttack{ev: ev, forget: forget, models: cfg.uliraModels(), block: shadow.Inclusion(k, len(forget), mix(seeds[0], 9))}
	in := make([][]bool, k)
	for s := range k {
		in[s] = make([]bool, pool)
		for j, r := range background {
			in[s][r] = halves[s][j]
		}
		for i, f := range forget {
			if sa.block[s][i] {
				for _, r := range f {
					in[s][r] = true
				}
			}
		}
	}
	for i := range forget {
		var ins, outs []int
		for s := range k {
			if sa.block[s][i] {
				ins = append(ins, s)
			} else {
				outs = append(outs, s)
			}
		}
		sa.inOf, sa.outOf = append(sa.inOf, ins), append(sa.outOf, outs)
	}
	scfg := shadow.Config{Models: k, Seed: mix(seeds[0], 6), Arch: cfg.Arch, Train: cfg.Train}
	var params [][]mlp.Tensor
	desc := struct {
		Models    int                 `json:"models"`
		Seed      uint64              `json:"seed"`
		Train     results.TrainConfig `json:"train"`
		Inclusion string              `json:"inclusion"`
	}{k, scfg.Seed, cfg.Train.Recipe(), inclusionHash(in)}
	have, err := plan.unit(ctx, i, StageModels, fmt.Sprintf("%d shadow models", k), desc, &params, needed, func() error {
		set, err := shadow.TrainWith(ctx, env.Backend, d.Train, &d.Val, scfg, in, env.Progress)
		if err != nil {
			return err
		}
		params = set.Params
		return nil
	})
	if err != nil || !have {
		return nil, err
	}
	sa.set = &shadow.Set{Arch: cfg.Arch, In: in, Params: params}
	if plan.sharded() {
		return sa, nil
	}
	set := sa.set
	for s := range k {
		v, err := ev.view(set.Params[s])
		if err != nil {
			return nil, err
		}
		lcPool, err := mia.ScoresFromLogProbs(mia.LogitConfidence, v.pool, d.Train.Y)
		if err != nil {
			return nil, err
		}
		lcTest, err := mia.ScoresFromLogProbs(mia.LogitConfidence, v.test, d.Test.Y)
		if err != nil {
			return nil, err
		}
		lcVal, err := mia.ScoresFromLogProbs(mia.LogitConfidence, v.val, d.Val.Y)
		if err != nil {
			return nil, err
		}
		sa.lcPool, sa.lcTest = append(sa.lcPool, lcPool), append(sa.lcTest, lcTest)
		sa.pPool, sa.pTest, sa.pVal = append(sa.pPool, probs(lcPool)), append(sa.pTest, probs(lcTest)), append(sa.pVal, probs(lcVal))
	}
	logf("scored %d shadow models (trained or from the store) in %.1f s", k, time.Since(t0).Seconds())

	// RMIA's a, chosen by attacking shadows with the others as references.
	r := rand.New(rand.NewPCG(mix(seeds[0], 10), 0x7e))
	rows := background
	if len(rows) > rmiaTuneRows {
		rows = make([]int, rmiaTuneRows)
		for j, p := range r.Perm(len(background))[:rmiaTuneRows] {
			rows[j] = background[p]
		}
	}
	sa.tuneRows = len(rows)
	probsTune, inTune := make([][]float64, k), make([][]bool, k)
	for s := range k {
		probsTune[s], inTune[s] = make([]float64, len(rows)), make([]bool, len(rows))
		for j, row := range rows {
			probsTune[s][j], inTune[s][j] = sa.pPool[s][row], in[s][row]
		}
	}
	targets := make([]int, min(rmiaTuneTargets, k))
	for j := range targets {
		targets[j] = j
	}
	sa.rmia.Gamma = mia.DefaultRMIAGamma
	if sa.rmia.A, sa.rmiaAUC, err = mia.RMIATune(probsTune, inTune, sa.pVal, targets, rmiaGrid, sa.rmia.Gamma); err != nil {
		return nil, fmt.Errorf("study: choosing RMIA's a: %w", err)
	}
	logf("RMIA: a = %g (γ = %g), chosen on %d shadows", sa.rmia.A, sa.rmia.Gamma, len(targets))
	return sa, nil
}

func (sa *shadowAttack) rmiaSettings() *results.RMIASettings {
	return &results.RMIASettings{
		Signal: "true-label probability", Gamma: sa.rmia.Gamma, A: sa.rmia.A,
		Grid: rmiaGrid, GridAUC: sa.rmiaAUC,
		TuneTargets: min(rmiaTuneTargets, len(sa.pPool)), TuneRows: sa.tuneRows,
		PopulationRows: len(sa.pVal[0]),
	}
}

// probs turns logit-scaled confidences into true-label probabilities in
// float64 (a float32 probability rounds confident rows to exactly 1).
func probs(lc []float64) []float64 {
	out := make([]float64, len(lc))
	for i, x := range lc {
		out[i] = 1 / (1 + math.Exp(-x))
	}
	return out
}

// refs returns seed i's reference rows: every shadow's scores on the
// forget rows then the test rows, with inclusion flags.
func (sa *shadowAttack) refs(i int) *seedRefs {
	for len(sa.seeds) <= i {
		sa.seeds = append(sa.seeds, nil)
	}
	if r := sa.seeds[i]; r != nil {
		return r
	}
	f := sa.forget[i]
	r := &seedRefs{}
	for s := range sa.lcPool {
		lc := make([]float64, 0, len(f)+len(sa.lcTest[s]))
		p := make([]float64, 0, cap(lc))
		for _, row := range f {
			lc, p = append(lc, sa.lcPool[s][row]), append(p, sa.pPool[s][row])
		}
		lc, p = append(lc, sa.lcTest[s]...), append(p, sa.pTest[s]...)
		in := make([]bool, len(lc))
		for j := range f {
			in[j] = sa.block[s][i]
		}
		r.lc, r.p, r.in = append(r.lc, lc), append(r.p, p), append(r.in, in)
	}
	r.member = make([]bool, len(r.lc[0]))
	for j := range f {
		r.member[j] = true
	}
	sa.seeds[i] = r
	return r
}

// attack runs offline LiRA and offline RMIA against v for seed i, both
// tie-robust, and records their AUCs, RMIA's TPR at 1 % FPR and the share
// of attacked rows in ties.
func (sa *shadowAttack) attack(m *metrics, v *view, i int) error {
	r := sa.refs(i)
	e := sa.ev
	fl, fy := e.rows(v.pool, sa.forget[i])
	lcF, err := mia.ScoresFromLogProbs(mia.LogitConfidence, fl, fy)
	if err != nil {
		return err
	}
	lcT, err := mia.ScoresFromLogProbs(mia.LogitConfidence, v.test, e.d.Test.Y)
	if err != nil {
		return err
	}
	lcV, err := mia.ScoresFromLogProbs(mia.LogitConfidence, v.val, e.d.Val.Y)
	if err != nil {
		return err
	}
	target := append(lcF, lcT...)
	lira, err := mia.LiRA(r.lc, r.in, target, mia.LiRAConfig{Offline: true})
	if err != nil {
		return fmt.Errorf("offline LiRA: %w", err)
	}
	stat, tied, err := mia.TieRobust(lira.Stat, target)
	if err != nil {
		return err
	}
	m.liraTied = float64(tied) / float64(len(target))
	if m.liraAUC, err = aucOf(stat, r.member); err != nil {
		return fmt.Errorf("offline LiRA: %w", err)
	}
	pt := probs(target)
	rm, err := mia.RMIA(pt, r.p, r.in, probs(lcV), sa.pVal, sa.rmia)
	if err != nil {
		return fmt.Errorf("RMIA: %w", err)
	}
	score, _, err := mia.TieRobust(rm.Score, pt)
	if err != nil {
		return err
	}
	mem, non, _, err := mia.SplitMembers(score, r.member)
	if err != nil {
		return err
	}
	s, err := mia.Summarize(mem, non, mia.SummaryConfig{Bootstrap: 1, FPRs: []float64{0.01}})
	if err != nil {
		return fmt.Errorf("RMIA: %w", err)
	}
	m.rmiaAUC, m.rmiaTPR1 = s.AUC, s.LowFPR[0].TPR
	return nil
}

func aucOf(stat []float64, member []bool) (float64, error) {
	mem, non, _, err := mia.SplitMembers(stat, member)
	if err != nil {
		return 0, err
	}
	return mia.AUC(mem, non)
}

// uliraTasks are the tasks of U-LiRA and ε: for every seed, its forget
// rows on the first sa.models IN shadows.
func (sa *shadowAttack) uliraTasks(seeds []uint64) []unlearn.Task {
	var tasks []unlearn.Task
	for i, f := range sa.forget {
		skip := make([]bool, len(sa.set.In[0]))
		for _, r := range f {
			skip[r] = true
		}
		for j, s := range sa.inOf[i][:sa.models] {
			var retain []int
			for r, in := range sa.set.In[s] {
				if in && !skip[r] {
					retain = append(retain, r)
				}
			}
			tasks = append(tasks, unlearn.Task{Name: fmt.Sprintf("seed %d, shadow %d", seeds[i], s), Model: sa.set.Params[s], Retain: retain, Forget: f, Seed: mix(seeds[i], 8) + uint64(j)})
		}
	}
	return tasks
}

// perExample compares the unlearned shadows out (the outcomes of
// uliraTasks) with the first sa.models OUT shadows on each seed's forget
// rows: U-LiRA (rotated) and the challenge's ε, per seed, into per[i].
func (sa *shadowAttack) perExample(env unlearn.Env, out []unlearn.Outcome, per []metrics, seeds []uint64) error {
	for i, f := range sa.forget {
		unlearned, retrained := make([][]float64, sa.models), make([][]float64, sa.models)
		fd := env.Pool.Select(f)
		for j := range sa.models {
			lp, err := sa.ev.logProbs(out[i*sa.models+j].Params, fd)
			if err != nil {
				return err
			}
			if unlearned[j], err = mia.ScoresFromLogProbs(mia.LogitConfidence, lp[0], fd.Y); err != nil {
				return err
			}
			s := sa.outOf[i][j]
			retrained[j] = make([]float64, len(f))
			for k, r := range f {
				retrained[j][k] = sa.lcPool[s][r]
			}
		}
		u, err := mia.ULiRARotated(unlearned, retrained, mia.ULiRAConfig{})
		if err != nil {
			return fmt.Errorf("U-LiRA, seed %d: %w", seeds[i], err)
		}
		c, err := mia.ChallengeScore(unlearned, retrained, mia.EpsilonConfig{})
		if err != nil {
			return fmt.Errorf("ε, seed %d: %w", seeds[i], err)
		}
		sum := c.Summary()
		per[i].ulira, per[i].forgetScore, per[i].capped = u.Accuracy, sum.ForgetScore, float64(sum.Capped)
		for _, e := range c.Epsilon {
			if e < mia.ChallengeEpsilonCap {
				per[i].finiteEps = append(per[i].finiteEps, e)
			}
		}
	}
	return nil
}
