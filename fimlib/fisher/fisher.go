// Package fisher computes the diagonal Fisher information of an [mlp.Arch]'s
// parameters over a set of rows: the mean over rows of per-example squared
// gradients of the log-likelihood, exactly, in one forward and one backward
// pass per chunk of rows.
//
// Entry point: [Diagonal], with [Empirical] (the seed's: gradients of the log
// probability of the true label) or [True] (the expected Fisher: each class c
// weighted by the model's own p(c|x); Kunstner et al., NeurIPS 2019, show the
// two differ and only the latter is the Fisher information).
//
// Why it is exact and cheap: for a dense layer z = a·W + b and a summed loss
// L = Σᵢ ℓᵢ, the gradient of L with respect to the pre-activations Z has row
// i equal to δᵢ = ∂ℓᵢ/∂zᵢ, because nothing mixes examples (dropout is off).
// Then Σᵢ (∂ℓᵢ/∂W)² = (A∘A)ᵀ(Δ∘Δ) and Σᵢ (∂ℓᵢ/∂b)² = Σᵢ δᵢ∘δᵢ. This is not
// the square of a batch-mean gradient, which would differ by the variance of
// the per-example gradients.
package fisher

import (
	"errors"
	"fmt"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Kind names which Fisher is computed.
type Kind string

const (
	// Empirical uses the true labels: Fᵢᵢ = mean over rows of (∂ log p(y|x)/∂θᵢ)².
	// It is what the seed notebook computes.
	Empirical Kind = "empirical"
	// True takes the expectation over the model's predictive distribution:
	// Fᵢᵢ = mean over rows of Σ_c p(c|x)·(∂ log p(c|x)/∂θᵢ)².
	True Kind = "true"
)

// ParseKind accepts "empirical" or "true".
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Empirical, True:
		return k, nil
	}
	return "", fmt.Errorf("fisher: unknown kind %q (want %q or %q)", s, Empirical, True)
}

// ChunkRows bounds the rows handled by one graph call (memory ∝ rows × widest layer).
const ChunkRows = 8192

// Diagonal returns the diagonal Fisher of the parameters in store over the
// rows of d, as one tensor per parameter in [mlp.Arch.Init]'s order, each the
// mean over rows (sum divided by d.Rows()).
func Diagonal(backend compute.Backend, store *model.Store, arch mlp.Arch, d train.Data, kind Kind) ([]mlp.Tensor, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return nil, err
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	if d.Rows() == 0 {
		return nil, errors.New("fisher: no rows")
	}
	exec, err := model.NewExec(backend, store, func(_ *model.Scope, x, y *graph.Node) []*graph.Node {
		return sumsGraph(store, arch, x, y, kind)
	})
	if err != nil {
		return nil, fmt.Errorf("fisher: %w", err)
	}
	defer exec.Finalize()

	params, err := arch.ReadParams(store) // for names and shapes
	if err != nil {
		return nil, err
	}
	sums := make([][]float64, len(params))
	for i, p := range params {
		sums[i] = make([]float64, len(p.Values))
	}
	for lo := 0; lo < d.Rows(); lo += ChunkRows {
		hi := min(lo+ChunkRows, d.Rows())
		out, err := exec.Call(
			tensors.FromFlatDataAndDimensions(append([]float32(nil), d.X[lo*d.Features:hi*d.Features]...), hi-lo, d.Features),
			tensors.FromFlatDataAndDimensions(append([]int32(nil), d.Y[lo:hi]...), hi-lo))
		if err != nil {
			return nil, fmt.Errorf("fisher: %w", err)
		}
		for i, t := range out {
			for j, v := range tensors.MustCopyFlatData[float32](t) {
				sums[i][j] += float64(v)
			}
			_ = t.FinalizeAll()
		}
	}
	scores := make([]mlp.Tensor, len(params))
	for i, p := range params {
		values := make([]float32, len(p.Values))
		for j, s := range sums[i] {
			values[j] = float32(s / float64(d.Rows()))
		}
		scores[i] = mlp.Tensor{Name: p.Name, Shape: p.Shape, Values: values}
	}
	return scores, nil
}

// sumsGraph returns, per parameter (weights then biases per layer), the sum
// over the rows of x of the per-example squared gradients.
func sumsGraph(store *model.Store, arch mlp.Arch, x, y *graph.Node, kind Kind) []*graph.Node {
	g := x.Graph()
	pass := arch.Forward(store, x) // not a training graph: dropout is off
	if kind == Empirical {
		return squaredGradSums(pass, y, nil)
	}
	probs := graph.Softmax(graph.StopGradient(pass.Logits), -1)
	var total []*graph.Node
	for c := 0; c < arch.Classes; c++ {
		label := graph.BroadcastToDims(graph.Const(g, int32(c)), y.Shape().Dimensions...)
		pc := graph.Slice(probs, graph.AxisRange(), graph.AxisElem(c)) // [rows, 1]
		sums := squaredGradSums(pass, label, pc)
		if total == nil {
			total = sums
			continue
		}
		for i := range total {
			total[i] = graph.Add(total[i], sums[i])
		}
	}
	return total
}

// squaredGradSums computes Σᵢ wᵢ (∂ℓᵢ/∂θ)² for ℓᵢ = −log p(labelᵢ|xᵢ), with
// rowWeights [rows, 1] (nil means 1).
func squaredGradSums(pass mlp.Pass, labels, rowWeights *graph.Node) []*graph.Node {
	loss := graph.ReduceAllSum(mlp.Loss(pass.Logits, labels))
	deltas := graph.Gradient(loss, pass.PreActivations...)
	out := make([]*graph.Node, 0, 2*len(deltas))
	for l, delta := range deltas {
		d2 := graph.Square(delta) // [rows, out]
		if rowWeights != nil {
			d2 = graph.Mul(d2, rowWeights)
		}
		a2 := graph.Square(pass.Inputs[l]) // [rows, in]
		out = append(out,
			graph.MatMul(graph.Transpose(a2, 0, 1), d2), // [in, out]
			graph.ReduceSum(d2, 0))                      // [out]
	}
	return out
}
