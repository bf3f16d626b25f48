// infer/cuda/kernels.cu — tickrt's own CUDA kernels (contract: kernels.cuh).
// Accuracy: expf/tanhf/erff (not the __expf intrinsics) so FP32 results stay within 1e-4 of the CPU engine.
#include "infer/cuda/kernels.cuh"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace tickrt::infer::cuda::k {
namespace {

constexpr int kThreads = 256;

inline unsigned blocks_for(std::int64_t n, int threads = kThreads) {
  std::int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65535LL * 8) b = 65535LL * 8;   // grid-stride loops cover the rest
  return static_cast<unsigned>(b);
}

__device__ __forceinline__ float sigmoidf_(float x) { return 1.f / (1.f + expf(-x)); }

__device__ __forceinline__ float apply_un(Un op, float a, float x) {
  switch (op) {
    case Un::relu: return x > 0.f ? x : 0.f;
    case Un::tanh: return tanhf(x);
    case Un::sigmoid: return sigmoidf_(x);
    case Un::leaky_relu: return x >= 0.f ? x : a * x;
    case Un::exp: return expf(x);
    case Un::neg: return -x;
    case Un::sqrt: return sqrtf(x);
    case Un::abs: return fabsf(x);
    case Un::erf: return erff(x);
    case Un::gelu: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case Un::identity: return x;
    case Un::elu: return x >= 0.f ? x : a * (expf(x) - 1.f);
    case Un::softplus: return x > 20.f ? x : log1pf(expf(x));
    case Un::reciprocal: return 1.f / x;
  }
  return x;
}

__device__ __forceinline__ float apply_bin(Bin op, float a, float b) {
  switch (op) {
    case Bin::add: return a + b;
    case Bin::sub: return a - b;
    case Bin::mul: return a * b;
    case Bin::div: return a / b;
    case Bin::pow: return powf(a, b);
    case Bin::max: return fmaxf(a, b);
    case Bin::min: return fminf(a, b);
  }
  return a;
}

template <class T>
__global__ void strided_copy_kernel(const T* __restrict__ src, T* __restrict__ dst, Strided p, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t r = i, so = p.src_off, d = p.dst_off;
    for (int a = p.rank - 1; a >= 0; --a) {
      const std::int64_t q = r / p.dims[a], idx = r - q * p.dims[a];
      r = q;
      so += idx * p.src_st[a];
      d += idx * p.dst_st[a];
    }
    dst[d] = src[so];
  }
}

__global__ void binary_same_kernel(Bin op, const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y,
                                   std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    y[i] = apply_bin(op, a[i], b[i]);
}

__global__ void binary_bcast_kernel(Bin op, const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y,
                                    std::int64_t n, Broadcast p) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t r = i, ao = 0, bo = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const std::int64_t q = r / p.dims[d], idx = r - q * p.dims[d];
      r = q;
      ao += idx * p.a_st[d];
      bo += idx * p.b_st[d];
    }
    y[i] = apply_bin(op, a[ao], b[bo]);
  }
}

__global__ void unary_kernel(Un op, float alpha, const float* __restrict__ x, float* __restrict__ y, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    y[i] = apply_un(op, alpha, x[i]);
}

