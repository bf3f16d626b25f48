// Shape and data-movement ops: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split,
// Slice, Gather, Expand, ConstantOfShape, Range, Tile. Shape-only ops fold at specialization; views alias.
#include <algorithm>

#include "infer/ops/common.hpp"

namespace tickrt::infer::ops {
namespace {

// ---- Shape / Size --------------------------------------------------------------------------------
struct ShapeParams { std::vector<std::int64_t> vals; };
void write_i64_run(const Kernel& k) {
  const auto& v = k.p<ShapeParams>().vals;
  std::copy(v.begin(), v.end(), k.out[0]->as<std::int64_t>());
}
Status shape_prepare(PrepareCtx& c) {
  const auto& d = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(d.size());
  std::int64_t start = c.node.attr_i("start", 0), end = c.node.attr_i("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<std::int64_t>(start, 0, r);
  end = std::clamp<std::int64_t>(end, 0, r);
  auto p = std::make_shared<ShapeParams>();
  for (std::int64_t i = start; i < end; ++i) p->vals.push_back(d[i]);
  c.out[0] = TensorInfo{DType::i64, {static_cast<std::int64_t>(p->vals.size())}};
  c.k.params = p;
  c.k.run = &write_i64_run;
  c.k.reads_input_data = false;
  return Status::Ok();
}
Status size_prepare(PrepareCtx& c) {
  auto p = std::make_shared<ShapeParams>();
  p->vals.push_back(numel(c.in[0].dims));
  c.out[0] = TensorInfo{DType::i64, {}};
  c.k.params = p;
  c.k.run = &write_i64_run;
  c.k.reads_input_data = false;
  return Status::Ok();
}

// ---- views: Reshape, Flatten, Squeeze, Unsqueeze ----------------------------------------------------
Status view_out(PrepareCtx& c, Dims out) {
  if (numel(out) != numel(c.in[0].dims))
    return c.fail("cannot view " + dims_str(c.in[0].dims) + " as " + dims_str(out));
  c.out[0] = TensorInfo{c.in[0].dtype, std::move(out)};
  c.k.run = &copy_run;
  c.k.alias_out0_in0 = true;
  return Status::Ok();
}

Status reshape_prepare(PrepareCtx& c) {
  if (!c.has(1)) return c.fail("needs a shape input");
  if (!c.in[1].constant) return c.unsupported("shape input must be known when the engine is specialized (it depends on data)");
  auto shape = const_ints(c.in[1]);
  const bool allowzero = c.node.attr_i("allowzero", 0) != 0;
  const auto& in = c.in[0].dims;
  Dims out(shape.size());
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) return c.fail("more than one -1 in the shape");
      infer = static_cast<int>(i);
      continue;
    }
    if (shape[i] == 0 && !allowzero) {
      if (i >= in.size()) return c.fail("shape has 0 at axis " + std::to_string(i) + " beyond the input rank");
      out[i] = in[i];
    } else if (shape[i] < 0) {
      return c.fail("negative dimension in shape");
    } else {
      out[i] = shape[i];
    }
    known *= out[i];
  }
  if (infer >= 0) {
    if (known == 0 || numel(in) % known != 0) return c.fail("cannot infer -1: " + dims_str(in) + " into " + dims_str(out));
    out[infer] = numel(in) / known;
  }
  return view_out(c, out);
}

Status flatten_prepare(PrepareCtx& c) {
  const auto& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size());
  std::int64_t axis = norm_axis(c.node.attr_i("axis", 1), r);
  if (axis < 0 || axis > r) return c.fail("axis out of range");
  std::int64_t a = 1, b = 1;
  for (std::int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= in[i];
  return view_out(c, {a, b});
}

Status squeeze_prepare(PrepareCtx& c) {
  std::vector<std::int64_t> axes;
  bool given = false;
  TICKRT_RETURN_IF_ERROR(axes_from(c, "axes", 1, axes, given));
  const auto& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size());
  std::vector<char> drop(in.size(), 0);
  if (!given) {
    for (std::int64_t i = 0; i < r; ++i) drop[i] = in[i] == 1;
  } else {
    for (auto a : axes) {
      a = norm_axis(a, r);
      if (a < 0 || a >= r) return c.fail("axis out of range");
      if (in[a] != 1) return c.fail("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(in[a]));
      drop[a] = 1;
    }
  }
  Dims out;
  for (std::int64_t i = 0; i < r; ++i) if (!drop[i]) out.push_back(in[i]);
  return view_out(c, out);
}

