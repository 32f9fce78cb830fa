// Package unlearn puts the deletion methods that fimprune compares behind one
// interface: the seed's Fisher pruning, a forget/retain Fisher-ratio
// selection, SSD, fine-tuning on the retained rows alone, random and
// magnitude pruning as controls, NegGrad+, and retraining from scratch (the
// gold standard). Every method gets the same data and, where it trains, the
// same budget ([Env.FineTune]).
//
// A [Method] takes a batch of [Task]s (one trained model and the rows it
// must forget, each) and runs them together where it can: the fine-tunes of
// a batch are one ensemble ([train.FitEnsemble]). Batches matter for U-LiRA,
// which runs a method on every shadow model that saw the forget set.
//
// Sources for the methods and their settings are listed in docs/methods.md:
// SSD (Foster et al., AAAI 2024), NegGrad+ (Kurmanji et al., NeurIPS 2023),
// the seed notebook (docs/protocol.md).
package unlearn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/prune"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/compute"
)

// Env is what every task of a batch shares.
type Env struct {
	Backend compute.Backend
	Arch    mlp.Arch
	// Pool holds every row a task refers to (for Adult: the training split).
	Pool train.Data
	// Val is the validation data; only Retrain uses it (early stopping).
	Val *train.Data
	// FineTune is the training budget of every method that trains after its
	// edit (the seed's: 20 epochs, Adam lr 1e-4, batch 64); Retrain uses Train.
	FineTune, Train train.Config
	Progress        *train.Progress
}

// Task is one deletion request on one trained model.
type Task struct {
	Name   string
	Model  []mlp.Tensor // the trained model, in mlp.Arch.Init's order
	Retain []int        // pool rows the model trained on and keeps
	Forget []int        // pool rows to forget
	Seed   uint64       // the method's randomness (shuffling, random masks, initialisation)
}

// Outcome is what a method made of one task.
type Outcome struct {
	Params []mlp.Tensor
	// Mask is 0 where the method set a parameter to zero and keeps it at
	// zero (pruning methods); nil for methods that do not prune.
	Mask []mlp.Tensor
	// Zeroed counts the parameters the mask sets to zero.
	Zeroed int
	// Seconds is the batch's wall time divided by its number of tasks.
	Seconds float64
}

// Method is one deletion method.
type Method interface {
	// ID is the method's identity (family and settings); ID().Name() is its
	// name, e.g. "fim-prune-0.2".
	ID() results.MethodID
	// Name is ID().Name().
	Name() string
	// Unlearn runs the method on every task.
	Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error)
}

// Standard returns the methods of the comparison at one pruning fraction,
// with the settings of their reference code (see docs/methods.md): the
// deletion methods, retraining (the reference), an independently seeded
// second retrain (the null every metric is judged against) and the full
// model unchanged (the upper reference).
func Standard(fraction float64) []Method {
	return []Method{
		FIMPrune{Fraction: fraction, Kind: fisher.Empirical},
		FIMPrune{Fraction: fraction, Kind: fisher.Empirical, FineTune: &train.FastFineTune, Label: "fast"},
		RatioPrune{Alpha: 10},
		SSD{Alpha: 10, Lambda: 1},
		FineTune{},
		RandomPrune{Fraction: fraction},
		MagnitudePrune{Fraction: fraction},
		NegGradPlus{Alpha: 0.95},
		Retrain{},
		Retrain{Replica: 2},
		Identity{},
	}
}

func checkTasks(env Env, tasks []Task) error {
	if len(tasks) == 0 {
		return errors.New("unlearn: no tasks")
	}
	if err := env.Pool.Check(); err != nil {
		return err
	}
	n := env.Pool.Rows()
	for _, t := range tasks {
		if len(t.Forget) == 0 || len(t.Retain) == 0 {
			return fmt.Errorf("unlearn: task %q needs rows to forget and rows to retain", t.Name)
		}
		for _, rows := range [][]int{t.Retain, t.Forget} {
			for _, r := range rows {
				if r < 0 || r >= n {
					return fmt.Errorf("unlearn: task %q refers to row %d of a pool of %d", t.Name, r, n)
				}
			}
		}
		if len(t.Model) != 2*env.Arch.Layers() {
			return fmt.Errorf("unlearn: task %q: model has %d tensors, architecture %d", t.Name, len(t.Model), 2*env.Arch.Layers())
		}
	}
	return nil
}

// indicator returns pool-length weights: w on rows idx, 0 elsewhere.
func indicator(n int, idx []int, w float32) []float32 {
	out := make([]float32, n)
	for _, r := range idx {
		out[r] = w
	}
	return out
}

