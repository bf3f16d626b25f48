"""A trivial ONNX graph with lstm_attn_stream's step interface (x [B,F], h/c [2,B,64], ring [B,64,64],
ring_score/ring_valid [B,64] -> logits [B,3] + the five *_out), every output an Identity/Slice of an input:
what ONNX Runtime's Node binding costs per call to pass this state in and out, measured by
bench/infer_stream/ort_stream_bench.js and subtracted (as tools/bench/make_overhead_models.py does for the
windowed models).
  /usr/bin/python3 tools/stream/make_overhead_step.py -o build/peers/overhead/lstm_attn_stream_step.onnx
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ap = argparse.ArgumentParser()
ap.add_argument("-o", required=True)
ap.add_argument("--feat", type=int, default=24)
ap.add_argument("--window-out", default="", help="also the windowed peer's: x [B,64,F] -> logits [B,3] (Slice + Squeeze)")
a = ap.parse_args()
F = a.feat
vi = helper.make_tensor_value_info
ins = [vi("x", TensorProto.FLOAT, ["B", F]), vi("h", TensorProto.FLOAT, [2, "B", 64]), vi("c", TensorProto.FLOAT, [2, "B", 64]),
       vi("ring", TensorProto.FLOAT, ["B", 64, 64]), vi("ring_score", TensorProto.FLOAT, ["B", 64]),
       vi("ring_valid", TensorProto.FLOAT, ["B", 64])]
outs = [vi("logits", TensorProto.FLOAT, ["B", 3]), vi("h_out", TensorProto.FLOAT, [2, "B", 64]), vi("c_out", TensorProto.FLOAT, [2, "B", 64]),
        vi("ring_out", TensorProto.FLOAT, ["B", 64, 64]), vi("ring_score_out", TensorProto.FLOAT, ["B", 64]),
        vi("ring_valid_out", TensorProto.FLOAT, ["B", 64])]
inits = [numpy_helper.from_array(np.array([0], np.int64), "s0"), numpy_helper.from_array(np.array([3], np.int64), "s3"),
         numpy_helper.from_array(np.array([1], np.int64), "ax1")]
nodes = [helper.make_node("Slice", ["x", "s0", "s3", "ax1"], ["logits"])]
for n in ("h", "c", "ring", "ring_score", "ring_valid"):
    nodes.append(helper.make_node("Identity", [n], [n + "_out"]))
g = helper.make_graph(nodes, "stream_step_overhead", ins, outs, inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.checker.check_model(m)
os.makedirs(os.path.dirname(os.path.abspath(a.o)), exist_ok=True)
onnx.save(m, a.o)
print(a.o)
if a.window_out:
    wi = [vi("x", TensorProto.FLOAT, ["B", 64, F])]
    wo = [vi("logits", TensorProto.FLOAT, ["B", 3])]
    winit = [numpy_helper.from_array(np.array([0, 0], np.int64), "st"), numpy_helper.from_array(np.array([1, 3], np.int64), "en"),
             numpy_helper.from_array(np.array([1, 2], np.int64), "ax"), numpy_helper.from_array(np.array([1], np.int64), "sq")]
    wn = [helper.make_node("Slice", ["x", "st", "en", "ax"], ["s"]), helper.make_node("Squeeze", ["s", "sq"], ["logits"])]
    wm = helper.make_model(helper.make_graph(wn, "window_overhead", wi, wo, winit), opset_imports=[helper.make_opsetid("", 17)])
    wm.ir_version = 8
    onnx.checker.check_model(wm)
    onnx.save(wm, a.window_out)
    print(a.window_out)
