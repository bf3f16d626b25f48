// `tickrt features <captures...> -o <dir>`: export a training dataset with the live feature code.
// Thin: argument parsing only; the work is features::export_dataset (src/features/export.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "features/export.hpp"

namespace tickrt::cli {

void register_features(CLI::App& app) {
  struct Opts {
    std::vector<std::string> files;
    std::string out;
    std::string sampling = "100ms";
    int horizon = 20;
    double deadband = 0.5;
    bool quiet = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("features", "Export a dataset (features.npy, labels.npy, ...) from Binance captures");
  cmd->add_option("files", o->files, "Capture files (.gz or plain), in order; continuation files follow their predecessor")
      ->required();
  cmd->add_option("-o,--out", o->out, "Output directory (created)")->required();
  cmd->add_option("--sampling", o->sampling, "Sampling: a clock period like 100ms / 1s / 250ms (local receive time), or 'event'")
      ->capture_default_str();
  cmd->add_option("--horizon", o->horizon, "Label horizon in samples (rows)")->capture_default_str();
  cmd->add_option("--deadband-bps", o->deadband, "Mid change (bps) at or below which the label is flat")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  cmd->footer(
      "Writes features.npy float32 [N,F], labels.npy int64 [N] (0 down, 1 flat, 2 up, -1 undefined),\n"
      "timestamps.npy int64 [N] (ns), session.npy int32 [N] and meta.json; see docs/FEATURES.md.\n"
      "Files are grouped into sessions: a file continues the previous one when it is in the same\n"
      "directory, has the same symbol prefix and starts within 60 s of where it ended.\n\n"
      "Examples:\n"
      "  tickrt features ../shared/data/binance_ws/*/*.gz -o build/datasets/all\n"
      "  tickrt features ../shared/data/binance_ws/spot/btcusdt_2024080*.gz -o /tmp/ds --horizon 20 --deadband-bps 1\n"
      "  tickrt features ../shared/data/binance_ws/usdm/ethusdt_20240808.gz -o /tmp/ev --sampling event\n");
  cmd->callback([o] {
    features::ExportOptions opt;
    opt.horizon = o->horizon;
    opt.deadband_bps = o->deadband;
    if (o->sampling == "event") {
      opt.features.sample_period_ns = 0;
    } else {
      std::size_t pos = 0;
      long long v = 0;
      try {
        v = std::stoll(o->sampling, &pos);
      } catch (...) {
        pos = 0;
      }
      const std::string unit = o->sampling.substr(pos);
      long long mul = unit == "ms" ? 1'000'000LL : unit == "s" ? 1'000'000'000LL : unit == "us" ? 1'000LL
                      : unit == "ns" ? 1LL : 0LL;
      if (pos == 0 || mul == 0 || v <= 0) {
        std::cerr << "tickrt features: --sampling '" << o->sampling << "': want <n>ms, <n>s, <n>us, <n>ns or 'event'\n";
        throw CLI::RuntimeError(1);
      }
      opt.features.sample_period_ns = v * mul;
    }
    features::ReplayProgress prog;
    if (!o->quiet)
      prog.on_file = [](const std::string& f, std::size_t i, std::size_t n) {
        std::fprintf(stderr, "[%zu/%zu] %s\n", i + 1, n, f.c_str());
      };
    features::ExportSummary sum;
    Status st = features::export_dataset(o->files, o->out, opt, &prog, &sum);
    if (!st.ok()) {
      std::cerr << "tickrt features: " << st.to_string() << "\n";
      throw CLI::RuntimeError(1);
    }
    if (sum.rows == 0)
      std::cerr << "tickrt features: warning: 0 rows: no session's book became tradable (a capture needs a depth "
                   "snapshot, or must continue a file that had one)\n";
    for (const auto& s : sum.sessions)
      std::printf("session %d %s %s: %zu file(s), %llu rows, %llu malformed lines, %llu gaps\n", s.index,
                  std::string(feed::market_name(s.market)).c_str(), s.symbol.c_str(), s.files.size(),
                  static_cast<unsigned long long>(s.rows), static_cast<unsigned long long>(s.malformed),
                  static_cast<unsigned long long>(s.gaps));
    std::printf("%llu rows x %zu features -> %s; labels: -1 %llu, down %llu, flat %llu, up %llu\n",
                static_cast<unsigned long long>(sum.rows), features::kNumFeatures, o->out.c_str(),
                static_cast<unsigned long long>(sum.class_counts[0]), static_cast<unsigned long long>(sum.class_counts[1]),
                static_cast<unsigned long long>(sum.class_counts[2]), static_cast<unsigned long long>(sum.class_counts[3]));
  });
}

}  // namespace tickrt::cli
