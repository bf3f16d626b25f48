// Reductions and row-wise normalizers: ReduceSum/Mean/Max/Min/Prod/SumSquare/L1/L2/LogSum/LogSumExp,
// ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax (opset < 13 "coerce to 2-D" vs >= 13 single axis), CumSum,
// TopK, NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
//
// Reduce*: axes come from the attribute (ReduceSum < 13, the others < 18) or from a constant input
// (axes_from handles both); an empty/absent axes list reduces everything unless noop_with_empty_axes=1.
// Accumulation is in double for floating types and int64 for integers (a reference, not a hot path),
// in a workspace of one accumulator per output element, so a run never allocates.
#include <algorithm>
#include <cmath>
#include <limits>

#include "infer/ops/common.hpp"

namespace tickrt::infer::ops {
namespace {

// ---- Reduce* ------------------------------------------------------------------------------------
enum class Red { sum, mean, max, min, prod, sumsq, l1, l2, logsum, logsumexp };

struct ReduceParams {
  int rank = 0;
  std::int64_t in_dims[kMaxRank] = {};
  std::int64_t out_stride[kMaxRank] = {};   // stride in the output for each input axis; 0 on reduced axes
  std::int64_t group = 1;                   // input elements folded into one output element
  bool identity = false;                    // noop_with_empty_axes with no axes: copy
  bool contiguous = false;                  // the reduced axes are one contiguous block [a, b)
  std::int64_t outer = 1, red = 1, inner = 1;
};

template <class T> using AccOf = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

template <class T, Red R>
void reduce_run(const Kernel& k) {
  using A = AccOf<T>;
  const auto& p = k.p<ReduceParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  const std::int64_t nout = k.out[0]->numel, nin = k.in[0]->numel;
  if (p.identity) { std::memcpy(y, x, static_cast<std::size_t>(nin) * sizeof(T)); return; }
  A* acc = reinterpret_cast<A*>(k.workspace);
  // logsumexp: a max pass first so that exp never overflows.
  A init = 0;
  if constexpr (R == Red::prod) init = 1;
  if constexpr (R == Red::max || R == Red::logsumexp) init = std::numeric_limits<A>::lowest();
  if constexpr (R == Red::min) init = std::numeric_limits<A>::max();
  if constexpr (std::is_floating_point_v<A>) {
    if constexpr (R == Red::max || R == Red::logsumexp) init = -std::numeric_limits<A>::infinity();
    if constexpr (R == Red::min) init = std::numeric_limits<A>::infinity();
  }
  for (std::int64_t i = 0; i < nout; ++i) acc[i] = init;
  auto walk = [&](auto&& f) {
    if (p.contiguous) {   // reduced axes form one block: plain (outer, red, inner) loops, no index bookkeeping
      const T* xp = x;
      for (std::int64_t o = 0; o < p.outer; ++o)
        for (std::int64_t r = 0; r < p.red; ++r, xp += p.inner)
          for (std::int64_t i = 0; i < p.inner; ++i) f(o * p.inner + i, static_cast<A>(xp[i]));
      return;
    }
    std::int64_t idx[kMaxRank] = {};
    std::int64_t off = 0;
    for (std::int64_t i = 0; i < nin; ++i) {
      f(off, static_cast<A>(x[i]));
      for (int d = p.rank - 1; d >= 0; --d) {
        ++idx[d];
        off += p.out_stride[d];
        if (idx[d] < p.in_dims[d]) break;
        off -= p.out_stride[d] * idx[d];
        idx[d] = 0;
      }
    }
  };
  if constexpr (R == Red::logsumexp) {
    A* mx = acc + nout;
    for (std::int64_t i = 0; i < nout; ++i) mx[i] = init;
    walk([&](std::int64_t o, A v) { if (v > mx[o]) mx[o] = v; });
    for (std::int64_t i = 0; i < nout; ++i) acc[i] = 0;
    walk([&](std::int64_t o, A v) { acc[o] += std::isinf(mx[o]) ? std::exp(v) : std::exp(v - mx[o]); });
    for (std::int64_t i = 0; i < nout; ++i)
      y[i] = static_cast<T>(std::log(acc[i]) + (std::isinf(mx[i]) ? 0 : mx[i]));
    return;
  } else {
    walk([&](std::int64_t o, A v) {
      if constexpr (R == Red::sum || R == Red::mean || R == Red::logsum) acc[o] += v;
      else if constexpr (R == Red::prod) acc[o] *= v;
      else if constexpr (R == Red::sumsq || R == Red::l2) acc[o] += v * v;
      else if constexpr (R == Red::l1) acc[o] += v < 0 ? -v : v;
      else if constexpr (R == Red::max) {
        if constexpr (std::is_floating_point_v<A>) { if (std::isnan(v) || v > acc[o]) acc[o] = v; }
        else if (v > acc[o]) acc[o] = v;
      } else if constexpr (R == Red::min) {
        if constexpr (std::is_floating_point_v<A>) { if (std::isnan(v) || v < acc[o]) acc[o] = v; }
        else if (v < acc[o]) acc[o] = v;
      }
    });
    for (std::int64_t i = 0; i < nout; ++i) {
      A v = acc[i];
      if constexpr (R == Red::mean) v = p.group ? v / static_cast<A>(p.group) : v;
      if constexpr (R == Red::l2) v = static_cast<A>(std::sqrt(static_cast<double>(v)));
      if constexpr (R == Red::logsum) v = static_cast<A>(std::log(static_cast<double>(v)));
      y[i] = static_cast<T>(v);
    }
  }
}

template <Red R>
Status reduce_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects a data input");
  const Dims& in = c.in[0].dims;
  const int r = static_cast<int>(in.size());
  if (r > kMaxRank) return c.unsupported("rank > 8");
  std::vector<std::int64_t> axes;
  bool given = false;
  TICKRT_RETURN_IF_ERROR(axes_from(c, "axes", 1, axes, given));
  const bool keep = c.node.attr_i("keepdims", 1) != 0;
  const bool noop = c.node.attr_i("noop_with_empty_axes", 0) != 0;
  auto p = std::make_shared<ReduceParams>();
  std::vector<char> red(r, 0);
  if (axes.empty()) {
    if (noop) p->identity = true;
    else std::fill(red.begin(), red.end(), 1);
  }
  for (auto a : axes) {
    const std::int64_t n = norm_axis(a, r);
    if (n < 0 || n >= r) return c.fail("axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
    red[n] = 1;
  }
  Dims out, full;   // full: output dims with the reduced axes kept as 1
  for (int i = 0; i < r; ++i) {
    full.push_back(red[i] ? 1 : in[i]);
    if (!red[i] || keep) out.push_back(red[i] ? 1 : in[i]);
  }
  if (p->identity) out = in;
  const Dims fs = strides_of(full);
  p->rank = r;
  for (int i = 0; i < r; ++i) {
    p->in_dims[i] = in[i];
    p->out_stride[i] = red[i] ? 0 : fs[i];
  }
  {
    int first = -1, last = -1, count = 0;
    for (int i = 0; i < r; ++i)
      if (red[i]) { if (first < 0) first = i; last = i; ++count; }
    if (first >= 0 && count == last - first + 1) {
      p->contiguous = true;
      for (int i = 0; i < r; ++i) (i < first ? p->outer : i <= last ? p->red : p->inner) *= in[i];
    }
  }
  const std::int64_t nout = numel(full);
  p->group = nout ? numel(in) / std::max<std::int64_t>(nout, 1) : 0;
  if (nout == 0) p->group = 0;
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  c.k.workspace_bytes = static_cast<std::size_t>(std::max<std::int64_t>(nout, 1)) * 8 * (R == Red::logsumexp ? 2 : 1);
  const DType t = c.in[0].dtype;
  switch (t) {
    case DType::f32: c.k.run = &reduce_run<float, R>; break;
    case DType::f64: c.k.run = &reduce_run<double, R>; break;
    case DType::i32: c.k.run = &reduce_run<std::int32_t, R>; break;
    case DType::i64: c.k.run = &reduce_run<std::int64_t, R>; break;
    case DType::u8: c.k.run = &reduce_run<std::uint8_t, R>; break;
    case DType::i8: c.k.run = &reduce_run<std::int8_t, R>; break;
    case DType::u32: c.k.run = &reduce_run<std::uint32_t, R>; break;
    case DType::u64: c.k.run = &reduce_run<std::uint64_t, R>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(t));
  }
  if constexpr (R == Red::logsum || R == Red::logsumexp || R == Red::l2 || R == Red::mean) {
    if (t != DType::f32 && t != DType::f64 && R != Red::mean)
      return c.unsupported(std::string(c.node.op) + " on integer type " + dtype_name(t));
  }
  return Status::Ok();
}

// ---- ArgMax / ArgMin ------------------------------------------------------------------------------
struct ArgParams { std::int64_t outer, n, inner; bool last; };
template <class T, bool MAX>
void arg_run(const Kernel& k) {
  const auto& p = k.p<ArgParams>();
  const T* x = k.in[0]->as<T>();
  std::int64_t* y = k.out[0]->as<std::int64_t>();
  for (std::int64_t o = 0; o < p.outer; ++o)
    for (std::int64_t i = 0; i < p.inner; ++i) {
      const T* base = x + o * p.n * p.inner + i;
      std::int64_t best = 0;
      T bv = base[0];
      for (std::int64_t j = 1; j < p.n; ++j) {
        const T v = base[j * p.inner];
        const bool better = MAX ? (p.last ? v >= bv : v > bv) : (p.last ? v <= bv : v < bv);
        if (better) { bv = v; best = j; }
      }
      y[o * p.inner + i] = best;
    }
}
template <bool MAX>
Status arg_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects a data input");
  const Dims& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size());
  if (r == 0) return c.fail("input must have rank >= 1");
  const std::int64_t axis = norm_axis(c.node.attr_i("axis", 0), r);
  if (axis < 0 || axis >= r) return c.fail("axis out of range for rank " + std::to_string(r));
  if (in[axis] == 0) return c.fail("cannot take ArgMax/ArgMin over an empty axis");
  auto p = std::make_shared<ArgParams>();
  p->outer = 1; p->inner = 1; p->n = in[axis];
  for (std::int64_t i = 0; i < axis; ++i) p->outer *= in[i];
  for (std::int64_t i = axis + 1; i < r; ++i) p->inner *= in[i];
  p->last = c.node.attr_i("select_last_index", 0) != 0;
  Dims out = in;
  if (c.node.attr_i("keepdims", 1)) out[axis] = 1;
  else out.erase(out.begin() + axis);
  c.out[0] = TensorInfo{DType::i64, out};
  c.k.params = p;
  if (!dispatch_numeric(c.in[0].dtype, [&](auto tag) { c.k.run = &arg_run<typename decltype(tag)::type, MAX>; }))
    return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  return Status::Ok();
}

