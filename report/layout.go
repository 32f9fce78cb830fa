package report

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure layout. Every figure is drawn figureWidth wide: the report's
// column scales each SVG to its width (style.css), so equal widths give the
// same text size in every figure, and 7 in is the printed column (A4 with
// 16 mm margins), where 8 pt text stays 8 pt. Panels are aligned on their
// data areas. Above each data area sit the panel's title and its key (the
// legend), wrapped into rows; a figure whose panels share one key has it
// above all of them, and a single-panel figure with a long key may have it
// in a column to the right instead. Nothing is ever drawn on the data.
const figureWidth = 7.0 // inches

// Key metrics, in points.
const (
	keySample   vg.Length = 18  // width of an entry's sample (line and marker)
	keyGap      vg.Length = 3   // between a sample and its text
	keySep      vg.Length = 10  // between two entries of a row
	keyPitch    vg.Length = 11  // from one key row to the next
	keyMaxGlyph vg.Length = 3.5 // a sample's marker radius, at most
	titleGap    vg.Length = 3   // below a title
	headerGap   vg.Length = 6   // between the header (title, key) and the plot
	figPad      vg.Length = 6   // around the figure
	colGap      vg.Length = 18  // between two columns of panels
	rowGap      vg.Length = 14  // between two rows of panels
)

// textSlack widens measured text. gonum measures with Liberation Sans; a
// viewer with neither it nor Arial falls back to a wider font, typically
// DejaVu Sans, whose digits are 14 % wider.
const textSlack = 1.2

// keySampleMark is the SVG group vgsvg writes for Scale(1, 1), which only
// the key's samples use; cleanSVG turns it into keySampleGroup, so that
// tests (and assistive technology) can tell the key's samples apart.
const (
	keySampleMark  = `<g transform="scale(1,1)">`
	keySampleGroup = `<g class="key-sample">`
)

// keyEntry is one entry of a panel's key: a sample drawn like its series
// (a line, a marker, or both) and the series' name.
type keyEntry struct {
	name  string
	line  *draw.LineStyle
	glyph *draw.GlyphStyle
}

// lineEntry is a key entry for a line.
func lineEntry(name string, l *plotter.Line) keyEntry {
	ls := l.LineStyle
	return keyEntry{name: name, line: &ls}
}

// pointsEntry is a key entry for markers, joined by a line when l != nil.
func pointsEntry(name string, l *plotter.Line, s *plotter.Scatter) keyEntry {
	e := keyEntry{name: name}
	if l != nil {
		ls := l.LineStyle
		e.line = &ls
	}
	g := s.GlyphStyle
	e.glyph = &g
	return e
}

// panelSpec is one panel of a figure: the plot (its title is drawn by the
// layout, above the key) and the key's entries.
type panelSpec struct {
	p   *plot.Plot
	key []keyEntry
}

// names returns the key's entries' names.
func (s *panelSpec) names() []string {
	out := make([]string, len(s.key))
	for i, e := range s.key {
		out[i] = e.name
	}
	return out
}

// figureSpec is a figure to lay out: a grid of panels (nil: an empty tile)
// whose data areas are dataH high.
type figureSpec struct {
	label    string    // the SVG's accessible name
	dataH    vg.Length // height of each panel's data area
	grid     [][]*panelSpec
	key      []keyEntry // a key shared by all panels, above them
	keyRight bool       // the (one) panel's key in a column to its right
}

// keyStyle and titleStyle are the text styles of keys and panel titles.
func keyStyle(p *plot.Plot) draw.TextStyle {
	s := p.Legend.TextStyle
	s.XAlign, s.YAlign = draw.XLeft, draw.YCenter
	return s
}

func titleStyle(p *plot.Plot) draw.TextStyle {
	s := p.Title.TextStyle
	s.XAlign, s.YAlign = draw.XLeft, draw.YTop
	return s
}

// textWidth is the width s may take in a viewer, with textSlack.
func textWidth(sty draw.TextStyle, s string) vg.Length {
	return sty.Width(s) * textSlack
}

// fitText shortens s with an ellipsis until it fits width (with textSlack).
func fitText(sty draw.TextStyle, s string, width vg.Length) string {
	r := []rune(s)
	for len(r) > 1 && textWidth(sty, string(r)) > width {
		r = append(r[:len(r)-2], '…')
	}
	return string(r)
}

// entryWidth is the width of one key entry, sample and text.
func entryWidth(sty draw.TextStyle, e keyEntry) vg.Length {
	return keySample + keyGap + textWidth(sty, e.name)
}

// keyLayout is a key broken into rows; with colW, a table whose entries
// line up in columns of those widths.
type keyLayout struct {
	rows [][]keyEntry
	colW []vg.Length
}

