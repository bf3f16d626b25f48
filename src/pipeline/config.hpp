// pipeline/config.hpp — `tickrt run` configuration: one TOML file (toml++), every key optional.
//
// Who calls: setup only (apps/tickrt/cmd_run.cpp, tests, benches). parse_config() returns a
// Status whose message names the file, the key ("threads.mode") and what is wrong with its value
// ("expected one of inline|pipelined, got \"fast\""), and any key it does not know (a typo must
// not silently fall back to a default). kDefaultConfigToml is the embedded default: running with
// no --config is the same as running with that text (configs/tickrt.toml is a commented copy).
//
// Relative paths (capture, model, journal) are resolved against `base_dir` (the source tree's
// data/.. for the embedded default, the config file's directory otherwise) at load time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace tickrt::pipeline {

enum class ThreadMode : std::uint8_t { inline_, pipelined };
enum class IdleKind : std::uint8_t { busy, yield, sleep };
enum class FeedSource : std::uint8_t { sim, url, capture };

std::string_view thread_mode_name(ThreadMode m) noexcept;
std::string_view idle_name(IdleKind k) noexcept;
std::string_view feed_source_name(FeedSource s) noexcept;

struct ThreadConfig {
  int cpu = -1;              // -1: not pinned; else the CPU id for pthread_setaffinity_np
  IdleKind idle = IdleKind::busy;
  int sleep_us = 50;         // idle = sleep: nanosleep this long per empty poll
};

