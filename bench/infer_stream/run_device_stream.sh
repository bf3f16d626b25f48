#!/usr/bin/env bash
# Issue 10's goals measured on a quiet many-core host (docs/BENCHMARKS.md "## streaming", "on an idle host"):
#   bench/infer_stream/run_device_stream.sh [DEV_DIR=.smeas_dev] [OUT_DIR=$OUT or /tmp/smeas]
# DEV_DIR holds bin/{tickrt,bench_stream} (Release) and lib/ (their non-system shared libraries), made by
# bench/infer_stream/pack_device.sh, so the binaries run on a host without the project's packages.
# Needs CPUs 2 and 4 free. Deletes ./tickrt-journal.db* before each `tickrt run` (each run starts with no
# journal, the simulator venue being fresh): run it in a copy of the tree, as the device machine does.
# Every step is one command you can run alone (with build/bin instead of $B):
#  1. per-tick step, one core: bench_stream (stream step, 4-symbol batch, lstm_attn_s window), 2 sweeps + profile;
#  2. tickrt run inline, capture at full speed, no trading: stream vs window (hot caches), 1 and 4 symbols;
#  3. tickrt run inline, default simulator at 1x with trading, --cpus 2, gateway pinned to CPU 4, keep_warm
#     default ("infer"; a streaming instance is touched instead): stream vs window, SIM_DURATION s each;
#     then the same at --speed 4 (SIM4_DURATION s each) for more orders per second of machine time.
set -uo pipefail
cd "$(dirname "$0")/../.."
D=${1:-.smeas_dev}
O=${2:-${OUT:-/tmp/smeas}}
SIMD=${SIM_DURATION:-45}
SIM4D=${SIM4_DURATION:-20}
CAPD=${CAP_DURATION:-8}
B=$D/bin
export LD_LIBRARY_PATH=$PWD/$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
STREAM=models/trained/lstm_attn_stream/model.onnx
WINDOW=models/trained/lstm_attn_s/model.onnx
mkdir -p "$O"
ldd "$B/tickrt" "$B/bench_stream" | grep 'not found'
{ lscpu | grep -E 'Model name|^CPU\(s\)|Thread\(s\)|Socket|L2|L3|MHz|Flags' | sed 's/ \+/ /g' | cut -c1-200
  echo "nproc: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"; } | tee "$O/machine.txt"
summ() { sed -n '/== tickrt run summary/,$p'; }
echo "== 1. bench_stream, CPU 2"
{ for r in 1 2; do
    echo "-- sweep $r, load $(cut -d' ' -f1-3 /proc/loadavg)"
    taskset -c 2 "$B/bench_stream" --seconds 3 --batch 4 --stream $STREAM --window $WINDOW 2>&1
  done
  echo "-- profile"
  taskset -c 2 "$B/bench_stream" --seconds 1 --profile --stream $STREAM --window $WINDOW 2>&1
} | tee "$O/bench_stream.txt"
for kind in stream window; do
  M=$STREAM; [ $kind = window ] && M=$WINDOW
  echo "== 2. capture, speed 0, no trade, $kind (load $(cut -d' ' -f1-3 /proc/loadavg)); then 4 symbols"
  rm -f tickrt-journal.db*
  "$B/tickrt" run --model $M --source capture --speed 0 --no-trade --duration $CAPD --cpus 2 >"$O/capture_$kind.txt" 2>&1
  echo "== 2b. the same with --extra-symbols 3 (4 symbols, 4 slots)" >>"$O/capture_$kind.txt"
  rm -f tickrt-journal.db*
  "$B/tickrt" run --model $M --source capture --speed 0 --no-trade --duration $CAPD --cpus 2 --extra-symbols 3 >>"$O/capture_$kind.txt" 2>&1
  grep -E 'summary|market data|keep_warm|^\| (inference|window->|receive|book|features)' "$O/capture_$kind.txt"
done
for kind in stream window; do
  M=$STREAM; [ $kind = window ] && M=$WINDOW
  echo "== 3. sim 1x, trading, $kind, ${SIMD}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
  rm -f tickrt-journal.db*
  "$B/tickrt" run --model $M --duration $SIMD --cpus 2 --gateway-cpu 4 >"$O/sim_$kind.txt" 2>&1
  summ <"$O/sim_$kind.txt" | head -40
done
for kind in stream window; do
  M=$STREAM; [ $kind = window ] && M=$WINDOW
  echo "== 3b. sim --speed 4, trading, $kind, ${SIM4D}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
  rm -f tickrt-journal.db*
  "$B/tickrt" run --model $M --duration $SIM4D --speed 4 --cpus 2 --gateway-cpu 4 >"$O/sim4_$kind.txt" 2>&1
  summ <"$O/sim4_$kind.txt" | grep -E 'summary|market data|keep_warm|^orders|^\| (inference|decision|order enc|tick->order|wire-to-wire \(v)'
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
