package adult

import "math"

// Scaler standardises features as sklearn's StandardScaler does:
// (x − Mean) / Std per feature.
type Scaler struct {
	Mean []float64
	Std  []float64 // population standard deviation (ddof = 0); 1 for a constant feature
}

// FitScaler computes per-feature mean and population standard deviation over
// the given rows. Pass the training split only: the seed notebook fit on all
// rows, which leaks validation and test statistics into training.
//
// A feature that is constant over rows (for instance a dummy whose level
// never occurs there) gets Std 1, as in sklearn, so Apply leaves it centred
// instead of dividing by zero. With no rows, Mean is 0 and Std 1.
func FitScaler(d *Dataset, rows []int) Scaler {
	f := len(d.Features)
	s := Scaler{Mean: make([]float64, f), Std: make([]float64, f)}
	for j := range s.Std {
		s.Std[j] = 1
	}
	if len(rows) == 0 {
		return s
	}
	// Two passes in float64: the values (fnlwgt up to ~1.5e6) are large
	// enough that a one-pass sum of squares would lose precision.
	for _, i := range rows {
		for j, v := range d.Row(i) {
			s.Mean[j] += float64(v)
		}
	}
	n := float64(len(rows))
	for j := range s.Mean {
		s.Mean[j] /= n
	}
	ss := make([]float64, f)
	constant := make([]bool, f)
	first := d.Row(rows[0])
	for j := range constant {
		constant[j] = true
	}
	for _, i := range rows {
		for j, v := range d.Row(i) {
			dv := float64(v) - s.Mean[j]
			ss[j] += dv * dv
			constant[j] = constant[j] && v == first[j]
		}
	}
	for j := range s.Std {
		// Test constancy exactly rather than with a tolerance on the
		// variance: a rounded mean can leave a tiny non-zero variance.
		if !constant[j] {
			s.Std[j] = math.Sqrt(ss[j] / n)
		}
	}
	return s
}

// Apply returns the scaled rows of d as a new row-major matrix of
// len(rows)×len(d.Features), in the order of rows. s must have been fit on
// a dataset with the same features; d is not modified.
func (s Scaler) Apply(d *Dataset, rows []int) []float32 {
	f := len(d.Features)
	out := make([]float32, len(rows)*f)
	for k, i := range rows {
		dst := out[k*f : (k+1)*f]
		for j, v := range d.Row(i) {
			dst[j] = float32((float64(v) - s.Mean[j]) / s.Std[j])
		}
	}
	return out
}
