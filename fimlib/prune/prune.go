package prune

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/fimprune/fimprune/fimlib/internal/numpyq"
	"github.com/fimprune/fimprune/fimlib/param"
)

// Tensor is one named parameter tensor: scores or weights (param.Tensor).
type Tensor = param.Tensor

// TensorMask is the mask of one tensor. Keep[i] is 1 if entry i is kept and
// 0 if it is pruned; float32 so that weights can be multiplied by it.
type TensorMask struct {
	Name  string
	Shape []int
	Keep  []float32
}

// Mask holds one TensorMask per tensor, in the order of the tensors it was
// built from.
type Mask struct {
	Tensors []TensorMask
}

// LayerCount is the number of pruned entries of one tensor out of its total.
type LayerCount struct {
	Name          string
	Pruned, Total int
}

// Counts returns the pruned and total entries per tensor, in mask order.
func (m Mask) Counts() []LayerCount {
	out := make([]LayerCount, len(m.Tensors))
	for i, t := range m.Tensors {
		out[i] = LayerCount{Name: t.Name, Total: len(t.Keep)}
		for _, k := range t.Keep {
			if k == 0 {
				out[i].Pruned++
			}
		}
	}
	return out
}

// AsTensors returns the keep masks as tensors (the form training takes a
// mask in); they share the mask's slices.
func (m Mask) AsTensors() []Tensor {
	out := make([]Tensor, len(m.Tensors))
	for i, t := range m.Tensors {
		out[i] = Tensor{Name: t.Name, Shape: t.Shape, Values: t.Keep}
	}
	return out
}

// PrunedTotal returns the number of pruned entries over all tensors.
func (m Mask) PrunedTotal() int {
	n := 0
	for _, c := range m.Counts() {
		n += c.Pruned
	}
	return n
}

// ErrFraction is returned (wrapped) for a fraction outside [0, 1] or NaN.
var ErrFraction = errors.New("prune: fraction must be in [0, 1]")

// ErrNaN is returned (wrapped) when a score or weight is NaN.
var ErrNaN = errors.New("prune: NaN value")

// ErrShape is returned (wrapped) when a tensor's Values do not match its
// Shape, or when a mask does not match the weights given to Apply.
var ErrShape = errors.New("prune: shape mismatch")

// Global prunes exactly round(fraction·N) entries with the highest scores,
// ranked over all tensors together. Ties go to the lower global flat index.
func Global(scores []Tensor, fraction float64) (Mask, error) {
	keys, err := flatten(scores, fraction)
	if err != nil {
		return Mask{}, err
	}
	return newMask(scores, highest(keys, count(fraction, len(keys)))), nil
}

// Magnitude prunes exactly round(fraction·N) entries with the smallest |w|
// over all tensors together (ties to the lower flat index): the classic
// magnitude-pruning control.
func Magnitude(weights []Tensor, fraction float64) (Mask, error) {
	keys, err := flatten(weights, fraction)
	if err != nil {
		return Mask{}, err
	}
	for i, v := range keys {
		keys[i] = -math.Abs(v) // smallest magnitude ranks highest
	}
	return newMask(weights, highest(keys, count(fraction, len(keys)))), nil
}

// Random prunes exactly round(fraction·N) entries chosen uniformly at random
// with a PCG generator seeded by seed: a control for score-guided pruning.
// Only the Shapes of shapes are used; Values may be nil. The mask is
// deterministic for a given seed and Go release.
func Random(shapes []Tensor, fraction float64, seed uint64) (Mask, error) {
	if !(fraction >= 0 && fraction <= 1) {
		return Mask{}, fmt.Errorf("%w: got %v", ErrFraction, fraction)
	}
	n := 0
	for _, t := range shapes {
		s := size(t.Shape)
		if s < 0 {
			return Mask{}, fmt.Errorf("%w: tensor %q has shape %v", ErrShape, t.Name, t.Shape)
		}
		n += s
	}
	r := rand.New(rand.NewPCG(seed, pcgStream))
	return newMask(shapes, r.Perm(n)[:count(fraction, n)]), nil
}

// pcgStream is the second PCG seed word; fixed so that seed alone decides.
const pcgStream = 0x9e3779b97f4a7c15

