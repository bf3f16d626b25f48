// Convolution, pooling and normalization: Conv, ConvTranspose (float32, im2col / col2im + cpu::gemm), ConvInteger,
// MaxPool (with Indices), AveragePool, GlobalAveragePool, GlobalMaxPool, BatchNormalization (inference),
// InstanceNormalization, LayerNormalization, LRN, MeanVarianceNormalization, MaxUnpool.
//
// Spatial ranks 1-3 are handled as 3-D with leading unit dims (kernel 1, stride 1, pad 0), so one loop nest
// serves Conv1d/2d/3d; spatial rank > 3 is refused. Geometry (pads from auto_pad, output sizes) is fixed at
// prepare time; the run functions only index. Workspaces (im2col columns) are asked for at prepare time.
#include <algorithm>
#include <cmath>
#include <limits>

#include "infer/ops/common.hpp"

namespace tickrt::infer::ops {
namespace {

constexpr int kSp = 3;  // spatial dims after padding to 3-D

struct Geom {
  std::int64_t N = 0, C = 0;
  std::int64_t in[kSp] = {1, 1, 1}, out[kSp] = {1, 1, 1}, k[kSp] = {1, 1, 1};
  std::int64_t s[kSp] = {1, 1, 1}, d[kSp] = {1, 1, 1}, pb[kSp] = {0, 0, 0}, pad_end[kSp] = {0, 0, 0};
  std::int64_t pe(int i) const { return pad_end[i]; }
  std::int64_t in_sp() const { return in[0] * in[1] * in[2]; }
  std::int64_t out_sp() const { return out[0] * out[1] * out[2]; }
  std::int64_t k_sp() const { return k[0] * k[1] * k[2]; }
};

std::string ints_str(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// Reads strides / dilations / pads / auto_pad for `ns` spatial dims and computes output sizes.
// kernel: spatial kernel sizes; pool: ceil_mode allowed.
Status conv_geom(const PrepareCtx& c, const Dims& x, const std::vector<std::int64_t>& kernel, bool pool, Geom& g) {
  const int ns = static_cast<int>(x.size()) - 2;
  if (ns < 1) return c.fail("input " + dims_str(x) + " needs rank >= 3 ([N, C, spatial...])");
  if (ns > kSp) return c.unsupported("spatial rank " + std::to_string(ns) + " > 3");
  if (static_cast<int>(kernel.size()) != ns)
    return c.fail("kernel " + ints_str(kernel) + " does not match the " + std::to_string(ns) + " spatial dims of " + dims_str(x));
  auto strides = c.node.attr_is("strides");
  auto dil = c.node.attr_is("dilations");
  auto pads = c.node.attr_is("pads");
  if (strides.empty()) strides.assign(ns, 1);
  if (dil.empty()) dil.assign(ns, 1);
  if (pads.empty()) pads.assign(2 * ns, 0);
  if (static_cast<int>(strides.size()) != ns) return c.fail("strides " + ints_str(strides) + " must have " + std::to_string(ns) + " values");
  if (static_cast<int>(dil.size()) != ns) return c.fail("dilations " + ints_str(dil) + " must have " + std::to_string(ns) + " values");
  if (static_cast<int>(pads.size()) != 2 * ns) return c.fail("pads " + ints_str(pads) + " must have " + std::to_string(2 * ns) + " values");
  const std::string ap = c.node.attr_s("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "VALID") return c.fail("unknown auto_pad '" + ap + "'");
  const bool ceil_mode = pool && c.node.attr_i("ceil_mode", 0) != 0;
  g.N = x[0];
  g.C = x[1];
  const int sh = kSp - ns;
  for (int i = 0; i < ns; ++i) {
    const std::int64_t in = x[2 + i], k = kernel[i], s = strides[i], d = dil[i];
    if (k < 1 || s < 1 || d < 1) return c.fail("kernel, strides and dilations must be >= 1");
    if (pads[i] < 0 || pads[i + ns] < 0) return c.fail("pads must be >= 0, got " + ints_str(pads));
    const std::int64_t ek = (k - 1) * d + 1;
    std::int64_t pb = pads[i], pe = pads[i + ns], out = 0;
    if (ap == "VALID") {
      pb = pe = 0;
      out = in >= ek ? (in - ek) / s + 1 : 0;
    } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      out = (in + s - 1) / s;
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * s + ek - in);
      pb = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      const std::int64_t span = in + pb + pe - ek;
      if (span < 0) out = 0;
      else if (ceil_mode) {
        out = (span + s - 1) / s + 1;
        if ((out - 1) * s >= in + pb) --out;   // the last window must start inside the input or the left pad
      } else out = span / s + 1;
    }
    if (out < 1)
      return c.fail("output would be empty: spatial dim " + std::to_string(i) + " of " + dims_str(x) + " is smaller than the kernel window " +
                    std::to_string(ek));
    g.in[sh + i] = in; g.out[sh + i] = out; g.k[sh + i] = k; g.s[sh + i] = s; g.d[sh + i] = d; g.pb[sh + i] = pb; g.pad_end[sh + i] = pe;
  }
  return Status::Ok();
}

Dims out_dims(const Dims& x, std::int64_t channels, const Geom& g) {
  Dims o{x[0], channels};
  const int ns = static_cast<int>(x.size()) - 2;
  for (int i = 0; i < ns; ++i) o.push_back(g.out[kSp - ns + i]);
  return o;
}

// ---- Conv -----------------------------------------------------------------------------------------
struct ConvParams { Geom g; std::int64_t M = 0, G = 1; bool pointwise = false; };

// col[(c, kd, kh, kw), (od, oh, ow)] for the C_g channels starting at x.
void im2col(const Geom& g, std::int64_t cg, const float* x, float* col) {
  const std::int64_t P = g.out_sp(), isp = g.in_sp();
  float* dst = col;
  for (std::int64_t c = 0; c < cg; ++c)
    for (std::int64_t a = 0; a < g.k[0]; ++a)
      for (std::int64_t b = 0; b < g.k[1]; ++b)
        for (std::int64_t e = 0; e < g.k[2]; ++e) {
          const float* xc = x + c * isp;
          for (std::int64_t o0 = 0; o0 < g.out[0]; ++o0) {
            const std::int64_t i0 = o0 * g.s[0] - g.pb[0] + a * g.d[0];
            for (std::int64_t o1 = 0; o1 < g.out[1]; ++o1) {
              const std::int64_t i1 = o1 * g.s[1] - g.pb[1] + b * g.d[1];
              const bool row_ok = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1];
              if (!row_ok) {
                std::memset(dst, 0, static_cast<std::size_t>(g.out[2]) * sizeof(float));
                dst += g.out[2];
                continue;
              }
              const float* xr = xc + (i0 * g.in[1] + i1) * g.in[2];
              if (g.s[2] == 1 && g.out[2] >= 16) {   // unit stride, long rows: one contiguous copy between zero borders
                const std::int64_t shift = e * g.d[2] - g.pb[2];   // i2 = o2 + shift
                const std::int64_t lo = std::clamp<std::int64_t>(-shift, 0, g.out[2]);
                const std::int64_t hi = std::clamp<std::int64_t>(g.in[2] - shift, lo, g.out[2]);
                std::memset(dst, 0, static_cast<std::size_t>(lo) * sizeof(float));
                std::memcpy(dst + lo, xr + lo + shift, static_cast<std::size_t>(hi - lo) * sizeof(float));
                std::memset(dst + hi, 0, static_cast<std::size_t>(g.out[2] - hi) * sizeof(float));
                dst += g.out[2];
                continue;
              }
              for (std::int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                const std::int64_t i2 = o2 * g.s[2] - g.pb[2] + e * g.d[2];
                *dst++ = i2 >= 0 && i2 < g.in[2] ? xr[i2] : 0.0f;
              }
            }
          }
        }
  (void)P;
}

void conv_run(const Kernel& k) {
  const auto& p = k.p<ConvParams>();
  const Geom& g = p.g;
  const float* x = k.in[0]->as<float>();
  const float* w = k.in[1]->as<float>();
  const float* bias = k.in.size() > 2 && k.in[2] ? k.in[2]->as<float>() : nullptr;
  float* y = k.out[0]->as<float>();
  float* col = reinterpret_cast<float*>(k.workspace);
  const std::int64_t cg = g.C / p.G, mg = p.M / p.G, P = g.out_sp(), Kc = cg * g.k_sp();
  for (std::int64_t n = 0; n < g.N; ++n)
    for (std::int64_t gi = 0; gi < p.G; ++gi) {
      const float* xg = x + (n * g.C + gi * cg) * g.in_sp();
      const float* b = xg;
      if (!p.pointwise) { im2col(g, cg, xg, col); b = col; }
      float* yg = y + (n * p.M + gi * mg) * P;
      cpu::gemm(k.isa, false, false, static_cast<int>(mg), static_cast<int>(P), static_cast<int>(Kc), 1.0f, w + gi * mg * Kc,
                static_cast<int>(Kc), b, static_cast<int>(P), 0.0f, yg, static_cast<int>(P));
      if (bias)
        for (std::int64_t m = 0; m < mg; ++m)
          for (std::int64_t i = 0; i < P; ++i) yg[m * P + i] += bias[gi * mg + m];
    }
}

Status conv_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("expects X and W inputs");
  if (c.in[0].dtype != DType::f32 || c.in[1].dtype != DType::f32) return c.unsupported(std::string("Conv supports float32, got ") + dtype_name(c.in[0].dtype));
  const Dims& x = c.in[0].dims;
  const Dims& w = c.in[1].dims;
  if (w.size() != x.size()) return c.fail("W " + dims_str(w) + " and X " + dims_str(x) + " ranks differ");
  const std::int64_t G = c.node.attr_i("group", 1);
  if (G < 1) return c.fail("group must be >= 1");
  if (x.size() < 3) return c.fail("X " + dims_str(x) + " needs rank >= 3");
  if (x[1] != w[1] * G) return c.fail("X channels " + std::to_string(x[1]) + " != W " + dims_str(w) + "[1] * group " + std::to_string(G));
  if (w[0] % G != 0) return c.fail("W output channels " + std::to_string(w[0]) + " not divisible by group " + std::to_string(G));
  std::vector<std::int64_t> kernel(w.begin() + 2, w.end());
  if (c.node.has_attr("kernel_shape") && c.node.attr_is("kernel_shape") != kernel)
    return c.fail("kernel_shape " + ints_str(c.node.attr_is("kernel_shape")) + " differs from W " + dims_str(w));
  auto p = std::make_shared<ConvParams>();
  TICKRT_RETURN_IF_ERROR(conv_geom(c, x, kernel, false, p->g));
  p->M = w[0];
  p->G = G;
  if (c.has(2)) {
    if (c.in[2].dtype != DType::f32 || c.in[2].dims != Dims{w[0]}) return c.fail("B must be float32 [" + std::to_string(w[0]) + "], got " + dims_str(c.in[2].dims));
  }
  const Geom& g = p->g;
  p->pointwise = g.k_sp() == 1 && g.s[0] == 1 && g.s[1] == 1 && g.s[2] == 1 && g.pb[0] == 0 && g.pb[1] == 0 && g.pb[2] == 0 &&
                 g.out_sp() == g.in_sp();
  const std::int64_t Kc = (g.C / G) * g.k_sp();
  if (Kc * g.out_sp() > std::numeric_limits<int>::max() || p->M > std::numeric_limits<int>::max())
    return c.unsupported("Conv too large for int32 GEMM dimensions");
  if (!p->pointwise) c.k.workspace_bytes = static_cast<std::size_t>(Kc * g.out_sp()) * sizeof(float);
  c.out[0] = TensorInfo{DType::f32, out_dims(x, p->M, g)};
  c.k.params = p;
  if (x[1] == 0 && numel(c.out[0].dims) != 0) return c.fail("X " + dims_str(x) + " has zero input channels");
  c.k.run = numel(c.out[0].dims) == 0 ? [](const Kernel&) {} : &conv_run;
  return Status::Ok();
}

