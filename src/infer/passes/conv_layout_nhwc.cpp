// tickrt.FusedConv -> tickrt.ConvNHWC: convolutions run channels-last, so each is a direct GEMM over pixels read in
// place (cpu/conv_nhwc.hpp) instead of an im2col copy + a GEMM whose N (or M) is the 16 output channels.
// A chain of convolutions stays channels-last end to end; layouts change only at the chain's edges:
//   * into the chain: an NCHW tensor with one channel IS its NHWC tensor (ConvNHWC in_nchw = 1, no copy);
//     otherwise a Transpose(0,2,3,1) is inserted;
//   * out of the chain, for every reader that is not a converted convolution (or a graph output): a
//     Transpose(0,3,1,2) back to NCHW. When that Transpose's only reader is Squeeze(axis 3) (OW = 1, as in
//     DeepLOB-like models that then hand [N, C, T] to an LSTM through a Transpose(0,2,1)), the pair becomes
//     Squeeze(axis 2) of the NHWC tensor + Transpose(0,2,1): the following Transpose then cancels in simplify and
//     the LSTM reads the convolution's output with no copy at all.
// Why measured (tickrt bench --profile, convlstm): the nine 16-channel convolutions were ~80% of batch 8/64.
#include <string>

#include "infer/cpu/conv_nhwc.hpp"
#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

Attr perm_attr(std::vector<std::int64_t> p) {
  Attr a;
  a.kind = Attr::Kind::is;
  a.is = std::move(p);
  return a;
}

int add_transpose(Graph& g, const std::string& name, int in, int out, std::vector<std::int64_t> perm) {
  Node t;
  t.name = g.unique_name(name);
  t.op = "Transpose";
  t.inputs = {in};
  t.outputs = {out};
  t.attrs["perm"] = perm_attr(std::move(perm));
  return g.add_node(std::move(t));
}

// Squeeze of `axis` (attribute before opset 13, constant input from 13 on).
int add_squeeze(Graph& g, const std::string& name, int in, int out, std::int64_t axis) {
  Node s;
  s.name = g.unique_name(name);
  s.op = "Squeeze";
  s.inputs = {in};
  s.outputs = {out};
  if (g.opset >= 13) {
    s.inputs.push_back(g.add_constant(g.unique_name(name + "/axes"), TensorData::from_bytes(DType::i64, {1}, &axis, sizeof axis)));
  } else {
    s.attrs["axes"] = perm_attr({axis});
  }
  return g.add_node(std::move(s));
}

bool convertible(const Graph& g, const Node& n) {
  if (n.dead || n.domain != "tickrt" || n.op != "FusedConv" || n.inputs.size() < 3) return false;
  const TensorData* W = const_f32(g, n.inputs[1]);
  const TensorData* B = const_f32(g, n.inputs[2]);
  if (!W || !B || W->dims.size() != 4 || B->count() != W->dims[0]) return false;
  const auto act = static_cast<cpu::Act>(n.attr_i("act", 0));
  return act == cpu::Act::none || act == cpu::Act::relu || act == cpu::Act::leaky_relu;
}

}  // namespace

