package study

import (
	"context"
	"fmt"
	"time"

	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/shadow"
	"github.com/fimprune/fimprune/fimlib/unlearn"
)

// shadowAttack holds the shadow models and their scores.
type shadowAttack struct {
	set    *shadow.Set
	k      int // shadows; 0..k/2−1 trained on the forget set ("IN"), the rest did not
	forget []int
	// retainOf[s] are the retained rows shadow s trained on.
	retainOf [][]int
	// outForget[j][i] is OUT shadow j's logit-scaled confidence on forget
	// row i; shadowRows[s] shadow s's on the forget rows then the test rows
	// (offline LiRA's reference).
	outForget  [][]float64
	shadowRows [][]float64
	inRows     [][]bool
	ev         *evaluator
}

// trainShadows trains cfg.Shadows shadows (see the package documentation)
// and scores them.
func trainShadows(ctx context.Context, env unlearn.Env, d Data, retain []int, ev *evaluator, cfg Config, logf func(string, ...any)) (*shadowAttack, error) {
	t0 := time.Now()
	k := cfg.Shadows
	halves := shadow.Inclusion(k, len(retain), mix(cfg.Seeds[0], 5))
	in := make([][]bool, k)
	sa := &shadowAttack{k: k, forget: d.Forget, retainOf: make([][]int, k), ev: ev}
	for s := range k {
		in[s] = make([]bool, d.Train.Rows())
		for j, r := range retain {
			if halves[s][j] {
				in[s][r] = true
				sa.retainOf[s] = append(sa.retainOf[s], r)
			}
		}
		if s < k/2 {
			for _, r := range d.Forget {
				in[s][r] = true
			}
		}
	}
	scfg := shadow.Config{Models: k, Seed: mix(cfg.Seeds[0], 6), Arch: cfg.Arch, Train: cfg.Train}
	set, err := shadow.TrainWith(ctx, env.Backend, d.Train, &d.Val, scfg, in, env.Progress)
	if err != nil {
		return nil, err
	}
	sa.set = set
	for s := range k {
		lp, err := sa.ev.logProbs(set.Params[s], sa.ev.forget, sa.ev.test)
		if err != nil {
			return nil, err
		}
		f, err := mia.ScoresFromLogProbs(mia.LogitConfidence, lp[0], sa.ev.forget.Y)
		if err != nil {
			return nil, err
		}
		t, err := mia.ScoresFromLogProbs(mia.LogitConfidence, lp[1], sa.ev.test.Y)
		if err != nil {
			return nil, err
		}
		if s >= k/2 {
			sa.outForget = append(sa.outForget, f)
		}
		sa.shadowRows = append(sa.shadowRows, append(f, t...))
		rowsIn := make([]bool, len(f)+len(t))
		for i := range f {
			rowsIn[i] = s < k/2
		}
		sa.inRows = append(sa.inRows, rowsIn)
	}
	logf("trained and scored %d shadow models in %.1f s", k, time.Since(t0).Seconds())
	return sa, nil
}

// offlineLiRA is offline LiRA (fixed variance) against one model: the forget
// rows as members, the test rows as non-members, each row's OUT Gaussian
// from the shadows that did not train on it. It returns the attack's AUC.
func (sa *shadowAttack) offlineLiRA(v *view, e *evaluator) (float64, error) {
	f, err := mia.ScoresFromLogProbs(mia.LogitConfidence, v.forget, e.forget.Y)
	if err != nil {
		return 0, err
	}
	t, err := mia.ScoresFromLogProbs(mia.LogitConfidence, v.test, e.test.Y)
	if err != nil {
		return 0, err
	}
	res, err := mia.LiRA(sa.shadowRows, sa.inRows, append(f, t...), mia.LiRAConfig{Offline: true})
	if err != nil {
		return 0, err
	}
	member := make([]bool, len(f)+len(t))
	for i := range f {
		member[i] = true
	}
	m, n, _, err := mia.SplitMembers(res.Stat, member)
	if err != nil {
		return 0, err
	}
	return mia.AUC(m, n)
}

// perExample runs method on every IN shadow and measures how well its
// unlearned shadows can be told from the OUT shadows on each forget row:
// U-LiRA accuracy and the challenge ε.
func (sa *shadowAttack) perExample(ctx context.Context, env unlearn.Env, method unlearn.Method, bootstrap int, seed uint64) (*results.ULiRA, *results.EpsilonScore, error) {
	half := sa.k / 2
	tasks := make([]unlearn.Task, half)
	for s := range half {
		tasks[s] = unlearn.Task{Name: fmt.Sprintf("shadow %d", s), Model: sa.set.Params[s], Retain: sa.retainOf[s], Forget: sa.forget, Seed: mix(seed, uint64(s))}
	}
	out, err := method.Unlearn(ctx, env, tasks)
	if err != nil {
		return nil, nil, err
	}
	unlearned := make([][]float64, half) // [model][forget row]
	for s, o := range out {
		lp, err := sa.ev.logProbs(o.Params, sa.ev.forget)
		if err != nil {
			return nil, nil, err
		}
		if unlearned[s], err = mia.ScoresFromLogProbs(mia.LogitConfidence, lp[0], sa.ev.forget.Y); err != nil {
			return nil, nil, err
		}
	}
	// The first half of each side fits U-LiRA's Gaussians; the second half
	// is judged.
	q := half / 2
	perRow := func(models [][]float64, i int) []float64 {
		v := make([]float64, len(models))
		for m := range models {
			v[m] = models[m][i]
		}
		return v
	}
	n := len(sa.forget)
	fitIn, fitOut, evalUn, evalRe := make([][]float64, n), make([][]float64, n), make([][]float64, n), make([][]float64, n)
	for i := range n {
		fitIn[i], evalUn[i] = perRow(unlearned[:q], i), perRow(unlearned[q:], i)
		fitOut[i], evalRe[i] = perRow(sa.outForget[:q], i), perRow(sa.outForget[q:], i)
	}
	u, err := mia.ULiRA(fitIn, fitOut, evalUn, evalRe, mia.ULiRAConfig{Bootstrap: bootstrap, Seed: seed})
	if err != nil {
		return nil, nil, fmt.Errorf("U-LiRA: %w", err)
	}
	c, err := mia.ChallengeScore(unlearned, sa.outForget, mia.EpsilonConfig{})
	if err != nil {
		return nil, nil, fmt.Errorf("ε: %w", err)
	}
	var meanEps float64
	for _, e := range c.Epsilon {
		meanEps += e / float64(len(c.Epsilon))
	}
	return &results.ULiRA{Accuracy: u.Accuracy, CI95: u.CI95, Examples: u.Examples, Pairs: u.UnlearnedPairs + u.RetrainedPairs},
		&results.EpsilonScore{MeanEpsilon: meanEps, ForgetScore: c.ForgetScore, ModelsPerSide: half, Ceiling: c.MaxFiniteEpsilon}, nil
}
