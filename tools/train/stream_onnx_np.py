"""A small NumPy interpreter for the ONNX ops of the lstm_attn_stream step graph.

Why: Debian's python3-onnx is 1.12 (no onnx.reference) and python3-onnxruntime is not in Debian,
so the exported step graph is checked here by running its nodes one by one in float32 NumPy,
independently of PyTorch. Only the ops (and attributes) the exporter emits for this model are
implemented (opset 13..17 semantics); anything else raises, naming the node.

  run = StepRunner("model.onnx");  outs = run({"x": x, "h": h, ...})  -> dict name -> array
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _sig(x):
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def _lstm(ins, at):
    X, W, R = ins[0], ins[1], ins[2]
    B_ = ins[3] if len(ins) > 3 and ins[3] is not None else None
    if len(ins) > 4 and ins[4] is not None:
        raise NotImplementedError("LSTM sequence_lens")
    if len(ins) > 7 and ins[7] is not None:
        raise NotImplementedError("LSTM peepholes")
    for k in ("activations", "clip", "input_forget"):
        if k in at and at[k]:
            raise NotImplementedError(f"LSTM attribute {k}")
    if at.get("direction", b"forward") not in (b"forward", "forward"):
        raise NotImplementedError("LSTM direction")
    if at.get("layout", 0) != 0:
        raise NotImplementedError("LSTM layout 1")
    H = int(at["hidden_size"])
    T, B, _ = X.shape
    h = ins[5][0] if len(ins) > 5 and ins[5] is not None else np.zeros((B, H), np.float32)
    c = ins[6][0] if len(ins) > 6 and ins[6] is not None else np.zeros((B, H), np.float32)
    w, r = W[0], R[0]                                           # [4H, I], [4H, H]; gate order i, o, f, c
    bias = (B_[0, :4 * H] + B_[0, 4 * H:]) if B_ is not None else np.zeros(4 * H, np.float32)
    Y = np.zeros((T, 1, B, H), np.float32)
    for t in range(T):
        g = (X[t] @ w.T + h @ r.T + bias).astype(np.float32)
        i, o, f, cc = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
        c = (_sig(f) * c + _sig(i) * np.tanh(cc)).astype(np.float32)
        h = (_sig(o) * np.tanh(c)).astype(np.float32)
        Y[t, 0] = h
    return [Y, h[None], c[None]]


def _slice(ins, at):
    x, starts, ends = ins[0], ins[1], ins[2]
    axes = ins[3] if len(ins) > 3 and ins[3] is not None else np.arange(len(starts))
    steps = ins[4] if len(ins) > 4 and ins[4] is not None else np.ones(len(starts), np.int64)
    sl = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        sl[int(a)] = slice(int(s), int(e), int(st))            # numpy clamps like ONNX does
    return [x[tuple(sl)]]


def _softmax(ins, at):
    x = ins[0]
    ax = at.get("axis", -1)
    z = x - x.max(axis=ax, keepdims=True)
    e = np.exp(z)
    return [(e / e.sum(axis=ax, keepdims=True)).astype(np.float32)]


def _gemm(ins, at):
    a, b = ins[0], ins[1]
    if at.get("transA", 0):
        a = a.T
    if at.get("transB", 0):
        b = b.T
    y = at.get("alpha", 1.0) * (a @ b)
    if len(ins) > 2 and ins[2] is not None:
        y = y + at.get("beta", 1.0) * ins[2]
    return [y.astype(np.float32)]


def _reduce_sum(ins, at):
    axes = tuple(int(a) for a in ins[1]) if len(ins) > 1 and ins[1] is not None else None
    return [ins[0].sum(axis=axes, keepdims=bool(at.get("keepdims", 1))).astype(np.float32)]


OPS = {
    "Constant": lambda ins, at: [numpy_helper.to_array(at["value"]) if isinstance(at["value"], onnx.TensorProto)
                                 else np.array(at["value"])],
    "Unsqueeze": lambda ins, at: [np.expand_dims(ins[0], tuple(int(a) for a in ins[1]))],
    "Squeeze": lambda ins, at: [np.squeeze(ins[0], tuple(int(a) for a in ins[1]))],
    "Transpose": lambda ins, at: [np.ascontiguousarray(np.transpose(ins[0], at.get("perm")))],
    "Slice": _slice,
    "Concat": lambda ins, at: [np.concatenate(ins, axis=at["axis"])],
    "Gather": lambda ins, at: [np.take(ins[0], ins[1], axis=at.get("axis", 0))],
    "Gemm": _gemm,
    "MatMul": lambda ins, at: [np.matmul(ins[0], ins[1]).astype(np.float32)],
    "Tanh": lambda ins, at: [np.tanh(ins[0])],
    "Relu": lambda ins, at: [np.maximum(ins[0], np.float32(0))],
    "Sigmoid": lambda ins, at: [_sig(ins[0])],
    "Add": lambda ins, at: [ins[0] + ins[1]],
    "Sub": lambda ins, at: [ins[0] - ins[1]],
    "Mul": lambda ins, at: [ins[0] * ins[1]],
    "Shape": lambda ins, at: [np.array(ins[0].shape, np.int64)],
    "ConstantOfShape": lambda ins, at: [np.full(tuple(int(d) for d in ins[0]),
                                                numpy_helper.to_array(at["value"]).reshape(-1)[0]
                                                if "value" in at else np.float32(0))],
    "Softmax": _softmax,
    "ReduceSum": _reduce_sum,
    "LSTM": _lstm,
}


class StepRunner:
    def __init__(self, path: str):
        self.model = onnx.load(path)
        g = self.model.graph
        self.init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.inputs = [i.name for i in g.input if i.name not in self.init]
        self.outputs = [o.name for o in g.output]
        self.nodes = list(g.node)
        for n in self.nodes:
            if n.op_type not in OPS:
                raise NotImplementedError(f"{path}: node {n.name} op {n.op_type} not in stream_onnx_np")
        self.metadata = {p.key: p.value for p in self.model.metadata_props}

    def __call__(self, feeds: dict) -> dict:
        env = dict(self.init)
        for k in self.inputs:
            env[k] = np.asarray(feeds[k], np.float32)
        for n in self.nodes:
            ins = [env[i] if i else None for i in n.input]
            try:
                outs = OPS[n.op_type](ins, _attrs(n))
            except Exception as e:  # name the node that failed
                raise RuntimeError(f"node {n.name} ({n.op_type}): {e}") from e
            for name, v in zip(n.output, outs):
                if name:
                    env[name] = v
        return {k: env[k] for k in self.outputs}


def stream(path_or_runner, x: np.ndarray, state_pairs: list[tuple[str, str]], shapes: dict) -> np.ndarray:
    """Runs the step graph over x [L, B, F] from a zero state; returns logits [L, B, 3]."""
    run = path_or_runner if isinstance(path_or_runner, StepRunner) else StepRunner(path_or_runner)
    st = {i: np.zeros(shapes[i], np.float32) for i, _ in state_pairs}
    out = []
    for t in range(x.shape[0]):
        r = run(dict(st, x=x[t]))
        out.append(r["logits"])
        st = {i: r[o] for i, o in state_pairs}
    return np.stack(out)
