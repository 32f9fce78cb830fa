package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Debian's python3-torch calls the BLAS that libblas.so.3 resolves to. With
// only python3-torch installed that is the netlib reference BLAS, which on
// this project's machine made a 4096×128 by 4096×96 matrix product 20× and a
// batch-64 layer 17× slower than OpenBLAS. The harness therefore also runs the
// reference with Debian's OpenBLAS put first on LD_LIBRARY_PATH for that
// process only; nothing is installed or switched system-wide (installed, the
// package would become the system's libblas.so.3 through update-alternatives
// and so change the "as installed" run too). Only
// -install fetches it; otherwise a missing package is reported with the
// command that gets it.

// openBLASPackage is Debian's threaded OpenBLAS.
const openBLASPackage = "libopenblas0-pthread"

// openBLASSystemGlob finds the installed package's libblas.so.3 (a variable
// so that tests can point it at an empty directory).
var openBLASSystemGlob = "/usr/lib/*/openblas-pthread/libblas.so.3"

// openBLASCache is where -install unpacks the package: the user cache's
// fimprune/libopenblas0-pthread.
func openBLASCache() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "fimprune", openBLASPackage), nil
}

// findOpenBLAS returns a directory holding OpenBLAS's libblas.so.3: the
// installed package's, else the one -install unpacked into the user cache.
// It installs and downloads nothing; missing, when it finds none, says so
// with the command that gets it.
func findOpenBLAS() (dir, missing string) {
	if found, _ := filepath.Glob(openBLASSystemGlob); len(found) > 0 {
		return filepath.Dir(found[0]), ""
	}
	root, err := openBLASCache()
	if err != nil {
		return "", fmt.Sprintf("%s is not installed and there is no user cache to hold it (%v); pass -openblas-dir DIR", openBLASPackage, err)
	}
	if dir, ok := findUnder(root); ok {
		return dir, ""
	}
	return "", fmt.Sprintf("%s is neither installed nor in %s; get it with: go run ./scripts/bench -install "+
		"(apt-get download into the user cache: no root, nothing installed system-wide), or pass -openblas-dir DIR", openBLASPackage, root)
}

// findUnder finds openblas-pthread/libblas.so.3 in a package unpacked at root.
func findUnder(root string) (string, bool) {
	found, _ := filepath.Glob(filepath.Join(root, "usr", "lib", "*", "openblas-pthread", "libblas.so.3"))
	if len(found) == 0 {
		return "", false
	}
	return filepath.Dir(found[0]), true
}

// checkOpenBLASDir checks a directory given with -openblas-dir.
func checkOpenBLASDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "libblas.so.3")); err != nil {
		return fmt.Errorf("-openblas-dir %s holds no libblas.so.3", dir)
	}
	return nil
}

// fetchOpenBLAS (-install) fetches the package with `apt-get download` (no
// root needed), unpacks it into the user cache with dpkg-deb and returns the
// directory holding its libblas.so.3. Nothing is installed system-wide.
func fetchOpenBLAS(ctx context.Context, log io.Writer) (string, error) {
	root, err := openBLASCache()
	if err != nil {
		return "", err
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("-install: %s is not available to fetch %s (not Debian?); pass -openblas-dir DIR or -openblas=false", tool, openBLASPackage)
		}
	}
	tmp, err := os.MkdirTemp("", "fimprune-openblas-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "bench: fetching %s (apt-get download, -install) into %s\n", openBLASPackage, root)
	download := exec.CommandContext(ctx, "apt-get", "download", openBLASPackage)
	download.Dir, download.Stdout, download.Stderr = tmp, log, log
	if err := download.Run(); err != nil {
		return "", fmt.Errorf("-install: apt-get download %s: %w", openBLASPackage, err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, openBLASPackage+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("-install: apt-get download %s left %d .deb files", openBLASPackage, len(debs))
	}
	// Unpack beside the final place, then rename: a partial unpack is never found.
	staging := filepath.Join(tmp, "root")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], staging).CombinedOutput(); err != nil {
		return "", fmt.Errorf("-install: dpkg-deb -x: %v: %s", err, lastLine(out))
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(staging, root); err != nil && !errors.Is(err, os.ErrExist) {
		// Across file systems a rename fails: unpack in place instead.
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
			return "", fmt.Errorf("-install: dpkg-deb -x: %v: %s", err, lastLine(out))
		}
	}
	if dir, ok := findUnder(root); ok {
		return dir, nil
	}
	return "", fmt.Errorf("-install: %s unpacked into %s holds no openblas-pthread/libblas.so.3", openBLASPackage, root)
}
