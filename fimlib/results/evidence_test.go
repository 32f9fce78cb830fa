package results_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
)

// v2Names are names schema v2 writers gave methods (unlearn.Method.Name
// before method identities), with the identity Method.Identity recovers.
var v2Names = []struct {
	name string
	id   results.MethodID
}{
	{"fim-prune-0.2", results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeSeed}},
	{"fim-prune-0.2-fast", results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeFast}},
	{"fim-prune-0.25", results.MethodID{Family: results.FamilyFIM, Fraction: 0.25, Recipe: results.RecipeSeed}},
	{"ratio-prune-a10", results.MethodID{Family: results.FamilyRatio, Alpha: 10, Recipe: results.RecipeSeed}},
	{"ssd-a10-l1", results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1}},
	{"ssd-a0.5-l2.5", results.MethodID{Family: results.FamilySSD, Alpha: 0.5, Lambda: 2.5}},
	{"finetune", results.MethodID{Family: results.FamilyFineTune, Recipe: results.RecipeSeed}},
	{"random-prune-0.2", results.MethodID{Family: results.FamilyRandom, Fraction: 0.2, Recipe: results.RecipeSeed}},
	{"magnitude-prune-0.2", results.MethodID{Family: results.FamilyMagnitude, Fraction: 0.2, Recipe: results.RecipeSeed}},
	{"neggrad+-a0.95", results.MethodID{Family: results.FamilyNegGrad, Alpha: 0.95, Recipe: results.RecipeSeed}},
	{"retrain", results.MethodID{Family: results.FamilyRetrain}},
}

// TestIdentityV2 checks that Method.Identity recovers every name a v2
// writer produced, that the identity's Name gives the name back, and that
// names no writer produced are refused.
func TestIdentityV2(t *testing.T) {
	for _, tc := range v2Names {
		m := results.Method{Name: tc.name}
		id, ok := m.Identity()
		if !ok || id != tc.id {
			t.Errorf("Identity of %q = %+v, %v; want %+v", tc.name, id, ok, tc.id)
		}
		if got := id.Name(); got != tc.name {
			t.Errorf("Identity of %q has Name %q", tc.name, got)
		}
		if !id.Family.Known() {
			t.Errorf("%q: family %q unknown", tc.name, id.Family)
		}
	}
	for _, name := range []string{
		"", "fim-prune", "fim-prune-", "fim-prune-x", "fim-prune-0.20", "fim-prune-.2", "fim-prune-2e-1",
		"fim-prune-0.2-slow", "fim-prune-0.2-seed", "fim-prune-0.2-fast-fast", "FIM-prune-0.2", " fim-prune-0.2",
		"ratio-prune-10", "ratio-prune-a", "ratio-prune-a10-fast", "ssd-a10", "ssd-a10-l", "ssd-a10-lx", "ssd-l1-a10",
		"finetune-fast", "neggrad-a0.95", "neggrad+-0.95", "retrain-2", "retrain-1", "identity", "random-prune-NaN",
		"magnitude-prune-Inf", "fim-prune-+Inf", "ssd-aNaN-l1", "fisher-prune-0.2",
	} {
		m := results.Method{Name: name}
		if id, ok := m.Identity(); ok {
			t.Errorf("Identity of made-up name %q = %+v, accepted", name, id)
		}
	}
	// A v3 method's identity is its ID, whatever its name.
	m := results.Method{Name: "anything", ID: results.MethodID{Family: results.FamilyIdentity}}
	if id, ok := m.Identity(); !ok || id != m.ID {
		t.Errorf("Identity with an ID = %+v, %v; want the ID", id, ok)
	}
}

