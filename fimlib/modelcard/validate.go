package modelcard

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/internal/fieldcheck"
)

// Limits Validate puts on sizes, far above a real card's (96 features, 6
// tensors, 2 hidden layers, 45,222 rows), so that they only refuse cards
// that are corrupt or made to exhaust a reader.
const (
	MaxFeatures    = 10_000
	MaxTensors     = 1000
	MaxHidden      = 1000
	MaxRank        = 32
	MaxChecksums   = 100
	MaxStringBytes = fieldcheck.MaxStringBytes
	MaxRows        = fieldcheck.MaxCount
	MaxParams      = 1 << 40
)

// Fisher kinds Method.Fisher may name.
const (
	FisherEmpirical = "empirical"
	FisherTrue      = "true"
)

// Validate reports the first field of c that is not a well-formed card, as a
// [*FieldError] naming its JSON path (or a [*SchemaError] for another
// schema). It checks each field on its own (hashes are 64 lower-case hex
// digits, counts and sizes are positive and within the Max* limits, floats
// are finite, strings are valid UTF-8, names are non-empty and distinct) and
// the fields against each other:
//
//   - Parent and Method are both set (an unlearned model) or both nil, and
//     Training.InitSeed is set exactly for a model trained from scratch;
//   - ValidationRows is set exactly when Training.Recipe.Patience > 0;
//   - the tensors' sizes add up to Model.Params, which is the architecture's
//     parameter count; Model.Inputs, the scaler's lengths and the feature
//     names agree;
//   - the splits add up to Data.Rows; every row set's split seed is
//     Data.SplitSeed, its count at most its split's size (equal for a whole
//     split), its deletion spec parses; the forget rows keep the deleted
//     rows, every other set keeps the whole split or the retained rows.
//
// It does not look at the data: [Card.VerifyData] does.
func (c *Card) Validate() error {
	if c == nil {
		return &FieldError{Path: "", Problem: "nil card"}
	}
	if c.Schema != Schema && c.Schema != SchemaV1 {
		return &SchemaError{Got: c.Schema}
	}
	v := newValidator()
	v.Str("name", c.Name, true)
	v.Hash("params_sha256", c.ParamsSHA256)
	switch {
	case (c.Parent == nil) != (c.Method == nil):
		v.Fail("parent_params_sha256", "set without method or method without it; want both (an unlearned model) or neither")
	case c.Parent != nil:
		v.Hash("parent_params_sha256", *c.Parent)
		if *c.Parent == c.ParamsSHA256 && (c.Method == nil || c.Method.ID.Family != results.FamilyIdentity) {
			v.Fail("parent_params_sha256", "the card's own params_sha256: a model is not its own parent (unless its method is identity, which changes nothing)")
		}
		v.method(c)
	}
	v.model(c)
	v.data(c)
	v.scaler(c)
	v.training(c)
	v.rowSet(c, "trained_rows", c.TrainedRows, false)
	if (c.ValidationRows != nil) != (c.Training.Recipe.Patience > 0) {
		v.Fail("validation_rows", "present=%v with training.recipe.patience %d; want validation rows exactly when patience > 0",
			c.ValidationRows != nil, c.Training.Recipe.Patience)
	}
	if c.ValidationRows != nil {
		v.rowSet(c, "validation_rows", *c.ValidationRows, false)
	}
	b := c.Build
	v.Str("build.go_version", b.GoVersion, false)
	v.Str("build.gomlx_version", b.GomlxVersion, false)
	v.Str("build.backend", b.Backend, false)
	v.Str("build.goexperiment", b.GOEXPERIMENT, false)
	v.Str("build.goos", b.GOOS, false)
	v.Str("build.goarch", b.GOARCH, false)
	return v.Err
}

// validator records the first problem found, as a *FieldError.
type validator struct{ fieldcheck.Checker }

func newValidator() *validator {
	return &validator{fieldcheck.Checker{NewError: func(path, problem string) error { return &FieldError{Path: path, Problem: problem} }}}
}

