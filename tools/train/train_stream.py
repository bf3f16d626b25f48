#!/usr/bin/python3
"""lstm_attn_stream: train (truncated BPTT), evaluate, export the one-step ONNX graph, write the
model card, the PyTorch reference for the engine's exactness test, and check the step graph.

usage:
  /usr/bin/python3 tools/train/train_stream.py --data build/datasets/all --out models/trained
  /usr/bin/python3 tools/train/train_stream.py --random-golden models/lstm_attn_stream   # seeded random weights

The model (tools/train/stream_model.py): 2-layer LSTM over the whole history since a reset, additive
attention over the last min(n, 64) top-layer outputs, concat(context, h_n) -> MLP -> 3 logits.
Same features, labels, splits and normalisation as lstm_attn_s (tools/train/train.py, data.py).

Training: truncated backpropagation through time. Every epoch cuts each session's train rows into
pieces of --piece rows (a seeded random phase per epoch, so the cut points move), runs all pieces
side by side as one batch of streams from a zero state (a reset at each piece start, as after a
book resync in production), --chunk rows at a time; the state (h, c, ring, scores, validity) is
carried from chunk to chunk and detached between chunks. Loss: class-weighted cross-entropy on
every row with a label (the same weights as lstm_attn_s). Validation: each session streamed from
its first row (continuous state, as deployed), loss on the validation rows; early stopping keeps
the best weights.

Test: the same window ends as lstm_attn_s's test windows (same rows, same labels), two ways:
  continuous  - the session streamed from its first row (state carried through train / val rows:
                only their FEATURES, which are past data at test time; this is how it runs live);
  test-reset  - the stream reset at the first row of the test split (it sees only test rows,
                like the windowed model, which sees the 64 test rows of its window).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import stream_model as sm  # noqa: E402
import stream_onnx_np  # noqa: E402
import train as tr  # noqa: E402  (metrics, metadata helpers, OPSET)

ROOT = tr.ROOT
T = tr.T                 # lstm_attn_s's window: its test windows define the test rows
REF_ROWS = 10_000


def log(s: str) -> None:
    print(s, flush=True)


def pair_list() -> list[tuple[str, str]]:
    return [(n, sm.STATE_OUT[n]) for n in sm.STATE_NAMES]


def step_check(onnx_path: str, x: np.ndarray, ref: np.ndarray) -> dict:
    """Runs the exported step graph through stream_onnx_np (float32 NumPy, no PyTorch) over x
    [L, B, F] from a zero state and compares with the full-sequence reference logits [L, B, 3]."""
    run = stream_onnx_np.StepRunner(onnx_path)
    got = stream_onnx_np.stream(run, x, pair_list(), sm.state_shapes(x.shape[1]))
    d = np.abs(got.astype(np.float64) - ref.astype(np.float64)).max(axis=(1, 2))   # per step
    L = len(d)
    q = max(1, L // 10)
    return {"steps": int(L), "batch": int(x.shape[1]), "max_abs_diff": float(d.max()),
            "max_abs_diff_first_10pct": float(d[:q].max()), "max_abs_diff_last_10pct": float(d[-q:].max()),
            "argmax_agree": int((got.argmax(-1) == ref.argmax(-1)).sum()), "ok": bool(d.max() <= 1e-4)}


# ----------------------------------------------------------------------------- random-weight golden
def random_golden(out: str, steps: int) -> None:
    """Seeded random weights (scaled up so the golden is sensitive to its input), exported with the
    lstm_attn_s package metadata (features, normalisation) so the engine can load it like the trained
    one; golden_x [steps, 2, F] (two streams, both from a reset at step 0) and golden_logits from
    PyTorch over the full sequences."""
    import onnx
    s_path = os.path.join(ROOT, "models", "trained", "lstm_attn_s", "model.onnx")
    meta = {p.key: p.value for p in onnx.load(s_path).metadata_props}
    F = len(meta["tickrt.features"].split(","))
    m = sm.build(F)
    sm.defs._spread(m, lstm=2.0, att=8.0, head=3.0)
    m.eval()
    props = {k: meta[k] for k in meta if k.startswith("tickrt.") and k != "tickrt.model"}
    props.update({"tickrt.window": "1", "tickrt.model": sm.NAME + ":random"}, **sm.state_metadata(sm.K))
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    ops = sm.export_step(m, path, props, tr.OPSET)
    rng = np.random.default_rng(sm.SEED)
    x = rng.standard_normal((2, steps, F)).astype(np.float32)
    x[1] *= 2.0                                                   # the two streams differ in scale too
    ref = sm.reference_logits(m, x)                               # [2, L, 3]
    xs, rs = np.ascontiguousarray(x.transpose(1, 0, 2)), np.ascontiguousarray(ref.transpose(1, 0, 2))
    np.save(os.path.join(out, "golden_x.npy"), xs)
    np.save(os.path.join(out, "golden_logits.npy"), rs)
    chk = step_check(path, xs, rs)
    info = {"model": sm.NAME, "weights": "seeded random (stream_model.SEED, defs._spread lstm=2 att=8 head=3), "
            "NOT trained", "golden_x": f"float32 [{steps}, 2, {F}] normalised rows, step-major: x[t, b] is "
            "stream b's row t", "golden_logits": f"float32 [{steps}, 2, 3]: PyTorch forward_seq over each "
            "whole stream from a zero state (NOT the step graph)", "inputs": list(sm.INPUTS),
            "outputs": list(sm.OUTPUTS), "state_shapes_batch_B": {k: [str(d) if i != (1 if k in ('h', 'c') else 0)
                                                                     else 'B' for i, d in enumerate(v)]
                                                                for k, v in sm.state_shapes(1).items()},
            "onnx_ops": ops, "step_graph_check_numpy": chk,
            "logits_std_over_steps": float(rs.std(axis=0).mean())}
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(info, f, indent=1)
    log(json.dumps(chk))
    log(f"logits std over steps {info['logits_std_over_steps']:.3f}; ops {ops}")
    if not chk["ok"]:
        raise SystemExit("step graph does not match the full-sequence reference")


def main() -> None:
    ap = argparse.ArgumentParser(description="Train / export lstm_attn_stream (streaming LSTM + attention)")
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "datasets", "all"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "trained"))
    ap.add_argument("--random-golden", metavar="DIR", default="",
                    help="only export seeded random weights + a golden into DIR (no dataset needed)")
    ap.add_argument("--golden-steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.random_golden:
        random_golden(a.random_golden, a.golden_steps)
        return
    raise SystemExit("training: not yet")


if __name__ == "__main__":
    main()
