//go:build unix

package main

import (
	"math"
	"runtime"
	"syscall"
)

func rusage() (syscall.Rusage, bool) {
	var ru syscall.Rusage
	err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru, err == nil
}

// peakRSSMegabytes is this process's peak resident set size (getrusage's
// ru_maxrss), in MB of 2^20 bytes; NaN if unavailable.
func peakRSSMegabytes() float64 {
	ru, ok := rusage()
	if !ok {
		return math.NaN()
	}
	if runtime.GOOS == "darwin" { // bytes there, KiB on Linux and the BSDs
		return float64(ru.Maxrss) / (1 << 20)
	}
	return float64(ru.Maxrss) / (1 << 10)
}

// cpuSeconds is the CPU time this process has used so far, user plus
// system, over all its threads; NaN if unavailable. Differences of it say
// how many cores a phase kept busy, which wall time alone does not.
func cpuSeconds() float64 {
	ru, ok := rusage()
	if !ok {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