// ---- Softmax / LogSoftmax / Hardmax -----------------------------------------------------------------
// The reduced axis has n elements at stride `inner`; rows = outer * inner.
enum class Sm { softmax, logsoftmax, hardmax };
struct SmParams { std::int64_t outer, n, inner; };

template <class T, Sm S>
void sm_run(const Kernel& k) {
  const auto& p = k.p<SmParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  if constexpr (std::is_same_v<T, float> && S == Sm::softmax) {
    if (p.inner == 1) { cpu::softmax_rows(k.isa, static_cast<int>(p.outer), static_cast<int>(p.n), x, y); return; }
  }
  for (std::int64_t o = 0; o < p.outer; ++o)
    for (std::int64_t i = 0; i < p.inner; ++i) {
      const T* xs = x + o * p.n * p.inner + i;
      T* ys = y + o * p.n * p.inner + i;
      if constexpr (S == Sm::hardmax) {
        std::int64_t best = 0;
        for (std::int64_t j = 1; j < p.n; ++j) if (xs[j * p.inner] > xs[best * p.inner]) best = j;
        for (std::int64_t j = 0; j < p.n; ++j) ys[j * p.inner] = static_cast<T>(j == best ? 1 : 0);
      } else {
        double mx = -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < p.n; ++j) mx = std::max(mx, static_cast<double>(xs[j * p.inner]));
        double s = 0;
        for (std::int64_t j = 0; j < p.n; ++j) s += std::exp(static_cast<double>(xs[j * p.inner]) - mx);
        if constexpr (S == Sm::softmax) {
          for (std::int64_t j = 0; j < p.n; ++j) ys[j * p.inner] = static_cast<T>(std::exp(static_cast<double>(xs[j * p.inner]) - mx) / s);
        } else {
          const double ls = std::log(s);
          for (std::int64_t j = 0; j < p.n; ++j) ys[j * p.inner] = static_cast<T>(static_cast<double>(xs[j * p.inner]) - mx - ls);
        }
      }
    }
}

