package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // gomlx's graph DSL reads best dot-imported.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Member is one model of an ensemble trained by [FitEnsemble].
type Member struct {
	// Name labels the member in errors.
	Name string
	// Init holds the starting parameters, in [mlp.Arch.Init]'s order: a fresh
	// initialisation, or a trained (and pruned) model to fine-tune.
	Init []mlp.Tensor
	// Seed fixes the member's shuffling order and dropout masks (two
	// separate streams).
	Seed uint64
	// RowWeights, if not nil, holds one weight per training row: the row
	// counts with that weight in the member's loss, and a row of weight 0 is
	// never drawn, so the member never sees it. nil means weight 1 for all.
	// A batch's loss is Σ wᵢℓᵢ / Σ |wᵢ|, so negative weights ascend the loss
	// on their rows (NegGrad-style forgetting) at the same scale.
	RowWeights []float32
	// Mask, if not nil, is a 0/1 tensor per masked parameter, enforced after
	// every update as in [Config.Mask].
	Mask []mlp.Tensor
	// LearningRate overrides the shared configuration's when > 0.
	LearningRate float64
}

// MemberResult is what FitEnsemble returns for one member.
type MemberResult struct {
	Params  []mlp.Tensor // final parameters (the best epoch's with early stopping)
	History History      // History.Seconds is the whole ensemble's wall time
}

// stepHook, when not nil, sees every step's members (slots holds member
// indices) and which of them take the step; for tests.
var stepHook func(slots []int, active []bool)

