package deletion_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// dataLines are the lines of a small stand-in for adult.data (lines 1–5)
// and adult.test (a header, then line 2), each with its "\n".
var dataLines = []string{
	"39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n",
	"50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, <=50K\n",
	"38, Private, 215646, HS-grad, 9, Divorced, Handlers-cleaners, Not-in-family, White, Male, 0, 0, 40, United-States, <=50K\n",
	"53, Private, 234721, 11th, 7, Married-civ-spouse, Handlers-cleaners, Husband, Black, Male, 0, 0, 40, United-States, <=50K\n",
	"41, Private, 120000, Masters, 14, Never-married, Prof-specialty, Not-in-family, White, Female, 0, 0, 45, United-States, >50K\n",
}

var testLines = []string{
	"|1x3 Cross validator\n",
	"25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, United-States, <=50K.\n",
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// idsSHA256 is `printf 'adult.test:2\nadult.data:5\n' | LC_ALL=C sort | sha256sum`.
const idsSHA256 = "017d3ecc0db928ce07be5fea9a2323d9d0902dd57883b906b7e66f9cbca04cd7"

// verification is a valid verification that passes: four references whose
// null AUCs are 0.49 … 0.52 (mean 0.505, sd 0.0129), an input that the test
// sees clearly (AUC 0.8, p 0.00013), an output at the null (AUC 0.51, p
// 0.376, upper bound 0.544 below the pass bound 0.57875). The p-values and
// bounds are Student's t with 3 degrees of freedom, as the comments define
// them; Validate recomputes only the mean, the sd, t and the pass bound.
func verification() deletion.Verification {
	x := deletion.Verification{
		Test: deletion.TestName, References: 4, Seeds: []uint64{1, 2, 3, math.MaxUint64},
		ReferenceKey: sum("references"), Cached: false, ControlRows: 9045,
		Alpha: 0.05, Power: 0.8, Margin: 0.25,
		NullAUCs: []float64{0.49, 0.52, 0.50, 0.51},
		Input:    deletion.Score{AUC: 0.8, P: 0.000128, Upper: 0.834},
		Output:   deletion.Score{AUC: 0.51, P: 0.376, Upper: 0.544},
		MDE:      0.048, Verdict: deletion.Pass, Reason: "the output's upper bound 0.544 is below the pass bound 0.579",
		ReferenceSeconds: 12.5, TestSeconds: 0.25,
	}
	setStats(&x)
	return x
}

// setStats sets the statistics Validate recomputes from x's other numbers.
func setStats(x *deletion.Verification) {
	k := float64(len(x.NullAUCs))
	x.NullMean, x.NullSD = 0, 0
	for _, a := range x.NullAUCs {
		x.NullMean += a
	}
	x.NullMean /= k
	for _, a := range x.NullAUCs {
		x.NullSD += (a - x.NullMean) * (a - x.NullMean)
	}
	x.NullSD = math.Sqrt(x.NullSD / (k - 1))
	scale := x.NullSD * math.Sqrt(1+1/k)
	x.Input.T = (x.Input.AUC - x.NullMean) / scale
	x.Output.T = (x.Output.AUC - x.NullMean) / scale
	x.PassBound = x.NullMean + x.Margin*(x.Input.AUC-x.NullMean)
}

// valid is a valid record: two rows deleted by fim-prune at 0.2 from a
// model trained on 28,941 rows, verified (pass).
func valid() *deletion.Record {
	ver := verification()
	return &deletion.Record{
		Schema:  deletion.Schema,
		Created: "2026-12-01T10:00:00Z",
		Request: deletion.Request{
			Source: "file rows.txt", Count: 2, IDsSHA256: idsSHA256,
			Rows: []deletion.Row{{ID: "adult.data:5", SHA256: sum(dataLines[4])}, {ID: "adult.test:2", SHA256: sum(testLines[1])}},
		},
		Input:  deletion.Checkpoint{Dir: "../full", ParamsSHA256: sum("input params"), CardSHA256: sum("input card"), TrainedRows: 28941, TestAccuracy: 0.8512},
		Output: deletion.Checkpoint{Dir: ".", ParamsSHA256: sum("output params"), CardSHA256: sum("output card"), TrainedRows: 28939, TestAccuracy: 0.8498},
		Data:   map[string]string{"adult.data": sum("adult.data"), "adult.test": sum("adult.test")},
		Method: deletion.Method{
			ID:       results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeSeed},
			Default:  true,
			Training: &results.TrainConfig{Optimizer: "adam", LearningRate: 1e-4, AdamEpsilon: 1e-8, BatchSize: 64, MaxEpochs: 20},
			Seed:     1 << 63, ParamsChanged: 4160, RelativeChange: 0.31, Seconds: 3.5,
		},
		Verification: &ver,
		Difference: deletion.Difference{AUC: 0.97, ExactAUC: 0.71, Deleted: 2, Retained: 28939,
			MeanChangeDeleted: 0.42, MeanChangeRetained: -0.003},
		Seconds: deletion.Timings{Load: 0.8, Method: 3.5, References: 12.5, Verification: 0.25, Total: 17.3},
		Build:   modelcard.Build{GoVersion: "go1.26.8", GomlxVersion: "v0.28.2", Backend: "go", GOOS: "linux", GOARCH: "amd64"},
	}
}

