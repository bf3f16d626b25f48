// tests/pipeline: [exec] -> exec::BinanceConfig (pipeline/gateway_config.hpp), the one mapping the
// single process and the NATS exec node both use.
#include <gtest/gtest.h>

#include <cstdint>

#include "pipeline/config.hpp"
#include "pipeline/gateway_config.hpp"
#include "venue/venue.hpp"

namespace tickrt::pipeline {
namespace {

PipelineConfig cfg_of(const std::string& toml) {
  auto r = parse_config(toml, "<t>", "/b");
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r.value() : PipelineConfig{};
}

TEST(GatewayConfig, IdleSettingsAreCarried) {
  const PipelineConfig c = cfg_of("[exec]\ngateway_spin_us = 7\ngateway_sleep_us = 3\ngateway_cpu = 1\n");
  auto bc = gateway_config(c, 4321);
  ASSERT_TRUE(bc.ok()) << bc.status().to_string();
  EXPECT_EQ(bc->idle.spin_ns, 7000);
  EXPECT_EQ(bc->idle.sleep_ns, 3000);
  EXPECT_EQ(bc->idle.cpu, 1);
  // -1: spin for ever (no overflow when the gateway adds it to a clock reading).
  auto forever = gateway_config(cfg_of("[exec]\ngateway_spin_us = -1\n"), 4321);
  ASSERT_TRUE(forever.ok());
  EXPECT_GT(forever->idle.spin_ns, std::int64_t{1} << 60);
  EXPECT_LT(forever->idle.spin_ns, INT64_MAX / 2);
  EXPECT_EQ(forever->idle.cpu, -1);
}

TEST(GatewayConfig, InProcessVenueIsPlainLoopbackWithTheTestKeyByDefault) {
  auto bc = gateway_config(cfg_of(""), 4321);
  ASSERT_TRUE(bc.ok()) << bc.status().to_string();
  EXPECT_EQ(bc->host, "127.0.0.1");
  EXPECT_EQ(bc->port, "4321");
  EXPECT_FALSE(bc->tls);
  EXPECT_EQ(bc->api_key, venue::kTestApiKey);
  EXPECT_EQ(bc->secret, venue::kTestSecret);
  auto own = gateway_config(cfg_of("[exec]\napi_key = \"k\"\napi_secret = \"s\"\n"), 4321);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->api_key, "k");
  EXPECT_EQ(own->secret, "s");
}

TEST(GatewayConfig, RestUrlNeedsKeysAndAValidUrl) {
  auto bc = gateway_config(cfg_of("[feed]\nrest_url = \"https://example.com:8443\"\n[exec]\napi_key = \"k\"\napi_secret = \"s\"\n"), 0);
  ASSERT_TRUE(bc.ok()) << bc.status().to_string();
  EXPECT_EQ(bc->host, "example.com");
  EXPECT_EQ(bc->port, "8443");
  EXPECT_TRUE(bc->tls);
  EXPECT_EQ(bc->api_key, "k");
  auto nokey = gateway_config(cfg_of("[exec]\napi_key = \"k\"\n"), 0);
  ASSERT_FALSE(nokey.ok());
  EXPECT_NE(nokey.status().message().find("exec.api_secret"), std::string::npos) << nokey.status().message();
  auto badurl = gateway_config(cfg_of("[feed]\nrest_url = \"ftp:/x\"\n[exec]\napi_key = \"k\"\napi_secret = \"s\"\n"), 0);
  ASSERT_FALSE(badurl.ok());
  EXPECT_NE(badurl.status().to_string().find("feed.rest_url"), std::string::npos) << badurl.status().to_string();
}

}  // namespace
}  // namespace tickrt::pipeline
