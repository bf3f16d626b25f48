// Inference at the boundary (`[engine] infer_at_boundary`, docs/PIPELINE.md): between ticks the inline loop takes
// the rows of a sampling boundary the feature clock has passed (MarketHandler::sample_boundaries) and runs the
// model on them (InferStage::infer_ahead), so the message that crosses the boundary finds its result ready.
// Over a real capture, against a handler and a stage that sample and infer on the message as before:
//   - the rows are the same: every message reports the same due code, boundary and bit-identical window;
//   - the logits handed to the strategy are the same (streaming: bitwise; window model: within the prefix's
//     1e-5), and most due samples are served from the result made at the boundary;
//   - a clock that lags (the thread was busy) or a message that crosses a later boundary too falls back to the
//     message's own sampling / inference with the same result;
//   - the capture source's clock never runs past its next line; `tickrt run` reports the boundary work.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>

#include "core/clock.hpp"
#include "capture_run.hpp"
#include "pipeline/capture_source.hpp"
#include "pipeline/config.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"
#include "pipeline/pipeline.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";
constexpr const char* kStream = "models/trained/lstm_attn_stream/model.onnx";
constexpr const char* kWindow = "models/trained/lstm_attn_s/model.onnx";
// A sampling period shorter than the default 100 ms: more boundaries, and quiet spells longer than a period (a
// message that crosses several boundaries) are common. The rows differ from the models' training rows, which
// does not matter for comparing two ways of taking the same rows.
constexpr std::int64_t kPeriod = 25'000'000;

// The stamp of a capture line ("<ns> <json>"; the bundled spot capture is in ns).
std::int64_t stamp(std::string_view line) {
  std::int64_t v = 0;
  for (std::size_t i = 0; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) v = v * 10 + (line[i] - '0');
  return v;
}

// Where the clock stands when the loop idles before line i (stamp ts; the line before it: prev): at the line's own
// stamp (the usual case); at the first boundary after the previous line and no further (after a quiet spell the
// message then crosses later boundaries itself, after rows were taken and the model ran at the first one); or
// nowhere (the thread never idled).
std::int64_t clock_before(std::size_t i, std::int64_t ts, std::int64_t prev) {
  if (i % 7 == 3) return -1;
  if (i % 5 == 1) return std::min(ts, (prev / kPeriod + 1) * kPeriod);
  return ts;
}

TEST(InferAtBoundary, ClockSampledRowsEqualTheMessageSampledRows) {
  if (!fs::exists(kCapture)) GTEST_SKIP() << kCapture << " absent";
  features::FeatureConfig fc;
  fc.sample_period_ns = kPeriod;
  MarketHandler a(fc), b(fc);
  a.set_row_samples(true);
  b.set_row_samples(true);
  auto src = CaptureSource::open(kCapture, /*copies=*/2, 0, 30000);   // two symbols, interleaved
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  std::string_view line;
  SampleMeta ma, mb, ahead;
  std::size_t i = 0;
  std::int64_t prev = 0;
  int due = 0, rows = 0;
  while (src.value()->next(line)) {
    const std::int64_t ts = stamp(line);
    const std::int64_t now = clock_before(i++, ts, prev);
    prev = ts;
    if (now >= 0)
      while (b.sample_boundaries(now, ahead) != feed::kNoSymbol) {
        EXPECT_LE(ahead.sample_ts_ns, now);
        EXPECT_EQ(ahead.sample_ts_ns % kPeriod, 0);
      }
    const int da = a.on_line(line, TickStamps{}, ma);
    const int db = b.on_line(line, TickStamps{}, mb);
    ASSERT_EQ(da, db) << "line " << i;
    if (da == 0) continue;
    rows += 1;
    due += da == 1;
    ASSERT_EQ(ma.symbol, mb.symbol);
    ASSERT_EQ(ma.sample_ts_ns, mb.sample_ts_ns) << "line " << i;
    ASSERT_EQ(ma.md_seq, mb.md_seq);
    const features::FeatureEngine& fa = a.symbol(ma.symbol)->fe;
    const features::FeatureEngine& fb = b.symbol(mb.symbol)->fe;
    ASSERT_EQ(fa.samples(), fb.samples()) << "line " << i;
    ASSERT_EQ(fa.window().size(), fb.window().size());
    ASSERT_EQ(std::memcmp(fa.window().data(), fb.window().data(), fa.window().size() * sizeof(float)), 0) << "line " << i;
  }
  EXPECT_EQ(a.counters().samples, b.counters().samples);
  EXPECT_EQ(a.counters().warmup, b.counters().warmup);
  EXPECT_EQ(a.counters().sampled_ahead, 0u);
  ASSERT_GT(due, 500) << "capture too short for the test";
  // Most boundaries were taken by the clock (a call per symbol and clock reading that found some; a bookTicker in
  // between lets the clock take more before the crossing message).
  EXPECT_GT(b.counters().sampled_ahead, static_cast<std::uint64_t>(rows) / 2);
}

