// bench_pipeline_gateway: where "order encode+send" (OMS ring -> gateway IO thread -> request +
// HMAC-SHA256 -> write; exec/gateway.hpp t2 - t1) goes, per stage, against the simulator venue
// (src/venue) on loopback — the same venue and gateway `tickrt run` uses, without the market data
// and the model around them.
//
// This thread plays the OMS: every --interval-us it pushes a resting LIMIT BUY (far below any
// price: it never fills) into the gateway's outbound ring, and a cancel of the previous one, as
// the pipeline's strategy does (replace = cancel + new), stamping enqueue_ns like Oms::submit.
// It drains the report ring meanwhile. At the end the gateway's SendTraces (gateway.hpp) are
// printed as percentiles per stage: wait (ring hand-off + wake-up), queued (behind another request
// on a busy connection), format, sign, write, and the total t2 - t1.
//
//   build/bin/bench_pipeline_gateway [--orders 300] [--interval-us 20000] [--gateway rest|ws]
//       [--cpu -1] [--spin-us 50] [--sleep-us 20] [--connections 4] [--cpu-main -1]
// --cpu N pins the IO thread (it then spins: IdleWait::cpu); without it the IO thread spins
// --spin-us after each request, then sleeps --sleep-us per check (the pipeline's default 50/20).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "exec/binance_gateway.hpp"
#include "exec/binance_ws_gateway.hpp"
#include "pipeline/threads.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

using namespace tickrt;
using namespace tickrt::exec;

