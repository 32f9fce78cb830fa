package report

import (
	"bytes"
	"encoding/xml"
	"html"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
)

// svgFacts is what a figure's SVG holds, read with encoding/xml.
type svgFacts struct {
	width, height float64  // of the root, in points
	texts         []string // every <text> element's content
	paths         int
}

func parseSVG(t *testing.T, name string, b []byte) svgFacts {
	t.Helper()
	var f svgFacts
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth := 0
	inText := false
	var cur strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: invalid SVG: %v", name, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("%s: root element %v, want svg in the SVG namespace", name, tok.Name)
				}
				for _, a := range tok.Attr {
					switch a.Name.Local {
					case "width":
						f.width = points(t, a.Value)
					case "height":
						f.height = points(t, a.Value)
					}
				}
			}
			switch tok.Name.Local {
			case "text":
				inText = true
				cur.Reset()
			case "path":
				f.paths++
			case "script", "foreignObject", "a", "image", "use":
				t.Errorf("%s: unexpected <%s>", name, tok.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
			if tok.Name.Local == "text" {
				inText = false
				f.texts = append(f.texts, cur.String())
			}
		case xml.CharData:
			if inText {
				cur.Write(tok)
			}
		case xml.ProcInst:
			t.Errorf("%s: XML declaration or processing instruction %q not allowed inline in HTML", name, tok.Target)
		}
	}
	return f
}

func points(t *testing.T, s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "pt"), 64)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	return v
}

func TestFigures(t *testing.T) {
	for _, name := range []string{"small.json", "real-results.json"} {
		t.Run(name, func(t *testing.T) {
			res := loadResults(t, name)
			files, err := Render(res, Options{})
			if err != nil {
				t.Fatal(err)
			}
			nPruned := len(res.Models.Pruned)
			want := []struct {
				name    string
				panels  int
				legends [][]string // per panel
			}{
				{"fig-1-overview.svg", 4, [][]string{
					{"pruned + fine-tuned (95 % CI)", "retrain", "full"},
					{"pruned + fine-tuned (±1.96 SE)", "retrain", "chance (0.5)", "expected with no signal"},
					{"pruned − retrain (95 % CI)", "retrain (0)"},
					{"retrain time"},
				}},
				{"fig-2-tradeoff.svg", 2, [][]string{
					{"0.7·utility + 0.3·privacy", "best (f = " + frac(res.Best.Fraction) + ")"},
					append([]string{"full", "retrain"}, fractionLabels(res.Config.Fractions)...),
				}},
				{"fig-3-fisher.svg", len(res.Fisher.Tensors), nil},
			}
			if res.Models.Full.MIA.ROC != nil { // real runs record ROC curves
				want = append(want, struct {
					name    string
					panels  int
					legends [][]string
				}{"fig-4-roc.svg", 1, [][]string{append(append([]string{"full", "retrain"}, prunedLabels(res.Config.Fractions)...), "no signal (AUC 0.5)")}})
			}
			if res.Study != nil { // a study run adds the Pareto figure (its own tests: study_test.go)
				want = append(want, struct {
					name    string
					panels  int
					legends [][]string
				}{"fig-5-pareto.svg", 1, nil})
			}
			if len(files.Figures) != len(want) {
				t.Fatalf("%d figures, want %d", len(files.Figures), len(want))
			}
			for i, w := range want {
				fig := files.Figures[i]
				if fig.Name != w.name {
					t.Errorf("figure %d is %s, want %s", i, fig.Name, w.name)
					continue
				}
				if len(fig.panels) != w.panels {
					t.Errorf("%s: %d panels, want %d", fig.Name, len(fig.panels), w.panels)
				}
				svg := parseSVG(t, fig.Name, fig.SVG)
				if svg.width <= 0 || svg.height <= 0 {
					t.Errorf("%s: size %gx%g", fig.Name, svg.width, svg.height)
				}
				if len(fig.SVG) > 200<<10 {
					t.Errorf("%s: %d bytes; fonts embedded?", fig.Name, len(fig.SVG))
				}
				texts := map[string]int{}
				for _, s := range svg.texts {
					texts[s]++
				}
				for j, p := range fig.panels {
					if texts[p.title] == 0 {
						t.Errorf("%s: panel title %q not drawn", fig.Name, p.title)
					}
					if w.legends != nil {
						if got, want := strings.Join(p.legend, " | "), strings.Join(w.legends[j], " | "); got != want {
							t.Errorf("%s panel %d: legend %q, want %q", fig.Name, j, got, want)
						}
					}
					for _, l := range p.legend {
						if texts[l] == 0 {
							t.Errorf("%s: legend entry %q not drawn", fig.Name, l)
						}
					}
				}
				// Per-figure series counts.
				switch fig.Name {
				case "fig-1-overview.svg":
					if got := fig.panels[3].series; got != 2+nPruned+1 {
						t.Errorf("time panel: %d series, want %d bars + the retrain line", got, 2+nPruned)
					}
					for _, l := range append([]string{"full", "retrain"}, fractionNames(res.Config.Fractions)...) {
						if texts[l] == 0 {
							t.Errorf("time panel: bar label %q not drawn", l)
						}
					}
				case "fig-2-tradeoff.svg":
					if got := fig.panels[1].series; got != 2+nPruned {
						t.Errorf("scatter: %d series, want %d", got, 2+nPruned)
					}
				case "fig-3-fisher.svg":
					for j, tensor := range res.Fisher.Tensors {
						if !strings.HasPrefix(fig.panels[j].title, tensor.Name) {
							t.Errorf("histogram %d titled %q, want tensor %q", j, fig.panels[j].title, tensor.Name)
						}
					}
				}
				// Text must use fonts a browser has (no embedded @font-face).
				if bytes.Contains(fig.SVG, []byte("@font-face")) {
					t.Errorf("%s embeds a font", fig.Name)
				}
				if !bytes.Contains(fig.SVG, []byte(cssFontFamily)) {
					t.Errorf("%s: text does not name the fallback fonts", fig.Name)
				}
			}
		})
	}
}

