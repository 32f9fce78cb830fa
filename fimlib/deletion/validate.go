package deletion

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fimprune/fimprune/fimlib/adult"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/internal/fieldcheck"
)

// FieldError is a field of a [Record] that [Record.Validate] refuses.
type FieldError struct {
	// Path is the field's JSON path, e.g. "request.count".
	Path    string
	Problem string
}

func (e *FieldError) Error() string { return "deletion record: invalid " + e.Path + ": " + e.Problem }

// Tolerance is how far a stored statistic that Validate recomputes from
// other stored numbers (verification.null_mean, null_sd, the scores' t and
// pass_bound) may be from the recomputed value: far above float64 rounding,
// far below anything the verdict could turn on.
const Tolerance = 1e-9

// Validate reports the first field of r that is not a well-formed record, as
// a [*FieldError] naming its JSON path (or a [*SchemaError] for another
// schema). It checks each field on its own (hashes are 64 lower-case hex
// digits, counts are positive, numbers are finite and in their ranges,
// strings are valid UTF-8 and required ones non-empty, created is RFC 3339
// in UTC, the method's id is a known family with the settings it uses and no
// others) and the fields against each other:
//
//   - request.count is len(request.rows) ≥ 1; the rows' ids parse
//     (adult.ParseRowID) and are in strictly increasing adult.RowID order;
//     request.ids_sha256 is modelcard.RowIDsHash of them;
//   - output.trained_rows is input.trained_rows − request.count;
//     difference_attack.deleted is request.count, its retained rows at most
//     output.trained_rows, its exact_auc 0 without a verification (there
//     are no references then);
//   - method.exact is true exactly for a retraining, and method.training is
//     present exactly for a method that trains (all but ssd and identity);
//   - verification: one seed (distinct) and one null AUC per reference,
//     null_mean and null_sd their mean and sample standard deviation, each
//     score's t and pass_bound as their comments define them, and the
//     verdict the one the numbers give ([Verification.Want]);
//   - a fallback's first attempt did not pass and was not a retraining, and
//     the record's own method is then the retraining, verified.
//
// It does not look at the data, the models or the ledger.
func (r *Record) Validate() error {
	if r == nil {
		return &FieldError{Path: "", Problem: "nil record"}
	}
	if r.Schema != Schema {
		return &SchemaError{Got: r.Schema}
	}
	v := newValidator()
	v.created(r.Created)
	v.request(&r.Request)
	v.checkpoint("input", &r.Input)
	v.checkpoint("output", &r.Output)
	if v.Err == nil && r.Output.TrainedRows != r.Input.TrainedRows-r.Request.Count {
		v.Fail("output.trained_rows", "%d, want input.trained_rows − request.count = %d − %d = %d",
			r.Output.TrainedRows, r.Input.TrainedRows, r.Request.Count, r.Input.TrainedRows-r.Request.Count)
	}
	v.data(r.Data)
	v.method("method", &r.Method)
	if r.Verification != nil {
		v.verification("verification", r.Verification)
	}
	if f := r.Fallback; f != nil {
		v.fallback(r, f)
	}
	v.difference(r)
	s := r.Seconds
	v.NonNegative("seconds.load", s.Load)
	v.NonNegative("seconds.method", s.Method)
	v.NonNegative("seconds.references", s.References)
	v.NonNegative("seconds.verification", s.Verification)
	v.NonNegative("seconds.total", s.Total)
	b := r.Build
	v.Str("build.go_version", b.GoVersion, true)
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

func (v *validator) atLeast(path string, n, lo int) {
	if n < lo {
		v.Fail(path, "%d, want an integer ≥ %d", n, lo)
	}
}

func (v *validator) finite(path string, x float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		v.Fail(path, "%s, want a finite number", fieldcheck.Num(x))
	}
}

// unit checks a number in [0, 1] (an AUC, an accuracy, a p-value, a share).
func (v *validator) unit(path string, x float64) {
	if !(x >= 0 && x <= 1) {
		v.Fail(path, "%s, want a number in [0, 1]", fieldcheck.Num(x))
	}
}

// open checks a number in (0, 1) (a level, a power).
func (v *validator) open(path string, x float64) {
	if !(x > 0 && x < 1) {
		v.Fail(path, "%s, want a number in (0, 1)", fieldcheck.Num(x))
	}
}

