package adult

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// RowID is the stable identity of one row of the original UCI files: the
// file it was read from, in the role it played ([DataFile] or [TestFile],
// whatever the file was called on disk), and its 1-based line number in
// that file as stored, counting every physical line: adult.test's first line
// is its header "|1x3 Cross validator", so the first row of adult.test is
// "adult.test:2", and the first row of adult.data is "adult.data:1". Its text
// form, [RowID.String], is "FILE:LINE".
//
// A RowID does not depend on which rows cleaning drops, on the split or on
// any seed, so it names the same person's record in every run, and anyone
// holding the files can find it with `sed -n LINEp FILE`. The index of a row
// in a [Dataset] (the "row id" of [Splits] and deletion sets) is only an
// index: it follows from the RowID through [Dataset.Index].
type RowID struct {
	File string // DataFile or TestFile
	Line int    // 1-based physical line of the record's start in File
}

// String returns "FILE:LINE", e.g. "adult.data:1" or "adult.test:2", which
// [ParseRowID] reads back.
func (id RowID) String() string { return id.File + ":" + strconv.Itoa(id.Line) }

// fileRank orders the files as the Dataset does: adult.data's rows first.
func fileRank(file string) int {
	switch file {
	case DataFile:
		return 0
	case TestFile:
		return 1
	}
	return 2
}

// Compare orders row ids as a [Dataset] holds them: adult.data before
// adult.test, then by line. It returns -1, 0 or +1.
func (id RowID) Compare(other RowID) int {
	if c := cmp.Compare(fileRank(id.File), fileRank(other.File)); c != 0 {
		return c
	}
	return cmp.Compare(id.Line, other.Line)
}

// ParseRowID reads the text form "FILE:LINE" of a [RowID]: FILE is
// adult.data or adult.test and LINE a positive decimal integer without sign
// or leading zeros, so that every RowID has exactly one text form.
func ParseRowID(s string) (RowID, error) {
	file, line, ok := strings.Cut(s, ":")
	if !ok {
		return RowID{}, fmt.Errorf("adult: row id %q: want FILE:LINE (%s:N or %s:N)", s, DataFile, TestFile)
	}
	if file != DataFile && file != TestFile {
		return RowID{}, fmt.Errorf("adult: row id %q: file %q, want %s or %s", s, file, DataFile, TestFile)
	}
	n, err := strconv.Atoi(line)
	if err != nil || n < 1 || strconv.Itoa(n) != line {
		return RowID{}, fmt.Errorf("adult: row id %q: line %q, want a positive integer without sign or leading zeros", s, line)
	}
	return RowID{File: file, Line: n}, nil
}

// RowID returns the stable id of row i of d. It fails for an index out of
// range and for a Dataset that does not record where its rows came from
// (one built by hand rather than read by [LoadFiles]).
func (d *Dataset) RowID(i int) (RowID, error) {
	if len(d.Origin) != d.Rows() {
		return RowID{}, fmt.Errorf("adult: dataset records the origin of %d of its %d rows (not read by LoadFiles?)", len(d.Origin), d.Rows())
	}
	if i < 0 || i >= d.Rows() {
		return RowID{}, fmt.Errorf("adult: row %d out of range [0, %d)", i, d.Rows())
	}
	return d.Origin[i], nil
}

// RowIDs returns the text form of the stable ids of rows, in the order
// given; see [Dataset.RowID] for the errors.
func (d *Dataset) RowIDs(rows []int) ([]string, error) {
	out := make([]string, len(rows))
	for k, i := range rows {
		id, err := d.RowID(i)
		if err != nil {
			return nil, err
		}
		out[k] = id.String()
	}
	return out, nil
}

// Index returns the index in d of the row with the given id, and false when
// d holds no such row (a line dropped for a "?", a header or blank line, a
// line past the end, or a Dataset without origins). It searches in
// O(log rows): Origin is sorted by [RowID.Compare].
func (d *Dataset) Index(id RowID) (int, bool) {
	if len(d.Origin) != d.Rows() {
		return 0, false
	}
	return slices.BinarySearchFunc(d.Origin, id, RowID.Compare)
}
