package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/fimlib/results"
	"gonum.org/v1/gonum/stat/distuv"
)

// hashOf is a stand-in SHA-256: the hex SHA-256 of label.
func hashOf(label string) string {
	sum := sha256.Sum256([]byte(label))
	return hex.EncodeToString(sum[:])
}

// verificationFixture is a verification whose stored statistics follow from
// its numbers as fimlib/forget computes them (deletion.Record.Validate
// checks the mean, sd, t, pass bound and verdict): K = len(null) references,
// one-sided level 0.05, power 0.8, margin 0.5.
func verificationFixture(null []float64, inAUC, outAUC float64, cached bool) deletion.Verification {
	k := float64(len(null))
	mean, ss := 0.0, 0.0
	for _, a := range null {
		mean += a
	}
	mean /= k
	for _, a := range null {
		ss += (a - mean) * (a - mean)
	}
	sd := math.Sqrt(ss / (k - 1))
	scale := sd * math.Sqrt(1+1/k)
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: k - 1}
	const alpha, power, margin = 0.05, 0.8, 0.5
	score := func(auc float64) deletion.Score {
		t := (auc - mean) / scale
		return deletion.Score{AUC: auc, T: t, P: 1 - st.CDF(t), Upper: auc + st.Quantile(1-alpha)*scale}
	}
	seeds := make([]uint64, len(null))
	for i := range seeds {
		seeds[i] = uint64(1001 + i)
	}
	v := deletion.Verification{
		Test: deletion.TestName, References: len(null), Seeds: seeds,
		ReferenceKey: hashOf("references"), Cached: cached, ControlRows: 16281,
		Alpha: alpha, Power: power, Margin: margin,
		NullAUCs: null, NullMean: mean, NullSD: sd,
		Input: score(inAUC), Output: score(outAUC),
		MDE:         (st.Quantile(1-alpha) + st.Quantile(power)) * scale,
		PassBound:   mean + margin*(inAUC-mean),
		TestSeconds: 0.42,
	}
	if !cached {
		v.ReferenceSeconds = 96.5
	}
	v.Verdict = v.Want()
	switch v.Verdict {
	case deletion.Pass:
		v.Reason = "the output's upper bound is below the pass bound, and the input model's AUC is above the null"
	case deletion.Fail:
		v.Reason = "the output model's AUC is above the references' null at the one-sided 5 % level"
	default:
		v.Reason = "the output's upper bound is not below the pass bound"
	}
	return v
}

// nullAUCs are eight references' leave-one-out AUCs.
var nullAUCs = []float64{0.49, 0.51, 0.50, 0.52, 0.48, 0.505, 0.495, 0.50}

// deletionFixture is a valid record of n deleted rows: FIM pruning at 20 %
// with the fast recipe, verified with a pass.
func deletionFixture(n int) *deletion.Record {
	rows := make([]deletion.Row, n)
	ids := make([]string, n)
	for i := range rows {
		ids[i] = fmt.Sprintf("adult.data:%d", 10+7*i)
		rows[i] = deletion.Row{ID: ids[i], SHA256: hashOf("row " + ids[i])}
	}
	v := verificationFixture(nullAUCs, 0.62, 0.505, false)
	const trained = 30162
	return &deletion.Record{
		Schema:  deletion.Schema,
		Created: "2026-03-04T05:06:07Z",
		Request: deletion.Request{
			Source: "file forget.txt", Count: n, IDsSHA256: modelcard.RowIDsHash(ids), Rows: rows,
		},
		Input: deletion.Checkpoint{
			Dir: "../models/base", ParamsSHA256: hashOf("params in"), CardSHA256: hashOf("card in"),
			TrainedRows: trained, TestAccuracy: 0.8512,
		},
		Output: deletion.Checkpoint{
			Dir: ".", ParamsSHA256: hashOf("params out"), CardSHA256: hashOf("card out"),
			TrainedRows: trained - n, TestAccuracy: 0.8498,
		},
		Data: map[string]string{"adult.data": hashOf("adult.data"), "adult.test": hashOf("adult.test")},
		Method: deletion.Method{
			ID:      results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeFast},
			Default: true,
			Training: &results.TrainConfig{
				Optimizer: "adam", LearningRate: 1e-4, AdamEpsilon: 1e-7, BatchSize: 256, MaxEpochs: 3,
			},
			Seed: 42, ParamsChanged: 1234, RelativeChange: 0.0123, Seconds: 3.25,
		},
		Verification: &v,
		Difference: deletion.Difference{
			AUC: 0.9731, ExactAUC: 0.9312, Deleted: n, Retained: 2000,
			MeanChangeDeleted: 0.8125, MeanChangeRetained: 0.0103,
		},
		Seconds: deletion.Timings{Load: 0.81, Method: 3.25, References: 96.5, Verification: 0.42, Total: 101.2},
		Build: modelcard.Build{
			GoVersion: "go1.26.8", GomlxVersion: "v0.28.2", Backend: "xla:cpu", GOOS: "linux", GOARCH: "amd64",
		},
	}
}

