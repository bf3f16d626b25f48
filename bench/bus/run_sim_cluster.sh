#!/usr/bin/env bash
# bench/bus/run_sim_cluster.sh — issue 11's "done means": the feed, two strategy shards and the
# execution node as separate processes AGAINST THE SIMULATOR, beside the single process on the
# same simulator, same capture, same speed, same config.
#   capture: the bundled BTCUSDT capture and ../shared/data ETHUSDT capture of the same 2024-08-08
#            window, merged by receive stamp (snapshot lines get their "symbol" so one file carries
#            both), first SECS seconds of recorded time;
#   peer:    `tickrt sim` (A) replaying it at SPEED x  <-  `tickrt run -c` (feed.source = url:
#            market data over the venue's WebSocket, orders over its REST API), both symbols;
#   sharded: shards (and the stream) up first; then `tickrt sim` (B) replaying it at SPEED x and
#            `tickrt feed --source url` publishing venue B's own WebSocket market data (+ REST
#            snapshots) into JetStream: the shards see the venue's book one feed hop later, as the
#            peer sees venue A's (FEED_SOURCE=capture: the feed replays the file itself beside the
#            venue instead, the old mode, whose start offset costs ~40% of the fills); shard a = BTCUSDT,
#            shard b = ETHUSDT; `tickrt exec` with the gateway pointed at venue B.
# The strategy is aggressive (LIMIT IOC at the far touch) so that every accepted order trades
# against the replayed book at once: fills are the comparison, not queue luck.
# usage: bench/bus/run_sim_cluster.sh [build dir] [speed] [seconds of capture] [out dir]
# Prints `peer:` and `sharded:` lines (orders, fills, positions) and the hop latencies.
set -euo pipefail
BUILD=${1:-build}
SPEED=${2:-20}
SECS=${3:-120}
OUTDIR=${4:-}
BIN=$(realpath "$BUILD/bin/tickrt")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BTC=$ROOT/data/captures/spot_btcusdt_20240808.gz
ETH=$ROOT/../shared/data/binance_ws/spot/ethusdt_20240808.gz
[ -f "$ETH" ] || { echo "run_sim_cluster: $ETH missing (../shared/data)"; exit 77; }
command -v nats-server > /dev/null || { echo "run_sim_cluster: nats-server not installed"; exit 77; }
TMP=$(mktemp -d /tmp/tickrt-simcluster-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
            [ -n "$OUTDIR" ] && mkdir -p "$OUTDIR" && cp "$TMP"/*.out "$OUTDIR"/ 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
add_sym() { sed "s/^\([0-9]* {\"lastUpdateId\":[0-9]*,\)/\1\"symbol\":\"$1\",/"; }
( zcat "$BTC" | add_sym BTCUSDT; zcat "$ETH" | add_sym ETHUSDT ) | sort -s -n -k1,1 |
  awk -v s="$SECS" 'NR==1{t0=$1} ($1-t0)<s*1e9' | gzip > "$TMP/merged.gz"
LINES=$(zcat "$TMP/merged.gz" | wc -l)
sim_port() {  # $1 = name: the port `tickrt sim` printed
  for _ in $(seq 200); do grep -q "REST" "$TMP/$1.out" 2>/dev/null && break; sleep 0.02; done
  grep -o "http://127.0.0.1:[0-9]*" "$TMP/$1.out" | head -1 | grep -o "[0-9]*$"
}
write_cfg() {  # $1 = file, $2 = venue port, $3 = symbols (TOML list), $4 = client order id prefix (default tk)
  cat > "$1" <<TOML
[feed]
source = "url"
ws_url = "ws://127.0.0.1:$2"
rest_url = "http://127.0.0.1:$2"
symbols = $3
speed = $SPEED
duration_s = $(awk -v s="$SECS" -v x="$SPEED" 'BEGIN{printf "%.1f", s/x + 1.0}')
[model]
path = "$ROOT/models/trained/lstm_attn_s/model.onnx"
[strategy]
style = "aggressive"
order_qty = 0.01
max_position = 0.1
[exec]
id_prefix = "${4:-tk}"
journal = ""
api_key = "tickrtTestApiKey0000000000000000000000000000000000000000000000000"
api_secret = "tickrtTestSecret0000000000000000000000000000000000000000000000000"
[metrics]
enabled = false
TOML
}
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name: *//'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "capture: BTCUSDT + ETHUSDT 2024-08-08, first ${SECS} s ($LINES lines), speed ${SPEED}x"

# The single process trades its first feed symbol only (pipeline/runtime.cpp), so the peer is two
# single processes on venue A, one per symbol, side by side: what one process per symbol does.
echo "== peer: single process per symbol against tickrt sim (A)"
"$BIN" sim -p 0 --speed "$SPEED" --captures "$TMP/merged.gz" > "$TMP/simA.out" 2>&1 &
SIMA=$!; PIDS+=($SIMA)
PA=$(sim_port simA)
# Two processes on one account: each needs its own client order id prefix, or their ids collide and each
# OMS takes the other's execution reports for its own (same session number 1 without a journal).
write_cfg "$TMP/peer_btc.toml" "$PA" '["BTCUSDT"]' tkb
write_cfg "$TMP/peer_eth.toml" "$PA" '["ETHUSDT"]' tke
"$BIN" run -c "$TMP/peer_btc.toml" > "$TMP/peer_btc.out" 2>&1 &
P1=$!
"$BIN" run -c "$TMP/peer_eth.toml" > "$TMP/peer_eth.out" 2>&1 &
P2=$!
wait $P1 || true
wait $P2 || true
kill -INT $SIMA; wait $SIMA 2>/dev/null || true
cat "$TMP/peer_btc.out" "$TMP/peer_eth.out" | grep -E "^market data|^orders|^position|tick->order queued" || true
grep -E "^orders:" "$TMP/simA.out" | sed 's/^/venue A /' || true

echo "== sharded: tickrt feed + 2 x tickrt run --source nats:// + tickrt exec against tickrt sim (B)"
nats-server -js -sd "$TMP/store" -a 127.0.0.1 -p -1 > "$TMP/nats.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "Server is ready" "$TMP/nats.out" && break; sleep 0.05; done
URL=nats://127.0.0.1:$(grep -o "client connections on 127.0.0.1:[0-9]*" "$TMP/nats.out" | grep -o "[0-9]*$")
# Order matters: both shards start FIRST (they only need NATS; the stream is made by whoever comes
# first) and the venue and the feed start their replays together once both shards consume, then the
# exec node (it needs the venue's port; it serves within milliseconds, before the strategy's first
# window is due). Started the other way round (shards joining after the feed and the venue) each
# shard first worked through a backlog: feed hop p99 ~226 ms, i.e. ~4.5 s of recorded time at 20x,
# so its early decisions were made on a book seconds behind the venue's (IOC at the far touch then
# misses: 35 orders, 20-24 fills against the peer's 36 / 36) and its catch-up burst tripped the
# account's order_rate limit (the 3-6 "refused by risk": exec refused by rule: order_rate).
write_cfg "$TMP/shard.toml" 1 '["BTCUSDT", "ETHUSDT"]'   # shards never talk to the venue
"$BIN" run -c "$TMP/shard.toml" --source "$URL" --symbols BTCUSDT --node a --idle-exit 3 --duration 0 > "$TMP/shard_a.out" 2>&1 &
SA=$!; PIDS+=($SA)
"$BIN" run -c "$TMP/shard.toml" --source "$URL" --symbols ETHUSDT --node b --idle-exit 3 --duration 0 > "$TMP/shard_b.out" 2>&1 &
SB=$!; PIDS+=($SB)
for _ in $(seq 500); do grep -q "consuming" "$TMP/shard_a.out" 2>/dev/null && grep -q "consuming" "$TMP/shard_b.out" 2>/dev/null && break; sleep 0.02; done
"$BIN" sim -p 0 --speed "$SPEED" --captures "$TMP/merged.gz" > "$TMP/simB.out" 2>&1 &
SIMB=$!; PIDS+=($SIMB)
PB=$(sim_port simB)
if [ "${FEED_SOURCE:-url}" = url ]; then
  # The feed reads the venue's own WebSocket market data (+ REST snapshots), as the peer does.
  "$BIN" feed --publish "$URL" --source url --speed "$SPEED" --ws-url "ws://127.0.0.1:$PB" --rest-url "http://127.0.0.1:$PB" \
    --symbols BTCUSDT,ETHUSDT --idle-exit 3 > "$TMP/feed.out" 2>&1 &
else
  # FEED_SOURCE=capture: a second replay of the same file started beside the venue's (the old mode).
  "$BIN" feed --publish "$URL" --speed "$SPEED" --capture "$TMP/merged.gz" > "$TMP/feed.out" 2>&1 &
fi
FEED=$!; PIDS+=($FEED)
write_cfg "$TMP/dist.toml" "$PB" '["BTCUSDT", "ETHUSDT"]'
"$BIN" exec --nats "$URL" -c "$TMP/dist.toml" --symbols BTCUSDT,ETHUSDT --journal "" > "$TMP/exec.out" 2>&1 &
XP=$!; PIDS+=($XP)
for _ in $(seq 200); do grep -q "serving" "$TMP/exec.out" 2>/dev/null && break; sleep 0.02; done
wait $FEED || true
wait $SA || true
wait $SB || true
sleep 0.3   # last IOC reports
kill -INT $XP; wait $XP 2>/dev/null || true
kill -INT $SIMB; wait $SIMB 2>/dev/null || true
grep -E "^feed:" "$TMP/feed.out" || true
cat "$TMP/shard_a.out" "$TMP/shard_b.out" | grep -E "^shard |^hop" || true
grep -E "^exec" "$TMP/exec.out" || true
grep -E "^orders:" "$TMP/simB.out" | sed 's/^/venue B /' || true
P_ORD=""
for s in btc eth; do
  P_ORD+="$(grep -oE "^orders: [0-9]+ sent, [0-9]+ cancels, [0-9]+ fills" "$TMP/peer_$s.out" | head -1 | sed 's/^orders: //'), "
  P_ORD+="$(grep -E "^position" "$TMP/peer_$s.out" | sed 's/;.*//; s/^position //') | "
done
X_TOT=$(grep -oE "[0-9]+ orders, [0-9]+ cancels, [0-9]+ refused by risk, [0-9]+ failed, [0-9]+ duplicates; [0-9]+ fills" "$TMP/exec.out" | head -1)
X_POS=$(grep -E "^exec symbol" "$TMP/exec.out" | awk '{printf "%s %.5f ", $3, $13/1e8}')
echo "peer:    $P_ORD"
echo "sharded: $X_TOT | positions $X_POS"
