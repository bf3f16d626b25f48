// infer/cpu/int8_fp16_impl.inl — INT8 and FP16 weight kernels, written once against the float traits V
// (simd.hpp) and a small integer-dot trait I8 defined below per ISA.
//
// Included by int8_scalar.cpp, int8_avx2.cpp, int8_avxvnni.cpp and int8_avx512.cpp, each compiled with its
// own -m flags and defining TICKRT_ISA_NS plus one TICKRT_I8_* macro. Helpers live in an anonymous namespace
// inside the ISA namespace (no wide-vector symbol can leak into another build); only the entry points at the
// bottom have external linkage; int8_dispatch.cpp is their only caller.
//
// INT8 building block: a register tile of MR rows x NP panels (16 output columns each). Per group of 4 k,
// one 32-bit broadcast of each row's 4 activation bytes and one 64-byte load of each panel's weights feed
// MR*NP dot instructions (VPDPBUSD on VNNI). The LSTM step is that tile over the batch rows followed by the
// FP32 cell; the input projection of all T steps is one tiled GEMM up front (as the FP32 kernel).

#include <cmath>
#include <cstring>
#include <type_traits>

#include "infer/cpu/int8_kernels.hpp"
#include "infer/cpu/simd.hpp"

namespace tickrt::infer::cpu::TICKRT_ISA_NS {
namespace {

using R = V::R;
constexpr int W = V::W;

inline int imin(int a, int b) { return a < b ? a : b; }
inline size_t a64(size_t n) { return (n + 63) & ~size_t(63); }

// ---- vector math: the same Cephes-style polynomials as kernels_impl.inl (copied, not shared, so that
// this file's symbols stay inside its own ISA namespace; see the ODR note in simd.hpp) ----------------
inline R vexp(R x) {
  x = V::min(V::max(x, V::set1(-87.3f)), V::set1(88.3f));
  const R n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  R r = V::fmadd(n, V::set1(-0.693359375f), x);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  R p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  p = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.f)));
  return V::ldexp2(p, n);
}
constexpr float kQ0 = 0.499992311000824f, kQ1 = 0.16667115688323975f, kQ2 = 0.04189034551382065f,
                kQ3 = 0.008312510326504707f;
inline R vsigmoid_cell(R x) {
  x = V::min(V::max(x, V::set1(-88.3f)), V::set1(87.3f));
  const R m = V::round(V::mul(x, V::set1(-1.44269504088896341f)));
  R r = V::fmadd(m, V::set1(0.693359375f), x);
  r = V::fmadd(m, V::set1(-2.12194440e-4f), r);
  R q = V::fmadd(V::set1(-kQ3), r, V::set1(kQ2));
  q = V::fmadd(q, r, V::set1(-kQ1));
  q = V::fmadd(q, r, V::set1(kQ0));
  q = V::fmadd(q, V::mul(r, r), V::sub(V::set1(1.f), r));
  return V::rcp(V::add(V::ldexp2(q, m), V::set1(1.f)));
}
inline R vtanh_cell(R x) {
  x = V::min(V::max(x, V::set1(-43.65f)), V::set1(44.15f));
  const R n = V::round(V::mul(x, V::set1(2.88539008177792682f)));
  R h = V::fmadd(n, V::set1(-0.3466796875f), x);
  h = V::fmadd(n, V::set1(1.06097220e-4f), h);
  R q = V::fmadd(V::set1(kQ3 * 32.f), h, V::set1(kQ2 * 16.f));
  q = V::fmadd(q, h, V::set1(kQ1 * 8.f));
  q = V::fmadd(q, h, V::set1(kQ0 * 4.f));
  q = V::fmadd(q, V::mul(h, h), V::fmadd(h, V::set1(2.f), V::set1(1.f)));
  const R e = V::ldexp2(q, n);
  return V::fmadd(V::set1(-2.f), V::rcp(V::add(e, V::set1(1.f))), V::set1(1.f));
}
inline R vtanh(R x) {
  const R a = V::abs(x);
  const R z = V::mul(a, a);
  R ps = V::fmadd(V::set1(-5.70498872745e-3f), z, V::set1(2.06390887954e-2f));
  ps = V::fmadd(ps, z, V::set1(-5.37397155531e-2f));
  ps = V::fmadd(ps, z, V::set1(1.33314422036e-1f));
  ps = V::fmadd(ps, z, V::set1(-3.33332819422e-1f));
  ps = V::fmadd(V::mul(ps, z), a, a);
  const R e = vexp(V::add(a, a));
  const R pl = V::fmadd(V::set1(-2.f), V::rcp(V::add(e, V::set1(1.f))), V::set1(1.f));
  return V::copysign(V::blend_lt(a, V::set1(0.625f), ps, pl), x);
}
inline R vsigmoid(R x) { return V::rcp(V::add(vexp(V::sub(V::zero(), x)), V::set1(1.f))); }
inline R apply_act(Act act, float alpha, R v) {
  switch (act) {
    case Act::none: return v;
    case Act::relu: return V::max(v, V::zero());
    case Act::leaky_relu: return V::fmadd(V::set1(alpha), V::min(v, V::zero()), V::max(v, V::zero()));
    case Act::tanh: return vtanh(v);
    case Act::sigmoid: return vsigmoid(v);
  }
  return v;
}

