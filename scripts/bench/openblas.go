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
// process only; nothing is installed or switched system-wide.

// openBLASPackage is Debian's threaded OpenBLAS.
const openBLASPackage = "libopenblas0-pthread"

// openBLASDir returns a directory holding OpenBLAS's libblas.so.3: the
// installed package's, else one unpacked earlier into the user cache, else it
// fetches the package with `apt-get download` (no root needed) and unpacks it
// there with dpkg-deb.
func openBLASDir(ctx context.Context, log io.Writer) (string, error) {
	if found, _ := filepath.Glob("/usr/lib/*/openblas-pthread/libblas.so.3"); len(found) > 0 {
		return filepath.Dir(found[0]), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	root := filepath.Join(cache, "fimprune", openBLASPackage)
	find := func() (string, bool) {
		found, _ := filepath.Glob(filepath.Join(root, "usr", "lib", "*", "openblas-pthread", "libblas.so.3"))
		if len(found) == 0 {
			return "", false
		}
		return filepath.Dir(found[0]), true
	}
	if dir, ok := find(); ok {
		return dir, nil
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s is not installed and %s is not available to fetch it", openBLASPackage, tool)
		}
	}
	tmp, err := os.MkdirTemp("", "fimprune-openblas-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "bench: fetching %s (apt-get download) into %s\n", openBLASPackage, root)
	download := exec.CommandContext(ctx, "apt-get", "download", openBLASPackage)
	download.Dir, download.Stdout, download.Stderr = tmp, log, log
	if err := download.Run(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %w", openBLASPackage, err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, openBLASPackage+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s left %d .deb files", openBLASPackage, len(debs))
	}
	// Unpack beside the final place, then rename: a partial unpack is never found.
	staging := filepath.Join(tmp, "root")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], staging).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x: %v: %s", err, lastLine(out))
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(staging, root); err != nil && !errors.Is(err, os.ErrExist) {
		// Across file systems a rename fails: unpack in place instead.
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
			return "", fmt.Errorf("dpkg-deb -x: %v: %s", err, lastLine(out))
		}
	}
	if dir, ok := find(); ok {
		return dir, nil
	}
	return "", fmt.Errorf("%s unpacked into %s holds no openblas-pthread/libblas.so.3", openBLASPackage, root)
}
