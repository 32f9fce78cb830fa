package results_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
)

// FuzzDecode feeds arbitrary bytes to Decode. Decode must not panic, and
// whatever it accepts must be valid, Marshal without error, and decode back
// from Marshal's output to an equal value (Marshal's output then being a
// fixed point). Seeds: the golden and real files, compact copies, and
// mutations in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, path := range []string{goldenResults, goldenV2Results, goldenV1Results, realResults} {
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
	f.Add([]byte(`{"schema": "fimprune/results/v1"}`))
	f.Add([]byte(`{"schema": "fimprune/results/v2"}`))
	f.Add([]byte(`{"schema": "fimprune/results/v3"}`))
	f.Add([]byte(`{"schema": "fimprune/results/v9"}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := results.Decode(bytes.NewReader(data))
		if err != nil {
			if res != nil {
				t.Fatalf("Decode returned results with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "results: ") {
				t.Fatalf("error %q does not start with \"results: \"", err)
			}
			return
		}
		if err := res.Validate(); err != nil {
			t.Fatalf("Decode accepted results that Validate refuses: %v", err)
		}
		out, err := results.Marshal(res)
		if err != nil {
			t.Fatalf("Marshal of decoded results: %v", err)
		}
		back, err := results.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("Decode of Marshal's output: %v", err)
		}
		if !reflect.DeepEqual(res, back) {
			t.Fatalf("Decode→Marshal→Decode changed the results")
		}
		again, err := results.Marshal(back)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("Marshal is not a fixed point (err %v)", err)
		}
	})
}

// readCorpus reads the checked-in seeds of a fuzz target ("go test fuzz v1"
// files holding one []byte), by file name.
func readCorpus(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		text, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		head, body, ok := strings.Cut(strings.TrimSpace(string(text)), "\n")
		if !ok || head != "go test fuzz v1" || !strings.HasPrefix(body, "[]byte(") || !strings.HasSuffix(body, ")") {
			t.Fatalf("%s: not a go test fuzz v1 file with one []byte", e.Name())
		}
		s, err := strconv.Unquote(body[len("[]byte(") : len(body)-1])
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[e.Name()] = []byte(s)
	}
	return out
}

// TestFuzzDecodeSeeds checks that the checked-in seeds named accepted-* are
// accepted and those named refused-* refused, so the corpus covers both.
func TestFuzzDecodeSeeds(t *testing.T) {
	seeds := readCorpus(t, filepath.Join("testdata", "fuzz", "FuzzDecode"))
	var accepted, refused int
	for name, data := range seeds {
		_, err := results.Decode(bytes.NewReader(data))
		switch {
		case strings.HasPrefix(name, "accepted-"), strings.HasPrefix(name, "golden-"):
			accepted++
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case strings.HasPrefix(name, "refused-"):
			refused++
			if err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	}
	if accepted < 3 || refused < 10 {
		t.Errorf("%d accepted and %d refused seeds, want at least 3 and 10", accepted, refused)
	}
}