// INT8-cell activations: h is rounded to a 1/127 grid (0.0079) for the next step's product anyway, so the
// gates need ~1e-4, not FP32's 1e-7: exp with a degree-3 polynomial (relative error 1.3e-4, a weighted
// least-squares fit on |r| <= ln2/2) and the reciprocal estimate without its Newton step (2^-14 on AVX-512,
// 2^-12 on AVX2). Absolute error of sigmoid / tanh <= ~3e-4 (tested through the LSTM against a double
// reference, tests/quant). About 5 vector ops fewer per activation, 20 activations per 16 units per step.
inline R rcp_fast(R d) {
#if defined(TICKRT_KERNELS_ISA_AVX512)
  return _mm512_rcp14_ps(d);
#elif defined(TICKRT_KERNELS_ISA_AVX2)
  return _mm256_rcp_ps(d);
#else
  return 1.f / d;
#endif
}
constexpr float kE0 = 0.50414131f, kE1 = 0.16708646f;
inline R vsigmoid_q(R x) {
  x = V::min(V::max(x, V::set1(-87.f)), V::set1(87.f));
  const R m = V::round(V::mul(x, V::set1(-1.44269504088896341f)));
  const R r = V::fmadd(m, V::set1(0.69314718056f), x);           // e^-x = 2^m e^-r
  R q = V::fmadd(V::set1(-kE1), r, V::set1(kE0));
  q = V::fmadd(q, V::mul(r, r), V::sub(V::set1(1.f), r));
  return rcp_fast(V::add(V::ldexp2(q, m), V::set1(1.f)));
}
inline R vtanh_q(R x) {
  x = V::min(V::max(x, V::set1(-10.f)), V::set1(10.f));
  const R x2 = V::add(x, x);
  const R n = V::round(V::mul(x2, V::set1(1.44269504088896341f)));
  const R h = V::fmadd(n, V::set1(-0.69314718056f), x2);          // e^2x = 2^n e^h
  R q = V::fmadd(V::set1(kE1), h, V::set1(kE0));
  q = V::fmadd(q, V::mul(h, h), V::add(h, V::set1(1.f)));
  return V::fmadd(V::set1(-2.f), rcp_fast(V::add(V::ldexp2(q, n), V::set1(1.f))), V::set1(1.f));
}

// ---- per-ISA integer pieces -----------------------------------------------------------------------
inline int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

