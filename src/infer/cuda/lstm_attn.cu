// infer/cuda/lstm_attn.cu — the fused 2-layer LSTM + attention + head kernel (contract: lstm_attn.cuh).
// Accuracy: expf/tanhf (not the __expf intrinsics) so the FP32 variant stays within 1e-4 of the CPU engine.
#include "infer/cuda/lstm_attn.cuh"

#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tickrt::infer::cuda::k {
namespace {

constexpr int H = kLaH;
constexpr int K1 = H, K2 = 2 * H;   // layer 1: h1_{t-1}; layer 2: [h1_t, h2_{t-1}]
constexpr int NQ1 = 4, NQ2 = 8;     // lanes per hidden unit
constexpr int KQ = 4;               // 4-wide k quads per lane: K1/4/NQ1 == K2/4/NQ2 == 4
constexpr int PAD = 16;             // elements (words for INT8) between two units' rows: the two units a quarter
                                    // warp of layer 1 reads land on different banks
constexpr unsigned kFull = 0xffffffffu;
static_assert(K1 / 4 / NQ1 == KQ && K2 / 4 / NQ2 == KQ, "lane split");
static_assert(H * NQ1 + H * NQ2 == kLaThreads, "thread split");

// Row stride of one unit in a layer image: elements (FP32/FP16) or 32-bit words of 4 int8 (INT8).
__host__ __device__ constexpr int ustride(int K, LaWeights m) { return m == LaWeights::int8 ? K + PAD : 4 * K + PAD; }
__host__ __device__ constexpr std::size_t layer_bytes(int K, LaWeights m) {
  return static_cast<std::size_t>(H) * ustride(K, m) * (m == LaWeights::fp32 ? 4 : m == LaWeights::fp16 ? 2 : 4);
}

__device__ __forceinline__ float sig(float x) { return 1.f / (1.f + expf(-x)); }
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFull, v, o));
  return v;
}

struct Smem {
  const unsigned char* w1;   // layer images
  const unsigned char* w2;
  float* h1;                 // [2][S][H] (buffer 1 holds step -1 at the start)
  float* h2;
  signed char* q1;           // INT8: the same, quantized (scale 1/127)
  signed char* q2;
  float* score;              // [S][T]
};

// One layer's whole time loop, run by its warps (LAYER 1: warps 0-7, LAYER 2: warps 8-23). One barrier per
// wavefront iteration; both layers loop T + 1 times so the barrier counts match.
template <LaWeights M, int S, int LAYER>
__device__ __forceinline__ void layer_loop(const LstmAttn& p, const Smem& sm, int lt, int b0) {
  constexpr int NQ = LAYER == 1 ? NQ1 : NQ2;
  constexpr int K = LAYER == 1 ? K1 : K2;
  constexpr int US = ustride(K, M);
  constexpr int NOWN = (S + NQ - 1) / NQ;   // samples whose c this lane owns
  const int u = lt / NQ, q = lt % NQ;
  const int T = p.T;
  const float* bias = LAYER == 1 ? p.bias1 : p.bias2;
  const float* c0 = LAYER == 1 ? p.c01 : p.c02;
  float gb[4], wsc[4];
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    gb[g] = bias[g * H + u];
    wsc[g] = M == LaWeights::int8 ? (LAYER == 1 ? p.scale1 : p.scale2)[g * H + u] * (1.f / 127.f) : 1.f;
  }
  float c[NOWN], gx[NOWN][4];
