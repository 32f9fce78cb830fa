package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/internal/testsupport"
	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
)

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-epochs", "1,0"}, `-epochs: "0": must be positive`},
		{[]string{"-epochs", "2,x"}, `-epochs: "x": invalid syntax`},
		{[]string{"-epochs", "2, 2"}, `-epochs: "2" is listed twice`},
		{[]string{"-lrs", "1e-3,-1e-3"}, `-lrs: "-1e-3": must be positive`},
		{[]string{"-lrs", "inf"}, `-lrs: "inf": must be positive and finite`},
		{[]string{"-finetune-seeds", "1,-2"}, `-finetune-seeds: "-2"`},
		{[]string{"-fraction", "1"}, "-fraction 1 must be in (0, 1)"},
		{[]string{"-batch", "0"}, "-batch 0 must be positive"},
		{[]string{"-tolerance", "-0.1"}, "-tolerance -0.1 must be in [0, 1)"},
		{[]string{"-train-epochs", "0"}, "-train-epochs 0 must be positive"},
		{[]string{"-deletion", "last:3"}, `-deletion: adult: deletion spec "last:3": unknown kind`},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		err := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, c.args)
		var usage cli.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want a usage error (exit status 2) containing %q", c.args, err, c.want)
		}
	}
	t.Setenv("GOMLX_BACKEND", "nosuch")
	var usage cli.UsageError
	if err := run(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, nil); !errors.As(err, &usage) {
		t.Errorf("unknown backend: got %v, want a usage error", err)
	}
}

