#!/usr/bin/python3
"""Trains lstm_attn_s, convlstm and transformer_s on a `tickrt features` export and writes
models/trained/<name>/{model.onnx, model_card.md, metrics.json, parity_logits.npy} plus the
shared parity input models/trained/parity_x.npy.

usage:
  /usr/bin/python3 tools/train/train.py --data build/datasets/all --out models/trained \
      [--models lstm_attn_s,convlstm,transformer_s] [--budget-s 75] [--tickrt build/bin/tickrt]

What it does (details in docs/MODELS.md):
  - splits every session by time 70/15/15 with a gap of `horizon` rows, windows of T = 64
    rows never cross a split (tools/train/data.py);
  - per-feature mean/std over the train-split rows only; x = (raw - mean) / std in float32;
  - class-weighted cross-entropy (weights N / (3 n_c) from the train counts), Adam, fixed
    seeds, CPU; an epoch is a seeded random draw of --epoch-samples train windows; early
    stopping on the validation loss (patience --patience), best weights kept; a wall-clock
    budget per model (--budget-s) stops training early too (the card says which stopped it);
  - evaluates on every test window: accuracy, macro-F1, confusion matrix, log-loss, against
    the majority-class baseline (the train split's most frequent class);
  - exports ONNX opset 17 (input "x" [batch, 64, F], output "logits" [batch, 3]) with the model
    package in metadata_props (tickrt.features, tickrt.window, tickrt.sampling, tickrt.label,
    tickrt.norm_mean, tickrt.norm_std, ...);
  - with --tickrt: runs `tickrt infer` on the whole test set and compares with PyTorch
    (argmax agreement apart from ties, max |diff|), recorded in metrics.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archs  # noqa: E402
import data  # noqa: E402

T = archs.T
OPSET = 17
CLASSES = ("down", "flat", "up")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def fmt_floats(v: np.ndarray) -> str:
    # %.9g round-trips float32 exactly: the engine parses back the very values used here.
    return ",".join("%.9g" % float(f) for f in np.asarray(v, np.float32))


def label_string(meta: dict) -> str:
    if isinstance(meta.get("label"), str):
        return meta["label"]
    return f"mid_direction:h={meta['horizon']}:deadband_bps={meta['deadband_bps']:g}"


def sampling_string(meta: dict) -> str:
    s = meta.get("sampling", "")
    return s if isinstance(s, str) else json.dumps(s, separators=(",", ":"), sort_keys=True)


@torch.no_grad()
def predict(model: nn.Module, xn: np.ndarray, ends: np.ndarray, bs: int = 1024) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(ends), bs):
        xb = torch.from_numpy(data.windows(xn, ends[i:i + bs], T))
        out.append(model(xb).numpy())
    return np.concatenate(out) if out else np.zeros((0, 3), np.float32)


def metrics(y: np.ndarray, logits: np.ndarray, prior: np.ndarray, majority: int) -> dict:
    pred = logits.argmax(1)
    cm = np.zeros((3, 3), np.int64)
    np.add.at(cm, (y, pred), 1)
    f1s = []
    for c in range(3):
        tp = cm[c, c]; fp = cm[:, c].sum() - tp; fn = cm[c, :].sum() - tp
        if tp + fp + fn == 0:
            continue                      # class absent from truth and predictions
        f1s.append(2 * tp / (2 * tp + fp + fn))
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    n = len(y)
    maj_pred = np.full(n, majority)
    cm_maj = np.zeros((3, 3), np.int64)
    np.add.at(cm_maj, (y, maj_pred), 1)
    f1_maj = []
    for c in range(3):
        tp = cm_maj[c, c]; fp = cm_maj[:, c].sum() - tp; fn = cm_maj[c, :].sum() - tp
        if tp + fp + fn:
            f1_maj.append(2 * tp / (2 * tp + fp + fn))
    return {
        "n": int(n),
        "accuracy": float((pred == y).mean()) if n else float("nan"),
        "macro_f1": float(np.mean(f1s)) if f1s else float("nan"),
        "log_loss": float(-logp[np.arange(n), y].mean()) if n else float("nan"),
        "confusion": cm.tolist(),
        "pred_counts": [int((pred == c).sum()) for c in range(3)],
        "baseline_majority_class": CLASSES[majority],
        "baseline_majority_accuracy": float((y == majority).mean()) if n else float("nan"),
        "baseline_majority_macro_f1": float(np.mean(f1_maj)) if f1_maj else float("nan"),
        "baseline_prior_log_loss": float(-np.log(prior[y]).mean()) if n else float("nan"),
    }


class EarlyStop:
    """The training loops' model selection (train.py, train_stream.py): keeps the weights of the best validation
    loss (better by more than 1e-4), and stops after `patience` epochs without one or past `budget_s` seconds."""

    def __init__(self, patience: int, budget_s: float):
        self.patience, self.budget_s = patience, budget_s
        self.best, self.best_state, self.best_epoch, self.bad = math.inf, None, 0, 0
        self.stop = "max_epochs"

    def update(self, model: nn.Module, ep: int, vloss: float) -> str:
        """After epoch `ep`: " *" when it is the new best (its weights kept), "" otherwise."""
        if vloss < self.best - 1e-4:
            self.best, self.best_epoch, self.bad = vloss, ep, 0
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return " *"
        self.bad += 1
        return ""

    def done(self, elapsed_s: float) -> bool:
        """True (and `stop` says why) when training should stop now."""
        if self.bad >= self.patience:
            self.stop = f"early stopping (val loss not better for {self.patience} epochs)"
        elif elapsed_s > self.budget_s:
            self.stop = f"time budget ({self.budget_s:g} s)"
        else:
            return False
        return True

    def restore(self, model: nn.Module) -> None:
        """The best epoch's weights back into `model`, in eval mode."""
        model.load_state_dict(self.best_state)
        model.eval()


