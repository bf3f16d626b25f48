// Chains of float32 elementwise ops -> one tickrt.ElementwiseChain: one pass over memory instead of one per op.
// Links: unary Relu, LeakyRelu, Tanh, Sigmoid, Exp, Neg, Abs, Sqrt, and Add/Sub/Mul/Div with a constant scalar
// (either side). A chain needs at least two links, each intermediate read only by the next link.
#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

// Link codes shared with ops/fused.cpp (ElementwiseChain's "ops" attribute); the scalar goes in "args".
enum Link : std::int64_t { relu = 0, leaky, tanh_, sigmoid, exp_, neg, abs_, sqrt_, add_s, sub_s, rsub_s, mul_s, div_s, rdiv_s };

bool as_link(const Graph& g, const Node& n, std::int64_t& code, float& arg, int& data_in) {
  if (!n.domain.empty() || n.outputs.size() != 1) return false;
  static const std::pair<const char*, Link> unary[] = {{"Relu", relu}, {"Tanh", tanh_}, {"Sigmoid", sigmoid}, {"Exp", exp_},
                                                       {"Neg", neg},   {"Abs", abs_},   {"Sqrt", sqrt_}};
  for (auto& [op, l] : unary)
    if (n.op == op) { code = l; arg = 0; data_in = n.inputs[0]; return true; }
  if (n.op == "LeakyRelu") { code = leaky; arg = n.attr_f("alpha", 0.01f); data_in = n.inputs[0]; return true; }
  if (n.op != "Add" && n.op != "Sub" && n.op != "Mul" && n.op != "Div") return false;
  if (n.inputs.size() != 2) return false;
  for (int side = 0; side < 2; ++side) {
    const TensorData* t = const_f32(g, n.inputs[1 - side]);
    if (!t || t->count() != 1) continue;
    arg = t->as<float>()[0];
    data_in = n.inputs[side];
    const bool rhs = side == 0;  // scalar on the right
    if (n.op == "Add") code = add_s;
    else if (n.op == "Mul") code = mul_s;
    else if (n.op == "Sub") code = rhs ? sub_s : rsub_s;
    else code = rhs ? div_s : rdiv_s;
    return true;
  }
  return false;
}

}  // namespace

Result<int> fuse_elementwise_chains(Graph& g, cpu::Isa) {
  int fused = 0;
  Uses uses(g);
  std::vector<char> taken(g.nodes.size(), 0);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    if (taken[i] || g.nodes[i].dead) continue;
    std::int64_t code;
    float arg;
    int in;
    if (!as_link(g, g.nodes[i], code, arg, in)) continue;
    // Only start a chain at a link whose input is not itself produced by a link we could extend.
    std::vector<std::size_t> chain = {i};
    std::vector<std::int64_t> codes = {code};
    std::vector<float> args = {arg};
    const int first_in = in;
    int out = g.nodes[i].outputs[0];
    for (;;) {
      const int c = uses.sole_consumer(g, out);
      if (c < 0 || taken[c]) break;
      int cin;
      if (!as_link(g, g.nodes[c], code, arg, cin) || cin != out) break;
      chain.push_back(static_cast<std::size_t>(c));
      codes.push_back(code);
      args.push_back(arg);
      out = g.nodes[c].outputs[0];
    }
    if (chain.size() < 2) continue;
    Node f;
    f.name = g.nodes[i].name + "/chain";
    f.op = "ElementwiseChain";
    f.domain = "tickrt";
    f.inputs = {first_in};
    f.outputs = {out};
    f.attrs["ops"].kind = Attr::Kind::is;
    f.attrs["ops"].is = codes;
    f.attrs["args"].kind = Attr::Kind::fs;
    f.attrs["args"].fs = args;
    for (auto k : chain) { taken[k] = 1; g.nodes[k].dead = true; }
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