// One warp per row (inner == 1).
__global__ void softmax_rows_kernel(const float* __restrict__ x, float* __restrict__ y, std::int64_t rows, std::int64_t n, bool lg) {
  const std::int64_t row = blockIdx.x * static_cast<std::int64_t>(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const float* xr = x + row * n;
  float* yr = y + row * n;
  float m = -INFINITY;
  for (std::int64_t i = lane; i < n; i += 32) m = fmaxf(m, xr[i]);
  for (int o = 16; o; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  float s = 0.f;
  for (std::int64_t i = lane; i < n; i += 32) s += expf(xr[i] - m);
  for (int o = 16; o; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (lg) {
    const float ls = logf(s);
    for (std::int64_t i = lane; i < n; i += 32) yr[i] = xr[i] - m - ls;
  } else {
    const float inv = 1.f / s;
    for (std::int64_t i = lane; i < n; i += 32) yr[i] = expf(xr[i] - m) * inv;
  }
}

// One thread per (outer, inner) column (inner > 1).
__global__ void softmax_cols_kernel(const float* __restrict__ x, float* __restrict__ y, std::int64_t outer, std::int64_t n,
                                    std::int64_t inner, bool lg) {
  const std::int64_t id = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (id >= outer * inner) return;
  const std::int64_t o = id / inner, in = id - o * inner;
  const float* xc = x + o * n * inner + in;
  float* yc = y + o * n * inner + in;
  float m = -INFINITY;
  for (std::int64_t i = 0; i < n; ++i) m = fmaxf(m, xc[i * inner]);
  float s = 0.f;
  for (std::int64_t i = 0; i < n; ++i) s += expf(xc[i * inner] - m);
  if (lg) {
    const float ls = logf(s);
    for (std::int64_t i = 0; i < n; ++i) yc[i * inner] = xc[i * inner] - m - ls;
  } else {
    const float inv = 1.f / s;
    for (std::int64_t i = 0; i < n; ++i) yc[i * inner] = expf(xc[i * inner] - m) * inv;
  }
}

__global__ void reduce_kernel(Red op, const float* __restrict__ x, float* __restrict__ y, std::int64_t outer, std::int64_t r,
                              std::int64_t inner) {
  const std::int64_t id = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (id >= outer * inner) return;
  const std::int64_t o = id / inner, in = id - o * inner;
  const float* xc = x + o * r * inner + in;
  float acc = op == Red::max ? -INFINITY : op == Red::min ? INFINITY : 0.f;
  for (std::int64_t i = 0; i < r; ++i) {
    const float v = xc[i * inner];
    acc = op == Red::max ? fmaxf(acc, v) : op == Red::min ? fminf(acc, v) : acc + v;
  }
  if (op == Red::mean) acc /= static_cast<float>(r);
  y[id] = acc;
}

// One warp per row; two passes over the row (mean, then centred variance) as the CPU kernel.
__global__ void layernorm_kernel(const float* __restrict__ x, const float* __restrict__ g, const float* __restrict__ b,
                                 float* __restrict__ y, float* __restrict__ mean_out, float* __restrict__ rstd_out,
                                 std::int64_t rows, std::int64_t n, float eps) {
  const std::int64_t row = blockIdx.x * static_cast<std::int64_t>(blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const float* xr = x + row * n;
  float* yr = y + row * n;
  float s = 0.f;
  for (std::int64_t i = lane; i < n; i += 32) s += xr[i];
  for (int o = 16; o; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  const float mean = s / static_cast<float>(n);
  float v = 0.f;
  for (std::int64_t i = lane; i < n; i += 32) {
    const float d = xr[i] - mean;
    v += d * d;
  }
  for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const float rstd = 1.f / sqrtf(v / static_cast<float>(n) + eps);
  for (std::int64_t i = lane; i < n; i += 32) {
    float t = (xr[i] - mean) * rstd;
    if (g) t *= g[i];
    if (b) t += b[i];
    yr[i] = t;
  }
  if (lane == 0) {
    if (mean_out) mean_out[row] = mean;
    if (rstd_out) rstd_out[row] = rstd;
  }
}

__global__ void channel_affine_kernel(const float* __restrict__ x, const float* __restrict__ a, const float* __restrict__ b,
                                      float* __restrict__ y, std::int64_t n, std::int64_t C, std::int64_t inner) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t c = (i / inner) % C;
    y[i] = x[i] * a[c] + b[c];
  }
}

__global__ void bias_act_kernel(float* __restrict__ y, const float* __restrict__ bias, std::int64_t rows, std::int64_t N, Un act,
                                float alpha) {
  const std::int64_t n = rows * N;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    float v = y[i];
    if (bias) v += bias[i % N];
    y[i] = apply_un(act, alpha, v);
  }
}

__global__ void fill_broadcast2d_kernel(const float* __restrict__ c, float beta, std::int64_t cr, std::int64_t cc,
                                        float* __restrict__ out, std::int64_t M, std::int64_t N) {
  const std::int64_t n = M * N;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / N, col = i - r * N;
    out[i] = beta * c[(cr == 1 ? 0 : r) * cc + (cc == 1 ? 0 : col)];
  }
}

__global__ void conv2d_kernel(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
                              float* __restrict__ y, Conv2d p) {
  const std::int64_t total = p.N * p.M * p.OH * p.OW;
  const std::int64_t cpg = p.C / p.group, mpg = p.M / p.group;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t r = i;
    const std::int64_t ow = r % p.OW; r /= p.OW;
    const std::int64_t oh = r % p.OH; r /= p.OH;
    const std::int64_t m = r % p.M;
    const std::int64_t n = r / p.M;
    const std::int64_t g = m / mpg;
    float acc = bias ? bias[m] : 0.f;
    for (std::int64_t c = 0; c < cpg; ++c) {
      const float* xc = x + ((n * p.C + g * cpg + c) * p.H) * p.W;
      const float* wc = w + ((m * cpg + c) * p.KH) * p.KW;
      for (std::int64_t kh = 0; kh < p.KH; ++kh) {
        const std::int64_t ih = oh * p.sh - p.ph + kh * p.dh;
        if (ih < 0 || ih >= p.H) continue;
        for (std::int64_t kw = 0; kw < p.KW; ++kw) {
          const std::int64_t iw = ow * p.sw - p.pw + kw * p.dw;
          if (iw < 0 || iw >= p.W) continue;
          acc = fmaf(xc[ih * p.W + iw], wc[kh * p.KW + kw], acc);
        }
      }
    }
    if (p.ea) acc = acc * p.ea[m] + p.eb[m];
    y[i] = apply_un(p.act, p.alpha, acc);
  }
}

