// WindowPrefix (infer/window_prefix.hpp): the window model run as "first T-1 rows ahead of time + the
// last step when the row arrives" gives the full-window model's outputs, on real sliding windows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "infer/engine.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/window_prefix.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {

std::shared_ptr<Engine> build(const std::string& onnx) {
  auto g = import_onnx_file(onnx);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  BuildOptions bo;
  bo.batch = {1, 1, 8};
  auto e = Engine::build(std::move(*g), bo);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return e.ok() ? *e : nullptr;
}

// Slides a T-row window over `rows` (n x F), one row at a time, and checks every window's outputs:
// full run vs precompute(first T-1) + run_last(last). Returns the largest difference.
double slide(ExecutionContext& ctx, WindowPrefix& wp, const std::vector<float>& rows, int windows, bool disturb, int slice = 0) {
  const int T = wp.window(), F = wp.row_width();
  const std::size_t no = static_cast<std::size_t>(numel(ctx.output_dims(0)));
  std::vector<float> full(no);
  double worst = 0;
  for (int j = 0; j < windows; ++j) {
    const float* w = rows.data() + static_cast<std::size_t>(j) * F;
    std::copy(w, w + static_cast<std::size_t>(T) * F, ctx.input(0));
    EXPECT_EQ(ctx.run(), Code::ok);
    std::copy(ctx.output(0), ctx.output(0) + no, full.begin());
    if (slice == 0) {
      wp.precompute(w);
    } else {  // in slices of `slice` LSTM steps, as the pipeline's idle loop runs it
      wp.start(w);
      int calls = 0;
      while (!wp.advance(slice)) ++calls;
      EXPECT_GE(calls + 1, 2 * (wp.window() - 1) / slice);  // two layers of T-1 steps each
    }
    // Another inference on the same context between precompute and run_last (a real window or zeros),
    // so the outputs hold something else until run_last computes them.
    if (disturb) {
      const float* other = rows.data() + static_cast<std::size_t>(j + 7) * F;
      std::copy(other, other + static_cast<std::size_t>(T) * F, ctx.input(0));
    } else {
      std::fill(ctx.input(0), ctx.input(0) + static_cast<std::size_t>(T) * F, 0.f);
    }
    EXPECT_EQ(ctx.run(), Code::ok);
    EXPECT_TRUE(wp.ready());
    EXPECT_EQ(wp.run_last(w + static_cast<std::size_t>(T - 1) * F), Code::ok);
    EXPECT_TRUE(wp.ready());  // not consumed: a second run_last (a keep-warm pass) gives the same outputs
    if (j % 10 == 0) {
      std::vector<float> first(ctx.output(0), ctx.output(0) + no);
      EXPECT_EQ(wp.run_last(w + static_cast<std::size_t>(T - 1) * F), Code::ok);
      for (std::size_t i = 0; i < no; ++i) EXPECT_EQ(ctx.output(0)[i], first[i]);
    }
    for (std::size_t i = 0; i < no; ++i) {
      EXPECT_TRUE(std::isfinite(ctx.output(0)[i]));
      worst = std::max(worst, static_cast<double>(std::fabs(ctx.output(0)[i] - full[i])));
    }
  }
  return worst;
}

// Real model-input rows: the parity windows of the trained models laid end to end.
std::vector<float> real_rows(int* F) {
  auto x = read_npy("models/trained/parity_x.npy");
  EXPECT_TRUE(x.ok()) << x.status().to_string();
  if (!x.ok()) return {};
  *F = static_cast<int>(x->dims[2]);
  return x->to_f32();
}

