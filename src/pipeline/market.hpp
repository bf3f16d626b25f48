// pipeline/market.hpp — the market-data half of a tick: parse -> book -> features -> sample.
//
// Who calls: the feed thread (inline mode: the one pipeline thread), per received message:
// on_message(json, local_ts_ns, stamps). One MarketHandler per feed thread; not thread-safe.
// Per symbol it keeps an L2Book and a FeatureEngine (clock sampling, as the model was trained:
// features/features.hpp). A sample (a model-input window) is due when a message of the symbol
// crosses a sampling boundary: the row is taken from the state BEFORE the message (the training
// rule), then the message is applied; the sample's top of book is the state AFTER it (what an
// order would be priced against).
//
// Stage stamps (TscClock ticks, taken on this thread): recv (by the caller, when the frame was
// read), parsed, book (book + features updated), feat (window sampled). md_seq numbers every
// message this handler accepted (1, 2, ...): it travels to the order (client order id) so the
// venue can match the order to the market-data message that caused it (wire-to-wire latency).
//
// Hot path: no allocation once every symbol has been seen (symbol state is made on the first
// message of a new symbol: a setup step that happens once per symbol), no locks, no exceptions.
// Limits: kMaxSymbols symbols (the parser's table holds 1024).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/l2_book.hpp"
#include "feed/line_parser.hpp"
#include "features/features.hpp"

namespace tickrt::pipeline {

inline constexpr std::size_t kMaxSymbols = 1024;

struct TickStamps {
  std::uint64_t recv = 0;    // frame read (TSC)
  std::uint64_t parsed = 0;
  std::uint64_t book = 0;
  std::uint64_t feat = 0;
  std::int64_t recv_ns = 0;  // now_ns() at receive (cross-process comparisons)
};

// What a due sample hands on (the window itself stays in the symbol's FeatureEngine until the
// caller copies or normalises it).
struct SampleMeta {
  feed::SymbolId symbol = feed::kNoSymbol;
  std::int64_t sample_ts_ns = 0;   // the boundary
  std::uint64_t md_seq = 0;        // the message that crossed it
  TickStamps t;
  feed::Level best_bid, best_ask;  // after the message
  bool tradable = false;
  std::int64_t book_update_ns = 0; // local ns of the last book change
};

struct SymbolState {
  SymbolState(feed::Market m, const features::FeatureConfig& fc, const book::L2Book::Config& bc)
      : book(m, bc), fe(fc) {}
  book::L2Book book;
  features::FeatureEngine fe;
  std::string name;
  std::int64_t next_sample = 0;   // next clock boundary (0: not started)
  std::int64_t book_update_ns = 0;
  std::uint64_t messages = 0, samples = 0;
};

struct MarketCounters {
  std::uint64_t messages = 0;
  std::uint64_t malformed = 0;
  std::uint64_t malformed_by_reason[feed::kLineErrorCount] = {};
  std::uint64_t samples = 0;       // windows due (full window, tradable)
  std::uint64_t warmup = 0;        // boundaries crossed before the window held T rows
  std::uint64_t gaps = 0;          // book chain breaks (resync needed)
};

class MarketHandler {
 public:
  MarketHandler(features::FeatureConfig fc, book::L2Book::Config bc = small_book_config());
  MarketHandler(const MarketHandler&) = delete;
  MarketHandler& operator=(const MarketHandler&) = delete;

  // A book configuration sized for live use (the defaults reserve replay-sized diff buffers).
  static book::L2Book::Config small_book_config();

  // Resets the per-connection parser state (timestamp unit, market): call on (re)connect.
  void begin_connection() noexcept { file_.reset(); }

  // A streaming model (stream_infer.hpp) steps every row from the first one after a reset, so a
  // crossing that is not a due sample (window not full yet, book not tradable) is reported too:
  // on_*() then returns kRowOnly (2) with `out` filled as for a due sample. Off by default (0 or 1
  // only, what a windowed model and every caller that tests `== 1` expect). Setup path.
  static constexpr int kRowOnly = 2;
  void set_row_samples(bool on) noexcept { row_samples_ = on; }

