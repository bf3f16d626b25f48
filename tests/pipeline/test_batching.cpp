// tests/pipeline: the market-data half against the feature export (same rows), and the dynamic
// batcher (coalescing, batch limits, max delay, results equal unbatched inference).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "features/replay.hpp"
#include "pipeline/capture_source.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;
const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";
const char* kLstm = "models/trained/lstm_attn_s/model.onnx";

struct RowMap : features::RowSink {
  std::map<std::int64_t, std::vector<float>> rows;
  void row(const features::RowInfo& info, const float* f) override {
    rows[info.ts_ns] = std::vector<float>(f, f + features::kNumFeatures);
  }
};

TEST(PipelineMarket, SampledWindowsEqualTheFeatureExport) {
  if (!fs::exists(kCapture)) GTEST_SKIP() << kCapture << " not present";
  RowMap ref;
  features::FeatureReplay rp;
  ASSERT_TRUE(rp.run({kCapture}, ref).ok());
  ASSERT_GT(ref.rows.size(), 100u);

  auto src = CaptureSource::open(kCapture, 1, 0.0);
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  MarketHandler mh(features::FeatureConfig{});
  std::string_view line;
  SampleMeta meta;
  std::uint64_t due = 0, compared = 0;
  while (src.value()->next(line)) {
    TickStamps t;
    t.recv = TscClock::ticks();
    if (mh.on_line(line, t, meta) == 1) {
      ++due;
      const SymbolState* s = mh.symbol(meta.symbol);
      ASSERT_NE(s, nullptr);
      std::span<const float> w = s->fe.window();
      ASSERT_EQ(w.size(), 64u * features::kNumFeatures);
      auto it = ref.rows.find(meta.sample_ts_ns);
      ASSERT_NE(it, ref.rows.end()) << "no exported row at " << meta.sample_ts_ns;
      for (std::size_t f = 0; f < features::kNumFeatures; ++f)
        ASSERT_EQ(w[63 * features::kNumFeatures + f], it->second[f]) << "feature " << f << " at " << meta.sample_ts_ns;
      ++compared;
      EXPECT_TRUE(meta.tradable);
      EXPECT_GT(meta.best_ask.price.raw, meta.best_bid.price.raw);
      EXPECT_GE(meta.t.feat, meta.t.parsed);
    }
  }
  EXPECT_EQ(mh.counters().malformed, 0u);
  EXPECT_GT(due, 1000u);
  EXPECT_EQ(compared, due);
}

TEST(PipelineMarket, RenamedCopiesAreSeparateSymbols) {
  if (!fs::exists(kCapture)) GTEST_SKIP() << kCapture << " not present";
  auto src = CaptureSource::open(kCapture, 8, 0.0, 3000);
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  EXPECT_EQ(src.value()->copy_symbol(3), "B000003");
  MarketHandler mh(features::FeatureConfig{});
  std::string_view line;
  SampleMeta meta;
  while (src.value()->next(line)) (void)mh.on_line(line, TickStamps{}, meta);
  EXPECT_EQ(mh.counters().malformed, 0u);
  ASSERT_EQ(mh.symbol_count(), 8u);
  for (feed::SymbolId i = 0; i < 8; ++i) {
    ASSERT_NE(mh.symbol(i), nullptr);
    EXPECT_TRUE(mh.symbol(i)->book.tradable()) << mh.symbol(i)->name;
    EXPECT_EQ(mh.symbol(i)->messages, mh.symbol(0)->messages);
  }
}

