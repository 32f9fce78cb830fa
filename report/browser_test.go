package report

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
