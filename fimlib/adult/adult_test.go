package adult

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// baseRow is the first row of adult.data.
var baseRow = []string{"39", "State-gov", "77516", "Bachelors", "13", "Never-married",
	"Adm-clerical", "Not-in-family", "White", "Male", "2174", "0", "40", "United-States", "<=50K"}

// row returns baseRow with the given columns replaced, joined as in the UCI
// files (", ").
func row(mods map[string]string) string {
	f := slices.Clone(baseRow)
	for name, v := range mods {
		i := slices.Index(columns[:], name)
		if i < 0 {
			panic("unknown column " + name)
		}
		f[i] = v
	}
	return strings.Join(f, ", ")
}

// writePair writes data and test contents to a temporary directory under
// the real file names and returns their paths.
func writePair(t *testing.T, data, test string) (dataPath, testPath string) {
	t.Helper()
	dir := t.TempDir()
	dataPath, testPath = filepath.Join(dir, DataFile), filepath.Join(dir, TestFile)
	for p, s := range map[string]string{dataPath: data, testPath: test} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dataPath, testPath
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

const testHeader = "|1x3 Cross validator\n"

func TestLoadFilesSmall(t *testing.T) {
	// adult.data: CRLF line ends, a "?" row, a trailing blank line.
	data := strings.Join([]string{
		row(map[string]string{"age": "25", "workclass": "Private"}),
		row(map[string]string{"workclass": "?"}),
		row(map[string]string{"workclass": "State-gov", "sex": "Female", "native-country": "Mexico", "income": ">50K"}),
		"", "",
	}, "\r\n")
	// adult.test: a BOM, the UCI header line, labels with a trailing dot,
	// a blank line in the middle and a "?" in the last field before the label.
	test := "\xef\xbb\xbf" + testHeader +
		row(map[string]string{"workclass": "Self-emp", "native-country": "mexico", "income": ">50K."}) + "\n\n" +
		row(map[string]string{"native-country": "?", "income": ">50K."}) + "\n" +
		row(map[string]string{"age": "61", "capital-gain": "0", "income": "<=50K."}) + "\n"
	dp, tp := writePair(t, data, test)

	d, err := LoadFiles(dp, tp, Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Rows(), 4; got != want {
		t.Fatalf("Rows() = %d, want %d", got, want)
	}
	if want := []int32{0, 1, 1, 0}; !slices.Equal(d.Y, want) {
		t.Errorf("Y = %v, want %v", d.Y, want)
	}
	// Levels sort in byte order ("Mexico" < "United-States" < "mexico")
	// and the first is dropped; single-level columns give no dummies.
	wantFeatures := []string{
		"age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week",
		"workclass=Self-emp", "workclass=State-gov",
		"sex=Male",
		"native-country=United-States", "native-country=mexico",
	}
	if !slices.Equal(d.Features, wantFeatures) {
		t.Errorf("Features =\n%q\nwant\n%q", d.Features, wantFeatures)
	}
	wantX := [][]float32{
		{25, 77516, 13, 2174, 0, 40, 0, 0, 1, 1, 0}, // Private (dropped level), Male, United-States
		{39, 77516, 13, 2174, 0, 40, 0, 1, 0, 0, 0}, // State-gov, Female, Mexico (dropped level)
		{39, 77516, 13, 2174, 0, 40, 1, 0, 1, 0, 1}, // Self-emp, Male, mexico
		{61, 77516, 13, 0, 0, 40, 0, 1, 1, 1, 0},    // State-gov (baseRow), Male, United-States
	}
	for i, want := range wantX {
		if got := d.Row(i); !slices.Equal(got, want) {
			t.Errorf("row %d = %v, want %v", i, got, want)
		}
	}
	if d.SHA256[DataFile] != sum(data) || d.SHA256[TestFile] != sum(test) {
		t.Errorf("SHA256 = %v, want the sums of the bytes written", d.SHA256)
	}
	if d.Dir != filepath.Dir(dp) {
		t.Errorf("Dir = %q, want %q", d.Dir, filepath.Dir(dp))
	}
}

func TestParseErrors(t *testing.T) {
	good := row(nil) + "\n"
	tests := []struct {
		name       string
		data, test string
		inTest     bool // error expected in the test file
		want       error
		line       int
		field      string
	}{
		{"field count", good + "39, State-gov, 77516\n", testHeader + good, false, ErrFieldCount, 2, ""},
		{"field count after blank lines", "\n\n" + good + "\n" + good + strings.TrimSuffix(good, "\n") + ", extra\n", testHeader + good, false, ErrFieldCount, 6, ""},
		{"comma in a number", good, testHeader + row(map[string]string{"fnlwgt": "77,5"}), true, ErrFieldCount, 2, ""},
		{"non-numeric age", good, testHeader + good + row(map[string]string{"age": "old"}) + "\n", true, ErrNotNumber, 3, "age"},
		{"NaN hours", row(map[string]string{"hours-per-week": "NaN"}), testHeader + good, false, ErrNotNumber, 1, "hours-per-week"},
		{"bad label", good + row(map[string]string{"income": "<=50"}), testHeader + good, false, ErrBadLabel, 2, "income"},
		{"two dots", good, testHeader + row(map[string]string{"income": ">50K.."}), true, ErrBadLabel, 2, "income"},
		{"empty category", row(map[string]string{"occupation": ""}), testHeader + good, false, ErrEmptyField, 1, "occupation"},
		{"empty data file", "", testHeader + good, false, ErrEmpty, 0, ""},
		{"test file header only", good, testHeader + "\n", true, ErrEmpty, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dp, tp := writePair(t, tt.data, tt.test)
			_, err := LoadFiles(dp, tp, Options{SkipChecksum: true})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T, want *ParseError", err)
			}
			wantFile := dp
			if tt.inTest {
				wantFile = tp
			}
			if pe.File != wantFile || pe.Line != tt.line || pe.Field != tt.field {
				t.Errorf("got file %s line %d field %q, want %s line %d field %q", pe.File, pe.Line, pe.Field, wantFile, tt.line, tt.field)
			}
			if msg := err.Error(); !strings.Contains(msg, wantFile) || (tt.field != "" && !strings.Contains(msg, tt.field)) {
				t.Errorf("message %q does not name the file and field", msg)
			}
		})
	}
}