template <Sm S>
Status sm_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects an input");
  const Dims& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size());
  auto p = std::make_shared<SmParams>();
  if (c.opset < 13) {
    // Opsets 1-12: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])].
    const std::int64_t axis = norm_axis(c.node.attr_i("axis", 1), r);
    if (axis < 0 || axis > r) return c.fail("axis out of range for rank " + std::to_string(r));
    p->outer = 1; p->n = 1; p->inner = 1;
    for (std::int64_t i = 0; i < r; ++i) (i < axis ? p->outer : p->n) *= in[i];
  } else {
    if (r == 0) return c.fail("input must have rank >= 1");
    const std::int64_t axis = norm_axis(c.node.attr_i("axis", -1), r);
    if (axis < 0 || axis >= r) return c.fail("axis out of range for rank " + std::to_string(r));
    p->outer = 1; p->n = in[axis]; p->inner = 1;
    for (std::int64_t i = 0; i < axis; ++i) p->outer *= in[i];
    for (std::int64_t i = axis + 1; i < r; ++i) p->inner *= in[i];
  }
  if (p->n > std::numeric_limits<int>::max() || p->outer > std::numeric_limits<int>::max())
    return c.unsupported("softmax dimensions exceed int32");
  c.out[0] = TensorInfo{c.in[0].dtype, in};
  c.k.params = p;
  if (p->n == 0 || p->outer == 0 || p->inner == 0) { c.k.run = [](const Kernel&) {}; return Status::Ok(); }
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &sm_run<float, S>; break;
    case DType::f64: c.k.run = &sm_run<double, S>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}