Status unsqueeze_prepare(PrepareCtx& c) {
  std::vector<std::int64_t> axes;
  bool given = false;
  TICKRT_RETURN_IF_ERROR(axes_from(c, "axes", 1, axes, given));
  if (!given) return c.fail("needs axes");
  const auto& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size() + axes.size());
  std::vector<char> ins(r, 0);
  for (auto a : axes) {
    a = norm_axis(a, r);
    if (a < 0 || a >= r || ins[a]) return c.fail("bad or repeated axis");
    ins[a] = 1;
  }
  Dims out;
  std::size_t j = 0;
  for (std::int64_t i = 0; i < r; ++i) out.push_back(ins[i] ? 1 : in[j++]);
  return view_out(c, out);
}

// ---- Transpose ------------------------------------------------------------------------------------
struct PermParams { int rank; std::int64_t out_dims[kMaxRank]; std::int64_t in_stride[kMaxRank]; std::size_t esz; std::int64_t inner = 1; };
// When the last axis stays last, rows of `inner` contiguous elements move with memcpy (attention heads,
// [T,B,H] <-> [B,T,H]); the outer index walk then costs once per row instead of once per element.
void transpose_rows_run(const Kernel& k) {
  const auto& p = k.p<PermParams>();
  const std::byte* x = k.in[0]->data;
  std::byte* y = k.out[0]->data;
  const int r = p.rank - 1;
  const std::size_t row = static_cast<std::size_t>(p.inner) * p.esz;
  const std::int64_t rows = p.inner ? k.out[0]->numel / p.inner : 0;
  std::int64_t idx[kMaxRank] = {};
  std::int64_t off = 0;
  for (std::int64_t i = 0; i < rows; ++i) {
    std::memcpy(y + i * row, x + off * static_cast<std::int64_t>(p.esz), row);
    for (int d = r - 1; d >= 0; --d) {
      ++idx[d];
      off += p.in_stride[d];
      if (idx[d] < p.out_dims[d]) break;
      off -= p.in_stride[d] * idx[d];
      idx[d] = 0;
    }
  }
}
template <class T>
void transpose_run(const Kernel& k) {
  const auto& p = k.p<PermParams>();
  strided_gather(k.in[0]->as<T>(), k.out[0]->as<T>(), k.out[0]->numel, p.rank, p.out_dims, p.in_stride);
}
Status transpose_prepare(PrepareCtx& c) {
  const auto& in = c.in[0].dims;
  const int r = static_cast<int>(in.size());
  if (r > kMaxRank) return c.unsupported("rank > 8");
  auto perm = c.node.attr_is("perm");
  if (perm.empty()) for (int i = r - 1; i >= 0; --i) perm.push_back(i);
  if (static_cast<int>(perm.size()) != r) return c.fail("perm size differs from rank");
  auto p = std::make_shared<PermParams>();
  p->rank = r;
  const Dims s = strides_of(in);
  Dims out(r);
  std::vector<char> seen(r, 0);
  for (int i = 0; i < r; ++i) {
    const std::int64_t a = norm_axis(perm[i], r);
    if (a < 0 || a >= r || seen[a]) return c.fail("perm is not a permutation");
    seen[a] = 1;
    out[i] = in[a];
    p->out_dims[i] = in[a];
    p->in_stride[i] = s[a];
  }
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  p->esz = dtype_size(c.in[0].dtype);
  if (r >= 2 && norm_axis(perm[r - 1], r) == r - 1 && in[r - 1] >= 4) {
    p->inner = in[r - 1];
    c.k.run = &transpose_rows_run;
    return Status::Ok();
  }
  switch (dtype_size(c.in[0].dtype)) {
    case 1: c.k.run = &transpose_run<std::uint8_t>; break;
    case 2: c.k.run = &transpose_run<std::uint16_t>; break;
    case 4: c.k.run = &transpose_run<std::uint32_t>; break;
    case 8: c.k.run = &transpose_run<std::uint64_t>; break;
    default: return c.unsupported("type");
  }
  return Status::Ok();
}

