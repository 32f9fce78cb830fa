package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
)

// FuzzRender feeds arbitrary bytes through results.Decode and, when they are
// accepted, through Render. Render must not panic; when it succeeds, the page
// must hold no <script and a second Render must give byte-identical files.
// Seeds: the report's and package results' test files, compact copies, and
// mutations in testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	for _, path := range []string{
		filepath.Join("testdata", "small.json"),
		filepath.Join("testdata", "real-results.json"),
		filepath.Join("..", "fimlib", "results", "testdata", "golden", "results.json"),
		filepath.Join("..", "fimlib", "results", "testdata", "golden", "results-v2.json"),
	} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			f.Fatal(err)
		}
		f.Add(compact.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := results.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		a, err := Render(res, Options{})
		if err != nil {
			t.Fatalf("Render refused results that Decode accepted: %v", err)
		}
		if bytes.Contains(bytes.ToLower(a.HTML), []byte("<script")) {
			t.Fatal("report.html contains <script")
		}
		b, err := Render(res, Options{})
		if err != nil {
			t.Fatalf("second Render: %v", err)
		}
		fa, fb := a.List(), b.List()
		if len(fa) != len(fb) {
			t.Fatalf("second Render gave %d files, the first %d", len(fb), len(fa))
		}
		for i := range fa {
			if fa[i].Name != fb[i].Name || !bytes.Equal(fa[i].Data, fb[i].Data) {
				t.Fatalf("second Render differs in %s", fa[i].Name)
			}
		}
	})
}

// TestRenderRefusesInvalid checks that Render validates its input: results
// that results.Validate refuses (NaN, out of range, absurd sizes) give an
// error naming the field, and no report.
func TestRenderRefusesInvalid(t *testing.T) {
	for _, tc := range []struct {
		path, want string
		mutate     func(r *results.Results)
	}{
		{"models.full.test_accuracy", "NaN, want a finite number", func(r *results.Results) { r.Models.Full.TestAccuracy = math.NaN() }},
		{"models.pruned[1].test_accuracy", "+Inf, want a finite number", func(r *results.Results) { r.Models.Pruned[1].TestAccuracy = math.Inf(1) }},
		{"models.pruned[0].mia.auc", "want a fraction in [0, 1]", func(r *results.Results) { r.Models.Pruned[0].MIA.AUC = 1.5 }},
		{"dataset.feature_names", "want at most 10000", func(r *results.Results) { r.Dataset.FeatureNames = make([]string, results.MaxFeatureNames+1) }},
		{"models.retrain.train_seconds", "want 0 or seconds", func(r *results.Results) { r.Models.Retrain.TrainSeconds = -1 }},
	} {
		res := loadResults(t, "small.json")
		tc.mutate(res)
		files, err := Render(res, Options{})
		var fe *results.FieldError
		if files != nil || !errors.As(err, &fe) || fe.Path != tc.path || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Render with a bad %s: files %v, err %v; want an error naming it and saying %q", tc.path, files != nil, err, tc.want)
		}
		if err := WriteDir(res, filepath.Join(t.TempDir(), "out"), Options{}); err == nil {
			t.Errorf("WriteDir with a bad %s succeeded", tc.path)
		}
	}
	// The message for NaN accuracy, as a user sees it.
	res := loadResults(t, "small.json")
	res.Models.Full.TestAccuracy = math.NaN()
	_, err := Render(res, Options{})
	if want := "results: invalid models.full.test_accuracy: NaN, want a finite number"; err == nil || err.Error() != want {
		t.Errorf("Render with a NaN accuracy: err %v, want %q", err, want)
	}
}

// TestFuzzRenderSeeds checks the checked-in seeds of FuzzRender: those named
// refused-* are refused by results.Decode, the others render.
func TestFuzzRenderSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRender")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 4 {
		t.Errorf("%d seeds in %s, want at least 4", len(entries), dir)
	}
	for _, e := range entries {
		text, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		head, body, _ := strings.Cut(strings.TrimSpace(string(text)), "\n")
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(body, "[]byte("), ")"))
		if head != "go test fuzz v1" || err != nil {
			t.Fatalf("%s: not a go test fuzz v1 file with one []byte (%v)", e.Name(), err)
		}
		res, err := results.Decode(strings.NewReader(s))
		if strings.HasPrefix(e.Name(), "refused-") {
			if err == nil {
				t.Errorf("%s: accepted", e.Name())
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if _, err := Render(res, Options{}); err != nil {
			t.Errorf("%s: Render: %v", e.Name(), err)
		}
	}
}
