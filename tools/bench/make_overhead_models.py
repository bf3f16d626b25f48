#!/usr/bin/python3
"""Writes the trivial "binding overhead" models used by bench/peers/ort_bench.js.

For each reference model, a model with the same interface (input "x" [batch, T, F], output
"logits" [batch, 3]) that does almost nothing: logits = Squeeze(Slice(x, [:, 0:1, 0:3]), 1).
Timing it through the same Node/N-API path measures what the binding costs per call (tensor
wrapping, promise, output allocation) so that it can be subtracted from the real model's time.

usage: /usr/bin/python3 tools/bench/make_overhead_models.py [outdir]   (default build/peers/overhead)
"""
import json
import os
import sys

import onnx
from onnx import TensorProto, helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make(t: int, f: int) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", t, f])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])
    init = [helper.make_tensor("starts", TensorProto.INT64, [2], [0, 0]),
            helper.make_tensor("ends", TensorProto.INT64, [2], [1, 3]),
            helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2]),
            helper.make_tensor("sq_axes", TensorProto.INT64, [1], [1])]
    nodes = [helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["s"]),
             helper.make_node("Squeeze", ["s", "sq_axes"], ["logits"])]
    g = helper.make_graph(nodes, "overhead", [x], [y], init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "peers", "overhead")
    os.makedirs(out, exist_ok=True)
    models = os.path.join(ROOT, "models")
    for name in sorted(os.listdir(models)):
        meta_file = os.path.join(models, name, "golden.json")
        if not os.path.exists(meta_file):
            continue
        with open(meta_file) as fh:
            meta = json.load(fh)
        if "input" not in meta:   # a streaming model's golden.json (one step per row, no window input): no peer row
            continue
        _, t, f = meta["input"]["shape"]
        onnx.save(make(t, f), os.path.join(out, f"{name}.onnx"))
        print(f"{out}/{name}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
