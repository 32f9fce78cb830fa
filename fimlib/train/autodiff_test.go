package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // gomlx's graph DSL reads best dot-imported.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/fimprune/fimprune/fimlib/mlp"
)

// fitAutodiff is an independent reference for [Fit]: the textbook gomlx
// training step (the forward pass of [mlp.Arch.Forward], gomlx's autodiff
// and its optimizer.Adam, all in one graph; dropout from the store's random
// stream) driven by the same loop as FitEnsemble: the same shuffling (the
// shuffle stream of cfg.Seed), padded batches of weight 0, early stopping
// with the best weights restored. It is how fimprune trained single models
// before the hand-written ensemble step replaced it; the tests compare the
// two.
func fitAutodiff(backend compute.Backend, store *model.Store, arch mlp.Arch, trainData Data, val *Data, cfg Config) (History, error) {
	var hist History
	opt := optimizer.Adam().LearningRate(cfg.LearningRate).Epsilon(cfg.AdamEpsilon).Done()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x, y, w *Node) *Node {
		g := x.Graph()
		store.SetTraining(g, true)
		logits := arch.Forward(store, x).Logits
		loss := Div(ReduceAllSum(Mul(mlp.Loss(logits, y), w)), ReduceAllSum(w))
		opt.UpdateGraph(scope, g, loss)
		for _, m := range cfg.Mask { // after the update, as fimprune's step does
			v := store.GetVariable(m.Name)
			v.SetNodeValue(Mul(v.NodeValue(g), Const(g, tensors.FromFlatDataAndDimensions(m.Values, m.Shape...))))
		}
		return loss
	})
	if err != nil {
		return hist, err
	}
	defer exec.Finalize()
	eval := NewEvaluator(backend, store, arch)
	defer eval.Finalize()
	rng := rand.New(rand.NewPCG(cfg.Seed, shuffleStream))
	n, f, b := trainData.Rows(), trainData.Features, cfg.BatchSize
	var best []mlp.Tensor
	bestLoss, sinceBest := math.Inf(1), 0
	for epoch := 1; epoch <= cfg.MaxEpochs; epoch++ {
		perm := rng.Perm(n)
		var lossSum float64
		for lo := 0; lo < n; lo += b {
			hi := min(lo+b, n)
			x, y, w := make([]float32, b*f), make([]int32, b), make([]float32, b)
			for i := 0; i < b; i++ {
				row, wt := 0, float32(0)
				if lo+i < hi {
					row, wt = perm[lo+i], 1
				}
				copy(x[i*f:(i+1)*f], trainData.X[row*f:(row+1)*f])
				y[i], w[i] = trainData.Y[row], wt
			}
			out, err := exec.Call(tensors.FromFlatDataAndDimensions(x, b, f), tensors.FromFlatDataAndDimensions(y, b), tensors.FromFlatDataAndDimensions(w, b))
			if err != nil {
				return hist, err
			}
			lossSum += float64(tensors.MustCopyFlatData[float32](out[0])[0]) * float64(hi-lo)
		}
		hist.Epochs = epoch
		hist.TrainLoss = append(hist.TrainLoss, lossSum/float64(n))
		if val == nil {
			continue
		}
		vl, err := eval.MeanLoss(*val)
		if err != nil {
			return hist, err
		}
		hist.ValLoss = append(hist.ValLoss, vl)
		if cfg.Patience == 0 {
			continue
		}
		if vl < bestLoss {
			bestLoss, sinceBest, hist.BestEpoch = vl, 0, epoch
			if best, err = arch.ReadParams(store); err != nil {
				return hist, err
			}
		} else if sinceBest++; sinceBest >= cfg.Patience {
			break
		}
	}
	if cfg.Patience > 0 {
		if best == nil {
			return hist, fmt.Errorf("no best epoch")
		}
		return hist, mlp.SetParams(store, best)
	}
	hist.BestEpoch = hist.Epochs
	return hist, nil
}
