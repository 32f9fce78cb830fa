package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/internal/modroot"
)

// sourceHash hashes the non-test Go files of pkgs under root as token
// streams without comments and without the semicolons the scanner inserts
// at line ends, so that comments and formatting do not count and code does.
func sourceHash(t *testing.T, root string, pkgs []string) string {
	t.Helper()
	var files []string
	for _, p := range pkgs {
		matches, err := filepath.Glob(filepath.Join(root, p, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			// cachesource.go holds the recorded hash: hashing it would
			// change the hash with every record.
			if !strings.HasSuffix(m, "_test.go") && filepath.Base(m) != "cachesource.go" {
				files = append(files, m)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no source files found")
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		var sc scanner.Scanner
		sc.Init(fset.AddFile(f, -1, len(src)), src, func(pos token.Position, msg string) { t.Fatalf("%s: %s", pos, msg) }, 0)
		var buf bytes.Buffer
		for {
			_, tok, lit := sc.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.SEMICOLON && lit == "\n" {
				continue
			}
			buf.WriteString(tok.String())
			buf.WriteByte(' ')
			buf.WriteString(lit)
			buf.WriteByte('\n')
		}
		rel, _ := filepath.Rel(root, f)
		h.Write([]byte(filepath.ToSlash(rel) + "\n"))
		h.Write(buf.Bytes())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestCacheVersionTracksSource fails when the code that computes cached
// phases changed since CacheVersion was last reviewed. What to do then: if
// the change can alter any cached result (a phase's numbers, the results
// fields it fills), bump CacheVersion (and say why in its comment); in both
// cases set cacheSourceHash to the value this test prints. Comments and
// formatting do not count.
func TestCacheVersionTracksSource(t *testing.T) {
	root, err := modroot.Find()
	if err != nil {
		t.Fatal(err)
	}
	got := sourceHash(t, root, cacheSourcePackages)
	if got != cacheSourceHash {
		t.Errorf("the code behind the phase cache changed (packages %s).\n"+
			"If cached results can differ, bump CacheVersion (now %d) in cache.go.\n"+
			"Either way, record the reviewed code in cachesource.go:\n\tconst cacheSourceHash = %q",
			strings.Join(cacheSourcePackages, ", "), CacheVersion, got)
	}
}

// TestSourceHashIgnoresComments: the hash must move with code and not with
// comments, or the test above would nag for every doc fix.
func TestSourceHashIgnoresComments(t *testing.T) {
	dir := t.TempDir()
	write := func(src string) string {
		if err := os.MkdirAll(filepath.Join(dir, "p"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "p", "a.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return sourceHash(t, dir, []string{"p"})
	}
	base := write("package p\n\nfunc F() int { return 1 }\n")
	if h := write("package p\n\n// F is one.\nfunc F() int {\n\treturn 1 // one\n}\n"); h != base {
		t.Error("a comment or a line break changed the hash")
	}
	if h := write("package p\n\nfunc F() int { return 2 }\n"); h == base {
		t.Error("a code change left the hash as it was")
	}
}