// fallbackFixture is a record whose first attempt, SSD, failed, so the
// model written is a retraining, verified with cached references.
func fallbackFixture(n int) *deletion.Record {
	rec := deletionFixture(n)
	first := verificationFixture(nullAUCs, 0.62, 0.58, false)
	rec.Fallback = &deletion.Fallback{
		Reason: "first attempt ssd-a10-l1: verdict fail: " + first.Reason,
		Method: deletion.Method{
			ID:   results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1},
			Seed: 42, ParamsChanged: 88, RelativeChange: 0.004, Seconds: 0.5,
		},
		OutputParamsSHA256: hashOf("params ssd"),
		Verification:       first,
	}
	v := verificationFixture(nullAUCs, 0.62, 0.501, true)
	rec.Verification = &v
	rec.Method = deletion.Method{
		ID:       results.MethodID{Family: results.FamilyRetrain},
		Exact:    true,
		Training: &results.TrainConfig{Optimizer: "adam", LearningRate: 1e-3, AdamEpsilon: 1e-7, BatchSize: 256, MaxEpochs: 50, Patience: 5},
		Seed:     7, ParamsChanged: 9000, RelativeChange: 0.87, Seconds: 11.5,
	}
	rec.Difference.AUC = 0.9302
	rec.Seconds.References = 0
	return rec
}

// unverifiedFixture is a record whose verification was switched off (no
// references, so no exact-retraining AUC either).
func unverifiedFixture(n int) *deletion.Record {
	rec := deletionFixture(n)
	rec.Verification = nil
	rec.Difference.ExactAUC = 0
	rec.Seconds.References, rec.Seconds.Verification = 0, 0
	return rec
}

