// Elementwise ops: binary arithmetic/comparison/logic with ONNX multidirectional broadcasting, variadic
// Sum/Mean/Max/Min, Where, unary math and activations, Identity/Dropout (inference), Cast.
#include <algorithm>
#include <cmath>
#include <limits>

#include "infer/ops/common.hpp"

namespace tickrt::infer::ops {
namespace {

// ---- binary -----------------------------------------------------------------------------------
struct BinParams {
  BroadcastMap ma, mb;
  bool same = false;      // identical shapes: flat loop
  bool b_scalar = false;
  bool a_scalar = false;
  std::int64_t b_suffix = 0;  // b repeats over the leading axes of a (bias, position table): period
  std::int64_t a_suffix = 0;
};

// True when `small` (leading 1s ignored) equals the trailing dims of `out`: it repeats with period numel(small).
bool is_suffix(const Dims& small, const Dims& out) {
  std::size_t lead = 0;
  while (lead < small.size() && small[lead] == 1) ++lead;
  const std::size_t n = small.size() - lead;
  if (n == 0 || n > out.size()) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (small[lead + i] != out[out.size() - n + i]) return false;
  return true;
}

enum class BinOp { add, sub, mul, div, pow, max, min, eq, lt, gt, le, ge, land, lor, lxor, mod_c, mod_f, prelu, bitand_, bitor_ };

template <class T, BinOp OP>
inline auto bin(T a, T b) {
  if constexpr (OP == BinOp::add) return static_cast<T>(a + b);
  else if constexpr (OP == BinOp::sub) return static_cast<T>(a - b);
  else if constexpr (OP == BinOp::mul) return static_cast<T>(a * b);
  else if constexpr (OP == BinOp::div) {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(b == 0 ? 0 : a / b);
    else return static_cast<T>(a / b);
  } else if constexpr (OP == BinOp::pow) return static_cast<T>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  else if constexpr (OP == BinOp::max) {
    if constexpr (std::is_floating_point_v<T>) { if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN(); }
    return a > b ? a : b;
  } else if constexpr (OP == BinOp::min) {
    if constexpr (std::is_floating_point_v<T>) { if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN(); }
    return a < b ? a : b;
  }
  else if constexpr (OP == BinOp::eq) return static_cast<std::uint8_t>(a == b);
  else if constexpr (OP == BinOp::lt) return static_cast<std::uint8_t>(a < b);
  else if constexpr (OP == BinOp::gt) return static_cast<std::uint8_t>(a > b);
  else if constexpr (OP == BinOp::le) return static_cast<std::uint8_t>(a <= b);
  else if constexpr (OP == BinOp::ge) return static_cast<std::uint8_t>(a >= b);
  else if constexpr (OP == BinOp::land) return static_cast<std::uint8_t>(a && b);
  else if constexpr (OP == BinOp::lor) return static_cast<std::uint8_t>(a || b);
  else if constexpr (OP == BinOp::lxor) return static_cast<std::uint8_t>((a != 0) != (b != 0));
  else if constexpr (OP == BinOp::bitand_) { if constexpr (std::is_integral_v<T>) return static_cast<T>(a & b); else return a; }
  else if constexpr (OP == BinOp::bitor_) { if constexpr (std::is_integral_v<T>) return static_cast<T>(a | b); else return a; }
  else if constexpr (OP == BinOp::mod_f) return static_cast<T>(std::fmod(static_cast<double>(a), static_cast<double>(b)));
  else if constexpr (OP == BinOp::mod_c) {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return T(0);
      T r = static_cast<T>(a % b);
      if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      return r;
    } else {
      double r = std::fmod(static_cast<double>(a), static_cast<double>(b));
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return static_cast<T>(r);
    }
  } else if constexpr (OP == BinOp::prelu) return static_cast<T>(a < 0 ? a * b : a);
}

template <class T, BinOp OP, class O>
void bin_run(const Kernel& k) {
  const auto& p = k.p<BinParams>();
  const T* a = k.in[0]->as<T>();
  const T* b = k.in[1]->as<T>();
  O* y = k.out[0]->as<O>();
  const std::int64_t n = k.out[0]->numel;
  if (p.same) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<O>(bin<T, OP>(a[i], b[i]));
  } else if (p.b_scalar) {
    const T bv = b[0];
    for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<O>(bin<T, OP>(a[i], bv));
  } else if (p.a_scalar) {
    const T av = a[0];
    for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<O>(bin<T, OP>(av, b[i]));
  } else if (p.b_suffix) {
    const std::int64_t m = p.b_suffix;
    for (std::int64_t o = 0; o < n; o += m)
      for (std::int64_t j = 0; j < m; ++j) y[o + j] = static_cast<O>(bin<T, OP>(a[o + j], b[j]));
  } else if (p.a_suffix) {
    const std::int64_t m = p.a_suffix;
    for (std::int64_t o = 0; o < n; o += m)
      for (std::int64_t j = 0; j < m; ++j) y[o + j] = static_cast<O>(bin<T, OP>(a[j], b[o + j]));
  } else {
    const BroadcastMap maps[2] = {p.ma, p.mb};
    for_each_broadcast<2>(maps, n, [&](std::int64_t i, const std::int64_t* off) {
      y[i] = static_cast<O>(bin<T, OP>(a[off[0]], b[off[1]]));
    });
  }
}