#pragma unroll
  for (int j = 0; j < NOWN; ++j) {
    const int s = q + j * NQ, b = b0 + s;
    c[j] = (s < S && b < p.B && c0) ? c0[static_cast<std::size_t>(b) * H + u] : 0.f;
#pragma unroll
    for (int g = 0; g < 4; ++g)
      gx[j][g] = (LAYER == 1 && s < S && b < p.B) ? p.G1[(static_cast<std::size_t>(b) * T) * 4 * H + g * H + u] : 0.f;
  }
  for (int it = 0; it <= T; ++it) {
    const int t = LAYER == 1 ? it : it - 1;
    if (LAYER == 1 ? it < T : it >= 1) {
      // Next step's x W1^T: issued now, used next iteration (its latency hides behind this step).
      float gn[NOWN][4];
#pragma unroll
      for (int j = 0; j < NOWN; ++j) {
        const int s = q + j * NQ, b = b0 + s;
        const bool ok = LAYER == 1 && s < S && b < p.B && t + 1 < T;
#pragma unroll
        for (int g = 0; g < 4; ++g) gn[j][g] = ok ? p.G1[(static_cast<std::size_t>(b) * T + t + 1) * 4 * H + g * H + u] : 0.f;
      }
      // Inputs: layer 1 reads h1_{t-1}; layer 2 reads h1_t (quads 0-15) and h2_{t-1} (quads 16-31).
      const int lo_buf = LAYER == 1 ? ((t - 1) & 1) : (t & 1), hi_buf = (t - 1) & 1;
      float acc[4][S];
#pragma unroll
      for (int g = 0; g < 4; ++g)
#pragma unroll
        for (int s = 0; s < S; ++s) acc[g][s] = 0.f;
      if constexpr (M == LaWeights::int8) {
        int ai[4][S];
#pragma unroll
        for (int g = 0; g < 4; ++g)
#pragma unroll
          for (int s = 0; s < S; ++s) ai[g][s] = 0;
        const int* wimg = reinterpret_cast<const int*>(LAYER == 1 ? sm.w1 : sm.w2) + u * US;
#pragma unroll
        for (int kk = 0; kk < KQ; ++kk) {
          const int quad = kk * NQ + q;
          const bool hi = LAYER == 2 && kk >= 2;
          const int* src = reinterpret_cast<const int*>(hi ? sm.q2 + hi_buf * S * H : sm.q1 + lo_buf * S * H);
          const int qi = hi ? quad - H / 4 : quad;
          const int4 w = *reinterpret_cast<const int4*>(wimg + quad * 4);
#pragma unroll
          for (int s = 0; s < S; ++s) {
            const int hv = src[s * (H / 4) + qi];
            ai[0][s] = __dp4a(w.x, hv, ai[0][s]);
            ai[1][s] = __dp4a(w.y, hv, ai[1][s]);
            ai[2][s] = __dp4a(w.z, hv, ai[2][s]);
            ai[3][s] = __dp4a(w.w, hv, ai[3][s]);
          }
        }
#pragma unroll
        for (int off = NQ / 2; off; off >>= 1)
#pragma unroll
          for (int g = 0; g < 4; ++g)
#pragma unroll
            for (int s = 0; s < S; ++s) ai[g][s] += __shfl_xor_sync(kFull, ai[g][s], off);
#pragma unroll
        for (int g = 0; g < 4; ++g)
#pragma unroll
          for (int s = 0; s < S; ++s) acc[g][s] = static_cast<float>(ai[g][s]) * wsc[g];
      } else {
#pragma unroll
        for (int kk = 0; kk < KQ; ++kk) {
          const int quad = kk * NQ + q;
          const bool hi = LAYER == 2 && kk >= 2;
          const float* src = hi ? sm.h2 + hi_buf * S * H : sm.h1 + lo_buf * S * H;
          const int qi = hi ? quad - H / 4 : quad;
          float w[4][4];   // [r][gate]
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            const int e = u * US + ((kk * 4 + r) * NQ + q) * 4;
            if constexpr (M == LaWeights::fp32) {
              const float4 v = *reinterpret_cast<const float4*>(reinterpret_cast<const float*>(LAYER == 1 ? sm.w1 : sm.w2) + e);
              w[r][0] = v.x; w[r][1] = v.y; w[r][2] = v.z; w[r][3] = v.w;
            } else {
              const uint2 raw = *reinterpret_cast<const uint2*>(reinterpret_cast<const __half*>(LAYER == 1 ? sm.w1 : sm.w2) + e);
              const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&raw.x));
              const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&raw.y));
              w[r][0] = a.x; w[r][1] = a.y; w[r][2] = b.x; w[r][3] = b.y;
            }
          }
