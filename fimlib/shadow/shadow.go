// Package shadow trains the shadow models of a likelihood-ratio membership
// attack (LiRA, Carlini et al., IEEE S&P 2022): K models of one recipe, each
// on a random half of a pool of rows, so that every row has shadows that
// trained on it (IN) and shadows that did not (OUT).
//
// The design is the balanced one of the LiRA code: every row is IN for
// exactly half of the shadows, chosen at random per row, so that each row's
// IN and OUT statistics rest on the same number of models. The shadows train
// together in ensembles ([train.FitEnsemble]), two side by side
// ([DefaultGraphs]), a row's absence being a
// per-example weight of 0.
//
// Entry points: [Inclusion], [Train], [Set.LogProbabilities].
package shadow

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fimprune/fimprune/fimlib/internal/parallel"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/compute"
)

// Config describes a set of shadow models.
type Config struct {
	Models int    // K: even, ≥ 2
	Seed   uint64 // inclusion, initialisation, shuffling and dropout
	Arch   mlp.Arch
	Train  train.Config // each shadow's recipe (the seed's: train.Seed)
	// PerGraph is the most shadows trained in one ensemble graph (0: an
	// equal share of each of the Graphs). Larger ensembles amortise more
	// per-step cost and use more memory.
	PerGraph int
	// Graphs is how many ensemble graphs train side by side (0:
	// [DefaultGraphs]). A shadow's weights do not depend on it, nor on
	// PerGraph, beyond float rounding: each member of an ensemble trains as
	// if alone (to the bit with the backend's AVX-512 kernels, see
	// train.FitEnsemble).
	Graphs int
}

// DefaultGraphs is the number of ensembles that train k shadows side by
// side when Config.Graphs is 0: two when each gets at least 8 shadows (from 8
// members on an ensemble's products reach the backend's packed kernels),
// else one. It does not look at the machine's cores, so that the split, and
// with it the float rounding of a build whose kernels round differently by
// ensemble size, is the same everywhere. On the project's 2-core machine two
// ensembles of 32 took 0.041 s per model-epoch against 0.049 s for one of 64
// (BENCHMARKS.md, "Training speed, change by change").
func DefaultGraphs(k int) int {
	if k >= 16 {
		return 2
	}
	return 1
}

// Validate reports an unusable configuration.
func (c Config) Validate() error {
	if c.Models < 2 || c.Models%2 != 0 {
		return fmt.Errorf("shadow: models %d must be even and at least 2", c.Models)
	}
	if c.PerGraph < 0 {
		return fmt.Errorf("shadow: models per graph %d must not be negative", c.PerGraph)
	}
	if c.Graphs < 0 {
		return fmt.Errorf("shadow: graphs %d must not be negative", c.Graphs)
	}
	if err := c.Arch.Validate(); err != nil {
		return err
	}
	return c.Train.Validate()
}

// Set is a trained set of shadow models.
type Set struct {
	Arch mlp.Arch
	// In[k][i] reports whether shadow k trained on pool row i.
	In      [][]bool
	Params  [][]mlp.Tensor // per shadow
	History []train.History
	Seconds float64 // wall time of Train
}

// Inclusion returns a models × rows matrix in which every row is true for
// exactly models/2 models, drawn at random (fixed by seed) per row.
func Inclusion(models, rows int, seed uint64) [][]bool {
	rng := rand.New(rand.NewPCG(seed, 0x11a))
	in := make([][]bool, models)
	for k := range in {
		in[k] = make([]bool, rows)
	}
	for i := 0; i < rows; i++ {
		for _, k := range rng.Perm(models)[:models/2] {
			in[k][i] = true
		}
	}
	return in
}

