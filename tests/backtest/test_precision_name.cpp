// tests/backtest/test_precision_name.cpp — EngineRun::precision from the quantizer's metadata
// (result.hpp precision_from_metadata), the one reading shared by the tick and the bar backtester.
#include <gtest/gtest.h>

#include "backtest/result.hpp"

namespace tickrt::backtest {
namespace {

TEST(PrecisionName, OnePrecisionMixedOrFp32) {
  EXPECT_EQ(precision_from_metadata(""), "fp32");  // a plain ONNX model / an fp32 engine
  EXPECT_EQ(precision_from_metadata("lstm=int8"), "int8");
  EXPECT_EQ(precision_from_metadata("lstm=fp16;head=fp16;attn=fp16"), "fp16");
  EXPECT_EQ(precision_from_metadata("lstm=int8;head=fp32"), "mixed");
  EXPECT_EQ(precision_from_metadata("lstm=int8;head=int8;attn=fp16"), "mixed");
  // A node name may hold '=': the precision is after the last one.
  EXPECT_EQ(precision_from_metadata("a=b=int8;c=int8"), "int8");
  EXPECT_EQ(precision_from_metadata(";"), "fp32");
}

}  // namespace
}  // namespace tickrt::backtest