#pragma unroll
          for (int s = 0; s < S; ++s) {
            const float4 hv = *reinterpret_cast<const float4*>(src + s * H + qi * 4);
#pragma unroll
            for (int g = 0; g < 4; ++g)
              acc[g][s] = fmaf(w[3][g], hv.w, fmaf(w[2][g], hv.z, fmaf(w[1][g], hv.y, fmaf(w[0][g], hv.x, acc[g][s]))));
          }
        }
#pragma unroll
        for (int off = NQ / 2; off; off >>= 1)
#pragma unroll
          for (int g = 0; g < 4; ++g)
#pragma unroll
            for (int s = 0; s < S; ++s) acc[g][s] += __shfl_xor_sync(kFull, acc[g][s], off);
      }
      // The owner lane of (unit u, sample s) updates c and h.
#pragma unroll
      for (int s = 0; s < S; ++s) {
        if (s % NQ != q) continue;
        const int j = s / NQ, b = b0 + s;
        const float gi = sig(acc[0][s] + gb[0] + gx[j][0]), go = sig(acc[1][s] + gb[1] + gx[j][1]);
        const float gf = sig(acc[2][s] + gb[2] + gx[j][2]), gc = tanhf(acc[3][s] + gb[3] + gx[j][3]);
        c[j] = gf * c[j] + gi * gc;
        const float h = go * tanhf(c[j]);
        const int o = ((t & 1) * S + s) * H + u;
        if (LAYER == 1) {
          sm.h1[o] = h;
          if (M == LaWeights::int8) sm.q1[o] = static_cast<signed char>(fminf(fmaxf(rintf(h * 127.f), -127.f), 127.f));
        } else {
          sm.h2[o] = h;
          if (M == LaWeights::int8) sm.q2[o] = static_cast<signed char>(fminf(fmaxf(rintf(h * 127.f), -127.f), 127.f));
          if (b < p.B) p.Hs[(static_cast<std::size_t>(b) * T + t) * H + u] = h;
        }
      }
#pragma unroll
      for (int j = 0; j < NOWN; ++j)
#pragma unroll
        for (int g = 0; g < 4; ++g) gx[j][g] = gn[j][g];
    }
    __syncthreads();
  }
}

