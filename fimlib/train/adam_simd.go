//go:build goexperiment.simd && amd64

package train

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX512() {
		adamUpdate = adamAVX512
		avx512Build = true
	}
}

// adamAVX512 is [adamScalar] sixteen lanes at a time (the rest in scalar
// code): the same float32 operations in the same order, no fused
// multiply-add, and a correctly rounded square root on both sides, so it
// gives the same bits.
func adamAVX512(w, m1, m2, grad []float32, c adamConsts) {
	b1, b2 := archsimd.BroadcastFloat32x16(c.b1), archsimd.BroadcastFloat32x16(c.b2)
	nb1, nb2 := archsimd.BroadcastFloat32x16(1-c.b1), archsimd.BroadcastFloat32x16(1-c.b2)
	d1, d2 := archsimd.BroadcastFloat32x16(c.debias1), archsimd.BroadcastFloat32x16(c.debias2)
	lr, eps := archsimd.BroadcastFloat32x16(c.lr), archsimd.BroadcastFloat32x16(c.eps)
	n := len(grad) &^ 15
	for j := 0; j < n; j += 16 {
		g := archsimd.LoadFloat32x16Slice(grad[j:])
		a := b1.Mul(archsimd.LoadFloat32x16Slice(m1[j:])).Add(nb1.Mul(g))
		v := b2.Mul(archsimd.LoadFloat32x16Slice(m2[j:])).Add(nb2.Mul(g).Mul(g))
		a.StoreSlice(m1[j:])
		v.StoreSlice(m2[j:])
		step := lr.Mul(a.Mul(d1)).Div(v.Mul(d2).Sqrt().Add(eps))
		archsimd.LoadFloat32x16Slice(w[j:]).Sub(step).StoreSlice(w[j:])
	}
	adamScalar(w[n:], m1[n:], m2[n:], grad[n:], c)
}
