// infer/cuda/lstm_attn.cu — the fused 2-layer LSTM + attention + head kernel (contract: lstm_attn.cuh).
// Two kernels: the CUDA-core one (lstm_attn_kernel: FP32 and INT8 weights in shared memory) and the FP16 tensor-core
// one (lstm_attn_mma_kernel: mma.sync with the weights in registers; FP16 always takes it, so the CUDA-core kernel's
// FP16 branch and lstm_attn_pack's shared-memory FP16 layout are not used).
// Accuracy: CUDA-core kernel: sigmoid/tanh from __expf (absolute error ~1e-7), FP32 accumulation everywhere: the FP32
// variant stays within 1e-4 of the CPU engine (tests/cuda). Tensor-core kernel: FP16 weights and h, FP32 accumulation
// and cell state, hardware tanh (~2^-11): argmax agreement with the CPU engine (tests/cuda).
#include "infer/cuda/lstm_attn.cuh"

#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
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

// __expf + fast divide: absolute error ~1e-7 on sigmoid/tanh (well inside the 1e-4 FP32 budget), a few
// instructions instead of expf/tanhf's accurate paths on the per-step critical path.
__device__ __forceinline__ float sig(float x) { return __fdividef(1.f, 1.f + __expf(-x)); }
__device__ __forceinline__ float tanh_fast(float x) { return 2.f * sig(2.f * x) - 1.f; }
// cp.async (sm_80+): every 16-byte piece in flight at once; older targets copy through registers.
__device__ __forceinline__ void cp_async16(void* dst_smem, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned sa = static_cast<unsigned>(__cvta_generic_to_shared(dst_smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(sa), "l"(src));
#else
  *static_cast<int4*>(dst_smem) = *static_cast<const int4*>(src);
#endif
}
__device__ __forceinline__ void cp_async_wait_all() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_all;\n" ::);
#endif
}
__device__ unsigned long long g_la_clock[9];   // block 0's phase stamps of the last launch (lstm_attn_phase_cycles;
                                               // 6-8: the tensor-core kernel's head steps, lstm_attn_head_cycles)
__device__ __forceinline__ void stamp(int i) {
  if (blockIdx.x == 0 && threadIdx.x == 0) g_la_clock[i] = clock64();
}
__device__ __forceinline__ signed char q8(float v) { return static_cast<signed char>(fminf(fmaxf(rintf(v), -127.f), 127.f)); }
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
  signed char* q1;           // INT8: the same as two int8 digits: q1[buf][s][u] = hi, q1[2][..] = lo
  signed char* q2;           // (h ~ (hi + lo/254)/127)
  float* score;              // [S][T]
  float* hs;                 // layer 2's hidden sequence [S][T][H]: shared memory or p.Hs (+ b0 * T * H)
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
    wsc[g] = M == LaWeights::int8 ? (LAYER == 1 ? p.scale1 : p.scale2)[g * H + u] * (1.f / (127.f * 254.f)) : 1.f;
  }
  float c[NOWN], gA[NOWN][4], gB[NOWN][4];
  // x W1^T of step t for the samples this lane owns (layer 1; zeros for layer 2 and for padding samples).
  auto load_g = [&](float (&g)[NOWN][4], int t) {
#pragma unroll
    for (int j = 0; j < NOWN; ++j) {
      const int s = q + j * NQ, b = b0 + s;
      const bool ok = LAYER == 1 && s < S && b < p.B && t < T;
#pragma unroll
      for (int gi = 0; gi < 4; ++gi) g[j][gi] = ok ? p.G1[(static_cast<std::size_t>(b) * T + t) * 4 * H + gi * H + u] : 0.f;
    }
  };
#pragma unroll
  for (int j = 0; j < NOWN; ++j) {
    const int s = q + j * NQ, b = b0 + s;
    c[j] = (s < S && b < p.B && c0) ? c0[static_cast<std::size_t>(b) * H + u] : 0.f;
  }
  load_g(gA, 0);
  load_g(gB, 1);
  // One wavefront iteration. gx holds step t's x W1^T (loaded two iterations ago); after its use the same
  // registers receive step t + 2's, so the global load's latency spans two iterations and no register move
  // waits on it (the loop is unrolled by two over gA / gB).
  auto iteration = [&](int it, float (&gx)[NOWN][4]) {
    const int t = LAYER == 1 ? it : it - 1;
    if (LAYER == 1 ? it < T : it >= 1) {
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
          const signed char* base = hi ? sm.q2 + hi_buf * S * H : sm.q1 + lo_buf * S * H;
          const int* src = reinterpret_cast<const int*>(base);
          const int* srl = reinterpret_cast<const int*>(base + 2 * S * H);   // the low digits
          const int qi = hi ? quad - H / 4 : quad;
          const int4 w = *reinterpret_cast<const int4*>(wimg + quad * 4);
#pragma unroll
          for (int s = 0; s < S; ++s) {
            const int hv = src[s * (H / 4) + qi], lv = srl[s * (H / 4) + qi];
            // sum w (254 hi + lo): |.| <= 128 * 127 * 127 * 255 < 2^31
            ai[0][s] = __dp4a(w.x, lv, ai[0][s] + 254 * __dp4a(w.x, hv, 0));
            ai[1][s] = __dp4a(w.y, lv, ai[1][s] + 254 * __dp4a(w.y, hv, 0));
            ai[2][s] = __dp4a(w.z, lv, ai[2][s] + 254 * __dp4a(w.z, hv, 0));
            ai[3][s] = __dp4a(w.w, lv, ai[3][s] + 254 * __dp4a(w.w, hv, 0));
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
        const float gf = sig(acc[2][s] + gb[2] + gx[j][2]), gc = tanh_fast(acc[3][s] + gb[3] + gx[j][3]);
        c[j] = gf * c[j] + gi * gc;
        const float h = go * tanh_fast(c[j]);
        const int o = ((t & 1) * S + s) * H + u;
        float* hb = LAYER == 1 ? sm.h1 : sm.h2;
        hb[o] = h;
        if (M == LaWeights::int8) {
          signed char* qb = LAYER == 1 ? sm.q1 : sm.q2;
          const float v = h * 127.f, hi = rintf(v);
          qb[o] = q8(hi);
          qb[2 * S * H + o] = q8((v - hi) * 254.f);
        }
        if (LAYER == 2 && b < p.B) sm.hs[(s * T + t) * H + u] = h;
      }
      if (LAYER == 1) load_g(gx, t + 2);
    }
    __syncthreads();
  };
  for (int it = 0; it <= T; it += 2) {
    iteration(it, gA);
    if (it + 1 <= T) iteration(it + 1, gB);
  }
}

// The hidden sequence is FP32 (CUDA-core kernel, or global memory) or FP16 (tensor-core kernel, in shared memory).
__device__ __forceinline__ float4 ld4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ float4 ld4(const __half* p) {
  const uint2 raw = *reinterpret_cast<const uint2*>(p);
  const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&raw.x)), b = __half22float2(*reinterpret_cast<const __half2*>(&raw.y));
  return make_float4(a.x, a.y, b.x, b.y);
}
__device__ __forceinline__ float ld1(const float* p) { return *p; }
__device__ __forceinline__ float ld1(const __half* p) { return __half2float(*p); }

