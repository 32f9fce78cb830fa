package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/verdict"
)

// The tests here read a figure's SVG back as a reader would: they find the
// axes, their tick marks and tick labels, fit the linear map from value to
// position that the labels imply, and invert it on the drawn series to
// compare the values plotted with the results they come from. Coordinates
// are in points with y upwards (gonum's; the SVG's root group flips them).

// svgShape is one <path> of a figure.
type svgShape struct {
	pts    []pt    // the end points of its segments, in order
	radius float64 // of its first arc (a circle glyph), 0 without
	fill   string  // fill colour, "" for none
	stroke string  // stroke colour, "" for none
	width  float64 // stroke width
	key    bool    // inside a key sample
}

type pt struct{ x, y float64 }

// svgText is one <text> element.
type svgText struct {
	x, y    float64 // the start of its baseline
	size    float64 // font size
	text    string
	rotated bool
	key     bool // the text of a key entry (8 px text right after a sample)
}

// svgDoc is a figure's shapes and texts in document order.
type svgDoc struct {
	shapes []svgShape
	texts  []svgText
}

var (
	pathCmd  = regexp.MustCompile(`[MLAZ][^MLAZ]*`)
	styleKV  = regexp.MustCompile(`([a-z-]+):([^;]+)`)
	numberRe = regexp.MustCompile(`-?[0-9.]+(?:e-?[0-9]+)?`)
)

func parseFloats(t *testing.T, s string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range numberRe.FindAllString(s, -1) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("number %q: %v", f, err)
		}
		out = append(out, v)
	}
	return out
}

// readSVG parses the shapes and texts of a figure.
func readSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	d := xml.NewDecoder(bytes.NewReader(b))
	type group struct{ rotate, key bool }
	var groups []group
	inside := func(f func(group) bool) bool {
		return slices.ContainsFunc(groups, f)
	}
	var text *svgText
	afterKey := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range tok.Attr {
				attr[a.Name.Local] = a.Value
			}
			style := map[string]string{}
			for _, kv := range styleKV.FindAllStringSubmatch(attr["style"], -1) {
				style[kv[1]] = kv[2]
			}
			switch tok.Name.Local {
			case "g":
				groups = append(groups, group{strings.HasPrefix(attr["transform"], "rotate"), attr["class"] == "key-sample"})
			case "path":
				s := svgShape{key: inside(func(g group) bool { return g.key })}
				if f := style["fill"]; f != "none" {
					s.fill = f
					if f == "" {
						s.fill = "#000000"
					}
				}
				if st := style["stroke"]; st != "" && st != "none" {
					s.stroke = st
					s.width = 1
					if w, ok := style["stroke-width"]; ok {
						s.width = parseFloats(t, w)[0]
					}
				}
				for _, c := range pathCmd.FindAllString(attr["d"], -1) {
					v := parseFloats(t, c[1:])
					switch c[0] {
					case 'M', 'L':
						s.pts = append(s.pts, pt{v[0], v[1]})
					case 'A': // rx,ry rot large sweep x,y
						if s.radius == 0 {
							s.radius = v[0]
						}
						s.pts = append(s.pts, pt{v[5], v[6]})
					}
				}
				doc.shapes = append(doc.shapes, s)
				if s.key {
					afterKey = true
				}
			case "text":
				v := parseFloats(t, attr["x"]+" "+attr["y"])
				size := 0.0
				if fs, ok := style["font-size"]; ok {
					size = parseFloats(t, fs)[0]
				}
				text = &svgText{x: v[0], y: -v[1], size: size, rotated: inside(func(g group) bool { return g.rotate }), key: afterKey}
				afterKey = false
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "g":
				groups = groups[:len(groups)-1]
			case "text":
				doc.texts = append(doc.texts, *text)
				text = nil
			}
		case xml.CharData:
			if text != nil {
				text.text += string(tok)
			}
		}
	}
	return doc
}

// axisMap is the linear map of one axis: position = a + b·value.
type axisMap struct{ a, b float64 }

func (m axisMap) value(pos float64) float64 { return (pos - m.a) / m.b }

