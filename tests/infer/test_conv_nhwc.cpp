// passes/conv_layout_nhwc.cpp + cpu/conv_nhwc (tickrt.ConvNHWC): chains of convolutions run channels-last with
// Transposes only at the chain's edges, and agree with the unoptimized graph on the reference kernels, for every
// ISA this CPU has (scalar, AVX2, AVX-512 builds of the kernel).
#include <gtest/gtest.h>

#include "graph_builder.hpp"

namespace tickrt::infer::testing {
namespace {

std::vector<float> run_isa(const Graph& g, cpu::Isa isa, const std::vector<Dims>& shapes, BuildReport* rep) {
  return run_graph(g, true, shapes, rep, isa);
}

std::vector<cpu::Isa> isas() {
  std::vector<cpu::Isa> v{cpu::Isa::scalar};
  if (cpu::detect_isa() >= cpu::Isa::avx2) v.push_back(cpu::Isa::avx2);
  if (cpu::detect_isa() >= cpu::Isa::avx512) v.push_back(cpu::Isa::avx512);
  return v;
}

// Conv + BatchNormalization (+ act): what torch exports for a conv block.
int conv_block(GB& b, int x, std::int64_t M, std::int64_t C, std::int64_t KH, std::int64_t KW, std::vector<std::int64_t> strides,
               const char* act) {
  const std::string t = std::to_string(b.g.nodes.size());
  int c = b.node("Conv", {x, b.weights("W" + t, {M, C, KH, KW}), b.weights("B" + t, {M})},
                 {{"kernel_shape", ais({KH, KW})}, {"strides", ais(std::move(strides))}});
  int var = b.weights("var" + t, {M}, 0.2f);
  auto& vt = const_cast<TensorData&>(b.g.const_data(var));
  for (std::int64_t i = 0; i < vt.count(); ++i) vt.as_mut<float>()[i] += 0.5f;
  int y = b.node("BatchNormalization", {c, b.weights("g" + t, {M}), b.weights("be" + t, {M}), b.weights("mu" + t, {M}), var});
  if (std::string(act) == "Relu") y = b.node("Relu", {y});
  else if (std::string(act) == "LeakyRelu") y = b.node("LeakyRelu", {y}, {{"alpha", af(0.05f)}});
  return y;
}

// DeepLOB-like: a one-channel input, strided feature-axis convs, time convs, a kernel as wide as what is left
// (OW = 1), then Squeeze(3) + Transpose(0,2,1) as torch's y.squeeze(3).transpose(1,2) exports.
// M = 5 and 20 are not multiples of any vector width (masked tails; AVX-512: one and two vectors).
TEST(ConvNhwc, DeepLobChainHasNoTransposesAndMatchesReference) {
  GB b;
  const Dims xs{3, 1, 23, 12};
  int x = b.input("x", xs);
  int y = conv_block(b, x, 5, 1, 1, 2, {1, 2}, "LeakyRelu");   // [3,5,23,6]
  y = conv_block(b, y, 5, 5, 4, 1, {1, 1}, "LeakyRelu");       // [3,5,20,6]
  y = conv_block(b, y, 20, 5, 1, 6, {1, 1}, "Relu");           // [3,20,20,1]
  y = conv_block(b, y, 20, 20, 4, 1, {2, 1}, "none");          // [3,20,9,1]  (stride over a column)
  y = b.node("Squeeze", {y, b.ints("axes", {3})});             // [3,20,9]
  y = b.node("Transpose", {y}, {{"perm", ais({0, 2, 1})}});    // [3,9,20]
  b.output(y);
  const auto ref = run_graph(b.g, false, {xs});
  ASSERT_EQ(ref.size(), 3u * 9 * 20);
  for (cpu::Isa isa : isas()) {
    SCOPED_TRACE(cpu::isa_name(isa));
    BuildReport rep;
    const auto opt = run_isa(b.g, isa, {xs}, &rep);
    EXPECT_EQ(rep.ops_after.at("tickrt.ConvNHWCChain"), 1);   // conv_chain.cpp: the 4 convs run sample by sample
    EXPECT_EQ(rep.ops_after.count("tickrt.ConvNHWC"), 0u);
    EXPECT_EQ(rep.ops_after.count("Transpose"), 0u);   // in: one channel; out: Squeeze(2) of the NHWC tensor
    EXPECT_EQ(rep.ops_after.count("tickrt.FusedConv"), 0u);
    EXPECT_LE(max_abs_diff(ref, opt), 1e-4);
  }
}

// A multi-channel input (Transpose in) whose first conv's output is read by the next conv AND by an Add that stays
// NCHW (Transpose out for that reader only); 1x1 and 3x3 kernels, 2-D strides, wide M (several vector blocks).
TEST(ConvNhwc, MixedReadersGetNchwAndMatchReference) {
  GB b;
  const Dims xs{2, 3, 13, 11};
  int x = b.input("x", xs);
  int y1 = conv_block(b, x, 37, 3, 3, 3, {2, 2}, "Relu");      // [2,37,6,5]
  int y2 = conv_block(b, y1, 37, 37, 1, 1, {1, 1}, "none");    // [2,37,6,5]
  int s = b.node("Add", {y1, y2});
  b.output(s);
  const auto ref = run_graph(b.g, false, {xs});
  for (cpu::Isa isa : isas()) {
    SCOPED_TRACE(cpu::isa_name(isa));
    BuildReport rep;
    const auto opt = run_isa(b.g, isa, {xs}, &rep);
    EXPECT_EQ(rep.ops_after.at("tickrt.ConvNHWC"), 2);   // conv 1's output has two readers: no chain
    EXPECT_EQ(rep.ops_after.count("tickrt.ConvNHWCChain"), 0u);
    EXPECT_EQ(rep.ops_after.at("Transpose"), 3);   // into conv 1; conv 1 and conv 2 back to NCHW for the Add
    EXPECT_LE(max_abs_diff(ref, opt), 1e-4);
  }
}

}  // namespace
}  // namespace tickrt::infer::testing