#if defined(TICKRT_I8_AVX512VNNI)
struct I8 {
  static constexpr int MR = 4, NP = 4, NP1 = 16;  // 16 zmm accumulators (one row: 16 panels = 4H of H 64 in one pass)
  struct Acc { __m512i v; };
  using A = __m512i;
  static inline Acc zero() { return {_mm512_setzero_si512()}; }
  // u8 = s8 + 128 (flip the sign bit of each byte); the 128 * colsum term is removed in store().
  static inline A bcast(int32_t a4) { return _mm512_set1_epi32(a4 ^ static_cast<int32_t>(0x80808080u)); }
  static inline void step(Acc& c, const A& a, const int8_t* w) {
    c.v = _mm512_dpbusd_epi32(c.v, a, _mm512_loadu_si512(w));
  }
  static inline void store(const Acc& c, int32_t* out, const int32_t* colsum) {
    const __m512i cs = _mm512_slli_epi32(_mm512_loadu_si512(colsum), 7);
    _mm512_storeu_si512(out, _mm512_sub_epi32(c.v, cs));
  }
};
#elif defined(TICKRT_I8_AVXVNNI) || defined(TICKRT_I8_AVX2)
struct I8 {
  static constexpr int MR = 2, NP = 2, NP1 = 4;   // 8 ymm accumulators: leaves registers for a and w
  struct Acc { __m256i lo, hi; };
#if defined(TICKRT_I8_AVXVNNI)
  using A = __m256i;
  static inline A bcast(int32_t a4) { return _mm256_set1_epi32(a4 ^ static_cast<int32_t>(0x80808080u)); }
  static inline void step(Acc& c, const A& a, const int8_t* w) {
    c.lo = _mm256_dpbusd_avx_epi32(c.lo, a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)));
    c.hi = _mm256_dpbusd_avx_epi32(c.hi, a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32)));
  }
  static inline void store(const Acc& c, int32_t* out, const int32_t* colsum) {
    const __m256i c0 = _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(colsum)), 7);
    const __m256i c1 = _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(colsum + 8)), 7);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_sub_epi32(c.lo, c0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_sub_epi32(c.hi, c1));
  }
#else
  struct A { __m256i s, abs; };
  static inline A bcast(int32_t a4) {
    const __m256i s = _mm256_set1_epi32(a4);
    return {s, _mm256_abs_epi8(s)};
  }
  // |a| * (w with a's sign): exact a*w per byte pair; pair sums <= 2*127*127 < 2^15 (no saturation).
  static inline __m256i dot(const A& a, __m256i w) {
    const __m256i p16 = _mm256_maddubs_epi16(a.abs, _mm256_sign_epi8(w, a.s));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
  }
  static inline void step(Acc& c, const A& a, const int8_t* w) {
    c.lo = _mm256_add_epi32(c.lo, dot(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
    c.hi = _mm256_add_epi32(c.hi, dot(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32))));
  }
  static inline void store(const Acc& c, int32_t* out, const int32_t*) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), c.lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), c.hi);
  }
#endif
  static inline Acc zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
};
#else
struct I8 {
  static constexpr int MR = 1, NP = 1, NP1 = 1;
  struct Acc { int32_t v[16]; };
  struct A { int8_t b[4]; };
  static inline Acc zero() { return Acc{}; }
  static inline A bcast(int32_t a4) {
    A a;
    std::memcpy(a.b, &a4, 4);
    return a;
  }
  static inline void step(Acc& c, const A& a, const int8_t* w) {
    for (int n = 0; n < 16; ++n)
      for (int j = 0; j < 4; ++j) c.v[n] += static_cast<int32_t>(a.b[j]) * static_cast<int32_t>(w[n * 4 + j]);
  }
  static inline void store(const Acc& c, int32_t* out, const int32_t*) { std::memcpy(out, c.v, sizeof c.v); }
};
#endif

// Quantize n (<= W) floats of v (already multiplied by 1/scale) to int8 at dst.
inline void quant_store(int8_t* dst, R v, int n) {
  v = V::min(V::max(v, V::set1(-127.f)), V::set1(127.f));
#if defined(TICKRT_KERNELS_ISA_AVX512)
  const __m512i q = _mm512_cvtps_epi32(v);   // MXCSR default: round half to even, like nearbyintf
  _mm512_mask_cvtepi32_storeu_epi8(dst, static_cast<__mmask16>((1u << n) - 1u), q);
#elif defined(TICKRT_KERNELS_ISA_AVX2)
  alignas(32) int32_t t[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), _mm256_cvtps_epi32(v));
  for (int i = 0; i < n; ++i) dst[i] = static_cast<int8_t>(t[i]);
#else
  (void)n;
  dst[0] = static_cast<int8_t>(static_cast<int>(__builtin_nearbyintf(v)));
#endif
}

