// Golden tests: real capture lines (tests/data/feed/*.lines, copied from ../shared/data/binance_ws)
// against normalized fields computed independently by tests/data/feed/make_golden.py (Python json
// + decimal). One FileContext per source file, as the replay does.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "feed/feed.hpp"

using namespace tickrt;
using namespace tickrt::feed;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) if (!l.empty()) out.push_back(l);
  return out;
}

std::string lv(const Level& l) { return l.price.to_string() + "@" + l.qty.to_string(); }

std::string format(const Event& e, const SymbolTable& syms) {
  std::string s = "kind=" + std::string(event_kind_name(e.kind)) + " market=" + std::string(market_name(e.market)) +
                  " symbol=" + std::string(syms.name(e.symbol)) + " local_ts=" + std::to_string(e.local_ts_ns);
  auto add = [&](const std::string& k, const std::string& v) { s += " " + k + "=" + v; };
  switch (e.kind) {
    case EventKind::trade:
      add("event_ts", std::to_string(e.event_ts_ns));
      add("txn_ts", std::to_string(e.txn_ts_ns));
      add("trade_id", std::to_string(e.trade.trade_id));
      add("price", e.trade.price.to_string());
      add("qty", e.trade.qty.to_string());
      add("buyer_is_maker", std::to_string(int(e.trade.buyer_is_maker)));
      break;
    case EventKind::book_ticker:
      add("event_ts", std::to_string(e.event_ts_ns));
      add("txn_ts", std::to_string(e.txn_ts_ns));
      add("update_id", std::to_string(e.ticker.update_id));
      add("bid", e.ticker.bid_price.to_string() + "@" + e.ticker.bid_qty.to_string());
      add("ask", e.ticker.ask_price.to_string() + "@" + e.ticker.ask_qty.to_string());
      break;
    case EventKind::depth_update:
      add("event_ts", std::to_string(e.event_ts_ns));
      add("txn_ts", std::to_string(e.txn_ts_ns));
      add("U", std::to_string(e.depth.first_update_id));
      add("u", std::to_string(e.depth.final_update_id));
      add("pu", std::to_string(e.depth.prev_final_update_id));
      add("has_pu", std::to_string(int(e.depth.has_prev)));
      add("bids", std::to_string(e.depth.bids.size()));
      add("asks", std::to_string(e.depth.asks.size()));
      for (std::size_t i = 0; i < e.depth.bids.size(); ++i) add("bids[" + std::to_string(i) + "]", lv(e.depth.bids[i]));
      for (std::size_t i = 0; i < e.depth.asks.size(); ++i) add("asks[" + std::to_string(i) + "]", lv(e.depth.asks[i]));
      break;
    case EventKind::mark_price:
      add("event_ts", std::to_string(e.event_ts_ns));
      add("mark", e.mark.mark_price.to_string());
      add("index", e.mark.index_price.to_string());
      add("est_settle", e.mark.est_settle_price.to_string());
      add("funding_rate", e.mark.funding_rate.to_string());
      add("next_funding_ts", std::to_string(e.mark.next_funding_ts_ns));
      break;
    case EventKind::depth_snapshot:
      add("event_ts", std::to_string(e.event_ts_ns));
      add("txn_ts", std::to_string(e.txn_ts_ns));
      add("last_update_id", std::to_string(e.snapshot.last_update_id));
      add("bids", std::to_string(e.snapshot.bids.size()));
      add("asks", std::to_string(e.snapshot.asks.size()));
      add("bids[0]", lv(e.snapshot.bids.front()));
      add("bids[-1]", lv(e.snapshot.bids.back()));
      add("asks[0]", lv(e.snapshot.asks.front()));
      add("asks[-1]", lv(e.snapshot.asks.back()));
      break;
    default: break;
  }
  return s;
}

class Golden : public ::testing::TestWithParam<const char*> {};

TEST_P(Golden, MatchesIndependentDecode) {
  const std::string base = std::string("tests/data/feed/") + GetParam();
  const auto lines = read_lines(base + ".lines");
  const auto expected = read_lines(base + ".expected");
  ASSERT_FALSE(lines.empty()) << base << ".lines missing (tests run from the project root)";
  ASSERT_EQ(lines.size(), expected.size());
  LineParser p;
  FileContext fc;
  Event ev;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const LineError e = p.parse(lines[i], fc, ev);
    ASSERT_EQ(e, LineError::ok) << base << ".lines:" << i + 1 << ": " << line_error_name(e);
    EXPECT_EQ(format(ev, p.symbols()), expected[i]) << base << ".lines:" << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(Captures, Golden,
                         ::testing::Values("spot_2024", "spot_2023", "usdm_2024", "usdm_2023", "cm_2024"));

TEST(Golden, TimestampUnitIsPerFile) {
  // Same parser, two files: the 2024 file is ns, the 2023 file µs; both normalise to ns.
  LineParser p;
  Event ev;
  FileContext ns_file, us_file;
  ASSERT_EQ(p.parse(read_lines("tests/data/feed/spot_2024.lines")[1], ns_file, ev), LineError::ok);
  EXPECT_EQ(ns_file.ts_unit, TsUnit::ns);
  EXPECT_EQ(ev.local_ts_ns, 1723161254087891268);
  ASSERT_EQ(p.parse(read_lines("tests/data/feed/spot_2023.lines")[1], us_file, ev), LineError::ok);
  EXPECT_EQ(us_file.ts_unit, TsUnit::us);
  EXPECT_EQ(ev.local_ts_ns, 1680652800004231000);
  // A µs stamp inside the ns file is rejected, not silently mis-scaled.
  EXPECT_EQ(p.parse(read_lines("tests/data/feed/spot_2023.lines")[1], ns_file, ev), LineError::timestamp_unit_changed);
}

TEST(Golden, SymbolsInternedPerMarket) {
  LineParser p;
  Event ev;
  FileContext spot, fut;
  ASSERT_EQ(p.parse(read_lines("tests/data/feed/spot_2024.lines")[0], spot, ev), LineError::ok);
  const SymbolId s = ev.symbol;
  ASSERT_EQ(p.parse(read_lines("tests/data/feed/usdm_2024.lines")[0], fut, ev), LineError::ok);
  EXPECT_NE(ev.symbol, s);  // BTCUSDT spot and BTCUSDT futures are different books
  EXPECT_EQ(p.symbols().name(s), "BTCUSDT");
  EXPECT_EQ(p.symbols().name(ev.symbol), "BTCUSDT");
  EXPECT_EQ(p.symbols().market(ev.symbol), Market::futures);
}

}  // namespace
