package report

import (
	"fmt"
	"html"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fimprune/fimprune/fimlib/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one figure of the report. WriteDir stores SVG as Name beside
// report.md, which links to it; report.html carries the same SVG inline.
type Figure struct {
	Name    string // file name, e.g. "fig-1-overview.svg"; fixed by this package, never from data
	Title   string // short plain-text title (the Markdown image's alt text)
	Caption string // Markdown caption
	SVG     []byte // a standalone SVG document without an XML declaration

	panels []panel // for tests: what each panel holds
}

// panel is one plot of a figure, with what tests check about it.
type panel struct {
	title  string
	legend []string // key (legend) entries, in order
	series int      // data series drawn (lines, scatters, bar groups, histograms)
}

// Okabe–Ito colours (distinguishable with the common colour-vision
// deficiencies) and greys for the references and controls. Series that
// share a panel differ by marker shape or dash pattern too, so that they
// stay apart in grey print.
var (
	colOrange = color.NRGBA{0xE6, 0x9F, 0x00, 0xFF}
	colSky    = color.NRGBA{0x56, 0xB4, 0xE9, 0xFF}
	colGreen  = color.NRGBA{0x00, 0x9E, 0x73, 0xFF}
	colYellow = color.NRGBA{0xF0, 0xE4, 0x42, 0xFF}
	colBlue   = color.NRGBA{0x00, 0x72, 0xB2, 0xFF}
	colVerm   = color.NRGBA{0xD5, 0x5E, 0x00, 0xFF}
	colPurple = color.NRGBA{0xCC, 0x79, 0xA7, 0xFF} // the identity's colour
	colBlack  = color.NRGBA{0x00, 0x00, 0x00, 0xFF}
	colGrey   = color.NRGBA{0x80, 0x80, 0x80, 0xFF}
	colLight  = color.NRGBA{0xB0, 0xB0, 0xB0, 0xFF}
)

// seriesColors and seriesGlyphs tell apart the models of one figure that
// form a series (the pruned fractions): colour i and glyph i go together,
// the same in every figure. Yellow comes last: it is faint on white.
var (
	seriesColors = []color.Color{colBlue, colOrange, colGreen, colVerm, colSky, colPurple, colYellow}
	seriesGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.RingGlyph{}, draw.PlusGlyph{}}
)

// seriesStyle is the marker of model i of a series. Colours and shapes
// cycle with different periods, so that 42 models stay distinct.
func seriesStyle(i int) draw.GlyphStyle {
	return draw.GlyphStyle{Color: seriesColors[i%len(seriesColors)], Shape: seriesGlyphs[i%len(seriesGlyphs)], Radius: 3.5}
}

// The references' markers, the same in every figure.
var (
	fullStyle    = draw.GlyphStyle{Color: colGrey, Shape: draw.SquareGlyph{}, Radius: 3}
	retrainStyle = draw.GlyphStyle{Color: colBlack, Shape: draw.CrossGlyph{}, Radius: 4}
)

// Plot text uses Liberation Sans: gonum measures text with its metrics, and
// the SVG names it with metric-compatible fallbacks (Arial, Helvetica), so
// labels fit without embedding the font (which would add ~300 kB per figure).
const (
	svgFontFamily = "Liberation Sans"
	cssFontFamily = "'Liberation Sans',Arial,Helvetica,sans-serif"
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with the report's fonts and sizes.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	set := func(f *font.Font, size vg.Length) {
		*f = sans
		f.Size = size
	}
	p.Title.Text = title
	set(&p.Title.TextStyle.Font, 10)
	p.Title.Padding = 4
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Tick.Marker = anyTicks
		set(&ax.Label.TextStyle.Font, 9)
		set(&ax.Tick.Label.Font, 8)
		ax.Label.Padding = 2
	}
	set(&p.Legend.TextStyle.Font, 8) // the key's (layout.go draws it)
	return p
}

// yRange sets the y range to [lo, hi] with 8 % padding.
func yRange(p *plot.Plot, lo, hi float64) {
	if hi-lo <= 0 || math.IsNaN(hi-lo) {
		lo, hi = lo-0.5, hi+0.5
	}
	pad := (hi - lo) * 0.08
	p.Y.Min = lo - pad
	p.Y.Max = hi + pad
}

// fractionTicks puts one x tick at each pruned fraction.
func fractionTicks(p *plot.Plot, fr []float64) {
	ticks := make(plot.ConstantTicks, len(fr))
	for i, f := range fr {
		ticks[i] = plot.Tick{Value: f, Label: frac(f)}
	}
	p.X.Tick.Marker = ticks
	if len(fr) > 0 {
		lo, hi := fr[0], fr[len(fr)-1]
		pad := max((hi-lo)*0.12, 0.02)
		p.X.Min, p.X.Max = lo-pad, hi+pad
	}
}

// hline is a horizontal reference line across the plot's x range.
func hline(p *plot.Plot, y float64, c color.Color, dashes ...vg.Length) *plotter.Line {
	l, _ := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: y}, {X: p.X.Max, Y: y}})
	l.Color = c
	l.Width = 1
	l.Dashes = dashes
	return l
}

// linePoints draws xs/ys as a line with round markers.
func linePoints(xs, ys []float64, c color.Color) (*plotter.Line, *plotter.Scatter) {
	xy := make(plotter.XYs, len(xs))
	for i := range xs {
		xy[i] = plotter.XY{X: xs[i], Y: ys[i]}
	}
	l, s, _ := plotter.NewLinePoints(xy)
	l.Color, l.Width = c, 1.5
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: 2.5, Shape: draw.CircleGlyph{}}
	return l, s
}