enum class OutKind { same, boolean };

template <BinOp OP, OutKind OK, int Types>  // Types: 0 numeric, 1 bool only, 2 integers only
Status bin_prepare(PrepareCtx& c) {
  if (c.nin() != 2 || !c.has(0) || !c.has(1)) return c.fail("expects 2 inputs");
  const DType t = c.in[0].dtype;
  if (c.in[1].dtype != t && OP != BinOp::pow)
    return c.fail(std::string("input types differ: ") + dtype_name(t) + " vs " + dtype_name(c.in[1].dtype));
  if (OP == BinOp::pow && c.in[1].dtype != t) {
    // Pow allows a different exponent type; we compute in the base type after promotion at prepare time
    // only when the exponent is float32/base float32 (the common case). Others: unsupported.
    return c.unsupported(std::string("Pow with base ") + dtype_name(t) + " and exponent " + dtype_name(c.in[1].dtype));
  }
  Dims out;
  if (auto st = broadcast_shapes(c.in[0].dims, c.in[1].dims, out); !st.ok()) return c.fail(st.message());
  if (out.size() > static_cast<std::size_t>(kMaxRank)) return c.unsupported("rank > 8");
  auto p = std::make_shared<BinParams>();
  p->same = c.in[0].dims == out && c.in[1].dims == out;
  p->b_scalar = numel(c.in[1].dims) == 1 && c.in[0].dims == out;
  p->a_scalar = numel(c.in[0].dims) == 1 && c.in[1].dims == out;
  if (!p->same && !p->b_scalar && !p->a_scalar) {
    if (c.in[0].dims == out && is_suffix(c.in[1].dims, out)) p->b_suffix = numel(c.in[1].dims);
    else if (c.in[1].dims == out && is_suffix(c.in[0].dims, out)) p->a_suffix = numel(c.in[0].dims);
  }
  p->ma = make_broadcast_map(c.in[0].dims, out);
  p->mb = make_broadcast_map(c.in[1].dims, out);
  c.k.params = p;
  c.out[0].dims = out;
  c.out[0].dtype = OK == OutKind::boolean ? DType::boolean : t;
  bool ok = false;
  if constexpr (Types == 1) {
    if (t == DType::boolean) { c.k.run = &bin_run<std::uint8_t, OP, std::uint8_t>; ok = true; }
  } else {
    if (t == DType::boolean && (OP == BinOp::eq)) { c.k.run = &bin_run<std::uint8_t, OP, std::uint8_t>; ok = true; }
    else ok = dispatch_numeric(t, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (Types == 2 && !std::is_integral_v<T>) return;
      else if constexpr (OK == OutKind::boolean) c.k.run = &bin_run<T, OP, std::uint8_t>;
      else c.k.run = &bin_run<T, OP, T>;
    }) && c.k.run;
  }
  if (!ok) return c.unsupported(std::string("type ") + dtype_name(t));
  return Status::Ok();
}

Status mod_prepare(PrepareCtx& c) {
  if (c.node.attr_i("fmod", 0)) return bin_prepare<BinOp::mod_f, OutKind::same, 0>(c);
  return bin_prepare<BinOp::mod_c, OutKind::same, 0>(c);
}

