#!/usr/bin/env bash
# Runs bench_risk the way docs/BENCHMARKS.md "## risk" was measured (bench/run_quiet.sh: waits
# for idle CPUs, 5 repetitions, prints the machine and the others' CPU share).
#
# usage: bench/risk/run_bench_risk.sh [build-dir] [extra bench_risk args...]
set -euo pipefail
BUILD=${1:-build}; shift || true
exec "$(dirname "$0")/../run_quiet.sh" bench_risk "$BUILD" "$@"
