// Market-data WebSocket + REST snapshot on loopback: a client following Binance's "manage a local
// order book" recipe with tickrt's own L2Book ends with the simulator's book; stream formats;
// /ws raw streams and SUBSCRIBE; replay pacing.
#include <gtest/gtest.h>

#include <filesystem>

#include "book/l2_book.hpp"
#include "client.hpp"
#include "feed/feed.hpp"

namespace tickrt::venue::test {
namespace {

bool have_capture() { return std::filesystem::exists(spot_capture()); }

TEST(VenueMarketData, CombinedStreamsAndSnapshotBuildTheSimulatorsBook) {
  if (!have_capture()) GTEST_SKIP() << spot_capture() << " not present";
  SimSetup s = Venue::setup();
  s.venue.captures = {spot_capture()};
  s.venue.speed = 0;  // as fast as we read
  Venue v(s);
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/stream?streams=btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker"));

  feed::LineParser parser;
  feed::FileContext fctx;
  feed::Event ev;
  book::L2Book book(feed::Market::spot);
  std::map<std::string, int> kinds;
  std::uint64_t prev_u = 0;
  int chain_breaks = 0, msgs = 0;
  bool snapshot_loaded = false;
  ws.set_timeout(1500);
  while (auto m = ws.read()) {
    ++msgs;
    const feed::LineError le = parser.parse_json(*m, 0, fctx, ev);
    ASSERT_EQ(le, feed::LineError::ok) << feed::line_error_name(le) << ": " << m->substr(0, 200);
    const json j = json::parse(*m);
    const std::string stream = j["stream"];
    kinds[stream]++;
    const json& d = j["data"];
    if (ev.kind == feed::EventKind::depth_update) {
      EXPECT_EQ(stream, "btcusdt@depth@100ms");
      EXPECT_EQ(d["e"], "depthUpdate");
      for (const char* k : {"E", "s", "U", "u", "b", "a"}) EXPECT_TRUE(d.contains(k)) << k;
      if (prev_u != 0 && ev.depth.first_update_id != prev_u + 1) ++chain_breaks;
      prev_u = ev.depth.final_update_id;
      (void)book.on_diff(ev.depth);
    } else if (ev.kind == feed::EventKind::trade) {
      for (const char* k : {"e", "E", "s", "t", "p", "q", "T", "m"}) EXPECT_TRUE(d.contains(k)) << k;
    } else if (ev.kind == feed::EventKind::book_ticker) {
      for (const char* k : {"u", "s", "b", "B", "a", "A"}) EXPECT_TRUE(d.contains(k)) << k;
    }
    if (!snapshot_loaded && msgs == 40) {
      // Binance's recipe: buffer diffs, then fetch the snapshot; the book applies the buffer.
      const HttpResult r = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=BTCUSDT&limit=5000");
      ASSERT_EQ(r.status, 200);
      ASSERT_EQ(parser.parse_json(r.body, 0, fctx, ev), feed::LineError::ok);
      ASSERT_EQ(ev.kind, feed::EventKind::depth_snapshot);
      EXPECT_EQ(book.on_snapshot(ev.snapshot.last_update_id, ev.snapshot.bids, ev.snapshot.asks),
                book::SnapshotResult::synced);
      snapshot_loaded = true;
    }
  }
  ASSERT_TRUE(snapshot_loaded);
  EXPECT_GT(msgs, 30000) << "the whole capture should have streamed";
  EXPECT_GT(kinds["btcusdt@trade"], 100);
  EXPECT_GT(kinds["btcusdt@bookTicker"], 100);
  EXPECT_EQ(chain_breaks, 0) << "recorded diffs chain U == prev u + 1";
  EXPECT_EQ(book.state(), book::BookState::synced);
  EXPECT_EQ(book.counters().gaps, 0u);
  const VenueCounters c = v.server->counters();
  EXPECT_TRUE(c.replay_done);

  // The REST snapshot now and the client's book agree level for level.
  const HttpResult r = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=BTCUSDT&limit=50");
  ASSERT_EQ(r.status, 200);
  const json snap = r.j();
  EXPECT_EQ(snap["lastUpdateId"].get<std::uint64_t>(), book.last_update_id());
  feed::Level lv[50];
  const std::size_t nb = book.top_bids(lv, 50);
  ASSERT_EQ(nb, snap["bids"].size());
  for (std::size_t i = 0; i < nb; ++i) {
    EXPECT_EQ(snap["bids"][i][0], lv[i].price.to_string());
    EXPECT_EQ(snap["bids"][i][1], lv[i].qty.to_string());
  }
  const std::size_t na = book.top_asks(lv, 50);
  ASSERT_EQ(na, snap["asks"].size());
  for (std::size_t i = 0; i < na; ++i) {
    EXPECT_EQ(snap["asks"][i][0], lv[i].price.to_string());
    EXPECT_EQ(snap["asks"][i][1], lv[i].qty.to_string());
  }
  // The engine trades against the same book: its best levels are the streamed ones.
  feed::Level eb{}, ea{}, cb{}, ca{};
  bool tradable = false;
  v.server->run_sync([&] {
    const sim::SymbolIndex si = v.engine->find_symbol("BTCUSDT");
    tradable = v.engine->replay_tradable(si);
    (void)v.engine->best_bid(si, eb);
    (void)v.engine->best_ask(si, ea);
  });
  ASSERT_TRUE(book.best_bid(cb) && book.best_ask(ca));
  EXPECT_TRUE(tradable);
  EXPECT_EQ(eb.price, cb.price);
  EXPECT_EQ(ea.price, ca.price);
  // A market buy takes the displayed best ask.
  const HttpResult o = signed_call(v.port, http::verb::post, "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001");
  ASSERT_EQ(o.status, 200) << o.body;
  EXPECT_EQ(o.j()["status"], "FILLED");
  ASSERT_GE(o.j()["fills"].size(), 1u);
  EXPECT_EQ(o.j()["fills"][0]["price"], ca.price.to_string());
}

TEST(VenueMarketData, RawStreamSubscribeAndListSubscriptions) {
  if (!have_capture()) GTEST_SKIP() << spot_capture() << " not present";
  SimSetup s = Venue::setup();
  s.venue.captures = {spot_capture()};
  s.venue.speed = 0;
  Venue v(s);
  WsClient raw;
  ASSERT_TRUE(raw.connect(v.port, "/ws/btcusdt@trade"));
  auto m = raw.read_json();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["e"], "trade");  // raw stream: the payload alone, no wrapper
  EXPECT_FALSE(m->contains("stream"));