// fisherOf is the empirical or true diagonal Fisher of params over d.
func fisherOf(env Env, params []mlp.Tensor, d train.Data, kind fisher.Kind) ([]mlp.Tensor, error) {
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		return nil, err
	}
	defer store.Finalize()
	return fisher.Diagonal(env.Backend, store, env.Arch, d, kind)
}

// fineTune trains every task's params on its retained rows in one ensemble
// with env.FineTune, keeping each task's mask (may be nil), and returns the
// trained parameters.
func fineTune(ctx context.Context, env Env, name string, tasks []Task, params [][]mlp.Tensor, masks []prune.Mask, weights [][]float32) ([][]mlp.Tensor, error) {
	members := make([]train.Member, len(tasks))
	for i, t := range tasks {
		w := indicator(env.Pool.Rows(), t.Retain, 1)
		if weights != nil {
			w = weights[i]
		}
		members[i] = train.Member{Name: t.Name, Init: params[i], Seed: t.Seed, RowWeights: w}
		if masks != nil {
			members[i].Mask = masks[i].AsTensors()
		}
	}
	cfg := env.FineTune
	cfg.Name, cfg.Progress = name, env.Progress
	res, err := train.FitEnsemble(ctx, env.Backend, env.Arch, env.Pool, nil, cfg, members)
	if err != nil {
		return nil, fmt.Errorf("unlearn %s: %w", name, err)
	}
	out := make([][]mlp.Tensor, len(res))
	for i, r := range res {
		out[i] = r.Params
	}
	return out, nil
}

// pruneThenFineTune is every pruning method: it checks the tasks, asks
// selectMask for each task's mask, zeroes it, fine-tunes all tasks in one
// ensemble with their masks kept, and packs the outcomes.
func pruneThenFineTune(ctx context.Context, env Env, name string, tasks []Task, selectMask func(Task) (prune.Mask, error)) ([]Outcome, error) {
	start := time.Now()
	if err := checkTasks(env, tasks); err != nil {
		return nil, err
	}
	masks := make([]prune.Mask, len(tasks))
	params := make([][]mlp.Tensor, len(tasks))
	for i, t := range tasks {
		var err error
		if masks[i], err = selectMask(t); err != nil {
			return nil, fmt.Errorf("unlearn %s: %w", name, err)
		}
		params[i] = mlp.Clone(t.Model)
		if err := prune.Apply(params[i], masks[i]); err != nil {
			return nil, fmt.Errorf("unlearn %s: %w", name, err)
		}
	}
	trained, err := fineTune(ctx, env, name, tasks, params, masks, nil)
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds() / float64(len(tasks))
	out := make([]Outcome, len(tasks))
	for i := range tasks {
		out[i] = Outcome{Params: trained[i], Mask: masks[i].AsTensors(), Zeroed: masks[i].PrunedTotal(), Seconds: secs}
	}
	return out, nil
}

// FIMPrune is the seed's method: rank parameters by the diagonal Fisher of
// the forget rows, zero the top Fraction, fine-tune on the retained rows
// with the mask kept.
type FIMPrune struct {
	Fraction float64
	Kind     fisher.Kind // empirical (the seed's) or true
	// FineTune, if not nil, replaces the environment's fine-tuning budget
	// (e.g. train.FastFineTune); Label then names the variant.
	FineTune *train.Config
	Label    string
}

func (m FIMPrune) ID() results.MethodID {
	recipe := m.Label
	if recipe == "" {
		recipe = results.RecipeSeed
	}
	return results.MethodID{Family: results.FamilyFIM, Fraction: m.Fraction, Recipe: recipe}
}

func (m FIMPrune) Name() string { return m.ID().Name() }

func (m FIMPrune) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	kind := m.Kind
	if kind == "" {
		kind = fisher.Empirical
	}
	if m.FineTune != nil {
		env.FineTune = *m.FineTune
	}
	return pruneThenFineTune(ctx, env, m.Name(), tasks, func(t Task) (prune.Mask, error) {
		scores, err := fisherOf(env, t.Model, env.Pool.Select(t.Forget), kind)
		if err != nil {
			return prune.Mask{}, err
		}
		return prune.Global(scores, m.Fraction)
	})
}

// RatioPrune selects the parameters whose forget-set importance exceeds
// Alpha times their importance on all the rows the model trained on (SSD's
// selection rule), zeroes them and fine-tunes with the mask kept. Unlike
// FIMPrune it does not select what matters for every row (the output bias,
// say); how many parameters it takes depends on the data.
type RatioPrune struct{ Alpha float64 }

func (m RatioPrune) ID() results.MethodID {
	return results.MethodID{Family: results.FamilyRatio, Alpha: m.Alpha, Recipe: results.RecipeSeed}
}

