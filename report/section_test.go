package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestSections(t *testing.T) {
	res := loadResults(t, "small.json")
	sections, err := Sections(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1. Model performance", "2. Privacy evaluation", "3. Utility–privacy trade-off",
		"4. Computational efficiency", "5. Pruning by layer and Fisher scores", "6. Key findings",
		"7. Method notes", "Appendix A. Seed summary", "Appendix B. Inputs"}
	if len(sections) != len(want) {
		t.Fatalf("got %d sections, want %d", len(sections), len(want))
	}
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	figures := 0
	for i, s := range sections {
		if s.Heading != want[i] {
			t.Errorf("section %d: heading %q, want %q", i, s.Heading, want[i])
		}
		if len(s.HTML) == 0 || bytes.Contains(s.HTML, []byte("<h2")) || bytes.Contains(s.HTML, []byte("</main>")) {
			t.Errorf("section %q: body is empty or runs into another section", s.Heading)
		}
		// Every fragment is a verbatim piece of the page.
		if !bytes.Contains(files.HTML, s.HTML) {
			t.Errorf("section %q is not a piece of report.html", s.Heading)
		}
		figures += strings.Count(string(s.HTML), "<figure")
	}
	if figures != len(files.Figures) {
		t.Errorf("sections hold %d figures, the report has %d", figures, len(files.Figures))
	}
}

func TestSplitSectionsErrors(t *testing.T) {
	if _, err := splitSections([]byte("<h2>x")); err == nil {
		t.Error("a page without a body end was accepted")
	}
	if _, err := splitSections([]byte("<h2>x</main>")); err == nil {
		t.Error("an unterminated heading was accepted")
	}
}