// height is the key's height.
func (k keyLayout) height() vg.Length { return vg.Length(len(k.rows)) * keyPitch }

// keyRows breaks entries into rows no wider than width, in order: as a
// table (entries aligned in columns) when that takes no more rows than
// filling each row in turn (one more for a key of more than six entries);
// an entry wider than width has its text shortened.
func keyRows(sty draw.TextStyle, entries []keyEntry, width vg.Length) keyLayout {
	fitted := make([]keyEntry, len(entries))
	for i, e := range entries {
		if entryWidth(sty, e) > width {
			e.name = fitText(sty, e.name, width-keySample-keyGap)
		}
		fitted[i] = e
	}
	var flow [][]keyEntry
	var x vg.Length
	for _, e := range fitted {
		w := entryWidth(sty, e)
		if len(flow) == 0 || x+keySep+w > width {
			flow = append(flow, nil)
			x = -keySep
		}
		flow[len(flow)-1] = append(flow[len(flow)-1], e)
		x += keySep + w
	}
	extra := 0 // a long key may take one row more to line up
	if len(fitted) > 6 {
		extra = 1
	}
	for cols := len(fitted); cols > 1; cols-- {
		rows := (len(fitted) + cols - 1) / cols
		if rows > len(flow)+extra {
			break
		}
		colW := keyColumns(sty, fitted, cols)
		total := vg.Length(cols-1) * keySep
		for _, w := range colW {
			total += w
		}
		if total <= width {
			var table [][]keyEntry
			for i := 0; i < len(fitted); i += cols {
				table = append(table, fitted[i:min(i+cols, len(fitted))])
			}
			return keyLayout{table, colW}
		}
	}
	return keyLayout{rows: flow}
}

// keyColumns returns the widths of the columns of entries laid out cols to
// a row.
func keyColumns(sty draw.TextStyle, entries []keyEntry, cols int) []vg.Length {
	w := make([]vg.Length, cols)
	for i, e := range entries {
		w[i%cols] = max(w[i%cols], entryWidth(sty, e))
	}
	return w
}

// drawKey draws the key from (x0, top) down.
func drawKey(c draw.Canvas, sty draw.TextStyle, x0, top vg.Length, key keyLayout) {
	for r, row := range key.rows {
		y := top - vg.Length(r)*keyPitch - keyPitch/2
		x := x0
		for k, e := range row {
			c.Push()
			c.Scale(1, 1) // keySampleMark
			if e.line != nil {
				c.StrokeLine2(*e.line, x, y, x+keySample, y)
			}
			if e.glyph != nil {
				g := *e.glyph
				g.Radius = min(g.Radius, keyMaxGlyph)
				c.DrawGlyphNoClip(g, vg.Point{X: x + keySample/2, Y: y})
			}
			c.Pop()
			c.FillText(sty, vg.Point{X: x + keySample + keyGap, Y: y}, e.name)
			if key.colW != nil {
				x += key.colW[k] + keySep
			} else {
				x += entryWidth(sty, e) + keySep
			}
		}
	}
}

// margins are the distances from a plot's canvas to its data area.
type margins struct{ l, r, b, t vg.Length }

func measure(p *plot.Plot, w, h vg.Length) margins {
	c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: w, Y: h}}}
	d := p.DataCanvas(c)
	return margins{d.Min.X - c.Min.X, c.Max.X - d.Max.X, d.Min.Y - c.Min.Y, c.Max.Y - d.Max.Y}
}

