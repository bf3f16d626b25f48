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
    if (n.dead || !n.domain.empty() || (n.op != "MatMul" && n.op != "Gemm")) continue;
    const TensorData* B = const_f32(g, n.inputs[1]);
    if (!B || B->dims.size() != 2) continue;
    bool trans_b = false;
    const TensorData* bias = nullptr;
    if (n.op == "Gemm") {
      if (n.attr_i("transA", 0) != 0 || n.attr_f("alpha", 1.0f) != 1.0f) continue;
      trans_b = n.attr_i("transB", 0) != 0;
      if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
        if (n.attr_f("beta", 1.0f) != 1.0f) continue;
        bias = const_f32(g, n.inputs[2]);
        if (!bias) continue;
      }
    }
    const std::int64_t K = trans_b ? B->dims[1] : B->dims[0];
    const std::int64_t N = trans_b ? B->dims[0] : B->dims[1];
    // Only narrow layers: measured on lstm_attn_stream's step (VM, bench_stream --profile), RowLinear and FusedGemm
    // cost the same for N = 64 (att_w, fc1: weight reads dominate), while for N = 1 and 3 (att_v, fc2) FusedGemm's
    // 64-column panel made them 0.12 us against 0.08.
    if (K < 1 || N < 1 || N >= kMaxRowLinearN) continue;
    if (bias) {
      const auto& d = bias->dims;
      if (bias->count() != N || (d.size() == 2 && d[0] != 1)) continue;   // per-row C is not a bias
    }
    int out = n.outputs[0];
    std::vector<Node*> absorbed;
    if (!bias) {   // an Add of a constant row after a MatMul
      const int c = uses.sole_consumer(g, out);
      if (c >= 0 && is_op(&g.nodes[c], "Add")) {
        Node& add = g.nodes[c];
        const int other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
        const TensorData* b = const_f32(g, other);
        if (b && b->count() == N && !b->dims.empty() && b->dims.back() == N) {
          bias = b;
          absorbed.push_back(&add);
          out = add.outputs[0];
        }
      }
    }
    cpu::Act act = cpu::Act::none;
    float alpha = 0.01f;
    {
      const int c = uses.sole_consumer(g, out);
      if (c >= 0 && g.nodes[c].domain.empty()) {
        Node& a = g.nodes[c];
        if (a.op == "Relu") act = cpu::Act::relu;
        else if (a.op == "LeakyRelu") { act = cpu::Act::leaky_relu; alpha = a.attr_f("alpha", 0.01f); }
        else if (a.op == "Tanh") act = cpu::Act::tanh;
        else if (a.op == "Sigmoid") act = cpu::Act::sigmoid;
        if (act != cpu::Act::none) { absorbed.push_back(&a); out = a.outputs[0]; }
      }
    }
    // W as [K, N] row-major: row k of the matrix the kernel walks.
    std::vector<float> w(static_cast<std::size_t>(K * N));
    const float* src = B->as<float>();
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t c = 0; c < N; ++c)
        w[static_cast<std::size_t>(k * N + c)] = trans_b ? src[c * K + k] : src[k * N + c];
    std::vector<float> b(static_cast<std::size_t>(N), 0.f);
    if (bias) std::copy(bias->as<float>(), bias->as<float>() + N, b.begin());
    Node f;
    f.name = n.name + "/row_linear";
    f.op = "RowLinear";
    f.domain = "tickrt";
    f.inputs = {n.inputs[0], g.add_constant(g.unique_name(n.name + "/w_kn"), make_f32(w, {K, N})),
                g.add_constant(g.unique_name(n.name + "/b"), make_f32(b, {N}))};
    f.outputs = {out};
    f.attrs["act"].i = static_cast<std::int64_t>(act);
    f.attrs["alpha"].kind = Attr::Kind::f;
    f.attrs["alpha"].f = alpha;
    n.dead = true;
    for (Node* a : absorbed) a->dead = true;
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
