#!/bin/sh
# Merges the shard folders run-shard.sh wrote into RESULTS_DIR/merged (results.jsonl, summary.csv,
# report.html, accuracy.svg): the files an unsharded run writes. Safe to run again as more shards
# finish; it reports how many evaluations are still missing.
#   examples/merge-shards.sh RESULTS_DIR
set -eu
if [ $# -ne 1 ]; then
  echo "usage: merge-shards.sh RESULTS_DIR" >&2
  exit 2
fi
results=$1
set -- "$results"/shard-*
if [ ! -d "$1" ]; then
  echo "merge-shards.sh: no shard folders in $results" >&2
  exit 2
fi
# shellcheck disable=SC2086 # XBARSIM is a command line, split on purpose
exec ${XBARSIM:-npx --no-install xbarsim} merge --out "$results/merged" "$@"
