package train

import (
	"fmt"
	"math"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // gomlx's graph DSL reads best dot-imported.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Evaluator computes class probabilities with dropout off, in chunks of
// ChunkRows rows so that memory stays bounded on large inputs. One compiled
// graph serves all full chunks; the last, short chunk compiles a second one.
type Evaluator struct {
	exec      *model.Exec
	ChunkRows int
}

// NewEvaluator compiles lazily: the graph is built at the first call.
func NewEvaluator(backend compute.Backend, store *model.Store, arch mlp.Arch) *Evaluator {
	exec := model.MustNewExec(backend, store, func(_ *model.Scope, x *Node) *Node {
		return Softmax(arch.Forward(store, x).Logits, -1)
	})
	return &Evaluator{exec: exec, ChunkRows: 16384}
}

// Finalize releases the compiled graphs.
func (e *Evaluator) Finalize() { e.exec.Finalize() }

// Probabilities returns the row-major [rows, classes] class probabilities of d.
func (e *Evaluator) Probabilities(d Data) ([]float32, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	var probs []float32
	for lo := 0; lo < d.Rows(); lo += e.ChunkRows {
		hi := min(lo+e.ChunkRows, d.Rows())
		x := append([]float32(nil), d.X[lo*d.Features:hi*d.Features]...)
		out, err := e.exec.Call(tensors.FromFlatDataAndDimensions(x, hi-lo, d.Features))
		if err != nil {
			return nil, fmt.Errorf("train: predict: %w", err)
		}
		probs = append(probs, tensors.MustCopyFlatData[float32](out[0])...)
		_ = out[0].FinalizeAll()
	}
	return probs, nil
}

// MeanLoss is the mean cross-entropy of d (dropout off).
func (e *Evaluator) MeanLoss(d Data) (float64, error) {
	probs, err := e.Probabilities(d)
	if err != nil {
		return 0, err
	}
	classes := len(probs) / d.Rows()
	var sum float64
	for i, y := range d.Y {
		sum -= math.Log(max(float64(probs[i*classes+int(y)]), minProb))
	}
	return sum / float64(d.Rows()), nil
}

// minProb keeps log(p) finite for a saturated softmax (float32 gives p = 0
// once a logit gap exceeds ~104).
const minProb = 1e-30

// Accuracy is the fraction of rows whose arg-max class equals the label
// (ties go to the lower class, as numpy/torch argmax).
func Accuracy(probs []float32, labels []int32) float64 {
	if len(labels) == 0 {
		return math.NaN()
	}
	classes := len(probs) / len(labels)
	correct := 0
	for i, y := range labels {
		best := 0
		for c := 1; c < classes; c++ {
			if probs[i*classes+c] > probs[i*classes+best] {
				best = c
			}
		}
		if int32(best) == y {
			correct++
		}
	}
	return float64(correct) / float64(len(labels))
}
