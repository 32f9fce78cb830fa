package mia

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/fimprune/fimprune/fimlib/internal/numpyq"
)

// resamples turns a caller's bootstrap count into the number of resamples:
// 0 means DefaultBootstrap, negative is an error.
func resamples(bootstrap int) (int, error) {
	switch {
	case bootstrap < 0:
		return 0, fmt.Errorf("mia: bootstrap must be ≥ 0, got %d", bootstrap)
	case bootstrap == 0:
		return DefaultBootstrap, nil
	}
	return bootstrap, nil
}

// resample draws count bootstrap resamples of member and nonMember from one
// PCG stream seeded by seed: each side is redrawn with replacement at its
// own size, members first, so that the two sides stay separate (the
// stratified bootstrap). fn receives resample b in buffers that the next
// resample overwrites. Attack and Summarize share this stream, so equal
// seeds and counts give them equal AUC intervals.
func resample(member, nonMember []float64, count int, seed uint64, fn func(b int, m, n []float64)) {
	r := rand.New(rand.NewPCG(seed, pcgStream))
	m, n := make([]float64, len(member)), make([]float64, len(nonMember))
	for b := range count {
		for i := range m {
			m[i] = member[r.IntN(len(member))]
		}
		for i := range n {
			n[i] = nonMember[r.IntN(len(nonMember))]
		}
		fn(b, m, n)
	}
}

// ci95 sorts v in place and returns its 2.5 and 97.5 percentiles as
// numpy.percentile computes them. v must be non-empty.
func ci95(v []float64) [2]float64 {
	slices.Sort(v)
	return [2]float64{numpyq.Percentile(v, 2.5), numpyq.Percentile(v, 97.5)}
}

// linspace is numpy.linspace(lo, hi, num) step for step: lo + i·step with
// step = (hi − lo)/(num − 1), the last value set to hi, and numpy's branch
// for a step that underflows to 0. num ≤ 0 gives nil and num == 1 gives
// [lo].
func linspace(lo, hi float64, num int) []float64 {
	if num <= 0 {
		return nil
	}
	out := make([]float64, num)
	out[0] = lo
	if num == 1 {
		return out
	}
	div := float64(num - 1)
	delta := hi - lo
	step := delta / div
	for i := range out {
		// float64(...) keeps the multiply and add separate, as numpy does.
		out[i] = float64(float64(i)*step) + lo
		if step == 0 {
			out[i] = float64(float64(i)/div*delta) + lo
		}
	}
	out[num-1] = hi
	return out
}

// median is numpy.median: the middle value of a sorted copy, or the mean of
// the two middle values. x must be non-empty.
func median(x []float64) float64 {
	s := slices.Sorted(slices.Values(x))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
