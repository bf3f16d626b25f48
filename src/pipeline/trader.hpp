// pipeline/trader.hpp — the execution half of a tick: model output -> strategy -> risk -> OMS,
// and execution reports back (fills to risk, latency stamps to the stage histograms).
//
// Who calls: the trading thread only (inline mode: the one pipeline thread; pipelined: the
// execution thread). It owns the Oms (exec/oms.hpp), one SignalStrategy per traded symbol
// (strategy/strategy.hpp) and the RiskEngine (risk/risk_engine.hpp); the gateway runs on its own
// IO thread behind the two rings of exec/gateway.hpp.
//   on_result(r)  per inference of a traded symbol: marks risk at the sample's top of book, asks
//                 the strategy for intents, checks each with risk, submits/cancels through the OMS.
//   poll()        drains execution reports: fills to risk, order/fill log records, and the
//                 latency of the order that caused each first answer (gateway t2 - OMS t1 =
//                 "order encode+send"; t2 - tick receive = "tick->order sent").
//   cancel_all()  shutdown / kill switch: cancels every live order.
//   recover()     setup path, once, after create() and BEFORE the gateway starts: rebuilds the OMS
//                 from the journal and reconciles it with the exchange (exec/recovery.hpp), then
//                 seeds risk with the recovered positions. A mismatch leaves the OMS halted.
// Hot path: no allocation, no locks, no I/O: what humans read (order and fill lines) goes into an
// SPSC ring the main thread prints from (LogRecord).
// Limits: at most risk::RiskEngine::kMaxSymbols traded symbols; other symbols are inferred only.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/spsc_ring.hpp"
#include "core/status.hpp"
#include "exec/journal.hpp"
#include "exec/oms.hpp"
#include "exec/recovery.hpp"
#include "metrics/standard.hpp"
#include "pipeline/config.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/latency.hpp"
#include "risk/risk_engine.hpp"
#include "strategy/signal_strategy.hpp"

namespace tickrt::pipeline {

// One human-readable event, formatted later by the main thread.
struct LogRecord {
  enum class Kind : std::uint8_t { order, cancel, fill, reject, refused, expired, canceled };
  Kind kind = Kind::order;
  exec::Side side = exec::Side::buy;
  exec::OrderType type = exec::OrderType::limit;
  exec::SymbolName symbol;
  exec::ClientOrderId id;
  Price price;
  Qty qty;
  std::int64_t ns = 0;           // now_ns() of the event
  std::uint64_t md_seq = 0;      // orders: the market-data message that caused it
  float p_down = 0, p_up = 0;    // orders: the model's probabilities behind it
  std::int16_t code = 0;         // reject: exec::RejectCode; refused: risk::Reason
  bool maker = false;
};

struct TraderCounters {
  std::uint64_t decisions = 0;
  std::uint64_t intents = 0;
  std::uint64_t orders = 0;
  std::uint64_t cancels = 0;
  std::uint64_t fills = 0;
  std::uint64_t risk_refused = 0;
  std::uint64_t submit_failed = 0;
  std::uint64_t rejects = 0;
  std::uint64_t log_dropped = 0;
};

// The config's [strategy] / [risk] settings as the strategy and the risk engine take them: one mapping for
// the single process (Trader), the NATS strategy shards and the execution node (src/bus), so a strategy is
// configured exactly as it will trade wherever it runs. Setup path.
Result<strategy::StrategyConfig> strategy_config(const PipelineConfig& cfg, const std::string& symbol);
// One traded symbol's risk limits: [risk] with that symbol's [strategy.symbols.<SYMBOL>] sizes applied (for_symbol).
risk::SymbolLimits symbol_limits(const PipelineConfig& all, std::string_view symbol);
// Account-wide limits; the open-order cap and the order rate (cancels: twice it) are the caller's, since a
// process trading several symbols scales them its own way.
risk::AccountLimits account_limits(const PipelineConfig& cfg, std::uint32_t max_open_orders, std::uint32_t orders_per_s);
// The OMS's live orders of one symbol as the strategy and risk see them (at most out.size()); sent_ns is the
// order's creation time when `caller_time` (a backtest's simulated clock), the OMS enqueue time otherwise.
std::size_t open_orders_of(const exec::Oms& oms, int oms_idx, std::array<risk::OpenOrder, 64>& out, bool caller_time) noexcept;

class Trader {
 public:
  // symbols: the traded symbols (upper case), each with its strategy; rings/journal outlive it.
  static Result<std::unique_ptr<Trader>> create(const PipelineConfig& cfg, const std::vector<std::string>& symbols,
                                                exec::GatewayRings rings, exec::Journal* journal, std::uint32_t session,
                                                TscClock clock);
  Trader(const Trader&) = delete;
  Trader& operator=(const Trader&) = delete;

