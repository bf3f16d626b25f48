// Model package: parse and check errors (mismatch, missing key, bad floats), normalisation, and
// a trained model's metadata when tools/train has produced one.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "features/model_package.hpp"
#include "infer/onnx/onnx_import.hpp"

using namespace tickrt;
using namespace tickrt::features;

namespace {

std::string floats(float v) {
  std::string s;
  for (std::size_t i = 0; i < kNumFeatures; ++i) {
    if (i) s += ',';
    s += std::to_string(v + static_cast<float>(i));
  }
  return s;
}

std::map<std::string, std::string> good() {
  return {{"tickrt.features", feature_list_csv()},
          {"tickrt.window", "64"},
          {"tickrt.sampling", "clock:100ms"},
          {"tickrt.label", "mid_direction:h=20:deadband_bps=0.5"},
          {"tickrt.norm_mean", floats(1.0f)},
          {"tickrt.norm_std", floats(2.0f)}};
}

}  // namespace

TEST(ModelPackage, ParsesAndMatches) {
  auto p = parse_model_package(good());
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->features.size(), kNumFeatures);
  EXPECT_EQ(p->window, 64u);
  EXPECT_EQ(p->label, "mid_direction:h=20:deadband_bps=0.5");
  EXPECT_FLOAT_EQ(p->mean[3], 4.0f);
  EXPECT_FLOAT_EQ(p->std_[3], 5.0f);
  Status st = check_model_package(*p, FeatureConfig{});
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST(ModelPackage, MissingKeyNamed) {
  for (const char* key : {"tickrt.features", "tickrt.window", "tickrt.sampling", "tickrt.label", "tickrt.norm_mean",
                          "tickrt.norm_std"}) {
    auto md = good();
    md.erase(key);
    auto p = parse_model_package(md);
    ASSERT_FALSE(p.ok()) << key;
    EXPECT_EQ(p.status().code(), Code::not_found);
    EXPECT_NE(p.status().message().find(key), std::string::npos) << p.status().message();
  }
}

TEST(ModelPackage, BadFloatsAndCounts) {
  auto md = good();
  std::string bad = "1.0,abc";
  for (std::size_t i = 2; i < kNumFeatures; ++i) bad += ",0.5";
  md["tickrt.norm_mean"] = bad;
  auto p = parse_model_package(md);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("value 1 ('abc')"), std::string::npos) << p.status().message();
  EXPECT_NE(p.status().message().find("tickrt.norm_mean"), std::string::npos);

  md = good();
  md["tickrt.norm_std"] = "1,2,3";
  p = parse_model_package(md);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("has 3 values"), std::string::npos) << p.status().message();

  md = good();
  md["tickrt.norm_std"] = floats(0).replace(0, 1, "nan");
  p = parse_model_package(md);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("not a finite float"), std::string::npos) << p.status().message();

  md = good();
  md["tickrt.window"] = "64x";
  p = parse_model_package(md);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("tickrt.window"), std::string::npos);
}

TEST(ModelPackage, MismatchNamesFirstFeature) {
  auto md = good();
  std::string csv = feature_list_csv();
  // swap features 7 and 8 (obi_1, obi_3)
  csv.replace(csv.find("obi_1,obi_3"), 11, "obi_3,obi_1");
  md["tickrt.features"] = csv;
  auto p = parse_model_package(md);
  ASSERT_TRUE(p.ok());
  Status st = check_model_package(*p, FeatureConfig{});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("feature 7 is 'obi_3'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'obi_1'"), std::string::npos) << st.message();

  // One feature fewer: the first missing one is named.
  md = good();
  csv = feature_list_csv();
  md["tickrt.features"] = csv.substr(0, csv.rfind(','));
  md["tickrt.norm_mean"] = floats(0).substr(0, floats(0).rfind(','));
  md["tickrt.norm_std"] = md["tickrt.norm_mean"];
  p = parse_model_package(md);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  st = check_model_package(*p, FeatureConfig{});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'vwap_dev_bps' (code only)"), std::string::npos) << st.message();

  // Window and sampling.
  p = parse_model_package(good());
  FeatureConfig cfg;
  cfg.window = 32;
  st = check_model_package(*p, cfg);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tickrt.window = 64"), std::string::npos) << st.message();
  cfg = FeatureConfig{};
  cfg.sample_period_ns = 0;
  st = check_model_package(*p, cfg);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'event'"), std::string::npos) << st.message();
}

