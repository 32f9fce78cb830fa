package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestSignificant(t *testing.T) {
	for i, c := range []struct {
		v    float64
		n    int
		want string
	}{
		{0.0172, 3, "0.0172"},
		{67.31, 3, "67.3"},
		{1234.5, 3, "1234"},
		{1.0, 3, "1.00"},
		{0.99951, 3, "1.000"}, // rounds up across a power of ten: one digit more, not wrong
		{0, 3, "0"},
		{-2.345, 2, "-2.3"},
	} {
		if got := significant(c.v, c.n); got != c.want {
			t.Errorf("%d: significant(%g, %d) = %q, want %q", i, c.v, c.n, got, c.want)
		}
	}
}

func TestResolveAndRatio(t *testing.T) {
	ref, err := ParseReference([]byte(`{"seconds": {"train_full": 20, "prune_finetune": {"0.1": 4}}, "epochs": {"full": 30},
		"test_accuracy": {"full": 0.85}, "torch_version": "1.13", "notes": ["extrapolated"]}`))
	if err != nil {
		t.Fatal(err)
	}
	figs := []Figure{
		{Label: "train", Unit: Seconds, Go: 10, Ref: RefKey("seconds/train_full")},
		{Label: "fine-tune", Unit: Seconds, Go: 2, Ref: RefKey("seconds/prune_finetune/0.1")},
		{Label: "per epoch", Unit: Seconds, Go: 1, Ref: RefKey("seconds/train_full").Per(RefKey("epochs/full"))},
		{Label: "64 of them", Unit: Seconds, Go: 640, Ref: RefKey("seconds/train_full").Times(64)},
		{Label: "accuracy", Unit: Accuracy, Go: 0.849, Ref: RefKey("test_accuracy/full")},
		{Label: "go only", Unit: Seconds, Go: 3},
		{Label: "missing key", Unit: Seconds, Go: 3, Ref: RefKey("seconds/nothing")},
		{Label: "reference only", Unit: Seconds, Go: noGo, Ref: RefKey("seconds/train_full")},
	}
	// Two columns: the reference, and a run that failed (nil).
	rows := Resolve(figs, []*Reference{ref, nil})
	wantRef := []float64{20, 4, 20.0 / 30, 1280, 0.85, math.NaN(), math.NaN(), 20}
	wantRatio := []float64{0.5, 0.5, 1.5, 0.5, math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	for i, r := range rows {
		if !sameFloat(r.Refs[0], wantRef[i]) || !sameFloat(r.Ratio(0), wantRatio[i]) {
			t.Errorf("%s: PyTorch %v ratio %v, want %v and %v", r.Label, r.Refs[0], r.Ratio(0), wantRef[i], wantRatio[i])
		}
		if !math.IsNaN(r.Refs[1]) || !math.IsNaN(r.Ratio(1)) {
			t.Errorf("%s: %v in the failed run's column", r.Label, r.Refs[1])
		}
	}
	if n := ref.Notes(); len(n) != 1 || n[0] != "extrapolated" {
		t.Errorf("notes = %q", n)
	}
	if v, ok := ref.String("torch_version"); !ok || v != "1.13" {
		t.Errorf("torch_version = %q, %v", v, ok)
	}
}

func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-12
}

func TestTableRendering(t *testing.T) {
	tab := Table{
		Header:  []HeaderLine{{"machine", "test CPU, 2 cores"}},
		Columns: []string{"PyTorch", "PyTorch + OpenBLAS"},
		Rows: []Row{
			{Label: "train | full", Unit: Seconds, Go: 13.52, Refs: []float64{20.1, 10}},
			{Label: "accuracy", Unit: Accuracy, Go: 0.84891, Refs: []float64{math.NaN(), 0.85}},
			{Label: "rss", Unit: Megabytes, Go: 218.4, Refs: []float64{300, math.NaN()}},
		},
		Notes: []string{"a note"},
	}
	var md bytes.Buffer
	if err := tab.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	want := `- machine: test CPU, 2 cores

| benchmark | fimprune (Go) | PyTorch | Go ÷ PyTorch | PyTorch + OpenBLAS | Go ÷ PyTorch + OpenBLAS |
| --- | ---: | ---: | ---: | ---: | ---: |
| train \| full | 13.5 s | 20.1 s | 0.67× | 10.0 s | 1.4× |
| accuracy | 0.8489 | — |  | 0.8500 |  |
| rss | 218 MB | 300 MB | 0.73× | — |  |

- a note

`
	if md.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", md.String(), want)
	}
	var text bytes.Buffer
	if err := tab.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"machine: test CPU, 2 cores", "train | full  13.5 s", "0.67×", "1.4×", "note: a note"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, text.String())
		}
	}
}
