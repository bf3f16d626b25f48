#!/usr/bin/env bash
# Runs the libFuzzer target fuzz_feed_parser for a given time on a corpus seeded from
# tests/data/feed (real capture lines), copied to a temp dir so the repository is never written.
# Fails (non-zero) on any crash, leak, UBSan report, timeout or OOM.
#
# usage: scripts/fuzz.sh <build-dir> <seconds> [extra libFuzzer flags...]
#   build-dir: a tree configured with clang, -DTICKRT_FUZZ=ON -DTICKRT_SANITIZE=address,undefined
#              (make fuzz-build does this as build-fuzz)
# env: FUZZ_CORPUS_DIR=<dir> keeps and grows a corpus there instead of a temp dir (longer runs);
#      FUZZ_JOBS=<n> runs n fuzzing processes in parallel (default 1).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 <build-dir> <seconds> [libFuzzer flags...]" >&2
  exit 2
fi
build=$1; secs=$2; shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bin/fuzz_feed_parser
[ -x "$bin" ] || { echo "fuzz.sh: $bin not built (make fuzz-build)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tickrt-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
corpus=${FUZZ_CORPUS_DIR:-$work/corpus}
mkdir -p "$corpus" "$work/artifacts"
# Seeds: each golden file is one input (several real lines of one capture: every message kind,
# spot/futures/cm, ns and µs stamps, snapshots), plus each of their lines alone.
n=0
for f in "$root"/tests/data/feed/*.lines; do
  cp "$f" "$corpus/seed_$(basename "$f")"
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s\n' "$line" > "$corpus/seed_line_$n"
  done < "$f"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
jobs=${FUZZ_JOBS:-1}
echo "fuzz.sh: $bin for ${secs}s on $(ls "$corpus" | wc -l) inputs (jobs=$jobs)"
set +e
if [ "$jobs" -gt 1 ]; then
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=131072 \
    -artifact_prefix="$work/artifacts/" -jobs="$jobs" -workers="$jobs" "$@" "$corpus" > "$work/log" 2>&1
else
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=131072 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@" "$corpus" > "$work/log" 2>&1
fi
rc=$?
set -e
tail -n 25 "$work/log"
if [ $rc -ne 0 ] || ls "$work"/artifacts/* >/dev/null 2>&1; then
  mkdir -p "$root/build-fuzz-artifacts"
  cp -r "$work"/artifacts/. "$root/build-fuzz-artifacts/" 2>/dev/null || true
  echo "fuzz.sh: FAILED (rc=$rc); crashing inputs copied to build-fuzz-artifacts/" >&2
  exit 1
fi
echo "fuzz.sh: ok, no crash/leak/UB in ${secs}s"
