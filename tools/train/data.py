"""Loads a `tickrt features` export and cuts it into time splits and windows.

Format (see docs/MODELS.md): features.npy float32 [N, F] raw rows in time order, labels.npy
int64 [N] (0 down, 1 flat, 2 up, -1 undefined), timestamps.npy int64 [N] ns, session.npy int32
[N], meta.json. A sample is the window of T rows ending at row i, all in one session, with a
defined label at row i.

Splits by wall-clock time: sessions whose time spans overlap (e.g. BTC and ETH, spot and
futures, captured in the same minutes) form one group, and the group's span [t0, t1] is cut at
ta = t0 + 0.70 (t1 - t0) and tb = t0 + 0.85 (t1 - t0) for EVERY session of the group. Cutting
each session at its own 70 % instead would leak: a short session's test minutes would fall in a
longer concurrent session's train minutes, and the mid moves of BTC spot and BTC futures at the
same instant are nearly the same label. Per session, rows [s, a) train, [a + gap, b) validation,
[b + gap, e) test, a / b = the first rows at or after ta / tb, gap = horizon rows (a session that
ends before ta is all train). A window must lie wholly inside
its segment (its first row is >= the segment start), so no window crosses a split; the label
of the last train row looks `horizon` rows ahead, i.e. at most into the gap, never into
validation data. So between the last row a train sample sees (input or label) and the first
row a validation sample sees there are >= 0 shared rows, and between the last train window end
and the first validation window end there are at least horizon + T - 1 rows.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "val", "test")


@dataclass
class Dataset:
    dir: str
    meta: dict
    x: np.ndarray            # float32 [N, F] raw
    y: np.ndarray            # int64 [N]
    ts: np.ndarray           # int64 [N]
    sess: np.ndarray         # int32 [N]
    ends: dict = field(default_factory=dict)      # split -> int64 window-end rows
    segments: list = field(default_factory=list)  # per session: dict of split -> (lo, hi) rows
    groups: list = field(default_factory=list)    # time-overlap groups: span and cut times (ns)


def load(path: str) -> Dataset:
    def need(name):
        p = os.path.join(path, name)
        if not os.path.exists(p):
            raise SystemExit(f"{p}: missing (export the dataset with `tickrt features ... -o {path}`)")
        return p
    with open(need("meta.json")) as f:
        meta = json.load(f)
    x = np.load(need("features.npy"))
    y = np.load(need("labels.npy"))
    ts = np.load(need("timestamps.npy"))
    sess = np.load(need("session.npy"))
    n = x.shape[0]
    if x.dtype != np.float32 or x.ndim != 2:
        raise SystemExit(f"{path}/features.npy: want float32 [N, F], got {x.dtype} {x.shape}")
    for name, a in (("labels", y), ("timestamps", ts), ("session", sess)):
        if a.shape != (n,):
            raise SystemExit(f"{path}/{name}.npy: shape {a.shape}, want ({n},) like features.npy")
    names = meta.get("features") or meta.get("feature_names")
    if not names or len(names) != x.shape[1]:
        raise SystemExit(f"{path}/meta.json: feature names ({0 if not names else len(names)}) do not match F={x.shape[1]}")
    meta["features"] = list(names)
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise SystemExit(f"{path}/features.npy: non-finite value at row {bad[0]}, feature {names[bad[1]]}")
    return Dataset(path, meta, x, y.astype(np.int64), ts.astype(np.int64), sess.astype(np.int32))


def split(ds: Dataset, T: int, horizon: int, fracs=(0.70, 0.15, 0.15)) -> None:
    n = len(ds.y)
    # contiguous session blocks (a session id that reappears later is a format error)
    starts = np.flatnonzero(np.r_[True, ds.sess[1:] != ds.sess[:-1]])
    stops = np.r_[starts[1:], n]
    ids = ds.sess[starts]
    if len(set(ids.tolist())) != len(ids):
        raise SystemExit(f"{ds.dir}/session.npy: a session's rows are not contiguous")
    # groups of sessions with overlapping time spans (sweep over spans sorted by start)
    order = sorted(range(len(starts)), key=lambda j: ds.ts[starts[j]])
    group = [0] * len(starts)
    gspan = []
    for j in order:
        lo, hi = int(ds.ts[starts[j]]), int(ds.ts[stops[j] - 1])
        if gspan and lo <= gspan[-1][1]:
            gspan[-1][1] = max(gspan[-1][1], hi)
        else:
            gspan.append([lo, hi])
        group[j] = len(gspan) - 1
    ends = {k: [] for k in SPLITS}
    ds.segments = []
    ds.groups = [{"t_first_ns": g[0], "t_last_ns": g[1],
                  "t_val_ns": g[0] + int(fracs[0] * (g[1] - g[0])),
                  "t_test_ns": g[0] + int((fracs[0] + fracs[1]) * (g[1] - g[0]))} for g in gspan]
    for j, (s, e) in enumerate(zip(starts, stops)):
        g = ds.groups[group[j]]
        a = s + int(np.searchsorted(ds.ts[s:e], g["t_val_ns"], side="left"))
        b = s + int(np.searchsorted(ds.ts[s:e], g["t_test_ns"], side="left"))
        a, b = min(a, e), max(min(b, e), min(a + horizon, e))
        seg = {"train": (s, a), "val": (min(a + horizon, e), b), "test": (min(b + horizon, e), e)}
        ds.segments.append({"session": int(ds.sess[s]), "rows": (int(s), int(e)), "group": group[j],
                            **{k: (int(lo), int(hi)) for k, (lo, hi) in seg.items()}})
        for k, (lo, hi) in seg.items():
            r = np.arange(lo + T - 1, hi, dtype=np.int64)
            r = r[ds.y[r] >= 0] if len(r) else r
            ends[k].append(r)
    ds.ends = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in ends.items()}


def train_rows(ds: Dataset) -> np.ndarray:
    """Every row of the train segments (inputs of train windows): where the normalisation
    statistics come from."""
    return np.concatenate([np.arange(g["train"][0], g["train"][1]) for g in ds.segments])


def norm_stats(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    r = train_rows(ds)
    xt = ds.x[r].astype(np.float64)
    mean = xt.mean(axis=0)
    std = xt.std(axis=0)
    # A feature constant over the train split would divide by 0; 1 leaves it centred at 0.
    std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def windows(xn: np.ndarray, ends: np.ndarray, T: int) -> np.ndarray:
    """float32 [len(ends), T, F] from the normalised rows."""
    idx = ends[:, None] + np.arange(-T + 1, 1, dtype=np.int64)[None, :]
    return xn[idx]


def class_counts(y: np.ndarray) -> list[int]:
    return [int((y == c).sum()) for c in range(3)]
