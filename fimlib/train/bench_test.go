package train

import (
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
