#!/usr/bin/python3
"""Trains the bar model (bars_mlp): OHLCV minute bars -> down/flat/up of the return over the next
H bars, and writes models/trained/bars_mlp/{model.onnx, model_card.md, metrics.json,
golden_features.npy, parity_x.npy, parity_logits.npy}.

usage:
  /usr/bin/python3 tools/train/train_bars.py \
      [--bars ../shared/data/bars/ftx_btc-perp_1m_20211231_20220201.csv] [--out models/trained/bars_mlp]

What it does:
  - reads the FTX/nautilus CSV (timestamp,open,high,low,close,volume);
  - computes the 9 bar features with the SAME loop as src/backtest/bar_features.cpp (doubles,
    running sums, float32 rows); golden_features.npy (the first 400 rows) lets
    tests/backtest/test_bars_features.cpp check the C++ side against this one;
  - label: log(close_{t+H} / close_t) x 1e4 vs a dead band: down < -db, up > db, else flat;
  - chronological split 70 / 15 / 15 % of the bars with a gap of H + T bars at each cut, windows
    of T rows never cross a cut; mean/std of the train rows only; x = (raw - mean) * (1 / std)
    in float32 (features::ModelPackage::normalize's arithmetic);
  - MLP: Flatten(T x F) -> Linear(.., 64) -> ReLU -> Linear(64, 32) -> ReLU -> Linear(32, 3);
    class-weighted cross-entropy, Adam, fixed seeds, CPU, early stopping on validation loss;
  - test accuracy / macro-F1 / log-loss against the train-majority baseline;
  - ONNX opset 17, input "x" [batch, T, F], output "logits" [batch, 3], with the tickrt.* model
    package in metadata_props (the keys of tools/train/train.py; tickrt.sampling "bar:60s").
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import tempfile
import time
import warnings

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FEATURES = ["bar_ret_1", "bar_ret_5", "bar_ret_15", "bar_ret_60", "bar_range", "bar_body",
            "bar_close_pos", "bar_rv_15", "bar_vol_z_60"]
WARMUP = 61
CLASSES = ["down", "flat", "up"]
OPSET = 17


def read_csv(path: str):
    ts, o, h, l, c, v = [], [], [], [], [], []
    with open(path) as f:
        head = f.readline().strip()
        assert head == "timestamp,open,high,low,close,volume", f"{path}: unexpected header {head!r}"
        for line in f:
            p = line.strip().split(",")
            if len(p) != 6:
                continue
            t = datetime.datetime.strptime(p[0][:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
            ts.append(int(t.timestamp()) * 10**9)
            o.append(float(p[1])); h.append(float(p[2])); l.append(float(p[3])); c.append(float(p[4]))
            v.append(float(p[5]))
    return (np.array(ts, np.int64), np.array(o), np.array(h), np.array(l), np.array(c), np.array(v))


def bar_features(o, h, l, c, v) -> np.ndarray:
    """Mirror of BarFeatures::push (src/backtest/bar_features.cpp): same order of operations."""
    import math
    n = len(c)
    out = np.zeros((n, len(FEATURES)), np.float32)
    close = [0.0] * 61
    r2 = [0.0] * 15
    lvr = [0.0] * 60
    sum_r2 = sum_lv = sum_lv2 = 0.0
    for i in range(n):
        lc = math.log(c[i])
        close[i % 61] = lc

        def ret(hh):
            return (lc - close[(i - hh) % 61]) * 1e4 if i >= hh else 0.0
        r1 = ret(1)
        if i >= 15:
            sum_r2 -= r2[i % 15]
        r2[i % 15] = r1 * r1
        sum_r2 += r1 * r1
        nr = float(i + 1 if i + 1 < 15 else 15)
        rv = math.sqrt(sum_r2 / nr if sum_r2 > 0 else 0.0)
        lv = math.log1p(v[i])
        if i >= 60:
            old = lvr[i % 60]
            sum_lv -= old
            sum_lv2 -= old * old
        lvr[i % 60] = lv
        sum_lv += lv
        sum_lv2 += lv * lv
        nv = float(i + 1 if i + 1 < 60 else 60)
        mean = sum_lv / nv
        var = sum_lv2 / nv - mean * mean
        z = (lv - mean) / math.sqrt(var) if var > 1e-12 else 0.0
        rng = h[i] - l[i]
        out[i] = (r1, ret(5), ret(15), ret(60), rng / c[i] * 1e4, (c[i] - o[i]) / o[i] * 1e4,
                  (c[i] - l[i]) / rng if rng > 0 else 0.5, rv, z)
    return out


class BarsMlp(nn.Module):
    def __init__(self, T: int, F: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(T * F, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, 3))

    def forward(self, x):
        return self.net(x)


def windows(xn: np.ndarray, ends: np.ndarray, T: int) -> np.ndarray:
    idx = ends[:, None] - (T - 1) + np.arange(T)[None, :]
    return xn[idx]


def metrics(logits: np.ndarray, y: np.ndarray) -> dict:
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    pred = p.argmax(1)
    cm = np.zeros((3, 3), np.int64)
    for t, q in zip(y, pred):
        cm[t, q] += 1
    f1 = []
    for k in range(3):
        tp = cm[k, k]; fp = cm[:, k].sum() - tp; fn = cm[k, :].sum() - tp
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    ll = float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12))))
    return {"n": int(len(y)), "accuracy": float((pred == y).mean()), "macro_f1": float(np.mean(f1)),
            "log_loss": ll, "confusion": cm.tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description="Train tickrt's bar model (bars_mlp) on minute bars")
    ap.add_argument("--bars", default=os.path.join(ROOT, "..", "shared", "data", "bars",
                                                   "ftx_btc-perp_1m_20211231_20220201.csv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "trained", "bars_mlp"))
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--horizon", type=int, default=15, help="label horizon in bars")
    ap.add_argument("--deadband-bps", type=float, default=10.0)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--max-epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning, module="torch.onnx")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    T, H, db = a.window, a.horizon, a.deadband_bps

    ts, o, h, l, c, v = read_csv(a.bars)
    n = len(c)
    x = bar_features(o, h, l, c, v)
    fwd = np.full(n, np.nan)
    fwd[:n - H] = np.log(c[H:] / c[:n - H]) * 1e4
    y = np.where(fwd < -db, 0, np.where(fwd > db, 2, 1)).astype(np.int64)

    # Window ends e: rows e-T+1..e all valid (>= WARMUP-1), label needs e+H < n.
    first = WARMUP - 1 + T - 1
    cut1, cut2 = int(n * 0.70), int(n * 0.85)
    gap = H + T
    tr = np.arange(first, cut1 - H)
    va = np.arange(cut1 + gap, cut2 - H)
    te = np.arange(cut2 + gap, n - H)
    rows_tr = np.arange(WARMUP - 1, cut1)
    mean = x[rows_tr].mean(0).astype(np.float32)
    std = x[rows_tr].std(0).astype(np.float32)
    std[~(std > 0)] = 1.0
    inv = (np.float32(1.0) / std).astype(np.float32)
    xn = ((x - mean) * inv).astype(np.float32)

    cc = {k: np.bincount(y[e], minlength=3).tolist() for k, e in (("train", tr), ("val", va), ("test", te))}
    print(f"bars {n:,}; T={T} H={H} deadband {db} bps; windows train/val/test {len(tr)}/{len(va)}/{len(te)}")
    for k in cc:
        print(f"  {k:5s} down/flat/up {cc[k]}")
    w = np.array(cc["train"], np.float64)
    w = w.sum() / (3 * np.maximum(w, 1))
    model = BarsMlp(T, F := x.shape[1], a.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    lossf = nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32))
    Xva = torch.from_numpy(windows(xn, va, T)); Yva = torch.from_numpy(y[va])
    rng = np.random.default_rng(a.seed)
    best, best_state, best_ep, bad, hist = 1e9, None, 0, 0, []
    t0 = time.time()
    stop = "max_epochs"
    for ep in range(a.max_epochs):
        model.train()
        perm = rng.permutation(tr)
        tot = 0.0
        for i in range(0, len(perm), a.batch):
            e = perm[i:i + a.batch]
            xb = torch.from_numpy(windows(xn, e, T)); yb = torch.from_numpy(y[e])
            opt.zero_grad()
            loss = lossf(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tot += float(loss) * len(e)
        model.eval()
        with torch.no_grad():
            vl = float(lossf(model(Xva), Yva))
        hist.append({"epoch": ep + 1, "train_loss": tot / len(tr), "val_loss": vl})
        print(f"  epoch {ep + 1:2d} train {tot / len(tr):.4f} val {vl:.4f}")
        if vl < best - 1e-4:
            best, best_ep, bad = vl, ep + 1, 0
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
        else:
            bad += 1
            if bad >= a.patience:
                stop = f"early stopping (val loss not better for {a.patience} epochs)"
                break
    train_s = time.time() - t0
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        lte = model(torch.from_numpy(windows(xn, te, T))).numpy()
    yte = y[te]
    m = metrics(lte, yte)
    majority = int(np.argmax(cc["train"]))
    base_acc = float((yte == majority).mean())
    prior = np.maximum(np.array(cc["train"], np.float64) / sum(cc["train"]), 1e-12)
    base_ll = float(-np.mean(np.log(prior[yte])))
    base_f1 = (2 * (yte == majority).sum() / ((yte == majority).sum() + len(yte))) / 3
    print(f"test acc {m['accuracy']:.4f} (majority '{CLASSES[majority]}' {base_acc:.4f}), macro-F1 "
          f"{m['macro_f1']:.4f}, log-loss {m['log_loss']:.4f} (prior {base_ll:.4f})")

    os.makedirs(a.out, exist_ok=True)
    props = {
        "tickrt.features": ",".join(FEATURES),
        "tickrt.window": str(T),
        "tickrt.sampling": "bar:60s",
        "tickrt.label": f"close_direction:h={H}:deadband_bps={db:g}",
        "tickrt.norm_mean": ",".join(f"{float(q):.9g}" for q in mean),
        "tickrt.norm_std": ",".join(f"{float(q):.9g}" for q in std),
        "tickrt.classes": ",".join(CLASSES),
        "tickrt.model": "bars_mlp",
    }
    path = os.path.join(a.out, "model.onnx")
    with tempfile.TemporaryDirectory() as td:
        tmp = os.path.join(td, "m.onnx")
        torch.onnx.export(model, (torch.zeros(2, T, F),), tmp, opset_version=OPSET, input_names=["x"],
                          output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True)
        import onnx
        mo = onnx.load(tmp)
    del mo.metadata_props[:]
    for k, val in props.items():
        e = mo.metadata_props.add()
        e.key, e.value = k, val
    mo.producer_name = "tickrt tools/train/train_bars.py"
    onnx.checker.check_model(mo, full_check=True)
    onnx.save(mo, path)
    ops = {}
    for nd in mo.graph.node:
        ops[nd.op_type] = ops.get(nd.op_type, 0) + 1

    # Golden rows for the C++ feature parity test; parity windows (normalised) + logits.
    np.save(os.path.join(a.out, "golden_features.npy"), np.ascontiguousarray(x[:400]))
    par = te[np.linspace(0, len(te) - 1, 32).round().astype(np.int64)]
    px = np.ascontiguousarray(windows(xn, par, T))
    np.save(os.path.join(a.out, "parity_x.npy"), px)
    # INT8 calibration windows from the TRAIN split (`tickrt build --precision int8 --calib ...`).
    cal = tr[np.linspace(0, len(tr) - 1, 64).round().astype(np.int64)]
    np.save(os.path.join(a.out, "calib_x.npy"), np.ascontiguousarray(windows(xn, cal, T)))
    with torch.no_grad():
        np.save(os.path.join(a.out, "parity_logits.npy"), model(torch.from_numpy(px)).numpy().astype(np.float32))

    iso = lambda i: datetime.datetime.fromtimestamp(ts[i] / 1e9, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    params = sum(p.numel() for p in model.parameters())
    res = {"bars": os.path.relpath(os.path.abspath(a.bars), ROOT), "rows": int(n), "window": T, "horizon": H,
           "deadband_bps": db, "splits": {"train": [iso(int(tr[0])), iso(int(tr[-1]))],
                                          "val": [iso(int(va[0])), iso(int(va[-1]))],
                                          "test": [iso(int(te[0])), iso(int(te[-1]))]},
           "class_counts": cc, "class_weights": w.tolist(), "test": m,
           "baseline": {"majority": CLASSES[majority], "accuracy": base_acc, "macro_f1": float(base_f1),
                        "log_loss_prior": base_ll},
           "epochs_run": len(hist), "best_epoch": best_ep, "stopped_by": stop, "train_seconds": round(train_s, 1),
           "history": hist, "params": int(params), "onnx_bytes": os.path.getsize(path), "onnx_ops": ops,
           "seed": a.seed, "torch": torch.__version__, "metadata": props}
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(res, f, indent=1)
    cm = m["confusion"]
    card = f"""# Model card: bars_mlp (trained)

