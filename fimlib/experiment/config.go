// Package experiment runs the seed notebook's whole protocol end to end and
// records it: load Adult, train the full and the retrained (gold-standard)
// models, compute the Fisher scores of the deletion set, prune each fraction,
// fine-tune with the mask kept, attack every model, select the best fraction,
// and write results.json, the seed's summary JSON and checkpoints, each with
// its model card (package modelcard), into a run directory.
//
// Entry points: [Default] (the seed's configuration), [Config.Validate] and
// [Run]. Every random choice derives from Config.Seed (see [subSeed]), so one
// seed gives one result.
package experiment

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
)

// Config is one experiment. Start from [Default].
type Config struct {
	DataDir   string // directory holding adult.data and adult.test (see adult.ResolveDir)
	OutDir    string // run directory; NewSession creates it if missing and locks it until Close (see package rundir)
	Seed      uint64 // drives initialisation, dropout, shuffling, non-member sampling, bootstrap
	SplitSeed int64  // drives the train/validation/test split (kept apart so that seeds can vary with a fixed split)
	Fractions []float64
	Deletion  string // deletion spec: first:N, random:N or file:PATH
	Fisher    fisher.Kind
	// NonMembers is how many test rows the attack uses as non-members (the seed: 100).
	NonMembers int
	Bootstrap  int // resamples for the AUC's confidence interval
	Arch       mlp.Arch
	Train      train.Config // full model and retrain
	FineTune   train.Config // masked fine-tuning of each pruned model
	// Log receives progress (phase lines, epochs); nil is silent.
	Log io.Writer
	// Checkpoints turns writing gomlx checkpoints on or off.
	Checkpoints bool
	// Parallel is how many models train at once (full with retrain, and the
	// pruned fractions). Results do not depend on it; per-model times do,
	// since concurrent models share the cores.
	Parallel int
	// Cache, when true, keeps each phase's results under OutDir/cache and
	// reuses them when the configuration, the data and the build match
	// ([Session.RunCached], as the notebook does): an interrupted or
	// repeated run picks up where it stopped, and the notebook on the same
	// run directory loads them instead of computing them again.
	Cache bool
	// Study, when Study.Seeds > 0, adds the multi-seed comparison of
	// deletion methods (see [Session.Study]).
	Study StudyConfig
	// RunDirLock, when set, is a lock on OutDir that the caller holds (from
	// [rundir.Acquire]) and keeps after the Session, for a caller that
	// writes more into the run directory once the Session is closed (the
	// command writes the report after [Run]). The Session then uses it and
	// leaves it held. Nil: [NewSession] locks OutDir itself and
	// [Session.Close] unlocks it.
	RunDirLock *rundir.Lock
}

// ErrConfig marks errors caused by the configuration rather than by the data
// or the machine: a deletion set that does not fit the training split, more
// non-members than test rows. Validate's errors and these are usage errors
// for a command line (exit status 2); they are all found before training.
var ErrConfig = errors.New("bad configuration")

// configError wraps err so that errors.Is(err, ErrConfig) holds while the
// message stays err's own.
type configError struct{ err error }

func (e configError) Error() string   { return e.err.Error() }
func (e configError) Unwrap() []error { return []error{e.err, ErrConfig} }

// Default returns the seed notebook's protocol.
func Default() Config {
	return Config{
		OutDir:      "runs/latest",
		Seed:        42,
		SplitSeed:   42,
		Fractions:   []float64{0.1, 0.2, 0.3, 0.4},
		Deletion:    adult.DefaultDeletionSpec,
		Fisher:      fisher.Empirical,
		NonMembers:  100,
		Bootstrap:   mia.DefaultBootstrap,
		Arch:        mlp.Seed,
		Train:       train.Seed,
		FineTune:    train.SeedFineTune,
		Checkpoints: true,
		Parallel:    2,
	}
}

// Validate checks everything that can be checked before loading data, so that
// a bad flag fails in milliseconds rather than after training.
func (c Config) Validate() error {
	var errs []error
	if len(c.Fractions) == 0 {
		errs = append(errs, errors.New("no pruning fractions"))
	}
	for _, f := range c.Fractions {
		if !(f > 0 && f < 1) {
			errs = append(errs, fmt.Errorf("fraction %g must be in (0, 1)", f))
		}
	}
	sorted := slices.Clone(c.Fractions)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(c.Fractions) {
		errs = append(errs, fmt.Errorf("fractions %v contain duplicates", c.Fractions))
	}
	if _, err := adult.ParseDeletionSpec(c.Deletion); err != nil {
		errs = append(errs, err)
	}
	if _, err := fisher.ParseKind(string(c.Fisher)); err != nil {
		errs = append(errs, err)
	}
	if c.NonMembers <= 0 {
		errs = append(errs, fmt.Errorf("non-members %d must be positive", c.NonMembers))
	}
	errs = append(errs, c.Study.validate()...)
	if c.Parallel <= 0 {
		errs = append(errs, fmt.Errorf("parallel %d must be positive", c.Parallel))
	}
	if c.Bootstrap <= 0 {
		errs = append(errs, fmt.Errorf("bootstrap %d must be positive", c.Bootstrap))
	}
	if err := c.Arch.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Train.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("training: %w", err))
	}
	if err := c.FineTune.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("fine-tuning: %w", err))
	}
	if err := checkOutDir(c.OutDir); err != nil {
		errs = append(errs, err)
	} else if c.RunDirLock != nil {
		if err := c.RunDirLock.Holds(c.OutDir); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return configError{errors.Join(errs...)}
}

// checkOutDir reports an output directory that cannot be created: it, or the
// nearest of its ancestors that exists, must be a directory. (Found now, not
// after an hour of training.)
func checkOutDir(dir string) error {
	if dir == "" {
		return errors.New("no output directory")
	}
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				if d == filepath.Clean(dir) {
					return fmt.Errorf("output %s is a file, not a directory", dir)
				}
				return fmt.Errorf("output %s cannot be created: %s is a file", dir, d)
			}
			return nil
		}
		// Missing (or "not a directory" below a file): look at the parent.
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}