// ---- CumSum ---------------------------------------------------------------------------------------
// The axis is usually a constant; when it is a run-time input (the ONNX tests feed it as an int32 graph
// input) it is read per run, and an out-of-range value yields zeros (a run cannot report errors).
struct CumParams { Dims dims; std::int64_t axis = -1; bool exclusive, reverse; };
template <class T>
void cumsum_run(const Kernel& k) {
  const auto& p = k.p<CumParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  const std::int64_t r = static_cast<std::int64_t>(p.dims.size());
  std::int64_t axis = p.axis;
  if (axis < 0) {
    axis = k.in[1]->dtype == DType::i32 ? k.in[1]->as<std::int32_t>()[0] : k.in[1]->as<std::int64_t>()[0];
    axis = norm_axis(axis, r);
    if (axis < 0 || axis >= r) {
      std::memset(static_cast<void*>(y), 0, static_cast<std::size_t>(k.out[0]->numel) * sizeof(T));
      return;
    }
  }
  std::int64_t outer = 1, n = p.dims[axis], inner = 1;
  for (std::int64_t i = 0; i < axis; ++i) outer *= p.dims[i];
  for (std::int64_t i = axis + 1; i < r; ++i) inner *= p.dims[i];
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      const std::int64_t base = o * n * inner + i;
      T acc = 0;
      for (std::int64_t s = 0; s < n; ++s) {
        const std::int64_t j = p.reverse ? n - 1 - s : s;
        const std::int64_t at = base + j * inner;
        if (p.exclusive) { y[at] = acc; acc += x[at]; }
        else { acc += x[at]; y[at] = acc; }
      }
    }
}
Status cumsum_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("expects x and axis inputs");
  if (c.in[1].dtype != DType::i32 && c.in[1].dtype != DType::i64) return c.fail("axis must be int32 or int64");
  if (numel(c.in[1].dims) != 1) return c.fail("axis must be a scalar, got shape " + dims_str(c.in[1].dims));
  const Dims& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size());
  if (r == 0) return c.fail("input must have rank >= 1");
  auto p = std::make_shared<CumParams>();
  p->dims = in;
  if (c.in[1].constant) {
    const std::int64_t a = const_ints(c.in[1])[0];
    p->axis = norm_axis(a, r);
    if (p->axis < 0 || p->axis >= r) return c.fail("axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
  }
  p->exclusive = c.node.attr_i("exclusive", 0) != 0;
  p->reverse = c.node.attr_i("reverse", 0) != 0;
  c.out[0] = TensorInfo{c.in[0].dtype, in};
  c.k.params = p;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &cumsum_run<float>; break;
    case DType::f64: c.k.run = &cumsum_run<double>; break;
    case DType::i32: c.k.run = &cumsum_run<std::int32_t>; break;
    case DType::i64: c.k.run = &cumsum_run<std::int64_t>; break;
    case DType::u32: c.k.run = &cumsum_run<std::uint32_t>; break;
    case DType::u64: c.k.run = &cumsum_run<std::uint64_t>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}


// ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss -------------------------------------------
// input/scores [N, C, d...], target/labels [N, d...] (int32/int64), optional weight [C]; reduction none /
// sum / mean (mean divides by the summed weights of the non-ignored targets). SCE takes log_softmax over C
// first and may also output it. A target outside [0, C) that is not ignore_index is refused at prepare time
// when the targets are constant; at run time it yields NaN (a run cannot report errors or read out of bounds).
struct LossParams { std::int64_t N, C, S; std::int64_t ignore; bool has_ignore; int reduction; bool softmax; };
template <class T, class L>
void loss_run(const Kernel& k) {
  const auto& p = k.p<LossParams>();
  const T* x = k.in[0]->as<T>();
  const L* tg = k.in[1]->as<L>();
  const T* w = k.in.size() > 2 && k.in[2] ? k.in[2]->as<T>() : nullptr;
  T* out = k.out[0]->as<T>();
  T* logp_out = p.softmax && k.out.size() > 1 && k.out[1] ? k.out[1]->as<T>() : nullptr;
  // log-probabilities: SCE computes them into the optional output or the workspace; NLL reads the input.
  const T* lp = x;
  if (p.softmax) {
    T* dst = logp_out ? logp_out : reinterpret_cast<T*>(k.workspace);
    for (std::int64_t n = 0; n < p.N; ++n)
      for (std::int64_t s = 0; s < p.S; ++s) {
        const T* xs = x + n * p.C * p.S + s;
        T* ds = dst + n * p.C * p.S + s;
        double mx = -std::numeric_limits<double>::infinity();
        for (std::int64_t c = 0; c < p.C; ++c) mx = std::max(mx, static_cast<double>(xs[c * p.S]));
        double sum = 0;
        for (std::int64_t c = 0; c < p.C; ++c) sum += std::exp(static_cast<double>(xs[c * p.S]) - mx);
        const double ls = std::log(sum);
        for (std::int64_t c = 0; c < p.C; ++c) ds[c * p.S] = static_cast<T>(static_cast<double>(xs[c * p.S]) - mx - ls);
      }
    lp = dst;
  }
  double total = 0, wsum = 0;
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t s = 0; s < p.S; ++s) {
      const std::int64_t t = static_cast<std::int64_t>(tg[n * p.S + s]);
      double l = 0, wt = 0;
      if (!(p.has_ignore && t == p.ignore)) {
        if (t < 0 || t >= p.C) {
          l = std::numeric_limits<double>::quiet_NaN();
          wt = 1;
        } else {
          wt = w ? static_cast<double>(w[t]) : 1.0;
          l = -static_cast<double>(lp[(n * p.C + t) * p.S + s]) * wt;
        }
      }
      if (p.reduction == 0) out[n * p.S + s] = static_cast<T>(l);
      total += l;
      wsum += wt;
    }
  if (p.reduction == 1) out[0] = static_cast<T>(total);
  if (p.reduction == 2) out[0] = static_cast<T>(total / wsum);
}
template <bool SCE>
Status loss_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("expects input and target");
  const Dims& x = c.in[0].dims;
  const Dims& t = c.in[1].dims;
  if (x.size() < 2) return c.fail("input " + dims_str(x) + " needs rank >= 2 ([N, C, ...])");
  Dims want{x[0]};
  want.insert(want.end(), x.begin() + 2, x.end());
  if (t != want) return c.fail("target " + dims_str(t) + " must be " + dims_str(want) + " for input " + dims_str(x));
  if (c.in[1].dtype != DType::i64 && c.in[1].dtype != DType::i32)
    return c.fail(std::string("target must be int32 or int64, got ") + dtype_name(c.in[1].dtype));
  if (c.has(2)) {
    if (c.in[2].dtype != c.in[0].dtype) return c.fail("weight type differs from input");
    if (c.in[2].dims != Dims{x[1]}) return c.fail("weight " + dims_str(c.in[2].dims) + " must be [C] = [" + std::to_string(x[1]) + "]");
  }
  auto p = std::make_shared<LossParams>();
  p->N = x[0];
  p->C = x[1];
  p->S = numel(want) / std::max<std::int64_t>(x[0], 1);
  if (x[0] == 0) p->S = 0;
  p->has_ignore = c.node.has_attr("ignore_index");
  p->ignore = c.node.attr_i("ignore_index", 0);
  p->softmax = SCE;
  const std::string red = c.node.attr_s("reduction", "mean");
  if (red == "none") p->reduction = 0;
  else if (red == "sum") p->reduction = 1;
  else if (red == "mean") p->reduction = 2;
  else return c.fail("unknown reduction '" + red + "'");
  if (c.in[1].constant) {
    for (auto v : const_ints(c.in[1]))
      if (!(p->has_ignore && v == p->ignore) && (v < 0 || v >= p->C))
        return c.fail("target value " + std::to_string(v) + " outside [0, " + std::to_string(p->C) + ") and not ignore_index");
  }
  c.out[0] = TensorInfo{c.in[0].dtype, p->reduction == 0 ? want : Dims{}};
  if (c.out.size() > 1) {
    if (!SCE) return c.fail("NegativeLogLikelihoodLoss has one output");
    c.out[1] = TensorInfo{c.in[0].dtype, x};
  }
  if (SCE) c.k.workspace_bytes = static_cast<std::size_t>(std::max<std::int64_t>(numel(x), 1)) * dtype_size(c.in[0].dtype);
  c.k.params = p;
  const bool l64 = c.in[1].dtype == DType::i64;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = l64 ? &loss_run<float, std::int64_t> : &loss_run<float, std::int32_t>; break;
    case DType::f64: c.k.run = l64 ? &loss_run<double, std::int64_t> : &loss_run<double, std::int32_t>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}