// group == 1 and every weight in shared memory: one thread per output pixel computes MT output channels, so
// each input value is loaded once per MT channels (the naive kernel loads it once per channel); the weight
// reads are warp-wide broadcasts. Consecutive threads take consecutive pixels: loads and stores coalesce.
template <int MT>
__global__ void conv2d_tile_kernel(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
                                   float* __restrict__ y, Conv2d p) {
  extern __shared__ float ws[];
  const std::int64_t nw = p.M * p.C * p.KH * p.KW;
  for (std::int64_t i = threadIdx.x; i < nw; i += blockDim.x) ws[i] = w[i];
  __syncthreads();
  const std::int64_t pix = p.OH * p.OW, total = p.N * pix;
  const int m0 = blockIdx.y * MT;
  const int mt = min(MT, static_cast<int>(p.M) - m0);
  const int kk = static_cast<int>(p.KH * p.KW);
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t n = i / pix, q = i - n * pix, oh = q / p.OW, ow = q - oh * p.OW;
    float acc[MT];
#pragma unroll
    for (int j = 0; j < MT; ++j) acc[j] = 0.f;
    for (std::int64_t c = 0; c < p.C; ++c) {
      const float* xc = x + ((n * p.C + c) * p.H) * p.W;
      const float* wc = ws + (static_cast<std::int64_t>(m0) * p.C + c) * kk;
      for (int kh = 0; kh < p.KH; ++kh) {
        const std::int64_t ih = oh * p.sh - p.ph + kh * p.dh;
        if (ih < 0 || ih >= p.H) continue;
        for (int kw = 0; kw < p.KW; ++kw) {
          const std::int64_t iw = ow * p.sw - p.pw + kw * p.dw;
          if (iw < 0 || iw >= p.W) continue;
          const float xv = xc[ih * p.W + iw];
          const float* wk = wc + kh * p.KW + kw;
#pragma unroll
          for (int j = 0; j < MT; ++j)
            if (j < mt) acc[j] = fmaf(xv, wk[static_cast<std::int64_t>(j) * p.C * kk], acc[j]);
        }
      }
    }
#pragma unroll
    for (int j = 0; j < MT; ++j) {
      if (j >= mt) break;
      const int m = m0 + j;
      float v = acc[j] + (bias ? bias[m] : 0.f);
      if (p.ea) v = v * p.ea[m] + p.eb[m];
      y[(n * p.M + m) * pix + q] = apply_un(p.act, p.alpha, v);
    }
  }
}

