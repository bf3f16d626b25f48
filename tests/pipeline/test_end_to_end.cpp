// tests/pipeline: the whole loop on loopback — in-process venue replaying the bundled capture
// (sped up), WS feed, book, features, lstm_attn_s, strategy, risk, OMS, REST gateway — then the
// journal is checked against what the pipeline counted, and the shutdown left nothing open.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "exec/journal.hpp"
#include "journal_view.hpp"
#include "pipeline/config.hpp"
#include "pipeline/model.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/ws_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;

PipelineConfig base_config(const std::string& journal) {
  auto c = default_config(fs::current_path().string());
  EXPECT_TRUE(c.ok());
  PipelineConfig cfg = c.value();
  cfg.speed = 20;            // 3 s of wall time = 60 s of the capture
  cfg.duration_s = 3.0;
  cfg.journal = journal;
  cfg.metrics_listen = "127.0.0.1:0";
  cfg.print_orders = false;
  return cfg;
}

bool have_data() {
  return fs::exists("data/captures/spot_btcusdt_20240808.gz") && fs::exists("models/trained/lstm_attn_s/model.onnx");
}

using JournalCounts = test::JournalView;
using test::read_journal;

TEST(PipelineEndToEnd, InlineLoopTradesAgainstTheSimulatorAndJournalAgrees) {
  if (!have_data()) GTEST_SKIP() << "bundled capture or trained model not present";
  const std::string jp = (fs::temp_directory_path() / ("tickrt_e2e_" + std::to_string(::getpid()) + ".db")).string();
  fs::remove(jp);
  PipelineConfig cfg = base_config(jp);
  cfg.style = "aggressive";  // IOC at the touch: fills against the replayed book
  cfg.enter_prob = 0.40;
  cfg.exit_prob = 0.34;
  cfg.min_edge = 0.0;
  cfg.min_interval_ms = 200;
  std::ostringstream log;
  auto p = Pipeline::create(cfg, log);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  std::atomic<bool> stop{false};
  ASSERT_TRUE(p.value()->run(stop).ok());
  const RunSummary s = p.value()->summary();
  EXPECT_EQ(s.malformed, 0u);
  EXPECT_GT(s.messages, 1000u);
  EXPECT_GT(s.inferences, 50u) << log.str();
  EXPECT_GT(s.orders, 0u) << log.str();
  EXPECT_GT(s.fills, 0u) << log.str();
  EXPECT_EQ(s.open_orders_at_end, 0u);
  EXPECT_EQ(p.value()->venue_open_orders(), 0);
  EXPECT_GT(s.latency[Stage::tick_to_sent].count(), 0u);
  EXPECT_GT(s.latency[Stage::inference].count(), 0u);
  EXPECT_EQ(s.journal_written, s.journal_appended);
  const std::string report = p.value()->report();
  EXPECT_NE(report.find("tick->order sent"), std::string::npos);
  p.value().reset();
  JournalCounts jc = read_journal(jp);
  EXPECT_EQ(jc.orders, s.orders);
  EXPECT_EQ(jc.fills, s.fills);
  EXPECT_EQ(jc.fills_of_unknown, 0u);
  fs::remove(jp);
  fs::remove(jp + "-wal");
  fs::remove(jp + "-shm");
}

