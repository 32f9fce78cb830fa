package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/fimprune/fimprune/fimlib/experiment"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
)

// RefMetaFile names the description of an exported data directory.
const RefMetaFile = "meta.json"

// refParamsFile holds the parameters the Fisher cross-check evaluates, all
// tensors concatenated in RefMeta.Params order.
const refParamsFile = "params.f32"

// RefData is what bench/reference.py reads: the prepared splits exactly as
// the Go side trains on them (scaled, in the same row order), so that both
// sides see identical data and the reference does no preprocessing of its own.
type RefData struct {
	Meta             RefMeta
	Train, Val, Test train.Data
	// Params, if not nil, are model parameters (fimprune's layout: [in, out]
	// weights) at which both sides compute the Fisher over all training rows.
	Params []mlp.Tensor
}

// RefMeta is meta.json. Row indices are positions in the exported arrays,
// not ids of the cleaned dataset.
type RefMeta struct {
	Features int            `json:"features"`
	Rows     map[string]int `json:"rows"` // "train", "val", "test"
	// DeletionRows index train: the rows the protocol forgets.
	DeletionRows []int `json:"deletion_rows"`
	// NonMemberRows index test: the attack's non-members.
	NonMemberRows []int `json:"non_member_rows"`
	// ShadowRows index train: the half the shadow-model benchmark trains on.
	ShadowRows []int     `json:"shadow_rows,omitempty"`
	Fractions  []float64 `json:"fractions"`
	Seed       uint64    `json:"seed"`
	// Model, Train and FineTune carry fimprune's hyper-parameters, so the
	// reference cannot drift from them.
	Model    RefModel `json:"model"`
	Train    RefTrain `json:"train"`
	FineTune RefTrain `json:"finetune"`
	// ParamsFile and Params describe RefData.Params ("" and nil when absent).
	ParamsFile string     `json:"params_file,omitempty"`
	Params     []RefParam `json:"params,omitempty"`
}

// RefModel is the MLP in the reference's terms.
type RefModel struct {
	Inputs  int     `json:"inputs"`
	Hidden  []int   `json:"hidden"`
	Classes int     `json:"classes"`
	Dropout float64 `json:"dropout"`
}

// RefTrain is one training recipe in the reference's terms (patience 0: no early stopping).
type RefTrain struct {
	LearningRate float64 `json:"learning_rate"`
	BatchSize    int     `json:"batch_size"`
	MaxEpochs    int     `json:"max_epochs"`
	Patience     int     `json:"patience"`
	AdamEpsilon  float64 `json:"adam_epsilon"`
}

// RefParam names one tensor of the parameters file.
type RefParam struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// NewRefData describes prepared data d under configuration cfg, with the
// deletion and non-member rows turned into positions in the exported
// training and test arrays.
func NewRefData(d *experiment.Data, cfg experiment.Config) (*RefData, error) {
	deletion, err := positions(d.Splits.Train, d.DeletionRows)
	if err != nil {
		return nil, fmt.Errorf("deletion rows: %w", err)
	}
	nonMembers, err := positions(d.Splits.Test, d.NonMemberRows)
	if err != nil {
		return nil, fmt.Errorf("non-member rows: %w", err)
	}
	return &RefData{
		Meta: RefMeta{
			Features:      d.Train.Features,
			Rows:          map[string]int{"train": d.Train.Rows(), "val": d.Val.Rows(), "test": d.Test.Rows()},
			DeletionRows:  deletion,
			NonMemberRows: nonMembers,
			Fractions:     cfg.Fractions,
			Seed:          cfg.Seed,
			Model:         RefModel{Inputs: cfg.Arch.Inputs, Hidden: cfg.Arch.Hidden, Classes: cfg.Arch.Classes, Dropout: cfg.Arch.Dropout},
			Train:         refTrain(cfg.Train),
			FineTune:      refTrain(cfg.FineTune),
		},
		Train: d.Train, Val: d.Val, Test: d.Test,
	}, nil
}

func refTrain(c train.Config) RefTrain {
	return RefTrain{LearningRate: c.LearningRate, BatchSize: c.BatchSize, MaxEpochs: c.MaxEpochs, Patience: c.Patience, AdamEpsilon: c.AdamEpsilon}
}

