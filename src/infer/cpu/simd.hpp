// infer/cpu/simd.hpp — per-ISA vector traits used by kernels_impl.inl.
//
// Included only by kernels_<isa>.cpp, each compiled with its own -m flags; the macro selecting the
// traits (TICKRT_KERNELS_ISA_*) is defined by that file. Everything here is static inline or lives in
// an ISA-named struct, so no symbol compiled with AVX-512 flags can be picked by the linker for the
// scalar build (the ODR trap of compiling one template under several -m flags).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(TICKRT_KERNELS_ISA_AVX2) || defined(TICKRT_KERNELS_ISA_AVX512)
#include <immintrin.h>
#endif

namespace tickrt::infer::cpu {

#if defined(TICKRT_KERNELS_ISA_SCALAR)
// Width-1 "vector": plain floats; the generic kernels then are ordinary scalar loops.
struct VecScalar {
  using R = float;
  static constexpr int W = 1;
  static constexpr int MR = 4;  // gemm micro-kernel rows (4 x 4 accumulators)
  static constexpr int P1 = 4;  // panels per single-row pass
  static inline R zero() { return 0.f; }
  static inline R set1(float a) { return a; }
  static inline R loadu(const float* p) { return *p; }
  static inline void storeu(float* p, R v) { *p = v; }
  static inline R load_partial(const float* p, int) { return *p; }
  static inline void store_partial(float* p, R v, int) { *p = v; }
  static inline R add(R a, R b) { return a + b; }
  static inline R sub(R a, R b) { return a - b; }
  static inline R mul(R a, R b) { return a * b; }
  static inline R div(R a, R b) { return a / b; }
  static inline R fmadd(R a, R b, R c) { return a * b + c; }  // no FMA in the x86-64 baseline
  static inline R max(R a, R b) { return a > b ? a : b; }
  static inline R min(R a, R b) { return a < b ? a : b; }
  static inline R abs(R a) { return __builtin_fabsf(a); }
  static inline R round(R a) { return __builtin_nearbyintf(a); }
  static inline R ldexp2(R p, R n) { return __builtin_ldexpf(p, static_cast<int>(n)); }
  static inline R rcp(R d) { return 1.f / d; }
  static inline R blend_lt(R x, R y, R a, R b) { return x < y ? a : b; }
  static inline R copysign(R mag, R s) { return __builtin_copysignf(mag, s); }
  static inline float hsum(R v) { return v; }
  static inline float hmax(R v) { return v; }
};
using V = VecScalar;
#endif

#if defined(TICKRT_KERNELS_ISA_AVX2)
struct VecAvx2 {
  using R = __m256;
  static constexpr int W = 8;
  static constexpr int MR = 3;  // 3 rows x 4 vectors = 12 accumulators of 16 ymm
  static constexpr int P1 = 3;  // single-row pass: 3 panels = 12 accumulators
  static inline __m256i tail_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static inline R zero() { return _mm256_setzero_ps(); }
  static inline R set1(float a) { return _mm256_set1_ps(a); }
  static inline R loadu(const float* p) { return _mm256_loadu_ps(p); }
  static inline void storeu(float* p, R v) { _mm256_storeu_ps(p, v); }
  static inline R load_partial(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask(n)); }
  static inline void store_partial(float* p, R v, int n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
  static inline R add(R a, R b) { return _mm256_add_ps(a, b); }
  static inline R sub(R a, R b) { return _mm256_sub_ps(a, b); }
  static inline R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static inline R div(R a, R b) { return _mm256_div_ps(a, b); }
  static inline R fmadd(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static inline R max(R a, R b) { return _mm256_max_ps(a, b); }
  static inline R min(R a, R b) { return _mm256_min_ps(a, b); }
  static inline R abs(R a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
  static inline R round(R a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p * 2^n for integral n in [-126, 127]: build the power of two in the exponent field.
  static inline R ldexp2(R p, R n) {
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
  // 12-bit estimate + one Newton step: ~2^-22 relative, 4x cheaper than vdivps on the gate path.
  static inline R rcp(R d) {
    R r = _mm256_rcp_ps(d);
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.f)));
  }
  static inline R blend_lt(R x, R y, R a, R b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, y, _CMP_LT_OQ)); }
  static inline R copysign(R mag, R s) {
    const R sign = _mm256_set1_ps(-0.f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, s));
  }
  static inline float hsum(R v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static inline float hmax(R v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
using V = VecAvx2;
#endif

#if defined(TICKRT_KERNELS_ISA_AVX512)
struct VecAvx512 {
  using R = __m512;
  static constexpr int W = 16;
  static constexpr int MR = 6;  // 6 rows x 4 vectors = 24 accumulators of 32 zmm
  static constexpr int P1 = 4;  // single-row pass: 4 panels = 16 accumulators (H=64 in one pass)
  static inline __mmask16 tail_mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static inline R zero() { return _mm512_setzero_ps(); }
  static inline R set1(float a) { return _mm512_set1_ps(a); }
  static inline R loadu(const float* p) { return _mm512_loadu_ps(p); }
  static inline void storeu(float* p, R v) { _mm512_storeu_ps(p, v); }
  static inline R load_partial(const float* p, int n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
  static inline void store_partial(float* p, R v, int n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
  static inline R add(R a, R b) { return _mm512_add_ps(a, b); }
  static inline R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static inline R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static inline R div(R a, R b) { return _mm512_div_ps(a, b); }
  static inline R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static inline R max(R a, R b) { return _mm512_max_ps(a, b); }
  static inline R min(R a, R b) { return _mm512_min_ps(a, b); }
  static inline R abs(R a) { return _mm512_abs_ps(a); }
  static inline R round(R a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline R ldexp2(R p, R n) { return _mm512_scalef_ps(p, n); }
  // 14-bit estimate + one Newton step: ~2^-27 relative; vdivps zmm would dominate the LSTM gate math.
  static inline R rcp(R d) {
    R r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.f)));
  }
  static inline R blend_lt(R x, R y, R a, R b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, y, _CMP_LT_OQ), b, a);
  }
  static inline R copysign(R mag, R s) {
    const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(sign, _mm512_castps_si512(mag),
                                                         _mm512_castps_si512(s), 0xAC));  // sign ? s : mag, bitwise
  }
  static inline float hsum(R v) { return _mm512_reduce_add_ps(v); }
  static inline float hmax(R v) { return _mm512_reduce_max_ps(v); }
};
using V = VecAvx512;
#endif

}  // namespace tickrt::infer::cpu
