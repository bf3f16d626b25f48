// Attention fusions.
//  additive (Bahdanau), as torch exports `ctx = sum_t softmax_t(v . tanh(W h_t + b)) h_t`:
//    MatMul(h, W^T) -> Add(b) -> Tanh -> MatMul(v) [-> Add(bv)] -> Softmax(axis 1) -> Mul(h) -> ReduceSum(axis 1)
//    becomes tickrt.AdditiveAttention(h) with W, b, v, bv packed for the ISA.
//  scaled dot-product: MatMul(Mul(Q, s) or Q, K^T) [-> Mul(s)] -> Softmax(last) -> MatMul(., V) becomes
//    tickrt.SDPA(Q, K, V, scale); K^T must come from a Transpose, whose swap of the last two axes is undone by a
//    new Transpose that simplify() composes with it (so K is read in its natural layout).
#include <cmath>

#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

bool scalar_f32(const Graph& g, int v, float& out) {
  const TensorData* t = const_f32(g, v);
  if (!t || t->count() != 1) return false;
  out = t->as<float>()[0];
  return true;
}

}  // namespace

Result<int> fuse_additive_attention(Graph& g, cpu::Isa isa) {
  int fused = 0;
  Uses uses(g);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& rs = g.nodes[i];
    if (rs.dead || !rs.domain.empty() || rs.op != "ReduceSum" || rs.attr_i("keepdims", 1) != 0) continue;
    const auto axes = node_axes(g, rs);
    if (axes != std::vector<std::int64_t>{1} && axes != std::vector<std::int64_t>{-2}) continue;
    const Node* mul = producer(g, rs.inputs[0]);
    if (!is_op(mul, "Mul") || uses.sole_consumer(g, rs.inputs[0]) < 0) continue;
    for (int side = 0; side < 2; ++side) {
      const int smv = mul->inputs[side], h = mul->inputs[1 - side];
      const Node* sm = producer(g, smv);
      if (!is_op(sm, "Softmax") || uses.sole_consumer(g, smv) < 0) continue;
      const std::int64_t sm_axis = sm->attr_i("axis", g.opset >= 13 ? -1 : 1);
      if (sm_axis != 1 && sm_axis != -2) continue;
      int sv = sm->inputs[0];
      float bv = 0.0f;
      const Node* s = producer(g, sv);
      if (is_op(s, "Add") && uses.sole_consumer(g, sv) >= 0) {   // optional scalar bias of the score
        float tmp;
        if (scalar_f32(g, s->inputs[1], tmp)) { bv = tmp; sv = s->inputs[0]; }
        else if (scalar_f32(g, s->inputs[0], tmp)) { bv = tmp; sv = s->inputs[1]; }
        else continue;
        s = producer(g, sv);
      }
      if (!is_op(s, "MatMul") || uses.sole_consumer(g, sv) < 0) continue;
      const TensorData* vcol = const_f32(g, s->inputs[1]);
      if (!vcol || vcol->dims.size() != 2 || vcol->dims[1] != 1) continue;
      const std::int64_t A = vcol->dims[0];
      const Node* th = producer(g, s->inputs[0]);
      if (!is_op(th, "Tanh") || uses.sole_consumer(g, s->inputs[0]) < 0) continue;
      const Node* add = producer(g, th->inputs[0]);
      if (!is_op(add, "Add") || uses.sole_consumer(g, th->inputs[0]) < 0) continue;
      int mmv = -1;
      const TensorData* bw = nullptr;
      for (int a = 0; a < 2; ++a)
        if (const TensorData* t = const_f32(g, add->inputs[a]); t && t->count() == A) { bw = t; mmv = add->inputs[1 - a]; }
      if (!bw) continue;
      const Node* mm = producer(g, mmv);
      if (!is_op(mm, "MatMul") || mm->inputs[0] != h || uses.sole_consumer(g, mmv) < 0) continue;
      const TensorData* wt = const_f32(g, mm->inputs[1]);
      if (!wt || wt->dims.size() != 2 || wt->dims[1] != A) continue;
      const std::int64_t D = wt->dims[0];
      // W [A,D] = (W^T)^T
      std::vector<float> w(static_cast<std::size_t>(A * D));
      for (std::int64_t a = 0; a < A; ++a)
        for (std::int64_t d = 0; d < D; ++d) w[a * D + d] = wt->as<float>()[d * A + a];
      std::vector<float> packed(cpu::additive_attention_packed_floats(isa, static_cast<int>(D), static_cast<int>(A)));
      cpu::additive_attention_pack(isa, static_cast<int>(D), static_cast<int>(A), w.data(), bw->as<float>(), vcol->as<float>(), bv,
                                   packed.data());
      Node f;
      f.name = rs.name + "/additive_attention";
      f.op = "AdditiveAttention";
      f.domain = "tickrt";
      f.inputs = {h, g.add_constant(g.unique_name(f.name + "/packed"), make_f32(packed, {static_cast<std::int64_t>(packed.size())}))};
      f.outputs = {rs.outputs[0]};
      f.attrs["D"].i = D;
      f.attrs["A"].i = A;
      f.attrs["isa"].i = static_cast<std::int64_t>(isa);
      rs.dead = true;   // the chain above loses its only reader: dead-node elimination removes it
      g.add_node(std::move(f));
      ++fused;
      break;
    }
  }
  if (fused) {
    TICKRT_RETURN_IF_ERROR(g.topo_sort());
    auto d = eliminate_dead_nodes(g);
    if (!d) return d.status();
  }
  return fused;
}

