// backtest/backtester.hpp — the latency-aware tick backtester behind `tickrt backtest`.
//
// What it does: replays Binance captures (parsed once into memory, capture_store.hpp) through the
// SAME code as `tickrt run`: pipeline::MarketHandler (parse result -> book -> features ->
// samples), pipeline::InferStage::infer_one (the engine, inline mode), pipeline::Trader
// (strategy -> risk -> OMS, exec::GatewayRings). Instead of a network gateway, a simulated
// gateway drains the OMS's outbound ring INSIDE the single backtest thread and runs each request
// against sim::MatchingEngine in replay mode (its queue-position model), on one event-driven
// simulated clock. Deterministic: the same data, config and seed give byte-identical results
// (with record_wall_time = false and no "measured" latency; measured latencies are drawn from
// what this machine measured at the start, so they vary run to run).
//
// Clock (docs/BACKTEST.md "Latency model"). Three streams are merged by time:
//   * market data reaching us: each event at its local receive stamp (the capture's);
//   * market data at the venue: each event at venue_ns = local - feed latency (capture_store.hpp),
//     applied to the matching engine's displayed book (exchange order);
//   * actions: decisions, orders arriving at the venue, reports arriving back.
// A sample due at message time t is decided at s = max(t + features, busy) + inference (busy: the
// trading thread is still deciding an earlier sample: inline mode has one thread); the Trader runs
// at s with simulated time s and the top of book of t; each request it queues reaches the venue at
// s + order_out and is matched against the venue book as of then (events kept replaying); each
// report the venue produces at v reaches the Trader at v + order_back. features / inference are
// drawn per sample from distributions that are either measured on this machine at the start of the
// run (features: the live MarketHandler's cost of the message that made the sample due, over the
// whole capture; inference: `inference_samples` timed runs of the engine on real windows) or given
// in the config; order_out / order_back from the config. Each draw comes from its own seeded
// stream, so a zero-latency twin (inference charged 0) sees the same feature and order draws.
// Ties at one ns: venue events, then actions, then our market data.
//
// Who calls: cmd_backtest.cpp, tests/backtest, bench/backtest. Setup path: create() loads data and
// engines (Status naming the file/key). run() replays one engine (or none: throughput mode) on the
// calling thread; the replay loop allocates nothing per event (vectors reserved up front; an
// order, a report or a fill appends to vectors reserved for the run's expected size).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backtest/capture_store.hpp"
#include "backtest/latency_model.hpp"
#include "backtest/result.hpp"
#include "core/status.hpp"
#include "pipeline/config.hpp"

namespace tickrt::backtest {

struct EngineSpec {
  std::string label;      // report name ("" = from precision / file name)
  std::string path;       // .onnx (built FP32 at load) or .engine (tickrt build / quant)
  std::string precision;  // "" = from the engine's tickrt.precision metadata (fp32 when none)
};

struct BacktestConfig {
  // [backtest]
  std::vector<std::string> data;        // capture files (gzip or plain), relative to base_dir
  std::vector<EngineSpec> engines;      // "label=path" or "path" strings in TOML
  std::string symbol;                   // traded symbol; "" = the first symbol in the data
  std::uint64_t seed = 1;
  bool zero_latency_twins = true;
  double capital = 10'000;              // quote units (metrics)
  std::int64_t equity_period_ms = 1000; // equity sampling (also on every fill)
  bool record_wall_time = true;         // RunCounters::wall_seconds (false: byte-identical reruns)
  std::string title = "tickrt backtest";
  std::string out = "backtest-out";     // report directory (CLI --out overrides)
  std::int64_t stream_max_gap_ms = 5000; // streaming models: the live [model] keys of the same name (one reset policy)
  int stream_warmup = -1;
  // [latency]
  double feed_floor_us = 0;             // one-way latency of each file's fastest message
  std::string features = "measured";    // or a LatencyDist spec ("fixed:2")
  std::string inference = "measured";   // for every engine; or a spec
  int inference_samples = 300;          // timed inferences per engine when measured
  // A window LSTM model with a measured latency is charged as the live inline pipeline runs it with
  // [engine] window_prefix (pipeline/prefix_infer.hpp): the last step's measured latency at a sample
  // whose prefix would be ready (one new row since the symbol's previous sample, and the previous
  // inference + the measured prefix time over before it), the whole window's otherwise. Same logits.
  bool window_prefix = true;
  // [engine] infer_at_boundary (pipeline/infer_stage.hpp infer_ahead): live inline, the model runs when the clock
  // passes the sample's boundary if the trading thread is free between the boundary and the message that crosses
  // it; that message then waits only for what is left of the run (usually nothing: the charged inference is 0).
  // Otherwise (the thread busy until the message came) the message runs it, as before. Same logits.
  bool infer_at_boundary = true;
  // Per engine (by run label): its own spec instead of `inference` ("measured" allowed).
  std::vector<std::pair<std::string, std::string>> inference_by_engine;
  std::string order_out = "lognormal:250,0.3";   // us: OMS ring -> matching engine
  std::string order_back = "lognormal:250,0.3";  // us: matching engine -> OMS inbound ring
  // [sim]
  double maker_fee_bps = 10;
  double taker_fee_bps = 10;
  std::string queue_model = "proportional";  // proportional | cancels_behind | cancels_ahead
  // [strategy] and [risk]: the pipeline's own keys and loader (pipeline/config.hpp)
  pipeline::PipelineConfig trading;

