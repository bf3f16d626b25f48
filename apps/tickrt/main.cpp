// tickrt CLI entry point: builds the verb table and dispatches. Nothing else lives here.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>

#include "commands.hpp"

namespace tickrt::cli {

std::string data_dir() {
  if (const char* env = std::getenv("TICKRT_DATA"); env && *env) return env;
  return std::string(TICKRT_SOURCE_DIR) + "/data";
}

std::string shared_captures_dir() {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(TICKRT_SOURCE_DIR).parent_path() / "shared" / "data" / "binance_ws";
  std::error_code ec;
  return fs::is_directory(p, ec) ? p.string() : std::string();
}

}  // namespace tickrt::cli

int main(int argc, char** argv) {
  CLI::App app{"tickrt: a low-latency crypto trading runtime with its own model compiler"};
  app.require_subcommand(1);
  app.footer("Run `tickrt <verb> --help` for a verb's options and examples.");
  tickrt::cli::register_demo(app);
  tickrt::cli::register_run(app);
  tickrt::cli::register_replay(app);
  tickrt::cli::register_engine(app);
  tickrt::cli::register_features(app);
  tickrt::cli::register_quant(app);
  tickrt::cli::register_sim(app);
  tickrt::cli::register_fix(app);
  tickrt::cli::register_backtest(app);
  tickrt::cli::register_bus(app);
  tickrt::cli::register_report(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
