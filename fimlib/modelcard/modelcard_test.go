package modelcard_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/param"
	"github.com/fimprune/fimprune/fimlib/results"
)

// synthetic loads a small generated dataset in the Adult format.
func synthetic(t *testing.T) *adult.Dataset {
	t.Helper()
	dir := t.TempDir()
	dataPath, testPath := filepath.Join(dir, "a.data"), filepath.Join(dir, "a.test")
	adulttest.WriteSynthetic(t, dataPath, 300, 1)
	adulttest.WriteSynthetic(t, testPath, 120, 2)
	set, err := adult.LoadFiles(dataPath, testPath, adult.Options{SkipChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

const (
	splitSeed    = 7
	deletionSpec = "random:5"
	deletionSeed = 11
)

func spec(split string, keep string) modelcard.RowSpec {
	s := modelcard.RowSpec{Split: split, SplitSeed: splitSeed}
	if keep != "" {
		s.Deletion = &modelcard.DeletionDraw{Spec: deletionSpec, Seed: deletionSeed, Keep: keep}
	}
	return s
}

// rowSet forms spec's rows from set and records them.
func rowSet(t *testing.T, set *adult.Dataset, s modelcard.RowSpec) modelcard.RowSet {
	t.Helper()
	rows, err := s.Rows(set)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := modelcard.NewRowSet(set, s, rows)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// params is a 2-layer MLP's parameters for set (inputs → 4 → 2).
func params(set *adult.Dataset) []param.Tensor {
	in := len(set.Features)
	shapes := []struct {
		name  string
		shape []int
	}{{"/dense0/weights", []int{in, 4}}, {"/dense0/biases", []int{4}}, {"/dense1/weights", []int{4, 2}}, {"/dense1/biases", []int{2}}}
	var out []param.Tensor
	for i, s := range shapes {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		v := make([]float32, n)
		for j := range v {
			v[j] = float32(i+1) * float32(j%7-3) / 10
		}
		out = append(out, param.Tensor{Name: s.name, Shape: s.shape, Values: v})
	}
	return out
}

// fullCard is a valid card of a model trained from scratch on set's
// training split.
func fullCard(t *testing.T, set *adult.Dataset) *modelcard.Card {
	t.Helper()
	ps := params(set)
	var tensors []modelcard.TensorInfo
	total := 0
	for _, p := range ps {
		tensors = append(tensors, modelcard.TensorInfo{Name: p.Name, Shape: p.Shape})
		total += len(p.Values)
	}
	trainRows := rowSet(t, set, spec(modelcard.SplitTrain, ""))
	fit, err := trainRows.Spec.Rows(set)
	if err != nil {
		t.Fatal(err)
	}
	sc := adult.FitScaler(set, fit)
	splits, err := adult.Split(set, splitSeed)
	if err != nil {
		t.Fatal(err)
	}
	init := uint64(1) << 63
	val := rowSet(t, set, spec(modelcard.SplitVal, ""))
	return &modelcard.Card{
		Schema: modelcard.Schema, Name: "full", ParamsSHA256: modelcard.ParamsHash(ps),
		Model: modelcard.Model{Kind: "mlp", Inputs: len(set.Features), Hidden: []int{4}, Classes: 2, Dropout: 0.2,
			Params: total, Init: "xavier-uniform weights, zero biases", Tensors: tensors},
		Data: modelcard.Data{Name: "UCI Adult", SHA256: set.SHA256, RowIDs: modelcard.RowIDScheme, Rows: set.Rows(),
			SplitSeed: splitSeed, Splits: modelcard.Splits{Train: len(splits.Train), Val: len(splits.Val), Test: len(splits.Test)},
			Features: set.Features},
		Scaler: modelcard.Scaler{Kind: "standard", Mean: sc.Mean, Std: sc.Std, FitRows: trainRows},
		Training: modelcard.Training{Seed: 42, InitSeed: &init, DropoutSeed: 1, ShuffleSeed: math.MaxUint64,
			Recipe: results.TrainConfig{Optimizer: "adam", LearningRate: 1e-3, AdamEpsilon: 1e-8, BatchSize: 64, MaxEpochs: 50, Patience: 10}},
		TrainedRows:    trainRows,
		ValidationRows: &val,
		Build:          modelcard.Build{GoVersion: "go1.26.8", GomlxVersion: "v0.28.2", Backend: "go", GOOS: "linux", GOARCH: "amd64"},
	}
}

// prunedCard is a valid card of a model unlearned from parent.
func prunedCard(t *testing.T, set *adult.Dataset, parent *modelcard.Card) *modelcard.Card {
	t.Helper()
	c := *parent
	ps := params(set)
	ps[0].Values[0] = 0
	c.Name, c.ParamsSHA256 = "pruned-0.2", modelcard.ParamsHash(ps)
	h := parent.ParamsSHA256
	c.Parent = &h
	c.Method = &modelcard.Method{ID: results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeSeed},
		Fisher: modelcard.FisherEmpirical, Forget: rowSet(t, set, spec(modelcard.SplitTrain, modelcard.KeepDeleted))}
	c.Training.InitSeed = nil
	c.Training.ScratchRecipe = c.Training.Recipe
	c.Training.Recipe = results.TrainConfig{Optimizer: "adam", LearningRate: 1e-4, AdamEpsilon: 1e-8, BatchSize: 64, MaxEpochs: 20}
	c.TrainedRows = rowSet(t, set, spec(modelcard.SplitTrain, modelcard.KeepRetained))
	c.ValidationRows = nil
	return &c
}

func TestRoundTrip(t *testing.T) {
	set := synthetic(t)
	full := fullCard(t, set)
	for _, c := range []*modelcard.Card{full, prunedCard(t, set, full)} {
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		path := filepath.Join(t.TempDir(), modelcard.File)
		if err := modelcard.Write(path, c); err != nil {
			t.Fatal(err)
		}
		got, err := modelcard.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s: read back %+v, want %+v", c.Name, got, c)
		}
		// Written again, byte for byte the same (uint64 seeds above 2^53
		// and the float64 scaler values survive exactly).
		first, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		again, err := modelcard.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Errorf("%s: re-encoded card differs from the file", c.Name)
		}
		if err := c.VerifyData(set); err != nil {
			t.Errorf("%s: VerifyData: %v", c.Name, err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, mode %v; want 0644", c.Name, err, fi.Mode())
		}
	}
}

func TestValidate(t *testing.T) {
	set := synthetic(t)
	full := fullCard(t, set)
	bad := "not a hash"
	for _, c := range []struct {
		name   string
		pruned bool
		mutate func(*modelcard.Card)
		path   string
	}{
		{"name", false, func(c *modelcard.Card) { c.Name = "" }, "name"},
		{"params hash short", false, func(c *modelcard.Card) { c.ParamsSHA256 = c.ParamsSHA256[:63] }, "params_sha256"},
		{"params hash upper case", false, func(c *modelcard.Card) { c.ParamsSHA256 = strings.ToUpper(c.ParamsSHA256) }, "params_sha256"},
		{"parent without method", false, func(c *modelcard.Card) { h := c.ParamsSHA256; c.Parent = &h }, "parent_params_sha256"},
		{"method without parent", true, func(c *modelcard.Card) { c.Parent = nil }, "parent_params_sha256"},
		{"parent not a hash", true, func(c *modelcard.Card) { c.Parent = &bad }, "parent_params_sha256"},
		{"own parent", true, func(c *modelcard.Card) { h := c.ParamsSHA256; c.Parent = &h }, "parent_params_sha256"},
		{"unknown family", true, func(c *modelcard.Card) { c.Method.ID.Family = "magic" }, "method.id.family"},
		{"fraction 1", true, func(c *modelcard.Card) { c.Method.ID.Fraction = 1 }, "method.id.fraction"},
		{"recipe", true, func(c *modelcard.Card) { c.Method.ID.Recipe = "slow" }, "method.id.recipe"},
		{"fisher", true, func(c *modelcard.Card) { c.Method.Fisher = "" }, "method.fisher"},
		{"forget keeps retained", true, func(c *modelcard.Card) { c.Method.Forget = c.TrainedRows }, "method.forget_rows.spec.deletion.keep"},
		{"forget whole split", true, func(c *modelcard.Card) { c.Method.Forget.Spec.Deletion = nil }, "method.forget_rows.spec.deletion"},
		{"init seed on an unlearned model", true, func(c *modelcard.Card) { s := uint64(1); c.Training.InitSeed = &s }, "training.init_seed"},
		{"no init seed", false, func(c *modelcard.Card) { c.Training.InitSeed = nil }, "training.init_seed"},
		{"kind", false, func(c *modelcard.Card) { c.Model.Kind = "cnn" }, "model.kind"},
		{"params", false, func(c *modelcard.Card) { c.Model.Params++ }, "model.params"},
		{"tensor shape", false, func(c *modelcard.Card) {
			c.Model.Tensors = slices.Clone(c.Model.Tensors)
			c.Model.Tensors[1] = modelcard.TensorInfo{Name: "/dense0/biases", Shape: []int{5}}
		}, "model.tensors"},
		{"tensor zero dim", false, func(c *modelcard.Card) {
			c.Model.Tensors = slices.Clone(c.Model.Tensors)
			c.Model.Tensors[1] = modelcard.TensorInfo{Name: "/dense0/biases", Shape: []int{0}}
		}, "model.tensors[1].shape[0]"},
		{"repeated tensor", false, func(c *modelcard.Card) {
			c.Model.Tensors = slices.Clone(c.Model.Tensors)
			c.Model.Tensors[3].Name = c.Model.Tensors[2].Name
		}, "model.tensors[3].name"},
		{"dropout", false, func(c *modelcard.Card) { c.Model.Dropout = 1 }, "model.dropout"},
		{"inputs", false, func(c *modelcard.Card) { c.Data.Features = c.Data.Features[1:] }, "model.inputs"},
		{"data hash", false, func(c *modelcard.Card) {
			c.Data.SHA256 = map[string]string{"adult.data": "x", "adult.test": c.Data.SHA256["adult.test"]}
		}, `data.sha256["adult.data"]`},
		{"data test file", false, func(c *modelcard.Card) { c.Data.SHA256 = map[string]string{"adult.data": c.Data.SHA256["adult.data"]} }, "data.sha256"},
		{"row id scheme", false, func(c *modelcard.Card) { c.Data.RowIDs = "index" }, "data.row_ids"},
		{"splits", false, func(c *modelcard.Card) { c.Data.Splits.Test++ }, "data.splits"},
		{"feature repeated", false, func(c *modelcard.Card) {
			c.Data.Features = slices.Clone(c.Data.Features)
			c.Data.Features[1] = c.Data.Features[0]
		}, "data.feature_names[1]"},
		{"scaler std 0", false, func(c *modelcard.Card) { c.Scaler.Std = slices.Clone(c.Scaler.Std); c.Scaler.Std[2] = 0 }, "scaler.std[2]"},
		{"scaler NaN", false, func(c *modelcard.Card) { c.Scaler.Mean = slices.Clone(c.Scaler.Mean); c.Scaler.Mean[0] = math.NaN() }, "scaler.mean[0]"},
		{"optimizer", false, func(c *modelcard.Card) { c.Training.Recipe.Optimizer = "sgd" }, "training.recipe.optimizer"},
		{"learning rate", false, func(c *modelcard.Card) { c.Training.Recipe.LearningRate = 0 }, "training.recipe.learning_rate"},
		{"validation rows without patience", false, func(c *modelcard.Card) { c.Training.Recipe.Patience = 0 }, "validation_rows"},
		{"count 0", false, func(c *modelcard.Card) { c.TrainedRows.Count = 0 }, "trained_rows.count"},
		{"count not the split's", false, func(c *modelcard.Card) { c.TrainedRows.Count-- }, "trained_rows.count"},
		{"rows hash", false, func(c *modelcard.Card) { c.TrainedRows.SHA256 = "" }, "trained_rows.sha256"},
		{"split", false, func(c *modelcard.Card) { c.TrainedRows.Spec.Split = "all" }, "trained_rows.spec.split"},
		{"split seed", false, func(c *modelcard.Card) { c.TrainedRows.Spec.SplitSeed++ }, "trained_rows.spec.split_seed"},
		{"deletion spec", true, func(c *modelcard.Card) {
			d := *c.TrainedRows.Spec.Deletion
			d.Spec = "last:5"
			c.TrainedRows.Spec.Deletion = &d
		}, "trained_rows.spec.deletion.spec"},
		{"deletion takes everything", true, func(c *modelcard.Card) { c.TrainedRows.Count = c.Data.Splits.Train }, "trained_rows.count"},
		{"build not UTF-8", false, func(c *modelcard.Card) { c.Build.Backend = "\xff" }, "build.backend"},
	} {
		c0 := full
		if c.pruned {
			c0 = prunedCard(t, set, full)
		}
		card := *c0
		if card.Method != nil {
			m := *card.Method
			card.Method = &m
		}
		c.mutate(&card)
		err := card.Validate()
		var fe *modelcard.FieldError
		if !errors.As(err, &fe) || fe.Path != c.path {
			t.Errorf("%s: Validate() = %v, want a *FieldError at %s", c.name, err, c.path)
		}
	}
	// Write refuses an invalid card and leaves nothing behind.
	dir := t.TempDir()
	card := *full
	card.ParamsSHA256 = ""
	if err := modelcard.Write(filepath.Join(dir, modelcard.File), &card); err == nil {
		t.Error("Write accepted an invalid card")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Write of an invalid card left %d files", len(entries))
	}
}

func TestDecodeRefuses(t *testing.T) {
	set := synthetic(t)
	good, err := modelcard.Marshal(fullCard(t, set))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := modelcard.Decode(bytes.NewReader(good)); err != nil {
		t.Fatalf("a good card: %v", err)
	}
	var se *modelcard.SchemaError
	other := bytes.Replace(good, []byte(modelcard.Schema), []byte("fimprune/modelcard/v0"), 1)
	if _, err := modelcard.Decode(bytes.NewReader(other)); !errors.As(err, &se) || se.Got != "fimprune/modelcard/v0" {
		t.Errorf("another schema: %v, want a *SchemaError", err)
	}
	if _, err := modelcard.Decode(strings.NewReader(`{"name": "full"}`)); !errors.As(err, &se) || se.Got != "" {
		t.Errorf("no schema: %v, want a *SchemaError", err)
	}
	unknown := bytes.Replace(good, []byte(`"name":`), []byte(`"nickname": "x", "name":`), 1)
	if _, err := modelcard.Decode(bytes.NewReader(unknown)); err == nil || !strings.Contains(err.Error(), "nickname") {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := modelcard.Decode(bytes.NewReader(append(slices.Clone(good), "{}"...))); err == nil {
		t.Error("data after the card was accepted")
	}
	var fe *modelcard.FieldError
	zero := bytes.Replace(good, []byte(`"count": `), []byte(`"count": -`), 1)
	if _, err := modelcard.Decode(bytes.NewReader(zero)); !errors.As(err, &fe) {
		t.Errorf("negative count: %v, want a *FieldError", err)
	}
	big := append([]byte(`{"schema": "`+modelcard.Schema+`", "name": "`), bytes.Repeat([]byte("x"), modelcard.MaxBytes)...)
	if _, err := modelcard.Decode(bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized card: %v", err)
	}
}

// TestParamsHash: the hash follows the documented byte layout (the golden
// value was computed independently, in Python, from docs/modelcard.md's
// definition), moves with one ULP, a name, a shape or the order, and not
// with a copy.
func TestParamsHash(t *testing.T) {
	golden := []param.Tensor{
		{Name: "/a", Shape: []int{2}, Values: []float32{1, float32(math.Copysign(0, -1))}},
		{Name: "/b", Shape: []int{1, 1}, Values: []float32{0.5}},
	}
	if got, want := modelcard.ParamsHash(golden), "24dfc96f97ad5f7b7801bea117176e4045466162dc65594f4babb9198e77001e"; got != want {
		t.Errorf("ParamsHash(golden) = %s, want %s", got, want)
	}

	set := synthetic(t)
	base := params(set)
	h := modelcard.ParamsHash(base)
	clone := func() []param.Tensor {
		out := make([]param.Tensor, len(base))
		for i, p := range base {
			out[i] = param.Tensor{Name: p.Name, Shape: slices.Clone(p.Shape), Values: slices.Clone(p.Values)}
		}
		return out
	}
	if modelcard.ParamsHash(clone()) != h || modelcard.ParamsHash(base) != h {
		t.Error("the same parameters hash differently")
	}
	for _, c := range []struct {
		name   string
		mutate func([]param.Tensor) []param.Tensor
	}{
		{"one ULP up", func(ps []param.Tensor) []param.Tensor {
			v := &ps[2].Values[3]
			*v = math.Nextafter32(*v, float32(math.Inf(1)))
			return ps
		}},
		{"one ULP down at the last value", func(ps []param.Tensor) []param.Tensor {
			v := &ps[3].Values[1]
			*v = math.Nextafter32(*v, float32(math.Inf(-1)))
			return ps
		}},
		{"+0 to −0", func(ps []param.Tensor) []param.Tensor {
			ps[0].Values[3] = float32(math.Copysign(0, -1)) // j%7 == 3: the value is +0
			return ps
		}},
		{"name", func(ps []param.Tensor) []param.Tensor { ps[1].Name = "/dense0/bias"; return ps }},
		{"shape", func(ps []param.Tensor) []param.Tensor { ps[2].Shape = []int{2, 4}; return ps }},
		{"order", func(ps []param.Tensor) []param.Tensor { ps[0], ps[1] = ps[1], ps[0]; return ps }},
		{"a tensor less", func(ps []param.Tensor) []param.Tensor { return ps[:3] }},
		{"boundary moved", func(ps []param.Tensor) []param.Tensor {
			// The same bytes split differently between two tensors.
			ps[2].Values, ps[3].Values = ps[2].Values[:7], append(slices.Clone(ps[2].Values[7:]), ps[3].Values...)
			return ps
		}},
	} {
		if got := modelcard.ParamsHash(c.mutate(clone())); got == h {
			t.Errorf("%s: hash unchanged", c.name)
		}
	}
	if modelcard.ParamsHash(base) != h {
		t.Error("ParamsHash modified its input")
	}
}

func TestRowIDsHash(t *testing.T) {
	// printf 'adult.test:2\nadult.data:10\nadult.data:2\n' | LC_ALL=C sort | sha256sum
	const want = "083b24633abc7662e3e1beceee0e39932fe86aab70d5f9062be15c824c0af773"
	ids := []string{"adult.data:2", "adult.test:2", "adult.data:10"}
	if got := modelcard.RowIDsHash(ids); got != want {
		t.Errorf("RowIDsHash = %s, want %s", got, want)
	}
	if !slices.Equal(ids, []string{"adult.data:2", "adult.test:2", "adult.data:10"}) {
		t.Error("RowIDsHash reordered its input")
	}
	if modelcard.RowIDsHash([]string{"adult.data:10", "adult.test:2", "adult.data:2"}) != want {
		t.Error("the hash depends on the order of the ids")
	}
	if modelcard.RowIDsHash(ids[:2]) == want {
		t.Error("a row less, same hash")
	}
}

func TestRowSpec(t *testing.T) {
	set := synthetic(t)
	splits, err := adult.Split(set, splitSeed)
	if err != nil {
		t.Fatal(err)
	}
	del, err := adult.DeletionSpec{Kind: adult.DeleteRandom, N: 5}.Select(splits.Train, deletionSeed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec modelcard.RowSpec
		want []int
		text string
	}{
		{spec(modelcard.SplitTrain, ""), splits.Train, "train split (split seed 7)"},
		{spec(modelcard.SplitVal, ""), splits.Val, "val split (split seed 7)"},
		{spec(modelcard.SplitTest, ""), splits.Test, "test split (split seed 7)"},
		{spec(modelcard.SplitTrain, modelcard.KeepDeleted), del, "deletion random:5 (deletion seed 11) of the train split (split seed 7)"},
		{spec(modelcard.SplitTrain, modelcard.KeepRetained), adult.Retained(splits.Train, del), "train split (split seed 7) minus deletion random:5 (deletion seed 11)"},
	} {
		got, err := c.spec.Rows(set)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: Rows = %v, %v", c.text, got, err)
		}
		if c.spec.String() != c.text {
			t.Errorf("String() = %q, want %q", c.spec.String(), c.text)
		}
		rs, err := modelcard.NewRowSet(set, c.spec, c.want)
		if err != nil {
			t.Fatal(err)
		}
		ids, _ := set.RowIDs(c.want)
		if rs.Count != len(c.want) || rs.SHA256 != modelcard.RowIDsHash(ids) {
			t.Errorf("%s: row set %+v", c.text, rs)
		}
		if err := rs.Verify(set); err != nil {
			t.Errorf("%s: Verify: %v", c.text, err)
		}
	}

	// A set whose spec gives other rows is caught.
	rs, err := modelcard.NewRowSet(set, spec(modelcard.SplitTrain, modelcard.KeepDeleted), del[1:])
	if err != nil {
		t.Fatal(err)
	}
	var me *modelcard.RowsMismatchError
	if err := rs.Verify(set); !errors.As(err, &me) || me.WantCount != 4 || me.GotCount != 5 {
		t.Errorf("Verify of a set missing a row: %v, want a *RowsMismatchError 4 vs 5", err)
	}
	other := spec(modelcard.SplitTrain, modelcard.KeepDeleted)
	other.SplitSeed++
	rs, _ = modelcard.NewRowSet(set, other, del)
	if err := rs.Verify(set); !errors.As(err, &me) {
		t.Errorf("Verify under another split seed: %v, want a *RowsMismatchError", err)
	}
	if _, err := modelcard.NewRowSet(set, other, []int{del[0], del[0]}); err == nil {
		t.Error("NewRowSet accepted a repeated row")
	}
	if _, err := (modelcard.RowSpec{Split: "all"}).Rows(set); err == nil {
		t.Error("Rows accepted split \"all\"")
	}
}

func TestVerifyData(t *testing.T) {
	set := synthetic(t)
	full := fullCard(t, set)
	pruned := prunedCard(t, set, full)
	if err := pruned.VerifyData(set); err != nil {
		t.Fatalf("VerifyData: %v", err)
	}
	var me *modelcard.MismatchError
	var rm *modelcard.RowsMismatchError
	for _, c := range []struct {
		name   string
		mutate func(*modelcard.Card)
		check  func(error) bool
	}{
		{"file sum", func(c *modelcard.Card) {
			c.Data.SHA256 = map[string]string{"adult.data": strings.Repeat("0", 64), "adult.test": c.Data.SHA256["adult.test"]}
		}, func(err error) bool { return errors.As(err, &me) && me.Path == `data.sha256["adult.data"]` }},
		{"scaler", func(c *modelcard.Card) {
			c.Scaler.Std = slices.Clone(c.Scaler.Std)
			c.Scaler.Std[0] = math.Nextafter(c.Scaler.Std[0], 0)
		}, func(err error) bool { return errors.As(err, &me) && me.Path == "scaler.std[0]" }},
		{"trained rows", func(c *modelcard.Card) {
			c.TrainedRows.SHA256 = c.Method.Forget.SHA256
		}, func(err error) bool { return errors.As(err, &rm) && strings.HasPrefix(err.Error(), "trained_rows: ") }},
		{"forget seed", func(c *modelcard.Card) {
			m := *c.Method
			d := *m.Forget.Spec.Deletion
			d.Seed++
			m.Forget.Spec.Deletion = &d
			c.Method = &m
		}, func(err error) bool {
			return errors.As(err, &rm) && strings.HasPrefix(err.Error(), "method.forget_rows: ")
		}},
		{"split seed", func(c *modelcard.Card) {
			c.Data.SplitSeed++
			c.TrainedRows.Spec.SplitSeed++
		}, func(err error) bool { return errors.As(err, &rm) }},
	} {
		card := *pruned
		c.mutate(&card)
		if err := card.VerifyData(set); !c.check(err) {
			t.Errorf("%s: VerifyData = %v", c.name, err)
		}
	}
}
