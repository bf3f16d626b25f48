// Fusions added for speed (tickrt.FusedConv's single-GEMM form, tickrt.MHA): each optimized graph must agree
// with the unoptimized graph run on the reference kernels, on tiny models covering each code path.
#include <gtest/gtest.h>

#include "graph_builder.hpp"
#include "infer/passes/passes.hpp"

namespace tickrt::infer::testing {
namespace {

struct ConvCase { Dims x, w; std::vector<std::int64_t> strides; const char* act; };

class FusedConvPaths : public ::testing::TestWithParam<ConvCase> {};

TEST_P(FusedConvPaths, MatchesReferenceConvBnAct) {
  const ConvCase& cc = GetParam();
  GB b;
  int x = b.input("x", cc.x);
  int c = b.node("Conv", {x, b.weights("W", cc.w), b.weights("B", {cc.w[0]})},
                 {{"kernel_shape", ais({cc.w[2], cc.w[3]})}, {"strides", ais(cc.strides)}});
  const std::int64_t M = cc.w[0];
  int var = b.weights("var", {M}, 0.2f);
  {  // variances in [0.3, 0.7]: BatchNormalization needs them positive
    auto& t = const_cast<TensorData&>(b.g.const_data(var));
    for (std::int64_t i = 0; i < t.count(); ++i) t.as_mut<float>()[i] += 0.5f;
  }
  int bn = b.node("BatchNormalization", {c, b.weights("g", {M}), b.weights("be", {M}), b.weights("mu", {M}), var});
  int y = bn;
  if (std::string(cc.act) == "Relu") y = b.node("Relu", {bn});
  else if (std::string(cc.act) == "LeakyRelu") y = b.node("LeakyRelu", {bn}, {{"alpha", af(0.1f)}});
  b.output(y);
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {cc.x});
  const auto opt = run_graph(b.g, true, {cc.x}, &rep);
  // FusedConv then becomes a channels-last tickrt.ConvNHWC (conv_layout_nhwc.cpp): Transposes at its edges only
  // (none into a 1-channel input).
  EXPECT_EQ(rep.ops_after.at("tickrt.ConvNHWC"), 1);
  EXPECT_EQ(rep.ops_after.count("tickrt.FusedConv"), 0u);
  EXPECT_EQ(rep.ops_after.size(), 2u);
  EXPECT_EQ(rep.ops_after.at("Transpose"), cc.w[1] == 1 ? 1 : 2);   // out (and in, unless one input channel)
  EXPECT_LE(max_abs_diff(ref, opt), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(
    Paths, FusedConvPaths,
    ::testing::Values(
        // channel-major form (P = OH*OW > 128)
        ConvCase{{3, 5, 30, 7}, {6, 5, 4, 1}, {1, 1}, "LeakyRelu"},   // KHx1 stride 1: contiguous im2col rows
        ConvCase{{2, 4, 9, 40}, {5, 4, 1, 2}, {1, 2}, "Relu"},        // 1xKW stride 2: gathered rows
        ConvCase{{2, 3, 20, 20}, {4, 3, 1, 3}, {1, 1}, "none"},       // stride 1, OW >= 16: row memcpy
        ConvCase{{1, 3, 41, 9}, {4, 3, 3, 2}, {2, 1}, "Relu"},        // generic 2-D kernel, strided
        ConvCase{{3, 5, 12, 7}, {6, 5, 4, 1}, {1, 1}, "LeakyRelu"},   // contiguous rows, narrow output
        ConvCase{{2, 16, 52, 1}, {16, 16, 4, 1}, {1, 1}, "none"},     // convlstm's last blocks
        // pixel-major form (gathered patches, P <= 128): gemm_packed with the bias/activation epilogue, transpose
        ConvCase{{2, 4, 9, 10}, {5, 4, 1, 10}, {1, 1}, "LeakyRelu"},  // kernel as wide as the input (OW = 1)
        ConvCase{{1, 3, 11, 9}, {4, 3, 3, 2}, {2, 1}, "Relu"}));

// torch's nn.MultiheadAttention export: qkv -> Split -> Reshape/Transpose per head -> attention -> merge.
int mha_graph(GB& b, int qkv, std::int64_t T, std::int64_t H, std::int64_t dh, std::int64_t split_axis) {
  const std::int64_t D = H * dh;
  int parts = b.node("Split", {qkv, b.ints("sizes", {D, D, D})}, {{"axis", ai(split_axis)}}, 3);
  const int q0 = parts, k0 = parts + 1, v0 = parts + 2;   // outputs are added consecutively
  auto heads = [&](int v, std::vector<std::int64_t> perm) {
    int r = b.node("Reshape", {v, b.ints("shape" + std::to_string(v), {-1, T, H, dh})});
    return b.node("Transpose", {r}, {{"perm", ais(std::move(perm))}});
  };
  int q = heads(q0, {0, 2, 1, 3}), kt = heads(k0, {0, 2, 3, 1}), v = heads(v0, {0, 2, 1, 3});
  int qs = b.node("Mul", {q, b.scalar("scale", 0.25f)});
  int s = b.node("MatMul", {qs, kt});
  int p = b.node("Softmax", {s}, {{"axis", ai(-1)}});
  int o = b.node("MatMul", {p, v});
  int ot = b.node("Transpose", {o}, {{"perm", ais({0, 2, 1, 3})}});
  return b.node("Reshape", {ot, b.ints("merge", {-1, T, D})});
}

TEST(MhaFusion, HeadSplitAndMergeBecomeStrides) {
  for (const std::int64_t B : {1, 3}) {
    GB b;
    const std::int64_t T = 10, H = 4, dh = 8;
    int qkv = b.input("qkv", {B, T, 3 * H * dh});
    b.output(b.node("Relu", {mha_graph(b, qkv, T, H, dh, -1)}));
    BuildReport rep;
    const auto ref = run_graph(b.g, false, {{B, T, 3 * H * dh}});
    const auto opt = run_graph(b.g, true, {{B, T, 3 * H * dh}}, &rep);
    EXPECT_EQ(rep.ops_after.at("tickrt.MHA"), 1);
    EXPECT_EQ(rep.ops_after.count("Split"), 0u);
    EXPECT_EQ(rep.ops_after.count("Transpose"), 0u);
    EXPECT_EQ(rep.ops_after.count("tickrt.SDPA"), 0u);
    EXPECT_LE(max_abs_diff(ref, opt), 1e-5) << "batch " << B;
  }
}

TEST(MhaFusion, SplitOnAnotherAxisIsLeftAlone) {
  GB b;
  const std::int64_t T = 8, H = 2, dh = 4;   // T = D: the axis-1 split is well-formed
  // A split on axis 1 is not the packed-projection layout: the SDPA stays, no tickrt.MHA.
  int qkv = b.input("qkv", {2, 3 * T, H * dh});
  b.output(mha_graph(b, qkv, T, H, dh, 1));
  ASSERT_TRUE(passes::fuse_sdpa(b.g, cpu::detect_isa()).ok());
  ASSERT_TRUE(passes::simplify(b.g).ok());
  int sdpa = 0;
  for (const auto& n : b.g.nodes) sdpa += !n.dead && n.op == "SDPA";
  ASSERT_EQ(sdpa, 1);
  auto r = passes::fuse_mha(b.g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
}

TEST(MhaFusion, ReshapeMixingBatchAndTimeIsRefusedAtPrepare) {
  GB b;
  const std::int64_t T = 4, H = 2, dh = 4;
  // The graph's reshapes assume T = 4; fed T = 8 they would fold batch into time: the fused op must refuse
  // (clear error) rather than compute per-sample attention.
  int qkv = b.input("qkv", {2, 8, 3 * H * dh});
  b.output(mha_graph(b, qkv, T, H, dh, -1));
  EXPECT_THROW(run_graph(b.g, true, {{2, 8, 3 * H * dh}}), std::runtime_error);
}

}  // namespace
}  // namespace tickrt::infer::testing
