#!/usr/bin/env bash
# Issue 10's goals measured on a quiet many-core host (docs/BENCHMARKS.md "## streaming", "on an idle host"):
#   bench/infer_stream/run_device_stream.sh [DEV_DIR=.smeas_dev] [OUT_DIR=$OUT or /tmp/smeas]
# DEV_DIR holds bin/{tickrt,bench_stream} (Release, -DTICKRT_CUDA=OFF) and lib/ (their non-system shared
# libraries), made by bench/infer_stream/pack_device.sh, so the binaries run on a host without the project's
# packages; optionally bin/bench_stream_before (an older bench_stream: the before/after of a step change,
# interleaved in the same call).
# Needs CPUs 2 and 4 free. Deletes ./tickrt-journal.db* before each `tickrt run` (each run starts with no
# journal, the simulator venue being fresh): run it in a copy of the tree, as the device machine does.
# Every step is one command you can run alone (with build/bin instead of $B):
#  1. per-tick step, one core (CPU 2): bench_stream after [and before], interleaved, 2 sweeps (stream step +
#     lstm_attn_s window recompute, the peer); the per-kernel profile; the step with TICKRT_ISA=avx2 (does the
#     tail move without AVX-512?); --by-tick (is the tail tied to the data or to the core?);
#  2. tickrt run inline, capture at full speed, no trading: stream vs window (hot caches);
#  3. tickrt run inline, default simulator at 1x with trading, --cpus 2, gateway pinned to CPU 4 (it spins):
#     stream with --keep-warm touch (what a streaming instance did before session 15), stream with the default
#     keep_warm "infer" (a scratch-slot step between ticks), window (default "infer"); SIM_DURATION s each;
#  4. the same at --speed 4 (SIM4_DURATION s each; 0 skips): stream (infer) vs window, more orders per second.
# WINDOW_ARGS: extra `tickrt run` options for the window peer (e.g. "--window-prefix off": recompute the whole
# window at every sample, the issue's peer, where the tree has the window-prefix runner).
set -uo pipefail
cd "$(dirname "$0")/../.."
D=${1:-.smeas_dev}
O=${2:-${OUT:-/tmp/smeas}}
SIMD=${SIM_DURATION:-40}
SIM4D=${SIM4_DURATION:-20}
CAPD=${CAP_DURATION:-8}
WARGS=${WINDOW_ARGS:-}
B=$D/bin
export LD_LIBRARY_PATH=$PWD/$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
STREAM=models/trained/lstm_attn_stream/model.onnx
WINDOW=models/trained/lstm_attn_s/model.onnx
mkdir -p "$O"
ldd "$B/tickrt" "$B/bench_stream" | grep 'not found'
{ lscpu | grep -E 'Model name|^CPU\(s\)|Thread\(s\)|Socket|L2|L3|MHz|Flags' | sed 's/ \+/ /g' | cut -c1-200
  echo "nproc: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"; } | tee "$O/machine.txt"
load() { cut -d' ' -f1-3 /proc/loadavg; }
summ() { sed -n '/== tickrt run summary/,$p'; }
echo "== 1. bench_stream, CPU 2"
{ for r in 1 2; do
    for b in bench_stream bench_stream_before; do
      [ -x "$B/$b" ] || continue
      echo "-- sweep $r, $b, load $(load)"
      taskset -c 2 "$B/$b" --seconds 3 --batch 1 --stream $STREAM --window $WINDOW 2>&1
    done
  done
  echo "-- profile (after), load $(load)"
  taskset -c 2 "$B/bench_stream" --seconds 1 --batch 1 --profile --stream $STREAM --window none 2>&1
  echo "-- TICKRT_ISA=avx2 (after), load $(load)"
  TICKRT_ISA=avx2 taskset -c 2 "$B/bench_stream" --seconds 3 --batch 1 --stream $STREAM --window none 2>&1
  echo "-- by-tick (after), load $(load)"
  taskset -c 2 "$B/bench_stream" --seconds 3 --batch 1 --by-tick --stream $STREAM --window none 2>&1
} | tee "$O/bench_stream.txt"
for kind in stream window; do
  M=$STREAM; X=""; [ $kind = window ] && M=$WINDOW && X=$WARGS
  echo "== 2. capture, speed 0, no trade, $kind (load $(load))"
  rm -f tickrt-journal.db*
  "$B/tickrt" run --model $M --source capture --speed 0 --no-trade --duration $CAPD --cpus 2 $X >"$O/capture_$kind.txt" 2>&1
  grep -E 'summary|market data|keep_warm|^\| (inference|window->|receive|book|features)' "$O/capture_$kind.txt"
done
for run in stream_touch stream window; do
  M=$STREAM; KW=""; [ $run = window ] && M=$WINDOW && KW=$WARGS; [ $run = stream_touch ] && KW="--keep-warm touch"
  echo "== 3. sim 1x, trading, $run, ${SIMD}s (load $(load))"
  rm -f tickrt-journal.db*
  "$B/tickrt" run --model $M --duration $SIMD --cpus 2 --gateway-cpu 4 $KW >"$O/sim_$run.txt" 2>&1
  summ <"$O/sim_$run.txt" | head -60
done
if [ "$SIM4D" != 0 ]; then
  for run in stream window; do
    M=$STREAM; X=""; [ $run = window ] && M=$WINDOW && X=$WARGS
    echo "== 4. sim --speed 4, trading, $run, ${SIM4D}s (load $(load))"
    rm -f tickrt-journal.db*
    "$B/tickrt" run --model $M --duration $SIM4D --speed 4 --cpus 2 --gateway-cpu 4 $X >"$O/sim4_$run.txt" 2>&1
    summ <"$O/sim4_$run.txt" | grep -E 'summary|market data|keep_warm|^orders|^\| (inference|decision|order enc|tick->order|wire-to-wire \(v|parse|book|features|sampled|infer->|strategy|risk|OMS|total)'
  done
fi
echo "== load after: $(load)"
