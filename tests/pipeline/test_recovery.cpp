// tests/pipeline: restart recovery in `tickrt run` (pipeline.hpp "Startup"). A venue the test owns
// (so it outlives each pipeline, like a real exchange) replays the bundled capture; session 1
// trades against it with a journal; session 2 on the same journal + venue must rebuild the same
// position from the journal and reconcile cleanly; a session on the same journal against ANOTHER
// venue (the journal's trades are not that account's) must fail closed before any order.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

#include <unistd.h>

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";

bool have_data() { return fs::exists(kCapture) && fs::exists("models/trained/lstm_attn_s/model.onnx"); }

// An exchange that outlives the pipelines: engine + Binance-compatible server on 127.0.0.1:0.
struct Exchange {
  std::unique_ptr<sim::MatchingEngine> engine;
  std::unique_ptr<venue::VenueServer> server;
  Status start() {
    venue::SimSetup s = venue::default_sim_setup();
    s.venue.port = 0;
    s.venue.captures = {kCapture};
    s.venue.speed = 20;  // 1 s of wall time = 20 s of the capture
    engine = std::make_unique<sim::MatchingEngine>(s.engine);
    if (!engine->status().ok()) return engine->status();
    server = std::make_unique<venue::VenueServer>(s.venue, *engine);
    return server->start();
  }
};

PipelineConfig session_config(const std::string& journal, std::uint16_t port, double seconds) {
  auto c = default_config(fs::current_path().string());
  EXPECT_TRUE(c.ok());
  PipelineConfig cfg = c.value();
  cfg.source = FeedSource::url;
  cfg.symbols = {"BTCUSDT"};
  cfg.ws_url = "ws://127.0.0.1:" + std::to_string(port);
  cfg.rest_url = "http://127.0.0.1:" + std::to_string(port);
  cfg.api_key = venue::kTestApiKey;
  cfg.api_secret = venue::kTestSecret;
  cfg.speed = 20;  // the venue replays at 20x: feature time follows it
  cfg.duration_s = seconds;
  cfg.journal = journal;
  cfg.metrics_listen = "127.0.0.1:0";
  cfg.print_orders = false;
  cfg.style = "aggressive";  // IOC at the touch: fills against the replayed book
  cfg.enter_prob = 0.40;
  cfg.exit_prob = 0.34;
  cfg.min_edge = 0.0;
  return cfg;
}

TEST(PipelineRecovery, RestartRebuildsPositionAndAnotherVenuesJournalFailsClosed) {
  if (!have_data()) GTEST_SKIP() << "bundled capture or trained model not present";
  const std::string jp = (fs::temp_directory_path() / ("tickrt_recovery_" + std::to_string(::getpid()) + ".db")).string();
  fs::remove(jp);
  Exchange a;
  ASSERT_TRUE(a.start().ok());

  // Session 1: a fresh journal, nothing to recover; trades until the duration ends.
  RunSummary s1;
  {
    std::ostringstream log;
    PipelineConfig cfg = session_config(jp, a.server->port(), 3.0);
    // One IOC entry, then hold (exit_prob 0) and no new order for an hour: the run ends with a
    // position open, which recovery must rebuild.
    cfg.exit_prob = 0.0;
    cfg.min_interval_ms = 3'600'000;
    auto p = Pipeline::create(cfg, log);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    std::atomic<bool> stop{false};
    ASSERT_TRUE(p.value()->run(stop).ok()) << log.str();
    s1 = p.value()->summary();
    EXPECT_EQ(s1.recovery_records, 0u);
    ASSERT_GT(s1.fills, 0u) << log.str() << p.value()->report();
    EXPECT_NE(s1.position_raw, 0);
    EXPECT_EQ(s1.open_orders_at_end, 0u);
  }

  // Session 2: same journal, same venue: the journal is replayed and reconciled before trading.
  {
    std::ostringstream log;
    auto p = Pipeline::create(session_config(jp, a.server->port(), 1.0), log);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    const RunSummary& s2 = p.value()->summary();
    EXPECT_GT(s2.recovery_records, 0u);
    EXPECT_EQ(s2.recovered_orders, s1.orders) << s2.recovery;
    EXPECT_EQ(s2.recovered_fills, s1.fills) << s2.recovery;
    EXPECT_EQ(s2.recovered_position_raw, s1.position_raw) << s2.recovery;
    EXPECT_NE(log.str().find("recovery: "), std::string::npos) << log.str();
    std::printf("session 1: %llu orders, %llu fills, position %lld; session 2 recovery: %s\n",
                static_cast<unsigned long long>(s1.orders), static_cast<unsigned long long>(s1.fills),
                static_cast<long long>(s1.position_raw), s2.recovery.c_str());
    std::atomic<bool> stop{false};
    ASSERT_TRUE(p.value()->run(stop).ok()) << log.str();
    // The run continues from the recovered position: what it traded now moves it from there.
    EXPECT_EQ(p.value()->summary().open_orders_at_end, 0u);
  }

  // Session 3: the same journal against another exchange (whose account never made those
  // trades): fail closed at create(), naming the mismatch, and no order reaches that venue.
  Exchange b;
  ASSERT_TRUE(b.start().ok());
  {
    std::ostringstream log;
    auto p = Pipeline::create(session_config(jp, b.server->port(), 1.0), log);
    ASSERT_FALSE(p.ok()) << log.str();
    const std::string msg = p.status().message();
    std::printf("session 3 (other venue): %s\n", msg.c_str());
    EXPECT_NE(msg.find(kRecoveryFailedClosed), std::string::npos) << msg;
    EXPECT_NE(msg.find(jp), std::string::npos) << msg;
    EXPECT_NE(msg.find("BTCUSDT"), std::string::npos) << msg;  // the mismatch lines name the symbol
    EXPECT_EQ(b.server->counters().orders, 0u);
  }
  fs::remove(jp);
}

}  // namespace
}  // namespace tickrt::pipeline
