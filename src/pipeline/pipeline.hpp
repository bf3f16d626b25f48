// pipeline/pipeline.hpp — the live tick-to-order runtime behind `tickrt run` and `make demo`.
// The contract.
//
//   market data ──► MarketHandler ──► InferStage ──► Trader ──► OMS ─ring─► gateway IO thread ──► venue
//   (WsFeed: Binance   parse, book,      window ->       strategy,    (exec/)                 (REST, signed)
//    combined streams  features,         model output    risk
//    + REST snapshots; sample            (hot-swappable
//    or CaptureSource)                    ModelSlot)
//
// Threads (config [threads]):
//  * inline: ONE pinned thread runs feed -> parse -> book -> features -> inference -> strategy ->
//    risk -> OMS for every message, and polls execution reports between messages. The gateway's
//    IO thread (exec/) writes the orders; that hand-off is an SPSC ring.
//  * pipelined: feed thread -> SpscRing<InferRequest> (one per inference thread; symbol % n) ->
//    inference thread(s) with dynamic batching (infer_stage.hpp) -> SpscRing<InferResult> ->
//    execution thread (Trader). Each thread has its CPU (pthread_setaffinity_np) and idle
//    strategy (busy / yield / sleep; threads.hpp).
//  Around them: the model swapper (background, SCHED_IDLE), the REST snapshot fetcher, the
//  metrics server (metrics/), the in-process venue (venue/ + sim/) for feed.source = "sim", the
//  journal writer (exec/journal.hpp), and the main thread, which prints order/fill lines from the
//  trading thread's log ring, watches the duration / capture end / signals, and at the end prints
//  the summary.
//
// Startup (create()): model, feed, venue (sim), then exec: the journal is loaded, a new session
// begun, the OMS created, and restart recovery (exec::recover: replay the journal, reconcile with
// the exchange) runs BEFORE the gateway starts; a mismatch fails closed (kRecoveryFailedClosed).
//
// Shutdown (SIGINT/SIGTERM via the caller's stop flag, duration, or the capture's end): the
// trading thread cancels every open order and keeps polling reports until none is open or
// exec.cancel_timeout_ms passed; then the threads stop, the gateway stops, the journal is
// flushed and closed, and summary() reports orders, fills, PnL, counters and the latency table.
//
// Several symbols: every feed symbol is traded (feed.symbols for the url source; every capture's
// symbol for the sim source, whose venue interleaves `feed.captures` on their receive stamps), each
// with its own strategy state, risk limits, position and PnL (Trader), at most
// risk::RiskEngine::kMaxSymbols (more: create() fails naming the key). [strategy]/[risk] apply to
// each symbol as written (order_qty is in each symbol's base asset). The capture source trades its
// one file's symbol (its renamed copies are inferred only). RunSummary::symbols and the report carry
// one position/PnL entry per traded symbol and the total.
//
// Latency: each thread records its stages (latency.hpp) into its own StageLatency; they are
// merged after the run. Metrics histograms (tickrt_stage_latency_seconds{stage}) are fed by the
// same threads (one writer per series).
// Wire-to-wire: a loopback tap (wire_tap.hpp) between the client and the in-process venue stamps
// market-data frames as they leave the venue and order requests as they reach it, and matches an
// order to the frame that caused it (the pipeline records the frame number per order).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "pipeline/config.hpp"
#include "pipeline/latency.hpp"

namespace tickrt::pipeline {

class ModelSwapper;

// create() fails with a Status whose message starts with this (Code::out_of_sync) when restart
// recovery cannot explain the journal against the exchange: fail closed, nothing was traded.
// `tickrt run` exits 3 on it.
inline constexpr std::string_view kRecoveryFailedClosed = "exec recovery failed closed";

// One traded symbol at the end of a run (base 1e-8 / quote 1e-8, exec::Position).
struct SymbolSummary {
  std::string symbol;
  std::int64_t position_raw = 0;
  std::int64_t realized_raw = 0, unrealized_raw = 0, fees_raw = 0;
  std::int64_t recovered_position_raw = 0;  // rebuilt by restart recovery at create()
  std::int64_t net_raw() const noexcept { return realized_raw + unrealized_raw - fees_raw; }
};

struct RunSummary {
  std::uint64_t messages = 0, malformed = 0, samples = 0, inferences = 0, batches = 0, coalesced = 0;
  std::uint64_t dropped_windows = 0;      // pipelined: inference ring full (a tick lost)
  std::uint64_t orders = 0, cancels = 0, fills = 0, rejects = 0, risk_refused = 0;
  // risk_refused by rule: (risk::reason_name(Reason), count) of every rule that refused something.
  std::vector<std::pair<std::string, std::uint64_t>> risk_refused_by;
  std::uint64_t open_orders_at_end = 0;   // after the shutdown cancel (0 expected)
  std::uint64_t cancels_at_shutdown = 0;
  std::uint64_t swaps_ok = 0, swaps_failed = 0;
  std::uint64_t model_version = 0;
  std::uint64_t journal_written = 0, journal_appended = 0;
  // Every traded symbol, in the order traded (feed order); the scalars below are symbols[0]'s.
  std::vector<SymbolSummary> symbols;
  std::int64_t position_raw = 0;          // first traded symbol, base 1e-8
  std::int64_t realized_raw = 0, unrealized_raw = 0, fees_raw = 0;  // quote 1e-8
  double seconds = 0;
  std::string stop_reason;
  // Restart recovery at create() (exec/recovery.hpp): rows the journal held before this session,
  // the report's summary ("" when nothing was recovered), the position it rebuilt.
  std::uint64_t recovery_records = 0;
  std::string recovery;
  std::int64_t recovered_position_raw = 0;
  std::uint64_t recovered_orders = 0, recovered_fills = 0;  // replayed from the journal
  StageLatency latency;
  // Hot swap (infer_stage.hpp): engine time of the first inference on each adopted model vs the rest.
  LatencyHistogram swap_first, swap_others;
  OrderParts order_parts;                 // tick->order queued of the order ticks, by part
};

class Pipeline {
 public:
  // Setup: loads and validates the model, starts the venue (sim), the metrics server, the
  // journal and the gateway. The Status names the config key / file / endpoint that failed.
  static Result<std::unique_ptr<Pipeline>> create(const PipelineConfig& cfg, std::ostream& out);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Runs until `stop` becomes true (signal handler), the duration passes or the capture ends.
  // Prints order/fill lines to `out` as they happen (when report.print_orders).
  Status run(const std::atomic<bool>& stop);
  const RunSummary& summary() const noexcept;
  // Human-readable summary: orders, fills, PnL, counters, latency table with the budget.
  std::string report() const;

  // For tests and the control endpoint.
  ModelSwapper& swapper() noexcept;
  std::uint16_t metrics_port() const noexcept;
  std::uint16_t venue_port() const noexcept;
  const PipelineConfig& config() const noexcept;
  // Open orders of our account on the in-process venue (-1 without one). After run(): 0 expected.
  std::int64_t venue_open_orders();

  struct Impl;

 private:
  explicit Pipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickrt::pipeline
