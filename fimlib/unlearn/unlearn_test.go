package unlearn

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
)

// problem is a small two-class problem with label noise, so that a model
// fitted to it carries row-specific information to forget.
func problem(rows int, seed uint64) train.Data {
	const f = 6
	rng := rand.New(rand.NewPCG(seed, 3))
	d := train.Data{Features: f, X: make([]float32, rows*f), Y: make([]int32, rows)}
	for r := range rows {
		var s float64
		for j := range f {
			v := rng.NormFloat64()
			d.X[r*f+j] = float32(v)
			s += v
		}
		if s+rng.NormFloat64() > 0 {
			d.Y[r] = 1
		}
	}
	return d
}

var arch = mlp.Arch{Inputs: 6, Hidden: []int{16, 8}, Classes: 2, Dropout: 0.1}

// setup trains two models on a pool and returns the environment and one
// deletion task per model.
func setup(t *testing.T) (Env, []Task) {
	t.Helper()
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	pool := problem(300, 1)
	val := problem(100, 2)
	env := Env{Backend: be, Arch: arch, Pool: pool, Val: &val, FineTune: train.SeedFineTune, Train: train.Seed}
	env.FineTune.MaxEpochs, env.FineTune.LearningRate = 3, 1e-3
	env.Train.MaxEpochs, env.Train.Patience = 6, 2
	res, err := train.FitEnsemble(context.Background(), be, arch, pool, nil, func() train.Config {
		c := train.SeedFineTune
		c.MaxEpochs, c.LearningRate = 15, 1e-2
		return c
	}(), []train.Member{{Name: "a", Init: arch.Init(1), Seed: 1}, {Name: "b", Init: arch.Init(2), Seed: 2}})
	if err != nil {
		t.Fatal(err)
	}
	var forget, retain []int
	for i := range pool.Rows() {
		if i < 20 {
			forget = append(forget, i)
		} else {
			retain = append(retain, i)
		}
	}
	tasks := []Task{
		{Name: "a", Model: res[0].Params, Retain: retain, Forget: forget, Seed: 11},
		{Name: "b", Model: res[1].Params, Retain: retain, Forget: forget, Seed: 12},
	}
	return env, tasks
}

func TestMethodsKeepTheirPromises(t *testing.T) {
	env, tasks := setup(t)
	total := arch.NumParams()
	for _, m := range Standard(0.2) {
		t.Run(m.Name(), func(t *testing.T) {
			out, err := m.Unlearn(context.Background(), env, tasks)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(tasks) {
				t.Fatalf("%d outcomes for %d tasks", len(out), len(tasks))
			}
			_, identity := m.(Identity)
			for i, o := range out {
				// The identity is the one method that must change nothing,
				// and it takes no measurable time.
				if unchanged := reflect.DeepEqual(o.Params, tasks[i].Model); unchanged != identity {
					t.Errorf("task %d: model unchanged = %v, want %v", i, unchanged, identity)
				}
				if identity && len(o.Params) > 0 && len(tasks[i].Model) > 0 && &o.Params[0].Values[0] == &tasks[i].Model[0].Values[0] {
					t.Errorf("task %d: identity returned the task's own slices, not a copy", i)
				}
				if o.Seconds <= 0 && !identity {
					t.Errorf("task %d: time %g", i, o.Seconds)
				}
				zeros := 0
				for p, mt := range o.Mask {
					if mt.Name != o.Params[p].Name {
						t.Fatalf("mask tensor %q against parameter %q", mt.Name, o.Params[p].Name)
					}
					for j, keep := range mt.Values {
						if keep == 0 {
							zeros++
							if o.Params[p].Values[j] != 0 {
								t.Fatalf("task %d: %s[%d] = %g is masked and must be exactly 0", i, mt.Name, j, o.Params[p].Values[j])
							}
						}
					}
				}
				if zeros != o.Zeroed {
					t.Errorf("task %d: mask has %d zeros, outcome says %d", i, zeros, o.Zeroed)
				}
				switch m.(type) {
				case FIMPrune, RandomPrune, MagnitudePrune:
					if want := int(math.Round(0.2 * float64(total))); o.Zeroed != want {
						t.Errorf("task %d: zeroed %d of %d, want %d", i, o.Zeroed, total, want)
					}
				case RatioPrune:
					if o.Zeroed == 0 || o.Zeroed == total {
						t.Errorf("task %d: the ratio rule zeroed %d of %d", i, o.Zeroed, total)
					}
				default:
					if o.Mask != nil {
						t.Errorf("task %d: a method that does not prune returned a mask", i)
					}
				}
			}
		})
	}
}

