package experiment

import "github.com/fimprune/fimprune/fimlib/experiment/rundir"

// ErrRunDirInUse is matched (errors.Is) by the error of [NewSession], [Run],
// [RunWithData] and [ClearCache] when another writer (another run, a
// notebook, scripts/report; in this process or another) holds the run
// directory. The error is a [*rundir.InUseError], which names the directory
// and the holder: its pid, command line and start. See package rundir.
var ErrRunDirInUse = rundir.ErrInUse