// Variadic Sum/Mean/Max/Min: broadcast all inputs to one shape, fold pairwise into the output.
struct VarParams { std::vector<BroadcastMap> maps; bool mean = false; };
template <class T, BinOp OP>
void var_run(const Kernel& k) {
  const auto& p = k.p<VarParams>();
  T* y = k.out[0]->as<T>();
  const std::int64_t n = k.out[0]->numel;
  for (std::size_t j = 0; j < k.in.size(); ++j) {
    const T* x = k.in[j]->as<T>();
    const BroadcastMap maps[1] = {p.maps[j]};
    for_each_broadcast<1>(maps, n, [&](std::int64_t i, const std::int64_t* off) {
      y[i] = j == 0 ? x[off[0]] : bin<T, OP>(y[i], x[off[0]]);
    });
  }
  if constexpr (std::is_floating_point_v<T>)
    if (p.mean)
      for (std::int64_t i = 0; i < n; ++i) y[i] /= static_cast<T>(k.in.size());
}
template <BinOp OP, bool MEAN>
Status var_prepare(PrepareCtx& c) {
  if (c.nin() < 1) return c.fail("needs at least one input");
  Dims out = c.in[0].dims;
  for (std::size_t j = 1; j < c.nin(); ++j) {
    if (c.in[j].dtype != c.in[0].dtype) return c.fail("input types differ");
    Dims tmp;
    if (auto st = broadcast_shapes(out, c.in[j].dims, tmp); !st.ok()) return c.fail(st.message());
    out = tmp;
  }
  auto p = std::make_shared<VarParams>();
  for (auto& in : c.in) p->maps.push_back(make_broadcast_map(in.dims, out));
  p->mean = MEAN;
  c.k.params = p;
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  if (!dispatch_numeric(c.in[0].dtype, [&](auto tag) { c.k.run = &var_run<typename decltype(tag)::type, OP>; }))
    return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  return Status::Ok();
}

// Where(cond, x, y)
struct WhereParams { BroadcastMap mc, mx, my; };
template <class T>
void where_run(const Kernel& k) {
  const auto& p = k.p<WhereParams>();
  const std::uint8_t* c = k.in[0]->as<std::uint8_t>();
  const T* x = k.in[1]->as<T>();
  const T* yv = k.in[2]->as<T>();
  T* out = k.out[0]->as<T>();
  const BroadcastMap maps[3] = {p.mc, p.mx, p.my};
  for_each_broadcast<3>(maps, k.out[0]->numel, [&](std::int64_t i, const std::int64_t* off) {
    out[i] = c[off[0]] ? x[off[1]] : yv[off[2]];
  });
}
Status where_prepare(PrepareCtx& c) {
  if (c.nin() != 3) return c.fail("expects 3 inputs");
  if (c.in[0].dtype != DType::boolean) return c.fail("condition must be bool");
  if (c.in[1].dtype != c.in[2].dtype) return c.fail("X and Y types differ");
  Dims t1, out;
  if (auto st = broadcast_shapes(c.in[0].dims, c.in[1].dims, t1); !st.ok()) return c.fail(st.message());
  if (auto st = broadcast_shapes(t1, c.in[2].dims, out); !st.ok()) return c.fail(st.message());
  auto p = std::make_shared<WhereParams>();
  p->mc = make_broadcast_map(c.in[0].dims, out);
  p->mx = make_broadcast_map(c.in[1].dims, out);
  p->my = make_broadcast_map(c.in[2].dims, out);
  c.k.params = p;
  c.out[0] = TensorInfo{c.in[1].dtype, out};
  if (c.in[1].dtype == DType::boolean) { c.k.run = &where_run<std::uint8_t>; return Status::Ok(); }
  if (!dispatch_numeric(c.in[1].dtype, [&](auto tag) { c.k.run = &where_run<typename decltype(tag)::type>; }))
    return c.unsupported("type");
  return Status::Ok();
}

// ---- unary ------------------------------------------------------------------------------------
struct UnaryParams { float alpha = 0, beta = 0, lo = 0, hi = 0; };
enum class UnOp { relu, leaky, tanh, sigmoid, exp, log, neg, abs, sqrt, erf, recip, floor, ceil, round, sin, cos, tan,
                  asin, acos, atan, sinh, cosh, asinh, acosh, atanh, elu, selu, hsig, hswish, softplus, softsign, clip,
                  sign, celu, thresh, mish, gelu };