template <LaWeights M, int S>
__global__ void __launch_bounds__(kLaThreads, 1) lstm_attn_kernel(const LstmAttn p) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr std::size_t lb1 = layer_bytes(K1, M), lb2 = layer_bytes(K2, M);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int b0 = blockIdx.x * S, T = p.T;
  Smem sm;
  sm.w1 = smem;
  sm.w2 = smem + lb1;
  sm.h1 = reinterpret_cast<float*>(smem + lb1 + lb2);
  sm.h2 = sm.h1 + 2 * S * H;
  sm.q1 = reinterpret_cast<signed char*>(sm.h2 + 2 * S * H);
  sm.q2 = sm.q1 + 2 * S * H;
  sm.score = reinterpret_cast<float*>(sm.q1 + (M == LaWeights::int8 ? 4 * S * H : 0));
  {
    const int4* src = static_cast<const int4*>(p.img);
    int4* dst = reinterpret_cast<int4*>(smem);
    for (std::size_t i = tid; i < (lb1 + lb2) / 16; i += kLaThreads) dst[i] = src[i];
  }
  for (int i = tid; i < S * H; i += kLaThreads) {
    const int s = i / H, u = i % H, b = b0 + s;
    const bool ok = b < p.B;
    const float a = ok && p.h01 ? p.h01[static_cast<std::size_t>(b) * H + u] : 0.f;
    const float z = ok && p.h02 ? p.h02[static_cast<std::size_t>(b) * H + u] : 0.f;
    sm.h1[(S + s) * H + u] = a;   // buffer 1 = step -1
    sm.h2[(S + s) * H + u] = z;
    sm.h1[s * H + u] = 0.f;
    sm.h2[s * H + u] = 0.f;
    if (M == LaWeights::int8) {
      sm.q1[(S + s) * H + u] = static_cast<signed char>(fminf(fmaxf(rintf(a * 127.f), -127.f), 127.f));
      sm.q2[(S + s) * H + u] = static_cast<signed char>(fminf(fmaxf(rintf(z * 127.f), -127.f), 127.f));
      sm.q1[s * H + u] = 0;
      sm.q2[s * H + u] = 0;
    }
  }
  __syncthreads();
  if (tid < H * NQ1) layer_loop<M, S, 1>(p, sm, tid, b0);
  else layer_loop<M, S, 2>(p, sm, tid - H * NQ1, b0);
  // Hs (global) written by this block before the last barrier is visible to it now.

  // Attention scores: one warp per (sample, step) row.
  constexpr int NW = kLaThreads / 32;
  const int A = p.A;
  for (int row = warp; row < S * T; row += NW) {
    const int s = row / T, t = row % T, b = b0 + s;
    if (b >= p.B) continue;
    const float* h = p.Hs + (static_cast<std::size_t>(b) * T + t) * H;
    const float hv0 = h[lane], hv1 = h[lane + 32];
    float part = 0.f;
    for (int j0 = 0; j0 < A; j0 += 32) {
      const int j = j0 + lane;
      const bool on = j < A;
      float a = on ? p.ba[j] : 0.f;
#pragma unroll 8
      for (int kx = 0; kx < H; ++kx) {
        const float hk = __shfl_sync(kFull, kx < 32 ? hv0 : hv1, kx & 31);
        if (on) a = fmaf(hk, __ldg(p.Wa + kx * A + j), a);
      }
      if (on) part += p.va[j] * tanhf(a);
    }
    part = warp_sum(part);
    if (lane == 0) sm.score[s * T + t] = part;
  }
  __syncthreads();
  // Softmax over time, context, [context, h_last] -> fc1 -> relu -> fc2: one warp per sample. The h buffers
  // are free now: z [S][2H] and y1 [S][128] live there.
  if (warp < S) {
    const int s = warp, b = b0 + s;
    if (b < p.B) {
      float* sc = sm.score + s * T;
      float m = -INFINITY;
      for (int t = lane; t < T; t += 32) m = fmaxf(m, sc[t]);
      m = warp_max(m);
      float sum = 0.f;
      for (int t = lane; t < T; t += 32) {
        const float e = expf(sc[t] - m);
        sc[t] = e;
        sum += e;
      }
      sum = warp_sum(sum);
      __syncwarp();
      float c0 = 0.f, c1 = 0.f;
      for (int t = 0; t < T; ++t) {
        const float a = sc[t] / sum;
        const float* h = p.Hs + (static_cast<std::size_t>(b) * T + t) * H;
        c0 = fmaf(a, h[lane], c0);
        c1 = fmaf(a, h[lane + 32], c1);
      }
      float* z = sm.h1 + s * 2 * H;
      float* y1 = sm.h1 + S * 2 * H + s * kLaMaxM1;
      const float* hl = p.Hs + (static_cast<std::size_t>(b) * T + T - 1) * H;
      z[lane] = c0;
      z[lane + 32] = c1;
      z[H + lane] = hl[lane];
      z[H + lane + 32] = hl[lane + 32];
      __syncwarp();
      for (int o = lane; o < p.M1; o += 32) {
        float y = p.b1[o];
        const float* f = p.F1 + static_cast<std::size_t>(o) * 2 * H;
        for (int i = 0; i < 2 * H; ++i) y = fmaf(z[i], __ldg(f + i), y);
        y1[o] = fmaxf(y, 0.f);
      }
      __syncwarp();
      for (int cl = 0; cl < p.C; ++cl) {
        float part = 0.f;
        for (int i = lane; i < p.M1; i += 32) part = fmaf(y1[i], __ldg(p.F2 + static_cast<std::size_t>(cl) * p.M1 + i), part);
        part = warp_sum(part);
        if (lane == 0) p.out[static_cast<std::size_t>(b) * p.C + cl] = part + p.b2[cl];
      }
    }
  }
}

