#!/bin/bash
# bench/pipeline/run_bench_swap_inline.sh [BIN_DIR] — issue 8's hot-swap goal (<= 50 us added, 0 dropped) where
# `tickrt run` trades: inline mode, lstm_attn_s FP32 with the window prefix, simulator at 1x, one pinned core.
# The model file is watched ([model] watch) and touched every EVERY s, so the swapper rebuilds and validates the
# same model in the background and the inference thread adopts it between ticks. The run summary's line
# "inference on the first tick of each new engine" compares the first inference on each adopted engine with
# every other inference of the same run. Peer in the same run: swap_warm = false (adopted at once, cold: the
# old behaviour) vs true (the default: WarmSet read + the new model's prefixes computed before adoption).
# Needs CPUs 2..4 free. Deletes ./tickrt-journal.db* and touches the model file: run it in a copy of the tree.
# DURATION (default 40 s), EVERY (default 2 s), ROUNDS (default 2), WARMS (default "false true"), CPUS (2), GATEWAY_CPU (4).
set -uo pipefail
BIN=${1:-build/bin}
DURATION=${DURATION:-40}
EVERY=${EVERY:-2}
ROUNDS=${ROUNDS:-2}
WARMS=${WARMS:-false true}
CPUS=${CPUS:-2}
GATEWAY_CPU=${GATEWAY_CPU:-4}
MODEL=models/trained/lstm_attn_s/model.onnx
echo "== machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
summ() { sed -n '/== tickrt run summary/,$p'; }
for r in $(seq 1 $ROUNDS); do
  for w in $WARMS; do
    cfg=./bench-swap-inline.toml   # in the tree: the config's relative paths resolve against its directory
    $BIN/tickrt run --print-default-config | sed "/^\[model\]/a watch = true\nwatch_ms = 100\nswap_warm = $w" > "$cfg"
    echo "== round $r: swap_warm $w, model touched every ${EVERY} s, ${DURATION} s, inline --cpus $CPUS --gateway-cpu $GATEWAY_CPU"
    rm -f tickrt-journal.db*
    ( sleep 3; end=$((SECONDS + DURATION - 5)); while [ $SECONDS -lt $end ]; do touch "$MODEL"; sleep "$EVERY"; done ) &
    toucher=$!
    $BIN/tickrt run -c "$cfg" --duration "$DURATION" --cpus "$CPUS" --gateway-cpu "$GATEWAY_CPU" 2>&1 | summ
    kill $toucher 2>/dev/null; wait $toucher 2>/dev/null
    rm -f "$cfg"
  done
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
