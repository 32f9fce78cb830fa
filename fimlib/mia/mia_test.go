package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

const tol = 1e-12

// mannWhitney is the AUC as the Mann–Whitney U statistic over M·N pairs,
// ties counting one half: the definition the ROC integral must match.
func mannWhitney(member, nonMember []float64) float64 {
	var u float64
	for _, m := range member {
		for _, n := range nonMember {
			switch {
			case m > n:
				u++
			case m == n:
				u += 0.5
			}
		}
	}
	return u / float64(len(member)*len(nonMember))
}

func TestAUC(t *testing.T) {
	for i, tc := range []struct {
		member, nonMember []float64
		auc, advantage    float64
	}{
		0: {[]float64{3, 4, 5}, []float64{0, 1, 2}, 1, 1},
		1: {[]float64{0, 1, 2}, []float64{3, 4, 5}, 0, 1}, // |TPR − FPR| counts either side
		2: {[]float64{7, 7}, []float64{7, 7, 7}, 0.5, 0},
		3: {[]float64{1}, []float64{1}, 0.5, 0},
		// By hand: 0.9 and 0.8 beat all three (6 pairs); 0.4 beats 0.1,
		// ties 0.4 (½) and loses to 0.7: (6 + 1.5)/9. Advantage at cutoff
		// 0.8: TPR 2/3, FPR 0.
		4: {[]float64{0.9, 0.8, 0.4}, []float64{0.7, 0.4, 0.1}, 7.5 / 9, 2.0 / 3},
	} {
		got, err := AUC(tc.member, tc.nonMember)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if math.Abs(got-tc.auc) > tol {
			t.Errorf("%d: AUC = %v, want %v", i, got, tc.auc)
		}
		if mw := mannWhitney(tc.member, tc.nonMember); math.Abs(mw-tc.auc) > tol {
			t.Errorf("%d: Mann–Whitney %v disagrees with the table's %v", i, mw, tc.auc)
		}
		res, err := Attack(tc.member, tc.nonMember, 10, 1)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if math.Abs(res.AUC-tc.auc) > tol || math.Abs(res.Advantage-tc.advantage) > tol {
			t.Errorf("%d: Attack AUC, advantage = %v, %v, want %v, %v", i, res.AUC, res.Advantage, tc.auc, tc.advantage)
		}
	}
}

// TestAUCMannWhitney checks the ROC integral against the U statistic on
// scores with many ties.
func TestAUCMannWhitney(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		member := make([]float64, 1+r.IntN(60))
		nonMember := make([]float64, 1+r.IntN(60))
		for j := range member {
			member[j] = float64(r.IntN(8) + 1)
		}
		for j := range nonMember {
			nonMember[j] = float64(r.IntN(8))
		}
		got, err := AUC(member, nonMember)
		if err != nil {
			t.Fatal(err)
		}
		if want := mannWhitney(member, nonMember); math.Abs(got-want) > tol {
			t.Errorf("%d: AUC = %v, Mann–Whitney = %v", i, got, want)
		}
	}
}

func TestSeedBestThresholdAccuracy(t *testing.T) {
	for i, tc := range []struct {
		member, nonMember []float64
		acc, threshold    float64
	}{
		// By hand: thresholds 0.1 + i·0.8/99. Any t in [0.7, 0.8) calls
		// 0.9 and 0.8 members and the rest non-members: 5 of 6 right. The
		// first such threshold is i = 75, 0.1 + 75·0.8/99 = 0.70606…
		0: {[]float64{0.9, 0.8, 0.4}, []float64{0.7, 0.4, 0.1}, 5.0 / 6, 0.1 + 75*(0.8/99)},
		// All equal: every threshold is 7, nothing is > 7, so every row is
		// called a non-member: 3 of 5.
		1: {[]float64{7, 7}, []float64{7, 7, 7}, 0.6, 7},
		// Separated: at the first threshold (the minimum, 0) "> 0" calls
		// both members right and the non-member right.
		2: {[]float64{1, 2}, []float64{0}, 1, 0},
		// Reversed: the best is calling everything a non-member (t = max).
		3: {[]float64{0}, []float64{1}, 0.5, 1},
	} {
		acc, thr := SeedBestThresholdAccuracy(tc.member, tc.nonMember)
		if math.Abs(acc-tc.acc) > tol || math.Abs(thr-tc.threshold) > tol {
			t.Errorf("%d: got %v at %v, want %v at %v", i, acc, thr, tc.acc, tc.threshold)
		}
	}
	if acc, thr := SeedBestThresholdAccuracy(nil, nil); !math.IsNaN(acc) || !math.IsNaN(thr) {
		t.Errorf("empty: got %v, %v, want NaN, NaN", acc, thr)
	}
}

