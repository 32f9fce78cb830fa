// Package fieldcheck holds the field checks that the validators of the
// project's versioned files share (modelcard.Card.Validate,
// deletion.Record.Validate): each records the first problem, as the error
// its package makes of a JSON path and a problem.
package fieldcheck

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/fimprune/fimprune/fimlib/results"
)

// MaxStringBytes bounds every string field.
const MaxStringBytes = 10_000

// MaxCount bounds counts (rows, epochs, batch sizes).
const MaxCount = 1_000_000_000

// Checker records the first problem found. NewError makes the package's
// error of a field's JSON path and its problem.
type Checker struct {
	Err      error
	NewError func(path, problem string) error
}

// Fail records a problem at path, unless one was recorded before.
func (c *Checker) Fail(path, format string, args ...any) {
	if c.Err == nil {
		c.Err = c.NewError(path, fmt.Sprintf(format, args...))
	}
}

// Num formats x in Go's shortest round-trip form.
func Num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Truncate shortens s for an error message.
func Truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// IsHash reports whether s is a hex SHA-256 as fimprune writes it: 64
// lower-case hex digits.
func IsHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Str checks a string: non-empty when required, at most MaxStringBytes,
// valid UTF-8.
func (c *Checker) Str(path, s string, required bool) {
	switch {
	case required && s == "":
		c.Fail(path, "empty")
	case len(s) > MaxStringBytes:
		c.Fail(path, "%d bytes, want at most %d", len(s), MaxStringBytes)
	case !utf8.ValidString(s):
		c.Fail(path, "not valid UTF-8")
	}
}

// Hash checks a hex SHA-256.
func (c *Checker) Hash(path, s string) {
	if !IsHash(s) {
		c.Fail(path, "%q, want a SHA-256 as 64 lower-case hex digits", Truncate(s))
	}
}

// Count checks an integer in [lo, hi].
func (c *Checker) Count(path string, n, lo, hi int) {
	if n < lo || n > hi {
		c.Fail(path, "%d, want an integer in [%d, %d]", n, lo, hi)
	}
}

// NonNegative checks a finite number ≥ 0.
func (c *Checker) NonNegative(path string, x float64) {
	if !(x >= 0) || math.IsInf(x, 0) {
		c.Fail(path, "%s, want a finite number ≥ 0", Num(x))
	}
}

// Recipe checks a training recipe: Adam, a finite learning rate and ε > 0,
// batch size and epochs ≥ 1, patience ≥ 0.
func (c *Checker) Recipe(path string, r results.TrainConfig) {
	if r.Optimizer != "adam" {
		c.Fail(path+".optimizer", "%q, want \"adam\"", Truncate(r.Optimizer))
	}
	if !(r.LearningRate > 0) || math.IsInf(r.LearningRate, 0) {
		c.Fail(path+".learning_rate", "%s, want a finite number > 0", Num(r.LearningRate))
	}
	if !(r.AdamEpsilon > 0) || math.IsInf(r.AdamEpsilon, 0) {
		c.Fail(path+".adam_epsilon", "%s, want a finite number > 0", Num(r.AdamEpsilon))
	}
	c.Count(path+".batch_size", r.BatchSize, 1, MaxCount)
	c.Count(path+".max_epochs", r.MaxEpochs, 1, MaxCount)
	c.Count(path+".patience", r.Patience, 0, MaxCount)
}
