// exec/oms.hpp — the order management system: order state machine, client order ids, open-order
// table, positions and PnL. The contract.
//
// Who calls: ONE thread, the trading thread, owns the Oms and calls every member (submit, cancel,
// cancel_all, poll, mark, queries). The gateway talks to it only through the two rings of
// exec/gateway.hpp; the journal (exec/journal.hpp) is fed through its own SPSC ring.
//
// Hot path (submit, cancel, cancel_all, poll, mark): noexcept, no heap allocation, no locks, no
// virtual calls, no I/O. Results are [[nodiscard]] codes. Setup path (create, restore_*): Status.
//
// State machine (exhaustively tested in tests/exec/test_oms.cpp):
//   pending_new  -> new | partially_filled | filled | rejected | canceled | expired | unknown
//   new          -> partially_filled | filled | pending_cancel | canceled | expired | unknown
//   partially    -> partially_filled | filled | pending_cancel | canceled | expired | unknown
//   pending_cancel -> canceled | filled | expired | unknown | (cancel rejected: back to before)
//                     (fills while pending_cancel update quantities, status stays pending_cancel)
//   unknown      -> whatever the exchange answers to the query (any status), or rejected when
//                   the exchange never saw the order (no_such_order)
//   terminal (filled, canceled, rejected, expired) -> nothing
// A report that would move an order backwards (a late NEW after a fill) is ignored and counted
// (stale_reports). An illegal transition (a fill on a canceled order, an overfill, a report for
// an order we never sent) is counted in OmsCounters and journaled as an anomaly row (the log is
// written by the journal thread, off the hot path); it never crashes. A fill the exchange reports
// is real money: a new fill (cum_qty beyond what we applied) always updates the position, even
// when it is illegal for the state machine — the anomaly says so.
//
// Fill de-duplication: per order, fills are applied while report.cum_qty grows. A gateway may
// deliver the same fill twice (REST answer + user data stream, query after reconnect); a trade
// report whose cum_qty is not above the order's applied cum_qty is a duplicate and is ignored.
//
// Unknown outcomes: a report {exec_type status, status unknown} (gateway lost the answer) marks
// the order unknown and the OMS sends GatewayOp::query for it (retried on later polls when the
// outbound ring is full). Nothing is assumed.
//
// Client order ids: "<prefix>-<session>-<seq>" (e.g. "tk-12-4071"). prefix: 1-12 of
// [A-Za-z0-9_]; session: a number the journal hands out at startup and persists synchronously
// before any order is sent (Journal::begin_session), so ids never repeat across restarts even
// when the tail of the asynchronous journal is lost; seq: counts up from 1 within a session.
// Cancels get their own ids from the same counter.
//
// Limits: max_open_orders live orders (fixed table, set at create); up to kMaxSymbols symbols;
// prices/quantities in 1e-8 fixed point, PnL in 1e-8 quote units (int64: |PnL| < 9.2e10 quote).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "exec/gateway.hpp"
#include "exec/order_types.hpp"