def train_one(name: str, ds: data.Dataset, xn: np.ndarray, a, log) -> tuple[nn.Module, dict]:
    F = xn.shape[1]
    model = archs.build(name, F)
    counts = np.array(data.class_counts(ds.y[ds.ends["train"]]), np.float64)
    w = np.where(counts > 0, counts.sum() / (3 * np.maximum(counts, 1)), 0.0)
    if not a.class_weights:
        w = np.where(counts > 0, 1.0, 0.0)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(w, dtype=torch.float32))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    rng = np.random.default_rng(archs.SEEDS[name])
    tr = ds.ends["train"]
    va = ds.ends["val"]
    if len(va) > a.val_max:   # evenly spaced subset: deterministic, covers every session
        va = va[np.linspace(0, len(va) - 1, a.val_max).round().astype(np.int64)]
    yva = torch.from_numpy(ds.y[va])
    es = EarlyStop(a.patience, a.budget_s)
    hist = []
    t0 = time.time()
    for ep in range(1, a.max_epochs + 1):
        model.train()
        take = rng.permutation(len(tr))[:min(len(tr), a.epoch_samples)]
        tl, nb = 0.0, 0
        for i in range(0, len(take), a.batch):
            e = tr[take[i:i + a.batch]]
            xb = torch.from_numpy(data.windows(xn, e, T))
            yb = torch.from_numpy(ds.y[e])
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tl += loss.item(); nb += 1
        lv = predict(model, xn, va)
        vloss = float(loss_fn(torch.from_numpy(lv), yva).item())
        vacc = float((lv.argmax(1) == ds.y[va]).mean())
        el = time.time() - t0
        hist.append({"epoch": ep, "train_loss": tl / max(nb, 1), "val_loss": vloss, "val_acc": vacc,
                     "seconds": round(el, 1)})
        mark = es.update(model, ep, vloss)
        log(f"  {name} epoch {ep:2d}  train loss {tl / max(nb, 1):.4f}  val loss {vloss:.4f}  "
            f"val acc {vacc:.3f}  {el:5.1f}s{mark}")
        if es.done(el):
            break
    es.restore(model)
    info = {"epochs_run": len(hist), "best_epoch": es.best_epoch, "best_val_loss": es.best, "stopped_by": es.stop,
            "train_seconds": round(time.time() - t0, 1), "history": hist,
            "class_weights": [float(v) for v in w], "val_windows_used": int(len(va))}
    return model, info


