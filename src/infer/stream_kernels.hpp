// infer/stream_kernels.hpp — small per-row kernels of streaming step graphs (ops/stream_ops.cpp).
//
// Who calls: the tickrt.WeightedSum / tickrt.RingWrite kernels of a streaming step graph, per step
// (hot path: no allocation, no exceptions, single-threaded). The Isa is the engine's (cpu::detect_isa
// at build time); every ISA variant lives in its own file compiled with its own flags
// (stream_kernels_{scalar,avx2,avx512}.cpp, one source: stream_kernels_impl.hpp), like infer/cpu.
//
// Why not cpu::gemm: a streaming step multiplies ONE row (1 x K) by a run-time K x D matrix (the
// attention context over the ring: K = 64 past outputs of D = 64). The general GEMM's blocking and
// packing for run-time B cost ~0.6 us for that (docs/BENCHMARKS.md ## streaming, profile); a row
// times a matrix is K broadcast-FMAs over D/W vectors, ~0.05-0.1 us from L1.
// Precision: FP32 FMA accumulation, two partial sums per column (even / odd k) added at the end; the
// order differs from cpu::gemm's, so results agree to float rounding, not bitwise.
#pragma once

#include "infer/cpu/kernels.hpp"

namespace tickrt::infer::stream_kernels {

// out[d] = sum_k a[k] * v[k * ldv + d] for d < D. K, D >= 1; a, v, out may be unaligned; out must not
// overlap a or v.
void row_times_matrix(cpu::Isa, int K, int D, const float* a, const float* v, int ldv, float* out) noexcept;

}  // namespace tickrt::infer::stream_kernels