func TestDefaults(t *testing.T) {
	o, err := parseArgs(&bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.epochs, []int{1, 2, 3, 5}) || !slices.Equal(o.lrs, []float64{3e-4, 1e-3, 3e-3}) ||
		!slices.Equal(o.ftSeeds, []uint64{1, 2, 3}) || o.batch != 64 || o.fraction != 0.2 || o.tolerance != 0.005 ||
		o.deletion != "first:100" || o.splitSeed != 42 || o.seed != 1 || o.trainEpochs != train.Seed.MaxEpochs {
		t.Errorf("defaults are not the documented search: %+v", o)
	}
	o, err = parseArgs(&bytes.Buffer{}, []string{"-epochs", "5, 1,3", "-lrs", "3e-3,3e-4"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.epochs, []int{1, 3, 5}) || !slices.Equal(o.lrs, []float64{3e-4, 3e-3}) {
		t.Errorf("lists are not sorted: epochs %v, lrs %v", o.epochs, o.lrs)
	}
}

// TestChoose pins the selection rule: within the tolerance of retrain
// (either side), fewest epochs, then best accuracy, then smaller lr.
func TestChoose(t *testing.T) {
	pt := func(epochs int, lr, mean float64) point { return point{Epochs: epochs, LR: lr, Mean: mean} }
	const retrain = 0.850
	for _, c := range []struct {
		name   string
		points []point
		tol    float64
		want   int
	}{
		{"fewest epochs wins over accuracy", []point{pt(1, 1e-3, 0.846), pt(2, 1e-3, 0.850)}, 0.005, 0},
		{"the one-epoch point is out of tolerance", []point{pt(1, 1e-3, 0.844), pt(2, 1e-3, 0.847), pt(3, 1e-3, 0.850)}, 0.005, 1},
		{"best accuracy among equal epochs", []point{pt(2, 3e-4, 0.846), pt(2, 1e-3, 0.849), pt(2, 3e-3, 0.848)}, 0.005, 1},
		{"above retrain counts (either side)", []point{pt(1, 1e-3, 0.854), pt(1, 3e-3, 0.853)}, 0.005, 0},
		{"too far above retrain does not", []point{pt(1, 1e-3, 0.856), pt(2, 1e-3, 0.851)}, 0.005, 1},
		{"exactly at the tolerance qualifies", []point{pt(1, 1e-3, 0.845), pt(2, 1e-3, 0.850)}, 0.005, 0},
		{"ties go to the smaller lr", []point{pt(2, 3e-3, 0.849), pt(2, 1e-3, 0.849)}, 0.005, 1},
		{"none qualifies", []point{pt(1, 1e-3, 0.80), pt(5, 1e-3, 0.90)}, 0.005, -1},
		{"no points", nil, 0.005, -1},
	} {
		if got := choose(c.points, retrain, c.tol); got != c.want {
			t.Errorf("%s: choose = %d, want %d", c.name, got, c.want)
		}
	}
}

// synthetic returns a small generated dataset in the UCI files' format.
func synthetic(t *testing.T) *adult.Dataset {
	t.Helper()
	dir := t.TempDir()
	dataPath, testPath := filepath.Join(dir, adult.DataFile), filepath.Join(dir, adult.TestFile)
	adulttest.WriteSynthetic(t, dataPath, 500, 1)
	adulttest.WriteSynthetic(t, testPath, 250, 2)
	set, err := adult.LoadFiles(dataPath, testPath, adult.Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// tiny is a search small enough for a test.
func tiny(t *testing.T, args ...string) options {
	t.Helper()
	o, err := parseArgs(&bytes.Buffer{}, append([]string{"-deletion", "first:20", "-train-epochs", "2",
		"-epochs", "2,1", "-lrs", "1e-3,3e-3", "-finetune-seeds", "1,2"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// row is a parsed line of the table.
type row struct {
	epochs                int
	lr, mean, lo, hi, gap float64
	within, chosen        bool
	secondsPerFineTune    float64
}

// parseTable reads the grid rows of the Markdown table and retrain's
// validation accuracy.
func parseTable(t *testing.T, out string) (rows []row, retrain float64) {
	t.Helper()
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			t.Fatalf("table cell %q: %v\n%s", s, err, out)
		}
		return v
	}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "retrain (seed 1, train.Seed): validation accuracy "); ok {
			retrain = num(strings.Fields(rest)[0])
		}
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| epochs") || strings.HasPrefix(line, "| ---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) != 7 {
			t.Fatalf("row %q has %d cells, want 7", line, len(cells))
		}
		lo, hi, _ := strings.Cut(cells[3], "–")
		mark := strings.TrimSpace(cells[5])
		rows = append(rows, row{epochs: int(num(cells[0])), lr: num(cells[1]), mean: num(cells[2]), lo: num(lo), hi: num(hi),
			gap: num(cells[4]), within: mark == "yes" || mark == "**chosen**", chosen: mark == "**chosen**", secondsPerFineTune: num(cells[6])})
	}
	return rows, retrain
}

// TestSyntheticSearch runs a small grid on generated data and checks the
// table (every grid point, in order, with a consistent gap and mark) and
// that the marked choice is the rule's.
func TestSyntheticSearch(t *testing.T) {
	set := synthetic(t)
	for _, tol := range []float64{0.999, 0.02} {
		o := tiny(t, "-tolerance", strconv.FormatFloat(tol, 'g', -1, 64))
		var stdout, stderr bytes.Buffer
		err := searchSet(context.Background(), &stdout, &stderr, set, o)
		out := stdout.String()
		rows, retrain := parseTable(t, out)
		var grid [][2]float64
		for _, r := range rows {
			grid = append(grid, [2]float64{float64(r.epochs), r.lr})
		}
		if want := [][2]float64{{1, 1e-3}, {1, 3e-3}, {2, 1e-3}, {2, 3e-3}}; !reflect.DeepEqual(grid, want) {
			t.Fatalf("tolerance %g: grid rows %v, want %v\n%s", tol, grid, want, out)
		}
		if !(retrain > 0 && retrain <= 1) {
			t.Fatalf("retrain's validation accuracy %g not printed\n%s", retrain, out)
		}
		points := make([]point, len(rows))
		for i, r := range rows {
			if math.Abs(r.gap-(r.mean-retrain)) > 2e-4 {
				t.Errorf("row %d: gap %g ≠ mean %g − retrain %g", i, r.gap, r.mean, retrain)
			}
			if !(r.lo <= r.mean+1e-4 && r.mean <= r.hi+1e-4) {
				t.Errorf("row %d: mean %g outside its range [%g, %g]", i, r.mean, r.lo, r.hi)
			}
			if r.within != (math.Abs(r.gap) <= tol+1e-4) {
				t.Errorf("row %d: marked within=%v with gap %g and tolerance %g", i, r.within, r.gap, tol)
			}
			if !(r.secondsPerFineTune >= 0) {
				t.Errorf("row %d: seconds %g", i, r.secondsPerFineTune)
			}
			points[i] = point{Epochs: r.epochs, LR: r.lr, Mean: r.mean}
		}
		want := choose(points, retrain, tol)
		got := slices.IndexFunc(rows, func(r row) bool { return r.chosen })
		if got != want {
			t.Errorf("tolerance %g: table marks row %d, the rule on the printed values picks %d\n%s", tol, got, want, out)
		}
		if tol > 0.9 { // everything qualifies: the one-epoch row with the best accuracy
			if err != nil || got < 0 || rows[got].epochs != 1 || rows[got].mean < max(rows[0].mean, rows[1].mean) {
				t.Errorf("tolerance %g: err %v, chose row %d\n%s", tol, err, got, out)
			}
		}
		if (want < 0) != (err != nil) {
			t.Errorf("tolerance %g: error %v with choice %d", tol, err, want)
		}
		if want >= 0 && !strings.Contains(out, "choice: "+epochs(rows[want].epochs)+", lr "+strconv.FormatFloat(rows[want].lr, 'g', -1, 64)) {
			t.Errorf("no choice line for row %d\n%s", want, out)
		}
		if !strings.Contains(stderr.String(), "test rows: none") {
			t.Errorf("progress lacks the test-rows line:\n%s", stderr.String())
		}
	}
}

// TestTestRowsNeverRead: the search sees only searchData, which prepare
// builds from the training and validation splits (the test split's ids are
// dropped first). Poisoning every test row's features with NaN must change
// neither what prepare returns nor anything the search measures. (Labels
// cannot be poisoned the same way: the seed protocol's split is stratified,
// so it reads every row's label to decide which rows are test rows; after
// the split no test label is read, as searchData's fields show.)
func TestTestRowsNeverRead(t *testing.T) {
	// searchData holds train.Data for the pool and the validation split and
	// row positions in the pool: nothing that could carry a test row.
	typ := reflect.TypeFor[searchData]()
	var fields []string
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Name+" "+typ.Field(i).Type.String())
	}
	if want := []string{"Pool train.Data", "Val train.Data", "Forget []int", "Retain []int"}; !slices.Equal(fields, want) {
		t.Errorf("searchData has fields %v, want %v: check that no test row can reach the search", fields, want)
	}

	set := synthetic(t)
	o := tiny(t, "-epochs", "1", "-lrs", "1e-3", "-tolerance", "0.999")
	poisoned := *set
	poisoned.X = slices.Clone(set.X)
	splits, err := adult.Split(set, o.splitSeed)
	if err != nil {
		t.Fatal(err)
	}
	f := len(set.Features)
	for _, id := range splits.Test {
		for j := range f {
			poisoned.X[id*f+j] = float32(math.NaN())
		}
	}
	clean, err := prepare(set, o)
	if err != nil {
		t.Fatal(err)
	}
	dirty, err := prepare(&poisoned, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(clean, dirty) {
		t.Fatal("prepare's output depends on the test rows")
	}
	for _, v := range dirty.Pool.X {
		if math.IsNaN(float64(v)) {
			t.Fatal("a poisoned test row reached the pool")
		}
	}

	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	arch := mlp.Seed
	arch.Inputs = f
	var results []*result
	for _, d := range []searchData{clean, dirty} {
		r, err := search(context.Background(), b, arch, d, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	a, z := results[0], results[1]
	if a.FullValAcc != z.FullValAcc || a.RetrainValAcc != z.RetrainValAcc || len(a.Points) != len(z.Points) {
		t.Fatalf("results differ with poisoned test rows: %+v vs %+v", a, z)
	}
	for i := range a.Points {
		if !slices.Equal(a.Points[i].ValAcc, z.Points[i].ValAcc) {
			t.Errorf("point %d: validation accuracies %v vs %v with poisoned test rows", i, a.Points[i].ValAcc, z.Points[i].ValAcc)
		}
	}
}

// TestReportVerdict: the report says whether the choice is the current
// train.FastFineTune, and fails when no point qualifies.
func TestReportVerdict(t *testing.T) {
	o, err := parseArgs(&bytes.Buffer{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cur := train.FastFineTune
	for _, c := range []struct {
		p    point
		want string
	}{
		{point{Epochs: cur.MaxEpochs, LR: cur.LearningRate, ValAcc: []float64{0.85}, Mean: 0.85}, "same as the choice"},
		{point{Epochs: cur.MaxEpochs + 1, LR: cur.LearningRate, ValAcc: []float64{0.85}, Mean: 0.85}, "differs from the choice"},
		{point{Epochs: cur.MaxEpochs, LR: cur.LearningRate * 3, ValAcc: []float64{0.85}, Mean: 0.85}, "differs from the choice"},
	} {
		var out bytes.Buffer
		if err := report(&out, &result{RetrainValAcc: 0.851, Points: []point{c.p}}, o); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%+v: output lacks %q:\n%s", c.p, c.want, out.String())
		}
	}
	var out bytes.Buffer
	err = report(&out, &result{RetrainValAcc: 0.86, Points: []point{{Epochs: 1, LR: 1e-3, ValAcc: []float64{0.85}, Mean: 0.85}}}, o)
	if err == nil || !strings.Contains(err.Error(), "no grid point is within 0.005") || !strings.Contains(out.String(), "| 1 | 0.001 | 0.8500 |") {
		t.Errorf("no qualifying point: err %v\n%s", err, out.String())
	}
}

func TestDeletionTooLarge(t *testing.T) {
	set := synthetic(t)
	o := tiny(t, "-deletion", "first:100000")
	err := searchSet(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, set, o)
	var usage cli.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "-deletion") {
		t.Errorf("got %v, want a usage error naming -deletion", err)
	}
}

// TestRealDataTiny runs the command itself on the UCI files with a
// one-point grid and one-epoch models (a few seconds).
func TestRealDataTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the real data")
	}
	dir := adulttest.Dir(t)
	var stdout, stderr bytes.Buffer
	args := []string{"-data", dir, "-train-epochs", "1", "-epochs", "1", "-lrs", "1e-3", "-finetune-seeds", "1", "-tolerance", "0.5", "-quiet"}
	if err := run(context.Background(), &stdout, &stderr, args); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"28941 training rows (100 forgotten, 28841 retained), 7236 validation rows; split seed 42, deletion first:100",
		"| 1 | 0.001 |", "**chosen**", "choice: 1 epoch, lr 0.001, batch 64", "train.FastFineTune ("} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if stderr.Len() > 0 {
		t.Errorf("-quiet wrote to stderr:\n%s", stderr.String())
	}
}

// TestHelpPlaceholders: in -h every flag but the booleans shows a placeholder
// for its value (a backquoted word in its usage, as flag.UnquoteUsage reads it).
func TestHelpPlaceholders(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), &bytes.Buffer{}, &stderr, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	bools := []string{"quiet"}
	missing, listed := testsupport.MissingPlaceholders(stderr.String(), bools...)
	for _, name := range missing {
		t.Errorf("-%s has no placeholder in -h", name)
	}
	if !listed {
		t.Errorf("-h lists no flags:\n%s", stderr.String())
	}
}
