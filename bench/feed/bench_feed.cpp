// bench_feed: Binance capture lines/s through (a) tickrt's parser + book, (b) the same work with
// nlohmann::json (DOM parse, field extraction, exact decimal parse, same book), (c) simdjson's
// DOM parse alone (the floor: no field extraction, no book).
//
// The capture is decompressed into memory first (gunzip is not measured here; `tickrt replay`
// reports it). Each iteration replays the whole capture from empty books. Before timing, (a) and
// (b) are run once and their final books compared level by level: the peer does the same work.
//
//   build-feed/bin/bench_feed [--capture=<file.gz>] [google-benchmark flags]
// Default captures: the bundled data/captures/*.gz (run from the project root).
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "book/l2_book.hpp"
#include "feed/feed.hpp"

using namespace tickrt;
using namespace tickrt::feed;
using tickrt::book::L2Book;

namespace {

struct Capture {
  std::string name;
  std::vector<std::string> lines;
  std::size_t bytes = 0;
};

Capture load(const std::string& path) {
  Capture c;
  c.name = path.substr(path.find_last_of('/') + 1);
  CaptureReader r;
  if (Status st = r.open(path); !st.ok()) {
    std::fprintf(stderr, "bench_feed: %s\n", st.to_string().c_str());
    std::exit(1);
  }
  std::string_view l;
  while (r.next(l)) {
    c.lines.emplace_back(l);
    c.bytes += l.size() + 1;
  }
  return c;
}

// The same per-event work for (a) and (b): depth -> book, others touch their fields.
struct Sink {
  std::vector<std::unique_ptr<L2Book>> books;
  std::int64_t acc = 0;
  void reset() {
    for (auto& b : books) if (b) b->reset();
    acc = 0;
  }
  void on(const Event& e) {
    if (e.kind == EventKind::depth_update || e.kind == EventKind::depth_snapshot) {
      if (e.symbol >= books.size()) books.resize(e.symbol + 1);
      if (!books[e.symbol]) books[e.symbol] = std::make_unique<L2Book>(e.market);
      L2Book& b = *books[e.symbol];
      if (e.kind == EventKind::depth_update) acc += static_cast<int>(b.on_diff(e.depth));
      else acc += static_cast<int>(b.on_snapshot(e.snapshot.last_update_id, e.snapshot.bids, e.snapshot.asks));
    } else if (e.kind == EventKind::trade) {
      acc += e.trade.price.raw ^ e.trade.qty.raw;
    } else if (e.kind == EventKind::book_ticker) {
      acc += e.ticker.bid_price.raw ^ e.ticker.ask_qty.raw;
    } else if (e.kind == EventKind::mark_price) {
      acc += e.mark.mark_price.raw;
    }
  }
};

// (b) The peer: nlohmann::json DOM, then the same normalisation as LineParser (market per
// content, symbol interning, ms->ns, exact decimals), into the same Event and the same book.
class NlohmannParser {
 public:
  NlohmannParser() { bids_.reserve(8192); asks_.reserve(8192); }
  LineError parse(std::string_view line, FileContext& fc, Event& ev) {
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return LineError::bad_timestamp;
    std::int64_t ts = 0;
    for (std::size_t i = 0; i < sp; ++i) ts = ts * 10 + (line[i] - '0');
    if (sp <= 16) ts *= 1000;  // µs file
    (void)fc;
    const std::string_view js = line.substr(sp + 1);
    nlohmann::json j = nlohmann::json::parse(js.begin(), js.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return LineError::bad_json;
    ev.local_ts_ns = ts;
    ev.event_ts_ns = ev.txn_ts_ns = 0;
    std::string_view sym;
    Market m = Market::spot;
    if (auto st = j.find("stream"); st != j.end()) {
      const std::string& s = st->get_ref<const std::string&>();
      const auto d = j.find("data");
      if (d == j.end() || !d->is_object()) return LineError::missing_field;
      const std::string_view k = std::string_view(s).substr(s.find('@') + 1);
      if (!get_str(*d, "s", sym)) return LineError::missing_field;
      get_ms(*d, "E", ev.event_ts_ns);
      get_ms(*d, "T", ev.txn_ts_ns);
      if (k.rfind("trade", 0) == 0) {
        ev.kind = EventKind::trade;
        if (!get_u64(*d, "t", ev.trade.trade_id) || !dec(*d, "p", ev.trade.price) || !dec(*d, "q", ev.trade.qty))
          return LineError::missing_field;
        const auto mk = d->find("m");
        if (mk == d->end() || !mk->is_boolean()) return LineError::missing_field;
        ev.trade.buyer_is_maker = mk->get<bool>();
        m = d->contains("X") ? Market::futures : Market::spot;
      } else if (k.rfind("bookTicker", 0) == 0) {
        ev.kind = EventKind::book_ticker;
        if (!get_u64(*d, "u", ev.ticker.update_id) || !dec(*d, "b", ev.ticker.bid_price) ||
            !dec(*d, "B", ev.ticker.bid_qty) || !dec(*d, "a", ev.ticker.ask_price) || !dec(*d, "A", ev.ticker.ask_qty))
          return LineError::missing_field;
        m = d->contains("e") ? Market::futures : Market::spot;
      } else if (k.rfind("depth", 0) == 0) {
        ev.kind = EventKind::depth_update;
        if (!get_u64(*d, "U", ev.depth.first_update_id) || !get_u64(*d, "u", ev.depth.final_update_id) ||
            !levels(*d, "b", bids_) || !levels(*d, "a", asks_))
          return LineError::missing_field;
        ev.depth.has_prev = get_u64(*d, "pu", ev.depth.prev_final_update_id);
        m = ev.depth.has_prev ? Market::futures : Market::spot;
        ev.depth.bids = bids_;
        ev.depth.asks = asks_;
      } else if (k.rfind("markPrice", 0) == 0) {
        ev.kind = EventKind::mark_price;
        if (!dec(*d, "p", ev.mark.mark_price)) return LineError::missing_field;
        dec(*d, "i", ev.mark.index_price);
        dec(*d, "P", ev.mark.est_settle_price);
        m = Market::futures;
      } else {
        return LineError::unknown_stream;
      }
      ev.symbol = syms_.intern(m, sym);
      if (fc.file_symbol == kNoSymbol) fc.file_symbol = ev.symbol;
    } else if (j.contains("lastUpdateId")) {
      ev.kind = EventKind::depth_snapshot;
      if (!get_u64(j, "lastUpdateId", ev.snapshot.last_update_id) || !levels(j, "bids", bids_) ||
          !levels(j, "asks", asks_))
        return LineError::missing_field;
      ev.snapshot.bids = bids_;
      ev.snapshot.asks = asks_;
      m = j.contains("E") ? Market::futures : Market::spot;
      ev.symbol = get_str(j, "symbol", sym) ? syms_.intern(m, sym) : fc.file_symbol;
    } else {
      return LineError::unknown_message;
    }
    ev.market = m;
    return LineError::ok;
  }

 private:
  static bool get_str(const nlohmann::json& o, const char* k, std::string_view& out) {
    const auto it = o.find(k);
    if (it == o.end() || !it->is_string()) return false;
    out = it->get_ref<const std::string&>();
    return true;
  }
  static bool get_u64(const nlohmann::json& o, const char* k, std::uint64_t& out) {
    const auto it = o.find(k);
    if (it == o.end() || !it->is_number_unsigned()) return false;
    out = it->get<std::uint64_t>();
    return true;
  }
  static void get_ms(const nlohmann::json& o, const char* k, std::int64_t& out) {
    const auto it = o.find(k);
    if (it != o.end() && it->is_number_integer()) out = it->get<std::int64_t>() * 1'000'000;
  }
  template <class T>
  static bool dec_str(const nlohmann::json& v, T& out) {
    return v.is_string() && parse_decimal(v.get_ref<const std::string&>(), out.raw) == DecimalError::ok;
  }
  template <class T>
  static bool dec(const nlohmann::json& o, const char* k, T& out) {
    const auto it = o.find(k);
    return it != o.end() && dec_str(*it, out);
  }
  static bool levels(const nlohmann::json& o, const char* k, std::vector<Level>& out) {
    out.clear();
    const auto it = o.find(k);
    if (it == o.end() || !it->is_array()) return false;
    for (const auto& lv : *it) {
      if (!lv.is_array() || lv.size() != 2) return false;
      Level l;
      if (!dec_str(lv[0], l.price) || !dec_str(lv[1], l.qty)) return false;
      out.push_back(l);
    }
    return true;
  }
  std::vector<Level> bids_, asks_;
  SymbolTable syms_;
};

// Every line parsed and its event handed to the same sink: one loop for tickrt's parser and its peers.
template <class Parser>
void parse_into_sink(benchmark::State& state, const Capture* c, Parser& p) {
  Sink sink;
  Event ev;
  for (auto _ : state) {
    sink.reset();
    FileContext fc;
    for (const std::string& l : c->lines) {
      if (p.parse(l, fc, ev) == LineError::ok) sink.on(ev);
    }
    benchmark::DoNotOptimize(sink.acc);
  }
  state.SetItemsProcessed(state.iterations() * c->lines.size());
  state.SetBytesProcessed(state.iterations() * c->bytes);
}

void BM_tickrt(benchmark::State& state, const Capture* c) {
  LineParser p;
  parse_into_sink(state, c, p);
  state.SetLabel(std::string(p.isa_name()));
}

// (a') Parse alone, for the split between parser and book (not a goal figure).
void BM_tickrt_parse_only(benchmark::State& state, const Capture* c) {
  LineParser p;
  Event ev;
  std::size_t ok = 0;
  for (auto _ : state) {
    FileContext fc;
    for (const std::string& l : c->lines) ok += p.parse(l, fc, ev) == LineError::ok;
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations() * c->lines.size());
  state.SetBytesProcessed(state.iterations() * c->bytes);
}

void BM_nlohmann(benchmark::State& state, const Capture* c) {
  NlohmannParser p;
  parse_into_sink(state, c, p);
}

void BM_simdjson_dom_parse(benchmark::State& state, const Capture* c) {
  simdjson::dom::parser parser;
  std::vector<char> buf(1 << 20);
  std::size_t ok = 0;
  for (auto _ : state) {
    for (const std::string& l : c->lines) {
      const std::size_t sp = l.find(' ');
      const std::size_t n = l.size() - sp - 1;
      if (n + simdjson::SIMDJSON_PADDING > buf.size()) buf.resize(n + simdjson::SIMDJSON_PADDING);
      std::memcpy(buf.data(), l.data() + sp + 1, n);  // same padded copy LineParser makes
      simdjson::dom::element doc;
      ok += parser.parse(buf.data(), n, false).get(doc) == simdjson::SUCCESS;
    }
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations() * c->lines.size());
  state.SetBytesProcessed(state.iterations() * c->bytes);
  state.SetLabel(std::string(simdjson::get_active_implementation()->name()));
}

// The peer must do the same work: same events accepted, same final books.
void cross_check(const Capture& c) {
  LineParser a;
  NlohmannParser b;
  Sink sa, sb;
  Event ea, eb;
  FileContext fa, fb;
  std::size_t na = 0, nb = 0;
  for (const std::string& l : c.lines) {
    if (a.parse(l, fa, ea) == LineError::ok) { sa.on(ea); ++na; }
    if (b.parse(l, fb, eb) == LineError::ok) { sb.on(eb); ++nb; }
  }
  bool same = na == nb && na == c.lines.size() && sa.books.size() == sb.books.size();
  for (std::size_t i = 0; same && i < sa.books.size(); ++i) {
    const L2Book* x = sa.books[i].get();
    const L2Book* y = sb.books[i].get();
    if (!x || !y) { same = x == y; continue; }
    std::vector<Level> lx(x->bid_levels() + x->ask_levels()), ly(y->bid_levels() + y->ask_levels());
    same = x->last_update_id() == y->last_update_id() && lx.size() == ly.size() && x->tradable() && y->tradable();
    if (same) {
      x->top_bids(lx.data(), x->bid_levels());
      x->top_asks(lx.data() + x->bid_levels(), x->ask_levels());
      y->top_bids(ly.data(), y->bid_levels());
      y->top_asks(ly.data() + y->bid_levels(), y->ask_levels());
      same = lx == ly;
    }
  }
  if (!same) {
    std::fprintf(stderr, "bench_feed: %s: tickrt and nlohmann paths disagree (%zu vs %zu events)\n", c.name.c_str(), na,
                 nb);
    std::exit(1);
  }
  std::fprintf(stderr, "bench_feed: %s: %zu lines, %.1f MB; tickrt and nlohmann books identical\n", c.name.c_str(),
               c.lines.size(), c.bytes / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> paths;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--capture=", 10) == 0) paths.emplace_back(argv[i] + 10);
    else rest.push_back(argv[i]);
  }
  if (paths.empty()) {
    paths = {"data/captures/spot_btcusdt_20240808.gz", "data/captures/usdm_btcusdt_20230404.dat.gz"};
  }
  static std::vector<Capture> caps;
  caps.reserve(paths.size());
  for (const auto& p : paths) {
    caps.push_back(load(p));
    cross_check(caps.back());
  }
  for (const Capture& c : caps) {
    benchmark::RegisterBenchmark(("tickrt_parse_book/" + c.name).c_str(), BM_tickrt, &c)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("tickrt_parse_only/" + c.name).c_str(), BM_tickrt_parse_only, &c)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("nlohmann_parse_book/" + c.name).c_str(), BM_nlohmann, &c)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("simdjson_dom_parse_only/" + c.name).c_str(), BM_simdjson_dom_parse, &c)
        ->Unit(benchmark::kMillisecond);
  }
  int rargc = static_cast<int>(rest.size());
  benchmark::Initialize(&rargc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
