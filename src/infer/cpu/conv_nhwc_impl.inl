// infer/cpu/conv_nhwc_impl.inl — the channels-last direct convolution (conv_nhwc.hpp), written once against
// the vector traits V (simd.hpp) and built per ISA by conv_nhwc_<isa>.cpp (own -m flags, own namespace).
#include "infer/cpu/conv_nhwc.hpp"
#include "infer/cpu/simd.hpp"

namespace tickrt::infer::cpu::TICKRT_ISA_NS {
namespace {

using R = V::R;
constexpr int Wv = V::W;
// Pixels per register tile: AVX-512 has 32 zmm (NV = 2: 2 x 14 accumulators + 2 weights), AVX2 16 ymm
// (2 x 6 + 2), scalar: whatever the compiler keeps in registers.
#if defined(TICKRT_KERNELS_ISA_AVX512)
constexpr int RPMAX = 14;
#elif defined(TICKRT_KERNELS_ISA_AVX2)
constexpr int RPMAX = 6;
#else
constexpr int RPMAX = 4;
#endif

struct Line {
  const float* x;       // first pixel's receptive field (kh = 0, kw = 0, c = 0)
  long pstride;         // floats between consecutive pixels' fields
  long rowstride;       // floats between kh rows of one field
  int kh, kwc;          // KH runs of KW*C floats
  const float* w;       // packed block j: [K][Wv]
  long wstride;         // floats between blocks j and j+1 (K * Wv)
  const float* bias;    // bias of block j
  float* y;             // first pixel's output channel j*Wv
  long ystride;         // floats between consecutive pixels' outputs (M)
  int mrem;             // valid output channels from this block on
};

template <int NV, int RP>
inline void tile(const Line& L, Epilogue epi) {
  R acc[RP][NV];
  for (int v = 0; v < NV; ++v) {
    const R b = V::loadu(L.bias + v * Wv);
    for (int r = 0; r < RP; ++r) acc[r][v] = b;
  }
  const float* wk = L.w;
  for (int kh = 0; kh < L.kh; ++kh) {
    const float* xr = L.x + kh * L.rowstride;
    for (int j = 0; j < L.kwc; ++j, wk += Wv) {
      R wv[NV];
      for (int v = 0; v < NV; ++v) wv[v] = V::loadu(wk + v * L.wstride);
      for (int r = 0; r < RP; ++r) {
        const R a = V::set1(xr[r * L.pstride + j]);
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fmadd(a, wv[v], acc[r][v]);
      }
    }
  }
  const R zero = V::zero();
  const R alpha = V::set1(epi.alpha);
  for (int r = 0; r < RP; ++r)
    for (int v = 0; v < NV; ++v) {
      R o = acc[r][v];
      if (epi.act == Act::relu) o = V::max(o, zero);
      else if (epi.act == Act::leaky_relu) o = V::blend_lt(o, zero, V::mul(o, alpha), o);
      float* dst = L.y + r * L.ystride + v * Wv;
      const int n = L.mrem - v * Wv;
      if (n >= Wv) V::storeu(dst, o);
      else V::store_partial(dst, o, n);
    }
}

template <int NV, int RP>
inline void tile_n(const Line& L, Epilogue epi, int n) {
  if constexpr (RP > 1) {
    if (n < RP) return tile_n<NV, RP - 1>(L, epi, n);
  }
  tile<NV, RP>(L, epi);
}

// One line of `len` pixels whose fields are pstride apart and whose outputs are ystride apart.
void run_line(const ConvNhwcDims& d, const float* packed, Epilogue epi, const float* x, long pstride, float* y, int len) {
  const int K = d.KH * d.KW * d.C;
  const int nvec = (d.M + Wv - 1) / Wv;
  const float* bias = packed + static_cast<size_t>(nvec) * K * Wv;
  // Balanced blocks: 20 pixels -> 10 + 10, not 14 + 6.
  const int nblk = (len + RPMAX - 1) / RPMAX;
  const int per = (len + nblk - 1) / nblk;
  for (int j = 0; j < nvec; j += 2) {
    const int nv = nvec - j >= 2 ? 2 : 1;
    Line L{};
    L.pstride = pstride;
    L.rowstride = static_cast<long>(d.W) * d.C;
    L.kh = d.KH;
    L.kwc = d.KW * d.C;
    L.w = packed + static_cast<size_t>(j) * K * Wv;
    L.wstride = static_cast<long>(K) * Wv;
    L.bias = bias + j * Wv;
    L.ystride = d.M;
    L.mrem = d.M - j * Wv;
    for (int p0 = 0; p0 < len; p0 += per) {
      const int n = len - p0 < per ? len - p0 : per;
      L.x = x + p0 * pstride;
      L.y = y + static_cast<long>(p0) * d.M + j * Wv;
      if (nv == 2) tile_n<2, RPMAX>(L, epi, n);
      else tile_n<1, RPMAX>(L, epi, n);
    }
  }
}

}  // namespace

size_t conv_nhwc_packed_floats(int M, int C, int KH, int KW) {
  const size_t Mp = static_cast<size_t>((M + Wv - 1) / Wv) * Wv;
  return Mp * static_cast<size_t>(C) * KH * KW + Mp;
}

void conv_nhwc_pack(int M, int C, int KH, int KW, const float* W, const float* bias, float* packed) {
  const int K = KH * KW * C;
  const int nvec = (M + Wv - 1) / Wv;
  for (int j = 0; j < nvec; ++j)
    for (int kh = 0; kh < KH; ++kh)
      for (int kw = 0; kw < KW; ++kw)
        for (int c = 0; c < C; ++c) {
          const int k = (kh * KW + kw) * C + c;
          float* dst = packed + (static_cast<size_t>(j) * K + k) * Wv;
          for (int l = 0; l < Wv; ++l) {
            const int m = j * Wv + l;
            dst[l] = m < M ? W[((static_cast<size_t>(m) * C + c) * KH + kh) * KW + kw] : 0.0f;
          }
        }
  float* b = packed + static_cast<size_t>(nvec) * K * Wv;
  for (int m = 0; m < nvec * Wv; ++m) b[m] = bias && m < M ? bias[m] : 0.0f;
}

void conv_nhwc(const ConvNhwcDims& d, const float* packed, Epilogue epi, const float* x, float* y) {
  const size_t in_img = static_cast<size_t>(d.H) * d.W * d.C;
  const size_t out_img = static_cast<size_t>(d.OH) * d.OW * d.M;
  for (int n = 0; n < d.N; ++n) {
    const float* xn = x + n * in_img;
    float* yn = y + n * out_img;
    if (d.OW == 1) {
      // A column of pixels (the time convolutions after the feature axis is gone): one line down the image.
      run_line(d, packed, epi, xn, static_cast<long>(d.SH) * d.W * d.C, yn, d.OH);
    } else {
      for (int oh = 0; oh < d.OH; ++oh)
        run_line(d, packed, epi, xn + static_cast<size_t>(oh) * d.SH * d.W * d.C, static_cast<long>(d.SW) * d.C,
                 yn + static_cast<size_t>(oh) * d.OW * d.M, d.OW);
    }
  }
}

}  // namespace tickrt::infer::cpu::TICKRT_ISA_NS
