#include "book/replay.hpp"

#include <cstdarg>
#include <cstdio>

#include "core/clock.hpp"

namespace tickrt::book {

using feed::Event;
using feed::EventKind;
using feed::LineError;
using feed::SymbolId;

ReplaySession::ReplaySession(ReplayOptions opt) : opt_(opt) {
  books_.reserve(feed::SymbolTable::kMaxSymbols);
  sym_.reserve(feed::SymbolTable::kMaxSymbols);
  tq_.reserve(feed::SymbolTable::kMaxSymbols);
  pending_snapshot_.reserve(256u << 10);
  file_name_.reserve(4096);
  stats_.reports.reserve(opt_.max_reports);
}

ReplaySession::~ReplaySession() = default;

void ReplaySession::reset() noexcept {
  for (auto& b : books_) if (b) b->reset();
  for (auto& s : sym_) s = SymbolStats{};
  for (auto& q : tq_) q.head = q.size = 0;
  // Keep the reports vector's capacity across passes.
  std::vector<MalformedReport> keep = std::move(stats_.reports);
  keep.clear();
  stats_ = ReplayStats{};
  stats_.reports = std::move(keep);
  file_.reset();
  pending_snapshot_.clear();
}

const L2Book* ReplaySession::book(SymbolId id) const noexcept {
  return id < books_.size() ? books_[id].get() : nullptr;
}

const SymbolStats* ReplaySession::symbol_stats(SymbolId id) const noexcept {
  return id < sym_.size() ? &sym_[id] : nullptr;
}

L2Book* ReplaySession::book_for(SymbolId id, feed::Market m) noexcept {
  if (id >= books_.size()) books_.resize(id + 1);  // within reserved capacity: no reallocation
  if (id >= tq_.size()) tq_.resize(id + 1);
  if (!books_[id]) {
    // First book message of this symbol: the one allocation per symbol (setup, not per message).
    try {
      books_[id] = std::make_unique<L2Book>(m, opt_.book);
      tq_[id].ring.resize(kTickerQueue);
    } catch (...) {
      books_[id].reset();
      return nullptr;
    }
  }
  return books_[id].get();
}

void ReplaySession::begin_file(std::string_view name) {
  file_.reset();
  file_name_.assign(name);
  pending_snapshot_.clear();
  ++stats_.files;
}

void ReplaySession::end_file() noexcept {
  if (!pending_snapshot_.empty()) {
    report(LineError::snapshot_symbol_unknown, pending_line_no_, pending_snapshot_);
    pending_snapshot_.clear();
  }
}

void ReplaySession::report(LineError e, std::uint64_t line_no, std::string_view line) noexcept {
  ++stats_.malformed;
  ++stats_.malformed_by_reason[static_cast<int>(e)];
  if (stats_.reports.size() < opt_.max_reports) {
    try {
      MalformedReport r;
      r.file = file_name_;
      r.line = line_no;
      r.reason = e;
      r.excerpt.assign(line.substr(0, opt_.excerpt_chars));
      stats_.reports.push_back(std::move(r));
    } catch (...) {
      // Out of memory while reporting: the line is still counted.
    }
  }
}

void ReplaySession::process_line(std::string_view line, std::uint64_t line_no) noexcept {
  ++stats_.lines;
  LineError e = parser_.parse(line, file_, ev_);
  if (e == LineError::snapshot_symbol_unknown && pending_snapshot_.empty() &&
      line.size() <= pending_snapshot_.capacity()) {
    // A snapshot before any stream line of its file: hold it until the file's symbol is known.
    pending_snapshot_.assign(line);
    pending_line_no_ = line_no;
    return;
  }
  if (e != LineError::ok) {
    report(e, line_no, line);
  } else {
    handle(ev_);
  }
  if (!pending_snapshot_.empty() && file_.file_symbol != feed::kNoSymbol) {
    e = parser_.parse(pending_snapshot_, file_, ev_);
    if (e == LineError::ok) handle(ev_);
    else report(e, pending_line_no_, pending_snapshot_);
    pending_snapshot_.clear();
  }
}

void ReplaySession::handle(const Event& ev) noexcept {
  const int k = static_cast<int>(ev.kind);
  ++stats_.events[k];
  if (ev.symbol >= sym_.size()) sym_.resize(ev.symbol + 1);  // reserved: no reallocation
  SymbolStats& ss = sym_[ev.symbol];
  ++ss.events[k];
  switch (ev.kind) {
    case EventKind::depth_update: {
      if (L2Book* b = book_for(ev.symbol, ev.market)) {
        if (b->on_diff(ev.depth) == DiffResult::applied) drain_tickers(ev.symbol, *b);
      }
      break;
    }
    case EventKind::depth_snapshot: {
      if (L2Book* b = book_for(ev.symbol, ev.market)) {
        if (b->on_snapshot(ev.snapshot.last_update_id, ev.snapshot.bids, ev.snapshot.asks) ==
            SnapshotResult::synced) {
          drain_tickers(ev.symbol, *b);
        }
      }
      break;
    }
    case EventKind::book_ticker: {
      L2Book* b = book_for(ev.symbol, ev.market);
      if (!b) break;
      ++ss.ticker.tickers;
      ++stats_.ticker.tickers;
      if (b->tradable() && b->last_update_id() >= ev.ticker.update_id) {
        check_ticker(ev.symbol, *b, ev.ticker);
        break;
      }
      TickerQueue& q = tq_[ev.symbol];
      if (q.size == q.ring.size()) {  // full: the oldest can no longer be checked
        q.head = (q.head + 1) % q.ring.size();
        --q.size;
        ++ss.ticker.dropped;
        ++stats_.ticker.dropped;
      }
      q.ring[(q.head + q.size) % q.ring.size()].t = ev.ticker;
      ++q.size;
      break;
    }
    default: break;
  }
}

void ReplaySession::check_ticker(SymbolId id, const L2Book& b, const feed::BookTickerFields& t) noexcept {
  Level bb, ba;
  const bool agree = b.best_bid(bb) && b.best_ask(ba) && bb.price == t.bid_price && bb.qty == t.bid_qty &&
                     ba.price == t.ask_price && ba.qty == t.ask_qty;
  const bool exact = b.last_update_id() == t.update_id;
  for (TickerCheck* c : {&sym_[id].ticker, &stats_.ticker}) {
    ++c->checked;
    c->agreed += agree;
    c->exact += exact;
    c->exact_agreed += (exact && agree);
  }
}

void ReplaySession::drain_tickers(SymbolId id, const L2Book& b) noexcept {
  TickerQueue& q = tq_[id];
  const bool tradable = b.tradable();
  while (q.size) {
    const feed::BookTickerFields& t = q.ring[q.head].t;
    if (t.update_id > b.last_update_id()) break;
    if (tradable) check_ticker(id, b, t);
    else { ++sym_[id].ticker.dropped; ++stats_.ticker.dropped; }
    q.head = (q.head + 1) % q.ring.size();
    --q.size;
  }
}

Status ReplaySession::replay_file(const std::string& path) {
  const std::int64_t t0 = now_ns();
  if (!reader_) reader_ = std::make_unique<feed::CaptureReader>();
  feed::CaptureReader& reader = *reader_;
  TICKRT_RETURN_IF_ERROR(reader.open(path));
  begin_file(path);
  std::string_view line;
  while (reader.next(line)) process_line(line, reader.line_number());
  end_file();
  stats_.wall_ns += now_ns() - t0;
  stats_.file_bytes += reader.file_bytes();
  stats_.plain_bytes += reader.plain_bytes();
  stats_.inflate_ns += reader.inflate_ns();
  Status st = reader.status();
  reader.close();
  return st;
}

Status ReplaySession::replay_files(const std::vector<std::string>& paths) {
  for (const std::string& p : paths) TICKRT_RETURN_IF_ERROR(replay_file(p));
  return Status::Ok();
}

// ---- summary ----------------------------------------------------------------------------------

namespace {
void appendf(std::string& s, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& s, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) s.append(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
}

std::string pct(std::uint64_t a, std::uint64_t b) {
  if (b == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * static_cast<double>(a) / static_cast<double>(b));
  return buf;
}
}  // namespace

std::string ReplaySession::summary(std::size_t levels) const {
  std::string s;
  const ReplayStats& st = stats_;
  std::uint64_t msgs = 0;
  for (std::uint64_t n : st.events) msgs += n;
  appendf(s, "replay: %llu file(s), %llu lines, %.1f MB plain (%.1f MB on disk); JSON kernel: %s\n",
          (unsigned long long)st.files, (unsigned long long)st.lines, st.plain_bytes / 1e6, st.file_bytes / 1e6,
          std::string(parser_.isa_name()).c_str());
  appendf(s, "messages: %llu", (unsigned long long)msgs);
  for (int k = 1; k < feed::kEventKindCount; ++k) {
    appendf(s, "  %s %llu", std::string(feed::event_kind_name(static_cast<EventKind>(k))).c_str(),
            (unsigned long long)st.events[k]);
  }
  appendf(s, "\nmalformed lines: %llu\n", (unsigned long long)st.malformed);
  for (int r = 1; r < feed::kLineErrorCount; ++r) {
    if (st.malformed_by_reason[r]) {
      appendf(s, "  %-26s %llu\n", std::string(feed::line_error_name(static_cast<LineError>(r))).c_str(),
              (unsigned long long)st.malformed_by_reason[r]);
    }
  }
  for (const MalformedReport& r : st.reports) {
    appendf(s, "  %s:%llu: %s: %s%s\n", r.file.c_str(), (unsigned long long)r.line,
            std::string(feed::line_error_name(r.reason)).c_str(), r.excerpt.c_str(),
            r.excerpt.size() >= opt_.excerpt_chars ? "..." : "");
  }
  if (st.malformed > st.reports.size()) {
    appendf(s, "  (%llu more not shown)\n", (unsigned long long)(st.malformed - st.reports.size()));
  }
  s += "books:\n";
  std::vector<Level> bid(levels), ask(levels);
  bool any_book = false;
  for (std::size_t id = 0; id < books_.size(); ++id) {
    const L2Book* b = books_[id].get();
    if (!b) continue;
    any_book = true;
    const BookCounters& c = b->counters();
    appendf(s, "  %s (%s): %s%s, update id %llu, %zu bids / %zu asks\n",
            std::string(parser_.symbols().name(static_cast<SymbolId>(id))).c_str(),
            std::string(feed::market_name(b->market())).c_str(), std::string(book_state_name(b->state())).c_str(),
            b->tradable() ? " (tradable)" : " (not tradable)", (unsigned long long)b->last_update_id(),
            b->bid_levels(), b->ask_levels());
    appendf(s,
            "    snapshots %llu (ignored %llu), diffs applied %llu, buffered %llu, stale dropped %llu, "
            "gaps %llu, sync failures %llu, resyncs %llu, crossed %llu, buffer overflows %llu\n",
            (unsigned long long)c.snapshots, (unsigned long long)c.snapshots_ignored,
            (unsigned long long)c.diffs_applied, (unsigned long long)c.diffs_buffered,
            (unsigned long long)c.stale_dropped, (unsigned long long)c.gaps, (unsigned long long)c.sync_failures,
            (unsigned long long)c.resyncs, (unsigned long long)c.crossed, (unsigned long long)c.buffer_overflows);
    const std::size_t nb = b->top_bids(bid.data(), levels), na = b->top_asks(ask.data(), levels);
    if (nb + na) appendf(s, "    %22s | %-22s\n", "bid qty @ price", "ask price @ qty");
    for (std::size_t i = 0; i < std::max(nb, na); ++i) {
      std::string l = i < nb ? bid[i].qty.to_string() + " @ " + bid[i].price.to_string() : "";
      std::string r = i < na ? ask[i].price.to_string() + " @ " + ask[i].qty.to_string() : "";
      appendf(s, "    %22s | %-22s\n", l.c_str(), r.c_str());
    }
    const SymbolStats& ss = sym_[id];
    if (ss.ticker.tickers) {
      appendf(s, "    bookTicker vs book: agree %llu/%llu checked (%s); exact-id %llu/%llu (%s); %llu tickers, "
               "%llu uncheckable\n",
              (unsigned long long)ss.ticker.agreed, (unsigned long long)ss.ticker.checked,
              pct(ss.ticker.agreed, ss.ticker.checked).c_str(), (unsigned long long)ss.ticker.exact_agreed,
              (unsigned long long)ss.ticker.exact, pct(ss.ticker.exact_agreed, ss.ticker.exact).c_str(),
              (unsigned long long)ss.ticker.tickers, (unsigned long long)ss.ticker.dropped);
    }
  }
  if (!any_book) s += "  (no depth messages)\n";
  const TickerCheck& t = st.ticker;
  appendf(s,
          "bookTicker agreement: %s (%llu/%llu tickers where book id >= u); exact-id matches %s (%llu/%llu)\n",
          pct(t.agreed, t.checked).c_str(), (unsigned long long)t.agreed, (unsigned long long)t.checked,
          pct(t.exact_agreed, t.exact).c_str(), (unsigned long long)t.exact_agreed, (unsigned long long)t.exact);
  if (st.wall_ns > 0) {
    const double wall = st.wall_ns / 1e9, pb = (st.wall_ns - st.inflate_ns) / 1e9;
    appendf(s, "throughput: parse+book %.2f M msg/s (%.0f MB/s plain); overall incl. gunzip %.2f M msg/s "
               "(%.3f s total, %.3f s in zlib)\n",
            pb > 0 ? st.lines / pb / 1e6 : 0.0, pb > 0 ? st.plain_bytes / pb / 1e6 : 0.0, st.lines / wall / 1e6,
            wall, st.inflate_ns / 1e9);
  }
  return s;
}

}  // namespace tickrt::book