// ---- Concat / Split ---------------------------------------------------------------------------------
struct ConcatParams { std::int64_t outer; std::vector<std::int64_t> chunk; std::int64_t out_chunk; std::size_t esz; };
void concat_run(const Kernel& k) {
  const auto& p = k.p<ConcatParams>();
  std::byte* y = k.out[0]->data;
  const std::size_t oc = static_cast<std::size_t>(p.out_chunk) * p.esz;
  std::size_t col = 0;
  for (std::size_t j = 0; j < k.in.size(); ++j) {
    const std::size_t cb = static_cast<std::size_t>(p.chunk[j]) * p.esz;
    const std::byte* x = k.in[j]->data;
    for (std::int64_t o = 0; o < p.outer; ++o) std::memcpy(y + o * oc + col, x + o * cb, cb);
    col += cb;
  }
}
Status concat_prepare(PrepareCtx& c) {
  if (c.nin() < 1) return c.fail("needs inputs");
  const auto& d0 = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(d0.size());
  const std::int64_t axis = norm_axis(c.node.attr_i("axis", 0), r);
  if (axis < 0 || axis >= r) return c.fail("axis out of range");
  Dims out = d0;
  out[axis] = 0;
  auto p = std::make_shared<ConcatParams>();
  p->esz = dtype_size(c.in[0].dtype);
  p->outer = 1;
  for (std::int64_t i = 0; i < axis; ++i) p->outer *= d0[i];
  for (auto& in : c.in) {
    if (in.dims.size() != d0.size() || in.dtype != c.in[0].dtype) return c.fail("inputs differ in rank or type");
    for (std::int64_t i = 0; i < r; ++i)
      if (i != axis && in.dims[i] != d0[i]) return c.fail("inputs differ off the concat axis: " + dims_str(in.dims) + " vs " + dims_str(d0));
    out[axis] += in.dims[axis];
    std::int64_t ch = 1;
    for (std::int64_t i = axis; i < r; ++i) ch *= in.dims[i];
    p->chunk.push_back(ch);
  }
  p->out_chunk = 1;
  for (std::int64_t i = axis; i < r; ++i) p->out_chunk *= out[i];
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  c.k.run = &concat_run;
  return Status::Ok();
}

struct SplitParams { std::int64_t outer; std::vector<std::int64_t> chunk; std::int64_t in_chunk; std::size_t esz; };
void split_run(const Kernel& k) {
  const auto& p = k.p<SplitParams>();
  const std::byte* x = k.in[0]->data;
  const std::size_t ic = static_cast<std::size_t>(p.in_chunk) * p.esz;
  std::size_t col = 0;
  for (std::size_t j = 0; j < k.out.size(); ++j) {
    const std::size_t cb = static_cast<std::size_t>(p.chunk[j]) * p.esz;
    if (k.out[j])
      for (std::int64_t o = 0; o < p.outer; ++o) std::memcpy(k.out[j]->data + o * cb, x + o * ic + col, cb);
    col += cb;
  }
}
Status split_prepare(PrepareCtx& c) {
  const auto& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size());
  const std::int64_t axis = norm_axis(c.node.attr_i("axis", 0), r);
  if (axis < 0 || axis >= r) return c.fail("axis out of range");
  std::vector<std::int64_t> split;
  if (c.node.has_attr("split")) split = c.node.attr_is("split");
  else if (c.has(1)) {
    if (!c.in[1].constant) return c.unsupported("split sizes must be constant");
    split = const_ints(c.in[1]);
  }
  const std::int64_t nout = static_cast<std::int64_t>(c.out.size());
  if (split.empty()) {
    const std::int64_t parts = c.node.attr_i("num_outputs", nout);
    const std::int64_t each = (in[axis] + parts - 1) / parts;
    for (std::int64_t i = 0; i < parts; ++i) split.push_back(std::min(each, in[axis] - each * i));
  }
  if (static_cast<std::int64_t>(split.size()) != nout) return c.fail("split has " + std::to_string(split.size()) + " parts for " + std::to_string(nout) + " outputs");
  std::int64_t total = 0;
  for (auto s : split) total += s;
  if (total != in[axis]) return c.fail("split sizes do not add up to the axis length");
  auto p = std::make_shared<SplitParams>();
  p->esz = dtype_size(c.in[0].dtype);
  p->outer = 1;
  for (std::int64_t i = 0; i < axis; ++i) p->outer *= in[i];
  std::int64_t inner = 1;
  for (std::int64_t i = axis + 1; i < r; ++i) inner *= in[i];
  p->in_chunk = in[axis] * inner;
  for (std::int64_t j = 0; j < nout; ++j) {
    Dims od = in;
    od[axis] = split[j];
    c.out[j] = TensorInfo{c.in[0].dtype, od};
    p->chunk.push_back(split[j] * inner);
  }
  c.k.params = p;
  c.k.run = &split_run;
  return Status::Ok();
}

