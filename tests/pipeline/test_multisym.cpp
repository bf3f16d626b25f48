// tests/pipeline: several symbols in one `tickrt run` — the in-process venue replays the bundled
// BTCUSDT capture and the same day's ETHUSDT capture interleaved (venue.hpp), the pipeline
// subscribes and trades both (each its own strategy, risk, position, PnL), and the journal, the
// summary's per-symbol entries and the venue agree; the url source trades every feed.symbols entry.
#include <gtest/gtest.h>

#include "../support/shell.hpp"

#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <iostream>
#include <sstream>

#include "exec/journal.hpp"
#include "journal_view.hpp"
#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/trader.hpp"
#include "pipeline/ws_client.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;

const std::string kBtc = "data/captures/spot_btcusdt_20240808.gz";
const std::string kEth = "../shared/data/binance_ws/spot/ethusdt_20240808.gz";
const std::string kModel = "models/trained/lstm_attn_s/model.onnx";

std::string missing() {
  for (const std::string& f : {kBtc, kEth, kModel})
    if (!fs::exists(f)) return f;
  return "";
}

// Trades often on both symbols: IOC at the touch, low thresholds. order_qty 0.002 is above both
// symbols' 5 USDT minimum notional (ETH ~2680 USDT that day) and a multiple of both step sizes.
PipelineConfig trading_config(const std::string& journal) {
  auto c = default_config(fs::current_path().string());
  EXPECT_TRUE(c.ok());
  PipelineConfig cfg = c.value();
  cfg.speed = 20;
  cfg.duration_s = 4.0;
  cfg.journal = journal;
  cfg.metrics_listen = "127.0.0.1:0";
  cfg.print_orders = false;
  cfg.style = "aggressive";
  cfg.enter_prob = 0.40;
  cfg.exit_prob = 0.34;
  cfg.min_edge = 0.0;
  cfg.min_interval_ms = 100;
  cfg.order_qty = 0.002;
  cfg.max_position = 0.01;
  return cfg;
}

using test::JournalView;
using test::read_journal;

void remove_db(const std::string& p) {
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(p + s);
}