// Attention scores after the recurrence (CUDA-core kernel; the tensor-core kernel when A > 64): score[s][t] =
// v . tanh(h2_t Wa + ba), each warp takes 4 (sample, step) rows at a time (each Wa element read once for the 4),
// lane j (and j + 32...) of the attention width; h rows are broadcast float4 reads.
template <int NT, typename HT>
__device__ __forceinline__ void attn_scores(const LstmAttn& p, const float* hw, const HT* hs, float* score, int S, int b0, int warp,
                                            int lane) {
  const float *Wa = hw + p.oWa, *ba = hw + p.oba, *va = hw + p.ova;
  const int T = p.T;
  constexpr int NW = NT / 32, RB = 4;
  const int A = p.A;
  const int nvalid = min(S, p.B - b0) * T;   // rows of samples that exist (Hs may be global: never read past them)
  for (int r0 = warp * RB; r0 < nvalid; r0 += NW * RB) {
    const HT* hr[RB];
#pragma unroll
    for (int r = 0; r < RB; ++r) hr[r] = hs + min(r0 + r, nvalid - 1) * H;
    float part[RB] = {};
    for (int j0 = 0; j0 < A; j0 += 32) {
      const int j = j0 + lane;
      const bool on = j < A;
      const int jj = on ? j : 0;
      float a[RB] = {};
#pragma unroll 4
      for (int kx = 0; kx < H; kx += 4) {
        const float w0 = Wa[kx * A + jj], w1 = Wa[(kx + 1) * A + jj], w2 = Wa[(kx + 2) * A + jj], w3 = Wa[(kx + 3) * A + jj];
#pragma unroll
        for (int r = 0; r < RB; ++r) {
          const float4 hv = ld4(hr[r] + kx);
          a[r] = fmaf(hv.w, w3, fmaf(hv.z, w2, fmaf(hv.y, w1, fmaf(hv.x, w0, a[r]))));
        }
      }
      if (on)
#pragma unroll
        for (int r = 0; r < RB; ++r) part[r] += va[j] * tanh_fast(a[r] + ba[j]);
    }
#pragma unroll
    for (int r = 0; r < RB; ++r) {
      const float v = warp_sum(part[r]);
      if (lane == 0 && r0 + r < nvalid) score[r0 + r] = v;
    }
  }
}

// Softmax over time, context, [context, h_last] -> fc1 -> relu -> fc2: one warp per sample. hbuf (the h buffers,
// free now, 4 S H floats) holds z [S][2H] and y1 [S][128].
template <int S, typename HT>
__device__ __forceinline__ void attn_head(const LstmAttn& p, const float* hw, const HT* hs, float* score, float* hbuf, int b0,
                                          int warp, int lane) {
  const float *F1T = hw + p.oF1T, *b1 = hw + p.ob1, *F2 = hw + p.oF2, *b2 = hw + p.ob2;
  const int T = p.T;
  if (warp < S) {
    const int s = warp, b = b0 + s;
    if (b < p.B) {
      float* sc = score + s * T;
      float m = -INFINITY;
      for (int t = lane; t < T; t += 32) m = fmaxf(m, sc[t]);
      m = warp_max(m);
      float sum = 0.f;
      for (int t = lane; t < T; t += 32) {
        const float e = __expf(sc[t] - m);
        sc[t] = e;
        sum += e;
      }
      sum = warp_sum(sum);
      __syncwarp();
      const float inv = 1.f / sum;
      const HT* hsq = hs + s * T * H;
      float c0 = 0.f, c1 = 0.f, d0 = 0.f, d1 = 0.f;
      int t = 0;
#pragma unroll 4
      for (; t + 1 < T; t += 2) {
        c0 = fmaf(sc[t], ld1(&hsq[t * H + lane]), c0);
        c1 = fmaf(sc[t], ld1(&hsq[t * H + lane + 32]), c1);
        d0 = fmaf(sc[t + 1], ld1(&hsq[(t + 1) * H + lane]), d0);
        d1 = fmaf(sc[t + 1], ld1(&hsq[(t + 1) * H + lane + 32]), d1);
      }
      if (t < T) {
        c0 = fmaf(sc[t], ld1(&hsq[t * H + lane]), c0);
        c1 = fmaf(sc[t], ld1(&hsq[t * H + lane + 32]), c1);
      }
      float* z = hbuf + s * 2 * H;
      float* y1 = hbuf + S * 2 * H + s * kLaMaxM1;
      const HT* hl = hsq + (T - 1) * H;
      z[lane] = (c0 + d0) * inv;
      z[lane + 32] = (c1 + d1) * inv;
      z[H + lane] = ld1(hl + lane);
      z[H + lane + 32] = ld1(hl + lane + 32);
      __syncwarp();
      const int M1 = p.M1;
      for (int o = lane; o < M1; o += 32) {
        float y = b1[o], y2 = 0.f;
#pragma unroll 8
        for (int i = 0; i < 2 * H; i += 2) {
          y = fmaf(z[i], F1T[i * M1 + o], y);
          y2 = fmaf(z[i + 1], F1T[(i + 1) * M1 + o], y2);
        }
        y1[o] = fmaxf(y + y2, 0.f);
      }
      __syncwarp();
      for (int cl = 0; cl < p.C; ++cl) {
        float part = 0.f;
        for (int i = lane; i < M1; i += 32) part = fmaf(y1[i], F2[cl * M1 + i], part);
        part = warp_sum(part);
        if (lane == 0) p.out[static_cast<std::size_t>(b) * p.C + cl] = part + b2[cl];
      }
    }
  }
}