  std::string base_dir;                 // relative paths resolve against it
  std::string origin;                   // file name (or "<embedded>") for messages
  std::string effective_toml;           // echoed into BacktestResult::config_toml
};

// Every key with its default (configs/backtest.toml is a commented copy).
extern const std::string_view kDefaultBacktestToml;

// Errors name the file (origin), the key and the problem; unknown keys are errors.
Result<BacktestConfig> parse_backtest_config(std::string_view toml_text, std::string_view origin, const std::string& base_dir);
Result<BacktestConfig> load_backtest_config(const std::string& path);
// "a.engine,fp16=b.engine" -> specs (label=path form optional).
std::vector<EngineSpec> parse_engine_list(std::string_view csv);

// Progress: run label, events replayed, events total (called every 2^16 events and at the end).
using ProgressFn = std::function<void(const std::string& run, std::uint64_t done, std::uint64_t total)>;

struct RunRequest {
  int engine = -1;            // index into config.engines; -1 = no model (no inference, no orders)
  bool zero_latency = false;
  // Venue book updates (docs/BACKTEST.md "Lazy venue"): false (default) = deferred while nothing
  // can observe them — until the first order reaches the venue, the matching engine's replay
  // events are queued (a cursor into CaptureStore::venue_events(), no copy) and applied, in the
  // same order and with the same stamps, just before the engine is next asked anything (an
  // order, the mid for an equity point); from the first order on, every event is applied as it
  // happens. The engine sees the same calls in the same order, so results are byte-identical to
  // eager = true (tests/backtest: LazyVenueMatchesEager). With no model nothing ever asks, so a
  // --no-model replay does no venue work unless eager.
  bool eager_venue = false;
};

class Backtester {
 public:
  // Loads the captures (parsed once) and every engine (+ measures latencies where "measured").
  static Result<std::unique_ptr<Backtester>> create(BacktestConfig cfg, const ProgressFn& progress = {});
  ~Backtester();
  Backtester(const Backtester&) = delete;
  Backtester& operator=(const Backtester&) = delete;

  // One run on this thread. The EngineRun has everything but metrics (finalize() fills them).
  Result<EngineRun> run(const RunRequest& rq, const ProgressFn& progress = {});
  // Every engine (+ its zero-latency twin when on), then finalize() (metrics, comparisons).
  Result<BacktestResult> run_all(const std::string& command, const ProgressFn& progress = {});

  const BacktestConfig& config() const noexcept;
  const CaptureStore& data() const noexcept;
  // What each engine's inference latency is drawn from (measured or configured), for messages.
  std::string inference_latency_text(int engine) const;
  std::string features_latency_text() const;

  struct Impl;  // public name, opaque contents (the replay loop's helpers in the .cpp use it)

 private:
  Backtester();
  std::unique_ptr<Impl> impl_;
};

// lscpu's "Model name" (or /proc/cpuinfo's "model name"); "unknown" when neither.
std::string machine_name();

}  // namespace tickrt::backtest
