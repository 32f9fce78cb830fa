package results

import (
	"fmt"
	"strings"
)

// Summary is the seed notebook's inference_report_summary.json: run metadata
// and the headline numbers as display strings, plus the same numbers as
// values for programs.
type Summary struct {
	Metadata SummaryMetadata `json:"metadata"`
	Summary  SummaryStrings  `json:"summary"`
	Values   SummaryValues   `json:"values"`
}

// SummaryMetadata names the experiment.
type SummaryMetadata struct {
	Experiment  string `json:"experiment"`
	Dataset     string `json:"dataset"`
	Model       string `json:"model"`
	DeletionSet string `json:"deletion_set"`
	Fisher      string `json:"fisher"`
	Date        string `json:"date"`
	Backend     string `json:"backend"`
	Results     string `json:"results_schema"`
}

// SummaryStrings are the seed's summary lines, formatted as it formats them.
type SummaryStrings struct {
	BestPruningFraction string `json:"best_pruning_fraction"`
	UtilityRetention    string `json:"utility_retention"`
	PrivacyImprovement  string `json:"privacy_improvement"`
	SpeedupVsRetrain    string `json:"speedup_vs_retrain"`
	CombinedScore       string `json:"combined_score"`
	FinalAccuracy       string `json:"final_accuracy"`
	FinalMIAAccuracy    string `json:"final_mia_accuracy"`
}

// SummaryValues are the numbers behind [SummaryStrings].
type SummaryValues struct {
	BestFraction float64 `json:"best_fraction"`
	// UtilityRetention = best pruned accuracy / full-model accuracy.
	UtilityRetention float64 `json:"utility_retention"`
	// PrivacyImprovement = (full MIA accuracy − best pruned MIA accuracy) / full MIA accuracy.
	PrivacyImprovement float64 `json:"privacy_improvement"`
	// SpeedupVsRetrain = retrain seconds / deletion seconds of the best fraction
	// (< 1: the deletion was slower than retraining).
	SpeedupVsRetrain float64 `json:"speedup_vs_retrain"`
	CombinedScore    float64 `json:"combined_score"`
	FinalAccuracy    float64 `json:"final_accuracy"`
	FinalMIAAccuracy float64 `json:"final_mia_accuracy"`
}

// BestPruned returns the pruned model r.Best points to.
func (r *Results) BestPruned() (Pruned, error) {
	for _, p := range r.Models.Pruned {
		if p.Fraction == r.Best.Fraction {
			return p, nil
		}
	}
	return Pruned{}, fmt.Errorf("results: best fraction %g is not among the pruned models", r.Best.Fraction)
}

// SeedSummary computes the seed's summary from r.
func SeedSummary(r *Results) (Summary, error) {
	best, err := r.BestPruned()
	if err != nil {
		return Summary{}, err
	}
	full := r.Models.Full
	v := SummaryValues{
		BestFraction:       best.Fraction,
		UtilityRetention:   ratio(best.TestAccuracy, full.TestAccuracy),
		PrivacyImprovement: ratio(full.MIA.BestThresholdAccuracy-best.MIA.BestThresholdAccuracy, full.MIA.BestThresholdAccuracy),
		SpeedupVsRetrain:   ratio(r.Models.Retrain.TrainSeconds, best.DeletionSeconds),
		CombinedScore:      best.CombinedScore,
		FinalAccuracy:      best.TestAccuracy,
		FinalMIAAccuracy:   best.MIA.BestThresholdAccuracy,
	}
	hidden := make([]string, len(r.Config.Model.Hidden))
	for i, h := range r.Config.Model.Hidden {
		hidden[i] = fmt.Sprint(h)
	}
	return Summary{
		Metadata: SummaryMetadata{
			Experiment:  "Fisher-information pruning for data deletion (fimprune)",
			Dataset:     fmt.Sprintf("%s, %d rows, %d features", r.Dataset.Name, r.Dataset.Rows, r.Dataset.Features),
			Model:       fmt.Sprintf("MLP %d-%s-%d, %d parameters", r.Config.Model.Inputs, strings.Join(hidden, "-"), r.Config.Model.Classes, r.Config.Model.Params),
			DeletionSet: fmt.Sprintf("%s (%d rows)", r.Config.Deletion, r.Dataset.Deletion),
			Fisher:      r.Fisher.Kind,
			Date:        r.Environment.Time,
			Backend:     r.Environment.Backend,
			Results:     r.Schema,
		},
		Summary: SummaryStrings{
			BestPruningFraction: fmt.Sprintf("%.0f%%", 100*v.BestFraction),
			UtilityRetention:    fmt.Sprintf("%.1f%%", 100*v.UtilityRetention),
			PrivacyImprovement:  fmt.Sprintf("%.1f%%", 100*v.PrivacyImprovement),
			SpeedupVsRetrain:    fmt.Sprintf("%.2fx", v.SpeedupVsRetrain),
			CombinedScore:       fmt.Sprintf("%.4f", v.CombinedScore),
			FinalAccuracy:       fmt.Sprintf("%.4f", v.FinalAccuracy),
			FinalMIAAccuracy:    fmt.Sprintf("%.4f", v.FinalMIAAccuracy),
		},
		Values: v,
	}, nil
}

// ratio returns a/b, or 0 when b is 0 (JSON cannot hold Inf or NaN).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
