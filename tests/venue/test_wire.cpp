// Wire helpers and the TOML config: Binance's documented HMAC example, query parsing, config
// errors that name the key.
#include <gtest/gtest.h>

#include <fstream>

#include "venue/venue.hpp"
#include "venue/wire.hpp"

namespace tickrt::venue {
namespace {

TEST(VenueWire, HmacMatchesBinanceDocExample) {
  // From Binance's "SIGNED endpoint examples for POST /api/v3/order".
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  const std::string payload =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
  EXPECT_EQ(hmac_sha256_hex(secret, payload), "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
  EXPECT_TRUE(signature_equal("C8DB56825AE71D6D79447849E617115F4A920FA2ACDCAB2B053C4B2838BD6B71",
                              hmac_sha256_hex(secret, payload)));
  EXPECT_FALSE(signature_equal("c8db", hmac_sha256_hex(secret, payload)));
}

TEST(VenueWire, QueryParsing) {
  Params p;
  ASSERT_TRUE(parse_query("a=1&b=x%20y&c=&d+e=f+g&&", p));
  ASSERT_EQ(p.items.size(), 4u);
  EXPECT_EQ(*p.get("b"), "x y");
  EXPECT_EQ(*p.get("c"), "");
  EXPECT_EQ(*p.get("d e"), "f g");
  EXPECT_FALSE(p.has("z"));
  EXPECT_EQ(p.duplicate(), "");
  ASSERT_TRUE(parse_query("a=2", p));
  EXPECT_EQ(p.duplicate(), "a");
  Params q;
  std::string bad;
  EXPECT_FALSE(parse_query("a=%4", q, &bad));
  EXPECT_EQ(bad, "a=%4");
  EXPECT_FALSE(parse_query("a=%zz", q));
}

TEST(VenueWire, JsonBuilderEscapes) {
  EXPECT_EQ(JsonObj().str("a", "x\"y\n").num("b", -3).boolean("c", true).null("d").done(),
            R"({"a":"x\"y\n","b":-3,"c":true,"d":null})");
  EXPECT_EQ(error_body(-1022, "Signature for this request is not valid."),
            R"({"code":-1022,"msg":"Signature for this request is not valid."})");
}

std::string write_tmp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(VenueConfig, LoadsEveryTable) {
  const std::string path = write_tmp("venue_ok.toml", R"(
[venue]
port = 9001
captures = ["a.gz", "b.gz"]
speed = 0
symbols = ["BTCUSDT"]
weight_limit_1m = 100
[[venue.keys]]
api_key = "k1"
secret = "s1"
account = 7
[engine]
maker_fee_bps = -1.0
taker_fee_bps = 4.5
queue_model = "cancels_behind"
[engine.balances]
USDT = "5000.5"
BTC = 2
[[engine.symbols]]
name = "SOLUSDT"
base = "SOL"
quote = "USDT"
tick_size = "0.001"
step_size = "0.01"
[faults]
drop_md = 0.1
ack_delay_ms = 5
disconnects = [[10, 12.5]]
)");
  auto r = load_sim_setup(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const SimSetup& s = r.value();
  EXPECT_EQ(s.venue.port, 9001);
  EXPECT_EQ(s.venue.captures.size(), 2u);
  EXPECT_EQ(s.venue.speed, 0.0);
  EXPECT_EQ(s.venue.keys.size(), 1u);
  EXPECT_EQ(s.venue.keys[0].account, 7u);
  EXPECT_EQ(s.engine.maker_fee_bps, -1.0);
  EXPECT_EQ(s.engine.queue_model, sim::QueueModel::cancels_behind);
  ASSERT_EQ(s.engine.start_balances.size(), 2u);
  for (const auto& [asset, raw] : s.engine.start_balances) {
    if (asset.view() == "USDT") {
      EXPECT_EQ(raw, 500'050'000'000);
    }
    if (asset.view() == "BTC") {
      EXPECT_EQ(raw, 200'000'000);
    }
  }
  ASSERT_EQ(s.engine.symbols.size(), 1u);
  EXPECT_EQ(s.engine.symbols[0].tick_size.raw, 100'000);
  EXPECT_EQ(s.engine.faults.ack_delay_ns, 5'000'000);
  ASSERT_EQ(s.engine.faults.disconnects.size(), 1u);
  EXPECT_EQ(s.engine.faults.disconnects[0].end_ns, 12'500'000'000);
}

TEST(VenueConfig, ErrorsNameFileAndKey) {
  auto r = load_sim_setup(write_tmp("venue_bad1.toml", "[venue]\nprot = 1\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("venue.prot"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("venue_bad1.toml:2"), std::string::npos) << r.status().message();
  r = load_sim_setup(write_tmp("venue_bad2.toml", "[faults]\ndrop_md = 2\n"));
  ASSERT_FALSE(r.ok());
  r = load_sim_setup(write_tmp("venue_bad3.toml", "[venue\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::parse_error);
  r = load_sim_setup(write_tmp("venue_bad4.toml", "[[engine.symbols]]\nname = \"X\"\nbase = \"X\"\nquote = \"Y\"\ntick_size = \"0.000000001\"\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tick_size"), std::string::npos);
  r = load_sim_setup("/nonexistent/sim.toml");
  ASSERT_FALSE(r.ok());
}

}  // namespace
}  // namespace tickrt::venue
