// Package train fits an [mlp.Arch] with Adam on in-memory data: mini-batches
// reshuffled every epoch, early stopping on validation loss with the best
// weights restored, and an optional pruning mask enforced inside every step.
//
// Entry points: [Fit] / [FitContext] (training one model), [FitEnsemble]
// (training K models together in one graph: shadow models, several pruned
// fine-tunes) and [Evaluator] (class log-probabilities, mean loss) with
// [Accuracy].
//
// Every batch has exactly BatchSize rows so that one compiled graph serves the
// whole run: the last, short batch of an epoch is padded with rows of weight 0,
// and the loss is the weighted mean Σ wᵢℓᵢ / Σ wᵢ, which equals the plain mean
// over the real rows (what PyTorch computes on its short last batch).
package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
)

// StepVersion numbers the training step's arithmetic: it changes whenever
// the same data, recipe and seed would give different weights, so that
// caches of trained models (fimlib/forget's reference models; the run
// directory's phase cache has its own experiment.CacheVersion) can key on it.
// 1: gomlx's autodiff and optimizer.Adam, dropout from the store's stream;
// 2: the hand-written step, dropout drawn on the host from each model's
// seed (2026-12-01).
const StepVersion = 2

// Data is a row-major feature matrix with integer class labels.
type Data struct {
	X        []float32 // len = Rows()*Features
	Y        []int32
	Features int
}

// Rows is the number of examples.
func (d Data) Rows() int { return len(d.Y) }

// Select returns a copy of the rows at positions idx, in that order.
func (d Data) Select(idx []int) Data {
	f := d.Features
	out := Data{Features: f, X: make([]float32, 0, len(idx)*f), Y: make([]int32, 0, len(idx))}
	for _, r := range idx {
		out.X = append(out.X, d.X[r*f:(r+1)*f]...)
		out.Y = append(out.Y, d.Y[r])
	}
	return out
}

// Check reports inconsistent dimensions.
func (d Data) Check() error {
	if d.Features <= 0 || len(d.X) != len(d.Y)*d.Features {
		return fmt.Errorf("train: data has %d values for %d rows × %d features", len(d.X), len(d.Y), d.Features)
	}
	return nil
}

// Config holds the hyper-parameters of one training run. The zero value is
// not usable: start from [Seed] or [SeedFineTune].
type Config struct {
	LearningRate float64
	BatchSize    int
	MaxEpochs    int
	// Patience > 0 enables early stopping: training stops after Patience epochs
	// without a lower validation loss, and the weights of the best epoch are
	// restored. It needs validation data.
	Patience int
	// AdamEpsilon is Adam's denominator constant (PyTorch's default is 1e-8).
	AdamEpsilon float64
	// Seed fixes the shuffling order and the dropout masks (two separate
	// streams; see [Member.Seed]).
	Seed uint64
	// Mask, if not nil, holds a 0/1 tensor per masked parameter; masked entries
	// are set to 0 inside every train step, after the optimiser's update, so
	// they are exactly 0 when Fit returns.
	Mask []mlp.Tensor
	// Name labels progress lines ("full", "retrain", …).
	Name string
	// Progress, if not nil, receives a line per epoch (or a progress bar on a
	// terminal; see [NewProgress]). Concurrent runs may share one.
	Progress *Progress
}

// Seed is the seed notebook's training recipe: Adam lr 1e-3, batch 64, up to
// 50 epochs, early stopping with patience 10 on validation loss.
var Seed = Config{LearningRate: 1e-3, BatchSize: 64, MaxEpochs: 50, Patience: 10, AdamEpsilon: 1e-8}

// SeedFineTune is the seed's masked fine-tuning recipe: Adam lr 1e-4, batch 64,
// 20 epochs, no early stopping.
var SeedFineTune = Config{LearningRate: 1e-4, BatchSize: 64, MaxEpochs: 20, AdamEpsilon: 1e-8}

