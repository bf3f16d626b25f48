#!/usr/bin/env bash
# Regenerates everything the reference models produce:
#   models/<name>/{model.onnx,golden.json,golden_b1.npy,golden_b64.npy}   (committed)
#   <outdir>/<name>/model.pt   TorchScript for libtorch (not committed; default build/models)
# usage: tools/models/export_all.sh [outdir]
# Needs Debian's python3-torch 1.13 + python3-onnx (scripts/install-deps.sh tools).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
outdir="${1:-$root/build/models}"
exec /usr/bin/python3 "$root/tools/models/export.py" --outdir "$root/models" --pt-dir "$outdir"