// ---- ConvTranspose ---------------------------------------------------------------------------------
// Y[n, g*Mg + m, o] += sum_c X[n, g*Cg + c, i] * W[g*Cg + c, m, k] where o = i*s - pb + k*d.
struct ConvTParams { Geom g; std::int64_t M = 0, G = 1; };   // g.in = X spatial, g.out = Y spatial

void convt_run(const Kernel& k) {
  const auto& p = k.p<ConvTParams>();
  const Geom& g = p.g;
  const float* x = k.in[0]->as<float>();
  const float* w = k.in[1]->as<float>();
  const float* bias = k.in.size() > 2 && k.in[2] ? k.in[2]->as<float>() : nullptr;
  float* y = k.out[0]->as<float>();
  float* col = reinterpret_cast<float*>(k.workspace);
  const std::int64_t cg = g.C / p.G, mg = p.M / p.G, Pin = g.in_sp(), Pout = g.out_sp(), kk = g.k_sp();
  const std::int64_t rows = mg * kk;
  std::memset(y, 0, static_cast<std::size_t>(k.out[0]->numel) * sizeof(float));
  for (std::int64_t n = 0; n < g.N; ++n)
    for (std::int64_t gi = 0; gi < p.G; ++gi) {
      const float* xg = x + (n * g.C + gi * cg) * Pin;
      const float* wg = w + gi * cg * rows;
      // col[rows, Pin] = Wg^T [rows, cg] @ Xg [cg, Pin]
      cpu::gemm(k.isa, true, false, static_cast<int>(rows), static_cast<int>(Pin), static_cast<int>(cg), 1.0f, wg,
                static_cast<int>(rows), xg, static_cast<int>(Pin), 0.0f, col, static_cast<int>(Pin));
      float* yg = y + (n * p.M + gi * mg) * Pout;
      const float* src = col;
      for (std::int64_t m = 0; m < mg; ++m)
        for (std::int64_t a = 0; a < g.k[0]; ++a)
          for (std::int64_t b = 0; b < g.k[1]; ++b)
            for (std::int64_t e = 0; e < g.k[2]; ++e)
              for (std::int64_t i0 = 0; i0 < g.in[0]; ++i0) {
                const std::int64_t o0 = i0 * g.s[0] - g.pb[0] + a * g.d[0];
                for (std::int64_t i1 = 0; i1 < g.in[1]; ++i1) {
                  const std::int64_t o1 = i1 * g.s[1] - g.pb[1] + b * g.d[1];
                  const bool ok = o0 >= 0 && o0 < g.out[0] && o1 >= 0 && o1 < g.out[1];
                  float* yr = yg + m * Pout + (o0 * g.out[1] + o1) * g.out[2];
                  for (std::int64_t i2 = 0; i2 < g.in[2]; ++i2, ++src) {
                    const std::int64_t o2 = i2 * g.s[2] - g.pb[2] + e * g.d[2];
                    if (ok && o2 >= 0 && o2 < g.out[2]) yr[o2] += *src;
                  }
                }
              }
      if (bias)
        for (std::int64_t m = 0; m < mg; ++m)
          for (std::int64_t i = 0; i < Pout; ++i) yg[m * Pout + i] += bias[gi * mg + m];
    }
}

