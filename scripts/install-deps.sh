#!/usr/bin/env bash
# Installs the Debian packages tickrt needs, only when one is missing.
# Idempotent and quick (one dpkg-query) when everything is present; runs
# `apt-get update` first only when something has to be installed.
#
# usage: scripts/install-deps.sh [group...]     groups: build test engine tools peers all (default: all)
set -euo pipefail

declare -A GROUP
# Compiler, build system, and the libraries of the core/feed/book stages.
GROUP[build]="g++ cmake make pkg-config zlib1g-dev libssl-dev libsqlite3-dev libtomlplusplus-dev libsimdjson-dev libboost-dev libcli11-dev libfmt-dev libquickfix-dev libnats-dev nlohmann-json3-dev"
# Unit tests, benchmarks (nlohmann baseline, boost::lockfree peer), fuzzing with clang's libFuzzer, numpy for the
# engine-vs-PyTorch parity check of the trained models (tests/train), prometheus for the real-scrape test (tests/metrics),
# chromium for the headless check of the backtest report (tests/backtest/test_report_browser.cpp).
GROUP[test]="libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev clang libclang-rt-14-dev python3-numpy prometheus nats-server chromium"
# The inference engine's ONNX importer and its conformance suite.
GROUP[engine]="libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata"
# Python tools that regenerate reference models and golden data (not needed to build or test).
GROUP[tools]="python3-numpy python3-onnx python3-torch"
# Peer benchmarks (tools/bench/compare.py): libtorch + OpenBLAS for bench_libtorch, Node for
# onnxruntime-node (installed by npm into build/peers/, not a Debian package), oneDNN for bench_onednn_lstm
# (its LSTM primitive against our kernel, one layer). Not part of `all`.
GROUP[peers]="libtorch-dev libopenblas-dev nodejs libdnnl-dev"

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(all)
pkgs=()
for g in "${groups[@]}"; do
  if [ "$g" = all ]; then
    pkgs+=(${GROUP[build]} ${GROUP[test]} ${GROUP[engine]})
  elif [ -n "${GROUP[$g]+x}" ]; then
    pkgs+=(${GROUP[$g]})
  else
    echo "install-deps: unknown group '$g' (known: ${!GROUP[*]} all)" >&2; exit 2
  fi
done

missing=()
while read -r name status; do
  [ "$status" = "installed" ] || missing+=("$name")
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null || true)
# dpkg-query prints nothing for packages it has never heard of: find those too.
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$' || missing+=("$p")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
