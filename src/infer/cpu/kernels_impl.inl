// infer/cpu/kernels_impl.inl — the kernels, written once against the vector traits V (simd.hpp).
//
// Included by kernels_scalar.cpp, kernels_avx2.cpp and kernels_avx512.cpp, each compiled with its own
// -m flags and defining TICKRT_ISA_NS (scalar / avx2 / avx512). All helpers live in an anonymous
// namespace inside that ISA namespace, so nothing compiled with wide-vector flags can leak into another
// build through a shared (weak) symbol. Only the entry points at the bottom have external linkage; the
// dispatcher (dispatch.cpp) calls them.
//
// Building block: panel GEMM. B is packed in panels of NB = 4*W columns, [K][NB] each. A micro-tile
// holds MR rows x P panels x 4 vectors of accumulators; the k loop broadcasts one A element per row
// and does 4*P FMAs with it. The same tile with a fused LSTM-cell epilogue is the recurrent step
// (panel = the i, o, f, c gates of W hidden units).

#include "infer/cpu/kernels.hpp"
#include "infer/cpu/simd.hpp"
#if defined(TICKRT_KERNELS_ISA_AVX512)
#include "infer/cpu/amx.hpp"
#endif

namespace tickrt::infer::cpu::TICKRT_ISA_NS {
namespace {

using R = V::R;
constexpr int W = V::W;
constexpr int NB = 4 * W;
constexpr int MRMAX = V::MR;
constexpr int P1 = V::P1;

inline int imin(int a, int b) { return a < b ? a : b; }
inline int imax(int a, int b) { return a > b ? a : b; }
inline size_t r16(size_t n) { return (n + 15) & ~size_t(15); }  // keep sections 64-byte aligned
inline int roundup(int n, int m) { return (n + m - 1) / m * m; }

// ---- vector math (Cephes single-precision polynomials) ------------------------------------------
inline R vexp(R x) {
  // Clamp so 2^n stays a normal float and nothing overflows: exp(88.3) ~ 2^127.4, exp(-87.3) ~ 2^-126.
  x = V::min(V::max(x, V::set1(-87.3f)), V::set1(88.3f));
  const R n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  R r = V::fmadd(n, V::set1(-0.693359375f), x);  // ln2 split hi/lo: r exact to ~1 ulp
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

// Cell activations: exp with a degree-5 polynomial (1 + r + r^2 q(r), q cubic, a relative-error fit
// on |r| <= ln2/2) instead of vexp's degree 7, two FMAs fewer on each of the 5 exps per cell (the gate
// math is throughput-bound on the vector ports). Max relative error ~2e-7 in float evaluation (vexp:
// ~1e-7). sigmoid's exp(-x) and tanh's exp(2x) fold the negation / doubling into the range reduction
// and the coefficients (exact: signs and powers of two), saving one more op each.
constexpr float kQ0 = 0.499992311000824f, kQ1 = 0.16667115688323975f, kQ2 = 0.04189034551382065f,
                kQ3 = 0.008312510326504707f;
// sigmoid(x) = 1 / (1 + exp(-x)); exp(-x) = 2^m e^-r with m = round(-x log2e), r = x + m ln2.
inline R vsigmoid_cell(R x) {
  x = V::min(V::max(x, V::set1(-88.3f)), V::set1(87.3f));
  const R m = V::round(V::mul(x, V::set1(-1.44269504088896341f)));
  R r = V::fmadd(m, V::set1(0.693359375f), x);
  r = V::fmadd(m, V::set1(-2.12194440e-4f), r);
  // e^-r = 1 - r + r^2 q(-r): odd coefficients negated.
  R q = V::fmadd(V::set1(-kQ3), r, V::set1(kQ2));
  q = V::fmadd(q, r, V::set1(-kQ1));
  q = V::fmadd(q, r, V::set1(kQ0));
  q = V::fmadd(q, V::mul(r, r), V::sub(V::set1(1.f), r));
  return V::rcp(V::add(V::ldexp2(q, m), V::set1(1.f)));
}
// LSTM-cell tanh: the exp form alone (no small-|x| polynomial, no sign juggling). Absolute error
// <= ~2e-7 everywhere, which is what the cell needs (h and c are sums of O(1) terms); relative error
// near 0 is not bounded, so the public activation() keeps vtanh.
// tanh(x) = 1 - 2 / (exp(2x) + 1); exp(2x) = 2^n e^(2h) with n = round(2x log2e), h = x - n ln2/2;
// e^(2h) = 1 + 2h + (2h)^2 q(2h): the powers of two go into the coefficients.
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

// tanh: odd polynomial below |x| = 0.625 (where 1 - 2/(e^2x + 1) would lose relative precision),
// the exp form above; exp saturates so large |x| gives exactly +-1, never NaN.
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

inline R vsigmoid(R x) {
  const R e = vexp(V::sub(V::zero(), x));
  return V::rcp(V::add(e, V::set1(1.f)));
}

// Internal epilogue (never passed in by callers): the exp-form tanh, for uses where only absolute
// accuracy matters (the attention energies feed a dot product and a softmax).
constexpr Act kActTanhAbs = static_cast<Act>(200);

inline R apply_act(Act act, float alpha, R v) {
  if (act == kActTanhAbs) return vtanh_cell(v);
  switch (act) {
    case Act::none: return v;
    case Act::relu: return V::max(v, V::zero());
    case Act::leaky_relu:
      return V::fmadd(V::set1(alpha), V::min(v, V::zero()), V::max(v, V::zero()));
    case Act::tanh: return vtanh(v);
    case Act::sigmoid: return vsigmoid(v);
  }
  return v;
}

// ---- panel packing ------------------------------------------------------------------------------
// get(k, n) gives B[k][n] for n < N; columns beyond N are zero.
template <class Get>
void pack_panels(int K, int N, Get get, float* packed) {
  const int npan = (N + NB - 1) / NB;
  for (int pan = 0; pan < npan; ++pan) {
    float* dst = packed + static_cast<size_t>(pan) * K * NB;
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < NB; ++j) {
        const int n = pan * NB + j;
        dst[static_cast<size_t>(k) * NB + j] = n < N ? get(k, n) : 0.f;
      }
  }
}

// ---- micro-kernel -------------------------------------------------------------------------------
// acc[r][p][j] += sum_k A(r,k) * Bp[p][k][j*W..], A(r,k) = A[r*rs + k*cs]; ps = floats between panels.
// REV walks k backwards (the LSTM alternates directions so the part of R still in L1 is read first).
// NV < 4 uses only the first NV vectors of each panel (narrow last panels: N = 16 is one vector).
template <int MR, int P, bool REV, int NV>
inline void mk_acc(int K, const float* A, ptrdiff_t rs, ptrdiff_t cs, const float* Bp, ptrdiff_t ps,
                   R (&acc)[MR][P][NV], ptrdiff_t ks = NB) {
  auto step = [&](int k) __attribute__((always_inline)) {
    const float* b = Bp + static_cast<ptrdiff_t>(k) * ks;
    const float* a = A + static_cast<ptrdiff_t>(k) * cs;
    R bv[P][NV];
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) bv[p][j] = V::loadu(b + p * ps + j * W);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const R av = V::set1(a[r * rs]);
#pragma GCC unroll 16
      for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[r][p][j] = V::fmadd(av, bv[p][j], acc[r][p][j]);
    }
  };
  if constexpr (!REV) {
    for (int k = 0; k < K; ++k) step(k);
  } else {
    for (int k = K - 1; k >= 0; --k) step(k);
  }
}

