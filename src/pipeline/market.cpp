// pipeline/market.cpp — parse -> book -> features -> sample (hot path, see market.hpp).
#include "pipeline/market.hpp"

#include <array>
#include <cstring>

#include "core/clock.hpp"

namespace tickrt::pipeline {

MarketHandler::MarketHandler(features::FeatureConfig fc, book::L2Book::Config bc) : fc_(fc), bc_(bc) {
  syms_.reserve(kMaxSymbols);
  resync_.reserve(kMaxSymbols);
  last_frame_ = std::make_unique<char[]>(kWarmFrameBytes);
}

void MarketHandler::warm() noexcept {
  if (last_frame_len_ == 0) return;
  feed::FileContext f = file_;   // a copy: the first-seen unit / market / symbol fields stay as they are
  (void)parser_.parse_json(std::string_view(last_frame_.get(), last_frame_len_), last_frame_ts_, f, warm_ev_);
  ++warm_parses_;
  // The frame's symbol: read the top of its book (the levels a diff updates first) and its feature window
  // (read-only: the book's and the features' data, not their update code).
  if (const SymbolState* s = symbol(warm_ev_.symbol); s != nullptr) {
    std::array<feed::Level, 20> lv;
    (void)s->book.top_bids(lv.data(), lv.size());
    (void)s->book.top_asks(lv.data(), lv.size());
    const std::span<const float> w = s->fe.window();
    float sink = 0.f;
    for (std::size_t i = 0; i < w.size(); i += 16) sink += w[i];
    asm volatile("" : : "x"(sink));
  }
}

book::L2Book::Config MarketHandler::small_book_config() {
  book::L2Book::Config c;
  c.level_capacity = 8192;
  c.buffer_events = 4096;      // diffs held while a snapshot is on its way (~minutes at 100 ms)
  c.buffer_levels = 1u << 18;
  return c;
}

std::string_view MarketHandler::symbol_name(feed::SymbolId id) const noexcept { return parser_.symbols().name(id); }

feed::SymbolId MarketHandler::intern(std::string_view name) {
  // Spot until a message says otherwise; state is created on the symbol's first message.
  return parser_.symbols().intern(feed::Market::spot, name);
}

SymbolState* MarketHandler::state_for(feed::SymbolId id, feed::Market m) noexcept {
  if (id == feed::kNoSymbol || id >= kMaxSymbols) return nullptr;
  if (id >= syms_.size()) syms_.resize(static_cast<std::size_t>(id) + 1);  // reserved: no reallocation
  if (!syms_[id]) {
    // First message of a new symbol: the one allocation per symbol (book arrays, window ring).
    syms_[id] = std::make_unique<SymbolState>(m, fc_, bc_);
    syms_[id]->name = std::string(parser_.symbols().name(id));
  }
  return syms_[id].get();
}

bool MarketHandler::take_resync_needed(feed::SymbolId& out) noexcept {
  if (resync_.empty()) return false;
  out = resync_.back();
  resync_.pop_back();
  return true;
}

int MarketHandler::on_line(std::string_view line, TickStamps t, SampleMeta& out) noexcept {
  const feed::LineError e = parser_.parse(line, file_, ev_);
  if (e != feed::LineError::ok) {
    ++c_.malformed;
    ++c_.malformed_by_reason[static_cast<int>(e)];
    return 0;
  }
  t.parsed = TscClock::ticks();
  last_frame_len_ = 0;   // warm() re-parses live frames only (a capture line is not kept)
  return handle(t, out);
}

int MarketHandler::on_json(std::string_view json, std::int64_t local_ts_ns, TickStamps t, SampleMeta& out) noexcept {
  const feed::LineError e = parser_.parse_json(json, local_ts_ns, file_, ev_);
  if (e != feed::LineError::ok) {
    ++c_.malformed;
    ++c_.malformed_by_reason[static_cast<int>(e)];
    return 0;
  }
  t.parsed = TscClock::ticks();
  if (json.size() <= kWarmFrameBytes) {   // for warm(): after the parse, so the copy is not in the parse time
    std::memcpy(last_frame_.get(), json.data(), json.size());
    last_frame_len_ = json.size();
    last_frame_ts_ = local_ts_ns;
  } else {
    last_frame_len_ = 0;
  }
  return handle(t, out);
}

int MarketHandler::handle(TickStamps& t, SampleMeta& out) noexcept {
  ++c_.messages;
  const std::uint64_t seq = ++seq_;
  const feed::EventKind k = ev_.kind;
  if (k != feed::EventKind::trade && k != feed::EventKind::depth_update && k != feed::EventKind::depth_snapshot) {
    t.book = t.feat = TscClock::ticks();
    last_ = t;
    return 0;  // bookTicker / markPrice: not model inputs (the book is the source of truth)
  }
  SymbolState* s = state_for(ev_.symbol, ev_.market);
  if (s == nullptr) return 0;
  ++s->messages;
  const std::int64_t ts = ev_.local_ts_ns;
  const std::int64_t P = fc_.sample_period_ns;
  // 1. Book first (the order is priced against the state after this message) ...
  const bool was_tradable = s->book.tradable();
  bool book_changed = false;
  if (k == feed::EventKind::depth_update) {
    const book::DiffResult r = s->book.on_diff(ev_.depth);
    book_changed = (r == book::DiffResult::applied);
    if (r == book::DiffResult::gap) {
      ++c_.gaps;
      if (resync_.size() < resync_.capacity()) resync_.push_back(ev_.symbol);
    }
  } else if (k == feed::EventKind::depth_snapshot) {
    (void)s->book.on_snapshot(ev_.snapshot.last_update_id, ev_.snapshot.bids, ev_.snapshot.asks);
    book_changed = true;
  }
  if (book_changed) s->book_update_ns = now_ns();
  t.book = TscClock::ticks();
  // 2. ... but the row of a crossed boundary is sampled from the features' state BEFORE this
  // message (FeatureEngine has not seen it yet): the training rule, features/features.hpp.
  int due = 0;
  if (P > 0 && s->next_sample != 0 && ts >= s->next_sample) {
    float row[features::kNumFeatures];
    // Quiet spells: one row per boundary crossed, as the exporter does.
    for (; s->next_sample <= ts; s->next_sample += P) s->fe.sample(s->next_sample, row);
    ++s->samples;
    if (s->fe.samples() >= fc_.window && s->book.tradable()) {
      due = 1;
      ++c_.samples;
    } else {
      ++c_.warmup;
      if (row_samples_) due = kRowOnly;  // a streaming model steps it (no result, no trade)
    }
  }
  // 3. Now the features see the message.
  if (k == feed::EventKind::trade) s->fe.on_trade(ev_.trade, ts);
  else s->fe.on_book(s->book, ts);
  if (P > 0 && s->next_sample == 0 && s->fe.ready()) s->next_sample = (ts / P + 1) * P;
  (void)was_tradable;
  t.feat = TscClock::ticks();
  last_ = t;
  if (due) {
    out.symbol = ev_.symbol;
    out.sample_ts_ns = s->next_sample - P;
    out.md_seq = seq;
    out.t = t;
    out.tradable = s->book.tradable();
    if (!s->book.best_bid(out.best_bid)) out.best_bid = {};
    if (!s->book.best_ask(out.best_ask)) out.best_ask = {};
    out.book_update_ns = s->book_update_ns;
  }
  return due;
}

}  // namespace tickrt::pipeline
