package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/internal/testsupport"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadResults reads a results file from testdata.
func loadResults(t testing.TB, name string) *results.Results {
	t.Helper()
	res, err := results.Read(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// svgElement matches one inline figure.
var svgElement = regexp.MustCompile(`(?s)<svg .*?</svg>\n`)

// elideSVG replaces inline SVG with a marker: the HTML golden pins the page
// and the splicing; the figures are checked by structure (figures_test.go),
// because their bytes depend on gonum/plot's float formatting.
func elideSVG(b []byte) []byte {
	return svgElement.ReplaceAll(b, []byte("<svg><!-- figure SVG elided in the golden file --></svg>\n"))
}

// golden compares got with testdata/name, writing testdata/NAME.got-EXT and
// failing on a mismatch; -update rewrites the golden file instead.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	ext := filepath.Ext(name)
	gotPath := filepath.Join("testdata", strings.TrimSuffix(name, ext)+".got-"+strings.TrimPrefix(ext, "."))
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(gotPath)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run Golden -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		os.Remove(gotPath)
		return
	}
	if err := os.WriteFile(gotPath, got, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Errorf("%s differs from the golden file; wrote %s (diff them; run with -update if the change is intended)\n%s", path, gotPath, testsupport.FirstDiff(string(got), string(want)))
}

func TestGolden(t *testing.T) {
	files, err := Render(loadResults(t, "small.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "small.report.md", files.Markdown)
	golden(t, "small.report.html", elideSVG(files.HTML))
	golden(t, "small.summary.json", files.Summary)
}

func TestDeterministic(t *testing.T) {
	for _, name := range []string{"small.json", "real-results.json"} {
		t.Run(name, func(t *testing.T) {
			res := loadResults(t, name)
			a, err := Render(res, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// A second render from a fresh decode of the same bytes.
			data, err := results.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			res2, err := results.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Render(res2, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkPage(t, a.HTML) // well-formed, nothing that runs or loads, tables intact
			la, lb := a.List(), b.List()
			if len(la) != len(lb) {
				t.Fatalf("%d files, then %d", len(la), len(lb))
			}
			for i := range la {
				if la[i].Name != lb[i].Name || !bytes.Equal(la[i].Data, lb[i].Data) {
					t.Errorf("%s: two renders differ", la[i].Name)
				}
			}
		})
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	res := loadResults(t, "small.json")
	if err := WriteDir(res, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(files.List()) {
		t.Errorf("%d entries in %s, want %d (no temporary files left)", len(entries), dir, len(files.List()))
	}
	for _, f := range files.List() {
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s: written file differs from Render's", f.Name)
		}
	}
	// report.md links every figure by the name it is written under.
	for _, fig := range files.Figures {
		if !bytes.Contains(files.Markdown, []byte("]("+fig.Name+")")) {
			t.Errorf("report.md does not link %s", fig.Name)
		}
	}
	// The summary is the seed's, as results writes it.
	sum, err := results.SeedSummary(res)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := results.Marshal(sum)
	if !bytes.Equal(files.Summary, want) {
		t.Error("summary differs from results.Marshal(results.SeedSummary(res))")
	}
}

func TestUnknownSchemaRefused(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "small.json"))
	if err != nil {
		t.Fatal(err)
	}
	v9 := bytes.Replace(data, []byte(`"fimprune/results/v1"`), []byte(`"fimprune/results/v9"`), 1)
	_, err = results.Decode(bytes.NewReader(v9))
	var se *results.SchemaError
	if !errors.As(err, &se) || se.Got != "fimprune/results/v9" {
		t.Fatalf("Decode: err = %v, want a *results.SchemaError for v9", err)
	}
	if !strings.Contains(err.Error(), `unsupported schema "fimprune/results/v9"`) {
		t.Errorf("error %q does not name the schema", err)
	}
	// Render refuses a Results value of another schema too.
	res := loadResults(t, "small.json")
	res.Schema = "something/else"
	_, err = Render(res, Options{})
	if !errors.As(err, &se) {
		t.Fatalf("Render: err = %v, want a *results.SchemaError", err)
	}
	if _, err := Render(nil, Options{}); err == nil {
		t.Error("Render(nil) succeeded")
	}
}

func TestBestMustExist(t *testing.T) {
	res := loadResults(t, "small.json")
	res.Best.Fraction = 0.9
	if _, err := Render(res, Options{}); err == nil || !strings.Contains(err.Error(), "best fraction") {
		t.Errorf("err = %v, want one about the best fraction", err)
	}
}

const evil = "<script>alert(1)</script>"

// poison puts hostile strings into every string field a report shows.
func poison(res *results.Results) {
	res.Dataset.FeatureNames = append(res.Dataset.FeatureNames, evil, "![x](fig-1-overview.svg)", "[link](javascript:alert(1))", "a|b", "www.example.com", "<img src=x onerror=alert(1)>", "`tick`", "x\ny")
	res.Dataset.Name = evil
	res.Dataset.Scaler = "**bold** <b>b</b>"
	res.Dataset.SHA256[evil] = "&lt;not an entity&gt;"
	res.Config.Deletion = evil
	res.Config.Backend = "a|b" + evil
	res.Config.Model.Init = evil
	res.Config.Train.Optimizer = evil
	res.Environment.CPU = evil
	res.Environment.GoVersion = evil
	res.Environment.GomlxVersion = "`" + evil + "`"
	res.Environment.Backend = evil
	res.Environment.GOEXPERIMENT = evil
	res.Environment.Time = evil
	res.Fisher.Kind = evil
	res.Fisher.Other.Kind = "<i>other</i>"
	res.Fisher.Tensors[0].Name = evil
	for i := range res.Models.Pruned {
		res.Models.Pruned[i].Layers[0].Name = evil + "|x"
	}
	res.Models.Full.Classes[0].Label = evil
}

func TestDataIsEscaped(t *testing.T) {
	res := loadResults(t, "small.json")
	poison(res)
	files, err := Render(res, Options{Title: evil})
	if err != nil {
		t.Fatal(err)
	}
	page := files.HTML
	if bytes.Contains(bytes.ToLower(page), []byte("<script")) {
		t.Error("report.html contains <script")
	}
	n := checkPage(t, page)
	if n.figures != len(files.Figures) {
		t.Errorf("%d <figure> elements, want %d (a data string made a figure?)", n.figures, len(files.Figures))
	}
	if n.evilText < 10 {
		t.Errorf("the hostile string appears %d times as text, want it everywhere it was put", n.evilText)
	}
	for _, s := range []string{"![x](fig-1-overview.svg)", "[link](javascript:alert(1))", "<img src=x onerror=alert(1)>", "**bold** <b>b</b>", "&lt;not an entity&gt;", "www.example.com", "`tick`", "x y"} {
		if !n.text[s] {
			t.Errorf("%q does not appear verbatim as text", s)
		}
	}
	// The Markdown shows the strings inertly too: no raw HTML tag from data.
	if bytes.Contains(files.Markdown, []byte(evil)) && !bytes.Contains(files.Markdown, []byte("`"+evil+"`")) {
		t.Error("report.md contains the raw hostile string outside a code span")
	}
}

// pageFacts is what checkPage learned about a page.
type pageFacts struct {
	figures  int
	evilText int             // text nodes containing evil
	text     map[string]bool // every text node and every code element's text
}

// checkPage parses the page as XML (goldmark writes XHTML and the SVG is
// XML) and fails on anything that could run or load: script-like elements,
// event-handler attributes, URLs. Tables must keep their shape.
func checkPage(t *testing.T, page []byte) pageFacts {
	t.Helper()
	facts := pageFacts{text: map[string]bool{}}
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	forbidden := map[string]bool{"script": true, "iframe": true, "object": true, "embed": true, "img": true, "link": true, "a": true, "foreignObject": true, "image": true, "use": true, "base": true, "form": true, "input": true}
	var stack []string
	var cells []int // cells per row of the current table
	var cur strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("report.html is not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			if forbidden[name] {
				t.Errorf("forbidden element <%s>", name)
			}
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(k, "on") || k == "href" || k == "src" || k == "srcset" || k == "action" {
					t.Errorf("forbidden attribute %s=%q on <%s>", a.Name.Local, a.Value, name)
				}
			}
			switch name {
			case "figure":
				facts.figures++
			case "table":
				cells = nil
			case "tr":
				cells = append(cells, 0)
			case "td", "th":
				cells[len(cells)-1]++
			case "code":
				cur.Reset()
			}
			stack = append(stack, name)
		case xml.EndElement:
			switch tok.Name.Local {
			case "table":
				for i, c := range cells {
					if c != cells[0] {
						t.Errorf("a table row %d has %d cells, the header %d", i, c, cells[0])
					}
				}
			case "code":
				facts.text[cur.String()] = true
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			s := string(tok)
			cur.WriteString(s)
			if strings.Contains(s, evil) {
				facts.evilText++
			}
			facts.text[s] = true
			for _, part := range strings.Split(s, ", ") {
				facts.text[part] = true
			}
		}
	}
	return facts
}

// TestMarkdownEscaping renders each escaped string with goldmark and checks
// that exactly the string comes back as text.
func TestMarkdownEscaping(t *testing.T) {
	inputs := []string{
		"plain", evil, "a|b", "a\\|b", "*em* _em_ **strong**", "[x](y)", "![x](y)", "<http://x.y>", "http://example.com",
		"www.example.com", "me@example.com", "&amp; &lt;", "~~strike~~", "`code`", "``", "a ` b", "# not a heading", "1. not a list",
		"- not a list", "x\ny\tz", "trailing\\", "\\*", "(parens)", "name=value; 50%",
	}
	for _, in := range inputs {
		want := flatten(in)
		for _, tc := range []struct {
			kind, md string
		}{
			{"text", "Q " + text(in) + " Q"},
			{"code", "Q " + code(in) + " Q"},
			{"cell", "| h | k |\n| --- | --- |\n| " + codeCell(in) + " | " + text(in) + " |\n"},
		} {
			page, err := toHTML([]byte(tc.md), "t", nil)
			if err != nil {
				t.Fatal(err)
			}
			f := checkPage(t, page)
			var ok bool
			switch tc.kind {
			case "cell":
				ok = f.text[want] && strings.Count(string(page), "<td>") == 2
			default:
				ok = f.text["Q "+want+" Q"] || (f.text[want] && f.text["Q "] && f.text[" Q"])
			}
			if !ok {
				t.Errorf("%s(%q): markdown %q did not render as the literal text", tc.kind, in, tc.md)
			}
		}
	}
}

func BenchmarkRender(b *testing.B) {
	res := loadResults(b, "real-results.json")
	for b.Loop() {
		if _, err := Render(res, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTiedPredictions: a model with tied predictions is called out, with its
// count and share, in section 1 and in the findings; without ties, nothing.
func TestTiedPredictions(t *testing.T) {
	res := loadResults(t, "small.json")
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(files.Markdown, []byte("Tied predictions")) {
		t.Fatal("tied predictions reported for results without any")
	}
	res.Models.Pruned[0].TiedPredictions = res.Dataset.Test / 2
	files, err = Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(files.Markdown, []byte("**Tied predictions.**")); n != 2 {
		t.Errorf("tied predictions reported %d times, want 2 (section 1 and findings)", n)
	}
	want := fmt.Sprintf("f = %s %s (50.0 %%)", frac(res.Models.Pruned[0].Fraction), count(res.Dataset.Test/2))
	if !bytes.Contains(files.Markdown, []byte(want)) {
		t.Errorf("report lacks %q", want)
	}
}