struct PipelineConfig {
  // [feed]
  FeedSource source = FeedSource::sim;  // sim: in-process venue replaying `capture`; url: a real
                                        // exchange (ws_url/rest_url); capture: read the file
                                        // directly (no network: benches, tests)
  std::string capture;                  // default: data/captures/spot_btcusdt_20240808.gz
  // sim source: several captures at once (one per symbol, e.g. BTCUSDT + ETHUSDT of one day; the venue
  // interleaves them by receive stamp). Non-empty: replaces `capture` (a file giving both is an error).
  // Every capture's symbol is subscribed and traded (pipeline.hpp "Several symbols").
  std::vector<std::string> captures;
  std::vector<std::string> symbols;     // url source: symbols to subscribe (upper case)
  std::string ws_url = "wss://stream.binance.com:9443";
  std::string rest_url = "https://api.binance.com";
  double speed = 1.0;                   // sim/capture replay speed (0 = as fast as possible); url: the
                                        // speed the server replays at (feature time; 1 = real exchange)
  double duration_s = 60.0;             // stop after this long (0 = until the capture ends / SIGINT)
  int reconnect_ms = 1000;              // url/sim: wait before reconnecting
  bool wire_tap = true;                 // sim: relay in front of the venue stamping md frames out and
                                        // orders in (wire-to-wire; adds one loopback hop, wire_tap.hpp)
  int sim_cpu = -1;                     // sim: >= 0 pins the in-process venue's thread to this CPU, busy-polling
                                        // (a sleeping venue is woken inside each order's loopback send())
  int extra_symbols = 0;                // capture source: replay the capture again under N renamed
                                        // symbols (batching bench: 1, 8, 64, 256 symbols)
  // [model]
  std::string model;                    // default: models/trained/lstm_attn_s/model.onnx
  bool watch = false;                   // poll the model file's mtime and hot-swap on change
  int watch_ms = 250;
  std::uint64_t workspace_limit_mb = 0; // engine activations + scratch at max batch; 0 = unlimited
  bool require_golden = false;          // refuse a model without parity data beside it
  double golden_tol = 1e-4;
  bool swap_warm = true;                // hot swap: the inference thread touches the new engine's memory
                                        // between ticks before adopting it (model.hpp ModelSlot)
  int swap_warm_max_ms = 50;            // ... adopting it cold after this long if it never idles
  // Streaming models (docs/STREAMING.md "Reset policy"): a symbol's state restarts when its samples are more than
  // stream_max_gap_ms apart (market time); stream_warmup rows after a reset before results are used (-1: the model's).
  std::int64_t stream_max_gap_ms = 5000;
  int stream_warmup = -1;
  // [engine] (docs/CUDA.md): where inference runs. "cpu", or "cuda" / "cuda:N" / "cuda:<UUID>".
  std::string engine_device = "cpu";
  std::string engine_fallback = "none"; // "cpu": no GPU/driver/CUDA build -> warn, run on the CPU
  // [engine] precision (docs/QUANTIZATION.md): "fp32" (default) | "int8" | "fp16" | a spec such as
  // "default=int8,*attn*=fp32". Applies when the model is ONNX (an .engine file keeps the precision it
  // was built with). INT8 calibrates on `calib` (float32 [n, T, F] .npy; default: parity_x.npy beside
  // the model or in its parent) unless `calib_cache` holds a matching table (written after calibrating).
  std::string precision = "fp32";
  std::string calib;
  std::string calib_cache;
  double golden_min_agreement = 0.95;   // reduced precision: argmax agreement with the FP32 golden logits
  // [engine] keep_warm (pipeline/warm.hpp): between ticks, after keep_warm_after_us without an
  // inference: "infer" runs a throw-away inference (measured closest to the engine's hot figure, two
  // device runs: docs/BENCHMARKS.md "## pipeline"), "touch" reads the engine's weights + arena in small
  // slices (cheaper, never delays a tick by more than a slice), "off".
  std::string keep_warm = "infer";
  std::int64_t keep_warm_after_us = 1000;
  // [engine] keep_warm_path: with keep_warm = "infer", inline mode: between ticks also run the rest of the
  // tick path on scratch state, a slice per idle pass (MarketHandler::warm_slice: parse, book, sampling,
  // features; Trader::warm_slice: strategy, risk, OMS submit on a shadow trader whose orders go nowhere).
  // false: only the parser is kept warm (MarketHandler::warm), as before. docs/PIPELINE.md "Path warm-up".
  bool keep_warm_path = true;
  // [engine] keep_warm_trickle_us: with keep_warm = "infer", every this many us between ticks (also between the
  // throw-away inferences) one trickle: a ~0.1 us burst of full-width FMAs (cpu::vector_keepalive) and 64 lines of
  // the engine's memory (WarmCursor). After ~1 ms without vector work the next step ran ~1.7x its hot time with its
  // weights still cached (docs/PIPELINE.md "Trickle"); a throw-away inference that often would make a tick wait for it.
  // 0 = off.
  std::int64_t keep_warm_trickle_us = 20;
  // [engine] window_prefix (pipeline/prefix_infer.hpp): inline mode, window LSTM models — between ticks
  // run the next window's first T-1 rows, window_prefix_slice LSTM steps per idle pass; the due sample
  // then costs one step per layer + attention/head. Same outputs; off = every sample runs the whole window.
  bool window_prefix = true;
  int window_prefix_slice = 8;
  // [engine] infer_at_boundary: inline mode — when the feature clock passes a sampling boundary between ticks,
  // take its row and run the model then (MarketHandler::sample_boundaries + InferStage::infer_ahead): the row is
  // final at the boundary (the training rule samples the state before the first message at or after it), so the
  // message that crosses it finds its result ready and pays no inference. Same rows, same outputs; off = the
  // crossing message samples and runs the model (docs/PIPELINE.md "Inference at the boundary").
  bool infer_at_boundary = true;
  // [threads]
  ThreadMode mode = ThreadMode::inline_;
  ThreadConfig feed;                    // inline mode: the one thread
  ThreadConfig infer;
  ThreadConfig exec;
  int infer_threads = 1;
  int ring_capacity = 1024;
  // Keep every other thread of the process (venue, journal, gateway when unpinned, metrics, swapper, unpinned
  // pipeline threads) off the CPUs given to pinned threads (threads.*.cpu, exec.gateway_cpu, feed.sim_cpu):
  // otherwise the scheduler time-slices them with a busy-polling pinned thread (ms-scale stalls on small machines).
  bool reserve_pinned_cpus = true;
  // [batch]
  int max_batch = 8;
  int max_delay_us = 50;
  bool coalesce = true;
  // [strategy] (strategy/signal_strategy.hpp StrategyConfig; tick/step sizes come from the venue)
  double enter_prob = 0.55;
  double exit_prob = 0.45;
  double min_edge = 0.10;
  std::string sizing = "fixed";         // fixed | max_position | confidence
  std::string style = "passive";        // passive (LIMIT_MAKER at the touch) | aggressive (IOC)
  bool aggressive_market = false;
  double order_qty = 0.001;             // base asset per order
  double max_position = 0.01;
  int reprice_ticks = 1;
  std::int64_t passive_max_age_ms = 5000;
  std::int64_t min_interval_ms = 100;
  double tick_size = 0.01;              // price tick of the traded symbol (BTCUSDT: 0.01)
  double qty_step = 0.00001;
  // [strategy.symbols.<SYMBOL>]: sizes of one traded symbol over the [strategy] values (several symbols
  // trade with one [strategy]; ETHUSDT needs a larger order_qty than BTCUSDT to clear 5 USDT notional).
  // A negative value = the [strategy] one. for_symbol() applies them.
  struct SymbolSizing {
    std::string symbol;                 // upper case
    double order_qty = -1, max_position = -1, tick_size = -1, qty_step = -1;
    double min_order_notional = -1;     // the symbol's venue minimum (e.g. USD-M futures: 5-100 per symbol)
  };
  std::vector<SymbolSizing> symbol_sizing;
  // [risk] (risk/risk_engine.hpp)
  double max_order_notional = 1000.0;   // quote per order
  double min_order_notional = 5.0;      // quote per order: the venue's NOTIONAL filter (Binance spot USDT: 5); 0 = none
  double max_gross_notional = 5000.0;
  int collar_bps = 50;
  int max_open_orders = 4;              // per symbol (the account gets 4x)
  int max_orders_per_s = 10;
  double max_daily_loss = 100.0;
  double max_drawdown = 100.0;
  std::int64_t max_md_staleness_ms = 2000;
  // [exec]
  bool trade = true;                    // false: market data + inference only (no venue orders)
  std::string journal = "tickrt-journal.db";  // SQLite (exec/journal.hpp); "" = no journal
  std::string id_prefix = "tk";
  std::string api_key;                  // sim: the venue's test key when empty
  std::string api_secret;
  bool recover = true;                  // restart recovery from the journal (pipeline.hpp "Startup")
  bool recovery_full_history = true;    // compare every exchange trade with the journal (catches a
                                        // journal from another venue/account); false: look back
                                        // 1000 trade ids (large accounts on a real exchange)
  bool allow_foreign_orders = false;    // open orders without our id prefix are not a mismatch
  int cancel_timeout_ms = 2000;         // shutdown: wait this long for cancel acks
  std::int64_t gateway_spin_us = 50;    // gateway IO thread: spin this long when idle (-1 = always)
  std::int64_t gateway_sleep_us = 20;   // ... then sleep this long per check (exec/gateway.hpp IdleWait)
  int gateway_cpu = -1;                 // >= 0: pin the gateway IO thread there; it then always spins
  bool gateway_warm_send = true;        // pinned: keep the kernel's send path warm between orders (exec/send_warm.hpp)
  // [metrics]
  bool metrics = true;
  std::string metrics_listen = "127.0.0.1:9464";
  std::string control_token;            // empty: control endpoints refused
  // [report]
  bool print_orders = true;             // print every order / fill line
  int max_order_lines = 40;

  std::string base_dir;                 // what relative paths are resolved against
};

// The embedded default configuration (same keys and values as the defaults above).
extern const std::string_view kDefaultConfigToml;

// Parses TOML text. `origin` names the source in messages (a path or "<embedded>").
Result<PipelineConfig> parse_config(std::string_view toml_text, std::string_view origin, const std::string& base_dir);
// Reads and parses a file; base_dir = the file's directory.
Result<PipelineConfig> load_config(const std::string& path);
// The embedded default, base_dir = source_root.
Result<PipelineConfig> default_config(const std::string& source_root);

// Resolve a relative path against cfg.base_dir.
std::string resolve_path(const PipelineConfig& cfg, const std::string& p);
// The config as `symbol` trades it: its [strategy.symbols.<SYMBOL>] sizes over [strategy]'s (setup path:
// strategy_config() and the Trader's risk limits call it per symbol).
PipelineConfig for_symbol(const PipelineConfig& cfg, std::string_view symbol);
// The captures the sim/capture source replays, resolved: `captures` when given, else {capture}.
std::vector<std::string> capture_paths(const PipelineConfig& cfg);

}  // namespace tickrt::pipeline