// FitEnsemble trains len(members) models of one architecture together, in one
// compiled graph: every parameter gains a leading model axis and each layer is
// one batched matrix product, so a step costs about as many operations as one
// model's step while doing K models' arithmetic. On the go backend a batch-64
// step of one model runs in its small-matrix kernels and pays a cost per
// operation; from about 8 members on, the products reach its packed,
// multi-threaded kernels (BENCHMARKS.md, "Training speed, change by change").
//
// Each member follows cfg (learning rate, batch size, epochs, patience) on
// its own: its own initialisation, shuffling order, row weights, mask, Adam
// state and early stopping, with the best weights restored. A member whose
// epoch has fewer batches than another's (it sees fewer rows) sits out the
// remaining steps of that epoch, and a member that stopped early sits out the
// rest of the run: its weights and Adam state do not change while it sits
// out, exactly as if it were trained alone. Nothing else is shared: a
// member trained in an ensemble follows the trajectory of the same member
// trained alone. The backend picks other kernels for other ensemble sizes:
// with its AVX-512 kernels the weights came out the same to the bit
// (TestEnsembleSizeKeepsMembersExact, the study), with the plain build's
// they differ in the last bits (3e-7 relative). [Fit] is an ensemble of
// one.
//
// cfg.Seed and cfg.Mask are ignored (members carry their own); cfg.Name and
// cfg.Progress label and report the ensemble as a whole, with the mean
// training and validation losses of the members still training.
func FitEnsemble(ctx context.Context, backend compute.Backend, arch mlp.Arch, trainData Data, val *Data, cfg Config, members []Member) ([]MemberResult, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if err := checkData(cfg, trainData, val); err != nil {
		return nil, err
	}
	if trainData.Features != arch.Inputs {
		return nil, fmt.Errorf("train: data has %d features, architecture expects %d", trainData.Features, arch.Inputs)
	}
	if len(members) == 0 {
		return nil, errors.New("train: ensemble has no members")
	}
	k, n, b := len(members), trainData.Rows(), cfg.BatchSize
	rowsOf := make([][]int32, k) // the rows each member may draw
	for m, mem := range members {
		if mem.RowWeights == nil {
			rowsOf[m] = make([]int32, n)
			for i := range rowsOf[m] {
				rowsOf[m][i] = int32(i)
			}
			continue
		}
		if len(mem.RowWeights) != n {
			return nil, fmt.Errorf("train: member %q has %d row weights for %d rows", mem.Name, len(mem.RowWeights), n)
		}
		for i, w := range mem.RowWeights {
			if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
				return nil, fmt.Errorf("train: member %q: row %d has weight %g", mem.Name, i, w)
			}
			if w != 0 {
				rowsOf[m] = append(rowsOf[m], int32(i))
			}
		}
		if len(rowsOf[m]) == 0 {
			return nil, fmt.Errorf("train: member %q has no row of non-zero weight", mem.Name)
		}
	}

	e, err := newEnsembleExec(backend, arch, trainData, cfg, members)
	if err != nil {
		return nil, err
	}
	defer func() { e.finalize() }()
	var eval *ensembleEval
	if val != nil {
		eval = newEnsembleEval(backend, arch, k, *val)
		defer func() { eval.finalize() }()
	}

	rngs := make([]*rand.Rand, k)
	stepsOf := make([]int, k)
	for m := range members {
		rngs[m] = rand.New(rand.NewPCG(members[m].Seed, shuffleStream))
		stepsOf[m] = (len(rowsOf[m]) + b - 1) / b
	}
	slots := make([]int, k) // slots[s] is the member in the ensemble's slot s
	for m := range slots {
		slots[m] = m
	}
	perms := make([][]int32, k)
	stopped := make([]bool, k)
	best := make([][]mlp.Tensor, k)
	bestLoss := make([]float64, k)
	sinceBest := make([]int, k)
	results := make([]MemberResult, k)
	lossSum := make([]float64, k)
	for m := range bestLoss {
		bestLoss[m] = math.Inf(1)
	}

	cfg.Progress.start(cfg.Name, cfg.MaxEpochs)
	epochsRun := 0
	defer func() { cfg.Progress.finish(cfg.MaxEpochs - epochsRun) }()
	for epoch := 1; epoch <= cfg.MaxEpochs; epoch++ {
		epochStart := time.Now()
		maxSteps := 0
		for _, m := range slots {
			perms[m] = perms[m][:0]
			for _, j := range rngs[m].Perm(len(rowsOf[m])) {
				perms[m] = append(perms[m], rowsOf[m][j])
			}
			lossSum[m] = 0
			maxSteps = max(maxSteps, stepsOf[m])
		}
		idx := make([]int32, len(slots)*b)
		wts := make([]float32, len(slots)*b)
		active := make([]bool, len(slots))
		for st := 0; st < maxSteps; st++ {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("train %s: epoch %d: %w", cfg.Name, epoch, err)
			}
			lo := st * b
			for slot, m := range slots {
				// A member that stopped at an earlier epoch stays in the
				// graph until the next compaction but takes no step.
				active[slot] = !stopped[m] && st < stepsOf[m]
				for i := 0; i < b; i++ {
					row, w := int32(0), float32(0) // padding: any row, weight 0
					if active[slot] && lo+i < len(perms[m]) {
						row, w = perms[m][lo+i], 1
						if members[m].RowWeights != nil {
							w = members[m].RowWeights[row]
						}
					}
					idx[slot*b+i], wts[slot*b+i] = row, w
				}
			}
			if stepHook != nil {
				stepHook(slots, active)
			}
			losses, err := e.step(idx, wts, active)
			if err != nil {
				return nil, fmt.Errorf("train %s: epoch %d: %w", cfg.Name, epoch, err)
			}
			for slot, m := range slots {
				if active[slot] {
					lossSum[m] += float64(losses[slot]) * float64(min(b, len(perms[m])-lo))
				}
			}
		}
		epochsRun = epoch
		var vls []float64
		if eval != nil {
			params, err := e.paramInputs()
			if err != nil {
				return nil, err
			}
			if vls, err = eval.meanLoss(params); err != nil {
				return nil, fmt.Errorf("train %s: validation: %w", cfg.Name, err)
			}
		}
		line := EpochLine{Name: cfg.Name, Epoch: epoch, MaxEpochs: cfg.MaxEpochs, TrainLoss: 0, ValLoss: math.NaN()}
		var improved []int // slots whose member has a new best epoch
		var meanVal float64
		training := 0
		for _, m := range slots {
			if !stopped[m] {
				training++
			}
		}
		for slot, m := range slots {
			if stopped[m] {
				continue // stopped at an earlier epoch; still in the graph until the next compaction
			}
			h := &results[m].History
			h.Epochs = epoch
			h.TrainLoss = append(h.TrainLoss, lossSum[m]/float64(len(perms[m])))
			line.TrainLoss += h.TrainLoss[len(h.TrainLoss)-1] / float64(training)
			if vls == nil {
				continue
			}
			h.ValLoss = append(h.ValLoss, vls[slot])
			meanVal += vls[slot] / float64(training)
			if cfg.Patience == 0 {
				continue
			}
			if vls[slot] < bestLoss[m] {
				bestLoss[m], sinceBest[m], h.BestEpoch = vls[slot], 0, epoch
				improved = append(improved, slot)
			} else if sinceBest[m]++; sinceBest[m] >= cfg.Patience {
				stopped[m] = true
			}
		}
		if vls != nil {
			line.ValLoss = meanVal
		}
		if len(improved) > 0 {
			all := e.readParams()
			for _, slot := range improved {
				best[slots[slot]] = all[slot]
			}
		}
		line.Seconds = time.Since(epochStart).Seconds()
		cfg.Progress.epoch(line)

		// Members that stopped early leave the ensemble: their slots would
		// cost a full share of every remaining step. Rebuilding the graph is
		// cheap next to an epoch, so the ensemble shrinks as soon as a
		// quarter of it (at least one member) has stopped.
		var live []int
		for slot, m := range slots {
			if !stopped[m] {
				live = append(live, slot)
			}
		}
		if len(live) == 0 {
			break
		}
		if len(slots)-len(live) >= max(1, len(slots)/4) {
			next, err := e.subset(backend, live)
			if err != nil {
				return nil, err
			}
			e.finalize()
			e = next
			if eval != nil {
				eval.finalize()
				eval = newEnsembleEval(backend, arch, len(live), *val)
			}
			kept := make([]int, len(live))
			for i, slot := range live {
				kept[i] = slots[slot]
			}
			slots = kept
		}
	}
	final := e.readParams()
	secs := time.Since(start).Seconds()
	for slot, m := range slots {
		results[m].Params = final[slot]
	}
	for m := range members {
		if cfg.Patience > 0 {
			results[m].Params = best[m]
		} else {
			results[m].History.BestEpoch = results[m].History.Epochs
		}
		results[m].History.Seconds = secs
	}
	return results, nil
}