func (v *validator) method(c *Card) {
	m := c.Method
	id := m.ID
	if !id.Family.Known() {
		v.Fail("method.id.family", "%q, want one of %v", fieldcheck.Truncate(string(id.Family)), results.Families)
		return
	}
	usesFraction := id.Family == results.FamilyFIM || id.Family == results.FamilyRandom || id.Family == results.FamilyMagnitude
	switch {
	case usesFraction && !(id.Fraction > 0 && id.Fraction < 1):
		v.Fail("method.id.fraction", "%s, want a fraction in (0, 1) for %s", fieldcheck.Num(id.Fraction), id.Family)
	case !usesFraction && id.Fraction != 0:
		v.Fail("method.id.fraction", "%s, want none for %s", fieldcheck.Num(id.Fraction), id.Family)
	}
	v.NonNegative("method.id.alpha", id.Alpha)
	v.NonNegative("method.id.lambda", id.Lambda)
	if id.Recipe != "" && id.Recipe != results.RecipeSeed && id.Recipe != results.RecipeFast {
		v.Fail("method.id.recipe", "%q, want %q, %q or none", fieldcheck.Truncate(id.Recipe), results.RecipeSeed, results.RecipeFast)
	}
	if id.Replica < 0 {
		v.Fail("method.id.replica", "%d, want ≥ 0", id.Replica)
	}
	usesFisher := id.Family == results.FamilyFIM || id.Family == results.FamilyRatio || id.Family == results.FamilySSD
	switch {
	case usesFisher && m.Fisher != FisherEmpirical && m.Fisher != FisherTrue:
		v.Fail("method.fisher", "%q, want %q or %q for %s", fieldcheck.Truncate(m.Fisher), FisherEmpirical, FisherTrue, id.Family)
	case !usesFisher && m.Fisher != "":
		v.Fail("method.fisher", "%q, want none for %s", fieldcheck.Truncate(m.Fisher), id.Family)
	}
	v.rowSet(c, "method.forget_rows", m.Forget, true)
}

func (v *validator) model(c *Card) {
	m := c.Model
	if m.Kind != "mlp" {
		v.Fail("model.kind", "%q, want \"mlp\"", fieldcheck.Truncate(m.Kind))
	}
	v.Count("model.inputs", m.Inputs, 1, MaxFeatures)
	v.Count("model.classes", m.Classes, 2, MaxFeatures)
	if len(m.Hidden) > MaxHidden {
		v.Fail("model.hidden", "%d layers, want at most %d", len(m.Hidden), MaxHidden)
		return
	}
	widths := append(append([]int{m.Inputs}, m.Hidden...), m.Classes)
	for i, w := range m.Hidden {
		v.Count(fmt.Sprintf("model.hidden[%d]", i), w, 1, MaxFeatures*100)
	}
	if !(m.Dropout >= 0 && m.Dropout < 1) {
		v.Fail("model.dropout", "%s, want a probability in [0, 1)", fieldcheck.Num(m.Dropout))
	}
	v.Str("model.init", m.Init, true)
	if v.Err != nil {
		return
	}
	want := 0
	for l := 0; l+1 < len(widths); l++ {
		want += widths[l]*widths[l+1] + widths[l+1]
	}
	if m.Params != want {
		v.Fail("model.params", "%d, want %d (the architecture's weights and biases)", m.Params, want)
	}
	if len(m.Tensors) == 0 || len(m.Tensors) > MaxTensors {
		v.Fail("model.tensors", "%d tensors, want 1 to %d", len(m.Tensors), MaxTensors)
		return
	}
	seen := map[string]bool{}
	total := 0
	for i, t := range m.Tensors {
		path := fmt.Sprintf("model.tensors[%d]", i)
		v.Str(path+".name", t.Name, true)
		if seen[t.Name] {
			v.Fail(path+".name", "%q repeated", fieldcheck.Truncate(t.Name))
		}
		seen[t.Name] = true
		if len(t.Shape) > MaxRank {
			v.Fail(path+".shape", "rank %d, want at most %d", len(t.Shape), MaxRank)
			return
		}
		size := 1
		for k, d := range t.Shape {
			v.Count(fmt.Sprintf("%s.shape[%d]", path, k), d, 1, MaxParams)
			if v.Err != nil {
				return
			}
			if size > MaxParams/d {
				v.Fail(path+".shape", "%v holds more than %d values", t.Shape, MaxParams)
				return
			}
			size *= d
		}
		total += size
		if total > MaxParams {
			v.Fail("model.tensors", "more than %d values", MaxParams)
			return
		}
	}
	if total != m.Params {
		v.Fail("model.tensors", "sizes add up to %d, want model.params %d", total, m.Params)
	}
}

