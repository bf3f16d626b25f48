// infer/cuda/kernels.cuh — launchers of tickrt's own CUDA kernels (kernels.cu), called by context.cpp at
// prepare time (inside stream capture) or per run when graphs are off. Plain C++ interface: the host side
// is compiled by the C++ compiler, only kernels.cu by nvcc. Every launcher is asynchronous on `s`.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

namespace tickrt::infer::cuda::k {

constexpr int kMaxRank = 6;

// dst[dst_off + sum i_k*dst_st[k]] = src[src_off + sum i_k*src_st[k]] for every index i over dims[0..rank).
// Transpose, Slice, Split, Concat (one call per input), Expand and contiguous copies are all this kernel.
struct Strided {
  int rank = 0;
  std::int64_t dims[kMaxRank] = {};
  std::int64_t src_st[kMaxRank] = {};
  std::int64_t dst_st[kMaxRank] = {};
  std::int64_t src_off = 0, dst_off = 0;
};
void strided_copy(const void* src, void* dst, int elem_bytes, const Strided& p, cudaStream_t s);

enum class Bin : int { add, sub, mul, div, pow, max, min };
// out (contiguous, dims) = a op b with a_st/b_st broadcast strides (0 on broadcast axes).
struct Broadcast {
  int rank = 0;
  std::int64_t dims[kMaxRank] = {};
  std::int64_t a_st[kMaxRank] = {};
  std::int64_t b_st[kMaxRank] = {};
};
void binary(Bin op, const float* a, const float* b, float* out, std::int64_t n, const Broadcast& p, bool same_shape,
            cudaStream_t s);

enum class Un : int { relu, tanh, sigmoid, leaky_relu, exp, neg, sqrt, abs, erf, gelu, identity, elu, softplus, reciprocal };
void unary(Un op, float alpha, const float* x, float* y, std::int64_t n, cudaStream_t s);

// x viewed as [outer, n, inner]; softmax / log-softmax along n.
void softmax(const float* x, float* y, std::int64_t outer, std::int64_t n, std::int64_t inner, bool log, cudaStream_t s);
// y[o, i] = reduce_{r} x[o, r, i]; mean divides by r.
enum class Red : int { sum, mean, max, min };
void reduce(Red op, const float* x, float* y, std::int64_t outer, std::int64_t r, std::int64_t inner, cudaStream_t s);
// rows of n: y = (x - mean) / sqrt(var + eps) * gamma + beta (gamma/beta may be null); mean/rstd optional.
void layernorm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
               std::int64_t rows, std::int64_t n, float eps, cudaStream_t s);
// y[i] = x[i] * a[c] + b[c], c = (i / inner) % C (batch norm folded to one affine per channel at prepare).
void channel_affine(const float* x, const float* a, const float* b, float* y, std::int64_t n, std::int64_t C,
                    std::int64_t inner, cudaStream_t s);
// y[r, j] = act(y[r, j] + bias[j]) on rows of N (bias may be null): GEMM epilogue.
void bias_act(float* y, const float* bias, std::int64_t rows, std::int64_t N, Un act, float alpha, cudaStream_t s);
// out = beta * broadcast(C) into an [M, N] matrix (c_rows/c_cols are 1 where C broadcasts).
void fill_broadcast2d(const float* c, float beta, std::int64_t c_rows, std::int64_t c_cols, float* out, std::int64_t M,
                      std::int64_t N, cudaStream_t s);

// Epilogue per output channel m: v = act((acc + bias[m]) * ea[m] + eb[m]) (ea/eb null: no affine; a batch
// norm that follows the convolution is folded into ea/eb at prepare, the activation after it into act).
struct Conv2d {
  std::int64_t N, C, H, W, M, OH, OW, KH, KW, group;
  std::int64_t sh, sw, ph, pw, dh, dw;
  const float* ea = nullptr;
  const float* eb = nullptr;
  Un act = Un::identity;
  float alpha = 0.f;
};
void conv2d(const float* x, const float* w, const float* bias, float* y, const Conv2d& p, cudaStream_t s);

// Gather along an axis: x viewed as [outer, axis_n, inner]; idx has nidx int64 (negatives wrap).
void gather(const void* x, const std::int64_t* idx, void* y, int elem_bytes, std::int64_t outer, std::int64_t axis_n,
            std::int64_t inner, std::int64_t nidx, cudaStream_t s);

// LSTM recurrence. G holds x W^T for every (t, b) row (row = layout 0 ? t*B + b : b*T + t, 4H wide, gate
// order i, o, f, c as ONNX); bias = Wb + Rb (4H); R is ONNX's [4H, H]; h0/c0 [B, H] or null (zeros).
// Y rows as G's (H wide), may be null; hT/cT [B, H] may be null.
struct Lstm {
  int T, B, H, layout;
  const float* G;
  const float* bias;
  const float* R;
  const float* h0;
  const float* c0;
  float* Y;
  float* hT;
  float* cT;
};
// True when the persistent kernel applies (R^T fits in shared memory next to the per-tile state).
bool lstm_persistent_fits(int H, int B, int sms);
// One kernel for all T steps; blocks own batch tiles.
cudaError_t lstm_persistent(const Lstm& p, int sms, cudaStream_t s);
// Fallback, per step t (after the caller added h_{t-1} R^T into G's step-t rows): the cell update.
// c is a [B, H] state buffer, initialised from c0 (or zero) by lstm_init_state before step 0.
void lstm_init_state(const float* c0, float* c, int B, int H, cudaStream_t s);
void lstm_cell_step(const Lstm& p, int t, float* c, cudaStream_t s);

}  // namespace tickrt::infer::cuda::k
