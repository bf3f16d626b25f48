// infer/cpu/int8_dispatch.cpp — INT8/FP16 weight packing (ISA independent) and the run-time choice of the
// INT8 path (cpuid once: AVX-512 VNNI, AVX-VNNI), capped by the engine's float ISA.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "infer/cpu/int8_isa.hpp"

namespace tickrt::infer::cpu {
namespace {

struct CpuFeatures {
  bool avx512_vnni = false, avx_vnni = false, avx512_fp16 = false;
};
const CpuFeatures& features() {
  static const CpuFeatures f = [] {
    CpuFeatures c;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, cx, d;
    if (__get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
      c.avx512_vnni = (cx >> 11) & 1u;
      c.avx512_fp16 = (d >> 23) & 1u;
    }
    if (__get_cpuid_count(7, 1, &a, &b, &cx, &d)) c.avx_vnni = (a >> 4) & 1u;
#endif
    return c;
  }();
  return f;
}

}  // namespace

bool cpu_has_avx512fp16() { return features().avx512_fp16 && detect_isa() == Isa::avx512; }

Int8Isa int8_isa(Isa cap) {
  // TICKRT_INT8=scalar|avx2|avx_vnni|avx512_vnni caps the choice further (A/B runs, tests).
  const auto& f = features();
  Int8Isa best = Int8Isa::scalar;
  if (cap >= Isa::avx2) best = Int8Isa::avx2;
  if (cap >= Isa::avx2 && f.avx_vnni) best = Int8Isa::avx_vnni;
  if (cap == Isa::avx512 && f.avx512_vnni) best = Int8Isa::avx512_vnni;
  if (const char* e = std::getenv("TICKRT_INT8")) {
    const std::string s(e);
    Int8Isa want = best;
    if (s == "scalar") want = Int8Isa::scalar;
    else if (s == "avx2") want = Int8Isa::avx2;
    else if (s == "avx_vnni") want = Int8Isa::avx_vnni;
    else if (s == "avx512_vnni") want = Int8Isa::avx512_vnni;
    if (want < best && (want != Int8Isa::avx_vnni || f.avx_vnni)) best = want;
  }
  return best;
}

bool int8_isa_available(Int8Isa i) {
  const Isa cap = detect_isa();
  switch (i) {
    case Int8Isa::scalar: return true;
    case Int8Isa::avx2: return cap >= Isa::avx2;
    case Int8Isa::avx_vnni: return cap >= Isa::avx2 && features().avx_vnni;
    case Int8Isa::avx512_vnni: return cap == Isa::avx512 && features().avx512_vnni;
  }
  return false;
}

const char* int8_isa_name(Int8Isa i) {
  switch (i) {
    case Int8Isa::scalar: return "scalar";
    case Int8Isa::avx2: return "avx2";
    case Int8Isa::avx_vnni: return "avx_vnni";
    case Int8Isa::avx512_vnni: return "avx512_vnni";
  }
  return "?";
}

// ---- packing -------------------------------------------------------------------------------------------
size_t i8_packed_bytes(int K, int N) {
  return static_cast<size_t>(i8_np(N)) * i8_kp(K) + 8 * static_cast<size_t>(i8_np(N));
}

void i8_pack_weights(const float* W_nk, const float* W_kn, int K, int N, std::byte* packed) {
  const int Kp = i8_kp(K), Np = i8_np(N);
  auto w = [&](int n, int k) { return W_nk ? W_nk[static_cast<size_t>(n) * K + k] : W_kn[static_cast<size_t>(k) * N + n]; };
  std::memset(packed, 0, i8_packed_bytes(K, N));
  auto* q = reinterpret_cast<int8_t*>(packed);
  std::vector<int32_t> colsum(Np, 0);
  std::vector<float> scale(Np, 0.f);
  for (int n = 0; n < N; ++n) {
    float amax = 0.f;
    for (int k = 0; k < K; ++k) amax = std::max(amax, std::fabs(w(n, k)));
    // An all-zero channel keeps scale 1 (its codes are all 0): no division by zero, exact zeros.
    const float s = amax > 0.f ? amax / 127.f : 1.f;
    scale[n] = s;
    const int p = n / 16, col = n % 16;
    for (int k = 0; k < K; ++k) {
      const float v = std::nearbyint(w(n, k) / s);
      const int qi = static_cast<int>(std::min(127.f, std::max(-127.f, v)));
      q[static_cast<size_t>(p) * Kp * 16 + static_cast<size_t>(k / 4) * 64 + col * 4 + (k % 4)] = static_cast<int8_t>(qi);
      colsum[n] += qi;
    }
  }
  std::memcpy(packed + static_cast<size_t>(Np) * Kp, colsum.data(), 4 * static_cast<size_t>(Np));
  std::memcpy(packed + static_cast<size_t>(Np) * Kp + 4 * static_cast<size_t>(Np), scale.data(), 4 * static_cast<size_t>(Np));
}

float i8_weight(const std::byte* packed, int K, int N, int n, int k) {
  const int Kp = i8_kp(K);
  const auto* q = reinterpret_cast<const int8_t*>(packed);
  return q[static_cast<size_t>(n / 16) * Kp * 16 + static_cast<size_t>(k / 4) * 64 + (n % 16) * 4 + (k % 4)] * i8_wscale(packed, K, N)[n];
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));  // inf / nan
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);   // rounds past 65504: inf
  if (ax < 0x38800000u) {                                                // subnormal half (or zero)
    if (ax < 0x33000000u) return static_cast<uint16_t>(sign);            // below half the smallest subnormal
    // value = m * 2^(e - 150); in units of the smallest half subnormal (2^-24): m >> (126 - e).
    const uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t sh = 126 - e;
    uint32_t h = m >> sh;
    const uint32_t rem = m & ((1u << sh) - 1u), half = 1u << (sh - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((ax - 0x38000000u) >> 13);
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  uint32_t x;
  if (e == 0) {
    if (m == 0) x = sign;
    else {
      const float f = std::ldexp(static_cast<float>(m), -24);
      std::memcpy(&x, &f, 4);
      x |= sign;
    }
  } else if (e == 31) x = sign | 0x7f800000u | (m << 13);
  else x = sign | ((e + 112) << 23) | (m << 13);
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

size_t f16_packed_bytes(int K, int N) { return static_cast<size_t>(i8_np(N)) * K * 2; }

void f16_pack_weights(const float* W_nk, const float* W_kn, int K, int N, std::byte* packed) {
  std::memset(packed, 0, f16_packed_bytes(K, N));
  auto* h = reinterpret_cast<uint16_t*>(packed);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) {
      const float v = W_nk ? W_nk[static_cast<size_t>(n) * K + k] : W_kn[static_cast<size_t>(k) * N + n];
      h[static_cast<size_t>(n / 16) * K * 16 + static_cast<size_t>(k) * 16 + n % 16] = f32_to_f16(v);
    }
}

// ---- dispatch ------------------------------------------------------------------------------------------
#define TICKRT_I8_DISPATCH(i, call)               \
  switch (i) {                                    \
    case Int8Isa::avx512_vnni: return i8_avx512::call; \
    case Int8Isa::avx_vnni: return i8_avxvnni::call;   \
    case Int8Isa::avx2: return i8_avx2::call;          \
    default: return i8_scalar::call;                   \
  }
#define TICKRT_F16_DISPATCH(isa, call)            \
  switch (isa) {                                  \
    case Isa::avx512: return i8_avx512::call;     \
    case Isa::avx2: return i8_avx2::call;         \
    default: return i8_scalar::call;              \
  }

void i8_quantize_rows(Int8Isa i, int M, int K, const float* x, int ldx, float inv_scale, int8_t* q, int ldq) {
  TICKRT_I8_DISPATCH(i, i8_quantize_rows(M, K, x, ldx, inv_scale, q, ldq));
}
void i8_gemm_s32(Int8Isa i, int M, int N, int K, const int8_t* A, int lda, const std::byte* packed, int32_t* C, int ldc) {
  TICKRT_I8_DISPATCH(i, i8_gemm_s32(M, N, K, A, lda, packed, C, ldc));
}
size_t i8_lstm_workspace_bytes(LstmDims d) { return i8_scalar::i8_lstm_workspace_bytes(d); }
void i8_lstm_forward(Int8Isa i, LstmDims d, const std::byte* Wq, const std::byte* Rq, const float* bias, float x_scale,
                     const float* x, int layout, float* y, float* hT, float* cT, std::byte* ws, const float* h0, const float* c0) {
  TICKRT_I8_DISPATCH(i, i8_lstm_forward(d, Wq, Rq, bias, x_scale, x, layout, y, hT, cT, ws, h0, c0));
}
size_t i8_gemm_workspace_bytes(int M, int K, int N) { return i8_scalar::i8_gemm_workspace_bytes(M, K, N); }
void i8_gemm_f32(Int8Isa i, int M, int N, int K, const float* A, int lda, float a_scale, const std::byte* packed,
                 const float* bias, Epilogue epi, float* C, int ldc, std::byte* ws) {
  TICKRT_I8_DISPATCH(i, i8_gemm_f32(M, N, K, A, lda, a_scale, packed, bias, epi, C, ldc, ws));
}
void f16_gemm(Isa isa, int M, int N, int K, const float* A, int lda, const std::byte* packed, const float* bias, Epilogue epi,
              float* C, int ldc) {
  TICKRT_F16_DISPATCH(isa, f16_gemm(M, N, K, A, lda, packed, bias, epi, C, ldc));
}
size_t f16_lstm_workspace_bytes(LstmDims d) { return i8_scalar::f16_lstm_workspace_bytes(d); }
void f16_lstm_forward(Isa isa, LstmDims d, const std::byte* Wp, const std::byte* Rp, const float* bias, const float* x,
                      int layout, float* y, float* hT, float* cT, std::byte* ws, const float* h0, const float* c0) {
  TICKRT_F16_DISPATCH(isa, f16_lstm_forward(d, Wp, Rp, bias, x, layout, y, hT, cT, ws, h0, c0));
}

}  // namespace tickrt::infer::cpu