// ---- TopK -----------------------------------------------------------------------------------------------
// Values and int64 Indices of the k largest (largest=1) or smallest along axis, always sorted (sorted=0 leaves
// the order unspecified, so sorted output is valid); ties keep the lower index first. K must be a constant.
struct TopKParams { std::int64_t outer, n, inner, k; bool largest; };
template <class T>
void topk_run(const Kernel& k) {
  const auto& p = k.p<TopKParams>();
  const T* x = k.in[0]->as<T>();
  T* vals = k.out[0] ? k.out[0]->as<T>() : nullptr;
  std::int64_t* idx = k.out.size() > 1 && k.out[1] ? k.out[1]->as<std::int64_t>() : nullptr;
  std::int64_t* order = reinterpret_cast<std::int64_t*>(k.workspace);
  for (std::int64_t o = 0; o < p.outer; ++o)
    for (std::int64_t i = 0; i < p.inner; ++i) {
      const T* xs = x + o * p.n * p.inner + i;
      for (std::int64_t j = 0; j < p.n; ++j) order[j] = j;
      auto before = [&](std::int64_t a, std::int64_t b) {
        const T va = xs[a * p.inner], vb = xs[b * p.inner];
        if (va == vb) return a < b;
        return p.largest ? va > vb : va < vb;
      };
      std::partial_sort(order, order + p.k, order + p.n, before);
      for (std::int64_t j = 0; j < p.k; ++j) {
        const std::int64_t at = (o * p.k + j) * p.inner + i;
        if (vals) vals[at] = xs[order[j] * p.inner];
        if (idx) idx[at] = order[j];
      }
    }
}
Status topk_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("expects an input");
  const Dims& x = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(x.size());
  if (r == 0) return c.fail("input must have rank >= 1");
  std::int64_t kk = 0;
  if (c.opset < 10) kk = c.node.attr_i("k", -1);
  else {
    if (!c.has(1)) return c.fail("expects a K input");
    if (!c.in[1].constant) return c.unsupported("K must be a constant (output shapes are fixed when the engine is specialized)");
    const auto kv = const_ints(c.in[1]);
    if (kv.size() != 1) return c.fail("K must hold one value, got shape " + dims_str(c.in[1].dims));
    kk = kv[0];
  }
  const std::int64_t axis = norm_axis(c.node.attr_i("axis", -1), r);
  if (axis < 0 || axis >= r) return c.fail("axis out of range for rank " + std::to_string(r));
  if (kk < 0 || kk > x[axis]) return c.fail("K=" + std::to_string(kk) + " outside [0, " + std::to_string(x[axis]) + "] for axis " + std::to_string(axis));
  auto p = std::make_shared<TopKParams>();
  p->outer = 1; p->n = x[axis]; p->inner = 1; p->k = kk;
  for (std::int64_t i = 0; i < axis; ++i) p->outer *= x[i];
  for (std::int64_t i = axis + 1; i < r; ++i) p->inner *= x[i];
  p->largest = c.node.attr_i("largest", 1) != 0;
  Dims out = x;
  out[axis] = kk;
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  if (c.out.size() > 1) c.out[1] = TensorInfo{DType::i64, out};
  c.k.workspace_bytes = static_cast<std::size_t>(std::max<std::int64_t>(p->n, 1)) * sizeof(std::int64_t);
  c.k.params = p;
  if (!dispatch_numeric(c.in[0].dtype, [&](auto tag) { c.k.run = &topk_run<typename decltype(tag)::type>; }))
    return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  return Status::Ok();
}

}  // namespace