TEST(PipelineEndToEnd, ShutdownCancelsRestingOrders) {
  if (!have_data()) GTEST_SKIP() << "bundled capture or trained model not present";
  PipelineConfig cfg = base_config("");
  cfg.duration_s = 8.0;              // upper bound; the test stops it earlier (below)
  cfg.mode = ThreadMode::pipelined;  // the other thread layout, same shutdown rule
  cfg.infer.idle = IdleKind::yield;
  cfg.exec.idle = IdleKind::yield;
  cfg.feed.idle = IdleKind::yield;
  cfg.style = "passive";             // LIMIT_MAKER at the touch: rests on the book
  cfg.sizing = "max_position";
  cfg.enter_prob = 0.34;
  cfg.exit_prob = 0.0;
  cfg.min_edge = 0.3;
  cfg.reprice_ticks = 0;
  cfg.passive_max_age_ms = 600'000;
  cfg.min_interval_ms = 50;
  std::ostringstream log;
  auto p = Pipeline::create(cfg, log);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  Pipeline& pl = *p.value();
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread runner([&] { run_status = pl.run(stop); });
  // SIGINT-like stop at a moment when the venue holds one of our orders.
  bool seen_resting = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(7);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pl.venue_open_orders() > 0) {
      seen_resting = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop.store(true);
  runner.join();
  ASSERT_TRUE(run_status.ok()) << run_status.to_string();
  const RunSummary& s = pl.summary();
  ASSERT_TRUE(seen_resting) << "no order ever rested: the test checked nothing\n" << pl.report();
  EXPECT_EQ(s.stop_reason, "signal");
  EXPECT_GT(s.orders, 0u);
  EXPECT_GT(s.cancels_at_shutdown, 0u) << pl.report();
  EXPECT_EQ(s.open_orders_at_end, 0u);
  EXPECT_EQ(pl.venue_open_orders(), 0);
  EXPECT_GT(s.latency[Stage::queue_wait].count(), 0u);
}

// A minimal HTTP/1.1 POST over a plain socket (the test's own client, independent of Beast).
std::string http_post(std::uint16_t port, const std::string& path, const std::string& token, const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) { ::close(fd); return ""; }
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n" + body;
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) resp.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return resp;
}

TEST(PipelineEndToEnd, MetricsAndControlSwapWhileTrading) {
  if (!have_data()) GTEST_SKIP() << "bundled capture or trained model not present";
  PipelineConfig cfg = base_config("");
  cfg.speed = 5;                 // the capture lasts ~70 s: the swap has time on a loaded machine
  cfg.duration_s = 40.0;         // upper bound; stopped once the swap is adopted
  cfg.control_token = "t0ken";
  std::ostringstream log;
  auto p = Pipeline::create(cfg, log);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  Pipeline& pl = *p.value();
  ASSERT_NE(pl.metrics_port(), 0);
  std::atomic<bool> stop{false};
  Status run_status;
  std::thread runner([&] { run_status = pl.run(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const std::string port = std::to_string(pl.metrics_port());
  auto metrics = http_get("http://127.0.0.1:" + port, "/metrics");
  auto health = http_get("http://127.0.0.1:" + port, "/health");
  const std::string denied = http_post(pl.metrics_port(), "/control/swap", "wrong", "");
  const std::string swap = http_post(pl.metrics_port(), "/control/swap", "t0ken",
                                     (fs::current_path() / "models/trained/transformer_s/model.onnx").string());
  // The build runs at idle priority: on a busy machine it waits for a free core.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pl.swapper().swaps_ok() + pl.swapper().swaps_failed() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a few inferences on the new model
  stop.store(true);
  runner.join();
  ASSERT_TRUE(run_status.ok()) << run_status.to_string();
  ASSERT_TRUE(metrics.ok()) << metrics.status().to_string();
  EXPECT_NE(metrics.value().find("tickrt_stage_latency_seconds_count{stage=\"inference\"}"), std::string::npos);
  ASSERT_TRUE(health.ok()) << health.status().to_string();
  EXPECT_NE(health.value().find("\"status\":\"ok\""), std::string::npos) << health.value();
  EXPECT_NE(denied.find(" 401 "), std::string::npos) << denied;
  EXPECT_NE(swap.find(" 202 "), std::string::npos) << swap;
  const RunSummary& s = pl.summary();
  EXPECT_EQ(s.swaps_ok, 1u) << pl.report();
  EXPECT_EQ(s.model_version, 2u);
  EXPECT_EQ(s.dropped_windows, 0u);
}


TEST(PipelineEndToEnd, BadModelStopsSetupWithTheReason) {
  if (!have_data()) GTEST_SKIP() << "bundled capture or trained model not present";
  PipelineConfig cfg = base_config("");
  cfg.model = "/nonexistent/model.onnx";
  std::ostringstream log;
  auto p = Pipeline::create(cfg, log);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("model.path"), std::string::npos) << p.status().to_string();
  EXPECT_NE(p.status().message().find("/nonexistent/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace tickrt::pipeline
