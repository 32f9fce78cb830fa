package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRMIAHand: two references, four attacked rows and four population
// rows, with dyadic probabilities so that every ratio below is exact. With
// a = ½, P(·) = ½(1.5·P_OUT + 0.5) = 0.75·P_OUT + 0.25:
//
//	x0: OUT 0.5 (the 0.9 is IN)  P = 0.625  target 1      r = 1.6
//	x1: OUT 0.25, 0.75           P = 0.625  target 0.125  r = 0.2
//	x2: both references IN                                 skipped
//	x3: OUT 0, 0                 P = 0.25   target 0.5    r = 2
//	z0: 0.5, 0.5                 P = 0.625  target 0.0625 r = 0.1
//	z1: 0, 0                     P = 0.25   target 0.125  r = 0.5
//	z2: 1, 1                     P = 1      target 0.8    r = 0.8
//	z3: 0.5, 0.5                 P = 0.625  target 0.625  r = 1
//
// A pair counts when r_x ≥ γ·r_z. γ = 2: x0 beats z0, z1 and z2 (LR =
// 1.6/0.8 = 2 exactly, counted), 3/4; x1 beats z0 (LR = 2 exactly), 1/4;
// x3 beats all four (LR 2 against z3), 1. γ = 4: x0 beats z0 (16), 1/4;
// x1 none; x3 z0 and z1 (LR 4 exactly), 1/2.
func TestRMIAHand(t *testing.T) {
	refs := [][]float64{{0.5, 0.25, 1, 0}, {0.9, 0.75, 1, 0}}
	refIn := [][]bool{{false, false, true, false}, {true, false, true, false}}
	target := []float64{1, 0.125, 0.3, 0.5}
	popRefs := [][]float64{{0.5, 0, 1, 0.5}, {0.5, 0, 1, 0.5}}
	popTarget := []float64{0.0625, 0.125, 0.8, 0.625}
	nan := math.NaN()
	for _, tc := range []struct {
		cfg  RMIAConfig
		want []float64
	}{
		{RMIAConfig{A: 0.5}, []float64{0.75, 0.25, nan, 1}},
		{RMIAConfig{A: 0.5, Gamma: 2}, []float64{0.75, 0.25, nan, 1}},
		{RMIAConfig{A: 0.5, Gamma: 4}, []float64{0.25, 0, nan, 0.5}},
		// a = 1: P = P_OUT, floored at MinProb for x3 (P_OUT = 0), whose r
		// = 0.5e12 beats everything. r: x0 2, x1 0.25; z0 0.125, z1
		// 0.125/1e-12, z2 0.8, z3 1.25. γ = 2: x0 beats z0 and z2 (LR
		// 2.5); x1 beats z0 (LR 2); x3 beats all.
		{RMIAConfig{A: 1}, []float64{0.5, 0.25, nan, 1}},
	} {
		res, err := RMIA(target, refs, refIn, popTarget, popRefs, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != 1 {
			t.Errorf("%+v: skipped %d, want 1", tc.cfg, res.Skipped)
		}
		for i, w := range tc.want {
			if g := res.Score[i]; !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
				t.Errorf("%+v: row %d score %v, want %v", tc.cfg, i, g, w)
			}
		}
	}
}

// rmiaBrute is the paper's score written out pair by pair: LR(x, z) by
// division, counted when ≥ γ. It returns the scores and, per row, whether
// some pair sat within rounding of γ (where the two forms may differ).
func rmiaBrute(target []float64, refs [][]float64, refIn [][]bool, popTarget []float64, popRefs [][]float64, a, gamma float64) (score []float64, close []bool) {
	px := func(refs [][]float64, in [][]bool, i int) float64 {
		var s, n float64
		for k := range refs {
			if in == nil || !in[k][i] {
				s, n = s+refs[k][i], n+1
			}
		}
		if n == 0 {
			return math.NaN()
		}
		return math.Max(((1+a)*s/n+(1-a))/2, MinProb)
	}
	score, close = make([]float64, len(target)), make([]bool, len(target))
	for i, t := range target {
		p := px(refs, refIn, i)
		if math.IsNaN(p) {
			score[i] = math.NaN()
			continue
		}
		c := 0
		for j, tz := range popTarget {
			lr := (t / p) / (tz / px(popRefs, nil, j))
			if lr >= gamma {
				c++
			}
			if math.Abs(lr-gamma) < 1e-9*gamma {
				close[i] = true
			}
		}
		score[i] = float64(c) / float64(len(popTarget))
	}
	return score, close
}

