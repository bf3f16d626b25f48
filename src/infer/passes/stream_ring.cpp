// Streaming step graphs: the ring of past outputs as a circular buffer (no shift per step).
//
// After fuse_stream_ops, a step graph updates each ring state with tickrt.RingShift(ring, new) (drop the
// oldest entry, append `new`): lstm_attn_stream does it for ring [B, K, D], ring_score [B, K] and
// ring_valid [B, K], rewriting 16.6 KB per step. When every consumer of the shifted rings is blind to the
// ORDER of the K entries, the rings may instead stay in place and `new` overwrite the oldest entry: this
// pass rewrites
//   RingShift(ring_i, new_i) -> ring_i_out            (for every ring state i)
// into
//   RingWrite(ring_i, new_i, head) -> ring_i_out      (row head[b] of ring_i := new_i; no copy when the
//                                                      context binds ring_i and ring_i_out to one buffer)
//   RingHeadNext(head) -> head_out                    ((head + 1) mod K)
// with one new state pair `tickrt.ring_head:tickrt.ring_head_out` ([B] float32, 0 after a reset), and
// metadata `tickrt.state_inplace` naming the ring inputs, which StreamContext then updates in place
// (infer/stream.hpp). All rings share the head, so they stay rotated together.
//
// When it applies (else the graph is left as it is: RingShift, correct in any graph):
//   * the graph is streaming (metadata tickrt.state), and every RingShift whose ring is a state input
//     writes that input's paired state output, along axis 1, with the same known K > 1; the state input
//     has no other consumer (so overwriting it in place cannot change what another node reads);
//   * "ring-ordered" values = the RingShift outputs, and what is computed from them by: elementwise ops
//     (Add, Sub, Mul, Div, Neg, Exp, Tanh, Sigmoid, Relu, Abs) whose other operands are ring-ordered with
//     the same shape or a constant of one element; Softmax over axis 1 of a rank-2 value. These all
//     commute with a rotation of the K axis;
//   * a ring-ordered value reaches no graph output except its own paired state output, and no node other
//     than the above and tickrt.WeightedSum(a, v) with BOTH a and v ring-ordered (sum over K: the order
//     of the terms changes the float rounding only);
//   * the graph has no state pair named tickrt.ring_head already.
// Numerics: the softmax and the weighted sum add the same terms in a rotated order, so results agree with
// the shifted graph to float rounding (tests/infer_stream: 10,000 real ticks vs PyTorch within 1e-4).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t a = 0;
  while (a <= s.size()) {
    const std::size_t b = s.find(sep, a);
    std::string part = s.substr(a, b == std::string::npos ? std::string::npos : b - a);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    if (b == std::string::npos) break;
    a = b + 1;
  }
  return out;
}

bool one_element_const(const Graph& g, int v) {
  return g.is_const(v) && g.const_data(v).count() == 1;
}

bool elementwise(const Node& n) {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Neg", "Exp", "Tanh", "Sigmoid", "Relu", "Abs"};
  return n.domain.empty() && ops.count(n.op) != 0;
}

}  // namespace

