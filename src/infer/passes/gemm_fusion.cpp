// MatMul(X, W const [K,N]) or Gemm(A, B const, C const) (transA 0, alpha 1, beta 1), then an optional
// Add of a constant bias of N values and an optional Relu/LeakyRelu/Tanh/Sigmoid, become one
// tickrt.FusedGemm: one pass over memory, B pre-packed into the ISA's panel layout at build time.
#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {

Result<int> fuse_gemm_bias_act(Graph& g, cpu::Isa isa) {
  int fused = 0;
  Uses uses(g);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& n = g.nodes[i];
    LinearMatch m;
    if (!match_linear(g, uses, n, m)) continue;
    const TensorData* B = m.B;
    const std::int64_t K = m.K, N = m.N;
    std::vector<float> packed(cpu::gemm_packed_b_floats(isa, static_cast<int>(K), static_cast<int>(N)));
    cpu::gemm_pack_b(isa, B->as<float>(), static_cast<int>(K), static_cast<int>(N), m.trans_b, packed.data());
    Node f;
    f.name = n.name;
    f.op = "FusedGemm";
    f.domain = "tickrt";
    f.inputs = {n.inputs[0], g.add_constant(g.unique_name(n.name + "/packed"), make_f32(packed, {static_cast<std::int64_t>(packed.size())}))};
    if (m.bias) {
      std::vector<float> b(m.bias->as<float>(), m.bias->as<float>() + N);
      f.inputs.push_back(g.add_constant(g.unique_name(n.name + "/bias"), make_f32(b, {N})));
    }
    f.outputs = {m.out};
    f.attrs["K"].i = K;
    f.attrs["N"].i = N;
    f.attrs["act"].i = static_cast<std::int64_t>(m.act);
    f.attrs["alpha"].kind = Attr::Kind::f;
    f.attrs["alpha"].f = m.alpha;
    f.attrs["isa"].i = static_cast<std::int64_t>(isa);
    n.dead = true;
    for (Node* a : m.absorbed) a->dead = true;
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
