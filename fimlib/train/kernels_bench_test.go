package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // gomlx's graph DSL reads best dot-imported.
	"github.com/gomlx/gomlx/core/tensors"
)

func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32() - 0.5
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// BenchmarkKernels is a minimal reproduction, for compute's go backend, of
// the matrix products one batch-64 training step of the seed MLP
// (96-128-64-2) is made of: each case is one graph of one operation,
// executed b.N times, so ns/op is the backend's cost of that product plus
// one execution's overhead (the "identity" case). GFLOP/s counts
// 2·rows·cols·contracted per product. The layouts: NN multiplies [M, K] by
// [K, N] (row-major), NT [M, K] by [N, K] (both operands contracted on
// their last axis), TN [K, M] by [K, N]. BENCHMARKS.md ("Where the
// backend's kernels are the limit") has the figures and what the training
// step does about them; bench/kernels.py times the same products in
// PyTorch.
func BenchmarkKernels(b *testing.B) {
	be, err := newBackendB()
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type kase struct {
		name string
		fn   func(in []*Node) *Node
		args []*tensors.Tensor
		flop float64
	}
	cases := []kase{
		{"identity [128,64]", func(in []*Node) *Node { return in[0] }, []*tensors.Tensor{randTensor(rng, 128, 64)}, 0},
		{"add [128,64]", func(in []*Node) *Node { return Add(in[0], in[1]) }, []*tensors.Tensor{randTensor(rng, 128, 64), randTensor(rng, 128, 64)}, 0},
		{"transpose [64,128]", func(in []*Node) *Node { return Transpose(in[0], 0, 1) }, []*tensors.Tensor{randTensor(rng, 64, 128)}, 0},
		{"fwd NN W[128,96]·xT[96,64]", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, in[1], []int{0}, nil) },
			[]*tensors.Tensor{randTensor(rng, 128, 96), randTensor(rng, 96, 64)}, 2 * 128 * 96 * 64},
		{"gradW NT dT[128,64]·xT[96,64]", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, in[1], []int{1}, nil) },
			[]*tensors.Tensor{randTensor(rng, 128, 64), randTensor(rng, 96, 64)}, 2 * 128 * 96 * 64},
		{"gradW NN dT[128,64]·x[64,96]", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, in[1], []int{0}, nil) },
			[]*tensors.Tensor{randTensor(rng, 128, 64), randTensor(rng, 64, 96)}, 2 * 128 * 96 * 64},
		{"gradW TN d[64,128]·x[64,96]", func(in []*Node) *Node { return DotGeneral(in[0], []int{0}, nil, in[1], []int{0}, nil) },
			[]*tensors.Tensor{randTensor(rng, 64, 128), randTensor(rng, 64, 96)}, 2 * 128 * 96 * 64},
		{"gradW NT dT[2,64]·hT[65,64]", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, in[1], []int{1}, nil) },
			[]*tensors.Tensor{randTensor(rng, 2, 64), randTensor(rng, 65, 64)}, 2 * 2 * 65 * 64},
		{"gradW transpose+NN dT[2,64]·hT[65,64]ᵀ", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, Transpose(in[1], 0, 1), []int{0}, nil) },
			[]*tensors.Tensor{randTensor(rng, 2, 64), randTensor(rng, 65, 64)}, 2 * 2 * 65 * 64},
		{"gradW NT dT[64,64]·hT[129,64]", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, in[1], []int{1}, nil) },
			[]*tensors.Tensor{randTensor(rng, 64, 64), randTensor(rng, 129, 64)}, 2 * 64 * 129 * 64},
		{"gradW transpose+NN dT[64,64]·hT[129,64]ᵀ", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, Transpose(in[1], 0, 1), []int{0}, nil) },
			[]*tensors.Tensor{randTensor(rng, 64, 64), randTensor(rng, 129, 64)}, 2 * 64 * 129 * 64},
		{"fwd NN x[64,96]·W[96,128]", func(in []*Node) *Node { return DotGeneral(in[0], []int{1}, nil, in[1], []int{0}, nil) },
			[]*tensors.Tensor{randTensor(rng, 64, 96), randTensor(rng, 96, 128)}, 2 * 128 * 96 * 64},
		{"fwd K=64 NN W[64,128,96]·xT[64,96,64]", func(in []*Node) *Node { return DotGeneral(in[0], []int{2}, []int{0}, in[1], []int{1}, []int{0}) },
			[]*tensors.Tensor{randTensor(rng, 64, 128, 96), randTensor(rng, 64, 96, 64)}, 64 * 2 * 128 * 96 * 64},
		{"gradW K=64 NT dT[64,128,64]·xT[64,96,64]", func(in []*Node) *Node { return DotGeneral(in[0], []int{2}, []int{0}, in[1], []int{2}, []int{0}) },
			[]*tensors.Tensor{randTensor(rng, 64, 128, 64), randTensor(rng, 64, 96, 64)}, 64 * 2 * 128 * 96 * 64},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			exec, err := NewExec(be, c.fn)
			if err != nil {
				b.Fatal(err)
			}
			defer exec.Finalize()
			args := make([]any, len(c.args))
			for i, a := range c.args {
				args[i] = a
			}
			for range b.N {
				out, err := exec.Call(args...)
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range out {
					_ = o.FinalizeAll()
				}
			}
			if c.flop > 0 {
				b.ReportMetric(c.flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			}
		})
	}
}

