package experiment

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/selection"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
)

// Write stores results.json, the seed's summary and the checkpoints, each
// with its model card (card.json, package modelcard), in cfg.OutDir.
// Everything that can fail without touching the disk (the results'
// validation, the summary, the cards) is done first, so an invalid result
// leaves the run directory as it was.
func (s *Session) Write() error {
	t0 := time.Now()
	sets := map[string][]mlp.Tensor{}
	if s.cfg.Checkpoints {
		sets["full"], sets["retrain"] = s.full.params, s.retrain.params
		for name, params := range s.pruned {
			sets[name] = params
		}
		// Paths inside results.json use slashes whatever the OS.
		s.res.Models.Full.Checkpoint = path.Join(CheckpointsDir, "full")
		s.res.Models.Retrain.Checkpoint = path.Join(CheckpointsDir, "retrain")
		for i := range s.res.Models.Pruned {
			s.res.Models.Pruned[i].Checkpoint = path.Join(CheckpointsDir, PrunedName(s.res.Models.Pruned[i].Fraction))
		}
	}
	if err := s.res.Validate(); err != nil {
		return fmt.Errorf("refusing to write invalid results: %w", err)
	}
	summary, err := results.SeedSummary(s.res)
	if err != nil {
		return err
	}
	summaryJSON, err := results.Marshal(summary)
	if err != nil {
		return err
	}
	cards := map[string]*modelcard.Card{}
	if len(sets) > 0 {
		if cards, err = s.cards(sets); err != nil {
			return fmt.Errorf("refusing to write checkpoints: %w", err)
		}
	}

	if err := os.MkdirAll(s.cfg.OutDir, 0o755); err != nil {
		return err
	}
	if err := recoverInterruptedWrite(s.cfg.OutDir); err != nil {
		return err
	}
	keep := map[string]bool{}
	for name, params := range sets {
		if err := saveCheckpoint(s.cfg.OutDir, name, params, cards[name]); err != nil {
			return err
		}
		keep[name] = true
	}
	s.res.Timings.Write = time.Since(t0).Seconds()
	s.res.Timings.Total = time.Since(s.start).Seconds()
	if err := results.Write(filepath.Join(s.cfg.OutDir, ResultsFile), s.res); err != nil {
		return err
	}
	if err := results.WriteFileAtomic(filepath.Join(s.cfg.OutDir, SummaryFile), summaryJSON); err != nil {
		return err
	}
	return removeStaleCheckpoints(s.cfg.OutDir, keep)
}

// saveCheckpoint writes params as a gomlx checkpoint in
// OutDir/checkpoints/name, with card (if not nil) as its card.json,
// replacing an earlier one only once the new one is complete (both are
// written to a temporary directory, which is then renamed, so a checkpoint
// and its card appear together).
func saveCheckpoint(outDir, name string, params []mlp.Tensor, card *modelcard.Card) error {
	parent := filepath.Join(outDir, CheckpointsDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+name+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// MkdirTemp makes the directory 0700; a checkpoint is as readable as
	// the other files of the run directory.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := SaveParams(tmp, params); err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	if card != nil {
		if err := modelcard.Write(filepath.Join(tmp, modelcard.File), card); err != nil {
			return fmt.Errorf("checkpoint %s: %w", name, err)
		}
	}
	// gomlx writes its files without fsync: make them durable before the
	// directory becomes the checkpoint.
	if err := syncTree(tmp); err != nil {
		return fmt.Errorf("checkpoint %s: %w", name, err)
	}
	final := filepath.Join(parent, name)
	old := final + ".old"
	_ = os.RemoveAll(old)
	if err := os.Rename(final, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := results.SyncDir(parent); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// SaveParams writes params into dir as a gomlx checkpoint ([LoadCheckpoint]
// reads it back). It does not sync the files: [SyncTree] does.
func SaveParams(dir string, params []mlp.Tensor) error {
	store, err := mlp.NewStore(params, 0)
	if err != nil {
		return err
	}
	defer store.Finalize()
	h, err := checkpoint.Build(store).Dir(dir).Keep(1).Done()
	if err != nil {
		return err
	}
	return h.Save()
}

// SyncTree fsyncs every file in dir, then dir itself.
func SyncTree(dir string) error { return syncTree(dir) }

// syncTree fsyncs every file in dir, then dir itself.
func syncTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return results.SyncDir(dir)
}

// removeStaleCheckpoints deletes checkpoint directories an earlier run left
// that this run's results do not name (other fractions, or all of them after
// -no-checkpoints), so the run directory describes one run.
func removeStaleCheckpoints(outDir string, keep map[string]bool) error {
	dir := filepath.Join(outDir, CheckpointsDir)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if len(keep) == 0 {
		return os.Remove(dir)
	}
	return nil
}

// recoverInterruptedWrite undoes what a run killed while writing left in
// outDir: temporary files and directories (".NAME.tmp-*"), and a checkpoint
// moved aside (NAME.old) whose replacement never arrived, which is moved back.
func recoverInterruptedWrite(outDir string) error {
	for _, dir := range []string{outDir, filepath.Join(outDir, CheckpointsDir)} {
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-"):
				if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
					return err
				}
			case dir != outDir && strings.HasSuffix(name, ".old"):
				final := filepath.Join(dir, strings.TrimSuffix(name, ".old"))
				if _, err := os.Stat(final); os.IsNotExist(err) {
					err = os.Rename(filepath.Join(dir, name), final)
				} else {
					err = os.RemoveAll(filepath.Join(dir, name))
				}
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// LoadCheckpoint reads the parameters of arch saved by a run in dir (a
// checkpoint directory such as runs/latest/checkpoints/full).
func LoadCheckpoint(dir string, arch mlp.Arch) ([]mlp.Tensor, error) {
	// An empty store: Immediate loading creates the variables from the files
	// (a store that already holds values keeps them).
	store := model.NewStore()
	defer store.Finalize()
	if _, err := checkpoint.Load(store).Dir(dir).Immediate().Done(); err != nil {
		return nil, fmt.Errorf("loading checkpoint %s: %w", dir, err)
	}
	return arch.ReadParams(store)
}

func resultsConfig(c Config) results.Config {
	tc := train.Config.Recipe
	return results.Config{
		Seed: c.Seed, SplitSeed: c.SplitSeed, Fractions: c.Fractions, Deletion: c.Deletion, FisherKind: string(c.Fisher),
		NonMembers: c.NonMembers, Bootstrap: c.Bootstrap,
		Model: results.ModelConfig{Inputs: c.Arch.Inputs, Hidden: c.Arch.Hidden, Classes: c.Arch.Classes,
			Dropout: c.Arch.Dropout, Params: c.Arch.NumParams(), Init: "xavier-uniform weights, zero biases"},
		Train: tc(c.Train), FineTune: tc(c.FineTune),
		Parallel:  c.Parallel,
		Selection: results.Selection{UtilityWeight: selection.UtilityWeight, PrivacyWeight: selection.PrivacyWeight},
	}
}

// Environment describes the machine and the build, with start as the run's
// time.
func Environment(start time.Time) results.Environment { return environment(start) }

func environment(start time.Time) results.Environment {
	env := results.Environment{
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		Cores: runtime.NumCPU(), CPU: cpuModel(), Time: start.UTC().Format(time.RFC3339),
	}
	b := backend.CurrentBuild()
	env.GomlxVersion, env.GOEXPERIMENT = b.Gomlx, b.GOEXPERIMENT
	return env
}

// cpuModel reads the processor name on Linux; elsewhere it is empty.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