// axes finds the axes of the panel that holds pts: the nearest x axis below
// them and y axis left of them (black 0.5 pt lines spanning the points),
// pairs their major tick marks (8 pt long) with their tick labels in order,
// and fits each axis's linear map. An axis whose labels are not numbers, or
// without a line (nominal: gonum draws neither line nor ticks), gives ok
// false.
func (d svgDoc) axes(t *testing.T, pts []pt) (xm, ym axisMap, xok, yok bool) {
	t.Helper()
	lo, hi := pt{math.Inf(1), math.Inf(1)}, pt{math.Inf(-1), math.Inf(-1)}
	for _, p := range pts {
		lo = pt{min(lo.x, p.x), min(lo.y, p.y)}
		hi = pt{max(hi.x, p.x), max(hi.y, p.y)}
	}
	const eps = 0.02
	axisLine := func(s svgShape) bool {
		return !s.key && s.fill == "" && s.stroke == "#000000" && s.width == 0.5 && len(s.pts) == 2
	}
	var xAxis, yAxis *svgShape
	for i := range d.shapes {
		s := &d.shapes[i]
		if !axisLine(*s) {
			continue
		}
		a, b := s.pts[0], s.pts[1]
		switch {
		case math.Abs(a.y-b.y) < eps && b.x-a.x > 30 && a.y <= lo.y+eps && a.x <= lo.x+eps && b.x >= hi.x-eps:
			if xAxis == nil || a.y > xAxis.pts[0].y {
				xAxis = s
			}
		case math.Abs(a.x-b.x) < eps && b.y-a.y > 30 && a.x <= lo.x+eps && a.y <= lo.y+eps && b.y >= hi.y-eps:
			if yAxis == nil || a.x > yAxis.pts[0].x {
				yAxis = s
			}
		}
	}
	if yAxis == nil {
		t.Fatalf("no y axis left of the points %v", pts)
	}
	fit := func(ticks []float64, labels []svgText, name string) (axisMap, bool) {
		t.Helper()
		if len(ticks) != len(labels) || len(ticks) < 2 {
			t.Fatalf("%s axis: %d major ticks, %d tick labels", name, len(ticks), len(labels))
		}
		var vs []float64
		for _, l := range labels {
			v, err := strconv.ParseFloat(strings.ReplaceAll(l.text, "−", "-"), 64)
			if err != nil {
				return axisMap{}, false // nominal
			}
			vs = append(vs, v)
		}
		// Least squares of position on value, and every tick on the line:
		// each label states its tick's value exactly.
		n := float64(len(vs))
		var sv, sp, svv, svp float64
		for i, v := range vs {
			sv, sp, svv, svp = sv+v, sp+ticks[i], svv+v*v, svp+v*ticks[i]
		}
		b := (n*svp - sv*sp) / (n*svv - sv*sv)
		m := axisMap{(sp - b*sv) / n, b}
		for i, v := range vs {
			if got := m.a + m.b*v; math.Abs(got-ticks[i]) > 0.05 {
				t.Errorf("%s axis: tick %q at %.3f, the other ticks put it at %.3f", name, labels[i].text, ticks[i], got)
			}
		}
		return m, true
	}

	// y: ticks left of the axis line; labels are 8 px texts ending left of
	// the ticks, their baseline within the axis's extent.
	ay := yAxis.pts
	var yt []float64
	var yl []svgText
	for _, s := range d.shapes {
		if axisLine(s) && math.Abs(s.pts[0].y-s.pts[1].y) < eps && math.Abs(max(s.pts[0].x, s.pts[1].x)-ay[0].x) < eps &&
			math.Abs(math.Abs(s.pts[0].x-s.pts[1].x)-8) < eps && s.pts[0].y >= ay[0].y-eps && s.pts[0].y <= ay[1].y+eps {
			yt = append(yt, s.pts[0].y)
		}
	}
	for _, tx := range d.texts {
		if !tx.rotated && !tx.key && tx.size == 8 && tx.x < ay[0].x-8 && tx.x > ay[0].x-60 && tx.y > ay[0].y-10 && tx.y < ay[1].y+10 {
			yl = append(yl, tx)
		}
	}
	slices.Sort(yt)
	slices.SortFunc(yl, func(a, b svgText) int { return int(math.Copysign(1, a.y-b.y)) })
	ym, yok = fit(yt, yl, "y")
	if xAxis == nil {
		return xm, ym, false, yok
	}

	// x: ticks hang below the axis line; their labels are 8 px texts whose
	// baseline lies 8 to 24 pt below it.
	ax := xAxis.pts
	var xt []float64
	var xl []svgText
	for _, s := range d.shapes {
		if axisLine(s) && math.Abs(s.pts[0].x-s.pts[1].x) < eps && math.Abs(max(s.pts[0].y, s.pts[1].y)-ax[0].y) < eps &&
			math.Abs(math.Abs(s.pts[0].y-s.pts[1].y)-8) < eps && s.pts[0].x >= ax[0].x-eps && s.pts[0].x <= ax[1].x+eps {
			xt = append(xt, s.pts[0].x)
		}
	}
	for _, tx := range d.texts {
		if !tx.rotated && !tx.key && tx.size == 8 && tx.y < ax[0].y-8 && tx.y > ax[0].y-24 && tx.x > ax[0].x-20 && tx.x < ax[1].x+20 {
			xl = append(xl, tx)
		}
	}
	slices.Sort(xt)
	slices.SortFunc(xl, func(a, b svgText) int { return int(math.Copysign(1, a.x-b.x)) })
	xm, xok = fit(xt, xl, "x")
	return xm, ym, xok, yok
}