// near checks a stored statistic against its value recomputed from the
// record's other numbers.
func (v *validator) near(path string, got, want float64, what string) {
	if !(math.Abs(got-want) <= Tolerance*max(1, math.Abs(want))) {
		v.Fail(path, "%s, want %s = %s", fieldcheck.Num(got), what, fieldcheck.Num(want))
	}
}

func (v *validator) created(s string) {
	v.Str("created", s, true)
	if v.Err != nil {
		return
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") {
		v.Fail("created", "%q, want a time in RFC 3339 in UTC (2026-12-01T10:00:00Z)", fieldcheck.Truncate(s))
	}
}

func (v *validator) request(q *Request) {
	v.Str("request.source", q.Source, true)
	v.atLeast("request.count", q.Count, 1)
	if q.Count != len(q.Rows) {
		v.Fail("request.count", "%d, want len(request.rows) = %d", q.Count, len(q.Rows))
	}
	if v.Err != nil {
		return
	}
	ids := make([]string, len(q.Rows))
	var prev adult.RowID
	for i, row := range q.Rows {
		path := fmt.Sprintf("request.rows[%d]", i)
		id, err := adult.ParseRowID(row.ID)
		if err != nil {
			v.Fail(path+".id", "%v", err)
			return
		}
		if i > 0 && prev.Compare(id) >= 0 {
			v.Fail(path+".id", "%q after %q, want the ids in increasing adult.RowID order, each once", fieldcheck.Truncate(row.ID), prev)
			return
		}
		v.Hash(path+".sha256", row.SHA256)
		ids[i], prev = row.ID, id
	}
	v.Hash("request.ids_sha256", q.IDsSHA256)
	if want := modelcard.RowIDsHash(ids); v.Err == nil && q.IDsSHA256 != want {
		v.Fail("request.ids_sha256", "%s, want modelcard.RowIDsHash of request.rows' ids, %s", q.IDsSHA256, want)
	}
}

func (v *validator) checkpoint(path string, c *Checkpoint) {
	v.Str(path+".dir", c.Dir, true)
	v.Hash(path+".params_sha256", c.ParamsSHA256)
	v.Hash(path+".card_sha256", c.CardSHA256)
	v.atLeast(path+".trained_rows", c.TrainedRows, 1)
	v.unit(path+".test_accuracy", c.TestAccuracy)
}

func (v *validator) data(d map[string]string) {
	if len(d) == 0 || len(d) > modelcard.MaxChecksums {
		v.Fail("data_sha256", "%d entries, want 1 to %d", len(d), modelcard.MaxChecksums)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(d)) {
		path := fmt.Sprintf("data_sha256[%q]", fieldcheck.Truncate(k))
		v.Str(path, k, true)
		v.Hash(path, d[k])
	}
	for _, k := range []string{adult.DataFile, adult.TestFile} {
		if _, ok := d[k]; !ok {
			v.Fail("data_sha256", "no entry for %s", k)
		}
	}
}

// trains reports whether a family's method has a training step (the
// fine-tuning after its edit, or the whole training for retrain).
func trains(f results.Family) bool {
	return f != results.FamilySSD && f != results.FamilyIdentity
}