// render lays the figure out and returns its cleaned-up SVG.
func (f figureSpec) render() (svg []byte, err error) {
	defer func() {
		// gonum/plot panics on some degenerate inputs; report them as errors.
		if r := recover(); r != nil {
			err = fmt.Errorf("report: drawing %q: %v", f.label, r)
		}
	}()
	rows, cols := len(f.grid), len(f.grid[0])
	width := vg.Length(figureWidth) * vg.Inch
	gridW := width // the panels' share of the width
	var side *panelSpec
	var sideW vg.Length
	if f.keyRight {
		side = f.grid[0][0]
		ks := keyStyle(side.p)
		for _, e := range side.key {
			sideW = max(sideW, entryWidth(ks, e))
		}
		sideW = min(sideW, width/2)
		gridW -= sideW + colGap
	}
	titles := make([][]string, rows)
	for i := range f.grid {
		titles[i] = make([]string, cols)
		for j, s := range f.grid[i] {
			if s != nil {
				titles[i][j], s.p.Title.Text = s.p.Title.Text, ""
			}
		}
	}

	// Margins of each plot, then the widest per column and row.
	colW0 := (gridW - 2*figPad - vg.Length(cols-1)*colGap) / vg.Length(cols)
	m := make([][]margins, rows)
	L, R := make([]vg.Length, cols), make([]vg.Length, cols)
	B, T := make([]vg.Length, rows), make([]vg.Length, rows)
	for i := range f.grid {
		m[i] = make([]margins, cols)
		for j, s := range f.grid[i] {
			if s == nil {
				continue
			}
			m[i][j] = measure(s.p, colW0, f.dataH+100)
			L[j], R[j] = max(L[j], m[i][j].l), max(R[j], m[i][j].r)
			B[i], T[i] = max(B[i], m[i][j].b), max(T[i], m[i][j].t)
		}
	}
	dataW := gridW - 2*figPad - vg.Length(cols-1)*colGap
	for j := range cols {
		dataW -= L[j] + R[j]
	}
	dataW /= vg.Length(cols)
	if dataW <= 0 {
		return nil, fmt.Errorf("report: drawing %q: no room for the data", f.label)
	}

	// Each row's header: titles, and keys wrapped to the data width.
	keys := make([][]keyLayout, rows)
	header := make([]vg.Length, rows)
	for i := range f.grid {
		keys[i] = make([]keyLayout, cols)
		for j, s := range f.grid[i] {
			if s == nil {
				continue
			}
			h := vg.Length(0)
			if titles[i][j] != "" {
				h = titleStyle(s.p).Height(titles[i][j]) + titleGap
			}
			if !f.keyRight && len(s.key) > 0 {
				keys[i][j] = keyRows(keyStyle(s.p), s.key, dataW)
				h += keys[i][j].height()
			}
			header[i] = max(header[i], h)
		}
		if header[i] > 0 {
			header[i] += headerGap
		}
	}
	var figKey keyLayout
	var figKeyH vg.Length
	if len(f.key) > 0 {
		ks := keyStyle(f.grid[0][0].p)
		figKey = keyRows(ks, f.key, gridW-2*figPad-L[0]-R[cols-1])
		figKeyH = figKey.height() + headerGap
	}
	height := 2*figPad + figKeyH
	for i := range rows {
		height += header[i] + T[i] + f.dataH + B[i]
	}
	height += vg.Length(rows-1) * rowGap
	var sideKey keyLayout
	if side != nil {
		ks := keyStyle(side.p)
		for _, e := range side.key {
			if entryWidth(ks, e) > sideW {
				e.name = fitText(ks, e.name, sideW-keySample-keyGap)
			}
			sideKey.rows = append(sideKey.rows, []keyEntry{e})
		}
		height = max(height, 2*figPad+header[0]+T[0]+sideKey.height())
	}

	c := vgsvg.New(width, height)
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	top := height - figPad
	if figKey.rows != nil {
		drawKey(dc, keyStyle(f.grid[0][0].p), figPad+L[0], top, figKey)
		top -= figKeyH
	}
	var dataTop0 vg.Length
	for i := range f.grid {
		dataTop := top - header[i] - T[i]
		dataBottom := dataTop - f.dataH
		if i == 0 {
			dataTop0 = dataTop
		}
		x := figPad
		for j, s := range f.grid[i] {
			left := x + L[j]
			x += L[j] + dataW + R[j] + colGap
			if s == nil {
				continue
			}
			mm := m[i][j]
			pc := draw.Canvas{Canvas: c, Rectangle: vg.Rectangle{
				Min: vg.Point{X: left - mm.l, Y: dataBottom - mm.b},
				Max: vg.Point{X: left + dataW + mm.r, Y: dataTop + mm.t},
			}}
			s.p.Draw(pc)
			da := s.p.DataCanvas(pc)
			y := top
			if t := titles[i][j]; t != "" {
				ts := titleStyle(s.p)
				lo, hi := left-L[j], left+dataW+R[j] // the column
				t = fitText(ts, t, hi-lo)
				tw := textWidth(ts, t)
				tx := min(max((da.Min.X+da.Max.X-ts.Width(t))/2, lo), hi-tw)
				dc.FillText(ts, vg.Point{X: tx, Y: y}, t)
				y -= ts.Height(t) + titleGap
			}
			drawKey(dc, keyStyle(s.p), da.Min.X, y, keys[i][j])
		}
		top = dataBottom - B[i] - rowGap
	}
	if side != nil {
		drawKey(dc, keyStyle(side.p), width-figPad-sideW, dataTop0, sideKey)
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return cleanSVG(buf.Bytes(), f.label), nil
}

// markKeySamples names the key samples' groups (see keySampleMark).
func markKeySamples(s string) string {
	return strings.ReplaceAll(s, keySampleMark, keySampleGroup)
}

// keyNames returns the entries' names.
func keyNames(key []keyEntry) []string {
	out := make([]string, len(key))
	for i, e := range key {
		out[i] = e.name
	}
	return out
}
