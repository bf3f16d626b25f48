// infer/cpu/kernels.hpp — tickrt's optimized single-threaded CPU math kernels.
//
// Who calls: the inference engine (src/infer/) for its fused hot ops, at two moments:
//   * engine build time (setup path): detect_isa() once, then *_pack() every weight into a flat,
//     64-byte aligned float blob whose layout is fully determined by (isa, dims) — no pointers
//     inside — so the engine file can store it verbatim and mmap it later. Sizes come from the
//     matching *_packed_floats(); scratch sizes from *_workspace_floats().
//   * run time (hot path, per inference): the compute functions. They never allocate, never throw,
//     take no locks, and are single-threaded; all scratch memory is the caller's `workspace`.
//
// ISA variants: every kernel exists as scalar (baseline x86-64 / any CPU), AVX2+FMA and AVX-512
// (F/BW/DQ/VL). Each lives in its own translation unit compiled with its own flags
// (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512.cpp, all instantiating kernels_impl.inl).
// The `Isa` argument picks the variant; it must be <= detect_isa() and equal to the Isa used to
// pack the weights that are passed in (packed layouts differ by ISA). On avx512, lstm_forward's input
// projection runs on AMX tiles when the CPU and OS provide them (amx_avx512.cpp; the OS permission is
// requested inside detect_isa(); env TICKRT_AMX=0 disables it).
//
// Precision: FP32 throughout, accumulation in FP32 (the AMX path splits each operand into three BF16
// parts and keeps the six leading products: error ~2^-26 relative, tested to 1e-6 of sum|a||b|). exp/tanh/sigmoid are vectorised polynomial
// evaluations (Cephes-style) targeting max relative error ~1e-6 or better, saturating without
// NaN/Inf for large |x|. Results match a double-precision reference within ~1e-5 relative
// for the sizes used by tickrt's models (K <= a few thousand). Summation order differs between
// ISAs (and, for lstm_forward at batch 1, between time steps), so results are not bitwise equal
// across ISAs.
//
// Pointers: no pointer needs any particular alignment for correctness (all vector loads/stores are
// the unaligned forms); packed blobs and workspaces should be 64-byte aligned so that panel rows
// start on cache lines (one line per 16 floats instead of two). Strides (lda, ldb, ldc) are in floats.
// Limits: dimensions are int and must be >= 1 unless stated; products like T*B*4H must fit int32.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tickrt::infer::cpu {

enum class Isa : uint8_t { scalar = 0, avx2 = 1, avx512 = 2 };

// Best ISA supported by this CPU and OS (cpuid + xgetbv: the OS must save YMM / ZMM state).
// The environment variable TICKRT_ISA=scalar|avx2|avx512 caps it (never raises it). Computed once
// and cached (thread-safe static); cheap to call afterwards.
Isa detect_isa();
const char* isa_name(Isa);
// Floats per vector register for the ISA (1, 8, 16).
int isa_width(Isa);

enum class Act : uint8_t { none, relu, leaky_relu, tanh, sigmoid };
struct Epilogue {
  Act act = Act::none;
  float alpha = 0.01f;  // slope for x < 0 with leaky_relu
};

// Alignment (bytes) of every packed blob and the recommended alignment of workspaces.
inline constexpr size_t kPackAlign = 64;

// ---- GEMM with a pre-packed B (weights) -----------------------------------------------------------
// Packed layout: column panels of NB = 4*W columns (W = isa_width); panel p holds rows k = 0..K-1 of
// columns [p*NB, p*NB+NB) contiguously (K*NB floats), zero-padded past N (see kernels_impl.inl).
size_t gemm_packed_b_floats(Isa, int K, int N);
// B is [K,N] row-major, or [N,K] if trans_b (i.e. an ONNX Gemm/MatMul weight W[N,K] with transB=1).
void gemm_pack_b(Isa, const float* B, int K, int N, bool trans_b, float* packed);
// C[M,N] = epi(A[M,K] @ B + bias[N]); bias nullable. Any M >= 1 (register-blocked micro-kernel).
void gemm_packed(Isa, int M, int N, int K, const float* A, int lda, const float* packed_b,
                 const float* bias, Epilogue, float* C, int ldc);

