// Signed REST order entry against the venue on loopback: lifecycle new -> partial -> filled with
// the user data stream, cancel, cancelReplace, queries, account, myTrades, and Binance's errors.
#include <gtest/gtest.h>

#include "client.hpp"

namespace tickrt::venue::test {
namespace {

std::string exec_type(const json& j) { return j.value("x", std::string()); }
bool is_report(const json& j) { return j.is_object() && j.value("e", std::string()) == "executionReport"; }

TEST(VenueOrders, LifecycleNewPartialFilledWithUserStream) {
  Venue v(Venue::setup());
  WsClient user;
  ASSERT_TRUE(open_user_stream(v.port, user));

  // Account 1 bids 1 BTC at 50000; account 2 sells 0.4 then 0.6 into it.
  HttpResult r = signed_call(v.port, http::verb::post, "/api/v3/order",
                             "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=50000&newClientOrderId=bid1");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.j();
  EXPECT_EQ(j["status"], "NEW");
  EXPECT_EQ(j["clientOrderId"], "bid1");
  EXPECT_EQ(j["price"], "50000.00000000");
  EXPECT_EQ(j["origQty"], "1.00000000");
  EXPECT_TRUE(j["fills"].is_array());
  EXPECT_EQ(j["orderListId"], -1);
  const std::uint64_t oid = j["orderId"].get<std::uint64_t>();
  EXPECT_TRUE(r.headers.count("X-MBX-USED-WEIGHT-1M"));

  auto rep = read_until(user, is_report);
  ASSERT_TRUE(rep) << "no executionReport NEW";
  EXPECT_EQ(exec_type(*rep), "NEW");
  EXPECT_EQ((*rep)["X"], "NEW");
  EXPECT_EQ((*rep)["c"], "bid1");
  EXPECT_EQ((*rep)["i"].get<std::uint64_t>(), oid);
  EXPECT_EQ((*rep)["S"], "BUY");
  EXPECT_EQ((*rep)["t"], -1);

  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.4&price=50000", kKey2, kSecret2);
  ASSERT_EQ(r.status, 200) << r.body;
  j = r.j();
  EXPECT_EQ(j["status"], "FILLED");
  ASSERT_EQ(j["fills"].size(), 1u);
  EXPECT_EQ(j["fills"][0]["price"], "50000.00000000");
  EXPECT_EQ(j["fills"][0]["qty"], "0.40000000");
  EXPECT_EQ(j["fills"][0]["commissionAsset"], "USDT");

  rep = read_until(user, is_report);
  ASSERT_TRUE(rep);
  EXPECT_EQ(exec_type(*rep), "TRADE");
  EXPECT_EQ((*rep)["X"], "PARTIALLY_FILLED");
  EXPECT_EQ((*rep)["l"], "0.40000000");
  EXPECT_EQ((*rep)["z"], "0.40000000");
  EXPECT_EQ((*rep)["L"], "50000.00000000");
  EXPECT_EQ((*rep)["m"], true);
  EXPECT_EQ((*rep)["N"], "USDT");
  EXPECT_GT((*rep)["t"].get<std::int64_t>(), 0);
  auto pos = read_until(user, [](const json& x) { return x.value("e", std::string()) == "outboundAccountPosition"; });
  ASSERT_TRUE(pos);
  EXPECT_TRUE((*pos)["B"].is_array());

  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.6&price=50000", kKey2, kSecret2);
  ASSERT_EQ(r.status, 200) << r.body;
  rep = read_until(user, is_report);
  ASSERT_TRUE(rep);
  EXPECT_EQ((*rep)["X"], "FILLED");
  EXPECT_EQ((*rep)["z"], "1.00000000");
  EXPECT_EQ((*rep)["Z"], "50000.00000000");

  // Query by client id and by order id.
  r = signed_call(v.port, http::verb::get, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=bid1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j()["status"], "FILLED");
  EXPECT_EQ(r.j()["executedQty"], "1.00000000");
  r = signed_call(v.port, http::verb::get, "/api/v3/order", "symbol=BTCUSDT&orderId=" + std::to_string(oid));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j()["clientOrderId"], "bid1");

  // Trades and balances of account 1.
  r = signed_call(v.port, http::verb::get, "/api/v3/myTrades", "symbol=BTCUSDT");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.j().size(), 2u);
  EXPECT_EQ(r.j()[0]["isBuyer"], true);
  EXPECT_EQ(r.j()[0]["isMaker"], true);
  EXPECT_EQ(r.j()[1]["qty"], "0.60000000");
  r = signed_call(v.port, http::verb::get, "/api/v3/account", "");
  ASSERT_EQ(r.status, 200) << r.body;
  bool saw_btc = false;
  const json acct = r.j();
  for (const json& b : acct["balances"]) {
    if (b["asset"] == "BTC") {
      saw_btc = true;
      EXPECT_EQ(b["free"], "11.00000000");  // 10 at start + 1 bought
    }
  }
  EXPECT_TRUE(saw_btc) << r.body;
}

