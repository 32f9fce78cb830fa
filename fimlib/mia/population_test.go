package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// nullAUCSE is the standard error of the AUC of m against n scores from one
// continuous distribution: the Mann–Whitney U's null variance
// mn(m + n + 1)/12, divided by (mn)².
func nullAUCSE(m, n int) float64 {
	return math.Sqrt(float64(m+n+1) / (12 * float64(m) * float64(n)))
}

// aucSE is Hanley and McNeil's (Radiology 1982) standard error of an AUC A
// estimated from m positives and n negatives.
func aucSE(a float64, m, n int) float64 {
	q1, q2 := a/(2-a), 2*a*a/(1+a)
	return math.Sqrt((a*(1-a) + float64(m-1)*(q1-a*a) + float64(n-1)*(q2-a*a)) / float64(m*n))
}

func uniforms(r *rand.Rand, n int, lo float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + r.Float64()
	}
	return out
}

func TestSummarizeSeparated(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	member, nonMember := uniforms(r, 1000, 10), uniforms(r, 1000, 0)
	s, err := Summarize(member, nonMember, SummaryConfig{Bootstrap: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.AUC != 1 || s.Advantage != 1 || s.AUCCI95 != [2]float64{1, 1} || s.AdvantageCI95 != [2]float64{1, 1} {
		t.Errorf("AUC %v %v, advantage %v %v, want all 1", s.AUC, s.AUCCI95, s.Advantage, s.AdvantageCI95)
	}
	if len(s.LowFPR) != 2 {
		t.Fatalf("%d low-FPR entries, want 2 (the defaults)", len(s.LowFPR))
	}
	for _, l := range s.LowFPR {
		// 1000 non-members resolve both 1 % (10 false positives) and 0.1 % (1).
		if !l.Resolvable || l.TPR != 1 || l.CI95 != [2]float64{1, 1} {
			t.Errorf("TPR at FPR %v: %+v, want resolvable, 1 [1, 1]", l.FPR, l)
		}
	}
	if l := s.LowFPR[1]; l.FPR != 0.001 {
		t.Errorf("second default FPR %v", l.FPR)
	}
}

func TestSummarizeIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const m, n = 2000, 2000
	member, nonMember := normals(r, m, 0), normals(r, n, 0)
	s, err := Summarize(member, nonMember, SummaryConfig{Bootstrap: 300, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if se := nullAUCSE(m, n); math.Abs(s.AUC-0.5) > 4*se {
		t.Errorf("AUC %v, want 0.5 ± 4·%.4f", s.AUC, se)
	}
	if !(s.AUCCI95[0] < 0.5 && 0.5 < s.AUCCI95[1]) {
		t.Errorf("AUC interval %v excludes 0.5", s.AUCCI95)
	}
	// At FPR α the threshold is the non-members' (1 − α) quantile, so TPR
	// ≈ α with variance ≈ α(1 − α)(1/m + 1/n).
	for _, l := range s.LowFPR {
		se := math.Sqrt(l.FPR * (1 - l.FPR) * (1.0/m + 1.0/n))
		if !l.Resolvable || math.Abs(l.TPR-l.FPR) > 4*se {
			t.Errorf("TPR at FPR %v: %v, want %v ± 4·%.4f", l.FPR, l.TPR, l.FPR, se)
		}
		if !(l.CI95[0] <= l.TPR && l.TPR <= l.CI95[1]) {
			t.Errorf("TPR %v outside its interval %v", l.TPR, l.CI95)
		}
	}
	// The advantage of identical distributions is the two-sample
	// Kolmogorov–Smirnov statistic, whose 99 % point is 1.63·sqrt(1/m + 1/n).
	if ks := 1.63 * math.Sqrt(1.0/m+1.0/n); s.Advantage > ks {
		t.Errorf("advantage %v beyond the KS 99 %% point %v", s.Advantage, ks)
	}
}

// TestTPRAtFPRHand: members 5, 4, 3, 2 against non-members 4.5, 2.5, 0, −1.
// Cutoffs from the top: 5 (TP 1, FP 0), 4.5 (1, 1), 4 (2, 1), 3 (3, 1),
// 2.5 (3, 2), 2 (4, 2). With 4 non-members, FPR 25 % allows 1 false
// positive (TPR 3/4), 50 % allows 2 (TPR 1), 10 % allows 0.4: unresolvable.
func TestTPRAtFPRHand(t *testing.T) {
	s, err := Summarize([]float64{5, 4, 3, 2}, []float64{4.5, 2.5, 0, -1}, SummaryConfig{Bootstrap: 10, FPRs: []float64{0.25, 0.5, 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ok  bool
		tpr float64
	}{{true, 0.75}, {true, 1}, {false, math.NaN()}}
	for i, w := range want {
		l := s.LowFPR[i]
		if l.Resolvable != w.ok || !(l.TPR == w.tpr || math.IsNaN(l.TPR) && math.IsNaN(w.tpr)) {
			t.Errorf("FPR %v: resolvable %v TPR %v, want %v %v", l.FPR, l.Resolvable, l.TPR, w.ok, w.tpr)
		}
	}
	if l := s.LowFPR[2]; !math.IsNaN(l.CI95[0]) || !math.IsNaN(l.CI95[1]) {
		t.Errorf("unresolvable interval %v, want NaN", l.CI95)
	}
	// Advantage: at cutoff 3, TPR 3/4 − FPR 1/4 = ½; at 2: 1 − ½ = ½.
	if s.Advantage != 0.5 {
		t.Errorf("advantage %v, want 0.5", s.Advantage)
	}
}

// TestResolvability: n·α ≥ 1 exactly at the boundary.
func TestResolvability(t *testing.T) {
	for _, tc := range []struct {
		n         int
		fpr       float64
		resolvble bool
	}{{1000, 0.001, true}, {999, 0.001, false}, {100, 0.01, true}, {99, 0.01, false}, {500, 0.001, false}, {3, 1.0 / 3, true}} {
		s, err := Summarize([]float64{1}, make([]float64, tc.n), SummaryConfig{Bootstrap: 2, FPRs: []float64{tc.fpr}})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.LowFPR[0].Resolvable; got != tc.resolvble {
			t.Errorf("n %d, FPR %v: resolvable %v, want %v", tc.n, tc.fpr, got, tc.resolvble)
		}
	}
}

// TestSummarizeMatchesAttack: the shared resampling stream gives Attack's
// AUC interval, and the same seed gives the same summary.
func TestSummarizeMatchesAttack(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	member, nonMember := normals(r, 150, 0.3), normals(r, 120, 0)
	a, err := Attack(member, nonMember, 200, 5)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(member, nonMember, SummaryConfig{Bootstrap: 200, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if s.AUC != a.AUC || s.AUCCI95 != a.AUCCI95 || s.Advantage != a.Advantage || !reflect.DeepEqual(s.FPR, a.FPR) {
		t.Errorf("Summarize %v %v %v differs from Attack %v %v %v", s.AUC, s.AUCCI95, s.Advantage, a.AUC, a.AUCCI95, a.Advantage)
	}
	s2, _ := Summarize(member, nonMember, SummaryConfig{Bootstrap: 200, Seed: 5})
	s3, _ := Summarize(member, nonMember, SummaryConfig{Bootstrap: 200, Seed: 6})
	// The unresolvable 0.1 % entry is NaN, which DeepEqual never equates.
	s.LowFPR[1], s2.LowFPR[1] = TPRAtFPR{}, TPRAtFPR{}
	if !reflect.DeepEqual(s, s2) {
		t.Error("same seed, different summaries")
	}
	if s.AdvantageCI95 == s3.AdvantageCI95 && s.AUCCI95 == s3.AUCCI95 {
		t.Error("different seeds, same intervals")
	}
	if !(s.AdvantageCI95[0] <= s.Advantage && s.Advantage <= s.AdvantageCI95[1]) {
		t.Errorf("advantage %v outside %v", s.Advantage, s.AdvantageCI95)
	}
	// 120 non-members resolve 1 % (1 false positive) but not 0.1 %.
	if !s.LowFPR[0].Resolvable || s3.LowFPR[1].Resolvable || !math.IsNaN(s3.LowFPR[1].TPR) {
		t.Errorf("resolvability with 120 non-members: %+v", s3.LowFPR)
	}
}

func TestSummarizeErrors(t *testing.T) {
	ok := []float64{1, 2}
	for i, tc := range []struct {
		member, nonMember []float64
		cfg               SummaryConfig
		want              error
	}{
		0: {nil, ok, SummaryConfig{}, ErrEmpty},
		1: {ok, []float64{math.NaN()}, SummaryConfig{}, ErrNonFinite},
		2: {ok, ok, SummaryConfig{Bootstrap: -1}, nil},
		3: {ok, ok, SummaryConfig{FPRs: []float64{0}}, nil},
		4: {ok, ok, SummaryConfig{FPRs: []float64{1}}, nil},
		5: {ok, ok, SummaryConfig{FPRs: []float64{math.NaN()}}, nil},
	} {
		_, err := Summarize(tc.member, tc.nonMember, tc.cfg)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
}

func TestSplitMembers(t *testing.T) {
	m, n, skipped, err := SplitMembers([]float64{1, math.NaN(), 3, 4}, []bool{true, true, false, true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, []float64{1, 4}) || !reflect.DeepEqual(n, []float64{3}) || skipped != 1 {
		t.Errorf("got %v %v %d", m, n, skipped)
	}
	if _, _, _, err := SplitMembers([]float64{1}, nil); !errors.Is(err, ErrShape) {
		t.Errorf("length mismatch: %v", err)
	}
}