namespace tickrt::exec {

class Journal;
struct JournalRecord;

inline constexpr std::size_t kMaxSymbols = 32;

struct OmsConfig {
  std::string id_prefix = "tk";
  std::uint32_t session = 1;            // from Journal::begin_session (or a test)
  std::size_t max_open_orders = 1024;   // live (non-terminal) orders
  std::vector<std::string> symbols;     // tradable symbols; index = position in this list
};

enum class SubmitResult : std::uint8_t {
  ok = 0,
  unknown_symbol,
  table_full,        // max_open_orders live orders
  ring_full,         // gateway outbound ring full (gateway slow or down)
  journal_full,      // journal ring full: refuse rather than send an unjournaled order
  bad_order,         // qty <= 0, price <= 0 for a limit order
  no_such_order,     // cancel: not a live order
  already_canceling, // cancel: a cancel is in flight
  halted,            // trading halted (recovery failed closed, or halt() called)
};
constexpr std::string_view submit_result_name(SubmitResult r) noexcept {
  switch (r) {
    case SubmitResult::ok: return "ok";
    case SubmitResult::unknown_symbol: return "unknown_symbol";
    case SubmitResult::table_full: return "table_full";
    case SubmitResult::ring_full: return "ring_full";
    case SubmitResult::journal_full: return "journal_full";
    case SubmitResult::bad_order: return "bad_order";
    case SubmitResult::no_such_order: return "no_such_order";
    case SubmitResult::already_canceling: return "already_canceling";
    case SubmitResult::halted: return "halted";
  }
  return "?";
}

// Why a report was not applied as-is (journaled as anomaly rows with this code).
enum class Anomaly : std::uint8_t {
  none = 0,
  unknown_order,        // report for a client id we do not know (not live, not recently closed)
  fill_after_terminal,  // a new fill on a canceled/rejected/expired order (position updated)
  overfill,             // cum_qty above the order quantity (position updated)
  fill_gap,             // cum_qty jumped by more than last_qty (a fill report was missed)
  status_regress,       // report would move the order backwards (ignored; also counted stale)
  terminal_changed,     // a terminal order reported in a different terminal state (ignored)
  bad_report,           // malformed (zero/negative fill quantity, unknown exec type)
  query_not_found,      // exchange does not know an order we sent (marked rejected)
  foreign_report,       // our client id but another symbol: another session on the account reusing the
                        // id (same id_prefix and session number); never applied to our order or position
};
constexpr std::string_view anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::none: return "none";
    case Anomaly::unknown_order: return "unknown_order";
    case Anomaly::fill_after_terminal: return "fill_after_terminal";
    case Anomaly::overfill: return "overfill";
    case Anomaly::fill_gap: return "fill_gap";
    case Anomaly::status_regress: return "status_regress";
    case Anomaly::terminal_changed: return "terminal_changed";
    case Anomaly::bad_report: return "bad_report";
    case Anomaly::query_not_found: return "query_not_found";
    case Anomaly::foreign_report: return "foreign_report";
  }
  return "?";
}

// One order as the OMS tracks it.
struct OrderEntry {
  OrderRequest req;                 // as sent (client_order_id assigned by the OMS)
  std::uint64_t exchange_order_id = 0;
  std::uint64_t seq = 0;            // the <seq> part of the id
  Qty cum_qty;                      // applied fills
  std::int64_t cum_quote_raw = 0;   // sum(price*qty) of applied fills, 1e-8 quote
  std::int64_t fees_raw = 0;
  std::int64_t enqueue_ns = 0;      // t1 of exec/gateway.hpp
  OrderStatus status = OrderStatus::pending_new;
  OrderStatus before_cancel = OrderStatus::new_;  // restored when a cancel is rejected
  std::uint16_t symbol_index = 0;
  bool query_pending = false;       // unknown, query not yet pushed (ring was full)
  bool live = false;                // slot in use
};

struct Position {
  SymbolName symbol;
  std::int64_t qty_raw = 0;          // signed base quantity, 1e-8
  std::int64_t avg_price_raw = 0;    // average entry price of the open position
  std::int64_t realized_raw = 0;     // realized PnL, 1e-8 quote, before fees
  std::int64_t fees_raw = 0;         // commissions paid (negative = rebates)
  std::int64_t mark_raw = 0;         // last mark() price
  std::int64_t bought_raw = 0;       // total base bought / sold (for reconciliation)
  std::int64_t sold_raw = 0;
  // pos * (mark - avg), 1e-8 quote; 0 without a mark.
  std::int64_t unrealized_raw() const noexcept;
};

struct OmsCounters {
  std::uint64_t submitted = 0, cancels_sent = 0, queries_sent = 0, reports = 0, fills = 0;
  std::uint64_t duplicate_fills = 0, stale_reports = 0, late_reports = 0;
  std::uint64_t anomalies = 0;        // sum of the below
  std::uint64_t unknown_order = 0, fill_after_terminal = 0, overfill = 0, fill_gap = 0;
  std::uint64_t terminal_changed = 0, bad_report = 0, query_not_found = 0, foreign_report = 0;
  std::uint64_t rejected_submits = 0; // submit/cancel calls that returned != ok
};

