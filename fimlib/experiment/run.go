package experiment

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
	"github.com/fimprune/fimprune/fimlib/internal/parallel"
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

// Data is the prepared Adult data of one run: the cleaned dataset, its split,
// the rows to forget, and scaled matrices for every role. Scaling is fit on
// the training split only.
type Data struct {
	Set    *adult.Dataset
	Splits adult.Splits
	// DeletionRows, RetainedRows and NonMemberRows are row ids of the cleaned
	// dataset: the rows forgotten, the training rows kept, and the test rows
	// used as the attack's non-members.
	DeletionRows, RetainedRows, NonMemberRows []int
	// SplitSeed, DeletionSpec and DeletionSeed are how Splits and
	// DeletionRows were drawn (adult.Split, adult.DeletionSpec.Select), and
	// Scaler the scaler fit on the training split: what the model cards
	// record.
	SplitSeed    int64
	DeletionSpec string
	DeletionSeed int64
	Scaler       adult.Scaler

	Train, Retained, Val, Test, Deletion, NonMembers train.Data
}

// Session holds the state shared by the phases of one experiment. [Run] runs
// them all; a notebook can run them one at a time (LoadData or UseData, then
// TrainModels, Fisher, PruneAll, Study, Write, or RunCached for each) and
// inspect the state in between. The phases that train take a context:
// cancelling it stops training between two steps. A Session is not safe for
// concurrent use by several goroutines.
type Session struct {
	cfg     Config
	start   time.Time
	backend compute.Backend
	d       *Data
	res     *results.Results
	log     func(format string, args ...any)

	progress      *train.Progress // shared by concurrent runs
	mu            sync.Mutex      // guards pruned while models train concurrently
	full, retrain trained
	scores        []mlp.Tensor            // Fisher scores of the deletion set under the full model
	pruned        map[string][]mlp.Tensor // fine-tuned parameters by checkpoint name

	lock    *rundir.Lock // on cfg.OutDir
	ownLock bool         // lock was taken by NewSession, and Close releases it
}

// NewSession validates cfg, locks the run directory cfg.OutDir (creating
// it if missing; unless cfg.RunDirLock already holds it) and starts the
// compute backend. Call Close when done. Another writer on the directory
// (another run, a notebook, scripts/report) makes it fail at once with an
// error matching [ErrRunDirInUse] that names that writer.
func NewSession(cfg Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lock, ownLock := cfg.RunDirLock, false
	// A shard of a study writes only into the store (many shards share one
	// run directory); every other session holds the run directory.
	if lock == nil && cfg.Study.Shard.Count == 0 {
		var err error
		if lock, err = rundir.Acquire(cfg.OutDir); err != nil {
			return nil, err
		}
		ownLock = true
	}
	// Results list the fractions in ascending order, whatever order they were given in.
	cfg.Fractions = slices.Sorted(slices.Values(cfg.Fractions))
	s := &Session{cfg: cfg, start: time.Now(),
		pruned: map[string][]mlp.Tensor{}, progress: train.NewProgress(cfg.Log), lock: lock, ownLock: ownLock}
	// One lock for all output: log lines and epoch lines go through progress.
	s.log = s.progress.Printf
	s.res = &results.Results{Schema: results.Schema, Config: resultsConfig(cfg), Environment: environment(s.start)}
	b, err := backend.New()
	if err != nil {
		if ownLock {
			lock.Unlock()
		}
		return nil, err
	}
	s.backend = b
	s.res.Environment.Backend = b.Name()
	s.res.Config.Backend = backend.Config()
	return s, nil
}

// Close releases the backend and the run directory's lock (unless the
// caller passed it in Config.RunDirLock).
func (s *Session) Close() {
	s.backend.Finalize()
	if s.ownLock {
		_ = s.lock.Unlock()
	}
}

// Results returns the results gathered so far (complete after Write).
func (s *Session) Results() *results.Results { return s.res }

// Data returns the prepared data (nil before LoadData or UseData).
func (s *Session) Data() *Data { return s.d }

