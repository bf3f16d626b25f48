// apps/tickrt/commands.hpp — the tickrt CLI verbs. Each cmd_*.cpp registers its verbs;
// main.cpp only builds the CLI11 app and calls these. Callbacks return via exit codes:
// 0 ok, 1 runtime failure (message on stderr), 2 usage error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI { class App; }
namespace tickrt::pipeline { struct PipelineConfig; }

namespace tickrt::cli {

void register_replay(CLI::App& app);   // cmd_replay.cpp: tickrt replay <captures...>
void register_demo(CLI::App& app);     // cmd_demo.cpp:   tickrt demo (the whole loop vs the simulator)
void register_run(CLI::App& app);      // cmd_run.cpp:    tickrt run --config tickrt.toml
void register_engine(CLI::App& app);   // cmd_engine.cpp: tickrt build | infer | inspect | conformance
void register_features(CLI::App& app); // cmd_features.cpp: tickrt features <captures...> -o <dir>
void register_quant(CLI::App& app);    // cmd_quant.cpp: tickrt calibrate | quant-sensitivity | quant-eval
void register_sim(CLI::App& app);      // cmd_sim.cpp: tickrt sim (simulated Binance venue)
void register_fix(CLI::App& app);      // cmd_fix.cpp: tickrt fix-sim (simulator behind a FIX 4.4 acceptor)
void register_backtest(CLI::App& app); // cmd_backtest.cpp: tickrt backtest --config ... --engines a,b
void register_bus(CLI::App& app);      // cmd_bus.cpp: tickrt feed | exec | ctl (NATS scale-out); `run --source nats://` below
void add_bus_run_options(CLI::App* run);               // cmd_bus.cpp: --symbols/--node/... on `run`
bool is_bus_source(const std::string& source);       // "nats://..."
int run_bus_shard(const pipeline::PipelineConfig& cfg, const std::string& url);  // a strategy shard; exit code
void add_bus_backtest_options(CLI::App* backtest);     // cmd_bus.cpp: --distributed/--ack-wait on `backtest`
bool bus_backtest_requested();                         // --distributed given
int run_distributed_backtest(const std::string& config, const std::string& engines, const std::vector<std::string>& data,
                             const std::string& out, std::int64_t seed, const std::string& twins, const std::string& command);
void register_report(CLI::App& app);   // cmd_report.cpp: tickrt report <result.json> -o <dir>

// Root of the project's data/ folder: $TICKRT_DATA, else <source dir>/data.
std::string data_dir();
// ../shared/data/binance_ws when present beside the project, else "".
std::string shared_captures_dir();

}  // namespace tickrt::cli
