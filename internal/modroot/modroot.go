// Package modroot finds the repository's root: the first directory at or
// above the working directory that holds go.mod. Commands run with `go run`
// and tests run with `go test` both start inside the module, so files that
// ship with the repository (scripts, testdata, the notebooks) are found
// relative to it.
package modroot

import (
	"errors"
	"os"
	"path/filepath"
)

// ErrNotFound is returned when no directory at or above the working
// directory holds go.mod.
var ErrNotFound = errors.New("no go.mod in the working directory or above it: run from inside the repository")

// Find returns the module root above the working directory.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return FindFrom(dir)
}

// FindFrom returns the first directory at or above dir that holds go.mod.
func FindFrom(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}