func (m RatioPrune) Name() string { return m.ID().Name() }

func (m RatioPrune) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	return pruneThenFineTune(ctx, env, m.Name(), tasks, func(t Task) (prune.Mask, error) {
		forget, all, err := importances(env, t)
		if err != nil {
			return prune.Mask{}, err
		}
		var mask prune.Mask
		for p := range forget {
			keep := make([]float32, len(forget[p].Values))
			for j := range keep {
				keep[j] = 1
				if forget[p].Values[j] > float32(m.Alpha)*all[p].Values[j] {
					keep[j] = 0
				}
			}
			mask.Tensors = append(mask.Tensors, prune.TensorMask{Name: forget[p].Name, Shape: forget[p].Shape, Keep: keep})
		}
		return mask, nil
	})
}

// importances returns the per-example (empirical) Fisher of the task's model
// on its forget rows and on all the rows it trained on. SSD's reference code
// squares batch-mean gradients, which depends on the batch size; the
// per-example squares used here do not.
func importances(env Env, t Task) (forget, all []mlp.Tensor, err error) {
	if forget, err = fisherOf(env, t.Model, env.Pool.Select(t.Forget), fisher.Empirical); err != nil {
		return nil, nil, err
	}
	trained := append(append([]int(nil), t.Retain...), t.Forget...)
	if all, err = fisherOf(env, t.Model, env.Pool.Select(trained), fisher.Empirical); err != nil {
		return nil, nil, err
	}
	return forget, all, nil
}

// SSD is selective synaptic dampening (Foster et al., AAAI 2024): where the
// forget-set importance exceeds Alpha times the importance on all training
// rows, the parameter is multiplied by min(Lambda·imp_all/imp_forget, 1). No
// training follows.
type SSD struct{ Alpha, Lambda float64 }

func (m SSD) ID() results.MethodID {
	return results.MethodID{Family: results.FamilySSD, Alpha: m.Alpha, Lambda: m.Lambda}
}

func (m SSD) Name() string { return m.ID().Name() }

func (m SSD) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	start := time.Now()
	if err := checkTasks(env, tasks); err != nil {
		return nil, err
	}
	out := make([]Outcome, len(tasks))
	for i, t := range tasks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		forget, all, err := importances(env, t)
		if err != nil {
			return nil, err
		}
		params := mlp.Clone(t.Model)
		for p := range params {
			for j, v := range params[p].Values {
				f, a := float64(forget[p].Values[j]), float64(all[p].Values[j])
				if f > m.Alpha*a {
					params[p].Values[j] = v * float32(min(m.Lambda*a/f, 1))
				}
			}
		}
		out[i] = Outcome{Params: params}
	}
	secs := time.Since(start).Seconds() / float64(len(tasks))
	for i := range out {
		out[i].Seconds = secs
	}
	return out, nil
}

// FineTune trains on the retained rows alone with the shared budget: the
// "does pruning add anything" baseline.
type FineTune struct{}

func (FineTune) ID() results.MethodID {
	return results.MethodID{Family: results.FamilyFineTune, Recipe: results.RecipeSeed}
}

func (m FineTune) Name() string { return m.ID().Name() }

func (m FineTune) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	start := time.Now()
	if err := checkTasks(env, tasks); err != nil {
		return nil, err
	}
	params := make([][]mlp.Tensor, len(tasks))
	for i, t := range tasks {
		params[i] = mlp.Clone(t.Model)
	}
	trained, err := fineTune(ctx, env, m.Name(), tasks, params, nil, nil)
	if err != nil {
		return nil, err
	}
	return outcomes(trained, start), nil
}

func outcomes(params [][]mlp.Tensor, start time.Time) []Outcome {
	secs := time.Since(start).Seconds() / float64(len(params))
	out := make([]Outcome, len(params))
	for i, p := range params {
		out[i] = Outcome{Params: p, Seconds: secs}
	}
	return out
}

// RandomPrune zeroes Fraction of the parameters at random, then fine-tunes
// with the mask kept: the control that tells whether the Fisher ranking
// matters.
type RandomPrune struct{ Fraction float64 }

func (m RandomPrune) ID() results.MethodID {
	return results.MethodID{Family: results.FamilyRandom, Fraction: m.Fraction, Recipe: results.RecipeSeed}
}

func (m RandomPrune) Name() string { return m.ID().Name() }

func (m RandomPrune) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	return pruneThenFineTune(ctx, env, m.Name(), tasks, func(t Task) (prune.Mask, error) {
		return prune.Random(t.Model, m.Fraction, t.Seed)
	})
}

