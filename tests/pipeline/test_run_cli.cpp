// `tickrt run` options added with the window prefix and device choice: bad values exit 2 (as --mode) naming the
// option; the prefix's summary line appears when it is on and the model qualifies, not when it is off.
#include <gtest/gtest.h>

#include "../support/shell.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace fs = std::filesystem;

#ifdef TICKRT_BIN
using tickrt::test::sh;

TEST(RunCli, BadOptionValuesExitTwoNamingTheOption) {
  const std::string bin = TICKRT_BIN;
  for (const char* opt : {"--window-prefix maybe", "--wire-tap x", "--device gpu", "--fallback gpu"}) {
    std::string out;
    EXPECT_EQ(sh(bin + " run " + opt + " --duration 1", out), 2) << opt << ": " << out;  // tickrt run: 2 = bad option value
    const std::string name = std::string(opt).substr(0, std::string(opt).find(' '));
    EXPECT_NE(out.find(name), std::string::npos) << opt << ": " << out;
  }
}

TEST(RunCli, WindowPrefixSummaryLineFollowsTheOption) {
  if (!fs::exists("models/trained/lstm_attn_s/model.onnx") || !fs::exists("data/captures/spot_btcusdt_20240808.gz"))
    GTEST_SKIP() << "bundled model or capture absent";
  const std::string base = std::string(TICKRT_BIN) + " run --source capture --no-trade --speed 20 --duration 3";
  std::string on, off;
  ASSERT_EQ(sh(base + " --window-prefix on", on), 0) << on;
  ASSERT_EQ(sh(base + " --window-prefix off", off), 0) << off;
  EXPECT_NE(on.find("engine: window prefix (slices of 8 LSTM steps"), std::string::npos) << on;
  EXPECT_EQ(off.find("engine: window prefix"), std::string::npos) << off;
}
#endif

}  // namespace