Result<int> fuse_sdpa(Graph& g, cpu::Isa isa) {
  (void)isa;
  int fused = 0;
  Uses uses(g);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& pv = g.nodes[i];
    if (pv.dead || !pv.domain.empty() || pv.op != "MatMul") continue;
    const Node* sm = producer(g, pv.inputs[0]);
    if (!is_op(sm, "Softmax") || uses.sole_consumer(g, pv.inputs[0]) < 0) continue;
    if (sm->attr_i("axis", -1) != -1 && g.opset >= 13) {
      // axis must be the last one; without shapes we only accept -1 (torch's export).
      continue;
    }
    if (g.opset < 13) continue;
    int sv = sm->inputs[0];
    float scale = 1.0f;
    const Node* s = producer(g, sv);
    if (is_op(s, "Mul") && uses.sole_consumer(g, sv) >= 0) {
      float t;
      if (scalar_f32(g, s->inputs[1], t)) { scale = t; sv = s->inputs[0]; }
      else if (scalar_f32(g, s->inputs[0], t)) { scale = t; sv = s->inputs[1]; }
      else continue;
      s = producer(g, sv);
    }
    if (!is_op(s, "MatMul") || uses.sole_consumer(g, sv) < 0) continue;
    int q = s->inputs[0];
    const Node* qs = producer(g, q);
    if (is_op(qs, "Mul") && uses.sole_consumer(g, q) >= 0) {
      float t;
      if (scalar_f32(g, qs->inputs[1], t)) { scale *= t; q = qs->inputs[0]; }
      else if (scalar_f32(g, qs->inputs[0], t)) { scale *= t; q = qs->inputs[1]; }
    }
    const Node* kt = producer(g, s->inputs[1]);
    if (!is_op(kt, "Transpose") || kt->attr_is("perm").size() < 2) continue;
    const std::size_t r = kt->attr_is("perm").size();
    std::vector<std::int64_t> swap(r);
    for (std::size_t a = 0; a < r; ++a) swap[a] = static_cast<std::int64_t>(a);
    std::swap(swap[r - 1], swap[r - 2]);
    Node t;
    t.name = g.unique_name(pv.name + "/k");
    t.op = "Transpose";
    t.attrs["perm"].kind = Attr::Kind::is;
    t.attrs["perm"].is = swap;
    t.inputs = {s->inputs[1]};
    const int kv = g.add_value(g.unique_name(pv.name + "/K"), DType::f32);
    t.outputs = {kv};
    Node f;
    f.name = pv.name + "/sdpa";
    f.op = "SDPA";
    f.domain = "tickrt";
    f.inputs = {q, kv, pv.inputs[1]};
    f.outputs = {pv.outputs[0]};
    f.attrs["scale"].kind = Attr::Kind::f;
    f.attrs["scale"].f = scale;
    pv.dead = true;
    g.add_node(std::move(t));
    g.add_node(std::move(f));
    ++fused;
  }
  if (fused) {
    TICKRT_RETURN_IF_ERROR(g.topo_sort());
    auto d = eliminate_dead_nodes(g);
    if (!d) return d.status();
  }
  return fused;
}

}  // namespace tickrt::infer::passes
