// Streaming step graphs: the narrow dense layers (N < 16 outputs) of a one-row step as tickrt.RowLinear.
//
// A step graph multiplies ONE feature row (per symbol) by each layer's weights: att_w 64x64, att_v 64x1,
// fc1 128x64, fc2 64x3 in lstm_attn_stream. tickrt.FusedGemm (gemm_fusion.cpp, the general path) packs W
// into panels of 4 vectors of columns (64 columns on AVX-512), so a 64x1 or 64x3 layer computes 64 columns,
// and its micro-kernel is built for many rows. For streaming graphs only (metadata tickrt.state), this pass
// rewrites, before gemm_fusion runs,
//   MatMul(X, W const [K,N]) or Gemm(A, B const, C const) (transA 0, alpha 1, beta 1),
//   then an optional Add of a constant bias of N values and an optional Relu / LeakyRelu / Tanh / Sigmoid
// into tickrt.RowLinear(X, W [K,N] row-major, bias [N]) {act, alpha}: per row of X, the row times W
// (stream_kernels::row_times_matrix: N columns exactly, 8 FMA chains), + bias, then cpu::activation.
// Any X of rank >= 1 ([.., K] -> [.., N], MatMul's rule for a 2-D constant W); step_batch's rows run one by one.
// Numerics: FP32 FMA accumulation in a different order than FusedGemm (float rounding only); the activations
// are cpu::activation, the same functions as FusedGemm's epilogue.
#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {
constexpr std::int64_t kMaxRowLinearN = 16;
}  // namespace

Result<int> stream_row_linear(Graph& g) {
  if (g.metadata.count("tickrt.state") == 0) return 0;
  int fused = 0;
  Uses uses(g);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& n = g.nodes[i];
    // Only narrow layers: measured on lstm_attn_stream's step (VM, bench_stream --profile), RowLinear and FusedGemm
    // cost the same for N = 64 (att_w, fc1: weight reads dominate), while for N = 1 and 3 (att_v, fc2) FusedGemm's
    // 64-column panel made them 0.12 us against 0.08.
    LinearMatch m;
    if (!match_linear(g, uses, n, m, kMaxRowLinearN)) continue;
    const TensorData* B = m.B;
    const std::int64_t K = m.K, N = m.N;
    // W as [K, N] row-major: row k of the matrix the kernel walks.
    std::vector<float> w(static_cast<std::size_t>(K * N));
    const float* src = B->as<float>();
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t c = 0; c < N; ++c)
        w[static_cast<std::size_t>(k * N + c)] = m.trans_b ? src[c * K + k] : src[k * N + c];
    std::vector<float> b(static_cast<std::size_t>(N), 0.f);
    if (m.bias) std::copy(m.bias->as<float>(), m.bias->as<float>() + N, b.begin());
    Node f;
    f.name = n.name + "/row_linear";
    f.op = "RowLinear";
    f.domain = "tickrt";
    f.inputs = {n.inputs[0], g.add_constant(g.unique_name(n.name + "/w_kn"), make_f32(w, {K, N})),
                g.add_constant(g.unique_name(n.name + "/b"), make_f32(b, {N}))};
    f.outputs = {m.out};
    f.attrs["act"].i = static_cast<std::int64_t>(m.act);
    f.attrs["alpha"].kind = Attr::Kind::f;
    f.attrs["alpha"].f = m.alpha;
    n.dead = true;
    for (Node* a : m.absorbed) a->dead = true;
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
