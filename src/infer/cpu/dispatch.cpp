// infer/cpu/dispatch.cpp — ISA detection and the switch from the public API to the per-ISA builds.
//
// One switch per call (a predictable branch; no function-pointer tables, no virtual calls). The ISA is
// chosen once by the engine (detect_isa) and passed in; packed layouts depend on it.
#include <cpuid.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "infer/cpu/amx.hpp"
#include "infer/cpu/isa_dispatch.hpp"
#include "infer/cpu/kernels_isa.hpp"

namespace tickrt::infer::cpu {
namespace {

unsigned long long xgetbv0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

Isa detect_hw() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::scalar;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12);
  if (!osxsave || !avx || !fma) return Isa::scalar;
  const unsigned long long xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6) return Isa::scalar;  // OS saves XMM+YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::scalar;
  const bool avx2 = b & (1u << 5);
  if (!avx2) return Isa::scalar;
  const bool f = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  if (f && dq && bw && vl && (xcr0 & 0xE6) == 0xE6) return Isa::avx512;  // opmask + ZMM state saved
  return Isa::avx2;
}

Isa detect_uncached() {
  Isa best = detect_hw();
  if (const char* env = std::getenv("TICKRT_ISA")) {
    Isa cap = best;
    if (std::strcmp(env, "scalar") == 0) cap = Isa::scalar;
    else if (std::strcmp(env, "avx2") == 0) cap = Isa::avx2;
    else if (std::strcmp(env, "avx512") == 0) cap = Isa::avx512;
    if (static_cast<int>(cap) < static_cast<int>(best)) best = cap;
  }
  return best;
}

}  // namespace

Isa detect_isa() {
  static const Isa isa = [] {
    const Isa i = detect_uncached();
    if (i == Isa::avx512) (void)amx::available();  // asks the OS for tile state here, on the setup path
    return i;
  }();  // thread-safe static init; getenv read once
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "unknown";
}

int isa_width(Isa isa) {
  switch (isa) {
    case Isa::scalar: return 1;
    case Isa::avx2: return 8;
    case Isa::avx512: return 16;
  }
  return 1;
}

size_t gemm_packed_b_floats(Isa isa, int K, int N) { TICKRT_DISPATCH(gemm_packed_b_floats(K, N)); }
void gemm_pack_b(Isa isa, const float* B, int K, int N, bool trans_b, float* packed) {
  TICKRT_DISPATCH(gemm_pack_b(B, K, N, trans_b, packed));
}
void gemm_packed(Isa isa, int M, int N, int K, const float* A, int lda, const float* packed_b,
                 const float* bias, Epilogue epi, float* C, int ldc) {
  TICKRT_DISPATCH(gemm_packed(M, N, K, A, lda, packed_b, bias, epi, C, ldc));
}
void gemm(Isa isa, bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  TICKRT_DISPATCH(gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
}
size_t lstm_packed_floats(Isa isa, int I, int H) { TICKRT_DISPATCH(lstm_packed_floats(I, H)); }
void lstm_pack(Isa isa, int I, int H, const float* W, const float* R, const float* Wb, const float* Rb,
               float* packed) {
  TICKRT_DISPATCH(lstm_pack(I, H, W, R, Wb, Rb, packed));
}
size_t lstm_workspace_floats(Isa isa, LstmDims d) { TICKRT_DISPATCH(lstm_workspace_floats(d)); }
void lstm_forward(Isa isa, LstmDims d, const float* packed, const float* x, int layout, const float* h0,
                  const float* c0, float* y, float* hT, float* cT, float* workspace) {
  TICKRT_DISPATCH(lstm_forward(d, packed, x, layout, h0, c0, y, hT, cT, workspace));
}
void lstm_forward_progress(Isa isa, LstmDims d, const float* packed, const float* x, int layout, const float* h0,
                           const float* c0, float* y, float* hT, float* cT, float* workspace, std::atomic<int>* progress,
                           int every) {
  TICKRT_DISPATCH(lstm_forward_progress(d, packed, x, layout, h0, c0, y, hT, cT, workspace, progress, every));
}
size_t additive_attention_packed_floats(Isa isa, int D, int A) {
  TICKRT_DISPATCH(additive_attention_packed_floats(D, A));
}
void additive_attention_pack(Isa isa, int D, int A, const float* W, const float* bw, const float* v,
                             float bv, float* packed) {
  TICKRT_DISPATCH(additive_attention_pack(D, A, W, bw, v, bv, packed));
}
size_t additive_attention_workspace_floats(Isa isa, int B, int T, int D, int A) {
  TICKRT_DISPATCH(additive_attention_workspace_floats(B, T, D, A));
}
void additive_attention(Isa isa, int B, int T, int D, int A, const float* packed, const float* h,
                        int layout, float* ctx, float* weights_out, float* workspace) {
  TICKRT_DISPATCH(additive_attention(B, T, D, A, packed, h, layout, ctx, weights_out, workspace));
}
void additive_attention_scores(Isa isa, int T, int D, int A, const float* packed, const float* h, float* s,
                               float* workspace) {
  TICKRT_DISPATCH(additive_attention_scores(T, D, A, packed, h, s, workspace));
}
void attention_context(Isa isa, int T, int D, const float* s, const float* h, float* ctx, float* workspace) {
  TICKRT_DISPATCH(attention_context(T, D, s, h, ctx, workspace));
}
size_t sdpa_workspace_floats(Isa isa, int Tq, int Tk) { TICKRT_DISPATCH(sdpa_workspace_floats(Tq, Tk)); }
void sdpa(Isa isa, int BH, int Tq, int Tk, int d, float scale, const float* q, const float* k,
          const float* v, float* out, float* workspace) {
  TICKRT_DISPATCH(sdpa(BH, Tq, Tk, d, scale, q, k, v, out, workspace));
}
void softmax_rows(Isa isa, int rows, int n, const float* x, float* y) {
  TICKRT_DISPATCH(softmax_rows(rows, n, x, y));
}
size_t lstm_pre_floats(Isa isa, int I, int H) { TICKRT_DISPATCH(lstm_pre_floats(I, H)); }
void lstm_recurrent_pre(Isa isa, int I, int H, const float* packed, const float* h, float* pre) {
  TICKRT_DISPATCH(lstm_recurrent_pre(I, H, packed, h, pre));
}
void lstm_step_pre(Isa isa, int I, int H, const float* packed, const float* x, const float* pre, const float* c0, float* y,
                   float* hT, float* cT, float* ws) {
  TICKRT_DISPATCH(lstm_step_pre(I, H, packed, x, pre, c0, y, hT, cT, ws));
}
float vector_keepalive(Isa isa, int iters) {
  TICKRT_DISPATCH(vector_keepalive(iters));
}
void layernorm_rows(Isa isa, int rows, int n, const float* x, const float* gamma, const float* beta,
                    float eps, float* y) {
  TICKRT_DISPATCH(layernorm_rows(rows, n, x, gamma, beta, eps, y));
}
void activation(Isa isa, Act act, float alpha, size_t n, const float* x, float* y) {
  TICKRT_DISPATCH(activation(act, alpha, n, x, y));
}

}  // namespace tickrt::infer::cpu
