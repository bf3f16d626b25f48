// MarketHandler::warm() (keep_warm = "infer" between ticks): re-parsing the last live frame changes nothing a
// tick sees — the same samples, windows, books and last event as a handler that never warmed, over a real
// capture fed as live frames (on_json), with warm() called several times after every frame.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "pipeline/capture_source.hpp"
#include "pipeline/market.hpp"

namespace tickrt::pipeline {
namespace {

const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";

TEST(PipelineMarket, WarmReparseChangesNothingATickSees) {
  if (!std::filesystem::exists(kCapture)) GTEST_SKIP() << kCapture << " not present";
  auto src = CaptureSource::open(kCapture, 1, 0.0);
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  MarketHandler plain(features::FeatureConfig{}), warmed(features::FeatureConfig{});
  std::string_view line;
  SampleMeta ma, mb;
  int frames = 0, samples = 0, kept = 0;
  warmed.warm();   // nothing to re-parse yet: a no-op
  EXPECT_EQ(warmed.warm_parses(), 0u);
  while (frames < 6000 && src.value()->next(line)) {
    const std::size_t sp = line.find(' ');
    ASSERT_NE(sp, std::string_view::npos);
    const std::int64_t ts = std::stoll(std::string(line.substr(0, sp)));
    const std::string_view json = line.substr(sp + 1);
    const int da = plain.on_json(json, ts, TickStamps{}, ma);
    const int db = warmed.on_json(json, ts, TickStamps{}, mb);
    warmed.warm();   // the frame is not kept yet (keep_frame): nothing happens
    const std::uint64_t parses = warmed.warm_parses();
    warmed.keep_frame();   // as the inline loop does after the tick's decision
    for (int k = 0; k < 3; ++k) warmed.warm();
    ++frames;
    // A REST snapshot is never kept (too long to parse again between ticks): then nothing is re-parsed.
    if (warmed.last_event().kind != feed::EventKind::depth_snapshot) {
      EXPECT_EQ(warmed.warm_parses(), parses + 3) << "frame " << frames;
      ++kept;
    }
    ASSERT_EQ(da, db) << "frame " << frames;
    // The last event (its levels live in the parser's buffer, which warm() refills) is unchanged.
    const feed::Event& ea = plain.last_event();
    const feed::Event& eb = warmed.last_event();
    ASSERT_EQ(ea.kind, eb.kind);
    ASSERT_EQ(ea.depth.bids.size(), eb.depth.bids.size());
    ASSERT_EQ(ea.depth.asks.size(), eb.depth.asks.size());
    for (std::size_t i = 0; i < ea.depth.bids.size(); ++i) ASSERT_EQ(ea.depth.bids[i].price.raw, eb.depth.bids[i].price.raw);
    if (da != 1) continue;
    ++samples;
    ASSERT_EQ(ma.symbol, mb.symbol);
    ASSERT_EQ(ma.sample_ts_ns, mb.sample_ts_ns);
    ASSERT_EQ(ma.best_bid.price.raw, mb.best_bid.price.raw);
    ASSERT_EQ(ma.best_ask.price.raw, mb.best_ask.price.raw);
    const auto wa = plain.symbol(ma.symbol)->fe.window();
    const auto wb = warmed.symbol(mb.symbol)->fe.window();
    ASSERT_EQ(wa.size(), wb.size());
    ASSERT_EQ(0, std::memcmp(wa.data(), wb.data(), wa.size() * sizeof(float))) << "sample " << samples;
  }
  EXPECT_GT(samples, 100);
  EXPECT_GT(kept, frames - 10);
  EXPECT_EQ(warmed.warm_parses(), 3u * static_cast<unsigned>(kept));
  EXPECT_EQ(plain.counters().messages, warmed.counters().messages);
  EXPECT_EQ(plain.counters().malformed, warmed.counters().malformed);
}

}  // namespace
}  // namespace tickrt::pipeline
