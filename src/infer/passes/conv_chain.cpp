// Runs of tickrt.ConvNHWC where each output is read only by the next -> one tickrt.ConvNHWCChain that runs the whole
// run sample by sample (ops/conv_nhwc.cpp), so a batch's intermediates never leave L1/L2 (convlstm batch 64: the
// first intermediate alone is 5 MB layer by layer, 78 KiB per sample). Same kernels, same results.
#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

bool is_conv_nhwc(const Graph& g, int n) { return n >= 0 && !g.nodes[n].dead && g.nodes[n].domain == "tickrt" && g.nodes[n].op == "ConvNHWC"; }

Attr ints(std::vector<std::int64_t> v) {
  Attr a;
  a.kind = Attr::Kind::is;
  a.is = std::move(v);
  return a;
}

}  // namespace

Result<int> fuse_conv_nhwc_chains(Graph& g) {
  Uses u(g);
  int fused = 0;
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    if (!is_conv_nhwc(g, static_cast<int>(i))) continue;
    // Only start at a head: not itself the sole reader of another ConvNHWC's output.
    const int x = g.nodes[i].inputs[0];
    const int px = x >= 0 ? g.values[x].producer : -1;
    if (is_conv_nhwc(g, px) && u.sole_consumer(g, x) == static_cast<int>(i)) continue;
    std::vector<int> run{static_cast<int>(i)};
    for (;;) {
      const int out = g.nodes[run.back()].outputs[0];
      const int c = u.sole_consumer(g, out);
      if (!is_conv_nhwc(g, c) || g.nodes[c].inputs[0] != out) break;
      run.push_back(c);
    }
    if (run.size() < 2) continue;
    Node f;
    const Node& head = g.nodes[run.front()];
    f.name = head.name + "/chain";
    f.op = "ConvNHWCChain";
    f.domain = "tickrt";
    f.inputs = {head.inputs[0]};
    std::vector<std::int64_t> M, C, KH, KW, SH, SW, act;
    std::vector<float> alpha;
    for (int n : run) {
      const Node& c = g.nodes[n];
      f.inputs.push_back(c.inputs[1]);
      M.push_back(c.attr_i("M", 0));
      C.push_back(c.attr_i("C", 0));
      KH.push_back(c.attr_i("KH", 0));
      KW.push_back(c.attr_i("KW", 0));
      auto s = c.attr_is("strides");
      if (s.size() != 2) s = {1, 1};
      SH.push_back(s[0]);
      SW.push_back(s[1]);
      act.push_back(c.attr_i("act", 0));
      alpha.push_back(c.attr_f("alpha", 0.01f));
    }
    f.attrs["M"] = ints(M);
    f.attrs["C"] = ints(C);
    f.attrs["KH"] = ints(KH);
    f.attrs["KW"] = ints(KW);
    f.attrs["SH"] = ints(SH);
    f.attrs["SW"] = ints(SW);
    f.attrs["act"] = ints(act);
    f.attrs["alpha"].kind = Attr::Kind::fs;
    f.attrs["alpha"].fs = alpha;
    f.attrs["in_nchw"].i = head.attr_i("in_nchw", 0);
    f.attrs["isa"].i = head.attr_i("isa", 0);
    f.outputs = {g.nodes[run.back()].outputs[0]};
    for (int n : run) g.nodes[n].dead = true;
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
