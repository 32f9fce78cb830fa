package adult

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseRowID(t *testing.T) {
	for _, s := range []string{"adult.data:1", "adult.test:2", "adult.test:16282", "adult.data:32561"} {
		id, err := ParseRowID(s)
		if err != nil {
			t.Errorf("ParseRowID(%q): %v", s, err)
			continue
		}
		if id.String() != s {
			t.Errorf("ParseRowID(%q).String() = %q", s, id.String())
		}
	}
	for _, s := range []string{"", "adult.data", "adult.data:", "adult.data:0", "adult.data:-1", "adult.data:+1",
		"adult.data:01", "adult.data:1.0", "adult.names:1", "a.data:1", "ADULT.DATA:1", "adult.data:1:2", " adult.data:1",
		"adult.data:99999999999999999999"} {
		if id, err := ParseRowID(s); err == nil {
			t.Errorf("ParseRowID(%q) = %v, want an error", s, id)
		}
	}
}

func TestRowIDCompare(t *testing.T) {
	ids := []RowID{{TestFile, 2}, {DataFile, 10}, {TestFile, 16282}, {DataFile, 2}, {DataFile, 1}}
	slices.SortFunc(ids, RowID.Compare)
	want := []RowID{{DataFile, 1}, {DataFile, 2}, {DataFile, 10}, {TestFile, 2}, {TestFile, 16282}}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted %v, want %v", ids, want)
	}
}

// TestRowIDsSmall: line numbers count every physical line (the test file's
// header, blank lines, dropped "?" rows, CRLF line ends, a byte order mark),
// and Index inverts RowID.
func TestRowIDsSmall(t *testing.T) {
	data := strings.Join([]string{
		row(map[string]string{"age": "25"}),      // line 1
		row(map[string]string{"workclass": "?"}), // line 2, dropped
		"",                                       // line 3, blank
		row(map[string]string{"age": "26"}),      // line 4
		"",
	}, "\r\n")
	test := "\xef\xbb\xbf" + testHeader + // line 1
		row(map[string]string{"age": "27", "income": ">50K."}) + "\n" + // line 2
		"\n" + // line 3
		row(map[string]string{"native-country": "?", "income": ">50K."}) + "\n" + // line 4, dropped
		row(map[string]string{"age": "28", "income": "<=50K."}) + "\n" // line 5
	dp, tp := writePair(t, data, test)
	d, err := LoadFiles(dp, tp, Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"adult.data:1", "adult.data:4", "adult.test:2", "adult.test:5"}
	got, err := d.RowIDs([]int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("row ids %q, want %q", got, want)
	}
	for i := range d.Rows() {
		if age := d.Row(i)[0]; age != float32(25+i) {
			t.Errorf("row %d (%s): age %v, want %d", i, want[i], age, 25+i)
		}
		id, _ := d.RowID(i)
		if j, ok := d.Index(id); !ok || j != i {
			t.Errorf("Index(%s) = %d, %v; want %d, true", id, j, ok, i)
		}
	}
	for _, s := range []string{"adult.data:2", "adult.data:3", "adult.data:5", "adult.test:1", "adult.test:4", "adult.test:6"} {
		id, err := ParseRowID(s)
		if err != nil {
			t.Fatal(err)
		}
		if j, ok := d.Index(id); ok {
			t.Errorf("Index(%s) = %d, want no row (header, blank, dropped or past the end)", s, j)
		}
	}
	// The role, not the name on disk, names the file.
	dir := t.TempDir()
	a, b := filepath.Join(dir, "x.csv"), filepath.Join(dir, "y.csv")
	if err := os.WriteFile(a, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	d2, err := LoadFiles(a, b, Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d2.Origin, d.Origin) {
		t.Errorf("origins %v under other names, want %v", d2.Origin, d.Origin)
	}
}

func TestRowIDErrors(t *testing.T) {
	d := &Dataset{Features: []string{"x"}, X: []float32{1, 2}, Y: []int32{0, 1}}
	if _, err := d.RowID(0); err == nil {
		t.Error("a dataset without origins gave a row id")
	}
	if _, ok := d.Index(RowID{DataFile, 1}); ok {
		t.Error("a dataset without origins found a row")
	}
	d.Origin = []RowID{{DataFile, 1}, {DataFile, 2}}
	for _, i := range []int{-1, 2} {
		if _, err := d.RowID(i); err == nil {
			t.Errorf("RowID(%d) out of range gave no error", i)
		}
	}
	if _, err := d.RowIDs([]int{0, 5}); err == nil {
		t.Error("RowIDs with an index out of range gave no error")
	}
}

// TestRealRowIDs checks the mapping on the UCI files: counts per file, the
// first and last rows, and for a sample of rows that the line the id names
// holds the row's values.
func TestRealRowIDs(t *testing.T) {
	dir := realDir(t)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string][]string{}
	for _, f := range []string{DataFile, TestFile} {
		lines[f] = readLines(t, filepath.Join(dir, f))
	}
	perFile := map[string]int{}
	for i := range d.Rows() {
		id, err := d.RowID(i)
		if err != nil {
			t.Fatal(err)
		}
		perFile[id.File]++
		if i > 0 && d.Origin[i-1].Compare(id) >= 0 {
			t.Fatalf("origins not increasing at row %d: %s then %s", i, d.Origin[i-1], id)
		}
	}
	if perFile[DataFile] != 30162 || perFile[TestFile] != 15060 {
		t.Errorf("rows per file %v, want 30162 from %s and 15060 from %s", perFile, DataFile, TestFile)
	}
	for i, want := range map[int]string{0: "adult.data:1", 30161: "adult.data:32561", 30162: "adult.test:2", NumRows - 1: "adult.test:16282"} {
		if id, _ := d.RowID(i); id.String() != want {
			t.Errorf("row %d is %s, want %s", i, id, want)
		}
	}
	for i := 0; i < d.Rows(); i += 997 {
		id, _ := d.RowID(i)
		fields := strings.Split(lines[id.File][id.Line-1], ", ")
		if len(fields) != len(columns) {
			t.Fatalf("%s: %d fields", id, len(fields))
		}
		for k, c := range numericCols {
			v, err := strconv.ParseFloat(fields[c], 64)
			if err != nil || float32(v) != d.Row(i)[k] {
				t.Errorf("%s: %s = %q, row %d has %v", id, columns[c], fields[c], i, d.Row(i)[k])
			}
		}
		if strings.HasPrefix(fields[labelCol], ">50K") != (d.Y[i] == 1) {
			t.Errorf("%s: label %q, row %d has %d", id, fields[labelCol], i, d.Y[i])
		}
		if j, ok := d.Index(id); !ok || j != i {
			t.Errorf("Index(%s) = %d, %v; want %d", id, j, ok, i)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
