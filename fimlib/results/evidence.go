package results

import (
	"math"
	"strconv"
	"strings"
)

// This file holds what schema v3 adds to the study: the typed identity of
// each method, the per-seed forget sets, the per-seed shadow-model attacks
// (RMIA, tie-robust offline LiRA, rotated U-LiRA, the challenge's ε without
// a mean that mixes in its cap) and the verdicts, which package
// fimlib/verdict computes and package report only renders.

// Family is a deletion method's family.
type Family string

// The families of the study's methods (unlearn.Method implementations).
const (
	FamilyFIM       Family = "fim-prune"       // top-f forget-set Fisher, zeroed, fine-tuned with the mask kept
	FamilyRatio     Family = "ratio-prune"     // forget/all Fisher ratio > α, zeroed, fine-tuned
	FamilySSD       Family = "ssd"             // selective synaptic dampening, no training
	FamilyFineTune  Family = "finetune"        // fine-tuning on the retained rows alone
	FamilyRandom    Family = "random-prune"    // control: f of the parameters at random
	FamilyMagnitude Family = "magnitude-prune" // control: f of the parameters by smallest magnitude
	FamilyNegGrad   Family = "neggrad+"        // α·ℓ_retain − (1−α)·ℓ_forget
	FamilyRetrain   Family = "retrain"         // from scratch on the retained rows
	FamilyIdentity  Family = "identity"        // the full model, unchanged
)

// Families lists every known family, in the report's order.
var Families = []Family{FamilyFIM, FamilyRatio, FamilySSD, FamilyFineTune, FamilyNegGrad, FamilyRandom, FamilyMagnitude, FamilyRetrain, FamilyIdentity}

// Known reports whether f is one of Families.
func (f Family) Known() bool {
	for _, k := range Families {
		if f == k {
			return true
		}
	}
	return false
}

// Recipes name the fine-tuning budgets a method may use.
const (
	RecipeSeed = "seed" // the seed notebook's: 20 epochs, Adam lr 1e-4
	RecipeFast = "fast" // train.FastFineTune
)

// MethodID is a method's identity as typed fields, so that nobody parses a
// name. Fields a family does not use are zero and left out of the file.
type MethodID struct {
	Family   Family  `json:"family"`
	Fraction float64 `json:"fraction,omitempty"` // share of parameters pruned (fim-prune, random-prune, magnitude-prune)
	Alpha    float64 `json:"alpha,omitempty"`    // ratio-prune, ssd, neggrad+
	Lambda   float64 `json:"lambda,omitempty"`   // ssd
	Recipe   string  `json:"recipe,omitempty"`   // fine-tuning budget of the methods that train after their edit
	// Replica tells apart runs of one family and settings with independent
	// seeds: retrain-2, the null reference, is Replica 2.
	Replica int `json:"replica,omitempty"`
}

// Role is what a method is in the comparison.
type Role string

const (
	RoleMethod    Role = "method"    // a deletion method under test
	RoleReference Role = "reference" // retrain: the gold standard
	RoleNull      Role = "null"      // retrain-2: an independent retrain, the noise floor
	RoleUpper     Role = "upper"     // identity: no deletion at all
)

// Role returns the method's role.
func (id MethodID) Role() Role {
	switch {
	case id.Family == FamilyRetrain && id.Replica >= 2:
		return RoleNull
	case id.Family == FamilyRetrain:
		return RoleReference
	case id.Family == FamilyIdentity:
		return RoleUpper
	}
	return RoleMethod
}

// Name is the method's name as results files and logs write it
// ("fim-prune-0.2", "fim-prune-0.2-fast", "ssd-a10-l1", "retrain-2").
func (id MethodID) Name() string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	var s string
	switch id.Family {
	case FamilyFIM, FamilyRandom, FamilyMagnitude:
		s = string(id.Family) + "-" + g(id.Fraction)
	case FamilyRatio, FamilyNegGrad:
		s = string(id.Family) + "-a" + g(id.Alpha)
	case FamilySSD:
		s = "ssd-a" + g(id.Alpha) + "-l" + g(id.Lambda)
	default:
		s = string(id.Family)
	}
	if id.Recipe != "" && id.Recipe != RecipeSeed {
		s += "-" + id.Recipe
	}
	if id.Replica >= 2 {
		s += "-" + strconv.Itoa(id.Replica)
	}
	return s
}