// series returns the shapes drawn (not in a key) with that stroke colour
// and width, or with that fill when width is 0, in document order.
func (d svgDoc) series(color string, width float64) []svgShape {
	var out []svgShape
	for _, s := range d.shapes {
		if s.key {
			continue
		}
		if width > 0 && s.stroke == color && s.width == width || width == 0 && s.fill == color {
			out = append(out, s)
		}
	}
	return out
}

// center is a circle glyph's centre: its path starts at (x + r, y).
func (s svgShape) center() pt { return pt{s.pts[0].x - s.radius, s.pts[0].y} }

// checkValues compares the values read back at pts with want (x, y pairs),
// within tol of each axis's visible range.
func checkValues(t *testing.T, what string, d svgDoc, pts []pt, want []pt) {
	t.Helper()
	if len(pts) != len(want) {
		t.Fatalf("%s: %d points drawn, want %d", what, len(pts), len(want))
	}
	xm, ym, xok, yok := d.axes(t, pts)
	if !xok || !yok {
		t.Fatalf("%s: an axis is not numeric", what)
	}
	for i, p := range pts {
		gx, gy := xm.value(p.x), ym.value(p.y)
		// Positions are written with 5 significant digits: allow 0.05 pt.
		tx, ty := 0.05/math.Abs(xm.b), 0.05/math.Abs(ym.b)
		if math.Abs(gx-want[i].x) > tx || math.Abs(gy-want[i].y) > ty {
			t.Errorf("%s, point %d: drawn at (%.6g, %.6g), want (%.6g, %.6g)", what, i, gx, gy, want[i].x, want[i].y)
		}
	}
}

// figureNamed returns the figure of that name.
func figureNamed(t *testing.T, files *Files, name string) *Figure {
	t.Helper()
	for i := range files.Figures {
		if files.Figures[i].Name == name {
			return &files.Figures[i]
		}
	}
	t.Fatalf("no figure %s", name)
	return nil
}

