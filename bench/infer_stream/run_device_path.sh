#!/usr/bin/env bash
# The path warm-up (keep_warm_path, session 16) A/B on a quiet host, builds alternated in one call
# (docs/BENCHMARKS.md "## streaming", session 16):
#   bench/infer_stream/run_device_path.sh [DEV_DIR=.tp_dev] [OUT_DIR=$OUT or /tmp/tp_path]
# DEV_DIR/bin holds tickrt (after) and tickrt_before (the build before the change), DEV_DIR/lib their shared
# libraries (pack: see the BENCHMARKS subsection). For ROUNDS rounds, for the streaming model and lstm_attn_s:
#   tickrt_before run --model M --duration DURATION --cpus 2 --gateway-cpu 4 --capture data/captures/spot_btcusdt_20240808.gz
#   tickrt        run --model M --duration DURATION --cpus 2 --gateway-cpu 4 --capture ...   (default simulator, 1x, trading)
# (--capture: the default capture, named so that a build made in another source tree finds it here.)
# each a command of its own, raw output in OUT_DIR/<model>_<build>_<round>.txt; the summary lines it prints here
# are the latency tables ("tick->order queued by part" included) and the warm-up's own line.
set -uo pipefail
cd "$(dirname "$0")/../.."
D=${1:-.tp_dev}
O=${2:-${OUT:-/tmp/tp_path}}
DUR=${DURATION:-40}
ROUNDS=${ROUNDS:-2}
CPUS=${CPUS_ARGS:---cpus 2 --gateway-cpu 4}   # the project VM (2 vCPUs): CPUS_ARGS="--cpus 1"
B=$D/bin
export LD_LIBRARY_PATH=$PWD/$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p "$O"
load() { cut -d' ' -f1-3 /proc/loadavg; }
{ lscpu | grep -E 'Model name|^CPU\(s\)|L2|L3' | sed 's/ \+/ /g'; echo "load: $(load)"; } | tee "$O/machine.txt"
for r in $(seq 1 "$ROUNDS"); do
  for m in lstm_attn_stream lstm_attn_s; do
    for t in tickrt_before tickrt; do
      echo "== $m, $t, round $r, ${DUR}s (load $(load))"
      rm -f tickrt-journal.db*
      "$B/$t" run --model models/trained/$m/model.onnx --duration "$DUR" $CPUS --capture data/captures/spot_btcusdt_20240808.gz >"$O/${m}_${t}_$r.txt" 2>&1
      sed -n '/== tickrt run summary/,$p' "$O/${m}_${t}_$r.txt" |
        grep -E 'keep_warm|path warm|^orders|^\| (receive|book|features|inference|decision|tick->order|parse|sampled|infer->|strategy|risk|OMS|total)'
    done
  done
done
echo "== load after: $(load)"
