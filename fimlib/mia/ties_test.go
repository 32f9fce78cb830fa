package mia

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTieRobust: 900 of 1000 rows have the attacked model's signal exactly
// 0 (a collapsed, pruned model), so its offline-LiRA statistic (0 −
// μ_out)/σ ranks them only by the shadows' μ_out; members were drawn a
// little easier for the shadows (μ_out ~ N(−1, 1) against N(0, 1)), so the
// statistic's AUC is well above 0.5 although the target says nothing. The
// other 100 rows have distinct signals and statistics unrelated to
// membership. TieRobust gives the 900 tied rows one statistic, their pairs
// count ½ and the AUC returns to 0.5 within 4 null standard errors.
func TestTieRobust(t *testing.T) {
	const rows, tied = 1000, 900
	r := rand.New(rand.NewPCG(21, 22))
	stat, signal := make([]float64, rows), make([]float64, rows)
	member := make([]bool, rows)
	for i := range rows {
		member[i] = r.IntN(2) == 0
		if i < tied {
			mu := r.NormFloat64()
			if member[i] {
				mu--
			}
			stat[i] = (0 - mu) / 1.5
			continue
		}
		signal[i] = 1 + r.Float64()
		stat[i] = r.NormFloat64()
	}
	// One skipped row, tied with the others: it stays NaN and out of the
	// group mean.
	stat[0] = math.NaN()
	auc := func(s []float64) (float64, float64) {
		m, n, _, err := SplitMembers(s, member)
		if err != nil {
			t.Fatal(err)
		}
		a, err := AUC(m, n)
		if err != nil {
			t.Fatal(err)
		}
		return a, nullAUCSE(len(m), len(n))
	}
	before, se := auc(stat)
	if before < 0.5+6*se {
		t.Errorf("tied rows' AUC %.4f, want well above 0.5 (SE %.4f)", before, se)
	}
	out, n, err := TieRobust(stat, signal)
	if err != nil {
		t.Fatal(err)
	}
	if n != tied-1 {
		t.Errorf("tied rows %d, want %d", n, tied-1)
	}
	if !math.IsNaN(out[0]) {
		t.Errorf("skipped row: %v, want NaN", out[0])
	}
	var mean float64
	for _, s := range stat[1:tied] {
		mean += s / (tied - 1)
	}
	for i := 1; i < tied; i++ {
		if math.Abs(out[i]-mean) > 1e-12 || out[i] != out[1] {
			t.Fatalf("row %d: %v, want the group mean %v", i, out[i], mean)
		}
	}
	for i := tied; i < rows; i++ {
		if out[i] != stat[i] {
			t.Errorf("untied row %d changed: %v → %v", i, stat[i], out[i])
		}
	}
	if after, se := auc(out); math.Abs(after-0.5) > 4*se {
		t.Errorf("after TieRobust: AUC %.4f, want 0.5 ± 4·%.4f", after, se)
	}
}

// TestTieRobustUntied: without ties the output is the input bit for bit,
// −0 and NaN included; a signal shared only with a skipped row is no tie.
func TestTieRobustUntied(t *testing.T) {
	stat := []float64{math.Copysign(0, -1), 1.5, math.NaN(), -2, math.Inf(1)}
	signal := []float64{0.1, 0.2, 0.3, 0.3, 0.5}
	out, n, err := TieRobust(stat, signal)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("tied rows %d, want 0", n)
	}
	for i := range stat {
		if math.Float64bits(out[i]) != math.Float64bits(stat[i]) {
			t.Errorf("row %d: %v, want %v bit for bit", i, out[i], stat[i])
		}
	}
	out[1] = 7
	if stat[1] != 1.5 {
		t.Error("TieRobust wrote into its input")
	}
	// Two groups, +0 and −0 together: {0, 1, 3} → 2, {2, 4} → 5.
	out, n, err = TieRobust([]float64{1, 2, 4, 3, 6}, []float64{0, math.Copysign(0, -1), 0.5, 0, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{2, 2, 5, 2, 5}; n != 5 || !slices.Equal(out, want) {
		t.Errorf("groups: %v (%d tied), want %v (5)", out, n, want)
	}
}

func TestTieRobustErrors(t *testing.T) {
	if _, _, err := TieRobust([]float64{1, 2}, []float64{0}); !errors.Is(err, ErrShape) {
		t.Errorf("lengths: %v", err)
	}
	if _, _, err := TieRobust([]float64{1, 2}, []float64{0, math.NaN()}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN signal: %v", err)
	}
}
