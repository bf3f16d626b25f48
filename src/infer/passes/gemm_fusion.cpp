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
    if (bias) {
      const auto& d = bias->dims;
      if (bias->count() != N || (d.size() == 2 && d[0] != 1)) continue;   // per-row C is not a bias
    }
    int out = n.outputs[0];
    std::vector<Node*> absorbed;
    // Optional bias Add.
    if (!bias) {
      const int c = uses.sole_consumer(g, out);
      if (c >= 0 && is_op(&g.nodes[c], "Add")) {
        Node& add = g.nodes[c];
        const int other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
        const TensorData* b = const_f32(g, other);
        bool row = b && b->count() == N && !b->dims.empty() && b->dims.back() == N;
        if (row) {
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
    std::vector<float> packed(cpu::gemm_packed_b_floats(isa, static_cast<int>(K), static_cast<int>(N)));
    cpu::gemm_pack_b(isa, B->as<float>(), static_cast<int>(K), static_cast<int>(N), trans_b, packed.data());
    Node f;
    f.name = n.name;
    f.op = "FusedGemm";
    f.domain = "tickrt";
    f.inputs = {n.inputs[0], g.add_constant(g.unique_name(n.name + "/packed"), make_f32(packed, {static_cast<std::int64_t>(packed.size())}))};
    if (bias) {
      std::vector<float> b(bias->as<float>(), bias->as<float>() + N);
      f.inputs.push_back(g.add_constant(g.unique_name(n.name + "/bias"), make_f32(b, {N})));
    }
    f.outputs = {out};
    f.attrs["K"].i = K;
    f.attrs["N"].i = N;
    f.attrs["act"].i = static_cast<std::int64_t>(act);
    f.attrs["alpha"].kind = Attr::Kind::f;
    f.attrs["alpha"].f = alpha;
    f.attrs["isa"].i = static_cast<std::int64_t>(isa);
    n.dead = true;
    for (Node* a : absorbed) a->dead = true;
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