TEST(VenueOrders, CancelCancelReplaceOpenOrders) {
  Venue v(Venue::setup());
  WsClient user;
  ASSERT_TRUE(open_user_stream(v.port, user));
  HttpResult r = signed_call(v.port, http::verb::post, "/api/v3/order",
                             "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=40000&newClientOrderId=a1");
  ASSERT_EQ(r.status, 200) << r.body;
  r = signed_call(v.port, http::verb::post, "/api/v3/order/cancelReplace",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.02&price=40001&cancelReplaceMode=STOP_ON_FAILURE"
                  "&cancelOrigClientOrderId=a1&newClientOrderId=a2");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.j();
  EXPECT_EQ(j["cancelResult"], "SUCCESS");
  EXPECT_EQ(j["newOrderResult"], "SUCCESS");
  EXPECT_EQ(j["cancelResponse"]["origClientOrderId"], "a1");
  EXPECT_EQ(j["cancelResponse"]["status"], "CANCELED");
  EXPECT_EQ(j["newOrderResponse"]["clientOrderId"], "a2");
  EXPECT_EQ(j["newOrderResponse"]["price"], "40001.00000000");

  r = signed_call(v.port, http::verb::get, "/api/v3/openOrders", "symbol=BTCUSDT");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.j().size(), 1u);
  EXPECT_EQ(r.j()[0]["clientOrderId"], "a2");

  // cancelReplace of an order that is gone: -2022, cancel failed, new order not attempted.
  r = signed_call(v.port, http::verb::post, "/api/v3/order/cancelReplace",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.02&price=40001&cancelReplaceMode=STOP_ON_FAILURE"
                  "&cancelOrigClientOrderId=a1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.j()["code"], -2022);
  EXPECT_EQ(r.j()["data"]["cancelResult"], "FAILURE");
  EXPECT_EQ(r.j()["data"]["newOrderResult"], "NOT_ATTEMPTED");

  r = signed_call(v.port, http::verb::delete_, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=a2&newClientOrderId=c2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j()["status"], "CANCELED");
  EXPECT_EQ(r.j()["origClientOrderId"], "a2");
  EXPECT_EQ(r.j()["clientOrderId"], "c2");
  auto rep = read_until(user, [](const json& x) { return x.value("x", std::string()) == "CANCELED" && x.value("C", std::string()) == "a2"; });
  ASSERT_TRUE(rep) << "no CANCELED executionReport for a2";
  EXPECT_EQ((*rep)["X"], "CANCELED");

  r = signed_call(v.port, http::verb::delete_, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=a2");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.j()["code"], -2011);
  EXPECT_EQ(r.j()["msg"], "Unknown order sent.");
  r = signed_call(v.port, http::verb::get, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.j()["code"], -2013);
  EXPECT_EQ(r.j()["msg"], "Order does not exist.");

  // DELETE openOrders cancels everything open on the symbol.
  for (int i = 0; i < 3; ++i) {
    r = signed_call(v.port, http::verb::post, "/api/v3/order",
                    "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.01&price=" + std::to_string(70000 + i));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  r = signed_call(v.port, http::verb::delete_, "/api/v3/openOrders", "symbol=BTCUSDT");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j().size(), 3u);
  r = signed_call(v.port, http::verb::get, "/api/v3/openOrders", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j().size(), 0u);
}

TEST(VenueOrders, BinanceErrors) {
  Venue v(Venue::setup());
  const std::string p = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=40000";
  // Bad signature.
  HttpResult r = http_call(v.port, http::verb::post, "/api/v3/order",
                           p + "&" + ts_param() + "&signature=" + std::string(64, 'a'), kTestApiKey);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1022,"msg":"Signature for this request is not valid."})");
  // Signed with the other key's secret.
  r = signed_call(v.port, http::verb::post, "/api/v3/order", p, kTestApiKey, kSecret2);
  EXPECT_EQ(r.j()["code"], -1022);
  // Stale timestamp (10 s old, default recvWindow 5000).
  const std::string stale = p + "&timestamp=" + std::to_string(wall_ms() - 10000);
  r = http_call(v.port, http::verb::post, "/api/v3/order", sign(stale), kTestApiKey);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."})");
  // ... accepted with a wide enough recvWindow; refused above 60000.
  r = http_call(v.port, http::verb::post, "/api/v3/order", sign(stale + "&recvWindow=20000"), kTestApiKey);
  EXPECT_EQ(r.status, 200) << r.body;
  r = http_call(v.port, http::verb::post, "/api/v3/order", sign(stale + "&recvWindow=70000"), kTestApiKey);
  EXPECT_EQ(r.j()["code"], -1131);
  // Future timestamp.
  r = http_call(v.port, http::verb::post, "/api/v3/order", sign(p + "&timestamp=" + std::to_string(wall_ms() + 5000)),
                kTestApiKey);
  EXPECT_EQ(r.j()["code"], -1021);
  // API keys.
  r = http_call(v.port, http::verb::post, "/api/v3/order", sign(p + "&" + ts_param()));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.j()["code"], -2014);
  r = http_call(v.port, http::verb::post, "/api/v3/order", sign(p + "&" + ts_param()), "someoneElse");
  EXPECT_EQ(r.j()["code"], -2015);
  // Missing parameters.
  r = signed_call(v.port, http::verb::post, "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=1");
  EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."})");
  r = http_call(v.port, http::verb::post, "/api/v3/order", p + "&" + ts_param(), kTestApiKey);
  EXPECT_EQ(r.j()["code"], -1102);  // signature missing
  r = signed_call(v.port, http::verb::delete_, "/api/v3/order", "symbol=BTCUSDT");
  EXPECT_EQ(r.j()["code"], -1102);
  // Unknown symbol, illegal values.
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=NOPEUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=1");
  EXPECT_EQ(r.body, R"({"code":-1121,"msg":"Invalid symbol."})");
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=abc&price=1");
  EXPECT_EQ(r.j()["code"], -1100);
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=XYZ&quantity=1&price=1");
  EXPECT_EQ(r.j()["code"], -1115);
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=STOP&timeInForce=GTC&quantity=1&price=1");
  EXPECT_EQ(r.j()["code"], -1116);
  // Engine rejections: insufficient balance (-2010), filter failures (-1013).
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=100&price=50000");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.j()["code"], -2010) << r.body;
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=40000.001");
  EXPECT_EQ(r.j()["code"], -1013) << r.body;
  // Duplicate parameter.
  r = signed_call(v.port, http::verb::get, "/api/v3/openOrders", "symbol=BTCUSDT&symbol=ETHUSDT");
  EXPECT_EQ(r.j()["code"], -1101);
  // Unknown endpoint.
  r = http_call(v.port, http::verb::get, "/api/v3/nothing");
  EXPECT_EQ(r.status, 404);
}