func (v *validator) data(c *Card) {
	d := c.Data
	v.Str("data.name", d.Name, true)
	if len(d.SHA256) == 0 || len(d.SHA256) > MaxChecksums {
		v.Fail("data.sha256", "%d entries, want 1 to %d", len(d.SHA256), MaxChecksums)
	}
	for _, k := range slices.Sorted(maps.Keys(d.SHA256)) {
		path := fmt.Sprintf("data.sha256[%q]", fieldcheck.Truncate(k))
		v.Str(path, k, true)
		v.Hash(path, d.SHA256[k])
	}
	for _, k := range []string{adult.DataFile, adult.TestFile} {
		if _, ok := d.SHA256[k]; !ok {
			v.Fail("data.sha256", "no entry for %s", k)
		}
	}
	if d.RowIDs != RowIDScheme {
		v.Fail("data.row_ids", "%q, want %q", fieldcheck.Truncate(d.RowIDs), RowIDScheme)
	}
	v.Count("data.rows", d.Rows, 1, MaxRows)
	v.Count("data.splits.train", d.Splits.Train, 1, MaxRows)
	v.Count("data.splits.val", d.Splits.Val, 1, MaxRows)
	v.Count("data.splits.test", d.Splits.Test, 1, MaxRows)
	if v.Err == nil && d.Splits.Train+d.Splits.Val+d.Splits.Test != d.Rows {
		v.Fail("data.splits", "%d + %d + %d rows, want data.rows %d", d.Splits.Train, d.Splits.Val, d.Splits.Test, d.Rows)
	}
	if len(d.Features) == 0 || len(d.Features) > MaxFeatures {
		v.Fail("data.feature_names", "%d names, want 1 to %d", len(d.Features), MaxFeatures)
		return
	}
	seen := map[string]bool{}
	for i, f := range d.Features {
		path := fmt.Sprintf("data.feature_names[%d]", i)
		v.Str(path, f, true)
		if seen[f] {
			v.Fail(path, "%q repeated", fieldcheck.Truncate(f))
		}
		seen[f] = true
	}
	if c.Model.Inputs != len(d.Features) {
		v.Fail("model.inputs", "%d, want one per feature name (%d)", c.Model.Inputs, len(d.Features))
	}
}

func (v *validator) scaler(c *Card) {
	s := c.Scaler
	if s.Kind != "standard" {
		v.Fail("scaler.kind", "%q, want \"standard\"", fieldcheck.Truncate(s.Kind))
	}
	n := len(c.Data.Features)
	if len(s.Mean) != n || len(s.Std) != n {
		v.Fail("scaler", "%d means and %d standard deviations, want one of each per feature (%d)", len(s.Mean), len(s.Std), n)
		return
	}
	for j := range n {
		if m := s.Mean[j]; math.IsNaN(m) || math.IsInf(m, 0) {
			v.Fail(fmt.Sprintf("scaler.mean[%d]", j), "%s, want a finite number", fieldcheck.Num(m))
		}
		if sd := s.Std[j]; !(sd > 0) || math.IsInf(sd, 0) {
			v.Fail(fmt.Sprintf("scaler.std[%d]", j), "%s, want a finite number > 0", fieldcheck.Num(sd))
		}
	}
	v.rowSet(c, "scaler.fit_rows", s.FitRows, false)
}

