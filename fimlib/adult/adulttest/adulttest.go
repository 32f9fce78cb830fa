// Package adulttest finds the real UCI Adult files for tests.
package adulttest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/internal/modroot"
)

// Dir returns a directory holding adult.data and adult.test: $FIMPRUNE_DATA,
// else shared/data/adult beside the repository (the project's layout, used by
// CI), else the user cache that scripts/experiment downloads into. Without
// any, the test is skipped, except under CI ($CI set), where missing data is
// a setup error.
func Dir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(adult.EnvDataDir); dir != "" {
		return dir
	}
	var candidates []string
	if root, err := modroot.Find(); err == nil {
		candidates = append(candidates, filepath.Join(root, "..", "shared", "data", "adult"))
	}
	if cache, err := os.UserCacheDir(); err == nil {
		candidates = append(candidates, filepath.Join(cache, "fimprune", "adult"))
	}
	for _, dir := range candidates {
		if hasFiles(dir) {
			return dir
		}
	}
	msg := "UCI Adult files not found: set $" + adult.EnvDataDir + " to a directory holding adult.data and adult.test"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func hasFiles(dir string) bool {
	for _, f := range []string{adult.DataFile, adult.TestFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// WriteSynthetic writes rows in adult.data's format to path: random but
// seeded values whose label depends on age and hours-per-week, so that a
// model can learn something. Load them with adult.LoadFiles and
// adult.Options{SkipChecksum: true}.
func WriteSynthetic(t testing.TB, path string, rows int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	pick := func(options ...string) string { return options[rng.IntN(len(options))] }
	var b strings.Builder
	for range rows {
		age, hours := 18+rng.IntN(60), 10+rng.IntN(60)
		label := "<=50K"
		if age+hours+rng.IntN(30) > 95 {
			label = ">50K"
		}
		fmt.Fprintf(&b, "%d, %s, %d, %s, %d, %s, %s, %s, %s, %s, %d, %d, %d, %s, %s\n",
			age, pick("Private", "Self-emp", "State-gov"), 10000+rng.IntN(300000), pick("Bachelors", "HS-grad", "Masters"),
			1+rng.IntN(16), pick("Married", "Never-married"), pick("Sales", "Tech-support", "Exec"),
			pick("Husband", "Wife", "Own-child"), pick("White", "Black"), pick("Male", "Female"),
			rng.IntN(2)*rng.IntN(5000), rng.IntN(2)*500, hours, pick("United-States", "Mexico"), label)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