Status convt_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("expects X and W inputs");
  if (c.in[0].dtype != DType::f32 || c.in[1].dtype != DType::f32) return c.unsupported("ConvTranspose supports float32");
  const Dims& x = c.in[0].dims;
  const Dims& w = c.in[1].dims;
  if (x.size() < 3) return c.fail("X " + dims_str(x) + " needs rank >= 3");
  if (w.size() != x.size()) return c.fail("W " + dims_str(w) + " and X " + dims_str(x) + " ranks differ");
  const int ns = static_cast<int>(x.size()) - 2;
  if (ns > kSp) return c.unsupported("spatial rank > 3");
  const std::int64_t G = c.node.attr_i("group", 1);
  if (G < 1) return c.fail("group must be >= 1");
  if (w[0] != x[1]) return c.fail("W " + dims_str(w) + "[0] must equal X channels " + std::to_string(x[1]));
  if (x[1] == 0) return c.fail("X " + dims_str(x) + " has zero input channels");
  if (x[1] % G != 0) return c.fail("X channels " + std::to_string(x[1]) + " not divisible by group " + std::to_string(G));
  std::vector<std::int64_t> kernel(w.begin() + 2, w.end());
  if (c.node.has_attr("kernel_shape") && c.node.attr_is("kernel_shape") != kernel)
    return c.fail("kernel_shape " + ints_str(c.node.attr_is("kernel_shape")) + " differs from W " + dims_str(w));
  auto vec = [&](const char* name, std::int64_t def, std::size_t n, std::vector<std::int64_t>& v) -> Status {
    v = c.node.attr_is(name);
    if (v.empty()) v.assign(n, def);
    if (v.size() != n) return c.fail(std::string(name) + " " + ints_str(v) + " must have " + std::to_string(n) + " values");
    return Status::Ok();
  };
  std::vector<std::int64_t> s, d, pads, opad;
  TICKRT_RETURN_IF_ERROR(vec("strides", 1, ns, s));
  TICKRT_RETURN_IF_ERROR(vec("dilations", 1, ns, d));
  TICKRT_RETURN_IF_ERROR(vec("pads", 0, 2 * ns, pads));
  TICKRT_RETURN_IF_ERROR(vec("output_padding", 0, ns, opad));
  std::vector<std::int64_t> oshape = c.node.attr_is("output_shape");
  if (!oshape.empty() && static_cast<int>(oshape.size()) == ns + 2) oshape.erase(oshape.begin(), oshape.begin() + 2);
  if (!oshape.empty() && static_cast<int>(oshape.size()) != ns) return c.fail("output_shape " + ints_str(oshape) + " must have " + std::to_string(ns) + " values");
  const std::string ap = c.node.attr_s("auto_pad", "NOTSET");
  if (ap != "NOTSET" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "VALID") return c.fail("unknown auto_pad '" + ap + "'");
  auto p = std::make_shared<ConvTParams>();
  Geom& g = p->g;
  g.N = x[0];
  g.C = x[1];
  p->G = G;
  p->M = w[1] * G;
  const int sh = kSp - ns;
  for (int i = 0; i < ns; ++i) {
    const std::int64_t in = x[2 + i], k = kernel[i];
    if (k < 1 || s[i] < 1 || d[i] < 1) return c.fail("kernel, strides and dilations must be >= 1");
    const std::int64_t ek = (k - 1) * d[i] + 1;
    const std::int64_t full = s[i] * (in - 1) + opad[i] + ek;
    std::int64_t pb = pads[i], pe = pads[i + ns], out = 0;
    if (ap == "VALID") pb = pe = 0;
    if (!oshape.empty() || ap == "SAME_UPPER" || ap == "SAME_LOWER") {
      out = !oshape.empty() ? oshape[i] : in * s[i];
      const std::int64_t total = full - out;
      if (total < 0 && oshape.empty()) return c.fail("negative total padding");
      // ONNX: SAME_UPPER puts the extra padding at the end, otherwise at the beginning.
      const std::int64_t t = std::max<std::int64_t>(total, 0);
      pb = ap == "SAME_UPPER" ? t / 2 : t - t / 2;
      if (total < 0) pb = 0;
      pe = total - pb;
    } else {
      if (pb < 0 || pe < 0) return c.fail("pads must be >= 0");
      out = full - pb - pe;
    }
    if (out < 1) return c.fail("output spatial dim " + std::to_string(i) + " would be " + std::to_string(out));
    g.in[sh + i] = in; g.out[sh + i] = out; g.k[sh + i] = k; g.s[sh + i] = s[i]; g.d[sh + i] = d[i]; g.pb[sh + i] = pb; g.pad_end[sh + i] = pe;
  }
  if (c.has(2) && (c.in[2].dtype != DType::f32 || c.in[2].dims != Dims{p->M}))
    return c.fail("B must be float32 [" + std::to_string(p->M) + "], got " + dims_str(c.in[2].dims));
  const std::int64_t rows = w[1] * g.k_sp();
  if (rows * g.in_sp() > std::numeric_limits<int>::max()) return c.unsupported("ConvTranspose too large for int32 GEMM dimensions");
  c.k.workspace_bytes = static_cast<std::size_t>(std::max<std::int64_t>(rows * g.in_sp(), 1)) * sizeof(float);
  c.out[0] = TensorInfo{DType::f32, out_dims(x, p->M, g)};
  c.k.params = p;
  c.k.run = numel(x) == 0 ? [](const Kernel& k) { std::memset(k.out[0]->data, 0, static_cast<std::size_t>(k.out[0]->numel) * 4); } : &convt_run;
  return Status::Ok();
}

