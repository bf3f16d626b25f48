// `tickrt demo`: replay the bundled captures in data/captures/ (each file its own session) and
// print the summary. Thin: the work is book::ReplaySession (src/book/replay.hpp).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "book/replay.hpp"
#include "commands.hpp"

namespace tickrt::cli {

void register_demo(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("demo", "Replay the bundled real Binance captures and print the summary");
  cmd->footer(
      "Reads every capture in <data>/captures/ ($TICKRT_DATA or the source tree's data/), each file\n"
      "as its own session, through the feed parser and the L2 book.\n\n"
      "Examples:\n"
      "  tickrt demo\n"
      "  TICKRT_DATA=/path/to/data tickrt demo\n");
  cmd->callback([] {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(data_dir()) / "captures";
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
    if (ec || files.empty()) {
      std::cerr << "tickrt demo: no captures in " << dir.string() << (ec ? ": " + ec.message() : "") << "\n";
      throw CLI::RuntimeError(1);
    }
    std::sort(files.begin(), files.end());
    bool failed = false;
    for (const std::string& f : files) {
      std::cout << "== " << f << "\n";
      book::ReplaySession session;
      Status st = session.replay_file(f);
      if (!st.ok()) {
        std::cerr << "tickrt demo: " << st.to_string() << "\n";
        failed = true;
      }
      std::cout << session.summary(5) << "\n";
    }
    std::cout << "demo: feed + book stages only; later stages (features, inference, strategy, risk, "
                 "execution) will extend this summary.\n";
    if (failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace tickrt::cli