Result<int> convert_conv_nhwc(Graph& g, cpu::Isa isa) {
  const std::size_t n0 = g.nodes.size();
  std::vector<int> nhwc_of(g.values.size(), -1);   // NCHW value produced by a converted conv -> its NHWC value
  std::vector<char> converted(n0, 0);
  for (std::size_t i = 0; i < n0; ++i) converted[i] = convertible(g, g.nodes[i]);
  int rewrites = 0;
  for (std::size_t i = 0; i < n0; ++i) {
    if (!converted[i]) continue;
    const Node conv = g.nodes[i];   // a copy: add_node below may move the node array
    const TensorData& W = g.const_data(conv.inputs[1]);
    const std::int64_t M = W.dims[0], C = W.dims[1], KH = W.dims[2], KW = W.dims[3];
    Node f;
    f.name = conv.name;
    f.op = "ConvNHWC";
    f.domain = "tickrt";
    int x = conv.inputs[0];
    if (x >= 0 && x < static_cast<int>(nhwc_of.size()) && nhwc_of[x] >= 0) {
      x = nhwc_of[x];
    } else if (C == 1) {
      f.attrs["in_nchw"].i = 1;   // [N, 1, H, W] and [N, H, W, 1] are the same bytes
    } else {
      const int xt = g.add_value(g.unique_name(conv.name + "/nhwc_in"), DType::f32);
      add_transpose(g, conv.name + "/to_nhwc", x, xt, {0, 2, 3, 1});
      x = xt;
    }
    std::vector<float> packed(cpu::conv_nhwc_packed_floats(isa, static_cast<int>(M), static_cast<int>(C), static_cast<int>(KH), static_cast<int>(KW)));
    cpu::conv_nhwc_pack(isa, static_cast<int>(M), static_cast<int>(C), static_cast<int>(KH), static_cast<int>(KW), W.as<float>(),
                        g.const_data(conv.inputs[2]).as<float>(), packed.data());
    f.inputs = {x, g.add_constant(g.unique_name(conv.name + "/packed_nhwc"), make_f32(packed, {static_cast<std::int64_t>(packed.size())}))};
    f.attrs["M"].i = M;
    f.attrs["C"].i = C;
    f.attrs["KH"].i = KH;
    f.attrs["KW"].i = KW;
    auto strides = conv.attr_is("strides");
    if (strides.size() != 2) strides = {1, 1};
    f.attrs["strides"] = perm_attr(strides);
    f.attrs["act"].i = conv.attr_i("act", 0);
    f.attrs["alpha"].kind = Attr::Kind::f;
    f.attrs["alpha"].f = conv.attr_f("alpha", 0.01f);
    f.attrs["isa"].i = static_cast<std::int64_t>(isa);
    const int y = conv.outputs[0];
    const int yn = g.add_value(g.unique_name(conv.name + "/nhwc"), DType::f32);
    f.outputs = {yn};
    g.nodes[i].dead = true;
    g.add_node(std::move(f));
    if (static_cast<int>(nhwc_of.size()) < static_cast<int>(g.values.size())) nhwc_of.resize(g.values.size(), -1);
    nhwc_of[y] = yn;
    ++rewrites;
    // Readers that stay NCHW (anything but a converted conv, or a graph output) get the transposed tensor.
    bool nchw_needed = g.is_graph_output(y);
    const auto cons = g.consumers();
    for (int r : cons[y]) nchw_needed = nchw_needed || !(static_cast<std::size_t>(r) < n0 && converted[r]);
    if (!nchw_needed) continue;
    // Transpose(0,3,1,2) -> Squeeze(3) == Squeeze(2) -> Transpose(0,2,1) (Squeeze(3) proves OW == 1).
    if (!g.is_graph_output(y) && cons[y].size() == 1) {
      Node& sq = g.nodes[cons[y][0]];
      const auto axes = node_axes(g, sq);
      if (is_op(&sq, "Squeeze") && sq.outputs.size() == 1 && axes.size() == 1 && (axes[0] == 3 || axes[0] == -1)) {
        const int sq_out = sq.outputs[0];
        const std::string sq_name = sq.name;
        sq.dead = true;
        const int s2 = g.add_value(g.unique_name(conv.name + "/nhwc_squeezed"), DType::f32);
        add_squeeze(g, sq_name + "/nhwc", yn, s2, 2);
        add_transpose(g, sq_name + "/to_nct", s2, sq_out, {0, 2, 1});
        continue;
      }
    }
    add_transpose(g, conv.name + "/to_nchw", yn, y, {0, 3, 1, 2});
  }
  return finish_rewrites(g, rewrites);
}

}  // namespace tickrt::infer::passes