// ---- MaxPool / AveragePool --------------------------------------------------------------------------
struct PoolParams { Geom g; bool include_pad = false; bool col_major = false; };

template <class T, bool MAX>
void pool_run(const Kernel& k) {
  const auto& p = k.p<PoolParams>();
  const Geom& g = p.g;
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  std::int64_t* idx_out = MAX && k.out.size() > 1 && k.out[1] ? k.out[1]->as<std::int64_t>() : nullptr;
  const std::int64_t isp = g.in_sp();
  std::int64_t oi = 0;
  for (std::int64_t nc = 0; nc < g.N * g.C; ++nc) {
    const T* xp = x + nc * isp;
    for (std::int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (std::int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (std::int64_t o2 = 0; o2 < g.out[2]; ++o2, ++oi) {
          double acc = MAX ? -std::numeric_limits<double>::infinity() : 0.0;
          std::int64_t best = -1, cnt = 0, cnt_pad = 0;
          for (std::int64_t a = 0; a < g.k[0]; ++a) {
            const std::int64_t i0 = o0 * g.s[0] - g.pb[0] + a * g.d[0];
            for (std::int64_t b = 0; b < g.k[1]; ++b) {
              const std::int64_t i1 = o1 * g.s[1] - g.pb[1] + b * g.d[1];
              for (std::int64_t e = 0; e < g.k[2]; ++e) {
                const std::int64_t i2 = o2 * g.s[2] - g.pb[2] + e * g.d[2];
                const bool inside = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1] && i2 >= 0 && i2 < g.in[2];
                if (!inside) {
                  // count_include_pad counts padded positions, but not window positions past the padded input.
                  if (i0 < g.in[0] + g.pe(0) && i1 < g.in[1] + g.pe(1) && i2 < g.in[2] + g.pe(2)) ++cnt_pad;
                  continue;
                }
                const std::int64_t at = (i0 * g.in[1] + i1) * g.in[2] + i2;
                const double v = static_cast<double>(xp[at]);
                ++cnt;
                if constexpr (MAX) { if (best < 0 || v > acc) { acc = v; best = at; } }
                else acc += v;
              }
            }
          }
          if constexpr (MAX) {
            y[oi] = best < 0 ? T(0) : static_cast<T>(acc);
            if (idx_out) {
              std::int64_t at = best < 0 ? 0 : best;
              if (p.col_major) {  // storage_order=1: index as if the spatial dims were stored column-major
                const std::int64_t i2 = at % g.in[2], i1 = (at / g.in[2]) % g.in[1], i0 = at / (g.in[2] * g.in[1]);
                at = (i2 * g.in[1] + i1) * g.in[0] + i0;
              }
              idx_out[oi] = nc * isp + at;
            }
          } else {
            const std::int64_t div = p.include_pad ? cnt + cnt_pad : cnt;
            y[oi] = static_cast<T>(div ? acc / static_cast<double>(div) : 0.0);
          }
        }
  }
}

template <bool MAX>
Status pool_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects an input");
  const Dims& x = c.in[0].dims;
  if (!c.node.has_attr("kernel_shape")) return c.fail("kernel_shape is required");
  auto p = std::make_shared<PoolParams>();
  TICKRT_RETURN_IF_ERROR(conv_geom(c, x, c.node.attr_is("kernel_shape"), true, p->g));
  if (!MAX && c.node.has_attr("dilations")) {
    for (auto v : c.node.attr_is("dilations")) if (v != 1) return c.unsupported("AveragePool with dilations");
  }
  p->include_pad = c.node.attr_i("count_include_pad", 0) != 0;
  p->col_major = c.node.attr_i("storage_order", 0) != 0;
  const Geom& g = p->g;
  c.out[0] = TensorInfo{c.in[0].dtype, out_dims(x, g.C, g)};
  if (c.out.size() > 1) {
    if (!MAX) return c.fail("AveragePool has one output");
    c.out[1] = TensorInfo{DType::i64, c.out[0].dims};
  }
  c.k.params = p;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &pool_run<float, MAX>; break;
    case DType::f64: c.k.run = &pool_run<double, MAX>; break;
    case DType::u8: if (MAX) { c.k.run = &pool_run<std::uint8_t, MAX>; break; } [[fallthrough]];
    case DType::i8: if (MAX) { c.k.run = &pool_run<std::int8_t, MAX>; break; } [[fallthrough]];
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}

// ---- GlobalAveragePool / GlobalMaxPool -----------------------------------------------------------------
struct GlobalParams { std::int64_t planes, n; };
template <class T, bool MAX>
void global_run(const Kernel& k) {
  const auto& p = k.p<GlobalParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  for (std::int64_t i = 0; i < p.planes; ++i) {
    const T* xp = x + i * p.n;
    double acc = MAX ? -std::numeric_limits<double>::infinity() : 0.0;
    for (std::int64_t j = 0; j < p.n; ++j) {
      const double v = static_cast<double>(xp[j]);
      if constexpr (MAX) acc = std::max(acc, v);
      else acc += v;
    }
    y[i] = static_cast<T>(MAX ? acc : acc / static_cast<double>(p.n));
  }
}
template <bool MAX>
Status global_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects an input");
  const Dims& x = c.in[0].dims;
  if (x.size() < 2) return c.fail("input " + dims_str(x) + " needs rank >= 2 ([N, C, ...])");
  auto p = std::make_shared<GlobalParams>();
  p->planes = x[0] * x[1];
  p->n = numel(x) / std::max<std::int64_t>(p->planes, 1);
  if (p->planes > 0 && p->n == 0) return c.fail("input " + dims_str(x) + " has an empty spatial extent");
  Dims out = x;
  for (std::size_t i = 2; i < out.size(); ++i) out[i] = 1;
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &global_run<float, MAX>; break;
    case DType::f64: c.k.run = &global_run<double, MAX>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}

