#!/bin/sh
# Queues the sweep's array job and, after it, the merge:  examples/slurm/submit.sh [RESULTS_DIR]
set -eu
cd "$(dirname "$0")/../.."
export RESULTS="${1:-xbarsim-sweep-results}"
array=$(sbatch --parsable --export=ALL examples/slurm/sweep.sbatch)
# afterok on an array job waits for every one of its tasks.
sbatch --parsable --export=ALL --dependency="afterok:${array%%;*}" examples/slurm/merge.sbatch
echo "queued sweep ${array%%;*} and its merge; results in $RESULTS/merged" >&2
