package report

import (
	"bytes"
	"errors"
	"fmt"
	"html"

	"github.com/fimprune/fimprune/fimlib/results"
)

// Section is one top-level section of the report ("1. Model performance",
// …, "Appendix B. Inputs") as an HTML fragment: the body under its heading,
// with its figures inline. Notebooks show the report a section at a time.
type Section struct {
	Heading string // the heading's text, e.g. "2. Privacy evaluation"
	HTML    []byte // the fragment after the heading, up to the next section
}

// Sections renders the report of res (as [Render] does) and returns its
// top-level sections in order; the part before the first section (title,
// run metadata, summary) is not included.
func Sections(res *results.Results, opts Options) ([]Section, error) {
	files, err := Render(res, opts)
	if err != nil {
		return nil, err
	}
	return splitSections(files.HTML)
}

// splitSections cuts a page rendered by toHTML at its <h2> headings. The page
// is the package's own output (goldmark renders "## x" as "<h2>x</h2>", and
// data text is escaped), so plain string search is exact here.
func splitSections(page []byte) ([]Section, error) {
	const open, closing = "<h2>", "</h2>"
	end := bytes.Index(page, []byte("</main>"))
	if end < 0 {
		end = bytes.Index(page, []byte("</body>"))
	}
	if end < 0 {
		return nil, errors.New("report: page has no end of body")
	}
	page = page[:end]
	var out []Section
	i := bytes.Index(page, []byte(open))
	for i >= 0 {
		rest := page[i+len(open):]
		j := bytes.Index(rest, []byte(closing))
		if j < 0 {
			return nil, fmt.Errorf("report: unterminated heading at byte %d", i)
		}
		heading := html.UnescapeString(string(rest[:j]))
		body := rest[j+len(closing):]
		next := bytes.Index(body, []byte(open))
		if next >= 0 {
			i += len(open) + j + len(closing) + next
			body = body[:next]
		} else {
			i = -1
		}
		out = append(out, Section{Heading: heading, HTML: bytes.TrimSpace(body)})
	}
	return out, nil
}