  // Optional: live metrics (stage histograms, fills, PnL, positions) written by this thread.
  void set_metrics(const metrics::StandardMetrics* m) noexcept { metrics_ = m; }

  // Restart recovery (see the header comment). `jc` is the journal as loaded BEFORE this
  // session began. The Status is not ok for transport failures; mismatches are in `rep`
  // (rep.ok false, the OMS halted). Risk receives each recovered non-zero position as one fill
  // at its average entry price (so position limits hold from the first tick; the previous
  // sessions' realized PnL is not carried into today's loss limits).
  Status recover(const exec::JournalContents& jc, exec::Gateway& gw, exec::Journal* journal,
                 const exec::RecoveryConfig& rc, exec::RecoveryReport& rep);

  // Maps a feed symbol id to a traded symbol (by name), once per feed symbol. Setup-ish: call it
  // when a symbol is first seen (a string compare), not per tick.
  void map_symbol(feed::SymbolId id, std::string_view name) noexcept;

  // Per inference result (hot path). Returns the number of new orders submitted. Time (strategy
  // timers, risk rate limits and staleness) is this thread's TscClock.
  int on_result(const InferResult& r, StageLatency& lat) noexcept { return decide<false>(r, lat, 0); }
  // The same decision at the caller's time `now_ns` (the backtester's simulated clock,
  // backtest/backtester.hpp): no clock is read for decisions, and an open order's age is measured
  // from the strategy's own stamp (OrderRequest::created_ns, on that clock) instead of the OMS's
  // real-time enqueue stamp. A template flag, not a runtime switch: live code is unchanged and pays
  // nothing. r.meta.book_update_ns must be on the same clock as now_ns.
  int on_result_at(const InferResult& r, StageLatency& lat, std::int64_t now_ns) noexcept {
    return decide<true>(r, lat, now_ns);
  }
  // Drains execution reports (hot path). Returns the number applied.
  std::size_t poll(StageLatency& lat) noexcept;
  // Cancels every live order; returns how many cancels were sent.
  std::size_t cancel_all() noexcept;

  // ---- the path warm-up (`[engine] keep_warm_path`; the inline loop, between ticks) ----------------------
  // Setup path, once, after create(): makes the SHADOW trader the warm-up runs — a second Trader of the same
  // symbols and strategy configuration whose OMS has rings of its own (no gateway reads them: nothing it
  // pushes is ever sent), no journal, no metrics, and limits that let a warm order through every time
  // (strategy min_interval 0, risk order rate 10^6/s). It shares no state with this trader.
  Status enable_warm(const PipelineConfig& cfg, const std::vector<std::string>& symbols);
  bool warm_enabled() const noexcept { return shadow_ != nullptr; }
  // Hot path, between ticks, one slice per call (the tick path's code, branch history and the OMS's tables
  // warm, nothing of this trader touched):
  //   slice 0  decide: `last` (the last real inference result) with its outputs set to an entry signal (long
  //            and short in turn) and a fresh book stamp, through the shadow's on_result(): risk mark, open
  //            orders view, strategy, risk check, OMS submit (client id, request into the shadow's ring);
  //   slice 1  settle: the shadow's request taken off its ring and answered with a rejection through its
  //            report ring; the shadow's poll() applies it (OMS state machine, order closed, log record);
  //            the shadow's log drained. The shadow ends each cycle flat with no open order.
  // Nothing changes here (orders, OMS, risk, strategy, counters, latency, the log, the gateway ring, the
  // journal): tested (tests/pipeline/test_path_warm.cpp). Does nothing before enable_warm().
  static constexpr int kWarmSlices = 2;
  void warm_slice(int slice, const InferResult& last) noexcept;
  std::uint64_t warm_orders() const noexcept { return shadow_ ? shadow_->c_.orders : 0; }   // the shadow's submits

