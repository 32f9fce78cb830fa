package train

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/fimprune/fimprune/fimlib/mlp"
)

// BenchmarkEpoch measures one epoch of the seed recipe (batch 64) over
// 28,941 synthetic rows of 96 features, the size of Adult's training split.
func BenchmarkEpoch(b *testing.B) {
	be, err := newBackendB()
	if err != nil {
		b.Fatal(err)
	}
	d := blobs(28941, 96, 1)
	store, err := mlp.NewStore(mlp.Seed.Init(1), 1)
	if err != nil {
		b.Fatal(err)
	}
	cfg := SeedFineTune
	cfg.MaxEpochs = 1
	b.ResetTimer()
	for range b.N {
		if _, err := Fit(be, store, mlp.Seed, d, nil, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEpochPair trains two models concurrently, one epoch each.
func BenchmarkEpochPair(b *testing.B) {
	be, err := newBackendB()
	if err != nil {
		b.Fatal(err)
	}
	d := blobs(28941, 96, 1)
	cfg := SeedFineTune
	cfg.MaxEpochs = 1
	var stores [2]*model.Store
	for i := range stores {
		if stores[i], err = mlp.NewStore(mlp.Seed.Init(uint64(i)), 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() {
				if _, err := Fit(be, stores[i], mlp.Seed, d, nil, cfg); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}

// BenchmarkEnsembleEpoch measures one epoch of the seed recipe for K models
// trained together by FitEnsemble, on the same synthetic rows as
// BenchmarkEpoch. Divide by K for the cost per model-epoch.
func BenchmarkEnsembleEpoch(b *testing.B) {
	be, err := newBackendB()
	if err != nil {
		b.Fatal(err)
	}
	d := blobs(28941, 96, 1)
	cfg := SeedFineTune
	cfg.MaxEpochs = 1
	for _, k := range []int{1, 2, 4, 16, 64} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			members := make([]Member, k)
			for m := range members {
				members[m] = Member{Name: "m", Init: mlp.Seed.Init(uint64(m)), Seed: uint64(m)}
			}
			for range b.N {
				if _, err := FitEnsemble(context.Background(), be, mlp.Seed, d, nil, cfg, members); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*k), "s/model-epoch")
		})
	}
}

// BenchmarkEnsembleEpochPair runs two ensembles of K models concurrently,
// one epoch each (2K models in all).
func BenchmarkEnsembleEpochPair(b *testing.B) {
	be, err := newBackendB()
	if err != nil {
		b.Fatal(err)
	}
	d := blobs(28941, 96, 1)
	cfg := SeedFineTune
	cfg.MaxEpochs = 1
	for _, k := range []int{1, 2, 8, 32} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			members := make([]Member, k)
			for m := range members {
				members[m] = Member{Name: "m", Init: mlp.Seed.Init(uint64(m)), Seed: uint64(m)}
			}
			for range b.N {
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() {
						if _, err := FitEnsemble(context.Background(), be, mlp.Seed, d, nil, cfg, members); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*2*k), "s/model-epoch")
		})
	}
}
