#!/usr/bin/env bash
# bench/backtest/run_bench_backtest.sh [BIN_DIR] — the docs/BENCHMARKS.md "## backtest" figures.
#   1. peer (floor): `tickrt replay` on the same capture: gunzip + JSON parse + one L2 book;
#   2. `tickrt backtest --no-model`: events replayed per second with no model — our book +
#      features (pipeline::MarketHandler) + the event loop, from events parsed ONCE into memory
#      before timing (the parse is not in the figure; the load line says what it costs). The
#      venue's replay book is lazy (applied only when an order or equity point can observe it):
#      with no model nothing does, so it is skipped;
#   2b. the same with --eager-venue: the venue's book and queue model (sim::MatchingEngine) are
#      updated on every depth/trade event as well (what a run with orders pays);
#   3. the same replay with the lstm_attn_s engine inferring every sample (and its zero-latency
#      twin): the Mev/s column of the summary table.
# Captures: DATA (default: the bundled spot capture); one core (taskset CPU, default 1; CPU= unpinned).
# Each replay is one thread: the figures are single-core.
set -euo pipefail
BIN=${1:-build/bin}
DATA=${DATA:-data/captures/spot_btcusdt_20240808.gz}
CPU=${CPU-1}   # CPU= (empty): not pinned
PIN=(); [ -n "$CPU" ] && PIN=(taskset -c "$CPU")
REPEAT=${REPEAT:-7}
MODEL=models/trained/lstm_attn_s/model.onnx
echo "== machine: $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== data: $DATA"
echo "== 1. peer: tickrt replay (gunzip + parse + book), CPU $CPU"
"${PIN[@]}" "$BIN/tickrt" replay $DATA 2>&1 | grep -iE "msg/s|messages" | head -4
echo "== 2. tickrt backtest --no-model, best of $REPEAT, CPU $CPU"
"${PIN[@]}" "$BIN/tickrt" backtest --no-model --repeat "$REPEAT" $(for f in $DATA; do echo --data "$f"; done) 2>/dev/null
echo "== 2b. tickrt backtest --no-model --eager-venue, best of $REPEAT, CPU $CPU"
"${PIN[@]}" "$BIN/tickrt" backtest --no-model --eager-venue --repeat "$REPEAT" $(for f in $DATA; do echo --data "$f"; done) 2>/dev/null | tail -1
echo "== 3. tickrt backtest with $MODEL (+ zero-latency twin), CPU $CPU"
"${PIN[@]}" "$BIN/tickrt" backtest --engines "lstm_attn_s=$MODEL" $(for f in $DATA; do echo --data "$f"; done) \
  --out "${TMPDIR:-/tmp}/tickrt_bench_backtest" 2>/dev/null | sed -n '1,3p'
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
