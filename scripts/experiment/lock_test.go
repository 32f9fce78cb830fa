package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/experiment/rundir"
)

// lockTestRun is the command started by the test binary (see TestMain).
type lockTestRun struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{} // closed when it has exited
	err    error         // Wait's error, once done
}

func startLockTestRun(t *testing.T, args ...string) *lockTestRun {
	t.Helper()
	p := &lockTestRun{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "FIMPRUNE_TEST_MAIN=1")
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// exited reports whether p has exited.
func (p *lockTestRun) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitCode waits for p and returns its exit status (-1: killed by a signal).
func (p *lockTestRun) exitCode() int {
	<-p.done
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -1
	}
	return 0
}

// waitForLock waits until p holds the lock of dir (it has written itself
// into the lock file), failing if p exits first.
func waitForLock(t *testing.T, p *lockTestRun, dir string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if h, err := rundir.ReadHolder(dir); err == nil && h.PID == p.cmd.Process.Pid {
			return
		}
		if p.exited() {
			t.Fatalf("run exited (%v) before it locked %s:\n%s", p.err, dir, p.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("run did not lock %s within 2 minutes", dir)
}

// TestOneRunPerDirectory starts two runs of the command on one -out: the
// one that holds the directory proceeds to the end, the other is refused
// at once (while the first still runs) with exit status 1 and a message
// naming the directory and the first run's pid. Then a run killed with
// SIGKILL while it holds the directory leaves its lock file, which does not
// block the next run.
func TestOneRunPerDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: three runs of the command")
	}
	if !rundir.Supported {
		t.Skip("no flock(2) on this system: run directory locks are not exclusive")
	}
	data := adulttest.Dir(t)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"-out", out, "-data", data, "-quiet", "-epochs", "1", "-finetune-epochs", "1",
		"-fractions", "0.3", "-bootstrap", "20", "-no-checkpoints"}

	first := startLockTestRun(t, args...)
	waitForLock(t, first, out)
	second := startLockTestRun(t, args...)
	t0 := time.Now()
	if code := second.exitCode(); code != 1 {
		t.Fatalf("second run on the same directory: exit status %d, want 1 (refused); stderr:\n%s", code, second.stderr.String())
	}
	refusal := time.Since(t0)
	if first.exited() {
		t.Errorf("the second run was refused only after the first ended (%v)", refusal)
	}
	msg := strings.TrimSpace(second.stderr.String())
	want := "experiment: run directory " + out + " is in use by pid " + strconv.Itoa(first.cmd.Process.Pid) + " ("
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "-out "+out) || !strings.HasSuffix(msg, "wait for it to finish or choose another run directory") {
		t.Errorf("second run's error:\n%s\nwant it to start with %q, name the first run's command line and say what to do", msg, want)
	}
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("the refused run printed more than its error (did it start working?):\n%s", msg)
	}
	t.Logf("refused in %v: %s", refusal.Round(time.Millisecond), msg)
	if code := first.exitCode(); code != 0 {
		t.Fatalf("first run: exit status %d; stderr:\n%s", code, first.stderr.String())
	}
	checkOutputs(t, out)
	if _, err := os.Stat(filepath.Join(out, experiment.ResultsFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, rundir.LockFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a run that ended cleanly left its lock file (stat: %v)", err)
	}

	// kill -9 while the directory is held: the kernel drops the lock.
	killed := startLockTestRun(t, args...)
	waitForLock(t, killed, out)
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := killed.exitCode(); code != -1 {
		t.Fatalf("killed run: exit status %d, want killed by SIGKILL", code)
	}
	if h, err := rundir.ReadHolder(out); err != nil || h.PID != killed.cmd.Process.Pid {
		t.Fatalf("the killed run's lock file: %+v, %v (want it left behind, naming pid %d)", h, err, killed.cmd.Process.Pid)
	}
	after := startLockTestRun(t, args...)
	if code := after.exitCode(); code != 0 {
		t.Fatalf("run after a kill -9: exit status %d, want 0; stderr:\n%s", code, after.stderr.String())
	}
	checkOutputs(t, out)
	if _, err := os.Stat(filepath.Join(out, rundir.LockFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the run after the kill left the lock file (stat: %v)", err)
	}
}
