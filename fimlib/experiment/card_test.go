package experiment

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/modelcard"
)

// TestCheckpointRewriteKeepsParamsHash: the content hash is over the
// parameters, not over gomlx's files, so a checkpoint written again (its
// gzip files may differ) reloads to the same hash, while a parameter moved
// by one ULP gives another.
func TestCheckpointRewriteKeepsParamsHash(t *testing.T) {
	out := t.TempDir()
	params := mlp.Seed.Init(7)
	want := modelcard.ParamsHash(params)
	reload := func(name string) string {
		t.Helper()
		got, err := LoadCheckpoint(filepath.Join(out, CheckpointsDir, name), mlp.Seed)
		if err != nil {
			t.Fatal(err)
		}
		return modelcard.ParamsHash(got)
	}
	for i := range 2 { // written, then written again over itself
		if err := saveCheckpoint(out, "m", params, nil); err != nil {
			t.Fatal(err)
		}
		if got := reload("m"); got != want {
			t.Errorf("write %d: reloaded parameters hash to %s, want %s", i+1, got, want)
		}
	}
	if err := saveCheckpoint(out, "other", mlp.Clone(params), nil); err != nil {
		t.Fatal(err)
	}
	if got := reload("other"); got != want {
		t.Errorf("a second checkpoint of the same parameters hashes to %s, want %s", got, want)
	}

	ulp := mlp.Clone(params)
	v := &ulp[4].Values[17]
	*v = math.Nextafter32(*v, float32(math.Inf(1)))
	if err := saveCheckpoint(out, "ulp", ulp, nil); err != nil {
		t.Fatal(err)
	}
	if got := reload("ulp"); got == want || got != modelcard.ParamsHash(ulp) {
		t.Errorf("one ULP changed: reloaded hash %s; the original's %s, the changed parameters' %s", got, want, modelcard.ParamsHash(ulp))
	}
	if _, err := os.Stat(filepath.Join(out, CheckpointsDir, "m", modelcard.File)); !os.IsNotExist(err) {
		t.Errorf("a checkpoint saved without a card has one: %v", err)
	}
}
