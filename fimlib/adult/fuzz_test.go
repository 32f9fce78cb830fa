package adult

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the Adult parser: it must return rows or
// a *ParseError, never panic, and whatever it accepts must encode.
func FuzzParse(f *testing.F) {
	f.Add([]byte("39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n"))
	f.Add([]byte("|1x3 Cross validator\n25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, United-States, <=50K.\n"))
	f.Add([]byte("\xef\xbb\xbf50, ?, 1, a, 2, b, c, d, e, f, 0, 0, 40, g, >50K\r\n"))
	f.Add([]byte("1,2,3\n"))
	f.Add([]byte("\"unterminated, 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := parse("fuzz.data", b)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T, want *ParseError: %v", err, err)
			}
			return
		}
		if len(rows) == 0 {
			return
		}
		// Each row's line is a real line of the input, in increasing order.
		lines := bytes.Count(b, []byte("\n")) + 1
		for i, r := range rows {
			if r.origin.Line < 1 || r.origin.Line > lines || (i > 0 && r.origin.Line <= rows[i-1].origin.Line) {
				t.Fatalf("row %d on line %d (previous %v, %d lines)", i, r.origin.Line, rows[max(i-1, 0)].origin.Line, lines)
			}
		}
		d := encode(rows)
		if d.Rows() != len(rows) || len(d.X) != d.Rows()*len(d.Features) {
			t.Fatalf("encoded %d rows × %d features into %d values", d.Rows(), len(d.Features), len(d.X))
		}
	})
}

// FuzzParseDeletionSpec checks that any accepted spec prints back to itself.
func FuzzParseDeletionSpec(f *testing.F) {
	for _, s := range []string{"first:100", "random:5", "file:ids.txt", "first:", "last:3", "random:-1", "first:1e3", ":", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseDeletionSpec(s)
		if err != nil {
			return
		}
		again, err := ParseDeletionSpec(spec.String())
		if err != nil || again != spec {
			t.Fatalf("%q parsed as %+v, which prints as %q and reparses as %+v, %v", s, spec, spec.String(), again, err)
		}
	})
}

// FuzzSelectFile feeds arbitrary row-id files to Select: the result must be a
// duplicate-free subset of the training split, in training order.
func FuzzSelectFile(f *testing.F) {
	f.Add([]byte("3\n5\n"))
	f.Add([]byte("# comment\n7 # seven\n\n"))
	f.Add([]byte("3\n3\n"))
	f.Add([]byte("-1\n"))
	f.Add([]byte("99999999999999999999\n"))
	train := []int{9, 3, 7, 5, 1}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "ids")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := DeletionSpec{Kind: DeleteFile, Path: path}.Select(train, 1)
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatal("empty selection without an error")
		}
		last := -1
		for _, id := range got {
			p := slices.Index(train, id)
			if p < 0 || p <= last {
				t.Fatalf("selection %v is not an ordered subset of %v", got, train)
			}
			last = p
		}
	})
}