// FastFineTune is fimprune's cheap deletion recipe: the seed's masked
// fine-tune cut to 1 epoch at the training learning rate (Adam lr 1e-3,
// batch 64), about a twentieth of the seed's 20 epochs. It was chosen on the
// validation split only by scripts/recipesearch: the fewest epochs, over
// epochs {1, 2, 3, 5} × lr {3e-4, 1e-3, 3e-3}, whose validation accuracy
// after FIM pruning at 0.2 is within 0.005 of the retrained model's (see
// docs/methods.md, "Choosing the fast recipe"; run on 2026-12-01 with the
// training step of that morning). Run again with the current training step
// (same day, later), the search picks 5 epochs at lr 3e-3 for its default
// seed, where some short fine-tunes collapse to the majority class, and
// still 1 epoch for seeds 2 and 3; the recipe has not been re-chosen (it
// would change the study's numbers), and docs/methods.md says so.
var FastFineTune = Config{LearningRate: 1e-3, BatchSize: 64, MaxEpochs: 1, AdamEpsilon: 1e-8}

// Validate reports unusable hyper-parameters.
func (c Config) Validate() error {
	switch {
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0):
		return fmt.Errorf("train: learning rate %g must be positive", c.LearningRate)
	case c.BatchSize <= 0:
		return fmt.Errorf("train: batch size %d must be positive", c.BatchSize)
	case c.MaxEpochs <= 0:
		return fmt.Errorf("train: epochs %d must be positive", c.MaxEpochs)
	case c.Patience < 0:
		return fmt.Errorf("train: patience %d must not be negative", c.Patience)
	}
	return nil
}

// History records what a run did.
type History struct {
	Epochs    int       // epochs run
	BestEpoch int       // 1-based epoch whose weights were kept (= Epochs without early stopping)
	TrainLoss []float64 // mean training loss per epoch (with dropout active)
	ValLoss   []float64 // validation loss per epoch; nil without validation data
	Seconds   float64   // wall time of the whole run
}

// Fit trains the parameters in store (created by [mlp.NewStore]) on train,
// using val for early stopping when cfg.Patience > 0 (val may be nil
// otherwise; when given, its loss is still recorded every epoch).
func Fit(backend compute.Backend, store *model.Store, arch mlp.Arch, trainData Data, val *Data, cfg Config) (History, error) {
	return FitContext(context.Background(), backend, store, arch, trainData, val, cfg)
}

// FitContext is [Fit] that stops between two steps once ctx is done,
// returning ctx's error; the store then keeps its starting weights.
//
// It trains an ensemble of one ([FitEnsemble]): cfg.Seed fixes the
// shuffling order and the dropout masks; the store's own random stream is
// not used.
func FitContext(ctx context.Context, backend compute.Backend, store *model.Store, arch mlp.Arch, trainData Data, val *Data, cfg Config) (History, error) {
	init, err := arch.ReadParams(store)
	if err != nil {
		return History{}, err
	}
	res, err := FitEnsemble(ctx, backend, arch, trainData, val, cfg, []Member{{Name: cfg.Name, Init: init, Seed: cfg.Seed, Mask: cfg.Mask}})
	if err != nil {
		return History{}, err
	}
	if err := mlp.SetParams(store, res[0].Params); err != nil {
		return History{}, err
	}
	return res[0].History, nil
}

// checkData reports training data that cfg cannot train on: inconsistent
// dimensions, no rows, or early stopping without validation data.
func checkData(cfg Config, trainData Data, val *Data) error {
	if err := trainData.Check(); err != nil {
		return err
	}
	if trainData.Rows() == 0 {
		return errors.New("train: no training rows")
	}
	if cfg.Patience > 0 && (val == nil || val.Rows() == 0) {
		return errors.New("train: early stopping needs validation data")
	}
	if val != nil {
		return val.Check()
	}
	return nil
}

// Recipe is c's settings as results files and model cards record them:
// the optimiser (always Adam) and the numbers that change results.
func (c Config) Recipe() results.TrainConfig {
	return results.TrainConfig{Optimizer: "adam", LearningRate: c.LearningRate, AdamEpsilon: c.AdamEpsilon,
		BatchSize: c.BatchSize, MaxEpochs: c.MaxEpochs, Patience: c.Patience}
}

// FromRecipe is the Config of a recorded recipe (no seed, mask, name or
// progress: those belong to one run).
func FromRecipe(r results.TrainConfig) Config {
	return Config{LearningRate: r.LearningRate, BatchSize: r.BatchSize, MaxEpochs: r.MaxEpochs, Patience: r.Patience, AdamEpsilon: r.AdamEpsilon}
}
