"""A reference streaming LSTM + attention model (tickrt's own, for engine tests and for the
exactness reference when no trained lstm_attn_stream is at hand).

Function (what "streaming" must reproduce): h_t = LSTM(x_0..x_t) run over the whole history since
the last reset (zero initial state), and at every step attention over the last R top-layer outputs
that exist (fewer than R right after a reset: the missing ring entries are masked out), then the
same head as defs.LstmAttn: logits = fc2(relu(fc1(concat(context, h_t)))).

StepModel is the one-step form exported to ONNX: inputs x [B,F], h/c [L,B,H], ring [B,R,H] (the
last R outputs, oldest first), n [B,1] (how many ring entries are valid, as float); outputs logits
[B,3], h_out, c_out, ring_out, n_out. full_sequence() is the same function written over a whole
sequence (one LSTM call, then a sliding attention window): the exactness reference.
"""
from __future__ import annotations

import torch
from torch import nn


class StepModel(nn.Module):
    def __init__(self, feat: int, hidden: int = 64, layers: int = 2, ring: int = 64, mlp: int = 64):
        super().__init__()
        self.feat, self.hidden, self.layers, self.ring = feat, hidden, layers, ring
        self.lstm = nn.LSTM(feat, hidden, num_layers=layers, batch_first=True)
        self.att_w = nn.Linear(hidden, hidden)
        self.att_v = nn.Linear(hidden, 1, bias=False)
        self.fc1 = nn.Linear(2 * hidden, mlp)
        self.fc2 = nn.Linear(mlp, 3)

    def head(self, ring: torch.Tensor, valid: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        score = self.att_v(torch.tanh(self.att_w(ring))).squeeze(2)          # [B,R]
        score = torch.where(valid, score, torch.full_like(score, -1e9))
        a = torch.softmax(score, dim=1)
        ctx = torch.sum(a.unsqueeze(2) * ring, dim=1)                         # [B,H]
        return self.fc2(torch.relu(self.fc1(torch.cat([ctx, last], dim=1))))

    def forward(self, x, h, c, ring, n):
        y, (h2, c2) = self.lstm(x.unsqueeze(1), (h, c))                       # y [B,1,H]
        ring2 = torch.cat([ring[:, 1:, :], y], dim=1)                         # oldest first
        n2 = torch.clamp(n + 1.0, max=float(self.ring))                       # [B,1]
        pos = torch.arange(self.ring, dtype=torch.float32).unsqueeze(0)       # [1,R]
        valid = pos >= (float(self.ring) - n2)                                # the newest n2 entries
        return self.head(ring2, valid, y[:, 0, :]), h2, c2, ring2, n2

    @torch.no_grad()
    def full_sequence(self, xs: torch.Tensor) -> torch.Tensor:
        """xs [T,F] -> logits [T,3]: the LSTM over the whole sequence from a zero state."""
        y, _ = self.lstm(xs.unsqueeze(0))                                     # [1,T,H]
        y = y[0]
        T, R, H = y.shape[0], self.ring, self.hidden
        padded = torch.cat([torch.zeros(R - 1, H), y], dim=0)                 # [R-1+T,H]
        rings = padded.unfold(0, R, 1).permute(0, 2, 1)                       # [T,R,H]
        n = torch.clamp(torch.arange(T, dtype=torch.float32) + 1.0, max=float(R)).unsqueeze(1)
        pos = torch.arange(R, dtype=torch.float32).unsqueeze(0)
        valid = pos >= (float(R) - n)
        out = []
        for s in range(0, T, 4096):                                            # bounded memory
            e = min(T, s + 4096)
            out.append(self.head(rings[s:e], valid[s:e], y[s:e]))
        return torch.cat(out, dim=0)


def export_step(model: StepModel, path: str, metadata: dict[str, str], dynamic_batch: bool = True) -> None:
    import onnx
    F, H, L, R = model.feat, model.hidden, model.layers, model.ring
    args = (torch.zeros(1, F), torch.zeros(L, 1, H), torch.zeros(L, 1, H), torch.zeros(1, R, H), torch.zeros(1, 1))
    dyn = None
    if dynamic_batch:
        dyn = {"x": {0: "B"}, "h": {1: "B"}, "c": {1: "B"}, "ring": {0: "B"}, "n": {0: "B"},
               "logits": {0: "B"}, "h_out": {1: "B"}, "c_out": {1: "B"}, "ring_out": {0: "B"}, "n_out": {0: "B"}}
    torch.onnx.export(model, args, path, opset_version=13,
                      input_names=["x", "h", "c", "ring", "n"],
                      output_names=["logits", "h_out", "c_out", "ring_out", "n_out"], dynamic_axes=dyn)
    m = onnx.load(path)
    for k, v in metadata.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)