TEST(VenueOrders, RequestWeightLimit429) {
  SimSetup s = Venue::setup();
  s.venue.weight_limit_1m = 45;  // exchangeInfo weighs 20: the third call is over the limit
  Venue v(s);
  HttpResult r = http_call(v.port, http::verb::get, "/api/v3/exchangeInfo");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["X-MBX-USED-WEIGHT-1M"], "20");
  const json info = r.j();
  ASSERT_EQ(info["symbols"].size(), 2u);
  EXPECT_EQ(info["symbols"][0]["symbol"], "BTCUSDT");
  EXPECT_EQ(info["symbols"][0]["filters"][0]["tickSize"], "0.01000000");
  EXPECT_EQ(info["symbols"][0]["filters"][1]["stepSize"], "0.00001000");
  r = http_call(v.port, http::verb::get, "/api/v3/exchangeInfo");
  EXPECT_EQ(r.status, 200);
  r = http_call(v.port, http::verb::get, "/api/v3/exchangeInfo");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.j()["code"], -1003);
  EXPECT_TRUE(r.headers.count("Retry-After"));
  const int retry = std::stoi(r.headers["Retry-After"]);
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(r.headers["X-MBX-USED-WEIGHT-1M"], "60");
  // ping/time stay cheap but are over the limit too now.
  r = http_call(v.port, http::verb::get, "/api/v3/ping");
  EXPECT_EQ(r.status, 429);
}

TEST(VenueOrders, PublicEndpoints) {
  Venue v(Venue::setup());
  HttpResult r = http_call(v.port, http::verb::get, "/api/v3/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  r = http_call(v.port, http::verb::get, "/api/v3/time");
  ASSERT_EQ(r.status, 200);
  EXPECT_LE(std::abs(r.j()["serverTime"].get<std::int64_t>() - wall_ms()), 2000);
  // No capture: the depth is the engine's book (our resting orders).
  r = signed_call(v.port, http::verb::post, "/api/v3/order",
                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.5&price=30000");
  ASSERT_EQ(r.status, 200) << r.body;
  r = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=BTCUSDT&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.j()["bids"].size(), 1u);
  EXPECT_EQ(r.j()["bids"][0][0], "30000.00000000");
  EXPECT_EQ(r.j()["bids"][0][1], "0.50000000");
  r = http_call(v.port, http::verb::get, "/api/v3/depth?symbol=XXX");
  EXPECT_EQ(r.j()["code"], -1121);
  r = http_call(v.port, http::verb::get, "/api/v3/depth");
  EXPECT_EQ(r.j()["code"], -1102);
}

// VenueConfig::busy_poll_cpu: the server's thread spins on its sockets (latency benches) and still
// answers orders and stops cleanly. CPU 0 exists on every machine.
TEST(VenueOrders, BusyPollingServerAnswersAndStops) {
  SimSetup s = Venue::setup();
  s.venue.busy_poll_cpu = 0;
  {
    Venue v(s);
    HttpResult r = signed_call(v.port, http::verb::post, "/api/v3/order",
                               "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=50000&newClientOrderId=bp1");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.j()["status"], "NEW");
    r = signed_call(v.port, http::verb::get, "/api/v3/openOrders", "symbol=BTCUSDT");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.j().size(), 1u);
  }  // ~Venue stops the spinning thread: the test would hang here otherwise
}

}  // namespace
}  // namespace tickrt::venue::test
