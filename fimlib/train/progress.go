package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// EpochLine is what a run reports after each epoch.
type EpochLine struct {
	Name               string
	Epoch, MaxEpochs   int
	TrainLoss, ValLoss float64 // ValLoss is NaN without validation data
	Seconds            float64
}

func (l EpochLine) String() string {
	s := fmt.Sprintf("%s: epoch %d/%d train_loss=%.4f", l.Name, l.Epoch, l.MaxEpochs, l.TrainLoss)
	if !math.IsNaN(l.ValLoss) {
		s += fmt.Sprintf(" val_loss=%.4f", l.ValLoss)
	}
	return s + fmt.Sprintf(" (%.2fs)", l.Seconds)
}

// Progress reports training epochs: one progress bar over all the runs in
// flight when W is a terminal, one log line per epoch otherwise (CI logs,
// files). It is safe for concurrent runs; a nil *Progress is silent.
type Progress struct {
	w      io.Writer
	tty    bool
	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	active int // runs started and not finished
	total  int // epochs announced by the active runs
}

// NewProgress reports to w; nil w means silent (a nil *Progress).
func NewProgress(w io.Writer) *Progress {
	if w == nil {
		return nil
	}
	f, ok := w.(*os.File)
	return &Progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// start announces a run of up to epochs epochs.
func (p *Progress) start(name string, epochs int) {
	if p == nil || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active++
	p.total += epochs
	if p.bar == nil {
		p.bar = progressbar.NewOptions(p.total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish())
		return
	}
	p.bar.ChangeMax(p.total)
}

func (p *Progress) epoch(l EpochLine) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Describe(l.String())
		_ = p.bar.Add(1)
		return
	}
	fmt.Fprintln(p.w, l)
}

// finish ends a run that stopped early after skipping some announced epochs.
func (p *Progress) finish(skipped int) {
	if p == nil || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return
	}
	_ = p.bar.Add(skipped)
	if p.active--; p.active == 0 {
		_ = p.bar.Finish()
		p.bar, p.total = nil, 0
	}
}

// Printf writes a line (a newline is added) to the progress writer, under
// the same lock as the epochs, so that concurrent runs and their callers can
// share one writer that is not itself safe for concurrent use. On a terminal
// the bar is cleared first and redrawn at the next epoch.
func (p *Progress) Printf(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