// ---- Plain GEMM for run-time operands -----------------------------------------------------------
// C[M,N] = alpha * op(A) @ op(B) + beta * C, op(A) [M,K], op(B) [K,N]. A is [M,K] (lda) or, if
// trans_a, [K,M]; B is [K,N] (ldb) or, if trans_b, [N,K]. beta == 0 never reads C (NaN-safe).
void gemm(Isa, bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

// ---- LSTM (one direction, one layer), ONNX semantics -------------------------------------------
// Gates in ONNX order (i, o, f, c); f/g/h = sigmoid/tanh/tanh; no peepholes, no clip, forward.
// W [4H,I], R [4H,H], Wb, Rb [4H] (nullable = zeros).
//   c_t = f*c_{t-1} + i*g,  h_t = o*tanh(c_t),  gates = x_t W^T + h_{t-1} R^T + Wb + Rb.
// Packing: the gate columns are permuted so that one panel holds the i, o, f, c gates of the same
// W hidden units, so the gate math is fused into the recurrent matvec; H is padded to a multiple of
// W with zero weights. The blob holds, each section starting at a multiple of 16 floats: W^T as gemm
// panels [I][4Hp]; R^T in chunks of P1 panels (P1 = 4 for avx512/scalar, 3 for avx2), chunk c holding
// panels c*P1.. as [H][cnt*NB] (k-major across its panels, so one recurrent pass over R is one
// contiguous stream) at offset c*P1*H*NB; then the summed, permuted bias Wb+Rb [4Hp]; avx512 blobs
// then carry W^T once more as AMX BF16 tiles split three ways (hi, mid, lo; see amx.hpp), used for the
// input projection when the CPU and OS provide AMX (same FP32-level accuracy, ~1.5x faster on
// lstm_attn_s's projections, docs/BENCHMARKS.md ## kernels; TICKRT_AMX=0 turns it off). The layout does not depend on AMX presence.
// Inside the cell, tanh uses the exp form only (absolute error <= ~2e-7; the cell's sums need
// absolute accuracy); activation() keeps the ~1e-6-relative tanh.
struct LstmDims {
  int T, B, I, H;
};
size_t lstm_packed_floats(Isa, int I, int H);
void lstm_pack(Isa, int I, int H, const float* W, const float* R, const float* Wb, const float* Rb,
               float* packed);
size_t lstm_workspace_floats(Isa, LstmDims);
// x layout: 0 = [T,B,I] (ONNX default), 1 = [B,T,I] (batch_first). y (nullable) has the same
// layout with H. h0/c0 [B,H] nullable (zeros); hT/cT [B,H] nullable. x and y must not overlap.
// Time: the input projection for all T*B rows is one GEMM up front; then per step a fused
// recurrent tile (h_prev @ R^T + projection, cell update in registers).
void lstm_forward(Isa, LstmDims, const float* packed, const float* x, int layout, const float* h0,
                  const float* c0, float* y, float* hT, float* cT, float* workspace);
// The same computation (same results), for a layer pipelined across threads (ops/fused.cpp, intra-op threads):
// after every `every` steps, and after the last, the number of finished steps is stored into *progress (release
// order), so another thread that reads *progress (acquire) may read y's rows of those steps while this runs.
void lstm_forward_progress(Isa, LstmDims, const float* packed, const float* x, int layout, const float* h0,
                           const float* c0, float* y, float* hT, float* cT, float* workspace,
                           std::atomic<int>* progress, int every);

// A streaming step (T = 1, B = 1) in two halves, so that the half that depends only on the previous state runs
// between ticks (infer/stream.hpp StreamContext::prepare):
//   lstm_recurrent_pre: pre [lstm_pre_floats] = (Wb + Rb) + h @ R^T, gate-permuted, from h [H] (the previous h);
//   lstm_step_pre:      the step from pre: + x @ W^T, the cell with c0 [H] (nullable = zeros) -> y, hT, cT [H]
//                       (each nullable); ws: lstm_workspace_floats({1, 1, I, H}).
// lstm_forward at T = 1, B = 1 runs the same operations in the same order: the results are bitwise equal.
size_t lstm_pre_floats(Isa, int I, int H);
void lstm_recurrent_pre(Isa, int I, int H, const float* packed, const float* h, float* pre);
void lstm_step_pre(Isa, int I, int H, const float* packed, const float* x, const float* pre, const float* c0, float* y,
                   float* hT, float* cT, float* ws);

// ---- Additive (Bahdanau) attention over time ----------------------------------------------------
// For each b: s_t = v . tanh(W h_t + bw) + bv, a = softmax_t(s), ctx[b,:] = sum_t a_t h[b,t,:].
// h is [B,T,D] (layout 1) or [T,B,D] (layout 0); W [A,D], bw [A] (nullable), v [A].
size_t additive_attention_packed_floats(Isa, int D, int A);
void additive_attention_pack(Isa, int D, int A, const float* W, const float* bw, const float* v,
                             float bv, float* packed);
size_t additive_attention_workspace_floats(Isa, int B, int T, int D, int A);
// ctx [B,D]; weights_out (nullable) [B,T] receives the softmax weights a.
void additive_attention(Isa, int B, int T, int D, int A, const float* packed, const float* h,
                        int layout, float* ctx, float* weights_out, float* workspace);
// The same computation in two halves, for one sample (h [T, D] rows contiguous): scores s[t] =
// v . tanh(W h_t + bw) + bv (workspace: additive_attention_workspace_floats(1, T, D, A)), then
// ctx = sum_t softmax(s)_t h_t (workspace: T floats). Bitwise the fused kernel's result at B = 1
// (infer/window_prefix.hpp scores the first T-1 rows ahead of the tick, the last one on it).
void additive_attention_scores(Isa, int T, int D, int A, const float* packed, const float* h, float* s, float* workspace);
void attention_context(Isa, int T, int D, const float* s, const float* h, float* ctx, float* workspace);

// ---- Scaled dot-product attention ---------------------------------------------------------------
// For each of BH (batch*head) slices: out[Tq,d] = softmax(scale * q k^T) v; q [BH,Tq,d],
// k, v [BH,Tk,d], out [BH,Tq,d], all contiguous. No mask (tickrt's transformer_s is unmasked).
size_t sdpa_workspace_floats(Isa, int Tq, int Tk);
void sdpa(Isa, int BH, int Tq, int Tk, int d, float scale, const float* q, const float* k,
          const float* v, float* out, float* workspace);

// ---- Row-wise and elementwise ops ---------------------------------------------------------------
// y[r,:] = softmax(x[r,:]) over n contiguous floats per row; in place allowed.
void softmax_rows(Isa, int rows, int n, const float* x, float* y);

// ---- Keeping the vector units ready between ticks ------------------------------------------------
// `iters` x 8 independent full-width FMAs (avx512: 512-bit; avx2: 256-bit; scalar: nothing), registers only, no
// memory. Why: after ~1 ms without heavy vector work a core (measured on the Ice Lake VM, docs/STREAMING.md
// "Keep-warm") runs the next LSTM step ~1.7x slower than hot, for longer than one step, although its weights were
// still in cache and its clock unchanged; a burst of ~100 ns every ~20 us of idleness keeps it at the hot figure.
// Returns a value derived from the work (the caller discards it; it keeps the compiler from dropping the loop).
float vector_keepalive(Isa, int iters);
// y = (x - mean) / sqrt(var + eps) * gamma + beta per row (biased variance, like ONNX/PyTorch);
// gamma/beta nullable (1 / 0); in place allowed.
void layernorm_rows(Isa, int rows, int n, const float* x, const float* gamma, const float* beta,
                    float eps, float* y);
// y = act(x) elementwise; in place allowed.
void activation(Isa, Act, float alpha, size_t n, const float* x, float* y);

}  // namespace tickrt::infer::cpu
