package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/results"
)

// The deletion record's page: what one honoured deletion request asked, what
// was done, how the output model was checked and what the pair of models
// reveals, rendered from deletion.json (package fimlib/deletion) and the
// model directory's ledger. Like the inference report it computes no
// statistic: every number is the record's (fimlib/forget computes them), and
// every string from the record or the ledger (directories, row ids, hashes,
// reasons, versions) is made inert Markdown by text, code or codeCell before
// goldmark sees it. The page is made from the Markdown by toHTML, the
// inference report's path, so both share the style sheet and the safe mode.

// File names WriteDeletionDir uses inside its directory.
const (
	DeletionMarkdownFile = "deletion.md"
	DeletionHTMLFile     = "deletion.html"
)

// DeletionTitle is the deletion page's title when DeletionOptions.Title is "".
const DeletionTitle = "Deletion record"

// deletionRowsShown is how many deleted rows the page lists; deletion.json
// holds them all.
const deletionRowsShown = 20

// shortHash is how many leading characters of a SHA-256 the page shows where
// it names a model in prose or in the ledger.
const shortHash = 12

// DeletionOptions adjusts the deletion page. The zero value is the default.
type DeletionOptions struct {
	// Title replaces the document title. "" means DeletionTitle. It is
	// treated as text: Markdown and HTML in it are shown, not interpreted.
	Title string
	// RecordSHA256, when set, is the SHA-256 of the deletion.json bytes the
	// record was read from (deletion.FileHash); the page then names the
	// ledger line that stands for the record (its record_sha256), or says
	// that none does.
	RecordSHA256 string
}

// DeletionFiles is a rendered deletion page.
type DeletionFiles struct {
	Markdown []byte // deletion.md: GitHub-flavoured Markdown
	HTML     []byte // deletion.html: one self-contained page
}

// List returns the page's files in the order WriteDeletionDir writes them.
func (f *DeletionFiles) List() []File {
	return []File{{DeletionMarkdownFile, f.Markdown}, {DeletionHTMLFile, f.HTML}}
}

// RenderDeletion renders the page of rec and its ledger (the entries of the
// output model directory's ledger.jsonl as deletion.CheckChain returns them;
// nil when there is none). It reads nothing but its arguments, so the same
// record and ledger give byte-identical files. It refuses a nil record, a
// record of another schema (*deletion.SchemaError) and one that fails
// rec.Validate.
func RenderDeletion(rec *deletion.Record, ledger []deletion.Entry, opts DeletionOptions) (DeletionFiles, error) {
	if rec == nil {
		return DeletionFiles{}, errors.New("report: nil deletion record")
	}
	if rec.Schema != deletion.Schema {
		return DeletionFiles{}, fmt.Errorf("report: %w", &deletion.SchemaError{Got: rec.Schema})
	}
	if err := rec.Validate(); err != nil {
		return DeletionFiles{}, fmt.Errorf("report: %w", err)
	}
	title := opts.Title
	if title == "" {
		title = DeletionTitle
	}
	d := deletionPage{rec: rec, ledger: ledger, opts: opts}
	markdown := d.markdown(title)
	page, err := toHTML(markdown, title, nil)
	if err != nil {
		return DeletionFiles{}, err
	}
	return DeletionFiles{Markdown: markdown, HTML: page}, nil
}

