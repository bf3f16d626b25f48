#!/usr/bin/python3
"""ctest train.parity: tickrt's engine reproduces PyTorch on the trained models.

For every models/trained/<name>/ with model.onnx and parity_logits.npy (PyTorch 1.13 eager
logits written by tools/train/train.py for the committed test windows models/trained/
parity_x.npy, already normalised), runs `tickrt infer <model.onnx> --input parity_x.npy
--output y.npy` and requires max |engine - PyTorch| <= 1e-4 and the same argmax except where
PyTorch's top two logits are within 1e-4 (a tie either may break). With python3-onnx it also
checks the model package in metadata_props (features, window, label, norm_mean/std lengths).

Exit 0 pass, 1 fail, 77 skipped (no numpy, or no trained models committed).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = 77


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickrt", required=True)
    ap.add_argument("--dir", default=os.path.join(ROOT, "models", "trained"))
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    try:
        import numpy as np
    except ImportError:
        print("SKIP: python3-numpy not installed (scripts/install-deps.sh tools)")
        return SKIP
    try:
        import onnx
        if not hasattr(onnx, "load"):  # libonnx-testdata alone leaves a namespace package named onnx
            raise ImportError("python3-onnx")
    except ImportError:
        onnx = None
        print("note: python3-onnx not installed, metadata_props not checked")
    xp = os.path.join(a.dir, "parity_x.npy")
    names = sorted(n for n in os.listdir(a.dir) if os.path.isfile(os.path.join(a.dir, n, "parity_logits.npy"))) \
        if os.path.isdir(a.dir) else []
    if not os.path.isfile(xp) or not names:
        print(f"SKIP: no trained models with parity data under {a.dir} (run `make models`)")
        return SKIP
    fails = 0
    for name in names:
        d = os.path.join(a.dir, name)
        ref = np.load(os.path.join(d, "parity_logits.npy"))
        # A model with its own input windows (models/trained/bars_mlp: bar features) brings them; the
        # tick models share models/trained/parity_x.npy.
        xp = os.path.join(d, "parity_x.npy") if os.path.isfile(os.path.join(d, "parity_x.npy")) \
            else os.path.join(a.dir, "parity_x.npy")
        B, T, F = np.load(xp).shape
        with tempfile.TemporaryDirectory() as td:
            yo = os.path.join(td, "y.npy")
            r = subprocess.run([a.tickrt, "infer", os.path.join(d, "model.onnx"), "--input", xp, "--output", yo],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {name}: tickrt infer exited {r.returncode}: {r.stderr.strip()}")
                fails += 1
                continue
            got = np.load(yo)
        if got.shape != ref.shape:
            print(f"FAIL {name}: engine output shape {got.shape}, PyTorch {ref.shape}")
            fails += 1
            continue
        diff = float(np.abs(got.astype(np.float64) - ref).max())
        srt = np.sort(ref, axis=1)
        tie = (srt[:, -1] - srt[:, -2]) <= a.tol
        flips = int(((got.argmax(1) != ref.argmax(1)) & ~tie).sum())
        ok = diff <= a.tol and flips == 0
        meta_msg = ""
        if onnx is not None:
            props = {p.key: p.value for p in onnx.load(os.path.join(d, "model.onnx")).metadata_props}
            need = ["tickrt.features", "tickrt.window", "tickrt.sampling", "tickrt.label", "tickrt.norm_mean",
                    "tickrt.norm_std"]
            missing = [k for k in need if k not in props]
            if missing:
                ok = False
                meta_msg = f"; metadata_props missing {missing}"
            else:
                lens = [len(props[k].split(",")) for k in ("tickrt.features", "tickrt.norm_mean", "tickrt.norm_std")]
                if lens != [F] * 3 or props["tickrt.window"] != str(T):
                    ok = False
                    meta_msg = f"; metadata lengths {lens} / window {props['tickrt.window']} != F={F} / T={T}"
                elif any(float(s) <= 0 for s in props["tickrt.norm_std"].split(",")):
                    ok = False
                    meta_msg = "; a norm_std entry is <= 0"
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {B} windows x {T} x {F}, max |engine - pytorch| {diff:.3g} "
              f"(tol {a.tol:g}), argmax flips outside ties {flips}, ties {int(tie.sum())}{meta_msg}")
        fails += not ok
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
