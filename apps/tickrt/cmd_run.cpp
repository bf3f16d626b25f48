// `tickrt run --config tickrt.toml`: the live tick-to-order pipeline (src/pipeline/pipeline.hpp).
// Thin: options -> PipelineConfig -> Pipeline::create/run -> report. SIGINT/SIGTERM stop it
// cleanly (open orders canceled, journal flushed, summary printed).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "pipeline/config.hpp"
#include "pipeline/pipeline.hpp"

namespace tickrt::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

struct RunOverrides {
  double duration = -1, speed = -1;
  std::string mode, source, model;
  std::vector<std::string> captures;  // --capture A --capture B, or --capture A,B
  int extra_symbols = -1;
  bool no_trade = false;
  int max_batch = -1, max_delay_us = -1;
  bool no_coalesce = false;
  std::string cpus;  // "feed,infer,exec"
  std::int64_t gateway_spin_us = -2;
  int gateway_cpu = -2;
  std::string precision, keep_warm, keep_warm_path, keep_warm_trickle_us, window_prefix, infer_at_boundary, wire_tap, device, fallback, gateway_warm_send;
  int sim_cpu = -2;
};

// Applies command-line overrides; false (message on stderr) when one is invalid.
bool apply_overrides(pipeline::PipelineConfig& c, const RunOverrides& o) {
  if (o.duration >= 0) c.duration_s = o.duration;
  if (o.speed >= 0) c.speed = o.speed;
  if (!o.mode.empty()) {
    if (o.mode == "inline") c.mode = pipeline::ThreadMode::inline_;
    else if (o.mode == "pipelined") c.mode = pipeline::ThreadMode::pipelined;
    else { std::cerr << "--mode: expected inline or pipelined, got " << o.mode << "\n"; return false; }
  }
  if (!o.source.empty()) {
    if (o.source == "sim") c.source = pipeline::FeedSource::sim;
    else if (o.source == "capture") c.source = pipeline::FeedSource::capture;
    else if (o.source == "url") c.source = pipeline::FeedSource::url;
    else { std::cerr << "--source: expected sim, capture or url, got " << o.source << "\n"; return false; }
  }
  // Paths given on the command line are relative to where the command runs.
  auto abs = [](const std::string& p) { return p.front() == '/' ? p : std::filesystem::absolute(p).string(); };
  if (!o.model.empty()) c.model = abs(o.model);
  if (!o.captures.empty()) {
    // One file: feed.capture (as before); several: feed.captures (the sim venue interleaves them).
    for (const std::string& f : o.captures)
      if (f.empty()) { std::cerr << "--capture: an empty path\n"; return false; }
    c.captures.clear();
    if (o.captures.size() == 1) {
      c.capture = abs(o.captures[0]);
    } else {
      for (const std::string& f : o.captures) c.captures.push_back(abs(f));
    }
  }
  if (c.captures.size() > 1 && c.source == pipeline::FeedSource::capture) {
    std::cerr << "--capture: " << c.captures.size() << " files need --source sim (the capture source reads one file)\n";
    return false;
  }
  if (o.extra_symbols >= 0) c.extra_symbols = o.extra_symbols;
  if (o.no_trade) c.trade = false;
  if (o.max_batch > 0) c.max_batch = o.max_batch;
  if (o.max_delay_us >= 0) c.max_delay_us = o.max_delay_us;
  if (o.no_coalesce) c.coalesce = false;
  if (o.gateway_spin_us >= -1) c.gateway_spin_us = o.gateway_spin_us;
  if (o.gateway_cpu >= -1) c.gateway_cpu = o.gateway_cpu;
  if (!o.precision.empty()) c.precision = o.precision;
  if (!o.device.empty()) {
    if (o.device != "cpu" && o.device != "cuda" && o.device.rfind("cuda:", 0) != 0) {
      std::cerr << "--device: expected cpu, cuda, cuda:N or cuda:<UUID>, got " << o.device << "\n";
      return false;
    }
    c.engine_device = o.device;
  }
  if (!o.fallback.empty()) {
    if (o.fallback != "none" && o.fallback != "cpu") {
      std::cerr << "--fallback: expected none or cpu, got " << o.fallback << "\n";
      return false;
    }
    c.engine_fallback = o.fallback;
  }
  if (o.sim_cpu >= -1) c.sim_cpu = o.sim_cpu;
  if (!o.wire_tap.empty()) {
    if (o.wire_tap != "on" && o.wire_tap != "off") {
      std::cerr << "--wire-tap: expected on or off, got " << o.wire_tap << "\n";
      return false;
    }
    c.wire_tap = o.wire_tap == "on";
  }
  if (!o.gateway_warm_send.empty()) {
    if (o.gateway_warm_send != "on" && o.gateway_warm_send != "off") {
      std::cerr << "--gateway-warm-send: expected on or off, got " << o.gateway_warm_send << "\n";
      return false;
    }
    c.gateway_warm_send = o.gateway_warm_send == "on";
  }
  if (!o.window_prefix.empty()) {
    if (o.window_prefix != "on" && o.window_prefix != "off") {
      std::cerr << "--window-prefix: expected on or off, got " << o.window_prefix << "\n";
      return false;
    }
    c.window_prefix = o.window_prefix == "on";
  }
  if (!o.infer_at_boundary.empty()) {
    if (o.infer_at_boundary != "on" && o.infer_at_boundary != "off") {
      std::cerr << "--infer-at-boundary: expected on or off, got " << o.infer_at_boundary << "\n";
      return false;
    }
    c.infer_at_boundary = o.infer_at_boundary == "on";
  }
  if (!o.keep_warm.empty()) {
    if (o.keep_warm != "off" && o.keep_warm != "touch" && o.keep_warm != "infer") {
      std::cerr << "--keep-warm: expected off, touch or infer, got " << o.keep_warm << "\n";
      return false;
    }
    c.keep_warm = o.keep_warm;
  }
  if (!o.keep_warm_path.empty()) {
    if (o.keep_warm_path != "on" && o.keep_warm_path != "off") {
      std::cerr << "--keep-warm-path: expected on or off, got " << o.keep_warm_path << "\n";
      return false;
    }
    c.keep_warm_path = o.keep_warm_path == "on";
  }
  if (!o.keep_warm_trickle_us.empty()) {
    char* end = nullptr;
    const long long v = std::strtoll(o.keep_warm_trickle_us.c_str(), &end, 10);
    if (end == o.keep_warm_trickle_us.c_str() || *end != '\0' || v < 0 || v > 60'000'000) {
      std::cerr << "--keep-warm-trickle-us: expected microseconds 0..60000000 (0 = off), got " << o.keep_warm_trickle_us << "\n";
      return false;
    }
    c.keep_warm_trickle_us = v;
  }
  if (!o.cpus.empty()) {
    int v[3] = {-1, -1, -1};
    if (std::sscanf(o.cpus.c_str(), "%d,%d,%d", &v[0], &v[1], &v[2]) < 1) {
      std::cerr << "--cpus: expected feed[,infer[,exec]] CPU ids, got " << o.cpus << "\n";
      return false;
    }
    c.feed.cpu = v[0];
    c.infer.cpu = v[1];
    c.exec.cpu = v[2];
  }
  return true;
}