// Adam's constants, as gomlx's and PyTorch's defaults.
const adamBeta1, adamBeta2 = 0.9, 0.999

// Stream increments of a member's two random streams (PCG seeded with the
// member's Seed): one for the shuffling order, one for the dropout masks.
const shuffleStream, dropoutStream = 0x5eed, 0xd40f

// ensembleExec is the compiled forward and backward pass of all members plus
// their optimiser state, laid out for the go backend. Each choice below was
// measured with pprof and BenchmarkKernels / BenchmarkOpChain
// (kernels_bench_test.go) on the project's 2-core AVX-512 machine
// (2026-12-01, compute v0.1.2, batch 64); BENCHMARKS.md has the figures.
//
//   - Activations run transposed, [K, width+1, batch], and each layer's
//     weights and bias are one tensor [K, out, in+1] (PyTorch's weight
//     layout with the bias as an extra column). Every activation carries a
//     row of ones, so the bias is part of the product: a broadcast bias add
//     (22 µs on [128, 64]) and a bias-gradient reduction (36 µs) per layer
//     become part of a matrix product.
//   - Weight gradients contract over the batch. With both operands
//     batch-last, the backend's small-matrix kernel computes one dot product
//     per output (8.6 GFLOP/s for layer 0 against 32 GFLOP/s for the
//     row-major product). The first layer's input therefore also comes from
//     the host batch-first, [K, batch, in+1], and a hidden layer's input is
//     transposed in the graph (30 µs) when its product is in the
//     small-matrix regime; in the large-matrix regime (many members) the
//     backend packs the operands itself and the transpose would only add
//     work.
//   - The backward pass is written out (three lines per layer) rather than
//     derived by autodiff, which also drops autodiff's bookkeeping nodes.
//   - Dropout masks are drawn on the host, from each member's own stream
//     (seeded by its Seed), and enter the graph as inputs: in the graph the
//     random bits, their conversion and the logical operations cost more
//     than the layer's product, and a member's draws then do not depend on
//     which other members share its ensemble.
//   - Adam runs on the host in one fused pass per parameter tensor (in
//     AVX-512 lanes where the build and the CPU have them, adam_simd.go): in
//     the graph it is about fifteen element-wise passes per tensor through
//     the backend's generic kernels; the host loop also simply skips members
//     that sit out a step.
//   - The step's inputs are kept from step to step in the backend's shared
//     buffers, which the host fills in place (the parameters live there),
//     split over the cores for ensembles of 8 or more members.
type ensembleExec struct {
	exec    *model.Exec
	arch    mlp.Arch
	k, b    int
	d       Data
	in, out []int       // per layer
	nt      []bool      // per layer: its weight gradient uses the batch-last input as is (no transpose)
	params  [][]float32 // per layer, K members back to back, each [out, in+1]
	m1, m2  [][]float32 // Adam's moments, laid out as params
	masks   [][]float32 // laid out as params; nil when no member masks the layer
	steps   []int       // Adam steps taken per member
	lr      []float64   // learning rate per member
	drop    []*rand.Rand
	eps     float64

	// The step's inputs, in gradientGraph's order, kept from step to step,
	// and a writable view of each (bufs). On a backend with shared buffers
	// (go) a view is the buffer the graph reads, so nothing is copied or
	// allocated per step, and the parameters live there: params[l] is
	// bufs[the layer's input]. Otherwise a view is host memory copied into
	// its tensor before each execution (shared[i] false).
	inputs []*tensors.Tensor
	args   []any // inputs, as exec.Call takes them
	bufs   [][]float32
	shared []bool
}

// Positions in ensembleExec.inputs.
const inXT, inX, inYT, inWN, inDrops = 0, 1, 2, 3, 4

// smallMatMulFlops is the size (batch × rows × columns × contracted) below
// which compute's go backend multiplies with its unpacked small-matrix
// kernels (noSIMDSmallMatMulSizeThreshold in compute/internal/gobackend/dot).
const smallMatMulFlops = 4 << 20