// ---- Slice ---------------------------------------------------------------------------------------
struct SliceParams { int rank; std::int64_t out_dims[kMaxRank]; std::int64_t in_stride[kMaxRank]; std::int64_t base; };
template <class T>
void slice_run(const Kernel& k) {
  const auto& p = k.p<SliceParams>();
  strided_gather(k.in[0]->as<T>() + p.base, k.out[0]->as<T>(), k.out[0]->numel, p.rank, p.out_dims, p.in_stride);
}
Status slice_prepare(PrepareCtx& c) {
  const auto& in = c.in[0].dims;
  const int r = static_cast<int>(in.size());
  if (r > kMaxRank) return c.unsupported("rank > 8");
  std::vector<std::int64_t> starts, ends, axes, steps;
  if (c.opset < 10) {
    starts = c.node.attr_is("starts");
    ends = c.node.attr_is("ends");
    axes = c.node.attr_is("axes");
  } else {
    for (std::size_t i = 1; i < 5 && i < c.nin(); ++i)
      if (c.has(i) && !c.in[i].constant) return c.unsupported("starts/ends/axes/steps must be constants");
    starts = const_ints(c.in[1]);
    ends = const_ints(c.in[2]);
    if (c.has(3)) axes = const_ints(c.in[3]);
    if (c.has(4)) steps = const_ints(c.in[4]);
  }
  if (axes.empty()) for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return c.fail("starts/ends/axes/steps lengths differ");
  std::vector<std::int64_t> st(r, 0), sp(r, 1);
  Dims out = in;
  std::vector<char> seen(r, 0);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::int64_t a = norm_axis(axes[i], r);
    if (a < 0 || a >= r || seen[a]) return c.fail("bad or repeated axis");
    seen[a] = 1;
    const std::int64_t dim = in[a], step = steps[i];
    if (step == 0) return c.fail("step 0");
    std::int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      s = std::clamp<std::int64_t>(s, 0, dim);
      e = std::clamp<std::int64_t>(e, 0, dim);
      out[a] = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<std::int64_t>(s, 0, dim - 1);
      e = std::clamp<std::int64_t>(e, -1, dim - 1);
      out[a] = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    st[a] = s;
    sp[a] = step;
  }
  auto p = std::make_shared<SliceParams>();
  p->rank = r;
  const Dims s = strides_of(in);
  p->base = 0;
  for (int i = 0; i < r; ++i) {
    p->out_dims[i] = out[i];
    p->in_stride[i] = s[i] * sp[i];
    p->base += st[i] * s[i];
  }
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  if (numel(out) == 0) { p->base = 0; }
  switch (dtype_size(c.in[0].dtype)) {
    case 1: c.k.run = &slice_run<std::uint8_t>; break;
    case 2: c.k.run = &slice_run<std::uint16_t>; break;
    case 4: c.k.run = &slice_run<std::uint32_t>; break;
    case 8: c.k.run = &slice_run<std::uint64_t>; break;
    default: return c.unsupported("type");
  }
  return Status::Ok();
}

