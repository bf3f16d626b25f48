// tickrt's fused ops (domain "tickrt"), produced by the fusion passes; each wraps an optimized kernel of
// infer/cpu with its weights pre-packed at build time for the engine's ISA (attribute "isa", checked here).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "infer/ops/common.hpp"
#include "infer/ops/lstm_step.hpp"
#include "infer/runtime/thread_pool.hpp"

namespace tickrt::infer::ops {
namespace {

Status check_isa(PrepareCtx& c) {
  const auto packed_for = static_cast<cpu::Isa>(c.node.attr_i("isa", 0));
  if (packed_for != c.isa)
    return c.fail(std::string("weights were packed for ISA ") + cpu::isa_name(packed_for) + " but the engine runs " + cpu::isa_name(c.isa) +
                  ": rebuild the engine on this machine");
  return Status::Ok();
}

// ---- FusedLSTM: inputs X, packed [, h0, c0]; outputs Y (3-D, same layout as X), Y_h [1,B,H], Y_c [1,B,H] --
// h0 / c0 (optional, streaming state): [L,B,H] tensors read at layer h0_layer / c0_layer (attrs, default 0).
// pre (ops/lstm_step.hpp): the recurrent half of a one-row step, bound by the streaming context for one run.
struct LstmParams {
  cpu::LstmDims d;
  int layout;
  std::size_t h0_off = 0, c0_off = 0;
  mutable const float* pre = nullptr;
};
void fused_lstm_run(const Kernel& k) {
  const auto& p = k.p<LstmParams>();
  float* y = k.out[0] ? k.out[0]->as<float>() : nullptr;
  float* hT = k.out.size() > 1 && k.out[1] ? k.out[1]->as<float>() : nullptr;
  float* cT = k.out.size() > 2 && k.out[2] ? k.out[2]->as<float>() : nullptr;
  const float* h0 = k.in.size() > 2 && k.in[2] ? k.in[2]->as<float>() + p.h0_off : nullptr;
  const float* c0 = k.in.size() > 3 && k.in[3] ? k.in[3]->as<float>() + p.c0_off : nullptr;
  if (p.pre != nullptr && p.d.T == 1 && p.d.B == 1) {
    cpu::lstm_step_pre(k.isa, p.d.I, p.d.H, k.in[1]->as<float>(), k.in[0]->as<float>(), p.pre, c0, y, hT, cT,
                       reinterpret_cast<float*>(k.workspace));
    return;
  }
  cpu::lstm_forward(k.isa, p.d, k.in[1]->as<float>(), k.in[0]->as<float>(), p.layout, h0, c0, y, hT, cT,
                    reinterpret_cast<float*>(k.workspace));
}
// Intra-op threads, batch > 1 (layout 1, [B,T,I]): batch rows split across the pool's threads; each row's
// recurrence is independent, and each thread's rows are one contiguous block of x / y / state.
void lstm_split_task(void* ctx, int tid, int n) noexcept {
  const Kernel& k = *static_cast<const Kernel*>(ctx);
  const auto& p = k.p<LstmParams>();
  const int B = p.d.B, b0 = B * tid / n, b1 = B * (tid + 1) / n;
  if (b0 == b1) return;
  const std::size_t T = static_cast<std::size_t>(p.d.T), I = static_cast<std::size_t>(p.d.I), H = static_cast<std::size_t>(p.d.H);
  const std::size_t r0 = static_cast<std::size_t>(b0);
  cpu::LstmDims d = p.d;
  d.B = b1 - b0;
  float* y = k.out[0] ? k.out[0]->as<float>() + r0 * T * H : nullptr;
  float* hT = k.out.size() > 1 && k.out[1] ? k.out[1]->as<float>() + r0 * H : nullptr;
  float* cT = k.out.size() > 2 && k.out[2] ? k.out[2]->as<float>() + r0 * H : nullptr;
  const float* h0 = k.in.size() > 2 && k.in[2] ? k.in[2]->as<float>() + p.h0_off + r0 * H : nullptr;
  const float* c0 = k.in.size() > 3 && k.in[3] ? k.in[3]->as<float>() + p.c0_off + r0 * H : nullptr;
  float* ws = reinterpret_cast<float*>(tid == 0 ? k.workspace : k.pool->scratch(tid));
  cpu::lstm_forward(k.isa, d, k.in[1]->as<float>(), k.in[0]->as<float>() + r0 * T * I, 1, h0, c0, y, hT, cT, ws);
}
void fused_lstm_run_mt(const Kernel& k) {
  const auto& p = k.p<LstmParams>();
  if (p.d.B < 2 || p.layout != 1) return fused_lstm_run(k);   // layout 0 rows of one thread are not contiguous
  k.pool->run(&lstm_split_task, const_cast<Kernel*>(&k));
}

// Intra-op threads, batch 1: two stacked layers as a pipeline (pipeline_lstm_pair below). Layer `a` runs on worker
// 1 as one lstm_forward_progress call (its whole input projection one AMX GEMM, as on one thread), publishing the
// number of finished steps every kPublishEvery steps in pool counter 0. Layer `b` runs on the caller in chunks:
// each takes every step a has finished and b has not (at least one, at most b_chunk_max), so b starts a couple of
// steps after a, and its chunks grow when a pulls ahead (a's steps are cheaper: its input is narrower), keeping b's
// input projections longer GEMMs. lstm_forward takes an initial state, so each chunk of b starts from the previous
// chunk's final h/c (a small state block after b's workspace): the same recurrence, in pieces.
// Time: ~b + a couple of steps of a, instead of a + b.
struct LstmPairParams {
  Kernel a, b;              // the two original steps (their params, tensors; their workspace pointers are unused)
  int T = 0, b_chunk_max = 0;
  std::size_t b_state = 0;  // floats into the caller's workspace
};
constexpr int kPublishEvery = 2;   // a's steps per progress store
constexpr int kPairChunkMax = 32;  // b's chunk cap (its workspace holds this many projected rows)

struct LstmIo {
  const float *x, *packed, *h0, *c0;
  float *y, *hT, *cT;
  LstmIo(const Kernel& L, const LstmParams& p)
      : x(L.in[0]->as<float>()), packed(L.in[1]->as<float>()),
        h0(L.in.size() > 2 && L.in[2] ? L.in[2]->as<float>() + p.h0_off : nullptr),
        c0(L.in.size() > 3 && L.in[3] ? L.in[3]->as<float>() + p.c0_off : nullptr),
        y(L.out[0] ? L.out[0]->as<float>() : nullptr),
        hT(L.out.size() > 1 && L.out[1] ? L.out[1]->as<float>() : nullptr),
        cT(L.out.size() > 2 && L.out[2] ? L.out[2]->as<float>() : nullptr) {}
};

void lstm_pair_producer(const Kernel& L, float* ws, std::atomic<int>& progress) noexcept {
  const auto& p = L.p<LstmParams>();
  const LstmIo io(L, p);
  cpu::lstm_forward_progress(L.isa, p.d, io.packed, io.x, p.layout, io.h0, io.c0, io.y, io.hT, io.cT, ws, &progress, kPublishEvery);
}
void lstm_pair_consumer(const Kernel& L, int T, int chunk_max, float* ws, float* state, const std::atomic<int>& progress) noexcept {
  const auto& p = L.p<LstmParams>();
  const LstmIo io(L, p);
  const std::size_t I = static_cast<std::size_t>(p.d.I), H = static_cast<std::size_t>(p.d.H);
  float* hs = state;
  float* cs = state + (H + 15) / 16 * 16;
  for (int t0 = 0; t0 < T;) {
    ThreadPool::wait_at_least(progress, t0 + 1);
    const int n = std::min(std::min(chunk_max, T - t0), progress.load(std::memory_order_acquire) - t0);
    const bool last = t0 + n >= T;
    const std::size_t t = static_cast<std::size_t>(t0);
    cpu::lstm_forward(L.isa, cpu::LstmDims{n, 1, p.d.I, p.d.H}, io.packed, io.x + t * I, p.layout, t0 == 0 ? io.h0 : hs,
                      t0 == 0 ? io.c0 : cs, io.y ? io.y + t * H : nullptr, last && io.hT ? io.hT : hs, last && io.cT ? io.cT : cs, ws);
    t0 += n;
  }
}
struct LstmPairRun { const Kernel* k; const LstmPairParams* p; };
void lstm_pair_task(void* ctx, int tid, int) noexcept {
  const auto& r = *static_cast<const LstmPairRun*>(ctx);
  const LstmPairParams& P = *r.p;
  std::atomic<int>& progress = r.k->pool->counter(0);
  if (tid == 1) {
    lstm_pair_producer(P.a, reinterpret_cast<float*>(r.k->pool->scratch(1)), progress);
  } else if (tid == 0) {
    float* ws = reinterpret_cast<float*>(r.k->workspace);
    lstm_pair_consumer(P.b, P.T, P.b_chunk_max, ws, ws + P.b_state, progress);
  }
}
void lstm_pair_run(const Kernel& k) {
  const LstmPairRun r{&k, &k.p<LstmPairParams>()};
  k.pool->counter(0).store(0, std::memory_order_relaxed);   // published to the worker by run()'s hand-off
  k.pool->run(&lstm_pair_task, const_cast<LstmPairRun*>(&r));
}

Status fused_lstm_prepare(PrepareCtx& c) {
  TICKRT_RETURN_IF_ERROR(check_isa(c));
  const auto& x = c.in[0].dims;
  const std::int64_t I = c.node.attr_i("I", 0), H = c.node.attr_i("H", 0);
  const int layout = static_cast<int>(c.node.attr_i("layout", 0));
  if (x.size() != 3 || x[2] != I) return c.fail("X " + dims_str(x) + " is not [*, *, " + std::to_string(I) + "]");
  if (numel(c.in[1].dims) < static_cast<std::int64_t>(cpu::lstm_packed_floats(c.isa, static_cast<int>(I), static_cast<int>(H))))
    return c.fail("packed weights too small");
  auto p = std::make_shared<LstmParams>();
  p->layout = layout;
  p->d = {static_cast<int>(layout ? x[1] : x[0]), static_cast<int>(layout ? x[0] : x[1]), static_cast<int>(I), static_cast<int>(H)};
  for (std::size_t s = 2; s < 4; ++s) {   // initial state: [L, B, H] (L > layer) or [B, H]
    if (!c.has(s)) continue;
    const auto& d = c.in[s].dims;
    const std::int64_t layer = c.node.attr_i(s == 2 ? "h0_layer" : "c0_layer", 0);
    const bool ok = c.in[s].dtype == DType::f32 && d.size() >= 2 && d[d.size() - 1] == H && d[d.size() - 2] == p->d.B &&
                    (d.size() == 2 || (d.size() == 3 && layer >= 0 && layer < d[0]));
    if (!ok) return c.fail(std::string(s == 2 ? "initial_h " : "initial_c ") + dims_str(d) + " is not float32 [L, " +
                           std::to_string(p->d.B) + ", " + std::to_string(H) + "] with layer " + std::to_string(layer) + " < L");
    (s == 2 ? p->h0_off : p->c0_off) = static_cast<std::size_t>(layer * p->d.B * H);
  }
  c.out[0] = TensorInfo{DType::f32, {x[0], x[1], H}};
  if (c.out.size() > 1) c.out[1] = TensorInfo{DType::f32, {1, p->d.B, H}};
  if (c.out.size() > 2) c.out[2] = TensorInfo{DType::f32, {1, p->d.B, H}};
  c.k.workspace_bytes = cpu::lstm_workspace_floats(c.isa, p->d) * sizeof(float);
  c.k.params = p;
  c.k.run = &fused_lstm_run;
  c.k.run_mt = &fused_lstm_run_mt;
  return Status::Ok();
}

}  // namespace

bool fused_lstm_step_info(const Kernel& k, LstmStepInfo& out) noexcept {
  if (k.run != &fused_lstm_run || !k.params || k.in.size() < 3 || k.in[2] == nullptr) return false;
  const auto& p = k.p<LstmParams>();
  if (p.d.T != 1 || p.d.B != 1) return false;
  out = LstmStepInfo{p.d.I, p.d.H, k.isa, k.in[1]->as<float>(), k.in[2], p.h0_off};
  return true;
}
void fused_lstm_bind_pre(const Kernel& k, const float* pre) noexcept { k.p<LstmParams>().pre = pre; }

namespace {

// ---- AdditiveAttention: inputs h [B,T,D], packed; output ctx [B,D] -------------------------------------
struct AttnParams { int B, T, D, A; };
void additive_attention_run(const Kernel& k) {
  const auto& p = k.p<AttnParams>();
  cpu::additive_attention(k.isa, p.B, p.T, p.D, p.A, k.in[1]->as<float>(), k.in[0]->as<float>(), 1, k.out[0]->as<float>(),
                          nullptr, reinterpret_cast<float*>(k.workspace));
}
// Intra-op threads, batch > 1: batch rows split across threads (each row's attention is independent).
void additive_attention_task(void* ctx, int tid, int n) noexcept {
  const Kernel& k = *static_cast<const Kernel*>(ctx);
  const auto& p = k.p<AttnParams>();
  const int b0 = p.B * tid / n, b1 = p.B * (tid + 1) / n;
  if (b0 == b1) return;
  const std::size_t r0 = static_cast<std::size_t>(b0);
  float* ws = reinterpret_cast<float*>(tid == 0 ? k.workspace : k.pool->scratch(tid));
  cpu::additive_attention(k.isa, b1 - b0, p.T, p.D, p.A, k.in[1]->as<float>(), k.in[0]->as<float>() + r0 * p.T * p.D, 1,
                          k.out[0]->as<float>() + r0 * p.D, nullptr, ws);
}
void additive_attention_run_mt(const Kernel& k) {
  if (k.p<AttnParams>().B < 2) return additive_attention_run(k);
  k.pool->run(&additive_attention_task, const_cast<Kernel*>(&k));
}
Status additive_attention_prepare(PrepareCtx& c) {
  TICKRT_RETURN_IF_ERROR(check_isa(c));
  const auto& h = c.in[0].dims;
  const std::int64_t D = c.node.attr_i("D", 0), A = c.node.attr_i("A", 0);
  if (h.size() != 3 || h[2] != D) return c.fail("h " + dims_str(h) + " is not [B, T, " + std::to_string(D) + "]");
  auto p = std::make_shared<AttnParams>(AttnParams{static_cast<int>(h[0]), static_cast<int>(h[1]), static_cast<int>(D), static_cast<int>(A)});
  c.out[0] = TensorInfo{DType::f32, {h[0], D}};
  c.k.workspace_bytes = cpu::additive_attention_workspace_floats(c.isa, p->B, p->T, p->D, p->A) * sizeof(float);
  c.k.params = p;
  c.k.run = &additive_attention_run;
  c.k.run_mt = &additive_attention_run_mt;
  return Status::Ok();
}

// ---- SDPA: inputs q, k, v [B,H,T,d] (contiguous); output [B,H,Tq,d] ----------------------------------------
struct SdpaParams { int BH, Tq, Tk, d; float scale; };
void sdpa_run(const Kernel& k) {
  const auto& p = k.p<SdpaParams>();
  cpu::sdpa(k.isa, p.BH, p.Tq, p.Tk, p.d, p.scale, k.in[0]->as<float>(), k.in[1]->as<float>(), k.in[2]->as<float>(),
            k.out[0]->as<float>(), reinterpret_cast<float*>(k.workspace));
}
Status sdpa_prepare(PrepareCtx& c) {
  const auto& q = c.in[0].dims;
  const auto& kk = c.in[1].dims;
  const auto& v = c.in[2].dims;
  if (q.size() < 2 || kk.size() != q.size() || v.size() != q.size()) return c.fail("q, k, v must have the same rank >= 2");
  const std::size_t r = q.size();
  std::int64_t bh = 1;
  for (std::size_t i = 0; i + 2 < r; ++i) {
    if (kk[i] != q[i] || v[i] != q[i]) return c.fail("q, k, v batch dims differ");
    bh *= q[i];
  }
  if (kk[r - 1] != q[r - 1] || v[r - 2] != kk[r - 2]) return c.fail("q/k/v inner dims differ");
  auto p = std::make_shared<SdpaParams>(SdpaParams{static_cast<int>(bh), static_cast<int>(q[r - 2]), static_cast<int>(kk[r - 2]),
                                                    static_cast<int>(q[r - 1]), c.node.attr_f("scale", 1.0f)});
  if (v[r - 1] != q[r - 1]) return c.unsupported("value width differs from query width");
  Dims out = q;
  c.out[0] = TensorInfo{DType::f32, out};
  c.k.workspace_bytes = cpu::sdpa_workspace_floats(c.isa, p->Tq, p->Tk) * sizeof(float);
  c.k.params = p;
  c.k.run = &sdpa_run;
  return Status::Ok();
}

// ---- MHA: input qkv [B,T,3D] (the packed in-projection, q | k | v along the last axis); output [B,T,D] -----
// Per (b, head h): S = scale * Q_bh K_bh^T [T,T] (workspace), softmax over rows, out_bh = S V_bh written at
// column h*dh of out's rows (stride D): the head split and merge are strides, not copies (passes/mha_fusion.cpp).
struct MhaParams { int B, T, D, H, dh; float scale; };
// (b, h) slices [i0, i1) of the B*H, i = b * H + h, with S in `s`.
void mha_slices(const Kernel& k, int i0, int i1, float* s) noexcept {
  const auto& p = k.p<MhaParams>();
  const float* x = k.in[0]->as<float>();
  float* y = k.out[0]->as<float>();
  const int ld = 3 * p.D;
  for (int i = i0; i < i1; ++i) {
    const int b = i / p.H, h = i % p.H;
    const float* xb = x + static_cast<std::size_t>(b) * p.T * ld;
    float* yb = y + static_cast<std::size_t>(b) * p.T * p.D;
    const float* q = xb + h * p.dh;
    cpu::gemm(k.isa, false, true, p.T, p.T, p.dh, p.scale, q, ld, q + p.D, ld, 0.0f, s, p.T);
    cpu::softmax_rows(k.isa, p.T, p.T, s, s);
    cpu::gemm(k.isa, false, false, p.T, p.dh, p.T, 1.0f, s, p.T, q + 2 * p.D, ld, 0.0f, yb + h * p.dh, p.D);
  }
}
void mha_run(const Kernel& k) {
  const auto& p = k.p<MhaParams>();
  mha_slices(k, 0, p.B * p.H, reinterpret_cast<float*>(k.workspace));
}
// Intra-op threads: the (b, h) slices split across threads (independent; each thread has its own S). Every slice
// writes its own columns of y, so the split needs no merge.
void mha_task(void* ctx, int tid, int n) noexcept {
  const Kernel& k = *static_cast<const Kernel*>(ctx);
  const auto& p = k.p<MhaParams>();
  const int BH = p.B * p.H;
  mha_slices(k, BH * tid / n, BH * (tid + 1) / n, reinterpret_cast<float*>(tid == 0 ? k.workspace : k.pool->scratch(tid)));
}
void mha_run_mt(const Kernel& k) {
  const auto& p = k.p<MhaParams>();
  if (p.B * p.H < 2) return mha_run(k);
  k.pool->run(&mha_task, const_cast<Kernel*>(&k));
}
// What Reshape(target [t0, t1, rest...]) gives for dims 0 and 1 of an input [B, T, ...] of `total` elements
// whose trailing target dims multiply to `rest` (ONNX rules: 0 copies the input dim, -1 is inferred).
bool reshape_keeps_bt(std::int64_t t0, std::int64_t t1, std::int64_t B, std::int64_t T, std::int64_t rest) {
  std::int64_t d0 = t0 == 0 ? B : t0, d1 = t1 == 0 ? T : t1;
  const std::int64_t total = B * T * rest;
  if (d0 == -1 && d1 > 0) d0 = total / (d1 * rest);
  else if (d1 == -1 && d0 > 0) d1 = total / (d0 * rest);
  return d0 == B && d1 == T;
}
Status mha_prepare(PrepareCtx& c) {
  const auto& x = c.in[0].dims;
  const std::int64_t H = c.node.attr_i("heads", 0), dh = c.node.attr_i("head_dim", 0), D = H * dh;
  if (H <= 0 || dh <= 0) return c.fail("heads and head_dim must be positive");
  if (c.in[0].dtype != DType::f32 || x.size() != 3 || x[2] != 3 * D)
    return c.fail("qkv " + dims_str(x) + " is not float32 [B, T, " + std::to_string(3 * D) + "]");
  if (x[0] < 1 || x[1] < 1) return c.fail("empty qkv " + dims_str(x));
  if (!reshape_keeps_bt(c.node.attr_i("r0", 0), c.node.attr_i("r1", 0), x[0], x[1], D) ||
      !reshape_keeps_bt(c.node.attr_i("o0", 0), c.node.attr_i("o1", 0), x[0], x[1], D))
    return c.unsupported("the head reshapes of this graph do not keep [B, T] for qkv " + dims_str(x));
  auto p = std::make_shared<MhaParams>(MhaParams{static_cast<int>(x[0]), static_cast<int>(x[1]), static_cast<int>(D), static_cast<int>(H),
                                                 static_cast<int>(dh), c.node.attr_f("scale", 1.0f)});
  c.out[0] = TensorInfo{DType::f32, {x[0], x[1], D}};
  c.k.workspace_bytes = static_cast<std::size_t>(x[1]) * static_cast<std::size_t>(x[1]) * sizeof(float);
  c.k.params = p;
  c.k.run = &mha_run;
  c.k.run_mt = &mha_run_mt;
  return Status::Ok();
}

// ---- FusedConv: 2-D conv, group 1, no padding, dilation 1, + bias + activation --------------------------
// inputs X [N,C,H,W], W [M,C,KH,KW] (BatchNorm already folded in), B [M]; attrs strides, act, alpha.
// Per sample, one GEMM with the bias folded in as an extra K row:
//   Y[M, P] = [W | b] [M, K+1] @ [im2col(X) ; 1] [K+1, P],   K = C*KH*KW, P = OH*OW,
// then the activation in place (vectorised). The im2col rows are in W's own (c, kh, kw) order, so the
// weight matrix is W as stored plus a bias column (built once at prepare). Kernels of width 1 with stride 1
// (the KHx1 time convolutions) copy each row (c, kh) as one contiguous run of OH*W floats (a memcpy of
// X[c, kh:kh+OH, :]); one GEMM with K = C*KH replaces KH accumulating GEMMs of K = C (each re-reading
// and re-writing Y) and the separate bias fill: measured faster on convlstm (docs/BENCHMARKS.md).
// Narrow outputs of gathered (not contiguous-row) patches (P <= kPixelMajorMaxP: convlstm's 1x10 block, P = 52)
// take the pixel-major form
// instead: A = im2col^T [P, K] (each patch row gathered once), one gemm_packed against W^T packed at prepare with
// the bias and activation in its epilogue, then a [P, M] -> [M, P] transpose; the channel-major form would pack
// its ragged B panel (K x 64 floats, mostly padding) on every call. Measured per layer (tickrt bench --profile,
// batch 1): the 1x10 block 17 -> 7 us; the 4x1 blocks with contiguous rows (P = 49, 46) were slower pixel-major
// (1.8 -> 6.5 us: the per-pixel gather of 4-float runs costs more than the row memcpys), so they stay channel-major.
constexpr int kPixelMajorMaxP = 128;
struct ConvFParams {
  int N, C, H, W, M, KH, KW, SH, SW, OH, OW; cpu::Act act; float alpha; bool rows_contig, pixel_major;
  std::vector<float> wb;                 // channel-major: [M, K+1], bias as the last column
  std::vector<float> packed, bias;       // pixel-major: W^T packed for gemm_packed, bias [M]
};
void fused_conv_pixel_major(const Kernel& k, const ConvFParams& p) {
  const float* x = k.in[0]->as<float>();
  float* y = k.out[0]->as<float>();
  const int P = p.OH * p.OW, K = p.C * p.KH * p.KW;
  float* a = reinterpret_cast<float*>(k.workspace);
  float* t = a + static_cast<std::size_t>(P) * K;
  for (int n = 0; n < p.N; ++n) {
    const float* xn = x + static_cast<std::size_t>(n) * p.C * p.H * p.W;
    float* yn = y + static_cast<std::size_t>(n) * p.M * P;
    for (int oh = 0; oh < p.OH; ++oh)
      for (int ow = 0; ow < p.OW; ++ow) {
        float* row = a + static_cast<std::size_t>(oh * p.OW + ow) * K;
        for (int c = 0; c < p.C; ++c)
          for (int kh = 0; kh < p.KH; ++kh) {
            const float* src = xn + (static_cast<std::size_t>(c) * p.H + oh * p.SH + kh) * p.W + ow * p.SW;
            float* dst = row + (c * p.KH + kh) * p.KW;
            for (int kw = 0; kw < p.KW; ++kw) dst[kw] = src[kw];
          }
      }
    cpu::gemm_packed(k.isa, P, p.M, K, a, K, p.packed.data(), p.bias.data(), cpu::Epilogue{p.act, p.alpha}, t, p.M);
    for (int m = 0; m < p.M; ++m)
      for (int i = 0; i < P; ++i) yn[static_cast<std::size_t>(m) * P + i] = t[static_cast<std::size_t>(i) * p.M + m];
  }
}
void fused_conv_run(const Kernel& k) {
  const auto& p = k.p<ConvFParams>();
  if (p.pixel_major) return fused_conv_pixel_major(k, p);
  const float* x = k.in[0]->as<float>();
  const float* wb = p.wb.data();            // [M, K+1]
  float* y = k.out[0]->as<float>();
  float* ws = reinterpret_cast<float*>(k.workspace);
  const int P = p.OH * p.OW, K = p.C * p.KH * p.KW;
  float* ones = ws + static_cast<std::size_t>(K) * P;
  for (int i = 0; i < P; ++i) ones[i] = 1.0f;
  for (int n = 0; n < p.N; ++n) {
    const float* xn = x + static_cast<std::size_t>(n) * p.C * p.H * p.W;
    float* yn = y + static_cast<std::size_t>(n) * p.M * P;
    if (p.rows_contig) {
      for (int c = 0; c < p.C; ++c)
        for (int kh = 0; kh < p.KH; ++kh)
          std::memcpy(ws + static_cast<std::size_t>(c * p.KH + kh) * P, xn + (static_cast<std::size_t>(c) * p.H + kh) * p.W,
                      static_cast<std::size_t>(P) * sizeof(float));
    } else {
      for (int c = 0; c < p.C; ++c)
        for (int kh = 0; kh < p.KH; ++kh)
          for (int kw = 0; kw < p.KW; ++kw) {
            float* row = ws + static_cast<std::size_t>((c * p.KH + kh) * p.KW + kw) * P;
            for (int oh = 0; oh < p.OH; ++oh) {
              const float* src = xn + (static_cast<std::size_t>(c) * p.H + oh * p.SH + kh) * p.W + kw;
              float* dst = row + oh * p.OW;
              if (p.SW == 1 && p.OW >= 16) std::memcpy(dst, src, static_cast<std::size_t>(p.OW) * sizeof(float));
              else for (int ow = 0; ow < p.OW; ++ow) dst[ow] = src[ow * p.SW];
            }
          }
    }
    cpu::gemm(k.isa, false, false, p.M, P, K + 1, 1.0f, wb, K + 1, ws, P, 0.0f, yn, P);
    if (p.act != cpu::Act::none) cpu::activation(k.isa, p.act, p.alpha, static_cast<std::size_t>(p.M) * P, yn, yn);
  }
}
Status fused_conv_prepare(PrepareCtx& c) {
  const auto& x = c.in[0].dims;
  const auto& w = c.in[1].dims;
  if (x.size() != 4 || w.size() != 4 || x[1] != w[1]) return c.fail("expects X [N,C,H,W] and W [M,C,KH,KW] with matching C");
  if (!c.in[1].constant || !c.in[2].constant) return c.fail("W and B must be constants");
  auto strides = c.node.attr_is("strides");
  if (strides.size() != 2) strides = {1, 1};
  auto p = std::make_shared<ConvFParams>();
  p->N = static_cast<int>(x[0]); p->C = static_cast<int>(x[1]); p->H = static_cast<int>(x[2]); p->W = static_cast<int>(x[3]);
  p->M = static_cast<int>(w[0]); p->KH = static_cast<int>(w[2]); p->KW = static_cast<int>(w[3]);
  p->SH = static_cast<int>(strides[0]); p->SW = static_cast<int>(strides[1]);
  if (p->SH < 1 || p->SW < 1) return c.fail("strides must be >= 1");
  if (p->H < p->KH || p->W < p->KW) return c.fail("input " + dims_str(x) + " smaller than the kernel");
  if (numel(c.in[2].dims) != p->M) return c.fail("bias has " + std::to_string(numel(c.in[2].dims)) + " values, expected " + std::to_string(p->M));
  p->OH = (p->H - p->KH) / p->SH + 1;
  p->OW = (p->W - p->KW) / p->SW + 1;
  p->act = static_cast<cpu::Act>(c.node.attr_i("act", 0));
  p->alpha = c.node.attr_f("alpha", 0.01f);
  p->rows_contig = p->KW == 1 && p->SW == 1 && p->SH == 1;
  const std::size_t K = static_cast<std::size_t>(p->C) * p->KH * p->KW;
  const std::size_t P = static_cast<std::size_t>(p->OH) * p->OW;
  const float* wsrc = c.in[1].constant->as<float>();
  const float* bsrc = c.in[2].constant->as<float>();
  p->pixel_major = !p->rows_contig && P <= static_cast<std::size_t>(kPixelMajorMaxP);
  if (p->pixel_major) {
    p->packed.resize(cpu::gemm_packed_b_floats(c.isa, static_cast<int>(K), p->M));
    cpu::gemm_pack_b(c.isa, wsrc, static_cast<int>(K), p->M, true, p->packed.data());   // W [M, K] is B^T
    p->bias.assign(bsrc, bsrc + p->M);
    c.k.workspace_bytes = P * (K + static_cast<std::size_t>(p->M)) * sizeof(float);
  } else {
    p->wb.resize(static_cast<std::size_t>(p->M) * (K + 1));
    for (int m = 0; m < p->M; ++m) {
      std::copy(wsrc + m * K, wsrc + (m + 1) * K, p->wb.begin() + static_cast<std::ptrdiff_t>(m * (K + 1)));
      p->wb[m * (K + 1) + K] = bsrc[m];
    }
    c.k.workspace_bytes = (K + 1) * P * sizeof(float);
  }
  c.out[0] = TensorInfo{DType::f32, {x[0], w[0], p->OH, p->OW}};
  c.k.params = p;
  c.k.run = &fused_conv_run;
  return Status::Ok();
}

// ---- ElementwiseChain: float32 links applied per element in blocks that stay in L1 ------------------------
struct ChainParams { std::vector<std::int64_t> ops; std::vector<float> args; };
void chain_run(const Kernel& k) {
  const auto& p = k.p<ChainParams>();
  const float* x = k.in[0]->as<float>();
  float* y = k.out[0]->as<float>();
  const std::int64_t n = k.out[0]->numel;
  constexpr std::int64_t kBlock = 1024;
  for (std::int64_t b0 = 0; b0 < n; b0 += kBlock) {
    const std::int64_t m = std::min(kBlock, n - b0);
    float* yb = y + b0;
    const float* src = x + b0;
    for (std::size_t l = 0; l < p.ops.size(); ++l) {
      const float a = p.args[l];
      switch (p.ops[l]) {
        case 0: cpu::activation(k.isa, cpu::Act::relu, 0, static_cast<std::size_t>(m), src, yb); break;
        case 1: cpu::activation(k.isa, cpu::Act::leaky_relu, a, static_cast<std::size_t>(m), src, yb); break;
        case 2: cpu::activation(k.isa, cpu::Act::tanh, 0, static_cast<std::size_t>(m), src, yb); break;
        case 3: cpu::activation(k.isa, cpu::Act::sigmoid, 0, static_cast<std::size_t>(m), src, yb); break;
        case 4: for (std::int64_t i = 0; i < m; ++i) yb[i] = std::exp(src[i]); break;
        case 5: for (std::int64_t i = 0; i < m; ++i) yb[i] = -src[i]; break;
        case 6: for (std::int64_t i = 0; i < m; ++i) yb[i] = std::fabs(src[i]); break;
        case 7: for (std::int64_t i = 0; i < m; ++i) yb[i] = std::sqrt(src[i]); break;
        case 8: for (std::int64_t i = 0; i < m; ++i) yb[i] = src[i] + a; break;
        case 9: for (std::int64_t i = 0; i < m; ++i) yb[i] = src[i] - a; break;
        case 10: for (std::int64_t i = 0; i < m; ++i) yb[i] = a - src[i]; break;
        case 11: for (std::int64_t i = 0; i < m; ++i) yb[i] = src[i] * a; break;
        case 12: for (std::int64_t i = 0; i < m; ++i) yb[i] = src[i] / a; break;
        case 13: for (std::int64_t i = 0; i < m; ++i) yb[i] = a / src[i]; break;
        default: break;
      }
      src = yb;   // later links work in place on the block
    }
  }
}
Status chain_prepare(PrepareCtx& c) {
  if (c.in[0].dtype != DType::f32) return c.fail("ElementwiseChain is float32");
  auto p = std::make_shared<ChainParams>();
  p->ops = c.node.attr_is("ops");
  p->args = c.node.attr_fs("args");
  if (p->ops.size() != p->args.size() || p->ops.empty()) return c.fail("ops/args mismatch");
  for (auto o : p->ops) if (o < 0 || o > 13) return c.fail("unknown link " + std::to_string(o));
  c.out[0] = TensorInfo{DType::f32, c.in[0].dims};
  c.k.params = p;
  c.k.run = &chain_run;
  return Status::Ok();
}

}  // namespace

bool pipeline_lstm_pair_impl(Kernel& first, const Kernel& second, std::size_t ws_bytes, std::size_t* scratch_bytes) {
  auto is_lstm = [](const Kernel& k) { return k.run == &fused_lstm_run || k.run == &fused_lstm_run_mt; };
  if (!is_lstm(first) || !is_lstm(second) || !first.out[0] || second.in.empty() || !second.in[0]) return false;
  const auto& a = first.p<LstmParams>();
  const auto& b = second.p<LstmParams>();
  // Batch 1 only (batch > 1 splits rows instead); b must read exactly a's Y (same bytes: a view op between them
  // is an alias); with B = 1 both layouts store time step t at row t.
  if (a.d.B != 1 || b.d.B != 1 || a.d.T != b.d.T || a.d.T < 2 || b.d.I != a.d.H) return false;
  if (second.in[0]->numel != first.out[0]->numel) return false;   // same bytes: checked by the caller on the plan
  if (first.isa != second.isa) return false;
  auto pp = std::make_shared<LstmPairParams>();
  pp->a = first;
  pp->b = second;
  pp->T = a.d.T;
  auto r16 = [](std::size_t n) { return (n + 15) / 16 * 16; };
  const std::size_t a_need = cpu::lstm_workspace_floats(first.isa, a.d) * sizeof(float);   // a runs whole, as on one thread
  // b's chunk cap: the largest (up to kPairChunkMax) whose workspace + state fit the plan's workspace.
  std::size_t b_need = 0;
  for (pp->b_chunk_max = std::min(kPairChunkMax, b.d.T); pp->b_chunk_max >= 1; pp->b_chunk_max /= 2) {
    pp->b_state = r16(cpu::lstm_workspace_floats(second.isa, cpu::LstmDims{pp->b_chunk_max, 1, b.d.I, b.d.H}));
    b_need = (pp->b_state + 2 * r16(static_cast<std::size_t>(b.d.H))) * sizeof(float);
    if (b_need <= ws_bytes) break;
  }
  if (pp->b_chunk_max < 1) return false;
  first.params = pp;
  first.run = &lstm_pair_run;
  first.run_mt = nullptr;
  // The merged step reads and writes what both did (for anyone walking the plan's tensors).
  first.in.insert(first.in.end(), second.in.begin(), second.in.end());
  first.out.insert(first.out.end(), second.out.begin(), second.out.end());
  *scratch_bytes = a_need;
  return true;
}

void register_fused(std::vector<OpDef>& r) {
  r.push_back({"tickrt", "ElementwiseChain", &chain_prepare});
  r.push_back({"tickrt", "FusedConv", &fused_conv_prepare});
  r.push_back({"tickrt", "FusedLSTM", &fused_lstm_prepare});
  r.push_back({"tickrt", "AdditiveAttention", &additive_attention_prepare});
  r.push_back({"tickrt", "SDPA", &sdpa_prepare});
  r.push_back({"tickrt", "MHA", &mha_prepare});
}

}  // namespace tickrt::infer::ops

namespace tickrt::infer {
bool pipeline_lstm_pair(Kernel& first, const Kernel& second, std::size_t ws_bytes, std::size_t* scratch_bytes) {
  return ops::pipeline_lstm_pair_impl(first, second, ws_bytes, scratch_bytes);
}
}  // namespace tickrt::infer
