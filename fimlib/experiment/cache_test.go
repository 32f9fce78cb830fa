package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
	"github.com/fimprune/fimprune/fimlib/results"
)

// cacheTestData writes a small dataset in the Adult format (labels depend on
// age and hours) and prepares it for cfg, whose Arch.Inputs it sets.
func cacheTestData(t *testing.T, cfg *Config) *Data {
	t.Helper()
	dir := t.TempDir()
	dataPath, testPath := filepath.Join(dir, "a.data"), filepath.Join(dir, "a.test")
	adulttest.WriteSynthetic(t, dataPath, 400, 1)
	adulttest.WriteSynthetic(t, testPath, 200, 2)
	set, err := adult.LoadFiles(dataPath, testPath, adult.Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Arch.Inputs = len(set.Features)
	d, err := Prepare(set, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// cacheTestConfig is a tiny run in a fresh run directory. The test holds
// the directory's lock, so that its sessions, which stand for the cells of
// a notebook (each its own process), can be open at once.
func cacheTestConfig(t *testing.T) Config {
	cfg := Default()
	cfg.OutDir = t.TempDir()
	lock, err := rundir.Acquire(cfg.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Unlock() })
	cfg.RunDirLock = lock
	cfg.Fractions = []float64{0.1, 0.3}
	cfg.Deletion = "random:20"
	cfg.NonMembers = 20
	cfg.Bootstrap = 20
	cfg.Train.MaxEpochs, cfg.Train.Patience = 2, 1
	cfg.FineTune.MaxEpochs = 1
	cfg.Checkpoints = false
	return cfg
}

func newCacheSession(t *testing.T, cfg Config, d *Data) *Session {
	t.Helper()
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.UseData(d); err != nil {
		t.Fatal(err)
	}
	return s
}

// runAll runs or loads every phase of the protocol (through PhasePrune)
// and returns which were loaded.
func runAll(t *testing.T, s *Session) map[Phase]bool {
	t.Helper()
	return runThrough(t, s, PhasePrune)
}

// runThrough runs or loads every phase up to last and returns which were
// loaded.
func runThrough(t *testing.T, s *Session, last Phase) map[Phase]bool {
	t.Helper()
	sts, err := s.RunCachedThrough(context.Background(), last)
	if err != nil {
		t.Fatal(err)
	}
	loaded := map[Phase]bool{}
	for _, st := range sts {
		loaded[st.Phase] = st.Loaded
	}
	if want := slices.Index(Phases, last) + 1; len(loaded) != want || sts[len(sts)-1].Phase != last {
		t.Fatalf("RunCachedThrough(%s) returned %v, want %d phases", last, sts, want)
	}
	return loaded
}

// phaseOutputs renders what the phases put into the results (models, Fisher,
// best, and the phases' times) and the parameters they produced.
func phaseOutputs(t *testing.T, s *Session) string {
	t.Helper()
	r := s.Results()
	data, err := results.Marshal(struct {
		Models                   results.Models
		Fisher                   results.Fisher
		Best                     results.Best
		Train, Fish, Prune       float64
		Full, Retrain, Scores    any
		PrunedLow, PrunedHigh    any
		FullCopyIsolatedFromSelf bool
	}{
		r.Models, r.Fisher, r.Best, r.Timings.Train, r.Timings.Fisher, r.Timings.PruneFinetune,
		s.FullParams(), s.RetrainParams(), s.FisherScores(), s.PrunedParams(0.1), s.PrunedParams(0.3),
		&s.FullParams()[0].Values[0] != &s.full.params[0].Values[0],
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRunCachedLoadsWhatItComputed: the first session computes and saves
// every phase; a second one with the same configuration loads all three and
// ends in exactly the same state; Write then gives the same results.
func TestRunCachedLoadsWhatItComputed(t *testing.T) {
	cfg := cacheTestConfig(t)
	d := cacheTestData(t, &cfg)

	first := newCacheSession(t, cfg, d)
	if loaded := runAll(t, first); loaded[PhaseTrain] || loaded[PhaseFisher] || loaded[PhasePrune] {
		t.Fatalf("empty run directory, yet loaded %v", loaded)
	}
	computed := phaseOutputs(t, first)
	if first.PrunedParams(0.1) == nil || first.FisherScores() == nil {
		t.Fatal("no pruned parameters or Fisher scores after the prune phase")
	}

	second := newCacheSession(t, cfg, d)
	if loaded := runAll(t, second); !loaded[PhaseTrain] || !loaded[PhaseFisher] || !loaded[PhasePrune] {
		t.Fatalf("same configuration, yet loaded only %v", loaded)
	}
	if got := phaseOutputs(t, second); got != computed {
		t.Errorf("loaded state differs from the computed one:\n%s", firstLineDiff(computed, got))
	}

	// Both sessions write the same results.json, apart from the environment's
	// time and the timings of the phases that were not cached.
	for _, s := range []*Session{first, second} {
		if err := s.Write(); err != nil {
			t.Fatal(err)
		}
	}
	a, b := *first.Results(), *second.Results()
	if phases := b.Timings.Train + b.Timings.Fisher + b.Timings.PruneFinetune; b.Timings.Total < phases {
		t.Errorf("loaded run: total time %.3fs is less than its phases' %.3fs", b.Timings.Total, phases)
	}
	a.Environment.Time, b.Environment.Time = "", ""
	a.Timings.LoadData, a.Timings.Write, a.Timings.Total = 0, 0, 0
	b.Timings.LoadData, b.Timings.Write, b.Timings.Total = 0, 0, 0
	if !reflect.DeepEqual(a, b) {
		ja, _ := results.Marshal(&a)
		jb, _ := results.Marshal(&b)
		t.Errorf("results differ:\n%s", firstLineDiff(string(ja), string(jb)))
	}
}

// TestRunCachedRecomputesOnChange: a changed setting recomputes the phases
// that depend on it and loads the others.
func TestRunCachedRecomputesOnChange(t *testing.T) {
	cfg := cacheTestConfig(t)
	d := cacheTestData(t, &cfg)
	runAll(t, newCacheSession(t, cfg, d))

	for _, c := range []struct {
		name   string
		mutate func(*Config)
		want   map[Phase]bool // loaded
	}{
		{"same", func(*Config) {}, map[Phase]bool{PhaseTrain: true, PhaseFisher: true, PhasePrune: true}},
		{"parallel only", func(c *Config) { c.Parallel = 1 }, map[Phase]bool{PhaseTrain: true, PhaseFisher: true, PhasePrune: true}},
		{"fine-tune epochs", func(c *Config) { c.FineTune.MaxEpochs = 2 }, map[Phase]bool{PhaseTrain: true, PhaseFisher: true}},
		{"fractions", func(c *Config) { c.Fractions = []float64{0.2} }, map[Phase]bool{PhaseTrain: true}},
		{"fisher kind", func(c *Config) { c.Fisher = "true" }, map[Phase]bool{PhaseTrain: true}},
		{"epochs", func(c *Config) { c.Train.MaxEpochs = 3 }, map[Phase]bool{}},
		{"seed", func(c *Config) { c.Seed = 7 }, map[Phase]bool{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			changed := cfg
			changed.Fractions = append([]float64(nil), cfg.Fractions...)
			c.mutate(&changed)
			dd := d
			if changed.Seed != cfg.Seed {
				var err error
				if dd, err = Prepare(d.Set, changed); err != nil {
					t.Fatal(err)
				}
			}
			got := runAll(t, newCacheSession(t, changed, dd))
			for _, p := range Phases {
				if got[p] != c.want[p] {
					t.Errorf("%s: loaded = %v, want %v", p, got[p], c.want[p])
				}
			}
		})
	}
}

// TestCacheKey: the key depends on what shapes a phase's numbers and on
// nothing else.
func TestCacheKey(t *testing.T) {
	cfg := cacheTestConfig(t)
	d := cacheTestData(t, &cfg)
	keys := func(cfg Config, d *Data) map[Phase]string {
		s := newCacheSession(t, cfg, d)
		out := map[Phase]string{}
		for _, p := range Phases {
			k, err := s.CacheKey(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(k) != 64 {
				t.Fatalf("key %q is not a hex SHA-256", k)
			}
			out[p] = k
		}
		return out
	}
	base := keys(cfg, d)
	if base[PhaseTrain] == base[PhaseFisher] || base[PhaseFisher] == base[PhasePrune] {
		t.Errorf("phases share a key: %v", base)
	}

	other := cfg
	other.Log, other.Parallel, other.OutDir, other.RunDirLock = os.Stderr, 1, t.TempDir(), nil
	if got := keys(other, d); !reflect.DeepEqual(got, base) {
		t.Error("log, parallelism or run directory changed a key")
	}

	lr := cfg
	lr.Train.LearningRate = 2e-3
	if got := keys(lr, d); got[PhaseTrain] == base[PhaseTrain] || got[PhasePrune] == base[PhasePrune] || got[PhaseStudy] == base[PhaseStudy] {
		t.Error("a training learning rate did not change the train, prune and study keys")
	}

	// The study's settings are in the study's key and in no other; the
	// protocol's settings the study does not use are not in its key.
	withStudy := cfg
	withStudy.Study = StudyConfig{Seeds: 2, Shadows: 8, ULiRAModels: 3, Fraction: 0.2}
	studyKeys := keys(withStudy, d)
	for _, p := range []Phase{PhaseTrain, PhaseFisher, PhasePrune} {
		if studyKeys[p] != base[p] {
			t.Errorf("the study's settings changed the %s key", p)
		}
	}
	if studyKeys[PhaseStudy] == base[PhaseStudy] || studyKeys[PhaseStudy] == studyKeys[PhasePrune] {
		t.Error("the study's settings did not change its key, or it shares the prune key")
	}
	for name, mutate := range map[string]func(*Config){
		"seeds":    func(c *Config) { c.Study.Seeds = 3 },
		"shadows":  func(c *Config) { c.Study.Shadows = 16 },
		"fraction": func(c *Config) { c.Study.Fraction = 0.3 },
	} {
		c := withStudy
		mutate(&c)
		if got := keys(c, d); got[PhaseStudy] == studyKeys[PhaseStudy] || got[PhasePrune] != studyKeys[PhasePrune] {
			t.Errorf("study %s: study key changed %v, prune key changed %v", name,
				got[PhaseStudy] != studyKeys[PhaseStudy], got[PhasePrune] != studyKeys[PhasePrune])
		}
	}
	unused := withStudy
	unused.Fractions, unused.Fisher, unused.NonMembers = []float64{0.2}, "true", 30
	if got := keys(unused, cacheTestDataFor(t, d, unused)); got[PhaseStudy] != studyKeys[PhaseStudy] || got[PhasePrune] == studyKeys[PhasePrune] {
		t.Error("fractions, Fisher kind or the seed attack's non-members changed the study key, or not the prune key")
	}

	// Other data with the same configuration: another checksum.
	changed := *d.Set
	changed.SHA256 = map[string]string{adult.DataFile: "0", adult.TestFile: "1"}
	dd := *d
	dd.Set = &changed
	if got := keys(cfg, &dd); got[PhaseTrain] == base[PhaseTrain] {
		t.Error("other data checksums gave the same train key")
	}

	// Other deletion rows (a deletion file edited in place).
	dd = *d
	dd.DeletionRows = append([]int{d.RetainedRows[0]}, d.DeletionRows[1:]...)
	if got := keys(cfg, &dd); got[PhaseTrain] == base[PhaseTrain] {
		t.Error("other deletion rows gave the same train key")
	}
}

// cacheTestDataFor prepares d's dataset again for cfg (other non-members,
// say).
func cacheTestDataFor(t *testing.T, d *Data, cfg Config) *Data {
	t.Helper()
	dd, err := Prepare(d.Set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dd
}

// TestRunCachedStudy: the study phase is computed once, then loaded as it
// was computed, without touching what the earlier phases put into the
// results, and Write puts it into results.json. A changed study setting
// recomputes the study alone; a changed protocol setting the study does not
// use recomputes the phases that use it and loads the study.
func TestRunCachedStudy(t *testing.T) {
	cfg := cacheTestConfig(t)
	cfg.Study = StudyConfig{Seeds: 2, Shadows: 8, ULiRAModels: 3, Fraction: 0.2}
	d := cacheTestData(t, &cfg)
	marshal := func(st *results.Study) string {
		t.Helper()
		data, err := results.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	first := newCacheSession(t, cfg, d)
	if _, err := first.RunCached(context.Background(), PhaseStudy); err == nil || !strings.Contains(err.Error(), "after the prune phase") {
		t.Errorf("study before the protocol's phases: err = %v", err)
	}
	if loaded := runThrough(t, first, PhaseStudy); loaded[PhaseStudy] {
		t.Fatal("empty run directory, yet the study was loaded")
	}
	st := first.Results().Study
	if st == nil || len(st.Seeds) != 2 || st.Shadows != 8 || len(st.Methods) == 0 || st.Methods[0].Shadow == nil {
		t.Fatalf("study missing or incomplete: %+v", st)
	}
	computed := marshal(st)

	second := newCacheSession(t, cfg, d)
	if loaded := runThrough(t, second, PhaseStudy); !loaded[PhaseTrain] || !loaded[PhaseFisher] || !loaded[PhasePrune] || !loaded[PhaseStudy] {
		t.Fatalf("same configuration, yet loaded only %v", loaded)
	}
	if got := marshal(second.Results().Study); got != computed {
		t.Errorf("loaded study differs from the computed one:\n%s", firstLineDiff(computed, got))
	}
	if got, want := phaseOutputs(t, second), phaseOutputs(t, first); got != want {
		t.Errorf("loading the study changed the protocol's results:\n%s", firstLineDiff(want, got))
	}
	if err := second.Write(); err != nil {
		t.Fatal(err)
	}
	onDisk, err := results.Read(filepath.Join(cfg.OutDir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if onDisk.Study == nil || marshal(onDisk.Study) != computed {
		t.Error("results.json does not hold the loaded study")
	}
	if tm := onDisk.Timings; tm.Total < tm.Train+tm.Fisher+tm.PruneFinetune+st.Seconds {
		t.Errorf("loaded run: total time %.3fs is less than its phases' and the study's", tm.Total)
	}

	for _, c := range []struct {
		name   string
		mutate func(*Config)
		want   map[Phase]bool // loaded
	}{
		{"fractions", func(c *Config) { c.Fractions = []float64{0.2} }, map[Phase]bool{PhaseTrain: true, PhaseStudy: true}},
		{"study shadows", func(c *Config) { c.Study.Shadows = 0 }, map[Phase]bool{PhaseTrain: true, PhaseFisher: true, PhasePrune: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			changed := cfg
			c.mutate(&changed)
			s := newCacheSession(t, changed, d)
			got := runThrough(t, s, PhaseStudy)
			for _, p := range Phases {
				if got[p] != c.want[p] {
					t.Errorf("%s: loaded = %v, want %v", p, got[p], c.want[p])
				}
			}
			if st := s.Results().Study; st == nil || st.Shadows != changed.Study.Shadows {
				t.Errorf("study after the change: %+v", st)
			}
		})
	}

	none := cfg
	none.Study = StudyConfig{}
	if _, err := newCacheSession(t, none, d).RunCachedThrough(context.Background(), PhaseStudy); err == nil || !strings.Contains(err.Error(), "Study.Seeds > 0") {
		t.Errorf("study phase without a study: err = %v", err)
	}
}

// TestRunCachedBadFiles: a corrupt or foreign cache file is recomputed and
// replaced; phases out of order are an error.
func TestRunCachedBadFiles(t *testing.T) {
	cfg := cacheTestConfig(t)
	d := cacheTestData(t, &cfg)

	s := newCacheSession(t, cfg, d)
	if _, err := s.RunCached(context.Background(), PhaseFisher); err == nil || !strings.Contains(err.Error(), "run PhaseTrain first") {
		t.Errorf("Fisher before training: err = %v", err)
	}
	if _, err := s.RunCached(context.Background(), "nap"); err == nil {
		t.Error("unknown phase: no error")
	}
	if _, err := (&Session{cfg: cfg}).RunCached(context.Background(), PhaseTrain); err == nil || !strings.Contains(err.Error(), "no data") {
		t.Errorf("no data: err = %v", err)
	}

	st, err := s.RunCached(context.Background(), PhaseTrain)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg.OutDir, st.File)
	if err := os.WriteFile(path, []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := newCacheSession(t, cfg, d)
	st2, err := again.RunCached(context.Background(), PhaseTrain)
	if err != nil {
		t.Fatal(err)
	}
	if st2.Loaded || !strings.Contains(st2.Reason, "unreadable") {
		t.Errorf("corrupt file: %+v", st2)
	}
	third := newCacheSession(t, cfg, d)
	if st3, err := third.RunCached(context.Background(), PhaseTrain); err != nil || !st3.Loaded {
		t.Errorf("after the rewrite: %+v, %v", st3, err)
	}

	// A file of another key under this key's name (a truncated-hash collision).
	cf, err := readCacheFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cf.Key = strings.Repeat("0", 64)
	if err := writeCacheFile(path, cf); err != nil {
		t.Fatal(err)
	}
	if st4, err := newCacheSession(t, cfg, d).RunCached(context.Background(), PhaseTrain); err != nil || st4.Loaded || st4.Reason == "" {
		t.Errorf("foreign key: %+v, %v", st4, err)
	}

	if err := ClearCache(cfg.OutDir); rundir.Supported && !errors.Is(err, ErrRunDirInUse) {
		t.Errorf("ClearCache while the directory is locked: err = %v, want ErrRunDirInUse", err)
	}
	if err := cfg.RunDirLock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := ClearCache(cfg.OutDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.OutDir, CacheDir)); !os.IsNotExist(err) {
		t.Errorf("cache directory still there: %v", err)
	}
}

func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: %s\nvs      %s", i+1, al[i], bl[i])
		}
	}
	return "lengths differ"
}
