#!/usr/bin/python3
"""Exports the reference models to ONNX (opset 17) and TorchScript, and writes golden outputs.

usage:
  /usr/bin/python3 tools/models/export.py                         # all models, seeded weights
  /usr/bin/python3 tools/models/export.py --models lstm_attn_s --weights trained.pt
  /usr/bin/python3 tools/models/export.py --pt-only --pt-dir build/models   # .pt files only

Writes, per model <name>:
  <outdir>/<name>/model.onnx        input "x" [batch, T, F], output "logits" [batch, 3]
  <outdir>/<name>/golden.json       shapes, seeds, the first 8 input values, op histogram
  <outdir>/<name>/golden_b1.npy     float32 [1, 3]  (PyTorch eager output)
  <outdir>/<name>/golden_b64.npy    float32 [64, 3]
  <pt-dir>/<name>/model.pt          TorchScript (torch.jit.trace), for libtorch; not committed
File formats: tools/models/README.md.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import defs  # noqa: E402
import golden_input  # noqa: E402

OPSET = 17
GOLDEN_BATCHES = (1, 64)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def export_onnx(m: torch.nn.Module, name: str, path: str) -> dict:
    example = torch.from_numpy(golden_input.golden_input(7, defs.input_shape(name, 2)))
    # TrainingMode.PRESERVE (model is in eval mode) instead of EVAL: with EVAL the exporter's
    # eval peephole folds BatchNorm into Conv; we want BatchNormalization nodes in the file so
    # that the engine's own Conv+BN folding pass is what gets tested.
    torch.onnx.export(
        m, (example,), path, opset_version=OPSET, input_names=["x"], output_names=["logits"],
        dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    hist = collections.Counter(n.op_type for n in model.graph.node)
    # Sanity of the interface the engine relies on.
    ins = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    assert [i.name for i in ins] == ["x"], [i.name for i in ins]
    assert [o.name for o in model.graph.output] == ["logits"]
    assert ins[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    bad = [op for op in hist if op.startswith("ATen") or op == "PythonOp"]
    assert not bad, f"{name}: non-standard ops in export: {bad}"
    return dict(sorted(hist.items()))


def export_pt(m: torch.nn.Module, name: str, path: str) -> None:
    example = torch.from_numpy(golden_input.golden_input(7, defs.input_shape(name, 2)))
    with torch.no_grad():
        traced = torch.jit.trace(m, (example,), check_trace=False)
        # The trace must stay batch-generic: compare with eager at batch 1 and 64.
        for b in GOLDEN_BATCHES:
            x = torch.from_numpy(golden_input.golden_input(99, defs.input_shape(name, b)))
            d = (traced(x) - m(x)).abs().max().item()
            assert d < 1e-5, f"{name}: TorchScript differs from eager at batch {b}: {d}"
    traced.save(path)


def goldens(m: torch.nn.Module, name: str, outdir: str, hist: dict | None,
            weights: str | None) -> None:
    s = defs.SPECS[name]
    entries = []
    for b in GOLDEN_BATCHES:
        seed = golden_input.seed_for(name, b)
        shape = defs.input_shape(name, b)
        x = golden_input.golden_input(seed, shape)
        with torch.no_grad():
            y = m(torch.from_numpy(x)).numpy().astype(np.float32)
            if name == "transformer_s":
                ref = m.reference_forward(torch.from_numpy(x)).numpy()
                d = float(np.abs(ref - y).max())
                assert d < 1e-4, f"transformer_s differs from nn.TransformerEncoder: {d}"
        assert y.shape == (b, defs.NUM_CLASSES) and np.isfinite(y).all()
        fn = f"golden_b{b}.npy"
        np.save(os.path.join(outdir, fn), y)
        entries.append(dict(batch=b, seed=seed, input_shape=list(shape), output_shape=list(y.shape),
                            output_file=fn,
                            first_inputs=[float(v) for v in x.reshape(-1)[:8]],
                            first_inputs_hex=[f"0x{v:08x}" for v in
                                              x.reshape(-1)[:8].view(np.uint32)],
                            first_outputs=[float(v) for v in y.reshape(-1)[:6]]))
    meta = dict(
        model=name, onnx="model.onnx", opset=OPSET,
        input=dict(name="x", shape=["batch", s["seq"], s["feat"]], dtype="float32"),
        output=dict(name="logits", shape=["batch", defs.NUM_CLASSES], dtype="float32"),
        weights=("seeded random init, seed %d (tools/models/defs.py)" % s["seed"]
                 if not weights else os.path.basename(weights)),
        generator="splitmix64 -> ((z >> 40) * 2^-24) * 2 - 1, row-major; see tools/models/README.md",
        reference=f"PyTorch {torch.__version__} eager, float32, CPU",
        goldens=entries)
    if hist is not None:
        meta["onnx_ops"] = hist
    with open(os.path.join(outdir, "golden.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models", nargs="*", default=list(defs.SPECS), help="default: all")
    ap.add_argument("--outdir", default=os.path.join(ROOT, "models"),
                    help="ONNX + goldens (default: <repo>/models)")
    ap.add_argument("--pt-dir", default=os.path.join(ROOT, "build", "models"),
                    help="TorchScript .pt files (default: <repo>/build/models)")
    ap.add_argument("--weights", help="state_dict file to load (only with one model)")
    ap.add_argument("--pt-only", action="store_true", help="write only the TorchScript files")
    ap.add_argument("--no-pt", action="store_true", help="skip the TorchScript files")
    a = ap.parse_args()
    if a.weights and len(a.models) != 1:
        ap.error("--weights needs exactly one --models entry")
    torch.set_num_threads(1)
    for name in a.models:
        m = defs.build(name, a.weights)
        if not a.pt_only:
            d = os.path.join(a.outdir, name)
            os.makedirs(d, exist_ok=True)
            hist = export_onnx(m, name, os.path.join(d, "model.onnx"))
            goldens(m, name, d, hist, a.weights)
            size = os.path.getsize(os.path.join(d, "model.onnx"))
            print(f"{name}: model.onnx {size} bytes, ops {hist}")
        if not a.no_pt:
            d = os.path.join(a.pt_dir, name)
            os.makedirs(d, exist_ok=True)
            export_pt(m, name, os.path.join(d, "model.pt"))
            print(f"{name}: {os.path.join(d, 'model.pt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
