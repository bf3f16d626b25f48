// Calibrators on distributions with known answers, precision specs (parsing, globs, clear errors), and the
// calibration cache (text round trip, file round trip, parse errors naming the line).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "infer/quant/quant.hpp"

using namespace tickrt::infer;
using namespace tickrt::infer::quant;

namespace {
Histogram hist_of(const std::vector<double>& xs, std::size_t bins = 2048) {
  Histogram h;
  for (double x : xs) h.amax = std::max(h.amax, std::fabs(x));
  h.counts.assign(bins, 0);
  for (double x : xs) h.counts[std::min(bins - 1, static_cast<std::size_t>(std::fabs(x) / h.amax * bins))] += 1;
  return h;
}
}  // namespace

TEST(QuantCalibrators, MinMaxIsTheLargestMagnitude) {
  const auto h = hist_of({0.5, -3.0, 2.0, 1.0});
  EXPECT_DOUBLE_EQ(threshold_minmax(h), 3.0);
  EXPECT_DOUBLE_EQ(threshold(Calibrator::minmax, h), 3.0);
}

TEST(QuantCalibrators, PercentileByHand) {
  // 100 bins over [0, 100): bin i holds 1 count -> the 90th percentile ends at bin 89, upper edge 90.
  Histogram h;
  h.amax = 100;
  h.counts.assign(100, 1.0);
  EXPECT_DOUBLE_EQ(threshold_percentile(h, 90.0), 90.0);
  EXPECT_DOUBLE_EQ(threshold_percentile(h, 100.0), 100.0);
  // All the mass in bin 3 -> any percentile ends there.
  h.counts.assign(100, 0.0);
  h.counts[3] = 50;
  EXPECT_DOUBLE_EQ(threshold_percentile(h, 99.99), 4.0);
}

TEST(QuantCalibrators, EntropyClipsRareOutliersOfAGaussian) {
  std::mt19937 rng(11);
  std::normal_distribution<double> n(0, 1);
  std::vector<double> xs(200000);
  for (auto& x : xs) x = n(rng);
  for (int i = 0; i < 20; ++i) xs[static_cast<std::size_t>(i)] = 40.0 + i;   // 0.01 % far outliers
  const auto h = hist_of(xs);
  const double t = threshold_entropy(h);
  // TensorRT's KL choice on a unit Gaussian lands at a few sigma: well inside the outliers, above the bulk.
  EXPECT_GT(t, 2.0);
  EXPECT_LT(t, 8.0);
  EXPECT_LT(t, 0.25 * threshold_minmax(h));
  // Percentile 99.99 sits between the bulk and the outliers too, min-max on the outliers.
  EXPECT_LT(threshold_percentile(h, 99.9), 4.0);
  EXPECT_DOUBLE_EQ(threshold_minmax(h), 59.0);
}

TEST(QuantCalibrators, EntropyKeepsTheRangeOfAUniform) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> xs(200000);
  for (auto& x : xs) x = u(rng);
  const double t = threshold_entropy(hist_of(xs));
  // Nothing to gain by clipping a flat distribution: the threshold stays near its edge.
  EXPECT_GT(t, 0.9);
  EXPECT_LE(t, 1.0);
}

TEST(QuantCalibrators, AllZeroTensorStillGetsAPositiveScale) {
  Histogram h;
  h.counts.assign(2048, 0.0);
  for (auto c : {Calibrator::minmax, Calibrator::percentile, Calibrator::entropy}) EXPECT_GT(threshold(c, h), 0.0);
}

TEST(QuantPrecision, ParsesDefaultsPatternsAndLastMatchWins) {
  auto s = parse_precision_spec("default=int8,*attn*=fp32,/lstm/LSTM_1=fp16,*LSTM_1=int8");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->def, Precision::int8);
  EXPECT_EQ(s->resolve("/fc1/Gemm"), Precision::int8);
  EXPECT_EQ(s->resolve("/ReduceSum/additive_attn"), Precision::fp32);
  EXPECT_EQ(s->resolve("/lstm/LSTM_1"), Precision::int8);   // the later *LSTM_1 rule wins
  EXPECT_EQ(s->resolve("/lstm/LSTM"), Precision::int8);
  auto bare = parse_precision_spec("fp16");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->def, Precision::fp16);
  EXPECT_TRUE(bare->rules.empty());
  auto rt = parse_precision_spec(s->to_string());
  ASSERT_TRUE(rt.ok());
  EXPECT_EQ(rt->to_string(), s->to_string());
}

