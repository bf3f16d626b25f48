// bench/exec/bench_exec.cpp — OMS submit (intent -> request in the gateway ring), OMS report
// apply, journal throughput (SQLite WAL, synchronous NORMAL vs FULL).
//
// Peer for the OMS rows: NaiveOms, the textbook shape (std::string ids from std::to_string,
// std::unordered_map order table, a std::mutex-guarded std::deque as the hand-off queue) measured
// in the same run, so the ratio says what the fixed table + SPSC ring buy.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "exec/journal.hpp"
#include "exec/oms.hpp"
#include "core/latency_histogram.hpp"
#ifdef TICKRT_BENCH_VENUE
#include "exec/binance_gateway.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"
#endif

using namespace tickrt;
using namespace tickrt::exec;

namespace {

constexpr int kBatch = 256;

OrderRequest intent(int i) {
  OrderRequest o;
  o.symbol = SymbolName::from("BTCUSDT");
  o.side = i & 1 ? Side::sell : Side::buy;
  o.price = Price::from_raw(5'000'000'000'000 + i);
  o.qty = Qty::from_raw(1'000'000);
  return o;
}

std::string temp_db(const char* name) {
  const auto p = std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(::getpid()) + ".db");
  for (const char* suf : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suf);
  return p.string();
}

// Submits kBatch intents (timed), then closes them (untimed): drain the ring, apply CANCELED.
void run_submit(benchmark::State& state, Journal* journal) {
  RequestRing out(1024);
  ReportRing in(1024);
  OmsConfig c;
  c.symbols = {"BTCUSDT", "ETHUSDT"};
  c.max_open_orders = 1024;
  auto r = Oms::create(c, {&out, &in}, journal);
  Oms& oms = *r.value();
  std::vector<OrderRequest> intents;
  for (int i = 0; i < kBatch; ++i) intents.push_back(intent(i));
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      const SubmitResult s = oms.submit(intents[static_cast<std::size_t>(i)]);
      if (s != SubmitResult::ok) {
        state.SkipWithError("submit refused");
        return;
      }
    }
    state.PauseTiming();
    GatewayRequest g;
    while (out.try_pop(g)) {
      ExecReport x;
      x.symbol = g.order.symbol;
      x.client_order_id = g.order.client_order_id;
      x.exec_type = ExecType::canceled;
      x.status = OrderStatus::canceled;
      OmsEvent ev;
      while (!oms.apply(x, ev)) {}
    }
    if (journal) (void)journal->flush();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
}

void BM_OmsSubmit(benchmark::State& state) { run_submit(state, nullptr); }
BENCHMARK(BM_OmsSubmit);

void BM_OmsSubmitJournaled(benchmark::State& state) {
  const std::string path = temp_db("bench_exec_submit");
  auto j = Journal::open(path);
  run_submit(state, j.value().get());
  j.value()->close();
}
BENCHMARK(BM_OmsSubmitJournaled);

// The peer: string ids, unordered_map, mutex + deque hand-off.
struct NaiveOrder {
  OrderRequest req;
  OrderStatus status = OrderStatus::pending_new;
};
struct NaiveOms {
  std::string prefix = "tk-1-";
  std::uint64_t seq = 1;
  std::unordered_map<std::string, NaiveOrder> orders;
  std::mutex mu;
  std::deque<GatewayRequest> queue;
  bool submit(const OrderRequest& in) {
    std::string id = prefix + std::to_string(seq++);
    NaiveOrder o{in};
    o.req.client_order_id = ClientOrderId::from(id);
    GatewayRequest g;
    g.order = o.req;
    g.enqueue_ns = now_ns();
    orders.emplace(std::move(id), o);
    std::lock_guard<std::mutex> lk(mu);
    queue.push_back(g);
    return true;
  }
};

void BM_NaiveOmsSubmit(benchmark::State& state) {
  NaiveOms oms;
  std::vector<OrderRequest> intents;
  for (int i = 0; i < kBatch; ++i) intents.push_back(intent(i));
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(oms.submit(intents[static_cast<std::size_t>(i)]));
    state.PauseTiming();
    {
      std::lock_guard<std::mutex> lk(oms.mu);
      while (!oms.queue.empty()) {
        oms.orders.erase(std::string(oms.queue.front().order.client_order_id.view()));
        oms.queue.pop_front();
      }
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch);
}
BENCHMARK(BM_NaiveOmsSubmit);