template <class T>
__global__ void gather_kernel(const T* __restrict__ x, const std::int64_t* __restrict__ idx, T* __restrict__ y, std::int64_t outer,
                              std::int64_t axis_n, std::int64_t inner, std::int64_t nidx) {
  const std::int64_t n = outer * nidx * inner;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t in = i % inner, j = (i / inner) % nidx, o = i / (inner * nidx);
    std::int64_t k = idx[j];
    if (k < 0) k += axis_n;
    y[i] = x[(o * axis_n + k) * inner + in];
  }
}

// ---- LSTM ----------------------------------------------------------------------------------------------
// Persistent recurrence. Block = one tile of BT batch rows for all T steps (rows are independent, so blocks
// never wait for each other). 4H gate columns x KS = H/CH lanes per column: each thread holds CH values of
// one column of R^T in registers (R never re-read), the KS partial dots of a column are adjacent lanes and
// meet through shuffles. Per step: gates -> shared memory -> cell update by BT*H threads -> h back to shared.
// The next step's x W^T rows are loaded before the dot so their latency hides behind it.
constexpr int kCH = 16;

template <int BT>
__global__ void __launch_bounds__(1024) lstm_persistent_kernel(Lstm p) {
  extern __shared__ float sm[];
  const int H = p.H, G4 = 4 * H, KS = H / kCH;
  float* hs = sm;              // [BT][H]
  float* cs = hs + BT * H;     // [BT][H]
  float* gs = cs + BT * H;     // [BT][4H]
  const int tid = threadIdx.x;
  const int j = tid / KS, part = tid - j * KS;   // gate column, K slice
  const int b0 = blockIdx.x * BT;
  const int nb = min(BT, p.B - b0);

  float r[kCH];
#pragma unroll
  for (int kk = 0; kk < kCH; ++kk) r[kk] = p.R[static_cast<std::int64_t>(j) * H + part * kCH + kk];
  const float bj = p.bias ? p.bias[j] : 0.f;
  for (int i = tid; i < BT * H; i += blockDim.x) {
    const int b = i / H, u = i - b * H;
    const bool live = b < nb;
    hs[i] = live && p.h0 ? p.h0[static_cast<std::int64_t>(b0 + b) * H + u] : 0.f;
    cs[i] = live && p.c0 ? p.c0[static_cast<std::int64_t>(b0 + b) * H + u] : 0.f;
  }
  auto row = [&](int t, int b) -> std::int64_t {
    return p.layout == 0 ? static_cast<std::int64_t>(t) * p.B + b : static_cast<std::int64_t>(b) * p.T + t;
  };
  float gnext[BT];
#pragma unroll
  for (int b = 0; b < BT; ++b) gnext[b] = (part == 0 && b < nb) ? p.G[row(0, b0 + b) * G4 + j] : 0.f;
  __syncthreads();

  for (int t = 0; t < p.T; ++t) {
    float gx[BT];
#pragma unroll
    for (int b = 0; b < BT; ++b) gx[b] = gnext[b];
    if (t + 1 < p.T) {
#pragma unroll
      for (int b = 0; b < BT; ++b) gnext[b] = (part == 0 && b < nb) ? p.G[row(t + 1, b0 + b) * G4 + j] : 0.f;
    }
    float acc[BT];
#pragma unroll
    for (int b = 0; b < BT; ++b) {
      float a = 0.f;
      const float* hb = hs + b * H + part * kCH;
#pragma unroll
      for (int kk = 0; kk < kCH; ++kk) a = fmaf(hb[kk], r[kk], a);
      acc[b] = a;
    }
#pragma unroll
    for (int b = 0; b < BT; ++b)
      for (int o = KS / 2; o; o >>= 1) acc[b] += __shfl_xor_sync(0xffffffffu, acc[b], o);
    if (part == 0) {
#pragma unroll
      for (int b = 0; b < BT; ++b) gs[b * G4 + j] = acc[b] + gx[b] + bj;
    }
    __syncthreads();
    for (int i = tid; i < nb * H; i += blockDim.x) {
      const int b = i / H, u = i - b * H;
      const float* g = gs + b * G4;
      const float gi = sigmoidf_(g[u]), go = sigmoidf_(g[H + u]), gf = sigmoidf_(g[2 * H + u]), gc = tanhf(g[3 * H + u]);
      const float c = gf * cs[i] + gi * gc;
      cs[i] = c;
      const float h = go * tanhf(c);
      hs[i] = h;
      if (p.Y) p.Y[row(t, b0 + b) * H + u] = h;
    }
    __syncthreads();
  }
  for (int i = tid; i < nb * H; i += blockDim.x) {
    const int b = i / H, u = i - b * H;
    if (p.hT) p.hT[static_cast<std::int64_t>(b0 + b) * H + u] = hs[i];
    if (p.cT) p.cT[static_cast<std::int64_t>(b0 + b) * H + u] = cs[i];
  }
}

