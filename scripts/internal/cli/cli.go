// Package cli holds what fimprune's commands share: how an error becomes an
// exit status, and how Ctrl-C (or SIGTERM) reaches a long run. Each command's
// main is `cli.Exit(name, run(...))` or, for commands that stop cleanly on
// Ctrl-C and SIGTERM, `cli.Main(name, run)`, with run returning [Usage]
// errors for a bad command line.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs run with a context that the first Ctrl-C (SIGINT) or SIGTERM
// cancels (the run stops cleanly, the same way for both: `kill PID` or a
// container's stop is handled like Ctrl-C; a second signal kills the process
// as usual), then exits as [Exit].
func Main(name string, run func(ctx context.Context, stdout, stderr io.Writer, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), signals...)
	go func() {
		<-ctx.Done()
		stop() // from now on the default handling: a second signal kills
	}()
	err := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	Exit(name, err)
}

// signals are the signals that [Main] turns into a cancelled context.
var signals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// UsageError marks a bad command line or configuration (exit status 2).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a [UsageError].
func Usage(err error) error { return UsageError{err} }

// Exit ends the program: status 0 for nil or -h, 2 for a [UsageError], 1 for
// anything else, printing the error on stderr prefixed by the command's name.
func Exit(name string, err error) {
	var usage UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
