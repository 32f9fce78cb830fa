package adult

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
)

// DefaultDeletionSpec is the seed protocol's deletion set: the first 100
// rows of the (shuffled) training split.
const DefaultDeletionSpec = "first:100"

// DeletionKind names how a DeletionSpec chooses rows.
type DeletionKind string

const (
	DeleteFirst  DeletionKind = "first"  // the first N rows of the training split
	DeleteRandom DeletionKind = "random" // N rows of the training split drawn with a seed
	DeleteFile   DeletionKind = "file"   // row ids listed in a file
)

// DeletionSpec says which training rows to forget. Its text form is
// "first:N", "random:N" or "file:PATH"; see ParseDeletionSpec.
type DeletionSpec struct {
	Kind DeletionKind
	N    int    // for DeleteFirst and DeleteRandom; at least 1
	Path string // for DeleteFile
}

// ParseDeletionSpec parses "first:N", "random:N" or "file:PATH". N must be a
// positive integer; whether it fits the training split is checked by Select.
// A file holds row ids (indices into the cleaned Dataset), one per line;
// blank lines and text after '#' are ignored.
func ParseDeletionSpec(s string) (DeletionSpec, error) {
	kind, arg, ok := strings.Cut(s, ":")
	if !ok {
		return DeletionSpec{}, fmt.Errorf("adult: deletion spec %q: want first:N, random:N or file:PATH", s)
	}
	switch k := DeletionKind(kind); k {
	case DeleteFirst, DeleteRandom:
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return DeletionSpec{}, fmt.Errorf("adult: deletion spec %q: N must be a positive integer, got %q", s, arg)
		}
		return DeletionSpec{Kind: k, N: n}, nil
	case DeleteFile:
		if arg == "" {
			return DeletionSpec{}, fmt.Errorf("adult: deletion spec %q: file path is empty", s)
		}
		return DeletionSpec{Kind: k, Path: arg}, nil
	default:
		return DeletionSpec{}, fmt.Errorf("adult: deletion spec %q: unknown kind %q, want first, random or file", s, kind)
	}
}

// String returns the text form, which ParseDeletionSpec reads back.
func (spec DeletionSpec) String() string {
	if spec.Kind == DeleteFile {
		return string(spec.Kind) + ":" + spec.Path
	}
	return string(spec.Kind) + ":" + strconv.Itoa(spec.N)
}

// Select returns the row ids to delete, a subset of train, always in the
// order they appear in train whatever the kind, so that the same set gives
// the same sequence. seed is used by DeleteRandom only; a file is read on
// each call.
func (spec DeletionSpec) Select(train []int, seed int64) ([]int, error) {
	switch spec.Kind {
	case DeleteFirst, DeleteRandom:
		if spec.N < 1 || spec.N > len(train) {
			return nil, fmt.Errorf("adult: deletion spec %s: N must be in [1, %d] (the training split size)", spec, len(train))
		}
		if spec.Kind == DeleteFirst {
			return slices.Clone(train[:spec.N]), nil
		}
		r := rand.New(rand.NewPCG(uint64(seed), deletionStream))
		pos := r.Perm(len(train))[:spec.N]
		slices.Sort(pos)
		out := make([]int, len(pos))
		for k, p := range pos {
			out[k] = train[p]
		}
		return out, nil
	case DeleteFile:
		return selectFile(spec.Path, train)
	default:
		return nil, fmt.Errorf("adult: deletion spec %q: unknown kind", spec.Kind)
	}
}

// selectFile reads row ids from path and checks each against train.
func selectFile(path string, train []int) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("adult: deletion file: %w", err)
	}
	pos := make(map[int]int, len(train)) // row id → position in train
	for p, id := range train {
		pos[id] = p
	}
	seenAt := make(map[int]int) // row id → line it was listed on
	var picked []int            // positions in train
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		id, err := strconv.Atoi(text)
		if err != nil {
			return nil, fmt.Errorf("adult: %s:%d: want a row id (non-negative integer), got %q", path, line, text)
		}
		p, ok := pos[id]
		if !ok {
			return nil, fmt.Errorf("adult: %s:%d: row id %d is not in the training split", path, line, id)
		}
		if first, dup := seenAt[id]; dup {
			return nil, fmt.Errorf("adult: %s:%d: row id %d already listed on line %d", path, line, id, first)
		}
		seenAt[id] = line
		picked = append(picked, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("adult: %s: %w", path, err)
	}
	if len(picked) == 0 {
		return nil, fmt.Errorf("adult: %s: no row ids (want one per line)", path)
	}
	slices.Sort(picked)
	out := make([]int, len(picked))
	for k, p := range picked {
		out[k] = train[p]
	}
	return out, nil
}

// Retained returns the rows of train that are not in deleted, in train
// order.
func Retained(train, deleted []int) []int {
	del := make(map[int]bool, len(deleted))
	for _, id := range deleted {
		del[id] = true
	}
	out := make([]int, 0, max(len(train)-len(deleted), 0))
	for _, id := range train {
		if !del[id] {
			out = append(out, id)
		}
	}
	return out
}
