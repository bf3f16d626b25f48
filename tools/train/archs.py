"""The three trained architectures, with the input width F as a parameter.

lstm_attn_s and transformer_s are tools/models/defs.py's own classes (LstmAttn, TransformerS),
instantiated with F = the dataset's feature count instead of SPECS' 32 (their constructors take
the width). convlstm is not: defs.ConvLstm asserts F == 40 (its feature-axis kernels (1,2)s2,
(1,2)s2, (1,10) collapse exactly 40 columns), so ConvLstmW below builds the same network with
the feature-axis kernels derived from F; for F = 40 it is layer for layer defs.ConvLstm (same
parameter names, so its state_dict loads into defs.ConvLstm too).

Initialisation is PyTorch's default under a fixed seed (not defs.build's "spread"/perturbed
weights, which exist to make random-weight goldens sensitive and would only slow training).
"""
from __future__ import annotations

import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import defs  # noqa: E402

T = 64
NAMES = ("lstm_attn_s", "convlstm", "transformer_s")
SEEDS = {"lstm_attn_s": 101, "convlstm": 103, "transformer_s": 104}


def feature_kernels(f: int) -> tuple[int, int, int]:
    """Feature-axis kernels (= strides) of the three conv blocks: halve twice where the width is
    even, then one kernel spanning what is left, so the axis always ends at exactly 1 without
    dropping a column (a stride-2 kernel-2 conv on an odd width would ignore the last one)."""
    k1 = 2 if f % 2 == 0 else 1
    k2 = 2 if (f // k1) % 2 == 0 else 1
    return k1, k2, f // k1 // k2


class ConvLstmW(nn.Module):
    """defs.ConvLstm (DeepLOB-like; 9 x Conv+BN+LeakyReLU, 16 channels, time 64 -> 46,
    LSTM(16 -> 64), last step -> Linear(64, 3)) for any feature width F."""

    def __init__(self, seq: int, feat: int, channels: int = 16, hidden: int = 64):
        super().__init__()
        c = channels
        k1, k2, k3 = feature_kernels(feat)
        self.seq, self.feat, self.kernels = seq, feat, (k1, k2, k3)
        B = defs.ConvBlock
        self.blocks = nn.Sequential(
            B(1, c, (1, k1), (1, k1)), B(c, c, (4, 1)), B(c, c, (4, 1)),
            B(c, c, (1, k2), (1, k2)), B(c, c, (4, 1)), B(c, c, (4, 1)),
            B(c, c, (1, k3)), B(c, c, (4, 1)), B(c, c, (4, 1)),
        )
        self.lstm = nn.LSTM(c, hidden, num_layers=1, batch_first=True)
        self.fc = nn.Linear(hidden, defs.NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.blocks(x.unsqueeze(1))                     # [B, C, T-18, 1]
        y = y.squeeze(3).transpose(1, 2)                    # [B, T-18, C]
        h, _ = self.lstm(y)
        return self.fc(h[:, -1, :])


def build(name: str, feat: int) -> nn.Module:
    torch.manual_seed(SEEDS[name])
    if name == "lstm_attn_s":
        s = defs.SPECS[name]
        return defs.LstmAttn(T, feat, s["hidden"], s["mlp"])
    if name == "convlstm":
        s = defs.SPECS[name]
        return ConvLstmW(T, feat, s["channels"], s["hidden"])
    if name == "transformer_s":
        s = defs.SPECS[name]
        return defs.TransformerS(T, feat, s["d_model"], s["heads"], s["ff"], s["layers"])
    raise KeyError(f"unknown model '{name}' (trained: {', '.join(NAMES)})")


def describe(name: str, feat: int) -> str:
    if name == "lstm_attn_s":
        return (f"defs.LstmAttn(seq=64, feat={feat}, hidden=64, mlp=64): LSTM({feat}->64, 2 layers) + "
                "additive attention + concat(context, h_last) -> Linear(128,64) -> ReLU -> Linear(64,3)")
    if name == "convlstm":
        k = feature_kernels(feat)
        return (f"tools/train/archs.ConvLstmW(seq=64, feat={feat}): defs.ConvLstm with feature-axis kernels "
                f"(1,{k[0]})s{k[0]}, (1,{k[1]})s{k[1]}, (1,{k[2]}) instead of (1,2)s2, (1,2)s2, (1,10); "
                "9 x Conv+BN+LeakyReLU(0.01), 16 ch, time 64->46; LSTM(16->64) -> last step -> Linear(64,3)")
    return (f"defs.TransformerS(seq=64, feat={feat}, d_model=64, heads=4, ff=128, layers=2): Linear({feat},64) + "
            "learned positions; 2 post-norm encoder layers (ReLU, no dropout); mean over time -> Linear(64,3)")