Result<int> circular_stream_rings(Graph& g) {
  auto st = g.metadata.find("tickrt.state");
  if (st == g.metadata.end() || g.metadata.count("tickrt.state_inplace")) return 0;
  // The Slice that RingShift replaced is orphaned, not yet removed: drop unused nodes so the consumer
  // counts below are the real ones.
  if (auto d = eliminate_dead_nodes(g); !d) return d.status();
  // state input value -> paired state output value
  std::map<int, int> pair_out;
  for (const auto& item : split_list(st->second, ',')) {
    const auto io = split_list(item, ':');
    if (io.size() != 2) return 0;   // parse_stream_spec reports it
    if (io[0] == "tickrt.ring_head") return 0;
    const int vi = g.find_value(io[0]), vo = g.find_value(io[1]);
    if (vi < 0 || vo < 0) return 0;
    pair_out[vi] = vo;
  }
  const auto cons = g.consumers();
  std::vector<int> shifts;   // RingShift node indices on state rings
  std::int64_t K = -1;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.dead || n.domain != "tickrt" || n.op != "RingShift") continue;
    const int ring = n.inputs[0];
    const auto po = pair_out.find(ring);
    if (po == pair_out.end()) continue;   // a ring that is not state: not ours to rotate
    const Value& rv = g.values[ring];
    if (po->second != n.outputs[0]) return 0;
    if (n.attr_i("axis", 1) != 1 || !rv.has_shape || rv.shape.size() < 2 || rv.shape[1] < 2) return 0;
    if (K >= 0 && rv.shape[1] != K) return 0;
    K = rv.shape[1];
    if (cons[ring].size() != 1 || g.is_graph_output(ring)) return 0;
    shifts.push_back(static_cast<int>(i));
  }
  if (shifts.empty()) return 0;

  // Propagate "ring-ordered" through the order-blind ops; anything else means: leave the graph as it is.
  // ordered[v] = rank of a ring-ordered value (every one is [B, K] or [B, K, ...]: derived from a ring by
  // shape-preserving ops), 0 = not ring-ordered. Same-rank ring-ordered operands have the same shape.
  std::vector<int> ordered(g.values.size(), 0);
  std::vector<int> work;
  for (int i : shifts) {
    const int o = g.nodes[i].outputs[0];
    ordered[o] = static_cast<int>(g.values[g.nodes[i].inputs[0]].shape.size());
    work.push_back(o);
  }
  std::set<int> own_outputs;
  for (int i : shifts) own_outputs.insert(g.nodes[i].outputs[0]);
  while (!work.empty()) {
    const int v = work.back();
    work.pop_back();
    if (g.is_graph_output(v) && !own_outputs.count(v)) return 0;
    for (int ci : cons[v]) {
      const Node& c = g.nodes[ci];
      if (c.dead) continue;
      if (c.domain == "tickrt" && c.op == "WeightedSum") {
        if (c.inputs.size() != 2 || !ordered[c.inputs[0]] || !ordered[c.inputs[1]]) return 0;
        continue;   // the sum over K leaves an order-free value
      }
      bool ok = false;
      const int rank = ordered[v];
      if (elementwise(c) && c.outputs.size() == 1) {
        ok = true;
        for (int in : c.inputs) {
          if (in < 0) { ok = false; break; }
          if (ordered[in]) {
            if (ordered[in] != rank) ok = false;   // [B,K,D] with [B,K] would broadcast K against D
          } else if (!one_element_const(g, in) || static_cast<int>(g.const_data(in).dims.size()) > rank) {
            ok = false;                            // a tensor operand, or a [1,1,1,1] that raises the rank
          }
        }
      } else if (c.domain.empty() && c.op == "Softmax" && c.outputs.size() == 1) {
        const std::int64_t ax = c.attr_i("axis", g.opset >= 13 ? -1 : 1);
        ok = rank == 2 && (ax == 1 || ax == -1);
      }
      if (!ok) return 0;
      const int out = c.outputs[0];
      if (!ordered[out]) {
        ordered[out] = rank;
        work.push_back(out);
      }
    }
  }

  // Rewrite.
  const int head = g.add_value("tickrt.ring_head", DType::f32);
  g.values[head].shape = {-1};
  g.values[head].has_shape = true;
  g.inputs.push_back(head);
  const int head_out = g.add_value("tickrt.ring_head_out", DType::f32);
  g.values[head_out].shape = {-1};
  g.values[head_out].has_shape = true;
  std::string inplace;
  for (int i : shifts) {
    Node& s = g.nodes[i];
    Node w;
    w.name = s.name + "/circular";
    w.op = "RingWrite";
    w.domain = "tickrt";
    w.inputs = {s.inputs[0], s.inputs[1], head};
    w.outputs = s.outputs;
    inplace += (inplace.empty() ? "" : ",") + g.values[s.inputs[0]].name;
    s.dead = true;
    g.add_node(std::move(w));
  }
  Node nx;
  nx.name = "tickrt.ring_head/next";
  nx.op = "RingHeadNext";
  nx.domain = "tickrt";
  nx.inputs = {head};
  nx.outputs = {head_out};
  nx.attrs["k"].i = K;
  g.add_node(std::move(nx));
  g.outputs.push_back(head_out);
  st->second += ",tickrt.ring_head:tickrt.ring_head_out";
  g.metadata["tickrt.state_inplace"] = inplace;
  return finish_rewrites(g, static_cast<int>(shifts.size()));
}

}  // namespace tickrt::infer::passes
