// bench_features: cost of the feature stage per event and per sample on a real capture, next to
// its peer in the same run: the book update alone on the same events.
//
// The capture is parsed once into owned events (depth diffs, snapshots, trades of its symbol), so
// neither gunzip nor JSON parsing is timed. Each iteration replays every event from an empty book:
//   BM_Book           book.on_diff / on_snapshot only                         (the peer)
//   BM_BookFeatures   the same + FeatureEngine::on_book / on_trade + clock sampling every 100 ms
//   BM_Sample         FeatureEngine::sample() alone (one row + window push), state from the capture
//   BM_OnBook         FeatureEngine::on_book() alone on the capture's final book
// items/s count events (BM_Book, BM_BookFeatures), samples or calls (the others).
//
//   build-features/bin/bench_features [--capture=<file.gz>] [google-benchmark flags]
// Default capture: ../shared/data/binance_ws/usdm/btcusdt_20240808.gz (run from the project root).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "book/l2_book.hpp"
#include "feed/feed.hpp"
#include "features/features.hpp"

using namespace tickrt;
using namespace tickrt::feed;

namespace {

struct OwnedEvent {
  EventKind kind;
  std::int64_t ts;
  std::uint64_t first, final_, prev, last_id;
  bool has_prev;
  TradeFields trade;
  std::vector<Level> bids, asks;
};

struct Capture {
  Market market = Market::unknown;
  std::vector<OwnedEvent> ev;
  std::size_t trades = 0, depth = 0;
};

Capture g_cap;

void load(const std::string& path) {
  CaptureReader r;
  if (Status st = r.open(path); !st.ok()) {
    std::fprintf(stderr, "bench_features: %s\n", st.to_string().c_str());
    std::exit(1);
  }
  LineParser p;
  FileContext fc;
  Event e;
  SymbolId sym = kNoSymbol;
  std::string_view l;
  while (r.next(l)) {
    if (p.parse(l, fc, e) != LineError::ok) continue;
    if (sym == kNoSymbol) sym = e.symbol;
    if (e.symbol != sym) continue;
    OwnedEvent o{};
    o.kind = e.kind;
    o.ts = e.local_ts_ns;
    if (e.kind == EventKind::trade) {
      o.trade = e.trade;
      ++g_cap.trades;
    } else if (e.kind == EventKind::depth_update) {
      o.first = e.depth.first_update_id;
      o.final_ = e.depth.final_update_id;
      o.prev = e.depth.prev_final_update_id;
      o.has_prev = e.depth.has_prev;
      o.bids.assign(e.depth.bids.begin(), e.depth.bids.end());
      o.asks.assign(e.depth.asks.begin(), e.depth.asks.end());
      ++g_cap.depth;
    } else if (e.kind == EventKind::depth_snapshot) {
      o.last_id = e.snapshot.last_update_id;
      o.bids.assign(e.snapshot.bids.begin(), e.snapshot.bids.end());
      o.asks.assign(e.snapshot.asks.begin(), e.snapshot.asks.end());
    } else {
      continue;
    }
    g_cap.market = e.market;
    g_cap.ev.push_back(std::move(o));
  }
}

inline void apply(book::L2Book& b, const OwnedEvent& o) {
  if (o.kind == EventKind::depth_update) {
    DepthUpdateFields d;
    d.first_update_id = o.first;
    d.final_update_id = o.final_;
    d.prev_final_update_id = o.prev;
    d.has_prev = o.has_prev;
    d.bids = o.bids;
    d.asks = o.asks;
    benchmark::DoNotOptimize(b.on_diff(d));
  } else {
    benchmark::DoNotOptimize(b.on_snapshot(o.last_id, o.bids, o.asks));
  }
}

void BM_Book(benchmark::State& st) {
  book::L2Book b(g_cap.market);
  for (auto _ : st) {
    b.reset();
    for (const OwnedEvent& o : g_cap.ev)
      if (o.kind != EventKind::trade) apply(b, o);
    benchmark::DoNotOptimize(b.last_update_id());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * g_cap.ev.size()));
}

void BM_BookFeatures(benchmark::State& st) {
  book::L2Book b(g_cap.market);
  features::FeatureEngine fe;
  float row[features::kNumFeatures];
  std::int64_t samples = 0;
  constexpr std::int64_t P = 100'000'000;
  for (auto _ : st) {
    b.reset();
    fe.reset();
    std::int64_t next = 0;
    for (const OwnedEvent& o : g_cap.ev) {
      if (next)
        for (; next <= o.ts; next += P, ++samples) fe.sample(next, row);
      if (o.kind == EventKind::trade) {
        fe.on_trade(o.trade, o.ts);
      } else {
        apply(b, o);
        fe.on_book(b, o.ts);
      }
      if (!next && fe.ready()) next = (o.ts / P + 1) * P;
    }
    benchmark::DoNotOptimize(row);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * g_cap.ev.size()));
  st.counters["samples_per_iter"] = static_cast<double>(samples) / static_cast<double>(st.iterations());
}

// Engine state from a full replay of the capture, for the isolated calls.
void warm(book::L2Book& b, features::FeatureEngine& fe, std::int64_t& t) {
  for (const OwnedEvent& o : g_cap.ev) {
    if (o.kind == EventKind::trade) fe.on_trade(o.trade, o.ts);
    else { apply(b, o); fe.on_book(b, o.ts); }
    t = o.ts;
  }
}

void BM_Sample(benchmark::State& st) {
  book::L2Book b(g_cap.market);
  features::FeatureEngine fe;
  std::int64_t t = 0;
  warm(b, fe, t);
  float row[features::kNumFeatures];
  for (auto _ : st) {
    t += 100'000'000;
    fe.sample(t, row);
    benchmark::DoNotOptimize(row);
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_OnBook(benchmark::State& st) {
  book::L2Book b(g_cap.market);
  features::FeatureEngine fe;
  std::int64_t t = 0;
  warm(b, fe, t);
  for (auto _ : st) {
    fe.on_book(b, ++t);
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  std::string cap = "../shared/data/binance_ws/usdm/btcusdt_20240808.gz";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--capture=", 10) == 0) cap = argv[i] + 10;
    else rest.push_back(argv[i]);
  }
  load(cap);
  std::fprintf(stderr, "bench_features: %s: %zu events (%zu depth, %zu trades)\n", cap.c_str(), g_cap.ev.size(),
               g_cap.depth, g_cap.trades);
  benchmark::RegisterBenchmark("BM_Book", BM_Book)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_BookFeatures", BM_BookFeatures)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Sample", BM_Sample);
  benchmark::RegisterBenchmark("BM_OnBook", BM_OnBook);
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
