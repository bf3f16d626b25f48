// pipeline/market.cpp — parse -> book -> features -> sample (hot path, see market.hpp).
#include "pipeline/market.hpp"

#include <array>
#include <cstring>

#include "core/clock.hpp"

namespace tickrt::pipeline {

MarketHandler::MarketHandler(features::FeatureConfig fc, book::L2Book::Config bc) : fc_(fc), bc_(bc) {
  syms_.reserve(kMaxSymbols);
  resync_.reserve(kMaxSymbols);
  depth_frame_.buf = std::make_unique<char[]>(kWarmFrameBytes);
  other_frame_.buf = std::make_unique<char[]>(kWarmFrameBytes);
  warm_levels_ = std::make_unique<feed::Level[]>(2 * kWarmLevels);
}

bool MarketHandler::reparse(const WarmFrame& f) noexcept {
  if (f.len == 0) return false;
  feed::FileContext fc = file_;   // a copy: the first-seen unit / market / symbol fields stay as they are
  const feed::LineError e = parser_.parse_json(std::string_view(f.buf.get(), f.len), f.ts, fc, warm_ev_);
  ++warm_parses_;
  return e == feed::LineError::ok;
}

void MarketHandler::touch_books(std::size_t chunks) noexcept {
  if (syms_.empty()) return;
  if (touch_sym_ >= syms_.size()) touch_sym_ = 0;
  const SymbolState* s = syms_[touch_sym_].get();
  if (s == nullptr) {
    ++touch_sym_;
    return;
  }
  touch_chunk_ = s->book.touch(touch_chunk_, chunks);
  if (touch_chunk_ == 0) ++touch_sym_;   // this symbol's bids and asks done: the next one
}

void MarketHandler::warm() noexcept {
  if (pending_ != nullptr) return;   // a frame not kept yet: the kept one may not be what the parser holds
  const WarmFrame& f = last_was_depth_ ? depth_frame_ : other_frame_;
  if (!reparse(f)) return;
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

void MarketHandler::warm_slice(int slice) noexcept {
  if (pending_ != nullptr) return;   // a frame not kept yet (keep_frame): see warm()
  const std::int64_t P = fc_.sample_period_ns;
  switch (slice) {
    case 0:  // the last depth diff, parsed again (its levels land in the parser's buffer: the same levels);
             // not a snapshot (tens of µs to parse: longer than a slice may take)
      warm_depth_ok_ = depth_kind_ == feed::EventKind::depth_update && reparse(depth_frame_) &&
                       warm_ev_.kind == feed::EventKind::depth_update;
      warm_sym_ = nullptr;
      return;
    case 1: {  // seed the scratch state from the diff's symbol
      if (!warm_depth_ok_) return;
      const SymbolState* real = symbol(warm_ev_.symbol);
      SymbolState* sc = scratch_[warm_ev_.market == feed::Market::futures ? 1 : 0].get();
      if (real == nullptr || sc == nullptr || !real->book.tradable()) return;
      const feed::DepthUpdateFields& d = warm_ev_.depth;
      if (d.first_update_id < 2) return;
      feed::Level* bids = warm_levels_.get();
      feed::Level* asks = bids + kWarmLevels;
      const std::size_t nb = real->book.top_bids(bids, kWarmLevels);
      const std::size_t na = real->book.top_asks(asks, kWarmLevels);
      sc->book.reset();
      // Snapshot + an empty diff that connects to it, so the warm diff meets the chain check a live diff
      // meets (spot: U == last + 1; futures: pu == last), not the first-after-snapshot straddle.
      feed::DepthUpdateFields link;
      std::uint64_t snap_id;
      if (warm_ev_.market == feed::Market::futures) {
        const std::uint64_t pu = d.has_prev ? d.prev_final_update_id : d.first_update_id - 1;
        snap_id = pu;
        link.first_update_id = link.final_update_id = pu;
      } else {
        snap_id = d.first_update_id - 2;
        link.first_update_id = link.final_update_id = d.first_update_id - 1;
      }
      (void)sc->book.on_snapshot(snap_id, std::span<const feed::Level>(bids, nb), std::span<const feed::Level>(asks, na));
      (void)sc->book.on_diff(link);
      (void)sc->fe.copy_state_from(real->fe);
      sc->book_update_ns = real->book_update_ns;
      warm_sym_ = sc;
      return;
    }
    case 2: {  // the diff through the live code, on the scratch state; one sampling boundary crossed
      if (warm_sym_ == nullptr) return;
      const std::int64_t ts = warm_ev_.local_ts_ns;
      warm_sym_->next_sample = P > 0 && ts >= P ? ts / P * P : 0;
      TickStamps t;
      (void)apply(*warm_sym_, warm_ev_, scratch_c_, false, 0, t, scratch_meta_);
      ++warm_applied_;
      return;
    }
    case 3: {  // the last trade, parsed again and applied to the scratch state the same way
      if (other_kind_ != feed::EventKind::trade || !reparse(other_frame_) || warm_ev_.kind != feed::EventKind::trade) return;
      SymbolState* sc = scratch_[warm_ev_.market == feed::Market::futures ? 1 : 0].get();
      if (sc == nullptr) return;
      if (sc != warm_sym_) {   // no depth slice seeded it this cycle: the trade's symbol's features
        const SymbolState* real = symbol(warm_ev_.symbol);
        if (real == nullptr) return;
        (void)sc->fe.copy_state_from(real->fe);
      }
      const std::int64_t ts = warm_ev_.local_ts_ns;
      sc->next_sample = P > 0 && ts >= P ? ts / P * P : 0;
      TickStamps t;
      (void)apply(*sc, warm_ev_, scratch_c_, false, 0, t, scratch_meta_);
      ++warm_applied_;
      return;
    }
    default:
      return;
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
    // First message of a new symbol: the one allocation per symbol (book arrays, window ring) — and, with
    // the first symbol of its market, the warm-up's scratch state (a smaller book: it holds kWarmLevels
    // levels per side plus one diff's).
    syms_[id] = std::make_unique<SymbolState>(m, fc_, bc_);
    syms_[id]->name = std::string(parser_.symbols().name(id));
    std::unique_ptr<SymbolState>& sc = scratch_[m == feed::Market::futures ? 1 : 0];
    if (!sc) {
      book::L2Book::Config c;
      c.level_capacity = 4096;
      c.buffer_events = 16;
      c.buffer_levels = 4096;
      sc = std::make_unique<SymbolState>(m, fc_, c);
      sc->name = "(warm-up scratch)";
    }
  }
  return syms_[id].get();
}

void MarketHandler::take_rows(SymbolState& s, std::int64_t until) const noexcept {
  // Quiet spells: one row per boundary crossed, as the exporter does.
  float row[features::kNumFeatures];
  for (; s.next_sample <= until; s.next_sample += fc_.sample_period_ns) s.fe.sample(s.next_sample, row);
}

feed::SymbolId MarketHandler::sample_boundaries(std::int64_t now, SampleMeta& out) noexcept {
  const std::int64_t P = fc_.sample_period_ns;
  if (P <= 0 || now < next_boundary_) return feed::kNoSymbol;
  feed::SymbolId hit = feed::kNoSymbol;
  std::int64_t earliest = INT64_MAX;
  for (std::size_t id = 0; id < syms_.size(); ++id) {
    SymbolState* s = syms_[id].get();
    if (s == nullptr || s->next_sample == 0) continue;
    if (hit == feed::kNoSymbol && now >= s->next_sample) {
      take_rows(*s, now);
      s->sampled_ahead = true;
      ++c_.sampled_ahead;
      hit = static_cast<feed::SymbolId>(id);
      out.symbol = hit;
      out.sample_ts_ns = s->next_sample - P;
      out.md_seq = 0;
      out.t = TickStamps{};
      out.tradable = s->book.tradable();
    }
    if (s->next_sample < earliest) earliest = s->next_sample;
  }
  next_boundary_ = earliest;   // another symbol still due: <= now, so the next call takes it
  return hit;
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
  depth_frame_.len = other_frame_.len = 0;   // the warm-ups re-parse live frames only (a capture line is not kept)
  pending_ = nullptr;
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
  // For the warm-ups, the frame is copied later, by keep_frame() (off the tick's path). A snapshot is
  // never kept (tens of µs to parse again): it refilled the parser's level buffer, so the kept diff goes.
  if (ev_.kind == feed::EventKind::depth_snapshot) {
    depth_frame_.len = 0;
    depth_kind_ = feed::EventKind::depth_snapshot;
    last_was_depth_ = true;
    pending_ = nullptr;
  } else {
    pending_ = json.data();
    pending_len_ = json.size();
    pending_ts_ = local_ts_ns;
    pending_kind_ = ev_.kind;
  }
  return handle(t, out);
}

void MarketHandler::keep_frame() noexcept {
  if (pending_ == nullptr) return;
  // The last diff (what the parser's level buffer holds: re-parsing it writes the same levels) is kept apart
  // from the other kinds.
  last_was_depth_ = pending_kind_ == feed::EventKind::depth_update;
  if (last_was_depth_) depth_kind_ = pending_kind_;
  else other_kind_ = pending_kind_;
  WarmFrame& f = last_was_depth_ ? depth_frame_ : other_frame_;
  if (pending_len_ <= kWarmFrameBytes) {
    std::memcpy(f.buf.get(), pending_, pending_len_);
    f.len = pending_len_;
    f.ts = pending_ts_;
  } else {
    f.len = 0;
  }
  pending_ = nullptr;
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
  const int due = apply(*s, ev_, c_, true, seq, t, out);
  last_ = t;
  if (due) out.symbol = ev_.symbol;
  return due;
}

int MarketHandler::apply(SymbolState& sr, const feed::Event& ev, MarketCounters& c, bool live, std::uint64_t seq,
                         TickStamps& t, SampleMeta& out) noexcept {
  SymbolState* s = &sr;
  const feed::EventKind k = ev.kind;
  ++s->messages;
  const std::int64_t ts = ev.local_ts_ns;
  const std::int64_t P = fc_.sample_period_ns;
  // 1. Book first (the order is priced against the state after this message) ...
  bool book_changed = false;
  if (k == feed::EventKind::depth_update) {
    const book::DiffResult r = s->book.on_diff(ev.depth);
    book_changed = (r == book::DiffResult::applied);
    if (r == book::DiffResult::gap) {
      ++c.gaps;
      if (live && resync_.size() < resync_.capacity()) resync_.push_back(ev.symbol);
    }
  } else if (k == feed::EventKind::depth_snapshot) {
    (void)s->book.on_snapshot(ev.snapshot.last_update_id, ev.snapshot.bids, ev.snapshot.asks);
    book_changed = true;
  }
  if (book_changed) s->book_update_ns = now_ns();
  t.book = TscClock::ticks();
  // 2. ... but the row of a crossed boundary is sampled from the features' state BEFORE this
  // message (FeatureEngine has not seen it yet): the training rule, features/features.hpp.
  int due = 0;
  bool crossed = false;
  if (P > 0 && s->next_sample != 0 && ts >= s->next_sample) {
    take_rows(*s, ts);
    crossed = true;
  }
  // The rows of a boundary this message crosses were taken at the boundary, by the clock (sample_boundaries).
  if (s->sampled_ahead) {
    s->sampled_ahead = false;
    crossed = true;
  }
  if (crossed) {
    ++s->samples;
    if (s->fe.samples() >= fc_.window && s->book.tradable()) {
      due = 1;
      ++c.samples;
    } else {
      ++c.warmup;
      if (row_samples_) due = kRowOnly;  // a streaming model steps it (no result, no trade)
    }
  }
  // 3. Now the features see the message.
  if (k == feed::EventKind::trade) s->fe.on_trade(ev.trade, ts);
  else s->fe.on_book(s->book, ts);
  if (P > 0 && s->next_sample == 0 && s->fe.ready()) {
    s->next_sample = (ts / P + 1) * P;
    if (live && s->next_sample < next_boundary_) next_boundary_ = s->next_sample;
  }
  t.feat = TscClock::ticks();
  if (due) {
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
