// backtest/bar_features.hpp — incremental features of OHLCV bars -> the bar model's input window.
// The contract.
//
// Who calls: the bar backtester (backtest/bars.hpp), once per bar in time order:
//   push(bar)  O(1), noexcept, no allocation: updates the rolling state, computes one feature row,
//              writes it into the window ring. ready() once kWarmup bars have been pushed (the
//              longest horizon, 60 bars back, exists) AND the window holds T rows.
// tools/train/train_bars.py computes the same rows with the same arithmetic (a straight loop in
// the same order, doubles, then float32), and tests/backtest/test_bars_features.cpp checks the two
// agree on the real FTX file against the golden rows the trainer writes beside the model.
//
// Features (row order = kBarFeatureNames; returns in basis points, log returns x 1e4):
//   bar_ret_1, bar_ret_5, bar_ret_15, bar_ret_60   log(close_t / close_{t-h}) x 1e4
//   bar_range       (high - low) / close x 1e4
//   bar_body        (close - open) / open x 1e4
//   bar_close_pos   (close - low) / (high - low), 0.5 for a bar with high == low
//   bar_rv_15       sqrt(mean of bar_ret_1^2 over the last 15 bars) (bps)
//   bar_vol_z_60    (ln(1 + volume) - mean) / std over the last 60 bars of ln(1 + volume)
//                   (population std; 0 while std == 0)
// Rolling sums are kept as running sums (add the new value, subtract the one leaving): O(1) per
// bar; the float drift over a month of minutes is ~1e-12 relative, far below float32.
// Horizons are counted in bars, whatever the bar period (minute or second bars).
// Every feature is finite for valid bars (backtest/bars.hpp's reader refuses prices <= 0).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backtest/bars.hpp"

namespace tickrt::backtest {

inline constexpr std::array<std::string_view, 9> kBarFeatureNames = {
    "bar_ret_1", "bar_ret_5", "bar_ret_15", "bar_ret_60", "bar_range",
    "bar_body",  "bar_close_pos", "bar_rv_15", "bar_vol_z_60",
};
inline constexpr std::size_t kBarFeatures = kBarFeatureNames.size();
// Bars before the first valid row: ret_60 needs the close 60 bars back.
inline constexpr std::size_t kBarWarmup = 61;

// "bar_ret_1,bar_ret_5,..." (the tickrt.features metadata value a bar model must carry).
std::string bar_feature_list();

class BarFeatures {
 public:
  // window: T rows handed to the model ([T, F] float32, oldest first). Setup path (allocates).
  explicit BarFeatures(std::size_t window);

  // Per bar (noexcept, no allocation). Writes the row into `row` when non-null (F floats).
  void push(const Bar& b, float* row = nullptr) noexcept;
  bool ready() const noexcept { return count_ >= kBarWarmup + window_ - 1; }
  // The last T rows, contiguous, oldest first; valid once ready().
  const float* window() const noexcept { return ring_.data() + head_ * kBarFeatures; }
  std::size_t window_rows() const noexcept { return window_; }
  std::uint64_t count() const noexcept { return count_; }

 private:
  static constexpr std::size_t kCloses = 61;   // close_t .. close_{t-60}
  static constexpr std::size_t kRv = 15;
  static constexpr std::size_t kVol = 60;

  std::size_t window_;
  std::vector<float> ring_;      // 2T rows: row i stored at i and i + T (one contiguous window)
  std::size_t head_ = 0;         // first row of the current window
  std::uint64_t count_ = 0;
  std::array<double, kCloses> close_{};  // ring of log closes
  std::array<double, kRv> r2_{};         // ring of ret_1^2
  std::array<double, kVol> lv_{};        // ring of ln(1 + volume)
  double sum_r2_ = 0, sum_lv_ = 0, sum_lv2_ = 0;
};

}  // namespace tickrt::backtest
