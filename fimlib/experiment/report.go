package experiment

import (
	"math"
	"slices"
	"sort"

	"github.com/fimprune/fimprune/fimlib/train"

	"github.com/fimprune/fimprune/fimlib/fisher"
	"github.com/fimprune/fimprune/fimlib/mlp"
	"github.com/fimprune/fimprune/fimlib/prune"
	"github.com/fimprune/fimprune/fimlib/results"
	"gonum.org/v1/gonum/stat"
)

// classLabels names Adult's classes.
var classLabels = []string{"<=50K", ">50K"}

// classReport computes precision, recall and F1 per class (sklearn's
// classification_report; a 0/0 ratio is reported as 0, as sklearn does).
// scores are row-major [rows, classes] (log-)probabilities.
func classReport(scores []float32, labels []int32) []results.ClassReport {
	classes := len(scores) / len(labels)
	tp, fp, support := make([]int, classes), make([]int, classes), make([]int, classes)
	for i, pred32 := range train.Predictions(scores, len(labels)) {
		y, pred := labels[i], int(pred32)
		support[y]++
		if pred == int(y) {
			tp[pred]++
		} else {
			fp[pred]++
		}
	}
	out := make([]results.ClassReport, classes)
	for c := range out {
		p, r := safeDiv(tp[c], tp[c]+fp[c]), safeDiv(tp[c], support[c])
		label := ""
		if c < len(classLabels) {
			label = classLabels[c]
		}
		f1 := 0.0
		if p+r > 0 {
			f1 = 2 * p * r / (p + r)
		}
		out[c] = results.ClassReport{Class: c, Label: label, Precision: p, Recall: r, F1: f1, Support: support[c]}
	}
	return out
}

func safeDiv(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// flat concatenates every tensor's values as float64.
func flat(ts []mlp.Tensor) []float64 {
	var out []float64
	for _, t := range ts {
		for _, v := range t.Values {
			out = append(out, float64(v))
		}
	}
	return out
}

// statsOf summarises values (quantiles by gonum's empirical rule on sorted data).
func statsOf(values []float64) results.Stats {
	s := results.Stats{Count: len(values)}
	if len(values) == 0 {
		return s
	}
	sorted := slices.Clone(values)
	sort.Float64s(sorted)
	for _, v := range sorted {
		s.Sum += v
		if v == 0 {
			s.Zeros++
		}
	}
	s.Mean = s.Sum / float64(len(sorted))
	s.Max = sorted[len(sorted)-1]
	s.Median = stat.Quantile(0.5, stat.Empirical, sorted, nil)
	s.P90 = stat.Quantile(0.9, stat.Empirical, sorted, nil)
	s.P99 = stat.Quantile(0.99, stat.Empirical, sorted, nil)
	return s
}

// histogramBins is the number of log10 bins of the per-tensor histograms.
const histogramBins = 24

// fisherSummary records the scores' statistics, overall and per tensor, with
// per-tensor histograms of log10(score) on shared edges (zeros are counted in
// Stats.Zeros, not in the histogram).
func fisherSummary(kind fisher.Kind, rows int, seconds float64, scores []mlp.Tensor) results.Fisher {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range flat(scores) {
		if v > 0 {
			lo, hi = min(lo, math.Log10(v)), max(hi, math.Log10(v))
		}
	}
	var edges []float64
	if lo <= hi {
		lo, hi = math.Floor(lo), math.Ceil(hi)
		if hi == lo {
			hi++
		}
		for i := 0; i <= histogramBins; i++ {
			edges = append(edges, lo+(hi-lo)*float64(i)/histogramBins)
		}
	}
	f := results.Fisher{Kind: string(kind), Rows: rows, Seconds: seconds, Summary: statsOf(flat(scores))}
	for _, t := range scores {
		ts := results.TensorStats{Name: t.Name, Shape: t.Shape, Stats: statsOf(flat([]mlp.Tensor{t})), Log10Bins: edges}
		if edges != nil {
			ts.Counts = make([]int, histogramBins)
			for _, v := range t.Values {
				if v > 0 {
					b := int((math.Log10(float64(v)) - lo) / (hi - lo) * histogramBins)
					ts.Counts[min(max(b, 0), histogramBins-1)]++
				}
			}
		}
		f.Tensors = append(f.Tensors, ts)
	}
	return f
}

// compareFisher measures how far the other Fisher kind would change the
// pruning: Spearman rank correlation of all scores and, per fraction, the
// share of pruned parameters the two rankings have in common.
func compareFisher(kind fisher.Kind, used, other []mlp.Tensor, fractions []float64) (*results.OtherFisher, error) {
	o := &results.OtherFisher{Kind: string(kind), Summary: statsOf(flat(other))}
	o.SpearmanWithUsed = stat.Correlation(ranks(flat(used)), ranks(flat(other)), nil)
	for _, f := range fractions {
		a, err := prune.Global(used, f)
		if err != nil {
			return nil, err
		}
		b, err := prune.Global(other, f)
		if err != nil {
			return nil, err
		}
		common := 0
		for i := range a.Tensors {
			for j, k := range a.Tensors[i].Keep {
				if k == 0 && b.Tensors[i].Keep[j] == 0 {
					common++
				}
			}
		}
		o.TopOverlap = append(o.TopOverlap, safeDiv(common, a.PrunedTotal()))
	}
	return o, nil
}

// ranks returns the rank of each value (1-based, ties get their mean rank).
func ranks(values []float64) []float64 {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return values[idx[a]] < values[idx[b]] })
	out := make([]float64, len(values))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && values[idx[hi]] == values[idx[lo]] {
			hi++
		}
		mean := float64(lo+hi+1) / 2 // mean of ranks lo+1 … hi
		for _, i := range idx[lo:hi] {
			out[i] = mean
		}
		lo = hi
	}
	return out
}
