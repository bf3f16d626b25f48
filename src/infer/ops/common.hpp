// infer/ops/common.hpp — helpers shared by the reference op implementations (not a public contract).
#pragma once

#include <cmath>
#include <cstring>

#include "infer/ops/op.hpp"

namespace tickrt::infer::ops {

constexpr int kMaxRank = 8;

// Strided walk of a broadcast operand over the output shape: offsets computed once at prepare time.
struct BroadcastMap {
  int rank = 0;
  std::int64_t out_dims[kMaxRank] = {};
  std::int64_t stride[kMaxRank] = {};   // 0 on broadcast axes
};
BroadcastMap make_broadcast_map(const Dims& in, const Dims& out);

// Calls f(out_index, in_offset_0, in_offset_1, ...) for every element, walking N broadcast maps together.
template <int N, class F>
inline void for_each_broadcast(const BroadcastMap (&m)[N], std::int64_t total, F&& f) {
  const int rank = m[0].rank;
  std::int64_t idx[kMaxRank] = {};
  std::int64_t off[N] = {};
  for (std::int64_t i = 0; i < total; ++i) {
    f(i, off);
    for (int d = rank - 1; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < N; ++k) off[k] += m[k].stride[d];
      if (idx[d] < m[0].out_dims[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= m[k].stride[d] * idx[d];
      idx[d] = 0;
    }
  }
}

// Copies n elements of x into y in output order, walking x with per-axis strides (Transpose, Slice, ...).
template <class T>
inline void strided_gather(const T* x, T* y, std::int64_t n, int rank, const std::int64_t* out_dims, const std::int64_t* stride) {
  std::int64_t idx[kMaxRank] = {};
  std::int64_t off = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    y[i] = x[off];
    for (int d = rank - 1; d >= 0; --d) {
      ++idx[d];
      off += stride[d];
      if (idx[d] < out_dims[d]) break;
      off -= stride[d] * idx[d];
      idx[d] = 0;
    }
  }
}

// Dispatch a functor template over the numeric dtypes: F<T>::run(...) or a generic lambda with a tag.
template <class T> struct Tag { using type = T; };
template <class F>
inline bool dispatch_numeric(DType t, F&& f) {
  switch (t) {
    case DType::f32: f(Tag<float>{}); return true;
    case DType::f64: f(Tag<double>{}); return true;
    case DType::i64: f(Tag<std::int64_t>{}); return true;
    case DType::i32: f(Tag<std::int32_t>{}); return true;
    case DType::i16: f(Tag<std::int16_t>{}); return true;
    case DType::i8: f(Tag<std::int8_t>{}); return true;
    case DType::u8: f(Tag<std::uint8_t>{}); return true;
    case DType::u16: f(Tag<std::uint16_t>{}); return true;
    case DType::u32: f(Tag<std::uint32_t>{}); return true;
    case DType::u64: f(Tag<std::uint64_t>{}); return true;
    default: return false;
  }
}

// Read axes from an attribute (older opsets) or from a constant input (newer opsets).
Status axes_from(const PrepareCtx& c, const char* attr, std::size_t input_index, std::vector<std::int64_t>& axes, bool& given);
std::vector<std::int64_t> const_ints(const TensorInfo& t);

inline void copy_run(const Kernel& k) {
  std::memcpy(k.out[0]->data, k.in[0]->data, static_cast<std::size_t>(k.out[0]->numel) * dtype_size(k.out[0]->dtype));
}

// Registration of each family (called by registry.cpp).
void register_elementwise(std::vector<OpDef>& r);
void register_shape_ops(std::vector<OpDef>& r);
void register_reduce(std::vector<OpDef>& r);
void register_linalg(std::vector<OpDef>& r);
void register_nn(std::vector<OpDef>& r);
void register_rnn(std::vector<OpDef>& r);
void register_fused(std::vector<OpDef>& r);
void register_quant(std::vector<OpDef>& r);   // quant_ops.cpp: INT8 / FP16 fused ops
void register_stream(std::vector<OpDef>& r);  // stream_ops.cpp: RingShift / WeightedSum (streaming models)
void register_conv_nhwc(std::vector<OpDef>& r);  // conv_nhwc.cpp: tickrt.ConvNHWC (channels-last convolutions)

}  // namespace tickrt::infer::ops