struct Compared {
  int due = 0;
  double worst = 0;
  int later = 0;   // due samples whose message crossed a later boundary after the model ran at an earlier one
  InferCounters ca, cb;
};

// Stage A samples and infers on the message; stage B also runs the model at each boundary the clock passed.
Compared compare(const char* model, int prefix_slice) {
  Compared o;
  ModelOptions mo;
  mo.path = model;
  mo.max_batch = 1;
  mo.prefix_slice = prefix_slice;
  auto ma_ = load_model(mo), mb_ = load_model(mo);
  EXPECT_TRUE(ma_.ok() && mb_.ok());
  if (!ma_.ok() || !mb_.ok()) return o;
  auto ia = make_instance(ma_.value(), 1), ib = make_instance(mb_.value(), 1);
  EXPECT_TRUE(ia.ok() && ib.ok());
  if (!ia.ok() || !ib.ok()) return o;
  ModelSlot sa(std::move(ia.value())), sb(std::move(ib.value()));
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  EXPECT_TRUE(clock.ok());
  InferStage a(sa, BatchConfig{1, 0, false}, clock.value()), b(sb, BatchConfig{1, 0, false}, clock.value());
  features::FeatureConfig fc;
  fc.sample_period_ns = kPeriod;
  if (ma_.value()->streaming) fc.window = replay_rows(*ma_.value());
  MarketHandler ha(fc), hb(fc);
  ha.set_row_samples(true);
  hb.set_row_samples(true);
  auto src = CaptureSource::open(kCapture, 1, 0, 30000);
  EXPECT_TRUE(src.ok());
  if (!src.ok()) return o;
  std::string_view line;
  SampleMeta ma, mb, ahead;
  InferResult ra, rb;
  std::size_t i = 0;
  std::int64_t prev = 0;
  while (src.value()->next(line)) {
    const std::int64_t ts = stamp(line);
    const std::int64_t now = clock_before(i++, ts, prev);
    prev = ts;
    if (now >= 0)
      while (hb.sample_boundaries(now, ahead) != feed::kNoSymbol) {
        std::uint64_t t0 = 0, t1 = 0;
        (void)b.infer_ahead(ahead, hb.symbol(ahead.symbol)->fe, t0, t1);
      }
    for (int k = 0; k < 16; ++k) b.idle();   // the window prefix (window model) / prepares (streaming) between ticks
    for (int k = 0; k < 16; ++k) a.idle();
    const SymbolState* sym = hb.symbol(0);   // one symbol in this capture
    const std::uint64_t rows_before = sym != nullptr ? sym->fe.samples() : 0;
    const bool was_ahead = sym != nullptr && sym->sampled_ahead;
    const int da = ha.on_line(line, TickStamps{}, ma);
    const int db = hb.on_line(line, TickStamps{}, mb);
    EXPECT_EQ(da, db);
    if (db == 1 && was_ahead && hb.symbol(0)->fe.samples() > rows_before) ++o.later;
    if (da == MarketHandler::kRowOnly) {
      a.step_row(ma, ha.symbol(ma.symbol)->fe);
      b.step_row(mb, hb.symbol(mb.symbol)->fe);
    }
    if (da != 1 || db != 1) continue;
    ++o.due;
    const bool oka = a.infer_one(ma, ha.symbol(ma.symbol)->fe, ra);
    const bool okb = b.infer_one(mb, hb.symbol(mb.symbol)->fe, rb);
    EXPECT_EQ(oka, okb) << "line " << i;
    if (!oka || !okb) continue;
    EXPECT_EQ(ra.n_out, rb.n_out);
    for (int c = 0; c < ra.n_out; ++c) o.worst = std::max(o.worst, static_cast<double>(std::fabs(ra.out[c] - rb.out[c])));
  }
  o.ca = a.counters();
  o.cb = b.counters();
  return o;
}