// ---- INT8 GEMM (exact int32) --------------------------------------------------------------------------
template <int MR, int NP>
inline void i8_tile(int K4, const int8_t* A, int lda, const int8_t* Wp, size_t pstride, int32_t* C, int ldc,
                    const int32_t* colsum) {
  typename I8::Acc acc[MR][NP];
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < NP; ++p) acc[r][p] = I8::zero();
  for (int k = 0; k < K4; ++k) {
    typename I8::A a[MR];
    for (int r = 0; r < MR; ++r) a[r] = I8::bcast(load4(A + static_cast<size_t>(r) * lda + 4 * k));
    for (int p = 0; p < NP; ++p) {
      const int8_t* w = Wp + p * pstride + static_cast<size_t>(k) * 64;
      for (int r = 0; r < MR; ++r) I8::step(acc[r][p], a[r], w);
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < NP; ++p) I8::store(acc[r][p], C + static_cast<size_t>(r) * ldc + p * 16, colsum + p * 16);
}

template <int MR>
inline void i8_rows(int npan, int K4, const int8_t* A, int lda, const int8_t* Wp, size_t pstride, int32_t* C, int ldc,
                    const int32_t* colsum) {
  constexpr int NP = MR == 1 ? I8::NP1 : I8::NP;
  int p = 0;
  for (; p + NP <= npan; p += NP) i8_tile<MR, NP>(K4, A, lda, Wp + p * pstride, pstride, C + p * 16, ldc, colsum + p * 16);
  for (; p < npan; ++p) i8_tile<MR, 1>(K4, A, lda, Wp + p * pstride, pstride, C + p * 16, ldc, colsum + p * 16);
}

void gemm_s32_impl(int M, int N, int K, const int8_t* A, int lda, const std::byte* packed, int32_t* C, int ldc) {
  const int Kp = i8_kp(K), Np = i8_np(N), npan = Np / 16;
  const auto* Wp = reinterpret_cast<const int8_t*>(packed);
  const size_t pstride = static_cast<size_t>(Kp) * 16;
  const int32_t* colsum = i8_colsum(packed, K, N);
  const int K4 = Kp / 4;
  int m = 0;
#if defined(TICKRT_I8_AVX512VNNI)
  // Whole 16-row blocks on AMX tiles where present (16x16x64 products per instruction); the rest here.
  if (M >= 16 && i8amx::available()) m = i8amx::gemm_s32_blocks(M, N, K, A, lda, packed, C, ldc);
#endif
  constexpr int MR = I8::MR;
  for (; m + MR <= M; m += MR) i8_rows<MR>(npan, K4, A + static_cast<size_t>(m) * lda, lda, Wp, pstride, C + static_cast<size_t>(m) * ldc, ldc, colsum);
  for (; m < M; ++m) i8_rows<1>(npan, K4, A + static_cast<size_t>(m) * lda, lda, Wp, pstride, C + static_cast<size_t>(m) * ldc, ldc, colsum);
}

void quantize_rows_impl(int M, int K, const float* x, int ldx, float inv_scale, int8_t* q, int ldq) {
  const R s = V::set1(inv_scale);
  const int Kp = i8_kp(K);
  for (int m = 0; m < M; ++m) {
    const float* xr = x + static_cast<size_t>(m) * ldx;
    int8_t* qr = q + static_cast<size_t>(m) * ldq;
    int k = 0;
    for (; k + W <= K; k += W) quant_store(qr + k, V::mul(V::loadu(xr + k), s), W);
    if (k < K) quant_store(qr + k, V::mul(V::load_partial(xr + k, K - k), s), K - k);
    for (int j = K; j < Kp; ++j) qr[j] = 0;
  }
}

// int32 -> float: out[n] = acc[n] * scale[n] + bias[n] (bias nullable), n < N; vector loads of int32 through
// the float traits need a cast, so this stays a plain loop the compiler vectorizes.
inline R ldf(const float* p, int n) { return n == W ? V::loadu(p) : V::load_partial(p, n); }
inline R load_i32f(const int32_t* p, int n) {
#if defined(TICKRT_KERNELS_ISA_AVX512)
  return _mm512_cvtepi32_ps(n == W ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi32(static_cast<__mmask16>((1u << n) - 1u), p));
#elif defined(TICKRT_KERNELS_ISA_AVX2)
  return _mm256_cvtepi32_ps(n == W ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)) : _mm256_maskload_epi32(p, V::tail_mask(n)));
#else
  (void)n;
  int32_t v;
  std::memcpy(&v, p, 4);
  return static_cast<float>(v);
