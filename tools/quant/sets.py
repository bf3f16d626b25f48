#!/usr/bin/env python3
"""Calibration, validation and test windows for tickrt's INT8 / FP16 engines (docs/QUANTIZATION.md).

Reads the `tickrt features` export the models were trained on (default build/datasets/all, made by
`make models`), cuts it with the SAME split and normalisation as tools/train/train.py (tools/train/data.py:
wall-clock group split, train-split mean/std), and writes to --out:

  calib_x.npy   float32 [N, 64, F]  calibration windows, drawn from the TRAIN split only
  val_x.npy / val_y.npy             every validation window (auto-precision, accuracy guard, sensitivity)
  test_x.npy / test_y.npy           every test window (the report's accuracy figures)
  sets.json                         counts per regime and split, thresholds, seeds

Regimes: a window's trend is the mid-price move across it, the sum of the raw `ret_mid_1` feature (one-sample
mid return, bps) over its 64 rows. rising: trend > +THR, falling: trend < -THR, flat: |trend| <= THR
(THR = 1 bp by default: about the 33rd / 67th percentiles of the train windows). Calibration draws the same
number of windows from each regime (--per-regime, default 400 -> 1,200 windows) uniformly at random
(seed 0), so quiet and trending stretches both shape the activation ranges.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
import data  # noqa: E402

T = 64


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "datasets", "all"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "quant", "sets"))
    ap.add_argument("--per-regime", type=int, default=400)
    ap.add_argument("--trend-bps", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    ds = data.load(a.data)
    data.split(ds, T, int(ds.meta["horizon"]))
    mean, std = data.norm_stats(ds)
    inv = (np.float32(1.0) / std).astype(np.float32)
    xn = ((ds.x - mean) * inv).astype(np.float32)   # the same arithmetic as train.py
    names = ds.meta["features"]
    if "ret_mid_1" not in names:
        raise SystemExit(f"{a.data}: no ret_mid_1 feature to measure regimes with")
    r1 = ds.x[:, names.index("ret_mid_1")].astype(np.float64)
    cs = np.concatenate([[0.0], np.cumsum(r1)])

    def trend(ends: np.ndarray) -> np.ndarray:
        return cs[ends + 1] - cs[ends + 1 - T]

    def regimes(ends: np.ndarray) -> dict:
        tr = trend(ends)
        return {"rising": ends[tr > a.trend_bps], "falling": ends[tr < -a.trend_bps], "flat": ends[np.abs(tr) <= a.trend_bps]}

    rng = np.random.default_rng(a.seed)
    tr_reg = regimes(ds.ends["train"])
    picks = []
    for k in ("rising", "falling", "flat"):
        pool = tr_reg[k]
        if len(pool) < a.per_regime:
            raise SystemExit(f"train split has only {len(pool)} {k} windows (< --per-regime {a.per_regime})")
        picks.append(np.sort(rng.choice(pool, a.per_regime, replace=False)))
    cal = np.concatenate(picks)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "calib_x.npy"), np.ascontiguousarray(data.windows(xn, cal, T)))
    info = {"data": os.path.relpath(a.data, ROOT), "T": T, "F": int(xn.shape[1]), "trend_bps": a.trend_bps, "seed": a.seed,
            "regime": "trend = sum of raw ret_mid_1 (bps) over the window's 64 rows; rising > +thr, falling < -thr, flat otherwise",
            "calib": {"split": "train", "windows": int(len(cal)), "per_regime": a.per_regime,
                      "train_pool": {k: int(len(v)) for k, v in tr_reg.items()}}}
    for split in ("val", "test"):
        e = ds.ends[split]
        np.save(os.path.join(a.out, f"{split}_x.npy"), np.ascontiguousarray(data.windows(xn, e, T)))
        np.save(os.path.join(a.out, f"{split}_y.npy"), ds.y[e].astype(np.int64))
        info[split] = {"windows": int(len(e)), "regimes": {k: int(len(v)) for k, v in regimes(e).items()},
                       "classes_down_flat_up": data.class_counts(ds.y[e])}
    with open(os.path.join(a.out, "sets.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
