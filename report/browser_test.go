package report

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/report/pdf"
)

var screenshotDir = flag.String("screenshot-dir", "", "also save the browser test's screenshots in this directory")

// chromium returns Debian's chromium, skipping the test when it is missing
// outside CI and failing it when it is missing in CI ($CI set, as .ci/run
// and most CI systems do).
func chromium(t *testing.T) string {
	t.Helper()
	exe := pdf.DefaultChromium
	if _, err := os.Stat(exe); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("skipping the browser test: %v (install Debian's chromium package; with $CI set a missing browser fails the test)", err)
		}
		t.Fatalf("$CI is set but the browser is missing: %v", err)
	}
	return exe
}

// figureBox is a figure's rendered SVG, as the page reports it.
type figureBox struct {
	ID        string  `json:"id"`
	Width     float64 `json:"w"`
	Height    float64 `json:"h"`
	TextWidth float64 `json:"tw"` // width of its first <text>: fonts render
}

// pageReport is what the test reads from the loaded page.
type pageReport struct {
	Figures   []figureBox `json:"figures"`
	SVGs      int         `json:"svgs"`
	Scripts   int         `json:"scripts"`
	Resources int         `json:"resources"`
	Tables    int         `json:"tables"`
}

const inspectJS = `(() => ({
	figures: Array.from(document.querySelectorAll('figure > svg')).map(s => {
		const r = s.getBoundingClientRect();
		const t = s.querySelector('text');
		return {id: s.parentElement.id, w: r.width, h: r.height, tw: t ? t.getBBox().width : 0};
	}),
	svgs: document.querySelectorAll('svg').length,
	scripts: document.querySelectorAll('script').length,
	resources: performance.getEntriesByType('resource').length,
	tables: document.querySelectorAll('table').length,
}))()`

// TestBrowser opens report.html from disk in headless Chromium and checks
// that it loads without console errors, loads nothing else, and draws every
// figure at a non-zero size with its text; it saves a full-page screenshot.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	bctx, stop, err := pdf.Browser(ctx, pdf.Options{Chromium: exe})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1000, 900)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	for _, name := range []string{"small.json", "real-results.json"} {
		t.Run(name, func(t *testing.T) {
			res := loadResults(t, name)
			poison(res) // hostile strings must not break the page either
			dir := t.TempDir()
			if err := WriteDir(res, dir, Options{}); err != nil {
				t.Fatal(err)
			}
			files, _ := Render(res, Options{})
			u, err := pdf.FileURL(filepath.Join(dir, HTMLFile))
			if err != nil {
				t.Fatal(err)
			}

			// Collect console messages and exceptions while the page loads.
			cctx, ccancel := context.WithCancel(bctx)
			var (
				mu   sync.Mutex
				msgs []chromedp.ConsoleMessage
				wg   sync.WaitGroup
			)
			messages := chromedp.Console(cctx)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m, err := range messages {
					if err != nil {
						return
					}
					mu.Lock()
					msgs = append(msgs, m)
					mu.Unlock()
				}
			}()
			if err := chromedp.Do(bctx, chromedp.Navigate(u)); err != nil {
				ccancel()
				t.Fatalf("opening %s: %v", u, err)
			}
			page, err := chromedp.Run(bctx, chromedp.Evaluate[pageReport](inspectJS))
			if err != nil {
				ccancel()
				t.Fatalf("inspecting the page: %v", err)
			}
			png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
			ccancel()
			wg.Wait()
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			shot := filepath.Join(t.TempDir(), "report.png")
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s (%d bytes)", shot, len(png))
			if *screenshotDir != "" {
				if err := os.WriteFile(filepath.Join(*screenshotDir, name+".png"), png, 0o644); err != nil {
					t.Error(err)
				}
			}

			for _, m := range msgs {
				if m.Type == chromedp.ConsoleError || m.IsException() {
					t.Errorf("console: %s (%s:%d)", m, m.URL, m.Line)
				}
			}
			if page.Scripts != 0 || page.Resources != 0 {
				t.Errorf("page has %d scripts and loaded %d resources, want none", page.Scripts, page.Resources)
			}
			if len(page.Figures) != len(files.Figures) || page.SVGs != len(files.Figures) {
				t.Errorf("%d figures (%d svg elements) on the page, want %d", len(page.Figures), page.SVGs, len(files.Figures))
			}
			for _, f := range page.Figures {
				if f.Width <= 0 || f.Height <= 0 || f.TextWidth <= 0 {
					t.Errorf("figure %s rendered %gx%g px, first text %g px wide", f.ID, f.Width, f.Height, f.TextWidth)
				}
			}
			if page.Tables == 0 {
				t.Error("no tables rendered")
			}
		})
	}
}

