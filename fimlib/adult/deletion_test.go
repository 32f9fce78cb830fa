package adult

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseDeletionSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    DeletionSpec
		wantErr string // substring of the error; "" for success
	}{
		{in: DefaultDeletionSpec, want: DeletionSpec{Kind: DeleteFirst, N: 100}},
		{in: "random:7", want: DeletionSpec{Kind: DeleteRandom, N: 7}},
		{in: "file:ids.txt", want: DeletionSpec{Kind: DeleteFile, Path: "ids.txt"}},
		{in: "file:C:\\rows:1.txt", want: DeletionSpec{Kind: DeleteFile, Path: "C:\\rows:1.txt"}},
		{in: "", wantErr: "want first:N"},
		{in: "first", wantErr: "want first:N"},
		{in: "first:", wantErr: "positive integer"},
		{in: "first:0", wantErr: "positive integer"},
		{in: "random:-3", wantErr: "positive integer"},
		{in: "random:1e2", wantErr: "positive integer"},
		{in: "file:", wantErr: "path is empty"},
		{in: "last:5", wantErr: `unknown kind "last"`},
		{in: "First:5", wantErr: "unknown kind"},
	}
	for _, tt := range tests {
		got, err := ParseDeletionSpec(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseDeletionSpec(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDeletionSpec(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.in {
			t.Errorf("String() = %q, want %q", s, tt.in)
		}
	}
}

func TestSelect(t *testing.T) {
	train := []int{50, 3, 41, 7, 22, 9, 15, 30, 1, 12}

	first, err := DeletionSpec{Kind: DeleteFirst, N: 3}.Select(train, 1)
	if err != nil || !slices.Equal(first, []int{50, 3, 41}) {
		t.Errorf("first:3 = %v, %v", first, err)
	}
	if got := Retained(train, first); !slices.Equal(got, train[3:]) {
		t.Errorf("Retained = %v, want %v", got, train[3:])
	}

	rnd := DeletionSpec{Kind: DeleteRandom, N: 4}
	a, err := rnd.Select(train, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := rnd.Select(train, 5)
	if !slices.Equal(a, b) {
		t.Errorf("random:4 not deterministic: %v vs %v", a, b)
	}
	if !inTrainOrder(train, a) || len(a) != 4 {
		t.Errorf("random:4 = %v, want 4 distinct rows of train in train order", a)
	}
	differs := false
	for seed := int64(6); seed < 10 && !differs; seed++ {
		c, _ := rnd.Select(train, seed)
		differs = !slices.Equal(a, c)
	}
	if !differs {
		t.Error("random:4 ignores the seed")
	}
	if got := Retained(train, a); len(got) != 6 || !inTrainOrder(train, got) {
		t.Errorf("Retained(random) = %v", got)
	}

	for _, spec := range []DeletionSpec{{Kind: DeleteFirst, N: 11}, {Kind: DeleteRandom, N: 11}, {Kind: DeleteRandom, N: 0}} {
		if _, err := spec.Select(train, 1); err == nil || !strings.Contains(err.Error(), "[1, 10]") {
			t.Errorf("%v: err = %v, want a range error", spec, err)
		}
	}
	all, err := DeletionSpec{Kind: DeleteRandom, N: 10}.Select(train, 3)
	if err != nil || !slices.Equal(all, train) {
		t.Errorf("random:10 = %v, %v, want all of train", all, err)
	}
}

// inTrainOrder reports whether sub is a subsequence of train without repeats.
func inTrainOrder(train, sub []int) bool {
	k := 0
	for _, id := range train {
		if k < len(sub) && sub[k] == id {
			k++
		}
	}
	return k == len(sub)
}

func TestSelectFile(t *testing.T) {
	train := []int{50, 3, 41, 7, 22}
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          []int
		wantErr       string
	}{
		{"ok", "# deletion set\n7\n\n  50  # first row\r\n3\n", []int{50, 3, 7}, ""},
		{"not in train", "7\n8\n", nil, ":2: row id 8 is not in the training split"},
		{"duplicate", "7\n3\n7\n", nil, ":3: row id 7 already listed on line 1"},
		{"not a number", "7\nseven\n", nil, `:2: want a row id (non-negative integer), got "seven"`},
		{"empty", "# nothing\n\n", nil, ": no row ids"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name+".txt")
		if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		spec, err := ParseDeletionSpec("file:" + path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := spec.Select(train, 0)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), path+tt.wantErr) {
				t.Errorf("%s: err = %v, want one containing %q", tt.name, err, path+tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: Select = %v, %v, want %v", tt.name, got, err, tt.want)
		}
	}
	missing := filepath.Join(dir, "missing.txt")
	if _, err := (DeletionSpec{Kind: DeleteFile, Path: missing}).Select(train, 0); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v", err)
	}
}

func ExampleParseDeletionSpec() {
	spec, err := ParseDeletionSpec(DefaultDeletionSpec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Kind, spec.N, spec)

	train := []int{17, 4, 23, 8, 42} // row ids, in the split's shuffled order
	spec, _ = ParseDeletionSpec("first:2")
	deleted, err := spec.Select(train, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(deleted, Retained(train, deleted))

	_, err = ParseDeletionSpec("last:5")
	fmt.Println(err)
	// Output:
	// first 100 first:100
	// [17 4] [23 8 42]
	// adult: deletion spec "last:5": unknown kind "last", want first, random or file
}
