package backend

import "runtime/debug"

// Build names the software that computes, as the binary records it: the
// module versions of gomlx and gomlx/compute and the GOEXPERIMENT setting
// ("" when unknown or none). Numbers differ in their last bits across these,
// so results, caches and stores record them.
type Build struct {
	Gomlx, Compute, GOEXPERIMENT string
}

// CurrentBuild returns this binary's Build.
func CurrentBuild() Build {
	var b Build
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	for _, dep := range info.Deps {
		switch dep.Path {
		case "github.com/gomlx/gomlx":
			b.Gomlx = dep.Version
		case "github.com/gomlx/compute":
			b.Compute = dep.Version
		}
	}
	for _, s := range info.Settings {
		if s.Key == "GOEXPERIMENT" {
			b.GOEXPERIMENT = s.Value
		}
	}
	return b
}