// errorBars draws vertical bars ±half[i] around (xs[i], ys[i]), cut at lo
// and hi (the range the quantity can take).
func errorBars(xs, ys, half []float64, lo, hi float64, c color.Color) *plotter.YErrorBars {
	type xye struct {
		plotter.XYs
		plotter.YErrors
	}
	d := xye{make(plotter.XYs, len(xs)), make(plotter.YErrors, len(xs))}
	for i := range xs {
		d.XYs[i] = plotter.XY{X: xs[i], Y: ys[i]}
		d.YErrors[i] = struct{ Low, High float64 }{min(half[i], ys[i]-lo), min(half[i], hi-ys[i])}
	}
	e, _ := plotter.NewYErrorBars(d)
	e.Color, e.Width, e.CapWidth = c, 0.8, 4
	return e
}

// nonFinite reports whether any value is NaN or ±Inf (gonum/plot refuses them).
func nonFinite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

// figures builds every figure of the report.
func (a *analysis) figures() ([]Figure, error) {
	var out []Figure
	for _, build := range []func() (Figure, error){a.overviewFigure, a.tradeoffFigure, a.fisherFigure, a.rocFigure, a.paretoFigure} {
		f, err := build()
		if err != nil {
			return nil, err
		}
		if f.Name != "" {
			out = append(out, f)
		}
	}
	return out, nil
}

// overviewFigure is the seed's 2×2 panel.
func (a *analysis) overviewFigure() (Figure, error) {
	r := a.res
	pr := r.Models.Pruned
	if len(pr) == 0 {
		return Figure{}, nil
	}
	fr := make([]float64, len(pr))
	acc, accCI, mia, miaCI, gap, gapCI := make([]float64, len(pr)), make([]float64, len(pr)), make([]float64, len(pr)), make([]float64, len(pr)), make([]float64, len(pr)), make([]float64, len(pr))
	accR := r.Models.Retrain.TestAccuracy
	for i, p := range pr {
		fr[i] = p.Fraction
		acc[i] = p.TestAccuracy
		accCI[i] = 1.96 * accSE(p.TestAccuracy, a.testRows)
		mia[i] = p.MIA.BestThresholdAccuracy
		miaCI[i] = 1.96 * a.seAttack
		gap[i] = 100 * (p.TestAccuracy - accR)
		gapCI[i] = 100 * 1.96 * gapSE(p.TestAccuracy, accR, a.testRows)
	}
	if nonFinite(append(append(append(append([]float64{}, acc...), accCI...), mia...), miaCI...)...) || nonFinite(gapCI...) {
		return Figure{}, fmt.Errorf("report: non-finite accuracy or attack value; cannot plot")
	}
	var panels []panel

	// (a) test accuracy.
	pa := newPlot("(a) Test accuracy", "pruned fraction f", "test accuracy (fraction)")
	fractionTicks(pa, fr)
	lo := min(minOf(acc, accCI, -1), accR, r.Models.Full.TestAccuracy)
	hi := max(maxOf(acc, accCI, 1), accR, r.Models.Full.TestAccuracy)
	yRange(pa, max(lo, 0), min(hi, 1))
	pa.Y.Tick.Marker = niceTicks{lo: 0, hi: 1}
	l, s := linePoints(fr, acc, colBlue)
	retrain := hline(pa, accR, colBlack, 4, 2)
	full := hline(pa, r.Models.Full.TestAccuracy, colGrey, 1, 2)
	pa.Add(plotter.NewGrid(), retrain, full, errorBars(fr, acc, accCI, 0, 1, colBlue), l, s)
	sa := &panelSpec{pa, []keyEntry{pointsEntry("pruned + fine-tuned (95 % CI)", l, s), lineEntry("retrain", retrain), lineEntry("full", full)}}
	panels = append(panels, panel{pa.Title.Text, sa.names(), 3})

	// (b) attack accuracy.
	pb := newPlot("(b) MIA best-threshold accuracy", "pruned fraction f", "attack accuracy (fraction)")
	fractionTicks(pb, fr)
	miaR := r.Models.Retrain.MIA.BestThresholdAccuracy
	lo = min(minOf(mia, miaCI, -1), miaR, 0.5)
	hi = max(maxOf(mia, miaCI, 1), miaR, 0.5)
	if !math.IsNaN(a.nullAttack) {
		hi = max(hi, a.nullAttack)
	}
	yRange(pb, max(lo, 0), min(hi, 1))
	pb.Y.Tick.Marker = niceTicks{lo: 0, hi: 1}
	l, s = linePoints(fr, mia, colVerm)
	retrain = hline(pb, miaR, colBlack, 4, 2)
	chanceLine := hline(pb, 0.5, colGrey, 1, 2)
	pb.Add(plotter.NewGrid(), chanceLine, retrain)
	sb := &panelSpec{pb, []keyEntry{pointsEntry("pruned + fine-tuned (±1.96 SE)", l, s), lineEntry("retrain", retrain), lineEntry("chance (0.5)", chanceLine)}}
	if !math.IsNaN(a.nullAttack) {
		null := hline(pb, a.nullAttack, colGreen, 6, 2, 1, 2)
		pb.Add(null)
		sb.key = append(sb.key, lineEntry("expected with no signal", null))
	}
	pb.Add(errorBars(fr, mia, miaCI, 0, 1, colVerm), l, s)
	panels = append(panels, panel{pb.Title.Text, sb.names(), len(sb.key)})

	// (c) utility gap.
	pc := newPlot("(c) Accuracy gap to retrain", "pruned fraction f", "accuracy − retrain (points)")
	fractionTicks(pc, fr)
	yRange(pc, min(minOf(gap, gapCI, -1), 0), max(maxOf(gap, gapCI, 1), 0))
	l, s = linePoints(fr, gap, colBlue)
	zero := hline(pc, 0, colBlack, 4, 2)
	pc.Add(plotter.NewGrid(), zero, errorBars(fr, gap, gapCI, math.Inf(-1), math.Inf(1), colBlue), l, s)
	sc := &panelSpec{pc, []keyEntry{pointsEntry("pruned − retrain (95 % CI)", l, s), lineEntry("retrain (0)", zero)}}
	panels = append(panels, panel{pc.Title.Text, sc.names(), 2})

	// (d) time per model.
	title := "(d) Time per model"
	if r.Config.Parallel > 1 {
		title += fmt.Sprintf(" (%d trained at once)", r.Config.Parallel)
	}
	pd := newPlot(title, "model (pruned: the whole deletion)", "wall time (s)")
	names := []string{"full", "retrain"}
	vals := []float64{r.Models.Full.TrainSeconds, r.Models.Retrain.TrainSeconds}
	cols := []color.Color{colLight, colGrey}
	for _, p := range pr {
		names = append(names, frac(p.Fraction))
		vals = append(vals, p.DeletionSeconds)
		cols = append(cols, colBlue)
	}
	if nonFinite(vals...) {
		return Figure{}, fmt.Errorf("report: non-finite time; cannot plot")
	}
	pd.Add(plotter.NewGrid())
	for i, v := range vals {
		b, err := plotter.NewBarChart(plotter.Values{v}, 14)
		if err != nil {
			return Figure{}, fmt.Errorf("report: %w", err)
		}
		b.XMin, b.Color, b.LineStyle.Width = float64(i), cols[i], 0
		pd.Add(b)
	}
	pd.NominalX(names...)
	pd.Y.Min = 0
	pd.Y.Max = maxOf(vals, nil, 1) * 1.1
	if pd.Y.Max <= 0 {
		pd.Y.Max = 1
	}
	pd.X.Min, pd.X.Max = -0.6, float64(len(vals))-0.4
	rl := hline(pd, r.Models.Retrain.TrainSeconds, colBlack, 4, 2)
	pd.Add(rl)
	sd := &panelSpec{pd, []keyEntry{lineEntry("retrain time", rl)}}
	panels = append(panels, panel{title, sd.names(), len(vals) + 1})

	svg, err := figureSpec{
		label: "Figure 1: accuracy, attack accuracy, accuracy gap and time per model",
		dataH: 1.85 * vg.Inch,
		grid:  [][]*panelSpec{{sa, sb}, {sc, sd}},
	}.render()
	if err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("The seed's overview. (a) Test accuracy of each pruned and fine-tuned model, with binomial 95 %% intervals on %s test rows, against the retrained (dashed) and full (dotted) models. "+
		"(b) The seed's membership-inference accuracy (loss score, threshold chosen on the same %d + %d rows), ±1.96 standard errors, with the retrained model, chance and the value expected when members and non-members are indistinguishable. "+
		"(c) Accuracy minus the retrained model's, in percentage points. (d) Wall time per model: training for full and retrain, the whole deletion for each pruned fraction.",
		count(a.testRows), a.members, a.nonMembers)
	return Figure{Name: "fig-1-overview.svg", Title: "Accuracy, attack accuracy, accuracy gap and time by pruned fraction", Caption: caption, SVG: svg, panels: panels}, nil
}

