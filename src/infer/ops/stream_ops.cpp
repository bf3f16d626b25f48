// Streaming-model ops (domain "tickrt"), produced by passes/stream_fusion.cpp from the one-step graphs of
// stateful models (infer/stream.hpp):
//   RingShift    inputs ring [.., K, ..], new [.., 1, ..]; attr axis; output [.., K, ..] = concat(ring[.., 1:, ..], new)
//                along axis: torch's `cat([ring[:, 1:], y], 1)`, one memcpy per outer index instead of a generic
//                Slice kernel plus a Concat (two passes over the ring).
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
}

}  // namespace tickrt::infer::ops