// Load/store one vector of row data at column col of a row with N valid columns (masked at the tail).
inline R load_cols(const float* row, int col, int N) {
  if (col + W <= N) return V::loadu(row + col);
  if (col >= N) return V::zero();
  return V::load_partial(row + col, N - col);
}
inline void store_cols(float* row, int col, int N, R v) {
  if (col + W <= N) V::storeu(row + col, v);
  else if (col < N) V::store_partial(row + col, v, N - col);
}

// One gemm_packed tile: rows m..m+MR, panels pan..pan+P (n0 = pan*NB), C = epi(A B + bias).
template <int MR, int P, int NV = 4>
inline void gemm_packed_tile(int N, int K, const float* A, int lda, const float* Bp, const float* bias,
                             Epilogue epi, float* C, int ldc, int n0) {
  R acc[MR][P][NV];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const R b = bias ? load_cols(bias, n0 + p * NB + j * W, N) : V::zero();
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) acc[r][p][j] = b;
    }
  mk_acc<MR, P, false>(K, A, lda, 1, Bp, static_cast<ptrdiff_t>(K) * NB, acc);
  for (int r = 0; r < MR; ++r)
    for (int p = 0; p < P; ++p)
      for (int j = 0; j < NV; ++j)
        store_cols(C + static_cast<ptrdiff_t>(r) * ldc, n0 + p * NB + j * W, N,
                   apply_act(epi.act, epi.alpha, acc[r][p][j]));
}

template <int MR>
inline void gemm_packed_rows(int N, int K, const float* A, int lda, const float* packed,
                             const float* bias, Epilogue epi, float* C, int ldc) {
  const int npan = (N + NB - 1) / NB;
  const size_t pstride = static_cast<size_t>(K) * NB;
  int pan = 0;
  if constexpr (MR == 1) {
    // A single row is a matvec: several panels at once so 4*P independent FMA chains hide latency.
    for (; pan + P1 <= npan; pan += P1)
      gemm_packed_tile<1, P1>(N, K, A, lda, packed + pan * pstride, bias, epi, C, ldc, pan * NB);
  }
  for (; pan < npan; ++pan) {
    const float* Bp = packed + pan * pstride;
    switch (imin(4, (N - pan * NB + W - 1) / W)) {  // vectors of this panel holding real columns
      case 1: gemm_packed_tile<MR, 1, 1>(N, K, A, lda, Bp, bias, epi, C, ldc, pan * NB); break;
      case 2: gemm_packed_tile<MR, 1, 2>(N, K, A, lda, Bp, bias, epi, C, ldc, pan * NB); break;
      case 3: gemm_packed_tile<MR, 1, 3>(N, K, A, lda, Bp, bias, epi, C, ldc, pan * NB); break;
      default: gemm_packed_tile<MR, 1, 4>(N, K, A, lda, Bp, bias, epi, C, ldc, pan * NB); break;
    }
  }
}

void gemm_packed_impl(int M, int N, int K, const float* A, int lda, const float* packed,
                      const float* bias, Epilogue epi, float* C, int ldc) {
  int m = 0;
  for (; m + MRMAX <= M; m += MRMAX)
    gemm_packed_rows<MRMAX>(N, K, A + static_cast<ptrdiff_t>(m) * lda, lda, packed, bias, epi,
                            C + static_cast<ptrdiff_t>(m) * ldc, ldc);
  const int rem = M - m;
  const float* Am = A + static_cast<ptrdiff_t>(m) * lda;
  float* Cm = C + static_cast<ptrdiff_t>(m) * ldc;
  switch (rem) {
    case 0: break;
    case 1: gemm_packed_rows<1>(N, K, Am, lda, packed, bias, epi, Cm, ldc); break;
    case 2: if constexpr (MRMAX > 2) gemm_packed_rows<2>(N, K, Am, lda, packed, bias, epi, Cm, ldc); break;
    case 3: if constexpr (MRMAX > 3) gemm_packed_rows<3>(N, K, Am, lda, packed, bias, epi, Cm, ldc); break;
    case 4: if constexpr (MRMAX > 4) gemm_packed_rows<4>(N, K, Am, lda, packed, bias, epi, Cm, ldc); break;
    case 5: if constexpr (MRMAX > 5) gemm_packed_rows<5>(N, K, Am, lda, packed, bias, epi, Cm, ldc); break;
    default: break;
  }
}

// ---- plain gemm ---------------------------------------------------------------------------------
constexpr int KC = 8192 / NB;  // K block: the stack panel is KC x NB = 8192 floats = 32 KiB

