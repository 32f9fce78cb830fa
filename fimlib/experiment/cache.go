package experiment

// Caching of the expensive phases in the run directory.
//
// A GoNB notebook runs a fresh process for every cell, so a cell cannot keep
// the models a previous cell trained in memory. [Session.RunCached] runs a
// phase and saves what it produced under OutDir/cache, or, when an earlier
// process saved that phase under the same key, loads it instead. The key
// ([Session.CacheKey]) is a SHA-256 over everything that determines the
// phase's output, so a changed configuration or changed data never reuses a
// stale result, while a change that only affects later phases (say, the
// fine-tuning epochs) keeps the earlier ones. The last phase, [PhaseStudy],
// is the multi-seed comparison of deletion methods ([Session.Study]); its
// key adds the study's settings ([StudyConfig]).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
)

// CacheDir is the run directory's sub-directory holding cached phase outputs.
const CacheDir = "cache"

// CacheVersion is part of every cache key. Bump it when a phase's code
// changes what it computes: the key covers configuration, data, backend and
// build, not the source code of fimlib.
const CacheVersion = 8 // 2: attack scores from the log-softmax; 3: ROC curves in results; 4: the study records TPR at 0.1 % FPR; 5: study schema v3 (per-seed forget sets, RMIA, rotated U-LiRA, verdicts); 6: training draws dropout on the host from each model's shuffle seed (hand-written step for single models too); 7: the output layer's weight gradient by the dot-product kernel; 8: shadows as two ensembles side by side (same bits with the AVX-512 kernels, not with the plain build's)

// Phase names one of the expensive, cacheable phases of a [Session].
type Phase string

// The cacheable phases, in the order they must run.
const (
	PhaseTrain  Phase = "train"  // [Session.TrainModels]: the full and retrained models
	PhaseFisher Phase = "fisher" // [Session.Fisher]: the deletion set's Fisher scores
	PhasePrune  Phase = "prune"  // [Session.PruneAll]: every fraction pruned, fine-tuned and attacked
	// PhaseStudy is [Session.Study]: the deletion methods compared over
	// seeds (Results.Study). It needs Config.Study.Seeds > 0.
	PhaseStudy Phase = "study"
)

// Phases lists the cacheable phases in order.
var Phases = []Phase{PhaseTrain, PhaseFisher, PhasePrune, PhaseStudy}

// CacheStatus says what [Session.RunCached] did for one phase.
type CacheStatus struct {
	Phase  Phase
	Key    string // hex SHA-256 of what determines the phase's output
	Loaded bool   // true: read from File; false: computed and written to File
	File   string // the cache file, relative to the run directory
	// Reason says why a present file was not used ("" when it was used or
	// when there was none): another key, another version, unreadable.
	Reason  string
	Seconds float64 // wall time of the load or of the computation and save
}

func (c CacheStatus) String() string {
	if c.Loaded {
		return fmt.Sprintf("%s: loaded from %s (%.2fs)", c.Phase, c.File, c.Seconds)
	}
	s := fmt.Sprintf("%s: computed in %.1fs, saved to %s", c.Phase, c.Seconds, c.File)
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	return s
}

// cacheKeyMaterial is what a key hashes, encoded as JSON (whose map keys are
// sorted, so the encoding is deterministic).
type cacheKeyMaterial struct {
	Version int
	Phase   Phase
	// Config is the run's configuration with what the phase does not depend
	// on zeroed: Parallel always (it changes times, not numbers), and for the
	// early phases the settings of the later ones.
	Config results.Config
	// Study is the study's settings, for PhaseStudy only (nil, and so left
	// out of the JSON, for the other phases: their keys stay as they were).
	Study *StudyConfig `json:",omitempty"`
	// Data: the input files' sums and the rows the preparation chose (a
	// deletion file's contents only show there).
	SHA256        map[string]string
	Rows          [4]int // train, val, test, features
	DeletionRows  []int
	NonMemberRows []int
	// Build: numbers differ in the last bits across these, and random
	// streams (math/rand/v2) are fixed only within one Go release.
	GoVersion, GOOS, GOARCH, GOEXPERIMENT, Gomlx string
}

