// Package testsupport holds helpers that tests in several packages share.
// It imports nothing outside the standard library, so that the tests of
// package report, which must not depend on gomlx, can use it too.
package testsupport

import (
	"fmt"
	"slices"
	"strings"
)

// FirstDiff describes the first line where got and want differ, or how
// their line counts differ; "" when they are equal.
func FirstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  want: %s\n   got: %s", i+1, wl, gl)
		}
	}
	return ""
}

// MissingPlaceholders reads a flag.FlagSet's -h output and returns the
// flags whose line ("  -name PLACEHOLDER") shows no placeholder for their
// value, leaving out the booleans named in bools, which take none. listed
// is false when help lists no flag at all (so that a test of an empty or
// mis-captured help text cannot pass).
func MissingPlaceholders(help string, bools ...string) (missing []string, listed bool) {
	for _, line := range strings.Split(help, "\n") {
		name, ok := strings.CutPrefix(line, "  -")
		if !ok {
			continue
		}
		listed = true
		if !strings.Contains(name, " ") && !slices.Contains(bools, name) {
			missing = append(missing, name)
		}
	}
	return missing, listed
}