// withFallback is a valid record of a first attempt (fim-prune at 0.2, which
// failed: AUC 0.6, p 0.0036) replaced by a retraining that passed.
func withFallback() *deletion.Record {
	r := valid()
	first := verification()
	first.Output = deletion.Score{AUC: 0.6, P: 0.00357, Upper: 0.634}
	first.Verdict, first.Reason = deletion.Fail, "the output's p 0.0036 is below alpha 0.05"
	setStats(&first)
	r.Fallback = &deletion.Fallback{
		Reason: "fail: the output's p 0.0036 is below alpha 0.05",
		Method: r.Method, OutputParamsSHA256: sum("first attempt params"), Verification: first,
	}
	r.Fallback.Method.Default = true
	r.Method = deletion.Method{
		ID: results.MethodID{Family: results.FamilyRetrain}, Exact: true,
		Training: &results.TrainConfig{Optimizer: "adam", LearningRate: 1e-3, AdamEpsilon: 1e-8, BatchSize: 64, MaxEpochs: 50, Patience: 10},
		Seed:     7, ParamsChanged: 20802, RelativeChange: 1.4, Seconds: 40,
	}
	r.Verification.Cached = true
	return r
}

// clone copies r deeply through its JSON form.
func clone(t *testing.T, r *deletion.Record) *deletion.Record {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var c deletion.Record
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestRoundTrip(t *testing.T) {
	unverified := valid()
	unverified.Verification = nil
	unverified.Difference.ExactAUC = 0
	for name, r := range map[string]*deletion.Record{"plain": valid(), "fallback": withFallback(), "unverified": unverified} {
		if err := r.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := deletion.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(data, []byte("}\n")) || !bytes.Contains(data, []byte(`"ids_sha256": "`+idsSHA256+`"`)) {
			t.Errorf("%s: Marshal wrote\n%s", name, data)
		}
		got, err := deletion.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%s: decoded %+v, want %+v", name, got, r)
		}
		again, err := deletion.Marshal(got)
		if err != nil || !bytes.Equal(again, data) {
			t.Errorf("%s: re-encoded record differs (%v)", name, err)
		}
		// Seeds above 2^53 survive exactly.
		if got.Method.Seed != r.Method.Seed {
			t.Errorf("%s: method.seed %d, want %d", name, got.Method.Seed, r.Method.Seed)
		}
		path := filepath.Join(t.TempDir(), deletion.File)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if read, err := deletion.Read(path); err != nil || !reflect.DeepEqual(read, r) {
			t.Errorf("%s: Read = %v", name, err)
		}
	}
	if _, err := deletion.Read(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of a missing file: %v", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, err := deletion.Marshal(valid())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deletion.Decode(bytes.NewReader(good)); err != nil {
		t.Fatalf("a good record: %v", err)
	}
	var se *deletion.SchemaError
	other := bytes.Replace(good, []byte(deletion.Schema), []byte("fimprune/deletion/v0"), 1)
	if _, err := deletion.Decode(bytes.NewReader(other)); !errors.As(err, &se) || se.Got != "fimprune/deletion/v0" {
		t.Errorf("another schema: %v, want a *SchemaError", err)
	}
	if _, err := deletion.Decode(strings.NewReader(`{"created": "2026-12-01T10:00:00Z"}`)); !errors.As(err, &se) || se.Got != "" ||
		!strings.Contains(err.Error(), `no "schema" field`) {
		t.Errorf("no schema: %v, want a *SchemaError", err)
	}
	unknown := bytes.Replace(good, []byte(`"created":`), []byte(`"requester": "x", "created":`), 1)
	if _, err := deletion.Decode(bytes.NewReader(unknown)); err == nil || !strings.Contains(err.Error(), "requester") {
		t.Errorf("unknown field: %v", err)
	}
	nested := bytes.Replace(good, []byte(`"source":`), []byte(`"name": "x", "source":`), 1)
	if _, err := deletion.Decode(bytes.NewReader(nested)); err == nil || !strings.Contains(err.Error(), `"name"`) {
		t.Errorf("unknown nested field: %v", err)
	}
	for _, tail := range []string{"{}", "x", `{"schema": "fimprune/deletion/v1"}`} {
		if _, err := deletion.Decode(bytes.NewReader(append(slices.Clone(good), tail...))); err == nil {
			t.Errorf("data %q after the record was accepted", tail)
		}
	}
	if _, err := deletion.Decode(bytes.NewReader(append(slices.Clone(good), " \n\t"...))); err != nil {
		t.Errorf("white space after the record: %v", err)
	}
	var fe *deletion.FieldError
	bad := bytes.Replace(good, []byte(`"count": 2`), []byte(`"count": 3`), 1)
	if _, err := deletion.Decode(bytes.NewReader(bad)); !errors.As(err, &fe) || fe.Path != "request.count" {
		t.Errorf("count 3 for 2 rows: %v, want a *FieldError at request.count", err)
	}
	big := append([]byte(`{"schema": "`+deletion.Schema+`", "created": "`), bytes.Repeat([]byte("x"), deletion.MaxBytes)...)
	if _, err := deletion.Decode(bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized record: %v", err)
	}
	if _, err := deletion.Decode(strings.NewReader("")); err == nil {
		t.Error("an empty file was accepted")
	}
}