func fractionLabels(fr []float64) []string {
	out := make([]string, len(fr))
	for i, f := range fr {
		out[i] = "f = " + frac(f)
	}
	return out
}

func fractionNames(fr []float64) []string {
	out := make([]string, len(fr))
	for i, f := range fr {
		out[i] = frac(f)
	}
	return out
}

func TestFiguresDegenerate(t *testing.T) {
	// No pruned models: SeedSummary refuses (no best), so Render reports it
	// instead of drawing empty plots.
	res := loadResults(t, "small.json")
	res.Models.Pruned = nil
	if _, err := Render(res, Options{}); err == nil {
		t.Error("Render without pruned models succeeded")
	}
	// Identical values everywhere (zero ranges) and no Fisher tensors.
	res = loadResults(t, "small.json")
	for i := range res.Models.Pruned {
		p := &res.Models.Pruned[i]
		p.TestAccuracy, p.MIA.BestThresholdAccuracy, p.CombinedScore, p.DeletionSeconds = 0.5, 0.5, 0.5, 0
	}
	res.Best.CombinedScore = 0.5
	res.Models.Full.TestAccuracy, res.Models.Retrain.TestAccuracy = 0.5, 0.5
	res.Models.Full.TrainSeconds, res.Models.Retrain.TrainSeconds = 0, 0
	res.Fisher.Tensors = nil
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(files.Figures) != 2 {
		t.Errorf("%d figures, want 2 (no Fisher histogram without tensors)", len(files.Figures))
	}
	for _, f := range files.Figures {
		parseSVG(t, f.Name, f.SVG)
	}
	if !bytes.Contains(files.Markdown, []byte("n/a")) {
		t.Error("a zero deletion time should give an n/a speed-up")
	}
}

// TestFisherFigureWithoutPositiveScores: a tensor whose scores are all zero
// has no histogram; it is drawn as an empty panel, not an error.
func TestFisherFigureWithoutPositiveScores(t *testing.T) {
	res := loadResults(t, "small.json")
	res.Fisher.Tensors[0].Log10Bins, res.Fisher.Tensors[0].Counts = nil, nil
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(files.HTML, []byte("no score &gt; 0")) {
		t.Error("the empty tensor's panel is not labelled")
	}
}

// TestROCFigure: results that carry ROC curves get a fourth figure with one
// curve per model plus the diagonal; results without them get none.
func TestROCFigure(t *testing.T) {
	res := loadResults(t, "small.json")
	files, err := Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files.Figures {
		if f.Name == "fig-4-roc.svg" {
			t.Fatal("a ROC figure without ROC data")
		}
	}
	curve := &results.ROC{FPR: []float64{0, 0, 0.5, 1}, TPR: []float64{0, 0.5, 1, 1}}
	res.Models.Full.MIA.ROC, res.Models.Retrain.MIA.ROC = curve, curve
	for i := range res.Models.Pruned {
		res.Models.Pruned[i].MIA.ROC = curve
	}
	files, err = Render(res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var roc *Figure
	for i := range files.Figures {
		if files.Figures[i].Name == "fig-4-roc.svg" {
			roc = &files.Figures[i]
		}
	}
	if roc == nil {
		t.Fatal("no ROC figure")
	}
	want := 2 + len(res.Models.Pruned) + 1 // full, retrain, each fraction, the diagonal
	if got := roc.panels[0].series; got != want {
		t.Errorf("%d series, want %d", got, want)
	}
	for _, name := range roc.panels[0].legend {
		if !bytes.Contains(roc.SVG, []byte(html.EscapeString(name))) {
			t.Errorf("legend entry %q not drawn", name)
		}
	}
	if !bytes.Contains(files.Markdown, []byte("fig-4-roc.svg")) {
		t.Error("report.md does not show the ROC figure")
	}
}

func prunedLabels(fr []float64) []string {
	out := make([]string, len(fr))
	for i, f := range fr {
		out[i] = "pruned f = " + frac(f)
	}
	return out
}