// tradeoffFigure is the seed's trade-off panel: combined score with the best
// fraction marked, and test accuracy against attack accuracy.
func (a *analysis) tradeoffFigure() (Figure, error) {
	r := a.res
	pr := r.Models.Pruned
	if len(pr) == 0 {
		return Figure{}, nil
	}
	fr, comb := make([]float64, len(pr)), make([]float64, len(pr))
	for i, p := range pr {
		fr[i], comb[i] = p.Fraction, p.CombinedScore
	}
	if nonFinite(comb...) {
		return Figure{}, fmt.Errorf("report: non-finite combined score; cannot plot")
	}
	var panels []panel
	w := r.Config.Selection
	pa := newPlot("(a) Combined score", "pruned fraction f", "combined score")
	fractionTicks(pa, fr)
	yRange(pa, minOf(comb, nil, 1), maxOf(comb, nil, 1))
	l, s := linePoints(fr, comb, colBlue)
	pa.Add(plotter.NewGrid(), l, s)
	sa := &panelSpec{pa, []keyEntry{pointsEntry(fmt.Sprintf("%s·utility + %s·privacy", trimNum(w.UtilityWeight), trimNum(w.PrivacyWeight)), l, s)}}
	if b := a.best(); b != nil {
		bs, _ := plotter.NewScatter(plotter.XYs{{X: b.Fraction, Y: b.CombinedScore}})
		bs.GlyphStyle = draw.GlyphStyle{Color: colVerm, Radius: 6, Shape: draw.RingGlyph{}}
		pa.Add(bs)
		sa.key = append(sa.key, pointsEntry("best (f = "+frac(b.Fraction)+")", nil, bs))
	}
	panels = append(panels, panel{pa.Title.Text, sa.names(), len(sa.key)})

	pb := newPlot("(b) Accuracy vs attack", "MIA best-threshold accuracy (fraction)", "test accuracy (fraction)")
	var xs, ys []float64
	type pt struct {
		name  string
		x, y  float64
		style draw.GlyphStyle
	}
	pts := []pt{
		{"full", r.Models.Full.MIA.BestThresholdAccuracy, r.Models.Full.TestAccuracy, fullStyle},
		{"retrain", r.Models.Retrain.MIA.BestThresholdAccuracy, r.Models.Retrain.TestAccuracy, retrainStyle},
	}
	for i, p := range pr {
		pts = append(pts, pt{"f = " + frac(p.Fraction), p.MIA.BestThresholdAccuracy, p.TestAccuracy, seriesStyle(i)})
	}
	for _, p := range pts {
		if nonFinite(p.x, p.y) {
			return Figure{}, fmt.Errorf("report: non-finite accuracy; cannot plot")
		}
		xs, ys = append(xs, p.x), append(ys, p.y)
	}
	pb.Add(plotter.NewGrid())
	sb := &panelSpec{p: pb}
	for _, p := range pts {
		sc, _ := plotter.NewScatter(plotter.XYs{{X: p.x, Y: p.y}})
		sc.GlyphStyle = p.style
		pb.Add(sc)
		sb.key = append(sb.key, pointsEntry(p.name, nil, sc))
	}
	xlo, xhi := minOf(xs, nil, 1), maxOf(xs, nil, 1)
	xpad := max((xhi-xlo)*0.15, 0.01)
	pb.X.Min, pb.X.Max = xlo-xpad, xhi+xpad
	yRange(pb, minOf(ys, nil, 1), maxOf(ys, nil, 1))
	panels = append(panels, panel{pb.Title.Text, sb.names(), len(pts)})

	svg, err := figureSpec{
		label: "Figure 2: combined score and accuracy against attack accuracy",
		dataH: 2 * vg.Inch,
		grid:  [][]*panelSpec{{sa, sb}},
	}.render()
	if err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("The seed's trade-off. (a) Combined score = %s · utility + %s · privacy for each pruned fraction; the ring marks the maximum, the seed's choice. "+
		"(b) Test accuracy against the seed's attack accuracy; each model has its own colour and marker shape, named in the key. "+
		"Attack accuracies differing by less than about %s (2 SE) are not distinguishable.",
		trimNum(w.UtilityWeight), trimNum(w.PrivacyWeight), fixed(2*a.seAttack, 3))
	return Figure{Name: "fig-2-tradeoff.svg", Title: "Combined score and accuracy against attack accuracy", Caption: caption, SVG: svg, panels: panels}, nil
}

