// tests/bus: the execution node builds its gateway from [exec] as the single process does
// (pipeline/gateway_config.hpp). Before that mapping was shared, the node dropped exec.gateway_cpu:
// a CPU this machine lacks went unnoticed and the IO thread was never pinned. In-process: the node's
// gateway starts before it connects to NATS, so no nats-server is needed (the NATS URL is a closed port).
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "bus/exec_node.hpp"
#include "pipeline/config.hpp"

namespace tickrt::bus {
namespace {

// A loopback port nothing listens on (bound to port 0, read back, closed).
std::string closed_nats_url() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return "";
  }
  ::close(fd);
  return "nats://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

Status create_with(const std::string& toml) {
  auto cfg = pipeline::parse_config(toml, "<exec.toml>", ".");
  if (!cfg.ok()) return cfg.status();
  ExecOptions o;
  o.cfg = cfg.value();
  o.symbols = {"BTCUSDT"};
  o.url = closed_nats_url();
  if (o.url.empty()) return Status(Code::internal, "no loopback port");
  std::ostringstream out;
  auto node = ExecNode::create(o, out);
  return node.ok() ? Status::Ok() : node.status();
}

TEST(ExecNodeGateway, HonoursGatewayCpu) {
  // A CPU no machine here has (the config allows up to 4095): the gateway refuses to start, naming it.
  const Status bad = create_with("[feed]\nsource = \"sim\"\n[exec]\njournal = \"\"\ngateway_cpu = 4095\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("idle.cpu 4095"), std::string::npos) << bad.to_string();
  // CPU 0 exists: the pinned gateway starts and the node gets as far as NATS (closed here).
  const Status good = create_with("[feed]\nsource = \"sim\"\n[exec]\njournal = \"\"\ngateway_cpu = 0\ngateway_spin_us = -1\n");
  ASSERT_FALSE(good.ok());
  EXPECT_EQ(good.message().find("idle.cpu"), std::string::npos) << good.to_string();
  EXPECT_NE(good.message().find("nats"), std::string::npos) << good.to_string();
}

TEST(ExecNodeGateway, UrlVenueWithoutKeysIsRefusedNamingThem) {
  const Status s = create_with("[feed]\nsource = \"url\"\nrest_url = \"http://127.0.0.1:1\"\nsymbols = [\"BTCUSDT\"]\n[exec]\njournal = \"\"\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exec.api_key"), std::string::npos) << s.to_string();
}

}  // namespace
}  // namespace tickrt::bus