def export(model: nn.Module, path: str, F: int, props: dict) -> dict:
    ex = torch.zeros(2, T, F)
    with tempfile.TemporaryDirectory() as td:
        tmp = os.path.join(td, "m.onnx")
        torch.onnx.export(model, (ex,), tmp, opset_version=OPSET, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
        import onnx  # here: a --train-only run (another machine) needs no onnx
        m = onnx.load(tmp)
    del m.metadata_props[:]
    for k, v in props.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    m.producer_name = "tickrt tools/train/train.py"
    onnx.checker.check_model(m, full_check=True)
    ins = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    assert [i.name for i in ins] == ["x"] and [o.name for o in m.graph.output] == ["logits"]
    assert ins[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    onnx.save(m, path)
    hist = {}
    for n in m.graph.node:
        hist[n.op_type] = hist.get(n.op_type, 0) + 1
    return dict(sorted(hist.items()))


def engine_parity(tickrt: str, onnx_path: str, xn: np.ndarray, ends: np.ndarray, ref: np.ndarray,
                  chunk: int = 2048) -> dict:
    """Runs `tickrt infer` over the test windows in chunks and compares with PyTorch."""
    got = []
    with tempfile.TemporaryDirectory() as td:
        xi, yo = os.path.join(td, "x.npy"), os.path.join(td, "y.npy")
        for i in range(0, len(ends), chunk):
            np.save(xi, np.ascontiguousarray(data.windows(xn, ends[i:i + chunk], T)))
            r = subprocess.run([tickrt, "infer", onnx_path, "--input", xi, "--output", yo],
                               capture_output=True, text=True)
            if r.returncode != 0:
                return {"ok": False, "error": f"tickrt infer failed: {r.stderr.strip()[-500:]}"}
            got.append(np.load(yo))
    got = np.concatenate(got)
    return compare(ref, got)


def compare(ref: np.ndarray, got: np.ndarray, tie: float = 1e-4, tol: float = 1e-4) -> dict:
    d = np.abs(ref.astype(np.float64) - got.astype(np.float64))
    srt = np.sort(ref, axis=1)
    ties = (srt[:, -1] - srt[:, -2]) <= tie            # top two within tolerance: argmax may flip
    agree = ref.argmax(1) == got.argmax(1)
    return {"windows": int(len(ref)), "max_abs_diff": float(d.max()) if len(d) else 0.0,
            "argmax_agree": int(agree.sum()), "argmax_disagree_non_tie": int((~agree & ~ties).sum()),
            "ties": int(ties.sum()),
            "ok": bool(len(d) and d.max() <= tol and not (~agree & ~ties).any())}


def span(ds: data.Dataset, lo: int, hi: int) -> str:
    if hi <= lo:
        return "empty"
    f = lambda t: datetime.datetime.utcfromtimestamp(t / 1e9).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    return f"{f(ds.ts[lo])} .. {f(ds.ts[hi - 1])} UTC ({(ds.ts[hi - 1] - ds.ts[lo]) / 1e9:.0f} s)"


def card(name: str, ds: data.Dataset, res: dict) -> str:
    m, meta = res["test"], ds.meta
    L = [f"# Model card: {name} (trained)", ""]
    mins = sum((ds.ts[g["rows"][1] - 1] - ds.ts[g["rows"][0]]) / 60e9 for g in ds.segments)
    if meta.get("placeholder"):
        L += ["**Status: PLACEHOLDER - trained on SYNTHETIC data from tools/train/placeholder.py, not market "
              "data. Do not use.**", ""]
    else:
        L += [f"**Status: trained on about {mins:.0f} minutes of real Binance WebSocket captures in total. A research "
              "artefact for testing tickrt's pipeline end to end, not a trading signal.**", ""]
    L += ["## Model", "", f"- Architecture: {res['architecture']}",
          f"- Parameters: {res['params']:,}; file model.onnx {res['onnx_bytes']:,} bytes (ONNX opset {OPSET}, "
          "input `x` float32 [batch, 64, F], output `logits` float32 [batch, 3] = down/flat/up)",
          f"- Input: {len(meta['features'])} features, window 64 rows, sampling `{sampling_string(meta)}`, "
          "normalised x = (raw - mean) / std with the train-split statistics in the ONNX metadata",
          f"- Label: `{label_string(meta)}` (mid direction {meta['horizon']} samples ahead, dead band "
          f"{meta['deadband_bps']:g} bps; 0 down, 1 flat, 2 up)",
          f"- ONNX metadata_props: {', '.join('`' + k + '`' for k in res['metadata_keys'])}", ""]
    L += ["## Data", "", f"Dataset `{os.path.relpath(ds.dir, ROOT)}` (schema {meta.get('schema_version', '?')}), "
          f"{len(ds.y):,} rows, {len(ds.segments)} sessions. Split by wall-clock time: sessions captured in "
          "overlapping minutes form a group, cut at 70 % / 85 % of the group's span (the same instants for "
          "every session of the group, so no test minute of one symbol/market lies in another's train "
          "minutes); a gap of `horizon` rows after each cut; windows never cross a split or a session.", "",
          "| group | span | validation from | test from |", "|---|---|---|---|"]
    f = lambda t: datetime.datetime.utcfromtimestamp(t / 1e9).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    for i, g in enumerate(ds.groups):
        L.append(f"| {i} | {f(g['t_first_ns'])} .. {f(g['t_last_ns'])} UTC | {f(g['t_val_ns'])} | {f(g['t_test_ns'])} |")
    L += ["",
          "| session | group | files | symbol | market | rows | train rows | val rows | test rows | time span |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    sess_meta = {int(s.get("session", i)): s for i, s in enumerate(meta.get("sessions", []))}
    for g in ds.segments:
        s = sess_meta.get(g["session"], {})
        fl = s.get("files") or s.get("file") or "?"
        fl = ", ".join(os.path.relpath(str(v), os.path.join(ROOT, "..")) if os.path.isabs(str(v)) else str(v)
                       for v in (fl if isinstance(fl, list) else [fl]))
        r = g["rows"]
        L.append(f"| {g['session']} | {g['group']} | {fl} | {s.get('symbol', '?')} | {s.get('market', '?')} | "
                 f"{r[1] - r[0]:,} | {g['train'][0]}..{g['train'][1]} | {g['val'][0]}..{g['val'][1]} | "
                 f"{g['test'][0]}..{g['test'][1]} | {span(ds, r[0], r[1])} |")
    L += ["", "Windows (samples) and class counts (down / flat / up) per split:", "",
          "| split | windows | down | flat | up |", "|---|---|---|---|---|"]
    for k in data.SPLITS:
        c = res["class_counts"][k]
        L.append(f"| {k} | {sum(c):,} | {c[0]:,} | {c[1]:,} | {c[2]:,} |")
    tr = res["training"]
    L += ["", "## Training", "",
          f"- Adam lr {res['settings']['lr']:g}, weight decay {res['settings']['weight_decay']:g}, batch "
          f"{res['settings']['batch']}, gradient clip 1.0, {res['settings']['epoch_samples']:,} random train windows "
          f"per epoch, seed {archs.SEEDS[name]}, CPU only; trained with {tr.get('trained_on', '?')}",
          f"- Class-weighted cross-entropy, weights {', '.join('%.3f' % v for v in tr['class_weights'])}",
          f"- Early stopping on validation loss ({tr['val_windows_used']:,} validation windows, patience "
          f"{res['settings']['patience']}); ran {tr['epochs_run']} epochs in {tr['train_seconds']} s, stopped by "
          f"{tr['stopped_by']}; best epoch {tr['best_epoch']} (val loss {tr['best_val_loss']:.4f}, weights kept)", ""]
    L += ["## Test results", "", f"{m['n']:,} test windows (every one).", "",
          "| | accuracy | macro-F1 | log-loss |", "|---|---|---|---|",
          f"| {name} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {m['log_loss']:.4f} |",
          f"| baseline: always `{m['baseline_majority_class']}` (train majority) | {m['baseline_majority_accuracy']:.4f} | "
          f"{m['baseline_majority_macro_f1']:.4f} | {m['baseline_prior_log_loss']:.4f} (train class frequencies) |", "",
          "Confusion matrix (rows true, columns predicted; down / flat / up):", "",
          "| true \\ pred | down | flat | up |", "|---|---|---|---|"]
    for c in range(3):
        L.append(f"| {CLASSES[c]} | " + " | ".join(f"{v:,}" for v in m["confusion"][c]) + " |")
    p = res.get("engine_parity")
    L += ["", "## Engine parity", ""]
    if p and "windows" in p:
        L.append(f"`tickrt infer` vs PyTorch on all {p['windows']:,} test windows: max |diff| "
                 f"{p['max_abs_diff']:.2e}, argmax agree {p['argmax_agree']:,}, disagreements outside ties "
                 f"{p['argmax_disagree_non_tie']} -> {'PASS' if p['ok'] else 'FAIL'}.")
    else:
        L.append(f"Not run at training time ({(p or {}).get('error', 'no --tickrt given')}).")
    L += ["The committed batch (`../parity_x.npy`, `parity_logits.npy`) is checked by ctest "
          "(`tests/train/parity.py`).", "", "## Conclusion", "", res["conclusion"], ""]
    return "\n".join(L)


def conclusion(name: str, m: dict, ds: data.Dataset) -> str:
    acc, base = m["accuracy"], m["baseline_majority_accuracy"]
    f1, bf1 = m["macro_f1"], m["baseline_majority_macro_f1"]
    ll, bll = m["log_loss"], m["baseline_prior_log_loss"]
    mins = sum((ds.ts[g["rows"][1] - 1] - ds.ts[g["rows"][0]]) / 60e9 for g in ds.segments)
    s = []
    se = math.sqrt(max(base * (1 - base), 1e-12) / max(m["n"], 1))
    if acc > base + 2 * se:
        s.append(f"Test accuracy {acc:.3f} is above the majority-class baseline {base:.3f} "
                 f"(+{100 * (acc - base):.1f} points).")
    elif acc > base:
        s.append(f"Test accuracy {acc:.3f} is only {100 * (acc - base):.1f} points above the majority-class "
                 f"baseline {base:.3f}, within two naive standard errors: no evidence that it beats the baseline.")
    else:
        s.append(f"Test accuracy {acc:.3f} does NOT beat the majority-class baseline {base:.3f} "
                 f"({100 * (acc - base):+.1f} points; class weighting trades accuracy for recall of the "
                 "minority classes).")
    s.append(f"Macro-F1 {f1:.3f} vs {bf1:.3f} for the baseline (which predicts one class only); log-loss "
             f"{ll:.3f} vs {bll:.3f} for the train class-frequency prior: the predicted probabilities are "
             f"{'better' if ll < bll else 'WORSE'} than the prior's.")
    s.append(f"With {m['n']:,} overlapping test windows (strongly autocorrelated: neighbouring windows share "
             f"63 of 64 rows and most of their label horizon) the effective sample is far smaller than the "
             f"count, so even the naive standard error of about {100 * se:.1f} points understates the "
             "uncertainty.")
    s.append(f"The whole dataset spans about {mins:.0f} minutes of captures across {len(ds.segments)} sessions; "
             "the test split is the last 15 % of each group of concurrent sessions, i.e. a few minutes of "
             "one evening per group, and BTC/ETH spot/futures in the same minutes are not independent samples. "
             "Nothing here shows a tradeable edge. Claims would need weeks to months of continuous captures "
             "per symbol and market (many independent days for walk-forward validation), evaluation net of "
             "fees and spread, and stability across regimes.")
    return " ".join(s)


def main() -> None:
    ap = argparse.ArgumentParser(description="Train tickrt's reference models on a features export")
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "datasets", "all"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "trained"))
    ap.add_argument("--models", default=",".join(archs.NAMES))
    ap.add_argument("--budget-s", type=float, default=240.0,
                    help="wall-clock safety cap per model (normally max-epochs or early stopping ends first)")
    ap.add_argument("--max-epochs", type=int, default=15)
    ap.add_argument("--patience", type=int, default=4)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--epoch-samples", type=int, default=4096)
    ap.add_argument("--val-max", type=int, default=2048)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--no-class-weights", dest="class_weights", action="store_false")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tickrt", default="", help="tickrt binary: check engine parity on the whole test set")
    ap.add_argument("--parity-windows", type=int, default=0,
                    help="committed parity batch size (default: as many as fit in ~0.5 MB)")
    ap.add_argument("--allow-placeholder", action="store_true")
    ap.add_argument("--train-only", metavar="DIR", default="",
                    help="train, save <DIR>/<name>.pt (state_dict) + <name>.json (history), nothing else")
    ap.add_argument("--load-state", metavar="DIR", default="",
                    help="skip training: load the weights and history a --train-only run saved in DIR")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    # torch 1.13 exporter chatter (constant folding under PRESERVE, LSTM batch note): the export
    # is checked below and by the parity test instead.
    warnings.filterwarnings("ignore", category=UserWarning, module="torch.onnx")
    torch.manual_seed(0)
    np.random.seed(0)

    def log(s):
        print(s, flush=True)

    ds = data.load(a.data)
    if ds.meta.get("placeholder") and os.path.abspath(a.out).startswith(os.path.join(ROOT, "models")) \
            and not a.allow_placeholder:
        raise SystemExit(f"{a.data} is a PLACEHOLDER (synthetic) dataset: refusing to write into {a.out}")
    horizon = int(ds.meta["horizon"])
    data.split(ds, T, horizon)
    mean, std = data.norm_stats(ds)
    # (x - mean) * (1 / std) in float32: the same arithmetic as features::ModelPackage::normalize
    # in the running pipeline, so training sees bit-identical inputs.
    inv = (np.float32(1.0) / std).astype(np.float32)
    xn = ((ds.x - mean) * inv).astype(np.float32)
    F = xn.shape[1]
    cc = {k: data.class_counts(ds.y[ds.ends[k]]) for k in data.SPLITS}
    log(f"dataset {a.data}: {len(ds.y):,} rows, F={F}, {len(ds.segments)} sessions, horizon {horizon}")
    for k in data.SPLITS:
        log(f"  {k:5s} windows {sum(cc[k]):7,}  down/flat/up {cc[k]}")
    if min(sum(cc[k]) for k in data.SPLITS) == 0:
        raise SystemExit("a split has no windows: sessions too short for T=64 plus the gaps")
    prior = np.array(cc["train"], np.float64) / sum(cc["train"])
    prior = np.maximum(prior, 1e-12)
    majority = int(np.argmax(cc["train"]))
    te = ds.ends["test"]
    yte = ds.y[te]
    os.makedirs(a.out, exist_ok=True)

    npar = a.parity_windows or max(16, min(256, (512 * 1024) // (T * F * 4)))
    par = te[np.linspace(0, len(te) - 1, min(npar, len(te))).round().astype(np.int64)]
    par_x = np.ascontiguousarray(data.windows(xn, par, T))
    np.save(os.path.join(a.out, "parity_x.npy"), par_x)

    props_common = {
        "tickrt.features": ",".join(ds.meta["features"]),
        "tickrt.window": str(T),
        "tickrt.sampling": sampling_string(ds.meta),
        "tickrt.label": label_string(ds.meta),
        "tickrt.norm_mean": fmt_floats(mean),
        "tickrt.norm_std": fmt_floats(std),
        "tickrt.classes": ",".join(CLASSES),
        "tickrt.schema_version": str(ds.meta.get("schema_version", "")),
        "tickrt.schema_hash": str(ds.meta.get("schema_hash", "")),
    }
    summary = {}
    for name in a.models.split(","):
        log(f"== {name}")
        if a.load_state:
            model = archs.build(name, F)
            model.load_state_dict(torch.load(os.path.join(a.load_state, name + ".pt"), map_location="cpu"))
            model.eval()
            with open(os.path.join(a.load_state, name + ".json")) as f:
                info = json.load(f)
            log(f"  loaded weights trained by {info.get('trained_on', '?')}: {info['epochs_run']} epochs, "
                f"best {info['best_epoch']}, stopped by {info['stopped_by']}")
        else:
            model, info = train_one(name, ds, xn, a, log)
            info["trained_on"] = (f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
                                  f"{os.cpu_count()} CPUs")
        if a.train_only:
            os.makedirs(a.train_only, exist_ok=True)
            torch.save(model.state_dict(), os.path.join(a.train_only, name + ".pt"))
            with open(os.path.join(a.train_only, name + ".json"), "w") as f:
                json.dump(info, f, indent=1)
            continue
        logits = predict(model, xn, te)
        m = metrics(yte, logits, prior, majority)
        log(f"  test: acc {m['accuracy']:.4f} (majority baseline {m['baseline_majority_accuracy']:.4f}), "
            f"macro-F1 {m['macro_f1']:.4f} (baseline {m['baseline_majority_macro_f1']:.4f}), "
            f"log-loss {m['log_loss']:.4f} (prior {m['baseline_prior_log_loss']:.4f})")
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        onnx_path = os.path.join(d, "model.onnx")
        props = dict(props_common, **{"tickrt.model": name})
        ops = export(model, onnx_path, F, props)
        with torch.no_grad():
            ref_par = model(torch.from_numpy(par_x)).numpy()
        np.save(os.path.join(d, "parity_logits.npy"), ref_par.astype(np.float32))
        res = {"model": name, "architecture": archs.describe(name, F), "time_groups": ds.groups,
               "params": int(sum(p.numel() for p in model.parameters())),
               "onnx_bytes": os.path.getsize(onnx_path), "onnx_ops": ops, "metadata_keys": list(props),
               "dataset": os.path.relpath(ds.dir, ROOT), "dataset_meta": {k: v for k, v in ds.meta.items()
                                                                           if k not in ("features",)},
               "features": ds.meta["features"], "window": T, "label": label_string(ds.meta),
               "splits": ds.segments, "class_counts": cc, "test": m, "training": info,
               "settings": {k: getattr(a, k) for k in ("lr", "weight_decay", "batch", "epoch_samples",
                                                         "patience", "max_epochs", "budget_s", "threads",
                                                         "class_weights")},
               "torch": torch.__version__, "parity_windows_committed": int(len(par))}
        if a.tickrt:
            p = engine_parity(a.tickrt, onnx_path, xn, te, logits)
            log(f"  engine parity: {p}")
            res["engine_parity"] = p
        res["conclusion"] = conclusion(name, m, ds)
        with open(os.path.join(d, "metrics.json"), "w") as f:
            json.dump(res, f, indent=1)
        with open(os.path.join(d, "model_card.md"), "w") as f:
            f.write(card(name, ds, res))
        summary[name] = (m["accuracy"], m["baseline_majority_accuracy"], m["macro_f1"])
    if a.train_only:
        log(f"weights and histories in {a.train_only}")
        return
    log("== summary (test accuracy / majority baseline / macro-F1)")
    for k, v in summary.items():
        log(f"  {k:14s} {v[0]:.4f} / {v[1]:.4f} / {v[2]:.4f}")
    bad = [k for k in summary if a.tickrt and not json.load(open(os.path.join(a.out, k, "metrics.json")))
           .get("engine_parity", {}).get("ok", False)]
    if bad:
        raise SystemExit(f"engine parity failed for {', '.join(bad)}")


if __name__ == "__main__":
    main()
