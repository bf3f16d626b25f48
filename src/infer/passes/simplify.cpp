// Algebraic clean-ups that fusion passes rely on to leave no glue behind:
//   Transpose(Transpose(x, p1), p2) -> Transpose(x, p1 o p2), and an identity permutation -> x;
//   Squeeze(Unsqueeze(x, a), a) -> x;   Identity(x) / inference Dropout(x) -> x.
#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {

Result<int> simplify(Graph& g) {
  int changed = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (n.dead || !n.domain.empty() || n.outputs.empty()) continue;
    const int out = n.outputs[0];
    if (n.op == "Transpose") {
      const Node* p = producer(g, n.inputs[0]);
      auto perm = n.attr_is("perm");
      if (is_op(p, "Transpose") && !perm.empty() && !p->attr_is("perm").empty()) {
        const auto inner = p->attr_is("perm");
        std::vector<std::int64_t> composed(perm.size());
        for (std::size_t k = 0; k < perm.size(); ++k) composed[k] = inner[perm[k]];
        n.inputs[0] = p->inputs[0];
        n.attrs["perm"].is = composed;
        perm = composed;
        ++changed;
      }
      bool identity = !perm.empty();
      for (std::size_t k = 0; k < perm.size(); ++k) identity = identity && perm[k] == static_cast<std::int64_t>(k);
      if (identity && !g.is_graph_output(out)) {
        g.replace_uses(out, n.inputs[0]);
        n.dead = true;
        ++changed;
      } else if (identity) {
        // The output is a graph output (its name is the model's interface): let the producer of the input
        // write it directly, when nobody else reads the input.
        const int in = n.inputs[0];
        const int p = g.values[in].producer;
        auto cons = g.consumers();
        if (p >= 0 && !g.is_graph_output(in) && cons[in].size() == 1) {
          for (int& o : g.nodes[p].outputs)
            if (o == in) o = out;
          g.values[out].producer = p;
          n.dead = true;
          ++changed;
        }
      }
    } else if (n.op == "Squeeze") {
      const Node* p = producer(g, n.inputs[0]);
      if (is_op(p, "Unsqueeze") && node_axes(g, n) == node_axes(g, *p) && !node_axes(g, n).empty() && !g.is_graph_output(out)) {
        g.replace_uses(out, p->inputs[0]);
        n.dead = true;
        ++changed;
      }
    } else if ((n.op == "Identity" || (n.op == "Dropout" && (n.outputs.size() < 2 || n.outputs[1] < 0) && n.inputs.size() < 3)) &&
               !g.is_graph_output(out)) {
      g.replace_uses(out, n.inputs[0]);
      n.dead = true;
      ++changed;
    }
  }
  auto dce = eliminate_dead_nodes(g);
  if (!dce) return dce.status();
  return changed;
}

}  // namespace tickrt::infer::passes
