//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/scripts/internal/cli"

	"github.com/fimprune/fimprune/fimlib/adult/adulttest"
)

// fakeMachine makes a machine without python3-torch (torch false) or with it,
// and without OpenBLAS: PATH holds only fake apt-get, dpkg-deb and sudo that
// log their calls (apt-get download and dpkg-deb -x also act, leaving a fake
// OpenBLAS), the user cache is empty and the system's OpenBLAS is looked
// for in an empty directory. It returns the fake interpreter and a function
// returning the tool calls so far.
func fakeMachine(t *testing.T, torch bool) (python string, calls func() string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	write := func(name, script string) string {
		p := filepath.Join(dir, "bin", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	record := `echo "${0##*/} $*" >> "` + log + `"` + "\n"
	write("apt-get", record+`if [ "$1" = download ]; then : > "$2_0.3.21_amd64.deb"; fi`)
	write("dpkg-deb", record+`/bin/mkdir -p "$3/usr/lib/x86_64-linux-gnu/openblas-pthread" && : > "$3/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"`)
	write("sudo", record+"exit 1")
	if torch {
		python = write("python3", "exit 0")
	} else {
		python = write("python3", `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`)
	}
	t.Setenv("PATH", filepath.Join(dir, "bin"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("HOME", filepath.Join(dir, "home"))
	for p, v := range map[*string]string{&openBLASSystemGlob: filepath.Join(dir, "usr", "lib", "*", "openblas-pthread", "libblas.so.3"), &defaultPython: python} {
		old := *p
		*p = v
		t.Cleanup(func() { *p = old })
	}
	return python, func() string {
		b, _ := os.ReadFile(log)
		return string(b)
	}
}

// variants parses args as the command line and settles the reference runs.
func variants(t *testing.T, args ...string) ([]*referenceVariant, string, error) {
	t.Helper()
	o, err := parseArgs(&bytes.Buffer{}, append([]string{"-out", t.TempDir()}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return referenceVariants(context.Background(), &o, &bytes.Buffer{})
}

// TestNothingInstalledWithoutInstall: without -install, a missing torch or
// OpenBLAS runs no apt-get, dpkg-deb or sudo; it is reported with the
// command that gets it, and that run is skipped, or fails when asked for
// explicitly.
func TestNothingInstalledWithoutInstall(t *testing.T) {
	t.Run("torch missing", func(t *testing.T) {
		_, calls := fakeMachine(t, false)
		vs, whyNot, err := variants(t)
		if err != nil || vs != nil {
			t.Fatalf("got %d runs, error %v; want the reference skipped", len(vs), err)
		}
		for _, want := range []string{"cannot import torch", "No module named 'torch'", "sudo apt-get install -y python3-torch"} {
			if !strings.Contains(whyNot, want) {
				t.Errorf("why not %q lacks %q", whyNot, want)
			}
		}
		for _, explicit := range [][]string{{"-reference"}, {"-torch-threads", "2"}, {"-probe-threads", "1"}} {
			if _, _, err := variants(t, explicit...); err == nil || !strings.Contains(err.Error(), "the PyTorch reference cannot run") ||
				!strings.Contains(err.Error(), "sudo apt-get install -y python3-torch") {
				t.Errorf("%q: got %v, want an error saying what is missing and how to get it", explicit, err)
			}
		}
		// Turning the probe off does not ask for the reference.
		if vs, whyNot, err := variants(t, "-probe=false"); err != nil || vs != nil || whyNot == "" {
			t.Errorf("-probe=false: got %d runs, why not %q, error %v; want the reference skipped", len(vs), whyNot, err)
		}
		if c := calls(); c != "" {
			t.Errorf("tools ran without -install:\n%s", c)
		}
	})
	t.Run("OpenBLAS missing", func(t *testing.T) {
		_, calls := fakeMachine(t, true)
		vs, whyNot, err := variants(t)
		if err != nil || whyNot != "" || len(vs) != 2 || vs[0].skipped != "" {
			t.Fatalf("got %d runs, why not %q, error %v; want both, the OpenBLAS one skipped", len(vs), whyNot, err)
		}
		for _, want := range []string{"libopenblas0-pthread is neither installed nor in " + os.Getenv("XDG_CACHE_HOME"), "go run ./scripts/bench -install"} {
			if !strings.Contains(vs[1].skipped, want) {
				t.Errorf("skipped %q lacks %q", vs[1].skipped, want)
			}
		}
		if _, _, err := variants(t, "-openblas"); err == nil || !strings.Contains(err.Error(), "go run ./scripts/bench -install") {
			t.Errorf("-openblas: got %v, want an error saying how to get OpenBLAS", err)
		}
		if _, _, err := variants(t, "-openblas-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no libblas.so.3") {
			t.Errorf("-openblas-dir of an empty directory: got %v", err)
		}
		if vs, _, err := variants(t, "-openblas=false"); err != nil || len(vs) != 1 {
			t.Errorf("-openblas=false: got %d runs, %v; want the PyTorch run alone", len(vs), err)
		}
		if c := calls(); c != "" {
			t.Errorf("tools ran without -install:\n%s", c)
		}
	})
	t.Run("run fails before measuring", func(t *testing.T) {
		python, calls := fakeMachine(t, false)
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), &stdout, &stderr, []string{"-out", t.TempDir(), "-python", python, "-data", "/nonexistent"})
		var usage cli.UsageError
		if err == nil || errors.As(err, &usage) || !strings.Contains(err.Error(), "cannot import torch") {
			t.Errorf("got %v, want a failure (exit status 1) naming the missing torch", err)
		}
		if c := calls(); c != "" {
			t.Errorf("tools ran without -install:\n%s", c)
		}
	})
}

// TestInstall: -install fetches OpenBLAS with apt-get download into the user
// cache (no root, nothing installed) and later runs find it there; it does
// not install torch for an interpreter other than Debian's.
func TestInstall(t *testing.T) {
	t.Run("OpenBLAS", func(t *testing.T) {
		_, calls := fakeMachine(t, true)
		vs, _, err := variants(t, "-install")
		if err != nil || len(vs) != 2 || vs[1].skipped != "" {
			t.Fatalf("got %d runs, error %v", len(vs), err)
		}
		want := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "fimprune", "libopenblas0-pthread", "usr", "lib", "x86_64-linux-gnu", "openblas-pthread")
		if vs[1].libs != want {
			t.Errorf("OpenBLAS at %q, want %q", vs[1].libs, want)
		}
		c := calls()
		if !strings.HasPrefix(c, "apt-get download libopenblas0-pthread\ndpkg-deb -x ") || strings.Count(c, "\n") != 2 {
			t.Errorf("tool calls:\n%s\nwant apt-get download, then dpkg-deb -x", c)
		}
		if vs, _, err := variants(t); err != nil || len(vs) != 2 || vs[1].libs != want || calls() != c {
			t.Errorf("after -install: %v, runs %d; want the cached OpenBLAS found without fetching", err, len(vs))
		}
	})
	t.Run("torch for another interpreter", func(t *testing.T) {
		python, calls := fakeMachine(t, false)
		_, _, err := variants(t, "-install")
		if err == nil || !strings.Contains(err.Error(), "not for -python "+python) {
			t.Errorf("got %v", err)
		}
		if c := calls(); c != "" {
			t.Errorf("tools ran:\n%s", c)
		}
	})
}

// TestMissingReferenceSkipped: with torch missing and the reference not
// asked for, the Go side runs and the table says why the reference did not
// and how to get it.
func TestMissingReferenceSkipped(t *testing.T) {
	dir := adulttest.Dir(t)
	_, calls := fakeMachine(t, false)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), &stdout, &stderr, []string{"-data", dir, "-out", t.TempDir(), "-only", "fisher-all", "-quiet"}); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Fisher, all 28941 train rows") {
		t.Errorf("no Go figures:\n%s", stdout.String())
	}
	for _, out := range []string{stdout.String(), stderr.String()} {
		if !strings.Contains(out, "cannot import torch") || !strings.Contains(out, "sudo apt-get install -y python3-torch") {
			t.Errorf("output does not say what is missing and how to get it:\n%s", out)
		}
	}
	if c := calls(); c != "" {
		t.Errorf("tools ran without -install:\n%s", c)
	}
}