// WriteDeletionDir writes files into dir (created if missing), each
// atomically with results.WriteFileAtomic.
func WriteDeletionDir(dir string, files DeletionFiles) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, f := range files.List() {
		if err := results.WriteFileAtomic(filepath.Join(dir, f.Name), f.Data); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// deletionPage is what the page's sections read.
type deletionPage struct {
	rec    *deletion.Record
	ledger []deletion.Entry
	opts   DeletionOptions
}

func (d *deletionPage) markdown(title string) []byte {
	var m md
	m.h(1, text(title))
	d.summary(&m)
	d.asked(&m)
	d.done(&m)
	d.verification(&m)
	d.fallback(&m)
	d.difference(&m)
	d.ledgerSection(&m)
	return []byte(m.String())
}

// hashPrefix returns the first shortHash characters of a hash as a code span
// (cell: inside a table).
func hashPrefix(h string, cell bool) string {
	if r := []rune(h); len(r) > shortHash {
		h = string(r[:shortHash])
	}
	if h == "" {
		return "—"
	}
	if cell {
		return codeCell(h)
	}
	return code(h)
}

// rowsOf says "1 row" or "N rows".
func rowsOf(n int) string {
	if n == 1 {
		return "1 row"
	}
	return count(n) + " rows"
}

// methodProse names a method in prose with its name: "FIM pruning at
// 20 %, fast recipe (`fim-prune-0.2-fast`)".
func methodProse(id results.MethodID) string {
	long := describe(id, true, text)
	if base, ok := strings.CutSuffix(long, ")"); ok {
		return base + "; " + code(id.Name()) + ")" // "SSD (α = 10, λ = 1; `ssd-a10-l1`)"
	}
	return long + " (" + code(id.Name()) + ")"
}

// tnum formats a t statistic with a U+2212 minus.
func tnum(x float64) string {
	s := fixed(x, 2)
	if strings.HasPrefix(s, "-") {
		s = "−" + s[1:]
	}
	return s
}

// verdictOf is a verdict in bold with its reason.
func verdictOf(v *deletion.Verification) string {
	s := "**Verdict: " + text(v.Verdict) + ".**"
	if v.Reason != "" {
		s += " Reason: " + text(endSentence(v.Reason))
	}
	return s
}

func (d *deletionPage) summary(m *md) {
	r := d.rec
	s := fmt.Sprintf("On %s, %s %s deleted from model %s by %s, giving model %s.",
		code(r.Created), rowsOf(r.Request.Count), either(r.Request.Count == 1, "was", "were"),
		hashPrefix(r.Input.ParamsSHA256, false), methodProse(r.Method.ID), hashPrefix(r.Output.ParamsSHA256, false))
	if v := r.Verification; v != nil {
		s += " " + verdictOf(v)
	} else {
		s += " **Not verified:** the membership test was switched off, so this record makes no claim that the model forgot the rows."
	}
	if f := r.Fallback; f != nil {
		s += fmt.Sprintf(" The first attempt, %s, was not kept (verdict %s), and the model written is a retraining from scratch (see Fallback).",
			methodProse(f.Method.ID), text(f.Verification.Verdict))
	}
	m.p(s)
	m.p(fmt.Sprintf("Model hashes are the first %d hex digits of the SHA-256 of the parameters (modelcard.ParamsHash); the full hashes are below and in deletion.json.", shortHash))
}

func either(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func (d *deletionPage) asked(m *md) {
	q := d.rec.Request
	m.h(2, "What was asked")
	m.table([]string{"request", ""}, "ll", [][]string{
		{"Source", text(q.Source)},
		{"Rows", count(q.Count)},
		{"SHA-256 of the row ids", codeCell(q.IDsSHA256)},
	})
	m.p("The ids hash is that of a file holding the ids one per line, sorted bytewise (`LC_ALL=C sort | sha256sum`). Each row is named by its stable id (file and line of the original UCI Adult file) and the SHA-256 of that line with its newline (`sed -n LINEp FILE | sha256sum`), so that the requester can check the right rows were deleted; a row's hash is not a secret: whoever can guess its values can confirm the guess.")
	rows := q.Rows
	if len(rows) > deletionRowsShown {
		rows = rows[:deletionRowsShown]
	}
	cells := make([][]string, len(rows))
	for i, row := range rows {
		cells[i] = []string{strconv.Itoa(i + 1), codeCell(row.ID), codeCell(row.SHA256)}
	}
	if len(cells) > 0 {
		m.table([]string{"#", "row id", "SHA-256 of the row"}, "rll", cells)
	}
	if more := len(q.Rows) - len(rows); more > 0 {
		m.p(fmt.Sprintf("The table shows the first %d rows; %s more %s in deletion.json.", len(rows), count(more), either(more == 1, "is", "are")))
	}
}

func (d *deletionPage) done(m *md) {
	r := d.rec
	mt := r.Method
	m.h(2, "What was done")
	acc := func(x float64) string { return fixed(x, 4) }
	m.table([]string{"model", "input", "output"}, "lll", [][]string{
		{"Directory", codeCell(r.Input.Dir), codeCell(r.Output.Dir)},
		{"SHA-256 of the parameters", codeCell(r.Input.ParamsSHA256), codeCell(r.Output.ParamsSHA256)},
		{"SHA-256 of the model card", codeCell(r.Input.CardSHA256), codeCell(r.Output.CardSHA256)},
		{"Trained rows", count(r.Input.TrainedRows), count(r.Output.TrainedRows)},
		{"Test accuracy", acc(r.Input.TestAccuracy), acc(r.Output.TestAccuracy)},
	})
	m.p(fmt.Sprintf("The output trained on %s fewer than the input; its test accuracy differs from the input's by %s percentage points.",
		rowsOf(r.Input.TrainedRows-r.Output.TrainedRows), signed(100*(r.Output.TestAccuracy-r.Input.TestAccuracy), 2)))
	if len(r.Data) > 0 {
		rows := make([][]string, 0, len(r.Data))
		for _, role := range sortedKeys(r.Data) {
			rows = append(rows, []string{codeCell(role), codeCell(r.Data[role])})
		}
		m.p("The data files, checked against the input's model card before anything ran:")
		m.table([]string{"data", "SHA-256"}, "ll", rows)
	}
	chosen := "chosen on the command line"
	switch {
	case r.Fallback != nil:
		chosen = "the fallback, after the first attempt did not pass (see Fallback)"
	case mt.Default:
		chosen = "the default (not chosen on the command line)"
	}
	kind := "approximate: the output was made from the input, so whether it still carries a trace of the rows is what the verification below tests"
	if mt.Exact {
		kind = "exact: a retraining from scratch on the retained rows, so the output never saw the deleted rows, by construction"
	}
	training := "none (the method does not train)"
	if mt.Training != nil {
		training = recipe(*mt.Training)
	}
	b := r.Build
	m.table([]string{"method", ""}, "ll", [][]string{
		{"Method", describe(mt.ID, false, text) + " (" + codeCell(mt.ID.Name()) + ")"},
		{"Choice", chosen},
		{"Kind", kind},
		{"Training", training},
		{"Seed", strconv.FormatUint(mt.Seed, 10)},
		{"Parameters changed", count(mt.ParamsChanged)},
		{"Relative change ‖Δθ‖ / ‖θ‖", sig3(mt.RelativeChange)},
		{"Software", fmt.Sprintf("Go %s, gomlx %s, backend %s, GOEXPERIMENT %s, %s", codeCell(b.GoVersion), codeCell(b.GomlxVersion), codeCell(b.Backend), orNone(codeCell(b.GOEXPERIMENT)), codeCell(b.GOOS+"/"+b.GOARCH))},
	})
	t := r.Seconds
	refs := "References (trained)"
	if v := r.Verification; v != nil && v.Cached {
		refs = "References (read from the cache)"
	}
	m.p("Wall times in seconds:")
	m.table([]string{"step", "seconds"}, "lr", [][]string{
		{"Loading and checking the data, card and checkpoint", secs(t.Load)},
		{"Method" + either(r.Fallback != nil, " (first attempt and retraining)", ""), secs(t.Method)},
		{refs, secs(t.References)},
		{"Verification", secs(t.Verification)},
		{"Total", secs(t.Total)},
	})
}

func (d *deletionPage) verification(m *md) {
	v := d.rec.Verification
	m.h(2, "Verification")
	if v == nil {
		m.p("Verification was switched off for this request: no membership test was run, and this record makes no claim that the output model forgot the deleted rows.")
		return
	}
	k := v.References
	m.p(fmt.Sprintf("The test (%s) asks whether the output model still tells the deleted rows apart from rows no model trained on. Each model is scored on every deleted row and on the %s control rows (the test split) by the offline LiRA score s(x) = φ(x) − μ(x): its logit-scaled confidence in the true label minus the mean of that confidence over %d reference models trained without the deleted rows (Carlini et al., IEEE S&P 2022). The AUC of telling the deleted rows from the control rows by s is 0.5 when the model treats them alike and rises as it singles them out. Its null distribution comes from the references themselves: each is scored as if it were the model under test, with μ from the other %d, and a model's t statistic, one-sided p-value and upper prediction bound compare its AUC with those %d values under Student's t with %d degrees of freedom.",
		code(v.Test), count(v.ControlRows), k, k-1, k, k-1))
	upper := percentOf(1-v.Alpha) + " upper bound"
	m.table([]string{"model", "AUC", "t", "one-sided p", upper}, "lrrrr", [][]string{
		{fmt.Sprintf("references (null, K = %d): mean ± sd", k), fixed(v.NullMean, 4) + " ± " + fixed(v.NullSD, 4), "—", "—", "—"},
		{"input model", fixed(v.Input.AUC, 4), tnum(v.Input.T), pval(v.Input.P), fixed(v.Input.Upper, 4)},
		{"output model", fixed(v.Output.AUC, 4), tnum(v.Output.T), pval(v.Output.P), fixed(v.Output.Upper, 4)},
	})
	vals := make([]string, len(v.NullAUCs))
	for i, x := range v.NullAUCs {
		vals[i] = fixed(x, 4)
	}
	seeds := make([]string, len(v.Seeds))
	for i, s := range v.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	m.p(fmt.Sprintf("The references' own AUCs, each judged by the others: %s (seeds %s).", orNone(strings.Join(vals, ", ")), orNone(strings.Join(seeds, ", "))))
	m.p(fmt.Sprintf("With %d reference models this test detects, with %s probability at the one-sided %s level, a model whose deleted rows reach an AUC of at least %s (an excess of %s); a smaller trace could go unseen.",
		k, percentOf(v.Power), percentOf(v.Alpha), fixed(v.NullMean+v.MDE, 4), fixed(v.MDE, 4)))
	m.p(fmt.Sprintf("The verdict is fail when the output's p-value is below α = %s: it still tells the deleted rows apart from unseen rows more than models that never trained on them do. It is pass when the input's p-value is below α (the test could see the rows in the model that trained on them) and the output's upper bound stays below the pass bound of %s: the null mean plus %s of the input model's excess (%s − %s), the share of the trace the output may keep. Otherwise it is inconclusive. Here the output's p-value is %s and its upper bound %s; the input's p-value is %s.",
		num(v.Alpha), fixed(v.PassBound, 4), percentOf(v.Margin), fixed(v.Input.AUC, 4), fixed(v.NullMean, 4), pval(v.Output.P), fixed(v.Output.Upper, 4), pval(v.Input.P)))
	m.p(verdictOf(v))
	if v.Cached {
		m.p(fmt.Sprintf("The reference models were cached: read from the cache under key %s, not trained by this request. The test took %s s.", code(v.ReferenceKey), secs(v.TestSeconds)))
	} else {
		m.p(fmt.Sprintf("The reference models were trained by this request in %s s and cached under key %s for later requests. The test took %s s.", secs(v.ReferenceSeconds), code(v.ReferenceKey), secs(v.TestSeconds)))
	}
}

func (d *deletionPage) fallback(m *md) {
	f := d.rec.Fallback
	if f == nil {
		return
	}
	v := f.Verification
	m.h(2, "Fallback")
	m.p(fmt.Sprintf("The first attempt was %s. Its verdict was **%s**. Reason: %s The model it made (parameters %s) was not written.",
		methodProse(f.Method.ID), text(v.Verdict), text(endSentence(v.Reason)), code(f.OutputParamsSHA256)))
	m.p(fmt.Sprintf("Its deleted rows reached an AUC of %s (one-sided p %s), upper bound %s against a pass bound of %s (null mean %s, K = %d).",
		fixed(v.Output.AUC, 4), pval(v.Output.P), fixed(v.Output.Upper, 4), fixed(v.PassBound, 4), fixed(v.NullMean, 4), v.References))
	if f.Reason != "" && !strings.Contains(f.Reason, v.Reason) {
		m.p("The reason recorded for the fallback: " + text(endSentence(f.Reason)))
	}
	m.p("The model written is instead " + methodProse(d.rec.Method.ID) + ", a retraining from scratch on the retained rows; the sections above describe it.")
}

// endSentence ends s with a full stop unless it ends in one already.
func endSentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

func (d *deletionPage) difference(m *md) {
	r := d.rec
	x := r.Difference
	m.h(2, "Before/after leakage (difference attack)")
	m.p(fmt.Sprintf("Whoever holds both the input and the output model can rank the trained rows by how much their loss rose from one to the other, ℓ_out(x) − ℓ_in(x). Over the %s deleted and %s retained rows, that ranking tells the deleted rows from the retained ones with an AUC of %s (0.5: the change does not single them out; 1: every deleted row's loss rose more than every retained row's). The mean loss change was %s nats for the deleted rows and %s nats for the retained ones.",
		count(x.Deleted), count(x.Retained), fixed(x.AUC, 4), signed(x.MeanChangeDeleted, 4), signed(x.MeanChangeRetained, 4)))
	if r.Verification == nil && x.ExactAUC == 0 {
		m.p("The same AUC for an exact deletion (the input against a model retrained without the rows) was not measured: there were no reference models.")
	} else {
		m.p(fmt.Sprintf("For an exact deletion, the input against a model retrained from scratch without the rows (the first reference model), the same AUC is %s: that much of the trace comes with deleting the rows at all, and retraining from scratch leaves it too.", fixed(x.ExactAUC, 4)))
	}
	m.p("An AUC near 1 means that this pair of models reveals which rows were deleted, whichever method made the second one. The remedy is therefore not a better method but not to publish, or keep, both versions. See M. Chen et al., \"When Machine Unlearning Jeopardizes Privacy\", CCS 2021.")
}

func (d *deletionPage) ledgerSection(m *md) {
	m.h(2, "Ledger")
	if len(d.ledger) == 0 {
		m.p("No ledger was given with this record.")
		return
	}
	rows := make([][]string, len(d.ledger))
	mine := 0
	for i, e := range d.ledger {
		method := describe(e.Method, false, text)
		if e.Fallback {
			method += " (fallback)"
		}
		verdict := "not verified"
		if e.Verdict != "" {
			verdict = text(e.Verdict)
		}
		rows[i] = []string{strconv.Itoa(e.Seq), codeCell(e.Created), method, count(e.Rows), verdict,
			hashPrefix(e.Input, true) + " → " + hashPrefix(e.Output, true), hashPrefix(e.Prev, true)}
		if d.opts.RecordSHA256 != "" && e.Record == d.opts.RecordSHA256 && mine == 0 {
			mine = e.Seq
		}
	}
	m.p(fmt.Sprintf("The model directory's ledger.jsonl, %s. Each line summarises one deletion record and carries the SHA-256 of the line before it (prev), and each line's input model is the previous line's output, so a changed, dropped or reordered line breaks the chain.", either(len(d.ledger) == 1, "1 line", count(len(d.ledger))+" lines")))
	m.table([]string{"seq", "created", "method", "rows", "verdict", "input → output", "prev"}, "rllrlll", rows)
	switch {
	case mine > 0:
		m.p(fmt.Sprintf("Line %d stands for this record: its record_sha256 is the SHA-256 of this deletion.json.", mine))
	case d.opts.RecordSHA256 != "":
		m.p("No line stands for this record: none has record_sha256 " + code(d.opts.RecordSHA256) + ", the SHA-256 of this deletion.json.")
	}
	m.p("To check the chain, run `go run ./scripts/forget -check DIR` with DIR the model directory.")
}
