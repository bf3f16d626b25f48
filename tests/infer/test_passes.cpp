// One test per pass on a tiny graph: the rewrite happens (op counts) and the optimized graph computes the
// same function as the unoptimized one (reference kernels), within float32 rounding.
#include <gtest/gtest.h>

#include <cmath>

#include "graph_builder.hpp"
#include "infer/passes/passes.hpp"

using namespace tickrt;
using namespace tickrt::infer;
using namespace tickrt::infer::testing;

TEST(DeadNodes, RemovesNodesThatReachNoOutput) {
  GB b;
  int x = b.input("x", {2, 3});
  int y = b.node("Relu", {x});
  b.node("Tanh", {x});  // dead
  b.output(y);
  auto r = passes::eliminate_dead_nodes(b.g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(b.g.nodes.size(), 1u);
  EXPECT_TRUE(b.g.validate().ok());
}

TEST(ConstantFolding, FoldsConstantSubgraphs) {
  GB b;
  int x = b.input("x", {2, 4});
  int w = b.weights("w", {4});
  int w2 = b.node("Mul", {w, b.scalar("two", 2.0f)});        // constant
  int w3 = b.node("Unsqueeze", {w2, b.ints("ax", {0})});     // constant
  b.output(b.node("Add", {x, w3}));
  const auto before = run_graph(b.g, false, {{2, 4}});
  auto r = passes::fold_constants(b.g, cpu::detect_isa());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  EXPECT_EQ(b.g.nodes.size(), 1u);
  EXPECT_LE(max_abs_diff(before, run_graph(b.g, false, {{2, 4}})), 0.0);
}

TEST(ConstantFolding, ShapeChainsFoldOnceTheBatchIsKnown) {
  // torch's Shape -> Gather -> Unsqueeze -> Concat -> ConstantOfShape: constant only at specialization.
  GB b;
  int x = b.input("x", {-1, 3});
  int s = b.node("Shape", {x});
  int g0 = b.node("Gather", {s, b.ints("i0", {0})}, {{"axis", ai(0)}});
  int c = b.node("Concat", {g0, b.ints("three", {3})}, {{"axis", ai(0)}});
  int z = b.node("ConstantOfShape", {c});
  b.output(b.node("Add", {x, z}));
  BuildOptions bo;
  bo.batch = {1, 4, 8};
  auto e = Engine::build(b.g, bo);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  ExecutionContext ctx(*e);
  ASSERT_TRUE(ctx.prepare_batch(5).ok());
  EXPECT_EQ(ctx.stats().steps, 1);    // only the Add runs
  EXPECT_EQ(ctx.stats().folded, 4);
}

TEST(GemmFusion, MatMulBiasReluBecomesOneKernel) {
  GB b;
  int x = b.input("x", {3, 5, 16});
  int mm = b.node("MatMul", {x, b.weights("W", {16, 24})});
  int add = b.node("Add", {b.weights("bias", {24}), mm});
  b.output(b.node("Relu", {add}));
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {{3, 5, 16}});
  const auto opt = run_graph(b.g, true, {{3, 5, 16}}, &rep);
  EXPECT_EQ(rep.ops_after.at("tickrt.FusedGemm"), 1);
  EXPECT_EQ(rep.ops_after.size(), 1u);
  EXPECT_LE(max_abs_diff(ref, opt), 1e-5);
}

TEST(GemmFusion, GemmTransBWithBiasAndLeakyRelu) {
  GB b;
  int x = b.input("x", {4, 10});
  int g = b.node("Gemm", {x, b.weights("W", {7, 10}), b.weights("C", {7})}, {{"transB", ai(1)}});
  b.output(b.node("LeakyRelu", {g}, {{"alpha", af(0.1f)}}));
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {{4, 10}});
  const auto opt = run_graph(b.g, true, {{4, 10}}, &rep);
  EXPECT_EQ(rep.ops_after.size(), 1u);
  EXPECT_LE(max_abs_diff(ref, opt), 1e-5);
}

TEST(ConvBnFolding, BatchNormDisappearsAndResultsAgree) {
  GB b;
  int x = b.input("x", {2, 3, 8, 6});
  int c = b.node("Conv", {x, b.weights("W", {4, 3, 3, 2}), b.weights("B", {4})}, {{"kernel_shape", ais({3, 2})}});
  TensorData var = TensorData::make(DType::f32, {4});
  for (int i = 0; i < 4; ++i) var.as_mut<float>()[i] = 0.5f + 0.25f * i;
  int bn = b.node("BatchNormalization", {c, b.weights("gamma", {4}), b.weights("beta", {4}), b.weights("mean", {4}),
                                         b.g.add_constant("var", std::move(var))});
  b.output(b.node("LeakyRelu", {bn}));
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {{2, 3, 8, 6}});
  const auto opt = run_graph(b.g, true, {{2, 3, 8, 6}}, &rep);
  EXPECT_EQ(rep.ops_after.count("BatchNormalization"), 0u);
  EXPECT_LE(max_abs_diff(ref, opt), 1e-5);
}

