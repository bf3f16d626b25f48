// Multi-head attention glue around tickrt.SDPA -> tickrt.MHA reading the packed projection in place.
//
// torch's nn.MultiheadAttention exports (after sdpa fusion and simplify):
//   qkv [B,T,3D] -> Split(last, 3 equal parts) -> Reshape([.,.,H,dh]) x3 -> Transpose(0,2,1,3) x3
//   -> tickrt.SDPA(q, k, v) -> Transpose(0,2,1,3) -> Reshape([.,.,D]) -> [B,T,D]
// i.e. four copies of the activations (Split, three head transposes, one merge transpose) around a kernel
// whose GEMMs can read any row stride. tickrt.MHA(qkv) takes the projection output as is and writes the
// merged-head result directly: head h of sample b reads q/k/v at column offsets h*dh, D + h*dh, 2D + h*dh
// with row stride 3D and writes out[b, t, h*dh..] with row stride D. No copy remains.
// The Reshapes' first two target entries are kept as attributes (r0, r1, o0, o1) and checked against the
// concrete [B,T] at prepare, so a reshape that would mix batch and time is refused rather than misread.
#include <algorithm>

#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

bool perm_0213(const Node* n) {
  return is_op(n, "Transpose") && n->attr_is("perm") == std::vector<std::int64_t>{0, 2, 1, 3};
}
// Constant int64 shape of a Reshape (allowzero 0), or empty.
std::vector<std::int64_t> reshape_shape(const Graph& g, const Node* n) {
  if (!is_op(n, "Reshape") || n->inputs.size() < 2 || !g.is_const(n->inputs[1]) || n->attr_i("allowzero", 0) != 0) return {};
  return g.const_data(n->inputs[1]).to_i64();
}

}  // namespace

Result<int> fuse_mha(Graph& g) {
  int fused = 0;
  Uses uses(g);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& s = g.nodes[i];
    if (s.dead || s.domain != "tickrt" || s.op != "SDPA" || s.inputs.size() != 3) continue;
    // q, k, v: Transpose(0,2,1,3) <- Reshape([a,b,H,dh]) <- Split output 0, 1, 2 of one Split.
    const Node* split = nullptr;
    std::vector<std::int64_t> shape;
    std::vector<Node*> glue;
    bool ok = true;
    for (int j = 0; j < 3 && ok; ++j) {
      const int in = s.inputs[j];
      const Node* t = producer(g, in);
      ok = perm_0213(t) && uses.sole_consumer(g, in) >= 0;
      if (!ok) break;
      const Node* r = producer(g, t->inputs[0]);
      const auto sh = reshape_shape(g, r);
      ok = sh.size() == 4 && sh[2] > 0 && sh[3] > 0 && (j == 0 || sh == shape) && uses.sole_consumer(g, t->inputs[0]) >= 0;
      if (!ok) break;
      shape = sh;
      const Node* sp = producer(g, r->inputs[0]);
      ok = is_op(sp, "Split") && (j == 0 || sp == split) && sp->outputs.size() == 3 && sp->outputs[j] == r->inputs[0] &&
           uses.sole_consumer(g, r->inputs[0]) >= 0;
      if (!ok) break;
      split = sp;
      glue.push_back(const_cast<Node*>(t));
      glue.push_back(const_cast<Node*>(r));
    }
    if (!ok || !split) continue;
    const std::int64_t axis = split->attr_i("axis", 0);
    if (axis != -1 && axis != 2) continue;
    const std::int64_t H = shape[2], dh = shape[3], D = H * dh;
    std::vector<std::int64_t> sizes;
    if (split->has_attr("split")) sizes = split->attr_is("split");
    else if (split->inputs.size() > 1 && split->inputs[1] >= 0) {
      if (!g.is_const(split->inputs[1])) continue;
      sizes = g.const_data(split->inputs[1]).to_i64();
    }
    if (!sizes.empty() && sizes != std::vector<std::int64_t>{D, D, D}) continue;
    // Output side: Transpose(0,2,1,3) -> Reshape([a,b,D]).
    const int so = s.outputs[0];
    const int tc = uses.sole_consumer(g, so);
    if (tc < 0 || !perm_0213(&g.nodes[tc])) continue;
    const int tout = g.nodes[tc].outputs[0];
    const int rc = uses.sole_consumer(g, tout);
    if (rc < 0) continue;
    const auto osh = reshape_shape(g, &g.nodes[rc]);
    if (osh.size() != 3 || osh[2] != D || g.nodes[rc].inputs[0] != tout) continue;
    Node f;
    f.name = s.name + "/mha";
    f.op = "MHA";
    f.domain = "tickrt";
    f.inputs = {split->inputs[0]};
    f.outputs = {g.nodes[rc].outputs[0]};
    auto set_i = [&](const char* k, std::int64_t v) { f.attrs[k].kind = Attr::Kind::i; f.attrs[k].i = v; };
    set_i("heads", H);
    set_i("head_dim", dh);
    set_i("r0", shape[0]);
    set_i("r1", shape[1]);
    set_i("o0", osh[0]);
    set_i("o1", osh[1]);
    f.attrs["scale"].kind = Attr::Kind::f;
    f.attrs["scale"].f = s.attr_f("scale", 1.0f);
    for (Node* n : glue) n->dead = true;
    const_cast<Node*>(split)->dead = true;
    g.nodes[tc].dead = true;
    g.nodes[rc].dead = true;
    s.dead = true;   // last: `s` is a reference into g.nodes, add_node may reallocate
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