// TestFigureValues reads back, through the axes' tick labels, the plotted
// positions of at least one series in every figure and compares them with
// the results they come from.
func TestFigureValues(t *testing.T) {
	for _, name := range []string{"small.json", "real-results.json", "study"} {
		t.Run(name, func(t *testing.T) {
			var res *results.Results
			if name == "study" {
				res = withStudy(t, studyFixtureV3(5), results.Schema)
			} else {
				res = loadResults(t, name)
			}
			files := mustRender(t, res)
			pr := res.Models.Pruned
			fr := make([]float64, len(pr))
			for i, p := range pr {
				fr[i] = p.Fraction
			}
			along := func(ys func(results.Pruned) float64) []pt {
				out := make([]pt, len(pr))
				for i, p := range pr {
					out[i] = pt{p.Fraction, ys(p)}
				}
				return out
			}

			// Figure 1: (a) test accuracy and (c) the gap in points, both
			// blue lines; (b) attack accuracy; (d) the pruned models' bars.
			d := readSVG(t, figureNamed(t, files, "fig-1-overview.svg").SVG)
			lines := d.series("#0072B2", 1.5)
			if len(lines) != 2 {
				t.Fatalf("figure 1: %d blue lines, want 2 ((a) and (c))", len(lines))
			}
			checkValues(t, "figure 1 (a) test accuracy", d, lines[0].pts, along(func(p results.Pruned) float64 { return p.TestAccuracy }))
			checkValues(t, "figure 1 (c) gap to retrain", d, lines[1].pts, along(func(p results.Pruned) float64 {
				return 100 * (p.TestAccuracy - res.Models.Retrain.TestAccuracy)
			}))
			mia := d.series("#D55E00", 1.5)
			if len(mia) != 1 {
				t.Fatalf("figure 1: %d vermilion lines, want 1", len(mia))
			}
			checkValues(t, "figure 1 (b) attack accuracy", d, mia[0].pts, along(func(p results.Pruned) float64 { return p.MIA.BestThresholdAccuracy }))
			bars := d.series("#0072B2", 0)
			var tops []pt
			for _, b := range bars {
				if len(b.pts) == 4 && b.radius == 0 { // bars, not markers
					tops = append(tops, pt{(b.pts[0].x + b.pts[1].x) / 2, max(b.pts[0].y, b.pts[2].y)})
				}
			}
			if len(tops) != len(pr) {
				t.Fatalf("figure 1 (d): %d blue bars, want %d", len(tops), len(pr))
			}
			_, ym, _, yok := d.axes(t, tops)
			if !yok {
				t.Fatal("figure 1 (d): the time axis is not numeric")
			}
			for i, p := range pr {
				if got := ym.value(tops[i].y); math.Abs(got-p.DeletionSeconds) > 0.05/ym.b {
					t.Errorf("figure 1 (d): bar of f = %g reads %.4g s, want %.4g s", p.Fraction, got, p.DeletionSeconds)
				}
			}

			// Figure 2: (a) the combined score; (b) each model's marker.
			d = readSVG(t, figureNamed(t, files, "fig-2-tradeoff.svg").SVG)
			lines = d.series("#0072B2", 1.5)
			if len(lines) != 1 {
				t.Fatalf("figure 2: %d blue lines, want 1", len(lines))
			}
			checkValues(t, "figure 2 (a) combined score", d, lines[0].pts, along(func(p results.Pruned) float64 { return p.CombinedScore }))
			var first []pt
			for _, s := range d.series("#0072B2", 0) {
				if s.radius == 3.5 { // (a)'s markers are smaller
					first = append(first, s.center())
				}
			}
			checkValues(t, "figure 2 (b) the first pruned model", d, first, []pt{{pr[0].MIA.BestThresholdAccuracy, pr[0].TestAccuracy}})

			// Figure 3: the first tensor's histogram, bin edges and counts.
			d = readSVG(t, figureNamed(t, files, "fig-3-fisher.svg").SVG)
			tensor := res.Fisher.Tensors[0]
			var want []pt
			for i, c := range tensor.Counts {
				if c > 0 {
					want = append(want, pt{tensor.Log10Bins[i], float64(c)}, pt{tensor.Log10Bins[i+1], float64(c)})
				}
			}
			var corners []pt
			for _, b := range d.series("#0072B2", 0)[:len(want)/2] {
				top := max(b.pts[0].y, b.pts[2].y)
				corners = append(corners, pt{min(b.pts[0].x, b.pts[1].x), top}, pt{max(b.pts[0].x, b.pts[1].x), top})
			}
			checkValues(t, "figure 3, "+tensor.Name, d, corners, want)

			// Figure 4: the full model's ROC curve, every point.
			if res.Models.Full.MIA.ROC != nil {
				d = readSVG(t, figureNamed(t, files, "fig-4-roc.svg").SVG)
				lines = d.series("#808080", 1.2)
				if len(lines) != 1 {
					t.Fatalf("figure 4: %d grey curves, want 1 (full)", len(lines))
				}
				roc := res.Models.Full.MIA.ROC
				want = nil
				for i := range roc.FPR {
					want = append(want, pt{roc.FPR[i], roc.TPR[i]})
				}
				checkValues(t, "figure 4, full model's ROC", d, lines[0].pts, want)
			}

			// Figure 5: the first method's marker (FIM pruning, a blue
			// disc) in the panel of all methods: x the mean test gap, y its
			// U-LiRA accuracy.
			if st := res.Study; st != nil {
				d = readSVG(t, figureNamed(t, files, "fig-5-pareto.svg").SVG)
				m := st.Methods[0]
				if id, ok := m.Identity(); !ok || id.Family != results.FamilyFIM {
					t.Fatalf("the study's first method is %q, not FIM pruning", m.Name)
				}
				var y float64
				switch {
				case m.Shadow != nil:
					y = m.Shadow.ULiRA.Mean
				case m.ULiRA != nil:
					y = m.ULiRA.Accuracy
				default:
					t.Fatal("the first method has no U-LiRA accuracy")
				}
				discs := d.series("#0072B2", 0)
				if len(discs) == 0 {
					t.Fatal("figure 5: no blue disc")
				}
				checkValues(t, "figure 5, "+m.Name, d, []pt{discs[0].center()}, []pt{{m.TestGap.Mean, y}})
			}
		})
	}
}