// fisherFigure shows, per parameter tensor, the histogram of log10 of its
// non-zero Fisher scores, with the pruning threshold of the best fraction.
func (a *analysis) fisherFigure() (Figure, error) {
	ts := a.res.Fisher.Tensors
	if len(ts) == 0 {
		return Figure{}, nil
	}
	// Shared x range: the non-empty bins of all tensors.
	lo, hi := math.Inf(1), math.Inf(-1)
	ymax := 0
	for _, t := range ts {
		// A tensor with no positive score has no histogram (null bins and
		// counts); it is drawn as an empty panel.
		if len(t.Counts) > 0 && len(t.Log10Bins) != len(t.Counts)+1 {
			return Figure{}, fmt.Errorf("report: Fisher tensor %q: %d bin edges for %d counts", t.Name, len(t.Log10Bins), len(t.Counts))
		}
		for i, c := range t.Counts {
			if c > 0 {
				lo, hi = min(lo, t.Log10Bins[i]), max(hi, t.Log10Bins[i+1])
			}
			ymax = max(ymax, c)
		}
	}
	threshold := math.NaN()
	if b := a.best(); b != nil && b.SeedRuleThreshold > 0 {
		threshold = math.Log10(b.SeedRuleThreshold)
	}
	if math.IsInf(lo, 0) { // no non-zero score at all
		lo, hi = -1, 0
	}
	if !math.IsNaN(threshold) {
		lo, hi = min(lo, threshold-0.5), max(hi, threshold+0.5)
	}
	cols := min(3, len(ts))
	rows := (len(ts) + cols - 1) / cols
	grid := make([][]*panelSpec, rows)
	var panels []panel
	for i, t := range ts {
		row, col := i/cols, i%cols
		xl, yl := "", ""
		if row == rows-1 || i+cols >= len(ts) {
			xl = "log10 Fisher score"
		}
		if col == 0 {
			yl = "parameters"
		}
		title := t.Name + shape(t.Shape)
		p := newPlot(title, xl, yl)
		h := &plotter.Histogram{FillColor: colBlue}
		h.LineStyle.Width = 0
		tmax := 0
		for j, c := range t.Counts {
			tmax = max(tmax, c)
			if c > 0 {
				h.Bins = append(h.Bins, plotter.HistogramBin{Min: t.Log10Bins[j], Max: t.Log10Bins[j+1], Weight: float64(c)})
			}
		}
		p.Add(plotter.NewGrid())
		p.X.Min, p.X.Max = lo-0.25, hi+0.25
		if len(h.Bins) > 0 {
			p.Add(h)
		} else {
			// A note in the empty data area, on the side away from the
			// threshold line.
			// Left-aligned either way: a viewer's fallback font may be
			// wider than gonum measured.
			x := p.X.Min + 0.03*(p.X.Max-p.X.Min)
			if !math.IsNaN(threshold) && threshold < (p.X.Min+p.X.Max)/2 {
				x = p.X.Min + 0.55*(p.X.Max-p.X.Min)
			}
			note, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: 0.5}}, Labels: []string{"no score > 0"}})
			if err != nil {
				return Figure{}, fmt.Errorf("report: %w", err)
			}
			note.TextStyle[0] = p.Legend.TextStyle
			note.TextStyle[0].XAlign, note.TextStyle[0].YAlign = draw.XLeft, draw.YCenter
			p.Add(note)
		}
		p.Y.Tick.Marker = niceTicks{lo: 0, hi: math.Inf(1), integer: true}
		p.Y.Min, p.Y.Max = 0, float64(max(tmax, 1))*1.1
		if !math.IsNaN(threshold) {
			v, _ := plotter.NewLine(plotter.XYs{{X: threshold, Y: 0}, {X: threshold, Y: p.Y.Max}})
			v.Color, v.Width, v.Dashes = colVerm, 1, []vg.Length{4, 2}
			p.Add(v)
		}
		grid[row] = append(grid[row], &panelSpec{p: p})
		panels = append(panels, panel{title: p.Title.Text, series: 1})
	}
	for len(grid[rows-1]) < cols {
		grid[rows-1] = append(grid[rows-1], nil)
	}
	svg, err := figureSpec{
		label: "Figure 3: histograms of log10 Fisher scores per parameter tensor",
		dataH: 1.1 * vg.Inch,
		grid:  grid,
	}.render()
	if err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("%s Fisher scores over the %d deletion rows, per parameter tensor: histogram of log10 of the non-zero scores (zeros, %s in all, cannot be shown on a log scale).",
		upperFirst(text(a.res.Fisher.Kind)), a.res.Fisher.Rows, count(a.res.Fisher.Summary.Zeros))
	if b := a.best(); b != nil && !math.IsNaN(threshold) {
		caption += fmt.Sprintf(" Dashed line: the seed's percentile threshold at the best fraction f = %s (%s); scores above it are pruned. Each panel has its own count scale.", frac(b.Fraction), sci(b.SeedRuleThreshold))
	}
	return Figure{Name: "fig-3-fisher.svg", Title: "Histograms of log10 Fisher scores per parameter tensor", Caption: caption, SVG: svg, panels: panels}, nil
}

