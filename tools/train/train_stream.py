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


def ort_check(onnx_path: str, x_path: str, logits_path: str) -> dict:
    """tools/train/stream_ort_check.js (ONNX Runtime through onnxruntime-node) when node and the module
    are there; {"skipped": why} otherwise."""
    import shutil
    import subprocess
    node = shutil.which("node")
    if not node:
        return {"skipped": "no node"}
    r = subprocess.run([node, os.path.join(ROOT, "tools", "train", "stream_ort_check.js"), onnx_path, x_path, logits_path],
                       capture_output=True, text=True)
    if r.returncode == 2:
        return {"skipped": "onnxruntime-node not installed (bench/peers/ort_bench.js says how)"}
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "error": (r.stderr or r.stdout).strip()[-300:]}


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


# ----------------------------------------------------------------------------- training
def session_rows(ds: data.Dataset) -> list[tuple[int, int]]:
    return [tuple(g["rows"]) for g in ds.segments]


def pieces(ds: data.Dataset, piece: int, rng: np.random.Generator, min_len: int) -> list[tuple[int, int]]:
    """Train rows cut into consecutive pieces of `piece` rows, each session at a random phase."""
    out = []
    for g in ds.segments:
        s, a = g["train"]
        if a - s < min_len:
            continue
        cuts = list(range(s + int(rng.integers(0, piece)), a, piece))
        bounds = [s] + [c for c in cuts if c > s] + [a]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            if hi - lo >= min_len:
                out.append((lo, hi))
            elif out and out[-1][1] == lo:           # a short tail joins the piece before it
                out[-1] = (out[-1][0], hi)
    return out


