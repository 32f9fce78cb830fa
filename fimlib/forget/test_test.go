package forget

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/deletion"
)

// world generates scores of models on nF deleted and nT control rows: row x
// has a difficulty a(x); model M scores φ_M(x) = a(x) + b_M + e_{M,x} with a
// model offset b_M ~ N(0, 0.3²) and noise e ~ N(0, 1), plus memory on the
// deleted rows for a model that trained on them.
type world struct {
	r      *rand.Rand
	aF, aT []float64
}

func newWorld(seed uint64, nF, nT int) *world {
	w := &world{r: rand.New(rand.NewPCG(seed, 7))}
	for range nF {
		w.aF = append(w.aF, 2*w.r.NormFloat64())
	}
	for range nT {
		w.aT = append(w.aT, 2*w.r.NormFloat64())
	}
	return w
}

// model draws one model's scores; memory is added to every deleted row.
func (w *world) model(memory float64) Scores {
	b := 0.3 * w.r.NormFloat64()
	var s Scores
	for _, a := range w.aF {
		s.F = append(s.F, a+b+w.r.NormFloat64()+memory)
	}
	for _, a := range w.aT {
		s.T = append(s.T, a+b+w.r.NormFloat64())
	}
	return s
}

func (w *world) refs(k int) []Scores {
	out := make([]Scores, k)
	for j := range out {
		out[j] = w.model(0)
	}
	return out
}

// TestMembershipTestNull: an output that is one more model like the
// references (a perfect deletion) fails at about the test's level, and is
// never called "pass" when the input model did not memorise the rows.
func TestMembershipTestNull(t *testing.T) {
	const reps = 1000
	fails, passes := 0, 0
	for rep := range reps {
		w := newWorld(uint64(rep), 50, 400)
		v, err := MembershipTest(w.refs(8), w.model(0), w.model(0), DefaultTest)
		if err != nil {
			t.Fatal(err)
		}
		switch v.Verdict {
		case deletion.Fail:
			fails++
		case deletion.Pass:
			passes++
		}
	}
	rate := float64(fails) / reps
	t.Logf("null: fail rate %.3f (nominal %.2f), pass %d of %d", rate, DefaultTest.Alpha, passes, reps)
	// The null AUCs use K−1 references and the output K, so the test is
	// slightly conservative; 4 binomial SEs above the level is a failure.
	if se := math.Sqrt(0.05 * 0.95 / reps); rate > 0.05+4*se {
		t.Errorf("fail rate under the null %.3f, want ≤ %.3f", rate, 0.05+4*se)
	}
	// Without memory in the input there is nothing to detect: a pass would
	// claim what the test cannot see. Only an input that happens to reach
	// p < α by chance (≈ 5 %) can pass, and then only with a tight bound.
	if passes > reps/10 {
		t.Errorf("%d passes of %d with nothing to detect", passes, reps)
	}
}

// TestMembershipTestPower: with a strongly memorising input (its deleted
// rows score 3 noise SDs higher, an AUC of about 0.97), an output that kept
// the memory (identity) always fails, and a perfect deletion passes often
// at the default margin (a quarter of the input's excess AUC) and nearly
// always at a margin of one half. One model's AUC on 50 rows varies by
// about 0.04 whatever K is, so the upper bound sits about 0.09 above it:
// a strict margin costs passes (and with -fallback retrain, retrainings),
// never a false pass.
func TestMembershipTestPower(t *testing.T) {
	const reps = 200
	idFail := 0
	pass := map[float64]int{}
	for rep := range reps {
		w := newWorld(uint64(10_000+rep), 50, 400)
		refs := w.refs(8)
		in := w.model(3)
		v, err := MembershipTest(refs, in, in, DefaultTest)
		if err != nil {
			t.Fatal(err)
		}
		if v.Verdict == deletion.Fail {
			idFail++
		}
		if v.Input.P >= DefaultTest.Alpha {
			t.Fatalf("rep %d: the memorising input is not detected: %+v", rep, v.Input)
		}
		out := w.model(0)
		for _, margin := range []float64{0.25, 0.5} {
			cfg := DefaultTest
			cfg.Margin = margin
			v, err = MembershipTest(refs, in, out, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if v.Verdict == deletion.Pass {
				pass[margin]++
			}
		}
	}
	t.Logf("identity fails %d/%d; a perfect deletion passes %d/%d at margin 0.25, %d/%d at 0.5", idFail, reps, pass[0.25], reps, pass[0.5], reps)
	if idFail != reps {
		t.Errorf("identity failed %d of %d times, want every time", idFail, reps)
	}
	if pass[0.25] < reps/2 || pass[0.5] < reps*9/10 {
		t.Errorf("a perfect deletion passed %d (margin 0.25) and %d (0.5) of %d times, want ≥ 50 %% and ≥ 90 %%", pass[0.25], pass[0.5], reps)
	}
}

// TestMembershipTestMDE: the power statement is finite and positive, and
// more references lower it (a smaller t quantile, a better null estimate),
// though not below what one model's AUC on the deleted rows varies by.
func TestMembershipTestMDE(t *testing.T) {
	mde := func(k int) float64 {
		var sum float64
		for rep := range 20 {
			w := newWorld(uint64(500+rep), 50, 400)
			v, err := MembershipTest(w.refs(k), w.model(0), w.model(0), DefaultTest)
			if err != nil {
				t.Fatal(err)
			}
			if !(v.MDE > 0 && v.MDE < 0.5) {
				t.Fatalf("K = %d: MDE %.3f", k, v.MDE)
			}
			sum += v.MDE
		}
		return sum / 20
	}
	m4, m8, m32 := mde(4), mde(8), mde(32)
	t.Logf("mean MDE with 4, 8, 32 references: %.3f, %.3f, %.3f", m4, m8, m32)
	if !(m4 > m8 && m8 > m32) {
		t.Errorf("MDE does not fall with K: %.3f, %.3f, %.3f", m4, m8, m32)
	}
}

func TestMembershipTestErrors(t *testing.T) {
	w := newWorld(1, 5, 5)
	if _, err := MembershipTest(w.refs(2), w.model(0), w.model(0), DefaultTest); err == nil || !strings.Contains(err.Error(), "at least 3") {
		t.Errorf("2 references: %v", err)
	}
	short := w.model(0)
	short.F = short.F[1:]
	if _, err := MembershipTest(w.refs(4), w.model(0), short, DefaultTest); err == nil {
		t.Error("scores of different lengths accepted")
	}
	// References that agree exactly leave the test without a scale.
	same := w.model(0)
	v, err := MembershipTest([]Scores{same, same, same}, same, same, DefaultTest)
	if err != nil {
		t.Fatal(err)
	}
	if v.Verdict != deletion.Inconclusive || math.IsNaN(v.Output.T) || math.IsInf(v.Output.T, 0) {
		t.Errorf("identical references: %s, t %v", v.Verdict, v.Output.T)
	}
}