  WsClient sub;
  ASSERT_TRUE(sub.connect(v.port, "/ws"));
  ASSERT_TRUE(sub.send(R"({"method":"SUBSCRIBE","params":["btcusdt@bookTicker"],"id":1})"));
  auto ack = read_until(sub, [](const json& j) { return j.contains("id"); });
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->dump(), R"({"id":1,"result":null})");
  auto bt = read_until(sub, [](const json& j) { return j.contains("A"); });
  ASSERT_TRUE(bt) << "no bookTicker after SUBSCRIBE";
  EXPECT_EQ((*bt)["s"], "BTCUSDT");
  ASSERT_TRUE(sub.send(R"({"method":"LIST_SUBSCRIPTIONS","id":3})"));
  auto list = read_until(sub, [](const json& j) { return j.contains("id"); }, 5000);
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)["result"], json::array({"btcusdt@bookTicker"}));
  ASSERT_TRUE(sub.send("this is not json"));
  auto bad = read_until(sub, [](const json& j) { return j.contains("code"); }, 5000);
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["code"], 3);
  ASSERT_TRUE(sub.send(R"({"method":"SUBSCRIBE","params":["btcusdt@nonsense"],"id":4})"));
  bad = read_until(sub, [](const json& j) { return j.contains("code"); }, 5000);
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["code"], 2);
}

TEST(VenueMarketData, FuturesCaptureStreamsPuAndConsistentSnapshot) {
  const std::string cap = "data/captures/usdm_btcusdt_20230404.dat.gz";
  if (!std::filesystem::exists(cap)) GTEST_SKIP() << cap << " not present";
  SimSetup s = Venue::setup();
  s.venue.captures = {cap};
  s.venue.speed = 0;
  Venue v(s);
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/stream?streams=btcusdt@depth"));
  ws.set_timeout(1500);
  feed::LineParser parser;
  feed::FileContext fctx;
  feed::Event ev;
  book::L2Book book(feed::Market::futures);
  int n = 0, breaks = 0;
  std::uint64_t prev_u = 0;
  while (auto m = ws.read()) {
    ASSERT_EQ(parser.parse_json(*m, 0, fctx, ev), feed::LineError::ok) << m->substr(0, 200);
    ASSERT_EQ(ev.kind, feed::EventKind::depth_update);
    EXPECT_TRUE(ev.depth.has_prev) << "futures diffs keep their pu";
    if (prev_u && ev.depth.prev_final_update_id != prev_u) ++breaks;
    prev_u = ev.depth.final_update_id;
    (void)book.on_diff(ev.depth);
    if (++n == 20) {
      const HttpResult r = http_call(v.port, http::verb::get, "/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
      ASSERT_EQ(r.status, 200);
      ASSERT_EQ(parser.parse_json(r.body, 0, fctx, ev), feed::LineError::ok);
      EXPECT_TRUE(r.j().contains("E") && r.j().contains("T"));
      EXPECT_EQ(book.on_snapshot(ev.snapshot.last_update_id, ev.snapshot.bids, ev.snapshot.asks),
                book::SnapshotResult::synced);
    }
  }
  EXPECT_GT(n, 100);
  EXPECT_EQ(breaks, 0);
  EXPECT_EQ(book.state(), book::BookState::synced);
  EXPECT_EQ(book.counters().gaps, 0u);
  const HttpResult r = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=BTCUSDT&limit=10");
  EXPECT_EQ(r.j()["lastUpdateId"].get<std::uint64_t>(), book.last_update_id());
}

TEST(VenueMarketData, PacedReplayFollowsRecordedTime) {
  if (!have_capture()) GTEST_SKIP() << spot_capture() << " not present";
  SimSetup s = Venue::setup();
  s.venue.captures = {spot_capture()};
  s.venue.speed = 20;
  Venue v(s);
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/ws/btcusdt@depth@100ms"));
  std::int64_t first_e = 0, last_e = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500)) {
    auto m = ws.read_json();
    ASSERT_TRUE(m);
    const std::int64_t e = (*m)["E"].get<std::int64_t>();
    if (!first_e) first_e = e;
    last_e = e;
  }
  // 1.5 s of wall time at 20x is ~30 s of recorded time (the stream may have started a little
  // before we connected; never more than the elapsed wall time allows).
  const double span_s = static_cast<double>(last_e - first_e) / 1000.0;
  EXPECT_GT(span_s, 15.0);
  EXPECT_LT(span_s, 40.0);
}

}  // namespace
}  // namespace tickrt::venue::test