// Version 2 (the default): one thread group of KS = H/8 adjacent lanes per hidden unit u; each lane holds 8
// values of the four gate rows of u (R's rows i, o, f, c of u) for its K slice, so after the shuffle reduction
// every lane of the group has all four gate pre-activations of u for every row of the tile, and lane b updates
// row b's cell (c in a register) — no gate round trip through shared memory. h is double-buffered in shared
// memory, so a step needs one __syncthreads (version 1 needs two). BT <= KS.
template <int BT>
__global__ void __launch_bounds__(512) lstm_persistent2_kernel(Lstm p) {
  extern __shared__ float sm[];   // [2][BT][H]
  const int H = p.H, G4 = 4 * H, KS = H / 8;
  const int tid = threadIdx.x, u = tid / KS, part = tid - u * KS;
  const int b0 = blockIdx.x * BT;
  const int nb = min(BT, p.B - b0);
  float r[4][8];
#pragma unroll
  for (int g = 0; g < 4; ++g)
#pragma unroll
    for (int kk = 0; kk < 8; ++kk) r[g][kk] = p.R[static_cast<std::int64_t>(g * H + u) * H + part * 8 + kk];
  float bias[4];
#pragma unroll
  for (int g = 0; g < 4; ++g) bias[g] = p.bias ? p.bias[g * H + u] : 0.f;
  const bool owner = part < nb;   // this lane owns row b = part of the tile
  const int b = part;
  auto row = [&](int t, int bb) -> std::int64_t {
    return p.layout == 0 ? static_cast<std::int64_t>(t) * p.B + bb : static_cast<std::int64_t>(bb) * p.T + t;
  };
  float c = 0.f, h = 0.f;
  if (owner) {
    c = p.c0 ? p.c0[static_cast<std::int64_t>(b0 + b) * H + u] : 0.f;
    h = p.h0 ? p.h0[static_cast<std::int64_t>(b0 + b) * H + u] : 0.f;
  }
  for (int i = tid; i < 2 * BT * H; i += blockDim.x) {
    const int bb = (i / H) % BT, uu = i % H;
    sm[i] = (i < BT * H && bb < nb && p.h0) ? p.h0[static_cast<std::int64_t>(b0 + bb) * H + uu] : 0.f;
  }
  float gx[4] = {0.f, 0.f, 0.f, 0.f};
  if (owner) {
#pragma unroll
    for (int g = 0; g < 4; ++g) gx[g] = p.G[row(0, b0 + b) * G4 + g * H + u];
  }
  __syncthreads();
  for (int t = 0; t < p.T; ++t) {
    const float* hp = sm + (t & 1) * BT * H;
    float* hn = sm + ((t + 1) & 1) * BT * H;
    float cur[4];
#pragma unroll
    for (int g = 0; g < 4; ++g) cur[g] = gx[g];
    if (owner && t + 1 < p.T) {
#pragma unroll
      for (int g = 0; g < 4; ++g) gx[g] = p.G[row(t + 1, b0 + b) * G4 + g * H + u];
    }
    float acc[4][BT];
#pragma unroll
    for (int bb = 0; bb < BT; ++bb) {
      const float4* hv = reinterpret_cast<const float4*>(hp + bb * H + part * 8);
      const float4 x0 = hv[0], x1 = hv[1];
#pragma unroll
      for (int g = 0; g < 4; ++g) {
        float a = r[g][0] * x0.x;
        a = fmaf(r[g][1], x0.y, a);
        a = fmaf(r[g][2], x0.z, a);
        a = fmaf(r[g][3], x0.w, a);
        a = fmaf(r[g][4], x1.x, a);
        a = fmaf(r[g][5], x1.y, a);
        a = fmaf(r[g][6], x1.z, a);
        a = fmaf(r[g][7], x1.w, a);
        acc[g][bb] = a;
      }
    }
#pragma unroll
    for (int bb = 0; bb < BT; ++bb)
#pragma unroll
      for (int g = 0; g < 4; ++g)
        for (int o = KS / 2; o; o >>= 1) acc[g][bb] += __shfl_xor_sync(0xffffffffu, acc[g][bb], o);
    if (owner) {
      float a[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
      for (int bb = 0; bb < BT; ++bb)
        if (bb == b) {
#pragma unroll
          for (int g = 0; g < 4; ++g) a[g] = acc[g][bb];
        }
      const float gi = sigmoidf_(a[0] + cur[0] + bias[0]), go = sigmoidf_(a[1] + cur[1] + bias[1]),
                  gf = sigmoidf_(a[2] + cur[2] + bias[2]), gc = tanhf(a[3] + cur[3] + bias[3]);
      c = gf * c + gi * gc;
      h = go * tanhf(c);
      hn[b * H + u] = h;
      if (p.Y) p.Y[row(t, b0 + b) * H + u] = h;
    }
    __syncthreads();
  }
  if (owner) {
    if (p.hT) p.hT[static_cast<std::int64_t>(b0 + b) * H + u] = h;
    if (p.cT) p.cT[static_cast<std::int64_t>(b0 + b) * H + u] = c;
  }
}

bool use_v1() {
  static const bool v1 = [] {
    const char* e = std::getenv("TICKRT_CUDA_LSTM");
    return e && std::string(e) == "v1";
  }();
  return v1;
}

int pick_bt(int B, int sms) {
  const int want = (B + sms - 1) / sms;
  for (int bt : {1, 2, 4, 8})
    if (bt >= want) return bt;
  return 8;
}

__global__ void lstm_init_state_kernel(const float* __restrict__ c0, float* __restrict__ c, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    c[i] = c0 ? c0[i] : 0.f;
}

__global__ void lstm_cell_kernel(Lstm p, int t, float* __restrict__ c) {
  const std::int64_t n = static_cast<std::int64_t>(p.B) * p.H;
  const int H = p.H;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t b = i / H, u = i - b * H;
    const std::int64_t r = p.layout == 0 ? static_cast<std::int64_t>(t) * p.B + b : b * p.T + t;
    const float* g = p.G + r * 4 * H;
    const float* bs = p.bias;
    const float gi = sigmoidf_(g[u] + (bs ? bs[u] : 0.f)), go = sigmoidf_(g[H + u] + (bs ? bs[H + u] : 0.f)),
                gf = sigmoidf_(g[2 * H + u] + (bs ? bs[2 * H + u] : 0.f)), gc = tanhf(g[3 * H + u] + (bs ? bs[3 * H + u] : 0.f));
    const float cv = gf * c[i] + gi * gc;
    c[i] = cv;
    const float h = go * tanhf(cv);
    p.Y[r * H + u] = h;
    if (t == p.T - 1) {
      if (p.hT) p.hT[i] = h;
      if (p.cT) p.cT[i] = cv;
    }
  }
}

}  // namespace

