package results_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/fimprune/fimprune/fimlib/results"
	"github.com/fimprune/fimprune/internal/testsupport"
)

// TestSeedSummaryFiles checks SeedSummary against the summary files written
// next to each results file (for the real run, by the experiment itself).
func TestSeedSummaryFiles(t *testing.T) {
	for _, tc := range []struct{ results, summary string }{
		{goldenV2Results, goldenSummary},
		{realResults, realSummary},
	} {
		t.Run(tc.results, func(t *testing.T) {
			s, err := results.SeedSummary(readResults(t, tc.results))
			if err != nil {
				t.Fatal(err)
			}
			got, err := results.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			want := readFile(t, tc.summary)
			if !bytes.Equal(got, want) {
				t.Errorf("SeedSummary differs from %s at %s", tc.summary, testsupport.FirstDiff(string(got), string(want)))
			}
			// The file holds exactly the fields of Summary.
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			var back results.Summary
			if err := dec.Decode(&back); err != nil || back != s {
				t.Errorf("%s does not decode to the same Summary: %v", tc.summary, err)
			}
		})
	}
}

// seedResults holds the seed notebook's own numbers (shared/seed/PROTOCOL.md,
// "The seed's own numbers"), with the loss attack in MIA and deliberately
// different numbers in MIAConfidence, which the summary must not use. The
// protocol gives the combined score of 0.2 only; the others are computed
// with the seed's formula and rounded to 4 decimals.
func seedResults() *results.Results {
	mia := func(acc float64) results.MIA {
		return results.MIA{Score: "loss", Members: 100, NonMembers: 100, BestThresholdAccuracy: acc}
	}
	conf := results.MIA{Score: "confidence", Members: 100, NonMembers: 100, BestThresholdAccuracy: 0.99}
	pruned := func(f, acc, miaAcc, secs, combined float64) results.Pruned {
		return results.Pruned{Fraction: f, TestAccuracy: acc, MIA: mia(miaAcc), MIAConfidence: conf,
			DeletionSeconds: secs, FinetuneSeconds: secs / 2, CombinedScore: combined, TotalParams: 20802}
	}
	return &results.Results{
		Schema: results.Schema,
		Config: results.Config{
			Deletion: "first:100", Fractions: []float64{0.1, 0.2, 0.3, 0.4},
			Model: results.ModelConfig{Inputs: 96, Hidden: []int{128, 64}, Classes: 2, Params: 20802},
		},
		Environment: results.Environment{Time: "2025-06-01T12:00:00Z", Backend: "Go Backend"},
		Dataset:     results.Dataset{Name: "UCI Adult", Rows: 45222, Features: 96, Deletion: 100},
		Models: results.Models{
			Full:    results.Model{TestAccuracy: 0.8485, MIA: mia(0.520), MIAConfidence: conf, TrainSeconds: 13.6},
			Retrain: results.Model{TestAccuracy: 0.8485, MIA: mia(0.515), MIAConfidence: conf, TrainSeconds: 19.8},
			Pruned: []results.Pruned{
				pruned(0.1, 0.8490, 0.510, 15.4, 0.8466),
				pruned(0.2, 0.8500, 0.505, 25.2, 0.8473),
				pruned(0.3, 0.8449, 0.510, 22.1, 0.8440),
				pruned(0.4, 0.8454, 0.515, 19.4, 0.8429),
			},
		},
		Fisher: results.Fisher{Kind: "empirical", Rows: 100},
		Best:   results.Best{Fraction: 0.2, CombinedScore: 0.8473},
	}
}