func (v *validator) training(c *Card) {
	t := c.Training
	if (t.InitSeed == nil) == (c.Parent == nil) {
		v.Fail("training.init_seed", "present=%v for a model with parent=%v; want an init seed exactly for a model trained from scratch",
			t.InitSeed != nil, c.Parent != nil)
	}
	v2 := c.Schema != SchemaV1
	switch {
	case t.InitSeed == nil && v2 && t.ScratchRecipe == (results.TrainConfig{}):
		v.Fail("training.scratch_recipe", "absent for an unlearned model; want the recipe its ancestor trained from scratch with")
	case t.InitSeed == nil && v2:
		v.Recipe("training.scratch_recipe", t.ScratchRecipe)
	case t.ScratchRecipe != (results.TrainConfig{}):
		v.Fail("training.scratch_recipe", "present in a %s; want it only for an unlearned model of schema %s",
			map[bool]string{true: "model trained from scratch", false: SchemaV1 + " card"}[t.InitSeed != nil], Schema)
	}
	if t.Recipe == (results.TrainConfig{}) {
		trains := true
		if c.Method != nil {
			f := c.Method.ID.Family
			trains = f != results.FamilySSD && f != results.FamilyIdentity
		}
		if trains || !v2 {
			v.Fail("training.recipe", "absent; want one for every model but one made by a method that does not train (ssd, identity) in a %s card", Schema)
		}
		return
	}
	v.Recipe("training.recipe", t.Recipe)
}

// rowSet checks one row set; forget says whether it is a method's forget
// rows (which keep the deleted rows) or another set (which keeps a whole
// split or the retained rows).
func (v *validator) rowSet(c *Card, path string, r RowSet, forget bool) {
	d := c.Data
	s := r.Spec
	size := 0
	switch s.Split {
	case SplitTrain:
		size = d.Splits.Train
	case SplitVal:
		size = d.Splits.Val
	case SplitTest:
		size = d.Splits.Test
	default:
		v.Fail(path+".spec.split", "%q, want %q, %q or %q", fieldcheck.Truncate(s.Split), SplitTrain, SplitVal, SplitTest)
		return
	}
	if s.SplitSeed != d.SplitSeed {
		v.Fail(path+".spec.split_seed", "%d, want data.split_seed %d", s.SplitSeed, d.SplitSeed)
	}
	v.listed(c, path+".spec.minus", s.Minus)
	v.listed(c, path+".spec.only", s.Only)
	switch {
	case len(s.Only) > 0 && len(s.Minus) > 0:
		v.Fail(path+".spec", "both only and minus; want at most one")
	case len(s.Only) > 0 && !forget:
		v.Fail(path+".spec.only", "%d listed rows; only the forget rows of a method are listed one by one", len(s.Only))
	case len(s.Only) > 0:
		if s.Deletion != nil && s.Deletion.Keep != KeepRetained {
			v.Fail(path+".spec.deletion.keep", "%q, want %q: listed forget rows are trained rows", fieldcheck.Truncate(s.Deletion.Keep), KeepRetained)
		}
		if r.Count != len(s.Only) {
			v.Fail(path+".count", "%d, want the %d listed rows", r.Count, len(s.Only))
		}
	case s.Deletion == nil && forget:
		v.Fail(path+".spec.deletion", "none, want the deletion set (keep %q) or listed rows (only)", KeepDeleted)
	case s.Deletion == nil:
		if want := size - len(s.Minus); r.Count != want {
			v.Fail(path+".count", "%d, want the %s split's size %d minus %d listed rows", r.Count, s.Split, size, len(s.Minus))
		}
	default:
		del := s.Deletion
		v.Str(path+".spec.deletion.spec", del.Spec, true)
		if _, err := adult.ParseDeletionSpec(del.Spec); err != nil {
			v.Fail(path+".spec.deletion.spec", "%v", err)
		}
		want := KeepRetained
		if forget {
			want = KeepDeleted
		}
		if del.Keep != want {
			v.Fail(path+".spec.deletion.keep", "%q, want %q", fieldcheck.Truncate(del.Keep), want)
		}
		// The deletion set takes at least one row and leaves at least one.
		if hi := size - 1; r.Count < 1 || r.Count > hi {
			v.Fail(path+".count", "%d, want an integer in [1, %d] (part of the %s split)", r.Count, hi, s.Split)
		}
	}
	v.Count(path+".count", r.Count, 1, MaxRows)
	v.Hash(path+".sha256", r.SHA256)
}

