package forget

import (
	"fmt"
	"math"

	"github.com/fimprune/fimprune/fimlib/deletion"
	"github.com/fimprune/fimprune/fimlib/mia"
	"github.com/fimprune/fimprune/fimlib/unlearn"
	"gonum.org/v1/gonum/stat/distuv"
)

// TestConfig are the settings of the membership test.
type TestConfig struct {
	// Alpha is the one-sided level (0.05), Power the power the MDE is
	// stated for (0.8), Margin the share of the input model's excess AUC
	// the output may keep and pass (0.25).
	Alpha, Power, Margin float64
}

// DefaultMethod is the method scripts/forget runs when none is chosen:
// SSD, the approximate method nearest retraining on U-LiRA in the committed
// study, which also does not train (README.md, "Deleting rows from a
// trained model").
var DefaultMethod unlearn.Method = unlearn.SSD{Alpha: 10, Lambda: 1}

// DefaultTest are the settings scripts/forget uses.
var DefaultTest = TestConfig{Alpha: 0.05, Power: 0.8, Margin: 0.25}

// Scores are one model's logit-scaled confidences φ on the deleted rows (F)
// and on the control rows (T).
type Scores struct{ F, T []float64 }

// MembershipTest compares the output model with reference models that never
// trained on the deleted rows, and with the input model (which did), and
// returns the verification's statistics and verdict (the fields of
// deletion.Verification that do not describe the references: the caller
// sets References, Seeds, ReferenceKey, Cached and the times).
//
// Each model M is scored on a row x by s_M(x) = φ_M(x) − μ(x), where μ(x)
// is the mean φ of the reference models (LiRA's offline score, Carlini et
// al., IEEE S&P 2022); AUC(M) is the AUC of telling the deleted rows from
// the control rows by s_M. Reference j, scored with μ from the other K−1,
// gives the null AUC of a model that never saw the rows; the K null AUCs
// give a mean m and a standard deviation s, and a model's
// t = (AUC − m) / (s·√(1 + 1/K)) is compared with Student's t on K − 1
// degrees of freedom (a prediction interval for one more model like the
// references). The verdict:
//
//   - fail when the output's one-sided p < Alpha;
//   - pass when the input's p < Alpha (the test can see the rows in the
//     model that trained on them) and the output's upper bound
//     AUC + t_{1−α}·s·√(1 + 1/K) is below m + Margin·(AUC_in − m);
//   - inconclusive otherwise.
//
// MDE = (t_{1−α} + t_{Power})·s·√(1 + 1/K) is the power statement: the
// excess AUC the test detects with probability Power.
func MembershipTest(refs []Scores, in, out Scores, cfg TestConfig) (deletion.Verification, error) {
	k := len(refs)
	if k < 3 {
		return deletion.Verification{}, fmt.Errorf("forget: %d reference models; the test needs at least 3", k)
	}
	nF, nT := len(out.F), len(out.T)
	if nF == 0 || nT == 0 {
		return deletion.Verification{}, fmt.Errorf("forget: %d deleted and %d control rows; the test needs both", nF, nT)
	}
	for _, s := range append([]Scores{in, out}, refs...) {
		if len(s.F) != nF || len(s.T) != nT {
			return deletion.Verification{}, fmt.Errorf("forget: scores of %d+%d rows, want %d+%d", len(s.F), len(s.T), nF, nT)
		}
	}
	mean := func(skip int, pick func(Scores) []float64, n int) []float64 {
		mu := make([]float64, n)
		for j, r := range refs {
			if j == skip {
				continue
			}
			for i, v := range pick(r) {
				mu[i] += v
			}
		}
		div := float64(k)
		if skip >= 0 {
			div--
		}
		for i := range mu {
			mu[i] /= div
		}
		return mu
	}
	fOf := func(s Scores) []float64 { return s.F }
	tOf := func(s Scores) []float64 { return s.T }
	auc := func(s Scores, muF, muT []float64) (float64, error) {
		member := make([]float64, nF)
		for i := range member {
			member[i] = s.F[i] - muF[i]
		}
		non := make([]float64, nT)
		for i := range non {
			non[i] = s.T[i] - muT[i]
		}
		return mia.AUC(member, non)
	}

	v := deletion.Verification{Test: deletion.TestName, ControlRows: nT, Alpha: cfg.Alpha, Power: cfg.Power, Margin: cfg.Margin}
	v.NullAUCs = make([]float64, k)
	for j, r := range refs {
		a, err := auc(r, mean(j, fOf, nF), mean(j, tOf, nT))
		if err != nil {
			return v, err
		}
		v.NullAUCs[j] = a
	}
	for _, a := range v.NullAUCs {
		v.NullMean += a
	}
	v.NullMean /= float64(k)
	for _, a := range v.NullAUCs {
		v.NullSD += (a - v.NullMean) * (a - v.NullMean)
	}
	v.NullSD = math.Sqrt(v.NullSD / float64(k-1))

	muF, muT := mean(-1, fOf, nF), mean(-1, tOf, nT)
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(k - 1)}
	scale := v.NullSD * math.Sqrt(1+1/float64(k))
	tAlpha := dist.Quantile(1 - cfg.Alpha)
	score := func(s Scores) (deletion.Score, error) {
		a, err := auc(s, muF, muT)
		if err != nil {
			return deletion.Score{}, err
		}
		sc := deletion.Score{AUC: a, Upper: a + tAlpha*scale, P: 1}
		if scale > 0 {
			sc.T = (a - v.NullMean) / scale
			sc.P = dist.Survival(sc.T)
		}
		return sc, nil
	}
	var err error
	if v.Input, err = score(in); err != nil {
		return v, err
	}
	if v.Output, err = score(out); err != nil {
		return v, err
	}
	v.MDE = (tAlpha + dist.Quantile(cfg.Power)) * scale
	v.PassBound = v.NullMean + cfg.Margin*(v.Input.AUC-v.NullMean)

	refsDesc := fmt.Sprintf("%d reference models that never saw the rows score %.3f ± %.3f", k, v.NullMean, v.NullSD)
	switch {
	case scale == 0:
		v.Verdict = deletion.Inconclusive
		v.Reason = fmt.Sprintf("the %d reference models' AUCs do not vary (all %.3f): the test has no scale to judge by", k, v.NullMean)
	case v.Output.P < cfg.Alpha:
		v.Verdict = deletion.Fail
		v.Reason = fmt.Sprintf("the model still tells the deleted rows from unseen rows: AUC %.3f, where %s (one-sided p = %.2g)", v.Output.AUC, refsDesc, v.Output.P)
	case v.Input.P >= cfg.Alpha:
		v.Verdict = deletion.Inconclusive
		v.Reason = fmt.Sprintf("the test cannot see the rows even in the model before deletion (AUC %.3f, p = %.2g; %s), so it cannot tell a model that kept them from one that never saw them", v.Input.AUC, v.Input.P, refsDesc)
	case v.Output.Upper >= v.PassBound:
		v.Verdict = deletion.Inconclusive
		v.Reason = fmt.Sprintf("the model is not distinguishable from the references (AUC %.3f, p = %.2g), but its upper bound %.3f is not below the pass bound %.3f (%.0f %% of the input model's excess AUC %.3f): the spread between models that never saw the rows sets that bound, so more deleted rows or a stronger trace in the input model would be needed (more references narrow it only a little)", v.Output.AUC, v.Output.P, v.Output.Upper, v.PassBound, 100*cfg.Margin, v.Input.AUC-v.NullMean)
	default:
		v.Verdict = deletion.Pass
		v.Reason = fmt.Sprintf("the model before deletion tells the rows apart (AUC %.3f, p = %.2g); after it, AUC %.3f with upper bound %.3f, below the pass bound %.3f, where %s", v.Input.AUC, v.Input.P, v.Output.AUC, v.Output.Upper, v.PassBound, refsDesc)
	}
	return v, nil
}
