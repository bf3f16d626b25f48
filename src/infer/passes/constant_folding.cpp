#include "infer/passes/passes.hpp"
#include "infer/ops/op.hpp"
#include "infer/runtime/plan.hpp"

namespace tickrt::infer::passes {

Result<int> fold_constants(Graph& g, cpu::Isa isa) {
  int folded = 0;
  for (auto& n : g.nodes) {
    if (n.dead) continue;
    bool all_const = true;
    std::vector<const TensorData*> ins;
    for (int v : n.inputs) {
      if (v < 0) { ins.push_back(nullptr); continue; }
      if (!g.is_const(v)) { all_const = false; break; }
      ins.push_back(&g.const_data(v));
    }
    if (!all_const || !find_op(n.domain, n.op)) continue;   // unsupported ops are reported after fusion
    auto outs = evaluate_node(n, g.opset, isa, ins);
    if (!outs) return outs.status().with_context("constant folding");
    for (std::size_t o = 0; o < n.outputs.size(); ++o) {
      const int v = n.outputs[o];
      if (v < 0) continue;
      g.values[v].constant = std::move((*outs)[o]);
      g.values[v].dtype = g.values[v].constant->dtype;
      g.values[v].shape = g.values[v].constant->dims;
      g.values[v].has_shape = true;
      g.values[v].producer = -1;
    }
    n.dead = true;
    ++folded;
  }
  g.compact();
  return folded;
}

}  // namespace tickrt::infer::passes