// MagnitudePrune zeroes the Fraction of parameters with the smallest
// magnitude, then fine-tunes with the mask kept: the classic pruning control.
type MagnitudePrune struct{ Fraction float64 }

func (m MagnitudePrune) ID() results.MethodID {
	return results.MethodID{Family: results.FamilyMagnitude, Fraction: m.Fraction, Recipe: results.RecipeSeed}
}

func (m MagnitudePrune) Name() string { return m.ID().Name() }

func (m MagnitudePrune) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	return pruneThenFineTune(ctx, env, m.Name(), tasks, func(t Task) (prune.Mask, error) {
		return prune.Magnitude(t.Model, m.Fraction)
	})
}

// NegGradPlus trains with the shared budget on α·loss(retain) −
// (1−α)·loss(forget) (Kurmanji et al., NeurIPS 2023, as in their code):
// gradient descent on the retained rows, ascent on the forgotten ones. The
// forget rows' weight is scaled by |retain|/|forget| so that, over an epoch,
// the two terms weigh α and 1−α as in the reference's paired batches.
type NegGradPlus struct{ Alpha float64 }

func (m NegGradPlus) ID() results.MethodID {
	return results.MethodID{Family: results.FamilyNegGrad, Alpha: m.Alpha, Recipe: results.RecipeSeed}
}

func (m NegGradPlus) Name() string { return m.ID().Name() }

func (m NegGradPlus) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	start := time.Now()
	if err := checkTasks(env, tasks); err != nil {
		return nil, err
	}
	params := make([][]mlp.Tensor, len(tasks))
	weights := make([][]float32, len(tasks))
	for i, t := range tasks {
		params[i] = mlp.Clone(t.Model)
		w := indicator(env.Pool.Rows(), t.Retain, float32(m.Alpha))
		ascend := -float32((1 - m.Alpha) * float64(len(t.Retain)) / float64(len(t.Forget)))
		for _, r := range t.Forget {
			w[r] = ascend
		}
		weights[i] = w
	}
	trained, err := fineTune(ctx, env, m.Name(), tasks, params, nil, weights)
	if err != nil {
		return nil, err
	}
	return outcomes(trained, start), nil
}

// Retrain trains a fresh model on the retained rows with env.Train (the
// seed's recipe with early stopping on env.Val): the gold standard every
// other method is measured against. Replica ≥ 2 derives independent seeds
// from the tasks' (initialisation, shuffling, dropout): "retrain-2" is a
// second gold standard, the noise floor of every comparison with the first.
type Retrain struct{ Replica int }

func (m Retrain) ID() results.MethodID {
	id := results.MethodID{Family: results.FamilyRetrain}
	if m.Replica >= 2 {
		id.Replica = m.Replica
	}
	return id
}

func (m Retrain) Name() string { return m.ID().Name() }

// seed is the task seed this replica trains with.
func (m Retrain) seed(t Task) uint64 {
	if m.Replica < 2 {
		return t.Seed
	}
	// splitmix64 of the seed and the replica: unrelated to t.Seed's stream.
	z := t.Seed + uint64(m.Replica)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (m Retrain) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	start := time.Now()
	if err := checkTasks(env, tasks); err != nil {
		return nil, err
	}
	members := make([]train.Member, len(tasks))
	for i, t := range tasks {
		seed := m.seed(t)
		members[i] = train.Member{Name: t.Name, Init: env.Arch.Init(seed), Seed: seed, RowWeights: indicator(env.Pool.Rows(), t.Retain, 1)}
	}
	cfg := env.Train
	cfg.Name, cfg.Progress = m.Name(), env.Progress
	res, err := train.FitEnsemble(ctx, env.Backend, env.Arch, env.Pool, env.Val, cfg, members)
	if err != nil {
		return nil, fmt.Errorf("unlearn %s: %w", m.Name(), err)
	}
	params := make([][]mlp.Tensor, len(res))
	for i, r := range res {
		params[i] = r.Params
	}
	return outcomes(params, start), nil
}

// Identity returns the trained model unchanged: the upper reference, a
// "deletion" that forgot nothing, which every attack should tell apart from
// retraining as well as the data allow.
type Identity struct{}

func (Identity) ID() results.MethodID { return results.MethodID{Family: results.FamilyIdentity} }

func (m Identity) Name() string { return m.ID().Name() }

func (m Identity) Unlearn(ctx context.Context, env Env, tasks []Task) ([]Outcome, error) {
	if err := checkTasks(env, tasks); err != nil {
		return nil, err
	}
	out := make([]Outcome, len(tasks))
	for i, t := range tasks {
		out[i] = Outcome{Params: mlp.Clone(t.Model)}
	}
	return out, nil
}