TEST(PipelineMultiSymbol, SimReplaysBtcAndEthAndBothTrade) {
  if (const std::string m = missing(); !m.empty()) GTEST_SKIP() << m << " not present";
  const std::string jp = (fs::temp_directory_path() / ("tickrt_multisym_" + std::to_string(::getpid()) + ".db")).string();
  remove_db(jp);
  PipelineConfig cfg = trading_config(jp);
  cfg.captures = {kBtc, kEth};
  // Each symbol its own size: BTCUSDT the [strategy] 0.001, ETHUSDT 0.01 (LOT_SIZE step 0.0001).
  cfg.order_qty = 0.001;
  cfg.symbol_sizing = {{"ETHUSDT", 0.01, 0.05, -1, 0.0001}};
  {
    std::ostringstream log;
    auto p = Pipeline::create(cfg, log);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    Pipeline& pl = *p.value();
    std::atomic<bool> stop{false};
    ASSERT_TRUE(pl.run(stop).ok());
    const RunSummary s = pl.summary();
    const std::string report = pl.report();
    EXPECT_EQ(s.malformed, 0u);
    EXPECT_GT(s.inferences, 50u) << report;
    EXPECT_EQ(s.open_orders_at_end, 0u) << report;
    EXPECT_EQ(pl.venue_open_orders(), 0) << "shutdown leaves nothing open on the venue";
    ASSERT_EQ(s.symbols.size(), 2u) << report;
    EXPECT_EQ(s.symbols[0].symbol, "BTCUSDT");
    EXPECT_EQ(s.symbols[1].symbol, "ETHUSDT");
    EXPECT_EQ(s.position_raw, s.symbols[0].position_raw);
    EXPECT_EQ(s.realized_raw, s.symbols[0].realized_raw);
    EXPECT_EQ(s.fees_raw, s.symbols[0].fees_raw);
    EXPECT_NE(log.str().find("symbols: BTCUSDT ETHUSDT"), std::string::npos) << log.str();
    EXPECT_NE(report.find("position BTCUSDT:"), std::string::npos) << report;
    EXPECT_NE(report.find("position ETHUSDT:"), std::string::npos) << report;
    EXPECT_NE(report.find("total net PnL (quote, 2 symbols):"), std::string::npos) << report;
    EXPECT_EQ(s.journal_written, s.journal_appended);
    // Metrics: a position series per traded symbol.
    if (pl.metrics_port() != 0) {
      auto metrics = http_get("http://127.0.0.1:" + std::to_string(pl.metrics_port()), "/metrics");
      ASSERT_TRUE(metrics.ok()) << metrics.status().to_string();
      EXPECT_NE(metrics.value().find("tickrt_position{symbol=\"BTCUSDT\"}"), std::string::npos) << metrics.value();
      EXPECT_NE(metrics.value().find("tickrt_position{symbol=\"ETHUSDT\"}"), std::string::npos) << metrics.value();
    }
    p.value().reset();  // closes the journal

    const JournalView jv = read_journal(jp);
    EXPECT_EQ(jv.orders, s.orders);
    EXPECT_EQ(jv.fills, s.fills);
    EXPECT_EQ(jv.fills_of_unknown, 0u);
    EXPECT_EQ(jv.sym.size(), 2u) << "orders of exactly the two traded symbols";
    std::uint64_t fills = 0;
    for (const SymbolSummary& y : s.symbols) {
      const auto it = jv.sym.find(y.symbol);
      ASSERT_NE(it, jv.sym.end()) << "no order of " << y.symbol << " in the journal\n" << report;
      EXPECT_GT(it->second.orders, 0u) << y.symbol;
      EXPECT_EQ(it->second.net_qty_raw, y.position_raw) << y.symbol << ": summary position = the journal's fills";
      EXPECT_GT(it->second.fills, 0u) << y.symbol << "\n" << report;
      fills += it->second.fills;
    }
    EXPECT_GT(fills, 0u) << report;
    if (::testing::Test::HasFailure() || std::getenv("TICKRT_TEST_VERBOSE")) std::cout << report;
  }
  remove_db(jp);
}

// ETHUSDT without its own sizes: the [strategy] 0.001 is ~2.7 USDT, under the venue's 5 USDT minimum
// notional. Risk refuses each such order before it is sent (min_order_notional), so the venue rejects
// none and no ETH order is journaled; the report names the rule and says what to do. BTC still trades.
TEST(PipelineMultiSymbol, OrdersUnderTheMinimumNotionalAreRefusedBeforeTheVenue) {
  if (const std::string m = missing(); !m.empty()) GTEST_SKIP() << m << " not present";
  const std::string jp = (fs::temp_directory_path() / ("tickrt_minnotional_" + std::to_string(::getpid()) + ".db")).string();
  remove_db(jp);
  PipelineConfig cfg = trading_config(jp);
  cfg.captures = {kBtc, kEth};
  cfg.order_qty = 0.001;
  ASSERT_DOUBLE_EQ(cfg.min_order_notional, 5.0) << "the default: Binance spot's NOTIONAL filter";
  {
    std::ostringstream log;
    auto p = Pipeline::create(cfg, log);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    Pipeline& pl = *p.value();
    std::atomic<bool> stop{false};
    ASSERT_TRUE(pl.run(stop).ok());
    const RunSummary s = pl.summary();
    const std::string report = pl.report();
    EXPECT_EQ(s.rejects, 0u) << "nothing under the minimum reached the venue\n" << report;
    std::uint64_t under_min = 0;
    for (const auto& [rule, n] : s.risk_refused_by)
      if (rule == "min_order_notional") under_min = n;
    EXPECT_GT(under_min, 0u) << report;
    EXPECT_NE(report.find("refused by risk, by rule:"), std::string::npos) << report;
    EXPECT_NE(report.find("[strategy.symbols.<SYMBOL>]"), std::string::npos) << report;
    p.value().reset();
    const JournalView jv = read_journal(jp);
    EXPECT_EQ(jv.sym.count("ETHUSDT"), 0u) << "no ETH order was sent\n" << report;
    ASSERT_EQ(jv.sym.count("BTCUSDT"), 1u) << report;
    EXPECT_GT(jv.sym.at("BTCUSDT").orders, 0u) << report;
  }
  remove_db(jp);
}