// BenchmarkOpChain times graphs of 1 and 21 applications of one
// element-wise operation (or a short pattern: broadcast bias add, reduction,
// concatenation, transpose, select) on a [128, 64] float32 tensor, the size
// of a hidden layer's activations at batch 64. (ns/op of 21 − ns/op of 1)
// ÷ 20 is the marginal cost of one application inside a graph.
func BenchmarkOpChain(b *testing.B) {
	be, err := newBackendB()
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := randTensor(rng, 128, 64)
	for _, n := range []int{1, 21} {
		for _, kind := range []string{"add", "mul", "max0", "sign", "where", "biasadd", "bcastadd", "reduce1", "concat", "transpose", "where0"} {
			b.Run(fmt.Sprintf("%s-%d", kind, n), func(b *testing.B) {
				exec, err := NewExec(be, func(in []*Node) *Node {
					h := in[0]
					for range n {
						switch kind {
						case "add":
							h = Add(h, in[0])
						case "mul":
							h = Mul(h, in[0])
						case "max0":
							h = Max(h, ScalarZero(h.Graph(), h.DType()))
						case "sign":
							h = Sign(h)
						case "where":
							h = Where(GreaterThan(h, ScalarZero(h.Graph(), h.DType())), h, in[0])
						case "biasadd":
							h = Add(h, InsertAxes(ReduceSum(in[0], 1), -1))
						case "bcastadd":
							h = Add(h, BroadcastToDims(InsertAxes(ReduceSum(in[0], 1), -1), 128, 64))
						case "concat":
							h = Slice(Concatenate([]*Node{h, OnesLike(Slice(h, AxisRange(0, 1)))}, 0), AxisRange(1, 129))
						case "transpose":
							h = Transpose(h, 0, 1)
							h = Reshape(h, 128, 64)
						case "where0":
							h = Where(GreaterThan(h, ScalarZero(h.Graph(), h.DType())), in[0], ScalarZero(h.Graph(), h.DType()))
						case "reduce1":
							h = Add(h, InsertAxes(ReduceSum(h, 1), -1))
						}
					}
					return h
				})
				if err != nil {
					b.Fatal(err)
				}
				defer exec.Finalize()
				for range b.N {
					out, err := exec.Call(x)
					if err != nil {
						b.Fatal(err)
					}
					_ = out[0].FinalizeAll()
				}
			})
		}
	}
}
