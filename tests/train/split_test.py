#!/usr/bin/python3
"""ctest train.split: tools/train/data.py's time splits on a small synthetic dataset (made here,
in memory, not market data): no window crosses a session or a split, windows end on defined
labels, concurrent sessions are cut at the same wall-clock times (no test minute of one
session inside the train minutes of another), the gap between splits is >= horizon rows (so no label of one split sees rows of the
next), and the normalisation statistics come from train rows only.
Exit 0 pass, 1 fail, 77 skipped (no numpy)."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "train"))


def main() -> int:
    try:
        import numpy as np
    except ImportError:
        print("SKIP: python3-numpy not installed")
        return 77
    import data
    rng = np.random.default_rng(3)
    lens = [700, 1000, 450]
    n = sum(lens)
    sess = np.concatenate([np.full(m, s, np.int32) for s, m in enumerate(lens)])
    y = rng.integers(-1, 3, n).astype(np.int64)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    # overlapping clocks (all sessions start at t = 0, like BTC/ETH spot/futures captured together):
    # one time group, one pair of cut times for all
    ts = np.concatenate([np.arange(m, dtype=np.int64) * 100 for m in lens])
    ds = data.Dataset("mem", {"features": list("abcde")}, x, y, ts, sess)
    T, h = 64, 10
    data.split(ds, T, h)
    errs = []
    where = np.full(n, -1)
    for k, split_id in zip(data.SPLITS, range(3)):
        e = ds.ends[k]
        if len(e) == 0:
            errs.append(f"{k}: no windows")
        if (y[e] < 0).any():
            errs.append(f"{k}: window on an undefined label")
        for i in e:
            rows = np.arange(i - T + 1, i + 1)
            if rows[0] < 0 or (sess[rows] != sess[i]).any():
                errs.append(f"{k}: window ending {i} crosses a session"); break
            where_rows = where[rows]
            if ((where_rows != -1) & (where_rows != split_id)).any():
                errs.append(f"{k}: window ending {i} shares rows with another split"); break
            where[rows] = split_id
    for g in ds.segments:
        nonempty_val = g["val"][1] > g["val"][0]
        nonempty_test = g["test"][1] > g["test"][0]
        if (nonempty_val and g["val"][0] - g["train"][1] < h) or (nonempty_test and g["test"][0] - g["val"][1] < h):
            errs.append(f"session {g['session']}: gap < horizon {h}: {g}")
        for k in data.SPLITS:
            lo, hi = g[k]
            e = ds.ends[k]
            inside = e[(e >= lo) & (e < hi)]
            if len(inside) and inside.min() < lo + T - 1:
                errs.append(f"{k}: window starts before its segment")
    # label horizon of the last train window end stays out of validation rows
    for g in ds.segments:
        tr = ds.ends["train"][(ds.ends["train"] >= g["train"][0]) & (ds.ends["train"] < g["train"][1])]
        if len(tr) and g["val"][1] > g["val"][0] and tr.max() + h >= g["val"][0]:
            errs.append(f"session {g['session']}: train label at {tr.max()} reaches validation row {g['val'][0]}")
    if len(ds.groups) != 1:
        errs.append(f"overlapping sessions should form one time group, got {len(ds.groups)}")
    gr = ds.groups[0]
    tr_rows = data.train_rows(ds)
    if (ts[tr_rows] >= gr["t_val_ns"]).any():
        errs.append("a train row lies at or after the validation cut time of its group")
    for k, cut in (("val", gr["t_val_ns"]), ("test", gr["t_test_ns"])):
        first = ds.ends[k] - (T - 1)
        if (ts[first] < cut).any():
            errs.append(f"a {k} window starts before its group's cut time")
    if not any(g["train"][1] == g["rows"][1] for g in ds.segments):
        errs.append("the short session should be all train (it ends before the group's validation cut)")
    mean, std = data.norm_stats(ds)
    r = data.train_rows(ds)
    if not np.allclose(mean, x[r].mean(0), atol=1e-5) or np.allclose(mean, x.mean(0), atol=1e-7):
        errs.append("norm mean is not the train-rows mean")
    w = data.windows(x, ds.ends["test"][:3], T)
    if w.shape != (3, T, 5) or not np.array_equal(w[0, -1], x[ds.ends["test"][0]]):
        errs.append("windows(): wrong layout")
    for e in errs[:20]:
        print("FAIL", e)
    if not errs:
        print("ok: " + ", ".join(f"{k} {len(ds.ends[k])} windows" for k in data.SPLITS))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