// feed.source = "url" against a venue that outlives the pipeline (as `tickrt sim` would): every
// feed.symbols entry is subscribed and traded.
TEST(PipelineMultiSymbol, UrlSourceTradesEverySubscribedSymbol) {
  if (const std::string m = missing(); !m.empty()) GTEST_SKIP() << m << " not present";
  venue::SimSetup vs = venue::default_sim_setup();
  vs.venue.port = 0;
  vs.venue.captures = {kBtc, kEth};
  vs.venue.speed = 20;
  sim::MatchingEngine engine(vs.engine);
  venue::VenueServer server(vs.venue, engine);
  ASSERT_TRUE(server.start().ok());
  const std::string jp = (fs::temp_directory_path() / ("tickrt_multisym_url_" + std::to_string(::getpid()) + ".db")).string();
  remove_db(jp);
  PipelineConfig cfg = trading_config(jp);
  cfg.source = FeedSource::url;
  cfg.symbols = {"BTCUSDT", "ETHUSDT"};
  cfg.ws_url = "ws://127.0.0.1:" + std::to_string(server.port());
  cfg.rest_url = "http://127.0.0.1:" + std::to_string(server.port());
  cfg.api_key = venue::kTestApiKey;
  cfg.api_secret = venue::kTestSecret;
  std::vector<SymbolSummary> first;
  {
    std::ostringstream log;
    auto p = Pipeline::create(cfg, log);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    std::atomic<bool> stop{false};
    ASSERT_TRUE(p.value()->run(stop).ok());
    const RunSummary s = p.value()->summary();
    const std::string report = p.value()->report();
    EXPECT_EQ(s.open_orders_at_end, 0u) << report;
    ASSERT_EQ(s.symbols.size(), 2u) << report;
    EXPECT_EQ(s.symbols[0].symbol, "BTCUSDT");
    EXPECT_EQ(s.symbols[1].symbol, "ETHUSDT");
    p.value().reset();
    const JournalView jv = read_journal(jp);
    EXPECT_EQ(jv.orders, s.orders);
    for (const SymbolSummary& y : s.symbols) {
      const auto it = jv.sym.find(y.symbol);
      ASSERT_NE(it, jv.sym.end()) << "no order of " << y.symbol << "\n" << report;
      EXPECT_GT(it->second.orders, 0u) << y.symbol;
      EXPECT_EQ(it->second.net_qty_raw, y.position_raw) << y.symbol;
    }
    first = s.symbols;
    if (std::getenv("TICKRT_TEST_VERBOSE")) std::cout << report;
  }
  // A restart against the same venue (which outlived us): recovery replays the journal and reconciles
  // both symbols with the exchange (a mismatch on either fails closed), rebuilding each position.
  {
    std::ostringstream log;
    cfg.duration_s = 0.5;
    auto p = Pipeline::create(cfg, log);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    const RunSummary& s = p.value()->summary();
    EXPECT_FALSE(s.recovery.empty()) << log.str();
    EXPECT_GT(s.recovery_records, 0u);
    ASSERT_EQ(s.symbols.size(), 2u) << log.str();
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(s.symbols[i].symbol, first[i].symbol);
      EXPECT_EQ(s.symbols[i].recovered_position_raw, first[i].position_raw) << first[i].symbol;
    }
    std::atomic<bool> stop{false};
    EXPECT_TRUE(p.value()->run(stop).ok());
  }
  // The venue holds none of our orders after the pipeline's shutdown.
  std::size_t open = 1;
  server.run_sync([&] {
    std::vector<sim::OrderState> v;
    engine.open_orders(1, nullptr, v);
    open = v.size();
  });
  EXPECT_EQ(open, 0u);
  server.stop();
  remove_db(jp);
}

