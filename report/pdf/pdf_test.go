package pdf

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileURL(t *testing.T) {
	u, err := FileURL("/tmp/a dir/report#1.html")
	if err != nil {
		t.Fatal(err)
	}
	if want := "file:///tmp/a%20dir/report%231.html"; u != want {
		t.Errorf("FileURL = %q, want %q", u, want)
	}
}

func TestMissingBrowser(t *testing.T) {
	html := filepath.Join(t.TempDir(), "r.html")
	os.WriteFile(html, []byte("<p>x</p>"), 0o644)
	_, err := Print(context.Background(), html, Options{Chromium: filepath.Join(t.TempDir(), "no-such-browser")})
	if err == nil || !strings.Contains(err.Error(), "chromium") {
		t.Errorf("err = %v, want one naming chromium", err)
	}
	if _, err := Print(context.Background(), filepath.Join(t.TempDir(), "missing.html"), Options{}); err == nil {
		t.Error("printing a missing file succeeded")
	}
}

func TestPrint(t *testing.T) {
	if _, err := os.Stat(DefaultChromium); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("skipping: %v (install Debian's chromium package; with $CI set a missing browser fails the test)", err)
		}
		t.Fatalf("$CI is set but the browser is missing: %v", err)
	}
	html := filepath.Join(t.TempDir(), "report.html")
	page := `<!DOCTYPE html><html><head><meta charset="utf-8"><style>@page { size: A4; margin: 20mm }</style></head><body><h1>Report</h1><p>Text.</p></body></html>`
	if err := os.WriteFile(html, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	data, err := Print(t.Context(), html, Options{Timeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Errorf("output starts with %q, want %%PDF-", data[:min(len(data), 8)])
	}
	t.Logf("%d bytes in %v", len(data), time.Since(start).Round(time.Millisecond))
}