template <LaWeights M, int S>
__global__ void __launch_bounds__(kLaThreads, 1) lstm_attn_kernel(const LstmAttn p) {
  extern __shared__ __align__(16) unsigned char smem[];
  constexpr std::size_t lb1 = layer_bytes(K1, M), lb2 = layer_bytes(K2, M);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int b0 = blockIdx.x * S, T = p.T;
  stamp(0);
  Smem sm;
  sm.w1 = smem;
  sm.w2 = smem + lb1;
  sm.h1 = reinterpret_cast<float*>(smem + lb1 + lb2);
  sm.h2 = sm.h1 + 2 * S * H;
  sm.q1 = reinterpret_cast<signed char*>(sm.h2 + 2 * S * H);
  sm.q2 = sm.q1 + 4 * S * H;
  sm.score = reinterpret_cast<float*>(sm.q1 + (M == LaWeights::int8 ? 8 * S * H : 0));
  sm.hs = p.hs_smem ? sm.score + (S * T + 3) / 4 * 4 : p.Hs + static_cast<std::size_t>(b0) * T * H;
  {
    const char* src = static_cast<const char*>(p.img);
    for (std::size_t i = tid; i < (lb1 + lb2) / 16; i += kLaThreads) cp_async16(smem + i * 16, src + i * 16);
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
      const int o1 = (S + s) * H + u, o0 = s * H + u;
      const float va = a * 127.f, vz = z * 127.f;
      sm.q1[o1] = q8(rintf(va));
      sm.q1[2 * S * H + o1] = q8((va - rintf(va)) * 254.f);
      sm.q2[o1] = q8(rintf(vz));
      sm.q2[2 * S * H + o1] = q8((vz - rintf(vz)) * 254.f);
      sm.q1[o0] = sm.q1[2 * S * H + o0] = sm.q2[o0] = sm.q2[2 * S * H + o0] = 0;
    }
  }
  cp_async_wait_all();
  __syncthreads();
  stamp(1);
  if (tid < H * NQ1) layer_loop<M, S, 1>(p, sm, tid, b0);
  else layer_loop<M, S, 2>(p, sm, tid - H * NQ1, b0);
  stamp(2);
  // The recurrent weights are dead: stage the attention/head weights into their space (one round trip).
  float* hw = reinterpret_cast<float*>(smem);
  for (int i = tid; i < p.head_floats / 4; i += kLaThreads) cp_async16(hw + i * 4, p.head + i * 4);
  cp_async_wait_all();
  __syncthreads();
  stamp(3);

  attn_scores<kLaThreads>(p, hw, sm.hs, sm.score, S, b0, warp, lane);
  __syncthreads();
  stamp(4);
  attn_head<S>(p, hw, sm.hs, sm.score, sm.h1, b0, warp, lane);
  stamp(5);
}

// ---------------------------------------------------------------------------------------------------------------
// FP16 tensor-core variant (sm_80+: mma.sync m16n8k16, FP16 inputs, FP32 accumulate). Per wavefront iteration the
// gate products are Gates^T [4H x 8] = W [4H x K] . h^T [K x 8]: the WEIGHTS are the A operand (16 gate rows per
// m-tile), the block's samples the N = 8 columns (S <= 8; columns >= S are zero). Every warp owns 8 hidden units as
// two m-tiles (tile 0: gates i, o of the 8 units; tile 1: f, c), so the D fragment hands each lane all 4 gates of
// (unit g, samples 2t and 2t+1): the cell update needs no shuffle, c stays in FP32 registers. The weights' A
// fragments live in REGISTERS for the whole sequence (layer 1: 32, layer 2: 64 per lane, loaded once from the
// fragment image lstm_attn_pack builds), so the loop reads only h (and x) from shared memory (FP16 h, [S][72] rows:
// the 8 B-fragment rows land on distinct banks). Warps 0-7: layer 1 (4 k-steps over h1_{t-1} and, XIN, 2 over x_t),
// 8-15: layer 2 (8 k-steps: h1_t then h2_{t-1}); warps 0-3 also take the attention scores of step it-2 (layer 1
// has fewer k-steps than layer 2, so it has the slack): v . tanh(h2 Wa + ba), warp w one m-tile of Wa^T (A <= 64,
// 16 attention units), its partial sum over them to spart[w][s][t], added in a fixed order after the loop
// (deterministic). T + 2 iterations, one __syncthreads each. (17 warps with a separate score warp capped registers
// at 96 and spilled: 16 warps leave 128.)
// XIN (since docs/gpu/run7): the layer-1 input projection x_t W1^T runs here too, as 2 more k-steps of layer 1's
// mma chains (W1's A fragments in the registers layer 1 leaves free), the bias in the accumulators' initial value;
// x arrives through a ring of kXStages shared-memory slots filled by cp.async kXStages - 1 iterations ahead (warps
// 4-7, layer 1 without scores: they reach the barrier first), from the caller's mapped pinned host buffer (small
// inputs: the reads cross PCIe while the recurrence runs, no copy node) or from device memory, whose last steps may
// still be arriving (p.xready: a copy on another stream while the kernel runs the first steps).
constexpr int kMmaWarps = 16;
constexpr int kMmaThreads = kMmaWarps * 32;
constexpr int HS16 = H + 8;   // half stride of one sample's h row (bank spread of the B fragment reads)
constexpr int kFragU4_1 = 8 * 2 * (K1 / 16) * 32, kFragU4_2 = 8 * 2 * (K2 / 16) * 32;   // uint4 per layer image
constexpr int kFragU4_X = 8 * 2 * (kLaMaxXI / 16) * 32;                                  // W1 (x W1^T in the kernel)
constexpr int kXStages = 8;            // x ring slots: stage t is requested kXStages - 1 iterations before its use
constexpr int kXS = kLaMaxXI + 8;      // floats per sample row in a slot: the B-fragment reads of rows g = 0..3 (one
                                       // half warp of 64-bit loads) fall on distinct banks
constexpr int kLoader0 = 128, kLoaderN = 128;   // threads 128..255 (warps 4-7: layer 1 without scores, the warps
                                                // that reach the barrier first, docs/gpu/run7) issue the ring's cp.async
static_assert(kLaMaxXI % 16 == 0 && kLaMaxXI / 16 <= 2, "x W1^T fragments use wf[1][4..7]");

// Shared-memory layout of the tensor-core kernel (16-byte aligned parts); also sizes it on the host.
struct MmaLayout {
  std::size_t head = 0, h = 0, score = 0, hs16 = 0, spart = 0, xring = 0, scratch = 0, total = 0;
};
__host__ __device__ inline std::size_t take16(std::size_t& o, std::size_t bytes) {
  const std::size_t at = o;
  o += (bytes + 15) / 16 * 16;
  return at;
}
__host__ __device__ inline MmaLayout mma_layout(int S, int T, bool hs_smem, int head_floats, bool xin) {
  MmaLayout L;
  std::size_t o = 0;
  const std::size_t s = static_cast<std::size_t>(S), t = static_cast<std::size_t>(T);
  L.head = take16(o, sizeof(float) * static_cast<std::size_t>(head_floats));   // staged at the start, used after the loop
  L.h = take16(o, 2 * 2 * s * HS16 * sizeof(__half));                            // h1, h2: [2][S][HS16] halves each
  L.score = take16(o, sizeof(float) * s * t);
  L.hs16 = take16(o, hs_smem ? sizeof(__half) * s * t * H : 0);
  L.spart = take16(o, sizeof(float) * 3 * s * t);
  L.xring = take16(o, xin ? sizeof(float) * kXStages * s * kXS : 0);
  L.scratch = take16(o, sizeof(float) * (s * (2 * H + kLaMaxM1) + kMmaThreads));   // head: z, y1, partial sums
  L.total = o;
  return L;
}

