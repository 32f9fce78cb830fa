// Package adulttest finds the real UCI Adult files for tests.
package adulttest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult"
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
	if root, ok := moduleRoot(); ok {
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

// moduleRoot walks up from the working directory (a test's package
// directory) to the directory holding go.mod.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