// CacheKey returns the key of phase p: a hex SHA-256 over the configuration
// fields p depends on, the data's checksums and chosen rows, the backend
// configuration and the build (Go release, GOOS, GOARCH, GOEXPERIMENT, gomlx
// version). PhaseStudy's key also covers Config.Study, and leaves out the
// protocol's settings the study does not use (the pruning fractions, the
// Fisher kind, the seed attack's non-members, the selection weights). The
// data must be loaded (LoadData or UseData).
func (s *Session) CacheKey(p Phase) (string, error) {
	if s.d == nil {
		return "", errors.New("experiment: cache key: no data loaded (call LoadData or UseData first)")
	}
	cfg := s.res.Config
	cfg.Parallel = 0
	switch p {
	case PhaseTrain:
		cfg.Fractions, cfg.FisherKind, cfg.FineTune, cfg.Selection = nil, "", results.TrainConfig{}, results.Selection{}
	case PhaseFisher:
		// Fractions stay: the comparison with the other Fisher kind is per fraction.
		cfg.FineTune, cfg.Selection = results.TrainConfig{}, results.Selection{}
	case PhasePrune:
	case PhaseStudy:
		// The study trains its own full models (seeds Seed, Seed+1, …),
		// prunes at Study.Fraction with the empirical Fisher, and attacks
		// with every test row.
		cfg.Fractions, cfg.FisherKind, cfg.NonMembers, cfg.Selection = nil, "", 0, results.Selection{}
	default:
		return "", fmt.Errorf("experiment: unknown phase %q", p)
	}
	env := s.res.Environment
	m := cacheKeyMaterial{
		Version: CacheVersion, Phase: p, Config: cfg, SHA256: s.d.Set.SHA256,
		Rows:         [4]int{len(s.d.Splits.Train), len(s.d.Splits.Val), len(s.d.Splits.Test), len(s.d.Set.Features)},
		DeletionRows: s.d.DeletionRows, NonMemberRows: s.d.NonMemberRows,
		GoVersion: env.GoVersion, GOOS: env.GOOS, GOARCH: env.GOARCH, GOEXPERIMENT: env.GOEXPERIMENT, Gomlx: env.GomlxVersion,
	}
	if p == PhaseStudy {
		study := s.cfg.Study
		m.Study, m.NonMemberRows = &study, nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("experiment: cache key: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// cacheFile is the content of one cache file (gob-encoded; float values
// round-trip exactly). Results is the whole results record as the phase left
// it, so that fields a phase fills are restored even when they are added to
// the schema later; the parameters are the session's unexported state.
// PhaseStudy's file holds Results.Study alone (the rest of Results is zero).
type cacheFile struct {
	Version int
	Phase   Phase
	Key     string
	Results *results.Results
	// PhaseTrain
	Full, Retrain []mlp.Tensor
	// PhaseFisher
	Scores []mlp.Tensor
	// PhasePrune: fine-tuned parameters by checkpoint name
	Pruned map[string][]mlp.Tensor
}

// cachePath returns the cache file of phase p under key, relative to the run
// directory. Files are named by key so that several configurations (quick and
// full runs, say) can share one run directory without evicting each other.
func cachePath(p Phase, key string) string {
	return filepath.Join(CacheDir, fmt.Sprintf("%s-%s.gob", p, key[:16]))
}

// RunCached runs phase p, or loads its output from the run directory when an
// earlier run saved it under the same key (see [Session.CacheKey]). After a
// load the session is in the state the phase would have left it in, with the
// results (including the phase's recorded times) as computed then; the run's
// Timings.Total counts a loaded phase at its recorded time. A cache
// file that cannot be used (another key, another version, unreadable) is
// recomputed and replaced, never an error. Phases must come in order: the
// data first, then PhaseTrain, PhaseFisher, PhasePrune, PhaseStudy (which
// also needs Config.Study.Seeds > 0). Cancelling ctx stops a phase that
// trains between two steps.
func (s *Session) RunCached(ctx context.Context, p Phase) (CacheStatus, error) {
	t0 := time.Now()
	if err := s.cacheReady(p); err != nil {
		return CacheStatus{Phase: p}, err
	}
	key, err := s.CacheKey(p)
	if err != nil {
		return CacheStatus{Phase: p}, err
	}
	st := CacheStatus{Phase: p, Key: key, File: cachePath(p, key)}
	path := filepath.Join(s.cfg.OutDir, st.File)
	cf, err := readCacheFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		st.Reason = err.Error()
	case cf.Version != CacheVersion:
		st.Reason = fmt.Sprintf("cache version %d, want %d", cf.Version, CacheVersion)
	case cf.Phase != p || cf.Key != key:
		st.Reason = "saved under another key"
	default:
		if err := s.restore(cf); err != nil {
			st.Reason = err.Error()
			break
		}
		st.Loaded, st.Seconds = true, time.Since(t0).Seconds()
		s.log("%s", st)
		return st, nil
	}
	if st.Reason != "" {
		s.log("%s: not using %s: %s", p, st.File, st.Reason)
	}
	if err := s.runPhase(ctx, p); err != nil {
		return st, err
	}
	if err := writeCacheFile(path, s.snapshot(p, key)); err != nil {
		return st, err
	}
	st.Seconds = time.Since(t0).Seconds()
	s.log("%s", st)
	return st, nil
}

// RunCachedThrough runs or loads, in order, every phase up to and including
// last. The data must be loaded.
func (s *Session) RunCachedThrough(ctx context.Context, last Phase) ([]CacheStatus, error) {
	var out []CacheStatus
	for _, p := range Phases {
		st, err := s.RunCached(ctx, p)
		if err != nil {
			return out, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, st)
		if p == last {
			return out, nil
		}
	}
	return out, fmt.Errorf("experiment: unknown phase %q", last)
}

// cacheReady checks that the phases before p have run.
func (s *Session) cacheReady(p Phase) error {
	if s.d == nil {
		return errors.New("experiment: no data loaded (call LoadData or UseData first)")
	}
	switch p {
	case PhaseTrain:
	case PhaseFisher:
		if s.full.params == nil {
			return errors.New("experiment: the Fisher phase needs the trained models (run PhaseTrain first)")
		}
	case PhasePrune:
		if s.full.params == nil || s.scores == nil {
			return errors.New("experiment: the prune phase needs the trained models and the Fisher scores (run PhaseTrain and PhaseFisher first)")
		}
	case PhaseStudy:
		if s.cfg.Study.Seeds == 0 {
			return errors.New("experiment: the study phase needs Config.Study.Seeds > 0")
		}
		// The study does not use the protocol's models, but a prune phase
		// loaded after it would replace the results it added.
		if s.res.Models.Pruned == nil {
			return errors.New("experiment: the study phase comes after the prune phase (run PhaseTrain, PhaseFisher and PhasePrune first)")
		}
	default:
		return fmt.Errorf("experiment: unknown phase %q", p)
	}
	return nil
}

func (s *Session) runPhase(ctx context.Context, p Phase) error {
	switch p {
	case PhaseTrain:
		return s.TrainModels(ctx)
	case PhaseFisher:
		return s.Fisher(ctx)
	case PhasePrune:
		return s.PruneAll(ctx)
	case PhaseStudy:
		return s.Study(ctx)
	}
	return fmt.Errorf("experiment: unknown phase %q", p)
}

// snapshot captures what phase p produced.
func (s *Session) snapshot(p Phase, key string) *cacheFile {
	cf := &cacheFile{Version: CacheVersion, Phase: p, Key: key, Results: s.res}
	switch p {
	case PhaseTrain:
		cf.Full, cf.Retrain = s.full.params, s.retrain.params
	case PhaseFisher:
		cf.Scores = s.scores
	case PhasePrune:
		cf.Pruned = s.pruned
	case PhaseStudy:
		cf.Results = &results.Results{Study: s.res.Study}
	}
	return cf
}

// restore puts a loaded phase into the session: its parameters, and the
// results as the phase left them, except what this session determined
// before any phase ran (configuration, environment, dataset, the data's load
// time), which the key guarantees to match in everything but times. A
// loaded study adds Results.Study and leaves the rest as it is (its key
// does not cover every setting of the protocol's phases).
func (s *Session) restore(cf *cacheFile) error {
	if cf.Results == nil {
		return fmt.Errorf("cache file holds no results")
	}
	if cf.Phase == PhaseStudy {
		if cf.Results.Study == nil {
			return fmt.Errorf("cache file holds no %s output", cf.Phase)
		}
		s.res.Study = cf.Results.Study
		s.start = s.start.Add(-time.Duration(cf.Results.Study.Seconds * float64(time.Second)))
		return nil
	}
	switch {
	case cf.Phase == PhaseTrain && cf.Full != nil && cf.Retrain != nil:
		s.full = trained{params: cf.Full, model: cf.Results.Models.Full}
		s.retrain = trained{params: cf.Retrain, model: cf.Results.Models.Retrain}
	case cf.Phase == PhaseFisher && cf.Scores != nil:
		s.scores = cf.Scores
	case cf.Phase == PhasePrune && cf.Pruned != nil:
		s.pruned = cf.Pruned
	default:
		return fmt.Errorf("cache file holds no %s output", cf.Phase)
	}
	r := *cf.Results
	r.Schema, r.Config, r.Environment, r.Dataset = s.res.Schema, s.res.Config, s.res.Environment, s.res.Dataset
	r.Timings.LoadData = s.res.Timings.LoadData
	*s.res = r
	// Timings.Total (set by Write) is the run's wall time; count the loaded
	// phase at the time it took when it was computed.
	var secs float64
	switch cf.Phase {
	case PhaseTrain:
		secs = r.Timings.Train
	case PhaseFisher:
		secs = r.Timings.Fisher
	case PhasePrune:
		secs = r.Timings.PruneFinetune
	}
	s.start = s.start.Add(-time.Duration(secs * float64(time.Second)))
	return nil
}

func readCacheFile(path string) (*cacheFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cf cacheFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&cf); err != nil {
		return nil, fmt.Errorf("unreadable cache file: %w", err)
	}
	return &cf, nil
}

// writeCacheFile saves cf atomically, so that an interrupted save leaves no
// torn file for the next run to trip over.
func writeCacheFile(path string, cf *cacheFile) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(cf); err != nil {
		return fmt.Errorf("experiment: encoding cache file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return results.WriteFileAtomic(path, buf.Bytes())
}

// ClearCache removes the cached phase outputs of the run directory outDir
// (results.json and checkpoints stay). It takes the directory's lock while
// it does, so it fails with [ErrRunDirInUse] while a Session (of this
// process or another) is open on outDir.
func ClearCache(outDir string) error {
	lock, err := rundir.Acquire(outDir)
	if err != nil {
		return err
	}
	err = os.RemoveAll(filepath.Join(outDir, CacheDir))
	if uerr := lock.Unlock(); err == nil {
		err = uerr
	}
	return err
}

// FullParams returns a copy of the full model's parameters (nil before
// PhaseTrain).
func (s *Session) FullParams() []mlp.Tensor { return cloneOrNil(s.full.params) }

// RetrainParams returns a copy of the retrained model's parameters (nil
// before PhaseTrain).
func (s *Session) RetrainParams() []mlp.Tensor { return cloneOrNil(s.retrain.params) }

// FisherScores returns a copy of the deletion set's Fisher scores, one tensor
// per parameter tensor (nil before PhaseFisher).
func (s *Session) FisherScores() []mlp.Tensor { return cloneOrNil(s.scores) }

// PrunedParams returns a copy of the pruned and fine-tuned parameters of
// fraction f (nil before PhasePrune or for a fraction not in the config).
func (s *Session) PrunedParams(f float64) []mlp.Tensor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneOrNil(s.pruned[PrunedName(f)])
}

func cloneOrNil(ps []mlp.Tensor) []mlp.Tensor {
	if ps == nil {
		return nil
	}
	return mlp.Clone(ps)
}
