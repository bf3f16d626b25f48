#include "infer/passes/passes.hpp"

namespace tickrt::infer::passes {

Result<int> eliminate_dead_nodes(Graph& g) {
  std::vector<char> live_value(g.values.size(), 0);
  for (int v : g.outputs) live_value[v] = 1;
  int removed = 0;
  // Nodes are in topological order: walk backwards, keep a node if any output is live.
  for (int i = static_cast<int>(g.nodes.size()) - 1; i >= 0; --i) {
    Node& n = g.nodes[i];
    if (n.dead) continue;
    bool live = false;
    for (int o : n.outputs) live = live || (o >= 0 && live_value[o]);
    if (!live) { n.dead = true; ++removed; continue; }
    for (int v : n.inputs) if (v >= 0) live_value[v] = 1;
  }
  // Optional outputs nobody reads are dropped (e.g. LSTM's Y_h, Y_c): lets kernels skip writing them.
  for (auto& n : g.nodes) {
    if (n.dead) continue;
    for (std::size_t o = 1; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0 && !live_value[n.outputs[o]]) n.outputs[o] = -1;
  }
  g.compact();
  return removed;
}

}  // namespace tickrt::infer::passes