__device__ __forceinline__ void cp_async4(void* dst_smem, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned sa = static_cast<unsigned>(__cvta_generic_to_shared(dst_smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(sa), "l"(src));
#else
  *static_cast<float*>(dst_smem) = *static_cast<const float*>(src);
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}
// At most n groups of this thread still pending (n is a run-time count, 0..kXStages-1).
__device__ __forceinline__ void cp_async_wait_dyn(int n) {
  switch (n) {
    case 0: cp_async_wait<0>(); break;
    case 1: cp_async_wait<1>(); break;
    case 2: cp_async_wait<2>(); break;
    case 3: cp_async_wait<3>(); break;
    case 4: cp_async_wait<4>(); break;
    case 5: cp_async_wait<5>(); break;
    default: cp_async_wait<6>(); break;
  }
}
__device__ __forceinline__ unsigned ld_acquire_u32(const unsigned* p) {
  unsigned v;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
#else
  v = *reinterpret_cast<const volatile unsigned*>(p);
#endif
  return v;
}
__device__ unsigned long long g_la_warp[17];   // block 0, iteration 10: each warp's barrier arrival, [16] the start

__device__ __forceinline__ void mma16816(float (&d)[4], const uint4& a, unsigned b0, unsigned b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a.x), "r"(a.y), "r"(a.z), "r"(a.w), "r"(b0), "r"(b1));
#else
  __trap();   // never launched there: lstm_attn_run takes the CUDA-core kernel below sm_80
#endif
}
// The tensor-core kernel's activations: the hardware tanh (tanh.approx.f32, one MUFU op, relative error ~2^-11,
// sm_75+) and sigmoid(x) = 0.5 tanh(x/2) + 0.5: the cell's activations are the per-step critical path, and h is
// rounded to FP16 (2^-11) for the next step anyway.
__device__ __forceinline__ float tanh_hw(float x) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
  float y;
  asm("tanh.approx.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#else
  return tanh_fast(x);
#endif
}
__device__ __forceinline__ float sig_hw(float x) { return fmaf(0.5f, tanh_hw(0.5f * x), 0.5f); }
__device__ __forceinline__ unsigned pack_h2(float lo, float hi) {
  const __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const unsigned*>(&v);
}

// Softmax over time, context, [context, h_last] -> fc1 -> relu -> fc2 with ALL the block's threads (the tensor-core
// kernel; at S = 1 one warp per sample left 15 warps idle for ~7,000 cycles): the time axis of the context and the
// K axis of fc1 are split into parts whose partial sums meet in shared memory in a fixed order (replay stays
// bit-identical). scr: z [S][2H], y1 [S][kLaMaxM1], partials [kMmaThreads].
template <int S, typename HT>
__device__ __forceinline__ void attn_head_block(const LstmAttn& p, const float* hw, const HT* hs, float* score, float* scr, int b0, int tid) {
  constexpr int NT = kMmaThreads;
  constexpr int P = NT / (S * H) > 1 ? NT / (S * H) : 1;   // parts of the time axis (S H P == NT)
  static_assert(S * H * P == NT, "context split");
  const float *F1T = hw + p.oF1T, *b1 = hw + p.ob1, *F2 = hw + p.oF2, *b2 = hw + p.ob2;
  const int T = p.T, M1 = p.M1, C = p.C;
  const int warp = tid >> 5, lane = tid & 31;
  const int nS = min(S, p.B - b0);   // samples of this block that exist
  float* z = scr;
  float* y1 = z + S * 2 * H;
  float* part = y1 + S * kLaMaxM1;
  if (warp < nS) {   // softmax over t: score becomes the attention weights
    float* sc = score + warp * T;
    float m = -INFINITY;
    for (int t = lane; t < T; t += 32) m = fmaxf(m, sc[t]);
    m = warp_max(m);
    float sum = 0.f;
    for (int t = lane; t < T; t += 32) {
      const float e = __expf(sc[t] - m);
      sc[t] = e;
      sum += e;
    }
    sum = warp_sum(sum);
    const float inv = 1.f / sum;
    __syncwarp();
    for (int t = lane; t < T; t += 32) sc[t] *= inv;
  }
  __syncthreads();
  stamp(6);
  {   // context: thread (s, part, k) sums t = part, part + P, ... (tid = (s P + part) H + k)
    const int k = tid % H, pp = (tid / H) % P, s = tid / (H * P);
    float a0 = 0.f, a1 = 0.f;
    if (s < nS) {
      const float* a = score + s * T;
      const HT* hq = hs + static_cast<std::size_t>(s) * T * H + k;
      int t = pp;
      for (; t + P < T; t += 2 * P) {
        a0 = fmaf(a[t], ld1(hq + t * H), a0);
        a1 = fmaf(a[t + P], ld1(hq + (t + P) * H), a1);
      }
      if (t < T) a0 = fmaf(a[t], ld1(hq + t * H), a0);
    }
    if constexpr (P == 1) {
      if (s < nS) {
        z[s * 2 * H + k] = a0 + a1;
        z[s * 2 * H + H + k] = ld1(hs + (static_cast<std::size_t>(s) * T + T - 1) * H + k);
      }
    } else {
      part[tid] = a0 + a1;
    }
  }
  if constexpr (P > 1) {
    __syncthreads();
    if (tid < S * H) {
      const int s = tid / H, k = tid % H;
      if (s < nS) {
        float v = 0.f;
#pragma unroll
        for (int pp = 0; pp < P; ++pp) v += part[(s * P + pp) * H + k];
        z[s * 2 * H + k] = v;
        z[s * 2 * H + H + k] = ld1(hs + (static_cast<std::size_t>(s) * T + T - 1) * H + k);
      }
    }
  }
  __syncthreads();
  stamp(7);
  // fc1 + relu: output o = tid % kLaMaxM1 (o < M1), the 4 thread groups (tid / kLaMaxM1) split (sample, part of the
  // 2H inputs) with compile-time bounds: S < 4: 4 / S parts per sample; S >= 4: S / 4 samples per group, whole rows.
  {
    constexpr int NG = NT / kLaMaxM1, PP = S >= NG ? 1 : NG / S, SPG = S > NG ? S / NG : 1, LEN = 2 * H / PP;
    static_assert(NG * kLaMaxM1 == NT && S * PP >= NG, "fc1 split");
    const int o = tid % kLaMaxM1, g4 = tid / kLaMaxM1, pp = g4 % PP;
    if (o < M1) {
      // Each weight F1T[i][o] is read once for the group's SPG samples (the loads, not the FMAs, bound this at S = 8).
      const int s0 = (g4 / PP) * SPG;
      const float* w = F1T + pp * LEN * M1 + o;
      float y[SPG] = {};
#pragma unroll 8
      for (int i = 0; i < LEN; ++i) {
        const float wi = w[i * M1];
#pragma unroll
        for (int si = 0; si < SPG; ++si) y[si] = fmaf(z[(s0 + si) * 2 * H + pp * LEN + i], wi, y[si]);
      }
#pragma unroll
      for (int si = 0; si < SPG; ++si) {
        const int s = s0 + si;
        if (s < nS) {
          if constexpr (PP == 1) y1[s * kLaMaxM1 + o] = fmaxf(b1[o] + y[si], 0.f);
          else part[(s * PP + pp) * kLaMaxM1 + o] = y[si];
        }
      }
    }
    if constexpr (PP > 1) {
      __syncthreads();
      if (tid < S * kLaMaxM1) {
        const int s = tid / kLaMaxM1, oo = tid % kLaMaxM1;
        if (s < nS && oo < M1) {
          float v = b1[oo];
#pragma unroll
          for (int q = 0; q < PP; ++q) v += part[(s * PP + q) * kLaMaxM1 + oo];
          y1[s * kLaMaxM1 + oo] = fmaxf(v, 0.f);
        }
      }
    }
  }
  __syncthreads();
  stamp(8);
  for (int it = warp; it < nS * C; it += NT / 32) {   // fc2: one warp per (sample, class)
    const int s = it / C, cl = it % C;
    float v = 0.f;
    for (int i = lane; i < M1; i += 32) v = fmaf(y1[s * kLaMaxM1 + i], F2[cl * M1 + i], v);
    v = warp_sum(v);
    if (lane == 0) p.out[static_cast<std::size_t>(b0 + s) * C + cl] = v + b2[cl];
  }
}