// What poll() hands the caller per applied report (the pipeline: fills to strategy, latency).
struct OmsEvent {
  const ExecReport* report = nullptr;
  const OrderEntry* order = nullptr;   // state after the report; nullptr for unknown orders
  bool fill_applied = false;           // report carried a new fill
  Anomaly anomaly = Anomaly::none;
};

class Oms {
 public:
  // Setup path. rings must outlive the Oms; journal may be null (tests, backtests).
  [[nodiscard]] static Result<std::unique_ptr<Oms>> create(const OmsConfig& cfg, GatewayRings rings,
                                                           Journal* journal);
  ~Oms();
  Oms(const Oms&) = delete;
  Oms& operator=(const Oms&) = delete;

  // ---- hot path (trading thread) ----------------------------------------------------------
  // Symbol index of a configured symbol, -1 if not configured (setup: resolve once).
  [[nodiscard]] int symbol_index(std::string_view symbol) const noexcept;

  // Assigns a client order id, records the order (pending_new), journals it and pushes a
  // new_order request to the gateway. `req.symbol`/side/type/tif/price/qty/created_ns come from
  // the caller; req.client_order_id is overwritten. out_id (optional) receives the id.
  [[nodiscard]] SubmitResult submit(const OrderRequest& req, ClientOrderId* out_id = nullptr) noexcept;
  // Cancels a live order (pending_cancel until the exchange answers).
  [[nodiscard]] SubmitResult cancel(const ClientOrderId& id) noexcept;
  // Cancels every live order (of one symbol index, or all when symbol_index < 0) that is not
  // already being canceled. Returns the number of cancels sent; orders whose cancel could not be
  // pushed (ring full) are counted in `*not_sent`.
  std::size_t cancel_all(int symbol_index = -1, std::size_t* not_sent = nullptr) noexcept;

  // Drains up to max_reports execution reports from the inbound ring and applies them; calls
  // on_event(const OmsEvent&) for each (may be a no-op lambda). Stops early when the journal ring
  // is full (the report stays in the ring: a fill is never dropped). Returns reports applied.
  template <class F>
  std::size_t poll(F&& on_event, std::size_t max_reports = 64) noexcept {
    std::size_t n = 0;
    retry_queries();
    while (n < max_reports) {
      ExecReport* r = rings_.inbound->front();
      if (r == nullptr) break;
      OmsEvent ev;
      if (!apply(*r, ev)) break;   // journal full: leave it for the next poll
      on_event(static_cast<const OmsEvent&>(ev));
      rings_.inbound->pop();
      ++n;
    }
    return n;
  }
  std::size_t poll() noexcept {
    return poll([](const OmsEvent&) {});
  }

  // Applies one report directly (used by poll and by recovery replay). False only when the
  // journal ring was full and nothing was applied.
  [[nodiscard]] bool apply(const ExecReport& r, OmsEvent& ev) noexcept;

  void mark(int symbol_index, Price price) noexcept;
  // Stops new orders (cancels are still allowed so exposure can be taken down).
  void halt() noexcept { halted_ = true; }
  void resume() noexcept { halted_ = false; }
  [[nodiscard]] bool halted() const noexcept { return halted_; }

  // ---- queries (trading thread) --------------------------------------------------------------
  [[nodiscard]] const OrderEntry* find(std::string_view client_order_id) const noexcept;
  [[nodiscard]] const Position& position(int symbol_index) const noexcept { return positions_[symbol_index]; }
  [[nodiscard]] std::size_t symbol_count() const noexcept { return nsymbols_; }
  [[nodiscard]] std::size_t open_orders() const noexcept { return live_count_; }
  [[nodiscard]] const OmsCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint32_t session() const noexcept { return session_; }
  [[nodiscard]] std::uint64_t next_seq() const noexcept { return next_seq_; }
  [[nodiscard]] std::string_view prefix() const noexcept { return {prefix_, prefix_len_}; }
  // Calls f(const OrderEntry&) for every live order.
  template <class F>
  void for_each_open(F&& f) const {
    for (std::size_t i = 0; i < capacity_; ++i)
      if (entries_[i].live) f(static_cast<const OrderEntry&>(entries_[i]));
  }

