// Recurrent layers with full ONNX semantics (reference implementations; the fusion pass swaps simple forward
// LSTMs for tickrt.FusedLSTM): LSTM, GRU, RNN — forward / reverse / bidirectional, sequence_lens,
// initial_h / initial_c, LSTM peepholes and input_forget, clip, layout 0/1, any ONNX activation list
// (Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)
// with activation_alpha / activation_beta, and every output (Y, Y_h, Y_c) optional.
//
// Per direction: the input projection X W^T (+ biases) for all T*B rows is one cpu::gemm up front; each step
// then does h_{t-1} R^T for the whole batch with one cpu::gemm and applies the gate math per batch row.
// With sequence_lens, batch row b runs steps 0..len_b-1 (reverse: from len_b-1 down to 0); Y is zero past
// len_b and Y_h / Y_c hold the state after the last valid step. Lengths are read at run time (they are a
// data input) and clamped to [0, T] so a bad value can never index out of bounds.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "infer/ops/common.hpp"

namespace tickrt::infer::ops {
namespace {

enum class Cell { lstm, gru, rnn };

enum class AK : std::uint8_t { relu, tanh, sigmoid, affine, leaky, thresh, scaled_tanh, hard_sigmoid, elu, softsign, softplus };
struct ActFn {
  AK kind = AK::sigmoid;
  float alpha = 0, beta = 0;
  float operator()(float x) const {
    switch (kind) {
      case AK::relu: return x > 0 ? x : 0.0f;
      case AK::tanh: return std::tanh(x);
      case AK::sigmoid: return x >= 0 ? 1.0f / (1.0f + std::exp(-x)) : std::exp(x) / (1.0f + std::exp(x));
      case AK::affine: return alpha * x + beta;
      case AK::leaky: return x >= 0 ? x : alpha * x;
      case AK::thresh: return x > alpha ? x : 0.0f;
      case AK::scaled_tanh: return alpha * std::tanh(beta * x);
      case AK::hard_sigmoid: return std::max(0.0f, std::min(1.0f, alpha * x + beta));
      case AK::elu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0f);
      case AK::softsign: return x / (1.0f + std::fabs(x));
      case AK::softplus: return x > 30.0f ? x : std::log1p(std::exp(x));
    }
    return x;
  }
};

struct RnnParams {
  Cell cell = Cell::lstm;
  int D = 1, T = 0, B = 0, I = 0, H = 0, G = 4;   // G: gates per cell (4 LSTM, 3 GRU, 1 RNN)
  int layout = 0;
  bool reverse_only = false;                     // direction == "reverse"
  bool has_clip = false;
  float clip = 0;
  bool input_forget = false;
  bool linear_before_reset = false;
  ActFn act[2][3];                               // [direction][f, g, h]
  // workspace offsets in floats
  std::size_t ws_proj = 0, ws_rec = 0, ws_h = 0, ws_c = 0, ws_tmp = 0, ws_rec2 = 0, ws_len = 0;
};

inline float clipv(const RnnParams& p, float x) { return p.has_clip ? std::max(-p.clip, std::min(p.clip, x)) : x; }

void rnn_run(const Kernel& k) {
  const auto& p = k.p<RnnParams>();
  const int T = p.T, B = p.B, I = p.I, H = p.H, G = p.G, D = p.D;
  const int GH = G * H;
  const float* X = k.in[0]->as<float>();
  const float* W = k.in[1]->as<float>();
  const float* R = k.in[2]->as<float>();
  auto opt_in = [&](std::size_t i) -> const TensorRef* { return k.in.size() > i ? k.in[i] : nullptr; };
  const float* Bias = opt_in(3) ? opt_in(3)->as<float>() : nullptr;
  const std::int32_t* lens_in = opt_in(4) ? opt_in(4)->as<std::int32_t>() : nullptr;
  const float* h0 = opt_in(5) ? opt_in(5)->as<float>() : nullptr;
  const float* c0 = p.cell == Cell::lstm && opt_in(6) ? opt_in(6)->as<float>() : nullptr;
  const float* P = p.cell == Cell::lstm && opt_in(7) ? opt_in(7)->as<float>() : nullptr;
  float* Y = k.out.size() > 0 && k.out[0] ? k.out[0]->as<float>() : nullptr;
  float* Yh = k.out.size() > 1 && k.out[1] ? k.out[1]->as<float>() : nullptr;
  float* Yc = p.cell == Cell::lstm && k.out.size() > 2 && k.out[2] ? k.out[2]->as<float>() : nullptr;

  float* ws = reinterpret_cast<float*>(k.workspace);
  float* proj = ws + p.ws_proj;
  float* rec = ws + p.ws_rec;
  float* h = ws + p.ws_h;
  float* c = ws + p.ws_c;
  float* tmp = ws + p.ws_tmp;
  float* rec2 = ws + p.ws_rec2;
  int* lens = reinterpret_cast<int*>(ws + p.ws_len);
  for (int b = 0; b < B; ++b) lens[b] = lens_in ? std::clamp<int>(lens_in[b], 0, T) : T;
  if (Y) std::memset(Y, 0, static_cast<std::size_t>(k.out[0]->numel) * sizeof(float));

  auto xrow = [&](int t, int b) { return p.layout == 0 ? static_cast<std::size_t>(t) * B + b : static_cast<std::size_t>(b) * T + t; };
  auto yoff = [&](int t, int d, int b) {
    return p.layout == 0 ? ((static_cast<std::size_t>(t) * D + d) * B + b) * H : ((static_cast<std::size_t>(b) * T + t) * D + d) * H;
  };
  auto soff = [&](int d, int b) {   // initial_h / Y_h / Y_c
    return p.layout == 0 ? (static_cast<std::size_t>(d) * B + b) * H : (static_cast<std::size_t>(b) * D + d) * H;
  };

  for (int d = 0; d < D; ++d) {
    const bool reverse = p.reverse_only || d == 1;
    const float* Wd = W + static_cast<std::size_t>(d) * GH * I;
    const float* Rd = R + static_cast<std::size_t>(d) * GH * H;
    const float* Wb = Bias ? Bias + static_cast<std::size_t>(d) * 2 * GH : nullptr;
    const float* Rb = Bias ? Wb + GH : nullptr;
    const float* Pd = P ? P + static_cast<std::size_t>(d) * 3 * H : nullptr;
    const ActFn& f = p.act[d][0];
    const ActFn& g = p.act[d][1];
    const ActFn& hact = p.act[d][2];

    // Input projection for every (t, b) row, biases folded in where they are plain additions.
    if (T > 0 && B > 0) {
      if (I > 0)
        cpu::gemm(k.isa, false, true, T * B, GH, I, 1.0f, X, I, Wd, I, 0.0f, proj, GH);
      else
        std::memset(proj, 0, static_cast<std::size_t>(T) * B * GH * sizeof(float));
    }
    if (Bias)
      for (std::size_t r = 0; r < static_cast<std::size_t>(T) * B; ++r) {
        float* pr = proj + r * GH;
        for (int j = 0; j < GH; ++j) {
          // GRU with linear_before_reset keeps Rb_h inside the reset product (added to the recurrent term).
          const bool rb_here = !(p.cell == Cell::gru && p.linear_before_reset && j >= 2 * H);
          pr[j] += Wb[j] + (rb_here ? Rb[j] : 0.0f);
        }
      }
    for (int b = 0; b < B; ++b) {
      for (int j = 0; j < H; ++j) {
        h[b * H + j] = h0 ? h0[soff(d, b) + j] : 0.0f;
        if (p.cell == Cell::lstm) c[b * H + j] = c0 ? c0[soff(d, b) + j] : 0.0f;
      }
    }

    for (int s = 0; s < T; ++s) {
      // Recurrent term for the whole batch: rec[b, :] = h[b, :] @ R^T (GRU without linear_before_reset only
      // needs the z and r gates here; its h gate uses (r * h) @ Rh^T below).
      const int ncols = p.cell == Cell::gru && !p.linear_before_reset ? 2 * H : GH;
      if (B > 0 && H > 0) cpu::gemm(k.isa, false, true, B, ncols, H, 1.0f, h, H, Rd, H, 0.0f, rec, GH);
      if (p.cell == Cell::gru && !p.linear_before_reset) {
        for (int b = 0; b < B; ++b) {
          const bool valid = s < lens[b];
          const int t = reverse ? lens[b] - 1 - s : s;
          for (int j = 0; j < H; ++j) {
            float rg = 0.0f;
            if (valid) rg = f(clipv(p, proj[xrow(t, b) * GH + H + j] + rec[b * GH + H + j]));
            tmp[b * H + j] = rg * h[b * H + j];
          }
        }
        if (B > 0 && H > 0)
          cpu::gemm(k.isa, false, true, B, H, H, 1.0f, tmp, H, Rd + static_cast<std::size_t>(2) * H * H, H, 0.0f, rec2, H);
      }
      for (int b = 0; b < B; ++b) {
        if (s >= lens[b]) continue;
        const int t = reverse ? lens[b] - 1 - s : s;
        const float* pr = proj + xrow(t, b) * GH;
        const float* rr = rec + static_cast<std::size_t>(b) * GH;
        float* hb = h + static_cast<std::size_t>(b) * H;
        float* yb = Y ? Y + yoff(t, d, b) : nullptr;
        if (p.cell == Cell::lstm) {
          float* cb = c + static_cast<std::size_t>(b) * H;
          for (int j = 0; j < H; ++j) {
            const float cp = cb[j];
            float gi = pr[j] + rr[j], go = pr[H + j] + rr[H + j], gf = pr[2 * H + j] + rr[2 * H + j], gc = pr[3 * H + j] + rr[3 * H + j];
            if (Pd) { gi += Pd[j] * cp; gf += Pd[2 * H + j] * cp; }
            const float it = f(clipv(p, gi));
            const float ft = p.input_forget ? 1.0f - it : f(clipv(p, gf));
            const float ct = g(clipv(p, gc));
            const float cn = ft * cp + it * ct;
            if (Pd) go += Pd[H + j] * cn;
            const float ot = f(clipv(p, go));
            cb[j] = cn;
            hb[j] = ot * hact(cn);
          }
        } else if (p.cell == Cell::gru) {
          const float* Rbh = Rb ? Rb + 2 * H : nullptr;
          for (int j = 0; j < H; ++j) {
            const float z = f(clipv(p, pr[j] + rr[j]));
            float hh;
            if (p.linear_before_reset) {
              const float r = f(clipv(p, pr[H + j] + rr[H + j]));
              hh = g(clipv(p, pr[2 * H + j] + r * (rr[2 * H + j] + (Rbh ? Rbh[j] : 0.0f))));
            } else {
              hh = g(clipv(p, pr[2 * H + j] + rec2[b * H + j]));
            }
            hb[j] = (1.0f - z) * hh + z * hb[j];
          }
        } else {
          for (int j = 0; j < H; ++j) hb[j] = f(clipv(p, pr[j] + rr[j]));
        }
        if (yb) std::memcpy(yb, hb, static_cast<std::size_t>(H) * sizeof(float));
      }
    }
    for (int b = 0; b < B; ++b) {
      if (Yh) std::memcpy(Yh + soff(d, b), h + static_cast<std::size_t>(b) * H, static_cast<std::size_t>(H) * sizeof(float));
      if (Yc) std::memcpy(Yc + soff(d, b), c + static_cast<std::size_t>(b) * H, static_cast<std::size_t>(H) * sizeof(float));
    }
  }
}

bool parse_act(std::string name, ActFn& a) {
  std::string l;
  for (char ch : name) l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const std::pair<const char*, AK> table[] = {
      {"relu", AK::relu}, {"tanh", AK::tanh}, {"sigmoid", AK::sigmoid}, {"affine", AK::affine}, {"leakyrelu", AK::leaky},
      {"thresholdedrelu", AK::thresh}, {"scaledtanh", AK::scaled_tanh}, {"hardsigmoid", AK::hard_sigmoid}, {"elu", AK::elu},
      {"softsign", AK::softsign}, {"softplus", AK::softplus}};
  for (auto& [n, kind] : table)
    if (l == n) { a.kind = kind; return true; }
  return false;
}

template <Cell CELL>
Status rnn_prepare(PrepareCtx& c) {
  constexpr int G = CELL == Cell::lstm ? 4 : CELL == Cell::gru ? 3 : 1;
  constexpr int NA = CELL == Cell::lstm ? 3 : CELL == Cell::gru ? 2 : 1;   // activations per direction
  const char* in_names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  const std::size_t max_in = CELL == Cell::lstm ? 8 : 6;
  if (c.nin() > max_in) return c.fail("too many inputs (" + std::to_string(c.nin()) + ")");
  for (std::size_t i = 0; i < 3; ++i)
    if (!c.has(i)) return c.fail(std::string("input ") + in_names[i] + " is required");
  for (std::size_t i = 0; i < c.nin(); ++i) {
    if (!c.has(i) || i == 4) continue;
    if (c.in[i].dtype != DType::f32)
      return c.unsupported(std::string("input ") + in_names[i] + " has type " + dtype_name(c.in[i].dtype) + " (float32 only)");
  }
  auto p = std::make_shared<RnnParams>();
  p->cell = CELL;
  p->G = G;
  const std::string dir = c.node.attr_s("direction", "forward");
  if (dir != "forward" && dir != "reverse" && dir != "bidirectional") return c.fail("unknown direction '" + dir + "'");
  const int D = dir == "bidirectional" ? 2 : 1;
  p->D = D;
  p->reverse_only = dir == "reverse";
  p->layout = static_cast<int>(c.node.attr_i("layout", 0));
  if (p->layout != 0 && p->layout != 1) return c.fail("layout must be 0 or 1");
  const Dims& x = c.in[0].dims;
  const Dims& w = c.in[1].dims;
  const Dims& r = c.in[2].dims;
  if (x.size() != 3) return c.fail("X " + dims_str(x) + " must be 3-D");
  if (w.size() != 3 || r.size() != 3) return c.fail("W " + dims_str(w) + " and R " + dims_str(r) + " must be 3-D");
  const std::int64_t T = p->layout == 0 ? x[0] : x[1], B = p->layout == 0 ? x[1] : x[0], I = x[2];
  std::int64_t H = c.node.attr_i("hidden_size", r[2]);
  if (H < 1) return c.fail("hidden_size must be >= 1");
  if (w != Dims{D, G * H, I})
    return c.fail("W " + dims_str(w) + " must be " + dims_str({D, G * H, I}) + " (num_directions, " + std::to_string(G) + "*hidden_size, input_size)");
  if (r != Dims{D, G * H, H}) return c.fail("R " + dims_str(r) + " must be " + dims_str({D, G * H, H}));
  if (c.has(3) && c.in[3].dims != Dims{D, 2 * G * H}) return c.fail("B " + dims_str(c.in[3].dims) + " must be " + dims_str({D, 2 * G * H}));
  if (c.has(4)) {
    if (c.in[4].dtype != DType::i32) return c.fail(std::string("sequence_lens must be int32, got ") + dtype_name(c.in[4].dtype));
    if (c.in[4].dims != Dims{B}) return c.fail("sequence_lens " + dims_str(c.in[4].dims) + " must be [" + std::to_string(B) + "]");
  }
  const Dims state = p->layout == 0 ? Dims{D, B, H} : Dims{B, D, H};
  if (c.has(5) && c.in[5].dims != state) return c.fail("initial_h " + dims_str(c.in[5].dims) + " must be " + dims_str(state));
  if (CELL == Cell::lstm) {
    if (c.has(6) && c.in[6].dims != state) return c.fail("initial_c " + dims_str(c.in[6].dims) + " must be " + dims_str(state));
    if (c.has(7) && c.in[7].dims != Dims{D, 3 * H}) return c.fail("P " + dims_str(c.in[7].dims) + " must be " + dims_str({D, 3 * H}));
  }
  const std::int64_t big = std::numeric_limits<int>::max();
  if (T * B * G * H >= big || T * B * I >= big || G * H * std::max(I, H) >= big)
    return c.unsupported("RNN dimensions too large for int32 GEMM sizes");
  p->T = static_cast<int>(T); p->B = static_cast<int>(B); p->I = static_cast<int>(I); p->H = static_cast<int>(H);
  if (c.node.has_attr("clip")) {
    p->has_clip = true;
    p->clip = c.node.attr_f("clip", 0);
    if (!(p->clip > 0)) return c.fail("clip must be > 0");
  }
  p->input_forget = CELL == Cell::lstm && c.node.attr_i("input_forget", 0) != 0;
  p->linear_before_reset = CELL == Cell::gru && c.node.attr_i("linear_before_reset", 0) != 0;

  // Activations: NA per direction; defaults f=Sigmoid, g=Tanh, h=Tanh (RNN: f=Tanh).
  std::vector<std::string> names;
  if (auto it = c.node.attrs.find("activations"); it != c.node.attrs.end()) {
    names = it->second.ss;
    if (names.empty() && !it->second.s.empty()) names.push_back(it->second.s);
  }
  if (names.empty()) {
    const char* defs[] = {"Sigmoid", "Tanh", "Tanh"};
    for (int d = 0; d < D; ++d)
      for (int a = 0; a < NA; ++a) names.push_back(CELL == Cell::rnn ? "Tanh" : defs[a]);
  }
  if (static_cast<int>(names.size()) != NA * D)
    return c.fail("activations lists " + std::to_string(names.size()) + " functions, expected " + std::to_string(NA * D) + " (" +
                  std::to_string(NA) + " per direction)");
  const auto alphas = c.node.attr_fs("activation_alpha");
  const auto betas = c.node.attr_fs("activation_beta");
  std::size_t ai = 0, bi = 0;
  for (int d = 0; d < D; ++d)
    for (int a = 0; a < NA; ++a) {
      ActFn fn;
      const std::string& nm = names[d * NA + a];
      if (!parse_act(nm, fn)) return c.unsupported("activation '" + nm + "'");
      // Functions with parameters consume activation_alpha / activation_beta in order (as ONNX Runtime).
      float da = 0, db = 0;
      bool ua = false, ub = false;
      switch (fn.kind) {
        case AK::affine: da = 1.0f; db = 0.0f; ua = ub = true; break;
        case AK::leaky: da = 0.01f; ua = true; break;
        case AK::thresh: da = 1.0f; ua = true; break;
        case AK::scaled_tanh: da = 1.0f; db = 1.0f; ua = ub = true; break;
        case AK::hard_sigmoid: da = 0.2f; db = 0.5f; ua = ub = true; break;
        case AK::elu: da = 1.0f; ua = true; break;
        default: break;
      }
      fn.alpha = ua && ai < alphas.size() ? alphas[ai++] : da;
      fn.beta = ub && bi < betas.size() ? betas[bi++] : db;
      p->act[d][a] = fn;
    }
  if (CELL != Cell::lstm)
    for (int d = 0; d < D; ++d) p->act[d][2] = p->act[d][1];

  // Workspace (floats): proj [T*B, GH], rec [B, GH], h, c, tmp, rec2 [B, H], lens [B] ints.
  auto al = [](std::size_t n) { return (n + 15) / 16 * 16; };
  std::size_t off = 0;
  p->ws_proj = off; off += al(static_cast<std::size_t>(T * B * G * H));
  p->ws_rec = off; off += al(static_cast<std::size_t>(B * G * H));
  p->ws_h = off; off += al(static_cast<std::size_t>(B * H));
  p->ws_c = off; off += al(static_cast<std::size_t>(B * H));
  p->ws_tmp = off; off += al(static_cast<std::size_t>(B * H));
  p->ws_rec2 = off; off += al(static_cast<std::size_t>(B * H));
  p->ws_len = off; off += al(static_cast<std::size_t>(B));
  c.k.workspace_bytes = std::max<std::size_t>(off, 16) * sizeof(float);

  Dims y = p->layout == 0 ? Dims{T, D, B, H} : Dims{B, T, D, H};
  const std::size_t nout = CELL == Cell::lstm ? 3 : 2;
  if (c.out.size() > nout) return c.fail("too many outputs (" + std::to_string(c.out.size()) + ")");
  for (std::size_t o = 0; o < c.out.size(); ++o) c.out[o] = TensorInfo{DType::f32, o == 0 ? y : state};
  c.k.params = p;
  c.k.run = &rnn_run;
  return Status::Ok();
}

}  // namespace

void register_rnn(std::vector<OpDef>& r) {
  r.push_back({"", "LSTM", &rnn_prepare<Cell::lstm>});
  r.push_back({"", "GRU", &rnn_prepare<Cell::gru>});
  r.push_back({"", "RNN", &rnn_prepare<Cell::rnn>});
}

}  // namespace tickrt::infer::ops