template <int S, bool XIN, bool XC>
__global__ void __launch_bounds__(kMmaThreads, 1) lstm_attn_mma_kernel(const LstmAttn p) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, tq = lane & 3;
  const int b0 = blockIdx.x * S, T = p.T;
  stamp(0);
  // Layout offsets come in the parameters (launch_mma fills them from mma_layout): constant-bank operands, no registers.
  float* hw = reinterpret_cast<float*>(smem);   // p.sm_off[0] == 0
  __half* h1 = reinterpret_cast<__half*>(smem + p.sm_off[1]);
  __half* h2 = h1 + 2 * S * HS16;
  float* score = reinterpret_cast<float*>(smem + p.sm_off[2]);   // [S][T]
  // Layer 2's hidden sequence: FP16 in shared memory when it fits, else FP32 in global memory (L2-resident).
  __half* hs16 = reinterpret_cast<__half*>(smem + p.sm_off[3]);
  float* spart = reinterpret_cast<float*>(smem + p.sm_off[4]);   // [3][S][T]: warps 1-3's partial scores
  float* xring = reinterpret_cast<float*>(smem + p.sm_off[5]);   // [kXStages][S][kXS]
  float* scr = reinterpret_cast<float*>(smem + p.sm_off[6]);
  const bool fused_scores = p.A <= 64;
  const bool loader = XIN && tid >= kLoader0 && tid < kLoader0 + kLoaderN;
  // x stages (XIN). Stage t (rows b0..b0+S-1 at step t) goes to ring slot t % kXStages, one cp.async commit group per
  // stage, issued in order by the loader threads: stage k may be issued once iteration k - kXStages + 1 has begun (its
  // slot held stage k - kXStages, read in iteration k - kXStages). XC (p.xready): steps >= p.xfirst are still being
  // copied while the kernel runs (docs/CUDA.md): their stages are issued only after the flag is seen set.
  int issued = 0;
  bool landed = false;
  auto chunk_ready = [&](int t, bool block) {
    if (!XC || t < p.xfirst || landed) return true;
    unsigned v = ld_acquire_u32(p.xready);
    while (block && v == 0u) {
      __nanosleep(256);   // the copy takes microseconds: poll gently
      v = ld_acquire_u32(p.xready);
    }
    landed = v != 0u;
    return landed;
  };
  // The cp.async of stage t (< T) by this loader thread (no commit).
  auto issue_stage = [&](int t) {
    {
      const int li = static_cast<int>(threadIdx.x) - kLoader0, I = p.I, bb = static_cast<int>(blockIdx.x) * S;
      float* slot = reinterpret_cast<float*>(smem + p.sm_off[5]) + (t % kXStages) * S * kXS;
      if ((I & 3) == 0) {
        // I % 4 == 0: S I / 4 <= 64 pieces of 16 bytes, one per thread at most
        const int per = I / 4, s = li / per, c = li % per;
        if (s < S && bb + s < p.B) cp_async16(slot + s * kXS + 4 * c, p.X + (static_cast<std::size_t>(bb + s) * T + t) * I + 4 * c);
      } else {
        for (int i = li; i < S * I; i += kLoaderN) {
          const int s = i / I, c = i % I;
          if (bb + s < p.B) cp_async4(slot + s * kXS + c, p.X + (static_cast<std::size_t>(bb + s) * T + t) * I + c);
        }
      }
    }
  };
  // XC: issue the stages below lim (and below T) whose chunks have landed, one group each; block_next: wait for the
  // next one's chunk if needed. Else: stage lim - 1 (if < T) as one group, committed even when empty, so that the
  // group count per iteration is fixed and the wait below is a constant.
  auto issue_upto = [&](int lim, bool block_next) {
    if constexpr (XC) {
      while (issued < lim && issued < T) {
        if (!chunk_ready(issued, block_next)) break;
        issue_stage(issued);
        cp_async_commit();
        ++issued;
      }
    } else {
      if (lim - 1 < T) issue_stage(lim - 1);
      cp_async_commit();
    }
  };
  // The first stages go out first: their latency (PCIe when x is read from the pinned host buffer) overlaps the rest
  // of the prologue.
  if (loader) {
    if constexpr (XC) {
      issue_upto(1, true);
      issue_upto(kXStages - 1, false);
    } else {
      for (int t = 1; t < kXStages; ++t) issue_upto(t, false);   // stages 0 .. kXStages - 2
    }
  }
  for (int i = tid; i < S * H; i += kMmaThreads) {
    const int s = i / H, u = i % H, b = b0 + s;
    const bool ok = b < p.B;
    h1[(S + s) * HS16 + u] = __float2half_rn(ok && p.h01 ? p.h01[static_cast<std::size_t>(b) * H + u] : 0.f);   // buffer 1 = step -1
    h2[(S + s) * HS16 + u] = __float2half_rn(ok && p.h02 ? p.h02[static_cast<std::size_t>(b) * H + u] : 0.f);
    h1[s * HS16 + u] = h2[s * HS16 + u] = __float2half_rn(0.f);
  }
  if constexpr (XIN) {
    // Ring columns I..kLaMaxXI-1 meet zero weights and must be finite: zeros (no cp.async writes there). Rows of
    // absent samples may hold anything: a sample's column of the products depends on its own row only.
    const int pad = kLaMaxXI - p.I;
    if (pad > 0)
      for (int i = tid; i < kXStages * S * pad; i += kMmaThreads) xring[(i / pad) * kXS + p.I + i % pad] = 0.f;
  }
  // Per-lane state. Samples of this lane: n0 = 2 tq, n0 + 1 (the D fragment's columns); B fragment row: g.
  const int n0 = 2 * tq;
  const int role = warp < 8 ? 1 : 2;
  const int wl = role == 1 ? warp : warp - 8;
  const int u = 8 * wl + g;   // hidden unit (roles 1, 2)
  // A fragments [m-tile][k-step]: layer 2 uses all 8 k-steps; layer 1 4 (R1), warps 0-3 keep their Wa^T m-tile
  // (4 k-steps) in wf[0][4..7] and, XIN, W1's two m-tiles x 2 k-steps sit in wf[1][4..7] (registers are the limit:
  // 128 per lane at 512 threads).
  uint4 wf[2][K2 / 16];
  float gb[4] = {}, c[2] = {}, gA[2][4] = {}, gB[2][4] = {};
  float sba[2] = {}, sva[2] = {};
  const bool scorer = fused_scores && warp < 4;
  const uint4* img = static_cast<const uint4*>(p.img);
  if (role == 1) {
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int ks = 0; ks < K1 / 16; ++ks) wf[m][ks] = img[((wl * 2 + m) * (K1 / 16) + ks) * 32 + lane];
    if constexpr (XIN) {
#pragma unroll
      for (int m = 0; m < 2; ++m)
#pragma unroll
        for (int ks = 0; ks < kLaMaxXI / 16; ++ks)
          wf[1][4 + 2 * m + ks] = img[kFragU4_1 + kFragU4_2 + ((wl * 2 + m) * (kLaMaxXI / 16) + ks) * 32 + lane];
    }
  } else if (role == 2) {
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int ks = 0; ks < K2 / 16; ++ks) wf[m][ks] = img[kFragU4_1 + ((wl * 2 + m) * (K2 / 16) + ks) * 32 + lane];
  }
  if (scorer) {
    // Wa^T as 4 m-tiles (attention unit j = 16 mt + row) x 4 k-steps, packed from the FP32 head buffer; rows >= A zero.
    const float* Wa = p.head + p.oWa;
    const int A = p.A;
    auto el = [&](int j, int k) { return j < A ? Wa[k * A + j] : 0.f; };
    const int mt = warp;
#pragma unroll
    for (int ks = 0; ks < 4; ++ks) {
      const int r0 = 16 * mt + g, k0 = 16 * ks + 2 * tq;
      uint4 a;
      a.x = pack_h2(el(r0, k0), el(r0, k0 + 1));
      a.y = pack_h2(el(r0 + 8, k0), el(r0 + 8, k0 + 1));
      a.z = pack_h2(el(r0, k0 + 8), el(r0, k0 + 9));
      a.w = pack_h2(el(r0 + 8, k0 + 8), el(r0 + 8, k0 + 9));
      wf[0][4 + ks] = a;
    }
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
      const int j = 16 * mt + g + 8 * hh;
      sba[hh] = j < A ? p.head[p.oba + j] : 0.f;
      sva[hh] = j < A ? p.head[p.ova + j] : 0.f;
    }
  }
  if (role <= 2) {
    const float* bias = role == 1 ? p.bias1 : p.bias2;
    const float* c0 = role == 1 ? p.c01 : p.c02;
#pragma unroll
    for (int gi = 0; gi < 4; ++gi) gb[gi] = bias[gi * H + u];
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const int s = n0 + j, b = b0 + s;
      c[j] = (s < S && b < p.B && c0) ? c0[static_cast<std::size_t>(b) * H + u] : 0.f;
    }
  }
  // !XIN: x W1^T of step t from the cuBLAS GEMM's buffer (G1), prefetched two iterations ahead.
  auto load_g = [&](float (&gx)[2][4], int t) {
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const int s = n0 + j, b = b0 + s;
      const bool ok = role == 1 && s < S && b < p.B && t < T;
#pragma unroll
      for (int gi = 0; gi < 4; ++gi) gx[j][gi] = ok ? p.G1[(static_cast<std::size_t>(b) * T + t) * 4 * H + gi * H + u] : 0.f;
    }
  };
  if constexpr (!XIN) {
    load_g(gA, 0);
    load_g(gB, 1);
  }
  if (loader) {   // stage 0 has landed
    if constexpr (XC) cp_async_wait_dyn(issued - 1);
    else cp_async_wait<kXStages - 2>();
  }
  __syncthreads();
  stamp(1);
  // The head weights, needed only after the loop: requested now by the threads that issue no x stages (their only
  // cp.async group), so that they do not compete with the weight-fragment loads of the prologue.
  if (!loader) {
    const int hl = tid < kLoader0 ? tid : tid - kLoaderN;
    for (int i = hl; i < p.head_floats / 4; i += kMmaThreads - kLoaderN) cp_async16(hw + i * 4, p.head + i * 4);
    cp_async_commit();
  }
  const bool brow = g < S;   // this lane's B-fragment row (sample g) exists
  // B fragments of one k-step from an FP16 h row: k = 16 ks + 2 tq (+1) and + 8.
  auto ldb = [&](const __half* row, int ks, unsigned& x, unsigned& y) {
    if (brow) {
      const unsigned* w = reinterpret_cast<const unsigned*>(row + 16 * ks + 2 * tq);
      x = w[0];
      y = w[4];
    } else {
      x = y = 0u;
    }
  };
  // One layer's gate products, cell update and h store for step t (guarded by `live`: outside its steps a layer
  // computes on stale inputs and stores nothing).
  auto cell = [&](int it, float (&gx)[2][4], bool live) {
    const int t = role == 1 ? it : it - 1;
    // [m-tile][k chain][frag]: two independent accumulation chains per tile; the gate bias is chain 0's start.
    float d[2][2][4];
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      d[m][0][0] = d[m][0][1] = gb[2 * m];
      d[m][0][2] = d[m][0][3] = gb[2 * m + 1];
      d[m][1][0] = d[m][1][1] = d[m][1][2] = d[m][1][3] = 0.f;
    }
    const __half* r1 = h1 + (((t - (role == 1 ? 1 : 0)) & 1) * S + g) * HS16;   // layer 1: h1_{t-1}; layer 2: h1_t
    if (role == 1) {
      if constexpr (XIN) {
        // x_t W1^T: B fragments from the FP32 ring row of sample g, rounded to FP16 as cuBLAS's FAST_16F did.
        const float* xr = xring + (t % kXStages) * S * kXS + g * kXS;
#pragma unroll
        for (int ks = 0; ks < kLaMaxXI / 16; ++ks) {
          unsigned x = 0u, y = 0u;
          if (brow) {
            const float2 lo = *reinterpret_cast<const float2*>(xr + 16 * ks + 2 * tq);
            const float2 hi = *reinterpret_cast<const float2*>(xr + 16 * ks + 2 * tq + 8);
            x = pack_h2(lo.x, lo.y);
            y = pack_h2(hi.x, hi.y);
          }
          mma16816(d[0][ks & 1], wf[1][4 + ks], x, y);
          mma16816(d[1][ks & 1], wf[1][6 + ks], x, y);
        }
      }
#pragma unroll
      for (int ks = 0; ks < K1 / 16; ++ks) {
        unsigned x, y;
        ldb(r1, ks, x, y);
        mma16816(d[0][ks & 1], wf[0][ks], x, y);
        mma16816(d[1][ks & 1], wf[1][ks], x, y);
      }
    } else {
      const __half* r2 = h2 + (((t - 1) & 1) * S + g) * HS16;   // h2_{t-1}
#pragma unroll
      for (int ks = 0; ks < K2 / 16; ++ks) {
        unsigned x, y;
        ldb(ks < 4 ? r1 : r2, ks & 3, x, y);
        mma16816(d[0][ks & 1], wf[0][ks], x, y);
        mma16816(d[1][ks & 1], wf[1][ks], x, y);
      }
    }
    // d[m][.][0..1]: row g (gate 2m) for samples n0, n0+1; [2..3]: row g+8 (gate 2m+1).
    __half* hb = role == 1 ? h1 : h2;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      if (S == 1 && j == 1) continue;   // S = 1: the second column is padding in every lane (half the MUFU work)
      const int s = n0 + j;
      float ai = d[0][0][j] + d[0][1][j], ao = d[0][0][2 + j] + d[0][1][2 + j];
      float af = d[1][0][j] + d[1][1][j], ac = d[1][0][2 + j] + d[1][1][2 + j];
      if constexpr (!XIN) {
        ai += gx[j][0];
        ao += gx[j][1];
        af += gx[j][2];
        ac += gx[j][3];
      }
      const float gi = sig_hw(ai), go = sig_hw(ao), gf = sig_hw(af), gc = tanh_hw(ac);
      const float cn = gf * c[j] + gi * gc;
      const float h = go * tanh_hw(cn);
      if (live) {
        c[j] = cn;
        if (s < S) {
          hb[((t & 1) * S + s) * HS16 + u] = __float2half_rn(h);
          if (role == 2 && b0 + s < p.B) {
            if (p.hs_smem) hs16[(s * T + t) * H + u] = __float2half_rn(h);
            else p.Hs[(static_cast<std::size_t>(b0 + s) * T + t) * H + u] = h;
          }
        }
      }
    }
    if constexpr (!XIN)
      if (role == 1 && live) load_g(gx, t + 2);
  };
  // Attention score of step it - 2 (warps 0-3): h2_t was written in iteration t + 1 to buffer t & 1 (rewritten only in
  // iteration t + 3). Stores only when `live`.
  auto score_step = [&](int it, bool live) {
    const int t = it - 2;
    const __half* r2 = h2 + ((t & 1) * S + g) * HS16;
    float d[2][4] = {};
#pragma unroll
    for (int ks = 0; ks < 4; ++ks) {
      unsigned x, y;
      ldb(r2, ks, x, y);
      mma16816(d[ks & 1], wf[0][4 + ks], x, y);
    }
    float part[2] = {};
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      if (S == 1 && j == 1) continue;
      part[j] = sva[0] * tanh_hw(d[0][j] + d[1][j] + sba[0]) + sva[1] * tanh_hw(d[0][2 + j] + d[1][2 + j] + sba[1]);
    }
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      if (S == 1 && j == 1) continue;
#pragma unroll
      for (int o = 4; o < 32; o <<= 1) part[j] += __shfl_xor_sync(kFull, part[j], o);
    }
    float* dst = warp == 0 ? score : spart + (warp - 1) * S * T;
    if (live && g == 0)
