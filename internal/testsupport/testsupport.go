// Package testsupport holds helpers that tests in several packages share.
// It imports nothing outside the standard library, so that the tests of
// package report, which must not depend on gomlx, can use it too.
package testsupport

import (
	"fmt"
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
