// infer/cpu/amx_avx512.cpp — AMX (BF16 tiles) GEMM with FP32 accuracy, for the LSTM input projection.
//
// Why: at batch 1 the two input projections of lstm_attn_s are ~17 µs of pure FMA work on AVX-512;
// AMX's TDPBF16PS does 16x16x32 multiply-adds per instruction. BF16 alone (8-bit mantissa) would break
// the 1e-5 accuracy contract, so every operand is split into three BF16 parts x = hi + mid + lo
// (each the BF16 rounding of what is left; residual <= 2^-27 |x|) and the six products whose size is
// >= 2^-18 of the full product are accumulated in FP32 tiles (hh, hm, mh, hl, mm, lh): the dropped
// terms are <= ~2^-26 relative, i.e. FP32 rounding level.
//
// Used only from the avx512 build of lstm_forward when amx_available() (cpuid AMX-BF16 + the OS granting
// the tile state through arch_prctl, asked once at detect time); otherwise the FMA GEMM runs. The packed
// B layout is fixed for (K, N), so engine files do not depend on whether AMX is present.
#include "infer/cpu/amx.hpp"

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cpuid.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace tickrt::infer::cpu::amx {
using std::uint8_t;
using std::uint16_t;
using std::uint32_t;
namespace {

constexpr int kTileFloats = 256;  // one B tile: 16 rows (k pairs) x 64 bytes (16 columns x 2 bf16)

// Round-to-nearest-even to BF16 (finite inputs), as the 16 high bits in a 32-bit lane.
inline __m512i bf16_bits(__m512 x) {
  const __m512i b = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
  return _mm512_srli_epi32(_mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
}
inline __m512 bf16_to_f32(__m512i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)); }

inline uint16_t bf16_scalar(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  b += 0x7FFFu + ((b >> 16) & 1u);
  return static_cast<uint16_t>(b >> 16);
}
inline float f32_of(uint16_t h) {
  const uint32_t b = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

struct alignas(64) TileCfg {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

#if defined(__AMX_TILE__) && defined(__AMX_BF16__)
#define TICKRT_AMX_COMPILED 1
#endif

bool detect() {
#if !defined(TICKRT_AMX_COMPILED)
  return false;  // compiler without AMX support: the FMA path runs
#endif
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool amx_bf16 = d & (1u << 22), amx_tile = d & (1u << 24);
  if (!amx_bf16 || !amx_tile) return false;
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if (((lo >> 17) & 3u) != 3u) return false;  // XTILECFG and XTILEDATA enabled in XCR0
  // Linux >= 5.16 hands out the 8 KiB tile state only on request (ARCH_REQ_XCOMP_PERM, XTILEDATA).
  return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}

}  // namespace

bool available() {
  // First call (from detect_isa) does the one syscall. TICKRT_AMX=0 turns AMX off (A/B measurements).
  static const bool ok = [] {
    const char* env = std::getenv("TICKRT_AMX");
    if (env && std::strcmp(env, "0") == 0) return false;
    return detect();
  }();
  return ok;
}

size_t packed_floats(int K, int N) {
  const size_t kch = static_cast<size_t>((K + 31) / 32), nt = static_cast<size_t>((N + 15) / 16);
  return kch * nt * 3 * kTileFloats;
}

void pack_b(int K, int N, float (*get)(const void*, int, int), const void* ctx, float* packed) {
  const int kch = (K + 31) / 32, nt = (N + 15) / 16;
  auto* out = reinterpret_cast<uint16_t*>(packed);
  for (int kc = 0; kc < kch; ++kc)
    for (int t = 0; t < nt; ++t)
      for (int r = 0; r < 16; ++r)          // k pair
        for (int n = 0; n < 16; ++n)
          for (int e = 0; e < 2; ++e) {     // k = 2r + e
            const int k = kc * 32 + 2 * r + e, col = t * 16 + n;
            const float x = (k < K && col < N) ? get(ctx, k, col) : 0.f;
            const uint16_t h = bf16_scalar(x);
            const float r1 = x - f32_of(h);
            const uint16_t m = bf16_scalar(r1);
            const uint16_t l = bf16_scalar(r1 - f32_of(m));
            const uint16_t parts[3] = {h, m, l};
            for (int p = 0; p < 3; ++p)
              out[((static_cast<size_t>(kc) * nt + t) * 3 + p) * (kTileFloats * 2) + r * 32 + n * 2 + e] = parts[p];
          }
}

// Rows per pass: A's three BF16 copies for 256 rows stay in L2 while every column quad reads them
// (converting all of a T*B = 8192-row A up front made AMX 2x slower than the FMA GEMM there).
constexpr int kChunkRows = 256;

size_t workspace_floats(int M, int K) {
  const int Mc = M < kChunkRows ? M : kChunkRows;
  const size_t Mp = static_cast<size_t>((Mc + 15) / 16 * 16), Kp = static_cast<size_t>((K + 31) / 32 * 32);
  return 3 * Mp * Kp / 2 + 16 * 16 * 4;  // three BF16 copies of A + a 4-tile C staging buffer
}

namespace {
void gemm_chunk(int M, int N, int K, const float* A, int lda, const float* packed, const float* bias, float* C,
                int ldc, float* ws) {
#if defined(TICKRT_AMX_COMPILED)
  const int Mp = (M + 15) / 16 * 16, Kp = (K + 31) / 32 * 32, kch = Kp / 32, nt = (N + 15) / 16;
  auto* a16 = reinterpret_cast<uint16_t*>(ws);
  const size_t part = static_cast<size_t>(Mp) * Kp;
  float* stage = ws + 3 * part / 2;  // [2][16][16] floats, 64-byte aligned when ws is
  // Split A into hi/mid/lo BF16 rows [Mp][Kp], zero padded.
  for (int m = 0; m < Mp; ++m)
    for (int k = 0; k < Kp; k += 16) {
      const int n = m < M ? (K - k < 16 ? (K - k > 0 ? K - k : 0) : 16) : 0;
      const __mmask16 mask = static_cast<__mmask16>((1u << n) - 1u);
      const __m512 x = _mm512_maskz_loadu_ps(mask, A + static_cast<ptrdiff_t>(m) * lda + k);
      const __m512i h = bf16_bits(x);
      const __m512 r1 = _mm512_sub_ps(x, bf16_to_f32(h));
      const __m512i mi = bf16_bits(r1);
      const __m512i lo = bf16_bits(_mm512_sub_ps(r1, bf16_to_f32(mi)));
      const size_t off = static_cast<size_t>(m) * Kp + k;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a16 + off), _mm512_cvtepi32_epi16(h));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a16 + part + off), _mm512_cvtepi32_epi16(mi));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a16 + 2 * part + off), _mm512_cvtepi32_epi16(lo));
    }

  TileCfg cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  const size_t astride = static_cast<size_t>(Kp) * 2;  // bytes between A rows
  // Tiles: 0-3 = C for four 16-column tiles (64 columns); 4 = the A part; 5 = B part.
  // Consecutive TDPBF16PS go to different C tiles so their latency overlaps.
  // n-quad outer, m-block inner: the quad's 12 B tiles per k chunk (12 KiB) stay in L1 across the
  // m-blocks instead of all of B coming from L2 for every block.
  for (int t0 = 0; t0 < nt; t0 += 4) {
    for (int m0 = 0; m0 < Mp; m0 += 16) {
      // C tiles start from the bias: a tile load with row stride 0 repeats the 16 bias floats.
      if (bias) {
        const float* bb = bias + t0 * 16;
        _tile_loadd(0, bb, 0);
        _tile_loadd(1, bb + 16, 0);
        _tile_loadd(2, bb + 32, 0);
        _tile_loadd(3, bb + 48, 0);
      } else {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
      }
      for (int kc = 0; kc < kch; ++kc) {
        const size_t aoff = static_cast<size_t>(m0) * Kp + kc * 32;
        const float* bt = packed + (static_cast<size_t>(kc) * nt + t0) * 3 * kTileFloats;
        // (A part, B part) pairs: hh, hm, hl, mh, mm, lh
        constexpr int kPairs[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {2, 0}};
        for (int q = 0; q < 6; ++q) {
          const int pa = kPairs[q][0], pb = kPairs[q][1];
          if (q == 0 || q == 3 || q == 5) _tile_loadd(4, a16 + pa * part + aoff, astride);
          const float* b = bt + pb * kTileFloats;
          _tile_loadd(5, b, 64);
          _tile_dpbf16ps(0, 4, 5);
          _tile_loadd(6, b + 3 * kTileFloats, 64);
          _tile_dpbf16ps(1, 4, 6);
          _tile_loadd(7, b + 6 * kTileFloats, 64);
          _tile_dpbf16ps(2, 4, 7);
          _tile_loadd(5, b + 9 * kTileFloats, 64);
          _tile_dpbf16ps(3, 4, 5);
        }
      }
      if (m0 + 16 <= M) {  // full block: tiles straight to C
        float* c0 = C + static_cast<ptrdiff_t>(m0) * ldc + t0 * 16;
        const long cstride = static_cast<long>(ldc) * 4;
        _tile_stored(0, c0, cstride);
        _tile_stored(1, c0 + 16, cstride);
        _tile_stored(2, c0 + 32, cstride);
        _tile_stored(3, c0 + 48, cstride);
        continue;
      }
      _tile_stored(0, stage, 64);
      _tile_stored(1, stage + 256, 64);
      _tile_stored(2, stage + 512, 64);
      _tile_stored(3, stage + 768, 64);
      for (int j = 0; j < 4; ++j)
        for (int r = 0; m0 + r < M; ++r)
          _mm512_storeu_ps(C + static_cast<ptrdiff_t>(m0 + r) * ldc + (t0 + j) * 16,
                           _mm512_loadu_ps(stage + j * 256 + r * 16));
    }
  }
  _tile_release();
#else
  (void)M, (void)N, (void)K, (void)A, (void)lda, (void)packed, (void)bias, (void)C, (void)ldc, (void)ws;
#endif
}
}  // namespace

void gemm(int M, int N, int K, const float* A, int lda, const float* packed, const float* bias, float* C,
          int ldc, float* ws) {
  for (int m0 = 0; m0 < M; m0 += kChunkRows) {
    const int mc = M - m0 < kChunkRows ? M - m0 : kChunkRows;
    gemm_chunk(mc, N, K, A + static_cast<ptrdiff_t>(m0) * lda, lda, packed, bias,
               C + static_cast<ptrdiff_t>(m0) * ldc, ldc, ws);
  }
}

}  // namespace tickrt::infer::cpu::amx