template <class T, UnOp OP>
inline T un(T x, const UnaryParams& p) {
  if constexpr (OP == UnOp::neg) return static_cast<T>(-x);
  else if constexpr (OP == UnOp::abs) return x < 0 ? static_cast<T>(-x) : x;
  else if constexpr (OP == UnOp::relu) return x > 0 ? x : T(0);
  else if constexpr (OP == UnOp::sign) return static_cast<T>(x > 0 ? 1 : (x < 0 ? -1 : 0));
  else if constexpr (OP == UnOp::clip) {
    // Compare in double so that +-inf / out-of-range bounds never convert to an integer type.
    const double v = static_cast<double>(x);
    if (v < static_cast<double>(p.lo)) return static_cast<T>(p.lo);
    if (v > static_cast<double>(p.hi)) return static_cast<T>(p.hi);
    return x;
  }
  else {
    const double v = static_cast<double>(x);
    double r = 0;
    if constexpr (OP == UnOp::leaky) r = v >= 0 ? v : v * p.alpha;
    else if constexpr (OP == UnOp::tanh) r = std::tanh(v);
    else if constexpr (OP == UnOp::sigmoid) r = v >= 0 ? 1.0 / (1.0 + std::exp(-v)) : std::exp(v) / (1.0 + std::exp(v));
    else if constexpr (OP == UnOp::exp) r = std::exp(v);
    else if constexpr (OP == UnOp::log) r = std::log(v);
    else if constexpr (OP == UnOp::sqrt) r = std::sqrt(v);
    else if constexpr (OP == UnOp::erf) r = std::erf(v);
    else if constexpr (OP == UnOp::recip) r = 1.0 / v;
    else if constexpr (OP == UnOp::floor) r = std::floor(v);
    else if constexpr (OP == UnOp::ceil) r = std::ceil(v);
    else if constexpr (OP == UnOp::round) r = std::nearbyint(v);
    else if constexpr (OP == UnOp::sin) r = std::sin(v);
    else if constexpr (OP == UnOp::cos) r = std::cos(v);
    else if constexpr (OP == UnOp::tan) r = std::tan(v);
    else if constexpr (OP == UnOp::asin) r = std::asin(v);
    else if constexpr (OP == UnOp::acos) r = std::acos(v);
    else if constexpr (OP == UnOp::atan) r = std::atan(v);
    else if constexpr (OP == UnOp::sinh) r = std::sinh(v);
    else if constexpr (OP == UnOp::cosh) r = std::cosh(v);
    else if constexpr (OP == UnOp::asinh) r = std::asinh(v);
    else if constexpr (OP == UnOp::acosh) r = std::acosh(v);
    else if constexpr (OP == UnOp::atanh) r = std::atanh(v);
    else if constexpr (OP == UnOp::elu) r = v >= 0 ? v : p.alpha * (std::exp(v) - 1);
    else if constexpr (OP == UnOp::celu) r = std::max(0.0, v) + std::min(0.0, p.alpha * (std::exp(v / p.alpha) - 1));
    else if constexpr (OP == UnOp::selu) r = v > 0 ? p.beta * v : p.beta * p.alpha * (std::exp(v) - 1);
    else if constexpr (OP == UnOp::hsig) r = std::max(0.0, std::min(1.0, p.alpha * v + p.beta));
    else if constexpr (OP == UnOp::hswish) r = v * std::max(0.0, std::min(1.0, v / 6.0 + 0.5));
    else if constexpr (OP == UnOp::softplus) r = v > 30 ? v : std::log1p(std::exp(v));
    else if constexpr (OP == UnOp::softsign) r = v / (1 + std::fabs(v));
    else if constexpr (OP == UnOp::thresh) r = v > p.alpha ? v : 0.0;
    else if constexpr (OP == UnOp::mish) r = v * std::tanh(v > 30 ? v : std::log1p(std::exp(v)));
    else if constexpr (OP == UnOp::gelu) r = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    return static_cast<T>(r);
  }
}

template <class T, UnOp OP>
void un_run(const Kernel& k) {
  const auto& p = k.p<UnaryParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  const std::int64_t n = k.out[0]->numel;
  for (std::int64_t i = 0; i < n; ++i) y[i] = un<T, OP>(x[i], p);
}