// ---- BatchNormalization (inference) / InstanceNormalization -------------------------------------------
// Both are y = (x - mean_c) * scale_c / sqrt(var_c + eps) + b_c per [N, C, spatial] plane; BatchNorm takes the
// statistics as inputs, InstanceNorm computes them per (n, c) plane.
struct ChanNormParams { std::int64_t N, C, S; float eps; };
template <class T>
void batchnorm_run(const Kernel& k) {
  const auto& p = k.p<ChanNormParams>();
  const T* x = k.in[0]->as<T>();
  const T* sc = k.in[1]->as<T>();
  const T* b = k.in[2]->as<T>();
  const T* mean = k.in[3]->as<T>();
  const T* var = k.in[4]->as<T>();
  T* y = k.out[0]->as<T>();
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t ch = 0; ch < p.C; ++ch) {
      const double a = static_cast<double>(sc[ch]) / std::sqrt(static_cast<double>(var[ch]) + p.eps);
      const double off = static_cast<double>(b[ch]) - static_cast<double>(mean[ch]) * a;
      const std::int64_t base = (n * p.C + ch) * p.S;
      for (std::int64_t i = 0; i < p.S; ++i) y[base + i] = static_cast<T>(static_cast<double>(x[base + i]) * a + off);
    }
}
template <class T>
void instnorm_run(const Kernel& k) {
  const auto& p = k.p<ChanNormParams>();
  const T* x = k.in[0]->as<T>();
  const T* sc = k.in[1]->as<T>();
  const T* b = k.in[2]->as<T>();
  T* y = k.out[0]->as<T>();
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t ch = 0; ch < p.C; ++ch) {
      const std::int64_t base = (n * p.C + ch) * p.S;
      double m = 0, v = 0;
      for (std::int64_t i = 0; i < p.S; ++i) m += static_cast<double>(x[base + i]);
      m /= static_cast<double>(p.S);
      for (std::int64_t i = 0; i < p.S; ++i) { const double d = static_cast<double>(x[base + i]) - m; v += d * d; }
      v /= static_cast<double>(p.S);
      const double a = static_cast<double>(sc[ch]) / std::sqrt(v + p.eps);
      for (std::int64_t i = 0; i < p.S; ++i) y[base + i] = static_cast<T>((static_cast<double>(x[base + i]) - m) * a + static_cast<double>(b[ch]));
    }
}
template <bool BATCH>
Status chan_norm_prepare(PrepareCtx& c) {
  const std::size_t need = BATCH ? 5 : 3;
  for (std::size_t i = 0; i < need; ++i)
    if (!c.has(i)) return c.fail("expects " + std::to_string(need) + " inputs, input " + std::to_string(i) + " is missing");
  const Dims& x = c.in[0].dims;
  if (x.size() < 2) return c.fail("X " + dims_str(x) + " needs rank >= 2 ([N, C, ...])");
  if (BATCH) {
    if (c.node.attr_i("training_mode", 0) != 0)
      return c.unsupported("training_mode=1 (batch statistics and running-mean updates) is not supported by this inference engine");
    for (std::size_t o = 1; o < c.node.outputs.size(); ++o)
      if (c.node.outputs[o] >= 0)
        return c.unsupported("training outputs (running mean/var, saved statistics) are not supported by this inference engine");
    if (c.node.has_attr("spatial") && c.node.attr_i("spatial", 1) == 0) return c.unsupported("spatial=0 (per-activation statistics)");
  }
  for (std::size_t i = 1; i < need; ++i) {
    if (c.in[i].dtype != c.in[0].dtype)
      return c.unsupported(std::string("input ") + std::to_string(i) + " has type " + dtype_name(c.in[i].dtype) + ", X has " + dtype_name(c.in[0].dtype));
    if (c.in[i].dims != Dims{x[1]}) return c.fail("input " + std::to_string(i) + " " + dims_str(c.in[i].dims) + " must be [C] = [" + std::to_string(x[1]) + "]");
  }
  auto p = std::make_shared<ChanNormParams>();
  p->N = x[0];
  p->C = x[1];
  p->S = 1;
  for (std::size_t i = 2; i < x.size(); ++i) p->S *= x[i];
  p->eps = c.node.attr_f("epsilon", 1e-5f);
  if (!BATCH && p->S == 0 && numel(x) != 0) return c.fail("empty spatial extent");
  c.out[0] = TensorInfo{c.in[0].dtype, x};
  for (std::size_t o = 1; o < c.out.size(); ++o) c.out[o] = TensorInfo{c.in[0].dtype, {x[1]}};
  c.k.params = p;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = BATCH ? &batchnorm_run<float> : &instnorm_run<float>; break;
    case DType::f64: c.k.run = BATCH ? &batchnorm_run<double> : &instnorm_run<double>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}