// Train trains cfg.Models shadows on random halves of pool (see
// [Inclusion]), using val for early stopping when the recipe asks for it.
// progress, if not nil, reports each ensemble's epochs.
func Train(ctx context.Context, backend compute.Backend, pool train.Data, val *train.Data, cfg Config, progress *train.Progress) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := pool.Check(); err != nil {
		return nil, err
	}
	if pool.Rows() < 2 {
		return nil, errors.New("shadow: the pool needs at least 2 rows")
	}
	return TrainWith(ctx, backend, pool, val, cfg, Inclusion(cfg.Models, pool.Rows(), cfg.Seed), progress)
}

// TrainWith is [Train] with a given inclusion matrix: in[k][i] says whether
// shadow k trains on pool row i. Every shadow needs at least one row.
func TrainWith(ctx context.Context, backend compute.Backend, pool train.Data, val *train.Data, cfg Config, in [][]bool, progress *train.Progress) (*Set, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(in) != cfg.Models {
		return nil, fmt.Errorf("shadow: inclusion has %d rows for %d models", len(in), cfg.Models)
	}
	for k := range in {
		if len(in[k]) != pool.Rows() {
			return nil, fmt.Errorf("shadow: inclusion row %d has %d entries for %d pool rows", k, len(in[k]), pool.Rows())
		}
	}
	set := &Set{Arch: cfg.Arch, In: in, Params: make([][]mlp.Tensor, cfg.Models), History: make([]train.History, cfg.Models)}
	graphs := cfg.Graphs
	if graphs == 0 {
		graphs = DefaultGraphs(cfg.Models)
	}
	graphs = min(graphs, cfg.Models)
	per := cfg.PerGraph
	if per == 0 {
		per = (cfg.Models + graphs - 1) / graphs
	}
	var tasks []func(context.Context) error
	for lo := 0; lo < cfg.Models; lo += per {
		hi := min(lo+per, cfg.Models)
		tasks = append(tasks, func(ctx context.Context) error {
			return trainChunk(ctx, backend, pool, val, cfg, set, lo, hi, progress)
		})
	}
	if err := parallel.Run(ctx, graphs, tasks...); err != nil {
		return nil, err
	}
	set.Seconds = time.Since(start).Seconds()
	return set, nil
}

// trainChunk trains shadows lo…hi−1 as one ensemble and stores their
// weights and histories in set (each index is written by one chunk only).
func trainChunk(ctx context.Context, backend compute.Backend, pool train.Data, val *train.Data, cfg Config, set *Set, lo, hi int, progress *train.Progress) error {
	members := make([]train.Member, 0, hi-lo)
	for k := lo; k < hi; k++ {
		w := make([]float32, pool.Rows())
		for i, in := range set.In[k] {
			if in {
				w[i] = 1
			}
		}
		seed := cfg.Seed ^ (uint64(k+1) * 0x9e3779b97f4a7c15)
		members = append(members, train.Member{Name: fmt.Sprintf("shadow-%d", k), Init: cfg.Arch.Init(seed), Seed: seed, RowWeights: w})
	}
	tc := cfg.Train
	tc.Name = fmt.Sprintf("shadows %d–%d of %d", lo+1, hi, cfg.Models)
	tc.Progress = progress
	res, err := train.FitEnsemble(ctx, backend, cfg.Arch, pool, val, tc, members)
	if err != nil {
		return fmt.Errorf("shadow: %w", err)
	}
	for i, r := range res {
		set.Params[lo+i], set.History[lo+i] = r.Params, r.History
	}
	return nil
}

// LogProbabilities returns, per shadow, the row-major [rows, classes] class
// log-probabilities of d (dropout off).
func (s *Set) LogProbabilities(backend compute.Backend, d train.Data) ([][]float32, error) {
	out := make([][]float32, len(s.Params))
	for k, params := range s.Params {
		store, err := mlp.NewStore(params, 0)
		if err != nil {
			return nil, err
		}
		ev := train.NewEvaluator(backend, store, s.Arch)
		out[k], err = ev.LogProbabilities(d)
		ev.Finalize()
		store.Finalize()
		if err != nil {
			return nil, fmt.Errorf("shadow %d: %w", k, err)
		}
	}
	return out, nil
}
