package study

import (
	"fmt"
	"math"
	"sort"

	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
)

// scoreKinds are the population attacks' scores, in report order.
var scoreKinds = []mia.ScoreKind{mia.NegLoss, mia.Confidence, mia.NegEntropy, mia.LogitConfidence}

// evaluator predicts the rows every measurement needs. It keeps one store
// and one compiled evaluator and swaps each model's parameters in, since
// compiling a graph per model would cost more than the predictions.
type evaluator struct {
	backend compute.Backend
	arch    mlp.Arch
	d       Data
	classes int
	store   *model.Store
	ev      *train.Evaluator
}

func newEvaluator(backend compute.Backend, arch mlp.Arch, d Data) *evaluator {
	return &evaluator{backend: backend, arch: arch, d: d, classes: arch.Classes}
}

// finalize releases the compiled graph and the store.
func (e *evaluator) finalize() {
	if e.ev != nil {
		e.ev.Finalize()
		e.store.Finalize()
	}
}

// view is one model's log-probabilities on the training split (the pool),
// the test rows and the validation rows.
type view struct {
	pool, test, val []float32
}

func (e *evaluator) logProbs(params []mlp.Tensor, sets ...train.Data) ([][]float32, error) {
	if e.ev == nil {
		store, err := mlp.NewStore(params, 0)
		if err != nil {
			return nil, err
		}
		e.store, e.ev = store, train.NewEvaluator(e.backend, store, e.arch)
	} else if err := mlp.SetParams(e.store, params); err != nil {
		return nil, err
	}
	out := make([][]float32, len(sets))
	for i, d := range sets {
		var err error
		if out[i], err = e.ev.LogProbabilities(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *evaluator) view(params []mlp.Tensor) (*view, error) {
	lp, err := e.logProbs(params, e.d.Train, e.d.Test, e.d.Val)
	if err != nil {
		return nil, err
	}
	return &view{pool: lp[0], test: lp[1], val: lp[2]}, nil
}

// rows returns the log-probabilities and labels of the pool rows idx.
func (e *evaluator) rows(lp []float32, idx []int) ([]float32, []int32) {
	c := e.classes
	out := make([]float32, 0, len(idx)*c)
	y := make([]int32, len(idx))
	for i, r := range idx {
		out = append(out, lp[r*c:(r+1)*c]...)
		y[i] = e.d.Train.Y[r]
	}
	return out, y
}

// metrics is one model's numbers for one seed.
type metrics struct {
	testAcc, retainAcc, forgetAcc float64
	testGap, retainGap, forgetGap float64
	forgetKL                      float64
	auc, advantage, tpr1, tpr01   []float64 // per score kind
	liraAUC, liraTied             float64
	rmiaAUC, rmiaTPR1             float64
	zeroed, seconds               float64
	changed, relL2                float64
	// Shadow side (per seed).
	ulira, forgetScore, capped float64
	finiteEps                  []float64
}

// accuracies returns v's test, retained and forget accuracies.
func (e *evaluator) accuracies(v *view, retain, forget []int) (test, ret, fgt float64) {
	test = train.Accuracy(v.test, e.d.Test.Y)
	lp, y := e.rows(v.pool, retain)
	ret = train.Accuracy(lp, y)
	lp, y = e.rows(v.pool, forget)
	fgt = train.Accuracy(lp, y)
	return
}

// measure fills m with v's numbers for one seed: gaps and KL against the
// retrained model of the same seed; population attacks with the forget
// rows as members and every test row as a non-member; offline LiRA and
// RMIA against the shadows (sh may be nil) for seed i.
func (e *evaluator) measure(m *metrics, v, retrained *view, forget []int, sh *shadowAttack, i int) error {
	retain := complement(e.d.Train.Rows(), forget)
	m.testAcc, m.retainAcc, m.forgetAcc = e.accuracies(v, retain, forget)
	rt, rr, rf := e.accuracies(retrained, retain, forget)
	m.testGap, m.retainGap, m.forgetGap = m.testAcc-rt, m.retainAcc-rr, m.forgetAcc-rf
	vf, fy := e.rows(v.pool, forget)
	rf32, _ := e.rows(retrained.pool, forget)
	var err error
	if m.forgetKL, err = mia.MeanKLFromLogProbs(vf, rf32, e.classes); err != nil {
		return err
	}
	for _, kind := range scoreKinds {
		member, err := mia.ScoresFromLogProbs(kind, vf, fy)
		if err != nil {
			return err
		}
		nonMember, err := mia.ScoresFromLogProbs(kind, v.test, e.d.Test.Y)
		if err != nil {
			return err
		}
		// One resample: the interval that matters is the one over seeds.
		s, err := mia.Summarize(member, nonMember, mia.SummaryConfig{Bootstrap: 1, FPRs: []float64{0.01, 0.001}})
		if err != nil {
			return fmt.Errorf("%s attack: %w", kind, err)
		}
		m.auc = append(m.auc, s.AUC)
		m.advantage = append(m.advantage, s.Advantage)
		m.tpr1 = append(m.tpr1, s.LowFPR[0].TPR)
		// NaN when 0.1 % is not resolvable (fewer than 1,000 non-members).
		m.tpr01 = append(m.tpr01, s.LowFPR[1].TPR)
	}
	if sh != nil {
		return sh.attack(m, v, i)
	}
	return nil
}

// summarise turns one method's per-seed metrics into estimates.
func summarise(id results.MethodID, per []metrics, shadows bool, models int) results.Method {
	est := func(f func(metrics) float64) results.Estimate {
		v := make([]float64, len(per))
		for i, m := range per {
			v[i] = f(m)
		}
		return results.NewEstimate(v)
	}
	ptr := func(e results.Estimate) *results.Estimate { return &e }
	out := results.Method{
		Name:           id.Name(),
		ID:             id,
		Zeroed:         est(func(m metrics) float64 { return m.zeroed }),
		Change:         &results.Change{Parameters: est(func(m metrics) float64 { return m.changed }), RelativeL2: est(func(m metrics) float64 { return m.relL2 })},
		TestAccuracy:   est(func(m metrics) float64 { return m.testAcc }),
		RetainAccuracy: est(func(m metrics) float64 { return m.retainAcc }),
		ForgetAccuracy: est(func(m metrics) float64 { return m.forgetAcc }),
		TestGap:        est(func(m metrics) float64 { return m.testGap }),
		RetainGap:      est(func(m metrics) float64 { return m.retainGap }),
		ForgetGap:      est(func(m metrics) float64 { return m.forgetGap }),
		ForgetKL:       est(func(m metrics) float64 { return m.forgetKL }),
		LiRAOfflineAUC: est(func(m metrics) float64 { return m.liraAUC }),
		Seconds:        est(func(m metrics) float64 { return m.seconds }),
	}
	for k, kind := range scoreKinds {
		a := results.AttackEstimate{
			Score:        kind.String(),
			AUC:          est(func(m metrics) float64 { return m.auc[k] }),
			Advantage:    est(func(m metrics) float64 { return m.advantage[k] }),
			TPRAt1pctFPR: est(func(m metrics) float64 { return m.tpr1[k] }),
		}
		if tpr := est(func(m metrics) float64 { return m.tpr01[k] }); !math.IsNaN(tpr.Mean) {
			a.TPRAt01pctFPR = &tpr
		}
		out.Attacks = append(out.Attacks, a)
	}
	if !shadows {
		return out
	}
	out.LiRATiedShare = ptr(est(func(m metrics) float64 { return m.liraTied }))
	out.RMIAAUC = ptr(est(func(m metrics) float64 { return m.rmiaAUC }))
	out.RMIATPRAt1pctFPR = ptr(est(func(m metrics) float64 { return m.rmiaTPR1 }))
	var finite []float64
	for _, m := range per {
		finite = append(finite, m.finiteEps...)
	}
	shadow := &results.Shadow{
		ModelsPerSide: models,
		ULiRA:         est(func(m metrics) float64 { return m.ulira }),
		ForgetScore:   est(func(m metrics) float64 { return m.forgetScore }),
		Capped:        est(func(m metrics) float64 { return m.capped }),
		Ceiling:       mia.MaxFiniteEpsilon(models, mia.EpsilonConfig{}),
	}
	if len(finite) > 0 {
		sort.Float64s(finite)
		med := finite[len(finite)/2]
		if len(finite)%2 == 0 {
			med = (finite[len(finite)/2-1] + med) / 2
		}
		shadow.MedianFiniteEpsilon = &med
	}
	out.Shadow = shadow
	return out
}

func meanOf(per []metrics, f func(metrics) float64) float64 {
	var s float64
	for _, m := range per {
		s += f(m) / float64(len(per))
	}
	return s
}