TEST(InferAtBoundary, StreamingResultsReadyAtTheTickAreBitwiseTheSame) {
  if (!fs::exists(kStream) || !fs::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  const Compared o = compare(kStream, 0);
  ASSERT_GT(o.due, 500);
  EXPECT_EQ(o.worst, 0.0);
  EXPECT_EQ(o.ca.ahead_used, 0u);
  EXPECT_EQ(o.ca.inferences, o.cb.inferences);
  EXPECT_EQ(o.cb.run_errors, 0u);
  // The clock before ~70 % of the lines stands at the line's stamp: those samples were ready.
  EXPECT_GT(o.cb.ahead_used, static_cast<std::uint64_t>(o.due) / 2);
  EXPECT_LT(o.cb.ahead_used, static_cast<std::uint64_t>(o.due));
  EXPECT_GE(o.cb.ahead_runs, o.cb.ahead_used);
  EXPECT_GT(o.later, 5) << "no message crossed a later boundary after the model ran at an earlier one";
}

TEST(InferAtBoundary, WindowModelResultsReadyAtTheTickAreTheSame) {
  if (!fs::exists(kWindow) || !fs::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  const Compared o = compare(kWindow, 16);
  ASSERT_GT(o.due, 500);
  EXPECT_LE(o.worst, 1e-5);   // the prefix's tolerance (WindowPrefixPipeline)
  EXPECT_EQ(o.ca.ahead_used, 0u);
  EXPECT_EQ(o.ca.inferences, o.cb.inferences);
  EXPECT_EQ(o.cb.run_errors, 0u);
  EXPECT_GT(o.cb.ahead_used, static_cast<std::uint64_t>(o.due) / 2);
  EXPECT_LT(o.cb.ahead_used, static_cast<std::uint64_t>(o.due));
  EXPECT_GT(o.later, 5) << "no message crossed a later boundary after the model ran at an earlier one";
}

// A book resync between the boundary's run and the message that makes the sample due: the symbol's streaming state
// restarts (StreamRunner::reset_symbol), so the result kept at the boundary must not be handed on; the tick asks the
// runner, which rebuilds the slot from the window. (Where the restart lands can differ from sampling on the message:
// at the next boundary by the clock, not at the next crossing message; both follow the reset policy.)
TEST(InferAtBoundary, AResyncDropsTheResultKeptAtTheBoundary) {
  if (!fs::exists(kStream) || !fs::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  ModelOptions mo;
  mo.path = kStream;
  mo.max_batch = 1;
  auto m = load_model(mo);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto inst = make_instance(m.value(), 1);
  ASSERT_TRUE(inst.ok());
  ModelSlot slot(std::move(inst.value()));
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  ASSERT_TRUE(clock.ok());
  InferStage st(slot, BatchConfig{1, 0, false}, clock.value());
  features::FeatureConfig fc;
  fc.window = replay_rows(*m.value());
  MarketHandler mh(fc);
  mh.set_row_samples(true);
  auto src = CaptureSource::open(kCapture, 1, 0, 30000);
  ASSERT_TRUE(src.ok());
  std::string_view line;
  SampleMeta meta, ahead;
  InferResult res;
  int ready = 0, checked = 0;
  while (src.value()->next(line) && checked < 3) {
    bool took = false;
    while (mh.sample_boundaries(stamp(line), ahead) != feed::kNoSymbol) {
      std::uint64_t t0 = 0, t1 = 0;
      took = st.infer_ahead(ahead, mh.symbol(ahead.symbol)->fe, t0, t1) || took;
    }
    const bool model_msg = line.find("@trade") != std::string_view::npos || line.find("@depth") != std::string_view::npos;
    const bool resync = took && model_msg && ready >= 20;   // a result is kept and this message will hand it on
    if (resync) st.on_resync(0);
    const std::uint64_t used = st.counters().ahead_used;
    const std::uint64_t resets = slot.current()->stream->counters().resets_resync;
    const int due = mh.on_line(line, TickStamps{}, meta);
    if (due == MarketHandler::kRowOnly) st.step_row(meta, mh.symbol(meta.symbol)->fe);
    if (due != 1) continue;
    ASSERT_TRUE(st.infer_one(meta, mh.symbol(meta.symbol)->fe, res));
    if (!resync) {
      ready += st.counters().ahead_used > used;
      continue;
    }
    EXPECT_EQ(st.counters().ahead_used, used) << "a result kept from before the resync was handed on";
    EXPECT_EQ(slot.current()->stream->counters().resets_resync, resets + 1) << "the slot did not restart";
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(InferAtBoundary, CaptureClockNeverPassesTheNextLine) {
  if (!fs::exists(kCapture)) GTEST_SKIP() << kCapture << " absent";
  auto src = CaptureSource::open(kCapture, 1, /*speed=*/1000.0, 2000);
  ASSERT_TRUE(src.ok());
  CaptureSource& s = *src.value();
  EXPECT_EQ(s.market_now_ns(), -1) << "no clock before the first line";
  std::string_view line;
  std::int64_t last = 0, first = 0;
  int seen = 0;
  while (!s.done()) {
    if (!s.next(line)) {
      const std::int64_t now = s.market_now_ns();
      if (s.done()) break;
      EXPECT_GE(now, last);   // the clock only moves forward, from the last line released ...
      last = std::max(last, now);
      continue;
    }
    const std::int64_t ts = stamp(line);
    if (first == 0) first = ts;
    EXPECT_GE(ts, last) << "a line stamped before the clock came after it (line " << seen << ")";
    last = ts;
    ++seen;
  }
  EXPECT_EQ(seen, 2000);
  EXPECT_EQ(s.market_now_ns(), -1) << "no clock after the end";
  auto fast = CaptureSource::open(kCapture, 1, /*speed=*/0, 10);
  ASSERT_TRUE(fast.ok());
  ASSERT_TRUE(fast.value()->next(line));
  EXPECT_EQ(fast.value()->market_now_ns(), -1) << "speed 0 has no clock";
}

TEST(InferAtBoundary, TickrtRunReportsTheBoundaryWork) {
  for (const char* f : {kStream, kCapture})
    if (!fs::exists(f)) GTEST_SKIP() << f << " not present";
  for (const bool on : {true, false}) {
    // 20x: about 200 boundaries a second, idle time between them.
    PipelineConfig cfg = test_support::capture_run_config(kStream, /*speed=*/20, /*duration_s=*/2);
    cfg.infer_at_boundary = on;
    const std::string report = test_support::run_report(cfg);
    ASSERT_FALSE(report.empty());
    std::smatch m;
    const std::regex re(R"(inference at the boundary \(infer_at_boundary (on|off)\): (\d+) boundaries sampled by the clock, (\d+) model runs between ticks, (\d+) due samples found their result ready)");
    ASSERT_TRUE(std::regex_search(report, m, re)) << report;
    EXPECT_EQ(m[1].str(), on ? "on" : "off");
    const std::uint64_t sampled = std::stoull(m[2]), runs = std::stoull(m[3]), ready = std::stoull(m[4]);
    if (on) {
      EXPECT_GT(sampled, 50u) << report;
      EXPECT_GT(runs, 50u) << report;
      EXPECT_GT(ready, 20u) << report;
      EXPECT_NE(report.find("| inference ahead"), std::string::npos) << report;
    } else {
      EXPECT_EQ(sampled + runs + ready, 0u) << report;
    }
  }
}

}  // namespace
}  // namespace tickrt::pipeline
