package experiment

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/fimprune/fimprune/fimlib/results"

	"github.com/fimprune/fimprune/fimlib/store"
	"github.com/fimprune/fimprune/fimlib/study"
)

// StudyConfig turns on the multi-seed comparison of deletion methods
// (package study) after the seed protocol.
type StudyConfig struct {
	// Seeds is the number of seeds (0: no study). They are Config.Seed,
	// Config.Seed+1, …; each draws its own forget set of the run's deletion
	// size from the training split, which stays the run's.
	Seeds int
	// Shadows is the number of shadow models for LiRA, RMIA, U-LiRA and ε
	// (0: none; else even and at least 2·ULiRAModels).
	Shadows int
	// ULiRAModels is the number of unlearned and of retrained shadow models
	// per seed behind U-LiRA and ε (0: study.DefaultULiRAModels).
	ULiRAModels int `json:",omitempty"`
	// Fraction is the pruning fraction at which the pruning methods are
	// compared.
	Fraction float64
	// SplitSeeds gives each seed its own train/validation/test split (split
	// seeds Config.SplitSeed, +1, …) and its own pool of shadow models, so
	// that the intervals also cover the split; it costs Shadows shadow
	// models per seed instead of one pool.
	SplitSeeds bool `json:",omitempty"`
	// Store is the directory of the content-addressed store of the study's
	// models (package store; "" is OutDir/store). A run reuses what is
	// there, so an interrupted study resumes.
	Store string `json:"-"`
	// Shard, when Shard.Count > 0, makes the run compute only that shard's
	// share of the study's models into Store ([RunShard]); a run without a
	// shard assembles the study from the store.
	Shard study.Shard `json:"-"`
}

// StoreDir is the study's store directory for a run in outDir.
func (c StudyConfig) StoreDir(outDir string) string {
	if c.Store != "" {
		return c.Store
	}
	return filepath.Join(outDir, "store")
}

// DefaultStudy is the study mode's setting: 5 seeds, 64 shadows, 8 U-LiRA
// models per side and seed, the seed notebook's best fraction (0.2).
var DefaultStudy = StudyConfig{Seeds: 5, Shadows: 64, ULiRAModels: study.DefaultULiRAModels, Fraction: 0.2}

func (c StudyConfig) validate() []error {
	var errs []error
	if sh := c.Shard; sh.Count < 0 || sh.Count > 0 && (sh.Index < 0 || sh.Index >= sh.Count) {
		errs = append(errs, fmt.Errorf("study shard %d/%d: want 0 ≤ i < n", sh.Index, sh.Count))
	}
	if c.Seeds == 0 {
		if c.Shard.Count > 0 {
			errs = append(errs, errors.New("a study shard needs the study (study seeds > 0)"))
		}
		return errs
	}
	if c.Seeds < 0 {
		errs = append(errs, fmt.Errorf("study seeds %d must not be negative", c.Seeds))
	}
	m := c.ULiRAModels
	if m == 0 {
		m = study.DefaultULiRAModels
	}
	if m < 3 {
		errs = append(errs, fmt.Errorf("study U-LiRA models %d must be at least 3", c.ULiRAModels))
	}
	if c.Shadows != 0 && (c.Shadows%2 != 0 || c.Shadows < 2*m) {
		errs = append(errs, fmt.Errorf("study shadows %d must be 0, or even and at least %d (2 × %d U-LiRA models per side)", c.Shadows, 2*m, m))
	}
	if !(c.Fraction > 0 && c.Fraction < 1) {
		errs = append(errs, fmt.Errorf("study fraction %g must be in (0, 1)", c.Fraction))
	}
	return errs
}

// Study runs the multi-seed comparison of deletion methods on the session's
// data and adds it to the results. It does nothing when cfg.Study.Seeds is 0.
// Cancelling ctx stops training between two steps.
func (s *Session) Study(ctx context.Context) error {
	c := s.cfg.Study
	if c.Seeds == 0 {
		return nil
	}
	seeds := make([]uint64, c.Seeds)
	for i := range seeds {
		seeds[i] = s.cfg.Seed + uint64(i)
	}
	st0, err := store.Open(c.StoreDir(s.cfg.OutDir))
	if err != nil {
		return err
	}
	st0.Warn = s.log
	scfg := study.Config{
		Seeds: seeds, Fraction: c.Fraction, ForgetRows: len(s.d.DeletionRows), Shadows: c.Shadows, ULiRAModels: c.ULiRAModels,
		Arch: s.cfg.Arch, Train: s.cfg.Train, FineTune: s.cfg.FineTune,
		Store: st0, CodeVersion: fmt.Sprint(CacheVersion), Shard: c.Shard,
		Progress: s.progress, Log: s.log,
	}
	var st *results.Study
	if !c.SplitSeeds {
		st, err = study.Run(ctx, s.backend, study.Data{Train: s.d.Train, Val: s.d.Val, Test: s.d.Test, SplitSeed: s.cfg.SplitSeed}, scfg)
	} else {
		ds := make([]study.Data, len(seeds))
		for i := range ds {
			cfg := s.cfg
			cfg.SplitSeed += int64(i)
			d := s.d // the run's own split for the first seed
			if i > 0 {
				var err error
				if d, err = Prepare(s.d.Set, cfg); err != nil {
					return fmt.Errorf("split seed %d: %w", cfg.SplitSeed, err)
				}
			}
			ds[i] = study.Data{Train: d.Train, Val: d.Val, Test: d.Test, SplitSeed: cfg.SplitSeed}
		}
		st, err = study.RunSplits(ctx, s.backend, ds, scfg)
	}
	if err != nil {
		return err
	}
	s.res.Study = st
	return nil
}

// RunShard computes shard cfg.Study.Shard of the study's models into the
// store and returns: it loads the data, runs the study's units that are the
// shard's (waiting for the full and shadow models other shards compute when
// its units start from them) and writes nothing else. It takes no lock on
// the run directory, so that many shards can share it; the store needs none.
func RunShard(ctx context.Context, cfg Config) error {
	return runShard(ctx, cfg, nil)
}

// RunShardWithData is [RunShard] on data prepared by the caller.
func RunShardWithData(ctx context.Context, cfg Config, d *Data) error {
	return runShard(ctx, cfg, d)
}

func runShard(ctx context.Context, cfg Config, d *Data) error {
	if cfg.Study.Shard.Count == 0 {
		return errors.New("experiment: RunShard needs a shard (Study.Shard)")
	}
	s, err := NewSession(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if d == nil {
		err = s.LoadData()
	} else {
		err = s.UseData(d)
	}
	if err != nil {
		return err
	}
	err = s.Study(ctx)
	if errors.Is(err, study.ErrShardDone) {
		return nil
	}
	if err == nil {
		return errors.New("experiment: the shard's study finished without its sentinel (is the study on?)")
	}
	return err
}
