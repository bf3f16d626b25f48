#!/usr/bin/env bash
# Pack Release tickrt + bench_stream and their non-system shared libraries into DEV_DIR (default .smeas_dev,
# git-ignored through .git/info/exclude) for bench/infer_stream/run_device_stream.sh on another host:
#   bench/infer_stream/pack_device.sh [BIN_DIR=build/bin] [DEV_DIR=.smeas_dev] [BEFORE=path of an older bench_stream]
# Build BIN_DIR with -DTICKRT_CUDA=OFF: a CUDA build links cuBLAS (hundreds of MB), more than the device carries.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/bin}
D=${2:-.smeas_dev}
rm -rf "$D"; mkdir -p "$D/bin" "$D/lib"
cp "$BIN/tickrt" "$BIN/bench_stream" "$D/bin/"
if [ -n "${3:-}" ]; then cp "$3" "$D/bin/bench_stream_before"; fi
# glibc's own libraries stay behind (the host's loader must match them); everything else travels.
ldd "$D/bin/tickrt" "$D/bin/bench_stream" | awk '/=> \//{print $3}' | sort -u |
  grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*|libresolv)\.so' |
  while read -r l; do cp -L "$l" "$D/lib/"; done
du -sh "$D"
