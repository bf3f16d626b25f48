#!/usr/bin/env bash
# bench/bus/run_scaleout.sh — the scale-out figures of docs/BENCHMARKS.md "## scale-out" and the
# "same trading" check of docs/SCALING.md, in one run:
#   1. peer: the single process (`tickrt run --source capture`) on the capture at SPEED x, trading
#      BTCUSDT against the in-process venue;
#   2. the same capture through NATS: `tickrt feed` -> `tickrt run --source nats://` (one shard) ->
#      `tickrt exec` (its own in-process venue), all separate processes, same SPEED;
#      order/cancel counts side by side, hop latencies (feed -> strategy, strategy -> execution);
#   3. throughput per node: feed at speed 0 (messages/s published), a no-trade shard draining it.
# usage: bench/bus/run_scaleout.sh [build dir] [speed]      (needs nats-server)
set -euo pipefail
BUILD=${1:-build}
SPEED=${2:-10}
BIN=$BUILD/bin/tickrt
TMP=$(mktemp -d /tmp/tickrt-scaleout-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
nats-server -js -sd "$TMP/store" -a 127.0.0.1 -p -1 > "$TMP/nats.log" 2>&1 &
for _ in $(seq 100); do grep -q "Server is ready" "$TMP/nats.log" && break; sleep 0.05; done
PORT=$(grep -o "client connections on 127.0.0.1:[0-9]*" "$TMP/nats.log" | grep -o "[0-9]*$")
URL=nats://127.0.0.1:$PORT
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name: *//')"
echo "nats-server $(nats-server --version | awk '{print $NF}') on $URL; speed ${SPEED}x"

echo "== 1. single process (peer)"
$BIN run --source capture --speed "$SPEED" --duration 0 > "$TMP/single.out" 2>&1
grep -E "^orders:|tick->order|^market data" "$TMP/single.out" || true
grep -E "tick->(queued|order sent)" "$TMP/single.out" || true

echo "== 2. feed -> shard -> exec over NATS"
$BIN exec --nats "$URL" --symbols BTCUSDT --journal "" --idle-exit 30 > "$TMP/exec.out" 2>&1 &
XP=$!
sleep 0.5
$BIN run --source "$URL" --symbols BTCUSDT --node bench --idle-exit 3 --duration 0 > "$TMP/shard.out" 2>&1 &
SP=$!
sleep 0.5
$BIN feed --publish "$URL" --speed "$SPEED" > "$TMP/feed.out" 2>&1
wait $SP || true
kill -INT $XP; wait $XP || true
cat "$TMP/feed.out" "$TMP/shard.out" "$TMP/exec.out" | grep -E "^feed:|^shard |^hop|^exec" || true
S_ORD=$(grep -oE "orders: [0-9]+ sent, [0-9]+ cancels" "$TMP/single.out" | head -1)
D_ORD=$(grep -oE "\([0-9]+ orders, [0-9]+ cancels\)" "$TMP/shard.out" | head -1)
echo "same trading? single process: $S_ORD | sharded: $D_ORD"

echo "== 3. throughput per node (speed 0, no trading; a fresh server)"
nats-server -js -sd "$TMP/store2" -a 127.0.0.1 -p -1 > "$TMP/nats2.log" 2>&1 &
for _ in $(seq 100); do grep -q "Server is ready" "$TMP/nats2.log" && break; sleep 0.05; done
URL2=nats://127.0.0.1:$(grep -o "client connections on 127.0.0.1:[0-9]*" "$TMP/nats2.log" | grep -o "[0-9]*$")
$BIN feed --publish "$URL2" --speed 0 > "$TMP/feed0.out" 2>&1 || true
grep -E "^feed:" "$TMP/feed0.out" || true
$BIN run --source "$URL2" --symbols BTCUSDT --node tput --no-trade --idle-exit 1 --duration 0 > "$TMP/shard0.out" 2>&1 || true
grep -E "^shard tput" "$TMP/shard0.out" || true
