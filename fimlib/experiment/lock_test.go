package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
)

// TestSessionLocksRunDir: a Session holds its run directory until Close; a
// second Session (or ClearCache) on it fails at once with ErrRunDirInUse,
// naming the directory and the holder's pid, and succeeds after Close. A
// lock passed in Config.RunDirLock is used and left held; it must be held
// and on OutDir.
func TestSessionLocksRunDir(t *testing.T) {
	if !rundir.Supported {
		t.Skip("no flock(2) on this system: run directory locks are not exclusive")
	}
	cfg := Default()
	cfg.OutDir = filepath.Join(t.TempDir(), "run")
	inUse := func(err error) {
		t.Helper()
		var e *rundir.InUseError
		if !errors.Is(err, ErrRunDirInUse) || !errors.As(err, &e) {
			t.Fatalf("err = %v, want ErrRunDirInUse", err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "run directory "+cfg.OutDir+" is in use by this process (pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("message %q does not name the directory and this process", msg)
		}
	}

	first, err := NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	_, err = NewSession(cfg)
	inUse(err)
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("the refusal took %v, want it at once", d)
	}
	inUse(ClearCache(cfg.OutDir))
	first.Close()
	second, err := NewSession(cfg)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	second.Close()

	// A lock held by the caller.
	lock, err := rundir.Acquire(cfg.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	held := cfg
	held.RunDirLock = lock
	s, err := NewSession(held)
	if err != nil {
		t.Fatalf("with the caller's lock: %v", err)
	}
	s.Close()
	_, err = rundir.Acquire(cfg.OutDir)
	inUse(err)

	other := held
	other.OutDir = t.TempDir()
	if _, err := NewSession(other); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "not on the output directory") {
		t.Errorf("lock on another directory: err = %v", err)
	}
	lock.Unlock()
	if _, err := NewSession(held); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "was released") {
		t.Errorf("released lock: err = %v", err)
	}
}

// TestFailedSessionLeavesNoDirectory: a run that fails before writing
// anything (here: data with the wrong number of features) leaves no run
// directory behind, although NewSession created it to lock it.
func TestFailedSessionLeavesNoDirectory(t *testing.T) {
	cfg := cacheTestConfig(t)
	d := cacheTestData(t, &cfg)
	cfg.RunDirLock = nil
	cfg.OutDir = filepath.Join(t.TempDir(), "new", "run")
	cfg.Arch.Inputs++
	_, err := RunWithData(t.Context(), cfg, d)
	if err == nil || !strings.Contains(err.Error(), "features") {
		t.Fatalf("err = %v, want the features mismatch", err)
	}
	if _, err := os.Stat(filepath.Dir(cfg.OutDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed run left its run directory (stat: %v)", err)
	}
}
