package modelcard_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/modelcard"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// cardDoc is the page that documents every field of a card.
const cardDoc = "../../docs/modelcard.md"

// TestCardDocumented checks docs/modelcard.md against the types: every field
// of a card has a table row in its section "Fields" (the path in backquotes
// in the row's first cell), and every path in a first cell there is a field.
func TestCardDocumented(t *testing.T) {
	data, err := os.ReadFile(cardDoc)
	if err != nil {
		t.Fatal(err)
	}
	paths := testsupport.JSONPaths(reflect.TypeFor[modelcard.Card]())
	known := map[string]bool{}
	for _, p := range paths {
		known[p.Path] = true
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
		if p.Required && !documented[p.Path] {
			t.Errorf("%s has no row for `%s`", cardDoc, p.Path)
		}
	}
}