template <int MR, int NV>
inline void gemm_tile(int N, int kc, const float* A, ptrdiff_t rs, ptrdiff_t cs, const float* Bp, ptrdiff_t ks,
                      float alpha, float beta, float* C, int ldc, int n0) {
  R acc[MR][1][NV];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NV; ++j) acc[r][0][j] = V::zero();
  mk_acc<MR, 1, false>(kc, A, rs, cs, Bp, 0, acc, ks);
  const R va = V::set1(alpha), vb = V::set1(beta);
  for (int r = 0; r < MR; ++r) {
    float* crow = C + static_cast<ptrdiff_t>(r) * ldc;
    for (int j = 0; j < NV; ++j) {
      const int col = n0 + j * W;
      R v = V::mul(va, acc[r][0][j]);
      if (beta != 0.f) v = V::fmadd(vb, load_cols(crow, col, N), v);
      store_cols(crow, col, N, v);
    }
  }
}

template <int NV>
inline void gemm_rows(int M, int N, int kc, const float* Ak, ptrdiff_t rs, ptrdiff_t cs, const float* buf,
                      ptrdiff_t ks, float alpha, float bt, float* C, int ldc, int n0) {
  int m = 0;
  for (; m + MRMAX <= M; m += MRMAX)
    gemm_tile<MRMAX, NV>(N, kc, Ak + m * rs, rs, cs, buf, ks, alpha, bt, C + static_cast<ptrdiff_t>(m) * ldc, ldc, n0);
  // Remainder rows as one tile (a 1-row tile is FMA-latency-bound: conv weights have M = 16 rows).
  const float* Am = Ak + m * rs;
  float* Cm = C + static_cast<ptrdiff_t>(m) * ldc;
  switch (M - m) {
    case 0: break;
    case 1: gemm_tile<1, NV>(N, kc, Am, rs, cs, buf, ks, alpha, bt, Cm, ldc, n0); break;
    case 2: if constexpr (MRMAX > 2) gemm_tile<2, NV>(N, kc, Am, rs, cs, buf, ks, alpha, bt, Cm, ldc, n0); break;
    case 3: if constexpr (MRMAX > 3) gemm_tile<3, NV>(N, kc, Am, rs, cs, buf, ks, alpha, bt, Cm, ldc, n0); break;
    case 4: if constexpr (MRMAX > 4) gemm_tile<4, NV>(N, kc, Am, rs, cs, buf, ks, alpha, bt, Cm, ldc, n0); break;
    case 5: if constexpr (MRMAX > 5) gemm_tile<5, NV>(N, kc, Am, rs, cs, buf, ks, alpha, bt, Cm, ldc, n0); break;
    default: break;
  }
}

void gemm_impl(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
               const float* B, int ldb, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.f) {
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        float& c = C[static_cast<ptrdiff_t>(m) * ldc + n];
        c = beta == 0.f ? 0.f : beta * c;
      }
    return;
  }
  alignas(64) float buf[KC * NB];  // 64-byte aligned: panel rows start on cache lines
  const ptrdiff_t rs = ta ? 1 : lda, cs = ta ? lda : 1;
  for (int n0 = 0; n0 < N; n0 += NB) {
    const int nv = imin(NB, N - n0);
    for (int k0 = 0; k0 < K; k0 += KC) {
      const int kc = imin(KC, K - k0);
      // A full-width panel of a row-major B is read in place (rows ldb apart): no copy. Transposed B
      // and the ragged last panel are packed into the stack buffer first.
      const float* Bp = buf;
      ptrdiff_t ks = NB;
      if (!tb && nv == NB) {
        Bp = B + static_cast<ptrdiff_t>(k0) * ldb + n0;
        ks = ldb;
      } else {
        for (int k = 0; k < kc; ++k)
          for (int j = 0; j < NB; ++j)
            buf[k * NB + j] = j < nv ? (tb ? B[static_cast<ptrdiff_t>(n0 + j) * ldb + k0 + k]
                                           : B[static_cast<ptrdiff_t>(k0 + k) * ldb + n0 + j])
                                     : 0.f;
      }
      const float bt = k0 == 0 ? beta : 1.f;
      const float* Ak = A + k0 * cs;
      switch (imin(4, (nv + W - 1) / W)) {
        case 1: gemm_rows<1>(M, N, kc, Ak, rs, cs, Bp, ks, alpha, bt, C, ldc, n0); break;
        case 2: gemm_rows<2>(M, N, kc, Ak, rs, cs, Bp, ks, alpha, bt, C, ldc, n0); break;
        case 3: gemm_rows<3>(M, N, kc, Ak, rs, cs, Bp, ks, alpha, bt, C, ldc, n0); break;
        default: gemm_rows<4>(M, N, kc, Ak, rs, cs, Bp, ks, alpha, bt, C, ldc, n0); break;
      }
    }
  }
}

// ---- LSTM ---------------------------------------------------------------------------------------
struct LstmLayout {
  int Hp, G4, npan;
  size_t w_off, r_off, b_off, amx_off, total;
};
inline LstmLayout lstm_layout(int I, int H) {
  LstmLayout L{};
  L.Hp = roundup(H, W);
  L.G4 = 4 * L.Hp;
  L.npan = L.Hp / W;
  L.w_off = 0;
  L.r_off = r16(static_cast<size_t>(L.npan) * I * NB);
  L.b_off = L.r_off + r16(static_cast<size_t>(L.npan) * H * NB);
  L.amx_off = L.b_off + r16(static_cast<size_t>(L.G4));
  L.total = L.amx_off;
#if defined(TICKRT_KERNELS_ISA_AVX512)
  // avx512 blobs always carry the AMX copy of W^T (three BF16 parts), so the layout does not depend
  // on whether this CPU/OS has AMX; it is used when amx::available().
  L.total += r16(amx::packed_floats(I, L.G4));
#endif
  return L;
}
// Packed gate column n (panel u = n / NB, gate g = (n % NB) / W, lane l) <- ONNX row g*H + u*W + l.
inline int lstm_src_row(int n, int H) {
  const int u = n / NB, g = (n % NB) / W, l = n % W;
  const int unit = u * W + l;
  return unit < H ? g * H + unit : -1;
}

// The LSTM cell on one tile's finished gate sums (panel = i, o, f, c gates of W units): c = f*c + i*g,
// h = o*tanh(c); c and h_out are [rows][Hp].
template <int MR, int P>
inline void lstm_cell(R (&acc)[MR][P][4], int Hp, float* c, float* hout, int pan) {
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p) {
      const R i = vsigmoid_cell(acc[r][p][0]);
      const R o = vsigmoid_cell(acc[r][p][1]);
      const R f = vsigmoid_cell(acc[r][p][2]);
      const R gg = vtanh_cell(acc[r][p][3]);
      float* cp = c + r * Hp + (pan + p) * W;
      const R cn = V::fmadd(f, V::loadu(cp), V::mul(i, gg));
      V::storeu(cp, cn);
      V::storeu(hout + r * Hp + (pan + p) * W, V::mul(o, vtanh_cell(cn)));
    }
}