#pragma unroll
      for (int j = 0; j < 2; ++j)
        if (n0 + j < S) dst[(n0 + j) * T + t] = part[j];
  };
  auto iteration = [&](int it, float (&gx)[2][4]) {
    // Stage it + kXStages - 1 may go to the slot x_{it-1} used (read in iteration it - 1: the barrier since orders it).
    if (loader) issue_upto(it + kXStages, false);
    // (Running warps 0-3's layer-1 cell and score step as one straight-line block, so that the compiler could
    // interleave them, was measured slower: 1,640 vs 1,510 cycles per iteration, docs/gpu/run7/call3.)
    if (role == 1) {
      if (it < T) cell(it, gx, true);
    } else {
      if (it >= 1 && it <= T) cell(it, gx, true);
    }
    if (scorer && it >= 2) score_step(it, true);
    if (loader) {   // stage it + 1 has landed before the barrier publishes it
      if constexpr (XC) {
        if (it + 1 < T) {
          issue_upto(it + 2, true);
          cp_async_wait_dyn(issued - (it + 2));
        }
      } else {
        cp_async_wait<kXStages - 2>();   // one group per iteration (empty past T): stage it + 1 is the 7th newest
      }
    }
    if (blockIdx.x == 0 && it == 10 && lane == 0) g_la_warp[warp] = clock64();   // diagnostics: barrier arrival per warp
    __syncthreads();
    if (blockIdx.x == 0 && it == 9 && tid == 0) g_la_warp[kMmaWarps] = clock64();   // iteration 10 begins
  };
  for (int it = 0; it <= T + 1; it += 2) {
    iteration(it, gA);
    if (it + 1 <= T + 1) iteration(it + 1, gB);
  }
  stamp(2);
  cp_async_wait_all();   // the head weights (requested after the prologue)
  __syncthreads();
  stamp(3);
  if (!fused_scores) {
    if (p.hs_smem) attn_scores<kMmaThreads>(p, hw, hs16, score, S, b0, warp, lane);
    else attn_scores<kMmaThreads>(p, hw, p.Hs + static_cast<std::size_t>(b0) * T * H, score, S, b0, warp, lane);
  } else {
    for (int i = tid; i < S * T; i += kMmaThreads) score[i] = ((score[i] + spart[i]) + spart[S * T + i]) + spart[2 * S * T + i];
  }
  __syncthreads();
  stamp(4);
  const float* hs = p.Hs + static_cast<std::size_t>(b0) * T * H;
  if (p.hs_smem) attn_head_block<S>(p, hw, hs16, score, scr, b0, tid);
  else attn_head_block<S>(p, hw, hs, score, scr, b0, tid);
  stamp(5);
}
template <int S, bool XIN, bool XC = false>
cudaError_t launch_mma(const LstmAttn& p, cudaStream_t s) {
  const MmaLayout L = mma_layout(S, p.T, p.hs_smem != 0, p.head_floats, XIN);
  LstmAttn q = p;
  const std::size_t offs[7] = {L.head, L.h, L.score, L.hs16, L.spart, L.xring, L.scratch};
  for (int i = 0; i < 7; ++i) q.sm_off[i] = static_cast<unsigned>(offs[i]);
  cudaError_t e = cudaFuncSetAttribute(lstm_attn_mma_kernel<S, XIN, XC>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(L.total));
  if (e != cudaSuccess) return e;
  const unsigned grid = static_cast<unsigned>((p.B + S - 1) / S);
  lstm_attn_mma_kernel<S, XIN, XC><<<grid, kMmaThreads, L.total, s>>>(q);
  return cudaGetLastError();
}
template <int S>
cudaError_t launch_mma_x(const LstmAttn& p, cudaStream_t s) {
  if constexpr (S > 1)   // x copied in time chunks while the kernel runs (large batches only)
    if (p.X && p.xready) return launch_mma<S, true, true>(p, s);
  return p.X ? launch_mma<S, true>(p, s) : launch_mma<S, false>(p, s);
}

