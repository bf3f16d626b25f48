#!/usr/bin/env bash
# A/B of two builds on a quiet host, interleaved in one call (docs/BENCHMARKS.md "## streaming", session 15):
#   bench/infer_stream/run_device_ab.sh [DEV_DIR=.smeas_dev] [OUT_DIR=$OUT or /tmp/smeas_ab]
# DEV_DIR/bin holds bench_stream + bench_stream_before and tickrt + tickrt_before (pack_device.sh, then copy the
# older builds in under the _before names); DEV_DIR/lib their shared libraries.
#  1. the step, one core (CPU 2): `bench_stream --seconds 3 --batch 1 --window none`, after / before, SWEEPS times;
#  2. the pipeline: `tickrt run --model lstm_attn_stream --duration SIM_DURATION --cpus 2 --gateway-cpu 4` (default
#     simulator, 1x, trading, keep_warm "infer"), before then after, RUNS times.
set -uo pipefail
cd "$(dirname "$0")/../.."
D=${1:-.smeas_dev}
O=${2:-${OUT:-/tmp/smeas_ab}}
SIMD=${SIM_DURATION:-45}
SWEEPS=${SWEEPS:-2}
RUNS=${RUNS:-1}
B=$D/bin
export LD_LIBRARY_PATH=$PWD/$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
STREAM=models/trained/lstm_attn_stream/model.onnx
mkdir -p "$O"
load() { cut -d' ' -f1-3 /proc/loadavg; }
{ lscpu | grep -E 'Model name|^CPU\(s\)|L2|L3' | sed 's/ \+/ /g'; echo "load: $(load)"; } | tee "$O/machine.txt"
for r in $(seq 1 "$SWEEPS"); do
  for b in bench_stream bench_stream_before; do
    echo "-- step sweep $r, $b, load $(load)"
    taskset -c 2 "$B/$b" --seconds 3 --batch 1 --stream $STREAM --window none 2>&1
  done
done | tee "$O/step_ab.txt"
for r in $(seq 1 "$RUNS"); do
  for t in tickrt_before tickrt; do
    echo "== sim 1x, stream, $t, run $r, ${SIMD}s (load $(load))"
    rm -f tickrt-journal.db*
    "$B/$t" run --model $STREAM --duration $SIMD --cpus 2 --gateway-cpu 4 >"$O/sim_${t}_$r.txt" 2>&1
    sed -n '/== tickrt run summary/,$p' "$O/sim_${t}_$r.txt" | grep -E 'keep_warm|^orders|^\| (receive|book|features|inference|decision|tick->order|wire-to-wire \(v|parse|sampled|infer->|strategy|risk|OMS|total)'
  done
done
echo "== load after: $(load)"