void strided_copy(const void* src, void* dst, int elem_bytes, const Strided& p, cudaStream_t s) {
  std::int64_t n = 1;
  for (int a = 0; a < p.rank; ++a) n *= p.dims[a];
  if (n <= 0) return;
  const unsigned g = blocks_for(n);
  switch (elem_bytes) {
    case 1: strided_copy_kernel<<<g, kThreads, 0, s>>>(static_cast<const std::uint8_t*>(src), static_cast<std::uint8_t*>(dst), p, n); break;
    case 2: strided_copy_kernel<<<g, kThreads, 0, s>>>(static_cast<const std::uint16_t*>(src), static_cast<std::uint16_t*>(dst), p, n); break;
    case 8: strided_copy_kernel<<<g, kThreads, 0, s>>>(static_cast<const std::uint64_t*>(src), static_cast<std::uint64_t*>(dst), p, n); break;
    default: strided_copy_kernel<<<g, kThreads, 0, s>>>(static_cast<const std::uint32_t*>(src), static_cast<std::uint32_t*>(dst), p, n); break;
  }
}

void binary(Bin op, const float* a, const float* b, float* out, std::int64_t n, const Broadcast& p, bool same_shape,
            cudaStream_t s) {
  if (n <= 0) return;
  if (same_shape) binary_same_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, a, b, out, n);
  else binary_bcast_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, a, b, out, n, p);
}