// The optimized activation kernels (vectorised, accurate) for the float32 hot cases.
template <cpu::Act A>
void act_run_f32(const Kernel& k) {
  cpu::activation(k.isa, A, k.p<UnaryParams>().alpha, static_cast<std::size_t>(k.out[0]->numel), k.in[0]->as<float>(),
                  k.out[0]->as<float>());
}

template <UnOp OP, bool IntsToo>
Status un_prepare(PrepareCtx& c) {
  if (c.nin() < 1 || !c.has(0)) return c.fail("expects an input");
  auto p = std::make_shared<UnaryParams>();
  const auto& n = c.node;
  if constexpr (OP == UnOp::leaky) p->alpha = n.attr_f("alpha", 0.01f);
  if constexpr (OP == UnOp::elu || OP == UnOp::celu) p->alpha = n.attr_f("alpha", 1.0f);
  if constexpr (OP == UnOp::thresh) p->alpha = n.attr_f("alpha", 1.0f);
  if constexpr (OP == UnOp::selu) { p->alpha = n.attr_f("alpha", 1.67326319217681884765625f); p->beta = n.attr_f("gamma", 1.05070102214813232421875f); }
  if constexpr (OP == UnOp::hsig) { p->alpha = n.attr_f("alpha", 0.2f); p->beta = n.attr_f("beta", 0.5f); }
  if constexpr (OP == UnOp::clip) {
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    if (c.opset < 11) { lo = n.attr_f("min", -std::numeric_limits<float>::max()); hi = n.attr_f("max", std::numeric_limits<float>::max()); }
    auto scalar = [&](std::size_t i, double& out) -> Status {
      if (!c.has(i)) return Status::Ok();
      if (!c.in[i].constant) return c.unsupported("min/max must be constants");
      out = c.in[i].constant->dtype == DType::f32 ? c.in[i].constant->as<float>()[0] : static_cast<double>(c.in[i].constant->to_i64()[0]);
      return Status::Ok();
    };
    TICKRT_RETURN_IF_ERROR(scalar(1, lo));
    TICKRT_RETURN_IF_ERROR(scalar(2, hi));
    p->lo = static_cast<float>(lo);
    p->hi = static_cast<float>(hi);
  }
  c.k.params = p;
  c.out[0] = TensorInfo{c.in[0].dtype, c.in[0].dims};
  const DType t = c.in[0].dtype;
  if (t == DType::f32) {
    if constexpr (OP == UnOp::relu) { c.k.run = &act_run_f32<cpu::Act::relu>; return Status::Ok(); }
    if constexpr (OP == UnOp::leaky) { c.k.run = &act_run_f32<cpu::Act::leaky_relu>; return Status::Ok(); }
    if constexpr (OP == UnOp::tanh) { c.k.run = &act_run_f32<cpu::Act::tanh>; return Status::Ok(); }
    if constexpr (OP == UnOp::sigmoid) { c.k.run = &act_run_f32<cpu::Act::sigmoid>; return Status::Ok(); }
    c.k.run = &un_run<float, OP>;
    return Status::Ok();
  }
  if (t == DType::f64) { c.k.run = &un_run<double, OP>; return Status::Ok(); }
  if constexpr (IntsToo) {
    switch (t) {
      case DType::i64: c.k.run = &un_run<std::int64_t, OP>; return Status::Ok();
      case DType::i32: c.k.run = &un_run<std::int32_t, OP>; return Status::Ok();
      case DType::i16: c.k.run = &un_run<std::int16_t, OP>; return Status::Ok();
      case DType::i8: c.k.run = &un_run<std::int8_t, OP>; return Status::Ok();
      case DType::u8: c.k.run = &un_run<std::uint8_t, OP>; return Status::Ok();
      case DType::u16: c.k.run = &un_run<std::uint16_t, OP>; return Status::Ok();
      case DType::u32: c.k.run = &un_run<std::uint32_t, OP>; return Status::Ok();
      case DType::u64: c.k.run = &un_run<std::uint64_t, OP>; return Status::Ok();
      default: break;
    }
  }
  return c.unsupported(std::string("type ") + dtype_name(t));
}

void not_run(const Kernel& k) {
  const auto* x = k.in[0]->as<std::uint8_t>();
  auto* y = k.out[0]->as<std::uint8_t>();
  for (std::int64_t i = 0; i < k.out[0]->numel; ++i) y[i] = !x[i];
}
Status not_prepare(PrepareCtx& c) {
  if (c.in[0].dtype != DType::boolean) return c.fail("Not needs bool");
  c.out[0] = TensorInfo{DType::boolean, c.in[0].dims};
  c.k.run = &not_run;
  return Status::Ok();
}