// useNT reports whether layer l's weight gradient should multiply its
// batch-last input as is (the backend's dot-product kernel) rather than
// transpose it first: for the first layer the host provides the input
// batch-first; for the others a transpose pays only in the small-matrix
// regime and for layers with many outputs. Measured with BenchmarkKernels:
// [64, 64] by [129, 64] took 125 µs as is and 83 µs transposed, but the
// output layer's [2, 64] by [65, 64] 8.7 µs as is and 29 µs transposed.
func useNT(l, k, batch, in, out int) bool {
	return l > 0 && (k*batch*(in+1)*out >= smallMatMulFlops || out < 16)
}

func newEnsembleExec(backend compute.Backend, arch mlp.Arch, d Data, cfg Config, members []Member) (*ensembleExec, error) {
	k := len(members)
	ref := arch.Init(0) // names and shapes
	e := &ensembleExec{arch: arch, k: k, b: cfg.BatchSize, d: d, eps: cfg.AdamEpsilon,
		steps: make([]int, k), lr: make([]float64, k)}
	for l := 0; l < arch.Layers(); l++ {
		w, bias := ref[2*l], ref[2*l+1]
		if w.Name != mlp.WeightsPath(l) || bias.Name != mlp.BiasesPath(l) || len(w.Shape) != 2 || len(bias.Shape) != 1 || bias.Shape[0] != w.Shape[1] {
			return nil, fmt.Errorf("train: layer %d's parameters are not a weight matrix and its bias", l)
		}
		e.in, e.out = append(e.in, w.Shape[0]), append(e.out, w.Shape[1])
	}
	for m, mem := range members {
		e.lr[m] = cfg.LearningRate
		if mem.LearningRate > 0 {
			e.lr[m] = mem.LearningRate
		}
		e.drop = append(e.drop, rand.New(rand.NewPCG(mem.Seed, dropoutStream)))
		if len(mem.Init) != len(ref) {
			return nil, fmt.Errorf("train: member %q: initial parameters do not match the architecture (%d tensors, want %d)", mem.Name, len(mem.Init), len(ref))
		}
		for pi, p := range ref {
			if mem.Init[pi].Name != p.Name || len(mem.Init[pi].Values) != len(p.Values) {
				return nil, fmt.Errorf("train: member %q: initial parameters do not match the architecture (want %q with %d values)", mem.Name, p.Name, len(p.Values))
			}
		}
		for _, t := range mem.Mask {
			pi := slices.IndexFunc(ref, func(p mlp.Tensor) bool { return p.Name == t.Name })
			if pi < 0 {
				return nil, fmt.Errorf("train: member %q: mask names unknown parameter %q", mem.Name, t.Name)
			}
			if len(t.Values) != len(ref[pi].Values) {
				return nil, fmt.Errorf("train: member %q: mask for %q has %d values, parameter has %d", mem.Name, t.Name, len(t.Values), len(ref[pi].Values))
			}
		}
	}
	for l := range e.in {
		size := e.layerSize(l)
		stacked := make([]float32, k*size)
		var mask []float32
		for m, mem := range members {
			e.toInternal(stacked[m*size:(m+1)*size], l, mem.Init[2*l].Values, mem.Init[2*l+1].Values)
			for _, t := range mem.Mask {
				if t.Name != mlp.WeightsPath(l) && t.Name != mlp.BiasesPath(l) {
					continue
				}
				if mask == nil {
					mask = make([]float32, k*size)
					for i := range mask {
						mask[i] = 1
					}
				}
				dst := mask[m*size : (m+1)*size]
				if t.Name == mlp.WeightsPath(l) {
					e.toInternal(dst, l, t.Values, nil)
				} else {
					e.toInternal(dst, l, nil, t.Values)
				}
			}
		}
		e.params = append(e.params, stacked)
		e.m1 = append(e.m1, make([]float32, k*size))
		e.m2 = append(e.m2, make([]float32, k*size))
		e.masks = append(e.masks, mask)
	}
	if err := e.compile(backend); err != nil {
		return nil, err
	}
	return e, nil
}

// layerSize is one member's number of values of layer l: out × (in+1).
func (e *ensembleExec) layerSize(l int) int { return e.out[l] * (e.in[l] + 1) }

