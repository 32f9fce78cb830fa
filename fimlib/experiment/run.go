package experiment

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/compute"
)

// File names inside the run directory.
const (
	ResultsFile    = "results.json"
	SummaryFile    = "inference_report_summary.json"
	CheckpointsDir = "checkpoints"
)

// data is the prepared Adult data of one run.
type data struct {
	set                     *adult.Dataset
	splits                  adult.Splits
	train, retained, val    train.Data
	test, deletion, nonMems train.Data
	deletionRows            []int
}

// run holds the state shared by the phases of [Run].
type run struct {
	cfg     Config
	backend compute.Backend
	d       data
	res     *results.Results
	log     func(format string, args ...any)

	progress      *train.Progress // shared by concurrent runs
	mu            sync.Mutex      // guards res, pruned and log output while models train concurrently
	full, retrain trained
	scores        []mlp.Tensor            // Fisher scores of the deletion set under the full model
	pruned        map[string][]mlp.Tensor // fine-tuned parameters by checkpoint name
}

// Run executes the experiment and writes its outputs into cfg.OutDir. It
// returns the results it wrote. ctx is checked between phases and epochs are
// not interrupted.
func Run(ctx context.Context, cfg Config) (*results.Results, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, log: func(string, ...any) {}, pruned: map[string][]mlp.Tensor{}, progress: train.NewProgress(cfg.Log)}
	if cfg.Log != nil {
		r.log = func(format string, args ...any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	r.res = &results.Results{Schema: results.Schema, Config: resultsConfig(cfg), Environment: environment(start)}
	b, err := backend.New()
	if err != nil {
		return nil, err
	}
	defer b.Finalize()
	r.backend = b
	r.res.Environment.Backend = b.Name()
	r.res.Config.Backend = backend.Config()

	phases := []struct {
		name string
		fn   func() error
	}{
		{"load data", r.loadData},
		{"train full and retrain", r.trainModels},
		{"fisher", r.fisher},
		{"prune + fine-tune", r.pruneAll},
		{"write", r.write},
	}
	for _, p := range phases {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stopped before %s: %w", p.name, err)
		}
		r.log("== %s", p.name)
		if err := p.fn(); err != nil {
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
	}
	r.res.Timings.Total = time.Since(start).Seconds()
	// Rewrite with the total time (the phases wrote everything else).
	if err := results.Write(filepath.Join(cfg.OutDir, ResultsFile), r.res); err != nil {
		return nil, err
	}
	return r.res, nil
}

func (r *run) loadData() error {
	t0 := time.Now()
	set, err := adult.Load(r.cfg.DataDir)
	if err != nil {
		return err
	}
	splits, err := adult.Split(set, r.cfg.SplitSeed)
	if err != nil {
		return err
	}
	spec, err := adult.ParseDeletionSpec(r.cfg.Deletion)
	if err != nil {
		return err
	}
	deleted, err := spec.Select(splits.Train, int64(subSeed(r.cfg.Seed, "deletion")))
	if err != nil {
		return err
	}
	retained := adult.Retained(splits.Train, deleted)
	nonMembers, err := mia.SampleNonMembers(splits.Test, r.cfg.NonMembers, subSeed(r.cfg.Seed, "mia/non-members"))
	if err != nil {
		return fmt.Errorf("non-members: %w", err)
	}
	scaler := adult.FitScaler(set, splits.Train)
	rows := func(ids []int) train.Data {
		y := make([]int32, len(ids))
		for i, id := range ids {
			y[i] = set.Y[id]
		}
		return train.Data{X: scaler.Apply(set, ids), Y: y, Features: len(set.Features)}
	}
	r.d = data{
		set: set, splits: splits, deletionRows: deleted,
		train: rows(splits.Train), retained: rows(retained), val: rows(splits.Val),
		test: rows(splits.Test), deletion: rows(deleted), nonMems: rows(nonMembers),
	}
	if got := len(set.Features); got != r.cfg.Arch.Inputs {
		return fmt.Errorf("data has %d features, the model expects %d", got, r.cfg.Arch.Inputs)
	}
	r.res.Dataset = results.Dataset{
		Name: "UCI Adult", Rows: set.Rows(), Features: len(set.Features),
		Train: len(splits.Train), Val: len(splits.Val), Test: len(splits.Test),
		Deletion: len(deleted), Retained: len(retained), SHA256: set.SHA256,
		Scaler:       "standard scaling fit on the training split only",
		DeletionRows: deleted, FeatureNames: set.Features,
	}
	r.res.Timings.LoadData = time.Since(t0).Seconds()
	r.log("%d rows, %d features; train %d, val %d, test %d; deleting %d (%s)",
		set.Rows(), len(set.Features), len(splits.Train), len(splits.Val), len(splits.Test), len(deleted), r.cfg.Deletion)
	return nil
}

// trained is a model with its parameters and evaluation.
type trained struct {
	params []mlp.Tensor
	model  results.Model
}

// trainModels trains the full model on the training split and the retrained
// (gold-standard) model on the retained rows, concurrently when cfg.Parallel > 1.
func (r *run) trainModels() error {
	t0 := time.Now()
	var full, retrain trained
	err := parallel(r.cfg.Parallel,
		func() (err error) { full, err = r.trainFromScratch("full", r.d.train); return err },
		func() (err error) { retrain, err = r.trainFromScratch("retrain", r.d.retained); return err })
	if err != nil {
		return err
	}
	r.full, r.retrain = full, retrain
	r.res.Models.Full, r.res.Models.Retrain = full.model, retrain.model
	r.res.Timings.Train = time.Since(t0).Seconds()
	return nil
}

// parallel runs tasks, at most n at a time, and returns their errors joined.
func parallel(n int, tasks ...func() error) error {
	errs := make([]error, len(tasks))
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for i, task := range tasks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = task()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