// One fused recurrent tile: rows r (batch) x P panels, over k in [k0, k0+kc). acc starts from g
// (the precomputed input projection with bias, or the partial sum of earlier k blocks), adds
// h_prev[:, k0:k0+kc] @ R^T; on the last k block the cell update happens in registers:
// c = f*c + i*g, h = o*tanh(c); otherwise the partial sum goes back to g (the step's own rows of
// the projection buffer, dead after this step). c and h_out are [rows][Hp]; g rows are ldg apart.
template <int MR, int P, bool REV>
inline void lstm_tile(int H, int Hp, int npan, const float* hprev, const float* Rp, float* g,
                      ptrdiff_t ldg, float* c, float* hout, int pan, int k0, int kc, bool last) {
  R acc[MR][P][4];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) acc[r][p][j] = V::loadu(g + r * ldg + (pan + p) * NB + j * W);
  // R is packed in chunks of P1 panels interleaved per k ([k][cnt*NB]): one contiguous stream per pass.
  const int ch0 = pan / P1 * P1, cnt = imin(P1, npan - ch0);
  const ptrdiff_t ks = static_cast<ptrdiff_t>(cnt) * NB;
  mk_acc<MR, P, REV>(kc, hprev + k0, Hp, 1, Rp + static_cast<ptrdiff_t>(ch0) * H * NB + k0 * ks + (pan - ch0) * NB,
                     NB, acc, ks);
  if (!last) {
    for (int r = 0; r < MR; ++r)
      for (int p = 0; p < P; ++p)
        for (int j = 0; j < 4; ++j) V::storeu(g + r * ldg + (pan + p) * NB + j * W, acc[r][p][j]);
    return;
  }
  lstm_cell<MR, P>(acc, Hp, c, hout, pan);
}

// T = 1, B = 1 (a streaming step): the input projection joins the recurrent pass. The accumulators start from the
// summed bias, take h_prev @ R^T and then x @ W^T (W's gemm panels, I*NB floats apart), and the cell update runs in
// registers: one pass over R and W, no projection buffer written and read back in between (docs/STREAMING.md
// "One pass per step"). The recurrent half comes first and is its own function (lstm_step1_rec) so that
// lstm_recurrent_pre() can run it between ticks and lstm_step_pre() can go on from its stored sums: the same
// operations in the same order, so a prepared step gives bitwise the same result as an unprepared one.
template <int P>
inline void lstm_step1_rec(int H, int Hp, int npan, const float* bias, const float* hprev, const float* Rp, int pan,
                           R (&acc)[1][P][4]) {
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) acc[0][p][j] = V::loadu(bias + (pan + p) * NB + j * W);
  const int ch0 = pan / P1 * P1, cnt = imin(P1, npan - ch0);
  mk_acc<1, P, false>(H, hprev, Hp, 1, Rp + static_cast<ptrdiff_t>(ch0) * H * NB + (pan - ch0) * NB, NB, acc,
                      static_cast<ptrdiff_t>(cnt) * NB);
}
template <int P>
inline void lstm_step1_in(int I, const float* x, const float* Wp, int pan, R (&acc)[1][P][4]) {
  mk_acc<1, P, false>(I, x, 0, 1, Wp + static_cast<ptrdiff_t>(pan) * I * NB, static_cast<ptrdiff_t>(I) * NB, acc, NB);
}
// mode 0: the whole step; 1: the recurrent half only, stored to pre (G4 floats); 2: from pre, the input half + cell.
template <int P>
inline void lstm_step1_tile(int mode, int I, int H, int Hp, int npan, const float* x, const float* Wp, const float* bias,
                            const float* hprev, const float* Rp, float* pre, float* c, float* hout, int pan) {
  R acc[1][P][4];
  if (mode == 2) {
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) acc[0][p][j] = V::loadu(pre + (pan + p) * NB + j * W);
  } else {
    lstm_step1_rec<P>(H, Hp, npan, bias, hprev, Rp, pan, acc);
    if (mode == 1) {
      for (int p = 0; p < P; ++p)
        for (int j = 0; j < 4; ++j) V::storeu(pre + (pan + p) * NB + j * W, acc[0][p][j]);
      return;
    }
  }
  lstm_step1_in<P>(I, x, Wp, pan, acc);
  lstm_cell<1, P>(acc, Hp, c, hout, pan);
}
inline void lstm_step1_chunk(int mode, int cnt, int I, int H, int Hp, int npan, const float* x, const float* Wp,
                             const float* bias, const float* hprev, const float* Rp, float* pre, float* c, float* hout,
                             int pan) {
  switch (cnt) {
    case 1: lstm_step1_tile<1>(mode, I, H, Hp, npan, x, Wp, bias, hprev, Rp, pre, c, hout, pan); break;
    case 2: if constexpr (P1 >= 2) lstm_step1_tile<2>(mode, I, H, Hp, npan, x, Wp, bias, hprev, Rp, pre, c, hout, pan); break;
    case 3: if constexpr (P1 >= 3) lstm_step1_tile<3>(mode, I, H, Hp, npan, x, Wp, bias, hprev, Rp, pre, c, hout, pan); break;
    case 4: if constexpr (P1 >= 4) lstm_step1_tile<4>(mode, I, H, Hp, npan, x, Wp, bias, hprev, Rp, pre, c, hout, pan); break;
    default: break;
  }
}
// The one-row step over every chunk of P1 panels (mode as lstm_step1_tile).
inline void lstm_step1(int mode, int I, int H, const LstmLayout& L, const float* packed, const float* x, const float* hprev,
                       float* pre, float* c, float* hout) {
  const int nchunks = (L.npan + P1 - 1) / P1;
  for (int ch = 0; ch < nchunks; ++ch) {
    const int pan = ch * P1;
    lstm_step1_chunk(mode, imin(P1, L.npan - pan), I, H, L.Hp, L.npan, x, packed + L.w_off, packed + L.b_off, hprev,
                     packed + L.r_off, pre, c, hout, pan);
  }
}

