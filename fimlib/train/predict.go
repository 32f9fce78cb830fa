package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // gomlx's graph DSL reads best dot-imported.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Evaluator computes class log-probabilities (a log-softmax of the logits)
// with dropout off, in chunks of ChunkRows rows so that memory stays bounded
// on large inputs. One compiled graph serves all full chunks; the last, short
// chunk compiles a second one. Log-probabilities, not probabilities, are the
// primary output: a float32 softmax rounds p to exactly 1 once a logit gap
// exceeds ~17, which would make log p (the seed's attack score and the
// validation loss) 0 for every confident row.
type Evaluator struct {
	exec      *model.Exec
	ChunkRows int
}

// NewEvaluator compiles lazily: the graph is built at the first call.
func NewEvaluator(backend compute.Backend, store *model.Store, arch mlp.Arch) *Evaluator {
	exec := model.MustNewExec(backend, store, func(_ *model.Scope, x *Node) *Node {
		return LogSoftmax(arch.Forward(store, x).Logits, -1)
	})
	return &Evaluator{exec: exec, ChunkRows: 16384}
}

// Finalize releases the compiled graphs.
func (e *Evaluator) Finalize() { e.exec.Finalize() }

// LogProbabilities returns the row-major [rows, classes] log-probabilities of d.
func (e *Evaluator) LogProbabilities(d Data) ([]float32, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	var logp []float32
	for lo := 0; lo < d.Rows(); lo += e.ChunkRows {
		hi := min(lo+e.ChunkRows, d.Rows())
		x := tensors.FromFlatDataAndDimensions(append([]float32(nil), d.X[lo*d.Features:hi*d.Features]...), hi-lo, d.Features)
		out, err := e.exec.Call(x)
		_ = x.FinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("train: predict: %w", err)
		}
		logp = append(logp, tensors.MustCopyFlatData[float32](out[0])...)
		_ = out[0].FinalizeAll()
	}
	return logp, nil
}

// Probabilities returns the row-major [rows, classes] class probabilities of d.
func (e *Evaluator) Probabilities(d Data) ([]float32, error) {
	p, err := e.LogProbabilities(d)
	for i, v := range p {
		p[i] = float32(math.Exp(float64(v)))
	}
	return p, err
}

// MeanLoss is the mean cross-entropy of d (dropout off).
func (e *Evaluator) MeanLoss(d Data) (float64, error) {
	if d.Rows() == 0 {
		return 0, errors.New("train: mean loss of no rows")
	}
	logp, err := e.LogProbabilities(d)
	if err != nil {
		return 0, err
	}
	classes := len(logp) / d.Rows()
	var sum float64
	for i, y := range d.Y {
		sum -= float64(logp[i*classes+int(y)])
	}
	return sum / float64(d.Rows()), nil
}

// Accuracy is the fraction of rows whose arg-max class equals the label
// (ties go to the lower class, as numpy/torch argmax). scores are row-major
// [rows, classes] probabilities, log-probabilities or logits.
func Accuracy(scores []float32, labels []int32) float64 {
	if len(labels) == 0 {
		return math.NaN()
	}
	correct := 0
	for i, pred := range Predictions(scores, len(labels)) {
		if pred == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(labels))
}

// Predictions returns the arg-max class of each of the rows of row-major
// scores (ties to the lower class).
func Predictions(scores []float32, rows int) []int32 {
	if rows == 0 {
		return nil
	}
	classes := len(scores) / rows
	out := make([]int32, rows)
	for i := range out {
		best := 0
		for c := 1; c < classes; c++ {
			if scores[i*classes+c] > scores[i*classes+best] {
				best = c
			}
		}
		out[i] = int32(best)
	}
	return out
}
