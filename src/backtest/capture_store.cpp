// backtest/capture_store.cpp — see capture_store.hpp.
#include "backtest/capture_store.hpp"

#include <algorithm>
#include <limits>

#include "core/clock.hpp"
#include "feed/capture_reader.hpp"
#include "feed/line_parser.hpp"

namespace tickrt::backtest {

namespace {
// Level spans are stored as offsets while the arena grows, then turned back into spans.
struct Pending {
  std::size_t b_off = 0, b_n = 0, a_off = 0, a_n = 0;
};
}  // namespace

Result<CaptureStore> CaptureStore::load(const std::vector<std::string>& files, std::int64_t feed_floor_ns) {
  if (files.empty()) return Status(Code::invalid_argument, "backtest: no capture file given (--data or backtest.data)");
  if (feed_floor_ns < 0) return Status(Code::invalid_argument, "latency.feed_floor_us: must be >= 0");
  CaptureStore st;
  st.files_ = files;
  feed::LineParser parser;
  feed::CaptureReader reader;
  std::vector<Pending> spans;
  const std::int64_t t0 = now_ns();
  for (std::size_t fi = 0; fi < files.size(); ++fi) {
    if (Status s = reader.open(files[fi]); !s.ok()) return s.with_context("backtest data");
    feed::FileContext ctx;
    feed::Event ev;
    std::string_view line;
    const std::size_t first = st.events_.size();
    std::int64_t offset = std::numeric_limits<std::int64_t>::max();
    while (reader.next(line)) {
      ++st.stats_.lines;
      if (line.empty()) continue;
      if (parser.parse(line, ctx, ev) != feed::LineError::ok) {
        ++st.stats_.malformed;
        continue;
      }
      Pending p;
      const std::span<const feed::Level>* bids = nullptr;
      const std::span<const feed::Level>* asks = nullptr;
      if (ev.kind == feed::EventKind::depth_update) {
        bids = &ev.depth.bids;
        asks = &ev.depth.asks;
      } else if (ev.kind == feed::EventKind::depth_snapshot) {
        bids = &ev.snapshot.bids;
        asks = &ev.snapshot.asks;
      }
      if (bids != nullptr) {
        p.b_off = st.levels_.size();
        p.b_n = bids->size();
        st.levels_.insert(st.levels_.end(), bids->begin(), bids->end());
        p.a_off = st.levels_.size();
        p.a_n = asks->size();
        st.levels_.insert(st.levels_.end(), asks->begin(), asks->end());
      }
      StoredEvent se;
      se.ev = ev;
      se.ev.depth.bids = se.ev.depth.asks = {};
      se.ev.snapshot.bids = se.ev.snapshot.asks = {};
      se.file = static_cast<std::uint32_t>(fi);
      if (ev.event_ts_ns > 0) offset = std::min(offset, ev.local_ts_ns - ev.event_ts_ns);
      st.events_.push_back(se);
      spans.push_back(p);
    }
    if (!reader.status().ok()) return reader.status().with_context("backtest data");
    if (offset == std::numeric_limits<std::int64_t>::max()) offset = 0;
    st.stats_.clock_offset_ns.push_back(offset);
    for (std::size_t i = first; i < st.events_.size(); ++i) {
      StoredEvent& se = st.events_[i];
      se.feed_ns = feed_floor_ns + (se.ev.event_ts_ns > 0 ? (se.ev.local_ts_ns - se.ev.event_ts_ns) - offset : 0);
      se.venue_ns = se.ev.local_ts_ns - se.feed_ns;
    }
  }
  st.stats_.parse_ns = now_ns() - t0;
  if (st.events_.empty())
    return Status(Code::not_found, "backtest data: no parsable market event in " + std::to_string(files.size()) + " file(s), first " + files.front());
  // Spans into the (now final) arena.
  for (std::size_t i = 0; i < st.events_.size(); ++i) {
    feed::Event& e = st.events_[i].ev;
    const Pending& p = spans[i];
    const std::span<const feed::Level> b(st.levels_.data() + p.b_off, p.b_n), a(st.levels_.data() + p.a_off, p.a_n);
    if (e.kind == feed::EventKind::depth_update) {
      e.depth.bids = b;
      e.depth.asks = a;
    } else if (e.kind == feed::EventKind::depth_snapshot) {
      e.snapshot.bids = b;
      e.snapshot.asks = a;
    }
  }
  // Several files: merge by local stamp (stable keeps each file's order for equal stamps). The
  // spans point into levels_, which does not move, so the events can be reordered freely.
  if (files.size() > 1)
    std::stable_sort(st.events_.begin(), st.events_.end(),
                     [](const StoredEvent& x, const StoredEvent& y) { return x.ev.local_ts_ns < y.ev.local_ts_ns; });
  st.venue_order_.resize(st.events_.size());
  for (std::size_t i = 0; i < st.venue_order_.size(); ++i) st.venue_order_[i] = static_cast<std::uint32_t>(i);
  std::stable_sort(st.venue_order_.begin(), st.venue_order_.end(), [&](std::uint32_t x, std::uint32_t y) {
    return st.events_[x].venue_ns < st.events_[y].venue_ns;
  });
  st.venue_events_.reserve(st.events_.size());
  for (const std::uint32_t k : st.venue_order_) {
    const StoredEvent& se = st.events_[k];
    const feed::EventKind kind = se.ev.kind;
    if (kind != feed::EventKind::depth_update && kind != feed::EventKind::depth_snapshot && kind != feed::EventKind::trade)
      continue;
    st.venue_events_.push_back(se.ev);
    st.venue_events_.back().local_ts_ns = se.venue_ns;  // the engine stamps fills with the event's time
  }
  const feed::SymbolTable& tab = parser.symbols();
  for (std::size_t i = 0; i < tab.size(); ++i) {
    st.names_.emplace_back(tab.name(static_cast<feed::SymbolId>(i)));
    st.markets_.push_back(tab.market(static_cast<feed::SymbolId>(i)));
  }
  st.stats_.events = st.events_.size();
  st.stats_.levels = st.levels_.size();
  return st;
}

}  // namespace tickrt::backtest
