"""Writes the small streaming test model of tests/infer_stream (committed output, a few KB):
tiny.onnx (one-step graph, F=6, H=8, 2 layers, ring 4, random weights under a fixed seed),
tiny_xs.npy [T,F] inputs and tiny_ref.npy [T,3] = StepModel.full_sequence(xs) (PyTorch over the
whole sequence: what the engine's streamed steps must reproduce).
Run: /usr/bin/python3 tests/infer_stream/make_step_graph.py
"""
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tools", "stream"))
import stream_ref  # noqa: E402

torch.manual_seed(7)
F, H, L, R, T = 6, 8, 2, 4, 300
m = stream_ref.StepModel(F, H, L, R, mlp=8).eval()
with torch.no_grad():
    for p in m.parameters():
        p.mul_(2.0)           # larger weights: saturating gates and sharper attention make mistakes visible
meta = {"tickrt.stream": "1", "tickrt.state": "h:h_out,c:c_out,ring:ring_out,n:n_out", "tickrt.warmup": "4"}
stream_ref.export_step(m, os.path.join(here, "tiny.onnx"), meta)
xs = torch.randn(T, F)
np.save(os.path.join(here, "tiny_xs.npy"), xs.numpy().astype(np.float32))
np.save(os.path.join(here, "tiny_ref.npy"), m.full_sequence(xs).numpy().astype(np.float32))
# Self-check: stepping the PyTorch step module reproduces the full-sequence function.
with torch.no_grad():
    h = torch.zeros(L, 1, H); c = torch.zeros(L, 1, H); ring = torch.zeros(1, R, H); n = torch.zeros(1, 1)
    outs = []
    for t in range(T):
        lo, h, c, ring, n = m(xs[t:t + 1], h, c, ring, n)
        outs.append(lo[0])
    d = (torch.stack(outs) - m.full_sequence(xs)).abs().max().item()
    assert d < 1e-5, d
    print(f"tiny.onnx written; torch step vs full sequence max |diff| {d:.2e}")