// ---- Gather --------------------------------------------------------------------------------------
struct GatherParams { std::int64_t outer, axis_len, inner, nidx; std::size_t esz; bool idx64; };
void gather_run(const Kernel& k) {
  const auto& p = k.p<GatherParams>();
  const std::byte* x = k.in[0]->data;
  std::byte* y = k.out[0]->data;
  const std::size_t row = static_cast<std::size_t>(p.inner) * p.esz;
  for (std::int64_t o = 0; o < p.outer; ++o)
    for (std::int64_t j = 0; j < p.nidx; ++j) {
      std::int64_t ix = p.idx64 ? k.in[1]->as<std::int64_t>()[j] : k.in[1]->as<std::int32_t>()[j];
      if (ix < 0) ix += p.axis_len;
      if (ix < 0 || ix >= p.axis_len) ix = 0;  // validated at prepare for constants; clamp data-dependent ones
      std::memcpy(y + (o * p.nidx + j) * row, x + (o * p.axis_len + ix) * row, row);
    }
}
Status gather_prepare(PrepareCtx& c) {
  const auto& in = c.in[0].dims;
  const std::int64_t r = static_cast<std::int64_t>(in.size());
  const std::int64_t axis = norm_axis(c.node.attr_i("axis", 0), r);
  if (axis < 0 || axis >= r) return c.fail("axis out of range");
  if (c.in[1].dtype != DType::i64 && c.in[1].dtype != DType::i32) return c.fail("indices must be int32 or int64");
  if (c.in[1].constant)
    for (auto ix : const_ints(c.in[1]))
      if (ix < -in[axis] || ix >= in[axis]) return c.fail("index " + std::to_string(ix) + " out of range for axis of size " + std::to_string(in[axis]));
  auto p = std::make_shared<GatherParams>();
  p->esz = dtype_size(c.in[0].dtype);
  p->idx64 = c.in[1].dtype == DType::i64;
  p->outer = 1;
  for (std::int64_t i = 0; i < axis; ++i) p->outer *= in[i];
  p->axis_len = in[axis];
  p->inner = 1;
  for (std::int64_t i = axis + 1; i < r; ++i) p->inner *= in[i];
  p->nidx = numel(c.in[1].dims);
  Dims out(in.begin(), in.begin() + axis);
  out.insert(out.end(), c.in[1].dims.begin(), c.in[1].dims.end());
  out.insert(out.end(), in.begin() + axis + 1, in.end());
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  c.k.run = &gather_run;
  return Status::Ok();
}

// ---- Expand / Tile ---------------------------------------------------------------------------------
struct ExpandParams { BroadcastMap m; std::size_t esz; };
template <class T>
void expand_run(const Kernel& k) {
  const auto& p = k.p<ExpandParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  const BroadcastMap maps[1] = {p.m};
  for_each_broadcast<1>(maps, k.out[0]->numel, [&](std::int64_t i, const std::int64_t* off) { y[i] = x[off[0]]; });
}
template <class F>
Status by_size(PrepareCtx& c, std::size_t esz, F f) {
  switch (esz) {
    case 1: c.k.run = f(std::uint8_t{}); break;
    case 2: c.k.run = f(std::uint16_t{}); break;
    case 4: c.k.run = f(std::uint32_t{}); break;
    case 8: c.k.run = f(std::uint64_t{}); break;
    default: return c.unsupported("type");
  }
  return Status::Ok();
}
Status expand_prepare(PrepareCtx& c) {
  if (!c.in[1].constant) return c.unsupported("shape must be constant");
  const auto shape = const_ints(c.in[1]);
  Dims out;
  if (auto st = broadcast_shapes(c.in[0].dims, Dims(shape.begin(), shape.end()), out); !st.ok()) return c.fail(st.message());
  if (out.size() > static_cast<std::size_t>(kMaxRank)) return c.unsupported("rank > 8");
  auto p = std::make_shared<ExpandParams>();
  p->m = make_broadcast_map(c.in[0].dims, out);
  c.k.params = p;
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  return by_size(c, dtype_size(c.in[0].dtype), [](auto t) -> RunFn { return &expand_run<decltype(t)>; });
}

struct TileParams { int rank; std::int64_t out_dims[kMaxRank]; std::int64_t in_dims[kMaxRank]; std::int64_t in_stride[kMaxRank]; };
template <class T>
void tile_run(const Kernel& k) {
  const auto& p = k.p<TileParams>();
  const T* x = k.in[0]->as<T>();
  T* y = k.out[0]->as<T>();
  std::int64_t idx[kMaxRank] = {};
  for (std::int64_t i = 0; i < k.out[0]->numel; ++i) {
    std::int64_t off = 0;
    for (int d = 0; d < p.rank; ++d) off += (idx[d] % p.in_dims[d]) * p.in_stride[d];
    y[i] = x[off];
    for (int d = p.rank - 1; d >= 0; --d) {
      if (++idx[d] < p.out_dims[d]) break;
      idx[d] = 0;
    }
  }
}
Status tile_prepare(PrepareCtx& c) {
  if (!c.in[1].constant) return c.unsupported("repeats must be constant");
  const auto rep = const_ints(c.in[1]);
  const auto& in = c.in[0].dims;
  if (rep.size() != in.size()) return c.fail("repeats length differs from rank");
  if (in.size() > static_cast<std::size_t>(kMaxRank)) return c.unsupported("rank > 8");
  auto p = std::make_shared<TileParams>();
  p->rank = static_cast<int>(in.size());
  const Dims s = strides_of(in);
  Dims out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    out[i] = in[i] * rep[i];
    p->out_dims[i] = out[i];
    p->in_dims[i] = in[i];
    p->in_stride[i] = s[i];
  }
  c.k.params = p;
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  return by_size(c, dtype_size(c.in[0].dtype), [](auto t) -> RunFn { return &tile_run<decltype(t)>; });
}