func forgetLoss(t *testing.T, env Env, params []mlp.Tensor, rows []int) float64 {
	t.Helper()
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := train.NewEvaluator(env.Backend, store, env.Arch)
	defer ev.Finalize()
	logp, err := ev.LogProbabilities(env.Pool)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, r := range rows {
		s -= float64(logp[r*2+int(env.Pool.Y[r])])
	}
	return s / float64(len(rows))
}

// TestNegGradPlusAscendsOnForgetRows compares NegGrad+ with plain
// fine-tuning on the same budget: only NegGrad+ pushes the forget rows' loss up.
func TestNegGradPlusAscendsOnForgetRows(t *testing.T) {
	env, tasks := setup(t)
	ng, err := NegGradPlus{Alpha: 0.5}.Unlearn(context.Background(), env, tasks[:1])
	if err != nil {
		t.Fatal(err)
	}
	ft, err := FineTune{}.Unlearn(context.Background(), env, tasks[:1])
	if err != nil {
		t.Fatal(err)
	}
	a, b := forgetLoss(t, env, ng[0].Params, tasks[0].Forget), forgetLoss(t, env, ft[0].Params, tasks[0].Forget)
	if !(a > b) {
		t.Errorf("forget-row loss after NegGrad+ %.3f, after fine-tuning %.3f: NegGrad+ should be higher", a, b)
	}
}

// TestSSDOnlyDampens checks SSD's promise: parameters only shrink toward 0,
// never grow or flip sign.
func TestSSDOnlyDampens(t *testing.T) {
	env, tasks := setup(t)
	out, err := SSD{Alpha: 1, Lambda: 1}.Unlearn(context.Background(), env, tasks)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i, o := range out {
		for p := range o.Params {
			for j, v := range o.Params[p].Values {
				w := tasks[i].Model[p].Values[j]
				if math.Abs(float64(v)) > math.Abs(float64(w)) || v*w < 0 {
					t.Fatalf("%s[%d]: %g became %g", o.Params[p].Name, j, w, v)
				}
				if v != w {
					changed++
				}
			}
		}
	}
	if changed == 0 {
		t.Error("SSD with α = 1 dampened nothing")
	}
}

func TestUnlearnRejectsBadTasks(t *testing.T) {
	env, tasks := setup(t)
	bad := tasks[0]
	bad.Forget = []int{env.Pool.Rows()}
	if _, err := (FineTune{}).Unlearn(context.Background(), env, []Task{bad}); err == nil {
		t.Error("a forget row outside the pool was accepted")
	}
	if _, err := (FineTune{}).Unlearn(context.Background(), env, nil); err == nil {
		t.Error("an empty batch was accepted")
	}
}

// TestRetrainReplica: retrain-2 retrains with seeds independent of
// retrain's (other weights), deterministically (the same weights twice), and
// is named and typed as the null reference.
func TestRetrainReplica(t *testing.T) {
	env, tasks := setup(t)
	run := func(m Method) [][]float32 {
		out, err := m.Unlearn(context.Background(), env, tasks[:1])
		if err != nil {
			t.Fatal(err)
		}
		return [][]float32{out[0].Params[0].Values}
	}
	first, second, again := run(Retrain{}), run(Retrain{Replica: 2}), run(Retrain{Replica: 2})
	if reflect.DeepEqual(first, second) {
		t.Error("retrain-2 gave retrain's weights: its seeds are not independent")
	}
	if !reflect.DeepEqual(second, again) {
		t.Error("retrain-2 gave different weights on a second run")
	}
	if got := (Retrain{Replica: 2}).Name(); got != "retrain-2" {
		t.Errorf("name %q, want retrain-2", got)
	}
	if r := (Retrain{Replica: 2}).ID().Role(); r != "null" {
		t.Errorf("role %q, want null", r)
	}
}
