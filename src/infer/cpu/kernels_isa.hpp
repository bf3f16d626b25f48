// infer/cpu/kernels_isa.hpp — internal: the per-ISA entry points behind kernels.hpp.
//
// kernels_impl.inl defines these once per ISA namespace (scalar, avx2, avx512); dispatch.cpp is the only
// caller and picks the namespace from the Isa argument. Same signatures as kernels.hpp minus the Isa.
#pragma once

#include "infer/cpu/kernels.hpp"

#define TICKRT_DECLARE_ISA_KERNELS(ns)                                                               \
  namespace tickrt::infer::cpu::ns {                                                                 \
  size_t gemm_packed_b_floats(int K, int N);                                                         \
  void gemm_pack_b(const float* B, int K, int N, bool trans_b, float* packed);                       \
  void gemm_packed(int M, int N, int K, const float* A, int lda, const float* packed_b,              \
                   const float* bias, Epilogue epi, float* C, int ldc);                              \
  void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,             \
            const float* B, int ldb, float beta, float* C, int ldc);                                 \
  size_t lstm_packed_floats(int I, int H);                                                           \
  void lstm_pack(int I, int H, const float* W, const float* R, const float* Wb, const float* Rb,     \
                 float* packed);                                                                     \
  size_t lstm_workspace_floats(LstmDims d);                                                          \
  void lstm_forward(LstmDims d, const float* packed, const float* x, int layout, const float* h0,    \
                    const float* c0, float* y, float* hT, float* cT, float* ws);                     \
  void lstm_forward_progress(LstmDims d, const float* packed, const float* x, int layout, const float* h0, \
                             const float* c0, float* y, float* hT, float* cT, float* ws,             \
                             std::atomic<int>* progress, int every);                                 \
  size_t lstm_pre_floats(int I, int H);                                                              \
  void lstm_recurrent_pre(int I, int H, const float* packed, const float* h, float* pre);            \
  void lstm_step_pre(int I, int H, const float* packed, const float* x, const float* pre,            \
                     const float* c0, float* y, float* hT, float* cT, float* ws);                    \
  size_t additive_attention_packed_floats(int D, int A);                                             \
  void additive_attention_pack(int D, int A, const float* W, const float* bw, const float* v,        \
                               float bv, float* packed);                                             \
  size_t additive_attention_workspace_floats(int B, int T, int D, int A);                            \
  void additive_attention(int B, int T, int D, int A, const float* packed, const float* h,           \
                          int layout, float* ctx, float* weights_out, float* ws);                    \
  void additive_attention_scores(int T, int D, int A, const float* packed, const float* h, float* s, \
                                 float* ws);                                                         \
  void attention_context(int T, int D, const float* s, const float* h, float* ctx, float* ws);       \
  size_t sdpa_workspace_floats(int Tq, int Tk);                                                      \
  void sdpa(int BH, int Tq, int Tk, int d, float scale, const float* q, const float* k,              \
            const float* v, float* out, float* ws);                                                  \
  void softmax_rows(int rows, int n, const float* x, float* y);                                      \
  void layernorm_rows(int rows, int n, const float* x, const float* gamma, const float* beta,        \
                      float eps, float* y);                                                          \
  void activation(Act act, float alpha, size_t n, const float* x, float* y);                         \
  float vector_keepalive(int iters);                                                                 \
  }

TICKRT_DECLARE_ISA_KERNELS(scalar)
TICKRT_DECLARE_ISA_KERNELS(avx2)
TICKRT_DECLARE_ISA_KERNELS(avx512)
