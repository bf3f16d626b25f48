// bench_sim — matching engine throughput.
//
//  BM_EngineSubmit      : submit + match of a random limit/IOC flow around one mid price (4
//                         accounts, balances off, fills recorded, a counting sink installed).
//  BM_PeerNaiveSubmit   : the same flow through a textbook std::map<price, std::deque> price-time
//                         book with no balances, reports or ledger: the floor the engine pays for
//                         its bookkeeping against.
//  BM_EngineReplay      : a real capture (spot BTCUSDT 2024-08-08, pre-parsed into memory) through
//                         on_market_event, with a bid and an ask re-quoted at the touch every 200
//                         events (events/s).
//  BM_PeerL2BookReplay  : the same events into a bare book::L2Book (snapshot/diffs only).
// Run: build/bin/bench_sim --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
// (TICKRT_SIM_CAPTURE=<path> points the replay benches at another copy of the capture.)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "book/l2_book.hpp"
#include "feed/feed.hpp"
#include "sim/matching_engine.hpp"

using namespace tickrt;
using namespace tickrt::sim;

namespace {

std::string idn(const char* prefix, long long i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

struct Req {
  AccountId account;
  OrderRequest r;
};

std::vector<Req> make_flow(std::size_t n) {
  std::mt19937_64 g(12345);
  std::vector<Req> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Req q;
    q.account = static_cast<AccountId>(1 + g() % 4);
    q.r.symbol = SymbolName::from("BTCUSDT");
    std::string id = "b";
    id.append(std::to_string(i));
    q.r.client_order_id = ClientOrderId::from(id);
    q.r.side = (g() & 1) ? Side::buy : Side::sell;
    q.r.type = OrderType::limit;
    q.r.tif = (g() % 10 == 0) ? TimeInForce::ioc : TimeInForce::gtc;
    q.r.stp = StpMode::none;
    const std::int64_t ticks = static_cast<std::int64_t>(g() % 41) - 20;
    q.r.price = Price::from_raw((60000 + ticks) * kDecimalScale / 100 * 100);  // 60000 +- 20 (tick 1.00)
    q.r.qty = Qty::from_raw(static_cast<std::int64_t>(1 + g() % 9) * 10'000'000);  // 0.1 .. 0.9
    out.push_back(q);
  }
  return out;
}

SimConfig bench_config() {
  SimConfig c;
  SymbolSpec s;
  s.name = SymbolName::from("BTCUSDT");
  s.base = AssetName::from("BTC");
  s.quote = AssetName::from("USDT");
  s.tick_size = Price::from_int(1);
  c.symbols.push_back(s);
  c.enforce_balances = false;
  c.emit_book_updates = false;
  return c;
}

struct CountingSink final : ReportSink {
  std::uint64_t n = 0;
  void on_exec_report(AccountId, const ExecReport&, std::int64_t) override { ++n; }
  void on_public_trade(const PublicTrade&) override { ++n; }
};

constexpr std::size_t kFlow = 1u << 16;

void BM_EngineSubmit(benchmark::State& st) {
  const std::vector<Req> flow = make_flow(kFlow);
  std::uint64_t fills = 0;
  for (auto _ : st) {
    st.PauseTiming();
    auto eng = std::make_unique<MatchingEngine>(bench_config());
    CountingSink sink;
    eng->set_sink(&sink);
    st.ResumeTiming();
    std::int64_t t = 0;
    for (const Req& q : flow) benchmark::DoNotOptimize(eng->submit(q.account, q.r, ++t));
    st.PauseTiming();
    fills += eng->fills().size();
    eng.reset();
    st.ResumeTiming();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * kFlow));
  st.counters["fills_per_flow"] = static_cast<double>(fills) / static_cast<double>(st.iterations());
}
BENCHMARK(BM_EngineSubmit)->Unit(benchmark::kMillisecond);

// Textbook price-time book: map of price -> FIFO of (qty, id); no balances, reports or ledger.
struct NaiveBook {
  struct O { std::int64_t qty; std::uint64_t id; };
  std::map<std::int64_t, std::deque<O>, std::greater<>> bids;
  std::map<std::int64_t, std::deque<O>> asks;
  std::uint64_t next_id = 1, fills = 0;
  template <class Opp, class Own>
  void run(Opp& opp, Own& own, std::int64_t px, std::int64_t qty, bool ioc, bool buy) {
    while (qty > 0 && !opp.empty()) {
      auto it = opp.begin();
      if (buy ? it->first > px : it->first < px) break;
      auto& q = it->second;
      while (qty > 0 && !q.empty()) {
        const std::int64_t t = std::min(qty, q.front().qty);
        qty -= t;
        q.front().qty -= t;
        fills += 2;
        if (q.front().qty == 0) q.pop_front();
      }
      if (q.empty()) opp.erase(it);
    }
    if (qty > 0 && !ioc) own[px].push_back({qty, next_id});
    ++next_id;
  }
  void submit(const OrderRequest& r) {
    if (r.side == Side::buy) run(asks, bids, r.price.raw, r.qty.raw, r.tif == TimeInForce::ioc, true);
    else run(bids, asks, r.price.raw, r.qty.raw, r.tif == TimeInForce::ioc, false);
  }
};

void BM_PeerNaiveSubmit(benchmark::State& st) {
  const std::vector<Req> flow = make_flow(kFlow);
  std::uint64_t fills = 0;
  for (auto _ : st) {
    st.PauseTiming();
    auto b = std::make_unique<NaiveBook>();
    st.ResumeTiming();
    for (const Req& q : flow) b->submit(q.r);
    benchmark::DoNotOptimize(b->fills);
    st.PauseTiming();
    fills += b->fills;
    b.reset();
    st.ResumeTiming();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * kFlow));
  st.counters["fills_per_flow"] = static_cast<double>(fills) / static_cast<double>(st.iterations());
}
BENCHMARK(BM_PeerNaiveSubmit)->Unit(benchmark::kMillisecond);

