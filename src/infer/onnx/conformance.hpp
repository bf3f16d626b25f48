// infer/onnx/conformance.hpp — runs the ONNX backend node tests (Debian's libonnx-testdata:
// /usr/share/libonnx-testdata/data/node/<test>/{model.onnx, test_data_set_N/{input,output}_K.pb}) through
// the engine: import, optimize, specialize to the test's shapes, run, compare with the expected outputs
// (|y - e| <= atol + rtol*|e|, rtol 1e-3 / atol 1e-5 as ONNX's backend tests; NaN matches NaN).
#pragma once

#include <string>
#include <vector>

#include "core/status.hpp"

namespace tickrt::infer {

inline constexpr const char* kOnnxNodeTestDir = "/usr/share/libonnx-testdata/data/node";

struct ConformanceResult {
  enum class Outcome { pass, fail, unsupported } outcome = Outcome::fail;
  std::string test;               // directory name, e.g. test_lstm_defaults
  std::vector<std::string> ops;   // op types in the test graph
  std::string detail;             // why it failed / what is unsupported
};

// Runs one test directory.
ConformanceResult run_conformance_test(const std::string& dir);
// Runs every test directory under `root` whose name matches the glob `filter` (fnmatch; empty = all).
std::vector<ConformanceResult> run_conformance(const std::string& root, const std::string& filter);
// Tests known to fail for a documented reason (name -> reason); the suite asserts everything else passes.
const std::vector<std::pair<std::string, std::string>>& conformance_expected_failures();

}  // namespace tickrt::infer