// compile allocates the step's inputs, moves the parameters into theirs,
// and builds the step's graph.
func (e *ensembleExec) compile(backend compute.Backend) error {
	k, b, f, layers := e.k, e.b, e.arch.Inputs+1, len(e.in)
	dims := [][]int{{k, f, b}, {k, b, f}, {k, e.arch.Classes, b}, {k, b}}
	for l := range layers - 1 {
		dims = append(dims, []int{k, e.out[l], b})
	}
	for l := range layers {
		dims = append(dims, []int{k, e.out[l], e.in[l] + 1})
	}
	for l := 1; l < layers; l++ {
		dims = append(dims, []int{k, e.in[l], e.out[l]})
	}
	e.nt = make([]bool, layers)
	for l := range layers {
		e.nt[l] = useNT(l, k, b, e.in[l], e.out[l])
	}
	e.inputs = make([]*tensors.Tensor, len(dims))
	e.args = make([]any, len(dims))
	e.bufs = make([][]float32, len(dims))
	e.shared = make([]bool, len(dims))
	for i, d := range dims {
		t, err := tensors.FromShapeForBackend(backend, 0, shapes.Make(dtypes.Float32, d...))
		if err != nil {
			return fmt.Errorf("train: ensemble step input: %w", err)
		}
		e.inputs[i], e.args[i] = t, t
		if t.IsShared() {
			// The view outlives the callback: a shared tensor's flat data
			// is the backend buffer itself, which lives as long as t.
			err = tensors.MutableFlatData(t, func(flat []float32) { e.bufs[i] = flat })
			e.shared[i] = true
		} else {
			e.bufs[i] = make([]float32, t.Size())
		}
		if err != nil {
			return fmt.Errorf("train: ensemble step input: %w", err)
		}
	}
	for l := range e.params {
		copy(e.bufs[e.paramInput(l)], e.params[l])
		e.params[l] = e.bufs[e.paramInput(l)]
	}
	exec, err := model.NewExec(backend, model.NewStore(), func(_ *model.Scope, in []*Node) []*Node {
		return e.gradientGraph(in)
	})
	if err != nil {
		return fmt.Errorf("train: building ensemble step: %w", err)
	}
	e.exec = exec
	return nil
}

// paramInput is the position of layer l's parameters in the step's inputs.
func (e *ensembleExec) paramInput(l int) int { return inDrops + len(e.in) - 1 + l }

// weightsIOInput is the position of layer l's (≥ 1) weights as [K, in, out].
func (e *ensembleExec) weightsIOInput(l int) int { return inDrops + 2*len(e.in) - 2 + l }

// syncInput copies the host view of input i into its tensor, unless the
// two share their memory.
func (e *ensembleExec) syncInput(i int) error {
	if e.shared[i] {
		return nil
	}
	return tensors.MutableFlatData(e.inputs[i], func(flat []float32) { copy(flat, e.bufs[i]) })
}

// forMembers runs fn on consecutive ranges of members, in parallel on the
// available cores when the ensemble is large enough for it to pay.
func (e *ensembleExec) forMembers(fn func(lo, hi int)) {
	workers := min(e.k/4, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		fn(0, e.k)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(w*e.k/workers, (w+1)*e.k/workers) })
	}
	wg.Wait()
}

// toInternal writes one member's layer l from mlp's layout (weights [in,
// out], bias [out]) into the ensemble's ([out, in+1], the bias last); a nil
// weights or bias leaves that part of dst as it is.
func (e *ensembleExec) toInternal(dst []float32, l int, weights, bias []float32) {
	in, out := e.in[l], e.out[l]
	for o := range out {
		row := dst[o*(in+1) : (o+1)*(in+1)]
		if weights != nil {
			for i := range in {
				row[i] = weights[i*out+o]
			}
		}
		if bias != nil {
			row[in] = bias[o]
		}
	}
}

// fromInternal is toInternal's inverse.
func (e *ensembleExec) fromInternal(src []float32, l int) (weights, bias []float32) {
	in, out := e.in[l], e.out[l]
	weights, bias = make([]float32, in*out), make([]float32, out)
	for o := range out {
		row := src[o*(in+1) : (o+1)*(in+1)]
		for i := range in {
			weights[i*out+o] = row[i]
		}
		bias[o] = row[in]
	}
	return weights, bias
}

// forwardAug is the forward pass in the transposed layout: hT is the input
// [K, in+1, batch] with its last row all ones; params are the layers'
// [K, out, in+1]; drops, in training graphs, the hidden layers' dropout masks
// [K, width, batch] (0, or 1/(1 − rate) for a kept unit). It returns the
// logits [K, classes, batch], each layer's (ones-extended) input and, in
// training graphs, each hidden layer's ReLU-dropout mask.
func forwardAug(hT *Node, params, drops []*Node) (logitsT *Node, inputs, masks []*Node) {
	g := hT.Graph()
	for l, w := range params {
		inputs = append(inputs, hT)
		zT := DotGeneral(w, []int{2}, []int{0}, hT, []int{1}, []int{0})
		if l == len(params)-1 {
			return zT, inputs, masks
		}
		zero := ScalarZero(g, zT.DType())
		if drops != nil {
			// ReLU then dropout, h = max(z·d, 0) (d ≥ 0), and its
			// derivative d·[z > 0] = min(h·2¹²⁷, d): any normal positive h
			// times 2¹²⁷ is at least 2 > d (or +Inf), and 0 stays 0. Only
			// a subnormal h (below 2⁻¹²⁶) would get less than d. The
			// backend's comparison, select and sign kernels branch on every
			// element and cost twice as much on these random signs.
			hT = Max(Mul(zT, drops[l]), zero)
			masks = append(masks, Min(Mul(hT, Scalar(g, hT.DType(), math.Ldexp(1, 127))), drops[l]))
		} else {
			hT = Max(zT, zero)
		}
		dims := zT.Shape().Dimensions
		hT = Concatenate([]*Node{hT, Ones(g, shapes.Make(zT.DType(), dims[0], 1, dims[2]))}, 1)
	}
	panic("unreachable")
}

