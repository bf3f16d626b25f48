#include "features/replay.hpp"

#include <filesystem>

namespace tickrt::features {

using feed::Event;
using feed::EventKind;
using feed::LineError;

namespace {

std::int64_t stamp_of(std::string_view line) noexcept {
  std::size_t n = 0;
  std::int64_t v = 0;
  while (n < line.size() && line[n] >= '0' && line[n] <= '9' && n < 19) v = v * 10 + (line[n++] - '0');
  if (n >= 18) return v;             // ns
  if (n >= 15) return v * 1000;      // µs
  if (n >= 12) return v * 1000000;   // ms
  return 0;
}

void split_name(const std::string& path, std::string& dir, std::string& prefix) {
  std::filesystem::path p(path);
  dir = p.parent_path().string();
  std::string base = p.filename().string();
  const std::size_t us = base.rfind('_');
  prefix = us == std::string::npos ? base : base.substr(0, us);
}

}  // namespace

std::int64_t first_stamp_ns(const std::string& path) {
  feed::CaptureReader r;
  if (!r.open(path).ok()) return 0;
  std::string_view line;
  return r.next(line) ? stamp_of(line) : 0;
}

FeatureReplay::FeatureReplay(FeatureConfig cfg) : cfg_(cfg), engine_(cfg) {
  pending_snapshot_.reserve(256u << 10);
}

FeatureReplay::~FeatureReplay() = default;

book::L2Book* FeatureReplay::book_for(feed::Market m) {
  std::unique_ptr<book::L2Book>& b = m == feed::Market::spot ? spot_ : fut_;
  if (!b) b = std::make_unique<book::L2Book>(m == feed::Market::spot ? m : feed::Market::futures);
  return b.get();
}

void FeatureReplay::start_session(const std::string& file, RowSink& sink) {
  SessionInfo s;
  s.index = static_cast<int>(sessions_.size());
  sessions_.push_back(std::move(s));
  engine_.reset();
  if (spot_) spot_->reset();
  if (fut_) fut_->reset();
  book_ = nullptr;
  sym_ = feed::kNoSymbol;
  next_sample_ = 0;
  last_ts_ = 0;
  in_session_ = true;
  split_name(file, cur_dir_, cur_prefix_);
  sink.begin_session(sessions_.back());
}

void FeatureReplay::finish_session(RowSink& sink) {
  if (!in_session_) return;
  SessionInfo& s = sessions_.back();
  if (book_) {
    s.gaps = book_->counters().gaps;
    s.resyncs = book_->counters().resyncs;
  }
  sink.end_session(s);
  in_session_ = false;
}

void FeatureReplay::emit(std::int64_t ts, RowSink& sink) noexcept {
  engine_.sample(ts, row_);
  SessionInfo& s = sessions_.back();
  if (s.rows == 0) s.first_ts_ns = ts;
  s.last_ts_ns = ts;
  ++s.rows;
  sink.row(RowInfo{ts, engine_.mid(), engine_.tradable()}, row_);
}

void FeatureReplay::handle(const Event& ev, RowSink& sink) noexcept {
  SessionInfo& s = sessions_.back();
  if (sym_ == feed::kNoSymbol) {
    sym_ = ev.symbol;
    s.market = ev.market;
    s.symbol.assign(parser_.symbols().name(ev.symbol));  // once per session (setup)
  }
  if (ev.symbol != sym_) {
    ++s.other_symbol;
    return;
  }
  const bool book_event = ev.kind == EventKind::depth_update || ev.kind == EventKind::depth_snapshot;
  if (!book_event && ev.kind != EventKind::trade) return;
  const std::int64_t ts = ev.local_ts_ns;
  if (ts > last_ts_) last_ts_ = ts;
  const std::int64_t P = cfg_.sample_period_ns;
  // Clock samples at boundaries up to and including ts, from the state before this event.
  if (P > 0 && next_sample_ != 0) {
    while (next_sample_ <= ts) {
      emit(next_sample_, sink);
      next_sample_ += P;
    }
  }
  if (book_event) {
    if (!book_) {
      try {
        book_ = book_for(ev.market);
      } catch (...) {
        return;
      }
    }
    if (ev.kind == EventKind::depth_update) (void)book_->on_diff(ev.depth);
    else (void)book_->on_snapshot(ev.snapshot.last_update_id, ev.snapshot.bids, ev.snapshot.asks);
    engine_.on_book(*book_, ts);
  } else {
    engine_.on_trade(ev.trade, ts);
  }
  if (!engine_.ready()) return;
  if (P > 0) {
    if (next_sample_ == 0) next_sample_ = (ts / P + 1) * P;  // first boundary after the first tradable book
  } else {
    emit(ts, sink);
  }
}

void FeatureReplay::on_line(std::string_view line, std::uint64_t line_no, RowSink& sink) noexcept {
  SessionInfo& s = sessions_.back();
  ++s.lines;
  LineError e = parser_.parse(line, file_, ev_);
  if (e == LineError::snapshot_symbol_unknown && pending_snapshot_.empty() &&
      line.size() <= pending_snapshot_.capacity()) {
    pending_snapshot_.assign(line);  // within reserved capacity: no allocation
    return;
  }
  if (e != LineError::ok) ++s.malformed;
  else handle(ev_, sink);
  if (!pending_snapshot_.empty() && file_.file_symbol != feed::kNoSymbol) {
    e = parser_.parse(pending_snapshot_, file_, ev_);
    if (e == LineError::ok) handle(ev_, sink);
    else ++s.malformed;
    pending_snapshot_.clear();
  }
}

Status FeatureReplay::run(const std::vector<std::string>& files, RowSink& sink, const ReplayProgress* progress) {
  sessions_.clear();
  in_session_ = false;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& f = files[i];
    if (progress && progress->on_file) progress->on_file(f, i, files.size());
    std::string dir, prefix;
    split_name(f, dir, prefix);
    bool cont = in_session_ && dir == cur_dir_ && prefix == cur_prefix_;
    if (cont) {
      const std::int64_t t0 = first_stamp_ns(f);
      cont = t0 != 0 && last_ts_ != 0 && t0 >= last_ts_ - kMaxContinuationGap && t0 <= last_ts_ + kMaxContinuationGap;
    }
    if (!cont) {
      finish_session(sink);
      start_session(f, sink);
    }
    sessions_.back().files.push_back(f);
    TICKRT_RETURN_IF_ERROR(reader_.open(f));
    file_.reset();
    pending_snapshot_.clear();
    std::string_view line;
    while (reader_.next(line)) on_line(line, reader_.line_number(), sink);
    if (!reader_.status().ok()) return reader_.status();
  }
  finish_session(sink);
  return Status::Ok();
}

}  // namespace tickrt::features