// ---- ConstantOfShape / Range -----------------------------------------------------------------------
struct FillParams { std::vector<std::byte> value; };
void fill_run(const Kernel& k) {
  const auto& v = k.p<FillParams>().value;
  const std::size_t esz = v.size();
  for (std::int64_t i = 0; i < k.out[0]->numel; ++i) std::memcpy(k.out[0]->data + i * esz, v.data(), esz);
}
Status constant_of_shape_prepare(PrepareCtx& c) {
  if (!c.in[0].constant) return c.unsupported("shape must be constant");
  const auto shape = const_ints(c.in[0]);
  auto p = std::make_shared<FillParams>();
  DType t = DType::f32;
  if (auto it = c.node.attrs.find("value"); it != c.node.attrs.end() && it->second.t) {
    t = it->second.t->dtype;
    p->value.assign(it->second.t->bytes, it->second.t->bytes + dtype_size(t));
  } else {
    p->value.assign(4, std::byte{0});
  }
  for (auto d : shape) if (d < 0) return c.fail("negative dimension");
  c.out[0] = TensorInfo{t, Dims(shape.begin(), shape.end())};
  c.k.params = p;
  c.k.run = &fill_run;
  return Status::Ok();
}

template <class T>
void range_run(const Kernel& k) {
  const T start = k.in[0]->as<T>()[0], delta = k.in[2]->as<T>()[0];
  T* y = k.out[0]->as<T>();
  for (std::int64_t i = 0; i < k.out[0]->numel; ++i) y[i] = static_cast<T>(start + static_cast<T>(i) * delta);
}
Status range_prepare(PrepareCtx& c) {
  for (int i = 0; i < 3; ++i) if (!c.in[i].constant) return c.unsupported("start/limit/delta must be constants");
  const DType t = c.in[0].dtype;
  double s, l, d;
  auto get = [&](int i) { return t == DType::f32 ? c.in[i].constant->as<float>()[0] : t == DType::f64 ? c.in[i].constant->as<double>()[0] : static_cast<double>(c.in[i].constant->to_i64()[0]); };
  s = get(0); l = get(1); d = get(2);
  if (d == 0) return c.fail("delta is 0");
  const std::int64_t n = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil((l - s) / d)));
  c.out[0] = TensorInfo{t, {n}};
  switch (t) {
    case DType::f32: c.k.run = &range_run<float>; break;
    case DType::f64: c.k.run = &range_run<double>; break;
    case DType::i64: c.k.run = &range_run<std::int64_t>; break;
    case DType::i32: c.k.run = &range_run<std::int32_t>; break;
    case DType::i16: c.k.run = &range_run<std::int16_t>; break;
    default: return c.unsupported("type");
  }
  return Status::Ok();
}

}  // namespace

void register_shape_ops(std::vector<OpDef>& r) {
  r.push_back({"", "Shape", &shape_prepare});
  r.push_back({"", "Size", &size_prepare});
  r.push_back({"", "Reshape", &reshape_prepare});
  r.push_back({"", "Flatten", &flatten_prepare});
  r.push_back({"", "Squeeze", &squeeze_prepare});
  r.push_back({"", "Unsqueeze", &unsqueeze_prepare});
  r.push_back({"", "Transpose", &transpose_prepare});
  r.push_back({"", "Concat", &concat_prepare});
  r.push_back({"", "Split", &split_prepare});
  r.push_back({"", "Slice", &slice_prepare});
  r.push_back({"", "Gather", &gather_prepare});
  r.push_back({"", "Expand", &expand_prepare});
  r.push_back({"", "Tile", &tile_prepare});
  r.push_back({"", "ConstantOfShape", &constant_of_shape_prepare});
  r.push_back({"", "Range", &range_prepare});
}

}  // namespace tickrt::infer::ops