// gradientGraph is one step's forward and backward pass for all members. Its
// inputs: xT [K, in+1, batch] and x [K, batch, in+1] (the rows, ones-extended,
// in both layouts); yT, the one-hot labels [K, classes, batch]; wN, the rows'
// weights divided by the sum of their magnitudes per member, [K, batch] (all
// 0 for a member that sits out); the hidden layers' dropout masks; the
// layers' parameters [K, out, in+1]; then the weights of layers ≥ 1 again as
// [K, in, out] (no bias) for the backward products. It returns each member's
// weighted mean loss ([K]) followed by the gradient of each layer, laid out
// as the parameters.
func (e *ensembleExec) gradientGraph(in []*Node) []*Node {
	layers := len(e.in)
	xT, x, yT, wN := in[0], in[1], in[2], in[3]
	in = in[4:]
	drops, params, weightsIO := in[:layers-1], in[layers-1:2*layers-1], in[2*layers-1:]
	logitsT, inputs, masks := forwardAug(xT, params, drops)
	logp := LogSoftmax(logitsT, 1)
	wRow := InsertAxes(wN, 1) // [K, 1, batch]
	losses := Neg(ReduceSum(Mul(Mul(yT, logp), wRow), 1, 2))
	// ∂loss/∂logits of a softmax cross-entropy: (p − onehot) times the row weight.
	deltaT := Mul(Sub(Exp(logp), yT), wRow)
	grads := make([]*Node, layers)
	for l := layers - 1; l >= 0; l-- {
		switch {
		case l == 0:
			grads[l] = DotGeneral(deltaT, []int{2}, []int{0}, x, []int{1}, []int{0})
		case e.nt[l]:
			grads[l] = DotGeneral(deltaT, []int{2}, []int{0}, inputs[l], []int{2}, []int{0})
		default:
			grads[l] = DotGeneral(deltaT, []int{2}, []int{0}, Transpose(inputs[l], 1, 2), []int{1}, []int{0})
		}
		if l > 0 {
			deltaT = Mul(DotGeneral(weightsIO[l-1], []int{2}, []int{0}, deltaT, []int{1}, []int{0}), masks[l-1]) // [K, in, batch]
		}
	}
	return append([]*Node{losses}, grads...)
}

// step runs one step on the rows idx ([K, batch]) with weights w: gradients
// in the graph, then Adam on the host for the members with active[m],
// followed by their masks. Only active members draw dropout masks.
func (e *ensembleExec) step(idx []int32, w []float32, active []bool) ([]float32, error) {
	b, f, c, layers := e.b, e.arch.Inputs, e.arch.Classes, len(e.in)
	xT, x, yT, wN := e.bufs[inXT], e.bufs[inX], e.bufs[inYT], e.bufs[inWN]
	e.forMembers(func(lo, hi int) {
		for m := lo; m < hi; m++ {
			xT := xT[m*(f+1)*b : (m+1)*(f+1)*b]
			for i := range b {
				row := int(idx[m*b+i])
				src := e.d.X[row*f : (row+1)*f]
				for j, v := range src {
					xT[j*b+i] = v
				}
				xT[f*b+i] = 1
				r := m*b + i
				copy(x[r*(f+1):], src)
				x[r*(f+1)+f] = 1
			}
			yT := yT[m*c*b : (m+1)*c*b]
			clear(yT)
			for i := range b {
				yT[int(e.d.Y[idx[m*b+i]])*b+i] = 1
			}
			var sum float32
			for _, v := range w[m*b : (m+1)*b] {
				sum += float32(math.Abs(float64(v)))
			}
			if sum == 0 {
				sum = 1
			}
			for i := m * b; i < (m+1)*b; i++ {
				wN[i] = w[i] / sum
			}
			for l := range layers - 1 {
				size := e.out[l] * b
				e.drawDropout(e.bufs[inDrops+l][m*size:(m+1)*size], m, active[m])
			}
			for l := 1; l < layers; l++ {
				in, out, size := e.in[l], e.out[l], e.layerSize(l)
				src, dst := e.params[l][m*size:(m+1)*size], e.bufs[e.weightsIOInput(l)][m*in*out:(m+1)*in*out]
				for o := range out {
					for i, v := range src[o*(in+1) : o*(in+1)+in] {
						dst[i*out+o] = v
					}
				}
			}
		}
	})
	for i := range e.inputs {
		if err := e.syncInput(i); err != nil {
			return nil, err
		}
	}
	out, err := e.exec.Call(e.args...)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, t := range out {
			_ = t.FinalizeAll()
		}
	}()
	losses := tensors.MustCopyFlatData[float32](out[0])
	for m, on := range active {
		if on {
			e.steps[m]++
		}
	}
	for l := range e.params {
		size := e.layerSize(l)
		err := tensors.ConstFlatData(out[1+l], func(grad []float32) {
			e.forMembers(func(lo, hi int) {
				for m := lo; m < hi; m++ {
					if !active[m] {
						continue
					}
					var mask []float32
					if e.masks[l] != nil {
						mask = e.masks[l][m*size : (m+1)*size]
					}
					p := func(v []float32) []float32 { return v[m*size : (m+1)*size] }
					e.adam(m, p(e.params[l]), p(e.m1[l]), p(e.m2[l]), p(grad), mask)
				}
			})
		})
		if err != nil {
			return nil, err
		}
	}
	return losses, nil
}