template <class T>
void isnan_run(const Kernel& k) {
  const T* x = k.in[0]->as<T>();
  auto* y = k.out[0]->as<std::uint8_t>();
  for (std::int64_t i = 0; i < k.out[0]->numel; ++i) y[i] = std::isnan(x[i]);
}
Status isnan_prepare(PrepareCtx& c) {
  c.out[0] = TensorInfo{DType::boolean, c.in[0].dims};
  if (c.in[0].dtype == DType::f32) c.k.run = &isnan_run<float>;
  else if (c.in[0].dtype == DType::f64) c.k.run = &isnan_run<double>;
  else return c.unsupported("type");
  return Status::Ok();
}

// Identity / Dropout (inference: identity; optional mask output all true).
void dropout_run(const Kernel& k) {
  copy_run(k);
  if (k.out.size() > 1 && k.out[1]) std::memset(k.out[1]->data, 1, static_cast<std::size_t>(k.out[1]->numel));
}
Status identity_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects an input");
  if (c.node.op == "Dropout") {
    if (c.has(2) && (!c.in[2].constant || c.in[2].constant->to_i64()[0] != 0))
      return c.unsupported("training_mode must be a constant false (inference engine)");
  }
  c.out[0] = TensorInfo{c.in[0].dtype, c.in[0].dims};
  if (c.out.size() > 1) c.out[1] = TensorInfo{DType::boolean, c.in[0].dims};
  const bool mask = c.out.size() > 1 && c.node.outputs[1] >= 0;
  c.k.run = mask ? &dropout_run : &copy_run;
  c.k.alias_out0_in0 = !mask;
  return Status::Ok();
}

// ---- Cast -------------------------------------------------------------------------------------
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (man == 0) bits = sign;
    else {  // subnormal
      int e = -1;
      std::uint32_t m = man;
      do { m <<= 1; ++e; } while (!(m & 0x400u));
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
  else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::int32_t exp = static_cast<std::int32_t>((x >> 23) & 0xff) - 127 + 15;
  std::uint32_t man = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff) return static_cast<std::uint16_t>(sign | 0x7c00u | (man ? 0x200u : 0));
  if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<std::uint16_t>(sign);
    man |= 0x800000u;
    const int shift = 14 - exp;
    std::uint32_t h = man >> shift;
    const std::uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return static_cast<std::uint16_t>(sign | h);
  }
  std::uint32_t h = sign | (static_cast<std::uint32_t>(exp) << 10) | (man >> 13);
  const std::uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;
  return static_cast<std::uint16_t>(h);
}

template <class T> inline double load_as_double(const std::byte* p, std::int64_t i) { return static_cast<double>(reinterpret_cast<const T*>(p)[i]); }