// SeedThreshold is the seed notebook's rule: threshold is
// numpy.percentile(all scores, 100·(1−fraction)) with numpy's default
// "linear" method, computed in float64, and an entry is kept iff
// score ≤ threshold. Its count differs from round(fraction·N) both ways: the
// interpolated threshold usually falls between two scores, so it prunes
// ⌊fraction·(N−1)⌋+1 distinct entries (2,081 rather than 2,080 at 0.1 for
// 20,802 parameters), and ties at the threshold are all kept, which prunes
// fewer. At fraction 1 the threshold is the minimum score, so the entries
// equal to the minimum are still kept.
//
// PyTorch compares a float32 tensor with a Python float after rounding the
// float to float32; if the seed compared that way, an entry within half a
// float32 ulp of the threshold can land on the other side.
func SeedThreshold(scores []Tensor, fraction float64) (m Mask, threshold float64, err error) {
	keys, err := flatten(scores, fraction)
	if err != nil {
		return Mask{}, 0, err
	}
	if len(keys) == 0 {
		return Mask{}, 0, errors.New("prune: no scores")
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	threshold = numpyq.Percentile(sorted, 100*(1-fraction))
	var pruned []int
	for i, v := range keys {
		if !(v <= threshold) {
			pruned = append(pruned, i)
		}
	}
	return newMask(scores, pruned), threshold, nil
}

// Apply zeroes, in place, the entries of weights whose mask factor is 0.
// weights must match m tensor by tensor: same order, Name, Shape and length.
// Everything is checked before anything is written, so on error weights are
// unchanged. Entries are set to 0 rather than multiplied, so NaN or Inf
// weights are pruned too.
func Apply(weights []Tensor, m Mask) error {
	if len(weights) != len(m.Tensors) {
		return fmt.Errorf("%w: %d weight tensors, %d mask tensors", ErrShape, len(weights), len(m.Tensors))
	}
	for i, w := range weights {
		t := m.Tensors[i]
		if w.Name != t.Name || !slices.Equal(w.Shape, t.Shape) || len(w.Values) != len(t.Keep) {
			return fmt.Errorf("%w: tensor %d is %q %v (%d values), mask is %q %v (%d values)",
				ErrShape, i, w.Name, w.Shape, len(w.Values), t.Name, t.Shape, len(t.Keep))
		}
	}
	for i, w := range weights {
		for j, k := range m.Tensors[i].Keep {
			if k == 0 {
				w.Values[j] = 0
			}
		}
	}
	return nil
}

// count is round(fraction·n), half away from zero.
func count(fraction float64, n int) int {
	return int(math.Round(fraction * float64(n)))
}

// size is the product of shape, or -1 if a dimension is negative.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// flatten checks fraction and the tensors and returns all values as float64
// in global flat order.
func flatten(ts []Tensor, fraction float64) ([]float64, error) {
	if !(fraction >= 0 && fraction <= 1) {
		return nil, fmt.Errorf("%w: got %v", ErrFraction, fraction)
	}
	var out []float64
	for _, t := range ts {
		if size(t.Shape) != len(t.Values) {
			return nil, fmt.Errorf("%w: tensor %q has shape %v but %d values", ErrShape, t.Name, t.Shape, len(t.Values))
		}
		for j, v := range t.Values {
			if v != v {
				return nil, fmt.Errorf("%w: tensor %q entry %d", ErrNaN, t.Name, j)
			}
			out = append(out, float64(v))
		}
	}
	return out, nil
}

// highest returns the flat indices of the k largest keys, ties to the lower
// index.
func highest(keys []float64, k int) []int {
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case keys[a] > keys[b]:
			return -1
		case keys[a] < keys[b]:
			return 1
		}
		return a - b
	})
	return idx[:k]
}

// newMask builds a mask shaped like ts with the given flat indices pruned.
func newMask(ts []Tensor, pruned []int) Mask {
	m := Mask{Tensors: make([]TensorMask, len(ts))}
	for i, t := range ts {
		keep := make([]float32, size(t.Shape))
		for j := range keep {
			keep[j] = 1
		}
		m.Tensors[i] = TensorMask{Name: t.Name, Shape: slices.Clone(t.Shape), Keep: keep}
	}
	slices.Sort(pruned)
	ti, off := 0, 0
	for _, p := range pruned {
		for p >= off+len(m.Tensors[ti].Keep) {
			off += len(m.Tensors[ti].Keep)
			ti++
		}
		m.Tensors[ti].Keep[p-off] = 0
	}
	return m
}