#endif
}
// out[n] = acc[n] * scale[n] + bias[n] (bias nullable), n < N. out may be acc's own bytes (in-place
// dequantize): each vector is loaded before the same bytes are stored.
inline void dequant_row(int N, const int32_t* acc, const float* scale, const float* bias, float* out) {
  for (int n = 0; n < N; n += W) {
    const int k = imin(W, N - n);
    const R v = V::mul(load_i32f(acc + n, k), ldf(scale + n, k));
    V::store_partial(out + n, bias ? V::add(v, ldf(bias + n, k)) : v, k);
  }
}

// ---- FP16 GEMM ------------------------------------------------------------------------------------------
#if defined(TICKRT_KERNELS_ISA_AVX512)
constexpr int F16_MR = 4, F16_NP = 4, F16_NP1 = 8;
inline R cvt_half(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
#elif defined(TICKRT_KERNELS_ISA_AVX2)
constexpr int F16_MR = 2, F16_NP = 2, F16_NP1 = 4;
inline R cvt_half(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
#else
constexpr int F16_MR = 1, F16_NP = 1, F16_NP1 = 1;
inline R cvt_half(const uint16_t* p) { return f16_to_f32(*p); }
#endif
constexpr int NV = 16 / W;   // vectors per 16-column panel

template <int MR, int NP>
inline void f16_tile(int K, const float* A, int lda, const uint16_t* Wp, size_t pstride, float* C, int ldc) {
  R acc[MR][NP][NV];
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < NP; ++p)
      for (int v = 0; v < NV; ++v) acc[r][p][v] = V::zero();
  for (int k = 0; k < K; ++k) {
    R a[MR];
    for (int r = 0; r < MR; ++r) a[r] = V::set1(A[static_cast<size_t>(r) * lda + k]);
    for (int p = 0; p < NP; ++p)
      for (int v = 0; v < NV; ++v) {
        const R w = cvt_half(Wp + p * pstride + static_cast<size_t>(k) * 16 + v * W);
        for (int r = 0; r < MR; ++r) acc[r][p][v] = V::fmadd(a[r], w, acc[r][p][v]);
      }
  }
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < NP; ++p)
      for (int v = 0; v < NV; ++v) V::storeu(C + static_cast<size_t>(r) * ldc + p * 16 + v * W, acc[r][p][v]);
}
template <int MR>
inline void f16_rows(int npan, int K, const float* A, int lda, const uint16_t* Wp, size_t pstride, float* C, int ldc) {
  constexpr int NP = MR == 1 ? F16_NP1 : F16_NP;
  int p = 0;
  for (; p + NP <= npan; p += NP) f16_tile<MR, NP>(K, A, lda, Wp + p * pstride, pstride, C + p * 16, ldc);
  for (; p < npan; ++p) f16_tile<MR, 1>(K, A, lda, Wp + p * pstride, pstride, C + p * 16, ldc);
}
// C[M, Np] (ldc >= Np) = A @ W^T in FP32.
void f16_gemm_raw(int M, int N, int K, const float* A, int lda, const std::byte* packed, float* C, int ldc) {
  const int npan = i8_np(N) / 16;
  const auto* Wp = reinterpret_cast<const uint16_t*>(packed);
  const size_t pstride = static_cast<size_t>(K) * 16;
  int m = 0;
  for (; m + F16_MR <= M; m += F16_MR) f16_rows<F16_MR>(npan, K, A + static_cast<size_t>(m) * lda, lda, Wp, pstride, C + static_cast<size_t>(m) * ldc, ldc);
  for (; m < M; ++m) f16_rows<1>(npan, K, A + static_cast<size_t>(m) * lda, lda, Wp, pstride, C + static_cast<size_t>(m) * ldc, ldc);
}