// Runs a pipeline to its end and prints the report; the exit code (0 ok, 1 failure, 3 restart
// recovery failed closed: the journal does not match the exchange, nothing was traded).
int run_pipeline(const pipeline::PipelineConfig& cfg) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto p = pipeline::Pipeline::create(cfg, std::cout);
  if (!p.ok()) {
    std::cerr << "tickrt: " << p.status().to_string() << "\n";
    return p.status().message().find(pipeline::kRecoveryFailedClosed) != std::string::npos ? 3 : 1;
  }
  Status st = p.value()->run(g_stop);
  std::cout << p.value()->report();
  if (!st.ok()) {
    std::cerr << "tickrt: " << st.to_string() << "\n";
    return 1;
  }
  return 0;
}

std::shared_ptr<RunOverrides> make_run_overrides() { return std::make_shared<RunOverrides>(); }

void add_run_options(CLI::App* cmd, RunOverrides& o) {
  cmd->add_option("--duration", o.duration, "Stop after this many seconds (0 = until the capture ends)");
  cmd->add_option("--speed", o.speed, "Replay speed x recorded time (0 = as fast as possible)");
  cmd->add_option("--mode", o.mode, "inline | pipelined");
  cmd->add_option("--source", o.source, "sim | capture | url | nats://host:port (a strategy shard, see --symbols)");
  cmd->add_option("--model", o.model, "Model file (ONNX or tickrt engine)");
  cmd->add_option("--capture", o.captures,
                  "Capture file for the sim/capture sources; sim: repeat it or give a comma list to replay and trade several "
                  "symbols at once ([feed] captures)")
      ->delimiter(',');
  cmd->add_option("--extra-symbols", o.extra_symbols, "capture source: replay also under N renamed symbols");
  cmd->add_flag("--no-trade", o.no_trade, "Market data and inference only");
  cmd->add_option("--max-batch", o.max_batch, "pipelined: largest inference batch");
  cmd->add_option("--max-delay-us", o.max_delay_us, "pipelined: longest wait for a fuller batch");
  cmd->add_flag("--no-coalesce", o.no_coalesce, "pipelined: infer every window, not only the newest per symbol");
  cmd->add_option("--gateway-spin-us", o.gateway_spin_us, "Gateway IO thread spin before sleeping (-1 = always spin)");
  cmd->add_option("--cpus", o.cpus, "Pin threads: feed[,infer[,exec]] CPU ids (inline mode uses feed)");
  cmd->add_option("--gateway-cpu", o.gateway_cpu, "Pin the order gateway's IO thread to this CPU (it then always spins)");
  cmd->add_option("--gateway-warm-send", o.gateway_warm_send,
                  "on | off: a pinned gateway keeps the kernel's send path warm between orders ([exec] gateway_warm_send)");
  cmd->add_option("--device", o.device, "Where inference runs: cpu | cuda | cuda:N | cuda:<UUID> ([engine] device)");
  cmd->add_option("--fallback", o.fallback, "none | cpu: run on the CPU when the GPU or its driver is missing ([engine] fallback)");
  cmd->add_option("--precision", o.precision, "Engine precision of an ONNX model: fp32 | int8 | fp16 | a quant spec");
  cmd->add_option("--keep-warm", o.keep_warm, "Between ticks: touch (read the engine's memory in slices) | infer | off");
  cmd->add_option("--keep-warm-path", o.keep_warm_path,
                  "on | off: with --keep-warm infer, also run book/features/strategy/risk/OMS on scratch state between ticks ([engine] keep_warm_path)");
  cmd->add_option("--keep-warm-trickle-us", o.keep_warm_trickle_us,
                  "With --keep-warm infer: every this many us between ticks, a ~0.1 us vector burst + 64 lines of the engine's memory (0 = off; [engine] keep_warm_trickle_us)");
  cmd->add_option("--sim-cpu", o.sim_cpu,
                  "Pin the in-process simulator's thread to this CPU and let it busy-poll ([feed] sim_cpu; -1 = it sleeps)");
  cmd->add_option("--wire-tap", o.wire_tap,
                  "on | off: the simulator's relay that stamps wire-to-wire ([feed] wire_tap; adds a loopback hop to every order's write)");
  cmd->add_option("--infer-at-boundary", o.infer_at_boundary,
                  "on | off: inline mode: run the model when the clock passes a sampling boundary, so the message that crosses it finds the result ready ([engine] infer_at_boundary)");
  cmd->add_option("--window-prefix", o.window_prefix,
                  "on | off: inline mode, window LSTM models: run the next window's first T-1 rows between ticks ([engine] window_prefix)");
}