// positions maps dataset row ids to their positions in split.
func positions(split, ids []int) ([]int, error) {
	at := make(map[int]int, len(split))
	for i, id := range split {
		at[id] = i
	}
	out := make([]int, len(ids))
	for i, id := range ids {
		p, ok := at[id]
		if !ok {
			return nil, fmt.Errorf("row %d is not in the split", id)
		}
		out[i] = p
	}
	return out, nil
}

// splitFiles lists each exported split with its file-name prefix.
func (r *RefData) splitFiles() []struct {
	name string
	data *train.Data
} {
	return []struct {
		name string
		data *train.Data
	}{{"train", &r.Train}, {"val", &r.Val}, {"test", &r.Test}}
}

// Write stores r in dir (created if missing): meta.json and, per split,
// NAME_x.f32 and NAME_y.i32 as raw little-endian row-major arrays.
func (r *RefData) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	meta := r.Meta
	meta.Features = r.Train.Features
	meta.Rows = map[string]int{}
	for _, s := range r.splitFiles() {
		if err := s.data.Check(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if s.data.Features != meta.Features {
			return fmt.Errorf("%s has %d features, train %d", s.name, s.data.Features, meta.Features)
		}
		meta.Rows[s.name] = s.data.Rows()
		if err := writeFloats(filepath.Join(dir, s.name+"_x.f32"), s.data.X); err != nil {
			return err
		}
		if err := writeInts(filepath.Join(dir, s.name+"_y.i32"), s.data.Y); err != nil {
			return err
		}
	}
	meta.ParamsFile, meta.Params = "", nil
	if r.Params != nil {
		var flat []float32
		for _, p := range r.Params {
			meta.Params = append(meta.Params, RefParam{Name: p.Name, Shape: p.Shape})
			flat = append(flat, p.Values...)
		}
		meta.ParamsFile = refParamsFile
		if err := writeFloats(filepath.Join(dir, refParamsFile), flat); err != nil {
			return err
		}
	}
	data, err := results.Marshal(meta)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, RefMetaFile), data, 0o644)
}

// ReadRefData reads what [RefData.Write] stored in dir.
func ReadRefData(dir string) (*RefData, error) {
	data, err := os.ReadFile(filepath.Join(dir, RefMetaFile))
	if err != nil {
		return nil, err
	}
	r := &RefData{}
	if err := json.Unmarshal(data, &r.Meta); err != nil {
		return nil, fmt.Errorf("%s: %w", RefMetaFile, err)
	}
	f := r.Meta.Features
	if f <= 0 {
		return nil, fmt.Errorf("%s: features %d must be positive", RefMetaFile, f)
	}
	for _, s := range r.splitFiles() {
		rows := r.Meta.Rows[s.name]
		x, err := readFloats(filepath.Join(dir, s.name+"_x.f32"), rows*f)
		if err != nil {
			return nil, err
		}
		y, err := readInts(filepath.Join(dir, s.name+"_y.i32"), rows)
		if err != nil {
			return nil, err
		}
		*s.data = train.Data{X: x, Y: y, Features: f}
	}
	if r.Meta.ParamsFile != "" {
		n := 0
		for _, p := range r.Meta.Params {
			n += product(p.Shape)
		}
		flat, err := readFloats(filepath.Join(dir, r.Meta.ParamsFile), n)
		if err != nil {
			return nil, err
		}
		for _, p := range r.Meta.Params {
			k := product(p.Shape)
			r.Params = append(r.Params, mlp.Tensor{Name: p.Name, Shape: p.Shape, Values: flat[:k:k]})
			flat = flat[k:]
		}
	}
	return r, nil
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func writeFloats(path string, vs []float32) error {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return os.WriteFile(path, b, 0o644)
}

func writeInts(path string, vs []int32) error {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return os.WriteFile(path, b, 0o644)
}

// readWords reads a file of exactly n little-endian 32-bit words.
func readWords(path string, n int) ([]uint32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 4*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d (%d values)", path, len(b), 4*n, n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out, nil
}

func readFloats(path string, n int) ([]float32, error) {
	w, err := readWords(path, n)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	for i, v := range w {
		out[i] = math.Float32frombits(v)
	}
	return out, nil
}

func readInts(path string, n int) ([]int32, error) {
	w, err := readWords(path, n)
	if err != nil {
		return nil, err
	}
	out := make([]int32, n)
	for i, v := range w {
		out[i] = int32(v)
	}
	return out, nil
}
