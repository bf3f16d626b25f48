// infer/passes/pattern.hpp — small helpers for matching producer/consumer chains in fusion passes.
#pragma once

#include <string>
#include <vector>

#include "infer/ir/graph.hpp"

namespace tickrt::infer::passes {

// A view of the graph's use lists, rebuilt by each pass before matching (passes are not hot).
struct Uses {
  std::vector<std::vector<int>> by_value;
  explicit Uses(const Graph& g) : by_value(g.consumers()) {}
  // The one node that reads v, or -1 if v has several readers or is a graph output.
  int sole_consumer(const Graph& g, int v) const {
    if (v < 0 || g.is_graph_output(v) || by_value[v].size() != 1) return -1;
    return by_value[v][0];
  }
};

inline const Node* producer(const Graph& g, int v) {
  if (v < 0) return nullptr;
  const int p = g.values[v].producer;
  return p >= 0 && !g.nodes[p].dead ? &g.nodes[p] : nullptr;
}
inline bool is_op(const Node* n, const char* op) { return n && n->domain.empty() && n->op == op; }

// Constant float32 tensor or nullptr.
inline const TensorData* const_f32(const Graph& g, int v) {
  return g.is_const(v) && g.const_data(v).dtype == DType::f32 ? &g.const_data(v) : nullptr;
}

// Axes of a Squeeze/Unsqueeze/Reduce* node (attribute before opset 13, constant input after); empty if unknown.
inline std::vector<std::int64_t> node_axes(const Graph& g, const Node& n) {
  if (n.has_attr("axes")) return n.attr_is("axes");
  if (n.inputs.size() > 1 && g.is_const(n.inputs[1])) return g.const_data(n.inputs[1]).to_i64();
  return {};
}

// A TensorData holding f32 values.
inline TensorData make_f32(const std::vector<float>& v, Dims dims) {
  return TensorData::from_bytes(DType::f32, std::move(dims), v.data(), v.size() * sizeof(float));
}

// Ends a rewriting pass: appended fused nodes are put back in topological order, dead nodes dropped.
inline Result<int> finish_rewrites(Graph& g, int rewrites) {
  if (rewrites) TICKRT_RETURN_IF_ERROR(g.topo_sort());
  g.compact();
  return rewrites;
}

}  // namespace tickrt::infer::passes
