// Package mlp defines the seed's multi-layer perceptron on gomlx: its
// architecture, its Xavier-uniform initialisation, its parameters as plain Go
// tensors, and the forward pass shared by training, evaluation and Fisher.
//
// Entry points: [Seed] (the architecture), [Arch.Init], [NewStore],
// [Arch.ReadParams], [SetParams], [Arch.Forward] and [Loss].
//
// Conventions: weights are stored as [in, out] matrices (gomlx multiplies
// x·W; PyTorch stores the transpose), biases as [out] vectors. The variable of
// layer l is "/dense<l>/weights" or "/dense<l>/biases", and that path is the
// parameter's name everywhere in fimprune (masks, Fisher scores, results).
package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fimprune/fimprune/fimlib/param"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // gomlx's graph DSL reads best dot-imported.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Tensor is one named parameter tensor as plain Go data (param.Tensor): the
// same type that package prune ranks and masks.
type Tensor = param.Tensor

// Arch is an MLP architecture: Inputs → Hidden[0] → ReLU → Dropout → … →
// Classes logits.
type Arch struct {
	Inputs  int
	Hidden  []int
	Classes int
	Dropout float64 // probability of zeroing a hidden activation while training
}

// Seed is the seed notebook's architecture: 96 → 128 → 64 → 2 with dropout 0.2
// after each hidden layer (20,802 parameters).
var Seed = Arch{Inputs: 96, Hidden: []int{128, 64}, Classes: 2, Dropout: 0.2}

// widths returns the sizes of every layer boundary, inputs first.
func (a Arch) widths() []int {
	w := append([]int{a.Inputs}, a.Hidden...)
	return append(w, a.Classes)
}

// Layers is the number of dense layers.
func (a Arch) Layers() int { return len(a.Hidden) + 1 }

// NumParams is the number of scalar parameters (weights and biases).
func (a Arch) NumParams() int {
	n, w := 0, a.widths()
	for l := 0; l < a.Layers(); l++ {
		n += w[l]*w[l+1] + w[l+1]
	}
	return n
}

// WeightsPath and BiasesPath name layer l's variables.
func WeightsPath(l int) string { return fmt.Sprintf("/dense%d/weights", l) }

// BiasesPath names layer l's bias variable; see [WeightsPath].
func BiasesPath(l int) string { return fmt.Sprintf("/dense%d/biases", l) }

// Validate reports an architecture that cannot be built.
func (a Arch) Validate() error {
	for i, w := range a.widths() {
		if w <= 0 {
			return fmt.Errorf("mlp: layer width %d at position %d must be positive", w, i)
		}
	}
	if a.Classes < 2 {
		return fmt.Errorf("mlp: need at least 2 classes, got %d", a.Classes)
	}
	if a.Dropout < 0 || a.Dropout >= 1 {
		return fmt.Errorf("mlp: dropout %g must be in [0, 1)", a.Dropout)
	}
	return nil
}

// Init returns freshly initialised parameters in layer order (weights, then
// biases, per layer): weights Xavier-uniform, U(−√(6/(in+out)), +√(6/(in+out))),
// biases zero, as the seed's nn.init.xavier_uniform_/zeros_. The draw is a
// deterministic function of seed.
func (a Arch) Init(seed uint64) []Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	w := a.widths()
	params := make([]Tensor, 0, 2*a.Layers())
	for l := 0; l < a.Layers(); l++ {
		in, out := w[l], w[l+1]
		bound := math.Sqrt(6 / float64(in+out))
		weights := make([]float32, in*out)
		for i := range weights {
			weights[i] = float32((2*rng.Float64() - 1) * bound)
		}
		params = append(params,
			Tensor{Name: WeightsPath(l), Shape: []int{in, out}, Values: weights},
			Tensor{Name: BiasesPath(l), Shape: []int{out}, Values: make([]float32, out)})
	}
	return params
}

// NewStore returns a gomlx store holding params as trainable variables. seed
// drives the store's random stream, which dropout in a training graph built
// with [Arch.Forward] draws from (fimlib/train draws its dropout masks on the
// host from the training seed instead, so its results do not depend on it).
func NewStore(params []Tensor, seed int64) (*model.Store, error) {
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, seed)
	for _, p := range params {
		if _, err := store.CreateVariable(p.Name, tensors.FromFlatDataAndDimensions(clone(p.Values), p.Shape...)); err != nil {
			return nil, fmt.Errorf("mlp: %w", err)
		}
	}
	return store, nil
}

