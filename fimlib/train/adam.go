package train

import "math"

// adamUpdate applies one Adam step to w, with moments m1 and m2, gradient
// grad and constants c, in float32 as gomlx's optimizer.Adam computes it in
// the graph: m₁ ← β₁m₁ + (1−β₁)g, m₂ ← β₂m₂ + (1−β₂)g·g,
// w ← w − lr·(m₁·d₁) / (√(m₂·d₂) + ε) with the bias corrections dᵢ =
// 1/(1−βᵢᵗ), each operation rounded to float32 in that order. A vectorised
// kernel (adam_simd.go) replaces it where the build and the CPU have one;
// it performs the same operations in the same order, so both give the same
// bits.
var adamUpdate = adamScalar

// avx512Build reports a GOEXPERIMENT=simd build on a CPU with AVX-512, where
// compute's go backend multiplies with its AVX-512 kernels; tests that
// expect bit-for-bit equality across kernel choices check it.
var avx512Build bool

// adamConsts are one step's constants.
type adamConsts struct {
	b1, b2, debias1, debias2, lr, eps float32
}

func adamScalar(w, m1, m2, grad []float32, c adamConsts) {
	w, m1, m2 = w[:len(grad)], m1[:len(grad)], m2[:len(grad)]
	for j, g := range grad {
		a := c.b1*m1[j] + (1-c.b1)*g
		v := c.b2*m2[j] + (1-c.b2)*g*g
		m1[j], m2[j] = a, v
		w[j] -= c.lr * (a * c.debias1) / (float32(math.Sqrt(float64(v*c.debias2))) + c.eps)
	}
}