TEST(WindowPrefix, TrainedLstmAttnSameOutputsAsTheFullWindowOnRealRows) {
  auto e = build("models/trained/lstm_attn_s/model.onnx");
  ASSERT_TRUE(e);
  ExecutionContext ctx(e);
  ASSERT_TRUE(ctx.prepare_batch(1).ok());
  EXPECT_EQ(WindowPrefix::why_not(ctx), "");
  auto wp = WindowPrefix::create(ctx);
  ASSERT_TRUE(wp.ok()) << wp.status().to_string();
  int F = 0;
  const std::vector<float> rows = real_rows(&F);
  ASSERT_EQ(F, (*wp)->row_width());
  ASSERT_EQ((*wp)->window(), 64);
  EXPECT_TRUE((*wp)->attention_split());  // lstm_attn_s: the attention's prefix scores are computed ahead too
  const int windows = 400;
  ASSERT_GE(rows.size(), static_cast<std::size_t>(windows + 64 + 8) * F);
  // The last step's input projection is a one-row product here and a batched (AMX) one in the full run,
  // and its k order may differ: not bitwise equal, far inside the engine's 1e-4 tolerance.
  const double d0 = slide(ctx, **wp, rows, windows, false), d1 = slide(ctx, **wp, rows, 50, true);
  std::printf("window prefix vs full window, %d real windows: max |diff| %.3g (%.3g with a run in between)\n", windows, d0, d1);
  EXPECT_LE(d0, 1e-5);
  EXPECT_LE(d1, 1e-5);
  for (int slice : {1, 7, 16}) EXPECT_LE(slide(ctx, **wp, rows, 20, true, slice), 1e-5) << "slices of " << slice;
}

TEST(WindowPrefix, RandomModelsSmallAndLarge) {
  for (const char* m : {"lstm_attn_s", "lstm_attn_l"}) {
    auto e = build(std::string("models/") + m + "/model.onnx");
    ASSERT_TRUE(e);
    ExecutionContext ctx(e);
    ASSERT_TRUE(ctx.prepare_batch(1).ok());
    auto wp = WindowPrefix::create(ctx);
    ASSERT_TRUE(wp.ok()) << m << ": " << wp.status().to_string();
    const int T = (*wp)->window(), F = (*wp)->row_width();
    std::vector<float> rows(static_cast<std::size_t>(T + 40) * F);
    std::uint32_t s = 12345;
    for (float& v : rows) { s = s * 1664525u + 1013904223u; v = static_cast<float>(static_cast<int>(s >> 8) % 2001 - 1000) / 500.f; }
    EXPECT_LE(slide(ctx, **wp, rows, 30, false), 2e-5) << m;
  }
}

TEST(WindowPrefix, RunLastWithoutPrecomputeIsRefused) {
  auto e = build("models/trained/lstm_attn_s/model.onnx");
  ASSERT_TRUE(e);
  ExecutionContext ctx(e);
  ASSERT_TRUE(ctx.prepare_batch(1).ok());
  auto wp = WindowPrefix::create(ctx);
  ASSERT_TRUE(wp.ok());
  std::vector<float> row(static_cast<std::size_t>((*wp)->row_width()), 0.f);
  EXPECT_EQ((*wp)->run_last(row.data()), Code::out_of_sync);
  std::vector<float> pre(static_cast<std::size_t>((*wp)->window() - 1) * (*wp)->row_width(), 0.f);
  (*wp)->precompute(pre.data());
  (*wp)->invalidate();
  EXPECT_EQ((*wp)->run_last(row.data()), Code::out_of_sync);
}

TEST(WindowPrefix, ModelsThatDoNotStartWithAnLstmChainAreRefusedWithTheReason) {
  for (const char* m : {"convlstm", "transformer_s"}) {
    auto e = build(std::string("models/") + m + "/model.onnx");
    ASSERT_TRUE(e);
    ExecutionContext ctx(e);
    ASSERT_TRUE(ctx.prepare_batch(1).ok());
    const std::string why = WindowPrefix::why_not(ctx);
    EXPECT_NE(why, "") << m;
    auto wp = WindowPrefix::create(ctx);
    ASSERT_FALSE(wp.ok()) << m;
    EXPECT_EQ(wp.status().code(), Code::unsupported);
    EXPECT_NE(wp.status().message().find("window prefix"), std::string::npos) << wp.status().to_string();
  }
  // A batch-8 plan is not a single window.
  auto e = build("models/trained/lstm_attn_s/model.onnx");
  ASSERT_TRUE(e);
  ExecutionContext ctx(e);
  ASSERT_TRUE(ctx.prepare_batch(8).ok());
  EXPECT_NE(WindowPrefix::why_not(ctx).find("[1, T, F]"), std::string::npos);
}

}  // namespace