template <bool REV>
inline void lstm_row1_chunk(int cnt, int H, int Hp, int npan, const float* hprev, const float* Rp, float* g,
                            float* c, float* hout, int pan) {
  switch (cnt) {
    case 1: lstm_tile<1, 1, REV>(H, Hp, npan, hprev, Rp, g, 0, c, hout, pan, 0, H, true); break;
    case 2: if constexpr (P1 >= 2) lstm_tile<1, 2, REV>(H, Hp, npan, hprev, Rp, g, 0, c, hout, pan, 0, H, true); break;
    case 3: if constexpr (P1 >= 3) lstm_tile<1, 3, REV>(H, Hp, npan, hprev, Rp, g, 0, c, hout, pan, 0, H, true); break;
    case 4: if constexpr (P1 >= 4) lstm_tile<1, 4, REV>(H, Hp, npan, hprev, Rp, g, 0, c, hout, pan, 0, H, true); break;
    default: break;
  }
}

// Batch > 1, one step: panel-outer, k-block, then row blocks innermost, so one R block
// (KCL x NB floats = 16 KiB) is reused by every row block from L1; for large H the partial sums go
// through the step's rows of the projection buffer between k blocks.
constexpr int KCL = 16384 / (NB * 4);

template <int MR>
inline void lstm_block(int H, int Hp, int npan, int pan, const float* hprev, const float* Rp, float* g,
                       ptrdiff_t ldg, float* c, float* hout, int k0, int kc, bool last) {
  lstm_tile<MR, 1, false>(H, Hp, npan, hprev, Rp, g, ldg, c, hout, pan, k0, kc, last);
}
inline void lstm_step_batched(int B, int H, int Hp, int npan, const float* hprev, const float* Rp, float* g,
                              ptrdiff_t ldg, float* c, float* hout) {
  for (int pan = 0; pan < npan; ++pan)
    for (int k0 = 0; k0 < H; k0 += KCL) {
      const int kc = imin(KCL, H - k0);
      const bool last = k0 + kc >= H;
      int m = 0;
      for (; m + MRMAX <= B; m += MRMAX)
        lstm_block<MRMAX>(H, Hp, npan, pan, hprev + m * Hp, Rp, g + m * ldg, ldg, c + m * Hp, hout + m * Hp, k0, kc,
                          last);
      const int rem = B - m;
      const float* hp = hprev + m * Hp;
      float* gm = g + m * ldg;
      float* cm = c + m * Hp;
      float* hm = hout + m * Hp;
      switch (rem) {  // remainder rows as one tile (not row by row: a 1-row tile is latency-bound)
        case 0: break;
        case 1: lstm_block<1>(H, Hp, npan, pan, hp, Rp, gm, ldg, cm, hm, k0, kc, last); break;
        case 2: if constexpr (MRMAX > 2) lstm_block<2>(H, Hp, npan, pan, hp, Rp, gm, ldg, cm, hm, k0, kc, last); break;
        case 3: if constexpr (MRMAX > 3) lstm_block<3>(H, Hp, npan, pan, hp, Rp, gm, ldg, cm, hm, k0, kc, last); break;
        case 4: if constexpr (MRMAX > 4) lstm_block<4>(H, Hp, npan, pan, hp, Rp, gm, ldg, cm, hm, k0, kc, last); break;
        case 5: if constexpr (MRMAX > 5) lstm_block<5>(H, Hp, npan, pan, hp, Rp, gm, ldg, cm, hm, k0, kc, last); break;
        default: break;
      }
    }
}

void lstm_forward_impl(LstmDims d, const float* packed, const float* x, int layout, const float* h0,
                       const float* c0, float* y, float* hT, float* cT, float* ws,
                       std::atomic<int>* progress = nullptr, int every = 1) {
  const int T = d.T, B = d.B, I = d.I, H = d.H;
  if (T <= 0 || B <= 0 || H <= 0) return;
  const LstmLayout L = lstm_layout(I, H);
  const int Hp = L.Hp, G4 = L.G4, npan = L.npan;
  float* G = ws;
  float* hbuf[2] = {G + r16(static_cast<size_t>(T) * B * G4), nullptr};
  hbuf[1] = hbuf[0] + r16(static_cast<size_t>(B) * Hp);
  float* c = hbuf[1] + r16(static_cast<size_t>(B) * Hp);
  const float* Rp = packed + L.r_off;

  // Input projection for all steps at once (rows in x's own order), bias Wb+Rb folded in. AMX only from
  // one 16-row tile up: for a streaming step (T*B = 1) the tile setup and BF16 split cost more than the
  // whole FP32 projection (measured 1.9 -> 0.85 us for lstm_attn_stream's first layer, docs/STREAMING.md).
  const bool step1 = T == 1 && B == 1;   // a streaming step: projection fused into the recurrent pass (below)
  if (!step1) {
#if defined(TICKRT_KERNELS_ISA_AVX512)
    if (amx::available() && T * B >= 16)
      amx::gemm(T * B, G4, I, x, I, packed + L.amx_off, packed + L.b_off, G, G4,
                c + r16(static_cast<size_t>(B) * Hp));
    else
#endif
      gemm_packed_impl(T * B, G4, I, x, I, packed + L.w_off, packed + L.b_off, Epilogue{}, G, G4);
  }

  // Initial state into the padded [B][Hp] buffers (padded units stay exactly 0); copies, not per-element
  // branches: a streaming step (T = 1) pays this on every tick.
  const size_t hbytes = static_cast<size_t>(H) * sizeof(float), pad = static_cast<size_t>(Hp - H) * sizeof(float);
  for (int b = 0; b < B; ++b) {
    float* hb = hbuf[0] + static_cast<ptrdiff_t>(b) * Hp;
    float* cb = c + static_cast<ptrdiff_t>(b) * Hp;
    if (h0) std::memcpy(hb, h0 + static_cast<ptrdiff_t>(b) * H, hbytes); else std::memset(hb, 0, hbytes);
    if (c0) std::memcpy(cb, c0 + static_cast<ptrdiff_t>(b) * H, hbytes); else std::memset(cb, 0, hbytes);
    if (pad) {
      std::memset(hb + H, 0, pad);
      std::memset(cb + H, 0, pad);
    }
  }

  const ptrdiff_t ldg = static_cast<ptrdiff_t>(layout == 0 ? 1 : T) * G4;
  for (int t = 0; t < T; ++t) {
    const float* hprev = hbuf[t & 1];
    float* hout = hbuf[(t + 1) & 1];
    float* gin = G + static_cast<ptrdiff_t>(layout == 0 ? t * B : t) * G4;
    if (step1) {
      lstm_step1(0, I, H, L, packed, x, hprev, nullptr, c, hout);
    } else if (B == 1) {
      // Serpentine: odd steps walk panels and k backwards, so the tail of R touched last (still in
      // L1 when R exceeds it: H=64 gives 64 KiB vs 48 KiB L1d) is read first.
      const int nchunks = (npan + P1 - 1) / P1;
      if ((t & 1) == 0) {
        for (int ch = 0; ch < nchunks; ++ch) {
          const int pan = ch * P1;
          lstm_row1_chunk<false>(imin(P1, npan - pan), H, Hp, npan, hprev, Rp, gin, c, hout, pan);
        }
      } else {
        for (int ch = nchunks - 1; ch >= 0; --ch) {
          const int pan = ch * P1;
          lstm_row1_chunk<true>(imin(P1, npan - pan), H, Hp, npan, hprev, Rp, gin, c, hout, pan);
        }
      }
    } else {
      lstm_step_batched(B, H, Hp, npan, hprev, Rp, gin, ldg, c, hout);
    }
    if (y) {
      for (int b = 0; b < B; ++b)
        std::memcpy(y + static_cast<ptrdiff_t>(layout == 0 ? t * B + b : b * T + t) * H, hout + static_cast<ptrdiff_t>(b) * Hp, hbytes);
    }
    if (progress && ((t + 1) % every == 0 || t + 1 == T)) progress->store(t + 1, std::memory_order_release);
  }
  const float* hlast = hbuf[T & 1];
  for (int b = 0; b < B; ++b) {
    if (hT) std::memcpy(hT + static_cast<ptrdiff_t>(b) * H, hlast + static_cast<ptrdiff_t>(b) * Hp, hbytes);
    if (cT) std::memcpy(cT + static_cast<ptrdiff_t>(b) * H, c + static_cast<ptrdiff_t>(b) * Hp, hbytes);
  }
}

