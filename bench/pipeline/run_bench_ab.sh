#!/bin/bash
# bench/pipeline/run_bench_ab.sh [BIN_DIR] — `tickrt run` variants alternated in one run (A/B of knobs on the
# same binary): each variant is a set of extra flags; every round runs every variant once, DURATION s each, inline
# on CPU 2 with the gateway pinned to CPU 4 (BASE), the embedded default (simulator replaying the bundled capture
# at 1x, lstm_attn_s FP32, window prefix, keep_warm infer). Prints each run's summary.
#   VARIANTS="--gateway-warm-send off;--gateway-warm-send on" ROUNDS=2 DURATION=45 bash bench/pipeline/run_bench_ab.sh build/bin
# Needs CPUs 2..4 free (more if a variant pins the simulator). Deletes ./tickrt-journal.db* before each run: run it in
# a copy of the tree.
set -uo pipefail
BIN=${1:-build/bin}
DURATION=${DURATION:-45}
ROUNDS=${ROUNDS:-2}
BASE=${BASE:---cpus 2 --gateway-cpu 4}
VARIANTS=${VARIANTS:---gateway-warm-send off;--gateway-warm-send on}
echo "== machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=';' read -r -a vs <<< "$VARIANTS"
for r in $(seq 1 "$ROUNDS"); do
  for v in "${vs[@]}"; do
    echo "== round $r: tickrt run --duration $DURATION $BASE $v"
    rm -f tickrt-journal.db*   # each run's simulator venue is fresh: no journal to recover from
    # shellcheck disable=SC2086
    "$BIN/tickrt" run --duration "$DURATION" $BASE $v 2>&1 | sed -n '/== tickrt run summary/,$p'
  done
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