template <LaWeights M, int S>
cudaError_t launch(const LstmAttn& p, cudaStream_t s) {
  const std::size_t smem = lstm_attn_smem(M, S, p.T);
  cudaError_t e = cudaFuncSetAttribute(lstm_attn_kernel<M, S>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (e != cudaSuccess) return e;
  const unsigned grid = static_cast<unsigned>((p.B + S - 1) / S);
  lstm_attn_kernel<M, S><<<grid, kLaThreads, smem, s>>>(p);
  return cudaGetLastError();
}

template <LaWeights M>
cudaError_t launch_s(const LstmAttn& p, int S, cudaStream_t s) {
  switch (S) {
    case 1: return launch<M, 1>(p, s);
    case 2: return launch<M, 2>(p, s);
    case 4: return launch<M, 4>(p, s);
    default: return launch<M, 8>(p, s);
  }
}

}  // namespace

std::vector<std::uint8_t> lstm_attn_pack(LaWeights mode, const float* R1, const float* W2, const float* R2, std::vector<float>& scale1,
                                         std::vector<float>& scale2) {
  const std::size_t lb1 = layer_bytes(K1, mode), lb2 = layer_bytes(K2, mode);
  std::vector<std::uint8_t> img(lb1 + lb2, 0);
  scale1.assign(4 * H, 1.f);
  scale2.assign(4 * H, 1.f);
  for (int layer = 1; layer <= 2; ++layer) {
    const int K = layer == 1 ? K1 : K2, NQ = layer == 1 ? NQ1 : NQ2, US = ustride(K, mode);
    std::uint8_t* base = img.data() + (layer == 1 ? 0 : lb1);
    auto w = [&](int r, int k) { return layer == 1 ? R1[r * H + k] : (k < H ? W2[r * H + k] : R2[r * H + k - H]); };
    std::vector<float>& sc = layer == 1 ? scale1 : scale2;
    for (int g = 0; g < 4; ++g)
      for (int u = 0; u < H; ++u) {
        const int r = g * H + u;
        if (mode == LaWeights::int8) {
          // Symmetric per output row (channel), max |w| -> 127: the rule of cpu::i8_pack_weights (src/infer/quant).
          float mx = 0.f;
          for (int k = 0; k < K; ++k) mx = std::max(mx, std::fabs(w(r, k)));
          sc[r] = mx > 0.f ? mx / 127.f : 1.f;
        }
        for (int k = 0; k < K; ++k) {
          const int quad = k / 4, rr = k % 4, q = quad % NQ, kk = quad / NQ;
          if (mode == LaWeights::int8) {
            const float v = std::nearbyint(w(r, k) / sc[r]);
            const int qv = static_cast<int>(std::min(127.f, std::max(-127.f, v)));
            base[(static_cast<std::size_t>(u) * US + quad * 4 + g) * 4 + rr] = static_cast<std::uint8_t>(static_cast<std::int8_t>(qv));
          } else {
            const std::size_t e = static_cast<std::size_t>(u) * US + ((kk * 4 + rr) * NQ + q) * 4 + g;
            if (mode == LaWeights::fp32) {
              const float v = w(r, k);
              std::memcpy(base + e * 4, &v, 4);
            } else {
              const __half v = __float2half_rn(w(r, k));
              std::memcpy(base + e * 2, &v, 2);
            }
          }
        }
      }
  }
  return img;
}

int lstm_attn_samples_per_block(int B, int sms) {
  int S = 1;
  while (S < 8 && (B + S - 1) / S > sms) S *= 2;
  return S;
}

std::size_t lstm_attn_smem(LaWeights mode, int S, int T) {
  return layer_bytes(K1, mode) + layer_bytes(K2, mode) + sizeof(float) * 4 * S * H + (mode == LaWeights::int8 ? 4 * S * H : 0) +
         sizeof(float) * static_cast<std::size_t>(S) * T;
}

cudaError_t lstm_attn_run(const LstmAttn& p, int S, cudaStream_t s) {
  switch (p.wmode) {
    case LaWeights::fp32: return launch_s<LaWeights::fp32>(p, S, s);
    case LaWeights::fp16: return launch_s<LaWeights::fp16>(p, S, s);
    default: return launch_s<LaWeights::int8>(p, S, s);
  }
}

}  // namespace tickrt::infer::cuda::k
