// Several captures replayed at once (venue.hpp "Several captures"): the bundled BTCUSDT capture and
// the same day's ETHUSDT capture (../shared/data) merge on their receive stamps; every streamed line
// of both reaches one combined-stream subscriber, in stamp order, and each symbol's REST depth
// answers with the book its diffs built. Same-symbol captures stay one after another.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "client.hpp"
#include "feed/feed.hpp"

namespace tickrt::venue::test {
namespace {

const std::string kEth = "../shared/data/binance_ws/spot/ethusdt_20240808.gz";

// A capture's lines as the venue streams them: the recorded JSON (combined-stream form, as our
// subscription names equal the recorded ones) with its receive stamp; snapshot lines are not streamed.
struct Recorded {
  std::vector<std::string> json;
  std::vector<std::int64_t> stamp;
  std::vector<std::uint64_t> last_u;  // depth diffs: u (else 0)
};
Recorded read_capture(const std::string& path) {
  Recorded r;
  feed::CaptureReader rd;
  EXPECT_TRUE(rd.open(path).ok());
  feed::LineParser p;
  feed::FileContext fc;
  feed::Event ev;
  std::string_view line;
  while (rd.next(line)) {
    if (p.parse(line, fc, ev) != feed::LineError::ok || ev.kind == feed::EventKind::depth_snapshot) continue;
    const std::size_t sp = line.find(' ');
    std::string_view j = line.substr(sp + 1);
    while (!j.empty() && (j.back() == ' ' || j.back() == '\r')) j.remove_suffix(1);
    r.json.emplace_back(j);
    r.stamp.push_back(std::stoll(std::string(line.substr(0, sp))));
    r.last_u.push_back(ev.kind == feed::EventKind::depth_update ? ev.depth.final_update_id : 0);
  }
  return r;
}

TEST(VenueInterleave, TwoSymbolsMergeByReceiveStampNoneLost) {
  if (!std::filesystem::exists(spot_capture())) GTEST_SKIP() << spot_capture() << " not present";
  if (!std::filesystem::exists(kEth)) GTEST_SKIP() << kEth << " not present (shared data)";
  const Recorded btc = read_capture(spot_capture()), eth = read_capture(kEth);
  ASSERT_GT(btc.json.size(), 1000u);
  ASSERT_GT(eth.json.size(), 1000u);

  SimSetup s = Venue::setup();
  s.venue.captures = {spot_capture(), kEth};  // interleave = automatic: the symbols differ
  s.venue.speed = 0;                          // as fast as we read
  Venue v(s);
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker/"
                                 "ethusdt@depth@100ms/ethusdt@trade/ethusdt@bookTicker"));
  ws.set_timeout(1500);
  // Each message is matched to its symbol's next recorded line: equal text, so nothing lost or
  // reordered within a symbol; the matched stamps never go back, so the two files were merged.
  std::size_t bi = 0, ei = 0;   // next expected line per symbol
  std::int64_t prev_stamp = 0;
  std::size_t stamp_back = 0, mismatches = 0, msgs = 0, switches = 0;
  int last_sym = -1;
  while (auto m = ws.read()) {
    ++msgs;
    const bool is_eth = m->compare(0, 18, "{\"stream\":\"ethusdt") == 0;
    const Recorded& r = is_eth ? eth : btc;
    std::size_t& i = is_eth ? ei : bi;
    if (i == 0) {
      // The replay streams from the preroll's end (the later of the two first snapshots): find the
      // start of this symbol's suffix, at most a few dozen lines in.
      std::size_t k = i;
      while (k < r.json.size() && k < 200 && r.json[k] != *m) ++k;
      ASSERT_LT(k, 200u) << "first " << (is_eth ? "ETH" : "BTC") << " message not in the first recorded lines";
      i = k;
    }
    if (i >= r.json.size() || r.json[i] != *m) {
      ++mismatches;
      continue;
    }
    if (r.stamp[i] < prev_stamp) ++stamp_back;
    prev_stamp = r.stamp[i];
    if (last_sym != static_cast<int>(is_eth)) ++switches;
    last_sym = static_cast<int>(is_eth);
    ++i;
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(stamp_back, 0u) << "messages out of receive-stamp order";
  EXPECT_EQ(bi, btc.json.size()) << "BTC lines lost at the end";
  EXPECT_EQ(ei, eth.json.size()) << "ETH lines lost at the end";
  EXPECT_GT(switches, 1000u) << "the symbols alternate throughout (not one file after the other)";
  const VenueCounters c = v.server->counters();
  EXPECT_TRUE(c.replay_done);
  EXPECT_EQ(c.md_lanes, 2u);
  EXPECT_EQ(c.md_messages_sent, msgs);

  // Each symbol's REST depth is the book its streamed diffs built (the last diff's u).
  for (const auto& [sym, r] : {std::pair<std::string, const Recorded*>{"BTCUSDT", &btc}, {"ETHUSDT", &eth}}) {
    std::uint64_t last_u = 0;
    for (std::uint64_t u : r->last_u)
      if (u) last_u = u;
    const HttpResult d = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=" + sym + "&limit=5");
    ASSERT_EQ(d.status, 200) << sym << ": " << d.body;
    EXPECT_EQ(d.j()["lastUpdateId"].get<std::uint64_t>(), last_u) << sym;
    ASSERT_EQ(d.j()["bids"].size(), 5u) << sym;
    ASSERT_EQ(d.j()["asks"].size(), 5u) << sym;
    EXPECT_LT(std::stod(d.j()["bids"][0][0].get<std::string>()), std::stod(d.j()["asks"][0][0].get<std::string>())) << sym;
  }
  // Both symbols trade against their replayed books.
  for (const char* q : {"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001", "symbol=ETHUSDT&side=SELL&type=MARKET&quantity=0.01"}) {
    const HttpResult o = signed_call(v.port, http::verb::post, "/api/v3/order", q);
    ASSERT_EQ(o.status, 200) << q << ": " << o.body;
    EXPECT_EQ(o.j()["status"], "FILLED") << q;
  }
}

TEST(VenueInterleave, PacedReplayKeepsBothSymbolsOnRecordedTime) {
  if (!std::filesystem::exists(spot_capture())) GTEST_SKIP() << spot_capture() << " not present";
  if (!std::filesystem::exists(kEth)) GTEST_SKIP() << kEth << " not present (shared data)";
  SimSetup s = Venue::setup();
  s.venue.captures = {kEth, spot_capture()};
  s.venue.speed = 20;
  Venue v(s);
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/stream?streams=btcusdt@depth@100ms/ethusdt@depth@100ms"));
  std::int64_t first_e[2] = {0, 0}, last_e[2] = {0, 0};
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500)) {
    auto m = ws.read_json();
    ASSERT_TRUE(m);
    const int k = (*m)["stream"] == "ethusdt@depth@100ms" ? 1 : 0;
    const std::int64_t e = (*m)["data"]["E"].get<std::int64_t>();
    if (!first_e[k]) first_e[k] = e;
    last_e[k] = e;
  }
  // 1.5 s at 20x is ~30 s of recorded time for EACH symbol (both live at once, not one then the other).
  for (int k = 0; k < 2; ++k) {
    const double span_s = static_cast<double>(last_e[k] - first_e[k]) / 1000.0;
    EXPECT_GT(span_s, 15.0) << (k ? "ETH" : "BTC");
    EXPECT_LT(span_s, 40.0) << (k ? "ETH" : "BTC");
  }
  // The two streams' exchange times stay within a couple of seconds of each other.
  EXPECT_LT(std::llabs(last_e[0] - last_e[1]), 3000);
}