void register_reduce(std::vector<OpDef>& r) {
  r.push_back({"", "ReduceSum", &reduce_prepare<Red::sum>});
  r.push_back({"", "ReduceMean", &reduce_prepare<Red::mean>});
  r.push_back({"", "ReduceMax", &reduce_prepare<Red::max>});
  r.push_back({"", "ReduceMin", &reduce_prepare<Red::min>});
  r.push_back({"", "ReduceProd", &reduce_prepare<Red::prod>});
  r.push_back({"", "ReduceSumSquare", &reduce_prepare<Red::sumsq>});
  r.push_back({"", "ReduceL1", &reduce_prepare<Red::l1>});
  r.push_back({"", "ReduceL2", &reduce_prepare<Red::l2>});
  r.push_back({"", "ReduceLogSum", &reduce_prepare<Red::logsum>});
  r.push_back({"", "ReduceLogSumExp", &reduce_prepare<Red::logsumexp>});
  r.push_back({"", "ArgMax", &arg_prepare<true>});
  r.push_back({"", "ArgMin", &arg_prepare<false>});
  r.push_back({"", "Softmax", &sm_prepare<Sm::softmax>});
  r.push_back({"", "LogSoftmax", &sm_prepare<Sm::logsoftmax>});
  r.push_back({"", "Hardmax", &sm_prepare<Sm::hardmax>});
  r.push_back({"", "CumSum", &cumsum_prepare});
  r.push_back({"", "TopK", &topk_prepare});
  r.push_back({"", "NegativeLogLikelihoodLoss", &loss_prepare<false>});
  r.push_back({"", "SoftmaxCrossEntropyLoss", &loss_prepare<true>});
}

}  // namespace tickrt::infer::ops