// ---- LSTM cell (FP32), shared by the INT8 and FP16 layers ------------------------------------------------
// g: the recurrent products for one batch row (4H gates, ONNX order i, o, f, c) times gscale (per column;
// nullptr = 1); p: the input projection + bias row. Updates c and h in place; writes h to y (nullable) and,
// when hq is given, h quantized with scale 1/127 for the next step's INT8 product.
// INT8 (G = int32_t): p is the int32 input projection row, dequantized here with pscale and pbias (one FMA,
// fused so the T*B*4H projection is never written back as floats).
template <class G, class P>
inline void lstm_cell(int H, const G* g, const float* gscale, const P* p, const float* pscale, const float* pbias, float* c, float* h,
                      float* y, int8_t* hq) {
  auto gate = [&](int off, int n) -> R {
    if constexpr (std::is_same_v<G, int32_t>)
      return V::fmadd(load_i32f(g + off, n), ldf(gscale + off, n), V::fmadd(load_i32f(p + off, n), ldf(pscale + off, n), ldf(pbias + off, n)));
    else
      return V::add(ldf(g + off, n), ldf(p + off, n));
  };
  for (int j = 0; j < H; j += W) {
    const int n = imin(W, H - j);
    constexpr bool q = std::is_same_v<G, int32_t>;
    auto sig = [](R v) { return q ? vsigmoid_q(v) : vsigmoid_cell(v); };
    auto th = [](R v) { return q ? vtanh_q(v) : vtanh_cell(v); };
    const R gi = sig(gate(j, n));
    const R go = sig(gate(H + j, n));
    const R gf = sig(gate(2 * H + j, n));
    const R gc = th(gate(3 * H + j, n));
    const R cn = V::fmadd(gf, ldf(c + j, n), V::mul(gi, gc));
    const R hn = V::mul(go, th(cn));
    if (n == W) {
      V::storeu(c + j, cn);
      V::storeu(h + j, hn);
      if (y) V::storeu(y + j, hn);
    } else {
      V::store_partial(c + j, cn, n);
      V::store_partial(h + j, hn, n);
      if (y) V::store_partial(y + j, hn, n);
    }
    if (hq) quant_store(hq + j, V::mul(hn, V::set1(127.f)), n);
  }
}

// Workspace sections shared by both layers (bytes, 64-aligned).
struct LstmWs {
  size_t xq, proj, gates, h, c, scl, total;
};
inline LstmWs lstm_ws(LstmDims d, bool int8) {
  const size_t rows = static_cast<size_t>(d.T) * d.B, Np = static_cast<size_t>(i8_np(4 * d.H));
  LstmWs w{};
  size_t o = 0;
  w.xq = o;
  o += int8 ? a64(rows * i8_kp(d.I)) + a64(static_cast<size_t>(d.B) * i8_kp(d.H)) : 0;
  w.proj = o;
  o += a64(rows * Np * 4);
  w.gates = o;
  o += a64(static_cast<size_t>(d.B) * Np * 4);
  w.h = o;
  o += a64(static_cast<size_t>(d.B) * d.H * 4);
  w.c = o;
  o += a64(static_cast<size_t>(d.B) * d.H * 4);
  w.scl = o;
  o += a64(2 * Np * 4);
  w.total = o;
  return w;
}

inline size_t xrow(int layout, int t, int b, int T, int B) { return layout ? static_cast<size_t>(b) * T + t : static_cast<size_t>(t) * B + b; }

}  // namespace

// ---- entry points -----------------------------------------------------------------------------------------
void i8_quantize_rows(int M, int K, const float* x, int ldx, float inv_scale, int8_t* q, int ldq) {
  quantize_rows_impl(M, K, x, ldx, inv_scale, q, ldq);
}
void i8_gemm_s32(int M, int N, int K, const int8_t* A, int lda, const std::byte* packed, int32_t* C, int ldc) {
  gemm_s32_impl(M, N, K, A, lda, packed, C, ldc);
}

size_t i8_lstm_workspace_bytes(LstmDims d) { return lstm_ws(d, true).total; }