struct CastParams { DType from, to; };
void cast_run(const Kernel& k) {
  const auto& p = k.p<CastParams>();
  const std::byte* x = k.in[0]->data;
  std::byte* y = k.out[0]->data;
  const std::int64_t n = k.out[0]->numel;
  for (std::int64_t i = 0; i < n; ++i) {
    double v = 0;
    std::int64_t iv = 0;
    bool is_int = false;
    switch (p.from) {
      case DType::f32: v = load_as_double<float>(x, i); break;
      case DType::f64: v = load_as_double<double>(x, i); break;
      case DType::f16: v = half_to_float(reinterpret_cast<const std::uint16_t*>(x)[i]); break;
      case DType::i64: iv = reinterpret_cast<const std::int64_t*>(x)[i]; is_int = true; break;
      case DType::i32: iv = reinterpret_cast<const std::int32_t*>(x)[i]; is_int = true; break;
      case DType::i16: iv = reinterpret_cast<const std::int16_t*>(x)[i]; is_int = true; break;
      case DType::i8: iv = reinterpret_cast<const std::int8_t*>(x)[i]; is_int = true; break;
      case DType::u8: case DType::boolean: iv = reinterpret_cast<const std::uint8_t*>(x)[i]; is_int = true; break;
      case DType::u16: iv = reinterpret_cast<const std::uint16_t*>(x)[i]; is_int = true; break;
      case DType::u32: iv = reinterpret_cast<const std::uint32_t*>(x)[i]; is_int = true; break;
      case DType::u64: iv = static_cast<std::int64_t>(reinterpret_cast<const std::uint64_t*>(x)[i]); is_int = true; break;
      default: break;
    }
    if (is_int) v = static_cast<double>(iv);
    auto to_int = [&]() -> std::int64_t {
      if (is_int) return iv;
      if (std::isnan(v)) return 0;
      return static_cast<std::int64_t>(v);
    };
    switch (p.to) {
      case DType::f32: reinterpret_cast<float*>(y)[i] = is_int ? static_cast<float>(iv) : static_cast<float>(v); break;
      case DType::f64: reinterpret_cast<double*>(y)[i] = v; break;
      case DType::f16: reinterpret_cast<std::uint16_t*>(y)[i] = float_to_half(static_cast<float>(v)); break;
      case DType::i64: reinterpret_cast<std::int64_t*>(y)[i] = to_int(); break;
      case DType::i32: reinterpret_cast<std::int32_t*>(y)[i] = static_cast<std::int32_t>(to_int()); break;
      case DType::i16: reinterpret_cast<std::int16_t*>(y)[i] = static_cast<std::int16_t>(to_int()); break;
      case DType::i8: reinterpret_cast<std::int8_t*>(y)[i] = static_cast<std::int8_t>(to_int()); break;
      case DType::u8: reinterpret_cast<std::uint8_t*>(y)[i] = static_cast<std::uint8_t>(to_int()); break;
      case DType::u16: reinterpret_cast<std::uint16_t*>(y)[i] = static_cast<std::uint16_t>(to_int()); break;
      case DType::u32: reinterpret_cast<std::uint32_t*>(y)[i] = static_cast<std::uint32_t>(to_int()); break;
      case DType::u64: reinterpret_cast<std::uint64_t*>(y)[i] = static_cast<std::uint64_t>(to_int()); break;
      case DType::boolean: reinterpret_cast<std::uint8_t*>(y)[i] = is_int ? iv != 0 : v != 0; break;
      default: break;
    }
  }
}
Status cast_prepare(PrepareCtx& c) {
  DType to = static_cast<DType>(c.node.attr_i("to", 0));
  if (c.node.op == "CastLike") {
    if (!c.has(1)) return c.fail("CastLike needs target_type input");
    to = c.in[1].dtype;
  }
  const DType from = c.in[0].dtype;
  auto ok = [](DType t) { return dtype_size(t) > 0 && t != DType::bf16 && t != DType::string; };
  if (!ok(from) || !ok(to))
    return c.unsupported(std::string("cast from ") + dtype_name(from) + " to " + dtype_name(to));
  c.k.params = std::make_shared<CastParams>(CastParams{from, to});
  c.out[0] = TensorInfo{to, c.in[0].dims};
  c.k.run = &cast_run;
  return Status::Ok();
}

}  // namespace

