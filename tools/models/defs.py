"""Reference model definitions for tickrt's inference engine.

Who uses this: tools/models/export.py (ONNX, TorchScript and golden outputs), and later the
training scripts, which import these classes, train them, save `state_dict()` and re-export with
`export.py --weights <file>`. Keep parameter names stable: they are the state_dict keys.

All models take `x` of shape [B, T, F] (float32) and return `logits` of shape [B, 3].
T and F are fixed per model (see SPECS); only the batch axis is dynamic in the exports.

Written for Debian's python3-torch 1.13 (ONNX opset 17 at most).
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

# name -> (constructor kwargs, input shape without batch [T, F], weight-init seed)
SPECS = {
    "lstm_attn_s": dict(kind="lstm_attn", seq=64, feat=32, hidden=64, mlp=64, seed=11),
    "lstm_attn_l": dict(kind="lstm_attn", seq=128, feat=64, hidden=256, mlp=128, seed=12),
    "convlstm": dict(kind="convlstm", seq=64, feat=40, channels=16, hidden=64, seed=13),
    "transformer_s": dict(kind="transformer", seq=64, feat=32, d_model=64, heads=4, ff=128,
                          layers=2, seed=14),
}
NUM_CLASSES = 3


class LstmAttn(nn.Module):
    """2-layer LSTM + additive attention over time + MLP head.

    score_t = v . tanh(W h_t + b); a = softmax_t(score); context = sum_t a_t h_t;
    logits = fc2(relu(fc1(concat(context, h_last)))).
    """

    def __init__(self, seq: int, feat: int, hidden: int, mlp: int):
        super().__init__()
        self.seq, self.feat = seq, feat
        self.lstm = nn.LSTM(feat, hidden, num_layers=2, batch_first=True)
        self.att_w = nn.Linear(hidden, hidden)             # W h_t + b
        self.att_v = nn.Linear(hidden, 1, bias=False)      # v . (...)
        self.fc1 = nn.Linear(2 * hidden, mlp)
        self.fc2 = nn.Linear(mlp, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(x)                                  # [B, T, H]
        score = self.att_v(torch.tanh(self.att_w(h)))        # [B, T, 1]
        a = torch.softmax(score, dim=1)                      # softmax over time
        context = torch.sum(a * h, dim=1)                    # [B, H]
        last = h[:, -1, :]                                   # [B, H]
        z = torch.cat([context, last], dim=1)                # [B, 2H]
        return self.fc2(torch.relu(self.fc1(z)))


class ConvBlock(nn.Module):
    """Conv2d -> BatchNorm2d -> LeakyReLU(0.01), as in DeepLOB."""

    def __init__(self, cin: int, cout: int, kernel, stride=(1, 1)):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.LeakyReLU(0.01)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class ConvLstm(nn.Module):
    """DeepLOB-like: [B, T, 40] viewed as [B, 1, T, 40]; three conv blocks, each
    (1,k)-conv that shrinks the feature axis, then two (4,1) time convs (no padding, so T
    shrinks by 3 per time conv: 64 -> 46); LSTM(16 -> 64) over time; last step -> Linear(64, 3).

    Feature axis: 40 -(1,2)/2-> 20 -(1,2)/2-> 10 -(1,10)-> 1. The inception module of DeepLOB is
    left out on purpose (keeps the model small and the export plain).
    """

    def __init__(self, seq: int, feat: int, channels: int, hidden: int):
        super().__init__()
        assert feat == 40, "ConvLstm's feature-axis kernels assume 40 features (10 levels x 4)"
        c = channels
        self.seq, self.feat = seq, feat
        self.blocks = nn.Sequential(
            ConvBlock(1, c, (1, 2), (1, 2)), ConvBlock(c, c, (4, 1)), ConvBlock(c, c, (4, 1)),
            ConvBlock(c, c, (1, 2), (1, 2)), ConvBlock(c, c, (4, 1)), ConvBlock(c, c, (4, 1)),
            ConvBlock(c, c, (1, 10)), ConvBlock(c, c, (4, 1)), ConvBlock(c, c, (4, 1)),
        )
        self.lstm = nn.LSTM(c, hidden, num_layers=1, batch_first=True)
        self.fc = nn.Linear(hidden, NUM_CLASSES)
        self.out_seq = seq - 6 * 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.blocks(x.unsqueeze(1))                     # [B, C, T', 1]
        y = y.squeeze(3).transpose(1, 2)                    # [B, T', C]
        h, _ = self.lstm(y)
        return self.fc(h[:, -1, :])


class EncoderLayer(nn.Module):
    """Post-norm transformer encoder layer, ReLU, no dropout: the same function and the same
    parameter names as torch.nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0,
    batch_first=True), so a state_dict trained with either loads into the other.

    Why not nn.TransformerEncoderLayer itself: in eval mode torch 1.13 takes its "fast path"
    (torch._transformer_encoder_layer_fwd / _native_multi_head_attention), which the ONNX
    exporter cannot lower to plain ops. This one exports to MatMul/Softmax/LayerNormalization.
    export.py checks that both give the same outputs.
    """

    def __init__(self, seq: int, d_model: int, heads: int, ff: int):
        super().__init__()
        self.seq, self.d, self.h = seq, d_model, heads
        self.self_attn = _Mha(d_model)
        self.linear1 = nn.Linear(d_model, ff)
        self.linear2 = nn.Linear(ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t, d, h = self.seq, self.d, self.h
        dh = d // h
        qkv = F.linear(x, self.self_attn.in_proj_weight, self.self_attn.in_proj_bias)
        q, k, v = qkv.split(d, dim=-1)                      # each [B, T, D]
        # -1 for the batch keeps the batch axis dynamic without Shape/Gather nodes.
        q = q.reshape(-1, t, h, dh).transpose(1, 2)         # [B, H, T, dh]
        k = k.reshape(-1, t, h, dh).permute(0, 2, 3, 1)     # [B, H, dh, T]
        v = v.reshape(-1, t, h, dh).transpose(1, 2)         # [B, H, T, dh]
        q = q * (1.0 / math.sqrt(dh))
        att = torch.softmax(torch.matmul(q, k), dim=-1)     # [B, H, T, T]
        o = torch.matmul(att, v).transpose(1, 2).reshape(-1, t, d)
        o = self.self_attn.out_proj(o)
        x = self.norm1(x + o)
        x = self.norm2(x + self.linear2(torch.relu(self.linear1(x))))
        return x


class _Mha(nn.Module):
    """Holds nn.MultiheadAttention's parameters under its names (in_proj_weight [3D, D],
    in_proj_bias [3D], out_proj.weight/bias), initialised the same way."""

    def __init__(self, d: int):
        super().__init__()
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d, d))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d))
        self.out_proj = nn.Linear(d, d)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)


class TransformerS(nn.Module):
    """Linear(F, D) + learned positions; N post-norm encoder layers; mean over time;
    Linear(D, 3). `layers` has the same keys as nn.TransformerEncoder's `layers`."""

    def __init__(self, seq: int, feat: int, d_model: int, heads: int, ff: int, layers: int):
        super().__init__()
        self.seq, self.feat = seq, feat
        self.embed = nn.Linear(feat, d_model)
        self.pos = nn.Parameter(torch.randn(1, seq, d_model) * 0.1)
        self.layers = nn.ModuleList([EncoderLayer(seq, d_model, heads, ff) for _ in range(layers)])
        self.head = nn.Linear(d_model, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.embed(x) + self.pos
        for layer in self.layers:
            y = layer(y)
        return self.head(y.mean(dim=1))

    def reference_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same function through torch.nn.TransformerEncoder (for the equivalence check)."""
        d = self.embed.out_features
        l0 = self.layers[0]
        enc_layer = nn.TransformerEncoderLayer(d, l0.h, l0.linear1.out_features, dropout=0.0,
                                               batch_first=True)
        enc = nn.TransformerEncoder(enc_layer, num_layers=len(self.layers),
                                    enable_nested_tensor=False)
        enc.load_state_dict({f"layers.{k}": v for k, v in self.layers.state_dict().items()})
        enc.eval()
        y = self.embed(x) + self.pos
        return self.head(enc(y).mean(dim=1))


def build(name: str, weights: str | None = None) -> nn.Module:
    """Builds model `name` with its seeded random init (or loads `weights`, a state_dict file),
    in eval mode."""
    if name not in SPECS:
        raise KeyError(f"unknown model '{name}' (known: {', '.join(SPECS)})")
    s = dict(SPECS[name])
    kind, seed = s.pop("kind"), s.pop("seed")
    torch.manual_seed(seed)
    if kind == "lstm_attn":
        m = LstmAttn(s["seq"], s["feat"], s["hidden"], s["mlp"])
        _spread(m, lstm=4.0, att=8.0, head=3.0)
    elif kind == "convlstm":
        m = ConvLstm(s["seq"], s["feat"], s["channels"], s["hidden"])
        _spread(m, lstm=4.0, att=1.0, head=3.0)
        _calibrated_bn(m, seed)
    elif kind == "transformer":
        m = TransformerS(s["seq"], s["feat"], s["d_model"], s["heads"], s["ff"], s["layers"])
        _perturb_affine(m, seed)
    else:  # pragma: no cover - SPECS is local
        raise AssertionError(kind)
    if weights:
        state = torch.load(weights, map_location="cpu")
        m.load_state_dict(state)
    m.eval()
    return m


@torch.no_grad()
def _spread(m: nn.Module, lstm: float, att: float, head: float) -> None:
    """Scales PyTorch's default init up so that the random-weight models are sensitive to their
    input: with the defaults (U(+-1/sqrt(H))) the LSTM state stays near 0, attention is almost
    uniform and the logits hardly change from one sample to the next (std ~1e-3), which would
    make weak goldens. With these gains: hidden std ~0.2, max attention weight ~0.2-0.3, logits
    std ~0.3 across samples."""
    for k, p in m.named_parameters():
        if p.dim() < 2:
            continue
        if k.startswith("lstm.weight"):
            p.mul_(lstm)
        elif k.startswith("att_"):
            p.mul_(att)
        elif k.startswith("fc"):
            p.mul_(head)


@torch.no_grad()
def _perturb_affine(m: nn.Module, seed: int) -> None:
    """LayerNorm gamma/beta and attention biases start at exactly 1 and 0, which would let an
    engine that ignores them pass the goldens: give every 1-D parameter a seeded perturbation
    (gamma = 1 + 0.2 N(0,1), biases += 0.1 N(0,1))."""
    g = torch.Generator().manual_seed(seed + 2000)
    for k, p in m.named_parameters():
        if p.dim() != 1:
            continue
        if k.endswith("norm1.weight") or k.endswith("norm2.weight"):
            p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
        else:
            p.add_(0.1 * torch.randn(p.shape, generator=g))


@torch.no_grad()
def _calibrated_bn(m: "ConvLstm", seed: int) -> None:
    """Non-trivial BatchNorm statistics and affine terms, so that Conv+BN folding is really
    exercised (the defaults mean=0, var=1, gamma=1, beta=0 make BN an identity), yet close
    enough to the true activation statistics that the signal survives nine conv layers.
    Statistics come from a seeded calibration batch, then are perturbed and rounded to a 2^-10
    grid so that a re-export on another machine gives bit-identical parameters."""
    g = torch.Generator().manual_seed(seed + 1000)
    q = lambda t: torch.round(t * 1024.0) / 1024.0  # noqa: E731
    y = (torch.rand(32, 1, m.seq, m.feat, generator=g) * 2 - 1)
    for blk in m.blocks:
        z = blk.conv(y)
        n = z.shape[1]
        mean, var = z.mean(dim=(0, 2, 3)), z.var(dim=(0, 2, 3))
        bn = blk.bn
        bn.running_mean.copy_(q(mean + 0.3 * var.sqrt() * torch.randn(n, generator=g)))
        bn.running_var.copy_(q(var * (torch.rand(n, generator=g) * 1.5 + 0.5)).clamp_min(2 ** -10))
        bn.weight.copy_(q(torch.rand(n, generator=g) + 0.5))
        bn.bias.copy_(q(torch.randn(n, generator=g) * 0.3))
        blk.eval()
        y = blk(y)


def input_shape(name: str, batch: int) -> tuple[int, int, int]:
    s = SPECS[name]
    return (batch, s["seq"], s["feat"])