void i8_lstm_forward(LstmDims d, const std::byte* Wq, const std::byte* Rq, const float* bias, float x_scale, const float* x,
                     int layout, float* y, float* hT, float* cT, std::byte* ws, const float* h0, const float* c0) {
  const int T = d.T, B = d.B, I = d.I, H = d.H, N = 4 * H, Np = i8_np(N);
  const LstmWs L = lstm_ws(d, true);
  const int rows = T * B, KpI = i8_kp(I), KpH = i8_kp(H);
  auto* xq = reinterpret_cast<int8_t*>(ws + L.xq);
  int8_t* hq = xq + a64(static_cast<size_t>(rows) * KpI);
  auto* proj_i = reinterpret_cast<int32_t*>(ws + L.proj);
  auto* gates = reinterpret_cast<int32_t*>(ws + L.gates);
  auto* h = reinterpret_cast<float*>(ws + L.h);
  auto* c = reinterpret_cast<float*>(ws + L.c);
  auto* xs = reinterpret_cast<float*>(ws + L.scl);   // x_scale * s_w[n]
  float* rs = xs + Np;                                // s_r[n] / 127
  const float* sw = i8_wscale(Wq, I, N);
  const float* sr = i8_wscale(Rq, H, N);
  for (int n = 0; n < N; ++n) {
    xs[n] = x_scale * sw[n];
    rs[n] = sr[n] * (1.f / 127.f);
  }
  // Input projection of every (t, b) row at once (int8 GEMM, int32 kept; the cell dequantizes it).
  quantize_rows_impl(rows, I, x, I, 1.f / x_scale, xq, KpI);
  gemm_s32_impl(rows, N, I, xq, KpI, Wq, proj_i, Np);
  // Initial state: zero, or the given h0/c0 (streaming); h0 quantized on the fixed 1/127 grid the cell uses.
  if (h0) {
    std::memcpy(h, h0, static_cast<size_t>(B) * H * 4);
    quantize_rows_impl(B, H, h0, H, 127.f, hq, KpH);
  } else {
    std::memset(hq, 0, static_cast<size_t>(B) * KpH);
    std::memset(h, 0, static_cast<size_t>(B) * H * 4);
  }
  if (c0) std::memcpy(c, c0, static_cast<size_t>(B) * H * 4);
  else std::memset(c, 0, static_cast<size_t>(B) * H * 4);
  for (int t = 0; t < T; ++t) {
    gemm_s32_impl(B, N, H, hq, KpH, Rq, gates, Np);
    for (int b = 0; b < B; ++b) {
      const size_t xr = xrow(layout, t, b, T, B);
      lstm_cell<int32_t, int32_t>(H, gates + static_cast<size_t>(b) * Np, rs, proj_i + xr * Np, xs, bias, c + static_cast<size_t>(b) * H,
                         h + static_cast<size_t>(b) * H, y ? y + xr * H : nullptr, hq + static_cast<size_t>(b) * KpH);
    }
  }
  if (hT) std::memcpy(hT, h, static_cast<size_t>(B) * H * 4);
  if (cT) std::memcpy(cT, c, static_cast<size_t>(B) * H * 4);
}

size_t i8_gemm_workspace_bytes(int M, int K, int N) {
  return a64(static_cast<size_t>(M) * i8_kp(K)) + a64(static_cast<size_t>(M) * i8_np(N) * 4) + a64(static_cast<size_t>(i8_np(N)) * 4);
}

void i8_gemm_f32(int M, int N, int K, const float* A, int lda, float a_scale, const std::byte* packed, const float* bias,
                 Epilogue epi, float* C, int ldc, std::byte* ws) {
  const int Kp = i8_kp(K), Np = i8_np(N);
  auto* q = reinterpret_cast<int8_t*>(ws);
  auto* acc = reinterpret_cast<int32_t*>(ws + a64(static_cast<size_t>(M) * Kp));
  auto* scl = reinterpret_cast<float*>(ws + a64(static_cast<size_t>(M) * Kp) + a64(static_cast<size_t>(M) * Np * 4));
  const float* sw = i8_wscale(packed, K, N);
  for (int n = 0; n < N; ++n) scl[n] = a_scale * sw[n];
  quantize_rows_impl(M, K, A, lda, 1.f / a_scale, q, Kp);
  gemm_s32_impl(M, N, K, q, Kp, packed, acc, Np);
  for (int m = 0; m < M; ++m) {
    float* cr = C + static_cast<size_t>(m) * ldc;
    dequant_row(N, acc + static_cast<size_t>(m) * Np, scl, bias, cr);
    if (epi.act != Act::none) {
      int n = 0;
      for (; n + W <= N; n += W) V::storeu(cr + n, apply_act(epi.act, epi.alpha, V::loadu(cr + n)));
      if (n < N) V::store_partial(cr + n, apply_act(epi.act, epi.alpha, V::load_partial(cr + n, N - n)), N - n);
    }
  }
}