func TestMissingValuesDropped(t *testing.T) {
	// A "?" anywhere drops the row before the other fields are checked, so
	// a "?" in a numeric column is not a parse error.
	data := row(map[string]string{"age": "?"}) + "\n" + row(map[string]string{"income": ">50K"}) + "\n"
	test := testHeader + row(map[string]string{"occupation": "?", "income": "bogus"}) + "\n" + row(nil) + "\n"
	dp, tp := writePair(t, data, test)
	d, err := LoadFiles(dp, tp, Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 0}; !slices.Equal(d.Y, want) {
		t.Errorf("Y = %v, want %v", d.Y, want)
	}

	// Every row dropped is an error, not an empty Dataset.
	dp, tp = writePair(t, row(map[string]string{"age": "?"}), testHeader+row(map[string]string{"race": "?"}))
	if _, err := LoadFiles(dp, tp, Options{SkipChecksum: true}); !errors.Is(err, ErrEmpty) {
		t.Errorf("all rows dropped: err = %v, want ErrEmpty", err)
	}
}

func TestChecksums(t *testing.T) {
	data := row(nil) + "\n"
	test := testHeader + row(map[string]string{"income": ">50K."}) + "\n"
	dp, tp := writePair(t, data, test)

	// The default always verifies: these are not the UCI files.
	for name, load := range map[string]func() error{
		"Load":      func() error { _, err := Load(filepath.Dir(dp)); return err },
		"LoadFiles": func() error { _, err := LoadFiles(dp, tp, Options{}); return err },
	} {
		err := load()
		var ce *ChecksumError
		if !errors.As(err, &ce) || !errors.Is(err, ErrChecksum) {
			t.Fatalf("%s: err = %v, want *ChecksumError", name, err)
		}
		msg := err.Error()
		for _, s := range []string{dp, SHA256Data, sum(data)} {
			if !strings.Contains(msg, s) {
				t.Errorf("%s: message %q does not contain %q", name, msg, s)
			}
		}
	}

	good := map[string]string{DataFile: sum(data), TestFile: sum(test)}
	if _, err := LoadFiles(dp, tp, Options{ExpectedSHA256: good}); err != nil {
		t.Errorf("matching custom sums: %v", err)
	}
	bad := map[string]string{DataFile: sum(data), TestFile: sum("other")}
	var ce *ChecksumError
	if _, err := LoadFiles(dp, tp, Options{ExpectedSHA256: bad}); !errors.As(err, &ce) || ce.Path != tp || ce.Want != sum("other") || ce.Got != sum(test) {
		t.Errorf("wrong test sum: err = %v, want a *ChecksumError for %s", err, tp)
	}
}

func TestLoadMissingFile(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, DataFile)) {
		t.Errorf("err = %v, want a not-exist error naming %s", err, filepath.Join(dir, DataFile))
	}
}
