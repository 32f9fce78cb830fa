package rundir

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func needLocking(t *testing.T) {
	t.Helper()
	if !Supported {
		t.Skip("no flock(2) on this system: run directory locks are not exclusive")
	}
}

// inUse checks that err is the in-use error of dir, naming the holder pid.
func inUse(t *testing.T, err error, dir string, pid int) {
	t.Helper()
	var e *InUseError
	if !errors.Is(err, ErrInUse) || !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *InUseError matching ErrInUse", err)
	}
	if e.Dir != dir || e.Holder == nil || e.Holder.PID != pid {
		t.Errorf("error names %q and holder %+v, want %q and pid %d", e.Dir, e.Holder, dir, pid)
	}
	msg := err.Error()
	if !strings.Contains(msg, "run directory "+dir+" is in use by ") || !strings.Contains(msg, "pid "+strconv.Itoa(pid)) {
		t.Errorf("message %q does not name the directory %s and pid %d", msg, dir, pid)
	}
}

// TestLock: a second lock on a held directory is refused, naming the
// directory and the holder; after Unlock the directory can be locked again,
// and the lock file and the directories the lock created are gone.
func TestLock(t *testing.T) {
	needLocking(t)
	root := t.TempDir()
	dir := filepath.Join(root, "a", "run")
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadHolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h.PID != os.Getpid() || h.Command == "" || time.Since(h.Started) > time.Minute {
		t.Errorf("lock file holds %+v, want this process", h)
	}
	_, err = Acquire(dir)
	inUse(t, err, dir, os.Getpid())
	if !strings.Contains(err.Error(), "in use by this process (pid ") {
		t.Errorf("a lock held by this very process is not said to be: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Errorf("second Unlock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the directories the lock created are still there after Unlock (stat: %v)", err)
	}

	// A directory with files stays; only the lock file goes.
	l, err = Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "results.json" {
		t.Errorf("after Unlock the directory holds %v (%v), want results.json alone", entries, err)
	}
}

// TestInUseMessage: the message for another process names its pid,
// command and start, and says what to do.
func TestInUseMessage(t *testing.T) {
	started := time.Date(2026, 12, 1, 12, 0, 0, 0, time.Local)
	err := &InUseError{Dir: "runs/latest", Holder: &Holder{PID: 12345, Command: "experiment -out runs/latest", Host: hostname(), Started: started}}
	want := "run directory runs/latest is in use by pid 12345 (experiment -out runs/latest, started 2026-12-01 12:00:00); wait for it to finish or choose another run directory"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	err.Holder.Host = "elsewhere"
	if !strings.Contains(err.Error(), "pid 12345 on host elsewhere (") {
		t.Errorf("another host is not named: %s", err)
	}
	err.Holder = nil
	if !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("unknown holder: %s", err)
	}
}

// TestLockExclusive: goroutines locking and unlocking one directory
// (whose parent is created and removed as they go) never hold it two at a
// time, although each release removes the lock file.
func TestLockExclusive(t *testing.T) {
	needLocking(t)
	dir := filepath.Join(t.TempDir(), "p", "run")
	var inside, acquired, refused atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				l, err := Acquire(dir)
				if errors.Is(err, ErrInUse) {
					refused.Add(1)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				acquired.Add(1)
				time.Sleep(20 * time.Microsecond)
				inside.Add(-1)
				if err := l.Unlock(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d locks taken, %d refused", acquired.Load(), refused.Load())
	if acquired.Load() == 0 {
		t.Error("no lock was ever taken")
	}
}

// TestLockHelperProcess is not a test: TestLockAcrossProcesses runs
// the test binary with it to hold a lock in another process.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv("FIMPRUNE_LOCK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestLockAcrossProcesses")
	}
	if _, err := Acquire(dir); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Minute) // until killed
	os.Exit(0)
}

// TestLockAcrossProcesses: a lock held by another process refuses
// this one, naming that process; once it is killed with SIGKILL (no
// chance to release anything), its lock file is still there but the
// directory can be locked at once.
func TestLockAcrossProcesses(t *testing.T) {
	needLocking(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "FIMPRUNE_LOCK_HELPER_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	_, err = Acquire(dir)
	inUse(t, err, dir, cmd.Process.Pid)
	if strings.Contains(err.Error(), "this process") || !strings.Contains(err.Error(), filepath.Base(os.Args[0])) {
		t.Errorf("the message does not name the other process's command: %v", err)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if h, err := ReadHolder(dir); err != nil || h.PID != cmd.Process.Pid {
		t.Fatalf("the killed holder's lock file: %+v, %v", h, err)
	}
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	if h, err := ReadHolder(dir); err != nil || h.PID != os.Getpid() {
		t.Errorf("the lock file after taking over: %+v, %v", h, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
}