// rocFigure draws the loss attack's ROC curves of the full, retrained and
// pruned models, when the results carry them (results.MIA.ROC), against the
// diagonal of an attack without signal.
func (a *analysis) rocFigure() (Figure, error) {
	r := a.res
	type curve struct {
		name   string
		roc    *results.ROC
		glyph  draw.GlyphStyle
		dashes []vg.Length
	}
	curves := []curve{
		{"full", r.Models.Full.MIA.ROC, fullStyle, nil},
		{"retrain", r.Models.Retrain.MIA.ROC, retrainStyle, []vg.Length{4, 2}},
	}
	for i, p := range r.Models.Pruned {
		curves = append(curves, curve{"pruned f = " + frac(p.Fraction), p.MIA.ROC, seriesStyle(i), nil})
	}
	for _, c := range curves {
		if c.roc == nil || len(c.roc.FPR) < 2 || len(c.roc.FPR) != len(c.roc.TPR) {
			return Figure{}, nil // not carried (or not by every model): no figure
		}
	}
	p := newPlot("ROC of the loss attack", "false-positive rate (non-members called members)", "true-positive rate (members found)")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.X.Tick.Marker = niceTicks{lo: 0, hi: 1, n: 6}
	p.Y.Tick.Marker = niceTicks{lo: 0, hi: 1, n: 6}
	diag, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	diag.Color, diag.Width, diag.Dashes = colLight, 1, []vg.Length{1, 2}
	p.Add(plotter.NewGrid(), diag)
	spec := &panelSpec{p: p}
	for k, c := range curves {
		xy := make(plotter.XYs, len(c.roc.FPR))
		for i := range xy {
			xy[i] = plotter.XY{X: c.roc.FPR[i], Y: c.roc.TPR[i]}
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return Figure{}, fmt.Errorf("report: ROC of %s: %w", c.name, err)
		}
		l.Color, l.Width, l.Dashes = c.glyph.Color, 1.2, c.dashes
		// Markers at a few false-positive rates, staggered from curve to
		// curve, tell the curves apart where they run together.
		marks, err := plotter.NewScatter(rocMarks(xy, k, len(curves)))
		if err != nil {
			return Figure{}, fmt.Errorf("report: ROC of %s: %w", c.name, err)
		}
		marks.GlyphStyle = c.glyph
		p.Add(l, marks)
		spec.key = append(spec.key, pointsEntry(c.name, l, marks))
	}
	spec.key = append(spec.key, lineEntry("no signal (AUC 0.5)", diag))
	svg, err := figureSpec{
		label:    "Figure 4: ROC curves of the loss attack",
		dataH:    3.3 * vg.Inch,
		grid:     [][]*panelSpec{{spec}},
		keyRight: true,
	}.render()
	if err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("ROC curves of the seed's loss-score attack (section 2): %d deletion rows as members against %d test rows as non-members; "+
		"each step is one distinct score; the markers only tell the curves apart. A curve on the dotted diagonal means no signal; below it, the members look less like members than the non-members do. "+
		"With this few rows a curve's wiggles are noise: compare the AUC intervals in section 2.", a.members, a.nonMembers)
	return Figure{Name: "fig-4-roc.svg", Title: "ROC curves of the loss attack", Caption: caption, SVG: svg, panels: []panel{{"ROC of the loss attack", spec.names(), len(curves) + 1}}}, nil
}

// rocMarks returns points of curve k (of n) at the false-positive rates
// (j + (k+1)/(n+1))/5, j = 0…4, on the segments as drawn (interpolated
// linearly), so that the curves' markers do not sit on one another.
func rocMarks(xy plotter.XYs, k, n int) plotter.XYs {
	var out plotter.XYs
	i := 0
	for j := range 5 {
		target := (float64(j) + float64(k+1)/float64(n+1)) / 5
		for i < len(xy)-1 && xy[i].X < target {
			i++
		}
		pt := xy[i]
		if i > 0 && xy[i-1].X < target && target < xy[i].X {
			a, b := xy[i-1], xy[i]
			pt = plotter.XY{X: target, Y: a.Y + (b.Y-a.Y)*(target-a.X)/(b.X-a.X)}
		}
		out = append(out, pt)
	}
	return out
}

// maxLegendMethods is the most methods the Pareto figure names one by one
// in its key; a larger study gets one key entry per family.
const maxLegendMethods = 24

// familyNames are the key entries of a large study's figure (fixed
// text, never data).
var familyNames = map[results.Family]string{
	results.FamilyFIM:       "FIM pruning",
	results.FamilyRatio:     "Fisher-ratio pruning",
	results.FamilySSD:       "SSD",
	results.FamilyFineTune:  "fine-tuning",
	results.FamilyNegGrad:   "NegGrad+",
	results.FamilyRandom:    "random pruning",
	results.FamilyMagnitude: "magnitude pruning",
	results.FamilyRetrain:   "retraining",
	results.FamilyIdentity:  "no deletion (identity)",
}

// styleGroup is the key entry of a method in a large study's figure.
func styleGroup(mv *methodView) string {
	switch {
	case !mv.known:
		return "other"
	case mv.role == results.RoleNull:
		return "retraining, other seeds (null)"
	}
	if n, ok := familyNames[mv.id.Family]; ok {
		return n
	}
	return "other"
}

