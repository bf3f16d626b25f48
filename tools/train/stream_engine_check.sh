#!/bin/sh
# The TRAINED lstm_attn_stream through tickrt's streaming engine (infer::StreamContext), using the
# engine's own exactness test binary (tests/infer_stream/test_exactness.cpp, which reads the random-weight
# model by fixed relative paths): a scratch directory mirrors those paths with the trained model, its
# 10,000-row reference (tests/data/stream_lstm_attn_{x,logits}.npy) and a 200-step x 2-stream golden of
# the trained weights (PyTorch full sequence, from state_dict.pt), and the test runs there.
#
# usage: tools/train/stream_engine_check.sh [build-dir]   (needs the test_infer_stream target built)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BIN=$BUILD/bin/test_infer_stream
[ -x "$BIN" ] || { echo "stream_engine_check: $BIN not built (cmake --build $BUILD --target test_infer_stream)" >&2; exit 2; }
M=$(mktemp -d)
trap 'rm -rf "$M"' EXIT
mkdir -p "$M/models/lstm_attn_stream" "$M/tests/infer_stream/data"
cp "$ROOT/models/trained/lstm_attn_stream/model.onnx" "$M/models/lstm_attn_stream/"
cp "$ROOT/tests/data/stream_lstm_attn_x.npy" "$M/tests/infer_stream/data/real10k_x.npy"
cp "$ROOT/tests/data/stream_lstm_attn_logits.npy" "$M/tests/infer_stream/data/real10k_ref.npy"
/usr/bin/python3 - "$ROOT" "$M" <<'EOF'
import os, sys
root, m = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "tools", "train"))
import numpy as np, torch, stream_model as sm
torch.set_num_threads(1)
net = sm.build(24)
net.load_state_dict(torch.load(os.path.join(root, "models/trained/lstm_attn_stream/state_dict.pt")))
net.eval()
gx = np.load(os.path.join(root, "models/lstm_attn_stream/golden_x.npy"))          # [200, 2, F] inputs
ref = sm.reference_logits(net, np.ascontiguousarray(gx.transpose(1, 0, 2))).transpose(1, 0, 2)
np.save(os.path.join(m, "models/lstm_attn_stream/golden_x.npy"), gx)
np.save(os.path.join(m, "models/lstm_attn_stream/golden_logits.npy"), np.ascontiguousarray(ref))
EOF
cd "$M" && "$BIN" --gtest_filter='StreamExactness.*'