**Status: trained on one month of real FTX BTC-PERP 1-minute bars. A research artefact for tickrt's bar
backtester (docs/BACKTEST.md "Bars"), not a trading signal.**

## Model
- MLP: Flatten({T}x{F}) -> Linear({T * F},{a.hidden}) -> ReLU -> Linear({a.hidden},{a.hidden // 2}) -> ReLU -> Linear({a.hidden // 2},3); {params:,} parameters; model.onnx {os.path.getsize(path):,} bytes (ONNX opset {OPSET}: {', '.join(f'{k} {v}' for k, v in ops.items())})
- Input `x` float32 [batch, {T}, {F}]: the last {T} bars' features ({', '.join(FEATURES)}), src/backtest/bar_features.hpp; normalised with the train-split mean/std in the ONNX metadata
- Output `logits` [batch, 3] = down/flat/up of log(close[t+{H}] / close[t]) x 1e4 against a dead band of {db:g} bps (`{props['tickrt.label']}`)
- ONNX metadata_props: {', '.join('`' + k + '`' for k in props)}

## Data
`{res['bars']}` ({n:,} bars, {iso(0)} .. {iso(n - 1)} UTC). Chronological split 70/15/15 % of the bars with a gap of H + T = {gap} bars at each cut:

| split | window ends (UTC) | windows | down | flat | up |
|---|---|---|---|---|---|
| train | {res['splits']['train'][0]} .. {res['splits']['train'][1]} | {len(tr):,} | {cc['train'][0]:,} | {cc['train'][1]:,} | {cc['train'][2]:,} |
| val | {res['splits']['val'][0]} .. {res['splits']['val'][1]} | {len(va):,} | {cc['val'][0]:,} | {cc['val'][1]:,} | {cc['val'][2]:,} |
| test | {res['splits']['test'][0]} .. {res['splits']['test'][1]} | {len(te):,} | {cc['test'][0]:,} | {cc['test'][1]:,} | {cc['test'][2]:,} |

## Training
Adam lr {a.lr:g}, weight decay {a.weight_decay:g}, batch {a.batch}, gradient clip 1.0, class-weighted cross-entropy (weights {', '.join(f'{q:.3f}' for q in w)}), seed {a.seed}, CPU ({a.threads} threads), torch {torch.__version__}; {len(hist)} epochs in {train_s:.1f} s, stopped by {stop}; best epoch {best_ep} (val loss {best:.4f}).

## Test results ({len(te):,} test windows, every one)

| | accuracy | macro-F1 | log-loss |
|---|---|---|---|
| bars_mlp | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {m['log_loss']:.4f} |
| baseline: always `{CLASSES[majority]}` (train majority) | {base_acc:.4f} | {base_f1:.4f} | {base_ll:.4f} (train class frequencies) |

Confusion matrix (rows true, columns predicted; down / flat / up):

| true \\ pred | down | flat | up |
|---|---|---|---|
| down | {cm[0][0]} | {cm[0][1]} | {cm[0][2]} |
| flat | {cm[1][0]} | {cm[1][1]} | {cm[1][2]} |
| up | {cm[2][0]} | {cm[2][1]} | {cm[2][2]} |

## Limits
One month of one market; the test split is about five days of one regime. Neighbouring windows share
{T - 1} of {T} rows and {H - 1} of {H} label bars, so the effective sample is far smaller than the count.
Accuracy against the majority class says nothing about profit net of fees and slippage: the bar
backtest (docs/BACKTEST.md "Bars") measures that.

Reproduce: `/usr/bin/python3 tools/train/train_bars.py` (defaults; about a minute on 2 cores).
"""
    with open(os.path.join(a.out, "model_card.md"), "w") as f:
        f.write(card)
    print(f"wrote {a.out}: model.onnx {os.path.getsize(path):,} bytes, {params:,} params")


if __name__ == "__main__":
    main()
