package adult

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// zipOf returns an in-memory zip holding files (name → contents).
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, s := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serve starts a TLS server answering every request with body and counts
// the requests.
func serve(t *testing.T, body []byte) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/adult.zip" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts, &hits
}

func TestResolveDownload(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	data := row(nil) + "\n" + row(map[string]string{"income": ">50K"}) + "\n"
	test := testHeader + row(map[string]string{"sex": "Female", "income": ">50K."}) + "\n"
	files := map[string]string{DataFile: data, TestFile: test, NamesFile: "| names\n", "Index": "x\n"}
	sums := map[string]string{DataFile: sum(data), TestFile: sum(test)}
	ts, hits := serve(t, zipOf(t, files))

	cache := filepath.Join(t.TempDir(), "fimprune", "adult")
	r := Resolver{URL: ts.URL + "/adult.zip", CacheDir: cache, Client: ts.Client(), ExpectedSHA256: sums}
	var progress bytes.Buffer
	dir, err := r.Resolve("", &progress)
	if err != nil {
		t.Fatal(err)
	}
	if dir != cache {
		t.Errorf("dir = %q, want the cache %q", dir, cache)
	}
	if !strings.Contains(progress.String(), "downloading "+r.URL) {
		t.Errorf("progress = %q, want a downloading line", progress.String())
	}
	entries, _ := os.ReadDir(cache)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "adult.data adult.names adult.test" {
		t.Errorf("cache holds %q, want the three files and no temporaries", got)
	}
	d, err := LoadFiles(filepath.Join(dir, DataFile), filepath.Join(dir, TestFile), Options{ExpectedSHA256: sums})
	if err != nil {
		t.Fatal(err)
	}
	if d.Rows() != 3 {
		t.Errorf("Rows() = %d, want 3", d.Rows())
	}

	// A filled cache is used without a request.
	if dir, err := r.Resolve("", nil); err != nil || dir != cache || hits.Load() != 1 {
		t.Errorf("second Resolve = %q, %v after %d requests, want the cache and 1 request", dir, err, hits.Load())
	}
	// The flag wins, then the environment; neither is checked here (Load does).
	if dir, _ := r.Resolve("flagdir", nil); dir != "flagdir" {
		t.Errorf("flag: dir = %q", dir)
	}
	t.Setenv(EnvDataDir, "envdir")
	if dir, _ := r.Resolve("", nil); dir != "envdir" {
		t.Errorf("env: dir = %q", dir)
	}
}

func TestResolveDownloadErrors(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	data := row(nil) + "\n"
	test := testHeader + row(nil) + "\n"
	sums := map[string]string{DataFile: sum(data), TestFile: sum(test)}
	good := zipOf(t, map[string]string{"adult/" + DataFile: data, "adult/" + TestFile: test})

	tests := []struct {
		name    string
		body    []byte
		path    string
		max     int64
		sums    map[string]string
		wantErr string
	}{
		{"nested ok", good, "/adult.zip", 0, sums, ""},
		{"bad sum", good, "/adult.zip", 0, map[string]string{DataFile: sum(data), TestFile: sum("x")}, "adult/adult.test: SHA-256 mismatch"},
		{"pinned sums", good, "/adult.zip", 0, nil, "SHA-256 mismatch"},
		{"missing test", zipOf(t, map[string]string{DataFile: data}), "/adult.zip", 0, sums, "zip has no adult.test"},
		{"not a zip", []byte("<html>"), "/adult.zip", 0, sums, "not a zip"},
		{"too big", good, "/adult.zip", 100, sums, "100-byte limit"},
		{"404", good, "/nothing.zip", 0, sums, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := serve(t, tt.body)
			cache := t.TempDir()
			r := Resolver{URL: ts.URL + tt.path, CacheDir: cache, Client: ts.Client(), MaxBytes: tt.max, ExpectedSHA256: tt.sums}
			_, err := r.Resolve("", nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			// Nothing unverified is left behind.
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("cache holds %d entries after a failed download", len(entries))
			}
		})
	}
}

func TestDownloadRefusesPlainHTTP(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	r := Resolver{URL: "http://example.invalid/adult.zip", CacheDir: t.TempDir()}
	_, err := r.Resolve("", nil)
	if err == nil || !strings.Contains(err.Error(), "only https://") {
		t.Fatalf("plain http accepted: %v", err)
	}
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	if httpsOnly(req, nil) == nil {
		t.Fatal("a redirect to http is followed")
	}
	req, _ = http.NewRequest("GET", "https://example.invalid/", nil)
	if err := httpsOnly(req, nil); err != nil {
		t.Fatalf("a redirect within https refused: %v", err)
	}
}