void unary(Un op, float alpha, const float* x, float* y, std::int64_t n, cudaStream_t s) {
  if (n > 0) unary_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, alpha, x, y, n);
}

void softmax(const float* x, float* y, std::int64_t outer, std::int64_t n, std::int64_t inner, bool log, cudaStream_t s) {
  if (outer * n * inner <= 0) return;
  if (inner == 1) {
    const std::int64_t per_block = kThreads / 32;
    softmax_rows_kernel<<<static_cast<unsigned>((outer + per_block - 1) / per_block), kThreads, 0, s>>>(x, y, outer, n, log);
  } else {
    const std::int64_t cols = outer * inner;
    softmax_cols_kernel<<<static_cast<unsigned>((cols + kThreads - 1) / kThreads), kThreads, 0, s>>>(x, y, outer, n, inner, log);
  }
}

void reduce(Red op, const float* x, float* y, std::int64_t outer, std::int64_t r, std::int64_t inner, cudaStream_t s) {
  const std::int64_t cols = outer * inner;
  if (cols > 0) reduce_kernel<<<static_cast<unsigned>((cols + kThreads - 1) / kThreads), kThreads, 0, s>>>(op, x, y, outer, r, inner);
}

void layernorm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd, std::int64_t rows,
               std::int64_t n, float eps, cudaStream_t s) {
  if (rows <= 0) return;
  const std::int64_t per_block = kThreads / 32;
  layernorm_kernel<<<static_cast<unsigned>((rows + per_block - 1) / per_block), kThreads, 0, s>>>(x, gamma, beta, y, mean, rstd,
                                                                                                   rows, n, eps);
}

void channel_affine(const float* x, const float* a, const float* b, float* y, std::int64_t n, std::int64_t C, std::int64_t inner,
                    cudaStream_t s) {
  if (n > 0) channel_affine_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, a, b, y, n, C, inner);
}

void bias_act(float* y, const float* bias, std::int64_t rows, std::int64_t N, Un act, float alpha, cudaStream_t s) {
  if (rows * N > 0) bias_act_kernel<<<blocks_for(rows * N), kThreads, 0, s>>>(y, bias, rows, N, act, alpha);
}

void fill_broadcast2d(const float* c, float beta, std::int64_t c_rows, std::int64_t c_cols, float* out, std::int64_t M,
                      std::int64_t N, cudaStream_t s) {
  if (M * N > 0) fill_broadcast2d_kernel<<<blocks_for(M * N), kThreads, 0, s>>>(c, beta, c_rows, c_cols, out, M, N);
}

void conv2d(const float* x, const float* w, const float* bias, float* y, const Conv2d& p, cudaStream_t s) {
  const std::int64_t n = p.N * p.M * p.OH * p.OW;
  if (n <= 0) return;
  const std::size_t wbytes = sizeof(float) * static_cast<std::size_t>(p.M * p.C * p.KH * p.KW);
  const std::int64_t pixels = p.N * p.OH * p.OW;
  // The tiled kernel trades parallelism (one thread per pixel, not per output) for 16x fewer input loads:
  // it pays only once there are enough pixels to fill the GPU (measured: 5x slower than the naive kernel at
  // batch 1 of convlstm, 2560 pixels per convolution).
  if (p.group == 1 && wbytes <= 48 * 1024 && pixels >= 64 * 1024) {
    const dim3 grid(blocks_for(pixels, 128), static_cast<unsigned>((p.M + 15) / 16));
    conv2d_tile_kernel<16><<<grid, 128, wbytes, s>>>(x, w, bias, y, p);
    return;
  }
  conv2d_kernel<<<blocks_for(n, 128), 128, 0, s>>>(x, w, bias, y, p);
}