// Run executes the experiment and writes its outputs into cfg.OutDir. It
// returns the results it wrote. Cancelling ctx stops training between two
// steps; the write phase, once started, finishes its files.
func Run(ctx context.Context, cfg Config) (*results.Results, error) {
	s, err := NewSession(cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.res, s.runPhases(ctx, s.LoadData)
}

// RunWithData is [Run] on data prepared by the caller (see [Prepare]), for
// tests and for data that is not the UCI files.
func RunWithData(ctx context.Context, cfg Config, d *Data) (*results.Results, error) {
	s, err := NewSession(cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.res, s.runPhases(ctx, func() error { return s.UseData(d) })
}

func (s *Session) runPhases(ctx context.Context, load func() error) error {
	phases := []struct {
		name string
		fn   func() error
	}{
		{"load data", load},
		{"train full and retrain", s.phase(ctx, PhaseTrain, s.TrainModels)},
		{"fisher", s.phase(ctx, PhaseFisher, s.Fisher)},
		{"prune + fine-tune", s.phase(ctx, PhasePrune, s.PruneAll)},
		{"study", s.phase(ctx, PhaseStudy, s.Study)},
		{"write", s.Write},
	}
	for _, p := range phases {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped before %s: %w", p.name, err)
		}
		s.log("== %s", p.name)
		if err := p.fn(); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// phase returns fn on ctx, or with Config.Cache the cached run of phase p
// (the study phase only when the study is on).
func (s *Session) phase(ctx context.Context, p Phase, fn func(context.Context) error) func() error {
	if !s.cfg.Cache || (p == PhaseStudy && s.cfg.Study.Seeds == 0) {
		return func() error { return fn(ctx) }
	}
	return func() error {
		_, err := s.RunCached(ctx, p)
		return err
	}
}

// LoadData reads the UCI files from cfg.DataDir (verifying their checksums)
// and prepares them.
func (s *Session) LoadData() error {
	t0 := time.Now()
	set, err := adult.Load(s.cfg.DataDir)
	if err != nil {
		return err
	}
	d, err := Prepare(set, s.cfg)
	if err != nil {
		return err
	}
	if err := s.UseData(d); err != nil {
		return err
	}
	s.res.Timings.LoadData = time.Since(t0).Seconds()
	return nil
}

// Prepare splits set, selects the deletion set and the attack's non-members,
// and scales every matrix with a scaler fit on the training split.
func Prepare(set *adult.Dataset, cfg Config) (*Data, error) {
	splits, err := adult.Split(set, cfg.SplitSeed)
	if err != nil {
		return nil, err
	}
	spec, err := adult.ParseDeletionSpec(cfg.Deletion)
	if err != nil {
		return nil, configError{err}
	}
	deletionSeed := int64(subSeed(cfg.Seed, "deletion"))
	deleted, err := spec.Select(splits.Train, deletionSeed)
	if err != nil {
		return nil, configError{err}
	}
	retained := adult.Retained(splits.Train, deleted)
	if len(retained) == 0 {
		return nil, configError{fmt.Errorf("deletion spec %s deletes the whole training split: nothing is left to retrain on", cfg.Deletion)}
	}
	nonMembers, err := mia.SampleNonMembers(splits.Test, cfg.NonMembers, subSeed(cfg.Seed, "mia/non-members"))
	if err != nil {
		return nil, configError{fmt.Errorf("-non-members %d: %w (the test split has %d rows)", cfg.NonMembers, err, len(splits.Test))}
	}
	scaler := adult.FitScaler(set, splits.Train)
	rows := func(ids []int) train.Data {
		y := make([]int32, len(ids))
		for i, id := range ids {
			y[i] = set.Y[id]
		}
		return train.Data{X: scaler.Apply(set, ids), Y: y, Features: len(set.Features)}
	}
	return &Data{
		Set: set, Splits: splits, DeletionRows: deleted, RetainedRows: retained, NonMemberRows: nonMembers,
		SplitSeed: cfg.SplitSeed, DeletionSpec: cfg.Deletion, DeletionSeed: deletionSeed, Scaler: scaler,
		Train: rows(splits.Train), Retained: rows(retained), Val: rows(splits.Val),
		Test: rows(splits.Test), Deletion: rows(deleted), NonMembers: rows(nonMembers),
	}, nil
}

// UseData makes d the session's data and records it in the results.
func (s *Session) UseData(d *Data) error {
	if got := len(d.Set.Features); got != s.cfg.Arch.Inputs {
		return fmt.Errorf("data has %d features, the model expects %d", got, s.cfg.Arch.Inputs)
	}
	s.d = d
	s.res.Dataset = results.Dataset{
		Name: "UCI Adult", Rows: d.Set.Rows(), Features: len(d.Set.Features),
		Train: len(d.Splits.Train), Val: len(d.Splits.Val), Test: len(d.Splits.Test),
		Deletion: len(d.DeletionRows), Retained: len(d.RetainedRows), SHA256: d.Set.SHA256,
		Scaler:       "standard scaling fit on the training split only",
		DeletionRows: d.DeletionRows, FeatureNames: d.Set.Features,
	}
	s.log("%d rows, %d features; train %d, val %d, test %d; deleting %d (%s)",
		d.Set.Rows(), len(d.Set.Features), len(d.Splits.Train), len(d.Splits.Val), len(d.Splits.Test), len(d.DeletionRows), s.cfg.Deletion)
	return nil
}

// trained is a model with its parameters and evaluation.
type trained struct {
	params []mlp.Tensor
	model  results.Model
}

// TrainModels trains the full model on the training split and the retrained
// (gold-standard) model on the retained rows, concurrently when cfg.Parallel > 1.
// Cancelling ctx stops training between two steps.
func (s *Session) TrainModels(ctx context.Context) error {
	t0 := time.Now()
	var full, retrain trained
	err := parallel.Run(ctx, s.cfg.Parallel,
		func(ctx context.Context) (err error) {
			full, err = s.trainFromScratch(ctx, "full", s.d.Train)
			return err
		},
		func(ctx context.Context) (err error) {
			retrain, err = s.trainFromScratch(ctx, "retrain", s.d.Retained)
			return err
		})
	if err != nil {
		return err
	}
	s.full, s.retrain = full, retrain
	s.res.Models.Full, s.res.Models.Retrain = full.model, retrain.model
	s.res.Timings.Train = time.Since(t0).Seconds()
	return nil
}