// SetParams overwrites the store's variables with params (same names and shapes).
func SetParams(store *model.Store, params []Tensor) error {
	for _, p := range params {
		v := store.GetVariable(p.Name)
		if v == nil {
			return fmt.Errorf("mlp: store has no variable %q", p.Name)
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(clone(p.Values), p.Shape...)); err != nil {
			return fmt.Errorf("mlp: setting %q: %w", p.Name, err)
		}
	}
	return nil
}

// ReadParams copies the architecture's parameters out of store, in [Arch.Init]'s order.
func (a Arch) ReadParams(store *model.Store) ([]Tensor, error) {
	params := make([]Tensor, 0, 2*a.Layers())
	for l := 0; l < a.Layers(); l++ {
		for _, path := range []string{WeightsPath(l), BiasesPath(l)} {
			v := store.GetVariable(path)
			if v == nil {
				return nil, fmt.Errorf("mlp: store has no variable %q", path)
			}
			t, err := v.Value()
			if err != nil {
				return nil, fmt.Errorf("mlp: reading %q: %w", path, err)
			}
			data, err := tensors.CopyFlatData[float32](t)
			if err != nil {
				return nil, fmt.Errorf("mlp: reading %q: %w", path, err)
			}
			params = append(params, Tensor{Name: path, Shape: t.Shape().Dimensions, Values: data})
		}
	}
	return params, nil
}

// Pass holds the intermediate nodes of one forward pass: Inputs[l] is the
// activation entering dense layer l and PreActivations[l] = Inputs[l]·W_l + b_l.
// Fisher scores are computed from them (see package fisher).
type Pass struct {
	Inputs, PreActivations []*Node
	Logits                 *Node
}

// Forward builds the forward pass of x ([batch, Inputs], float32). Dropout is
// active only when store marks g as a training graph.
func (a Arch) Forward(store *model.Store, x *Node) Pass {
	g := x.Graph()
	var p Pass
	h := x
	for l := 0; l < a.Layers(); l++ {
		w := store.GetVariable(WeightsPath(l)).NodeValue(g)
		b := store.GetVariable(BiasesPath(l)).NodeValue(g)
		z := Add(MatMul(h, w), InsertAxes(b, 0))
		p.Inputs = append(p.Inputs, h)
		p.PreActivations = append(p.PreActivations, z)
		if l == a.Layers()-1 {
			p.Logits = z
			break
		}
		h = ReLUDropout(store, z, a.Dropout)
	}
	return p
}

// Loss is the per-example softmax cross-entropy of logits ([batch, classes])
// for integer labels ([batch], int32): −log softmax(logits)[label]. Leading
// axes may be added to both (e.g. [models, batch, classes] with [models, batch]).
func Loss(logits, labels *Node) *Node {
	classes := logits.Shape().Dimensions[logits.Rank()-1]
	oneHot := OneHot(labels, classes, dtypes.Float32)
	return Neg(ReduceSum(Mul(oneHot, LogSoftmax(logits, -1)), -1))
}

// ReLUDropout is ReLU followed, in training graphs, by inverted dropout
// (keep with probability 1−rate, scale kept values by 1/(1−rate), as
// torch.nn.Dropout): z ∘ [ReLUDropoutMask].
func ReLUDropout(store *model.Store, z *Node, rate float64) *Node {
	return Mul(z, ReLUDropoutMask(store, z, rate))
}

// ReLUDropoutMask is the factor by which ReLU and dropout multiply z: 0 where
// z ≤ 0 or the unit is dropped, else 1/(1−rate) in training graphs and 1
// otherwise. It carries no gradient, so the backward pass multiplies by the
// same mask: gomlx's Max-based ReLU and Where-based dropout cost several
// element-wise passes each in the backward pass, and at batch 64 those passes
// dominate a training step. The random draws come from store's stream, so a
// store seed fixes them; z may have any shape (package train's ensembles
// pass [models, width, batch]).
func ReLUDropoutMask(store *model.Store, z *Node, rate float64) *Node {
	g := z.Graph()
	zero := ScalarZero(g, z.DType())
	keep := GreaterThan(z, zero)
	scale := 1.0
	if rate > 0 && store.IsTraining(g) {
		rnd := store.RandomUniform(g, z.Shape())
		keep = LogicalAnd(keep, GreaterThan(rnd, Scalar(g, z.DType(), rate)))
		scale = 1 / (1 - rate)
	}
	return StopGradient(Where(keep, Scalar(g, z.DType(), scale), ZerosLike(z)))
}

func clone(v []float32) []float32 { return append([]float32(nil), v...) }

// Clone returns a deep copy of params.
func Clone(params []Tensor) []Tensor {
	out := make([]Tensor, len(params))
	for i, p := range params {
		out[i] = Tensor{Name: p.Name, Shape: append([]int(nil), p.Shape...), Values: clone(p.Values)}
	}
	return out
}
