package modelcard

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"

	"github.com/fimprune/fimprune/fimlib/param"
	"github.com/fimprune/fimprune/internal/fieldcheck"
)

// ParamsDomain opens the byte stream [ParamsHash] hashes, naming its format.
const ParamsDomain = "fimprune/params/v1\n"

// ParamsHash returns the content hash of a set of parameters: the hex
// SHA-256 of
//
//	"fimprune/params/v1\n"
//	u64(number of tensors)
//	for each tensor, in the order given (mlp.Arch.Init's for a model):
//	  u64(len(name)) name
//	  u64(rank) u64(dim_0) … u64(dim_rank-1)
//	  u64(number of values) float32 bits of each value
//
// where u64 is an unsigned 64-bit little-endian integer, a name is its UTF-8
// bytes and a value is its IEEE-754 float32 bit pattern, little-endian, in
// row-major order. The hash is a function of the numbers alone: a checkpoint
// saved again, or in another format, hashes the same, while a change of one
// value by one ULP, of a name, a shape or the order changes it. (+0 and −0,
// or two NaN payloads, are different bit patterns and so different
// parameters.)
func ParamsHash(params []param.Tensor) string {
	h := sha256.New()
	h.Write([]byte(ParamsDomain))
	var buf []byte
	u64 := func(x int) { buf = binary.LittleEndian.AppendUint64(buf, uint64(x)) }
	u64(len(params))
	for _, p := range params {
		u64(len(p.Name))
		buf = append(buf, p.Name...)
		u64(len(p.Shape))
		for _, d := range p.Shape {
			u64(d)
		}
		u64(len(p.Values))
		for _, v := range p.Values {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		h.Write(buf)
		buf = buf[:0]
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// RowIDsHash returns the hex SHA-256 of a set of row ids in their text form
// ("adult.data:1"): the ids sorted in byte order, each followed by "\n". It
// is what `LC_ALL=C sort ids.txt | sha256sum` prints for a file holding the
// ids one per line. ids is not modified.
func RowIDsHash(ids []string) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	for _, id := range sorted {
		h.Write([]byte(id + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IsHash reports whether s is a hex SHA-256 as fimprune writes it: 64
// lower-case hex digits.
func IsHash(s string) bool { return fieldcheck.IsHash(s) }
