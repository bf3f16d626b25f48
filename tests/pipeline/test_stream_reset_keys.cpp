// tests/pipeline: a streaming model's reset policy keys ([model] stream_max_gap_ms / stream_warmup) reach the
// runner that `tickrt run` builds, and the summary's `stream:` line reports the resets by cause. The bundled
// capture through the trained lstm_attn_stream at full speed, no trading: with the default 5 s gap the symbol's
// state is reset once (the session start); with a 1 ms gap every sample after the first is a gap reset, rebuilt
// from the feature window (replayed rows).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

#include "capture_run.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;

struct StreamLine {
  std::uint64_t steps = 0, replayed = 0, session = 0, gap = 0;
};

StreamLine run_with_gap(std::int64_t gap_ms, std::string& report) {
  PipelineConfig cfg = test_support::capture_run_config("models/trained/lstm_attn_stream/model.onnx", /*speed=*/0, /*duration_s=*/0);
  cfg.stream_max_gap_ms = gap_ms;
  report = test_support::run_report(cfg);
  if (report.empty()) return {};
  std::smatch m;
  StreamLine s;
  const std::regex re(R"(stream: (\d+) steps \((\d+) replayed\).*resets: (\d+) session, (\d+) gap \(> (\d+) ms\))");
  EXPECT_TRUE(std::regex_search(report, m, re)) << report;
  if (m.empty()) return s;
  s.steps = std::stoull(m[1]);
  s.replayed = std::stoull(m[2]);
  s.session = std::stoull(m[3]);
  s.gap = std::stoull(m[4]);
  EXPECT_EQ(std::stoll(m[5]), gap_ms) << report;
  return s;
}

TEST(PipelineStream, ResetPolicyKeysReachTheRunner) {
  for (const char* f : {"models/trained/lstm_attn_stream/model.onnx", "data/captures/spot_btcusdt_20240808.gz"})
    if (!fs::exists(f)) GTEST_SKIP() << f << " not present";
  std::string r1, r2;
  const StreamLine dflt = run_with_gap(5000, r1);
  const StreamLine tight = run_with_gap(1, r2);
  EXPECT_EQ(dflt.session, 1u) << r1;
  EXPECT_EQ(dflt.gap, 0u) << "the bundled capture has no 5 s hole between samples\n" << r1;
  EXPECT_EQ(dflt.replayed, 0u) << r1;
  // Samples are 100 ms of market time apart: every one after the first is a gap reset under a 1 ms limit, and
  // each rebuild replays the rows the window holds.
  EXPECT_GT(tight.gap, 1000u) << r2;
  EXPECT_GT(tight.replayed, tight.gap) << r2;
  EXPECT_GT(tight.steps, dflt.steps * 10) << r2;
}

}  // namespace
}  // namespace tickrt::pipeline