// ---- row ops ------------------------------------------------------------------------------------
inline float row_max(const float* x, int n) {
  R m = V::set1(-3.402823466e38f);
  int i = 0;
  for (; i + W <= n; i += W) m = V::max(m, V::loadu(x + i));
  float s = V::hmax(m);
  for (; i < n; ++i) s = x[i] > s ? x[i] : s;
  return s;
}

void softmax_row(int n, const float* x, float* y) {
  const float mx = row_max(x, n);
  const R vm = V::set1(mx);
  R acc = V::zero();
  int i = 0;
  for (; i + W <= n; i += W) {
    const R e = vexp(V::sub(V::loadu(x + i), vm));
    V::storeu(y + i, e);
    acc = V::add(acc, e);
  }
  if (i < n) {
    const R e = vexp(V::sub(V::load_partial(x + i, n - i), vm));
    V::store_partial(y + i, e, n - i);
    acc = V::add(acc, V::load_partial(y + i, n - i));  // masked lanes contribute 0
  }
  const R inv = V::set1(1.f / V::hsum(acc));
  for (i = 0; i + W <= n; i += W) V::storeu(y + i, V::mul(V::loadu(y + i), inv));
  if (i < n) V::store_partial(y + i, V::mul(V::load_partial(y + i, n - i), inv), n - i);
}

void layernorm_row(int n, const float* x, const float* gamma, const float* beta, float eps, float* y) {
  R s = V::zero();
  int i = 0;
  for (; i + W <= n; i += W) s = V::add(s, V::loadu(x + i));
  if (i < n) s = V::add(s, V::load_partial(x + i, n - i));
  const float mean = V::hsum(s) / static_cast<float>(n);
  const R vm = V::set1(mean);
  R q = V::zero();
  for (i = 0; i + W <= n; i += W) {
    const R dlt = V::sub(V::loadu(x + i), vm);
    q = V::fmadd(dlt, dlt, q);
  }
  float ssq = V::hsum(q);
  for (; i < n; ++i) ssq += (x[i] - mean) * (x[i] - mean);  // tail in scalar: masked lanes would add mean^2
  const float var = ssq / static_cast<float>(n);
  const R rstd = V::set1(1.f / __builtin_sqrtf((var > 0.f ? var : 0.f) + eps));
  for (i = 0; i < n; i += W) {
    const int cnt = imin(W, n - i);
    const R xv = cnt == W ? V::loadu(x + i) : V::load_partial(x + i, cnt);
    R v = V::mul(V::sub(xv, vm), rstd);
    if (gamma) v = V::mul(v, cnt == W ? V::loadu(gamma + i) : V::load_partial(gamma + i, cnt));
    if (beta) v = V::add(v, cnt == W ? V::loadu(beta + i) : V::load_partial(beta + i, cnt));
    if (cnt == W) V::storeu(y + i, v);
    else V::store_partial(y + i, v, cnt);
  }
}

void activation_impl(Act act, float alpha, size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + W <= n; i += W) V::storeu(y + i, apply_act(act, alpha, V::loadu(x + i)));
  if (i < n) {
    const int rem = static_cast<int>(n - i);
    V::store_partial(y + i, apply_act(act, alpha, V::load_partial(x + i, rem)), rem);
  }
}

// ---- attention ----------------------------------------------------------------------------------
struct AttnLayout {
  size_t w_off, bw_off, v_off, bv_off, total;
};
inline AttnLayout attn_layout(int D, int A) {
  AttnLayout L{};
  const int npan = (A + NB - 1) / NB;
  L.w_off = 0;
  L.bw_off = r16(static_cast<size_t>(npan) * D * NB);
  L.v_off = L.bw_off + r16(static_cast<size_t>(A));
  L.bv_off = L.v_off + r16(static_cast<size_t>(A));
  L.total = L.bv_off + 16;
  return L;
}