  // One message. `line` is either a capture line ("<ts> <json>", with_ts = true; the capture's
  // stamp is the local time) or a bare JSON frame with local_ts_ns given (live). Returns the
  // number of samples due (0 or 1) and fills `out` when 1 (or kRowOnly, with set_row_samples()).
  [[nodiscard]] int on_line(std::string_view line, TickStamps t, SampleMeta& out) noexcept;
  [[nodiscard]] int on_json(std::string_view json, std::int64_t local_ts_ns, TickStamps t, SampleMeta& out) noexcept;
  // An event parsed earlier (the backtester parses captures once into memory and replays them
  // many times: backtest/capture_store.hpp). Its symbol id must be this handler's (intern() the
  // names in the parser's order first); its level spans must stay valid during the call. Then
  // exactly what on_line() does after parsing.
  [[nodiscard]] int on_event(const feed::Event& ev, TickStamps t, SampleMeta& out) noexcept {
    ev_ = ev;
    t.parsed = t.recv;
    last_frame_len_ = 0;   // warm() re-parses live frames only
    return handle(t, out);
  }

  // Interns a symbol name before any message (subscriptions, renamed-symbol benches).
  feed::SymbolId intern(std::string_view name);
  SymbolState* symbol(feed::SymbolId id) noexcept { return id < syms_.size() ? syms_[id].get() : nullptr; }
  const SymbolState* symbol(feed::SymbolId id) const noexcept { return id < syms_.size() ? syms_[id].get() : nullptr; }
  std::size_t symbol_count() const noexcept { return syms_.size(); }
  std::string_view symbol_name(feed::SymbolId id) const noexcept;
  const MarketCounters& counters() const noexcept { return c_; }
  const feed::Event& last_event() const noexcept { return ev_; }
  feed::LineParser& parser() noexcept { return parser_; }
  std::uint64_t md_seq() const noexcept { return seq_; }
  // Stamps of the last accepted message (every message, sampled or not).
  const TickStamps& last_stamps() const noexcept { return last_; }
  // A symbol's book lost sync since the last call (the feed asks for a new snapshot).
  bool take_resync_needed(feed::SymbolId& out) noexcept;

  // Between ticks (keep_warm = "infer", the inline loop after keep_warm_after_us without a message):
  // parses the last accepted JSON frame again into a scratch event and a scratch FileContext, so the
  // parser's code, branch history and buffers are hot for the next frame, and reads the top 20 levels of
  // that symbol's book and its feature window (data only: their update code stays cold); nothing of the handler's
  // state changes (the book, features, counters, ev_ and its levels: the same frame refills the
  // parser's level buffer with the same levels, and its size, so no reallocation). on_json() keeps a
  // copy of each frame up to kWarmFrameBytes for it (one memcpy per message). Hot path.
  static constexpr std::size_t kWarmFrameBytes = 64 * 1024;
  void warm() noexcept;
  std::uint64_t warm_parses() const noexcept { return warm_parses_; }

 private:
  int handle(TickStamps& t, SampleMeta& out) noexcept;
  SymbolState* state_for(feed::SymbolId id, feed::Market m) noexcept;

  features::FeatureConfig fc_;
  book::L2Book::Config bc_;
  feed::LineParser parser_;
  feed::FileContext file_;
  feed::Event ev_;
  std::vector<std::unique_ptr<SymbolState>> syms_;  // by SymbolId
  std::uint64_t seq_ = 0;
  TickStamps last_;
  MarketCounters c_;
  std::vector<feed::SymbolId> resync_;  // reserved kMaxSymbols
  bool row_samples_ = false;             // set_row_samples()
  std::unique_ptr<char[]> last_frame_;   // warm(): the last accepted frame (kWarmFrameBytes)
  std::size_t last_frame_len_ = 0;       // 0: none (or it was longer than kWarmFrameBytes)
  std::int64_t last_frame_ts_ = 0;
  feed::Event warm_ev_;
  std::uint64_t warm_parses_ = 0;
};

}  // namespace tickrt::pipeline