func TestMethodIDName(t *testing.T) {
	for _, tc := range []struct {
		id   results.MethodID
		want string
	}{
		{results.MethodID{Family: results.FamilyFIM, Fraction: 0.2}, "fim-prune-0.2"}, // no recipe: the seed's
		{results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeFast}, "fim-prune-0.2-fast"},
		{results.MethodID{Family: results.FamilyRatio, Alpha: 10, Recipe: results.RecipeFast}, "ratio-prune-a10-fast"},
		{results.MethodID{Family: results.FamilyFineTune, Recipe: results.RecipeFast}, "finetune-fast"},
		{results.MethodID{Family: results.FamilyRetrain, Replica: 2}, "retrain-2"},
		{results.MethodID{Family: results.FamilyRetrain, Replica: 1}, "retrain"}, // replica 1 is the first run
		{results.MethodID{Family: results.FamilyIdentity}, "identity"},
		{results.MethodID{Family: results.FamilyMagnitude, Fraction: 1e-7, Recipe: results.RecipeSeed}, "magnitude-prune-1e-07"},
	} {
		if got := tc.id.Name(); got != tc.want {
			t.Errorf("%+v.Name() = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestRole(t *testing.T) {
	for _, tc := range []struct {
		id   results.MethodID
		want results.Role
	}{
		{results.MethodID{Family: results.FamilyRetrain}, results.RoleReference},
		{results.MethodID{Family: results.FamilyRetrain, Replica: 1}, results.RoleReference},
		{results.MethodID{Family: results.FamilyRetrain, Replica: 2}, results.RoleNull},
		{results.MethodID{Family: results.FamilyRetrain, Replica: 3}, results.RoleNull},
		{results.MethodID{Family: results.FamilyIdentity}, results.RoleUpper},
		{results.MethodID{Family: results.FamilyFIM, Fraction: 0.2, Recipe: results.RecipeSeed}, results.RoleMethod},
		{results.MethodID{Family: results.FamilyRandom, Fraction: 0.2, Recipe: results.RecipeSeed}, results.RoleMethod},
		{results.MethodID{Family: results.FamilyFineTune, Recipe: results.RecipeSeed}, results.RoleMethod},
		{results.MethodID{Family: results.FamilySSD, Alpha: 10, Lambda: 1}, results.RoleMethod},
	} {
		if got := tc.id.Role(); got != tc.want {
			t.Errorf("%s: Role() = %q, want %q", tc.id.Name(), got, tc.want)
		}
	}
	for _, f := range results.Families {
		if !f.Known() {
			t.Errorf("family %q of Families is not Known", f)
		}
	}
	for _, f := range []results.Family{"", "fim", "FIM-prune", "retrain-2", "ssd "} {
		if f.Known() {
			t.Errorf("family %q is Known", f)
		}
	}
}

// TestStudyLookups checks MethodByName, MethodByRole and Method.Estimate on
// the golden study.
func TestStudyLookups(t *testing.T) {
	s := readResults(t, goldenResults).Study
	if m := s.MethodByName("ssd-a10-l1"); m != &s.Methods[1] {
		t.Errorf("MethodByName(ssd-a10-l1) = %p, want methods[1]", m)
	}
	if m := s.MethodByName("identity"); m != nil {
		t.Errorf("MethodByName(identity) = %s, want nil", m.Name)
	}
	for role, want := range map[results.Role]*results.Method{
		results.RoleMethod:    &s.Methods[0],
		results.RoleReference: &s.Methods[2],
		results.RoleNull:      &s.Methods[3],
		results.RoleUpper:     nil,
	} {
		if got := s.MethodByRole(role); got != want {
			t.Errorf("MethodByRole(%s) = %p, want %p", role, got, want)
		}
	}
	m := &s.Methods[0]
	for metric, want := range map[results.Metric]*results.Estimate{
		results.MetricTestAccuracy:  &m.TestAccuracy,
		results.MetricPopulationAUC: &m.Attacks[1].AUC, // logit_confidence
		results.MetricRMIAAUC:       m.RMIAAUC,
		results.MetricLiRAAUC:       &m.LiRAOfflineAUC,
		results.MetricULiRA:         &m.Shadow.ULiRA,
		"forget_kl":                 nil,
	} {
		if got := m.Estimate(metric); got != want {
			t.Errorf("Estimate(%s) = %v, want %v", metric, got, want)
		}
	}
	m.Attacks[1].Score = "logit-confidence" // mia.ScoreKind's spelling
	if got := m.Estimate(results.MetricPopulationAUC); got != &m.Attacks[1].AUC {
		t.Errorf("Estimate(population_auc) with score logit-confidence = %v", got)
	}
	bare := results.Method{Name: "retrain"}
	for _, metric := range []results.Metric{results.MetricPopulationAUC, results.MetricRMIAAUC, results.MetricULiRA} {
		if got := bare.Estimate(metric); got != nil {
			t.Errorf("Estimate(%s) of a method without it = %v, want nil", metric, got)
		}
	}
}

// TestDecodeV2 checks that schema v2 files stay readable: the v2 golden
// file decodes with Schema = SchemaV2, without the fields v3 added, and
// writes back unchanged (TestRoundTrip); its methods' identities come from
// their names. A v2 file with any field v3 added is refused, naming the
// field, and so is a v2 study relabelled v3 (it lacks the forget sets).
func TestDecodeV2(t *testing.T) {
	r := readResults(t, goldenV2Results)
	if r.Schema != results.SchemaV2 || r.Study == nil || r.Study.ForgetSets != nil || r.Study.Verdicts != nil {
		t.Fatalf("%s: schema %q, study %v", goldenV2Results, r.Schema, r.Study != nil)
	}
	for _, m := range r.Study.Methods {
		if m.ID != (results.MethodID{}) || m.Shadow != nil || m.Change != nil {
			t.Errorf("%s: v3 fields set in a v2 file", m.Name)
		}
		id, ok := m.Identity()
		if !ok || id.Name() != m.Name {
			t.Errorf("%s: Identity = %+v, %v", m.Name, id, ok)
		}
	}
	if m := r.Study.Methods[0]; m.ULiRA == nil || m.ULiRA.CI95 != [2]float64{0.5, 0.75} || m.Epsilon == nil || m.Epsilon.ModelsPerSide != 4 {
		t.Errorf("v2 golden: %s has U-LiRA %+v and ε %+v", m.Name, m.ULiRA, m.Epsilon)
	}
	if m := r.Study.Methods[2]; m.ULiRA != nil || m.Epsilon != nil {
		t.Errorf("v2 golden: %s has U-LiRA or ε", m.Name)
	}

	// A v2 file with a field of v3, added to the JSON.
	for _, tc := range []struct{ old, new, path string }{
		{`"shadows": 8,`, `"shadows": 8, "forget_sets": [{"spec": "random:2", "seed": 1, "rows": [0, 1], "split_seed": 11}],`, "study.forget_sets"},
		{`"shadows": 8,`, `"shadows": 8, "rmia": {"signal": "x", "gamma": 2, "a": 1, "grid": [1], "grid_auc": [0.5], "tune_targets": 1, "tune_rows": 1, "population_rows": 1},`, "study.rmia"},
		{`"seconds": 42.5`, `"verdicts": {"alpha": 0.05, "power": 0.8, "correction": "holm", "comparisons": [], "findings": []}, "seconds": 42.5`, "study.verdicts"},
		{`"name": "fim-prune-0.25",`, `"name": "fim-prune-0.25", "id": {"family": "fim-prune", "fraction": 0.25, "recipe": "seed"},`, "study.methods[0].id"},
		{`"name": "retrain",`, `"name": "retrain", "change": {"parameters": {"mean": 0, "ci95": [0, 0], "values": [0, 0, 0]}, "relative_l2": {"mean": 0, "ci95": [0, 0], "values": [0, 0, 0]}},`, "study.methods[2].change"},
		{`"name": "retrain",`, `"name": "retrain", "lira_tied_share": {"mean": 0, "ci95": [0, 0], "values": [0, 0, 0]},`, "study.methods[2].lira_tied_share"},
		{`"name": "retrain",`, `"name": "retrain", "rmia_auc": {"mean": 0.5, "ci95": [0.5, 0.5], "values": [0.5, 0.5, 0.5]},`, "study.methods[2].rmia_auc"},
		{`"name": "retrain",`, `"name": "retrain", "rmia_tpr_at_1pct_fpr": {"mean": 0, "ci95": [0, 0], "values": [0, 0, 0]},`, "study.methods[2].rmia_tpr_at_1pct_fpr"},
		{`"name": "random-prune-0.25",`, `"name": "random-prune-0.25", "shadow": {"models_per_side": 4},`, "study.methods[1].shadow"},
	} {
		data := string(readFile(t, goldenV2Results))
		if !strings.Contains(data, tc.old) {
			t.Fatalf("v2 golden file has no %q", tc.old)
		}
		data = strings.Replace(data, tc.old, tc.new, 1)
		_, err := results.Decode(strings.NewReader(data))
		var fe *results.FieldError
		if !errors.As(err, &fe) || fe.Path != tc.path || !strings.Contains(err.Error(), `present in a "`+results.SchemaV2+`" file, want schema "`+results.Schema+`"`) {
			t.Errorf("v2 file with %s: got %v, want a *FieldError for %s", tc.path, err, tc.path)
		}
	}

	// Relabelled: the v3 golden as v2 (refused at its first v3 field) and
	// the v2 golden as v3 (no forget sets).
	for _, tc := range []struct{ path, schema, field string }{
		{goldenResults, results.SchemaV2, "study.forget_sets"},
		{goldenV2Results, results.Schema, "study.forget_sets"},
	} {
		r := readResults(t, tc.path)
		r.Schema = tc.schema
		data, err := results.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		_, err = results.Decode(bytes.NewReader(data))
		var fe *results.FieldError
		if !errors.As(err, &fe) || fe.Path != tc.field {
			t.Errorf("%s as %s: got %v, want a *FieldError for %s", tc.path, tc.schema, err, tc.field)
		}
	}

	// The v2 golden with its study made v3 by hand decodes as v3.
	v3 := readResults(t, goldenResults)
	r.Schema, r.Study = results.Schema, v3.Study
	data, err := results.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := results.Decode(bytes.NewReader(data))
	if err != nil || !reflect.DeepEqual(back, v3) {
		t.Errorf("v2 golden with the v3 study: %v, equal to the v3 golden %v", err, reflect.DeepEqual(back, v3))
	}
}