func normals(r *rand.Rand, n int, mean float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + r.NormFloat64()
	}
	return out
}

func TestAttackBootstrap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	member, nonMember := normals(r, 100, 0.5), normals(r, 100, 0)
	a, err := Attack(member, nonMember, 0, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Attack(member, nonMember, DefaultBootstrap, 42)
	c, _ := Attack(member, nonMember, DefaultBootstrap, 43)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed and default count differ: %+v vs %+v", a, b)
	}
	if a.AUCCI95 == c.AUCCI95 {
		t.Error("different seeds gave the same interval")
	}
	if !(a.AUCCI95[0] < a.AUC && a.AUC < a.AUCCI95[1]) {
		t.Errorf("AUC %v outside its interval %v", a.AUC, a.AUCCI95)
	}
	// The AUC's standard error with 100 vs 100 is about 0.04, so the
	// interval should be roughly 0.16 wide.
	if w := a.AUCCI95[1] - a.AUCCI95[0]; w < 0.08 || w > 0.3 {
		t.Errorf("interval width %v, want about 0.16", w)
	}
	if a.Members != 100 || a.NonMembers != 100 {
		t.Errorf("counts %d, %d", a.Members, a.NonMembers)
	}
}

func TestAttackErrors(t *testing.T) {
	ok := []float64{1, 2}
	for i, tc := range []struct {
		member, nonMember []float64
		bootstrap         int
		want              error
	}{
		0: {nil, ok, 10, ErrEmpty},
		1: {ok, []float64{}, 10, ErrEmpty},
		2: {[]float64{1, math.NaN()}, ok, 10, ErrNonFinite},
		3: {ok, []float64{math.Inf(-1)}, 10, ErrNonFinite},
		4: {ok, ok, -1, nil},
	} {
		_, err := Attack(tc.member, tc.nonMember, tc.bootstrap, 1)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
	if _, err := AUC(ok, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("AUC error %v, want ErrEmpty", err)
	}
}

func TestScores(t *testing.T) {
	p := []float64{1, 0.5, 0}
	got := LossScores(p)
	want := []float64{0, -math.Ln2, math.Log(MinProb)}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("LossScores[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	c := ConfidenceScores(p)
	c[0] = 9
	if p[0] != 1 {
		t.Error("ConfidenceScores aliases its input")
	}
}

func TestSampleNonMembers(t *testing.T) {
	pool := make([]int, 500)
	for i := range pool {
		pool[i] = 1000 + i
	}
	orig := slices.Clone(pool)
	a, err := SampleNonMembers(pool, 100, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SampleNonMembers(pool, 100, 5)
	c, _ := SampleNonMembers(pool, 100, 6)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("sampling is not determined by the seed")
	}
	if !slices.Equal(pool, orig) {
		t.Error("pool was modified")
	}
	seen := map[int]bool{}
	for _, v := range a {
		if v < 1000 || v >= 1500 || seen[v] {
			t.Fatalf("bad or repeated draw %d", v)
		}
		seen[v] = true
	}
	if len(a) != 100 {
		t.Errorf("got %d draws", len(a))
	}
	if all, _ := SampleNonMembers(pool, 500, 1); !slices.Equal(slices.Sorted(slices.Values(all)), orig) {
		t.Error("drawing the whole pool is not a permutation")
	}
	for _, n := range []int{-1, 501} {
		if _, err := SampleNonMembers(pool, n, 1); err == nil {
			t.Errorf("n = %d succeeded", n)
		}
	}
}

// TestROCCurve: the curve runs from (0, 0) to (1, 1) with FPR ascending, and
// integrating it gives the reported AUC; on a hand-made example it is the
// expected staircase.
func TestROCCurve(t *testing.T) {
	a, err := Attack([]float64{3, 2}, []float64{1, 2.5}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Cutoffs 3, 2.5, 2, 1: (FPR, TPR) = (0, ½), (½, ½), (½, 1), (1, 1), after (0, 0).
	wantFPR, wantTPR := []float64{0, 0, 0.5, 0.5, 1}, []float64{0, 0.5, 0.5, 1, 1}
	if !reflect.DeepEqual(a.FPR, wantFPR) || !reflect.DeepEqual(a.TPR, wantTPR) {
		t.Fatalf("ROC = %v / %v, want %v / %v", a.FPR, a.TPR, wantFPR, wantTPR)
	}
	if a.AUC != 0.75 {
		t.Errorf("AUC %v, want 0.75 (3 of 4 member/non-member pairs ordered)", a.AUC)
	}
}