template <LaWeights M, int S>
cudaError_t launch(const LstmAttn& p, cudaStream_t s) {
  const std::size_t smem = lstm_attn_smem(M, S, p.T, p.hs_smem != 0, p.head_floats, false);
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
                                         std::vector<float>& scale2, const float* W1, int I) {
  const std::size_t lb1 = layer_bytes(K1, mode), lb2 = layer_bytes(K2, mode);
  scale1.assign(4 * H, 1.f);
  scale2.assign(4 * H, 1.f);
  if (mode == LaWeights::fp16) {
    // mma.sync A fragments (lstm_attn_mma_kernel): [layer][warp w][m-tile m][k-step ks][lane] as 4 x 32-bit (8 halves).
    // Tile m, row r: gate 2m + (r >= 8) of unit 8w + (r & 7); lane (g, tq) holds rows g / g+8 and columns 2tq (+1), 2tq+8 (+9).
    // Layer 0 (W1 [4H, I], K padded with zeros to kLaMaxXI) follows both layers when the kernel does x W1^T itself.
    const bool xin = W1 && I > 0 && I <= kLaMaxXI;
    std::vector<std::uint8_t> img(sizeof(std::uint32_t) * 4 * (kFragU4_1 + kFragU4_2 + (xin ? kFragU4_X : 0)), 0);
    auto* out = reinterpret_cast<__half*>(img.data());
    std::size_t o = 0;
    for (int layer = 1; layer <= (xin ? 3 : 2); ++layer) {
      const int K = layer == 1 ? K1 : layer == 2 ? K2 : kLaMaxXI;
      auto w = [&](int r, int k) {
        if (layer == 3) return k < I ? W1[r * I + k] : 0.f;
        return layer == 1 ? R1[r * H + k] : (k < H ? W2[r * H + k] : R2[r * H + k - H]);
      };
      for (int wp = 0; wp < 8; ++wp)
        for (int m = 0; m < 2; ++m)
          for (int ks = 0; ks < K / 16; ++ks)
            for (int lane = 0; lane < 32; ++lane) {
              const int g = lane >> 2, tq = lane & 3;
              const int rows[2] = {(2 * m) * H + 8 * wp + g, (2 * m + 1) * H + 8 * wp + g};   // ONNX row gate * H + unit
              const int kb = 16 * ks + 2 * tq;
              const int ri[8] = {0, 0, 1, 1, 0, 0, 1, 1}, ki[8] = {0, 1, 0, 1, 8, 9, 8, 9};
              for (int e = 0; e < 8; ++e) out[o++] = __float2half_rn(w(rows[ri[e]], kb + ki[e]));
            }
    }
    return img;
  }
  std::vector<std::uint8_t> img(lb1 + lb2, 0);
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

std::size_t lstm_attn_smem(LaWeights mode, int S, int T, bool hs_smem, int head_floats, bool xin) {
  // FP16: the tensor-core kernel's own layout (mma_layout: head weights, h, scores, FP16 hidden sequence, x ring).
  if (mode == LaWeights::fp16) return mma_layout(S, T, hs_smem, head_floats, xin).total;
  return layer_bytes(K1, mode) + layer_bytes(K2, mode) + sizeof(float) * 4 * S * H + (mode == LaWeights::int8 ? 8 * S * H : 0) +
         sizeof(float) * static_cast<std::size_t>((S * T + 3) / 4 * 4) + (hs_smem ? sizeof(float) * static_cast<std::size_t>(S) * T * H : 0);
}

std::size_t lstm_attn_weight_bytes(LaWeights mode) { return layer_bytes(K1, mode) + layer_bytes(K2, mode); }

std::vector<float> lstm_attn_pack_head(const float* Wa, const float* ba, const float* va, const float* F1, const float* b1,
                                       const float* F2, const float* b2, LstmAttn& p) {
  std::vector<float> v;
  auto put = [&](int n, auto at) {
    const int off = static_cast<int>(v.size());
    for (int i = 0; i < n; ++i) v.push_back(at(i));
    while (v.size() % 4) v.push_back(0.f);   // 16-byte pieces for cp.async
    return off;
  };
  const int A = p.A, M1 = p.M1, C = p.C;
  p.oWa = put(H * A, [&](int i) { return Wa[i]; });
  p.oba = put(A, [&](int i) { return ba[i]; });
  p.ova = put(A, [&](int i) { return va[i]; });
  p.oF1T = put(2 * H * M1, [&](int i) { return F1[(i % M1) * 2 * H + i / M1]; });   // F1T[k][o] = F1[o][k]
  p.ob1 = put(M1, [&](int i) { return b1[i]; });
  p.oF2 = put(C * M1, [&](int i) { return F2[i]; });
  p.ob2 = put(C, [&](int i) { return b2[i]; });
  p.head_floats = static_cast<int>(v.size());
  return v;
}

bool lstm_attn_warp_cycles(long long out[16]) {
  unsigned long long c[17] = {};
  if (cudaMemcpyFromSymbol(c, g_la_warp, sizeof c) != cudaSuccess) return false;
  for (int i = 0; i < 16; ++i) out[i] = static_cast<long long>(c[i] - c[16]);
  return true;
}

bool lstm_attn_head_cycles(long long out[4]) {
  unsigned long long c[9] = {};
  if (cudaMemcpyFromSymbol(c, g_la_clock, sizeof c) != cudaSuccess) return false;
  out[0] = static_cast<long long>(c[6] - c[4]);   // softmax
  out[1] = static_cast<long long>(c[7] - c[6]);   // context
  out[2] = static_cast<long long>(c[8] - c[7]);   // fc1
  out[3] = static_cast<long long>(c[5] - c[8]);   // fc2 + logits out
  return true;
}

bool lstm_attn_phase_cycles(long long out[5]) {
  unsigned long long c[6] = {};
  if (cudaMemcpyFromSymbol(c, g_la_clock, sizeof c) != cudaSuccess) return false;
  for (int i = 0; i < 5; ++i) out[i] = static_cast<long long>(c[i + 1] - c[i]);
  return true;
}

cudaError_t lstm_attn_run(const LstmAttn& p, int S, cudaStream_t s) {
  switch (p.wmode) {
    case LaWeights::fp32: return launch_s<LaWeights::fp32>(p, S, s);
    case LaWeights::fp16:
      switch (S) {   // the tensor-core kernel (the FP16 image is in its fragment layout)
        case 1: return launch_mma_x<1>(p, s);
        case 2: return launch_mma_x<2>(p, s);
        case 4: return launch_mma_x<4>(p, s);
        default: return launch_mma_x<8>(p, s);
      }
    default: return launch_s<LaWeights::int8>(p, S, s);
  }
}

}  // namespace tickrt::infer::cuda::k