// ---- LayerNormalization (opset 17) ----------------------------------------------------------------
// Normalizes over dims[axis:]; Scale and B broadcast (unidirectionally) to that normalized shape; optional
// outputs Mean and InvStdDev have shape dims[:axis] + [1]*(rank-axis). Statistics in double (stash_type 1
// asks for at least float32 precision).
struct LnParams { std::int64_t rows, n; float eps; BroadcastMap ms, mb; bool fast; };
template <class T>
void layernorm_run(const Kernel& k) {
  const auto& p = k.p<LnParams>();
  const T* x = k.in[0]->as<T>();
  const T* sc = k.in[1]->as<T>();
  const T* b = k.in.size() > 2 && k.in[2] ? k.in[2]->as<T>() : nullptr;
  T* y = k.out[0]->as<T>();
  T* mean_out = k.out.size() > 1 && k.out[1] ? k.out[1]->as<T>() : nullptr;
  T* inv_out = k.out.size() > 2 && k.out[2] ? k.out[2]->as<T>() : nullptr;
  if constexpr (std::is_same_v<T, float>) {
    if (p.fast && !mean_out && !inv_out) {
      cpu::layernorm_rows(k.isa, static_cast<int>(p.rows), static_cast<int>(p.n), x, sc, b, p.eps, y);
      return;
    }
  }
  for (std::int64_t r = 0; r < p.rows; ++r) {
    const T* xr = x + r * p.n;
    T* yr = y + r * p.n;
    double m = 0, v = 0;
    for (std::int64_t i = 0; i < p.n; ++i) m += static_cast<double>(xr[i]);
    m /= static_cast<double>(p.n);
    for (std::int64_t i = 0; i < p.n; ++i) { const double d = static_cast<double>(xr[i]) - m; v += d * d; }
    v /= static_cast<double>(p.n);
    const double inv = 1.0 / std::sqrt(v + p.eps);
    const BroadcastMap maps[2] = {p.ms, p.mb};
    for_each_broadcast<2>(maps, p.n, [&](std::int64_t i, const std::int64_t* off) {
      const double z = (static_cast<double>(xr[i]) - m) * inv * static_cast<double>(sc[off[0]]);
      yr[i] = static_cast<T>(b ? z + static_cast<double>(b[off[1]]) : z);
    });
    if (mean_out) mean_out[r] = static_cast<T>(m);
    if (inv_out) inv_out[r] = static_cast<T>(inv);
  }
}
Status layernorm_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("expects X and Scale inputs");
  const Dims& x = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(x.size());
  if (r == 0) return c.fail("X must have rank >= 1");
  if (r > kMaxRank) return c.unsupported("rank > 8");
  const std::int64_t axis = norm_axis(c.node.attr_i("axis", -1), r);
  if (axis < 0 || axis >= r) return c.fail("axis " + std::to_string(c.node.attr_i("axis", -1)) + " out of range for rank " + std::to_string(r));
  const Dims norm(x.begin() + axis, x.end());
  auto p = std::make_shared<LnParams>();
  p->rows = 1;
  for (std::int64_t i = 0; i < axis; ++i) p->rows *= x[i];
  p->n = numel(norm);
  p->eps = c.node.attr_f("epsilon", 1e-5f);
  if (p->n == 0 && p->rows != 0) return c.fail("normalized shape " + dims_str(norm) + " is empty");
  auto check = [&](std::size_t i, const char* what, BroadcastMap& m) -> Status {
    if (c.in[i].dtype != c.in[0].dtype) return c.fail(std::string(what) + " type " + dtype_name(c.in[i].dtype) + " differs from X");
    Dims tmp;
    if (!broadcast_shapes(c.in[i].dims, norm, tmp).ok() || tmp != norm)
      return c.fail(std::string(what) + " " + dims_str(c.in[i].dims) + " does not broadcast to the normalized shape " + dims_str(norm));
    m = make_broadcast_map(c.in[i].dims, norm);
    return Status::Ok();
  };
  TICKRT_RETURN_IF_ERROR(check(1, "Scale", p->ms));
  if (c.has(2)) TICKRT_RETURN_IF_ERROR(check(2, "B", p->mb));
  else p->mb = p->ms;
  p->fast = c.in[1].dims == norm && (!c.has(2) || c.in[2].dims == norm) && p->n <= std::numeric_limits<int>::max() &&
            p->rows <= std::numeric_limits<int>::max();
  Dims stat(x.begin(), x.begin() + axis);
  stat.resize(x.size(), 1);
  c.out[0] = TensorInfo{c.in[0].dtype, x};
  const DType st = c.in[0].dtype == DType::f64 ? DType::f64 : DType::f32;
  if (c.node.attr_i("stash_type", 1) != 1 && c.out.size() > 1) return c.unsupported("stash_type other than 1 (float32)");
  for (std::size_t o = 1; o < c.out.size() && o < 3; ++o) c.out[o] = TensorInfo{st, stat};
  c.k.params = p;
  if (numel(x) == 0) { c.k.run = [](const Kernel&) {}; return Status::Ok(); }
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &layernorm_run<float>; break;
    case DType::f64: c.k.run = &layernorm_run<double>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}


// ---- LRN (across channels) -------------------------------------------------------------------------
// y = x / (bias + alpha/size * sum_{c' in [c - (size-1)/2, c + ceil((size-1)/2)]} x[c']^2)^beta
struct LrnParams { std::int64_t N, C, S, size; float alpha, beta, bias; };
template <class T>
void lrn_run(const Kernel& k) {
  const auto& p = k.p<LrnParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  const std::int64_t lo = (p.size - 1) / 2, hi = p.size - 1 - lo;
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t ch = 0; ch < p.C; ++ch)
      for (std::int64_t s = 0; s < p.S; ++s) {
        double sq = 0;
        for (std::int64_t j = std::max<std::int64_t>(0, ch - lo); j <= std::min(p.C - 1, ch + hi); ++j) {
          const double v = static_cast<double>(x[(n * p.C + j) * p.S + s]);
          sq += v * v;
        }
        const std::int64_t at = (n * p.C + ch) * p.S + s;
        y[at] = static_cast<T>(static_cast<double>(x[at]) / std::pow(p.bias + p.alpha / static_cast<double>(p.size) * sq, p.beta));
      }
}
Status lrn_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects an input");
  const Dims& x = c.in[0].dims;
  if (x.size() < 2) return c.fail("X " + dims_str(x) + " needs rank >= 2 ([N, C, ...])");
  if (!c.node.has_attr("size")) return c.fail("size is required");
  auto p = std::make_shared<LrnParams>();
  p->N = x[0]; p->C = x[1]; p->S = 1;
  for (std::size_t i = 2; i < x.size(); ++i) p->S *= x[i];
  p->size = c.node.attr_i("size", 1);
  if (p->size < 1) return c.fail("size must be >= 1");
  p->alpha = c.node.attr_f("alpha", 1e-4f);
  p->beta = c.node.attr_f("beta", 0.75f);
  p->bias = c.node.attr_f("bias", 1.0f);
  c.out[0] = TensorInfo{c.in[0].dtype, x};
  c.k.params = p;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &lrn_run<float>; break;
    case DType::f64: c.k.run = &lrn_run<double>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}

