package parallel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunLimitsAndCompletes(t *testing.T) {
	var running, most, done atomic.Int32
	tasks := make([]func(context.Context) error, 9)
	for i := range tasks {
		tasks[i] = func(context.Context) error {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			done.Add(1)
			return nil
		}
	}
	if err := Run(context.Background(), 2, tasks...); err != nil {
		t.Fatal(err)
	}
	if done.Load() != 9 || most.Load() > 2 {
		t.Errorf("%d of 9 tasks ran, at most %d at once (want 9, ≤ 2)", done.Load(), most.Load())
	}
}

func TestRunStopsOnFirstFailure(t *testing.T) {
	boom := errors.New("boom")
	var cancelled atomic.Bool
	err := Run(context.Background(), 2,
		func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				cancelled.Store(true)
				return ctx.Err()
			case <-time.After(5 * time.Second):
				return nil
			}
		},
		func(context.Context) error { return boom },
		func(context.Context) error { t.Error("a task started after the failure"); return nil })
	if !errors.Is(err, boom) {
		t.Errorf("Run = %v, want the failure", err)
	}
	if !cancelled.Load() {
		t.Error("the running task was not cancelled")
	}
}