namespace {

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

void row(const char* name, const std::vector<double>& v) {
  std::printf("| %-34s | %6zu | %8.1f | %8.1f | %8.1f | %8.1f |\n", name, v.size(), pct(v, 50), pct(v, 90), pct(v, 99),
              v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
}

}  // namespace

int main(int argc, char** argv) {
  int orders = 300, interval_us = 20'000, cpu = -1, connections = 4, cpu_main = -1;
  std::int64_t spin_us = 50, sleep_us = 20;
  std::string kind = "rest";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--orders") orders = std::atoi(argv[i + 1]);
    else if (a == "--interval-us") interval_us = std::atoi(argv[i + 1]);
    else if (a == "--gateway") kind = argv[i + 1];
    else if (a == "--cpu") cpu = std::atoi(argv[i + 1]);
    else if (a == "--cpu-main") cpu_main = std::atoi(argv[i + 1]);
    else if (a == "--spin-us") spin_us = std::atoll(argv[i + 1]);
    else if (a == "--sleep-us") sleep_us = std::atoll(argv[i + 1]);
    else if (a == "--connections") connections = std::atoi(argv[i + 1]);
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if (kind != "rest" && kind != "ws") { std::fprintf(stderr, "--gateway: rest or ws, got %s\n", kind.c_str()); return 2; }
  if (cpu_main >= 0) {
    const Status st = pipeline::pin_current_thread(cpu_main, "bench-oms");
    if (!st.ok()) { std::fprintf(stderr, "%s\n", st.to_string().c_str()); return 1; }
  }

  venue::SimSetup s = venue::default_sim_setup();
  s.venue.port = 0;
  s.venue.captures.clear();
  s.venue.weight_limit_1m = 100'000'000;
  sim::MatchingEngine engine(s.engine);
  venue::VenueServer server(s.venue, engine);
  if (Status st = server.start(); !st.ok()) { std::fprintf(stderr, "venue: %s\n", st.to_string().c_str()); return 1; }

  BinanceConfig bc;
  bc.host = "127.0.0.1";
  bc.port = std::to_string(server.port());
  bc.tls = false;
  bc.api_key = venue::kTestApiKey;
  bc.secret = venue::kTestSecret;
  bc.rest_connections = connections;
  bc.idle.spin_ns = spin_us < 0 ? INT64_MAX / 4 : spin_us * 1000;
  bc.idle.sleep_ns = sleep_us * 1000;
  bc.idle.cpu = cpu;
  std::unique_ptr<Gateway> gw;
  if (kind == "rest") gw = std::make_unique<BinanceGateway>(bc);
  else {
    BinanceWsConfig wc;
    wc.base = bc;
    gw = std::make_unique<BinanceWsGateway>(wc);
  }
  RequestRing out(1024);
  ReportRing in(4096);
  if (Status st = gw->start({&out, &in}); !st.ok()) { std::fprintf(stderr, "gateway: %s\n", st.to_string().c_str()); return 1; }

  std::uint64_t reports = 0, rejects = 0;
  auto drain = [&] {
    ExecReport r;
    while (in.try_pop(r)) {
      ++reports;
      if (r.exec_type == ExecType::rejected) ++rejects;
    }
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // connections up (the gateway warms them)
  auto next = std::chrono::steady_clock::now();
  for (int n = 0; n < orders; ++n) {
    next += std::chrono::microseconds(interval_us);
    while (std::chrono::steady_clock::now() < next) {
      drain();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (n > 0) {
      GatewayRequest c;
      c.op = GatewayOp::cancel;
      c.cancel.symbol = SymbolName::from("BTCUSDT");
      c.cancel.orig_client_order_id = ClientOrderId::from("bg-" + std::to_string(n - 1));
      c.cancel.client_order_id = ClientOrderId::from("bgc-" + std::to_string(n - 1));
      c.enqueue_ns = now_ns();
      if (!out.try_push(c)) { std::fprintf(stderr, "ring full\n"); return 1; }
    }
    GatewayRequest g;
    g.op = GatewayOp::new_order;
    g.order.symbol = SymbolName::from("BTCUSDT");
    g.order.client_order_id = ClientOrderId::from("bg-" + std::to_string(n));
    g.order.side = Side::buy;
    g.order.type = OrderType::limit;
    g.order.tif = TimeInForce::gtc;
    g.order.price = Price::from_raw(10'000LL * 100'000'000);
    g.order.qty = Qty::from_raw(100'000);  // 0.001
    g.order.created_ns = now_ns();
    g.enqueue_ns = now_ns();
    if (!out.try_push(g)) { std::fprintf(stderr, "ring full\n"); return 1; }
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < end) {
    drain();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  gw->stop();
  drain();
  server.stop();

  const auto tr = gw->send_traces();
  std::printf("== gateway %s, %d orders every %d us (+ a cancel of the previous), IO thread %s, %d connections; "
              "machine: %u CPUs\n",
              kind.c_str(), orders, interval_us,
              cpu >= 0 ? ("pinned to CPU " + std::to_string(cpu) + ", spinning").c_str()
                       : ("spin " + std::to_string(spin_us) + " us then sleep " + std::to_string(sleep_us) + " us").c_str(),
              kind == "rest" ? connections : 1, std::thread::hardware_concurrency());
  std::printf("reports %llu, rejects %llu, traces %zu\n", static_cast<unsigned long long>(reports),
              static_cast<unsigned long long>(rejects), tr.size());
  for (GatewayOp op : {GatewayOp::new_order, GatewayOp::cancel}) {
    std::vector<double> total, wait, queued, sign, format, write;
    int slept = 0, async = 0;
    for (const SendTrace& t : tr) {
      if (t.op != op || t.sent_ns == 0) continue;
      total.push_back((t.sent_ns - t.enqueue_ns) / 1e3);
      wait.push_back((t.pop_ns - t.enqueue_ns) / 1e3);
      queued.push_back((t.start_ns - t.pop_ns) / 1e3);
      const double sg = (t.signed_ns - t.sign_ns) / 1e3;
      sign.push_back(sg);
      format.push_back((t.encoded_ns - t.start_ns) / 1e3 - sg);
      write.push_back((t.sent_ns - t.encoded_ns) / 1e3);
      slept += t.woke_from_sleep;
      async += t.write_async;
    }
    std::printf("\n%s: %zu sent; IO thread was asleep for %d; write completed asynchronously for %d\n",
                std::string(gateway_op_name(op)).c_str(), total.size(), slept, async);
    std::printf("| stage (us) | n | P50 | P90 | P99 | max |\n|---|---:|---:|---:|---:|---:|\n");
    row("wait (ring hand-off + wake-up)", wait);
    row("queued (connection busy)", queued);
    row("format", format);
    row("sign (HMAC-SHA256)", sign);
    row("write", write);
    row("total t2 - t1 (order encode+send)", total);
  }
  return 0;
}