  std::size_t open_orders() const noexcept { return oms_->open_orders(); }
  const exec::Oms& oms() const noexcept { return *oms_; }
  risk::RiskEngine& risk() noexcept { return *risk_; }
  const TraderCounters& counters() const noexcept { return c_; }
  // tick->order queued of the order ticks, by part (latency.hpp OrderPart). Read after the threads stopped.
  const OrderParts& order_parts() const noexcept { return parts_; }
  SpscRing<LogRecord>& log() noexcept { return log_; }
  std::size_t symbol_count() const noexcept { return syms_.size(); }
  const std::string& symbol_name(std::size_t i) const noexcept { return syms_[i].name; }
  const strategy::SignalStrategy& strategy(std::size_t i) const noexcept { return syms_[i].strat; }
  int oms_index(std::size_t i) const noexcept { return syms_[i].oms_idx; }

 private:
  Trader(TscClock clock) : clock_(clock) {}
  struct Sym {
    std::string name;
    exec::SymbolName sname;
    strategy::SignalStrategy strat;
    risk::SymbolId risk_id = 0;
    int oms_idx = -1;
  };
  // Why an order was sent: kept by OMS sequence number until its first answer arrives.
  struct Cause {
    std::uint64_t oms_seq = 0;
    std::int64_t recv_ns = 0;
    std::uint64_t md_seq = 0;
  };
  static constexpr std::size_t kCauses = 4096;

  template <bool kCallerTime>
  int decide(const InferResult& r, StageLatency& lat, std::int64_t caller_now) noexcept;
  template <bool kCallerTime>
  std::size_t open_of(int oms_idx, std::array<risk::OpenOrder, 64>& out) const noexcept;
  void rec(StageLatency& lat, Stage s, std::int64_t ns) noexcept {
    lat.record(s, ns);
    if (metrics_ != nullptr) metrics_->stage_latency[static_cast<std::size_t>(s)]->observe(ns);
  }
  void push_log(const LogRecord& r) noexcept {
    if (!log_.try_push(r)) ++c_.log_dropped;
  }

  TscClock clock_;
  std::unique_ptr<exec::Oms> oms_;
  std::unique_ptr<risk::RiskEngine> risk_;
  std::vector<Sym> syms_;
  std::array<std::int16_t, 1024> map_{};    // feed SymbolId -> index in syms_, -1 none, -2 unmapped
  std::vector<Cause> causes_;
  SpscRing<LogRecord> log_{8192};
  exec::ClientOrderId last_canceled_;
  const metrics::StandardMetrics* metrics_ = nullptr;
  TraderCounters c_;
  OrderParts parts_;
  // Path warm-up (enable_warm): the shadow trader, its rings, a latency sink, the result it decides on.
  std::unique_ptr<Trader> shadow_;
  std::unique_ptr<exec::RequestRing> warm_out_;
  std::unique_ptr<exec::ReportRing> warm_in_;
  std::unique_ptr<StageLatency> warm_lat_;
  InferResult warm_res_;
  std::uint64_t warm_flip_ = 0;
};

}  // namespace tickrt::pipeline