void register_elementwise(std::vector<OpDef>& r) {
  r.push_back({"", "Add", &bin_prepare<BinOp::add, OutKind::same, 0>});
  r.push_back({"", "Sub", &bin_prepare<BinOp::sub, OutKind::same, 0>});
  r.push_back({"", "Mul", &bin_prepare<BinOp::mul, OutKind::same, 0>});
  r.push_back({"", "Div", &bin_prepare<BinOp::div, OutKind::same, 0>});
  r.push_back({"", "Pow", &bin_prepare<BinOp::pow, OutKind::same, 0>});
  r.push_back({"", "Mod", &mod_prepare});
  r.push_back({"", "PRelu", &bin_prepare<BinOp::prelu, OutKind::same, 0>});
  r.push_back({"", "BitwiseAnd", &bin_prepare<BinOp::bitand_, OutKind::same, 2>});
  r.push_back({"", "BitwiseOr", &bin_prepare<BinOp::bitor_, OutKind::same, 2>});
  r.push_back({"", "Equal", &bin_prepare<BinOp::eq, OutKind::boolean, 0>});
  r.push_back({"", "Less", &bin_prepare<BinOp::lt, OutKind::boolean, 0>});
  r.push_back({"", "Greater", &bin_prepare<BinOp::gt, OutKind::boolean, 0>});
  r.push_back({"", "LessOrEqual", &bin_prepare<BinOp::le, OutKind::boolean, 0>});
  r.push_back({"", "GreaterOrEqual", &bin_prepare<BinOp::ge, OutKind::boolean, 0>});
  r.push_back({"", "And", &bin_prepare<BinOp::land, OutKind::boolean, 1>});
  r.push_back({"", "Or", &bin_prepare<BinOp::lor, OutKind::boolean, 1>});
  r.push_back({"", "Xor", &bin_prepare<BinOp::lxor, OutKind::boolean, 1>});
  r.push_back({"", "Sum", &var_prepare<BinOp::add, false>});
  r.push_back({"", "Mean", &var_prepare<BinOp::add, true>});
  r.push_back({"", "Max", &var_prepare<BinOp::max, false>});
  r.push_back({"", "Min", &var_prepare<BinOp::min, false>});
  r.push_back({"", "Where", &where_prepare});
  r.push_back({"", "Relu", &un_prepare<UnOp::relu, true>});
  r.push_back({"", "LeakyRelu", &un_prepare<UnOp::leaky, false>});
  r.push_back({"", "Tanh", &un_prepare<UnOp::tanh, false>});
  r.push_back({"", "Sigmoid", &un_prepare<UnOp::sigmoid, false>});
  r.push_back({"", "Exp", &un_prepare<UnOp::exp, false>});
  r.push_back({"", "Log", &un_prepare<UnOp::log, false>});
  r.push_back({"", "Neg", &un_prepare<UnOp::neg, true>});
  r.push_back({"", "Abs", &un_prepare<UnOp::abs, true>});
  r.push_back({"", "Sign", &un_prepare<UnOp::sign, true>});
  r.push_back({"", "Sqrt", &un_prepare<UnOp::sqrt, false>});
  r.push_back({"", "Erf", &un_prepare<UnOp::erf, false>});
  r.push_back({"", "Reciprocal", &un_prepare<UnOp::recip, false>});
  r.push_back({"", "Floor", &un_prepare<UnOp::floor, false>});
  r.push_back({"", "Ceil", &un_prepare<UnOp::ceil, false>});
  r.push_back({"", "Round", &un_prepare<UnOp::round, false>});
  r.push_back({"", "Sin", &un_prepare<UnOp::sin, false>});
  r.push_back({"", "Cos", &un_prepare<UnOp::cos, false>});
  r.push_back({"", "Tan", &un_prepare<UnOp::tan, false>});
  r.push_back({"", "Asin", &un_prepare<UnOp::asin, false>});
  r.push_back({"", "Acos", &un_prepare<UnOp::acos, false>});
  r.push_back({"", "Atan", &un_prepare<UnOp::atan, false>});
  r.push_back({"", "Sinh", &un_prepare<UnOp::sinh, false>});
  r.push_back({"", "Cosh", &un_prepare<UnOp::cosh, false>});
  r.push_back({"", "Asinh", &un_prepare<UnOp::asinh, false>});
  r.push_back({"", "Acosh", &un_prepare<UnOp::acosh, false>});
  r.push_back({"", "Atanh", &un_prepare<UnOp::atanh, false>});
  r.push_back({"", "Elu", &un_prepare<UnOp::elu, false>});
  r.push_back({"", "Celu", &un_prepare<UnOp::celu, false>});
  r.push_back({"", "Selu", &un_prepare<UnOp::selu, false>});
  r.push_back({"", "HardSigmoid", &un_prepare<UnOp::hsig, false>});
  r.push_back({"", "HardSwish", &un_prepare<UnOp::hswish, false>});
  r.push_back({"", "Softplus", &un_prepare<UnOp::softplus, false>});
  r.push_back({"", "Softsign", &un_prepare<UnOp::softsign, false>});
  r.push_back({"", "ThresholdedRelu", &un_prepare<UnOp::thresh, false>});
  r.push_back({"", "Mish", &un_prepare<UnOp::mish, false>});
  r.push_back({"", "Clip", &un_prepare<UnOp::clip, true>});
  r.push_back({"", "Not", &not_prepare});
  r.push_back({"", "IsNaN", &isnan_prepare});
  r.push_back({"", "Identity", &identity_prepare});
  r.push_back({"", "Dropout", &identity_prepare});
  r.push_back({"", "Cast", &cast_prepare});
  r.push_back({"", "CastLike", &cast_prepare});
}

}  // namespace tickrt::infer::ops
