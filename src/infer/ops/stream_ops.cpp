// Streaming-model ops (domain "tickrt"), produced by passes/stream_fusion.cpp from the one-step graphs of
// stateful models (infer/stream.hpp):
//   RingShift    inputs ring [.., K, ..], new [.., 1, ..]; attr axis; output [.., K, ..] = concat(ring[.., 1:, ..], new)
//                along axis: torch's `cat([ring[:, 1:], y], 1)`, one memcpy per outer index instead of a generic
//                Slice kernel plus a Concat (two passes over the ring).
//   RingWrite    inputs ring [B, K, ..], new [B, 1, ..], head [B] (float, 0 .. K-1); output [B, K, ..] = ring with
//                row head[b] of batch b replaced by new[b] (passes/stream_ring.cpp: the ring as a circular buffer).
//                When the output is bound to the input's memory (StreamContext, in-place pairs) nothing else is
//                written; otherwise the ring is copied first. A head outside 0 .. K-1 (not a value the graph
//                produces) is taken as 0.
//   RingHeadNext input head [B]; attr k; output [B] = (head + 1) mod k (the next oldest entry).
//   RowLinear    inputs x [.., K], w [K, N] (row-major), bias [N]; attrs act, alpha; output [.., N] = act(x w + bias)
//                per row (passes/stream_linear.cpp: the small layers of one-row step graphs).
//   WeightedSum  inputs a [B, K], v [B, K, D]; output [B, D] = sum_k a[b,k] v[b,k,:]: torch's
//                `sum(a.unsqueeze(2) * v, 1)` (attention context) without materialising the [B, K, D] product.
#include <cstring>

#include "infer/ops/common.hpp"
#include "infer/stream_kernels.hpp"

