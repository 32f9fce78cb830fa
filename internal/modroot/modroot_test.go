package modroot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFindFrom(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindFrom(deep); !errors.Is(err, ErrNotFound) && err == nil {
		// A go.mod above the temp dir would make this case meaningless.
		t.Skip("a go.mod lies above the temporary directory")
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindFrom(deep)
	if err != nil || got != root {
		t.Errorf("FindFrom(%s) = %q, %v; want %q", deep, got, err, root)
	}
}

func TestFindFromTheRepository(t *testing.T) {
	root, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "modroot", "modroot.go")); err != nil {
		t.Errorf("Find() = %s, which does not hold this package: %v", root, err)
	}
}
