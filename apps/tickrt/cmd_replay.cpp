// `tickrt replay <files...>`: replay Binance captures through feed/ + book/ and print the summary.
// Thin: argument parsing only; the work is book::ReplaySession (src/book/replay.hpp).
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "book/replay.hpp"
#include "commands.hpp"

namespace tickrt::cli {

void register_replay(CLI::App& app) {
  struct Opts {
    std::vector<std::string> files;
    std::size_t levels = 5;
    std::size_t reports = 8;
    bool separate = false;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("replay", "Replay Binance capture files (feed parse + L2 book) and print a summary");
  cmd->add_option("files", opts->files, "Capture files (.gz or plain), replayed in the order given")->required();
  cmd->add_option("-l,--levels", opts->levels, "Book levels to print per side")->capture_default_str();
  cmd->add_option("-r,--reports", opts->reports, "Malformed lines to print verbatim (all are counted)")
      ->capture_default_str();
  cmd->add_flag("-s,--separate", opts->separate,
                "Replay each file as its own session (default: one session, each file continues the last)");
  cmd->footer(
      "Files are one session by default: a file without a depth snapshot continues the books of the\n"
      "file before it, so give continuation pairs in order.\n\n"
      "Examples:\n"
      "  tickrt replay data/captures/spot_btcusdt_20240808.gz\n"
      "  tickrt replay ../shared/data/binance_ws/spot/btcusdt_20240808.gz ../shared/data/binance_ws/spot/btcusdt_20240809.gz\n"
      "  tickrt replay --separate --levels 10 ../shared/data/binance_ws/usdm/*.gz\n");
  cmd->callback([opts] {
    bool failed = false;
    auto run = [&](const std::vector<std::string>& files) {
      book::ReplayOptions ro;
      ro.max_reports = opts->reports;
      book::ReplaySession session(ro);
      for (const std::string& f : files) {
        Status st = session.replay_file(f);
        if (!st.ok()) {
          std::cerr << "tickrt replay: " << st.to_string() << "\n";
          failed = true;
          break;
        }
      }
      std::cout << session.summary(opts->levels);
    };
    if (opts->separate) {
      for (const std::string& f : opts->files) {
        std::cout << "== " << f << "\n";
        run({f});
      }
    } else {
      run(opts->files);
    }
    if (failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace tickrt::cli