func TestValidate(t *testing.T) {
	if err := (*deletion.Record)(nil).Validate(); err == nil {
		t.Error("a nil record is valid")
	}
	var se *deletion.SchemaError
	r := valid()
	r.Schema = "fimprune/deletion/v2"
	if err := r.Validate(); !errors.As(err, &se) || se.Got != "fimprune/deletion/v2" {
		t.Errorf("schema v2: %v, want a *SchemaError", err)
	}
	nan, inf := math.NaN(), math.Inf(1)
	type rec = deletion.Record
	for _, c := range []struct {
		name     string
		fallback bool
		mutate   func(*rec)
		path     string
	}{
		{"created empty", false, func(r *rec) { r.Created = "" }, "created"},
		{"created not UTC", false, func(r *rec) { r.Created = "2026-12-01T11:00:00+01:00" }, "created"},
		{"created not RFC 3339", false, func(r *rec) { r.Created = "2026-12-01 10:00:00Z" }, "created"},
		{"source", false, func(r *rec) { r.Request.Source = "" }, "request.source"},
		{"count above rows", false, func(r *rec) { r.Request.Count = 3 }, "request.count"},
		{"no rows", false, func(r *rec) { r.Request.Count, r.Request.Rows = 0, nil }, "request.count"},
		{"row id with leading zero", false, func(r *rec) { r.Request.Rows[0].ID = "adult.data:05" }, "request.rows[0].id"},
		{"row id of another file", false, func(r *rec) { r.Request.Rows[1].ID = "adult.train:2" }, "request.rows[1].id"},
		{"row id line 0", false, func(r *rec) { r.Request.Rows[0].ID = "adult.data:0" }, "request.rows[0].id"},
		{"rows out of order", false, func(r *rec) { r.Request.Rows[0], r.Request.Rows[1] = r.Request.Rows[1], r.Request.Rows[0] }, "request.rows[1].id"},
		{"row repeated", false, func(r *rec) { r.Request.Rows[1] = r.Request.Rows[0] }, "request.rows[1].id"},
		{"row hash upper case", false, func(r *rec) { r.Request.Rows[1].SHA256 = strings.ToUpper(r.Request.Rows[1].SHA256) }, "request.rows[1].sha256"},
		{"row hash short", false, func(r *rec) { r.Request.Rows[0].SHA256 = r.Request.Rows[0].SHA256[:63] }, "request.rows[0].sha256"},
		{"ids hash not a hash", false, func(r *rec) { r.Request.IDsSHA256 = "" }, "request.ids_sha256"},
		{"ids hash of other ids", false, func(r *rec) { r.Request.IDsSHA256 = modelcard.RowIDsHash([]string{"adult.data:5"}) }, "request.ids_sha256"},
		{"input dir", false, func(r *rec) { r.Input.Dir = "" }, "input.dir"},
		{"input params hash", false, func(r *rec) { r.Input.ParamsSHA256 = r.Input.ParamsSHA256[1:] }, "input.params_sha256"},
		{"output card hash", false, func(r *rec) { r.Output.CardSHA256 = "sha256:" + r.Output.CardSHA256[7:] }, "output.card_sha256"},
		{"input trained rows", false, func(r *rec) { r.Input.TrainedRows = 0 }, "input.trained_rows"},
		{"output accuracy", false, func(r *rec) { r.Output.TestAccuracy = 1.5 }, "output.test_accuracy"},
		{"input accuracy NaN", false, func(r *rec) { r.Input.TestAccuracy = nan }, "input.test_accuracy"},
		{"output trained rows", false, func(r *rec) { r.Output.TrainedRows++ }, "output.trained_rows"},
		{"no data", false, func(r *rec) { r.Data = nil }, "data_sha256"},
		{"data hash", false, func(r *rec) { r.Data["adult.data"] = "x" }, `data_sha256["adult.data"]`},
		{"data without the test file", false, func(r *rec) { delete(r.Data, "adult.test") }, "data_sha256"},
		{"family", false, func(r *rec) { r.Method.ID.Family = "magic" }, "method.id.family"},
		{"fraction 0", false, func(r *rec) { r.Method.ID.Fraction = 0 }, "method.id.fraction"},
		{"fraction 1", false, func(r *rec) { r.Method.ID.Fraction = 1 }, "method.id.fraction"},
		{"fraction of retrain", true, func(r *rec) { r.Method.ID.Fraction = 0.2 }, "method.id.fraction"},
		{"alpha of fim-prune", false, func(r *rec) { r.Method.ID.Alpha = 0.5 }, "method.id.alpha"},
		{"alpha of neggrad+ above 1", false, func(r *rec) {
			r.Method.ID = results.MethodID{Family: results.FamilyNegGrad, Alpha: 1.5, Recipe: results.RecipeSeed}
		}, "method.id.alpha"},
		{"alpha of ssd NaN", false, func(r *rec) {
			r.Method.ID, r.Method.Training = results.MethodID{Family: results.FamilySSD, Alpha: nan, Lambda: 1}, nil
		}, "method.id.alpha"},
		{"lambda of fim-prune", false, func(r *rec) { r.Method.ID.Lambda = 1 }, "method.id.lambda"},
		{"lambda of ssd negative", false, func(r *rec) {
			r.Method.ID, r.Method.Training = results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: -1}, nil
		}, "method.id.lambda"},
		{"recipe", false, func(r *rec) { r.Method.ID.Recipe = "slow" }, "method.id.recipe"},
		{"recipe of retrain", true, func(r *rec) { r.Method.ID.Recipe = results.RecipeSeed }, "method.id.recipe"},
		{"replica", false, func(r *rec) { r.Method.ID.Replica = -1 }, "method.id.replica"},
		{"exact fim-prune", false, func(r *rec) { r.Method.Exact = true }, "method.exact"},
		{"inexact retrain", true, func(r *rec) { r.Method.Exact = false }, "method.exact"},
		{"no training", false, func(r *rec) { r.Method.Training = nil }, "method.training"},
		{"training of ssd", false, func(r *rec) {
			r.Method.ID = results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1}
		}, "method.training"},
		{"training of identity", false, func(r *rec) { r.Method.ID = results.MethodID{Family: results.FamilyIdentity} }, "method.training"},
		{"optimizer", false, func(r *rec) { r.Method.Training.Optimizer = "sgd" }, "method.training.optimizer"},
		{"learning rate", false, func(r *rec) { r.Method.Training.LearningRate = 0 }, "method.training.learning_rate"},
		{"max epochs", false, func(r *rec) { r.Method.Training.MaxEpochs = 0 }, "method.training.max_epochs"},
		{"params changed", false, func(r *rec) { r.Method.ParamsChanged = -1 }, "method.params_changed"},
		{"relative change Inf", false, func(r *rec) { r.Method.RelativeChange = inf }, "method.relative_change"},
		{"relative change NaN", false, func(r *rec) { r.Method.RelativeChange = nan }, "method.relative_change"},
		{"method seconds", false, func(r *rec) { r.Method.Seconds = -1 }, "method.seconds"},
		{"test", false, func(r *rec) { r.Verification.Test = "lira" }, "verification.test"},
		{"one reference", false, func(r *rec) { r.Verification.References = 1 }, "verification.references"},
		{"seeds", false, func(r *rec) { r.Verification.Seeds = r.Verification.Seeds[:3] }, "verification.seeds"},
		{"seed repeated", false, func(r *rec) { r.Verification.Seeds[2] = r.Verification.Seeds[0] }, "verification.seeds[2]"},
		{"reference key", false, func(r *rec) { r.Verification.ReferenceKey = "" }, "verification.reference_key"},
		{"control rows", false, func(r *rec) { r.Verification.ControlRows = 0 }, "verification.control_rows"},
		{"alpha 0", false, func(r *rec) { r.Verification.Alpha = 0 }, "verification.alpha"},
		{"alpha 1", false, func(r *rec) { r.Verification.Alpha = 1 }, "verification.alpha"},
		{"power NaN", false, func(r *rec) { r.Verification.Power = nan }, "verification.power"},
		{"power 1", false, func(r *rec) { r.Verification.Power = 1 }, "verification.power"},
		{"margin", false, func(r *rec) { r.Verification.Margin = 1.5 }, "verification.margin"},
		{"null AUCs", false, func(r *rec) { r.Verification.NullAUCs = r.Verification.NullAUCs[:3] }, "verification.null_aucs"},
		{"null AUC above 1", false, func(r *rec) { r.Verification.NullAUCs[2] = 1.2 }, "verification.null_aucs[2]"},
		{"null mean", false, func(r *rec) { r.Verification.NullMean += 0.01 }, "verification.null_mean"},
		{"null mean Inf", false, func(r *rec) { r.Verification.NullMean = inf }, "verification.null_mean"},
		{"null sd negative", false, func(r *rec) { r.Verification.NullSD = -r.Verification.NullSD }, "verification.null_sd"},
		{"null sd population", false, func(r *rec) { r.Verification.NullSD *= math.Sqrt(3.0 / 4) }, "verification.null_sd"},
		{"input AUC NaN", false, func(r *rec) { r.Verification.Input.AUC = nan }, "verification.input.auc"},
		{"output p", false, func(r *rec) { r.Verification.Output.P = 2 }, "verification.output.p"},
		{"output t Inf", false, func(r *rec) { r.Verification.Output.T = inf }, "verification.output.t"},
		{"output t", false, func(r *rec) { r.Verification.Output.T += 0.5 }, "verification.output.t"},
		{"input t", false, func(r *rec) { r.Verification.Input.T = -r.Verification.Input.T }, "verification.input.t"},
		{"output upper NaN", false, func(r *rec) { r.Verification.Output.Upper = nan }, "verification.output.upper"},
		{"mde", false, func(r *rec) { r.Verification.MDE = -0.1 }, "verification.mde"},
		{"pass bound", false, func(r *rec) { r.Verification.PassBound = 0.6 }, "verification.pass_bound"},
		{"verdict unknown", false, func(r *rec) { r.Verification.Verdict = "ok" }, "verification.verdict"},
		{"verdict upper case", false, func(r *rec) { r.Verification.Verdict = "Pass" }, "verification.verdict"},
		{"verdict not the numbers'", false, func(r *rec) { r.Verification.Verdict = deletion.Inconclusive }, "verification.verdict"},
		{"pass without seeing the input", false, func(r *rec) { r.Verification.Input.P = 0.2 }, "verification.verdict"},
		{"pass above the bound", false, func(r *rec) { r.Verification.Output.Upper = 0.6 }, "verification.verdict"},
		{"pass with the output seen", false, func(r *rec) { r.Verification.Output.P = 0.01 }, "verification.verdict"},
		{"reason", false, func(r *rec) { r.Verification.Reason = "" }, "verification.reason"},
		{"reference seconds", false, func(r *rec) { r.Verification.ReferenceSeconds = -1 }, "verification.reference_seconds"},
		{"test seconds", false, func(r *rec) { r.Verification.TestSeconds = inf }, "verification.test_seconds"},
		{"fallback reason", true, func(r *rec) { r.Fallback.Reason = "" }, "fallback.reason"},
		{"fallback method", true, func(r *rec) { r.Fallback.Method.ID.Fraction = 0 }, "fallback.method.id.fraction"},
		{"fallback from a retraining", true, func(r *rec) { r.Fallback.Method = r.Method }, "fallback.method.id.family"},
		{"fallback params", true, func(r *rec) { r.Fallback.OutputParamsSHA256 = "" }, "fallback.output_params_sha256"},
		{"fallback verification", true, func(r *rec) { r.Fallback.Verification.Alpha = 0 }, "fallback.verification.alpha"},
		{"fallback verification null AUC", true, func(r *rec) { r.Fallback.Verification.NullAUCs[0] = nan }, "fallback.verification.null_aucs[0]"},
		{"fallback verdict not the numbers'", true, func(r *rec) { r.Fallback.Verification.Verdict = deletion.Inconclusive }, "fallback.verification.verdict"},
		{"fallback after a pass", true, func(r *rec) { r.Fallback.Verification = *r.Verification }, "fallback.verification.verdict"},
		{"fallback to a method not a retraining", false, func(r *rec) { r.Fallback = withFallback().Fallback }, "method.id.family"},
		{"fallback unverified", true, func(r *rec) { r.Verification = nil }, "verification"},
		{"difference AUC", false, func(r *rec) { r.Difference.AUC = 1.1 }, "difference_attack.auc"},
		{"exact difference AUC", false, func(r *rec) { r.Difference.ExactAUC = -0.1 }, "difference_attack.exact_auc"},
		{"exact difference AUC without references", false, func(r *rec) { r.Verification = nil }, "difference_attack.exact_auc"},
		{"difference deleted", false, func(r *rec) { r.Difference.Deleted = 1 }, "difference_attack.deleted"},
		{"difference retained 0", false, func(r *rec) { r.Difference.Retained = 0 }, "difference_attack.retained"},
		{"difference retained above the output's rows", false, func(r *rec) { r.Difference.Retained = r.Output.TrainedRows + 1 }, "difference_attack.retained"},
		{"mean change NaN", false, func(r *rec) { r.Difference.MeanChangeDeleted = nan }, "difference_attack.mean_change_deleted"},
		{"mean change Inf", false, func(r *rec) { r.Difference.MeanChangeRetained = -inf }, "difference_attack.mean_change_retained"},
		{"load seconds", false, func(r *rec) { r.Seconds.Load = nan }, "seconds.load"},
		{"total seconds", false, func(r *rec) { r.Seconds.Total = -1 }, "seconds.total"},
		{"go version", false, func(r *rec) { r.Build.GoVersion = "" }, "build.go_version"},
		{"backend not UTF-8", false, func(r *rec) { r.Build.Backend = "\xff" }, "build.backend"},
	} {
		base := valid()
		if c.fallback {
			base = withFallback()
		}
		r := clone(t, base)
		if err := r.Validate(); err != nil {
			t.Fatalf("%s: the record before the change: %v", c.name, err)
		}
		c.mutate(r)
		err := r.Validate()
		var fe *deletion.FieldError
		if !errors.As(err, &fe) || fe.Path != c.path {
			t.Errorf("%s: Validate() = %v, want a *FieldError at %s", c.name, err, c.path)
		}
	}
}

