#!/bin/sh
# tests/venue/peer_clients.sh — runs a standard Binance client library against `tickrt sim`.
# Usage: peer_clients.sh <tickrt binary> <peers dir holding node_modules/binance>
# Exit 77 (ctest: skipped) when node or the npm package is absent. Install the peer with:
#   mkdir -p build/peers && (cd build/peers && npm install binance@3.6.5)
TICKRT=${1:-build/bin/tickrt}
PEERS=${2:-build/peers}
HERE=$(dirname "$0")
if [ ! -x "$TICKRT" ]; then echo "skip: $TICKRT is not built"; exit 77; fi
if ! command -v node >/dev/null 2>&1; then echo "skip: node is not installed"; exit 77; fi
if [ ! -d "$PEERS/node_modules/binance" ]; then
  echo "skip: npm package 'binance' not installed in $PEERS (mkdir -p $PEERS && (cd $PEERS && npm install binance@3.6.5))"
  exit 77
fi
LOG=$(mktemp)
"$TICKRT" sim --port 0 --duration 60 > "$LOG" 2>&1 &
PID=$!
PORT=""
i=0
while [ $i -lt 100 ]; do
  PORT=$(sed -n 's|.*REST *http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$LOG" | head -n 1)
  [ -n "$PORT" ] && break
  sleep 0.1
  i=$((i + 1))
done
if [ -z "$PORT" ]; then echo "tickrt sim did not start:"; cat "$LOG"; kill "$PID" 2>/dev/null; exit 1; fi
KEY=$(sed -n 's/^ *API key *//p' "$LOG")
SECRET=$(sed -n 's/^ *secret *//p' "$LOG")
NODE_PATH="$PEERS/node_modules" node "$HERE/peer_binance.js" "http://127.0.0.1:$PORT" "$KEY" "$SECRET"
RC=$?
kill -INT "$PID" 2>/dev/null
wait "$PID"
echo "--- tickrt sim output"
cat "$LOG"
rm -f "$LOG"
exit $RC
