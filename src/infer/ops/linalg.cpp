// MatMul (numpy semantics, batched with broadcasting), Gemm, and the fused tickrt.FusedGemm
// (A @ pre-packed B + bias + activation) that the gemm_bias_act fusion pass produces.
#include <algorithm>

#include "infer/ops/common.hpp"
#include "infer/runtime/thread_pool.hpp"

namespace tickrt::infer::ops {
namespace {

// ---- MatMul ---------------------------------------------------------------------------------------
struct MatMulParams {
  int M, N, K;
  std::int64_t batch;
  std::vector<std::int64_t> a_off, b_off;   // per output batch: element offsets of the A and B matrices
};
void matmul_f32_run(const Kernel& k) {
  const auto& p = k.p<MatMulParams>();
  const float* a = k.in[0]->as<float>();
  const float* b = k.in[1]->as<float>();
  float* y = k.out[0]->as<float>();
  const std::int64_t mn = static_cast<std::int64_t>(p.M) * p.N;
  for (std::int64_t i = 0; i < p.batch; ++i)
    cpu::gemm(k.isa, false, false, p.M, p.N, p.K, 1.0f, a + p.a_off[i], p.K, b + p.b_off[i], p.N, 0.0f, y + i * mn, p.N);
}
template <class T>
void matmul_generic_run(const Kernel& k) {
  const auto& p = k.p<MatMulParams>();
  const T* a = k.in[0]->as<T>();
  const T* b = k.in[1]->as<T>();
  T* y = k.out[0]->as<T>();
  for (std::int64_t i = 0; i < p.batch; ++i)
    for (int m = 0; m < p.M; ++m)
      for (int n = 0; n < p.N; ++n) {
        T acc = 0;
        for (int kk = 0; kk < p.K; ++kk) acc += a[p.a_off[i] + m * p.K + kk] * b[p.b_off[i] + kk * p.N + n];
        y[(i * p.M + m) * p.N + n] = acc;
      }
}
Status matmul_prepare(PrepareCtx& c) {
  Dims a = c.in[0].dims, b = c.in[1].dims;
  if (a.empty() || b.empty()) return c.fail("MatMul of a scalar");
  if (c.in[0].dtype != c.in[1].dtype) return c.fail("input types differ");
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  const std::int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  if (b[b.size() - 2] != K) return c.fail("inner dimensions differ: " + dims_str(c.in[0].dims) + " @ " + dims_str(c.in[1].dims));
  Dims ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2), bo;
  if (auto st = broadcast_shapes(ba, bb, bo); !st.ok()) return c.fail(st.message());
  auto p = std::make_shared<MatMulParams>();
  p->M = static_cast<int>(M); p->N = static_cast<int>(N); p->K = static_cast<int>(K);
  p->batch = numel(bo);
  // Offsets of each broadcast batch into A and B.
  const Dims sa = strides_of(ba), sb = strides_of(bb);
  for (std::int64_t i = 0; i < p->batch; ++i) {
    std::int64_t rem = i, oa = 0, ob = 0;
    for (int d = static_cast<int>(bo.size()) - 1; d >= 0; --d) {
      const std::int64_t idx = rem % bo[d];
      rem /= bo[d];
      const int da = d - static_cast<int>(bo.size() - ba.size()), db = d - static_cast<int>(bo.size() - bb.size());
      if (da >= 0 && ba[da] != 1) oa += idx * sa[da];
      if (db >= 0 && bb[db] != 1) ob += idx * sb[db];
    }
    p->a_off.push_back(oa * M * K);
    p->b_off.push_back(ob * K * N);
  }
  Dims out = bo;
  if (!a1) out.push_back(M);
  if (!b1) out.push_back(N);
  c.out[0] = TensorInfo{c.in[0].dtype, out};
  c.k.params = p;
  switch (c.in[0].dtype) {
    case DType::f32: c.k.run = &matmul_f32_run; break;
    case DType::f64: c.k.run = &matmul_generic_run<double>; break;
    case DType::i64: c.k.run = &matmul_generic_run<std::int64_t>; break;
    case DType::i32: c.k.run = &matmul_generic_run<std::int32_t>; break;
    default: return c.unsupported(std::string("type ") + dtype_name(c.in[0].dtype));
  }
  return Status::Ok();
}

// ---- Gemm ----------------------------------------------------------------------------------------
struct GemmParams { int M, N, K; bool ta, tb; float alpha, beta; bool has_c; BroadcastMap mc; };
void gemm_run(const Kernel& k) {
  const auto& p = k.p<GemmParams>();
  float* y = k.out[0]->as<float>();
  float beta = 0.0f;
  if (p.has_c && p.beta != 0.0f) {
    const float* cc = k.in[2]->as<float>();
    const BroadcastMap maps[1] = {p.mc};
    for_each_broadcast<1>(maps, k.out[0]->numel, [&](std::int64_t i, const std::int64_t* off) { y[i] = cc[off[0]]; });
    beta = p.beta;
  }
  cpu::gemm(k.isa, p.ta, p.tb, p.M, p.N, p.K, p.alpha, k.in[0]->as<float>(), p.ta ? p.M : p.K, k.in[1]->as<float>(),
            p.tb ? p.K : p.N, beta, y, p.N);
}
Status gemm_prepare(PrepareCtx& c) {
  if (c.in[0].dtype != DType::f32 || c.in[1].dtype != DType::f32) return c.unsupported("Gemm supports float32");
  const auto& a = c.in[0].dims;
  const auto& b = c.in[1].dims;
  if (a.size() != 2 || b.size() != 2) return c.fail("A and B must be 2-D");
  auto p = std::make_shared<GemmParams>();
  p->ta = c.node.attr_i("transA", 0) != 0;
  p->tb = c.node.attr_i("transB", 0) != 0;
  p->alpha = c.node.attr_f("alpha", 1.0f);
  p->beta = c.node.attr_f("beta", 1.0f);
  const std::int64_t M = p->ta ? a[1] : a[0], K = p->ta ? a[0] : a[1];
  const std::int64_t Kb = p->tb ? b[1] : b[0], N = p->tb ? b[0] : b[1];
  if (K != Kb) return c.fail("inner dimensions differ: A " + dims_str(a) + ", B " + dims_str(b));
  p->M = static_cast<int>(M); p->N = static_cast<int>(N); p->K = static_cast<int>(K);
  p->has_c = c.has(2);
  if (p->has_c) {
    Dims tmp;
    if (auto st = broadcast_shapes(c.in[2].dims, {M, N}, tmp); !st.ok() || tmp != Dims{M, N})
      return c.fail("C " + dims_str(c.in[2].dims) + " does not broadcast to " + dims_str({M, N}));
    p->mc = make_broadcast_map(c.in[2].dims, {M, N});
  }
  c.out[0] = TensorInfo{DType::f32, {M, N}};
  c.k.params = p;
  c.k.run = &gemm_run;
  return Status::Ok();
}

// ---- tickrt.FusedGemm: Y[..., N] = act(X[..., K] @ packed(B) + bias) --------------------------------
// inputs: X, packed B (1-D f32 blob for attr isa), bias [N] (optional); attrs K, N, act, alpha, isa.
struct FusedGemmParams { int M, N, K; cpu::Epilogue epi; };
void fused_gemm_run(const Kernel& k) {
  const auto& p = k.p<FusedGemmParams>();
  const float* bias = k.in.size() > 2 && k.in[2] ? k.in[2]->as<float>() : nullptr;
  cpu::gemm_packed(k.isa, p.M, p.N, p.K, k.in[0]->as<float>(), p.K, k.in[1]->as<float>(), bias, p.epi, k.out[0]->as<float>(), p.N);
}
// Intra-op threads: output rows split across threads in blocks of 12 rows (a multiple of every ISA's register
// tile: 4 scalar, 3 avx2, 6 avx512, so the tiles are those of one thread). Small products stay on one thread: a hand-off costs ~1 µs.
constexpr double kGemmMinMacs = 1 << 18;
void fused_gemm_task(void* ctx, int tid, int n) noexcept {
  const Kernel& k = *static_cast<const Kernel*>(ctx);
  const auto& p = k.p<FusedGemmParams>();
  const int blocks = (p.M + 11) / 12;
  const int m0 = std::min(p.M, blocks * tid / n * 12), m1 = std::min(p.M, blocks * (tid + 1) / n * 12);
  if (m0 >= m1) return;
  const float* bias = k.in.size() > 2 && k.in[2] ? k.in[2]->as<float>() : nullptr;
  const std::size_t r0 = static_cast<std::size_t>(m0);
  cpu::gemm_packed(k.isa, m1 - m0, p.N, p.K, k.in[0]->as<float>() + r0 * p.K, p.K, k.in[1]->as<float>(), bias, p.epi,
                   k.out[0]->as<float>() + r0 * p.N, p.N);
}
void fused_gemm_run_mt(const Kernel& k) {
  const auto& p = k.p<FusedGemmParams>();
  if (p.M < 16 || static_cast<double>(p.M) * p.N * p.K < kGemmMinMacs) return fused_gemm_run(k);
  k.pool->run(&fused_gemm_task, const_cast<Kernel*>(&k));
}
Status fused_gemm_prepare(PrepareCtx& c) {
  const auto& x = c.in[0].dims;
  const std::int64_t K = c.node.attr_i("K", 0), N = c.node.attr_i("N", 0);
  if (x.empty() || x.back() != K) return c.fail("input " + dims_str(x) + " does not end in K=" + std::to_string(K));
  if (static_cast<cpu::Isa>(c.node.attr_i("isa", 0)) != c.isa)
    return c.fail("weights were packed for ISA " + std::string(cpu::isa_name(static_cast<cpu::Isa>(c.node.attr_i("isa", 0)))) + ", engine runs " + cpu::isa_name(c.isa));
  if (numel(c.in[1].dims) < static_cast<std::int64_t>(cpu::gemm_packed_b_floats(c.isa, static_cast<int>(K), static_cast<int>(N))))
    return c.fail("packed weights too small");
  auto p = std::make_shared<FusedGemmParams>();
  p->M = static_cast<int>(numel(x) / K);
  p->N = static_cast<int>(N);
  p->K = static_cast<int>(K);
  p->epi.act = static_cast<cpu::Act>(c.node.attr_i("act", 0));
  p->epi.alpha = c.node.attr_f("alpha", 0.01f);
  Dims out = x;
  out.back() = N;
  c.out[0] = TensorInfo{DType::f32, out};
  c.k.params = p;
  c.k.run = &fused_gemm_run;
  c.k.run_mt = &fused_gemm_run_mt;
  return Status::Ok();
}

}  // namespace

void register_linalg(std::vector<OpDef>& r) {
  r.push_back({"", "MatMul", &matmul_prepare});
  r.push_back({"", "Gemm", &gemm_prepare});
  r.push_back({"tickrt", "FusedGemm", &fused_gemm_prepare});
}

}  // namespace tickrt::infer::ops
