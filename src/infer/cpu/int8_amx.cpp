// infer/cpu/int8_amx.cpp — exact INT8 GEMM on AMX tiles (TDPBSSD: signed x signed bytes, int32 sums) for
// blocks of 16 rows: the INT8 LSTM's input projection (T*B rows) and its recurrent product at batch >= 16.
// Its own file because only it may contain tile instructions (compiled with -mamx-tile -mamx-int8).
// The weight panels of int8_kernels.hpp ([Kp/4][16 columns][4 k] per 16-column panel) are exactly the
// B-tile layout TDPBSSD reads: 16 rows of 64 bytes per 64-k chunk, so nothing is re-packed.
#include <cstdint>
#include <cstring>

#if defined(__AMX_TILE__) && defined(__AMX_INT8__)
#include <immintrin.h>
#define TICKRT_AMX_INT8_COMPILED 1
#endif

#include "infer/cpu/amx.hpp"
#include "infer/cpu/int8_isa.hpp"

namespace tickrt::infer::cpu::i8amx {
namespace {
#if defined(TICKRT_AMX_INT8_COMPILED)
struct alignas(64) TileCfg {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
bool cpu_has_amx_int8() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
  return (d >> 25) & 1u;   // AMX-INT8
}
#endif
}  // namespace

bool available() {
#if defined(TICKRT_AMX_INT8_COMPILED)
  // amx::available() made the OS request for the tile state (and honours TICKRT_AMX=0).
  static const bool ok = amx::available() && cpu_has_amx_int8();
  return ok;
#else
  return false;
#endif
}

// C[m0 .. m0 + 16*blocks) rows; returns the number of rows done (a multiple of 16).
int gemm_s32_blocks(int M, int N, int K, const int8_t* A, int lda, const std::byte* packed, int32_t* C, int ldc) {
#if defined(TICKRT_AMX_INT8_COMPILED)
  const int Mb = M / 16 * 16;
  if (Mb == 0) return 0;
  const int Kp = i8_kp(K), npan = i8_np(N) / 16;
  const int kfull = Kp / 64 * 64, ktail = Kp - kfull;
  const auto* Wp = reinterpret_cast<const int8_t*>(packed);
  const size_t pstride = static_cast<size_t>(Kp) * 16;
  TileCfg cfg;
  // 0-3: C (four panels per pass); 4: A, 5: B for full 64-k chunks; 6: A, 7: B for the tail chunk.
  for (int t = 0; t < 6; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  if (ktail) {
    cfg.rows[6] = 16;
    cfg.colsb[6] = static_cast<uint16_t>(ktail);
    cfg.rows[7] = static_cast<uint8_t>(ktail / 4);
    cfg.colsb[7] = 64;
  }
  _tile_loadconfig(&cfg);
#define TICKRT_AMX_STEP(ct, p)                                                                     \
  do {                                                                                            \
    const int8_t* wp = Wp + static_cast<size_t>(p) * pstride;                                     \
    for (int k = 0; k < kfull; k += 64) {                                                         \
      _tile_loadd(4, A + static_cast<size_t>(m0) * lda + k, lda);                                 \
      _tile_loadd(5, wp + static_cast<size_t>(k / 4) * 64, 64);                                   \
      _tile_dpbssd(ct, 4, 5);                                                                     \
    }                                                                                             \
    if (ktail) {                                                                                  \
      _tile_loadd(6, A + static_cast<size_t>(m0) * lda + kfull, lda);                             \
      _tile_loadd(7, wp + static_cast<size_t>(kfull / 4) * 64, 64);                               \
      _tile_dpbssd(ct, 6, 7);                                                                     \
    }                                                                                             \
  } while (0)
  for (int p0 = 0; p0 < npan; p0 += 4) {
    const int np = npan - p0 < 4 ? npan - p0 : 4;
    for (int m0 = 0; m0 < Mb; m0 += 16) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      TICKRT_AMX_STEP(0, p0);
      if (np > 1) TICKRT_AMX_STEP(1, p0 + 1);
      if (np > 2) TICKRT_AMX_STEP(2, p0 + 2);
      if (np > 3) TICKRT_AMX_STEP(3, p0 + 3);
      int32_t* c = C + static_cast<size_t>(m0) * ldc + p0 * 16;
      const size_t cs = static_cast<size_t>(ldc) * 4;
      _tile_stored(0, c, cs);
      if (np > 1) _tile_stored(1, c + 16, cs);
      if (np > 2) _tile_stored(2, c + 32, cs);
      if (np > 3) _tile_stored(3, c + 48, cs);
    }
  }
#undef TICKRT_AMX_STEP
  _tile_release();
  return Mb;
#else
  (void)M; (void)N; (void)K; (void)A; (void)lda; (void)packed; (void)C; (void)ldc;
  return 0;
#endif
}

}  // namespace tickrt::infer::cpu::i8amx
