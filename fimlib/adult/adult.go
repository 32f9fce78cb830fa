package adult

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File names inside the data directory.
const (
	DataFile  = "adult.data"
	TestFile  = "adult.test"
	NamesFile = "adult.names"
)

// Pinned SHA-256 sums of the original UCI files (the files inside the UCI
// zip, https://archive.ics.uci.edu/static/public/2/adult.zip).
const (
	SHA256Data = "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"
	SHA256Test = "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"
	// SHA256Names pins adult.names, which a download also copies into the
	// cache (it is documentation, never read by the loader).
	SHA256Names = "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a"
)

// Sizes of the cleaned and encoded real data, for callers that size models
// or check results.
const (
	NumRows     = 45222 // rows left after dropping "?" rows
	NumFeatures = 96    // 6 numeric + 90 dummies
)

// pinnedSHA256 is the default for Options.ExpectedSHA256.
func pinnedSHA256() map[string]string {
	return map[string]string{DataFile: SHA256Data, TestFile: SHA256Test}
}

// Options changes how LoadFiles checks its inputs. The zero value verifies
// the pinned sums of the UCI files.
type Options struct {
	// ExpectedSHA256 maps DataFile and TestFile to the expected hex sum of
	// the file given in that role, whatever its actual name. Nil means the
	// pinned sums SHA256Data and SHA256Test. A role missing from a non-nil
	// map is not checked.
	ExpectedSHA256 map[string]string
	// SkipChecksum disables verification, for small generated files.
	SkipChecksum bool
}

// ErrChecksum is wrapped by every *ChecksumError.
var ErrChecksum = errors.New("SHA-256 mismatch")

// ChecksumError reports a file whose contents are not the expected ones,
// typically a truncated download or a different release of the data.
type ChecksumError struct {
	Path string
	Want string // expected hex SHA-256
	Got  string // actual hex SHA-256
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("adult: %s: SHA-256 mismatch: got %s, want %s (delete the file to re-download, or point -data/$%s at the UCI files)",
		e.Path, e.Got, e.Want, EnvDataDir)
}

// Unwrap returns ErrChecksum so callers can test with errors.Is.
func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// Dataset is the cleaned, encoded Adult data.
type Dataset struct {
	Features []string          // feature names; NumFeatures of them on the real data
	X        []float32         // row-major, Rows()×len(Features), unscaled
	Y        []int32           // labels, 0 (<=50K) or 1 (>50K)
	SHA256   map[string]string // DataFile, TestFile → hex sum of the bytes read
	Dir      string            // directory of the data file
	// Origin[i] is row i's stable id (file and line of the original UCI
	// files, see [RowID]), in [RowID.Compare] order; [LoadFiles] fills it.
	// A Dataset built by hand may leave it nil.
	Origin []RowID
}

// Rows returns the number of rows.
func (d *Dataset) Rows() int { return len(d.Y) }

// Row returns row i of X, sharing storage with d.X.
func (d *Dataset) Row(i int) []float32 {
	f := len(d.Features)
	return d.X[i*f : (i+1)*f : (i+1)*f]
}

// Load reads DataFile and TestFile from dir, verifies their pinned SHA-256
// sums, and cleans and encodes them as described in the package doc.
func Load(dir string) (*Dataset, error) {
	return LoadFiles(filepath.Join(dir, DataFile), filepath.Join(dir, TestFile), Options{})
}

// LoadFiles is Load with explicit paths and options. dataPath plays the role
// of adult.data (its rows come first) and testPath that of adult.test.
// Both files are checked before either is parsed, so a corrupt file is
// reported as a checksum error rather than as a confusing parse error.
func LoadFiles(dataPath, testPath string, opts Options) (*Dataset, error) {
	want := opts.ExpectedSHA256
	if want == nil {
		want = pinnedSHA256()
	}
	type input struct {
		role, path string
		body       []byte
	}
	inputs := []input{{role: DataFile, path: dataPath}, {role: TestFile, path: testPath}}
	sums := make(map[string]string, len(inputs))
	for i := range inputs {
		in := &inputs[i]
		b, err := os.ReadFile(in.path)
		if err != nil {
			// The *PathError already names the file; say which role it had.
			return nil, fmt.Errorf("adult: reading %s: %w", in.role, err)
		}
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		sums[in.role] = got
		if w, ok := want[in.role]; ok && !opts.SkipChecksum && got != w {
			return nil, &ChecksumError{Path: in.path, Want: w, Got: got}
		}
		in.body = b
	}

	var raw []rawRow
	for _, in := range inputs {
		rows, err := parse(in.path, in.body)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			rows[i].origin.File = in.role
		}
		raw = append(raw, rows...)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("adult: %s, %s: %w once rows with \"?\" are dropped", dataPath, testPath, ErrEmpty)
	}
	d := encode(raw)
	d.SHA256 = sums
	d.Dir = filepath.Dir(dataPath)
	return d, nil
}