func (v *validator) method(path string, m *Method) {
	id := m.ID
	if !id.Family.Known() {
		v.Fail(path+".id.family", "%q, want one of %v", fieldcheck.Truncate(string(id.Family)), results.Families)
		return
	}
	f := id.Family
	usesFraction := f == results.FamilyFIM || f == results.FamilyRandom || f == results.FamilyMagnitude
	switch {
	case usesFraction && !(id.Fraction > 0 && id.Fraction < 1):
		v.Fail(path+".id.fraction", "%s, want a fraction in (0, 1) for %s", fieldcheck.Num(id.Fraction), f)
	case !usesFraction && id.Fraction != 0:
		v.Fail(path+".id.fraction", "%s, want none for %s", fieldcheck.Num(id.Fraction), f)
	}
	usesAlpha := f == results.FamilyRatio || f == results.FamilySSD || f == results.FamilyNegGrad
	switch {
	case f == results.FamilyNegGrad && !(id.Alpha >= 0 && id.Alpha <= 1):
		v.Fail(path+".id.alpha", "%s, want a weight in [0, 1] for %s", fieldcheck.Num(id.Alpha), f)
	case usesAlpha:
		v.NonNegative(path+".id.alpha", id.Alpha)
	case id.Alpha != 0:
		v.Fail(path+".id.alpha", "%s, want none for %s", fieldcheck.Num(id.Alpha), f)
	}
	switch {
	case f == results.FamilySSD:
		v.NonNegative(path+".id.lambda", id.Lambda)
	case id.Lambda != 0:
		v.Fail(path+".id.lambda", "%s, want none for %s", fieldcheck.Num(id.Lambda), f)
	}
	// Recipe names the fine-tuning after an edit: retrain, ssd and identity
	// have none.
	tunes := trains(f) && f != results.FamilyRetrain
	switch {
	case tunes && id.Recipe != "" && id.Recipe != results.RecipeSeed && id.Recipe != results.RecipeFast:
		v.Fail(path+".id.recipe", "%q, want %q, %q or none", fieldcheck.Truncate(id.Recipe), results.RecipeSeed, results.RecipeFast)
	case !tunes && id.Recipe != "":
		v.Fail(path+".id.recipe", "%q, want none for %s (no fine-tuning)", fieldcheck.Truncate(id.Recipe), f)
	}
	if id.Replica < 0 {
		v.Fail(path+".id.replica", "%d, want ≥ 0", id.Replica)
	}
	if exact := f == results.FamilyRetrain; m.Exact != exact {
		v.Fail(path+".exact", "%v for %s, want %v (exact exactly for retrain)", m.Exact, f, exact)
	}
	switch {
	case trains(f) && m.Training == nil:
		v.Fail(path+".training", "absent for %s, want the recipe of its training step", f)
	case !trains(f) && m.Training != nil:
		v.Fail(path+".training", "present for %s, which does not train", f)
	case m.Training != nil:
		v.Recipe(path+".training", *m.Training)
	}
	v.atLeast(path+".params_changed", m.ParamsChanged, 0)
	v.NonNegative(path+".relative_change", m.RelativeChange)
	v.NonNegative(path+".seconds", m.Seconds)
}

// Want returns the verdict the numbers of x give: [Fail] when the output's
// one-sided p-value is below Alpha; otherwise [Pass] when the input's
// p-value is below Alpha (the test sees the rows in the model that trained
// on them) and the output's upper bound is below PassBound; otherwise
// [Inconclusive].
func (x *Verification) Want() string {
	switch {
	case x.Output.P < x.Alpha:
		return Fail
	case x.Input.P < x.Alpha && x.Output.Upper < x.PassBound:
		return Pass
	}
	return Inconclusive
}

