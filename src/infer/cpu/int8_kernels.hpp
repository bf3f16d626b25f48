// infer/cpu/int8_kernels.hpp — INT8 and FP16 weight kernels for the engine's reduced-precision ops.
//
// Who calls: src/infer/quant (packing, at engine build time: setup path) and src/infer/ops/quant_ops.cpp
// (run time: hot path; no allocation, no exceptions, no locks; all scratch is the caller's workspace).
//
// INT8 scheme (symmetric, no zero points):
//   * weights: per output channel n, s_w[n] = max_k |W[n,k]| / 127, q = round(W / s_w) in [-127, 127];
//   * activations: per tensor, s_x = threshold / 127 (threshold from calibration, quant/calibrator.hpp),
//     q = clamp(round_half_even(x / s_x), -127, 127);
//   * products and sums in int32, exact (no saturation anywhere: see the AVX2 note below), then one
//     FP32 multiply by s_x * s_w[n] ("dequantize"), FP32 bias and activation.
// Packed weight blob (the same bytes for every ISA, so an engine file does not depend on VNNI):
//   panels of 16 output columns; panel p = [Kp/4][16][4] int8 (4 consecutive k of one column form one
//   32-bit lane: the operand shape of VPDPBUSD), Kp = K rounded up to 4, N padded to Np = 16*panels
//   with zero columns; then int32 colsum[Np] (sum_k q[n,k], for the u8 offset below); then
//   float s_w[Np]. Sections start on 64-byte boundaries.
// ISA variants (chosen once, int8_isa()): AVX-512 VNNI (VPDPBUSD zmm), AVX-VNNI (VPDPBUSD ymm, VEX),
//   AVX2 (VPMADDUBSW + VPMADDWD), scalar. VPDPBUSD multiplies unsigned by signed bytes, so activations
//   are offset to u8 (q + 128) and 128 * colsum[n] is subtracted once per output. AVX2 has no such
//   instruction; VPMADDUBSW saturates to int16, which |a| <= 127 (VPSIGNB moves a's sign onto w) keeps
//   out of reach: 2 * 127 * 127 = 32258 < 32767. Every variant returns the same int32 (tested).
//
// FP16 scheme: weights stored IEEE binary16 (round to nearest even), converted to FP32 in registers
//   (VCVTPH2PS: F16C for ymm, AVX-512F for zmm) and multiplied/accumulated in FP32. Activations stay
//   FP32 (they live in L1 and feed a serial recurrence; converting them would add latency on the
//   critical path and save no memory traffic that matters). AVX512-FP16 arithmetic is not used: it
//   accumulates in FP16. Packed FP16 blob: panels of 16 columns, [K][16] halves each, zero-padded.
//
// Limits: K, N >= 1; M * Np must fit int32; activations pointers need no alignment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "infer/cpu/kernels.hpp"