// ledgerFixture returns a two-line ledger whose second line stands for rec
// (whose deletion.json bytes hash to the returned hash), checked by
// deletion.CheckChain.
func ledgerFixture(t testing.TB, rec *deletion.Record) ([]deletion.Entry, string) {
	t.Helper()
	data, err := deletion.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	recHash := hex.EncodeToString(sum[:])
	before := *deletionFixture(3)
	before.Created = "2026-02-01T00:00:00Z"
	before.Input.ParamsSHA256 = hashOf("params base")
	before.Output.ParamsSHA256 = rec.Input.ParamsSHA256
	before.Method.ID = results.MethodID{Family: results.FamilyRetrain}
	first, err := deletion.MarshalEntry(deletion.NewEntry(&before, hashOf("record 1"), "model-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	second, err := deletion.MarshalEntry(deletion.NewEntry(rec, recHash, "model-2", [][]byte{first}))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := deletion.CheckChain([][]byte{first, second})
	if err != nil {
		t.Fatal(err)
	}
	return entries, recHash
}

func mustRenderDeletion(t *testing.T, rec *deletion.Record, ledger []deletion.Entry, opts DeletionOptions) DeletionFiles {
	t.Helper()
	files, err := RenderDeletion(rec, ledger, opts)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDeletionFixturesValid(t *testing.T) {
	for name, rec := range map[string]*deletion.Record{
		"pass": deletionFixture(5), "fallback": fallbackFixture(5), "unverified": unverifiedFixture(5), "many": deletionFixture(25),
	} {
		if err := rec.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		data, err := deletion.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := deletion.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: decode: %v", name, err)
		}
	}
	if v := deletionFixture(1).Verification.Verdict; v != deletion.Pass {
		t.Errorf("pass fixture's verdict %q", v)
	}
	if v := fallbackFixture(1).Fallback.Verification.Verdict; v != deletion.Fail {
		t.Errorf("fallback fixture's first verdict %q", v)
	}
}

// wantBoth checks that every string appears in the Markdown and in the
// page (as text: the page's copy is HTML-escaped, which none of these
// strings needs).
func wantBoth(t *testing.T, files DeletionFiles, strs ...string) {
	t.Helper()
	for _, s := range strs {
		if !strings.Contains(string(files.Markdown), s) {
			t.Errorf("deletion.md lacks %q", s)
		}
		if !strings.Contains(string(files.HTML), s) {
			t.Errorf("deletion.html lacks %q", s)
		}
	}
}

// wantEach checks that the Markdown has md and the page has page.
func wantEach(t *testing.T, files DeletionFiles, md, page string) {
	t.Helper()
	if !strings.Contains(string(files.Markdown), md) {
		t.Errorf("deletion.md lacks %q", md)
	}
	if !strings.Contains(string(files.HTML), page) {
		t.Errorf("deletion.html lacks %q", page)
	}
}

func wantNeither(t *testing.T, files DeletionFiles, strs ...string) {
	t.Helper()
	for _, s := range strs {
		if strings.Contains(string(files.Markdown), s) || strings.Contains(string(files.HTML), s) {
			t.Errorf("the page shows %q", s)
		}
	}
}

func TestDeletionSections(t *testing.T) {
	t.Run("pass", func(t *testing.T) {
		rec := deletionFixture(5)
		ledger, recHash := ledgerFixture(t, rec)
		files := mustRenderDeletion(t, rec, ledger, DeletionOptions{RecordSHA256: recHash})
		checkPage(t, files.HTML)
		v := rec.Verification
		wantBoth(t, files,
			DeletionTitle, "What was asked", "What was done", "Verification", "Before/after leakage (difference attack)", "Ledger",
			"5 rows were deleted from model", rec.Input.ParamsSHA256[:12], rec.Output.ParamsSHA256[:12], "differs from the input's by −0.14 percentage points",
			"FIM pruning at 20", "fim-prune-0.2-fast", "Verdict: pass.",
			rec.Request.IDsSHA256, "adult.data:38", rec.Request.Rows[4].SHA256,
			rec.Input.ParamsSHA256, rec.Output.CardSHA256, "30,162", "30,157", "0.8512", "0.8498", hashOf("adult.test"),
			"the default (not chosen on the command line)", "approximate", "adam, learning rate 0.0001, batch 256, 3 epochs", "1,234", "0.0123", "101.2",
			fixed(v.NullMean, 4)+" ± "+fixed(v.NullSD, 4), fixed(v.Input.AUC, 4), fixed(v.Output.AUC, 4), fixed(v.Output.Upper, 4), tnum(v.Input.T), pval(v.Output.P),
			"0.4900, 0.5100, 0.5000, 0.5200, 0.4800, 0.5050, 0.4950, 0.5000",
			fmt.Sprintf("With 8 reference models this test detects, with 80\u00a0%% probability at the one-sided 5\u00a0%% level, a model whose deleted rows reach an AUC of at least %s (an excess of %s); a smaller trace could go unseen.", fixed(v.NullMean+v.MDE, 4), fixed(v.MDE, 4)),
			"pass bound of "+fixed(v.PassBound, 4), "trained by this request",
			"0.9731", "0.9312", "+0.8125", "+0.0103", "retraining from scratch leaves it too", "not to publish, or keep, both versions",
			"When Machine Unlearning Jeopardizes Privacy", "CCS 2021",
			hashOf("params base")[:12], "Line 2 stands for this record", "go run ./scripts/forget -check DIR",
		)
		wantEach(t, files, `file forget\.txt`, "file forget.txt")
		wantEach(t, files, "**Verdict: pass.** Reason: "+text(v.Reason+"."), "<strong>Verdict: pass.</strong> Reason: "+v.Reason+".")
		wantNeither(t, files, "Fallback", "cached:", "more are in deletion.json", "not measured")
	})
	t.Run("fallback", func(t *testing.T) {
		rec := fallbackFixture(5)
		files := mustRenderDeletion(t, rec, nil, DeletionOptions{})
		checkPage(t, files.HTML)
		f := rec.Fallback
		wantBoth(t, files,
			"SSD (α = 10, λ = 1; ", f.OutputParamsSHA256,
			fixed(f.Verification.Output.AUC, 4), fixed(f.Verification.PassBound, 4),
			"a retraining from scratch", "retraining (", "the fallback, after the first attempt did not pass", "exact: a retraining from scratch", "Verdict: pass.",
			"The reference models were cached", "No ledger was given",
			"up to 50 epochs, early stopping with patience 5",
		)
		wantEach(t, files, "## Fallback", "<h2>Fallback</h2>")
		wantEach(t, files, "SSD (α = 10, λ = 1; `ssd-a10-l1`)", "SSD (α = 10, λ = 1; <code>ssd-a10-l1</code>)")
		wantEach(t, files, "Its verdict was **fail**", "Its verdict was <strong>fail</strong>")
	})
	t.Run("unverified", func(t *testing.T) {
		rec := unverifiedFixture(1)
		files := mustRenderDeletion(t, rec, nil, DeletionOptions{})
		checkPage(t, files.HTML)
		wantBoth(t, files, "1 row was deleted", "Not verified:", "Verification was switched off", "no claim", "was not measured: there were no reference models")
		wantNeither(t, files, "Verdict:", "reference models this test detects", "## Fallback")
	})
}

// hostile is user text with Markdown and HTML metacharacters.
const hostile = "<script>alert(1)</script>_*x*"

func TestDeletionEscaping(t *testing.T) {
	rec := deletionFixture(3)
	rec.Input.Dir = hostile
	rec.Output.Dir = "[link](javascript:alert(1)) | `tick`"
	rec.Request.Source = "file **bold** <b>b</b>"
	rec.Verification.Reason = "![x](y) www.example.com &lt;"
	rec.Data["<img src=x onerror=alert(1)>"] = hashOf("extra")
	rec.Build.GoVersion = hostile
	rec.Build.Backend = "a|b\nc"
	ledger, _ := ledgerFixture(t, rec)
	ledger[0].Created = hostile
	ledger[0].Method.Family = results.Family(hostile)
	ledger[1].Verdict = "**" + hostile
	files := mustRenderDeletion(t, rec, ledger, DeletionOptions{Title: hostile})
	page := files.HTML
	if bytes.Contains(bytes.ToLower(page), []byte("<script")) || bytes.Contains(page, []byte("<b>")) || bytes.Contains(page, []byte("<img")) {
		t.Error("deletion.html contains markup from the record")
	}
	f := checkPage(t, page)
	for _, s := range []string{hostile, "[link](javascript:alert(1)) | `tick`", "file **bold** <b>b</b>", "![x](y) www.example.com &lt;", "<img src=x onerror=alert(1)>", "a|b c", "**" + hostile} {
		if !f.text[s] && !strings.Contains(strings.Join(keys(f.text), "\n"), s) {
			t.Errorf("%q does not appear verbatim as text", s)
		}
	}
	if n := strings.Count(string(page), "&lt;script&gt;alert(1)&lt;/script&gt;_*x*"); n < 5 {
		t.Errorf("the hostile string appears %d times as escaped text, want it everywhere it was put (title, input dir, Go version, ledger)", n)
	}
	// In the Markdown the strings are inert: backslash-escaped or in code.
	for _, line := range strings.Split(string(files.Markdown), "\n") {
		if strings.Contains(line, "<script>") && !strings.Contains(line, "`") {
			t.Errorf("deletion.md has the raw hostile string outside a code span: %s", line)
		}
	}
	if !strings.Contains(string(files.Markdown), "# \\<script\\>alert(1)\\</script\\>\\_\\*x\\*") {
		t.Error("the title is not escaped as text")
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDeletionDeterministic(t *testing.T) {
	for name, rec := range map[string]*deletion.Record{"pass": deletionFixture(7), "fallback": fallbackFixture(7), "unverified": unverifiedFixture(7)} {
		t.Run(name, func(t *testing.T) {
			ledger, recHash := ledgerFixture(t, rec)
			a := mustRenderDeletion(t, rec, ledger, DeletionOptions{RecordSHA256: recHash})
			// A second render from a fresh decode of the same bytes.
			data, err := deletion.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			rec2, err := deletion.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			b := mustRenderDeletion(t, rec2, ledger, DeletionOptions{RecordSHA256: recHash})
			if !bytes.Equal(a.Markdown, b.Markdown) || !bytes.Equal(a.HTML, b.HTML) {
				t.Error("two renders differ")
			}
		})
	}
}

func TestDeletionTruncation(t *testing.T) {
	rec := deletionFixture(25)
	files := mustRenderDeletion(t, rec, nil, DeletionOptions{})
	checkPage(t, files.HTML)
	md := string(files.Markdown)
	for i, row := range rec.Request.Rows {
		shown := strings.Contains(md, "`"+row.ID+"`")
		if shown != (i < 20) {
			t.Errorf("row %d (%s) shown: %v", i+1, row.ID, shown)
		}
	}
	wantBoth(t, files, "The table shows the first 20 rows; 5 more are in deletion.json.")
	if got := strings.Count(md, "| `adult.data:"); got != 20 {
		t.Errorf("%d row lines in the table, want 20", got)
	}
	exact := mustRenderDeletion(t, deletionFixture(20), nil, DeletionOptions{})
	if strings.Contains(string(exact.Markdown), "more are in") || strings.Contains(string(exact.Markdown), "more is in") {
		t.Error("20 rows: the page says more rows are left out")
	}
	one := mustRenderDeletion(t, deletionFixture(21), nil, DeletionOptions{})
	wantBoth(t, one, "1 more is in deletion.json")
}

// TestDeletionGolden pins the page's Markdown (go test ./report -run
// DeletionGolden -update rewrites testdata/deletion.golden.md).
func TestDeletionGolden(t *testing.T) {
	rec := deletionFixture(5)
	ledger, recHash := ledgerFixture(t, rec)
	files := mustRenderDeletion(t, rec, ledger, DeletionOptions{RecordSHA256: recHash})
	golden(t, "deletion.golden.md", files.Markdown)
}

func TestDeletionRefusals(t *testing.T) {
	if _, err := RenderDeletion(nil, nil, DeletionOptions{}); err == nil {
		t.Error("nil record accepted")
	}
	rec := deletionFixture(2)
	rec.Schema = "fimprune/deletion/v9"
	var se *deletion.SchemaError
	if _, err := RenderDeletion(rec, nil, DeletionOptions{}); !errors.As(err, &se) {
		t.Errorf("another schema: err = %v, want a *deletion.SchemaError", err)
	}
	rec = deletionFixture(2)
	rec.Request.Count = 3
	var fe *deletion.FieldError
	if _, err := RenderDeletion(rec, nil, DeletionOptions{}); !errors.As(err, &fe) {
		t.Errorf("invalid record: err = %v, want a *deletion.FieldError", err)
	}
}

func TestWriteDeletionDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	files := mustRenderDeletion(t, deletionFixture(3), nil, DeletionOptions{})
	if err := WriteDeletionDir(dir, files); err != nil {
		t.Fatal(err)
	}
	for _, f := range files.List() {
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: %v (equal: %v)", f.Name, err, bytes.Equal(got, f.Data))
		}
	}
	if names := []string{files.List()[0].Name, files.List()[1].Name}; names[0] != DeletionMarkdownFile || names[1] != DeletionHTMLFile {
		t.Errorf("files %v", names)
	}
}
