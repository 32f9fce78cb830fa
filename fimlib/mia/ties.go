package mia

import (
	"fmt"
	"math"
	"slices"
)

// TieRobust returns stat with every group of rows whose target signal is
// exactly equal (the same float64 value, at least two rows) given one
// common statistic, the group's mean stat, and the number of rows in such
// groups. stat is a per-example attack statistic (offline LiRA's, RMIA's
// score) and signal[i] the attacked model's own score of row i that the
// statistic was computed from.
//
// Why: pruned models give many rows exactly tied logits (signal 0 for the
// logit-scaled confidence, 0.5 for the true-label probability). Offline
// LiRA's statistic (s − μ_out)/σ, or RMIA's P(x|θ)/P(x), then ranks those
// rows by how hard they are for the shadows, not by anything the attacked
// model says, which lifts the AUC above 0.5 with no membership signal. With
// one statistic per group, pairs inside a group count ½ in the AUC.
//
// NaN statistics (rows LiRA or RMIA skipped) stay NaN and belong to no
// group: a group and tiedRows count only rows with a statistic. Rows whose
// signal no other such row shares keep their statistic bit for bit. The
// slices must have equal lengths (else ErrShape) and signal must be finite
// (else ErrNonFinite).
func TieRobust(stat, signal []float64) (out []float64, tiedRows int, err error) {
	if len(stat) != len(signal) {
		return nil, 0, fmt.Errorf("%w: %d statistics, %d signals", ErrShape, len(stat), len(signal))
	}
	if err := finite("signal", signal); err != nil {
		return nil, 0, err
	}
	out = slices.Clone(stat)
	// Group the rows with a statistic by signal; == on float64 keys puts
	// +0 and −0 together.
	group := make(map[float64][]int)
	for i, s := range signal {
		if !math.IsNaN(stat[i]) {
			group[s] = append(group[s], i)
		}
	}
	for _, rows := range group {
		if len(rows) < 2 {
			continue
		}
		var sum float64
		for _, i := range rows {
			sum += stat[i]
		}
		mean := sum / float64(len(rows))
		for _, i := range rows {
			out[i] = mean
		}
		tiedRows += len(rows)
	}
	return out, tiedRows, nil
}