void f16_gemm(int M, int N, int K, const float* A, int lda, const std::byte* packed, const float* bias, Epilogue epi,
              float* C, int ldc) {
  // Whole panels are computed; a ragged last panel goes through a 16-float bounce row so C's ldc may be N.
  const int Nfull = N / 16 * 16;
  const int npan = i8_np(N) / 16;
  const auto* Wp = reinterpret_cast<const uint16_t*>(packed);
  const size_t pstride = static_cast<size_t>(K) * 16;
  int m = 0;
  if (Nfull > 0) {
    const int fp = Nfull / 16;
    for (; m + F16_MR <= M; m += F16_MR) f16_rows<F16_MR>(fp, K, A + static_cast<size_t>(m) * lda, lda, Wp, pstride, C + static_cast<size_t>(m) * ldc, ldc);
    for (; m < M; ++m) f16_rows<1>(fp, K, A + static_cast<size_t>(m) * lda, lda, Wp, pstride, C + static_cast<size_t>(m) * ldc, ldc);
  }
  if (Nfull < N) {
    alignas(64) float tail[16];
    for (int r = 0; r < M; ++r) {
      f16_tile<1, 1>(K, A + static_cast<size_t>(r) * lda, lda, Wp + (npan - 1) * pstride, pstride, tail, 16);
      std::memcpy(C + static_cast<size_t>(r) * ldc + Nfull, tail, static_cast<size_t>(N - Nfull) * 4);
    }
  }
  for (int r = 0; r < M; ++r) {
    float* cr = C + static_cast<size_t>(r) * ldc;
    int n = 0;
    for (; n + W <= N; n += W) {
      R v = V::loadu(cr + n);
      if (bias) v = V::add(v, V::loadu(bias + n));
      V::storeu(cr + n, apply_act(epi.act, epi.alpha, v));
    }
    if (n < N) {
      R v = V::load_partial(cr + n, N - n);
      if (bias) v = V::add(v, V::load_partial(bias + n, N - n));
      V::store_partial(cr + n, apply_act(epi.act, epi.alpha, v), N - n);
    }
  }
}

size_t f16_lstm_workspace_bytes(LstmDims d) { return lstm_ws(d, false).total; }

void f16_lstm_forward(LstmDims d, const std::byte* Wp, const std::byte* Rp, const float* bias, const float* x, int layout,
                      float* y, float* hT, float* cT, std::byte* ws, const float* h0, const float* c0) {
  const int T = d.T, B = d.B, I = d.I, H = d.H, N = 4 * H, Np = i8_np(N);
  const LstmWs L = lstm_ws(d, false);
  const int rows = T * B;
  auto* proj = reinterpret_cast<float*>(ws + L.proj);
  auto* gates = reinterpret_cast<float*>(ws + L.gates);
  auto* h = reinterpret_cast<float*>(ws + L.h);
  auto* c = reinterpret_cast<float*>(ws + L.c);
  f16_gemm_raw(rows, N, I, x, I, Wp, proj, Np);
  for (int r = 0; r < rows; ++r) {
    float* pr = proj + static_cast<size_t>(r) * Np;
    for (int n = 0; n < N; ++n) pr[n] += bias[n];
  }
  if (h0) std::memcpy(h, h0, static_cast<size_t>(B) * H * 4);   // initial state: zero or given (streaming)
  else std::memset(h, 0, static_cast<size_t>(B) * H * 4);
  if (c0) std::memcpy(c, c0, static_cast<size_t>(B) * H * 4);
  else std::memset(c, 0, static_cast<size_t>(B) * H * 4);
  for (int t = 0; t < T; ++t) {
    if (t > 0 || h0) f16_gemm_raw(B, N, H, h, H, Rp, gates, Np);
    else std::memset(gates, 0, static_cast<size_t>(B) * Np * 4);
    for (int b = 0; b < B; ++b) {
      const size_t xr = xrow(layout, t, b, T, B);
      lstm_cell<float, float>(H, gates + static_cast<size_t>(b) * Np, nullptr, proj + xr * Np, nullptr, nullptr, c + static_cast<size_t>(b) * H,
                       h + static_cast<size_t>(b) * H, y ? y + xr * H : nullptr, nullptr);
    }
  }
  if (hT) std::memcpy(hT, h, static_cast<size_t>(B) * H * 4);
  if (cT) std::memcpy(cT, c, static_cast<size_t>(B) * H * 4);
}

}  // namespace tickrt::infer::cpu::TICKRT_ISA_NS