inline float dot(const float* a, const float* b, int n) {
  R acc = V::zero();
  int i = 0;
  for (; i + W <= n; i += W) acc = V::fmadd(V::loadu(a + i), V::loadu(b + i), acc);
  if (i < n) acc = V::fmadd(V::load_partial(a + i, n - i), V::load_partial(b + i, n - i), acc);
  return V::hsum(acc);
}

void additive_attention_impl(int B, int T, int D, int A, const float* packed, const float* h, int layout,
                             float* ctx, float* weights_out, float* ws) {
  const AttnLayout L = attn_layout(D, A);
  float* U = ws;                                         // [T, A]
  float* s = ws + r16(static_cast<size_t>(T) * A);       // [T]
  const float* v = packed + L.v_off;
  const float bv = packed[L.bv_off];
  for (int b = 0; b < B; ++b) {
    const float* hb = h + static_cast<ptrdiff_t>(layout == 1 ? b * T : b) * D;
    const int ldh = layout == 1 ? D : B * D;
    gemm_packed_impl(T, A, D, hb, ldh, packed + L.w_off, packed + L.bw_off, Epilogue{kActTanhAbs, 0.f}, U, A);
    for (int t = 0; t < T; ++t) s[t] = dot(U + static_cast<ptrdiff_t>(t) * A, v, A) + bv;
    softmax_row(T, s, s);
    if (weights_out)
      for (int t = 0; t < T; ++t) weights_out[b * T + t] = s[t];
    float* cb = ctx + static_cast<ptrdiff_t>(b) * D;
    for (int i = 0; i < D; i += W) {
      const int cnt = imin(W, D - i);
      R acc = V::zero();
      for (int t = 0; t < T; ++t) {
        const float* ht = hb + static_cast<ptrdiff_t>(t) * ldh + i;
        acc = V::fmadd(V::set1(s[t]), cnt == W ? V::loadu(ht) : V::load_partial(ht, cnt), acc);
      }
      if (cnt == W) V::storeu(cb + i, acc);
      else V::store_partial(cb + i, acc, cnt);
    }
  }
}

void sdpa_impl(int BH, int Tq, int Tk, int d, float scale, const float* q, const float* k, const float* v,
               float* out, float* ws) {
  for (int i = 0; i < BH; ++i) {
    const float* qi = q + static_cast<ptrdiff_t>(i) * Tq * d;
    const float* ki = k + static_cast<ptrdiff_t>(i) * Tk * d;
    const float* vi = v + static_cast<ptrdiff_t>(i) * Tk * d;
    float* oi = out + static_cast<ptrdiff_t>(i) * Tq * d;
    gemm_impl(false, true, Tq, Tk, d, scale, qi, d, ki, d, 0.f, ws, Tk);
    for (int r = 0; r < Tq; ++r) softmax_row(Tk, ws + static_cast<ptrdiff_t>(r) * Tk, ws + static_cast<ptrdiff_t>(r) * Tk);
    gemm_impl(false, false, Tq, d, Tk, 1.f, ws, Tk, vi, d, 0.f, oi, d);
  }
}

}  // namespace

// ---- entry points (called by dispatch.cpp) ------------------------------------------------------
size_t gemm_packed_b_floats(int K, int N) {
  return static_cast<size_t>((N + NB - 1) / NB) * static_cast<size_t>(K) * NB;
}
void gemm_pack_b(const float* B, int K, int N, bool trans_b, float* packed) {
  if (trans_b)
    pack_panels(K, N, [&](int k, int n) { return B[static_cast<ptrdiff_t>(n) * K + k]; }, packed);
  else
    pack_panels(K, N, [&](int k, int n) { return B[static_cast<ptrdiff_t>(k) * N + n]; }, packed);
}
void gemm_packed(int M, int N, int K, const float* A, int lda, const float* packed_b, const float* bias,
                 Epilogue epi, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  gemm_packed_impl(M, N, K, A, lda, packed_b, bias, epi, C, ldc);
}
void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
          int ldb, float beta, float* C, int ldc) {
  gemm_impl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

size_t lstm_packed_floats(int I, int H) { return lstm_layout(I, H).total; }
void lstm_pack(int I, int H, const float* Wm, const float* Rm, const float* Wb, const float* Rb,
               float* packed) {
  const LstmLayout L = lstm_layout(I, H);
  pack_panels(I, L.G4, [&](int k, int n) {
    const int s = lstm_src_row(n, H);
    return s < 0 ? 0.f : Wm[static_cast<ptrdiff_t>(s) * I + k];
  }, packed + L.w_off);
  // R: chunks of P1 panels, each chunk [H][cnt*NB] (k-major across its panels), chunk ch at ch*P1*H*NB.
  for (int n = 0; n < L.G4; ++n) {
    const int pan = n / NB, ch0 = pan / P1 * P1, cnt = imin(P1, L.npan - ch0);
    const int s = lstm_src_row(n, H);
    float* dst = packed + L.r_off + static_cast<size_t>(ch0) * H * NB + (pan - ch0) * NB + n % NB;
    for (int k = 0; k < H; ++k) dst[static_cast<size_t>(k) * cnt * NB] = s < 0 ? 0.f : Rm[static_cast<ptrdiff_t>(s) * H + k];
  }
  for (int n = 0; n < L.G4; ++n) {
    const int s = lstm_src_row(n, H);
    packed[L.b_off + n] = s < 0 ? 0.f : (Wb ? Wb[s] : 0.f) + (Rb ? Rb[s] : 0.f);
  }
#if defined(TICKRT_KERNELS_ISA_AVX512)
  struct Ctx { const float* Wm; int I, H; } ctx{Wm, I, H};
  amx::pack_b(I, L.G4, [](const void* p, int k, int n) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    const int s = lstm_src_row(n, c.H);
    return s < 0 ? 0.f : c.Wm[static_cast<ptrdiff_t>(s) * c.I + k];
  }, &ctx, packed + L.amx_off);
#endif
}
size_t lstm_workspace_floats(LstmDims d) {
  const LstmLayout L = lstm_layout(d.I, d.H);
  size_t n = r16(static_cast<size_t>(d.T) * d.B * L.G4) + 3 * r16(static_cast<size_t>(d.B) * L.Hp);
#if defined(TICKRT_KERNELS_ISA_AVX512)
  n += r16(amx::workspace_floats(d.T * d.B, d.I));  // BF16 split of x for the AMX projection
#endif
  return n;
}
void lstm_forward(LstmDims d, const float* packed, const float* x, int layout, const float* h0,
                  const float* c0, float* y, float* hT, float* cT, float* ws) {
  lstm_forward_impl(d, packed, x, layout, h0, c0, y, hT, cT, ws);
}
void lstm_forward_progress(LstmDims d, const float* packed, const float* x, int layout, const float* h0,
                           const float* c0, float* y, float* hT, float* cT, float* ws, std::atomic<int>* progress,
                           int every) {
  lstm_forward_impl(d, packed, x, layout, h0, c0, y, hT, cT, ws, progress, every < 1 ? 1 : every);
}
size_t lstm_pre_floats(int I, int H) { return static_cast<size_t>(lstm_layout(I, H).G4); }
void lstm_recurrent_pre(int I, int H, const float* packed, const float* h, float* pre) {
  lstm_step1(1, I, H, lstm_layout(I, H), packed, nullptr, h, pre, nullptr, nullptr);
}
void lstm_step_pre(int I, int H, const float* packed, const float* x, const float* pre, const float* c0, float* y,
                   float* hT, float* cT, float* ws) {
  const LstmLayout L = lstm_layout(I, H);
  const int Hp = L.Hp;
  float* c = ws;
  float* h = ws + r16(static_cast<size_t>(Hp));
  const size_t hbytes = static_cast<size_t>(H) * sizeof(float);
  if (c0) std::memcpy(c, c0, hbytes); else std::memset(c, 0, hbytes);
  if (Hp > H) std::memset(c + H, 0, static_cast<size_t>(Hp - H) * sizeof(float));
  lstm_step1(2, I, H, L, packed, x, nullptr, const_cast<float*>(pre), c, h);
  if (y) std::memcpy(y, h, hbytes);
  if (hT) std::memcpy(hT, h, hbytes);
  if (cT) std::memcpy(cT, c, hbytes);
}