// variantGlyphs tell apart the methods of one family (FIM pruning with the
// seed's and the fast recipe): the first keeps the family's glyph.
var variantGlyphs = []draw.GlyphDrawer{draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PyramidGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.CircleGlyph{}, draw.CrossGlyph{}}

// methodStyle is the colour and glyph of a method in the figure: the
// colour by family, the glyph by family and variant (its rank among the
// family's methods); retraining, the second retrain and the identity each
// have their own.
func methodStyle(mv *methodView, variant int) (color.Color, draw.GlyphDrawer) {
	switch {
	case !mv.known:
		return colLight, draw.RingGlyph{}
	case mv.role == results.RoleReference:
		return colBlack, draw.CrossGlyph{}
	case mv.role == results.RoleNull:
		return colBlack, draw.RingGlyph{}
	case mv.role == results.RoleUpper:
		return colPurple, draw.SquareGlyph{}
	}
	var c color.Color
	var g draw.GlyphDrawer
	switch mv.id.Family {
	case results.FamilyFIM:
		c, g = colBlue, draw.CircleGlyph{}
	case results.FamilyRatio:
		c, g = colSky, draw.CircleGlyph{}
	case results.FamilySSD:
		c, g = colGreen, draw.TriangleGlyph{}
	case results.FamilyFineTune:
		c, g = colOrange, draw.SquareGlyph{}
	case results.FamilyNegGrad:
		c, g = colVerm, draw.PyramidGlyph{}
	case results.FamilyRandom:
		c, g = colGrey, draw.PyramidGlyph{}
	case results.FamilyMagnitude:
		c, g = colGrey, draw.BoxGlyph{}
	default:
		c, g = colLight, draw.RingGlyph{}
	}
	if variant > 0 {
		g = variantGlyphs[(variant-1)%len(variantGlyphs)]
	}
	return c, g
}

