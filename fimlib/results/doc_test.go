package results_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// schemaDoc is the page that documents every field.
const schemaDoc = "../../docs/results-schema.md"

// TestSchemaDocumented checks docs/results-schema.md against the types: every
// field of results.json and of inference_report_summary.json has a table row
// (its path in backquotes in the row's first cell), and every path in a
// first cell is a field.
func TestSchemaDocumented(t *testing.T) {
	data, err := os.ReadFile(schemaDoc)
	if err != nil {
		t.Fatal(err)
	}
	paths := append(testsupport.JSONPaths(reflect.TypeFor[results.Results]()), testsupport.JSONPaths(reflect.TypeFor[results.Summary]())...)
	if len(paths) < 100 {
		t.Fatalf("only %d paths; the walk is broken", len(paths))
	}
	known := map[string]bool{}
	for _, p := range paths {
		known[p.Path] = true
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
		if p.Required && !documented[p.Path] {
			t.Errorf("%s has no row for `%s`", schemaDoc, p.Path)
		}
	}
}

// TestJSONPaths pins the path walk on a few known fields, so that
// TestSchemaDocumented cannot pass by checking nothing.
func TestJSONPaths(t *testing.T) {
	got := map[string]bool{}
	for _, p := range testsupport.JSONPaths(reflect.TypeFor[results.Results]()) {
		got[p.Path] = p.Required
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
