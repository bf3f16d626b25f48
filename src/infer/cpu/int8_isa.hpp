// infer/cpu/int8_isa.hpp — internal: the per-ISA entry points behind int8_kernels.hpp.
// int8_fp16_impl.inl defines them once per namespace (i8_scalar, i8_avx2, i8_avxvnni, i8_avx512);
// int8_dispatch.cpp is the only caller. Same signatures as int8_kernels.hpp minus the ISA argument.
#pragma once

#include "infer/cpu/int8_kernels.hpp"

#define TICKRT_DECLARE_I8_KERNELS(ns)                                                                        \
  namespace tickrt::infer::cpu::ns {                                                                         \
  void i8_quantize_rows(int M, int K, const float* x, int ldx, float inv_scale, int8_t* q, int ldq);          \
  void i8_gemm_s32(int M, int N, int K, const int8_t* A, int lda, const std::byte* packed, int32_t* C,        \
                   int ldc);                                                                                 \
  size_t i8_lstm_workspace_bytes(LstmDims d);                                                                \
  void i8_lstm_forward(LstmDims d, const std::byte* Wq, const std::byte* Rq, const float* bias,               \
                       float x_scale, const float* x, int layout, float* y, float* hT, float* cT,            \
                       std::byte* ws, const float* h0, const float* c0);                                     \
  size_t i8_gemm_workspace_bytes(int M, int K, int N);                                                       \
  void i8_gemm_f32(int M, int N, int K, const float* A, int lda, float a_scale, const std::byte* packed,      \
                   const float* bias, Epilogue epi, float* C, int ldc, std::byte* ws);                       \
  void f16_gemm(int M, int N, int K, const float* A, int lda, const std::byte* packed, const float* bias,     \
                Epilogue epi, float* C, int ldc);                                                            \
  size_t f16_lstm_workspace_bytes(LstmDims d);                                                               \
  void f16_lstm_forward(LstmDims d, const std::byte* Wp, const std::byte* Rp, const float* bias,             \
                        const float* x, int layout, float* y, float* hT, float* cT, std::byte* ws,           \
                        const float* h0, const float* c0);                                                   \
  }

TICKRT_DECLARE_I8_KERNELS(i8_scalar)
TICKRT_DECLARE_I8_KERNELS(i8_avx2)
TICKRT_DECLARE_I8_KERNELS(i8_avxvnni)
TICKRT_DECLARE_I8_KERNELS(i8_avx512)

// AMX-INT8 (int8_amx.cpp): whole 16-row blocks of i8_gemm_s32, used by the AVX-512 VNNI build when the CPU
// and OS provide AMX tiles (TICKRT_AMX=0 turns it off). Returns the rows done (M rounded down to 16).
namespace tickrt::infer::cpu::i8amx {
bool available();
int gemm_s32_blocks(int M, int N, int K, const int8_t* A, int lda, const std::byte* packed, int32_t* C, int ldc);
}  // namespace tickrt::infer::cpu::i8amx