class Batching : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kLstm)) GTEST_SKIP() << "models/trained not present";
    ModelOptions o;
    o.path = kLstm;
    o.max_batch = 8;
    auto m = load_model(o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    model = m.value();
    auto inst = make_instance(model, 8);
    ASSERT_TRUE(inst.ok());
    slot = std::make_unique<ModelSlot>(std::move(inst.value()));
    auto c = TscClock::calibrate(std::chrono::milliseconds(5));
    ASSERT_TRUE(c.ok());
    clock = c.value();
    in = std::make_unique<SpscRing<InferRequest>>(64);
    out = std::make_unique<SpscRing<InferResult>>(64);
  }
  std::vector<float> window(float v) {
    std::vector<float> w(64 * 24);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = v + 0.001f * static_cast<float>(i % 97);
    return w;
  }
  void push(feed::SymbolId sym, std::uint64_t seq, const std::vector<float>& w) {
    SampleMeta m;
    m.symbol = sym;
    m.md_seq = seq;
    ASSERT_TRUE(in->try_emplace(m, std::span<const float>(w)));
  }
  // Reference: the same window inferred alone at batch 1.
  std::vector<float> alone(const std::vector<float>& w) {
    auto inst = make_instance(model, 1);
    infer::ExecutionContext& ctx = *inst.value()->ctx;
    model->package.normalize(w.data(), 64, ctx.input(0));
    EXPECT_EQ(ctx.run(), Code::ok);
    return std::vector<float>(ctx.output(0), ctx.output(0) + 3);
  }
  std::shared_ptr<const LoadedModel> model;
  std::unique_ptr<ModelSlot> slot;
  TscClock clock;
  std::unique_ptr<SpscRing<InferRequest>> in;
  std::unique_ptr<SpscRing<InferResult>> out;
};

TEST_F(Batching, CoalescingKeepsOnlyTheNewestWindowPerSymbol) {
  BatchConfig bc{8, 0, true};
  InferStage st(*slot, bc, clock);
  const auto a1 = window(0.1f), a2 = window(0.2f), a3 = window(0.3f), b1 = window(-0.5f), b2 = window(-0.4f), c1 = window(1.0f);
  push(0, 1, a1); push(1, 2, b1); push(0, 3, a2); push(2, 4, c1); push(1, 5, b2); push(0, 6, a3);
  EXPECT_EQ(st.poll(*in, *out), 3);
  EXPECT_EQ(st.counters().coalesced, 3u);
  EXPECT_EQ(st.counters().batch_hist[3], 1u);
  std::map<feed::SymbolId, InferResult> got;
  InferResult r;
  while (out->try_pop(r)) got[r.meta.symbol] = r;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].meta.md_seq, 6u);
  EXPECT_EQ(got[1].meta.md_seq, 5u);
  EXPECT_EQ(got[2].meta.md_seq, 4u);
  const std::pair<feed::SymbolId, const std::vector<float>*> expect[] = {{0, &a3}, {1, &b2}, {2, &c1}};
  for (const auto& [sym, w] : expect) {
    auto ref = alone(*w);
    EXPECT_EQ(got[sym].batch, 3);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[sym].out[c], ref[static_cast<std::size_t>(c)], 1e-4) << "symbol " << sym;
  }
}

TEST_F(Batching, WithoutCoalescingEveryWindowIsInferredInMaxBatchChunks) {
  BatchConfig bc{4, 0, false};
  InferStage st(*slot, bc, clock);
  const auto w = window(0.0f);
  for (int i = 0; i < 6; ++i) push(0, static_cast<std::uint64_t>(i + 1), w);
  EXPECT_EQ(st.poll(*in, *out), 4);
  EXPECT_EQ(st.poll(*in, *out), 2);
  EXPECT_EQ(st.poll(*in, *out), 0);
  EXPECT_EQ(st.counters().coalesced, 0u);
  EXPECT_EQ(st.counters().inferences, 6u);
  EXPECT_EQ(out->size(), 6u);
}

TEST_F(Batching, LoneWindowWaitsAtMostMaxDelay) {
  BatchConfig bc{8, 2'000'000, false};  // 2 ms, no coalescing: another window of it could come
  InferStage st(*slot, bc, clock);
  push(0, 1, window(0.0f));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(st.poll(*in, *out), 1);
  const auto dt = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(dt, std::chrono::microseconds(1900));
  EXPECT_LT(dt, std::chrono::milliseconds(200));
}

TEST_F(Batching, WithCoalescingNoWaitOnceEverySeenSymbolIsStaged) {
  BatchConfig bc{8, 200'000'000, true};  // 200 ms: would be obvious if waited
  InferStage st(*slot, bc, clock);
  push(0, 1, window(0.0f));
  push(1, 2, window(0.5f));
  EXPECT_EQ(st.poll(*in, *out), 2);  // both queued: taken at once; symbols 0 and 1 now known
  push(0, 3, window(0.1f));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(st.poll(*in, *out), 1);  // symbol 1 may still come: waits the full delay
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(190));
  push(0, 4, window(0.2f));
  push(1, 5, window(0.3f));
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_EQ(st.poll(*in, *out), 2);  // both seen symbols staged: no wait
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace tickrt::pipeline
