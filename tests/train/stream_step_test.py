#!/usr/bin/python3
"""lstm_attn_stream: the committed one-step ONNX graphs, run step by step with their state carried
(tools/train/stream_onnx_np.py: float32 NumPy, no PyTorch, no tickrt), against the committed
PyTorch full-sequence logits:

  models/lstm_attn_stream/          (seeded random weights)  golden_x [200, 2, F] -> golden_logits
  models/trained/lstm_attn_stream/  (trained)                tests/data/stream_lstm_attn_x [10000, F]
                                                             -> tests/data/stream_lstm_attn_logits
Passes when max |diff| <= 1e-4 at every step, the metadata declares the state pairs the graph has,
and stream 0 run alone at batch 1 gives the same logits as in the batch of 2.
Exit 77 (skipped) without python3-onnx / numpy or without the files.
"""
from __future__ import annotations

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
try:
    import numpy as np
    import stream_onnx_np as sn
except ImportError as e:  # python3-onnx or numpy missing
    print(f"SKIP: {e}")
    sys.exit(77)

TOL = 1e-4
PAIRS = [("h", "h_out"), ("c", "c_out"), ("ring", "ring_out"), ("ring_score", "ring_score_out"),
         ("ring_valid", "ring_valid_out")]


def shapes(b: int) -> dict:
    return {"h": (2, b, 64), "c": (2, b, 64), "ring": (b, 64, 64), "ring_score": (b, 64), "ring_valid": (b, 64)}


def check_meta(run: sn.StepRunner, where: str) -> list[str]:
    err = []
    md = run.metadata
    want = ",".join(f"{i}:{o}" for i, o in PAIRS)
    if md.get("tickrt.state") != want:
        err.append(f"{where}: tickrt.state = {md.get('tickrt.state')!r}, want {want!r}")
    if md.get("tickrt.stream") != "1" or md.get("tickrt.window") != "1":
        err.append(f"{where}: tickrt.stream / tickrt.window not 1")
    if not md.get("tickrt.warmup", "").isdigit():
        err.append(f"{where}: tickrt.warmup {md.get('tickrt.warmup')!r} not an integer")
    if run.inputs != ["x"] + [i for i, _ in PAIRS] or run.outputs != ["logits"] + [o for _, o in PAIRS]:
        err.append(f"{where}: interface {run.inputs} -> {run.outputs}")
    return err


def compare(got: np.ndarray, ref: np.ndarray, what: str) -> list[str]:
    d = np.abs(got.astype(np.float64) - ref.astype(np.float64)).reshape(len(ref), -1).max(1)
    q = max(1, len(d) // 10)
    print(f"{what}: {len(d)} steps, max |diff| {d.max():.2e} (first 10 % {d[:q].max():.2e}, last 10 % "
          f"{d[-q:].max():.2e})")
    return [] if d.max() <= TOL else [f"{what}: max |diff| {d.max():.3e} > {TOL} at step {int(d.argmax())}"]


def main() -> int:
    err, ran = [], 0
    rnd = os.path.join(ROOT, "models", "lstm_attn_stream")
    if all(os.path.exists(os.path.join(rnd, f)) for f in ("model.onnx", "golden_x.npy", "golden_logits.npy")):
        run = sn.StepRunner(os.path.join(rnd, "model.onnx"))
        err += check_meta(run, "models/lstm_attn_stream")
        x, ref = np.load(os.path.join(rnd, "golden_x.npy")), np.load(os.path.join(rnd, "golden_logits.npy"))
        err += compare(sn.stream(run, x, PAIRS, shapes(x.shape[1])), ref, "random golden (2 streams)")
        # batch independence: stream 0 alone at batch 1 gives golden stream 0
        err += compare(sn.stream(run, x[:, :1], PAIRS, shapes(1)), ref[:, :1], "random golden, stream 0 alone")
        ran += 1
    tm = os.path.join(ROOT, "models", "trained", "lstm_attn_stream", "model.onnx")
    tx = os.path.join(ROOT, "tests", "data", "stream_lstm_attn_x.npy")
    tl = os.path.join(ROOT, "tests", "data", "stream_lstm_attn_logits.npy")
    if all(os.path.exists(p) for p in (tm, tx, tl)):
        run = sn.StepRunner(tm)
        err += check_meta(run, "models/trained/lstm_attn_stream")
        x, ref = np.load(tx), np.load(tl)
        err += compare(sn.stream(run, x[:, None, :], PAIRS, shapes(1))[:, 0], ref, "trained, real rows")
        ran += 1
    if not ran:
        print("SKIP: no lstm_attn_stream model/golden files")
        return 77
    for e in err:
        print("FAIL:", e)
    return 1 if err else 0


if __name__ == "__main__":
    sys.exit(main())