TEST(PipelineMultiSymbol, CapturesKeyAndTheSymbolLimit) {
  const std::string base = fs::current_path().string();
  // Both keys in one file, an empty list, several files with the capture source: errors naming the key.
  for (const char* bad : {"[feed]\ncapture = \"a.gz\"\ncaptures = [\"b.gz\"]\n", "[feed]\ncaptures = []\n",
                          "[feed]\nsource = \"capture\"\ncaptures = [\"a.gz\", \"b.gz\"]\n"}) {
    auto r = parse_config(bad, "t.toml", base);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("feed.captures"), std::string::npos) << r.status().to_string();
  }
  auto ok = parse_config("[feed]\ncaptures = [\"a.gz\", \"/abs/b.gz\"]\n", "t.toml", "/base");
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(capture_paths(ok.value()), (std::vector<std::string>{"/base/a.gz", "/abs/b.gz"}));
  // [strategy.symbols.<SYMBOL>]: one symbol's sizes over [strategy]'s (strategy and risk limits).
  auto z = parse_config("[strategy]\norder_qty = 0.001\n[strategy.symbols.ETHUSDT]\norder_qty = 0.01\nqty_step = 0.0001\n",
                        "t.toml", "/base");
  ASSERT_TRUE(z.ok()) << z.status().to_string();
  EXPECT_DOUBLE_EQ(for_symbol(z.value(), "ETHUSDT").order_qty, 0.01);
  EXPECT_DOUBLE_EQ(for_symbol(z.value(), "ETHUSDT").qty_step, 0.0001);
  EXPECT_DOUBLE_EQ(for_symbol(z.value(), "ETHUSDT").max_position, z.value().max_position);
  EXPECT_DOUBLE_EQ(for_symbol(z.value(), "BTCUSDT").order_qty, 0.001);
  // The risk limits every trading process applies (Trader, and the NATS exec node) take the symbol's sizes too.
  auto z2 = parse_config("[strategy]\nmax_position = 0.05\n[strategy.symbols.ETHUSDT]\nmax_position = 0.2\n", "t.toml", "/base");
  ASSERT_TRUE(z2.ok()) << z2.status().to_string();
  EXPECT_EQ(symbol_limits(z2.value(), "ETHUSDT").max_position.raw, 20'000'000);
  EXPECT_EQ(symbol_limits(z2.value(), "BTCUSDT").max_position.raw, 5'000'000);
  // The minimum notional: [risk]'s for every symbol (default 5 USDT), one symbol's own over it.
  EXPECT_EQ(symbol_limits(z2.value(), "BTCUSDT").min_order_notional.raw, 500'000'000);
  auto z3 = parse_config("[risk]\nmin_order_notional = 10.0\n[strategy.symbols.BTCUSDT]\nmin_order_notional = 100.0\n", "t.toml", "/base");
  ASSERT_TRUE(z3.ok()) << z3.status().to_string();
  EXPECT_EQ(symbol_limits(z3.value(), "BTCUSDT").min_order_notional.raw, 10'000'000'000);
  EXPECT_EQ(symbol_limits(z3.value(), "ETHUSDT").min_order_notional.raw, 1'000'000'000);
  auto sc = strategy_config(z.value(), "ETHUSDT");
  ASSERT_TRUE(sc.ok());
  EXPECT_EQ(sc.value().order_qty.raw, 1'000'000);
  for (const auto& [bad, key] : {std::pair<const char*, const char*>{"[strategy.symbols.ETHUSDT]\nqty = 1\n", "strategy.symbols.ETHUSDT.qty"},
                                 {"[strategy.symbols.ethusdt]\norder_qty = 1\n", "strategy.symbols.ethusdt"},
                                 {"[strategy.symbols.ETHUSDT]\norder_qty = -1\n", "strategy.symbols.ETHUSDT.order_qty"},
                                 {"[strategy]\nsymbols = 3\n", "strategy.symbols"},
                                 {"[risk]\nmin_order_notional = -1\n", "risk.min_order_notional"},
                                 {"[strategy.symbols.ETHUSDT]\nmin_order_notional = -5\n", "strategy.symbols.ETHUSDT.min_order_notional"}}) {
    auto r = parse_config(bad, "t.toml", base);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(key), std::string::npos) << r.status().to_string();
  }
  auto one = parse_config("[feed]\ncapture = \"a.gz\"\n", "t.toml", "/base");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(capture_paths(one.value()), (std::vector<std::string>{"/base/a.gz"}));

  // More symbols than one process can trade: a setup error naming the key and the limit.
  if (!fs::exists(kModel)) GTEST_SKIP() << kModel << " not present";
  auto c = default_config(base);
  ASSERT_TRUE(c.ok());
  PipelineConfig cfg = c.value();
  venue::SimSetup vs = venue::default_sim_setup();
  vs.venue.port = 0;
  vs.venue.captures.clear();  // a static book: only the connection matters here
  sim::MatchingEngine engine(vs.engine);
  venue::VenueServer server(vs.venue, engine);
  ASSERT_TRUE(server.start().ok());
  cfg.source = FeedSource::url;
  cfg.ws_url = "ws://127.0.0.1:" + std::to_string(server.port());
  cfg.rest_url = "http://127.0.0.1:" + std::to_string(server.port());
  cfg.api_key = venue::kTestApiKey;
  cfg.api_secret = venue::kTestSecret;
  cfg.journal = "";
  cfg.metrics = false;
  for (int i = 0; i < 17; ++i) cfg.symbols.push_back("SYM" + std::to_string(i) + "USDT");
  std::ostringstream log;
  auto p = Pipeline::create(cfg, log);
  ASSERT_FALSE(p.ok()) << "17 traded symbols accepted";
  EXPECT_NE(p.status().message().find("feed.symbols: 17 symbols, at most 16"), std::string::npos) << p.status().to_string();
  // The same 17 with exec.trade = false: inferred only, no limit.
  cfg.trade = false;
  {
    auto q = Pipeline::create(cfg, log);
    EXPECT_TRUE(q.ok()) << q.status().to_string();
  }
  server.stop();
}

