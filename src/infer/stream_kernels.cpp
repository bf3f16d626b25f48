// infer/stream_kernels.cpp — Isa dispatch of stream_kernels.hpp (the variants: stream_kernels_<isa>.cpp).
#include "infer/stream_kernels.hpp"

namespace tickrt::infer::stream_kernels {
namespace scalar { void row_times_matrix(int K, int D, const float* a, const float* v, int ldv, float* out) noexcept; }
namespace avx2 { void row_times_matrix(int K, int D, const float* a, const float* v, int ldv, float* out) noexcept; }
namespace avx512 { void row_times_matrix(int K, int D, const float* a, const float* v, int ldv, float* out) noexcept; }

void row_times_matrix(cpu::Isa isa, int K, int D, const float* a, const float* v, int ldv, float* out) noexcept {
  switch (isa) {
    case cpu::Isa::avx512: avx512::row_times_matrix(K, D, a, v, ldv, out); return;
    case cpu::Isa::avx2: avx2::row_times_matrix(K, D, a, v, ldv, out); return;
    case cpu::Isa::scalar: break;
  }
  scalar::row_times_matrix(K, D, a, v, ldv, out);
}

}  // namespace tickrt::infer::stream_kernels