func (v *validator) verification(path string, x *Verification) {
	if x.Test != TestName {
		v.Fail(path+".test", "%q, want %q", fieldcheck.Truncate(x.Test), TestName)
	}
	v.atLeast(path+".references", x.References, 3)
	if len(x.Seeds) != x.References {
		v.Fail(path+".seeds", "%d seeds, want one per reference (%d)", len(x.Seeds), x.References)
	}
	seen := map[uint64]bool{}
	for j, s := range x.Seeds {
		if seen[s] {
			v.Fail(fmt.Sprintf("%s.seeds[%d]", path, j), "%d repeated, want a seed per reference model", s)
		}
		seen[s] = true
	}
	v.Hash(path+".reference_key", x.ReferenceKey)
	v.atLeast(path+".control_rows", x.ControlRows, 1)
	v.open(path+".alpha", x.Alpha)
	v.open(path+".power", x.Power)
	v.unit(path+".margin", x.Margin)
	if len(x.NullAUCs) != x.References {
		v.Fail(path+".null_aucs", "%d AUCs, want one per reference (%d)", len(x.NullAUCs), x.References)
	}
	for j, a := range x.NullAUCs {
		v.unit(fmt.Sprintf("%s.null_aucs[%d]", path, j), a)
	}
	v.unit(path+".null_mean", x.NullMean)
	v.NonNegative(path+".null_sd", x.NullSD)
	v.score(path+".input", &x.Input)
	v.score(path+".output", &x.Output)
	v.NonNegative(path+".mde", x.MDE)
	v.unit(path+".pass_bound", x.PassBound)
	v.NonNegative(path+".reference_seconds", x.ReferenceSeconds)
	v.NonNegative(path+".test_seconds", x.TestSeconds)
	if v.Err != nil {
		return
	}
	// The statistics the comments define from the numbers above.
	k := float64(x.References)
	mean, ss := 0.0, 0.0
	for _, a := range x.NullAUCs {
		mean += a
	}
	mean /= k
	for _, a := range x.NullAUCs {
		ss += (a - mean) * (a - mean)
	}
	v.near(path+".null_mean", x.NullMean, mean, "the mean of null_aucs")
	v.near(path+".null_sd", x.NullSD, math.Sqrt(ss/(k-1)), "the sample standard deviation of null_aucs")
	if x.NullSD > 0 {
		scale := x.NullSD * math.Sqrt(1+1/k)
		v.near(path+".input.t", x.Input.T, (x.Input.AUC-x.NullMean)/scale, "(auc − null_mean) / (null_sd·√(1 + 1/references))")
		v.near(path+".output.t", x.Output.T, (x.Output.AUC-x.NullMean)/scale, "(auc − null_mean) / (null_sd·√(1 + 1/references))")
	}
	v.near(path+".pass_bound", x.PassBound, x.NullMean+x.Margin*(x.Input.AUC-x.NullMean), "null_mean + margin·(input.auc − null_mean)")
	switch x.Verdict {
	case Pass, Fail, Inconclusive:
		if want := x.Want(); x.Verdict != want {
			v.Fail(path+".verdict", "%q, but the numbers give %q (output p %s, input p %s, alpha %s, output upper %s, pass_bound %s)",
				x.Verdict, want, fieldcheck.Num(x.Output.P), fieldcheck.Num(x.Input.P), fieldcheck.Num(x.Alpha), fieldcheck.Num(x.Output.Upper), fieldcheck.Num(x.PassBound))
		}
	default:
		v.Fail(path+".verdict", "%q, want %q, %q or %q", fieldcheck.Truncate(x.Verdict), Pass, Fail, Inconclusive)
	}
	v.Str(path+".reason", x.Reason, true)
}

func (v *validator) score(path string, s *Score) {
	v.unit(path+".auc", s.AUC)
	v.finite(path+".t", s.T)
	v.unit(path+".p", s.P)
	v.finite(path+".upper", s.Upper)
}

func (v *validator) fallback(r *Record, f *Fallback) {
	v.Str("fallback.reason", f.Reason, true)
	v.method("fallback.method", &f.Method)
	if f.Method.ID.Family == results.FamilyRetrain {
		v.Fail("fallback.method.id.family", "%s, want the first attempt's method: a retraining is not replaced by one", f.Method.ID.Family)
	}
	v.Hash("fallback.output_params_sha256", f.OutputParamsSHA256)
	v.verification("fallback.verification", &f.Verification)
	if f.Verification.Verdict == Pass {
		v.Fail("fallback.verification.verdict", "%q, but a first attempt that passed is not replaced", Pass)
	}
	if r.Method.ID.Family != results.FamilyRetrain {
		v.Fail("method.id.family", "%q with a fallback, want %q (the fallback retrains from scratch)", fieldcheck.Truncate(string(r.Method.ID.Family)), results.FamilyRetrain)
	}
	if r.Verification == nil {
		v.Fail("verification", "absent with a fallback, want the retrained model's verification")
	}
}

func (v *validator) difference(r *Record) {
	d := r.Difference
	v.unit("difference_attack.auc", d.AUC)
	v.unit("difference_attack.exact_auc", d.ExactAUC)
	if r.Verification == nil && d.ExactAUC != 0 {
		v.Fail("difference_attack.exact_auc", "%s without references (no verification), want 0", fieldcheck.Num(d.ExactAUC))
	}
	if d.Deleted != r.Request.Count {
		v.Fail("difference_attack.deleted", "%d, want request.count %d", d.Deleted, r.Request.Count)
	}
	v.atLeast("difference_attack.retained", d.Retained, 1)
	if d.Retained > r.Output.TrainedRows {
		v.Fail("difference_attack.retained", "%d, want at most output.trained_rows %d", d.Retained, r.Output.TrainedRows)
	}
	v.finite("difference_attack.mean_change_deleted", d.MeanChangeDeleted)
	v.finite("difference_attack.mean_change_retained", d.MeanChangeRetained)
}