// paretoFigure draws, for a study (results.Study), each method's utility
// cost against a forgetting measure: x = the mean test gap to the retrained
// model, y = U-LiRA accuracy (when every method but retraining has it: in
// v3 the mean over seeds of the per-seed estimate, in v2 the shared
// shadow-model estimate) or offline-LiRA AUC, each with the interval the
// file holds. One marker per method, named in a key above the plot (point
// labels overlapped); retraining, the second retrain and the identity have
// markers of their own. When most methods crowd near retraining and a few
// lie far off, a second panel enlarges the crowd.
func (a *analysis) paretoFigure() (Figure, error) {
	s := a.res.Study
	if s == nil || len(s.Methods) == 0 {
		return Figure{}, nil
	}
	v := newStudyView(s, a.res.Schema)
	type point struct {
		x, xlo, xhi float64 // xlo, xhi: distances to the bar's ends (≥ 0)
		y, ylo, yhi float64
		mv          *methodView
	}
	var pts []point
	yRef := math.NaN() // the retrained model's y, or 0.5 for U-LiRA without it
	for i := range v.methods {
		mv := &v.methods[i]
		g := mv.m.TestGap
		p := point{x: g.Mean, xlo: max(0, g.Mean-g.CI95[0]), xhi: max(0, g.CI95[1]-g.Mean), mv: mv}
		switch y, lo, hi, ok := mv.uliraPoint(); {
		case v.ulira && ok:
			p.y, p.ylo, p.yhi = y, max(0, y-lo), max(0, hi-y)
		case v.ulira: // retraining without U-LiRA: a perfect unlearner's 0.5
			p.y = 0.5
		default:
			e := mv.m.LiRAOfflineAUC
			p.y, p.ylo, p.yhi = e.Mean, max(0, e.Mean-e.CI95[0]), max(0, e.CI95[1]-e.Mean)
		}
		if mv == v.ref {
			yRef = p.y
		}
		if nonFinite(p.x, p.xlo, p.xhi, p.y, p.ylo, p.yhi) {
			return Figure{}, fmt.Errorf("report: non-finite study value for %q; cannot plot", mv.m.Name)
		}
		pts = append(pts, p)
	}
	if v.ulira && math.IsNaN(yRef) {
		yRef = 0.5
	}
	yAxis := "offline-LiRA AUC"
	if v.ulira {
		yAxis = "U-LiRA accuracy"
	}
	xlo, xhi, ylo, yhi := 0.0, 0.0, math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		xlo, xhi = min(xlo, q.x-q.xlo), max(xhi, q.x+q.xhi)
		ylo, yhi = min(ylo, q.y-q.ylo), max(yhi, q.y+q.yhi)
	}
	if !math.IsNaN(yRef) {
		ylo, yhi = min(ylo, yRef), max(yhi, yRef)
	}

	// Where most methods crowd around retraining and a few lie far off, a
	// second panel enlarges the crowd: the methods whose x is within six
	// median absolute deviations of the median, when their extent is under
	// a quarter of the whole.
	xs := make([]float64, len(pts))
	for i, q := range pts {
		xs[i] = q.x
	}
	med := median(xs)
	for i := range xs {
		xs[i] = math.Abs(xs[i] - med)
	}
	mad := median(xs)
	inZoom := make([]bool, len(pts))
	zxlo, zxhi, zylo, zyhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	nIn := 0
	for i, q := range pts {
		if math.Abs(q.x-med) <= 6*mad {
			inZoom[i] = true
			nIn++
			zxlo, zxhi = min(zxlo, q.x-q.xlo), max(zxhi, q.x+q.xhi)
			zylo, zyhi = min(zylo, q.y-q.ylo), max(zyhi, q.y+q.yhi)
		}
	}
	if !math.IsNaN(yRef) {
		zylo, zyhi = min(zylo, yRef), max(zyhi, yRef)
	}
	zoom := nIn >= 2 && nIn < len(pts) && zxhi-zxlo > 0 && zxhi-zxlo < (xhi-xlo)/4

	title := "Utility cost against forgetting"
	if zoom {
		title = "(a) All methods"
	}
	p := newPlot(title, "test accuracy − retrain (fraction)", yAxis)
	if xhi-xlo <= 0 {
		xlo, xhi = xlo-0.005, xhi+0.005
	}
	xpad := (xhi - xlo) * 0.08
	p.X.Min, p.X.Max = xlo-xpad, xhi+xpad
	yRange(p, ylo, yhi)
	p.Add(plotter.NewGrid())
	var pz *plot.Plot
	if zoom {
		pz = newPlot("(b) Near retraining, enlarged", "test accuracy − retrain (fraction)", yAxis)
		xpad := (zxhi - zxlo) * 0.08
		pz.X.Min, pz.X.Max = zxlo-xpad, zxhi+xpad
		yRange(pz, zylo, zyhi)
		pz.Add(plotter.NewGrid())
		box, err := plotter.NewLine(plotter.XYs{{X: pz.X.Min, Y: pz.Y.Min}, {X: pz.X.Max, Y: pz.Y.Min}, {X: pz.X.Max, Y: pz.Y.Max}, {X: pz.X.Min, Y: pz.Y.Max}, {X: pz.X.Min, Y: pz.Y.Min}})
		if err != nil {
			return Figure{}, fmt.Errorf("report: %w", err)
		}
		box.Color, box.Width, box.Dashes = colGrey, 0.8, []vg.Length{1, 2}
		p.Add(box)
	}

	var key []keyEntry
	series := 0
	if !math.IsNaN(yRef) {
		ref := hline(p, yRef, colBlack, 4, 2)
		p.Add(ref)
		if pz != nil {
			pz.Add(hline(pz, yRef, colBlack, 4, 2))
		}
		name := "retraining's value"
		if v.ulira && (v.ref == nil || !hasULiRA(v.ref)) {
			name = "perfect unlearner (0.5)"
		}
		key = append(key, lineEntry(name, ref))
		series++
	}
	perMethod := len(pts) <= maxLegendMethods
	variants := map[results.Family]int{}
	grouped := map[string]bool{}
	for i, q := range pts {
		variant := 0
		if q.mv.known && q.mv.role == results.RoleMethod {
			variant = variants[q.mv.id.Family]
			variants[q.mv.id.Family]++
		}
		if !perMethod {
			variant = 0
		}
		col, glyph := methodStyle(q.mv, variant)
		xy := plotter.XYs{{X: q.x, Y: q.y}}
		var sc *plotter.Scatter
		for _, pl := range []*plot.Plot{p, pz} {
			if pl == nil || (pl == pz && !inZoom[i]) {
				continue
			}
			xb, err := plotter.NewXErrorBars(struct {
				plotter.XYs
				plotter.XErrors
			}{xy, plotter.XErrors{{Low: q.xlo, High: q.xhi}}})
			if err != nil {
				return Figure{}, fmt.Errorf("report: %w", err)
			}
			yb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{xy, plotter.YErrors{{Low: q.ylo, High: q.yhi}}})
			if err != nil {
				return Figure{}, fmt.Errorf("report: %w", err)
			}
			xb.Color, xb.Width, xb.CapWidth = col, 0.7, 3
			yb.Color, yb.Width, yb.CapWidth = col, 0.7, 3
			m, err := plotter.NewScatter(xy)
			if err != nil {
				return Figure{}, fmt.Errorf("report: %w", err)
			}
			m.GlyphStyle = draw.GlyphStyle{Color: col, Radius: 3.2, Shape: glyph}
			pl.Add(xb, yb, m)
			if sc == nil {
				sc = m
			}
		}
		name := q.mv.plain()
		if !perMethod {
			name = styleGroup(q.mv)
			if grouped[name] {
				continue
			}
			grouped[name] = true
		}
		key = append(key, pointsEntry(name, nil, sc))
		series++
	}
	// One panel: the key under its title; two: one key above both.
	spec := figureSpec{
		label: "Figure 5: utility cost against forgetting for each deletion method",
		dataH: 3.2 * vg.Inch,
		grid:  [][]*panelSpec{{{p: p, key: key}}},
	}
	panels := []panel{{title, keyNames(key), series}}
	if pz != nil {
		spec.dataH = 2.6 * vg.Inch
		spec.grid = [][]*panelSpec{{{p: p}, {p: pz}}}
		spec.key = key
		panels = append(panels, panel{title: pz.Title.Text, series: nIn})
	}
	svg, err := spec.render()
	if err != nil {
		return Figure{}, err
	}
	caption := fmt.Sprintf("Each marker is one deletion method of the study (section 8): the mean over the %d seeds, with bars for the 95 %% intervals the results file holds. x: test accuracy minus the retrained model's of the same seed, the utility the deletion cost (0 is none; bar: t interval over the seeds). ", v.seeds)
	switch {
	case v.ulira && v.v3:
		caption += "y: U-LiRA accuracy per seed, 0.5 for a perfect unlearner (bar: t interval over the seeds). "
	case v.ulira:
		caption += "y: U-LiRA accuracy from shadow models shared by all seeds, 0.5 for a perfect unlearner (bar: bootstrap interval over the forget examples). "
	default:
		caption += "y: offline-LiRA AUC against the method's model (bar: t interval over the seeds). "
	}
	if v.ref != nil {
		caption += "Retraining, the gold standard (black cross), marks the point a method that forgot should reach; the dashed line is its y. "
	} else if v.ulira {
		caption += "The dashed line is a perfect unlearner's U-LiRA accuracy, 0.5; the study has no retrained model. "
	}
	if v.null != nil {
		caption += "The second retrain (black ring) shows how far an independent retrain lands from it: the noise floor. "
	}
	if v.upper != nil {
		caption += "The identity (purple square) is the full model without any deletion: the upper reference. "
	}
	if zoom {
		caption += fmt.Sprintf("(b) enlarges the dotted box of (a), where %d of the %d methods crowd near retraining; it leaves the others out. ", nIn, len(pts))
	}
	if perMethod {
		caption += "Colours group the families, marker shapes tell their methods apart; the key names each method."
	} else {
		caption += "With this many methods the key names the families only; the tables give each method."
	}
	if !v.ulira && s.Shadows > 0 {
		caption += " U-LiRA is not drawn because not every method has it."
	}
	return Figure{Name: "fig-5-pareto.svg", Title: "Utility cost against forgetting for each deletion method", Caption: caption, SVG: svg, panels: panels}, nil
}

