package study

import (
	"fmt"
	"math"

	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/compute"
)

// scoreKinds are the population attacks' scores, in report order.
var scoreKinds = []mia.ScoreKind{mia.NegLoss, mia.Confidence, mia.NegEntropy, mia.LogitConfidence}

// evaluator predicts the rows every measurement needs.
type evaluator struct {
	backend compute.Backend
	arch    mlp.Arch
	test    train.Data
	retain  train.Data
	forget  train.Data
	classes int
}

func newEvaluator(backend compute.Backend, arch mlp.Arch, d Data, retain []int) *evaluator {
	return &evaluator{backend: backend, arch: arch, test: d.Test, retain: d.Train.Select(retain), forget: d.Train.Select(d.Forget), classes: arch.Classes}
}

// view is one model's log-probabilities on the study's row sets.
type view struct {
	test, retain, forget []float32
}

func (e *evaluator) logProbs(params []mlp.Tensor, sets ...train.Data) ([][]float32, error) {
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		return nil, err
	}
	defer store.Finalize()
	ev := train.NewEvaluator(e.backend, store, e.arch)
	defer ev.Finalize()
	out := make([][]float32, len(sets))
	for i, d := range sets {
		if out[i], err = ev.LogProbabilities(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *evaluator) view(params []mlp.Tensor) (*view, error) {
	lp, err := e.logProbs(params, e.test, e.retain, e.forget)
	if err != nil {
		return nil, err
	}
	return &view{test: lp[0], retain: lp[1], forget: lp[2]}, nil
}

// metrics is one model's numbers for one seed.
type metrics struct {
	testAcc, retainAcc, forgetAcc float64
	testGap, retainGap, forgetGap float64
	forgetKL                      float64
	auc, advantage, tpr1, tpr01   []float64 // per score kind
	liraAUC                       float64
	zeroed, seconds               float64
}

// measure compares v with the retrained model of the same seed and attacks
// it: population attacks with the forget rows as members and every test
// row as a non-member, and offline LiRA against the shadows when given.
func (e *evaluator) measure(v, retrained *view, sh *shadowAttack) (metrics, error) {
	var m metrics
	m.testAcc = train.Accuracy(v.test, e.test.Y)
	m.retainAcc = train.Accuracy(v.retain, e.retain.Y)
	m.forgetAcc = train.Accuracy(v.forget, e.forget.Y)
	m.testGap = m.testAcc - train.Accuracy(retrained.test, e.test.Y)
	m.retainGap = m.retainAcc - train.Accuracy(retrained.retain, e.retain.Y)
	m.forgetGap = m.forgetAcc - train.Accuracy(retrained.forget, e.forget.Y)
	var err error
	if m.forgetKL, err = mia.MeanKLFromLogProbs(v.forget, retrained.forget, e.classes); err != nil {
		return m, err
	}
	for _, kind := range scoreKinds {
		member, err := mia.ScoresFromLogProbs(kind, v.forget, e.forget.Y)
		if err != nil {
			return m, err
		}
		nonMember, err := mia.ScoresFromLogProbs(kind, v.test, e.test.Y)
		if err != nil {
			return m, err
		}
		// One resample: the interval that matters is the one over seeds.
		s, err := mia.Summarize(member, nonMember, mia.SummaryConfig{Bootstrap: 1, FPRs: []float64{0.01, 0.001}})
		if err != nil {
			return m, fmt.Errorf("%s attack: %w", kind, err)
		}
		m.auc = append(m.auc, s.AUC)
		m.advantage = append(m.advantage, s.Advantage)
		m.tpr1 = append(m.tpr1, s.LowFPR[0].TPR)
		// NaN when 0.1 % is not resolvable (fewer than 1,000 non-members).
		m.tpr01 = append(m.tpr01, s.LowFPR[1].TPR)
	}
	if sh != nil {
		if m.liraAUC, err = sh.offlineLiRA(v, e); err != nil {
			return m, err
		}
	}
	return m, nil
}

// summarise turns one method's per-seed metrics into estimates.
func summarise(name string, per []metrics) results.Method {
	est := func(f func(metrics) float64) results.Estimate {
		v := make([]float64, len(per))
		for i, m := range per {
			v[i] = f(m)
		}
		return results.NewEstimate(v)
	}
	out := results.Method{
		Name:           name,
		Zeroed:         est(func(m metrics) float64 { return m.zeroed }),
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
	return out
}
