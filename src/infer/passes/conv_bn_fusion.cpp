// Conv (constant W, optional constant B) followed by an inference BatchNormalization with constant
// scale/bias/mean/var folds into the Conv: W'[m] = W[m] * s[m], b'[m] = (b[m] - mean[m]) * s[m] + beta[m],
// s = gamma / sqrt(var + eps). The BN node disappears; the activation that follows stays a separate
// (vectorised) elementwise step.
#include <algorithm>
#include <cmath>

#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {

Result<int> fuse_conv_bn_act(Graph& g, cpu::Isa) {
  int fused = 0;
  Uses uses(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    Node& bn = g.nodes[i];
    if (bn.dead || !bn.domain.empty() || bn.op != "BatchNormalization" || bn.attr_i("training_mode", 0) != 0) continue;
    if (bn.outputs.size() > 1 && std::any_of(bn.outputs.begin() + 1, bn.outputs.end(), [](int v) { return v >= 0; })) continue;
    Node* conv = const_cast<Node*>(producer(g, bn.inputs[0]));
    if (!is_op(conv, "Conv") || uses.sole_consumer(g, bn.inputs[0]) < 0) continue;
    const TensorData* W = const_f32(g, conv->inputs[1]);
    const TensorData* Bc = conv->inputs.size() > 2 && conv->inputs[2] >= 0 ? const_f32(g, conv->inputs[2]) : nullptr;
    if (!W || (conv->inputs.size() > 2 && conv->inputs[2] >= 0 && !Bc)) continue;
    const TensorData *gamma = const_f32(g, bn.inputs[1]), *beta = const_f32(g, bn.inputs[2]), *mean = const_f32(g, bn.inputs[3]),
                     *var = const_f32(g, bn.inputs[4]);
    if (!gamma || !beta || !mean || !var) continue;
    const std::int64_t M = W->dims[0];
    if (gamma->count() != M || beta->count() != M || mean->count() != M || var->count() != M) continue;
    const double eps = bn.attr_f("epsilon", 1e-5f);
    const std::int64_t per = W->count() / M;
    std::vector<float> w(W->as<float>(), W->as<float>() + W->count()), b(static_cast<std::size_t>(M));
    for (std::int64_t m = 0; m < M; ++m) {
      const double s = gamma->as<float>()[m] / std::sqrt(static_cast<double>(var->as<float>()[m]) + eps);
      for (std::int64_t j = 0; j < per; ++j) w[m * per + j] = static_cast<float>(w[m * per + j] * s);
      const double bc = Bc ? Bc->as<float>()[m] : 0.0;
      b[m] = static_cast<float>((bc - mean->as<float>()[m]) * s + beta->as<float>()[m]);
    }
    conv->inputs.resize(3);
    conv->inputs[1] = g.add_constant(g.unique_name(conv->name + "/W_bn"), make_f32(w, W->dims));
    conv->inputs[2] = g.add_constant(g.unique_name(conv->name + "/B_bn"), make_f32(b, {M}));
    // The Conv now produces the BN's output.
    const int bn_out = bn.outputs[0];
    const int conv_out = conv->outputs[0];
    conv->outputs[0] = bn_out;
    g.values[bn_out].producer = g.values[conv_out].producer;
    bn.dead = true;
    ++fused;
  }
  g.compact();
  // Conv (2-D, group 1, no padding, no dilation, constant W and B) + optional Relu/LeakyRelu -> tickrt.FusedConv.
  Uses u2(g);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& conv = g.nodes[i];
    if (conv.dead || !conv.domain.empty() || conv.op != "Conv") continue;
    const TensorData* W = const_f32(g, conv.inputs[1]);
    const TensorData* B = conv.inputs.size() > 2 && conv.inputs[2] >= 0 ? const_f32(g, conv.inputs[2]) : nullptr;
    if (!W || W->dims.size() != 4 || conv.attr_i("group", 1) != 1 || conv.attr_s("auto_pad", "NOTSET") != "NOTSET") continue;
    if (conv.inputs.size() > 2 && conv.inputs[2] >= 0 && !B) continue;
    bool plain = true;
    for (auto v : conv.attr_is("pads")) plain = plain && v == 0;
    for (auto v : conv.attr_is("dilations")) plain = plain && v == 1;
    if (!plain) continue;
    const std::int64_t M = W->dims[0];
    std::vector<float> bias(static_cast<std::size_t>(M), 0.0f);
    if (B) std::copy(B->as<float>(), B->as<float>() + M, bias.begin());
    Node f;
    f.name = conv.name;
    f.op = "FusedConv";
    f.domain = "tickrt";
    f.inputs = {conv.inputs[0], conv.inputs[1], g.add_constant(g.unique_name(conv.name + "/bias"), make_f32(bias, {M}))};
    f.attrs["strides"].kind = Attr::Kind::is;
    f.attrs["strides"].is = conv.attr_is("strides");
    int out = conv.outputs[0];
    const int c = u2.sole_consumer(g, out);
    std::int64_t act = 0;
    float alpha = 0.01f;
    if (c >= 0 && g.nodes[c].domain.empty() && (g.nodes[c].op == "Relu" || g.nodes[c].op == "LeakyRelu")) {
      act = g.nodes[c].op == "Relu" ? static_cast<std::int64_t>(cpu::Act::relu) : static_cast<std::int64_t>(cpu::Act::leaky_relu);
      alpha = g.nodes[c].attr_f("alpha", 0.01f);
      g.nodes[c].dead = true;
      out = g.nodes[c].outputs[0];
    }
    f.attrs["act"].i = act;
    f.attrs["alpha"].kind = Attr::Kind::f;
    f.attrs["alpha"].f = alpha;
    f.outputs = {out};
    conv.dead = true;
    g.add_node(std::move(f));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
