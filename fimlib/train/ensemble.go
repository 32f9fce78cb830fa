package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/gomlx/compute"
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
	// Seed fixes the member's shuffling order.
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
// step of one model is mostly per-operation overhead; ensembles amortise it.
//
// Each member follows cfg (learning rate, batch size, epochs, patience) on
// its own: its own initialisation, shuffling order, row weights, mask, Adam
// state and early stopping, with the best weights restored. A member whose
// epoch has fewer batches than another's (it sees fewer rows) sits out the
// remaining steps of that epoch, and a member that stopped early sits out the
// rest of the run: its weights and Adam state do not change while it sits
// out, exactly as if it were trained alone. Only the dropout stream is
// shared: one stream seeded by dropoutSeed draws every member's masks, so a
// member's dropout draws depend on its position in the ensemble (one seed and
// one ensemble still give one result). An ensemble of one member, with
// dropoutSeed equal to the store seed of [Fit], reproduces Fit up to float
// rounding.
//
// cfg.Seed and cfg.Mask are ignored (members carry their own); cfg.Name and
// cfg.Progress label and report the ensemble as a whole, with the mean
// training and validation losses of the members still training.
func FitEnsemble(ctx context.Context, backend compute.Backend, arch mlp.Arch, trainData Data, val *Data, cfg Config, dropoutSeed int64, members []Member) ([]MemberResult, error) {
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

	e, err := newEnsembleExec(backend, arch, trainData, cfg, dropoutSeed, members)
	if err != nil {
		return nil, err
	}
	defer func() { e.finalize() }()
	var eval *ensembleEval
	if val != nil {
		eval = newEnsembleEval(backend, e.store, arch, k, val.Rows())
		defer func() { eval.finalize() }()
	}

	rngs := make([]*rand.Rand, k)
	stepsOf := make([]int, k)
	for m := range members {
		rngs[m] = rand.New(rand.NewPCG(members[m].Seed, 0x5eed))
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
			if vls, err = eval.meanLoss(*val, e.paramTensors()); err != nil {
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
			next, err := e.subset(backend, live, dropoutSeed+int64(epoch))
			if err != nil {
				return nil, err
			}
			e.finalize()
			e = next
			if eval != nil {
				eval.finalize()
				eval = newEnsembleEval(backend, e.store, arch, len(live), val.Rows())
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

// ensembleExec is the compiled forward and backward pass of all members plus
// their optimiser state, built for the go backend's strengths, measured with
// pprof on 2026-11-26 (K = 16, batch 64):
//
//   - Activations run transposed, [K, width, batch], and weights are kept as
//     [K, out, in] (PyTorch's layout). Every product of the forward and
//     backward pass then has its contracting axis where the backend's matmul
//     kernels want it; with gomlx's autodiff through [K, batch, width]
//     activations, the weight gradients needed transposes of the activations,
//     and the generic transpose took 28 % of a step.
//   - The backward pass is written out (an MLP's is three lines per layer)
//     rather than derived, which also drops autodiff's bookkeeping nodes.
//   - Adam runs on the host in one fused pass per parameter tensor: in the
//     graph it is about fifteen element-wise passes per tensor through the
//     backend's generic kernels, plus three Where passes to freeze members
//     that sit out a step; the host loop skips those members instead.
//   - The host gathers each step's rows already transposed.
type ensembleExec struct {
	store  *model.Store // the dropout stream
	exec   *model.Exec
	arch   mlp.Arch
	k, b   int
	d      Data
	names  []string    // parameter paths in Init order
	shape  [][]int     // one member's shape of each parameter, as mlp stores it
	params [][]float32 // per parameter tensor, K members back to back; weights as [out, in]
	m1, m2 [][]float32 // Adam's moments, laid out as params
	masks  [][]float32 // laid out as params; nil when no member masks the tensor
	steps  []int       // Adam steps taken per member
	lr     []float64   // learning rate per member
	eps    float64

	xT, yT, wN []float32 // the step's inputs, reused
}

// transposeInto writes the [rows, cols] matrix src transposed into dst.
func transposeInto(dst, src []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			dst[c*rows+r] = src[r*cols+c]
		}
	}
}

func newEnsembleExec(backend compute.Backend, arch mlp.Arch, d Data, cfg Config, dropoutSeed int64, members []Member) (*ensembleExec, error) {
	k := len(members)
	ref := arch.Init(0) // names and shapes
	e := &ensembleExec{store: model.NewStore(), arch: arch, k: k, b: cfg.BatchSize, d: d, eps: cfg.AdamEpsilon,
		steps: make([]int, k), lr: make([]float64, k)}
	e.store.SetParam(model.ParamInitialSeed, dropoutSeed)
	for m, mem := range members {
		e.lr[m] = cfg.LearningRate
		if mem.LearningRate > 0 {
			e.lr[m] = mem.LearningRate
		}
		for _, t := range mem.Mask {
			if !hasName(ref, t.Name) {
				return nil, fmt.Errorf("train: member %q: mask names unknown parameter %q", mem.Name, t.Name)
			}
		}
	}
	for pi, p := range ref {
		e.names = append(e.names, p.Name)
		e.shape = append(e.shape, p.Shape)
		size := len(p.Values)
		stacked := make([]float32, k*size)
		var mask []float32
		for m, mem := range members {
			if len(mem.Init) != len(ref) || mem.Init[pi].Name != p.Name || len(mem.Init[pi].Values) != size {
				return nil, fmt.Errorf("train: member %q: initial parameters do not match the architecture (want %q with %d values)", mem.Name, p.Name, size)
			}
			e.toInternal(stacked[m*size:(m+1)*size], mem.Init[pi].Values, pi)
			for _, t := range mem.Mask {
				if t.Name != p.Name {
					continue
				}
				if len(t.Values) != size {
					return nil, fmt.Errorf("train: member %q: mask for %q has %d values, parameter has %d", mem.Name, p.Name, len(t.Values), size)
				}
				if mask == nil {
					mask = make([]float32, k*size)
					for i := range mask {
						mask[i] = 1
					}
				}
				e.toInternal(mask[m*size:(m+1)*size], t.Values, pi)
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

// compile allocates the step buffers and builds the step's graph.
func (e *ensembleExec) compile(backend compute.Backend) error {
	e.xT = make([]float32, e.k*e.arch.Inputs*e.b)
	e.yT = make([]float32, e.k*e.arch.Classes*e.b)
	e.wN = make([]float32, e.k*e.b)
	exec, err := model.NewExec(backend, e.store, func(_ *model.Scope, in []*Node) []*Node {
		return e.gradientGraph(in[0], in[1], in[2], in[3:])
	})
	if err != nil {
		return fmt.Errorf("train: building ensemble step: %w", err)
	}
	e.exec = exec
	return nil
}

// toInternal copies one member's parameter pi from mlp's layout into the
// ensemble's (weights transposed to [out, in]); fromInternal undoes it.
func (e *ensembleExec) toInternal(dst, src []float32, pi int) {
	if sh := e.shape[pi]; len(sh) == 2 {
		transposeInto(dst, src, sh[0], sh[1])
		return
	}
	copy(dst, src)
}

func (e *ensembleExec) fromInternal(dst, src []float32, pi int) {
	if sh := e.shape[pi]; len(sh) == 2 {
		transposeInto(dst, src, sh[1], sh[0])
		return
	}
	copy(dst, src)
}

// internalDims is the graph shape of parameter pi for all members.
func (e *ensembleExec) internalDims(pi int) []int {
	if sh := e.shape[pi]; len(sh) == 2 {
		return []int{e.k, sh[1], sh[0]}
	}
	return append([]int{e.k}, e.shape[pi]...)
}

func hasName(ts []mlp.Tensor, name string) bool {
	for _, t := range ts {
		if t.Name == name {
			return true
		}
	}
	return false
}

// forwardT is the forward pass in the transposed layout: hT is [K, in,
// batch], params are in Init order with weights [K, out, in]. It returns the
// logits [K, classes, batch], each layer's input and each hidden layer's
// ReLU-dropout mask.
func forwardT(store *model.Store, arch mlp.Arch, hT *Node, params []*Node) (logitsT *Node, inputs, masks []*Node) {
	for l := 0; l < arch.Layers(); l++ {
		inputs = append(inputs, hT)
		wT, b := params[2*l], params[2*l+1]
		zT := Add(DotGeneral(wT, []int{2}, []int{0}, hT, []int{1}, []int{0}), InsertAxes(b, -1))
		if l == arch.Layers()-1 {
			return zT, inputs, masks
		}
		mask := mlp.ReLUDropoutMask(store, zT, arch.Dropout)
		masks = append(masks, mask)
		hT = Mul(zT, mask)
	}
	panic("unreachable")
}

// gradientGraph is one step's forward and backward pass for all members. xT
// is [K, in, batch]; yT the one-hot labels [K, classes, batch]; wN the rows'
// weights divided by the sum of their magnitudes per member, [K, batch] (all 0 for a member
// that sits out); params are the weights [K, out, in] and biases [K, out],
// then the weights of layers ≥ 1 again as [K, in, out] for the backward
// products. It returns each member's weighted mean loss ([K]) followed by
// the gradient of each parameter, laid out as the parameter.
func (e *ensembleExec) gradientGraph(xT, yT, wN *Node, in []*Node) []*Node {
	g := xT.Graph()
	e.store.SetTraining(g, true)
	layers := e.arch.Layers()
	params, weightsIO := in[:2*layers], in[2*layers:]
	logitsT, inputs, masks := forwardT(e.store, e.arch, xT, params)
	logp := LogSoftmax(logitsT, 1)
	wRow := InsertAxes(wN, 1) // [K, 1, batch]
	losses := Neg(ReduceSum(Mul(Mul(yT, logp), wRow), 1, 2))
	// ∂loss/∂logits of a softmax cross-entropy: (p − onehot) times the row weight.
	deltaT := Mul(Sub(Exp(logp), yT), wRow)
	grads := make([]*Node, 2*layers)
	for l := layers - 1; l >= 0; l-- {
		grads[2*l] = DotGeneral(deltaT, []int{2}, []int{0}, inputs[l], []int{2}, []int{0}) // [K, out, in]
		grads[2*l+1] = ReduceSum(deltaT, 2)
		if l > 0 {
			deltaT = Mul(DotGeneral(weightsIO[l-1], []int{2}, []int{0}, deltaT, []int{1}, []int{0}), masks[l-1]) // [K, in, batch]
		}
	}
	return append([]*Node{losses}, grads...)
}

// step runs one step on the rows idx ([K, batch]) with weights w: gradients
// in the graph, then Adam on the host for the members with active[m],
// followed by their masks.
func (e *ensembleExec) step(idx []int32, w []float32, active []bool) ([]float32, error) {
	k, b, f, c := e.k, e.b, e.arch.Inputs, e.arch.Classes
	clear(e.yT)
	for m := 0; m < k; m++ {
		var sum float32
		for i := 0; i < b; i++ {
			sum += float32(math.Abs(float64(w[m*b+i])))
		}
		if sum == 0 {
			sum = 1
		}
		xT := e.xT[m*f*b : (m+1)*f*b]
		for i := 0; i < b; i++ {
			row := int(idx[m*b+i])
			for j, v := range e.d.X[row*f : (row+1)*f] {
				xT[j*b+i] = v
			}
			e.yT[m*c*b+int(e.d.Y[row])*b+i] = 1
			e.wN[m*b+i] = w[m*b+i] / sum
		}
	}
	layers := e.arch.Layers()
	args := make([]any, 0, 3+2*layers+layers-1)
	args = append(args,
		tensors.FromFlatDataAndDimensions(append([]float32(nil), e.xT...), k, f, b),
		tensors.FromFlatDataAndDimensions(append([]float32(nil), e.yT...), k, c, b),
		tensors.FromFlatDataAndDimensions(append([]float32(nil), e.wN...), k, b))
	args = append(args, e.paramTensors()...)
	for l := 1; l < layers; l++ {
		pi := 2 * l
		size := len(e.params[pi]) / k
		io := make([]float32, len(e.params[pi]))
		for m := 0; m < k; m++ {
			e.fromInternal(io[m*size:(m+1)*size], e.params[pi][m*size:(m+1)*size], pi)
		}
		args = append(args, tensors.FromFlatDataAndDimensions(io, append([]int{k}, e.shape[pi]...)...))
	}
	out, err := e.exec.Call(args...)
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
	var wg sync.WaitGroup
	for i := range e.params {
		grad := tensors.MustCopyFlatData[float32](out[1+i])
		size := len(grad) / k
		for m, on := range active {
			if !on {
				continue
			}
			lo, hi := m*size, (m+1)*size
			var mask []float32
			if e.masks[i] != nil {
				mask = e.masks[i][lo:hi]
			}
			wg.Go(func() {
				e.adam(m, e.params[i][lo:hi], e.m1[i][lo:hi], e.m2[i][lo:hi], grad[lo:hi], mask)
			})
		}
	}
	wg.Wait()
	return losses, nil
}

// adam applies one Adam update of member m to one parameter tensor, with the
// formula of gomlx's optimizer.Adam (and PyTorch's):
// w −= lr · (m₁/(1−β₁ᵗ)) / (√(m₂/(1−β₂ᵗ)) + ε), then w ∘= mask.
func (e *ensembleExec) adam(m int, w, m1, m2, grad, mask []float32) {
	// In float32 throughout, as gomlx computes it in the graph.
	const b1, b2 = float32(adamBeta1), float32(adamBeta2)
	t := float64(e.steps[m])
	debias1 := 1 / (1 - float32(math.Pow(float64(b1), t)))
	debias2 := 1 / (1 - float32(math.Pow(float64(b2), t)))
	lr, eps := float32(e.lr[m]), float32(e.eps)
	for j, g := range grad {
		a := b1*m1[j] + (1-b1)*g
		v := b2*m2[j] + (1-b2)*g*g
		m1[j], m2[j] = a, v
		w[j] -= lr * (a * debias1) / (float32(math.Sqrt(float64(v*debias2))) + eps)
	}
	for j, keep := range mask {
		w[j] *= keep
	}
}

// readParams copies every member's parameters, in mlp's layout.
func (e *ensembleExec) readParams() [][]mlp.Tensor {
	out := make([][]mlp.Tensor, e.k)
	for i, name := range e.names {
		size := len(e.params[i]) / e.k
		for m := range out {
			v := make([]float32, size)
			e.fromInternal(v, e.params[i][m*size:(m+1)*size], i)
			out[m] = append(out[m], mlp.Tensor{Name: name, Shape: append([]int(nil), e.shape[i]...), Values: v})
		}
	}
	return out
}

// subset returns a new ensemble of the members in the given slots, with
// their parameters, Adam state and masks; its dropout stream starts afresh
// from dropoutSeed.
func (e *ensembleExec) subset(backend compute.Backend, slots []int, dropoutSeed int64) (*ensembleExec, error) {
	n := &ensembleExec{store: model.NewStore(), arch: e.arch, k: len(slots), b: e.b, d: e.d, eps: e.eps,
		names: e.names, shape: e.shape}
	n.store.SetParam(model.ParamInitialSeed, dropoutSeed)
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
	for i := range e.params {
		n.params = append(n.params, pick(e.params[i]))
		n.m1 = append(n.m1, pick(e.m1[i]))
		n.m2 = append(n.m2, pick(e.m2[i]))
		n.masks = append(n.masks, pick(e.masks[i]))
	}
	for _, s := range slots {
		n.steps = append(n.steps, e.steps[s])
		n.lr = append(n.lr, e.lr[s])
	}
	if err := n.compile(backend); err != nil {
		return nil, err
	}
	return n, nil
}

// paramTensors returns the current parameters as graph inputs.
func (e *ensembleExec) paramTensors() []any {
	args := make([]any, len(e.params))
	for i, p := range e.params {
		args[i] = tensors.FromFlatDataAndDimensions(append([]float32(nil), p...), e.internalDims(i)...)
	}
	return args
}

func (e *ensembleExec) finalize() { e.exec.Finalize() }

// ensembleEval computes each member's mean loss on shared rows (dropout off),
// in chunks of a fixed size so that one compiled graph serves them all and
// memory stays bounded for large ensembles.
type ensembleEval struct {
	exec           *model.Exec
	chunk, classes int
}

func newEnsembleEval(backend compute.Backend, store *model.Store, arch mlp.Arch, k, rows int) *ensembleEval {
	exec := model.MustNewExec(backend, store, func(_ *model.Scope, in []*Node) *Node {
		xT, yT, w := in[0], in[1], in[2] // [in, chunk], [classes, chunk], [chunk]
		xT = BroadcastToDims(InsertAxes(xT, 0), append([]int{k}, xT.Shape().Dimensions...)...)
		logitsT, _, _ := forwardT(store, arch, xT, in[3:])
		perRow := Neg(ReduceSum(Mul(InsertAxes(yT, 0), LogSoftmax(logitsT, 1)), 1)) // [K, chunk]
		return ReduceSum(Mul(perRow, InsertAxes(w, 0)), -1)                         // [K] loss sums
	})
	// ~8 M activations of the widest layer per chunk, at most 4,096 rows.
	chunk := min(rows, 4096, max(256, (8<<20)/(k*widest(arch))))
	return &ensembleEval{exec: exec, chunk: chunk, classes: arch.Classes}
}

func widest(a mlp.Arch) int {
	w := a.Classes
	for _, h := range a.Hidden {
		w = max(w, h)
	}
	return w
}

// meanLoss returns each member's mean loss on d; params are the members'
// parameters as graph inputs ([ensembleExec.paramTensors]).
func (v *ensembleEval) meanLoss(d Data, params []any) ([]float64, error) {
	var sums []float64
	c, f := v.chunk, d.Features
	xT := make([]float32, f*c)
	yT := make([]float32, v.classes*c)
	w := make([]float32, c)
	for lo := 0; lo < d.Rows(); lo += c {
		hi := min(lo+c, d.Rows())
		clear(xT)
		clear(yT)
		clear(w)
		for i := range hi - lo {
			for j, x := range d.X[(lo+i)*f : (lo+i+1)*f] {
				xT[j*c+i] = x
			}
			yT[int(d.Y[lo+i])*c+i] = 1
			w[i] = 1
		}
		out, err := v.exec.Call(append([]any{
			tensors.FromFlatDataAndDimensions(append([]float32(nil), xT...), f, c),
			tensors.FromFlatDataAndDimensions(append([]float32(nil), yT...), v.classes, c),
			tensors.FromFlatDataAndDimensions(append([]float32(nil), w...), c)}, params...)...)
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
		sums[m] /= float64(d.Rows())
	}
	return sums, nil
}

func (v *ensembleEval) finalize() { v.exec.Finalize() }