#ifdef TICKRT_BIN
using tickrt::test::sh;

// `tickrt run --capture A,B` (and --capture A --capture B): both symbols subscribed, one position line each.
TEST(PipelineMultiSymbol, RunCliTakesSeveralCaptures) {
  if (const std::string m = missing(); !m.empty()) GTEST_SKIP() << m << " not present";
  // Its own working directory: the default journal (tickrt-journal.db) lands there, not in the tree.
  const fs::path dir = fs::temp_directory_path() / ("tickrt_multisym_cwd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string btc = fs::absolute(kBtc).string(), eth = fs::absolute(kEth).string();
  const std::string run = "cd " + dir.string() + " && " + TICKRT_BIN + " run --speed 20 --duration 2 ";
  for (const std::string& caps : {"--capture " + btc + "," + eth, "--capture " + btc + " --capture " + eth}) {
    std::string out;
    ASSERT_EQ(sh(run + caps, out), 0) << caps << "\n" << out;
    EXPECT_NE(out.find("symbols: BTCUSDT ETHUSDT"), std::string::npos) << out;
    EXPECT_NE(out.find("position BTCUSDT:"), std::string::npos) << out;
    EXPECT_NE(out.find("position ETHUSDT:"), std::string::npos) << out;
    EXPECT_NE(out.find("total net PnL (quote, 2 symbols):"), std::string::npos) << out;
  }
  std::string out;
  EXPECT_EQ(sh(run + "--source capture --capture " + btc + "," + eth, out), 2) << out;
  EXPECT_NE(out.find("--capture: 2 files need --source sim"), std::string::npos) << out;
  fs::remove_all(dir);
}
#endif

}  // namespace
}  // namespace tickrt::pipeline
