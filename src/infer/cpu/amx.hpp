// infer/cpu/amx.hpp — internal: AMX-BF16 GEMM with a three-way BF16 split (FP32 accuracy), see
// amx_avx512.cpp. Called only by the avx512 build of lstm_forward (input projection) when available().
#pragma once

#include <cstddef>

namespace tickrt::infer::cpu::amx {
// AMX-BF16 present and the OS granted the tile state (asked once; detect_isa() calls this so the
// request happens on the setup path).
bool available();
// Packed B: for each 32-row k chunk and 16-column tile, three 1 KiB BF16 tiles (hi, mid, lo) in the
// pair-interleaved layout TDPBF16PS reads. get(ctx, k, n) returns B[k][n].
size_t packed_floats(int K, int N);
void pack_b(int K, int N, float (*get)(const void*, int, int), const void* ctx, float* packed);
size_t workspace_floats(int M, int K);
// C[M,N] = A[M,K] @ B + bias[N] (bias nullable). N must be a multiple of 64 (4 column tiles per pass;
// the LSTM's 4*Hp always is on avx512). ws: workspace_floats(M, K) floats, 64-byte aligned.
void gemm(int M, int N, int K, const float* A, int lda, const float* packed, const float* bias, float* C,
          int ldc, float* ws);
}  // namespace tickrt::infer::cpu::amx
