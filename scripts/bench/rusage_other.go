//go:build !unix

package main

import "math"

// peakRSSMegabytes is not measured on this system.
func peakRSSMegabytes() float64 { return math.NaN() }

// cpuSeconds is not measured on this system.
func cpuSeconds() float64 { return math.NaN() }
