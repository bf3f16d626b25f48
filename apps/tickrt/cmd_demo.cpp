// `tickrt demo` (and `make demo`): the whole loop for about a minute — the in-process simulated
// venue replays the bundled real capture over WebSocket/REST on loopback; tickrt parses it, keeps
// the book, computes features, runs the bundled trained lstm_attn_s, and its strategy trades
// against the simulator. Prints orders, fills, PnL and the per-stage latency table.
// Thin: the embedded default config (src/pipeline/config.cpp) + overrides -> run_pipeline.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "pipeline/config.hpp"

namespace tickrt::cli {

struct RunOverrides;
bool apply_overrides(pipeline::PipelineConfig& c, const RunOverrides& o);
int run_pipeline(const pipeline::PipelineConfig& cfg);
void add_run_options(CLI::App* cmd, RunOverrides& o);
std::shared_ptr<RunOverrides> make_run_overrides();

void register_demo(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("demo", "Run the whole tick-to-order loop against the simulator for about a minute");
  auto o = make_run_overrides();
  add_run_options(cmd, *o);
  cmd->footer(
      "The same as `tickrt run` with its embedded default configuration: the simulator replays\n"
      "data/captures/spot_btcusdt_20240808.gz at 1x for 60 s ($TICKRT_DATA overrides data/).\n\n"
      "Examples:\n"
      "  tickrt demo\n"
      "  tickrt demo --duration 20 --speed 3\n"
      "  tickrt demo --mode pipelined\n");
  cmd->callback([o] {
    auto c = pipeline::default_config(TICKRT_SOURCE_DIR);
    if (!c.ok()) {
      std::cerr << "tickrt demo: " << c.status().to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    pipeline::PipelineConfig cfg = c.value();
    cfg.capture = data_dir() + "/captures/spot_btcusdt_20240808.gz";
    cfg.journal = "";  // the demo keeps no state on disk
    cfg.metrics_listen = "127.0.0.1:0";
    if (!apply_overrides(cfg, *o)) throw CLI::RuntimeError(2);
    if (run_pipeline(cfg) != 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace tickrt::cli