// legacyID recovers the identity of a schema v2 method from its name, the
// only place a name is parsed: v2 files carry no identity. ok is false for
// a name no v2 writer produced.
func legacyID(name string) (id MethodID, ok bool) {
	num := func(s string) (float64, bool) {
		x, err := strconv.ParseFloat(s, 64)
		return x, err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) && strconv.FormatFloat(x, 'g', -1, 64) == s
	}
	switch name {
	case "retrain":
		return MethodID{Family: FamilyRetrain}, true
	case "finetune":
		return MethodID{Family: FamilyFineTune, Recipe: RecipeSeed}, true
	}
	for _, f := range []Family{FamilyFIM, FamilyRandom, FamilyMagnitude} {
		if rest, found := strings.CutPrefix(name, string(f)+"-"); found {
			recipe := RecipeSeed
			if r, fast := strings.CutSuffix(rest, "-"+RecipeFast); fast {
				rest, recipe = r, RecipeFast
			}
			if x, good := num(rest); good {
				return MethodID{Family: f, Fraction: x, Recipe: recipe}, true
			}
		}
	}
	for _, f := range []Family{FamilyRatio, FamilyNegGrad} {
		if rest, found := strings.CutPrefix(name, string(f)+"-a"); found {
			if x, good := num(rest); good {
				id := MethodID{Family: f, Alpha: x, Recipe: RecipeSeed}
				return id, true
			}
		}
	}
	if rest, found := strings.CutPrefix(name, "ssd-a"); found {
		if a, l, cut := strings.Cut(rest, "-l"); cut {
			x, okA := num(a)
			y, okL := num(l)
			if okA && okL {
				return MethodID{Family: FamilySSD, Alpha: x, Lambda: y}, true
			}
		}
	}
	return MethodID{}, false
}

// ForgetSet is one seed's forget set.
type ForgetSet struct {
	// Spec is the deletion spec it was drawn with ("random:100") and Seed
	// the seed of that draw.
	Spec string `json:"spec"`
	Seed int64  `json:"seed"`
	// Rows are the rows' positions in the training split, ascending.
	Rows []int `json:"rows"`
	// SplitSeed is the split the positions refer to.
	SplitSeed int64 `json:"split_seed"`
}

// RMIASettings record how the RMIA attack (Zarifzadeh et al., ICML 2024)
// was set up; see docs/methods.md.
type RMIASettings struct {
	// Signal names P(x|θ): "true-label probability".
	Signal string `json:"signal"`
	// Gamma is the likelihood-ratio threshold γ, A the offline scaling a
	// chosen on the reference models from Grid (mean AUC GridAUC).
	Gamma   float64   `json:"gamma"`
	A       float64   `json:"a"`
	Grid    []float64 `json:"grid"`
	GridAUC []float64 `json:"grid_auc"`
	// TuneTargets is how many shadow models were attacked, each with the
	// others as references, to choose A; TuneRows how many pool rows each.
	TuneTargets int `json:"tune_targets"`
	TuneRows    int `json:"tune_rows"`
	// PopulationRows is the number of population rows z (validation rows,
	// which no model trained on).
	PopulationRows int `json:"population_rows"`
}

// Shadow holds one method's shadow-model attacks over the seeds (schema v3):
// for each seed, the method ran on ModelsPerSide shadows that trained on
// that seed's forget set, and those "unlearned" shadows are compared with
// ModelsPerSide shadows that never saw it.
type Shadow struct {
	ModelsPerSide int `json:"models_per_side"`
	// ULiRA is U-LiRA's balanced accuracy per seed, every model judged once
	// with the Gaussians fitted on the others (0.5: a perfect unlearner).
	ULiRA Estimate `json:"ulira_accuracy"`
	// ForgetScore is the challenge's F per seed; Capped the number of
	// forget rows per seed whose ε is the cap (fully separated as far as
	// the sweep can tell); MedianFiniteEpsilon the median of the finite ε
	// over every seed's rows (absent when none is finite); Ceiling the
	// largest finite ε ModelsPerSide models can show, about ln(N − 1).
	ForgetScore         Estimate `json:"forget_score"`
	Capped              Estimate `json:"capped_rows"`
	MedianFiniteEpsilon *float64 `json:"median_finite_epsilon,omitempty"`
	Ceiling             float64  `json:"ceiling"`
}