namespace tickrt::infer::ops {
namespace {

struct RingParams { std::size_t outer, k, row; };   // row in bytes
void ring_shift_run(const Kernel& k) {
  const auto& p = k.p<RingParams>();
  const std::byte* in = k.in[0]->data;
  const std::byte* nw = k.in[1]->data;
  std::byte* out = k.out[0]->data;
  const std::size_t block = p.k * p.row;
  for (std::size_t o = 0; o < p.outer; ++o) {
    std::memcpy(out + o * block, in + o * block + p.row, block - p.row);
    std::memcpy(out + o * block + block - p.row, nw + o * p.row, p.row);
  }
}
Status ring_shift_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("needs ring and new");
  const auto& r = c.in[0].dims;
  const auto& n = c.in[1].dims;
  const std::int64_t axis = norm_axis(c.node.attr_i("axis", 1), static_cast<std::int64_t>(r.size()));
  if (axis < 0 || axis >= static_cast<std::int64_t>(r.size())) return c.fail("axis out of range for " + dims_str(r));
  if (c.in[0].dtype != c.in[1].dtype) return c.fail("ring and new differ in dtype");
  bool ok = n.size() == r.size() && n[static_cast<std::size_t>(axis)] == 1 && r[static_cast<std::size_t>(axis)] >= 1;
  for (std::size_t d = 0; ok && d < r.size(); ++d)
    if (static_cast<std::int64_t>(d) != axis && n[d] != r[d]) ok = false;
  if (!ok) return c.fail("new " + dims_str(n) + " must be ring " + dims_str(r) + " with 1 on axis " + std::to_string(axis));
  auto p = std::make_shared<RingParams>();
  p->outer = 1;
  p->row = dtype_size(c.in[0].dtype);
  for (std::int64_t d = 0; d < static_cast<std::int64_t>(r.size()); ++d) {
    if (d < axis) p->outer *= static_cast<std::size_t>(r[static_cast<std::size_t>(d)]);
    else if (d > axis) p->row *= static_cast<std::size_t>(r[static_cast<std::size_t>(d)]);
  }
  p->k = static_cast<std::size_t>(r[static_cast<std::size_t>(axis)]);
  c.out[0] = TensorInfo{c.in[0].dtype, r};
  c.k.params = p;
  c.k.run = &ring_shift_run;
  return Status::Ok();
}

struct RingWriteParams { std::size_t outer, k, row; };   // row in bytes
int head_of(float h, std::size_t k) noexcept {
  return h >= 0.f && h < static_cast<float>(k) ? static_cast<int>(h) : 0;
}
void ring_write_run(const Kernel& k) {
  const auto& p = k.p<RingWriteParams>();
  const std::byte* in = k.in[0]->data;
  const std::byte* nw = k.in[1]->data;
  const float* head = k.in[2]->as<float>();
  std::byte* out = k.out[0]->data;
  const std::size_t block = p.k * p.row;
  if (out != in) std::memcpy(out, in, p.outer * block);
  for (std::size_t o = 0; o < p.outer; ++o)
    std::memcpy(out + o * block + static_cast<std::size_t>(head_of(head[o], p.k)) * p.row, nw + o * p.row, p.row);
}
Status ring_write_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1) || !c.has(2)) return c.fail("needs ring, new and head");
  const auto& r = c.in[0].dims;
  const auto& n = c.in[1].dims;
  const auto& h = c.in[2].dims;
  if (c.in[0].dtype != c.in[1].dtype) return c.fail("ring and new differ in dtype");
  if (c.in[2].dtype != DType::f32) return c.fail("head must be float32");
  bool ok = r.size() >= 2 && n.size() == r.size() && n[1] == 1 && r[1] >= 1 && n[0] == r[0];
  for (std::size_t d = 2; ok && d < r.size(); ++d)
    if (n[d] != r[d]) ok = false;
  if (!ok) return c.fail("new " + dims_str(n) + " must be ring " + dims_str(r) + " with 1 on axis 1");
  if (h.size() != 1 || h[0] != r[0]) return c.fail("head " + dims_str(h) + " must be [" + std::to_string(r[0]) + "]");
  auto p = std::make_shared<RingWriteParams>();
  p->outer = static_cast<std::size_t>(r[0]);
  p->k = static_cast<std::size_t>(r[1]);
  p->row = dtype_size(c.in[0].dtype);
  for (std::size_t d = 2; d < r.size(); ++d) p->row *= static_cast<std::size_t>(r[d]);
  c.out[0] = TensorInfo{c.in[0].dtype, r};
  c.k.params = p;
  c.k.run = &ring_write_run;
  return Status::Ok();
}

struct HeadParams { std::size_t n, k; };
void ring_head_next_run(const Kernel& k) {
  const auto& p = k.p<HeadParams>();
  const float* h = k.in[0]->as<float>();
  float* out = k.out[0]->as<float>();
  for (std::size_t i = 0; i < p.n; ++i) {
    const std::size_t nx = static_cast<std::size_t>(head_of(h[i], p.k)) + 1;
    out[i] = nx == p.k ? 0.f : static_cast<float>(nx);
  }
}
Status ring_head_next_prepare(PrepareCtx& c) {
  if (!c.has(0)) return c.fail("needs head");
  if (c.in[0].dtype != DType::f32 || c.in[0].dims.size() != 1) return c.fail("head must be float32 [B], got " + dims_str(c.in[0].dims));
  const std::int64_t kk = c.node.attr_i("k", 0);
  if (kk < 1 || kk > (1 << 24)) return c.fail("attribute k must be 1 .. 2^24 (exact in float32)");
  auto p = std::make_shared<HeadParams>();
  p->n = static_cast<std::size_t>(c.in[0].dims[0]);
  p->k = static_cast<std::size_t>(kk);
  c.out[0] = TensorInfo{DType::f32, c.in[0].dims};
  c.k.params = p;
  c.k.run = &ring_head_next_run;
  return Status::Ok();
}