// layoutItem is one text element or key sample of a figure, where the
// browser draws it (CSS pixels, page coordinates).
type layoutItem struct {
	Kind string  `json:"kind"` // "text" or "key" (a key entry's sample)
	Text string  `json:"text"` // the text, or for a sample its entry's text
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	W    float64 `json:"w"`
	H    float64 `json:"h"`
}

// figureLayout is one figure's SVG box and what it draws inside.
type figureLayout struct {
	ID    string       `json:"id"`
	X     float64      `json:"x"`
	Y     float64      `json:"y"`
	W     float64      `json:"w"`
	H     float64      `json:"h"`
	Items []layoutItem `json:"items"`
}

// pageLayout is the page's column and its tables, with the figures.
type pageLayout struct {
	Column  layoutItem     `json:"column"` // the content box of main.paper
	Tables  []layoutItem   `json:"tables"` // each table's box (Text: its first header cell)
	Figures []figureLayout `json:"figures"`
}

// layoutJS measures every figure's text elements and key samples
// (g.key-sample, each followed by its entry's text) with
// getBoundingClientRect, and the column and tables.
const layoutJS = `(() => {
	const box = (r, kind, text) => ({kind, text, x: r.left, y: r.top, w: r.width, h: r.height});
	const paper = document.querySelector('main.paper');
	const cs = getComputedStyle(paper);
	const pr = paper.getBoundingClientRect();
	const pl = parseFloat(cs.paddingLeft), pright = parseFloat(cs.paddingRight);
	return {
		column: {kind: 'column', text: '', x: pr.left + pl, y: pr.top, w: pr.width - pl - pright, h: pr.height},
		tables: Array.from(document.querySelectorAll('table')).map(t => {
			const th = t.querySelector('th, td');
			return box(t.getBoundingClientRect(), 'table', th ? th.textContent : '');
		}),
		figures: Array.from(document.querySelectorAll('figure > svg')).map(s => {
			const items = [];
			s.querySelectorAll('text').forEach(t => items.push(box(t.getBoundingClientRect(), 'text', t.textContent)));
			s.querySelectorAll('g.key-sample').forEach(g => {
				const next = g.nextElementSibling;
				items.push(box(g.getBoundingClientRect(), 'key', next ? next.textContent : ''));
			});
			const r = s.getBoundingClientRect();
			return {id: s.parentElement.id, x: r.left, y: r.top, w: r.width, h: r.height, items};
		}),
	};
})()`

// overlapTolerance is how far (CSS px) two boxes may overlap, or a box
// stick out of its figure, before the test calls it a collision: text boxes
// include the font's whole ascent and descent, more than the glyphs ink.
const overlapTolerance = 1.0

// collisions returns, for one figure, every pair of its items whose boxes
// overlap by more than overlapTolerance in both directions, and every item
// outside the figure's box.
func collisions(f figureLayout) []string {
	var out []string
	quote := func(it layoutItem) string {
		if it.Kind == "key" {
			return fmt.Sprintf("the key sample of %q", it.Text)
		}
		return fmt.Sprintf("%q", it.Text)
	}
	tol := overlapTolerance
	for i, a := range f.Items {
		if a.W <= 0 && a.H <= 0 {
			continue
		}
		if a.X < f.X-tol || a.Y < f.Y-tol || a.X+a.W > f.X+f.W+tol || a.Y+a.H > f.Y+f.H+tol {
			out = append(out, fmt.Sprintf("%s [%.1f,%.1f %.1f×%.1f] outside the figure [%.1f,%.1f %.1f×%.1f]", quote(a), a.X, a.Y, a.W, a.H, f.X, f.Y, f.W, f.H))
		}
		for _, b := range f.Items[i+1:] {
			dx := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
			dy := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
			if dx > tol && dy > tol {
				out = append(out, fmt.Sprintf("%s overlaps %s by %.1f×%.1f px", quote(a), quote(b), dx, dy))
			}
		}
	}
	return out
}

// browserFixtures are the reports whose figures the browser test lays out:
// the default report without and with ROC curves, and studies' (which add
// the Pareto figure, v3 and v2, and with its enlarged panel).
func browserFixtures(t *testing.T) map[string]*results.Results {
	return map[string]*results.Results{
		"small":   loadResults(t, "small.json"),
		"real":    loadResults(t, "real-results.json"),
		"study":   withStudy(t, studyFixtureV3(5), results.Schema),
		"studyv2": withStudy(t, studyFixtureV2(), results.SchemaV2),
		"zoom":    withStudy(t, zoomStudy(), results.Schema),
	}
}

