package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fimprune/fimprune/fimlib/results"
)

// File names WriteDir uses inside its directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	// SummaryFile is the seed notebook's summary, the same file the
	// experiment writes (results.SeedSummary marshalled by results.Marshal).
	SummaryFile = "inference_report_summary.json"
	// PDFFile is where scripts/report -pdf prints report.html (see package
	// report/pdf); Render and WriteDir never write it.
	PDFFile = "report.pdf"
)

// Options adjusts the report. The zero value is the full report.
type Options struct {
	// Title replaces the document title. "" means the default title. It is
	// treated as text: Markdown and HTML in it are shown, not interpreted.
	Title string
}

// DefaultTitle is the report's title when Options.Title is "".
const DefaultTitle = "Fisher-information pruning for data deletion — inference report"

// Files is a rendered report.
type Files struct {
	Markdown []byte   // report.md: GitHub-flavoured Markdown linking the figures by file name
	HTML     []byte   // report.html: one self-contained page with the figures inline
	Summary  []byte   // inference_report_summary.json
	Figures  []Figure // fig-*.svg, in the order they appear
}

// File is one output file.
type File struct {
	Name string
	Data []byte
}

// List returns every file of the report, figures first, in the order
// WriteDir writes them.
func (f *Files) List() []File {
	var out []File
	for _, fig := range f.Figures {
		out = append(out, File{fig.Name, fig.SVG})
	}
	return append(out,
		File{MarkdownFile, f.Markdown},
		File{HTMLFile, f.HTML},
		File{SummaryFile, f.Summary},
	)
}

// Render renders the report of res. It reads nothing but res (the date is
// res.Environment.Time, never the clock), so the same results give
// byte-identical files. It reads schema v1, v2 and v3 results (a study,
// v2 or v3, adds section 8 and its figure; only a v3 study has verdicts). It refuses results of another schema with a
// *results.SchemaError and results that fail results.Validate (for example
// a Best that is not one of the pruned models).
func Render(res *results.Results, opts Options) (*Files, error) {
	if res == nil {
		return nil, errors.New("report: nil results")
	}
	if res.Schema != results.Schema && res.Schema != results.SchemaV2 && res.Schema != results.SchemaV1 {
		return nil, fmt.Errorf("report: %w", &results.SchemaError{Got: res.Schema})
	}
	if err := res.Validate(); err != nil {
		return nil, err
	}
	sum, err := results.SeedSummary(res)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	summary, err := results.Marshal(sum)
	if err != nil {
		return nil, fmt.Errorf("report: summary: %w", err)
	}
	a := analyse(res, sum)
	figs, err := a.figures()
	if err != nil {
		return nil, err
	}
	title := opts.Title
	if title == "" {
		title = DefaultTitle
	}
	markdown := a.markdown(title, figs)
	page, err := toHTML(markdown, title, figs)
	if err != nil {
		return nil, err
	}
	return &Files{Markdown: markdown, HTML: page, Summary: summary, Figures: figs}, nil
}

// WriteDir renders the report of res and writes its files into dir (created
// if missing), each atomically with results.WriteFileAtomic.
func WriteDir(res *results.Results, dir string, opts Options) error {
	files, err := Render(res, opts)
	if err != nil {
		return err
	}
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