size_t additive_attention_packed_floats(int D, int A) { return attn_layout(D, A).total; }
void additive_attention_pack(int D, int A, const float* Wm, const float* bw, const float* v, float bv,
                             float* packed) {
  const AttnLayout L = attn_layout(D, A);
  pack_panels(D, A, [&](int k, int n) { return Wm[static_cast<ptrdiff_t>(n) * D + k]; }, packed + L.w_off);
  for (int a = 0; a < A; ++a) {
    packed[L.bw_off + a] = bw ? bw[a] : 0.f;
    packed[L.v_off + a] = v[a];
  }
  for (int i = 0; i < 16; ++i) packed[L.bv_off + i] = i == 0 ? bv : 0.f;
}
size_t additive_attention_workspace_floats(int B, int T, int D, int A) {
  return r16(static_cast<size_t>(T) * A) + r16(static_cast<size_t>(T));
}
void additive_attention(int B, int T, int D, int A, const float* packed, const float* h, int layout,
                        float* ctx, float* weights_out, float* ws) {
  additive_attention_impl(B, T, D, A, packed, h, layout, ctx, weights_out, ws);
}
// additive_attention_impl in two halves (one sample, rows contiguous): the same products, epilogue, dot
// and softmax, and the context summed in the same order, so the result is the fused kernel's.
void additive_attention_scores(int T, int D, int A, const float* packed, const float* h, float* s, float* ws) {
  const AttnLayout L = attn_layout(D, A);
  gemm_packed_impl(T, A, D, h, D, packed + L.w_off, packed + L.bw_off, Epilogue{kActTanhAbs, 0.f}, ws, A);
  const float* v = packed + L.v_off;
  const float bv = packed[L.bv_off];
  for (int t = 0; t < T; ++t) s[t] = dot(ws + static_cast<ptrdiff_t>(t) * A, v, A) + bv;
}
void attention_context(int T, int D, const float* s, const float* h, float* ctx, float* ws) {
  softmax_row(T, s, ws);
  for (int i = 0; i < D; i += W) {
    const int cnt = imin(W, D - i);
    R acc = V::zero();
    for (int t = 0; t < T; ++t) {
      const float* ht = h + static_cast<ptrdiff_t>(t) * D + i;
      acc = V::fmadd(V::set1(ws[t]), cnt == W ? V::loadu(ht) : V::load_partial(ht, cnt), acc);
    }
    if (cnt == W) V::storeu(ctx + i, acc);
    else V::store_partial(ctx + i, acc, cnt);
  }
}
size_t sdpa_workspace_floats(int Tq, int Tk) { return r16(static_cast<size_t>(Tq) * Tk); }
void sdpa(int BH, int Tq, int Tk, int d, float scale, const float* q, const float* k, const float* v,
          float* out, float* ws) {
  sdpa_impl(BH, Tq, Tk, d, scale, q, k, v, out, ws);
}
void softmax_rows(int rows, int n, const float* x, float* y) {
  for (int r = 0; r < rows; ++r)
    softmax_row(n, x + static_cast<ptrdiff_t>(r) * n, y + static_cast<ptrdiff_t>(r) * n);
}
void layernorm_rows(int rows, int n, const float* x, const float* gamma, const float* beta, float eps,
                    float* y) {
  for (int r = 0; r < rows; ++r)
    layernorm_row(n, x + static_cast<ptrdiff_t>(r) * n, gamma, beta, eps, y + static_cast<ptrdiff_t>(r) * n);
}
void activation(Act act, float alpha, size_t n, const float* x, float* y) { activation_impl(act, alpha, n, x, y); }
float vector_keepalive(int iters) {
  if constexpr (W == 1) {
    return 0.f;   // scalar build: no vector units to keep ready
  } else {
    R a[8];
    for (int j = 0; j < 8; ++j) a[j] = V::set1(0.5f + 0.0625f * static_cast<float>(j));
    const R m = V::set1(0.999f), c = V::set1(0.001f);
    for (int i = 0; i < iters; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) a[j] = V::fmadd(a[j], m, c);   // 8 independent chains: the FMA ports' throughput
    R s = V::add(V::add(V::add(a[0], a[1]), V::add(a[2], a[3])), V::add(V::add(a[4], a[5]), V::add(a[6], a[7])));
    return V::hsum(s);
  }
}

}  // namespace tickrt::infer::cpu::TICKRT_ISA_NS
