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
  bool sampled_ahead = false;     // sample_boundaries() took the rows of a boundary its next message crosses
};

struct MarketCounters {
  std::uint64_t messages = 0;
  std::uint64_t malformed = 0;
  std::uint64_t malformed_by_reason[feed::kLineErrorCount] = {};
  std::uint64_t samples = 0;       // windows due (full window, tradable)
  std::uint64_t warmup = 0;        // boundaries crossed before the window held T rows
  std::uint64_t gaps = 0;          // book chain breaks (resync needed)
  std::uint64_t sampled_ahead = 0; // boundaries whose rows sample_boundaries() took before their crossing message
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
    depth_frame_.len = other_frame_.len = 0;   // the warm-ups re-parse live frames only
    pending_ = nullptr;
    return handle(t, out);
  }

  // Sampling at the boundary, by the clock (the inline loop between ticks, `[engine] infer_at_boundary`).
  // The row of boundary b is the features' state just before the first message of the symbol stamped at or
  // after b (the training rule), taken at time b. Once the feature clock `now` has passed b, no message
  // stamped before b can still come: live stamps are taken on this thread when a frame is read (a frame read
  // later is stamped later), and a capture releases its lines in stamp order (the caller passes a `now` no
  // later than the next line's stamp). So the row is final at b, not only when the crossing message arrives:
  // this takes the rows of every boundary <= now of ONE symbol (the lowest id with one due), exactly as that
  // message would have, fills `out` (symbol, sample_ts_ns = the last boundary) and returns the symbol
  // (kNoSymbol: none due). The caller runs the model on them at once (InferStage::infer_ahead). The symbol's
  // next trade or depth message then reports the sample (1, or kRowOnly) as it would have, with the same
  // rows, without sampling again; a message that also crosses a later boundary samples that one as usual.
  // O(1) while no boundary is due (one compare); a scan of the symbols when one is. Hot path.
  [[nodiscard]] feed::SymbolId sample_boundaries(std::int64_t now, SampleMeta& out) noexcept;

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
  // copy of each frame up to kWarmFrameBytes for it: keep_frame(), which the owner calls while the frame
  // passed to on_json() is still alive and after the tick's work (the inline loop: after the decision, so the
  // memcpy is not on the tick's path); until then warm() and warm_slice() do nothing. Hot path.
  static constexpr std::size_t kWarmFrameBytes = 64 * 1024;
  void keep_frame() noexcept;
  void warm() noexcept;
  std::uint64_t warm_parses() const noexcept { return warm_parses_; }

  // The path warm-up (`[engine] keep_warm_path`, on by default with keep_warm = "infer"; the inline loop,
  // once per keep_warm_after_us of idleness, one slice per idle pass): the book's, the sampling's and the
  // features' UPDATE code runs on a scratch symbol state (an L2Book and a FeatureEngine of the same shape,
  // made with the first symbol of each market), never on a symbol's own:
  //   slice 0  the last depth diff's frame parsed again into a scratch event (as warm() does; skipped while
  //            the last level-writing frame is a snapshot);
  //   slice 1  seed: the scratch book is loaded with the top kWarmLevels levels of that symbol's book (a
  //            snapshot, then an empty diff so the next one takes the steady-state chain check) and the
  //            scratch features get the symbol's feature state (FeatureEngine::copy_state_from);
  //   slice 2  the scratch event applied to the scratch state by the code a live message runs (apply(): the
  //            diff, one crossed sampling boundary with its row, the features' book update);
  //   slice 3  the last trade frame parsed again and applied to the scratch state the same way.
  // Nothing a tick sees changes: the symbols' books, features, sampling clocks, the counters, md_seq, the
  // last stamps, the last event and its levels (the depth frame kept is the one whose levels the parser's
  // buffer holds) — tested byte for byte (tests/pipeline/
  // test_path_warm.cpp). Each slice is short (slice costs: `tickrt run`'s "path warm" line). Hot path: no
  // allocation (the scratch state is made with the symbol's), no locks, no syscalls beyond the clock.
  // Between ticks (the inline loop's trickle, keep_warm_trickle_us): reads `chunks` chunks of the symbols' live books
  // (their level keys and quantities; BookSide::touch), going on where the last call stopped, symbol by symbol, so a
  // diff's levels deep in the book are in cache when it comes (~100 ms apart at 1x the book's update code found
  // them evicted). Loads only: no state changes. Hot path.
  void touch_books(std::size_t chunks) noexcept;

  static constexpr int kWarmSlices = 4;
  static constexpr std::size_t kWarmLevels = 128;
  void warm_slice(int slice) noexcept;
  std::uint64_t warm_applied() const noexcept { return warm_applied_; }   // slices 2 and 3 that ran apply()
  // The scratch state (tests): nullptr before the first symbol of that market.
  const SymbolState* warm_scratch(feed::Market m) const noexcept { return scratch_[m == feed::Market::futures ? 1 : 0].get(); }

 private:
  int handle(TickStamps& t, SampleMeta& out) noexcept;
  // The rows of every boundary <= until (s.next_sample != 0), taken from the features' state now; next_sample moves
  // past `until`. What a crossing message (apply) and the clock (sample_boundaries) both run.
  void take_rows(SymbolState& s, std::int64_t until) const noexcept;
  // The per-symbol part of a message (book, sampling, features), on `s` with counters `c`: the live path
  // (the symbol's state, the handler's counters, live = true: a gap queues a resync) and the warm-up (the
  // scratch state and counters, live = false) run this same code.
  int apply(SymbolState& s, const feed::Event& ev, MarketCounters& c, bool live, std::uint64_t seq, TickStamps& t,
            SampleMeta& out) noexcept;
  SymbolState* state_for(feed::SymbolId id, feed::Market m) noexcept;
  // Kept frames for the warm-ups (one memcpy per message, in keep_frame()).
  struct WarmFrame {
    std::unique_ptr<char[]> buf;   // kWarmFrameBytes
    std::size_t len = 0;           // 0: none
    std::int64_t ts = 0;
  };
  bool reparse(const WarmFrame& f) noexcept;   // into warm_ev_; true when it parsed

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
  std::int64_t next_boundary_ = INT64_MAX;   // sample_boundaries(): no symbol's next boundary is earlier (may be stale-low)
  WarmFrame depth_frame_;                // the last depth diff or snapshot (what the parser's level buffer holds)
  WarmFrame other_frame_;                // the last frame of any other kind
  feed::EventKind depth_kind_ = feed::EventKind::none, other_kind_ = feed::EventKind::none;
  const char* pending_ = nullptr;        // on_json()'s frame, not yet copied by keep_frame()
  std::size_t pending_len_ = 0;
  std::int64_t pending_ts_ = 0;
  feed::EventKind pending_kind_ = feed::EventKind::none;
  bool last_was_depth_ = false;          // warm(): which of the two came last
  feed::Event warm_ev_;
  std::uint64_t warm_parses_ = 0;
  // Path warm-up: a scratch symbol state per market (spot, futures), its counters, sample, level buffer.
  std::unique_ptr<SymbolState> scratch_[2];
  MarketCounters scratch_c_;
  SampleMeta scratch_meta_;
  std::unique_ptr<feed::Level[]> warm_levels_;   // 2 * kWarmLevels
  SymbolState* warm_sym_ = nullptr;              // the scratch state seeded in slice 1 (nullptr: skip 2)
  bool warm_depth_ok_ = false;                   // slice 0 parsed a depth diff into warm_ev_
  std::uint64_t warm_applied_ = 0;
  std::size_t touch_sym_ = 0, touch_chunk_ = 0;   // touch_books: where the next call goes on
};

}  // namespace tickrt::pipeline
