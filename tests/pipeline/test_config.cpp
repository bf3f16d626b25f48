// tests/pipeline: configuration parsing — defaults, every error names its key.
#include <gtest/gtest.h>

#include "pipeline/config.hpp"

namespace tickrt::pipeline {
namespace {

Status parse(const std::string& text) {
  auto r = parse_config(text, "t.toml", "/base");
  return r.ok() ? Status::Ok() : r.status();
}

TEST(PipelineConfig, EmbeddedDefaultParsesToTheDocumentedDefaults) {
  auto r = default_config("/src");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const PipelineConfig& c = r.value();
  EXPECT_EQ(c.source, FeedSource::sim);
  EXPECT_EQ(c.mode, ThreadMode::inline_);
  EXPECT_EQ(c.max_batch, 8);
  EXPECT_EQ(resolve_path(c, c.model), "/src/models/trained/lstm_attn_s/model.onnx");
  EXPECT_EQ(resolve_path(c, c.capture), "/src/data/captures/spot_btcusdt_20240808.gz");
  EXPECT_EQ(resolve_path(c, "/abs/x"), "/abs/x");
}

TEST(PipelineConfig, RecoveryKeys) {
  auto d = parse_config("", "<t>", "/b");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE(d.value().recover);
  EXPECT_TRUE(d.value().recovery_full_history);
  EXPECT_FALSE(d.value().allow_foreign_orders);
  auto r = parse_config("[exec]\nrecover = false\nrecovery_full_history = false\nallow_foreign_orders = true\n", "<t>", "/b");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FALSE(r.value().recover);
  EXPECT_FALSE(r.value().recovery_full_history);
  EXPECT_TRUE(r.value().allow_foreign_orders);
  auto bad = parse_config("[exec]\nrecover = 1\n", "<t>", "/b");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("exec.recover"), std::string::npos) << bad.status().message();
}

// Streaming models' reset policy (docs/STREAMING.md "Reset policy"): defaults, values, and errors naming the key.
TEST(PipelineConfig, StreamResetKeys) {
  auto d = parse_config("", "<t>", "/b");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d.value().stream_max_gap_ms, 5000);
  EXPECT_EQ(d.value().stream_warmup, -1);
  auto v = parse_config("[model]\nstream_max_gap_ms = 250\nstream_warmup = 16\n", "<t>", "/b");
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(v.value().stream_max_gap_ms, 250);
  EXPECT_EQ(v.value().stream_warmup, 16);
  for (const auto& [bad, key] : {std::pair<const char*, const char*>{"[model]\nstream_max_gap_ms = 0\n", "model.stream_max_gap_ms"},
                                 {"[model]\nstream_warmup = -2\n", "model.stream_warmup"},
                                 {"[model]\nstream_max_gap_ms = \"5s\"\n", "model.stream_max_gap_ms"}}) {
    auto r = parse_config(bad, "<t>", "/b");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(key), std::string::npos) << r.status().message();
  }
}

TEST(PipelineConfig, EmptyTextGivesDefaults) {
  auto r = parse_config("", "t.toml", "/b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().enter_prob, PipelineConfig{}.enter_prob);
  EXPECT_EQ(r.value().style, "passive");
}

TEST(PipelineConfig, ValuesAreRead) {
  auto r = parse_config(R"(
[feed]
source = "capture"
speed = 0
extra_symbols = 7
[threads]
mode = "pipelined"
infer_threads = 2
[threads.feed]
cpu = 1
idle = "yield"
[batch]
max_batch = 16
coalesce = false
)", "t.toml", "/b");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value().source, FeedSource::capture);
  EXPECT_EQ(r.value().speed, 0.0);
  EXPECT_EQ(r.value().extra_symbols, 7);
  EXPECT_EQ(r.value().mode, ThreadMode::pipelined);
  EXPECT_EQ(r.value().infer_threads, 2);
  EXPECT_EQ(r.value().feed.cpu, 1);
  EXPECT_EQ(r.value().feed.idle, IdleKind::yield);
  EXPECT_EQ(r.value().max_batch, 16);
  EXPECT_FALSE(r.value().coalesce);
}

void expect_error(const std::string& text, const std::string& needle1, const std::string& needle2 = "") {
  Status st = parse(text);
  ASSERT_FALSE(st.ok()) << text;
  EXPECT_NE(st.message().find(needle1), std::string::npos) << st.message();
  if (!needle2.empty()) { EXPECT_NE(st.message().find(needle2), std::string::npos) << st.message(); }
  EXPECT_NE(st.message().find("t.toml"), std::string::npos) << st.message();
}

TEST(PipelineConfig, ErrorsNameTheKey) {
  expect_error("[threads]\nmode = \"fast\"\n", "threads.mode", "inline|pipelined");
  expect_error("[batch]\nmax_batch = 0\n", "batch.max_batch", "out of range");
  expect_error("[batch]\nmax_batch = \"8\"\n", "batch.max_batch", "integer");
  expect_error("[feed]\nspeed = -1\n", "feed.speed", "out of range");
  expect_error("[feed]\nsourc = \"sim\"\n", "feed.sourc", "unknown key");
  expect_error("[fede]\nsource = \"sim\"\n", "fede", "unknown key");
  expect_error("[threads.feed]\nidle = \"spin\"\n", "threads.feed.idle", "busy|yield|sleep");
  expect_error("[threads.feed]\ncpux = 1\n", "threads.feed.cpux", "unknown key");
  expect_error("[threads]\nfoo = 1\n", "threads.foo", "unknown key");
  expect_error("feed = 3\n", "feed", "table");
  expect_error("[model]\nwatch = 1\n", "model.watch", "true or false");
  expect_error("[feed]\nsource = \"url\"\n", "feed.symbols", "required");
  expect_error("[metrics]\nenabled = \"yes\"\n", "metrics.enabled");
  expect_error("[strategy]\nsizing = \"all\"\n", "strategy.sizing", "fixed|max_position|confidence");
  expect_error("[risk]\nmax_open_orders = 0\n", "risk.max_open_orders");
}

TEST(PipelineConfig, SyntaxErrorNamesLine) {
  Status st = parse("[feed]\nspeed = = 2\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::parse_error);
  EXPECT_NE(st.message().find("t.toml:2"), std::string::npos) << st.message();
}

TEST(PipelineConfig, MissingFileIsNamed) {
  auto r = load_config("/nonexistent/tickrt.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/tickrt.toml"), std::string::npos);
}

TEST(PipelineConfig, ShippedExampleConfigParses) {
  auto r = load_config("configs/tickrt.toml");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
}

}  // namespace
}  // namespace tickrt::pipeline