TEST(VenueInterleave, SameSymbolCapturesStaySequentialAndTheKeyForcesIt) {
  const std::string d1 = "../shared/data/binance_ws/spot/btcusdt_20240808.gz";
  const std::string d2 = "../shared/data/binance_ws/spot/btcusdt_20240809.gz";
  if (!std::filesystem::exists(d1) || !std::filesystem::exists(d2)) GTEST_SKIP() << "shared BTCUSDT captures not present";
  {
    SimSetup s = Venue::setup();
    s.venue.captures = {d1, d2};
    s.venue.speed = 1;
    Venue v(s);
    EXPECT_EQ(v.server->counters().md_lanes, 1u) << "one symbol: one file after the other";
  }
  {
    SimSetup s = Venue::setup();
    s.venue.captures = {d1, d2};
    s.venue.speed = 1;
    s.venue.interleave = VenueConfig::Interleave::on;
    Venue v(s);
    EXPECT_EQ(v.server->counters().md_lanes, 2u);
  }
  // The TOML key: true / false / "auto", anything else names the key and the line.
  const std::string path = ::testing::TempDir() + "venue_interleave.toml";
  for (const auto& [text, want] : {std::pair<std::string, int>{"[venue]\ninterleave = true\n", 1},
                                   {"[venue]\ninterleave = false\n", 2},
                                   {"[venue]\ninterleave = \"auto\"\n", 0},
                                   {"[venue]\n\ninterleave = \"yes\"\n", -1}}) {
    std::ofstream(path) << text;
    auto r = load_sim_setup(path);
    if (want < 0) {
      ASSERT_FALSE(r.ok());
      EXPECT_NE(r.status().message().find("venue.interleave"), std::string::npos) << r.status().to_string();
      EXPECT_NE(r.status().message().find(":3"), std::string::npos) << r.status().to_string();
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(static_cast<int>(r.value().venue.interleave), want) << text;
  }
}

}  // namespace
}  // namespace tickrt::venue::test