def batch_rows(xn: np.ndarray, y: np.ndarray, spans: list[tuple[int, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Streams side by side, padded at the end (padding rows: x 0, label -1 = ignored)."""
    L = max(hi - lo for lo, hi in spans)
    xb = np.zeros((len(spans), L, xn.shape[1]), np.float32)
    yb = np.full((len(spans), L), -1, np.int64)
    for i, (lo, hi) in enumerate(spans):
        xb[i, :hi - lo] = xn[lo:hi]
        yb[i, :hi - lo] = y[lo:hi]
    return torch.from_numpy(xb), torch.from_numpy(yb)


@torch.no_grad()
def stream_spans(model: sm.LstmAttnStream, xn: np.ndarray, spans: list[tuple[int, int]], bs: int = 64) -> list[np.ndarray]:
    """Per span, the logits [hi - lo, 3] of its rows streamed from a reset at its first row."""
    model.eval()
    out = []
    for i in range(0, len(spans), bs):
        sp = spans[i:i + bs]
        xb, _ = batch_rows(xn, np.zeros(len(xn), np.int64), sp)
        lg, _ = model.forward_seq(xb)
        out += [lg[j, :hi - lo].numpy() for j, (lo, hi) in enumerate(sp)]
    return out


def stream_logits(model: sm.LstmAttnStream, xn: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Logits of every row of xn inside the (disjoint) spans, each streamed from a reset at its first
    row; NaN elsewhere."""
    out = np.full((xn.shape[0], 3), np.nan, np.float32)
    for (lo, hi), lg in zip(spans, stream_spans(model, xn, spans)):
        out[lo:hi] = lg
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def warmup_curve(model: sm.LstmAttnStream, ds: data.Dataset, xn: np.ndarray, cont: np.ndarray,
                 horizon: int = 512, every: int = 31) -> dict:
    """How long after a reset the output settles: resets at every `every`-th row of the validation and
    test splits (streams of `horizon` rows), compared with the continuous stream (from session start)
    at the same rows, as a function of steps since the reset."""
    spans = []
    for g in ds.segments:
        lo, hi = g["val"][0], g["test"][1]
        spans += [(r, r + horizon) for r in range(lo, hi - horizon + 1, every)]
    if not spans:
        return {"resets": 0}
    runs = stream_spans(model, xn, spans)
    pr = np.stack([softmax(r) for r in runs])                               # [R, horizon, 3]
    pc = np.stack([softmax(cont[lo:hi]) for lo, hi in spans])
    dp = np.abs(pr - pc).max(-1)                                            # [R, horizon]
    agree = (pr.argmax(-1) == pc.argmax(-1)).mean(0)                        # [horizon]
    mean_dp, max_dp = dp.mean(0), dp.max(0)
    ok = (agree >= 0.99) & (max_dp <= 0.01)
    settle = horizon
    for k in range(horizon - 1, -1, -1):
        if not ok[k]:
            break
        settle = k
    pts = [0, 1, 8, 16, 32, 48, 63, 64, 80, 96, 128, 192, 256, 384, horizon - 1]
    return {"resets": len(spans), "horizon": horizon, "settle_step": int(settle),
            "criterion": "first step k (0 = first step after the reset) from which on, up to the horizon, "
                         "argmax agreement with the continuous stream >= 99 % and max|prob diff| <= 0.01 over all resets",
            "curve": [{"step": int(k), "argmax_agree": float(agree[k]), "mean_max_prob_diff": float(mean_dp[k]),
                       "max_prob_diff": float(max_dp[k])} for k in pts if k < horizon]}


def train_model(ds: data.Dataset, xn: np.ndarray, a, w: np.ndarray) -> tuple[sm.LstmAttnStream, dict]:
    F = xn.shape[1]
    model = sm.build(F)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32), ignore_index=-1)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    rng = np.random.default_rng(sm.SEED)
    va = ds.ends["val"]
    yva = torch.from_numpy(ds.y[va])
    full = session_rows(ds)
    es = tr.EarlyStop(a.patience, a.budget_s)
    hist, t0 = [], time.time()
    for ep in range(1, a.max_epochs + 1):
        model.train()
        spans = pieces(ds, a.piece, rng, a.min_piece)
        xb, yb = batch_rows(xn, ds.y, spans)
        st = sm.zero_state(len(spans))
        tl, nb = 0.0, 0
        for c0 in range(0, xb.shape[1], a.chunk):
            xc, yc = xb[:, c0:c0 + a.chunk], yb[:, c0:c0 + a.chunk]
            lg, st = model.forward_seq(xc, st)
            st = {k: v.detach() for k, v in st.items()}          # truncated BPTT: no gradient across chunks
            if (yc >= 0).sum() == 0:
                continue
            loss = loss_fn(lg.reshape(-1, 3), yc.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tl += loss.item(); nb += 1
        lv = stream_logits(model, xn, full)[va]
        vloss = float(loss_fn(torch.from_numpy(lv), yva).item())
        vacc = float((lv.argmax(1) == ds.y[va]).mean())
        el = time.time() - t0
        hist.append({"epoch": ep, "train_loss": tl / max(nb, 1), "val_loss": vloss, "val_acc": vacc,
                     "streams": len(spans), "updates": nb, "seconds": round(el, 1)})
        mark = es.update(model, ep, vloss)
        log(f"  epoch {ep:2d}  streams {len(spans)}  train loss {tl / max(nb, 1):.4f}  val loss {vloss:.4f}  "
            f"val acc {vacc:.3f}  {el:5.1f}s{mark}")
        if es.done(el):
            break
    es.restore(model)
    info = {"epochs_run": len(hist), "best_epoch": es.best_epoch, "best_val_loss": es.best, "stopped_by": es.stop,
            "train_seconds": round(time.time() - t0, 1), "history": hist, "class_weights": [float(v) for v in w],
            "val_rows_used": int(len(va)),
            "trained_on": f"torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s), {os.cpu_count()} CPUs"}
    return model, info


def reference(model: sm.LstmAttnStream, xn: np.ndarray, ds: data.Dataset, rows: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The exactness reference: `rows` consecutive rows of the export (the last `rows` rows of the
    first sessions in file order, i.e. ending at the end of the first session that reaches `rows`
    rows in total; session boundaries are crossed WITHOUT a reset: the check is about arithmetic over a
    long stream, not about the market), normalised, and PyTorch's full-sequence logits over them."""
    ends = np.cumsum([hi - lo for lo, hi in session_rows(ds)])
    j = int(np.searchsorted(ends, rows))
    if j >= len(ends):
        raise SystemExit(f"the dataset has {ends[-1]} rows, fewer than --ref-rows {rows}")
    hi = int(ends[j])
    lo = hi - rows
    x = np.ascontiguousarray(xn[lo:hi])
    lg = sm.reference_logits(model, x)
    cross = [int(r[0]) for r in session_rows(ds) if lo < r[0] < hi]
    return x, lg, {"export_rows": [lo, hi], "session_starts_crossed_at_step": [c - lo for c in cross],
                   "sessions": sorted({int(v) for v in ds.sess[lo:hi]})}


def card(ds: data.Dataset, res: dict) -> str:
    mc, mr, ms = res["test_continuous"], res["test_reset_at_test_start"], res["lstm_attn_s_test"]
    meta, tri, st = ds.meta, res["training"], res["settings"]
    mins = sum((ds.ts[g["rows"][1] - 1] - ds.ts[g["rows"][0]]) / 60e9 for g in ds.segments)
    L = [f"# Model card: {sm.NAME} (trained)", "",
         f"**Status: trained on about {mins:.0f} minutes of real Binance WebSocket captures in total (the dataset of "
         "lstm_attn_s). A research artefact for testing tickrt's streaming inference end to end, not a trading "
         "signal.**", "",
         "## Model", "",
         f"- Architecture: {res['architecture']}",
         f"- Parameters: {res['params']:,}; file model.onnx {res['onnx_bytes']:,} bytes: the ONE-STEP graph (ONNX "
         f"opset {tr.OPSET}; ops {', '.join(f'{k} {v}' for k, v in res['onnx_ops'].items())})",
         "- Function: the LSTM runs over the whole history since a reset (state carried row to row, never a "
         "zero-initialised window); attention at step n covers outputs max(1, n-63) .. n, i.e. only outputs that "
         "exist (before 64 exist, fewer; no zero padding in the softmax).",
         f"- Input: {len(meta['features'])} features (the lstm_attn_s list and order), one row per step, sampling "
         f"`{tr.sampling_string(meta)}`, normalised x = (raw - mean) / std with lstm_attn_s's train-split statistics "
         "(the same numbers in the metadata)",
         f"- Label: `{tr.label_string(meta)}` (0 down, 1 flat, 2 up), as lstm_attn_s", "",
         "| input | shape | output | meaning |", "|---|---|---|---|",
         "| `x` | [B, F] | `logits` [B, 3] | one normalised row -> down / flat / up logits |",
         "| `h` | [2, B, 64] | `h_out` | LSTM hidden state, layer 0 then 1 |",
         "| `c` | [2, B, 64] | `c_out` | LSTM cell state |",
         "| `ring` | [B, 64, 64] | `ring_out` | the last 64 top-layer outputs, oldest first (63 = newest) |",
         "| `ring_score` | [B, 64] | `ring_score_out` | their attention scores v . tanh(W h + b), same order |",
         "| `ring_valid` | [B, 64] | `ring_valid_out` | 1 = entry holds an output, 0 = not yet |", "",
         "All state is zero after a reset. Metadata: " + ", ".join(
             f"`{k}`" + (f" = `{res['metadata'][k]}`" if k in res["metadata"] and k not in
                         ("tickrt.features", "tickrt.sampling", "tickrt.label", "tickrt.classes",
                          "tickrt.schema_hash") else "") for k in res["metadata_keys"]) + ".", ""]
    L += ["## Data", "",
          f"Dataset `{res['dataset']}` ({len(ds.y):,} rows, {len(ds.segments)} sessions): the same wall-clock "
          "split as lstm_attn_s (tools/train/data.py; its card lists the sessions and cut times). Test rows = "
          "exactly lstm_attn_s's test window ends (same rows, same labels), so the figures below compare like with "
          "like.", "", "| split | scored rows | down | flat | up |", "|---|---|---|---|---|"]
    for k in data.SPLITS:
        c = res["class_counts"][k]
        L.append(f"| {k} | {sum(c):,} | {c[0]:,} | {c[1]:,} | {c[2]:,} |")
    L += ["", "## Training", "",
          f"- Truncated backpropagation through time: each epoch cuts every session's train rows into streams of "
          f"{st['piece']} rows (a seeded random phase per epoch; tails under {st['min_piece']} rows join the piece "
          f"before), runs them side by side from a zero state, {st['chunk']} rows per gradient step, the whole "
          "state (h, c, ring, scores, validity) carried to the next chunk and detached (no gradient across chunks)",
          "- Loss: class-weighted cross-entropy on every labelled row, weights "
          f"{', '.join('%.3f' % v for v in tri['class_weights'])} (= lstm_attn_s's); Adam lr {st['lr']:g}, weight "
          f"decay {st['weight_decay']:g}, gradient clip 1.0, seed {sm.SEED}, CPU only; {tri['trained_on']}",
          f"- Validation: every session streamed from its first row, weighted loss on its {tri['val_rows_used']:,} "
          f"validation rows; early stopping (patience {st['patience']}); ran {tri['epochs_run']} epochs in "
          f"{tri['train_seconds']} s, stopped by {tri['stopped_by']}; best epoch {tri['best_epoch']} (val loss "
          f"{tri['best_val_loss']:.4f}, weights kept)", ""]
    L += ["## Test results", "",
          f"{mc['n']:,} test rows (lstm_attn_s's test window ends).", "",
          "| | accuracy | macro-F1 | log-loss |", "|---|---|---|---|",
          f"| **{sm.NAME}**, continuous (streamed from each session's first row, as deployed) | {mc['accuracy']:.4f} | "
          f"{mc['macro_f1']:.4f} | {mc['log_loss']:.4f} |",
          f"| {sm.NAME}, reset at the test split's first row (sees test rows only) | {mr['accuracy']:.4f} | "
          f"{mr['macro_f1']:.4f} | {mr['log_loss']:.4f} |"]
    if ms:
        L.append(f"| lstm_attn_s (windowed, 64 rows; models/trained/lstm_attn_s) | {ms['accuracy']:.4f} | "
                 f"{ms['macro_f1']:.4f} | {ms['log_loss']:.4f} |")
    L += [f"| baseline: always `{mc['baseline_majority_class']}` (train majority) | "
          f"{mc['baseline_majority_accuracy']:.4f} | {mc['baseline_majority_macro_f1']:.4f} | "
          f"{mc['baseline_prior_log_loss']:.4f} (train class frequencies) |", "",
          "Confusion matrix, continuous (rows true, columns predicted; down / flat / up):", "",
          "| true \\ pred | down | flat | up |", "|---|---|---|---|"]
    for c in range(3):
        L.append(f"| {tr.CLASSES[c]} | " + " | ".join(f"{v:,}" for v in mc["confusion"][c]) + " |")
    wu = res["warmup"]
    L += ["", "## Warm-up after a reset", "",
          f"{wu.get('resets', 0)} resets (every 31st row of the validation and test splits), each streamed "
          f"{wu.get('horizon', 0)} rows and compared with the continuous stream at the same rows:", "",
          "| steps since reset | argmax agrees with continuous | mean max abs prob diff | max abs prob diff |",
          "|---|---|---|---|"]
    for p in wu.get("curve", []):
        L.append(f"| {p['step'] + 1} | {100 * p['argmax_agree']:.1f} % | {p['mean_max_prob_diff']:.4f} | "
                 f"{p['max_prob_diff']:.4f} |")
    L += ["", f"Criterion: {wu.get('criterion', '')}: step {wu.get('settle_step')}. `tickrt.warmup` = "
          f"{wu['tickrt_warmup']} (that rounded up to 16, and at least the 64-row attention span): a stream's "
          "output should not be traded before that many steps after a reset.", ""]
    rf, ck = res["reference"], res["step_graph_check"]
    L += ["## Exactness reference", "",
          f"`{rf['files'][0]}` float32 [{rf['rows']:,}, {len(meta['features'])}]: {rf['rows']:,} consecutive "
          f"normalised rows of the export (rows {rf['export_rows'][0]:,}..{rf['export_rows'][1]:,}, sessions "
          f"{', '.join(map(str, rf['sessions']))}; the session boundary at step "
          f"{', '.join(map(str, rf['session_starts_crossed_at_step']))} is crossed WITHOUT "
          f"a reset: one stream of {rf['rows']:,} real rows), and `{rf['files'][1]}` float32 [{rf['rows']:,}, 3]: "
          "PyTorch's logits over the full sequence from a zero state (one nn.LSTM call over all rows, attention "
          "over the last 64 outputs at each step; NOT the step graph)."]
    if ck:
        L.append(f"The exported step graph run step by step in float32 NumPy (tools/train/stream_onnx_np.py, "
                 f"independent of PyTorch) over the same {ck['steps']:,} rows: max |diff| {ck['max_abs_diff']:.2e} "
                 f"(first 10 % of steps {ck['max_abs_diff_first_10pct']:.2e}, last 10 % "
                 f"{ck['max_abs_diff_last_10pct']:.2e}: no drift), argmax agree {ck['argmax_agree']:,} / "
                 f"{ck['steps']:,} -> {'PASS' if ck['ok'] else 'FAIL'} (tolerance 1e-4).")
    ok = res.get("step_graph_check_ort") or {}
    if "max_abs_diff" in ok:
        L.append(f"The same in ONNX Runtime ({ok['impl']}, tools/train/stream_ort_check.js, state passed in and out): "
                 f"max |diff| {ok['max_abs_diff']:.2e} (first 10 % {ok['max_abs_diff_first_10pct']:.2e}, last 10 % "
                 f"{ok['max_abs_diff_last_10pct']:.2e}), argmax agree {ok['argmax_agree']:,} -> "
                 f"{'PASS' if ok['ok'] else 'FAIL'}.")
    elif ok:
        L.append(f"ONNX Runtime check: {ok.get('skipped') or ok.get('error')}.")
    L += ["", "## Conclusion", "", conclusion(mc, mr, ms, ds), ""]
    return "\n".join(L)


def conclusion(mc: dict, mr: dict, ms: dict, ds: data.Dataset) -> str:
    acc, base = mc["accuracy"], mc["baseline_majority_accuracy"]
    se = math.sqrt(max(base * (1 - base), 1e-12) / max(mc["n"], 1))
    s = []
    if acc > base + 2 * se:
        s.append(f"Continuous test accuracy {acc:.3f} is above the majority baseline {base:.3f} "
                 f"(+{100 * (acc - base):.1f} points, more than two NAIVE standard errors, which the autocorrelation "
                 "below makes far too small: not evidence of an edge).")
    elif acc > base:
        s.append(f"Continuous test accuracy {acc:.3f} is {100 * (acc - base):.1f} points above the majority baseline "
                 f"{base:.3f}, within two naive standard errors: no evidence that it beats the baseline.")
    else:
        s.append(f"Continuous test accuracy {acc:.3f} does NOT beat the majority baseline {base:.3f} "
                 f"({100 * (acc - base):+.1f} points).")
    if ms:
        d = acc - ms["accuracy"]
        s.append(f"Against the windowed lstm_attn_s on the same rows: {100 * d:+.1f} accuracy points, macro-F1 "
                 f"{mc['macro_f1']:.3f} vs {ms['macro_f1']:.3f}, log-loss {mc['log_loss']:.3f} vs "
                 f"{ms['log_loss']:.3f} (prior {mc['baseline_prior_log_loss']:.3f}). The two were not trained alike "
                 "(this one sees every train row in order once per epoch; lstm_attn_s 4,096 random windows per epoch), and a "
                 "few points on these few minutes of test data are within the noise: read it as \"no worse\", "
                 "not as \"better\".")
    s.append(f"Resetting at the test split instead of streaming from the session start changes accuracy by "
             f"{100 * (mr['accuracy'] - acc):+.2f} points (largest probability difference on a scored row "
             f"{mr.get('max_prob_diff_vs_continuous', float('nan')):.1e}): the first scored test row is 63 rows after "
             "that reset, and the trained LSTM forgets within about a hundred rows (warm-up table), so in practice "
             "its \"whole history\" is the last ~10 s at 100 ms sampling.")
    s.append(f"The {mc['n']:,} test rows are consecutive ticks of 4 sessions (each label looks 20 rows ahead, "
             "neighbouring rows share most of it), so the effective sample is far smaller than the count and the "
             f"naive standard error of {100 * se:.1f} points understates the uncertainty. About an hour of captures "
             "shows no tradeable edge; what this model demonstrates is the streaming path (state carried tick to "
             "tick, exact against PyTorch), not a signal.")
    return " ".join(s)


def ap_train(a) -> None:
    ds = data.load(a.data)
    if ds.meta.get("placeholder") and os.path.abspath(a.out).startswith(os.path.join(ROOT, "models")):
        raise SystemExit(f"{a.data} is a PLACEHOLDER (synthetic) dataset: refusing to write into {a.out}")
    torch.manual_seed(0)
    np.random.seed(0)
    horizon = int(ds.meta["horizon"])
    data.split(ds, T, horizon)                      # the same splits and test windows as lstm_attn_s
    mean, std = data.norm_stats(ds)
    inv = (np.float32(1.0) / std).astype(np.float32)
    xn = ((ds.x - mean) * inv).astype(np.float32)   # = features::ModelPackage::normalize
    F = xn.shape[1]
    cc = {k: data.class_counts(ds.y[ds.ends[k]]) for k in data.SPLITS}
    counts = np.array(cc["train"], np.float64)
    w = np.where(counts > 0, counts.sum() / (3 * np.maximum(counts, 1)), 0.0)   # = lstm_attn_s's weights
    prior = np.maximum(counts / counts.sum(), 1e-12)
    majority = int(np.argmax(counts))
    log(f"dataset {a.data}: {len(ds.y):,} rows, F={F}, {len(ds.segments)} sessions, horizon {horizon}")
    model, info = train_model(ds, xn, a, w)

    te = ds.ends["test"]
    yte = ds.y[te]
    cont = stream_logits(model, xn, session_rows(ds))
    m_cont = tr.metrics(yte, cont[te], prior, majority)
    treset = stream_logits(model, xn, [tuple(g["test"]) for g in ds.segments if g["test"][1] > g["test"][0]])
    m_reset = tr.metrics(yte, treset[te], prior, majority)
    dpr = np.abs(softmax(cont[te]) - softmax(treset[te])).max(-1)
    m_reset["max_prob_diff_vs_continuous"] = float(dpr.max())
    m_reset["argmax_agree_with_continuous"] = float((cont[te].argmax(1) == treset[te].argmax(1)).mean())
    for k, m in (("continuous", m_cont), ("test-reset", m_reset)):
        log(f"  test ({k}): acc {m['accuracy']:.4f} (majority {m['baseline_majority_accuracy']:.4f}), macro-F1 "
            f"{m['macro_f1']:.4f}, log-loss {m['log_loss']:.4f} (prior {m['baseline_prior_log_loss']:.4f})")
    wu = warmup_curve(model, ds, xn, cont)
    warmup = max(sm.K, int(math.ceil(wu.get("settle_step", sm.K) / 16.0) * 16))
    log(f"  warm-up: settles at step {wu.get('settle_step')} -> tickrt.warmup {warmup}")

    d = os.path.join(a.out, sm.NAME)
    os.makedirs(d, exist_ok=True)
    onnx_path = os.path.join(d, "model.onnx")
    props = {
        "tickrt.features": ",".join(ds.meta["features"]),
        "tickrt.window": "1",
        "tickrt.sampling": tr.sampling_string(ds.meta),
        "tickrt.label": tr.label_string(ds.meta),
        "tickrt.norm_mean": tr.fmt_floats(mean),
        "tickrt.norm_std": tr.fmt_floats(std),
        "tickrt.classes": ",".join(tr.CLASSES),
        "tickrt.schema_version": str(ds.meta.get("schema_version", "")),
        "tickrt.schema_hash": str(ds.meta.get("schema_hash", "")),
        "tickrt.model": sm.NAME,
        **sm.state_metadata(warmup),
    }
    ops = sm.export_step(model, onnx_path, props, tr.OPSET)
    torch.save(model.state_dict(), os.path.join(d, "state_dict.pt"))   # ~280 KB: regenerate references without retraining

    rx, rl, rinfo = reference(model, xn, ds, a.ref_rows)
    os.makedirs(a.ref_dir, exist_ok=True)
    np.save(os.path.join(a.ref_dir, "stream_lstm_attn_x.npy"), rx)
    np.save(os.path.join(a.ref_dir, "stream_lstm_attn_logits.npy"), rl)
    log(f"  reference: {len(rx):,} rows {rinfo}")
    chk = None
    if not a.no_step_check:
        t0 = time.time()
        chk = step_check(onnx_path, rx[:, None, :], rl[:, None, :])
        chk["seconds"] = round(time.time() - t0, 1)
        log(f"  step graph (NumPy) vs PyTorch full sequence: {chk}")
    ort = ort_check(onnx_path, os.path.join(a.ref_dir, "stream_lstm_attn_x.npy"),
                    os.path.join(a.ref_dir, "stream_lstm_attn_logits.npy"))
    log(f"  step graph (ONNX Runtime) vs PyTorch full sequence: {ort}")
    s_metrics = {}
    sp = os.path.join(a.out, "lstm_attn_s", "metrics.json")
    if os.path.exists(sp):
        with open(sp) as f:
            s_metrics = json.load(f).get("test", {})
    res = {"model": sm.NAME, "architecture": sm.describe(F),
           "params": int(sum(p.numel() for p in model.parameters())), "onnx_bytes": os.path.getsize(onnx_path),
           "onnx_ops": ops, "metadata": {k: v for k, v in props.items() if k not in ("tickrt.norm_mean", "tickrt.norm_std")},
           "metadata_keys": list(props), "inputs": list(sm.INPUTS), "outputs": list(sm.OUTPUTS),
           "dataset": os.path.relpath(ds.dir, ROOT), "features": ds.meta["features"], "label": tr.label_string(ds.meta),
           "splits": ds.segments, "time_groups": ds.groups, "class_counts": cc,
           "test_continuous": m_cont, "test_reset_at_test_start": m_reset, "lstm_attn_s_test": s_metrics,
           "warmup": dict(wu, tickrt_warmup=warmup), "training": info,
           "settings": {k: getattr(a, k) for k in ("lr", "weight_decay", "piece", "min_piece", "chunk", "patience",
                                                     "max_epochs", "budget_s", "threads")},
           "reference": dict(rinfo, rows=int(len(rx)),
                             files=[os.path.relpath(os.path.join(a.ref_dir, f), ROOT) for f in
                                    ("stream_lstm_attn_x.npy", "stream_lstm_attn_logits.npy")]),
           "step_graph_check": chk, "step_graph_check_ort": ort, "torch": torch.__version__}
    with open(os.path.join(d, "metrics.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(d, "model_card.md"), "w") as f:
        f.write(card(ds, res))
    if ort.get("ok") is False:
        raise SystemExit(f"step graph in ONNX Runtime does not match PyTorch: {ort}")
    if chk is not None and not chk["ok"]:
        raise SystemExit(f"step graph does not match PyTorch: {chk}")


def main() -> None:
    ap = argparse.ArgumentParser(description="Train / export lstm_attn_stream (streaming LSTM + attention)")
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "datasets", "all"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "trained"))
    ap.add_argument("--random-golden", metavar="DIR", default="",
                    help="only export seeded random weights + a golden into DIR (no dataset needed)")
    ap.add_argument("--card-only", action="store_true", help="rewrite model_card.md from metrics.json")
    ap.add_argument("--golden-steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a shared, busy 2-vCPU machine 2 threads ran 20x slower)")
    ap.add_argument("--max-epochs", type=int, default=40)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--budget-s", type=float, default=600.0,
                    help="wall-clock safety cap on training (idle machine: early stopping ends it after ~2 min)")
    ap.add_argument("--piece", type=int, default=768, help="rows per training stream (TBPTT sequence)")
    ap.add_argument("--min-piece", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=128, help="TBPTT chunk: rows per gradient step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--ref-rows", type=int, default=REF_ROWS)
    ap.add_argument("--ref-dir", default=os.path.join(ROOT, "tests", "data"),
                    help="where stream_lstm_attn_{x,logits}.npy go (the engine's exactness test)")
    ap.add_argument("--no-step-check", action="store_true", help="skip the NumPy run of the step graph")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.card_only:
        ds = data.load(a.data)
        data.split(ds, T, int(ds.meta["horizon"]))
        d = os.path.join(a.out, sm.NAME)
        with open(os.path.join(d, "metrics.json")) as f:
            res = json.load(f)
        with open(os.path.join(d, "model_card.md"), "w") as f:
            f.write(card(ds, res))
        return
    if a.random_golden:
        random_golden(a.random_golden, a.golden_steps)
        return
    ap_train(a)


if __name__ == "__main__":
    main()
