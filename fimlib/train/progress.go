package train

import (
	"fmt"
	"io"
	"math"
	"os"

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

// Progress reports training epochs: a progress bar when W is a terminal,
// one log line per epoch otherwise (CI logs, files). A nil *Progress is silent.
type Progress struct {
	W   io.Writer
	bar *progressbar.ProgressBar
}

// NewProgress reports to w; nil w means silent.
func NewProgress(w io.Writer) *Progress {
	if w == nil {
		return nil
	}
	return &Progress{W: w}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p *Progress) start(name string, epochs int) {
	if p == nil || !isTerminal(p.W) {
		return
	}
	p.bar = progressbar.NewOptions(epochs,
		progressbar.OptionSetWriter(p.W),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish())
}

func (p *Progress) epoch(l EpochLine) {
	if p == nil {
		return
	}
	if p.bar != nil {
		p.bar.Describe(l.String())
		_ = p.bar.Add(1)
		return
	}
	fmt.Fprintln(p.W, l)
}

func (p *Progress) finish() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
	p.bar = nil
}
