// Fault switches observed from the client side, and malformed traffic that must never take the
// server down.
#include <gtest/gtest.h>

#include <filesystem>

#include "client.hpp"

namespace tickrt::venue::test {
namespace {

bool have_capture() { return std::filesystem::exists(spot_capture()); }

// Reads the whole capture at max speed from /ws/btcusdt@depth@100ms; returns (messages, breaks
// of the U == prev u + 1 chain).
std::pair<int, int> read_depth_stream(Venue& v) {
  WsClient ws;
  EXPECT_TRUE(ws.connect(v.port, "/ws/btcusdt@depth@100ms"));
  ws.set_timeout(1500);
  int n = 0, breaks = 0;
  std::uint64_t prev = 0;
  while (auto m = ws.read_json()) {
    ++n;
    const std::uint64_t U = (*m)["U"], u = (*m)["u"];
    if (prev && U != prev + 1) ++breaks;
    prev = u;
  }
  return {n, breaks};
}

TEST(VenueFaults, DropMarketDataAndSequenceGaps) {
  if (!have_capture()) GTEST_SKIP() << spot_capture() << " not present";
  SimSetup s = Venue::setup();
  s.venue.captures = {spot_capture()};
  s.venue.speed = 0;
  auto [clean_n, clean_breaks] = [&] {
    Venue v(s);
    return read_depth_stream(v);
  }();
  EXPECT_EQ(clean_breaks, 0);
  ASSERT_GT(clean_n, 1000);

  s.engine.faults.gap = 0.01;
  Venue g(s);
  auto [gap_n, gap_breaks] = read_depth_stream(g);
  const VenueCounters gc = g.server->counters();
  EXPECT_GT(gc.md_gaps_fault, 5u);
  EXPECT_EQ(gap_n + static_cast<int>(gc.md_gaps_fault), clean_n);
  EXPECT_GT(gap_breaks, 5) << "the client must see the gaps";

  s.engine.faults.gap = 0;
  s.engine.faults.drop_md = 0.2;
  Venue d(s);
  WsClient ws;
  ASSERT_TRUE(ws.connect(d.port, "/stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms"));
  ws.set_timeout(1500);
  int got = 0;
  while (ws.read()) ++got;
  const VenueCounters dc = d.server->counters();
  EXPECT_GT(dc.md_dropped_fault, 1000u);
  EXPECT_EQ(static_cast<std::uint64_t>(got), dc.md_messages_sent);
  const double frac = static_cast<double>(dc.md_dropped_fault) / static_cast<double>(dc.md_dropped_fault + got);
  EXPECT_NEAR(frac, 0.2, 0.03);
}

TEST(VenueFaults, ThrottleRejectAckDelayLoseAck) {
  SimSetup s = Venue::setup();
  s.engine.faults.throttle = 1.0;
  {
    Venue v(s);
    const HttpResult r = http_call(v.port, http::verb::get, "/api/v3/ping");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.j()["code"], -1003);
    EXPECT_TRUE(r.headers.count("Retry-After"));
  }
  s.engine.faults.throttle = 0;
  s.engine.faults.reject = 1.0;
  {
    Venue v(s);
    const HttpResult r = signed_call(v.port, http::verb::post, "/api/v3/order",
                                     "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=40000");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.j()["code"], -2010) << r.body;
  }
  s.engine.faults.reject = 0;
  s.engine.faults.ack_delay_ns = 300'000'000;
  {
    Venue v(s);
    WsClient user;
    ASSERT_TRUE(open_user_stream(v.port, user));
    const auto t0 = std::chrono::steady_clock::now();
    const HttpResult r = signed_call(v.port, http::verb::post, "/api/v3/order",
                                     "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=40000");
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_GE(ms, 290) << "the answer must wait for the ack delay";
    auto rep = user.read_json();
    ASSERT_TRUE(rep);
    EXPECT_EQ((*rep)["x"], "NEW");
    const auto ms2 = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GE(ms2, 290);
  }
  s.engine.faults.ack_delay_ns = 0;
  s.engine.faults.lose_ack = 1.0;
  {
    Venue v(s);
    const HttpResult r = signed_call(v.port, http::verb::post, "/api/v3/order",
                                     "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=40000&newClientOrderId=lost1");
    EXPECT_EQ(r.status, 0) << "lost ack: no answer at all";
    // The order itself exists: the client finds out by querying.
    const HttpResult q = signed_call(v.port, http::verb::get, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=lost1");
    EXPECT_EQ(q.status, 200) << q.body;
    EXPECT_EQ(q.j()["status"], "NEW");
  }
}

TEST(VenueFaults, DisconnectWindow) {
  SimSetup s = Venue::setup();
  s.engine.faults.disconnects.push_back({400'000'000, 900'000'000});  // 0.4 s .. 0.9 s after start
  Venue v(s);
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/ws-api/v3"));
  ws.set_timeout(3000);
  // The session is cut inside the window: the read ends with an error, not a timeout.
  const auto t0 = std::chrono::steady_clock::now();
  auto m = ws.read();
  EXPECT_FALSE(m.has_value());
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(ws.timed_out) << "closed by the server, not a timeout";
  EXPECT_LT(waited, std::chrono::milliseconds(2500));
  // During the window new connections are refused (closed at once).
  HttpResult r = http_call(v.port, http::verb::get, "/api/v3/ping");
  EXPECT_EQ(r.status, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  r = http_call(v.port, http::verb::get, "/api/v3/ping");
  EXPECT_EQ(r.status, 200) << "served again after the window";
  EXPECT_GE(v.server->counters().disconnects_fault, 1u);
}

TEST(VenueFaults, MalformedTrafficNeverCrashes) {
  Venue v(Venue::setup());
  // Garbage bytes instead of HTTP.
  for (const std::string& junk : {std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n", 16), std::string("GET\r\n\r\n"),
                                 std::string(100000, 'A'), std::string("POST /api/v3/order HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nx")}) {
    net::io_context ioc;
    tcp::socket sock(ioc);
    sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), v.port));
    beast::error_code ec;
    net::write(sock, net::buffer(junk), ec);
    char buf[512];
    std::size_t n = 0;
    run_with_timeout(ioc, sock, 2000, [&](bool& done) {
      sock.async_read_some(net::buffer(buf), [&](beast::error_code, std::size_t got) {
        done = true;
        n = got;
      });
    });
    if (n > 0) {
      EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 400") << std::string(buf, n);
    }
  }
  // Bad escapes, huge values, empty values, wrong methods.
  HttpResult r = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=%zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.j()["code"], -1100);
  r = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=BTCUSDT&limit=99999999999999999999999");
  EXPECT_EQ(r.j()["code"], -1100);
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1e5&price=1");
  EXPECT_EQ(r.j()["code"], -1100);
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.000000001&price=1");
  EXPECT_EQ(r.j()["code"], -1111);
  r = http_call(v.port, http::verb::put, "/api/v3/order");
  EXPECT_EQ(r.status, 404);
  r = http_call(v.port, http::verb::post, "/api/v3/order", "=&&&==&%", kTestApiKey);
  EXPECT_EQ(r.status, 400);
  // Unknown WebSocket path.
  WsClient ws;
  EXPECT_FALSE(ws.connect(v.port, "/nowhere"));
  // The server is still fine.
  r = http_call(v.port, http::verb::get, "/api/v3/ping");
  EXPECT_EQ(r.status, 200);
}

}  // namespace
}  // namespace tickrt::venue::test