// Change says how much a method changed the full model, per seed.
type Change struct {
	// Parameters counts the parameters whose value differs from the full
	// model's; RelativeL2 is ‖θ′ − θ‖₂ / ‖θ‖₂.
	Parameters Estimate `json:"parameters"`
	RelativeL2 Estimate `json:"relative_l2"`
}

// Metric names a per-seed metric that verdicts compare.
type Metric string

// The metrics of the verdicts.
const (
	MetricTestAccuracy  Metric = "test_accuracy"    // utility
	MetricPopulationAUC Metric = "population_auc"   // logit-confidence population attack
	MetricRMIAAUC       Metric = "rmia_auc"         // RMIA, offline
	MetricLiRAAUC       Metric = "lira_offline_auc" // offline LiRA, tie-robust
	MetricULiRA         Metric = "ulira_accuracy"   // U-LiRA, rotated
)

// Metrics lists the verdicts' metrics in the report's order.
var Metrics = []Metric{MetricTestAccuracy, MetricPopulationAUC, MetricRMIAAUC, MetricLiRAAUC, MetricULiRA}

// Outcome is a verdict.
type Outcome string

const (
	OutcomeHigher    Outcome = "higher"              // the method's metric is higher than the reference's
	OutcomeLower     Outcome = "lower"               // lower
	OutcomeNotDist   Outcome = "not_distinguishable" // the data cannot tell them apart at the family's level
	OutcomeUndecided Outcome = "undecided"           // fewer than two seeds: no test
)

// Comparison is one paired comparison over seeds.
type Comparison struct {
	Method    string `json:"method"`
	Reference string `json:"reference"`
	Metric    Metric `json:"metric"`
	// Difference holds the per-seed differences method − reference, their
	// mean and 95 % t interval (not adjusted for the family).
	Difference Estimate `json:"difference"`
	// P is the paired t test's two-sided p-value; PHolm the p-value after
	// Holm's step-down correction over the family (capped at 1).
	P     float64 `json:"p"`
	PHolm float64 `json:"p_holm"`
	// MDE is the smallest absolute mean difference this comparison would
	// find with probability Verdicts.Power at the family's strictest level
	// α/m: (t₁₋α/(2m),ₙ₋₁ + t_power,ₙ₋₁) · sd/√n. What the data cannot decide.
	MDE     float64 `json:"mde"`
	Outcome Outcome `json:"outcome"`
}

// Finding is a method's verdict on one metric against retraining, judged
// against both the reference and the independent retrain: "higher" or
// "lower" only when both comparisons say so after Holm's correction.
type Finding struct {
	Method  string  `json:"method"`
	Metric  Metric  `json:"metric"`
	Outcome Outcome `json:"outcome"`
}

// Verdicts are the study's comparisons, as one family under Holm's
// correction.
type Verdicts struct {
	Alpha       float64      `json:"alpha"`      // family-wise error rate
	Power       float64      `json:"power"`      // of the MDE
	Correction  string       `json:"correction"` // "holm"
	Comparisons []Comparison `json:"comparisons"`
	Findings    []Finding    `json:"findings"`
}

// MethodByName returns the study's method with that name, or nil.
func (s *Study) MethodByName(name string) *Method {
	for i := range s.Methods {
		if s.Methods[i].Name == name {
			return &s.Methods[i]
		}
	}
	return nil
}

// MethodByRole returns the study's first method with that role, or nil.
func (s *Study) MethodByRole(r Role) *Method {
	for i := range s.Methods {
		if s.Methods[i].ID.Role() == r {
			return &s.Methods[i]
		}
	}
	return nil
}

// Estimate returns m's per-seed values of metric, or nil when m lacks it.
func (m *Method) Estimate(metric Metric) *Estimate {
	switch metric {
	case MetricTestAccuracy:
		return &m.TestAccuracy
	case MetricPopulationAUC:
		for i := range m.Attacks {
			if strings.ReplaceAll(m.Attacks[i].Score, "-", "_") == "logit_confidence" {
				return &m.Attacks[i].AUC
			}
		}
	case MetricRMIAAUC:
		return m.RMIAAUC
	case MetricLiRAAUC:
		return &m.LiRAOfflineAUC
	case MetricULiRA:
		if m.Shadow != nil {
			return &m.Shadow.ULiRA
		}
	}
	return nil
}

func (m Metric) String() string { return string(m) }
