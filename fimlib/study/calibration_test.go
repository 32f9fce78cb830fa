package study

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fimprune/fimprune/fimlib/backend"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/fimlib/train"
	"github.com/fimprune/fimprune/fimlib/unlearn"
)

var calibrationReps = flag.Int("calibration.reps", 30, "repetitions of TestCalibration (docs/methods.md quotes a run with 100)")

// overfitRows is generated data a small MLP memorises: 8 features, labels
// from a noisy linear rule with a third of them flipped at random, so a
// row's label is learnable only by having seen it.
func overfitRows(n int, seed uint64) train.Data {
	const f = 8
	rng := rand.New(rand.NewPCG(seed, 2))
	d := train.Data{Features: f, X: make([]float32, n*f), Y: make([]int32, n)}
	for r := range n {
		var s float64
		for j := range f {
			v := rng.NormFloat64()
			d.X[r*f+j] = float32(v)
			s += v
		}
		if s > 0 {
			d.Y[r] = 1
		}
		if rng.Float64() < 1.0/3 {
			d.Y[r] = 1 - d.Y[r]
		}
	}
	return d
}

// TestCalibration checks the study's intervals and verdicts where the truth
// is known (docs/methods.md, "Calibration"). Each repetition is a small
// study on fresh generated data with three methods: retrain, retrain-2 and
// identity, on a deliberately overfit model (no dropout, no early stopping,
// labels partly random).
//
//   - Null: retrain-2 is retraining with other seeds, so every difference
//     between it and retrain is noise. The 95 % interval of each attack
//     metric's paired difference must contain 0, and the verdict must be
//     "not distinguishable", in at least 85 % of the repetitions.
//   - Power: identity (no deletion) on a model that memorised its rows must
//     be found "higher" than retrain by RMIA and by U-LiRA, after Holm's
//     correction over the study's family, in at least 90 %.
func TestCalibration(t *testing.T) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	reps := *calibrationReps
	if testing.Short() {
		reps = min(reps, 5)
	}
	attacks := []results.Metric{results.MetricPopulationAUC, results.MetricRMIAAUC, results.MetricLiRAAUC, results.MetricULiRA}
	covered := map[results.Metric]int{}
	nullQuiet := map[results.Metric]int{}
	found := map[results.Metric]int{}
	for rep := range reps {
		seed := uint64(1000 * (rep + 1))
		d := Data{Train: overfitRows(160, seed), Val: overfitRows(60, seed+1), Test: overfitRows(200, seed+2)}
		cfg := Config{
			Seeds:    []uint64{seed + 10, seed + 11, seed + 12, seed + 13, seed + 14},
			Fraction: 0.2, ForgetRows: 20, Shadows: 16, ULiRAModels: 6,
			Arch:     mlp.Arch{Inputs: 8, Hidden: []int{48, 24}, Classes: 2},
			Train:    train.Config{LearningRate: 1e-2, BatchSize: 32, MaxEpochs: 40, AdamEpsilon: 1e-8},
			FineTune: train.SeedFineTune,
			Methods: func(float64) []unlearn.Method {
				return []unlearn.Method{unlearn.Retrain{}, unlearn.Retrain{Replica: 2}, unlearn.Identity{}}
			},
		}
		st, err := Run(context.Background(), be, d, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range st.Verdicts.Comparisons {
			switch {
			case c.Method == "retrain-2" && c.Reference == "retrain":
				if c.Difference.CI95[0] <= 0 && 0 <= c.Difference.CI95[1] {
					covered[c.Metric]++
				}
				if c.Outcome == results.OutcomeNotDist {
					nullQuiet[c.Metric]++
				}
			case c.Method == "identity" && c.Reference == "retrain":
				if c.Outcome == results.OutcomeHigher {
					found[c.Metric]++
				}
			}
		}
		if rep == 0 {
			for _, m := range st.Methods {
				t.Logf("rep 0, %-9s test acc %.3f, population AUC %.3f, RMIA AUC %.3f, LiRA AUC %.3f, U-LiRA %.3f (per seed %v)", m.Name,
					m.TestAccuracy.Mean, m.Estimate(results.MetricPopulationAUC).Mean, m.RMIAAUC.Mean, m.LiRAOfflineAUC.Mean, m.Shadow.ULiRA.Mean, fmtValues(m.Shadow.ULiRA.Values))
			}
		}
	}
	for _, m := range attacks {
		cov, quiet := float64(covered[m])/float64(reps), float64(nullQuiet[m])/float64(reps)
		t.Logf("null, %-16s: interval covers 0 in %d/%d (%.0f %%), not distinguishable in %d/%d (%.0f %%)", m, covered[m], reps, 100*cov, nullQuiet[m], reps, 100*quiet)
		if cov < 0.85 || quiet < 0.85 {
			t.Errorf("null, %s: coverage %.2f, not distinguishable %.2f; want both ≥ 0.85", m, cov, quiet)
		}
	}
	for _, m := range attacks {
		rate := float64(found[m]) / float64(reps)
		t.Logf("power, identity vs retrain, %-16s: higher in %d/%d (%.0f %%)", m, found[m], reps, 100*rate)
		if (m == results.MetricRMIAAUC || m == results.MetricULiRA) && rate < 0.9 {
			t.Errorf("power, %s: identity found higher in %.2f of repetitions, want ≥ 0.90", m, rate)
		}
	}
}

func fmtValues(v []float64) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.3f", x)
	}
	return s
}