// TestValidateAccepts: records the rules allow that differ from the
// helpers' in the ways the rules name.
func TestValidateAccepts(t *testing.T) {
	type rec = deletion.Record
	for _, c := range []struct {
		name   string
		mutate func(*rec)
	}{
		{"a failed deletion", func(r *rec) {
			x := r.Verification
			x.Output = deletion.Score{AUC: 0.7, P: 0.004, Upper: 0.74}
			x.Verdict = deletion.Fail
			setStats(x)
		}},
		{"an inconclusive one: the input unseen", func(r *rec) {
			r.Verification.Input.P = 0.05 // not below alpha
			r.Verification.Verdict = deletion.Inconclusive
		}},
		{"ssd", func(r *rec) {
			r.Method.ID, r.Method.Training = results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1}, nil
		}},
		{"identity", func(r *rec) {
			r.Method.ID, r.Method.Training = results.MethodID{Family: results.FamilyIdentity}, nil
			r.Output.ParamsSHA256, r.Method.ParamsChanged, r.Method.RelativeChange = r.Input.ParamsSHA256, 0, 0
		}},
		{"neggrad+ with a custom recipe", func(r *rec) {
			r.Method.ID = results.MethodID{Family: results.FamilyNegGrad, Alpha: 0.99}
		}},
		{"cached references", func(r *rec) { r.Verification.Cached, r.Verification.ReferenceSeconds = true, 0.3 }},
		{"a single row from adult.test", func(r *rec) {
			r.Request.Rows = r.Request.Rows[1:]
			r.Request.Count, r.Difference.Deleted, r.Output.TrainedRows = 1, 1, r.Input.TrainedRows-1
			r.Request.IDsSHA256 = modelcard.RowIDsHash([]string{"adult.test:2"})
		}},
		{"created with a fraction of a second", func(r *rec) { r.Created = "2026-12-01T10:00:00.123Z" }},
		{"margin 0, a null of equal AUCs", func(r *rec) {
			x := r.Verification
			x.Margin, x.NullAUCs = 0, []float64{0.5, 0.5, 0.5, 0.5}
			x.Output = deletion.Score{AUC: 0.5, T: 0, P: 0.5, Upper: 0.5}
			setStats(x)
			x.Input.T, x.Output.T = 0, 0      // undefined when null_sd is 0: not checked
			x.Verdict = deletion.Inconclusive // the upper bound 0.5 is not below the pass bound 0.5
		}},
	} {
		r := clone(t, valid())
		c.mutate(r)
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestWant pins the verdict rules at their boundaries.
func TestWant(t *testing.T) {
	for _, c := range []struct {
		inP, outP, upper float64
		want             string
	}{
		{0.001, 0.4, 0.55, deletion.Pass},
		{0.001, 0.049, 0.55, deletion.Fail},      // output p < alpha
		{0.2, 0.049, 0.55, deletion.Fail},        // fail whatever the input
		{0.001, 0.05, 0.55, deletion.Pass},       // p = alpha is not below it
		{0.05, 0.4, 0.55, deletion.Inconclusive}, // the input not seen
		{0.001, 0.4, 0.6, deletion.Inconclusive}, // upper bound above the pass bound
		{0.001, 0.4, 0.57875, deletion.Inconclusive},
	} {
		x := verification()
		x.Input.P, x.Output.P, x.Output.Upper = c.inP, c.outP, c.upper
		x.PassBound = 0.57875
		if got := x.Want(); got != c.want {
			t.Errorf("input p %v, output p %v, upper %v: Want() = %q, want %q", c.inP, c.outP, c.upper, got, c.want)
		}
	}
}

// recordDoc is the page that documents every field of a record and a
// ledger line.
const recordDoc = "../../docs/deletion.md"

// checkDocumented checks that the section of docs/deletion.md titled
// section has a table row (the path in backquotes in the first cell) for
// every field of typ, and no row for a path that is not a field.
func checkDocumented(t *testing.T, typ reflect.Type, section string, mustWalk []string) {
	t.Helper()
	data, err := os.ReadFile(recordDoc)
	if err != nil {
		t.Fatal(err)
	}
	paths := testsupport.JSONPaths(typ)
	known := map[string]bool{}
	for _, p := range paths {
		known[p.Path] = true
	}
	for _, p := range mustWalk {
		if !known[p] {
			t.Fatalf("the walk misses %s", p)
		}
	}
	documented := map[string]bool{}
	code := regexp.MustCompile("`([^`]+)`")
	in, found := false, false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = line == section
			found = found || in
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 3 {
			t.Errorf("%s:%d: table row with %d cells: %s", recordDoc, i+1, len(cells), line)
		}
		for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
			if !known[m[1]] {
				t.Errorf("%s:%d: documents `%s`, which is not a field", recordDoc, i+1, m[1])
			}
			documented[m[1]] = true
		}
	}
	if !found {
		t.Fatalf("%s has no section %q", recordDoc, section)
	}
	for _, p := range paths {
		if p.Required && !documented[p.Path] {
			t.Errorf("%s, section %q, has no row for `%s`", recordDoc, section, p.Path)
		}
	}
}

// TestRecordDocumented checks docs/deletion.md's section "Record fields"
// against the types.
func TestRecordDocumented(t *testing.T) {
	checkDocumented(t, reflect.TypeFor[deletion.Record](), "## Record fields", []string{
		"request.rows[].sha256", "verification.input.upper", "verification.output", "fallback.method",
		"fallback.verification", "method.id.family", "method.training.patience", "difference_attack.exact_auc",
	})
}