void register_run(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("run", "Run the live pipeline: feed -> book -> features -> model -> strategy -> risk -> orders");
  auto cfg_path = std::make_shared<std::string>();
  auto o = std::make_shared<RunOverrides>();
  auto print = std::make_shared<bool>(false);
  cmd->add_option("-c,--config", *cfg_path, "TOML configuration (configs/tickrt.toml documents every key)");
  cmd->add_flag("--print-default-config", *print, "Print the embedded default configuration and exit");
  add_run_options(cmd, *o);
  add_bus_run_options(cmd);  // --source nats://... --symbols A,B: a strategy shard (cmd_bus.cpp)
  cmd->footer(
      "Without --config an embedded default runs: the in-process simulator replays the bundled\n"
      "capture over WebSocket/REST on loopback, lstm_attn_s trades against it for 60 s.\n"
      "SIGINT/SIGTERM: open orders are canceled, the journal flushed, the summary printed.\n"
      "Restart: an existing exec.journal is replayed and reconciled with the exchange before any\n"
      "order; a difference it cannot explain fails closed (exit 3, every mismatch on stderr).\n\n"
      "Examples:\n"
      "  tickrt run\n"
      "  tickrt run --config configs/tickrt.toml --duration 30\n"
      "  tickrt run --mode pipelined --speed 4\n"
      "  tickrt run --capture data/captures/spot_btcusdt_20240808.gz,../shared/data/binance_ws/spot/ethusdt_20240808.gz\n"
      "  tickrt run --source capture --speed 0 --no-trade --extra-symbols 63 --mode pipelined\n");
  cmd->callback([cfg_path, o, print] {
    if (*print) {
      std::cout << pipeline::kDefaultConfigToml;
      return;
    }
    auto c = cfg_path->empty() ? pipeline::default_config(TICKRT_SOURCE_DIR) : pipeline::load_config(*cfg_path);
    if (!c.ok()) {
      std::cerr << "tickrt run: " << c.status().to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    std::string bus_url;  // --source nats://...: this process is one shard (src/bus/shard_node.hpp)
    if (is_bus_source(o->source)) std::swap(bus_url, o->source);
    if (!apply_overrides(c.value(), *o)) throw CLI::RuntimeError(2);
    if (!bus_url.empty()) {
      if (const int rc = run_bus_shard(c.value(), bus_url); rc != 0) throw CLI::RuntimeError(rc);
      return;
    }
    if (const int rc = run_pipeline(c.value()); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tickrt::cli