// printJS applies the page's print rules on screen: every @media print
// rule is made to apply to all media (the page has no script of its own;
// this runs from the test).
const printJS = `(() => {
	let n = 0;
	for (const sheet of document.styleSheets) {
		for (const rule of sheet.cssRules) {
			if (rule.media && rule.media.mediaText === 'print') {
				rule.media.mediaText = 'all';
				n++;
			}
		}
	}
	return n;
})()`

// browserLayouts are the two ways the report is read: in a desktop window,
// and printed on A4 (style.css's 16 mm margins leave a 178 mm column,
// 673 CSS px).
var browserLayouts = []struct {
	name  string
	width int64
	print bool
}{{"screen", 1000, false}, {"print", 673, true}}

// TestBrowserFigureLayout opens each fixture's report.html in headless
// Chromium, on screen and with the print style sheet, and reads back where
// every figure's text elements and key samples land: no two may overlap and
// none may leave its figure. It also checks that figures and tables fit the
// column. Each figure's screenshot is saved in the test's temporary
// directory (and in -screenshot-dir when given).
func TestBrowserFigureLayout(t *testing.T) {
	exe := chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	bctx, stop, err := pdf.Browser(ctx, pdf.Options{Chromium: exe})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	fixtures := browserFixtures(t)
	names := slices.Sorted(maps.Keys(fixtures))
	for _, name := range names {
		res := fixtures[name]
		dir := t.TempDir()
		if err := WriteDir(res, dir, Options{}); err != nil {
			t.Fatal(err)
		}
		u, err := pdf.FileURL(filepath.Join(dir, HTMLFile))
		if err != nil {
			t.Fatal(err)
		}
		files, err := Render(res, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, lay := range browserLayouts {
			t.Run(name+"/"+lay.name, func(t *testing.T) {
				if err := chromedp.Do(bctx, chromedp.EmulateViewport(lay.width, 900)); err != nil {
					t.Fatalf("starting chromium: %v", err)
				}
				if err := chromedp.Do(bctx, chromedp.Navigate(u)); err != nil {
					t.Fatalf("opening %s: %v", u, err)
				}
				if lay.print {
					n, err := chromedp.Run(bctx, chromedp.Evaluate[int](printJS))
					if err != nil || n == 0 {
						t.Fatalf("applying the print style sheet: %d rules, %v", n, err)
					}
				}
				page, err := chromedp.Run(bctx, chromedp.Evaluate[pageLayout](layoutJS))
				if err != nil {
					t.Fatalf("measuring the page: %v", err)
				}
				if len(page.Figures) != len(files.Figures) {
					t.Fatalf("%d figures on the page, want %d", len(page.Figures), len(files.Figures))
				}
				shots := t.TempDir()
				total := 0
				for _, f := range page.Figures {
					keys := 0
					for _, it := range f.Items {
						if it.Kind == "key" {
							keys++
						}
					}
					if len(f.Items) == 0 {
						t.Errorf("%s: no text measured", f.ID)
					}
					if f.W > page.Column.W+overlapTolerance {
						t.Errorf("%s is %.0f px wide, the column %.0f px", f.ID, f.W, page.Column.W)
					}
					bad := collisions(f)
					total += len(bad)
					for _, b := range bad {
						t.Errorf("%s: %s", f.ID, b)
					}
					png, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS("#"+f.ID+" > svg")))
					if err != nil {
						t.Fatalf("screenshot of %s: %v", f.ID, err)
					}
					path := filepath.Join(shots, f.ID+".png")
					if err := os.WriteFile(path, png, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("%s: %d texts and key samples, %d collisions; screenshot %s", f.ID, len(f.Items), len(bad), path)
					if *screenshotDir != "" {
						if err := os.WriteFile(filepath.Join(*screenshotDir, fmt.Sprintf("%s-%s-%s.png", name, lay.name, f.ID)), png, 0o644); err != nil {
							t.Error(err)
						}
					}
				}
				t.Logf("%d collisions in %d figures", total, len(page.Figures))
				for _, tb := range page.Tables {
					if tb.X < page.Column.X-overlapTolerance || tb.X+tb.W > page.Column.X+page.Column.W+overlapTolerance {
						t.Errorf("table %q spans [%.0f, %.0f] px, the column [%.0f, %.0f]", tb.Text, tb.X, tb.X+tb.W, page.Column.X, page.Column.X+page.Column.W)
					}
				}
			})
		}
	}
}
