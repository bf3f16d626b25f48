#!/usr/bin/env bash
# Runs bench_core the way docs/BENCHMARKS.md "## core" was measured (bench/run_quiet.sh: waits
# for idle CPUs, 5 repetitions, prints the machine and the others' CPU share).
#
# usage: bench/core/run_bench_core.sh [build-dir] [extra bench_core args...]
set -euo pipefail
BUILD=${1:-build-core}; shift || true
exec "$(dirname "$0")/../run_quiet.sh" bench_core "$BUILD" "$@"