// TestNiceTicks: major ticks at 1, 2 or 5 × 10^k, three to six of them,
// labelled with their exact value; bounds and integer steps respected.
func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		ticks  niceTicks
		want   string
	}{
		{0.8275, 0.8352, anyTicks, "0.828 0.830 0.832 0.834"},
		{0.47, 0.63, anyTicks, "0.50 0.55 0.60"},
		{0, 1, niceTicks{lo: 0, hi: 1, n: 6}, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{-12.3, 0.2, anyTicks, "−10 −5 0"},
		{-2.4, 1.1, anyTicks, "−2 −1 0 1"},
		{0, 13.8, anyTicks, "0 5 10"},
		{-0.085, 0.04, anyTicks, "−0.08 −0.04 0.00 0.04"},
		{0.4, 1.3, niceTicks{lo: 0, hi: 1}, "0.4 0.6 0.8 1.0"},
		{0, 2.2, niceTicks{lo: 0, hi: math.Inf(1), integer: true}, "0 1 2"},
		{0, 3.3e7, anyTicks, "0 1e+07 2e+07 3e+07"},
		{1e-6, 4.2e-6, anyTicks, "1e−06 2e−06 3e−06 4e−06"},
	} {
		var got []string
		for _, tk := range tc.ticks.Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("ticks on [%g, %g]: %q, want %q", tc.lo, tc.hi, g, tc.want)
		}
	}
}

// zoomStudy is studyFixtureV3 with one seed of each FIM pruning method
// collapsed (test accuracy 0.35), which puts them far left of the other
// methods, with wide intervals: the Pareto figure adds its enlarged panel.
func zoomStudy() *results.Study {
	st := studyFixtureV3(5)
	for i := range st.Methods[:2] {
		if id, _ := st.Methods[i].Identity(); id.Family != results.FamilyFIM {
			panic("zoomStudy: the fixture's first two methods are not FIM pruning")
		}
		st.Methods[i].TestAccuracy.Values[2] = 0.35
	}
	recomputeStudy(st)
	st.Verdicts = verdict.Compare(st, verdict.Default)
	return st
}

// TestParetoZoom: when most methods crowd near retraining and a few lie far
// off, the Pareto figure enlarges the crowd in a second panel that leaves
// the far ones out, and its markers there read back to their values.
func TestParetoZoom(t *testing.T) {
	st := zoomStudy()
	files := mustRender(t, withStudy(t, st, results.Schema))
	fig := figureNamed(t, files, "fig-5-pareto.svg")
	if len(fig.panels) != 2 {
		t.Fatalf("%d panels, want 2 (all methods, enlarged)", len(fig.panels))
	}
	if got, want := fig.panels[1].series, len(st.Methods)-2; got != want {
		t.Errorf("the enlarged panel draws %d methods, want %d (all but FIM pruning)", got, want)
	}
	if !bytes.Contains(files.Markdown, []byte("(b) enlarges the dotted box of (a), where 9 of the 11 methods crowd")) {
		t.Error("the caption does not explain the enlarged panel")
	}
	d := readSVG(t, fig.SVG)
	if fim := d.series("#0072B2", 0); len(fim) != 1 {
		t.Errorf("FIM pruning drawn %d times, want once (not in the enlarged panel)", len(fim))
	}
	// Fisher-ratio pruning, a sky-blue disc, in both panels.
	m := st.Methods[2]
	discs := d.series("#56B4E9", 0)
	if len(discs) != 2 {
		t.Fatalf("Fisher-ratio pruning drawn %d times, want twice", len(discs))
	}
	for i, s := range discs {
		checkValues(t, fmt.Sprintf("figure 5 panel %d, %s", i+1, m.Name), d, []pt{s.center()}, []pt{{m.TestGap.Mean, m.Shadow.ULiRA.Mean}})
	}
}