namespace tickrt::infer::cpu {

enum class Int8Isa : uint8_t { scalar = 0, avx2 = 1, avx_vnni = 2, avx512_vnni = 3 };
// Best INT8 path for an engine whose float ISA is `cap` (never above it: TICKRT_ISA caps both).
Int8Isa int8_isa(Isa cap);
const char* int8_isa_name(Int8Isa);
// Whether this CPU (and the TICKRT_ISA cap) can run that INT8 path (tests run every available one).
bool int8_isa_available(Int8Isa);
// Whether the CPU has AVX512-FP16 (reported only; see the header comment).
bool cpu_has_avx512fp16();

// ---- INT8 ----------------------------------------------------------------------------------------
inline constexpr int kI8Panel = 16;
inline int i8_kp(int K) { return (K + 3) / 4 * 4; }
inline int i8_np(int N) { return (N + 15) / 16 * 16; }
size_t i8_packed_bytes(int K, int N);
// Quantizes W [N,K] (row n = output channel n; trans_b semantics) per channel and packs it.
// W_kn (if non-null instead) gives W as [K,N] row-major (a MatMul weight).
void i8_pack_weights(const float* W_nk, const float* W_kn, int K, int N, std::byte* packed);
inline const int32_t* i8_colsum(const std::byte* packed, int K, int N) {
  return reinterpret_cast<const int32_t*>(packed + static_cast<size_t>(i8_np(N)) * i8_kp(K));
}
inline const float* i8_wscale(const std::byte* packed, int K, int N) {
  return reinterpret_cast<const float*>(packed + static_cast<size_t>(i8_np(N)) * i8_kp(K) + 4 * static_cast<size_t>(i8_np(N)));
}
// Dequantized weight W[n,k] (tests, sensitivity reports).
float i8_weight(const std::byte* packed, int K, int N, int n, int k);

// q[m, 0..Kp) = quantize(x[m, 0..K) * inv_scale), zero padded to Kp; rows ldq bytes apart.
void i8_quantize_rows(Int8Isa, int M, int K, const float* x, int ldx, float inv_scale, int8_t* q, int ldq);
// C[m, n] = sum_k A[m, k] * W[n, k] exactly in int32, for n < Np (padding columns give 0).
// A: M rows of Kp int8 (lda bytes apart, padding zero), entries in [-127, 127].
void i8_gemm_s32(Int8Isa, int M, int N, int K, const int8_t* A, int lda, const std::byte* packed, int32_t* C, int ldc);

// INT8 LSTM (one forward layer, ONNX gates i, o, f, c; sigmoid/tanh/tanh). h0/c0 [B,H] (nullable = zero
// initial state; streaming models pass their state, infer/stream.hpp).
// Wq: packed [4H, I] (input weights), Rq: packed [4H, H]; bias [4H] = Wb + Rb (FP32).
// x is quantized with x_scale (calibrated); h with the fixed scale 1/127 (|h| < 1 always: h = o tanh(c)).
// Gate pre-activations, c, h and all nonlinearities are FP32.
size_t i8_lstm_workspace_bytes(LstmDims d);
void i8_lstm_forward(Int8Isa, LstmDims d, const std::byte* Wq, const std::byte* Rq, const float* bias, float x_scale,
                     const float* x, int layout, float* y, float* hT, float* cT, std::byte* workspace,
                     const float* h0 = nullptr, const float* c0 = nullptr);

// INT8 GEMM with FP32 output: C[M,N] = epi(dequant(quant(A) @ W^T) + bias). Workspace: i8_gemm_workspace_bytes.
size_t i8_gemm_workspace_bytes(int M, int K, int N);
void i8_gemm_f32(Int8Isa, int M, int N, int K, const float* A, int lda, float a_scale, const std::byte* packed,
                 const float* bias, Epilogue epi, float* C, int ldc, std::byte* workspace);

// ---- FP16 ----------------------------------------------------------------------------------------
uint16_t f32_to_f16(float);   // round to nearest even, overflow to inf, subnormals kept
float f16_to_f32(uint16_t);
size_t f16_packed_bytes(int K, int N);
void f16_pack_weights(const float* W_nk, const float* W_kn, int K, int N, std::byte* packed);
// C[m, n] = sum_k A[m,k] * W[n,k] (+ bias[n]) in FP32, then the epilogue; for n < N.
void f16_gemm(Isa, int M, int N, int K, const float* A, int lda, const std::byte* packed, const float* bias,
              Epilogue epi, float* C, int ldc);
size_t f16_lstm_workspace_bytes(LstmDims d);
void f16_lstm_forward(Isa, LstmDims d, const std::byte* Wp, const std::byte* Rp, const float* bias, const float* x,
                      int layout, float* y, float* hT, float* cT, std::byte* workspace,
                      const float* h0 = nullptr, const float* c0 = nullptr);   // h0/c0 as i8_lstm_forward

}  // namespace tickrt::infer::cpu