// listed checks a list of row ids (RowSpec.Minus or Only): schema v2, each
// a row id in its one text form, in adult.RowID.Compare order, no repeats.
func (v *validator) listed(c *Card, path string, ids []string) {
	if len(ids) == 0 {
		if ids != nil {
			v.Fail(path, "an empty list; leave it out instead")
		}
		return
	}
	if c.Schema == SchemaV1 {
		v.Fail(path, "%d listed rows in a %s card (listed rows are %s)", len(ids), SchemaV1, Schema)
		return
	}
	v.Count(path, len(ids), 1, MaxRows)
	var prev adult.RowID
	for i, text := range ids {
		id, err := adult.ParseRowID(text)
		if err != nil {
			v.Fail(fmt.Sprintf("%s[%d]", path, i), "%v", err)
			return
		}
		if i > 0 && prev.Compare(id) >= 0 {
			v.Fail(fmt.Sprintf("%s[%d]", path, i), "%s after %s; want the ids in file-then-line order without repeats", text, prev)
			return
		}
		prev = id
	}
}

// MismatchError reports a card that does not describe the data it is
// checked against ([Card.VerifyData]).
type MismatchError struct {
	// Path is the card's field, e.g. `data.sha256["adult.data"]`.
	Path    string
	Problem string
}

func (e *MismatchError) Error() string {
	return "modelcard: " + e.Path + " does not match the data: " + e.Problem
}

// VerifyData checks c against the data set it names, as a verifier holding
// the data files would: the files' SHA-256 sums, the row count, the feature
// names, the split sizes, every row set (recomputed from its spec:
// [RowSet.Verify], a [*RowsMismatchError] when it differs) and the scaler's
// parameters (refit on its rows, compared exactly). Other differences are a
// [*MismatchError]. set must carry its rows' stable ids (adult.LoadFiles
// fills them).
func (c *Card) VerifyData(set *adult.Dataset) error {
	d := c.Data
	for _, k := range slices.Sorted(maps.Keys(d.SHA256)) {
		if got := set.SHA256[k]; got != d.SHA256[k] {
			return &MismatchError{Path: fmt.Sprintf("data.sha256[%q]", k), Problem: fmt.Sprintf("the data's is %q", got)}
		}
	}
	if len(set.SHA256) != len(d.SHA256) {
		return &MismatchError{Path: "data.sha256", Problem: fmt.Sprintf("%d files, the data has %d", len(d.SHA256), len(set.SHA256))}
	}
	if set.Rows() != d.Rows {
		return &MismatchError{Path: "data.rows", Problem: fmt.Sprintf("the data has %d", set.Rows())}
	}
	if !slices.Equal(set.Features, d.Features) {
		return &MismatchError{Path: "data.feature_names", Problem: fmt.Sprintf("the data has %d features %q…", len(set.Features), set.Features[:min(3, len(set.Features))])}
	}
	splits, err := adult.Split(set, d.SplitSeed)
	if err != nil {
		return err
	}
	if got := (Splits{Train: len(splits.Train), Val: len(splits.Val), Test: len(splits.Test)}); got != d.Splits {
		return &MismatchError{Path: "data.splits", Problem: fmt.Sprintf("the data splits into %+v", got)}
	}
	sets := []struct {
		path string
		r    *RowSet
	}{{"trained_rows", &c.TrainedRows}, {"validation_rows", c.ValidationRows}, {"scaler.fit_rows", &c.Scaler.FitRows}}
	if c.Method != nil {
		sets = append(sets, struct {
			path string
			r    *RowSet
		}{"method.forget_rows", &c.Method.Forget})
	}
	for _, s := range sets {
		if s.r == nil {
			continue
		}
		if err := s.r.Verify(set); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
	}
	rows, err := c.Scaler.FitRows.Spec.Rows(set)
	if err != nil {
		return err
	}
	sc := adult.FitScaler(set, rows)
	for j := range sc.Mean {
		if sc.Mean[j] != c.Scaler.Mean[j] {
			return &MismatchError{Path: fmt.Sprintf("scaler.mean[%d]", j),
				Problem: fmt.Sprintf("%s, refit on scaler.fit_rows: %s", fieldcheck.Num(c.Scaler.Mean[j]), fieldcheck.Num(sc.Mean[j]))}
		}
		if sc.Std[j] != c.Scaler.Std[j] {
			return &MismatchError{Path: fmt.Sprintf("scaler.std[%d]", j),
				Problem: fmt.Sprintf("%s, refit on scaler.fit_rows: %s", fieldcheck.Num(c.Scaler.Std[j]), fieldcheck.Num(sc.Std[j]))}
		}
	}
	return nil
}
