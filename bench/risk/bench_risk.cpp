// bench_risk: the cost of RiskEngine::check_new() per intent, pass and refuse paths, against a
// peer measured in the same run: the same checks written the common naive way (symbol state in a
// std::map keyed by std::string, each check a virtual call through a vector of unique_ptr, the
// throttle and staleness read std::chrono::steady_clock, double arithmetic). A bare clock read
// (tickrt::now_ns) is measured too: it is what a check costs at least if it reads the clock itself.
//
// Both answer the same question on the same inputs (the refuse path fails at the price collar,
// the 9th of 14 checks, so most of the work is done before refusing). Throttles are set so the
// pass path never runs out of tokens. Run: build-*/bin/bench_risk (see docs/BENCHMARKS.md ## risk).
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "risk/risk.hpp"

namespace {

using namespace tickrt;
using namespace tickrt::risk;

Price P(const char* s) { Price p; (void)Price::parse(s, p); return p; }
Qty Q(const char* s) { Qty q; (void)Qty::parse(s, q); return q; }

AccountLimits bench_account() {
  AccountLimits a;
  a.order_rate = {1'000'000'000u, 1u << 30};  // never throttles in the pass loop
  a.cancel_rate = {1'000'000'000u, 1u << 30};
  a.max_md_staleness_ns = std::int64_t{1} << 60;
  a.max_gross_notional = Notional::from_int(10'000'000);
  return a;
}
SymbolLimits bench_symbol() {
  SymbolLimits l;
  l.max_position = Q("10");
  l.max_order_qty = Q("1");
  l.max_order_notional = Notional::from_int(100'000);
  l.collar_bps = 20;
  l.max_open_orders = 8;
  return l;
}
exec::OrderRequest bench_order(const char* price) {
  exec::OrderRequest o;
  o.symbol = exec::SymbolName::from("BTCUSDT");
  o.side = exec::Side::buy;
  o.price = P(price);
  o.qty = Q("0.01");
  return o;
}

// ---- tickrt ------------------------------------------------------------------------------
struct Tickrt {
  RiskEngine eng{bench_account(), 0};
  SymbolId sym = 0;
  Exposure ex;
  Tickrt() {
    (void)eng.add_symbol("ETHUSDT", bench_symbol());
    (void)eng.add_symbol("SOLUSDT", bench_symbol());
    sym = eng.add_symbol("BTCUSDT", bench_symbol()).value();
    MarketTop t;
    t.bid = P("60000");
    t.ask = P("60001");
    t.state = book::BookState::synced;
    t.update_ns = 1;
    (void)eng.on_market(sym, t);
    ex.open_buy = Q("0.02");
    ex.open_orders = 2;
    ex.open_orders_account = 2;
  }
};

void run_tickrt(benchmark::State& st, const char* price, Reason want, bool read_clock) {
  Tickrt t;
  exec::OrderRequest o = bench_order(price);
  std::int64_t now = 2;
  if (t.eng.check_new(t.sym, o, t.ex, now) != want) {
    st.SkipWithError("tickrt answered differently than expected");
    return;
  }
  for (auto _ : st) {
    // The order lookup by name is part of the work: the peer does it through its map.
    SymbolId s;
    if (!t.eng.find(o.symbol, s)) s = 255;
    now = read_clock ? now_ns() : now + 1000;
    benchmark::DoNotOptimize(o);
    Reason r = t.eng.check_new(s, o, t.ex, now);
    benchmark::DoNotOptimize(r);
  }
}
void BM_tickrt_check_pass(benchmark::State& st) { run_tickrt(st, "60000", Reason::ok, false); }
void BM_tickrt_check_refuse_collar(benchmark::State& st) { run_tickrt(st, "60200", Reason::price_collar, false); }
void BM_tickrt_check_pass_with_clock_read(benchmark::State& st) { run_tickrt(st, "60000", Reason::ok, true); }

// The per-book-update call: store the top, mark PnL over every symbol, test the loss limits.
void BM_tickrt_on_market(benchmark::State& st) {
  Tickrt t;
  exec::ExecReport f;
  f.exec_type = exec::ExecType::trade;
  f.last_price = P("60000");
  f.last_qty = Q("0.5");
  (void)t.eng.on_fill(t.sym, f);
  MarketTop m;
  m.bid = P("60000");
  m.ask = P("60001");
  m.state = book::BookState::synced;
  std::int64_t now = 2;
  for (auto _ : st) {
    m.update_ns = now++;
    m.bid.raw ^= 1'000'000;  // the mid moves by 0.005 back and forth
    benchmark::DoNotOptimize(m);
    bool tripped = t.eng.on_market(t.sym, m);
    benchmark::DoNotOptimize(tripped);
  }
  if (t.eng.latched()) st.SkipWithError("kill switch tripped in the benchmark");
}

// ---- naive peer --------------------------------------------------------------------------
struct NaiveSymbol {
  double bid = 0, ask = 0, position = 0;
  bool synced = false, crossed = false;
  std::chrono::steady_clock::time_point last_update;
  double max_position, max_qty, max_notional, collar_bps;
  unsigned max_open;
};
struct NaiveCtx {
  const NaiveSymbol* s;
  const std::map<std::string, NaiveSymbol>* all;
  double price, qty;
  bool buy;
  const Exposure* ex;
  std::chrono::steady_clock::time_point now;
};
struct NaiveCheck {
  virtual ~NaiveCheck() = default;
  virtual Reason check(const NaiveCtx& c) = 0;
};
struct NBad : NaiveCheck {
  Reason check(const NaiveCtx& c) override { return c.qty <= 0 || c.price <= 0 ? Reason::bad_order : Reason::ok; }
};
struct NBook : NaiveCheck {
  Reason check(const NaiveCtx& c) override {
    if (!c.s->synced) return Reason::book_not_synced;
    if (c.s->crossed || c.s->bid >= c.s->ask) return Reason::book_crossed;
    return Reason::ok;
  }
};
struct NStale : NaiveCheck {
  std::chrono::nanoseconds max{std::int64_t{1} << 60};
  Reason check(const NaiveCtx& c) override {
    return c.now - c.s->last_update > max ? Reason::stale_market_data : Reason::ok;
  }
};
struct NQty : NaiveCheck {
  Reason check(const NaiveCtx& c) override { return c.qty > c.s->max_qty ? Reason::max_order_qty : Reason::ok; }
};
struct NNotional : NaiveCheck {
  Reason check(const NaiveCtx& c) override {
    return c.qty * c.price > c.s->max_notional ? Reason::max_order_notional : Reason::ok;
  }
};
struct NCollar : NaiveCheck {
  Reason check(const NaiveCtx& c) override {
    const double mid = (c.s->bid + c.s->ask) / 2;
    return std::abs(c.price - mid) / mid * 1e4 > c.s->collar_bps ? Reason::price_collar : Reason::ok;
  }
};
struct NPosition : NaiveCheck {
  Reason check(const NaiveCtx& c) override {
    const double w = c.buy ? c.s->position + c.ex->open_buy.to_double() + c.qty
                           : c.s->position - c.ex->open_sell.to_double() - c.qty;
    return std::abs(w) > c.s->max_position ? Reason::max_position_symbol : Reason::ok;
  }
};
struct NAccount : NaiveCheck {
  double max = 10'000'000;
  Reason check(const NaiveCtx& c) override {
    double g = 0;
    for (const auto& [name, s] : *c.all) g += std::abs(&s == c.s ? s.position + c.qty : s.position) * (s.bid + s.ask) / 2;
    return g > max ? Reason::max_position_account : Reason::ok;
  }
};
struct NOpen : NaiveCheck {
  Reason check(const NaiveCtx& c) override {
    if (c.ex->open_orders >= c.s->max_open) return Reason::max_open_orders_symbol;
    return c.ex->open_orders_account >= 16 ? Reason::max_open_orders_account : Reason::ok;
  }
};
struct NRate : NaiveCheck {
  double tokens = 1e18, rate = 1e9, cap = 1e18;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  Reason check(const NaiveCtx& c) override {
    const double dt = std::chrono::duration<double>(c.now - last).count();
    last = c.now;
    tokens = std::min(cap, tokens + dt * rate);
    if (tokens < 1) return Reason::order_rate;
    tokens -= 1;
    return Reason::ok;
  }
};

struct Naive {
  std::map<std::string, NaiveSymbol> syms;
  std::vector<std::unique_ptr<NaiveCheck>> checks;
  bool killed = false;
  Naive() {
    for (const char* n : {"ETHUSDT", "SOLUSDT", "BTCUSDT"}) {
      NaiveSymbol s;
      s.bid = 60000;
      s.ask = 60001;
      s.synced = true;
      s.last_update = std::chrono::steady_clock::now();
      s.max_position = 10;
      s.max_qty = 1;
      s.max_notional = 100'000;
      s.collar_bps = 20;
      s.max_open = 8;
      syms.emplace(n, s);
    }
    checks.push_back(std::make_unique<NBad>());
    checks.push_back(std::make_unique<NBook>());
    checks.push_back(std::make_unique<NStale>());
    checks.push_back(std::make_unique<NQty>());
    checks.push_back(std::make_unique<NNotional>());
    checks.push_back(std::make_unique<NCollar>());
    checks.push_back(std::make_unique<NPosition>());
    checks.push_back(std::make_unique<NAccount>());
    checks.push_back(std::make_unique<NOpen>());
    checks.push_back(std::make_unique<NRate>());
  }
  Reason check(const exec::OrderRequest& o, const Exposure& ex) {
    if (killed) return Reason::kill_switch;
    auto it = syms.find(std::string(o.symbol.view()));
    if (it == syms.end()) return Reason::unknown_symbol;
    NaiveCtx c{&it->second, &syms, o.price.to_double(), o.qty.to_double(), o.side == exec::Side::buy, &ex,
               std::chrono::steady_clock::now()};
    for (auto& ch : checks) {
      const Reason r = ch->check(c);
      if (r != Reason::ok) return r;
    }
    return Reason::ok;
  }
};

void run_naive(benchmark::State& st, const char* price, Reason want) {
  Naive n;
  Tickrt t;  // only for the exposure it holds
  exec::OrderRequest o = bench_order(price);
  if (n.check(o, t.ex) != want) {
    st.SkipWithError("naive peer answered differently than expected");
    return;
  }
  for (auto _ : st) {
    benchmark::DoNotOptimize(o);
    Reason r = n.check(o, t.ex);
    benchmark::DoNotOptimize(r);
  }
}
void BM_naive_check_pass(benchmark::State& st) { run_naive(st, "60000", Reason::ok); }
void BM_naive_check_refuse_collar(benchmark::State& st) { run_naive(st, "60200", Reason::price_collar); }

void BM_clock_now_ns(benchmark::State& st) {
  for (auto _ : st) {
    std::int64_t t = now_ns();
    benchmark::DoNotOptimize(t);
  }
}

}  // namespace

BENCHMARK(BM_tickrt_check_pass);
BENCHMARK(BM_tickrt_check_refuse_collar);
BENCHMARK(BM_tickrt_check_pass_with_clock_read);
BENCHMARK(BM_tickrt_on_market);
BENCHMARK(BM_naive_check_pass);
BENCHMARK(BM_naive_check_refuse_collar);
BENCHMARK(BM_clock_now_ns);
BENCHMARK_MAIN();
