// infer/stream_kernels_impl.hpp — internal: the body of stream_kernels.hpp, included once per ISA by
// stream_kernels_<isa>.cpp (each defines TICKRT_KERNELS_ISA_<ISA> and TICKRT_ISA_NS first and is compiled
// with that ISA's flags). Everything is in tickrt::infer::stream_kernels::TICKRT_ISA_NS, so nothing built
// with wide-vector flags can be picked by the linker for another ISA (see infer/cpu/simd.hpp).
#pragma once

#include "infer/cpu/simd.hpp"

namespace tickrt::infer::stream_kernels::TICKRT_ISA_NS {

using cpu::V;

void row_times_matrix(int K, int D, const float* a, const float* v, int ldv, float* out) noexcept {
  constexpr int W = V::W;
  int d0 = 0;
  // 4 vectors of columns at a time, two partial sums each (even / odd k): 8 independent FMA chains,
  // enough to hide the FMA latency; each k reads one 4W-float run of row k (contiguous).
  for (; d0 + 4 * W <= D; d0 += 4 * W) {
    typename V::R e0 = V::zero(), e1 = V::zero(), e2 = V::zero(), e3 = V::zero();
    typename V::R o0 = V::zero(), o1 = V::zero(), o2 = V::zero(), o3 = V::zero();
    int k = 0;
    for (; k + 2 <= K; k += 2) {
      const float* r0 = v + static_cast<std::ptrdiff_t>(k) * ldv + d0;
      const float* r1 = r0 + ldv;
      const typename V::R s0 = V::set1(a[k]), s1 = V::set1(a[k + 1]);
      e0 = V::fmadd(s0, V::loadu(r0), e0);
      e1 = V::fmadd(s0, V::loadu(r0 + W), e1);
      e2 = V::fmadd(s0, V::loadu(r0 + 2 * W), e2);
      e3 = V::fmadd(s0, V::loadu(r0 + 3 * W), e3);
      o0 = V::fmadd(s1, V::loadu(r1), o0);
      o1 = V::fmadd(s1, V::loadu(r1 + W), o1);
      o2 = V::fmadd(s1, V::loadu(r1 + 2 * W), o2);
      o3 = V::fmadd(s1, V::loadu(r1 + 3 * W), o3);
    }
    if (k < K) {
      const float* r0 = v + static_cast<std::ptrdiff_t>(k) * ldv + d0;
      const typename V::R s0 = V::set1(a[k]);
      e0 = V::fmadd(s0, V::loadu(r0), e0);
      e1 = V::fmadd(s0, V::loadu(r0 + W), e1);
      e2 = V::fmadd(s0, V::loadu(r0 + 2 * W), e2);
      e3 = V::fmadd(s0, V::loadu(r0 + 3 * W), e3);
    }
    V::storeu(out + d0, V::add(e0, o0));
    V::storeu(out + d0 + W, V::add(e1, o1));
    V::storeu(out + d0 + 2 * W, V::add(e2, o2));
    V::storeu(out + d0 + 3 * W, V::add(e3, o3));
  }
  // The rest of the columns one (possibly partial) vector at a time.
  for (; d0 < D; d0 += W) {
    const int n = D - d0 < W ? D - d0 : W;
    typename V::R e = V::zero(), o = V::zero();
    int k = 0;
    for (; k + 2 <= K; k += 2) {
      const float* r0 = v + static_cast<std::ptrdiff_t>(k) * ldv + d0;
      e = V::fmadd(V::set1(a[k]), V::load_partial(r0, n), e);
      o = V::fmadd(V::set1(a[k + 1]), V::load_partial(r0 + ldv, n), o);
    }
    if (k < K) e = V::fmadd(V::set1(a[k]), V::load_partial(v + static_cast<std::ptrdiff_t>(k) * ldv + d0, n), e);
    V::store_partial(out + d0, V::add(e, o), n);
  }
}

}  // namespace tickrt::infer::stream_kernels::TICKRT_ISA_NS
