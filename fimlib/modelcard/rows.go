package modelcard

import (
	"fmt"
	"strconv"

	"github.com/fimprune/fimprune/fimlib/adult"
)

// Split names, as RowSpec.Split writes them.
const (
	SplitTrain = "train"
	SplitVal   = "val"
	SplitTest  = "test"
)

// What a RowSpec keeps of its split once the deletion set is drawn.
const (
	KeepRetained = "retained" // the split minus the deletion set (adult.Retained)
	KeepDeleted  = "deleted"  // the deletion set itself
)

// RowSpec says how a set of rows is formed from the data, so that anyone
// holding the data files can form it again ([RowSpec.Rows]): one split of
// adult.Split with the given seed, optionally narrowed by a deletion set
// drawn from that split.
type RowSpec struct {
	// Split is SplitTrain, SplitVal or SplitTest.
	Split string `json:"split"`
	// SplitSeed is the seed passed to adult.Split; it equals Data.SplitSeed.
	SplitSeed int64 `json:"split_seed"`
	// Deletion, when set, narrows the split to the rows kept or deleted by a
	// deletion spec; nil: the whole split.
	Deletion *DeletionDraw `json:"deletion,omitempty"`
	// Minus, when set, removes the rows with these stable ids from the rows
	// formed above: the rows deleted on request since (scripts/forget).
	// Only, when set, keeps exactly the rows with these ids, each of which
	// must be among the rows formed above: a set of rows named one by one,
	// such as a deletion request. Both are in adult.RowID.Compare order,
	// without repeats; at most one of them is set (schema v2 only).
	Minus []string `json:"minus,omitempty"`
	Only  []string `json:"only,omitempty"`
}

// DeletionDraw is a deletion set drawn from a split: adult.ParseDeletionSpec
// (Spec).Select(split rows, Seed).
type DeletionDraw struct {
	// Spec is the deletion spec: "first:N", "random:N" or "file:PATH" (a
	// file of dataset indices, which a verifier needs as well).
	Spec string `json:"spec"`
	// Seed is the seed passed to Select (used by random:N only, recorded
	// always).
	Seed int64 `json:"seed"`
	// Keep is KeepRetained or KeepDeleted.
	Keep string `json:"keep"`
}

// String describes the spec in words, e.g. "train split (split seed 42)
// minus deletion first:100 (deletion seed 7)".
func (s RowSpec) String() string {
	split := s.Split + " split (split seed " + strconv.FormatInt(s.SplitSeed, 10) + ")"
	d := s.Deletion
	out := split
	if d != nil {
		del := "deletion " + d.Spec + " (deletion seed " + strconv.FormatInt(d.Seed, 10) + ")"
		if d.Keep == KeepDeleted {
			out = del + " of the " + split
		} else {
			out = split + " minus " + del
		}
	}
	switch {
	case len(s.Only) > 0:
		return fmt.Sprintf("%d listed rows of the %s", len(s.Only), out)
	case len(s.Minus) > 0:
		return fmt.Sprintf("%s minus %d listed rows", out, len(s.Minus))
	}
	return out
}

// Rows forms the rows of s from set: dataset indices, in the order
// adult.Split, DeletionSpec.Select and adult.Retained give them.
func (s RowSpec) Rows(set *adult.Dataset) ([]int, error) {
	splits, err := adult.Split(set, s.SplitSeed)
	if err != nil {
		return nil, err
	}
	var rows []int
	switch s.Split {
	case SplitTrain:
		rows = splits.Train
	case SplitVal:
		rows = splits.Val
	case SplitTest:
		rows = splits.Test
	default:
		return nil, fmt.Errorf("modelcard: row spec: split %q, want %s, %s or %s", s.Split, SplitTrain, SplitVal, SplitTest)
	}
	if d := s.Deletion; d != nil {
		spec, err := adult.ParseDeletionSpec(d.Spec)
		if err != nil {
			return nil, err
		}
		deleted, err := spec.Select(rows, d.Seed)
		if err != nil {
			return nil, err
		}
		switch d.Keep {
		case KeepDeleted:
			rows = deleted
		case KeepRetained:
			rows = adult.Retained(rows, deleted)
		default:
			return nil, fmt.Errorf("modelcard: row spec: keep %q, want %s or %s", d.Keep, KeepRetained, KeepDeleted)
		}
	}
	if len(s.Only) > 0 && len(s.Minus) > 0 {
		return nil, fmt.Errorf("modelcard: row spec: both only and minus")
	}
	listed := s.Only
	if len(listed) == 0 {
		listed = s.Minus
	}
	if len(listed) == 0 {
		return rows, nil
	}
	member := make(map[int]bool, len(rows))
	for _, r := range rows {
		member[r] = true
	}
	picked := make(map[int]bool, len(listed))
	for _, text := range listed {
		id, err := adult.ParseRowID(text)
		if err != nil {
			return nil, err
		}
		i, ok := set.Index(id)
		if !ok || !member[i] {
			return nil, fmt.Errorf("modelcard: row spec: listed row %s is not one of the %s", text, RowSpec{Split: s.Split, SplitSeed: s.SplitSeed, Deletion: s.Deletion})
		}
		if picked[i] {
			return nil, fmt.Errorf("modelcard: row spec: row %s listed twice", text)
		}
		picked[i] = true
	}
	keep := len(s.Only) > 0
	out := make([]int, 0, len(rows))
	for _, r := range rows {
		if picked[r] == keep {
			out = append(out, r)
		}
	}
	return out, nil
}

// RowSet is a set of rows as a card records it: how it was formed, how many
// rows it holds, and the [RowIDsHash] of their stable ids, so that a
// verifier holding the data can recompute the list and check it.
type RowSet struct {
	Spec   RowSpec `json:"spec"`
	Count  int     `json:"count"`
	SHA256 string  `json:"sha256"`
}

// NewRowSet records rows (indices into set) as formed by spec. It checks that
// the rows are distinct and that set knows their stable ids; it does not
// check that spec forms them ([RowSet.Verify] does).
func NewRowSet(set *adult.Dataset, spec RowSpec, rows []int) (RowSet, error) {
	ids, err := set.RowIDs(rows)
	if err != nil {
		return RowSet{}, err
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return RowSet{}, fmt.Errorf("modelcard: row %s listed twice in %s", id, spec)
		}
		seen[id] = true
	}
	return RowSet{Spec: spec, Count: len(ids), SHA256: RowIDsHash(ids)}, nil
}

// RowsMismatchError reports a row set whose spec, applied to the data, does
// not give the rows recorded.
type RowsMismatchError struct {
	Spec                  RowSpec
	WantCount, GotCount   int    // recorded, recomputed
	WantSHA256, GotSHA256 string // recorded, recomputed
}

func (e *RowsMismatchError) Error() string {
	return fmt.Sprintf("modelcard: %s gives %d rows with ids hashing to %s, the card records %d rows hashing to %s",
		e.Spec, e.GotCount, e.GotSHA256, e.WantCount, e.WantSHA256)
}

// Verify forms the rows of r.Spec from set and checks their count and hash
// against r's; a difference is a [*RowsMismatchError].
func (r RowSet) Verify(set *adult.Dataset) error {
	rows, err := r.Spec.Rows(set)
	if err != nil {
		return err
	}
	got, err := NewRowSet(set, r.Spec, rows)
	if err != nil {
		return err
	}
	if got.Count != r.Count || got.SHA256 != r.SHA256 {
		return &RowsMismatchError{Spec: r.Spec, WantCount: r.Count, GotCount: got.Count, WantSHA256: r.SHA256, GotSHA256: got.SHA256}
	}
	return nil
}
