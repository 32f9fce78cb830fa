package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/train"
)

// randomData is a seeded split of rows × features with values that exercise
// the float encoding (negative, tiny, huge, negative zero) and labels 0..2.
func randomData(rng *rand.Rand, rows, features int) train.Data {
	d := train.Data{X: make([]float32, rows*features), Y: make([]int32, rows), Features: features}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10)))
	}
	d.X[0] = float32(math.Copysign(0, -1))
	for i := range d.Y {
		d.Y[i] = int32(rng.IntN(3))
	}
	return d
}

func TestRefDataRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	arch := mlp.Arch{Inputs: 5, Hidden: []int{4}, Classes: 3}
	want := &RefData{
		Meta: RefMeta{
			DeletionRows: []int{0, 3}, NonMemberRows: []int{1}, ShadowRows: []int{0, 2, 4},
			Fractions: []float64{0.1, 0.25}, Seed: 7,
			Model: RefModel{Inputs: 5, Hidden: []int{4}, Classes: 3, Dropout: 0.2},
			Train: RefTrain{LearningRate: 1e-3, BatchSize: 2, MaxEpochs: 3, Patience: 1, AdamEpsilon: 1e-8},
		},
		Train: randomData(rng, 6, 5), Val: randomData(rng, 2, 5), Test: randomData(rng, 3, 5),
		Params: arch.Init(3),
	}
	dir := t.TempDir()
	if err := want.Write(dir); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRefData(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Write fills in what it derives from the data.
	want.Meta.Features, want.Meta.Rows = 5, map[string]int{"train": 6, "val": 2, "test": 3}
	want.Meta.ParamsFile = refParamsFile
	for _, p := range want.Params {
		want.Meta.Params = append(want.Meta.Params, RefParam{Name: p.Name, Shape: p.Shape})
	}
	if !reflect.DeepEqual(got.Meta, want.Meta) {
		t.Errorf("meta:\ngot  %+v\nwant %+v", got.Meta, want.Meta)
	}
	for _, c := range []struct {
		name      string
		got, want train.Data
	}{{"train", got.Train, want.Train}, {"val", got.Val, want.Val}, {"test", got.Test, want.Test}} {
		if !sameBits(c.got.X, c.want.X) || !reflect.DeepEqual(c.got.Y, c.want.Y) || c.got.Features != c.want.Features {
			t.Errorf("%s differs after the round trip", c.name)
		}
	}
	if len(got.Params) != len(want.Params) {
		t.Fatalf("%d parameter tensors, want %d", len(got.Params), len(want.Params))
	}
	for i, p := range got.Params {
		w := want.Params[i]
		if p.Name != w.Name || !reflect.DeepEqual(p.Shape, w.Shape) || !sameBits(p.Values, w.Values) {
			t.Errorf("parameter %s differs after the round trip", w.Name)
		}
	}

	// The files are what the reference expects: 4 little-endian bytes a value.
	b, err := os.ReadFile(filepath.Join(dir, "train_y.i32"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*6 || int32(binary.LittleEndian.Uint32(b[4:])) != want.Train.Y[1] {
		t.Errorf("train_y.i32 is not 6 little-endian int32s: % x", b)
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestReadRefDataErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := &RefData{Train: randomData(rng, 4, 2), Val: randomData(rng, 1, 2), Test: randomData(rng, 1, 2)}
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	// A truncated file is named with its expected size.
	if err := os.WriteFile(filepath.Join(dir, "val_x.f32"), []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRefData(dir); err == nil || !strings.Contains(err.Error(), "val_x.f32: 3 bytes, want 8") {
		t.Errorf("truncated file: got %v", err)
	}
	// Splits with different feature counts cannot be exported.
	r.Val.Features, r.Val.X = 1, r.Val.X[:1]
	if err := r.Write(t.TempDir()); err == nil || !strings.Contains(err.Error(), "val has 1 features") {
		t.Errorf("mismatched features: got %v", err)
	}
}

func TestPositions(t *testing.T) {
	got, err := positions([]int{10, 11, 12, 13}, []int{12, 10})
	if err != nil || !reflect.DeepEqual(got, []int{2, 0}) {
		t.Errorf("positions = %v, %v; want [2 0]", got, err)
	}
	if _, err := positions([]int{10}, []int{99}); err == nil {
		t.Error("a row outside the split was accepted")
	}
}

func TestNewRefDataMapsRowsToPositions(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := experiment.Default()
	d := &experiment.Data{
		DeletionRows: []int{42, 40}, NonMemberRows: []int{7},
		Train: randomData(rng, 3, 2), Val: randomData(rng, 1, 2), Test: randomData(rng, 2, 2),
	}
	d.Splits.Train, d.Splits.Test = []int{40, 41, 42}, []int{6, 7}
	r, err := NewRefData(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Meta.DeletionRows, []int{2, 0}) || !reflect.DeepEqual(r.Meta.NonMemberRows, []int{1}) {
		t.Errorf("deletion %v, non-members %v; want [2 0], [1]", r.Meta.DeletionRows, r.Meta.NonMemberRows)
	}
	if r.Meta.Train.LearningRate != cfg.Train.LearningRate || r.Meta.FineTune.MaxEpochs != cfg.FineTune.MaxEpochs ||
		r.Meta.Model.Dropout != cfg.Arch.Dropout {
		t.Errorf("hyper-parameters not carried over: %+v", r.Meta)
	}
}
