//go:build unix

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as a command built on Main (for
// TestSignalsCancel): it says it is ready, waits for its context to be
// cancelled and fails with a message, as scripts/experiment does.
func TestMain(m *testing.M) {
	if os.Getenv("FIMPRUNE_CLI_TEST_MAIN") == "1" {
		Main("clitest", func(ctx context.Context, stdout, stderr io.Writer, args []string) error {
			fmt.Fprintln(stdout, "ready")
			select {
			case <-ctx.Done():
				return errors.New("interrupted: nothing was written")
			case <-time.After(time.Minute):
				return errors.New("no signal arrived")
			}
		})
	}
	os.Exit(m.Run())
}

// TestSignalsCancel: SIGINT (Ctrl-C) and SIGTERM (kill, a container's stop)
// both cancel the run's context, so the command stops cleanly with its own
// message and exit status 1 rather than dying mid-write.
func TestSignalsCancel(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "FIMPRUNE_CLI_TEST_MAIN=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ready := make([]byte, len("ready\n"))
			if _, err := io.ReadFull(stdout, ready); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit: %v, want status 1 (the run's error), not death by the signal", err)
			}
			if got, want := stderr.String(), "clitest: interrupted: nothing was written\n"; got != want {
				t.Errorf("stderr %q, want %q", got, want)
			}
		})
	}
}