TEST(QuantPrecision, GlobMatching) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("/lstm/*", "/lstm/LSTM_1"));
  EXPECT_TRUE(glob_match("?fc?/*", "/fc1/Gemm"));
  EXPECT_FALSE(glob_match("/lstm/*", "/fc1/Gemm"));
  EXPECT_TRUE(glob_match("*a*b*c", "xxaxxbxxbxc"));
  EXPECT_FALSE(glob_match("*a*b*c", "xxaxxbxxbx"));
}

TEST(QuantPrecision, ErrorsNameTheItem) {
  struct Case { const char* spec; const char* want; };
  for (auto [spec, want] : {Case{"", "empty"}, Case{"default=int4", "item 1 ('default=int4'): precision 'int4'"},
                            Case{"default=int8,,*=fp32", "item 2 (''): empty item"},
                            Case{"*fc*=fp32,default=int8", "default must come first"},
                            Case{"default=int8,=fp16", "missing node-name pattern"},
                            Case{"default=int8,default=fp32", "default given twice"},
                            Case{"default=int8,*x*=bf16", "item 2 ('*x*=bf16'): precision 'bf16': expected fp32, fp16 or int8"}}) {
    auto s = parse_precision_spec(spec);
    ASSERT_FALSE(s.ok()) << spec;
    EXPECT_NE(s.status().message().find(want), std::string::npos) << spec << " -> " << s.status().message();
  }
}

TEST(QuantCache, TextAndFileRoundTripExactly) {
  CalibrationTable t;
  t.model_id = "0123456789abcdef";
  t.calibrator = Calibrator::percentile;
  t.windows = 1200;
  t.tensors["x"] = {66.45, 6.2134567891};
  t.tensors["/lstm/LSTM/Y3 with space"] = {0.9985, 0.99584};
  auto back = CalibrationTable::from_text(t.to_text(), "mem");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->model_id, t.model_id);
  EXPECT_EQ(back->calibrator, t.calibrator);
  EXPECT_EQ(back->windows, 1200);
  ASSERT_EQ(back->tensors.size(), 2u);
  for (auto& [k, v] : t.tensors) {
    EXPECT_EQ(back->tensors[k].threshold, v.threshold) << k;   // bit-exact (hex floats)
    EXPECT_EQ(back->tensors[k].amax, v.amax) << k;
  }
  const auto path = (std::filesystem::temp_directory_path() / ("tickrt_quant_cache_" + std::to_string(::getpid()))).string();
  ASSERT_TRUE(t.save(path).ok());
  auto f = CalibrationTable::load(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->to_text(), t.to_text());
}

TEST(QuantCache, BadFilesAreRefusedWithTheLine) {
  auto a = CalibrationTable::from_text("hello\n", "c.calib");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("c.calib:1: not a tickrt calibration cache"), std::string::npos) << a.status().message();
  auto b = CalibrationTable::from_text("tickrt-calibration 1\nmodel x\ntensor 0x1p-1 nope x\n", "c.calib");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("c.calib:3: tensor"), std::string::npos) << b.status().message();
  auto c = CalibrationTable::from_text("tickrt-calibration 1\ncalibrator kl2\n", "c.calib");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("c.calib:2: calibrator 'kl2'"), std::string::npos) << c.status().message();
  auto d = CalibrationTable::from_text("tickrt-calibration 1\ntensor -0x1p+0 0x1p+0 x\n", "c.calib");
  ASSERT_FALSE(d.ok());
  auto e = CalibrationTable::load("/nonexistent/dir/x.calib");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), tickrt::Code::not_found);
}