// hasULiRA reports whether the method has a U-LiRA estimate.
func hasULiRA(mv *methodView) bool {
	_, _, _, ok := mv.uliraPoint()
	return ok
}

// figureLabel is a method name as figure text: on one line, at most 32
// characters, without characters XML cannot hold (gonum escapes the rest).
func figureLabel(name string) string { return figureText(name, 32) }

// figureText is s as figure text of at most n characters (see figureLabel).
func figureText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == 0xFFFE || r == 0xFFFF {
			return ' '
		}
		return r
	}, flatten(s))
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}

// niceTicks put major ticks at multiples of a round step (1, 2, 4 or 5 ×
// 10^k), each labelled exactly (with as many decimals as the step needs, so
// that no label is a rounded value), with unlabelled minor ticks between.
// The step gives at least three labels (two if it must) and as near n as
// it can (4 when n is 0), preferring 1, 2 and 5 to 4 and, on a tie, the larger step. Ticks
// outside [lo, hi] are dropped (an axis may extend past a bound, an
// accuracy past 1, for padding); integer keeps steps ≥ 1 (counts).
type niceTicks struct {
	lo, hi  float64
	integer bool
	n       int
}

// anyTicks are niceTicks without bounds.
var anyTicks = niceTicks{lo: math.Inf(-1), hi: math.Inf(1)}

func (n niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	target := n.n
	if target == 0 {
		target = 4
	}
	// Multiples of step within [lo, hi] and the bounds.
	within := func(step float64) (first, last float64) {
		first = math.Ceil(max(lo, n.lo)/step - 1e-9)
		last = math.Floor(min(hi, n.hi)/step + 1e-9)
		return first, last
	}
	var step float64
	minors := 5
	e := math.Floor(math.Log10(hi - lo))
	for need := 3; need >= 2 && step == 0; need-- { // two labels only if three cannot be
		best := math.Inf(1)
		for k := e - 2; k <= e+1; k++ {
			for _, m := range []struct {
				mult   float64
				minors int
			}{{1, 5}, {2, 4}, {4, 4}, {5, 5}} {
				s := m.mult * math.Pow(10, k)
				if n.integer && s < 1 {
					continue
				}
				first, last := within(s)
				count := int(last - first + 1)
				if count < need {
					continue
				}
				score := math.Abs(float64(count - target))
				if m.mult == 4 {
					score++
				}
				if score <= best {
					best, step, minors = score, s, m.minors
				}
			}
		}
	}
	if step == 0 { // the bounds leave too little of the axis: no ticks
		return nil
	}
	if n.integer && step == 1 {
		minors = 1
	}
	// Fixed decimals, or for very large or small values as many significant
	// digits as the step needs (1e+06, 2.5e-07).
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	format := func(v float64) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
	if big := max(math.Abs(lo), math.Abs(hi)); big >= 1e6 || step < 1e-4 {
		digits := int(math.Floor(math.Log10(big)+1e-9)-math.Floor(math.Log10(step)+1e-9)) + 1
		digits = min(max(digits, 1), 17)
		format = func(v float64) string { return strconv.FormatFloat(v, 'g', digits, 64) }
	}
	minor := step / float64(minors)
	var out []plot.Tick
	for k := math.Ceil(lo/minor - 1e-9); k*minor <= hi+minor*1e-9; k++ {
		v := k * minor
		if math.Abs(v) < minor*1e-9 {
			v = 0
		}
		if v < n.lo-1e-9 || v > n.hi+1e-9 {
			continue
		}
		t := plot.Tick{Value: v}
		if int64(math.Round(k))%int64(minors) == 0 {
			t.Label = strings.ReplaceAll(format(v), "-", "−")
		}
		out = append(out, t)
	}
	return out
}

// shape formats a tensor shape as " (96×128)".
func shape(s []int) string {
	if len(s) == 0 {
		return ""
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return " (" + strings.Join(parts, "×") + ")"
}

// upperFirst capitalises the first letter of an ASCII string.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// trimNum formats a weight with as few digits as it needs.
func trimNum(x float64) string { return frac(x) }

// median returns the median of xs (NaN for none); xs is not changed.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// minOf returns the minimum of xs[i] + sign·err[i] (err may be nil).
func minOf(xs, err []float64, sign float64) float64 {
	m := math.Inf(1)
	for i, x := range xs {
		if err != nil {
			x += sign * err[i]
		}
		m = min(m, x)
	}
	return m
}

// maxOf returns the maximum of xs[i] + sign·err[i] (err may be nil).
func maxOf(xs, err []float64, sign float64) float64 {
	m := math.Inf(-1)
	for i, x := range xs {
		if err != nil {
			x += sign * err[i]
		}
		m = max(m, x)
	}
	return m
}

// cleanSVG drops gonum's XML declaration and comment (not allowed, resp.
// useless, inside HTML), names fallbacks for the font, and labels the root
// element for assistive technology.
func cleanSVG(b []byte, label string) []byte {
	s := string(b)
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	s = strings.ReplaceAll(s, "font-family:"+svgFontFamily+";", "font-family:"+cssFontFamily+";")
	s = strings.Replace(s, "<svg ", `<svg role="img" aria-label="`+html.EscapeString(label)+`" `, 1)
	return []byte(markKeySamples(s))
}
