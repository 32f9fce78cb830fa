package forget

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/modelcard"
)

// ReadIDs reads row ids one per line from r: blank lines and lines starting
// with "#" are skipped, surrounding spaces trimmed. It does not check the
// ids ([Resolve] does), so that every problem of a request is reported at
// once.
func ReadIDs(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ids = append(ids, line)
	}
	return ids, sc.Err()
}

// Problem kinds of a [RequestError].
const (
	Malformed      = "not a row id"
	Unknown        = "not a row of the data (a header or blank line, a row dropped for a \"?\", or past the end of the file)"
	Repeated       = "listed more than once"
	NeverTrained   = "never trained on by this model (a validation or test row)"
	AlreadyDeleted = "already deleted from this model"
)

// RequestError lists the ids of a request that cannot be honoured, by kind.
// Nothing is written when a request is refused.
type RequestError struct {
	// Problems maps each kind (Malformed, …) to its ids, in request order.
	Problems map[string][]string
	// Kinds are the keys of Problems in a fixed order.
	Kinds []string
}

func (e *RequestError) add(kind, id string) {
	if e.Problems == nil {
		e.Problems = map[string][]string{}
	}
	if _, ok := e.Problems[kind]; !ok {
		e.Kinds = append(e.Kinds, kind)
	}
	e.Problems[kind] = append(e.Problems[kind], id)
}

func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("the request is refused, nothing was written:")
	order := []string{Malformed, Unknown, Repeated, NeverTrained, AlreadyDeleted}
	for _, kind := range order {
		ids := e.Problems[kind]
		if len(ids) == 0 {
			continue
		}
		shown := ids[:min(len(ids), 10)]
		quoted := make([]string, len(shown))
		for i, id := range shown {
			quoted[i] = fmt.Sprintf("%q", id)
		}
		more := ""
		if len(ids) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(ids)-len(shown))
		}
		fmt.Fprintf(&b, "\n  %d %s: %s%s", len(ids), kind, strings.Join(quoted, ", "), more)
	}
	return b.String()
}

// resolved is a request checked against a model and its data.
type resolved struct {
	// ids are the request's ids in adult.RowID.Compare order; rows their
	// dataset indices in the same order.
	ids  []string
	rows []int
}

// resolve checks ids against the data and the model's card: every id must
// parse, name a row of the data, appear once, and be one of the rows the
// model trained on. All problems are collected into one [*RequestError].
func resolve(set *adult.Dataset, card *modelcard.Card, trained []int, ids []string) (*resolved, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("the request names no rows")
	}
	isTrained := make(map[int]bool, len(trained))
	for _, r := range trained {
		isTrained[r] = true
	}
	deleted := map[int]bool{}
	for _, text := range card.TrainedRows.Spec.Minus {
		id, err := adult.ParseRowID(text)
		if err != nil {
			return nil, err
		}
		if i, ok := set.Index(id); ok {
			deleted[i] = true
		}
	}
	// The run's own deletion set was deleted too (for pruned-<f> and the
	// retrained model): the trained rows' spec minus its deletion draw.
	if d := card.TrainedRows.Spec.Deletion; d != nil && d.Keep == modelcard.KeepRetained {
		spec := card.TrainedRows.Spec
		spec.Minus, spec.Deletion = nil, &modelcard.DeletionDraw{Spec: d.Spec, Seed: d.Seed, Keep: modelcard.KeepDeleted}
		rows, err := spec.Rows(set)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			deleted[r] = true
		}
	}
	var rerr RequestError
	seen := map[string]bool{}
	type row struct {
		id  adult.RowID
		idx int
	}
	var ok []row
	for _, text := range ids {
		id, err := adult.ParseRowID(text)
		if err != nil {
			rerr.add(Malformed, text)
			continue
		}
		canon := id.String()
		if seen[canon] {
			rerr.add(Repeated, text)
			continue
		}
		seen[canon] = true
		i, found := set.Index(id)
		switch {
		case !found:
			rerr.add(Unknown, text)
		case deleted[i]:
			rerr.add(AlreadyDeleted, text)
		case !isTrained[i]:
			rerr.add(NeverTrained, text)
		default:
			ok = append(ok, row{id, i})
		}
	}
	if len(rerr.Problems) > 0 {
		return nil, &rerr
	}
	if len(ok) >= len(trained) {
		return nil, fmt.Errorf("the request names all %d rows the model trained on: nothing would be left to retrain on", len(trained))
	}
	slices.SortFunc(ok, func(a, b row) int { return a.id.Compare(b.id) })
	r := &resolved{}
	for _, x := range ok {
		r.ids = append(r.ids, x.id.String())
		r.rows = append(r.rows, x.idx)
	}
	return r, nil
}

// lineHashes returns the SHA-256 of the physical line (with its "\n") of
// each id, reading the original files from dataDir and checking them
// against sums (the card's data hashes).
func lineHashes(dataDir string, sums map[string]string, ids []string) ([]string, error) {
	files := map[string][][]byte{}
	out := make([]string, len(ids))
	for k, text := range ids {
		id, err := adult.ParseRowID(text)
		if err != nil {
			return nil, err
		}
		lines, ok := files[id.File]
		if !ok {
			data, err := os.ReadFile(filepath.Join(dataDir, id.File))
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != sums[id.File] {
				return nil, fmt.Errorf("%s: SHA-256 %s, the model card records %s", filepath.Join(dataDir, id.File), got, sums[id.File])
			}
			lines = bytes.SplitAfter(data, []byte("\n"))
			files[id.File] = lines
		}
		if id.Line > len(lines) {
			return nil, fmt.Errorf("row %s: %s has %d lines", text, id.File, len(lines))
		}
		sum := sha256.Sum256(lines[id.Line-1])
		out[k] = hex.EncodeToString(sum[:])
	}
	return out, nil
}