  // ---- recovery (setup path; exec/recovery.hpp) ----------------------------------------------
  // Re-creates a journaled order without sending anything (state pending_new, or as given).
  [[nodiscard]] Status restore_order(const OrderRequest& req, std::int64_t enqueue_ns) noexcept;
  // Marks a cancel as in flight for a restored order (a journaled cancel request).
  void restore_cancel(std::string_view orig_client_order_id) noexcept;
  // Recovery: a journaled cancel that never took effect (the exchange still shows the order
  // open after a restart): pending_cancel -> the status before the cancel.
  void cancel_lost(std::string_view client_order_id) noexcept;
  // Pushes a query for an order (recovery asks the gateway; also used after a restart for
  // non-terminal orders when the gateway is live). ring_full when it could not.
  [[nodiscard]] SubmitResult query(std::string_view client_order_id) noexcept;
  // Parses "<prefix>-<session>-<seq>"; false when the id is not ours.
  [[nodiscard]] bool parse_id(std::string_view id, std::uint32_t& session, std::uint64_t& seq) const noexcept;
  // Journal on/off (recovery replays the journal with it off, so rows are not written twice).
  void set_journal(Journal* j) noexcept { journal_ = j; }
  [[nodiscard]] Journal* journal() const noexcept { return journal_; }

 private:
  Oms() = default;
  struct Slot;
  [[nodiscard]] OrderEntry* lookup(std::string_view id) noexcept;
  [[nodiscard]] OrderEntry* insert(const ClientOrderId& id) noexcept;
  void erase(OrderEntry* e) noexcept;
  void make_id(std::uint64_t seq, ClientOrderId& out) const noexcept;
  [[nodiscard]] bool journal_push(const JournalRecord& rec) noexcept;
  void note_anomaly(Anomaly a, const ExecReport& r) noexcept;
  void apply_fill(OrderEntry& e, const ExecReport& r) noexcept;
  void close(OrderEntry* e) noexcept;
  void retry_queries() noexcept;
  [[nodiscard]] bool push_query(OrderEntry& e) noexcept;
  [[nodiscard]] const OrderEntry* find_closed(std::string_view id) const noexcept;

  GatewayRings rings_;
  Journal* journal_ = nullptr;
  char prefix_[13] = {};
  std::size_t prefix_len_ = 0;
  std::uint32_t session_ = 1;
  std::uint64_t next_seq_ = 1;
  bool halted_ = false;

  std::size_t nsymbols_ = 0;
  std::array<SymbolName, kMaxSymbols> symbols_{};
  std::array<Position, kMaxSymbols> positions_{};

  // Open-order table: entries_ (capacity_) + open-addressing index_ (index_mask_+1 slots,
  // >= 2x capacity so probes stay short) of entry numbers, kEmpty when free. Backward-shift
  // deletion, no tombstones.
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  std::unique_ptr<OrderEntry[]> entries_;
  std::unique_ptr<std::uint32_t[]> free_;   // stack of free entry numbers
  std::size_t free_top_ = 0;
  std::unique_ptr<std::uint32_t[]> index_;
  std::size_t index_mask_ = 0;
  std::size_t capacity_ = 0;
  std::size_t live_count_ = 0;
  std::size_t queries_waiting_ = 0;

  // Recently closed orders (a ring): late duplicates and fills after a terminal state are
  // recognised against these instead of being "unknown order".
  static constexpr std::size_t kClosed = 1024;
  std::unique_ptr<OrderEntry[]> closed_;
  std::size_t closed_next_ = 0;

  OmsCounters counters_;
};

}  // namespace tickrt::exec