// rmiaWorld is a synthetic offline-RMIA experiment in logit space. Row i
// has a difficulty b_i ~ N(0, spread²) shared by every model; a model
// that trained on it gives the true label probability σ(b_i + sep + ε),
// one that did not σ(b_i + ε), ε ~ N(0, 1). Each row is IN for exactly
// half of the references; the target trained on a random half of the
// rows (with null, it scores every row like an OUT reference). Population
// rows have their own difficulties and no model trained on them.
type rmiaWorld struct {
	target, popTarget []float64
	refs, popRefs     [][]float64
	refIn             [][]bool
	member            []bool
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func newRMIAWorld(seed uint64, rows, pop, refs int, sep, spread float64, null bool) rmiaWorld {
	r := rand.New(rand.NewPCG(seed, 97))
	w := rmiaWorld{target: make([]float64, rows), popTarget: make([]float64, pop), refs: make([][]float64, refs), popRefs: make([][]float64, refs), refIn: make([][]bool, refs), member: make([]bool, rows)}
	for k := range refs {
		w.refs[k], w.popRefs[k], w.refIn[k] = make([]float64, rows), make([]float64, pop), make([]bool, rows)
	}
	for i := range rows {
		b := spread * r.NormFloat64()
		for n, k := range r.Perm(refs) {
			in := n < refs/2
			w.refIn[k][i] = in
			l := b + r.NormFloat64()
			if in {
				l += sep
			}
			w.refs[k][i] = sigmoid(l)
		}
		w.member[i] = r.IntN(2) == 0
		l := b + r.NormFloat64()
		if w.member[i] && !null {
			l += sep
		}
		w.target[i] = sigmoid(l)
	}
	for j := range pop {
		b := spread * r.NormFloat64()
		for k := range refs {
			w.popRefs[k][j] = sigmoid(b + r.NormFloat64())
		}
		w.popTarget[j] = sigmoid(b + r.NormFloat64())
	}
	return w
}

func (w rmiaWorld) auc(t *testing.T, score []float64) (auc float64, members, nonMembers int) {
	t.Helper()
	m, n, _, err := SplitMembers(score, w.member)
	if err != nil {
		t.Fatal(err)
	}
	a, err := AUC(m, n)
	if err != nil {
		t.Fatal(err)
	}
	return a, len(m), len(n)
}

// TestRMIAMatchesPairs: the sorted, binary-searched scores equal the
// pair-by-pair definition, except where a pair's LR is within rounding of
// γ.
func TestRMIAMatchesPairs(t *testing.T) {
	w := newRMIAWorld(5, 300, 200, 6, 2, 3, false)
	for _, cfg := range []RMIAConfig{{A: 0}, {A: 0.3}, {A: 1, Gamma: 1}, {A: 0.6, Gamma: 0.5}} {
		res, err := RMIA(w.target, w.refs, w.refIn, w.popTarget, w.popRefs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ = cfg.resolved()
		want, close := rmiaBrute(w.target, w.refs, w.refIn, w.popTarget, w.popRefs, cfg.A, cfg.Gamma)
		for i := range want {
			if g := res.Score[i]; g != want[i] && !close[i] {
				t.Errorf("%+v: row %d score %v, pairs give %v", cfg, i, g, want[i])
			}
		}
	}
}

// TestRMIAPower: with row difficulty spread 3 (in logit units) far wider
// than the membership shift 2, the target's own confidence is a weak
// attack, Φ(2/√(2(9 + 1))) ≈ 0.67 (the AUC is rank-invariant), while RMIA
// compares each row with its OUT references and does far better. (On
// probabilities it cannot help on easy rows, where every model gives
// nearly 1.) With the target drawn like an OUT reference there is nothing
// to find: AUC 0.5 within 4 null standard errors.
func TestRMIAPower(t *testing.T) {
	const rows, pop, refs, sep, spread = 2000, 1000, 16, 2.0, 3.0
	w := newRMIAWorld(1, rows, pop, refs, sep, spread, false)
	conf, m, n := w.auc(t, w.target)
	if want := stdNormal.CDF(sep / math.Sqrt(2*(spread*spread+1))); math.Abs(conf-want) > 4*aucSE(want, m, n) {
		t.Errorf("confidence AUC %.4f, want %.4f", conf, want)
	}
	for _, a := range []float64{0, 0.3, 1} {
		res, err := RMIA(w.target, w.refs, w.refIn, w.popTarget, w.popRefs, RMIAConfig{A: a})
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != 0 {
			t.Errorf("a = %v: %d skipped", a, res.Skipped)
		}
		got, _, _ := w.auc(t, res.Score)
		// Over 12 other seeds RMIA scored 0.75 to 0.83, 0.08 to 0.16
		// above the confidence.
		if got < 0.72 || got < conf+0.05 {
			t.Errorf("a = %v: RMIA AUC %.4f, confidence %.4f; want RMIA above 0.72 and 0.05 above", a, got, conf)
		}
	}
	for seed := range uint64(3) {
		w := newRMIAWorld(10+seed, rows, pop, refs, sep, spread, true)
		for _, a := range []float64{0.3, 1} {
			res, err := RMIA(w.target, w.refs, w.refIn, w.popTarget, w.popRefs, RMIAConfig{A: a})
			if err != nil {
				t.Fatal(err)
			}
			got, m, n := w.auc(t, res.Score)
			if se := nullAUCSE(m, n); math.Abs(got-0.5) > 4*se {
				t.Errorf("null, seed %d, a = %v: AUC %.4f, want 0.5 ± 4·%.4f", seed, a, got, se)
			}
		}
	}
}

// tuneWorld: models × rows true-label probabilities where training on a
// row multiplies its probability by 2: p = m_i·2^in·e^{0.1ε}, with the
// rows' base probabilities m_i spread log-uniformly over [10⁻⁴, 10^-0.5].
// Only P(x|θ)/P_OUT(x), a = 1, removes the spread; any a < 1 leaves the
// floor (1 − a)/2 in P(x), which swamps the small m_i. With flat, every
// OUT and population probability is 0.3 and an IN one is 0.9 or 0.3 at
// random: P(x) is the same for every row, so every a ranks rows alike.
func tuneWorld(seed uint64, models, rows, pop int, flat bool) (probs [][]float64, in [][]bool, popProbs [][]float64) {
	r := rand.New(rand.NewPCG(seed, 96))
	draw := func(m float64, in bool) float64 {
		if flat {
			if in && r.IntN(2) == 0 {
				return 0.9
			}
			return 0.3
		}
		p := m * math.Exp(0.1*r.NormFloat64())
		if in {
			p *= 2
		}
		return min(p, 1)
	}
	probs, in, popProbs = make([][]float64, models), make([][]bool, models), make([][]float64, models)
	for k := range models {
		probs[k], in[k], popProbs[k] = make([]float64, rows), make([]bool, rows), make([]float64, pop)
	}
	for i := range rows {
		m := math.Pow(10, -4+3.5*r.Float64())
		for n, k := range r.Perm(models) {
			in[k][i] = n < models/2
			probs[k][i] = draw(m, in[k][i])
		}
	}
	for j := range pop {
		m := math.Pow(10, -4+3.5*r.Float64())
		for k := range models {
			popProbs[k][j] = draw(m, false)
		}
	}
	return probs, in, popProbs
}

// TestRMIATune: the mean AUC per a equals RMIA run by hand on each target
// with the other models as references; on the multiplicative world a = 1
// wins by far, and on the flat world every a ties and the smallest wins.
func TestRMIATune(t *testing.T) {
	grid := []float64{0.5, 0, 1, 0.2, 0.8}
	targets := []int{0, 3, 5}
	probs, in, popProbs := tuneWorld(1, 8, 400, 300, false)
	best, mean, err := RMIATune(probs, in, popProbs, targets, grid, 0)
	if err != nil {
		t.Fatal(err)
	}
	for g, a := range grid {
		var want float64
		for _, tg := range targets {
			var refs, popRefs [][]float64
			var refIn [][]bool
			for k := range probs {
				if k != tg {
					refs, refIn, popRefs = append(refs, probs[k]), append(refIn, in[k]), append(popRefs, popProbs[k])
				}
			}
			res, err := RMIA(probs[tg], refs, refIn, popProbs[tg], popRefs, RMIAConfig{A: a})
			if err != nil {
				t.Fatal(err)
			}
			m, n, _, _ := SplitMembers(res.Score, in[tg])
			auc, _ := AUC(m, n)
			want += auc / float64(len(targets))
		}
		if math.Abs(mean[g]-want) > 1e-12 {
			t.Errorf("a = %v: mean AUC %v, by hand %v", a, mean[g], want)
		}
	}
	if best != 1 {
		t.Errorf("best a %v, want 1; mean AUCs %v over %v", best, mean, grid)
	}
	for g, a := range grid {
		if a != 1 && mean[g] > mean[2]-0.05 {
			t.Errorf("a = %v: mean AUC %.4f, not clearly below a = 1's %.4f", a, mean[g], mean[2])
		}
	}

	probs, in, popProbs = tuneWorld(2, 6, 200, 100, true)
	best, mean, err = RMIATune(probs, in, popProbs, []int{1, 2}, grid, 0)
	if err != nil {
		t.Fatal(err)
	}
	for g := range grid {
		if mean[g] != mean[0] {
			t.Errorf("flat world: mean AUCs %v differ", mean)
			break
		}
	}
	if best != 0 {
		t.Errorf("flat world: best a %v, want the smallest, 0", best)
	}
}

func TestRMIAErrors(t *testing.T) {
	x := []float64{0.5, 0.25}
	refs := [][]float64{{0.5, 0.5}, {0.25, 0.75}}
	refIn := [][]bool{{false, true}, {true, false}}
	pop := []float64{0.5}
	popRefs := [][]float64{{0.5}, {0.5}}
	for i, tc := range []struct {
		target, popTarget []float64
		refs, popRefs     [][]float64
		refIn             [][]bool
		cfg               RMIAConfig
		want              error
	}{
		0:  {x, pop, nil, nil, nil, RMIAConfig{}, ErrTooFewShadows},
		1:  {x, pop, refs, popRefs, refIn[:1], RMIAConfig{}, ErrShape},
		2:  {x, pop, refs, popRefs[:1], refIn, RMIAConfig{}, ErrShape},
		3:  {x[:1], pop, refs, popRefs, refIn, RMIAConfig{}, ErrShape},
		4:  {x, []float64{0.5, 0.5}, refs, popRefs, refIn, RMIAConfig{}, ErrShape},
		5:  {nil, pop, [][]float64{{}, {}}, popRefs, [][]bool{{}, {}}, RMIAConfig{}, ErrEmpty},
		6:  {x, nil, refs, [][]float64{{}, {}}, refIn, RMIAConfig{}, ErrEmpty},
		7:  {[]float64{0.5, 1.5}, pop, refs, popRefs, refIn, RMIAConfig{}, ErrNonFinite},
		8:  {x, []float64{-0.1}, refs, popRefs, refIn, RMIAConfig{}, ErrNonFinite},
		9:  {x, pop, [][]float64{{0.5, math.NaN()}, {0.25, 0.75}}, popRefs, refIn, RMIAConfig{}, ErrNonFinite},
		10: {x, pop, refs, [][]float64{{0.5}, {math.Inf(1)}}, refIn, RMIAConfig{}, ErrNonFinite},
		// Every attacked row is IN for every reference.
		11: {x, pop, refs, popRefs, [][]bool{{true, true}, {true, true}}, RMIAConfig{}, ErrTooFewShadows},
		12: {x, pop, refs, popRefs, refIn, RMIAConfig{A: -0.1}, nil},
		13: {x, pop, refs, popRefs, refIn, RMIAConfig{A: 1.1}, nil},
		14: {x, pop, refs, popRefs, refIn, RMIAConfig{Gamma: -1}, nil},
		15: {x, pop, refs, popRefs, refIn, RMIAConfig{A: math.NaN()}, nil},
		16: {x, pop, refs, popRefs, refIn, RMIAConfig{Gamma: math.Inf(1)}, nil},
	} {
		_, err := RMIA(tc.target, tc.refs, tc.refIn, tc.popTarget, tc.popRefs, tc.cfg)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%d: error %v, want %v", i, err, tc.want)
		}
	}
	if _, err := RMIA(x, refs, refIn, pop, popRefs, RMIAConfig{}); err != nil {
		t.Errorf("valid input: %v", err)
	}

	probs := [][]float64{{0.5, 0.25}, {0.25, 0.5}, {0.75, 0.5}}
	in := [][]bool{{true, false}, {false, true}, {true, false}}
	pops := [][]float64{{0.5}, {0.5}, {0.25}}
	grid := []float64{0, 1}
	for i, tc := range []struct {
		probs, pops [][]float64
		in          [][]bool
		targets     []int
		grid        []float64
		gamma       float64
		want        error
	}{
		0: {probs[:1], pops[:1], in[:1], []int{0}, grid, 0, ErrTooFewShadows},
		1: {probs, pops[:2], in, []int{0}, grid, 0, ErrShape},
		2: {probs, pops, in[:2], []int{0}, grid, 0, ErrShape},
		3: {probs, pops, in, []int{3}, grid, 0, ErrShape},
		4: {probs, pops, in, []int{-1}, grid, 0, ErrShape},
		5: {probs, pops, in, nil, grid, 0, ErrEmpty},
		6: {probs, pops, in, []int{0}, nil, 0, ErrEmpty},
		7: {probs, pops, in, []int{0}, []float64{0, 2}, 0, nil},
		8: {probs, pops, in, []int{0}, grid, -2, nil},
		9: {[][]float64{{0.5, 2}, {0.25, 0.5}, {0.75, 0.5}}, pops, in, []int{0}, grid, 0, ErrNonFinite},
		// Model 0 trained on every row: no non-member.
		10: {probs, pops, [][]bool{{true, true}, {false, true}, {true, false}}, []int{0}, grid, 0, ErrEmpty},
	} {
		_, _, err := RMIATune(tc.probs, tc.in, tc.pops, tc.targets, tc.grid, tc.gamma)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("tune %d: error %v, want %v", i, err, tc.want)
		}
	}
	if _, _, err := RMIATune(probs, in, pops, []int{0, 2}, grid, 0); err != nil {
		t.Errorf("tune, valid input: %v", err)
	}
}

// BenchmarkRMIA is the size of one attack in this project: 10,000
// attacked rows, 7,000 population rows, 64 references.
func BenchmarkRMIA(b *testing.B) {
	w := newRMIAWorld(3, 10000, 7000, 64, 2, 3, false)
	b.ResetTimer()
	for b.Loop() {
		if _, err := RMIA(w.target, w.refs, w.refIn, w.popTarget, w.popRefs, RMIAConfig{A: 0.3}); err != nil {
			b.Fatal(err)
		}
	}
}