// ---- replay -------------------------------------------------------------------------------------

// A capture pre-parsed into owned events (level spans re-pointed into `levels`).
struct Capture {
  std::vector<feed::Event> events;
  std::vector<std::vector<Level>> levels;  // per event: bids then asks
  std::vector<std::size_t> nbids;
  feed::SymbolId sym = feed::kNoSymbol;
  bool ok = false;
};

const Capture& capture() {
  static Capture c = [] {
    Capture c;
    std::string path;
    if (const char* env = std::getenv("TICKRT_SIM_CAPTURE")) path = env;  // another copy of the file
    for (const char* p : {"../shared/data/binance_ws/spot/btcusdt_20240808.gz",
                          "/work/shared/data/binance_ws/spot/btcusdt_20240808.gz"})
      if (path.empty() && std::filesystem::exists(p)) path = p;
    if (path.empty()) return c;
    feed::CaptureReader r;
    if (!r.open(path).ok()) return c;
    feed::LineParser parser;
    feed::FileContext fc;
    feed::Event ev;
    std::string_view line;
    while (r.next(line)) {
      if (parser.parse(line, fc, ev) != feed::LineError::ok) continue;
      if (ev.kind != feed::EventKind::depth_update && ev.kind != feed::EventKind::depth_snapshot &&
          ev.kind != feed::EventKind::trade)
        continue;
      c.sym = ev.symbol;
      std::vector<Level> lv;
      const bool snap = ev.kind == feed::EventKind::depth_snapshot;
      auto b = snap ? ev.snapshot.bids : ev.depth.bids;
      auto a = snap ? ev.snapshot.asks : ev.depth.asks;
      lv.assign(b.begin(), b.end());
      lv.insert(lv.end(), a.begin(), a.end());
      c.nbids.push_back(b.size());
      c.levels.push_back(std::move(lv));
      c.events.push_back(ev);
    }
    for (std::size_t i = 0; i < c.events.size(); ++i) {
      feed::Event& e = c.events[i];
      const std::span<const Level> all(c.levels[i]);
      const auto bids = all.subspan(0, c.nbids[i]);
      const auto asks = all.subspan(c.nbids[i]);
      if (e.kind == feed::EventKind::depth_snapshot) { e.snapshot.bids = bids; e.snapshot.asks = asks; }
      else { e.depth.bids = bids; e.depth.asks = asks; }
    }
    c.ok = !c.events.empty();
    return c;
  }();
  return c;
}

void BM_EngineReplay(benchmark::State& st) {
  const Capture& cap = capture();
  if (!cap.ok) { st.SkipWithError("capture ../shared/data/binance_ws/spot/btcusdt_20240808.gz not present"); return; }
  std::uint64_t fills = 0;
  for (auto _ : st) {
    st.PauseTiming();
    SimConfig cfg = bench_config();
    cfg.symbols[0].tick_size = Price::from_raw(1'000'000);
    auto eng = std::make_unique<MatchingEngine>(cfg);
    (void)eng->map_feed_symbol(cap.sym, "BTCUSDT");
    CountingSink sink;
    eng->set_sink(&sink);
    st.ResumeTiming();
    std::size_t i = 0;
    int k = 0;
    for (const feed::Event& e : cap.events) {
      benchmark::DoNotOptimize(eng->on_market_event(e));
      if (++i % 200 == 0 && eng->replay_tradable(0)) {
        (void)eng->cancel_all(1, SymbolName::from("BTCUSDT"), e.local_ts_ns);
        Level bb, ba;
        if (eng->best_bid(0, bb) && eng->best_ask(0, ba)) {
          OrderRequest r;
          r.symbol = SymbolName::from("BTCUSDT");
          r.qty = Qty::from_raw(1'000'000);
          r.side = Side::buy;
          r.price = bb.price;
          (void)r.client_order_id.assign(idn("q", k++));
          (void)eng->submit(1, r, e.local_ts_ns);
          r.side = Side::sell;
          r.price = ba.price;
          (void)r.client_order_id.assign(idn("q", k++));
          (void)eng->submit(1, r, e.local_ts_ns);
        }
      }
    }
    st.PauseTiming();
    fills += eng->fills().size();
    eng.reset();
    st.ResumeTiming();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * cap.events.size()));
  st.counters["fills_per_run"] = static_cast<double>(fills) / static_cast<double>(st.iterations());
}
BENCHMARK(BM_EngineReplay)->Unit(benchmark::kMillisecond);

void BM_PeerL2BookReplay(benchmark::State& st) {
  const Capture& cap = capture();
  if (!cap.ok) { st.SkipWithError("capture not present"); return; }
  for (auto _ : st) {
    st.PauseTiming();
    auto b = std::make_unique<book::L2Book>(feed::Market::spot);
    st.ResumeTiming();
    for (const feed::Event& e : cap.events) {
      if (e.kind == feed::EventKind::depth_snapshot)
        benchmark::DoNotOptimize(b->on_snapshot(e.snapshot.last_update_id, e.snapshot.bids, e.snapshot.asks));
      else if (e.kind == feed::EventKind::depth_update)
        benchmark::DoNotOptimize(b->on_diff(e.depth));
    }
    st.PauseTiming();
    b.reset();
    st.ResumeTiming();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * cap.events.size()));
}
BENCHMARK(BM_PeerL2BookReplay)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
