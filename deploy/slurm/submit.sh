#!/usr/bin/env bash
# Submits a fimprune study to Slurm as two job arrays of N shards and a merge:
# stage 1 (the full and shadow models), stage 2 (the methods on them; after
# stage 1) and the merge (after stage 2), so that no task ever waits for
# another while holding a slot.
#
#   deploy/slurm/submit.sh N RUN_DIR [scripts/experiment flags, e.g. -study-seeds 5]
#
# Prints the three job ids ("models ID", "methods ID", "merge ID"). Run it from the directory
# holding bin/experiment (or set FIMPRUNE_EXPERIMENT); RUN_DIR must be on a
# file system every node sees. The merge job runs only if every shard
# succeeded (afterok). After a failure (a node lost, a task killed), run the
# same command again: every shard finds in the store what it had finished
# and computes only the rest, and the new merge job assembles the study.
set -euo pipefail
if (( $# < 2 )); then
	echo "usage: $0 N RUN_DIR [scripts/experiment flags]" >&2
	exit 2
fi
n=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
models=$(sbatch --parsable --array="0-$((n - 1))" "$here/study-shard.sbatch" 1 "$@")
models=${models%%;*}
methods=$(sbatch --parsable --array="0-$((n - 1))" --dependency="afterok:$models" "$here/study-shard.sbatch" 2 "$@")
methods=${methods%%;*}
merge=$(sbatch --parsable --dependency="afterok:$methods" "$here/study-merge.sbatch" "$@")
merge=${merge%%;*}
echo "models $models"
echo "methods $methods"
echo "merge $merge"
