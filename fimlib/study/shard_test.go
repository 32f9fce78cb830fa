package study

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/store"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/internal/testsupport"
	"github.com/gomlx/compute"
)

func smallStudy() (Data, Config) {
	d := Data{Train: rowsOf(240, 1), Val: rowsOf(80, 2), Test: rowsOf(120, 3)}
	cfg := Config{
		Seeds: []uint64{1, 2}, Fraction: 0.2, Shadows: 8, ULiRAModels: 3, ForgetRows: 20,
		Arch:  mlp.Arch{Inputs: 6, Hidden: []int{12, 6}, Classes: 2, Dropout: 0.1},
		Train: train.Seed, FineTune: train.SeedFineTune, CodeVersion: "test",
	}
	cfg.Train.MaxEpochs, cfg.Train.Patience = 4, 2
	cfg.FineTune.MaxEpochs = 2
	return d, cfg
}

// withoutTimes is st as JSON without its wall times.
func withoutTimes(t *testing.T, st *results.Study) string {
	t.Helper()
	b, err := json.MarshalIndent(st.WithoutTimes(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runShards runs shards 0..n−1 of cfg into s side by side, as a job array
// runs them, and fails unless each ends with ErrShardDone.
func runShards(t *testing.T, d Data, cfg Config, s *store.Store, n, stage int) {
	t.Helper()
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			c := cfg
			c.Store, c.Shard, c.ShardWait = s, Shard{Index: i, Count: n, Stage: stage}, time.Minute
			_, err := Run(context.Background(), be, d, c)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; !errors.Is(err, ErrShardDone) {
			t.Fatalf("shard: %v, want ErrShardDone", err)
		}
	}
}

// shardSetup returns a backend, the small study, the study of one process
// without a store (what every sharded run must equal) and an empty store.
func shardSetup(t *testing.T) (compute.Backend, Data, Config, *results.Study, *store.Store) {
	t.Helper()
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	d, cfg := smallStudy()
	want, err := Run(context.Background(), be, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return be, d, cfg, want, s
}

// TestShardsEqualOneProcess: the study run as 3 shards into one store, then
// assembled by a run without a shard, equals the study of one process
// without a store, apart from times; a second assembly computes nothing.
func TestShardsEqualOneProcess(t *testing.T) {
	be, d, cfg, want, s := shardSetup(t)
	runShards(t, d, cfg, s, 3, 0)
	c := cfg
	c.Store = s
	assembly := time.Now()
	got, err := Run(context.Background(), be, d, c)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := withoutTimes(t, got), withoutTimes(t, want); g != w {
		t.Errorf("assembled from shards differs from one process:\n%s", testsupport.FirstDiff(g, w))
	}
	entries := 0
	filepath.Walk(s.Dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			entries++
			if info.ModTime().After(assembly) {
				t.Errorf("the assembly wrote %s although the shards stored every unit", p)
			}
		}
		return nil
	})
	// Full models, shadows, and each of 11 methods on both.
	if entries != 2+2*11 {
		t.Errorf("%d store entries, want %d", entries, 2+2*11)
	}
}

// TestShardKilledMidway: a shard stopped in the middle of its work leaves
// only whole entries in the store; running the shards again completes the
// study, which equals the study of one process apart from times.
func TestShardKilledMidway(t *testing.T) {
	be, d, cfg, want, s := shardSetup(t)
	// Shard 0 of 2 is stopped once its first unit is stored.
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg
	c.Store, c.Shard, c.ShardWait = s, Shard{Index: 0, Count: 2}, time.Minute
	c.Log = func(format string, args ...any) {
		if strings.HasPrefix(format, "trained") {
			cancel()
		}
	}
	if _, err := Run(ctx, be, d, c); err == nil || errors.Is(err, ErrShardDone) {
		t.Fatalf("stopped shard: %v, want an error", err)
	}
	stored := 0
	filepath.Walk(s.Dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		if strings.Contains(p, ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		stored++
		return nil
	})
	if stored == 0 || stored >= 2+2*11 {
		t.Fatalf("%d entries after the stop, want some but not all", stored)
	}
	// Both shards again, side by side as a job array runs them (the stopped
	// one resumes from the store; each may wait for the other's units),
	// then the assembly.
	runShards(t, d, cfg, s, 2, 0)
	c = cfg
	c.Store = s
	got, err := Run(context.Background(), be, d, c)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := withoutTimes(t, got), withoutTimes(t, want); g != w {
		t.Errorf("resumed study differs from one process:\n%s", testsupport.FirstDiff(g, w))
	}
}

// TestShardStages: shards run one at a time, stage by stage (as dependent
// job arrays run them on a cluster with one free slot), never wait for each
// other, and give the study of one process; stage 2 before stage 1 is
// refused with an error that says so.
func TestShardStages(t *testing.T) {
	be, d, cfg, want, s := shardSetup(t)
	run := func(i, stage int) error {
		c := cfg
		// No waiting: a shard that waited would fail after a millisecond.
		c.Store, c.Shard, c.ShardWait = s, Shard{Index: i, Count: 4, Stage: stage}, time.Millisecond
		_, err := Run(context.Background(), be, d, c)
		return err
	}
	if err := run(0, StageMethods); err == nil || !strings.Contains(err.Error(), "run stage 1") {
		t.Errorf("stage 2 before stage 1: %v, want an error that says to run stage 1 first", err)
	}
	for _, stage := range []int{StageModels, StageMethods} {
		for i := range 4 {
			if err := run(i, stage); !errors.Is(err, ErrShardDone) {
				t.Fatalf("shard %d, stage %d: %v", i, stage, err)
			}
		}
	}
	c := cfg
	c.Store = s
	got, err := Run(context.Background(), be, d, c)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := withoutTimes(t, got), withoutTimes(t, want); g != w {
		t.Errorf("staged shards differ from one process:\n%s", testsupport.FirstDiff(g, w))
	}
}