TEST(ModelPackage, NormalizeWithZeroStd) {
  auto md = good();
  std::string sd = "0";
  for (std::size_t i = 1; i < kNumFeatures; ++i) sd += ",4";
  md["tickrt.norm_std"] = sd;
  auto p = parse_model_package(md);
  ASSERT_TRUE(p.ok());
  float raw[2 * kNumFeatures], out[2 * kNumFeatures];
  for (std::size_t i = 0; i < 2 * kNumFeatures; ++i) raw[i] = static_cast<float>(i);
  p->normalize(raw, 2, out);
  EXPECT_FLOAT_EQ(out[0], 0.0f - 1.0f);                          // std 0 -> 1: x - mean
  EXPECT_FLOAT_EQ(out[1], (1.0f - 2.0f) / 4.0f);
  EXPECT_FLOAT_EQ(out[kNumFeatures + 1], (kNumFeatures + 1.0f - 2.0f) / 4.0f);
}

TEST(ModelPackage, TrainedModelsCarryAMatchingPackage) {
  namespace fs = std::filesystem;
  int seen = 0;
  for (const char* dir : {"models/trained"}) {
    if (!fs::exists(dir)) continue;
    for (auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.path().filename() != "model.onnx") continue;
      auto g = infer::import_onnx_file(e.path().string());
      ASSERT_TRUE(g.ok()) << g.status().to_string();
      auto p = parse_model_package(g->metadata);
      ASSERT_TRUE(p.ok()) << e.path() << ": " << p.status().to_string();
      // Bar models (sampling "bar:<period>", e.g. models/trained/bars_mlp) use the bar features of
      // backtest/bar_features.hpp and are checked against them in tests/backtest (test_bars.cpp).
      if (p->sampling.rfind("bar:", 0) == 0) continue;
      FeatureConfig cfg;
      cfg.window = p->window;
      Status st = check_model_package(*p, cfg);
      EXPECT_TRUE(st.ok()) << e.path() << ": " << st.to_string();
      ++seen;
    }
  }
  if (!seen) GTEST_SKIP() << "no models/trained/*/model.onnx yet (tools/train makes them)";
}

TEST(ModelPackage, FillInputFromTheEngineWindow) {
  auto md = good();
  md["tickrt.window"] = "3";
  auto p = parse_model_package(md);
  ASSERT_TRUE(p.ok());
  FeatureConfig cfg;
  cfg.window = 3;
  ASSERT_TRUE(check_model_package(*p, cfg).ok());
  FeatureEngine fe(cfg);
  float row[kNumFeatures], in[3 * kNumFeatures];
  std::vector<std::vector<float>> rows;
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(p->fill_input(fe, in), k >= 3) << k;  // not before T rows
    fe.sample(static_cast<std::int64_t>(k) * 1'000'000'000, row);
    rows.emplace_back(row, row + kNumFeatures);
  }
  ASSERT_TRUE(p->fill_input(fe, in));
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t j = 0; j < kNumFeatures; ++j)
      EXPECT_FLOAT_EQ(in[r * kNumFeatures + j], (rows[2 + r][j] - p->mean[j]) / p->std_[j]) << r << " " << j;
  FeatureConfig other;
  other.window = 4;
  FeatureEngine fe4(other);
  for (int k = 0; k < 5; ++k) fe4.sample(k, row);
  EXPECT_FALSE(p->fill_input(fe4, in));  // window mismatch: refused, not overrun
}
