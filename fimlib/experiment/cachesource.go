package experiment

// The phase cache is keyed by the configuration, the data and the build, but
// not by fimprune's own code: a change to the code that computes a phase can
// leave cached results that the new code would not produce. CacheVersion is
// part of every key for that reason, and TestCacheVersionTracksSource makes
// sure it is bumped: it hashes the code of the packages that compute cached
// results (cacheSourcePackages, comments left out) and fails when that hash
// differs from cacheSourceHash. A change that can alter results then bumps
// CacheVersion; either way the test's message gives the new hash to record.

// cacheSourcePackages are the packages whose code determines what a phase
// computes, relative to the module root.
var cacheSourcePackages = []string{
	"fimlib/adult", "fimlib/experiment", "fimlib/fisher", "fimlib/internal/numpyq", "fimlib/mia", "fimlib/mlp",
	"fimlib/param", "fimlib/prune", "fimlib/results", "fimlib/selection", "fimlib/shadow", "fimlib/study",
	"fimlib/train", "fimlib/unlearn", "fimlib/verdict",
}

// cacheSourceHash is the hash of cacheSourcePackages' code that CacheVersion
// was last reviewed against (see TestCacheVersionTracksSource).
const cacheSourceHash = "b2e3c2b1b2665f0370ce166feff0aad1fd8c0e956e552f874aa234b258f998f3"
