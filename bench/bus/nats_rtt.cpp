// bench/bus/nats_rtt.cpp — the floor under the strategy -> execution hop: a bare cnats request/reply
// round trip between two processes through the same nats-server, with the same connection options
// as the nodes (bus/nats_client.hpp: SendAsap) and a reply sent from the subscription callback
// (no ring, no node thread, no risk/OMS). What `tickrt exec` adds on top of this is its own work.
//   bench_bus_rtt reply   nats://127.0.0.1:4222          (answers ex.rtt until killed)
//   bench_bus_rtt request nats://127.0.0.1:4222 [n=2000] (prints P50/P99 of n round trips, 512 bytes)
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bus/nats_client.hpp"
#include "core/clock.hpp"
#include "core/latency_histogram.hpp"

using namespace tickrt;

namespace {
void on_req(natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
  if (natsMsg_GetReply(m) != nullptr) natsConnection_Publish(nc, natsMsg_GetReply(m), natsMsg_GetData(m), natsMsg_GetDataLength(m));
  natsMsg_Destroy(m);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_bus_rtt reply|request nats://host:port [n]\n");
    return 2;
  }
  const std::string mode = argv[1];
  auto c = bus::NatsConn::connect(argv[2], "bench-rtt-" + mode, false);
  if (!c.ok()) {
    std::fprintf(stderr, "bench_bus_rtt: %s\n", c.status().to_string().c_str());
    return 1;
  }
  natsConnection* nc = c.value()->nc();
  if (mode == "reply") {
    natsSubscription* sub = nullptr;
    if (natsConnection_Subscribe(&sub, nc, "ex.rtt", on_req, nullptr) != NATS_OK) return 1;
    natsConnection_Flush(nc);
    std::printf("ready\n");
    std::fflush(stdout);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const int n = argc > 3 ? std::atoi(argv[3]) : 2000;
  std::vector<char> body(512, 'x');
  LatencyHistogram h;
  int timeouts = 0;
  for (int i = 0; i < n; ++i) {
    natsMsg* r = nullptr;
    const std::int64_t t0 = now_ns();
    if (natsConnection_Request(&r, nc, "ex.rtt", body.data(), static_cast<int>(body.size()), 2000) != NATS_OK) {
      ++timeouts;
      continue;
    }
    h.record(now_ns() - t0);
    natsMsg_Destroy(r);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // paced, like intents (not back to back)
  }
  std::printf("bare cnats request/reply round trip: p50 %.1f us, p99 %.1f us, max %.1f us, n %" PRIu64 ", timeouts %d\n",
              h.percentile(50) / 1e3, h.percentile(99) / 1e3, static_cast<double>(h.max()) / 1e3, h.count(), timeouts);
  return 0;
}
