"""lstm_attn_stream: the streaming (stateful) counterpart of lstm_attn_s.

The function (what PyTorch computes over a whole sequence, and what the one-step ONNX graph
computes one row at a time):

  input: normalised feature rows x_1, x_2, ... since the last reset (F floats each).
  LSTM:  2 layers, F -> 64 -> 64 (torch.nn.LSTM, batch_first), state (h, c) starting at zero at
         the reset and carried from row to row: h_t = top-layer output after row t. Nothing is
         re-initialised per window: h_t depends on every row since the reset.
  score: s_t = v . tanh(W h_t + b)  (computed once, when h_t is produced)
  attention at step n over the last K = 64 outputs that EXIST since the reset:
         J_n = {max(1, n-63) .. n};  a_j = exp(s_j) / sum_{i in J_n} exp(s_i);  ctx_n = sum_{j in J_n} a_j h_j
         (before 64 outputs exist the attention covers only the valid ones: no zero padding
         takes part in the softmax.)
  head:  logits_n = fc2(relu(fc1(concat(ctx_n, h_n))))  -> [3] (down, flat, up)

Parameter names are those of tools/models/defs.py LstmAttn (lstm, att_w, att_v, fc1, fc2).

The state of one stream (all float32, all zero after a reset):
  h          [2, 64]     LSTM hidden state per layer
  c          [2, 64]     LSTM cell state per layer
  ring       [64, 64]    the last 64 top-layer outputs h_j, OLDEST FIRST (row 63 = newest)
  ring_score [64]        their scores s_j (same order): carried so a step computes one new
                         score instead of 64 (W h for 64 entries would cost 5x the LSTM step)
  ring_valid [64]        1.0 where the entry holds a real output, 0.0 where not (yet)
A step shifts every ring left by one (drops entry 0) and appends the new output / score / 1.
The softmax is taken over score + (valid - 1) * 1e30: valid entries are unchanged (x + 0), invalid
ones are -1e30, whose exp underflows to exactly 0, i.e. the attention over valid entries only;
the newest entry is always valid, so the softmax is never empty.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import defs  # noqa: E402

NAME = "lstm_attn_stream"
K = 64          # attention span (ring length)
HIDDEN = 64
MLP = 64
LAYERS = 2
SEED = 105
MASK_NEG = 1e30
STATE_NAMES = ("h", "c", "ring", "ring_score", "ring_valid")
STATE_OUT = {n: n + "_out" for n in STATE_NAMES}


BAND_MAX = 512  # forward_seq: chunks up to this long use one banded matmul for the context


def band(a: torch.Tensor) -> torch.Tensor:
    """a [B, L, K] (step t's weights over entries t+1 .. t+K of the concatenation ring + outputs) ->
    the banded [B, L, K+L] matrix A with A[b, t, t+1+k] = a[b, t, k], zeros elsewhere, by the skew
    trick (pad each row to K+L+1, flatten, shift by one, re-read rows of K+L): one differentiable
    gather-free op, so the context of every step is a single bmm with [ring; outputs]."""
    B, L, k = a.shape
    w = k + L
    flat = torch.nn.functional.pad(a, (0, L + 1)).reshape(B, L * (w + 1))
    flat = torch.nn.functional.pad(flat, (1, 0))
    return flat[:, :L * w].reshape(B, L, w)


def state_shapes(batch: int) -> dict:
    return {"h": (LAYERS, batch, HIDDEN), "c": (LAYERS, batch, HIDDEN), "ring": (batch, K, HIDDEN),
            "ring_score": (batch, K), "ring_valid": (batch, K)}


def zero_state(batch: int) -> dict:
    return {k: torch.zeros(s) for k, s in state_shapes(batch).items()}


class LstmAttnStream(nn.Module):
    def __init__(self, feat: int, hidden: int = HIDDEN, mlp: int = MLP):
        super().__init__()
        self.feat, self.hidden = feat, hidden
        self.lstm = nn.LSTM(feat, hidden, num_layers=LAYERS, batch_first=True)
        self.att_w = nn.Linear(hidden, hidden)
        self.att_v = nn.Linear(hidden, 1, bias=False)
        self.fc1 = nn.Linear(2 * hidden, mlp)
        self.fc2 = nn.Linear(mlp, defs.NUM_CLASSES)

    def head(self, ctx: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(torch.cat([ctx, h], dim=-1))))

    def score(self, h: torch.Tensor) -> torch.Tensor:
        return self.att_v(torch.tanh(self.att_w(h))).squeeze(-1)

    def forward_seq(self, x: torch.Tensor, state: dict | None = None,
                    band_ok: bool = True) -> tuple[torch.Tensor, dict]:
        """The full-sequence computation: x [B, L, F] -> logits [B, L, 3], state after row L.
        One nn.LSTM call over all L rows (from `state`, zero = a reset before row 1). The context is
        one banded bmm when L <= BAND_MAX and band_ok (training), else the explicit sum over the 64
        window entries (the reference: reference_logits); the two differ by float rounding only."""
        B, L, _ = x.shape
        st = state if state is not None else zero_state(B)
        y, (hn, cn) = self.lstm(x, (st["h"], st["c"]))                 # [B, L, H]
        s = self.score(y)                                               # [B, L]
        hc = torch.cat([st["ring"], y], dim=1)                          # [B, K + L, H]
        sc = torch.cat([st["ring_score"], s], dim=1)                    # [B, K + L]
        vc = torch.cat([st["ring_valid"], torch.ones_like(s)], dim=1)   # [B, K + L]
        # step t (0-based) attends over entries t+1 .. t+K of the concatenation
        sw = sc.unfold(1, K, 1)[:, 1:, :]                               # [B, L, K]
        vw = vc.unfold(1, K, 1)[:, 1:, :]
        a = torch.softmax(sw + (vw - 1.0) * MASK_NEG, dim=-1)           # [B, L, K]
        if band_ok and L <= BAND_MAX:
            ctx = torch.bmm(band(a), hc)                                # [B, L, K+L] x [B, K+L, H]
        else:                                                           # long: no [B, L, K+L] matrix
            ctx = torch.zeros_like(y)
            for k in range(K):                                          # sum_k a_k h_(t+1+k)
                ctx = ctx + a[:, :, k:k + 1] * hc[:, k + 1:k + 1 + L, :]
        logits = self.head(ctx, y)
        new = {"h": hn, "c": cn, "ring": hc[:, -K:, :], "ring_score": sc[:, -K:], "ring_valid": vc[:, -K:]}
        return logits, new


class Step(nn.Module):
    """One step of LstmAttnStream, the graph that is exported: (x, state) -> (logits, state')."""

    def __init__(self, m: LstmAttnStream):
        super().__init__()
        self.m = m

    def forward(self, x, h, c, ring, ring_score, ring_valid):
        m = self.m
        y, (h_out, c_out) = m.lstm(x.unsqueeze(1), (h, c))             # y [B, 1, H]
        hn = y[:, 0, :]                                                 # [B, H]
        s = m.att_v(torch.tanh(m.att_w(hn)))                            # [B, 1]
        ring_out = torch.cat([ring[:, 1:, :], hn.unsqueeze(1)], dim=1)  # oldest first
        ring_score_out = torch.cat([ring_score[:, 1:], s], dim=1)
        ring_valid_out = torch.cat([ring_valid[:, 1:], torch.ones_like(s)], dim=1)
        a = torch.softmax(ring_score_out + (ring_valid_out - 1.0) * MASK_NEG, dim=1)   # [B, K]
        ctx = torch.sum(a.unsqueeze(2) * ring_out, dim=1)               # [B, H]
        logits = m.head(ctx, hn)
        return logits, h_out, c_out, ring_out, ring_score_out, ring_valid_out


def build(feat: int) -> LstmAttnStream:
    torch.manual_seed(SEED)
    return LstmAttnStream(feat)


def describe(feat: int) -> str:
    return (f"tools/train/stream_model.LstmAttnStream(feat={feat}, hidden=64, mlp=64): LSTM({feat}->64, 2 layers) "
            f"over the whole history since a reset (state carried row to row) + additive attention over the last "
            f"min(n, 64) top-layer outputs + concat(context, h_n) -> Linear(128,64) -> ReLU -> Linear(64,3)")


INPUTS = ("x",) + STATE_NAMES
OUTPUTS = ("logits",) + tuple(STATE_OUT[n] for n in STATE_NAMES)


def state_metadata(warmup: int) -> dict:
    """The streaming keys of the model package (docs: tools/train/README.md, docs/MODELS.md)."""
    return {
        "tickrt.stream": "1",
        "tickrt.state": ",".join(f"{n}:{STATE_OUT[n]}" for n in STATE_NAMES),
        "tickrt.state_reset": "zeros",
        "tickrt.warmup": str(int(warmup)),
        "tickrt.ring": str(K),
    }


def export_step(model: LstmAttnStream, path: str, props: dict, opset: int = 17) -> dict:
    """Exports Step(model) to `path` with metadata `props`; checks the interface; returns the op histogram."""
    import tempfile
    import warnings
    import onnx
    F = model.feat
    B = 2
    st = zero_state(B)
    args = (torch.zeros(B, F),) + tuple(st[n] for n in STATE_NAMES)
    dyn = {"x": {0: "batch"}, "logits": {0: "batch"}}
    for n in STATE_NAMES:
        ax = 1 if n in ("h", "c") else 0
        dyn[n] = {ax: "batch"}
        dyn[STATE_OUT[n]] = {ax: "batch"}
    model.eval()
    with tempfile.TemporaryDirectory() as td, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmp = os.path.join(td, "m.onnx")
        torch.onnx.export(Step(model), args, tmp, opset_version=opset, input_names=list(INPUTS),
                          output_names=list(OUTPUTS), dynamic_axes=dyn,
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
        m = onnx.load(tmp)
    del m.metadata_props[:]
    for k, v in props.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    m.producer_name = "tickrt tools/train/train_stream.py"
    onnx.checker.check_model(m, full_check=True)
    inits = {t.name for t in m.graph.initializer}
    ins = [i.name for i in m.graph.input if i.name not in inits]
    outs = [o.name for o in m.graph.output]
    if ins != list(INPUTS) or outs != list(OUTPUTS):
        raise SystemExit(f"{path}: exported interface {ins} -> {outs}, want {list(INPUTS)} -> {list(OUTPUTS)}")
    bad = [n.op_type for n in m.graph.node if n.domain not in ("", "ai.onnx")]
    if bad:
        raise SystemExit(f"{path}: non-standard ops {bad}")
    onnx.save(m, path)
    hist = {}
    for n in m.graph.node:
        hist[n.op_type] = hist.get(n.op_type, 0) + 1
    return dict(sorted(hist.items()))


@torch.no_grad()
def reference_logits(model: LstmAttnStream, x: np.ndarray) -> np.ndarray:
    """PyTorch over the full sequence from a reset: x [L, F] or [B, L, F] -> logits of the same lead shape."""
    model.eval()
    one = x.ndim == 2
    xt = torch.from_numpy(np.ascontiguousarray(x[None] if one else x))
    lg, _ = model.forward_seq(xt, band_ok=False)
    lg = lg.numpy().astype(np.float32)
    return lg[0] if one else lg
