package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamKernelMatchesScalar checks the kernel in use (vectorised where the
// build and CPU have one) against the scalar loop bit for bit, over lengths
// that exercise a partial last vector, and against a float64 evaluation of
// the formula.
func TestAdamKernelMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := adamConsts{b1: 0.9, b2: 0.999, debias1: 1 / (1 - 0.9*0.9*0.9), debias2: 1 / (1 - 0.999*0.999*0.999), lr: 1e-3, eps: 1e-8}
	for _, n := range []int{1, 15, 16, 17, 100, 12416} {
		w, m1, m2, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i], m1[i], m2[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*0.1), float32(rng.Float64()*0.01), float32(rng.NormFloat64())
		}
		ws, m1s, m2s := append([]float32(nil), w...), append([]float32(nil), m1...), append([]float32(nil), m2...)
		wk, m1k, m2k := append([]float32(nil), w...), append([]float32(nil), m1...), append([]float32(nil), m2...)
		adamScalar(ws, m1s, m2s, g, c)
		adamUpdate(wk, m1k, m2k, g, c)
		for i := range w {
			if math.Float32bits(ws[i]) != math.Float32bits(wk[i]) || m1s[i] != m1k[i] || m2s[i] != m2k[i] {
				t.Fatalf("n=%d, i=%d: kernel gives w %v m1 %v m2 %v, scalar %v %v %v", n, i, wk[i], m1k[i], m2k[i], ws[i], m1s[i], m2s[i])
			}
			a := 0.9*float64(m1[i]) + 0.1*float64(g[i])
			v := 0.999*float64(m2[i]) + 0.001*float64(g[i])*float64(g[i])
			want := float64(w[i]) - 1e-3*a*float64(c.debias1)/(math.Sqrt(v*float64(c.debias2))+1e-8)
			if math.Abs(float64(ws[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("n=%d, i=%d: w %v, the formula in float64 gives %v", n, i, ws[i], want)
			}
		}
	}
}
