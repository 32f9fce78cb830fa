package modelcard_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/modelcard"
)

// cardDoc is the page that documents every field of a card.
const cardDoc = "../../docs/modelcard.md"

// jsonPath is one field of a card, e.g. "model.tensors[].shape". required:
// a leaf, or an object of a type described at an earlier path (the page
// documents it once, and has a row for each later path pointing there).
type jsonPath struct {
	path     string
	required bool
}

// jsonPaths lists the fields of typ depth-first in field order, expanding a
// struct type at its first path only.
func jsonPaths(typ reflect.Type) []jsonPath {
	var out []jsonPath
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
				out = append(out, jsonPath{path, true})
			default:
				seen[elem] = true
				out = append(out, jsonPath{path, false})
				walk(elem, path+sep)
			}
		}
	}
	walk(typ, "")
	return out
}

// TestCardDocumented checks docs/modelcard.md against the types: every field
// of a card has a table row in its section "Fields" (the path in backquotes
// in the row's first cell), and every path in a first cell there is a field.
func TestCardDocumented(t *testing.T) {
	data, err := os.ReadFile(cardDoc)
	if err != nil {
		t.Fatal(err)
	}
	paths := jsonPaths(reflect.TypeFor[modelcard.Card]())
	known := map[string]bool{}
	for _, p := range paths {
		known[p.path] = true
	}
	for _, p := range []string{"trained_rows.spec.deletion.keep", "method.id.family", "method.forget_rows",
		"model.tensors[].shape", "training.recipe.patience", "data.splits.val"} {
		if !known[p] {
			t.Fatalf("the walk misses %s", p)
		}
	}
	documented := map[string]bool{}
	code := regexp.MustCompile("`([^`]+)`")
	inFields := false // field tables are in the section "## Fields"
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "## ") {
			inFields = line == "## Fields"
		}
		if !inFields || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 3 {
			t.Errorf("%s:%d: table row with %d cells: %s", cardDoc, i+1, len(cells), line)
		}
		for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
			if !known[m[1]] {
				t.Errorf("%s:%d: documents `%s`, which is not a field", cardDoc, i+1, m[1])
			}
			documented[m[1]] = true
		}
	}
	for _, p := range paths {
		if p.required && !documented[p.path] {
			t.Errorf("%s has no row for `%s`", cardDoc, p.path)
		}
	}
}
