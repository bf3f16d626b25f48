// tests/pipeline: `tickrt run` on a capture file, no trading, no metrics, no journal — the config the summary-line
// tests share — and one create -> run -> report pass of it (gtest failures on a setup or run error).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <string>

#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"

namespace tickrt::pipeline::test_support {

// The embedded defaults with the capture source (the bundled capture), `model`, at `speed` (0: as fast as
// possible) for `duration_s` (0: until the capture ends), trading, metrics and the journal off.
inline PipelineConfig capture_run_config(const std::string& model, double speed, double duration_s) {
  auto c = default_config(std::filesystem::current_path().string());
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  PipelineConfig cfg = c.ok() ? c.value() : PipelineConfig{};
  cfg.model = model;
  cfg.source = FeedSource::capture;
  cfg.speed = speed;
  cfg.duration_s = duration_s;
  cfg.trade = false;
  cfg.metrics = false;
  cfg.journal = "";
  return cfg;
}

// Creates the pipeline, runs it to its end and returns its report ("" after a failure, which is recorded).
inline std::string run_report(const PipelineConfig& cfg) {
  std::ostringstream log;
  auto p = Pipeline::create(cfg, log);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  if (!p.ok()) return "";
  std::atomic<bool> stop{false};
  const Status st = p.value()->run(stop);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return p.value()->report();
}

}  // namespace tickrt::pipeline::test_support
