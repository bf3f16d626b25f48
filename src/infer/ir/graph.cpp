#include "infer/ir/graph.hpp"

#include <algorithm>
#include <unordered_map>

namespace tickrt::infer {

std::int64_t Node::attr_i(const std::string& k, std::int64_t def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.i;
}
float Node::attr_f(const std::string& k, float def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.f;
}
std::string Node::attr_s(const std::string& k, const std::string& def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.s;
}
std::vector<std::int64_t> Node::attr_is(const std::string& k) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? std::vector<std::int64_t>{} : it->second.is;
}
std::vector<float> Node::attr_fs(const std::string& k) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? std::vector<float>{} : it->second.fs;
}
std::string Node::label() const {
  return "node '" + name + "' (" + (domain.empty() ? "" : domain + ".") + op + ")";
}

int Graph::add_value(std::string n, DType t) {
  Value v;
  v.name = std::move(n);
  v.dtype = t;
  values.push_back(std::move(v));
  return static_cast<int>(values.size()) - 1;
}

int Graph::add_constant(std::string n, TensorData data) {
  int id = add_value(std::move(n), data.dtype);
  values[id].shape = data.dims;
  values[id].has_shape = true;
  values[id].constant = std::move(data);
  return id;
}

int Graph::add_node(Node n) {
  const int id = static_cast<int>(nodes.size());
  for (int o : n.outputs)
    if (o >= 0) values[o].producer = id;
  nodes.push_back(std::move(n));
  return id;
}

int Graph::find_value(const std::string& n) const {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].name == n) return static_cast<int>(i);
  return -1;
}

std::string Graph::unique_name(const std::string& base) {
  for (;;) {
    std::string n = base + "__t" + std::to_string(name_counter_++);
    if (find_value(n) < 0) return n;
  }
}

std::vector<std::vector<int>> Graph::consumers() const {
  std::vector<std::vector<int>> c(values.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].dead) continue;
    for (int v : nodes[i].inputs)
      if (v >= 0 && (c[v].empty() || c[v].back() != static_cast<int>(i))) c[v].push_back(static_cast<int>(i));
  }
  return c;
}

bool Graph::is_graph_output(int v) const { return std::find(outputs.begin(), outputs.end(), v) != outputs.end(); }

void Graph::replace_uses(int from, int to) {
  for (auto& n : nodes)
    for (int& v : n.inputs)
      if (v == from) v = to;
  for (int& v : outputs)
    if (v == from) v = to;
}

void Graph::compact() {
  std::vector<char> used(values.size(), 0);
  for (const auto& n : nodes) {
    if (n.dead) continue;
    for (int v : n.inputs) if (v >= 0) used[v] = 1;
    for (int v : n.outputs) if (v >= 0) used[v] = 1;
  }
  for (int v : inputs) used[v] = 1;
  for (int v : outputs) used[v] = 1;
  std::vector<int> remap(values.size(), -1);
  std::vector<Value> nv;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int>(nv.size());
    nv.push_back(std::move(values[i]));
  }
  std::vector<Node> nn;
  for (auto& n : nodes) {
    if (n.dead) continue;
    for (int& v : n.inputs) if (v >= 0) v = remap[v];
    for (int& v : n.outputs) if (v >= 0) v = remap[v];
    nn.push_back(std::move(n));
  }
  for (int& v : inputs) v = remap[v];
  for (int& v : outputs) v = remap[v];
  values = std::move(nv);
  nodes = std::move(nn);
  for (auto& v : values) v.producer = -1;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (int o : nodes[i].outputs) if (o >= 0) values[o].producer = static_cast<int>(i);
}

Status Graph::topo_sort() {
  const std::size_t n = nodes.size();
  std::vector<int> indeg(n, 0);
  std::vector<std::vector<int>> succ(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (nodes[i].dead) continue;
    for (int v : nodes[i].inputs) {
      if (v < 0) continue;
      int p = values[v].producer;
      if (p >= 0 && !nodes[p].dead) { succ[p].push_back(static_cast<int>(i)); ++indeg[i]; }
    }
  }
  std::vector<int> order, ready;
  for (std::size_t i = 0; i < n; ++i)
    if (!nodes[i].dead && indeg[i] == 0) ready.push_back(static_cast<int>(i));
  // Keep original relative order where possible: process the smallest ready index first.
  while (!ready.empty()) {
    auto it = std::min_element(ready.begin(), ready.end());
    int i = *it;
    ready.erase(it);
    order.push_back(i);
    for (int s : succ[i])
      if (--indeg[s] == 0) ready.push_back(s);
  }
  std::size_t live = 0;
  for (auto& nd : nodes) live += !nd.dead;
  if (order.size() != live) return Status(Code::invalid_argument, "graph has a cycle");
  std::vector<Node> sorted;
  for (int i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
  for (auto& v : values) v.producer = -1;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (int o : nodes[i].outputs) if (o >= 0) values[o].producer = static_cast<int>(i);
  return Status::Ok();
}

Status Graph::validate() const {
  std::vector<char> defined(values.size(), 0);
  for (int v : inputs) defined[v] = 1;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].constant) defined[i] = 1;
  for (const auto& n : nodes) {
    if (n.dead) continue;
    for (int v : n.inputs) {
      if (v < -1 || v >= static_cast<int>(values.size()))
        return Status(Code::internal, n.label() + ": input id out of range");
      if (v >= 0 && !defined[v])
        return Status(Code::invalid_argument, n.label() + ": input '" + values[v].name +
                                                  "' is not produced by an earlier node, an initializer or a graph input");
    }
    for (int v : n.outputs) {
      if (v < 0) continue;
      if (defined[v]) return Status(Code::invalid_argument, n.label() + ": output '" + values[v].name + "' is defined twice");
      defined[v] = 1;
    }
  }
  for (int v : outputs)
    if (!defined[v]) return Status(Code::invalid_argument, "graph output '" + values[v].name + "' is never produced");
  return Status::Ok();
}

std::map<std::string, int> Graph::op_histogram() const {
  std::map<std::string, int> h;
  for (const auto& n : nodes)
    if (!n.dead) ++h[(n.domain.empty() ? "" : n.domain + ".") + n.op];
  return h;
}

}  // namespace tickrt::infer
