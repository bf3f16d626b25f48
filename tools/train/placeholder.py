#!/usr/bin/python3
"""PLACEHOLDER dataset generator: synthetic rows in the `tickrt features` export format, for
developing tools/train/ before the real export (build/datasets/all/) exists.

The numbers are NOT market data: a random walk mid, a few features that carry a weak signal
about the next move and many that are noise. meta.json says "placeholder": true and train.py
refuses to write such a model into models/trained/. Never commit its output.

usage: /usr/bin/python3 tools/train/placeholder.py -o build-train/placeholder [--features 24]
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--features", type=int, default=24)
    ap.add_argument("--sessions", type=int, default=3)
    ap.add_argument("--rows", type=int, default=12000, help="rows per session")
    ap.add_argument("--horizon", type=int, default=10)
    ap.add_argument("--deadband-bps", type=float, default=0.5)
    a = ap.parse_args()
    rng = np.random.default_rng(12345)
    feats, labels, ts, sess = [], [], [], []
    files = []
    for s in range(a.sessions):
        n = a.rows
        drift = np.zeros(n)
        sig = rng.standard_normal(n)
        for i in range(1, n):                      # slowly varying, partly predictable drift
            drift[i] = 0.95 * drift[i - 1] + 0.3 * sig[i]
        ret_bps = 0.15 * drift + rng.standard_normal(n) * 0.6
        mid = 30000.0 * np.exp(np.cumsum(ret_bps) * 1e-4)
        x = rng.standard_normal((n, a.features)).astype(np.float32) * 3.0 + 7.0
        x[:, 0] = drift + 0.5 * rng.standard_normal(n)            # noisy view of the drift
        x[:, 1] = np.convolve(ret_bps, np.ones(5) / 5, mode="same")
        x[:, 2] = mid
        fut = np.full(n, np.nan)
        fut[:-a.horizon] = (mid[a.horizon:] / mid[:-a.horizon] - 1.0) * 1e4
        lab = np.full(n, -1, np.int64)
        ok = ~np.isnan(fut)
        lab[ok] = np.where(fut[ok] > a.deadband_bps, 2, np.where(fut[ok] < -a.deadband_bps, 0, 1))
        t0 = 1_700_000_000_000_000_000 + s * 10**13
        feats.append(x.astype(np.float32)); labels.append(lab)
        ts.append(t0 + np.arange(n, dtype=np.int64) * 100_000_000)
        sess.append(np.full(n, s, np.int32))
        files.append({"session": s, "file": f"placeholder_{s}", "symbol": "SYNTH", "market": "synthetic",
                      "rows": n, "t_first_ns": int(ts[-1][0]), "t_last_ns": int(ts[-1][-1])})
    os.makedirs(a.out, exist_ok=True)
    lab = np.concatenate(labels)
    np.save(os.path.join(a.out, "features.npy"), np.concatenate(feats))
    np.save(os.path.join(a.out, "labels.npy"), lab)
    np.save(os.path.join(a.out, "timestamps.npy"), np.concatenate(ts))
    np.save(os.path.join(a.out, "session.npy"), np.concatenate(sess))
    meta = {"placeholder": True, "schema_version": 0,
            "features": [f"synth_{i}" for i in range(a.features)], "F": a.features,
            "sampling": "every:100ms", "horizon": a.horizon, "deadband_bps": a.deadband_bps,
            "sessions": files,
            "class_counts": {str(c): int((lab == c).sum()) for c in (-1, 0, 1, 2)}}
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"PLACEHOLDER dataset (synthetic, not market data) -> {a.out}: {len(lab)} rows, F={a.features}")


if __name__ == "__main__":
    main()
