package adult

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/schollz/progressbar/v3"
)

// Download defaults.
const (
	// DefaultURL is the UCI archive's zip of the data set.
	DefaultURL = "https://archive.ics.uci.edu/static/public/2/adult.zip"
	// EnvDataDir names the environment variable that points at a data
	// directory.
	EnvDataDir = "FIMPRUNE_DATA"
	// DownloadTimeout bounds the whole download, including reading the body.
	DownloadTimeout = 2 * time.Minute
	// MaxDownloadBytes caps the zip size; the real one is about 0.6 MiB.
	MaxDownloadBytes = 10 << 20
	// maxFileBytes caps each extracted file, against a hostile zip; the
	// real adult.data is about 3.8 MiB.
	maxFileBytes = 64 << 20
)

// ResolveDir returns the data directory to Load from, trying in order:
// flagDir if non-empty; $FIMPRUNE_DATA if non-empty; the user cache
// (os.UserCacheDir()/fimprune/adult) if it holds both adult.data and
// adult.test; else it downloads DefaultURL into the cache. Download
// progress goes to progress (nil for none). Directories given by the caller
// are returned as they are; Load reports missing files and checks sums.
func ResolveDir(flagDir string, progress io.Writer) (string, error) {
	return Resolver{}.Resolve(flagDir, progress)
}

// Resolver is ResolveDir with its sources configurable, mainly for tests.
// The zero value behaves as ResolveDir.
type Resolver struct {
	URL      string       // "" means DefaultURL
	CacheDir string       // "" means os.UserCacheDir()/fimprune/adult
	Client   *http.Client // nil means a client with DownloadTimeout
	MaxBytes int64        // 0 means MaxDownloadBytes
	// ExpectedSHA256 is checked on the extracted files before they are
	// moved into the cache, as in Options; nil means the pinned sums.
	ExpectedSHA256 map[string]string
}

// Resolve implements ResolveDir for r.
func (r Resolver) Resolve(flagDir string, progress io.Writer) (string, error) {
	if flagDir != "" {
		return flagDir, nil
	}
	if dir := os.Getenv(EnvDataDir); dir != "" {
		return dir, nil
	}
	cache := r.CacheDir
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("adult: no data directory given (-data or $%s) and no user cache: %w", EnvDataDir, err)
		}
		cache = filepath.Join(base, "fimprune", "adult")
	}
	if isFile(filepath.Join(cache, DataFile)) && isFile(filepath.Join(cache, TestFile)) {
		return cache, nil
	}
	if err := r.download(cache, progress); err != nil {
		return "", err
	}
	return cache, nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// download fetches the zip into memory, extracts the Adult files into
// temporary files in dir, verifies their sums, and only then renames them
// into place, so dir never holds a partial or unverified adult.data or
// adult.test.
func (r Resolver) download(dir string, progress io.Writer) error {
	url := r.URL
	if url == "" {
		url = DefaultURL
	}
	if !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("adult: download %s: only https:// URLs are fetched", url)
	}
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: DownloadTimeout, CheckRedirect: httpsOnly}
	}
	limit := r.MaxBytes
	if limit <= 0 {
		limit = MaxDownloadBytes
	}
	want := r.ExpectedSHA256
	if want == nil {
		want = pinnedSHA256()
	}
	if progress == nil {
		progress = io.Discard
	}

	body, err := fetch(client, url, limit, progress)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return fmt.Errorf("adult: %s: not a zip: %w", url, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("adult: cache: %w", err)
	}

	// Files are matched by base name: the UCI zip keeps them at its root,
	// but a mirror may nest them in a folder. adult.names is documentation,
	// copied when present and not required.
	entries := make(map[string]*zip.File)
	for _, f := range zr.File {
		switch name := path.Base(f.Name); name {
		case DataFile, TestFile, NamesFile:
			if !f.FileInfo().IsDir() {
				entries[name] = f
			}
		}
	}
	var staged []stagedFile
	defer func() {
		for _, s := range staged {
			os.Remove(s.tmp) // no-op once renamed
		}
	}()
	for _, name := range []string{DataFile, NamesFile, TestFile} {
		f, ok := entries[name]
		if !ok {
			if name == NamesFile {
				continue
			}
			return fmt.Errorf("adult: %s: zip has no %s", url, name)
		}
		s, err := stage(dir, f)
		if s.tmp != "" {
			staged = append(staged, s)
		}
		if err != nil {
			return err
		}
		w, ok := want[name]
		if name == NamesFile && r.ExpectedSHA256 == nil {
			w, ok = SHA256Names, true
		}
		if ok && s.sum != w {
			return &ChecksumError{Path: url + "#" + f.Name, Want: w, Got: s.sum}
		}
	}
	// Everything is verified; adult.test goes last so that an interrupted
	// run leaves the cache incomplete (and re-downloaded next time) rather
	// than mixed.
	for _, s := range staged {
		if err := os.Rename(s.tmp, s.final); err != nil {
			return fmt.Errorf("adult: cache: %w", err)
		}
	}
	fmt.Fprintf(progress, "adult: saved %s and %s in %s\n", DataFile, TestFile, dir)
	return nil
}

// httpsOnly refuses redirects away from HTTPS (and more than 10 of them).
func httpsOnly(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to %s refused: not https", req.URL)
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// fetch GETs url into memory, refusing bodies over limit bytes.
func fetch(client *http.Client, url string, limit int64, progress io.Writer) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DownloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("adult: download: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("adult: download (set -data or $%s to use a local copy): %w", EnvDataDir, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("adult: download %s: %s", url, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("adult: download %s: %d bytes exceeds the %d-byte limit", url, resp.ContentLength, limit)
	}

	var sink io.Writer
	if isTerminal(progress) {
		bar := progressbar.NewOptions64(resp.ContentLength,
			progressbar.OptionSetDescription("adult.zip"),
			progressbar.OptionSetWriter(progress),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetWidth(10),
			progressbar.OptionThrottle(65*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
		)
		defer bar.Finish()
		sink = bar
	} else {
		// Logs and pipes get one line before and one after, not a bar.
		fmt.Fprintf(progress, "adult: downloading %s\n", url)
		sink = io.Discard
	}
	var buf bytes.Buffer
	n, err := io.Copy(io.MultiWriter(&buf, sink), io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("adult: download %s: %w", url, err)
	}
	if n > limit {
		return nil, fmt.Errorf("adult: download %s: body exceeds the %d-byte limit", url, limit)
	}
	if !isTerminal(progress) {
		fmt.Fprintf(progress, "adult: downloaded %d bytes\n", n)
	}
	return buf.Bytes(), nil
}

// isTerminal reports whether w is a terminal (the same test as the
// training progress bars, fimlib/train).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type stagedFile struct {
	tmp, final, sum string
}

// stage extracts f into a temporary file in dir, returning its path and
// SHA-256. The caller removes the temporary file if it is not renamed.
func stage(dir string, f *zip.File) (stagedFile, error) {
	name := path.Base(f.Name)
	rc, err := f.Open()
	if err != nil {
		return stagedFile{}, fmt.Errorf("adult: zip %s: %w", f.Name, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return stagedFile{}, fmt.Errorf("adult: cache: %w", err)
	}
	s := stagedFile{tmp: tmp.Name(), final: filepath.Join(dir, name)}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(rc, maxFileBytes+1))
	if err == nil && n > maxFileBytes {
		err = fmt.Errorf("larger than %d bytes", maxFileBytes)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s, fmt.Errorf("adult: extracting %s: %w", f.Name, err)
	}
	s.sum = hex.EncodeToString(h.Sum(nil))
	return s, nil
}
