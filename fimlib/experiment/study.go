package experiment

import (
	"fmt"

	"github.com/fimprune/fimprune/fimlib/study"
)

// StudyConfig turns on the multi-seed comparison of deletion methods
// (package study) after the seed protocol.
type StudyConfig struct {
	// Seeds is the number of seeds (0: no study). They are Config.Seed,
	// Config.Seed+1, …; the split and the forget set stay those of the run.
	Seeds int
	// Shadows is the number of shadow models for U-LiRA and ε (0: none;
	// else a multiple of 4, at least 8).
	Shadows int
	// Fraction is the pruning fraction at which the pruning methods are
	// compared.
	Fraction float64
}

// DefaultStudy is the study mode's setting: 5 seeds, 16 shadows, the seed
// notebook's best fraction (0.2).
var DefaultStudy = StudyConfig{Seeds: 5, Shadows: 16, Fraction: 0.2}

func (c StudyConfig) validate() []error {
	if c.Seeds == 0 {
		return nil
	}
	var errs []error
	if c.Seeds < 0 {
		errs = append(errs, fmt.Errorf("study seeds %d must not be negative", c.Seeds))
	}
	if c.Shadows != 0 && (c.Shadows < 8 || c.Shadows%4 != 0) {
		errs = append(errs, fmt.Errorf("shadows %d must be 0 or a multiple of 4 of at least 8", c.Shadows))
	}
	if !(c.Fraction > 0 && c.Fraction < 1) {
		errs = append(errs, fmt.Errorf("study fraction %g must be in (0, 1)", c.Fraction))
	}
	return errs
}

// Study runs the multi-seed comparison of deletion methods on the session's
// data and adds it to the results. It does nothing when cfg.Study.Seeds is 0.
func (s *Session) Study() error {
	c := s.cfg.Study
	if c.Seeds == 0 {
		return nil
	}
	pos := make(map[int]int, len(s.d.Splits.Train))
	for i, id := range s.d.Splits.Train {
		pos[id] = i
	}
	forget := make([]int, len(s.d.DeletionRows))
	for i, id := range s.d.DeletionRows {
		forget[i] = pos[id]
	}
	seeds := make([]uint64, c.Seeds)
	for i := range seeds {
		seeds[i] = s.cfg.Seed + uint64(i)
	}
	st, err := study.Run(s.ctx, s.backend, study.Data{Train: s.d.Train, Val: s.d.Val, Test: s.d.Test, Forget: forget}, study.Config{
		Seeds: seeds, Fraction: c.Fraction, Shadows: c.Shadows, Bootstrap: s.cfg.Bootstrap,
		Arch: s.cfg.Arch, Train: s.cfg.Train, FineTune: s.cfg.FineTune,
		Progress: s.progress, Log: s.log,
	})
	if err != nil {
		return err
	}
	s.res.Study = st
	return nil
}
