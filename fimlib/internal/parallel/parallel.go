// Package parallel runs independent tasks a few at a time, stopping the
// others as soon as one fails: the protocol's models (fimlib/experiment) and
// the shadow ensembles (fimlib/shadow) train this way.
package parallel

import (
	"context"
	"sync"
)

// Run runs tasks, at most n at a time (at least 1), each with a context
// derived from ctx that is cancelled as soon as one task fails (the others
// then stop between two training steps instead of training to the end for
// nothing). It returns the first failure, or ctx's error.
func Run(ctx context.Context, n int, tasks ...func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for _, task := range tasks {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := task(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
