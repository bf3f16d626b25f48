// infer/passes/pattern.hpp — small helpers for matching producer/consumer chains in fusion passes.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "infer/cpu/kernels.hpp"
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

// A linear layer to fuse: MatMul / Gemm of n by a constant float32 B (Gemm: transA 0, alpha 1, and beta 1 with a
// constant bias C of N values), then, each when it is the sole consumer, an Add of a constant row of N (when there
// is no C) and one activation (Relu, LeakyRelu, Tanh, Sigmoid). Used by gemm+bias+activation fusion (FusedGemm)
// and the streaming row-linear pass (RowLinear); the caller replaces n and `absorbed` by one node writing `out`.
struct LinearMatch {
  const TensorData* B = nullptr;
  const TensorData* bias = nullptr;   // C, or the absorbed Add's row; nullptr = none
  bool trans_b = false;
  std::int64_t K = 0, N = 0;
  int out = -1;
  cpu::Act act = cpu::Act::none;
  float alpha = 0.01f;                // LeakyRelu's slope
  std::vector<Node*> absorbed;
};
// False when n is not such a layer, or its N is not below max_n.
inline bool match_linear(Graph& g, const Uses& uses, Node& n, LinearMatch& m,
                         std::int64_t max_n = std::numeric_limits<std::int64_t>::max()) {
  m = LinearMatch{};
  if (n.dead || !n.domain.empty() || (n.op != "MatMul" && n.op != "Gemm")) return false;
  m.B = const_f32(g, n.inputs[1]);
  if (!m.B || m.B->dims.size() != 2) return false;
  if (n.op == "Gemm") {
    if (n.attr_i("transA", 0) != 0 || n.attr_f("alpha", 1.0f) != 1.0f) return false;
    m.trans_b = n.attr_i("transB", 0) != 0;
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      if (n.attr_f("beta", 1.0f) != 1.0f) return false;
      m.bias = const_f32(g, n.inputs[2]);
      if (!m.bias) return false;
    }
  }
  m.K = m.trans_b ? m.B->dims[1] : m.B->dims[0];
  m.N = m.trans_b ? m.B->dims[0] : m.B->dims[1];
  if (m.K < 1 || m.N < 1 || m.N >= max_n) return false;
  if (m.bias) {
    const auto& d = m.bias->dims;
    if (m.bias->count() != m.N || (d.size() == 2 && d[0] != 1)) return false;   // per-row C is not a bias
  }
  m.out = n.outputs[0];
  if (!m.bias) {   // an Add of a constant row after a MatMul
    const int c = uses.sole_consumer(g, m.out);
    if (c >= 0 && is_op(&g.nodes[c], "Add")) {
      Node& add = g.nodes[c];
      const int other = add.inputs[0] == m.out ? add.inputs[1] : add.inputs[0];
      const TensorData* b = const_f32(g, other);
      if (b && b->count() == m.N && !b->dims.empty() && b->dims.back() == m.N) {
        m.bias = b;
        m.absorbed.push_back(&add);
        m.out = add.outputs[0];
      }
    }
  }
  const int c = uses.sole_consumer(g, m.out);
  if (c >= 0 && g.nodes[c].domain.empty()) {
    Node& a = g.nodes[c];
    if (a.op == "Relu") m.act = cpu::Act::relu;
    else if (a.op == "LeakyRelu") { m.act = cpu::Act::leaky_relu; m.alpha = a.attr_f("alpha", 0.01f); }
    else if (a.op == "Tanh") m.act = cpu::Act::tanh;
    else if (a.op == "Sigmoid") m.act = cpu::Act::sigmoid;
    if (m.act != cpu::Act::none) { m.absorbed.push_back(&a); m.out = a.outputs[0]; }
  }
  return true;
}

// Ends a rewriting pass: appended fused nodes are put back in topological order, dead nodes dropped.
inline Result<int> finish_rewrites(Graph& g, int rewrites) {
  if (rewrites) TICKRT_RETURN_IF_ERROR(g.topo_sort());
  g.compact();
  return rewrites;
}

}  // namespace tickrt::infer::passes
