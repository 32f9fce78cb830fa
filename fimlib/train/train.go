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
	"math/rand/v2"
	"time"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // gomlx's graph DSL reads best dot-imported.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

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
	// Seed fixes the shuffling order (the dropout stream is fixed by the store's seed).
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
// docs/methods.md, "Choosing the fast recipe"; run on 2026-12-01). It
// replaces an earlier 2-epoch recipe that had been chosen on test accuracy.
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
// returning ctx's error; the store then holds the weights of the last step.
func FitContext(ctx context.Context, backend compute.Backend, store *model.Store, arch mlp.Arch, trainData Data, val *Data, cfg Config) (hist History, err error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return hist, err
	}
	if err := checkData(cfg, trainData, val); err != nil {
		return hist, err
	}
	step, err := newStepExec(backend, store, arch, cfg)
	if err != nil {
		return hist, err
	}
	defer step.Finalize()

	var eval *Evaluator
	if val != nil {
		eval = NewEvaluator(backend, store, arch)
		defer eval.Finalize()
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	n, f, b := trainData.Rows(), trainData.Features, cfg.BatchSize
	batchX := make([]float32, b*f)
	batchY := make([]int32, b)
	batchW := make([]float32, b)
	var best []mlp.Tensor
	bestLoss := math.Inf(1)
	sinceBest := 0
	cfg.Progress.start(cfg.Name, cfg.MaxEpochs)
	defer func() { cfg.Progress.finish(cfg.MaxEpochs - hist.Epochs) }()
	for epoch := 1; epoch <= cfg.MaxEpochs; epoch++ {
		epochStart := time.Now()
		perm := rng.Perm(n)
		var lossSum float64
		for lo := 0; lo < n; lo += b {
			if err := ctx.Err(); err != nil {
				return hist, fmt.Errorf("train %s: epoch %d: %w", cfg.Name, epoch, err)
			}
			hi := min(lo+b, n)
			for i := 0; i < b; i++ {
				row, w := 0, float32(0) // padding: any row, weight 0
				if lo+i < hi {
					row, w = perm[lo+i], 1
				}
				copy(batchX[i*f:(i+1)*f], trainData.X[row*f:(row+1)*f])
				batchY[i] = trainData.Y[row]
				batchW[i] = w
			}
			loss, err := step.run(batchX, batchY, batchW, b, f)
			if err != nil {
				return hist, fmt.Errorf("train %s: epoch %d: %w", cfg.Name, epoch, err)
			}
			lossSum += loss * float64(hi-lo)
		}
		hist.Epochs = epoch
		hist.TrainLoss = append(hist.TrainLoss, lossSum/float64(n))
		line := EpochLine{Name: cfg.Name, Epoch: epoch, MaxEpochs: cfg.MaxEpochs, TrainLoss: lossSum / float64(n), ValLoss: math.NaN()}
		if eval != nil {
			vl, err := eval.MeanLoss(*val)
			if err != nil {
				return hist, fmt.Errorf("train %s: validation: %w", cfg.Name, err)
			}
			hist.ValLoss = append(hist.ValLoss, vl)
			line.ValLoss = vl
			if cfg.Patience > 0 {
				if vl < bestLoss {
					bestLoss, sinceBest, hist.BestEpoch = vl, 0, epoch
					if best, err = arch.ReadParams(store); err != nil {
						return hist, err
					}
				} else {
					sinceBest++
				}
			}
		}
		line.Seconds = time.Since(epochStart).Seconds()
		cfg.Progress.epoch(line)
		if cfg.Patience > 0 && sinceBest >= cfg.Patience {
			break
		}
	}
	if cfg.Patience > 0 {
		if err := mlp.SetParams(store, best); err != nil {
			return hist, err
		}
	} else {
		hist.BestEpoch = hist.Epochs
	}
	hist.Seconds = time.Since(start).Seconds()
	return hist, nil
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

// stepExec is one compiled train step: forward, weighted loss, Adam update, mask.
type stepExec struct{ exec *model.Exec }

func newStepExec(backend compute.Backend, store *model.Store, arch mlp.Arch, cfg Config) (*stepExec, error) {
	masks := make(map[string]*tensors.Tensor, len(cfg.Mask))
	for _, m := range cfg.Mask {
		v := store.GetVariable(m.Name)
		if v == nil {
			return nil, fmt.Errorf("train: mask names unknown parameter %q", m.Name)
		}
		if !v.Shape().Equal(tensors.FromFlatDataAndDimensions(m.Values, m.Shape...).Shape()) {
			return nil, fmt.Errorf("train: mask for %q has shape %v, parameter has %v", m.Name, m.Shape, v.Shape().Dimensions)
		}
		masks[m.Name] = tensors.FromFlatDataAndDimensions(append([]float32(nil), m.Values...), m.Shape...)
	}
	opt := optimizer.Adam().LearningRate(cfg.LearningRate).Epsilon(cfg.AdamEpsilon).Done()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, y, w *Node) *Node {
		g := x.Graph()
		store.SetTraining(g, true)
		logits := arch.Forward(store, x).Logits
		loss := Div(ReduceAllSum(Mul(mlp.Loss(logits, y), w)), ReduceAllSum(w))
		opt.UpdateGraph(scope, g, loss)
		for name, m := range masks {
			v := store.GetVariable(name)
			v.SetNodeValue(Mul(v.NodeValue(g), Const(g, m)))
		}
		return loss
	})
	if err != nil {
		return nil, fmt.Errorf("train: building step: %w", err)
	}
	return &stepExec{exec: exec}, nil
}

func (s *stepExec) run(x []float32, y []int32, w []float32, b, f int) (loss float64, err error) {
	out, err := s.exec.Call(
		tensors.FromFlatDataAndDimensions(append([]float32(nil), x...), b, f),
		tensors.FromFlatDataAndDimensions(append([]int32(nil), y...), b),
		tensors.FromFlatDataAndDimensions(append([]float32(nil), w...), b))
	if err != nil {
		return 0, err
	}
	v := tensors.MustCopyFlatData[float32](out[0])
	_ = out[0].FinalizeAll()
	return float64(v[0]), nil
}

func (s *stepExec) Finalize() { s.exec.Finalize() }

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
