// tickrt build | infer | inspect | conformance | bench — the inference engine's verbs.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>

#include "commands.hpp"
#include "infer/onnx/conformance.hpp"

namespace tickrt::cli {
namespace {

void conformance_cmd(const std::string& dir, const std::string& filter, bool verbose) {
  using infer::ConformanceResult;
  auto results = infer::run_conformance(dir, filter);
  if (results.empty()) {
    std::fprintf(stderr, "conformance: no tests under %s match '%s' (install libonnx-testdata: scripts/install-deps.sh engine)\n", dir.c_str(), filter.c_str());
    throw CLI::RuntimeError(1);
  }
  struct Tally { int pass = 0, fail = 0, unsupported = 0; };
  std::map<std::string, Tally> by_op;
  Tally total;
  for (auto& r : results) {
    std::string key = r.ops.size() == 1 ? r.ops[0] : (r.ops.empty() ? "?" : "(multi-op)");
    auto& t = by_op[key];
    switch (r.outcome) {
      case ConformanceResult::Outcome::pass: ++t.pass; ++total.pass; break;
      case ConformanceResult::Outcome::fail: ++t.fail; ++total.fail; break;
      case ConformanceResult::Outcome::unsupported: ++t.unsupported; ++total.unsupported; break;
    }
    if (verbose || r.outcome == ConformanceResult::Outcome::fail)
      std::printf("%-12s %-55s %s\n",
                  r.outcome == ConformanceResult::Outcome::pass ? "PASS" : r.outcome == ConformanceResult::Outcome::fail ? "FAIL" : "UNSUPPORTED",
                  r.test.c_str(), r.detail.c_str());
  }
  std::printf("\n%-28s %6s %6s %12s\n", "op", "pass", "fail", "unsupported");
  for (auto& [op, t] : by_op) std::printf("%-28s %6d %6d %12d\n", op.c_str(), t.pass, t.fail, t.unsupported);
  std::printf("%-28s %6d %6d %12d   (%zu tests)\n", "TOTAL", total.pass, total.fail, total.unsupported, results.size());
}

}  // namespace

void register_engine(CLI::App& app) {
  auto* conf = app.add_subcommand("conformance", "Run the ONNX backend node tests (libonnx-testdata) through the engine");
  static std::string dir = infer::kOnnxNodeTestDir, filter;
  static bool verbose = false;
  conf->add_option("--dir", dir, "folder of ONNX node tests")->capture_default_str();
  conf->add_option("--filter", filter, "glob on test names, e.g. 'test_lstm*'");
  conf->add_flag("-v,--verbose", verbose, "print every test, not only failures");
  conf->footer("Examples:\n  tickrt conformance\n  tickrt conformance --filter 'test_gemm*' -v");
  conf->callback([] { conformance_cmd(dir, filter, verbose); });
}

}  // namespace tickrt::cli