// drawDropout fills one member's dropout mask of one hidden layer: each unit
// is kept, with value 1/(1 − rate), when a 32-bit draw of the member's stream
// is at least rate·2³², and is 0 otherwise. A member that sits out the step
// draws nothing (its mask is irrelevant: its rows have weight 0).
func (e *ensembleExec) drawDropout(dst []float32, m int, active bool) {
	rate := e.arch.Dropout
	if rate == 0 || !active {
		for i := range dst {
			dst[i] = 1
		}
		return
	}
	threshold := int64(math.Ceil(rate * (1 << 32)))
	scale := float32(1 / (1 - rate))
	rng := e.drop[m]
	// keep is 1 when bits ≥ threshold and 0 otherwise, without a branch
	// (the draws are random, so a branch would be mispredicted often).
	keep := func(bits uint64) float32 { return float32(1+((int64(bits)-threshold)>>63)) * scale }
	i := 0
	for ; i+1 < len(dst); i += 2 {
		u := rng.Uint64()
		dst[i], dst[i+1] = keep(u&0xffffffff), keep(u>>32)
	}
	if i < len(dst) {
		dst[i] = keep(rng.Uint64() & 0xffffffff)
	}
}

// adam applies one Adam update of member m to one parameter tensor
// ([adamUpdate]), then its mask: w ∘= mask.
func (e *ensembleExec) adam(m int, w, m1, m2, grad, mask []float32) {
	t := float64(e.steps[m])
	const b1, b2 = float32(adamBeta1), float32(adamBeta2)
	adamUpdate(w, m1, m2, grad, adamConsts{b1: b1, b2: b2,
		debias1: 1 / (1 - float32(math.Pow(float64(b1), t))),
		debias2: 1 / (1 - float32(math.Pow(float64(b2), t))),
		lr:      float32(e.lr[m]), eps: float32(e.eps)})
	for j, keep := range mask {
		w[j] *= keep
	}
}

// readParams copies every member's parameters, in mlp's layout and order.
func (e *ensembleExec) readParams() [][]mlp.Tensor {
	out := make([][]mlp.Tensor, e.k)
	for l := range e.in {
		size := e.layerSize(l)
		for m := range out {
			weights, bias := e.fromInternal(e.params[l][m*size:(m+1)*size], l)
			out[m] = append(out[m],
				mlp.Tensor{Name: mlp.WeightsPath(l), Shape: []int{e.in[l], e.out[l]}, Values: weights},
				mlp.Tensor{Name: mlp.BiasesPath(l), Shape: []int{e.out[l]}, Values: bias})
		}
	}
	return out
}

// subset returns a new ensemble of the members in the given slots, with
// their parameters, Adam state, masks and random streams.
func (e *ensembleExec) subset(backend compute.Backend, slots []int) (*ensembleExec, error) {
	n := &ensembleExec{arch: e.arch, k: len(slots), b: e.b, d: e.d, eps: e.eps, in: e.in, out: e.out}
	pick := func(all []float32) []float32 {
		if all == nil {
			return nil
		}
		size := len(all) / e.k
		out := make([]float32, 0, len(slots)*size)
		for _, s := range slots {
			out = append(out, all[s*size:(s+1)*size]...)
		}
		return out
	}
	for l := range e.params {
		n.params = append(n.params, pick(e.params[l]))
		n.m1 = append(n.m1, pick(e.m1[l]))
		n.m2 = append(n.m2, pick(e.m2[l]))
		n.masks = append(n.masks, pick(e.masks[l]))
	}
	for _, s := range slots {
		n.steps = append(n.steps, e.steps[s])
		n.lr = append(n.lr, e.lr[s])
		n.drop = append(n.drop, e.drop[s])
	}
	if err := n.compile(backend); err != nil {
		return nil, err
	}
	return n, nil
}