// Applying one fill report (lookup, de-dup, state, position) to a live order.
void BM_OmsApplyFill(benchmark::State& state) {
  RequestRing out(1024);
  ReportRing in(1024);
  OmsConfig c;
  c.symbols = {"BTCUSDT"};
  c.max_open_orders = 1024;
  auto r = Oms::create(c, {&out, &in}, nullptr);
  Oms& oms = *r.value();
  std::vector<ClientOrderId> ids(512);
  for (int i = 0; i < 512; ++i) {
    OrderRequest o = intent(i);
    o.qty = Qty::from_int(1'000'000);  // never fills up
    (void)oms.submit(o, &ids[static_cast<std::size_t>(i)]);
    GatewayRequest g;
    (void)out.try_pop(g);
  }
  ExecReport x;
  x.symbol = SymbolName::from("BTCUSDT");
  x.exec_type = ExecType::trade;
  x.status = OrderStatus::partially_filled;
  x.last_price = Price::from_int(50000);
  x.last_qty = Qty::from_raw(1000);
  std::size_t k = 0;
  std::vector<std::int64_t> cum(512, 0);
  for (auto _ : state) {
    const std::size_t i = k++ & 511;
    x.client_order_id = ids[i];
    cum[i] += 1000;
    x.cum_qty = Qty::from_raw(cum[i]);
    OmsEvent ev;
    benchmark::DoNotOptimize(oms.apply(x, ev));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_OmsApplyFill);

// Journal throughput: rows appended and committed per second (append + flush per 4096 rows).
void BM_JournalThroughput(benchmark::State& state) {
  const bool full = state.range(0) != 0;
  const std::string path = temp_db(full ? "bench_exec_j_full" : "bench_exec_j_normal");
  JournalConfig jc;
  jc.synchronous_full = full;
  jc.ring_capacity = 1 << 13;
  auto j = Journal::open(path, jc);
  JournalRecord rec;
  rec.kind = JournalKind::fill;
  rec.report.symbol = SymbolName::from("BTCUSDT");
  rec.report.client_order_id = ClientOrderId::from("tk-1-12345");
  rec.report.last_price = Price::from_int(50000);
  rec.report.last_qty = Qty::from_raw(1000);
  std::uint64_t tid = 1;
  for (auto _ : state) {
    for (int i = 0; i < 4096; ++i) {
      rec.report.trade_id = tid++;
      while (!j.value()->try_append(rec)) {}
    }
    (void)j.value()->flush();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 4096);
  state.counters["commits"] = static_cast<double>(j.value()->stats().commits);
  j.value()->close();
}
BENCHMARK(BM_JournalThroughput)->Arg(0)->Arg(1)->ArgName("sync_full")->UseRealTime()->Unit(benchmark::kMillisecond);

#ifdef TICKRT_BENCH_VENUE
// The "order encode and send" stamp of exec/gateway.hpp (t2 - t1: ring hand-off + IO thread
// wake-up + encode + HMAC sign + write) and the wire round trip (t3 - t2) against the simulator
// venue on loopback: one limit order far from the market at a time, acked, then canceled.
void BM_GatewayLoopback(benchmark::State& state) {
  venue::SimSetup s = venue::default_sim_setup();
  s.venue.port = 0;
  s.venue.captures.clear();
  s.venue.weight_limit_1m = 100'000'000;
  sim::MatchingEngine engine(s.engine);
  venue::VenueServer server(s.venue, engine);
  if (!server.start().ok()) {
    state.SkipWithError("venue start");
    return;
  }
  BinanceConfig bc;
  bc.host = "127.0.0.1";
  bc.port = std::to_string(server.port());
  bc.tls = false;
  bc.api_key = venue::kTestApiKey;
  bc.secret = venue::kTestSecret;
  bc.user_stream = state.range(0) != 0;
  bc.idle.spin_ns = 1'000'000'000;  // keep spinning: measure the path, not the sleep
  BinanceGateway gw(bc);
  RequestRing out(1024);
  ReportRing in(1024);
  OmsConfig c;
  c.symbols = {"BTCUSDT"};
  auto r = Oms::create(c, {&out, &in}, nullptr);
  Oms& oms = *r.value();
  if (!gw.start({&out, &in}).ok()) {
    state.SkipWithError("gateway start");
    return;
  }
  LatencyHistogram encode_send, wire;
  OrderRequest o = intent(0);
  o.side = Side::buy;
  o.price = Price::from_int(1000);
  for (auto _ : state) {
    ClientOrderId id;
    o.created_ns = now_ns();
    if (oms.submit(o, &id) != SubmitResult::ok) {
      state.SkipWithError("submit");
      break;
    }
    bool acked = false;
    while (!acked) {
      oms.poll([&](const OmsEvent& e) {
        if (e.report->request_sent_ns != 0 && e.report->client_order_id == id && e.order != nullptr) {
          encode_send.record(e.report->request_sent_ns - e.order->enqueue_ns);
          wire.record(e.report->local_ns - e.report->request_sent_ns);
          acked = true;
        }
      });
    }
    (void)oms.cancel(id);
    while (oms.open_orders() != 0) oms.poll();
  }
  gw.stop();
  server.stop();
  state.counters["encode_send_p50_ns"] = static_cast<double>(encode_send.percentile(50));
  state.counters["encode_send_p99_ns"] = static_cast<double>(encode_send.percentile(99));
  state.counters["wire_rtt_p50_ns"] = static_cast<double>(wire.percentile(50));
  state.counters["wire_rtt_p99_ns"] = static_cast<double>(wire.percentile(99));
}
BENCHMARK(BM_GatewayLoopback)->Arg(0)->Arg(1)->ArgName("user_stream")->UseRealTime()->Iterations(2000);
#endif

}  // namespace

BENCHMARK_MAIN();
