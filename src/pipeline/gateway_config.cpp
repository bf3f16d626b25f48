// pipeline/gateway_config.cpp — [exec] -> exec::BinanceConfig (see gateway_config.hpp).
#include "pipeline/gateway_config.hpp"

#include <string>

#include "pipeline/ws_client.hpp"
#include "venue/venue.hpp"

namespace tickrt::pipeline {

Result<exec::BinanceConfig> gateway_config(const PipelineConfig& cfg, std::uint16_t local_port) {
  exec::BinanceConfig bc;
  bc.api_key = cfg.api_key;
  bc.secret = cfg.api_secret;
  if (local_port > 0) {
    if (bc.api_key.empty()) {
      bc.api_key = venue::kTestApiKey;
      bc.secret = venue::kTestSecret;
    }
    bc.host = "127.0.0.1";
    bc.port = std::to_string(local_port);
    bc.tls = false;
  } else {
    if (bc.api_key.empty() || bc.secret.empty())
      return Status(Code::invalid_argument, "exec.api_key / exec.api_secret: both needed to trade at feed.rest_url " + cfg.rest_url);
    auto u = parse_url(cfg.rest_url);
    if (!u.ok()) return u.status().with_context("feed.rest_url");
    bc.host = u->host;
    bc.port = u->port;
    bc.tls = u->tls;
  }
  // -1: spin for ever (a dedicated core); the order then leaves at ring hand-off latency.
  bc.idle.spin_ns = cfg.gateway_spin_us < 0 ? INT64_MAX / 4 : cfg.gateway_spin_us * 1000;
  bc.idle.sleep_ns = cfg.gateway_sleep_us * 1000;
  bc.idle.cpu = cfg.gateway_cpu;  // pinned: spins (exec/gateway.hpp IdleWait)
  bc.warm_send = cfg.gateway_warm_send;
  return bc;
}

}  // namespace tickrt::pipeline
