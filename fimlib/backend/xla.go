//go:build cgo && !noxla

package backend

// The XLA backend (PJRT plugins for CPU and CUDA) is compiled in when cgo is
// available; build with -tags noxla for a pure-Go, static binary.
import _ "github.com/gomlx/go-xla/compute/xla"
