// infer/ir/graph.hpp — the engine's graph IR.
//
// A Graph is SSA: each Value is produced by at most one Node (or is a graph input / constant).
// Nodes are kept in topological order (the importer checks it; passes preserve it with topo_sort()).
// Removed nodes are erased by compact(); passes may mark nodes dead and call compact() once.
// Fused ops use domain "tickrt" (e.g. tickrt.FusedGemm, tickrt.FusedLSTM); their constant operands
// (pre-packed weights) are ordinary constant Values with dtype f32 and a 1-D shape.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "infer/ir/tensor.hpp"

namespace tickrt::infer {

struct Attr {
  enum class Kind : std::uint8_t { f, i, s, fs, is, ss, t } kind = Kind::i;
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  std::vector<float> fs;
  std::vector<std::int64_t> is;
  std::vector<std::string> ss;
  std::optional<TensorData> t;
};

struct Value {
  std::string name;
  DType dtype = DType::undefined;
  Dims shape;                   // may hold -1 for unknown dims; empty + !has_shape = unknown rank
  bool has_shape = false;
  std::optional<TensorData> constant;  // initializers and folded values
  int producer = -1;            // node index, -1 for inputs/constants
};

struct Node {
  std::string name;
  std::string op;
  std::string domain;           // "" = ai.onnx, "tickrt" = fused ops
  std::vector<int> inputs;      // value ids; -1 = omitted optional input
  std::vector<int> outputs;     // value ids; -1 = omitted optional output
  std::map<std::string, Attr> attrs;
  bool dead = false;

  // attribute helpers (defaults when absent)
  std::int64_t attr_i(const std::string& k, std::int64_t def) const;
  float attr_f(const std::string& k, float def) const;
  std::string attr_s(const std::string& k, const std::string& def) const;
  std::vector<std::int64_t> attr_is(const std::string& k) const;
  std::vector<float> attr_fs(const std::string& k) const;
  bool has_attr(const std::string& k) const { return attrs.count(k) != 0; }
  std::string label() const;     // "'name' (Op)" for error messages
};

class Graph {
 public:
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;       // non-constant graph inputs
  std::vector<int> outputs;
  std::int64_t opset = 17;
  std::map<std::string, std::string> metadata;
  std::string name;

  int add_value(std::string name, DType t = DType::undefined);
  int add_constant(std::string name, TensorData data);
  int add_node(Node n);          // appends; sets producers; caller keeps topological order
  int find_value(const std::string& name) const;  // -1 if absent
  std::string unique_name(const std::string& base);

  bool is_const(int v) const { return v >= 0 && values[v].constant.has_value(); }
  const TensorData& const_data(int v) const { return *values[v].constant; }
  // Consumers of each value (node indices; graph outputs are not nodes: see is_graph_output).
  std::vector<std::vector<int>> consumers() const;
  bool is_graph_output(int v) const;
  // Replace every use of `from` (node inputs and graph outputs) by `to`.
  void replace_uses(int from, int to);
  // Drop dead nodes and unreferenced values; renumber; recompute producers.
  void compact();
  Status topo_sort();
  Status validate() const;       // SSA, topological order, ids in range
  // Histogram "Op" -> count over live nodes (domain-prefixed for non-ONNX ops).
  std::map<std::string, int> op_histogram() const;

 private:
  int name_counter_ = 0;
};

}  // namespace tickrt::infer
