package experiment

import "hash/fnv"

// subSeed derives an independent seed for one purpose ("full/init",
// "finetune/0.2/shuffle", …) from the run's seed, so that adding a phase or a
// fraction does not shift the random streams of the others.
func subSeed(seed uint64, purpose string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(purpose))
	// splitmix64 finaliser: spreads FNV's weak low bits.
	z := h.Sum64() + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
