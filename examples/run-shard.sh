#!/bin/sh
# One shard of an xbarsim sweep, as a cluster array task runs it.
#   examples/run-shard.sh RESULTS_DIR [xbarsim sweep flags...]
# writes RESULTS_DIR/shard-I (I = 1..N) with `xbarsim sweep ... --shard I/N --resume`, so a task that
# is preempted and requeued continues where it stopped. I and N come from, in this order:
#   SHARD_INDEX (1-based) and SHARD_COUNT        (set by hand);
#   SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm array job, any --array=A-B range);
#   JOB_COMPLETION_INDEX (0-based) and SHARD_COUNT (a Kubernetes Indexed Job; the manifest sets
#                                                  SHARD_COUNT to its `completions`).
# XBARSIM is the command to run (default: npx --no-install xbarsim, from the repository root).
set -eu
if [ $# -lt 1 ]; then
  echo "usage: run-shard.sh RESULTS_DIR [xbarsim sweep flags...]" >&2
  exit 2
fi
results=$1
shift
if [ -n "${SHARD_INDEX:-}" ]; then
  i=$SHARD_INDEX
  n=${SHARD_COUNT:-}
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
  # Array indices need not start at 1 (--array=0-7): count from the array's first index.
  i=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-1} + 1))
  n=${SLURM_ARRAY_TASK_COUNT:-}
elif [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
  i=$((JOB_COMPLETION_INDEX + 1))
  n=${SHARD_COUNT:-}
else
  echo "run-shard.sh: no shard index: set SHARD_INDEX, or run as a Slurm array task or a Kubernetes Indexed Job pod" >&2
  exit 2
fi
if [ -z "$n" ]; then
  echo "run-shard.sh: no shard count: set SHARD_COUNT (Slurm sets SLURM_ARRAY_TASK_COUNT itself)" >&2
  exit 2
fi
mkdir -p "$results"
echo "run-shard.sh: shard $i/$n -> $results/shard-$i" >&2
# shellcheck disable=SC2086 # XBARSIM is a command line, split on purpose
exec ${XBARSIM:-npx --no-install xbarsim} sweep "$@" --shard "$i/$n" --out "$results/shard-$i" --resume
