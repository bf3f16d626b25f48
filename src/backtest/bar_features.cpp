// backtest/bar_features.cpp — see bar_features.hpp. tools/train/train_bars.py::bar_features mirrors
// this loop line by line: change both together (test_bars_features checks them against each other).
#include "backtest/bar_features.hpp"

#include <cmath>

namespace tickrt::backtest {

std::string bar_feature_list() {
  std::string s;
  for (std::size_t i = 0; i < kBarFeatureNames.size(); ++i) {
    if (i) s += ',';
    s += kBarFeatureNames[i];
  }
  return s;
}

BarFeatures::BarFeatures(std::size_t window) : window_(window == 0 ? 1 : window), ring_(2 * window_ * kBarFeatures, 0.0f) {}

void BarFeatures::push(const Bar& b, float* row) noexcept {
  const std::uint64_t n = count_;  // index of this bar
  const double lc = std::log(b.close);
  close_[n % kCloses] = lc;
  auto ret = [&](std::uint64_t h) -> double {
    return n >= h ? (lc - close_[(n - h) % kCloses]) * 1e4 : 0.0;
  };
  const double r1 = ret(1);

  // rolling mean of ret_1^2 over the last kRv bars
  if (n >= kRv) sum_r2_ -= r2_[n % kRv];
  r2_[n % kRv] = r1 * r1;
  sum_r2_ += r1 * r1;
  const double nr = static_cast<double>(n + 1 < kRv ? n + 1 : kRv);
  const double rv = std::sqrt(sum_r2_ > 0 ? sum_r2_ / nr : 0.0);

  // rolling z-score of ln(1 + volume) over the last kVol bars (this bar included)
  const double lv = std::log1p(b.volume);
  if (n >= kVol) {
    const double old = lv_[n % kVol];
    sum_lv_ -= old;
    sum_lv2_ -= old * old;
  }
  lv_[n % kVol] = lv;
  sum_lv_ += lv;
  sum_lv2_ += lv * lv;
  const double nv = static_cast<double>(n + 1 < kVol ? n + 1 : kVol);
  const double mean = sum_lv_ / nv;
  const double var = sum_lv2_ / nv - mean * mean;
  // var below 1e-12 is rounding noise of a constant series (the running sums never give exactly 0)
  const double z = var > 1e-12 ? (lv - mean) / std::sqrt(var) : 0.0;

  const double range = b.high - b.low;
  float f[kBarFeatures];
  f[0] = static_cast<float>(r1);
  f[1] = static_cast<float>(ret(5));
  f[2] = static_cast<float>(ret(15));
  f[3] = static_cast<float>(ret(60));
  f[4] = static_cast<float>(range / b.close * 1e4);
  f[5] = static_cast<float>((b.close - b.open) / b.open * 1e4);
  f[6] = static_cast<float>(range > 0 ? (b.close - b.low) / range : 0.5);
  f[7] = static_cast<float>(rv);
  f[8] = static_cast<float>(z);

  const std::size_t slot = static_cast<std::size_t>(n % window_);
  for (std::size_t k = 0; k < kBarFeatures; ++k) {
    ring_[slot * kBarFeatures + k] = f[k];
    ring_[(slot + window_) * kBarFeatures + k] = f[k];
    if (row != nullptr) row[k] = f[k];
  }
  head_ = static_cast<std::size_t>((n + 1) % window_);
  ++count_;
}

}  // namespace tickrt::backtest