struct RowLinearParams { std::size_t rows; int K, N; cpu::Act act; float alpha; };
void row_linear_run(const Kernel& k) {
  const auto& p = k.p<RowLinearParams>();
  const float* x = k.in[0]->as<float>();
  const float* w = k.in[1]->as<float>();
  const float* b = k.in[2]->as<float>();
  float* y = k.out[0]->as<float>();
  for (std::size_t r = 0; r < p.rows; ++r) {
    float* yr = y + r * static_cast<std::size_t>(p.N);
    stream_kernels::row_times_matrix(k.isa, p.K, p.N, x + r * static_cast<std::size_t>(p.K), w, p.N, yr);
    for (int n = 0; n < p.N; ++n) yr[n] += b[n];
    if (p.act != cpu::Act::none) cpu::activation(k.isa, p.act, p.alpha, static_cast<std::size_t>(p.N), yr, yr);
  }
}
Status row_linear_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1) || !c.has(2)) return c.fail("needs x, w and bias");
  const auto& x = c.in[0].dims;
  const auto& w = c.in[1].dims;
  if (c.in[0].dtype != DType::f32 || c.in[1].dtype != DType::f32 || c.in[2].dtype != DType::f32) return c.fail("float32 only");
  if (w.size() != 2 || x.empty() || x.back() != w[0] || numel(c.in[2].dims) != w[1])
    return c.fail("x " + dims_str(x) + ", w " + dims_str(w) + ", bias " + dims_str(c.in[2].dims) + " are not [.., K], [K, N], [N]");
  auto p = std::make_shared<RowLinearParams>();
  p->K = static_cast<int>(w[0]);
  p->N = static_cast<int>(w[1]);
  p->rows = static_cast<std::size_t>(numel(x) / w[0]);
  p->act = static_cast<cpu::Act>(c.node.attr_i("act", 0));
  p->alpha = c.node.attr_f("alpha", 0.01f);
  Dims od = x;
  od.back() = w[1];
  c.out[0] = TensorInfo{DType::f32, od};
  c.k.params = p;
  c.k.run = &row_linear_run;
  return Status::Ok();
}

struct WsumParams { int B, K, D; };
void weighted_sum_run(const Kernel& k) {
  const auto& p = k.p<WsumParams>();
  const float* a = k.in[0]->as<float>();
  const float* v = k.in[1]->as<float>();
  float* out = k.out[0]->as<float>();
  for (int b = 0; b < p.B; ++b)   // out[b] = a[b] (1 x K) @ v[b] (K x D): a row times a matrix (stream_kernels.hpp)
    stream_kernels::row_times_matrix(k.isa, p.K, p.D, a + static_cast<std::size_t>(b) * p.K,
                                     v + static_cast<std::size_t>(b) * p.K * p.D, p.D, out + static_cast<std::size_t>(b) * p.D);
}
Status weighted_sum_prepare(PrepareCtx& c) {
  if (!c.has(0) || !c.has(1)) return c.fail("needs a and v");
  const auto& a = c.in[0].dims;
  const auto& v = c.in[1].dims;
  if (c.in[0].dtype != DType::f32 || c.in[1].dtype != DType::f32) return c.fail("float32 only");
  if (a.size() != 2 || v.size() != 3 || a[0] != v[0] || a[1] != v[1])
    return c.fail("a " + dims_str(a) + " and v " + dims_str(v) + " are not [B, K] and [B, K, D]");
  auto p = std::make_shared<WsumParams>();
  p->B = static_cast<int>(v[0]);
  p->K = static_cast<int>(v[1]);
  p->D = static_cast<int>(v[2]);
  c.out[0] = TensorInfo{DType::f32, {v[0], v[2]}};
  c.k.params = p;
  c.k.run = &weighted_sum_run;
  return Status::Ok();
}

}  // namespace

void register_stream(std::vector<OpDef>& r) {
  r.push_back({"tickrt", "RingShift", &ring_shift_prepare});
  r.push_back({"tickrt", "WeightedSum", &weighted_sum_prepare});
  r.push_back({"tickrt", "RingWrite", &ring_write_prepare});
  r.push_back({"tickrt", "RowLinear", &row_linear_prepare});
  r.push_back({"tickrt", "RingHeadNext", &ring_head_next_prepare});
}

}  // namespace tickrt::infer::ops