void gather(const void* x, const std::int64_t* idx, void* y, int elem_bytes, std::int64_t outer, std::int64_t axis_n,
            std::int64_t inner, std::int64_t nidx, cudaStream_t s) {
  const std::int64_t n = outer * nidx * inner;
  if (n <= 0) return;
  if (elem_bytes == 8)
    gather_kernel<<<blocks_for(n), kThreads, 0, s>>>(static_cast<const std::uint64_t*>(x), idx, static_cast<std::uint64_t*>(y), outer,
                                                     axis_n, inner, nidx);
  else
    gather_kernel<<<blocks_for(n), kThreads, 0, s>>>(static_cast<const std::uint32_t*>(x), idx, static_cast<std::uint32_t*>(y), outer,
                                                     axis_n, inner, nidx);
}

bool lstm_persistent_fits(int H, int B, int sms) {
  (void)B;
  (void)sms;
  if (!use_v1()) return H == 8 || H == 16 || H == 32 || H == 64;   // v2: H/8 lanes per unit, power of two, <= 512 threads
  if (H % kCH != 0 || H > 64) return false;          // 4H x (H/16) threads <= 1024, R^T slice in registers
  const int KS = H / kCH;
  if (KS & (KS - 1)) return false;                   // shuffle reduction over a power-of-two lane group
  return true;
}

cudaError_t lstm_persistent(const Lstm& p, int sms, cudaStream_t s) {
  if (!use_v1()) {
    const int KS = p.H / 8;
    int bt = pick_bt(p.B, sms);
    while (bt > KS) bt /= 2;                          // lane b of a unit's group owns row b
    const int threads = p.H * KS;
    const std::size_t smem = sizeof(float) * 2 * static_cast<std::size_t>(bt) * p.H;
    const unsigned grid = static_cast<unsigned>((p.B + bt - 1) / bt);
    switch (bt) {
      case 1: lstm_persistent2_kernel<1><<<grid, threads, smem, s>>>(p); break;
      case 2: lstm_persistent2_kernel<2><<<grid, threads, smem, s>>>(p); break;
      case 4: lstm_persistent2_kernel<4><<<grid, threads, smem, s>>>(p); break;
      default: lstm_persistent2_kernel<8><<<grid, threads, smem, s>>>(p); break;
    }
    return cudaGetLastError();
  }
  const int bt = pick_bt(p.B, sms);
  const int threads = 4 * p.H * (p.H / kCH);
  const std::size_t smem = sizeof(float) * static_cast<std::size_t>(bt) * (2 * p.H + 4 * p.H);
  const unsigned grid = static_cast<unsigned>((p.B + bt - 1) / bt);
  switch (bt) {
    case 1: lstm_persistent_kernel<1><<<grid, threads, smem, s>>>(p); break;
    case 2: lstm_persistent_kernel<2><<<grid, threads, smem, s>>>(p); break;
    case 4: lstm_persistent_kernel<4><<<grid, threads, smem, s>>>(p); break;
    default: lstm_persistent_kernel<8><<<grid, threads, smem, s>>>(p); break;
  }
  return cudaGetLastError();
}

void lstm_init_state(const float* c0, float* c, int B, int H, cudaStream_t s) {
  const std::int64_t n = static_cast<std::int64_t>(B) * H;
  lstm_init_state_kernel<<<blocks_for(n), kThreads, 0, s>>>(c0, c, n);
}

void lstm_cell_step(const Lstm& p, int t, float* c, cudaStream_t s) {
  const std::int64_t n = static_cast<std::int64_t>(p.B) * p.H;
  lstm_cell_kernel<<<blocks_for(n), kThreads, 0, s>>>(p, t, c);
}

}  // namespace tickrt::infer::cuda::k