// TestSeedSummarySeedNumbers reproduces the seed's reported summary from its
// own numbers: utility retention 100.2 %, privacy improvement 2.9 %,
// speed-up 0.79x.
func TestSeedSummarySeedNumbers(t *testing.T) {
	s, err := results.SeedSummary(seedResults())
	if err != nil {
		t.Fatal(err)
	}
	want := results.SummaryStrings{
		BestPruningFraction: "20%",
		UtilityRetention:    "100.2%",
		PrivacyImprovement:  "2.9%",
		SpeedupVsRetrain:    "0.79x",
		CombinedScore:       "0.8473",
		FinalAccuracy:       "0.8500",
		FinalMIAAccuracy:    "0.5050",
	}
	if s.Summary != want {
		t.Errorf("summary strings\n got  %+v\n want %+v", s.Summary, want)
	}
	// Values by hand: 0.85/0.8485, (0.520−0.505)/0.520, 19.8/25.2.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"best_fraction", s.Values.BestFraction, 0.2},
		{"utility_retention", s.Values.UtilityRetention, 1.0017678255745433},
		{"privacy_improvement", s.Values.PrivacyImprovement, 0.028846153846153868},
		{"speedup_vs_retrain", s.Values.SpeedupVsRetrain, 0.7857142857142857},
		{"combined_score", s.Values.CombinedScore, 0.8473},
		{"final_accuracy", s.Values.FinalAccuracy, 0.85},
		{"final_mia_accuracy", s.Values.FinalMIAAccuracy, 0.505},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("values.%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	wantMeta := results.SummaryMetadata{
		Experiment:  "Fisher-information pruning for data deletion (fimprune)",
		Dataset:     "UCI Adult, 45222 rows, 96 features",
		Model:       "MLP 96-128-64-2, 20802 parameters",
		DeletionSet: "first:100 (100 rows)",
		Fisher:      "empirical",
		Date:        "2025-06-01T12:00:00Z",
		Backend:     "Go Backend",
		Results:     results.Schema,
	}
	if s.Metadata != wantMeta {
		t.Errorf("metadata\n got  %+v\n want %+v", s.Metadata, wantMeta)
	}
}

// TestSeedSummaryUsesBest checks that the summary follows best.fraction, not
// the position or the highest combined score of the pruned models.
func TestSeedSummaryUsesBest(t *testing.T) {
	r := seedResults()
	r.Best = results.Best{Fraction: 0.4, CombinedScore: 0.8429}
	s, err := results.SeedSummary(r)
	if err != nil {
		t.Fatal(err)
	}
	if s.Values.BestFraction != 0.4 || s.Values.FinalAccuracy != 0.8454 || s.Summary.SpeedupVsRetrain != "1.02x" || s.Summary.PrivacyImprovement != "1.0%" {
		t.Errorf("summary of best 0.4: %+v", s)
	}
}

func TestBestPruned(t *testing.T) {
	r := seedResults()
	p, err := r.BestPruned()
	if err != nil || p.Fraction != 0.2 || p.DeletionSeconds != 25.2 {
		t.Errorf("BestPruned = %+v, %v; want fraction 0.2", p, err)
	}
	for _, tc := range []struct {
		name string
		edit func(*results.Results)
	}{
		{"fraction not pruned", func(r *results.Results) { r.Best.Fraction = 0.5 }},
		{"nearly equal fraction", func(r *results.Results) { r.Best.Fraction = 0.2 + 1e-12 }},
		{"no pruned models", func(r *results.Results) { r.Models.Pruned = nil }},
	} {
		r := seedResults()
		tc.edit(r)
		if _, err := r.BestPruned(); err == nil || !strings.Contains(err.Error(), "best fraction") {
			t.Errorf("%s: BestPruned error %v", tc.name, err)
		}
		if s, err := results.SeedSummary(r); err == nil {
			t.Errorf("%s: SeedSummary = %+v, want an error", tc.name, s)
		}
	}
}

// TestSeedSummaryZeroDenominators checks that a zero denominator gives 0, not
// Inf or NaN, so the summary can still be written as JSON.
func TestSeedSummaryZeroDenominators(t *testing.T) {
	r := seedResults()
	r.Models.Full.TestAccuracy = 0
	r.Models.Full.MIA.BestThresholdAccuracy = 0
	r.Models.Pruned[1].DeletionSeconds = 0
	s, err := results.SeedSummary(r)
	if err != nil {
		t.Fatal(err)
	}
	v := s.Values
	if v.UtilityRetention != 0 || v.PrivacyImprovement != 0 || v.SpeedupVsRetrain != 0 {
		t.Errorf("ratios with zero denominators: %+v", v)
	}
	if s.Summary.UtilityRetention != "0.0%" || s.Summary.PrivacyImprovement != "0.0%" || s.Summary.SpeedupVsRetrain != "0.00x" {
		t.Errorf("strings: %+v", s.Summary)
	}
	if _, err := results.Marshal(s); err != nil {
		t.Errorf("Marshal: %v", err)
	}
	// Zero numerators are ordinary: 0/x = 0, (0.52−0.52)/0.52 = 0.
	r = seedResults()
	r.Models.Retrain.TrainSeconds = 0
	r.Models.Pruned[1].MIA.BestThresholdAccuracy = 0.520
	if s, err := results.SeedSummary(r); err != nil || s.Values.SpeedupVsRetrain != 0 || s.Values.PrivacyImprovement != 0 {
		t.Errorf("zero numerators: %+v, %v", s.Values, err)
	}
}
