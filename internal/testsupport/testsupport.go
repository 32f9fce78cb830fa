// Package testsupport holds helpers that tests in several packages share.
// It imports nothing outside the standard library, so that the tests of
// package report, which must not depend on gomlx, can use it too.
package testsupport

import (
	"fmt"
	"reflect"
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

// JSONPath is one field of a JSON document, e.g.
// "models.pruned[].layers[].name". Required: a leaf, or an object of a type
// already described at an earlier path (which a schema page documents once,
// with a row at each later path pointing to it).
type JSONPath struct {
	Path     string
	Required bool
}

// JSONPaths lists the fields of the struct type typ depth-first in field
// order, by their JSON names (it panics on a field without one). A struct
// type is expanded at its first path only. The schema pages' tests check
// their tables against it.
func JSONPaths(typ reflect.Type) []JSONPath {
	var out []JSONPath
	seen := map[reflect.Type]bool{typ: true}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				panic("field without a JSON name: " + typ.Name() + "." + f.Name)
			}
			path, elem := prefix+name, f.Type
			if elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
			sep := "."
			if elem.Kind() == reflect.Slice && elem.Elem().Kind() == reflect.Struct {
				elem, sep = elem.Elem(), "[]."
			}
			switch {
			case elem.Kind() != reflect.Struct, seen[elem]:
				out = append(out, JSONPath{path, true})
			default:
				seen[elem] = true
				out = append(out, JSONPath{path, false})
				walk(elem, path+sep)
			}
		}
	}
	walk(typ, "")
	return out
}
