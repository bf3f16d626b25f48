// WebSocket API (/ws-api/v3) on loopback: order.place / order.status / order.cancel /
// openOrders.status, ping/time, signature and JSON errors.
#include <gtest/gtest.h>

#include "client.hpp"

namespace tickrt::venue::test {
namespace {

// Signs WS API params: every param but signature, sorted by name, "k=v" joined with '&'.
json signed_params(json p, const std::string& key = kTestApiKey, const std::string& secret = kTestSecret) {
  p["apiKey"] = key;
  p["timestamp"] = wall_ms();
  std::string payload;
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (!payload.empty()) payload += "&";
    payload += it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  p["signature"] = hmac_sha256_hex(secret, payload);
  return p;
}

json call(WsClient& ws, const json& req) {
  EXPECT_TRUE(ws.send(req.dump()));
  auto r = ws.read_json();
  EXPECT_TRUE(r.has_value());
  return r ? *r : json();
}

TEST(VenueWsApi, PlaceStatusCancel) {
  Venue v(Venue::setup());
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/ws-api/v3"));
  json r = call(ws, {{"id", "p1"}, {"method", "ping"}});
  EXPECT_EQ(r["id"], "p1");
  EXPECT_EQ(r["status"], 200);
  EXPECT_EQ(r["result"], json::object());
  EXPECT_TRUE(r["rateLimits"].is_array());
  r = call(ws, {{"id", 2}, {"method", "time"}});
  EXPECT_TRUE(r["result"].contains("serverTime"));

  r = call(ws, {{"id", "o1"},
                {"method", "order.place"},
                {"params", signed_params({{"symbol", "BTCUSDT"},
                                          {"side", "SELL"},
                                          {"type", "LIMIT"},
                                          {"timeInForce", "GTC"},
                                          {"quantity", "0.01"},
                                          {"price", "80000"},
                                          {"newClientOrderId", "ws1"}})}});
  ASSERT_EQ(r["status"], 200) << r.dump();
  EXPECT_EQ(r["id"], "o1");
  EXPECT_EQ(r["result"]["status"], "NEW");
  EXPECT_EQ(r["result"]["clientOrderId"], "ws1");
  const std::uint64_t oid = r["result"]["orderId"];

  r = call(ws, {{"id", 3}, {"method", "order.status"}, {"params", signed_params({{"symbol", "BTCUSDT"}, {"orderId", oid}})}});
  ASSERT_EQ(r["status"], 200) << r.dump();
  EXPECT_EQ(r["result"]["status"], "NEW");
  EXPECT_EQ(r["result"]["price"], "80000.00000000");

  r = call(ws, {{"id", 4}, {"method", "openOrders.status"}, {"params", signed_params({{"symbol", "BTCUSDT"}})}});
  ASSERT_EQ(r["status"], 200) << r.dump();
  EXPECT_EQ(r["result"].size(), 1u);

  r = call(ws, {{"id", 5}, {"method", "order.cancel"},
                {"params", signed_params({{"symbol", "BTCUSDT"}, {"origClientOrderId", "ws1"}})}});
  ASSERT_EQ(r["status"], 200) << r.dump();
  EXPECT_EQ(r["result"]["status"], "CANCELED");
  // userDataStream.start over the WS API gives a listen key usable on /ws/<listenKey>.
  r = call(ws, {{"id", 7}, {"method", "userDataStream.start"}, {"params", {{"apiKey", kTestApiKey}}}});
  ASSERT_EQ(r["status"], 200) << r.dump();
  const std::string lk = r["result"]["listenKey"];
  EXPECT_EQ(lk.size(), 60u);
  r = call(ws, {{"id", 8}, {"method", "userDataStream.ping"}, {"params", {{"apiKey", kTestApiKey}, {"listenKey", lk}}}});
  EXPECT_EQ(r["status"], 200) << r.dump();
  r = call(ws, {{"id", 9}, {"method", "userDataStream.ping"}, {"params", {{"apiKey", kTestApiKey}, {"listenKey", "nope"}}}});
  EXPECT_EQ(r["error"]["code"], -1125);
  r = call(ws, {{"id", 6}, {"method", "order.cancel"},
                {"params", signed_params({{"symbol", "BTCUSDT"}, {"origClientOrderId", "ws1"}})}});
  EXPECT_EQ(r["status"], 400);
  EXPECT_EQ(r["error"]["code"], -2011);
}

TEST(VenueWsApi, Errors) {
  Venue v(Venue::setup());
  WsClient ws;
  ASSERT_TRUE(ws.connect(v.port, "/ws-api/v3"));
  json p = signed_params({{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "MARKET"}, {"quantity", "0.01"}});
  p["quantity"] = "0.02";  // tampered after signing
  json r = call(ws, {{"id", 1}, {"method", "order.place"}, {"params", p}});
  EXPECT_EQ(r["status"], 400);
  EXPECT_EQ(r["error"]["code"], -1022);
  r = call(ws, {{"id", 2}, {"method", "order.place"},
                {"params", signed_params({{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "MARKET"}, {"quantity", "0.01"}},
                                         "unknownKey")}});
  EXPECT_EQ(r["error"]["code"], -2015);
  r = call(ws, {{"id", 3}, {"method", "order.place"}, {"params", signed_params({{"side", "BUY"}})}});
  EXPECT_EQ(r["error"]["code"], -1102);
  ASSERT_TRUE(ws.send("{not json"));
  auto bad = ws.read_json();
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["status"], 400);
  EXPECT_TRUE((*bad)["id"].is_null());
  r = call(ws, {{"id", 4}, {"method", "order.place"}, {"params", json::array({1, 2})}});
  EXPECT_EQ(r["error"]["code"], -1135);
  r = call(ws, {{"id", 5}, {"method", "no.such"}});
  EXPECT_EQ(r["status"], 400);
  // Still serving after all that.
  r = call(ws, {{"id", 6}, {"method", "ping"}});
  EXPECT_EQ(r["status"], 200);
}

}  // namespace
}  // namespace tickrt::venue::test
