// On the bundled captures (../shared/data/binance_ws; skipped when absent): the exported dataset
// equals, bit for bit, what a live-style replay computes; every feature of every row is finite;
// labels follow their definition.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "features/export.hpp"
#include "infer/npy.hpp"
#include "live_driver.hpp"

using namespace tickrt;
using namespace tickrt::features;
namespace fs = std::filesystem;

namespace {

const std::string kData = "../shared/data/binance_ws";

std::vector<std::string> all_captures() {
  std::vector<std::string> v;
  if (!fs::exists(kData)) return v;
  for (const char* d : {"cm", "spot", "usdm"}) {
    if (!fs::exists(kData + "/" + d)) continue;
    std::vector<std::string> part;
    for (auto& e : fs::directory_iterator(kData + "/" + d))
      if (e.path().extension() == ".gz") part.push_back(e.path().string());
    std::sort(part.begin(), part.end());
    v.insert(v.end(), part.begin(), part.end());
  }
  return v;
}

#define NEED_DATA(...)                                                                         \
  for (const std::string& f : std::vector<std::string>{__VA_ARGS__}) {                         \
    if (!fs::exists(f)) {                                                                      \
      GTEST_SKIP() << f << " absent (bundled captures under ../shared/data)";                  \
    }                                                                                          \
  }

struct FiniteSink final : RowSink {
  std::uint64_t rows = 0, bad = 0;
  std::string first_bad;
  void row(const RowInfo& r, const float* f) override {
    ++rows;
    for (std::size_t i = 0; i < kNumFeatures; ++i)
      if (!std::isfinite(f[i])) {
        if (!bad++) first_bad = std::string(kFeatureNames[i]) + " at " + std::to_string(r.ts_ns);
      }
    if (!std::isfinite(r.mid)) ++bad;
  }
};

std::string tmpdir(const std::string& name) {
  std::string d = (fs::temp_directory_path() / ("tickrt_features_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  return d;
}

void parity(const std::vector<std::string>& files, std::int64_t period, const std::string& name) {
  ExportOptions opt;
  opt.features.sample_period_ns = period;
  const std::string dir = tmpdir(name);
  ExportSummary sum;
  Status st = export_dataset(files, dir, opt, nullptr, &sum);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(sum.sessions.size(), 1u) << "the files should form one session";

  test::LiveDriver live(opt.features);
  live.reserve(sum.rows + 16);
  ASSERT_TRUE(live.replay(files));

  auto x = infer::read_npy(dir + "/features.npy");
  auto t = infer::read_npy(dir + "/timestamps.npy");
  ASSERT_TRUE(x.ok()) << x.status().to_string();
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(x->dims, (infer::Dims{static_cast<std::int64_t>(sum.rows), static_cast<std::int64_t>(kNumFeatures)}));
  ASSERT_GT(sum.rows, 1000u);
  ASSERT_EQ(live.ts().size(), sum.rows);
  EXPECT_EQ(std::memcmp(t->bytes, live.ts().data(), sum.rows * 8), 0);
  // Bit for bit: memcmp, not a tolerance.
  const float* a = x->as<float>();
  const std::vector<float>& b = live.rows();
  std::size_t first = SIZE_MAX;
  for (std::size_t i = 0; i < b.size(); ++i)
    if (std::memcmp(&a[i], &b[i], 4) != 0) { first = i; break; }
  EXPECT_EQ(first, SIZE_MAX) << "first difference at row " << first / kNumFeatures << " feature "
                             << kFeatureNames[first % kNumFeatures] << ": export " << a[first] << " live " << b[first];
  fs::remove_all(dir);
}

}  // namespace

TEST(FeatureCaptures, ExportEqualsLiveReplaySpotClock) {
  const std::vector<std::string> f{kData + "/spot/btcusdt_20240808.gz", kData + "/spot/btcusdt_20240809.gz"};
  NEED_DATA(f[0], f[1]);
  parity(f, 100'000'000, "spot");
}

TEST(FeatureCaptures, ExportEqualsLiveReplayFuturesClock) {
  const std::vector<std::string> f{kData + "/usdm/btcusdt_20230404.dat.gz", kData + "/usdm/btcusdt_20230405.dat.gz"};
  NEED_DATA(f[0], f[1]);
  parity(f, 100'000'000, "usdm");
}

TEST(FeatureCaptures, ExportEqualsLiveReplayEventSampling) {
  const std::vector<std::string> f{kData + "/cm/btcusd_perp_20240808.gz"};
  NEED_DATA(f[0]);
  parity(f, 0, "cm_event");
}

TEST(FeatureCaptures, AllFiniteOnEveryCapture) {
  std::vector<std::string> files = all_captures();
  if (files.empty()) GTEST_SKIP() << kData << " absent";
  for (std::int64_t period : {std::int64_t{100'000'000}, std::int64_t{0}}) {
    FeatureConfig cfg;
    cfg.sample_period_ns = period;
    FeatureReplay rp(cfg);
    FiniteSink sink;
    Status st = rp.run(files, sink);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_GT(sink.rows, 10000u);
    EXPECT_EQ(sink.bad, 0u) << "period " << period << ": first non-finite " << sink.first_bad;
  }
}

TEST(FeatureCaptures, SessionsAndLabels) {
  std::vector<std::string> files = all_captures();
  if (files.size() < 11) GTEST_SKIP() << "bundled captures absent";
  const std::string dir = tmpdir("all");
  ExportOptions opt;
  opt.horizon = 7;
  opt.deadband_bps = 0.3;
  ExportSummary sum;
  ASSERT_TRUE(export_dataset(files, dir, opt, nullptr, &sum).ok());
  // cm pair, spot btc 2023 (alone: no snapshot), spot btc pair, spot eth pair, usdm 2023 pair,
  // usdm btc 2024, usdm eth 2024.
  ASSERT_EQ(sum.sessions.size(), 7u);
  EXPECT_EQ(sum.sessions[0].files.size(), 2u);
  EXPECT_EQ(sum.sessions[1].rows, 0u);
  EXPECT_EQ(sum.sessions[4].files.size(), 2u);
  EXPECT_EQ(sum.sessions[5].files.size(), 1u);
  auto y = infer::read_npy(dir + "/labels.npy");
  auto s = infer::read_npy(dir + "/session.npy");
  auto t = infer::read_npy(dir + "/timestamps.npy");
  ASSERT_TRUE(y.ok() && s.ok() && t.ok());
  const std::int64_t* lab = y->as<std::int64_t>();
  const std::int32_t* ses = s->as<std::int32_t>();
  const std::int64_t* ts = t->as<std::int64_t>();
  const std::size_t n = sum.rows;
  std::uint64_t counts[4] = {};
  for (std::size_t i = 0; i < n; ++i) {
    ++counts[lab[i] + 1];
    if (i + 7 >= n || ses[i + 7] != ses[i]) {
      EXPECT_EQ(lab[i], -1) << i;  // last h rows of a session
    }
    if (i && ses[i] == ses[i - 1]) {
      EXPECT_EQ(ts[i] - ts[i - 1], 100'000'000) << i;  // clock rows, no holes
    } else if (i) {
      EXPECT_GT(ses[i], ses[i - 1]);  // sessions contiguous, increasing
    }
  }
  for (int c = 0; c < 4; ++c) EXPECT_EQ(counts[c], sum.class_counts[c]);
  EXPECT_GT(counts[1], 1000u);
  EXPECT_GT(counts[3], 1000u);
  std::ifstream mf(dir + "/meta.json");
  nlohmann::json meta = nlohmann::json::parse(mf);
  EXPECT_EQ(meta["F"], kNumFeatures);
  EXPECT_EQ(meta["features"][0], "spread_bps");
  EXPECT_EQ(meta["sampling"], "clock:100ms");
  EXPECT_EQ(meta["horizon"], 7);
  EXPECT_EQ(meta["label"], "mid_direction:h=7:deadband_bps=0.3");
  EXPECT_EQ(meta["class_counts"]["2"], counts[3]);
  fs::remove_all(dir);
}

TEST(FeatureLabels, Definition) {
  EXPECT_EQ(direction_label(100.0, 100.0, 0.5), 1);
  EXPECT_EQ(direction_label(100.0, 100.004, 0.5), 1);   // +0.4 bps: inside the dead band -> flat
  EXPECT_EQ(direction_label(100.0, 100.0051, 0.5), 2);
  EXPECT_EQ(direction_label(100.0, 99.9949, 0.5), 0);
  EXPECT_EQ(direction_label(0.0, 100.0, 0.5), -1);
  EXPECT_EQ(label_string(20, 0.5), "mid_direction:h=20:deadband_bps=0.5");
}
