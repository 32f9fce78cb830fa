package results_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
)

// schemaDoc is the page that documents every field.
const schemaDoc = "../../docs/results-schema.md"

// jsonPath is one field of a JSON document, e.g. "models.pruned[].layers[].name".
type jsonPath struct {
	path string
	// required: a leaf, or an object of a type already described at an
	// earlier path (which the page documents once, as a row pointing to it).
	required bool
}

// jsonPaths lists the fields of typ depth-first in field order. A struct type
// is expanded at its first path only.
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
			case elem.Kind() != reflect.Struct:
				out = append(out, jsonPath{path, true})
			case seen[elem]:
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

// TestSchemaDocumented checks docs/results-schema.md against the types: every
// field of results.json and of inference_report_summary.json has a table row
// (its path in backquotes in the row's first cell), and every path in a
// first cell is a field.
func TestSchemaDocumented(t *testing.T) {
	data, err := os.ReadFile(schemaDoc)
	if err != nil {
		t.Fatal(err)
	}
	paths := append(jsonPaths(reflect.TypeFor[results.Results]()), jsonPaths(reflect.TypeFor[results.Summary]())...)
	if len(paths) < 100 {
		t.Fatalf("only %d paths; the walk is broken", len(paths))
	}
	known := map[string]bool{}
	for _, p := range paths {
		known[p.path] = true
	}

	documented := map[string]bool{}
	code := regexp.MustCompile("`([^`]+)`")
	for i, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 4 {
			t.Errorf("%s:%d: table row with %d cells: %s", schemaDoc, i+1, len(cells), line)
		}
		for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
			if !known[m[1]] {
				t.Errorf("%s:%d: documents `%s`, which is not a field", schemaDoc, i+1, m[1])
			}
			documented[m[1]] = true
		}
	}
	for _, p := range paths {
		if p.required && !documented[p.path] {
			t.Errorf("%s has no row for `%s`", schemaDoc, p.path)
		}
	}
}

// TestJSONPaths pins the path walk on a few known fields, so that
// TestSchemaDocumented cannot pass by checking nothing.
func TestJSONPaths(t *testing.T) {
	got := map[string]bool{}
	for _, p := range jsonPaths(reflect.TypeFor[results.Results]()) {
		got[p.path] = p.required
	}
	for path, required := range map[string]bool{
		"schema":                           true,
		"config.model.hidden":              true,
		"config.train":                     false,
		"config.train.patience":            true,
		"config.finetune":                  true, // TrainConfig again
		"models.full.classes[].label":      true,
		"models.full.mia.auc_ci95":         true,
		"models.full.mia_confidence":       true, // MIA again
		"models.retrain":                   true, // Model again
		"models.pruned[].layers[].total":   true,
		"models.pruned[].classes":          true,
		"fisher.summary.p99":               true,
		"fisher.tensors[].stats":           true, // Stats again
		"fisher.other":                     false,
		"fisher.other.top_overlap":         true,
		"timings.prune_finetune_seconds":   true,
		"models.pruned[].deletion_seconds": true,
	} {
		if r, ok := got[path]; !ok || r != required {
			t.Errorf("path %s: present %v, required %v; want required %v", path, ok, r, required)
		}
	}
	for path := range got {
		if strings.HasPrefix(path, "models.retrain.") || strings.HasPrefix(path, "config.finetune.") {
			t.Errorf("path %s: a repeated type was expanded again", path)
		}
	}
}