// ---- MeanVarianceNormalization: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9) over `axes` (default 0,2,3) ----
struct MvnParams { int rank; std::int64_t in_dims[kMaxRank]; std::int64_t st_stride[kMaxRank]; std::int64_t nstat, group; };
template <class T>
void mvn_run(const Kernel& k) {
  const auto& p = k.p<MvnParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  double* m1 = reinterpret_cast<double*>(k.workspace);
  double* m2 = m1 + p.nstat;
  const std::int64_t n = k.in[0]->numel;
  for (std::int64_t i = 0; i < 2 * p.nstat; ++i) m1[i] = 0;
  auto walk = [&](auto&& f) {
    std::int64_t idx[kMaxRank] = {};
    std::int64_t off = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      f(i, off);
      for (int d = p.rank - 1; d >= 0; --d) {
        ++idx[d];
        off += p.st_stride[d];
        if (idx[d] < p.in_dims[d]) break;
        off -= p.st_stride[d] * idx[d];
        idx[d] = 0;
      }
    }
  };
  walk([&](std::int64_t i, std::int64_t o) { const double v = static_cast<double>(x[i]); m1[o] += v; m2[o] += v * v; });
  for (std::int64_t i = 0; i < p.nstat; ++i) { m1[i] /= static_cast<double>(p.group); m2[i] /= static_cast<double>(p.group); }
  walk([&](std::int64_t i, std::int64_t o) {
    const double sd = std::sqrt(std::max(0.0, m2[o] - m1[o] * m1[o]));
    y[i] = static_cast<T>((static_cast<double>(x[i]) - m1[o]) / (sd + 1e-9));
  });
}
Status mvn_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects an input");
  const Dims& x = c.in[0].dims;
  const int r = static_cast<int>(x.size());
  if (r > kMaxRank) return c.unsupported("rank > 8");
  std::vector<std::int64_t> axes = c.node.has_attr("axes") ? c.node.attr_is("axes") : std::vector<std::int64_t>{0, 2, 3};
  std::vector<char> red(r, 0);
  for (auto a : axes) {
    const std::int64_t n = norm_axis(a, r);
    if (n < 0 || n >= r) return c.fail("axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
    red[n] = 1;
  }
  auto p = std::make_shared<MvnParams>();
  p->rank = r;
  Dims st;
  for (int i = 0; i < r; ++i) st.push_back(red[i] ? 1 : x[i]);
  const Dims ss = strides_of(st);
  for (int i = 0; i < r; ++i) { p->in_dims[i] = x[i]; p->st_stride[i] = red[i] ? 0 : ss[i]; }
  p->nstat = numel(st);
  p->group = p->nstat ? numel(x) / p->nstat : 0;
  if (numel(x) > 0 && p->group == 0) return c.fail("empty normalization group");
  c.out[0] = TensorInfo{c.in[0].dtype, x};
  c.k.workspace_bytes = static_cast<std::size_t>(std::max<std::int64_t>(p->nstat, 1)) * 2 * sizeof(double);
  c.k.params = p;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &mvn_run<float>; break;
    case DType::f64: c.k.run = &mvn_run<double>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}

// ---- MaxUnpool: Y = zeros(output shape); Y[coords(I[i])] = X[i] ---------------------------------------------
// I (MaxPool's Indices) are flat offsets into the unpooled shape implied by kernel/strides/pads; with an explicit,
// larger output_shape the values keep their coordinates (the extra rows/columns stay zero), as the ONNX tests and
// ONNX Runtime do. Indices outside the implied shape or the output are dropped (never written out of bounds).
struct UnpoolParams { int rank; std::int64_t implied[kMaxRank]; std::int64_t out[kMaxRank]; bool same; };
void maxunpool_run(const Kernel& k) {
  const auto& p = k.p<UnpoolParams>();
  const std::size_t es = dtype_size(k.in[0]->dtype);
  const std::int64_t ny = k.out[0]->numel;
  std::memset(k.out[0]->data, 0, static_cast<std::size_t>(ny) * es);
  const std::int64_t* idx = k.in[1]->as<std::int64_t>();
  std::int64_t nimp = 1;
  for (int d = 0; d < p.rank; ++d) nimp *= p.implied[d];
  for (std::int64_t i = 0; i < k.in[0]->numel; ++i) {
    std::int64_t at = idx[i];
    if (at < 0 || at >= nimp) continue;
    if (!p.same) {
      std::int64_t rem = at, o = 0, mul = 1;
      bool ok = true;
      for (int d = p.rank - 1; d >= 0; --d) {
        const std::int64_t cd = rem % p.implied[d];
        rem /= p.implied[d];
        if (cd >= p.out[d]) ok = false;
        o += cd * mul;
        mul *= p.out[d];
      }
      if (!ok) continue;
      at = o;
    }
    std::memcpy(k.out[0]->data + at * es, k.in[0]->data + i * es, es);
  }
}
Status maxunpool_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("expects X and I inputs");
  const Dims& x = c.in[0].dims;
  if (c.in[1].dtype != DType::i64) return c.fail("I must be int64");
  if (c.in[1].dims != x) return c.fail("I " + dims_str(c.in[1].dims) + " must have X's shape " + dims_str(x));
  if (x.size() < 3) return c.fail("X " + dims_str(x) + " needs rank >= 3");
  if (x.size() > static_cast<std::size_t>(kMaxRank)) return c.unsupported("rank > 8");
  const std::size_t ns = x.size() - 2;
  auto kernel = c.node.attr_is("kernel_shape");
  if (kernel.size() != ns) return c.fail("kernel_shape must have " + std::to_string(ns) + " values");
  auto strides = c.node.attr_is("strides");
  auto pads = c.node.attr_is("pads");
  if (strides.empty()) strides.assign(ns, 1);
  if (pads.empty()) pads.assign(2 * ns, 0);
  if (strides.size() != ns || pads.size() != 2 * ns) return c.fail("strides/pads have the wrong number of values");
  Dims implied{x[0], x[1]};
  for (std::size_t i = 0; i < ns; ++i) {
    const std::int64_t o = (x[2 + i] - 1) * strides[i] + kernel[i] - pads[i] - pads[i + ns];
    if (o < 1) return c.fail("output spatial dim " + std::to_string(i) + " would be " + std::to_string(o));
    implied.push_back(o);
  }
  Dims out = implied;
  if (c.has(2)) {
    if (!c.in[2].constant) return c.unsupported("output_shape must be a constant");
    out = const_ints(c.in[2]);
    if (out.size() != x.size()) return c.fail("output_shape " + dims_str(out) + " must have rank " + std::to_string(x.size()));
    for (auto v : out) if (v < 0) return c.fail("output_shape " + dims_str(out) + " has a negative dimension");
  }
  if (dtype_size(c.in[0].dtype) == 0) return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  auto p = std::make_shared<UnpoolParams>();
  p->rank = static_cast<int>(x.size());
  for (int d = 0; d < p->rank; ++d) { p->implied[d] = implied[d]; p->out[d] = out[d]; }
  p->same = implied == out;
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  c.k.run = &maxunpool_run;
  return Status::Ok();
}