namespace {
// x [B,T,I] batch-first -> Transpose -> LSTM (zero states from ConstantOfShape) -> Squeeze -> Transpose.
GB lstm_graph(int I, int H) {
  GB b;
  int x = b.input("x", {-1, 6, I});
  int xt = b.node("Transpose", {x}, {{"perm", ais({1, 0, 2})}});
  int shp = b.node("Shape", {x});
  int bsz = b.node("Gather", {shp, b.ints("i0", {0})}, {{"axis", ai(0)}});
  int dims = b.node("Concat", {b.ints("one", {1}), bsz, b.ints("h", {H})}, {{"axis", ai(0)}});
  int zeros = b.node("ConstantOfShape", {dims});
  int lstm = b.node("LSTM", {xt, b.weights("W", {1, 4 * H, I}), b.weights("R", {1, 4 * H, H}), b.weights("B", {1, 8 * H}), -1, zeros, zeros},
                    {{"hidden_size", ai(H)}}, 3);
  int sq = b.node("Squeeze", {lstm, b.ints("ax1", {1})});
  b.output(b.node("Transpose", {sq}, {{"perm", ais({1, 0, 2})}}));
  return b;
}
}  // namespace

TEST(LstmFusion, FusesAndRemovesStateAndLayoutGlue) {
  GB b = lstm_graph(5, 8);
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {{3, 6, 5}});
  const auto opt = run_graph(b.g, true, {{3, 6, 5}}, &rep);
  EXPECT_EQ(rep.ops_after.at("tickrt.FusedLSTM"), 1);
  EXPECT_EQ(rep.ops_after.size(), 1u) << "Transpose/Squeeze/zero-state glue should be gone";
  EXPECT_LE(max_abs_diff(ref, opt), 1e-5);
}

// A non-zero initial state (streaming models, infer/stream.hpp) becomes an input of the fused op.
TEST(LstmFusion, NonZeroInitialStateIsFusedAsAnInput) {
  GB b;
  int x = b.input("x", {6, 2, 4});
  int h0 = b.weights("h0", {1, 2, 3});
  b.output(b.node("LSTM", {x, b.weights("W", {1, 12, 4}), b.weights("R", {1, 12, 3}), -1, -1, h0}, {{"hidden_size", ai(3)}}));
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {{6, 2, 4}});
  const auto opt = run_graph(b.g, true, {{6, 2, 4}}, &rep);
  EXPECT_EQ(rep.ops_after.count("tickrt.FusedLSTM"), 1u);
  EXPECT_EQ(opt.size(), 6u * 2 * 3);
  EXPECT_LE(max_abs_diff(ref, opt), 1e-5);
}

TEST(AttentionFusion, AdditiveAttentionBecomesOneKernel) {
  GB b;
  int h = b.input("h", {-1, 7, 8});
  int mm = b.node("MatMul", {h, b.weights("Wt", {8, 5})});
  int add = b.node("Add", {b.weights("bw", {5}), mm});
  int th = b.node("Tanh", {add});
  int s = b.node("MatMul", {th, b.weights("v", {5, 1})});
  int a = b.node("Softmax", {s}, {{"axis", ai(1)}});
  int m = b.node("Mul", {a, h});
  b.output(b.node("ReduceSum", {m, b.ints("ax", {1})}, {{"keepdims", ai(0)}}));
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {{3, 7, 8}});
  const auto opt = run_graph(b.g, true, {{3, 7, 8}}, &rep);
  EXPECT_EQ(rep.ops_after.at("tickrt.AdditiveAttention"), 1);
  EXPECT_EQ(rep.ops_after.size(), 1u);
  EXPECT_LE(max_abs_diff(ref, opt), 1e-5);
}

TEST(AttentionFusion, ScaledDotProductAttention) {
  GB b;
  int q = b.input("q", {2, 4, 6, 8});
  int k = b.input("k", {2, 6, 4, 8});
  int v = b.input("v", {2, 4, 6, 8});
  int kt = b.node("Transpose", {k}, {{"perm", ais({0, 2, 3, 1})}});
  int qs = b.node("Mul", {q, b.scalar("s", 0.35f)});
  int sc = b.node("MatMul", {qs, kt});
  int p = b.node("Softmax", {sc}, {{"axis", ai(-1)}});
  b.output(b.node("MatMul", {p, v}));
  BuildReport rep;
  const std::vector<Dims> shapes = {{2, 4, 6, 8}, {2, 6, 4, 8}, {2, 4, 6, 8}};
  const auto ref = run_graph(b.g, false, shapes);
  const auto opt = run_graph(b.g, true, shapes, &rep);
  EXPECT_EQ(rep.ops_after.at("tickrt.SDPA"), 1);
  EXPECT_LE(max_abs_diff(ref, opt), 1e-5);
}

TEST(Simplify, TransposePairsComposeAndIdentityVanishes) {
  GB b;
  int x = b.input("x", {2, 3, 4});
  int t1 = b.node("Transpose", {x}, {{"perm", ais({1, 0, 2})}});
  int t2 = b.node("Transpose", {t1}, {{"perm", ais({1, 0, 2})}});
  b.output(b.node("Relu", {t2}));
  auto r = passes::simplify(b.g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(b.g.nodes.size(), 1u);
}

TEST(ElementwiseChains, UnaryAndScalarOpsBecomeOnePass) {
  GB b;
  int x = b.input("x", {3, 1000});
  int a = b.node("Mul", {x, b.scalar("k", 1.5f)});
  int t = b.node("Tanh", {a});
  int s = b.node("Sub", {b.scalar("one", 1.0f), t});
  int r = b.node("Relu", {s});
  b.output(b.node("Div", {r, b.scalar("d", 4.0f)}));
  BuildReport rep;
  const auto ref = run_graph(b.g, false, {{3, 1000}});
  const auto opt = run_graph(b.g, true, {{3, 1000}}, &rep);
  EXPECT_EQ(rep.ops_after.at("tickrt.ElementwiseChain"), 1);
  EXPECT_EQ(rep.ops_after.size(), 1u);
  EXPECT_LE(max_abs_diff(ref, opt), 1e-6);
}
