// Package pdf prints a report's HTML page to PDF with headless Chromium,
// driven through the DevTools protocol by chromedp.
//
// Entry points: [Print] (an HTML file → PDF bytes) and [Browser] (a started
// headless browser context, which the report's browser test also uses).
//
// It is a package of its own so that package report stays free of chromedp:
// report renders without a browser, and only callers that ask for a PDF
// (scripts/report -pdf) pull this one in. Chromium's PDFs carry a creation
// date, so unlike report.md and report.html they are not byte-for-byte
// reproducible.
package pdf

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultChromium is Debian's chromium executable.
const DefaultChromium = "/usr/bin/chromium"

// DefaultTimeout bounds one Print call when Options.Timeout is 0.
const DefaultTimeout = 60 * time.Second

// Options configure the browser. The zero value uses DefaultChromium and
// DefaultTimeout.
type Options struct {
	Chromium string        // browser executable; "" means DefaultChromium
	Timeout  time.Duration // 0 means DefaultTimeout
}

// Flags are the command-line flags of the headless browser, besides the
// user-data directory: no GPU, no network activity of its own, no first-run
// or sync behaviour; and, only when running as root (containers, CI), where
// Chromium refuses to start sandboxed, no sandbox.
var Flags = flags(os.Geteuid() == 0)

func flags(root bool) []string {
	f := []string{"headless", "disable-gpu", "disable-background-networking",
		"disable-component-update", "disable-sync", "no-first-run"}
	if root {
		f = append(f, "no-sandbox")
	}
	return f
}

// Browser starts headless Chromium with Flags and a fresh user-data directory
// and returns a chromedp context for one tab. cancel stops the browser and
// removes the directory. The browser starts on the first chromedp.Run.
func Browser(parent context.Context, opts Options) (ctx context.Context, cancel func(), err error) {
	exe := opts.Chromium
	if exe == "" {
		exe = DefaultChromium
	}
	if _, err := os.Stat(exe); err != nil {
		return nil, nil, fmt.Errorf("pdf: chromium: %w", err)
	}
	dir, err := os.MkdirTemp("", "fimprune-chromium-*")
	if err != nil {
		return nil, nil, fmt.Errorf("pdf: %w", err)
	}
	allocOpts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.UserDataDir(dir)}
	for _, f := range Flags {
		allocOpts = append(allocOpts, chromedp.Flag(f, true))
	}
	actx, acancel := chromedp.NewExecAllocator(parent, allocOpts...)
	bctx, bcancel := chromedp.NewContext(actx)
	return bctx, func() {
		bcancel()
		acancel()
		os.RemoveAll(dir)
	}, nil
}

// FileURL returns the file:// URL of path.
func FileURL(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Print opens the HTML file at htmlPath and returns it printed to PDF on A4
// paper, with the page's print style sheet, its @page size and margins, and
// backgrounds.
func Print(ctx context.Context, htmlPath string, opts Options) ([]byte, error) {
	u, err := FileURL(htmlPath)
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	if _, err := os.Stat(htmlPath); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	bctx, cancel, err := Browser(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer cancel()
	// Start the browser with a context that has no deadline (a deadline on
	// the first Run would bound the browser's whole life, see chromedp.Run),
	// then bound the work.
	if err := chromedp.Do(bctx); err != nil {
		return nil, fmt.Errorf("pdf: starting chromium: %w", err)
	}
	wctx, wcancel := context.WithTimeout(bctx, timeout)
	defer wcancel()
	if err := chromedp.Do(wctx, chromedp.Navigate(u)); err != nil {
		return nil, fmt.Errorf("pdf: opening %s: %w", u, err)
	}
	data, err := chromedp.Run(wctx, chromedp.PrintToPDF(
		chromedp.PDFPaper(chromedp.PaperA4),
		chromedp.PDFPreferCSSPageSize(),
		chromedp.PDFPrintBackground(),
	))
	if err != nil {
		return nil, fmt.Errorf("pdf: printing %s: %w", htmlPath, err)
	}
	if len(data) == 0 {
		return nil, errors.New("pdf: chromium returned an empty PDF")
	}
	return data, nil
}