// paramInputs returns the current parameters as graph inputs, e.g. for
// [ensembleEval.meanLoss].
func (e *ensembleExec) paramInputs() ([]any, error) {
	args := make([]any, len(e.params))
	for l := range e.params {
		i := e.paramInput(l)
		if err := e.syncInput(i); err != nil {
			return nil, err
		}
		args[l] = e.inputs[i]
	}
	return args, nil
}

func (e *ensembleExec) finalize() {
	e.exec.Finalize()
	for _, t := range e.inputs {
		_ = t.FinalizeAll()
	}
}

// ensembleEval computes each member's mean loss on shared rows (dropout off),
// in chunks of a fixed size so that one compiled graph serves them all and
// memory stays bounded for large ensembles. The rows' chunks (transposed,
// ones-extended, padded with rows of weight 0) are built once and kept as
// graph inputs: validation runs every epoch on the same rows.
type ensembleEval struct {
	exec   *model.Exec
	chunks [][]*tensors.Tensor // per chunk: xT [in+1, chunk], yT [classes, chunk], w [chunk]
	rows   int
}

func newEnsembleEval(backend compute.Backend, arch mlp.Arch, k int, d Data) *ensembleEval {
	exec := model.MustNewExec(backend, model.NewStore(), func(_ *model.Scope, in []*Node) *Node {
		xT, yT, w, params := in[0], in[1], in[2], in[3:] // [in+1, chunk], [classes, chunk], [chunk]
		// The first layer as one product over all members: [K, out, in+1]
		// by [in+1, chunk], no batch axis, gives [K, out, chunk].
		first := DotGeneral(params[0], []int{2}, nil, xT, []int{0}, nil)
		var logitsT *Node
		if len(params) == 1 {
			logitsT = first
		} else {
			g := xT.Graph()
			h := Max(first, ScalarZero(g, first.DType()))
			dims := h.Shape().Dimensions
			h = Concatenate([]*Node{h, Ones(g, shapes.Make(h.DType(), dims[0], 1, dims[2]))}, 1)
			logitsT, _, _ = forwardAug(h, params[1:], nil)
		}
		perRow := Neg(ReduceSum(Mul(InsertAxes(yT, 0), LogSoftmax(logitsT, 1)), 1)) // [K, chunk]
		return ReduceSum(Mul(perRow, InsertAxes(w, 0)), -1)                         // [K] loss sums
	})
	// ~8 M activations of the widest layer per chunk, at most 4,096 rows.
	c, f := min(d.Rows(), 4096, max(256, (8<<20)/(k*widest(arch)))), d.Features
	v := &ensembleEval{exec: exec, rows: d.Rows()}
	for lo := 0; lo < d.Rows(); lo += c {
		xT, yT, w := make([]float32, (f+1)*c), make([]float32, arch.Classes*c), make([]float32, c)
		for i := range min(c, d.Rows()-lo) {
			for j, x := range d.X[(lo+i)*f : (lo+i+1)*f] {
				xT[j*c+i] = x
			}
			xT[f*c+i] = 1
			yT[int(d.Y[lo+i])*c+i] = 1
			w[i] = 1
		}
		v.chunks = append(v.chunks, []*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(xT, f+1, c),
			tensors.FromFlatDataAndDimensions(yT, arch.Classes, c),
			tensors.FromFlatDataAndDimensions(w, c)})
	}
	return v
}

func widest(a mlp.Arch) int {
	w := a.Classes
	for _, h := range a.Hidden {
		w = max(w, h)
	}
	return w
}

// meanLoss returns each member's mean loss on the rows; params are the
// members' parameters as graph inputs ([ensembleExec.paramInputs]).
func (v *ensembleEval) meanLoss(params []any) ([]float64, error) {
	var sums []float64
	for _, chunk := range v.chunks {
		out, err := v.exec.Call(append([]any{chunk[0], chunk[1], chunk[2]}, params...)...)
		if err != nil {
			return nil, fmt.Errorf("train: ensemble validation: %w", err)
		}
		part := tensors.MustCopyFlatData[float32](out[0])
		_ = out[0].FinalizeAll()
		if sums == nil {
			sums = make([]float64, len(part))
		}
		for m, s := range part {
			sums[m] += float64(s)
		}
	}
	for m := range sums {
		sums[m] /= float64(v.rows)
	}
	return sums, nil
}

func (v *ensembleEval) finalize() {
	v.exec.Finalize()
	for _, chunk := range v.chunks {
		for _, t := range chunk {
			_ = t.FinalizeAll()
		}
	}
}
