package deletion

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
)

// Entry is one line of a ledger: a summary of one deletion record, chained
// to the line before it.
type Entry struct {
	// Seq is the line's number, 1 for the first.
	Seq int `json:"seq"`
	// Prev is [LineHash] of the line before this one; "" on the first line.
	Prev string `json:"prev_sha256"`
	// Created is the record's Created.
	Created string `json:"created"`
	// Record is the SHA-256 of the deletion.json bytes this line stands for.
	Record string `json:"record_sha256"`
	// Dir is the output model directory's base name.
	Dir string `json:"dir"`
	// Input and Output are the content hashes of the model before and after.
	Input  string `json:"input_params_sha256"`
	Output string `json:"output_params_sha256"`
	// Rows and RowsSHA256 are the request's count and ids hash.
	Rows       int    `json:"rows"`
	RowsSHA256 string `json:"rows_sha256"`
	// Method is the method that made Output; Fallback is true when it is a
	// retraining that replaced a first attempt.
	Method   results.MethodID `json:"method"`
	Fallback bool             `json:"fallback"`
	// Verdict is the output's verification verdict, "" when not verified.
	Verdict string `json:"verdict"`
}

// LineHash returns the hex SHA-256 of one ledger line, without its "\n".
func LineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// NewEntry returns the ledger line for rec, whose file bytes hash to
// recordSHA256, following the lines of prev (nil for the first).
func NewEntry(rec *Record, recordSHA256, dir string, prev [][]byte) Entry {
	e := Entry{
		Seq: len(prev) + 1, Created: rec.Created, Record: recordSHA256, Dir: dir,
		Input: rec.Input.ParamsSHA256, Output: rec.Output.ParamsSHA256,
		Rows: rec.Request.Count, RowsSHA256: rec.Request.IDsSHA256,
		Method: rec.Method.ID, Fallback: rec.Fallback != nil,
	}
	if len(prev) > 0 {
		e.Prev = LineHash(prev[len(prev)-1])
	}
	if rec.Verification != nil {
		e.Verdict = rec.Verification.Verdict
	}
	return e
}

// MarshalEntry encodes e as one ledger line, without its "\n": compact JSON
// with the fields in the order of [Entry].
func MarshalEntry(e Entry) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ReadLedgerLines returns the lines of the ledger at path (without their
// "\n"), nil when there is no ledger. Every line, the last included, must
// end in "\n": a ledger cut in the middle of a line is refused.
func ReadLedgerLines(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty ledger", path)
	}
	if data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("%s: the last line has no newline (a cut or appended-to ledger)", path)
	}
	// Split on "\n" alone: a "\r" is part of a line's bytes (and so of its
	// hash), never a terminator that could be added or dropped unseen.
	var lines [][]byte
	for _, l := range bytes.SplitAfter(data[:len(data)-1], []byte("\n")) {
		lines = append(lines, bytes.Clone(bytes.TrimSuffix(l, []byte("\n"))))
	}
	return lines, nil
}

// ChainError is a ledger line that breaks the chain.
type ChainError struct {
	// Line is the 1-based line number.
	Line    int
	Problem string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("ledger line %d: %s", e.Line, e.Problem)
}

// CheckChain decodes lines and checks that they form a chain: each decodes
// as exactly one [Entry] with no unknown fields, Seq counts 1, 2, …, Prev
// is the hash of the line before (empty on the first), each line's Input
// is the previous line's Output, and every hash field is a hex SHA-256.
// The first break is a [*ChainError].
func CheckChain(lines [][]byte) ([]Entry, error) {
	entries := make([]Entry, 0, len(lines))
	for i, line := range lines {
		n := i + 1
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var e Entry
		if err := dec.Decode(&e); err != nil {
			return nil, &ChainError{n, fmt.Sprintf("not a ledger entry: %v", err)}
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, &ChainError{n, "data after the entry"}
		}
		if e.Seq != n {
			return nil, &ChainError{n, fmt.Sprintf("seq %d, want %d", e.Seq, n)}
		}
		want := ""
		if i > 0 {
			want = LineHash(lines[i-1])
		}
		if e.Prev != want {
			if i == 0 {
				return nil, &ChainError{n, fmt.Sprintf("prev_sha256 %q on the first line, want \"\"", e.Prev)}
			}
			return nil, &ChainError{n, fmt.Sprintf("prev_sha256 %s, but line %d hashes to %s (a line was changed, dropped or reordered)", e.Prev, i, want)}
		}
		for _, h := range []struct{ name, v string }{
			{"record_sha256", e.Record}, {"input_params_sha256", e.Input}, {"output_params_sha256", e.Output}, {"rows_sha256", e.RowsSHA256},
		} {
			if !modelcard.IsHash(h.v) {
				return nil, &ChainError{n, fmt.Sprintf("%s %q is not a hex SHA-256", h.name, h.v)}
			}
		}
		if i > 0 && e.Input != entries[i-1].Output {
			return nil, &ChainError{n, fmt.Sprintf("input %s is not line %d's output %s", e.Input, i, entries[i-1].Output)}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// FileHash returns the hex SHA-256 of the file at path.
func FileHash(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
