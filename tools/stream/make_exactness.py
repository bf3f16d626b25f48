"""Exactness reference for the streaming engine (issue 10 item 3): N consecutive REAL ticks
(event-sampled features of one capture session, normalised with the model package's mean/std)
and PyTorch's logits of lstm_attn_stream over the whole sequence from a reset
(stream_model.LstmAttnStream.forward_seq: one nn.LSTM call, not the step graph).

The weights are the seeded random ones of models/lstm_attn_stream (train_stream.py --random-golden):
rebuilt here the same way and checked against that directory's golden_logits.npy first, so the
reference is provably the committed model.onnx's function.

  ./build/bin/tickrt features ../shared/data/binance_ws/cm/btcusd_perp_2024080{8,9}.gz -o /tmp/ev --sampling event
  /usr/bin/python3 tools/stream/make_exactness.py --features /tmp/ev --out tests/infer_stream/data --rows 10000
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import stream_model as sm  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", required=True, help="a `tickrt features --sampling event` export directory")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "lstm_attn_stream"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--start", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(2)
    import onnx
    path = os.path.join(a.model, "model.onnx")
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    mean = np.array([float(v) for v in meta["tickrt.norm_mean"].split(",")], np.float32)
    std = np.array([float(v) for v in meta["tickrt.norm_std"].split(",")], np.float32)
    std = np.where((std == 0) | ~np.isfinite(std), 1.0, std).astype(np.float32)
    F = mean.size
    m = sm.build(F)
    sm.defs._spread(m, lstm=2.0, att=8.0, head=3.0)
    m.eval()
    gx = np.load(os.path.join(a.model, "golden_x.npy"))
    gl = np.load(os.path.join(a.model, "golden_logits.npy"))
    chk = np.abs(sm.reference_logits(m, np.ascontiguousarray(gx.transpose(1, 0, 2))).transpose(1, 0, 2) - gl).max()
    if chk > 1e-5:
        raise SystemExit(f"rebuilt weights do not reproduce {a.model}/golden_logits.npy (max diff {chk:.2e})")
    ds_meta = json.load(open(os.path.join(a.features, "meta.json")))
    if ds_meta["features"] != meta["tickrt.features"].split(","):
        raise SystemExit("feature list of the export differs from the model package")
    f = np.load(os.path.join(a.features, "features.npy"))
    s = np.load(os.path.join(a.features, "session.npy"))
    rows = f[a.start:a.start + a.rows]
    if rows.shape[0] != a.rows or np.unique(s[a.start:a.start + a.rows]).size != 1:
        raise SystemExit("not enough consecutive rows of one session")
    x = ((rows - mean) / std).astype(np.float32)
    ref = sm.reference_logits(m, x)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "real10k_x.npy"), x)
    np.save(os.path.join(a.out, "real10k_ref.npy"), ref.astype(np.float32))
    sess = ds_meta["sessions"][int(s[a.start])]
    info = {"rows": a.rows, "start": a.start, "sampling": "event (every book/trade update)",
            "source": sess.get("files", [sess.get("file")]), "symbol": sess.get("symbol"),
            "model": os.path.relpath(path, ROOT),
            "model_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
            "reference": "stream_model.LstmAttnStream.forward_seq over all rows from a zero state (PyTorch, float32)",
            "golden_check_max_diff": float(chk), "logits_std": float(ref.std(axis=0).mean())}
    json.dump(info, open(os.path.join(a.out, "real10k.json"), "w"), indent=1)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