// ---- ConvInteger: int32 y = sum (x - x_zp) * (w - w_zp); padding contributes zero (pads hold x_zp) ---------
// A direct reference loop (quantized models are not on tickrt's hot path); w_zp is a scalar or one per output
// channel.
struct ConvIntParams { Geom g; std::int64_t M = 0, G = 1; bool w_zp_per_channel = false; };
template <class X, class Wt>
void convint_run(const Kernel& k) {
  const auto& p = k.p<ConvIntParams>();
  const Geom& g = p.g;
  const X* x = k.in[0]->as<X>();
  const Wt* w = k.in[1]->as<Wt>();
  const std::int32_t xzp = k.in.size() > 2 && k.in[2] ? static_cast<std::int32_t>(k.in[2]->as<X>()[0]) : 0;
  const Wt* wzp = k.in.size() > 3 && k.in[3] ? k.in[3]->as<Wt>() : nullptr;
  std::int32_t* y = k.out[0]->as<std::int32_t>();
  const std::int64_t cg = g.C / p.G, mg = p.M / p.G, isp = g.in_sp(), ksp = g.k_sp();
  std::int64_t oi = 0;
  for (std::int64_t n = 0; n < g.N; ++n)
    for (std::int64_t m = 0; m < p.M; ++m) {
      const std::int64_t gi = m / mg;
      const std::int32_t wz = wzp ? static_cast<std::int32_t>(wzp[p.w_zp_per_channel ? m : 0]) : 0;
      for (std::int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (std::int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (std::int64_t o2 = 0; o2 < g.out[2]; ++o2, ++oi) {
            std::int32_t acc = 0;
            for (std::int64_t c = 0; c < cg; ++c) {
              const X* xc = x + (n * g.C + gi * cg + c) * isp;
              const Wt* wc = w + (m * cg + c) * ksp;
              for (std::int64_t a = 0; a < g.k[0]; ++a) {
                const std::int64_t i0 = o0 * g.s[0] - g.pb[0] + a * g.d[0];
                if (i0 < 0 || i0 >= g.in[0]) continue;
                for (std::int64_t b = 0; b < g.k[1]; ++b) {
                  const std::int64_t i1 = o1 * g.s[1] - g.pb[1] + b * g.d[1];
                  if (i1 < 0 || i1 >= g.in[1]) continue;
                  for (std::int64_t e = 0; e < g.k[2]; ++e) {
                    const std::int64_t i2 = o2 * g.s[2] - g.pb[2] + e * g.d[2];
                    if (i2 < 0 || i2 >= g.in[2]) continue;
                    acc += (static_cast<std::int32_t>(xc[(i0 * g.in[1] + i1) * g.in[2] + i2]) - xzp) *
                           (static_cast<std::int32_t>(wc[(a * g.k[1] + b) * g.k[2] + e]) - wz);
                  }
                }
              }
            }
            y[oi] = acc;
          }
    }
}
Status convint_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("expects x and w inputs");
  const DType xt = c.in[0].dtype, wt = c.in[1].dtype;
  auto is8 = [](DType t) { return t == DType::u8 || t == DType::i8; };
  if (!is8(xt) || !is8(wt)) return c.unsupported(std::string("ConvInteger on ") + dtype_name(xt) + " x " + dtype_name(wt) + " (int8/uint8 only)");
  const Dims& x = c.in[0].dims;
  const Dims& w = c.in[1].dims;
  if (x.size() < 3) return c.fail("x " + dims_str(x) + " needs rank >= 3");
  if (w.size() != x.size()) return c.fail("w " + dims_str(w) + " and x " + dims_str(x) + " ranks differ");
  const std::int64_t G = c.node.attr_i("group", 1);
  if (G < 1) return c.fail("group must be >= 1");
  if (x[1] != w[1] * G) return c.fail("x channels " + std::to_string(x[1]) + " != w " + dims_str(w) + "[1] * group " + std::to_string(G));
  if (w[0] % G != 0) return c.fail("w output channels not divisible by group");
  std::vector<std::int64_t> kernel(w.begin() + 2, w.end());
  if (c.node.has_attr("kernel_shape") && c.node.attr_is("kernel_shape") != kernel) return c.fail("kernel_shape differs from w " + dims_str(w));
  auto p = std::make_shared<ConvIntParams>();
  TICKRT_RETURN_IF_ERROR(conv_geom(c, x, kernel, false, p->g));
  p->M = w[0];
  p->G = G;
  if (c.has(2) && (c.in[2].dtype != xt || numel(c.in[2].dims) != 1)) return c.fail("x_zero_point must be one value of x's type");
  if (c.has(3)) {
    if (c.in[3].dtype != wt) return c.fail("w_zero_point must have w's type");
    const std::int64_t nz = numel(c.in[3].dims);
    if (nz != 1 && nz != w[0]) return c.fail("w_zero_point " + dims_str(c.in[3].dims) + " must hold 1 or " + std::to_string(w[0]) + " values");
    p->w_zp_per_channel = nz != 1;
  }
  c.out[0] = TensorInfo{DType::i32, out_dims(x, p->M, p->g)};
  c.k.params = p;
  if (xt == DType::u8) c.k.run = wt == DType::u8 ? &convint_run<std::uint8_t, std::uint8_t> : &convint_run<std::uint8_t, std::int8_t>;
  else c.k.run = wt == DType::u8 ? &convint_run<std::int8_t, std::uint8_t> : &convint_run<std::int8_t, std::int8_t>;
  return Status::Ok();
}

}  // namespace

void register_nn(std::vector<OpDef>& r) {
  r.push_back({"", "Conv", &conv_prepare});
  r.push_back({"", "ConvTranspose", &convt_prepare});
  r.push_back({"", "ConvInteger", &convint_prepare});
  r.push_back({"", "MaxPool", &pool_prepare<true>});
  r.push_back({"", "AveragePool", &pool_prepare<false>});
  r.push_back({"", "GlobalAveragePool", &global_prepare<false>});
  r.push_back({"", "GlobalMaxPool", &global_prepare<true>});
  r.push_back({"", "BatchNormalization", &chan_norm_prepare<true>});
  r.push_back({"", "InstanceNormalization", &chan_norm_prepare<false>});
  r.push_back({"", "LayerNormalization", &layernorm_prepare});
  r.push_back({"", "LRN", &lrn_prepare});
  r.push_back({"", "MeanVarianceNormalization", &mvn_prepare});
  r.push_back({"", "MaxUnpool", &maxunpool_prepare});
}

}  // namespace tickrt::infer::ops
