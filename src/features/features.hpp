// features/features.hpp — the features stage: incremental features of ONE symbol -> model input
// window. The contract.
//
// Who calls: the thread that owns the symbol's book (the replay driver, features/replay.hpp, or a
// live pipeline thread), after the feed and the book:
//   on_book(book, ts)   after every depth update or snapshot applied to the book (any result);
//   on_trade(trade, ts) for every trade of the symbol;
//   sample(ts, row)     at each sampling instant: computes one feature row from the state at ts,
//                       pushes it into the window ring and writes it to `row` (F floats).
// All three are noexcept, O(1) per call (on_book reads the top kDepth levels of each side, a
// constant), and allocate nothing: every buffer is sized in the constructor.
//
// Time: every timestamp is int64 ns of LOCAL receive time (feed::Event::local_ts_ns), the only
// stamp every message kind carries; a replay and a live run therefore sample the same instants.
// Timestamps must not go backwards (a negative dt is treated as 0).
//
// Sampling (a documented choice, Config::sample_period_ns): clock sampling by default, every
// 100 ms of local time: a sample is taken at each boundary k*100ms, from the state just BEFORE the
// first event whose local ts is >= the boundary (the state "at" the boundary). The replay driver
// emits one row per boundary crossed, also across quiet spells. sample_period_ns == 0 samples
// after every event (ts = the event's local ts). Horizons counted "in samples" (returns, label)
// are therefore 100 ms steps in the default mode.
//
// Units: prices as doubles from exact fixed point; returns, spread, deviations in basis points of
// the mid (log returns x 1e4); quantities in base-asset units; rates per second; time in seconds.
// Every feature is finite always: empty/one-sided/non-tradable books keep the last valid book
// state (0 before the first), zero volumes give 0 imbalances, missing history gives 0 returns,
// time since last trade is capped at kMaxTradeAge_s.
//
// Book validity: the engine only reads a book that is tradable() (synced, not crossed, both sides
// present). While it is not, book features hold their last values and tradable() is false (the
// exporter labels such rows -1). OFI is not computed across a resync (the first top-of-book after
// it only seeds the previous best levels).
//
// Window: the last T rows, float32 [T, F], in a double-written ring (each row stored at i and
// i + T), so window() is always one contiguous [T, F] block, oldest row first, handed to the
// engine without a copy (features/model_package.hpp normalises it into the engine's input).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "book/l2_book.hpp"
#include "feed/events.hpp"

namespace tickrt::features {

// The feature list, in row order. Changing names or order changes kFeatureSchemaHash; a model
// trained on another list is refused by features/model_package.hpp.
inline constexpr std::array<std::string_view, 24> kFeatureNames = {
    "spread_bps",         // (ask - bid) / mid * 1e4
    "ret_mid_1",          // log(mid_t / mid_{t-1 sample}) * 1e4   (bps)
    "ret_mid_10",         // ... 10 samples back
    "ret_mid_100",        // ... 100 samples back
    "ret_micro_1",        // same on the microprice (bps)
    "ret_micro_10",
    "micro_dev_bps",      // (microprice - mid) / mid * 1e4
    "obi_1",              // (Qb - Qa) / (Qb + Qa) over the best 1 level per side, in [-1, 1]
    "obi_3",              // ... best 3 levels (summed quantities)
    "obi_5",
    "obi_10",
    "obi_dw10",           // depth-weighted over 10 levels, weight 1/(i+1) for level i (0 = best)
    "ofi_sample",         // Cont-Kukanov-Stoikov OFI summed over book updates since the last sample (base qty)
    "ofi_decay_1s",       // OFI, exponentially decayed sum, tau = 1 s (base qty)
    "ofi_decay_10s",      // tau = 10 s
    "tsi_1s",             // trade sign imbalance: decayed (buys - sells) / (buys + sells), tau 1 s, [-1, 1]
    "tsi_10s",            // tau 10 s
    "signed_vol_1s",      // decayed sum of signed trade qty (+ buyer aggressor), tau 1 s (base qty)
    "signed_vol_10s",     // tau 10 s
    "trade_rate_1s",      // decayed trade count / tau: trades per second, tau 1 s
    "trade_rate_10s",     // tau 10 s
    "rv_ewma_bps",        // sqrt(EWMA of squared 1-sample mid log returns), alpha 2/(50+1), bps per sample
    "trade_age_s",        // seconds since the last trade, capped at kMaxTradeAge_s (cap before any trade)
    "vwap_dev_bps",       // (mid - vwap_10s) / vwap_10s * 1e4, vwap decayed with tau 10 s; 0 with no volume
};
inline constexpr std::size_t kNumFeatures = kFeatureNames.size();
inline constexpr int kFeatureSchemaVersion = 1;
inline constexpr double kMaxTradeAge_s = 60.0;
inline constexpr std::size_t kDepth = 10;       // book levels read per side per update
inline constexpr std::size_t kRetHistory = 128; // sample ring for returns (>= largest horizon + 1)

// FNV-1a 64 of the names joined by ',' (what tickrt.features carries), as 16 hex digits.
std::uint64_t feature_schema_hash() noexcept;
// The names joined by ',' (no spaces), as in the model package.
std::string feature_list_csv();
// The sampling rule as the model package writes it: "clock:100ms" or "event".
std::string sampling_string(std::int64_t sample_period_ns);

struct FeatureConfig {
  std::int64_t sample_period_ns = 100'000'000;  // 0 = sample after every event
  std::size_t window = 64;                      // T rows kept for the model input
};

class FeatureEngine {
 public:
  explicit FeatureEngine(FeatureConfig cfg = {});
  FeatureEngine(const FeatureEngine&) = delete;
  FeatureEngine& operator=(const FeatureEngine&) = delete;

  // Forget all state (new session); buffers kept.
  void reset() noexcept;
  // Every value of `o`'s state except the window's rows (the book/trade state, the decays, the return
  // history, the row count and ring head): the next on_book/on_trade/sample here computes what it would
  // compute on `o`, and writes its row into this engine's own ring. For the between-ticks warm-up
  // (pipeline/market.hpp MarketHandler::warm_path), which runs the update code on a scratch engine of the
  // same shape instead of the symbol's. Requires the same window length (else does nothing: false).
  // Hot path: no allocation (~2.3 KB copied).
  bool copy_state_from(const FeatureEngine& o) noexcept;

  void on_book(const book::L2Book& b, std::int64_t ts_ns) noexcept;
  void on_trade(const feed::TradeFields& t, std::int64_t ts_ns) noexcept;
  // One row from the state at ts_ns into `row` (kNumFeatures floats) and into the window.
  void sample(std::int64_t ts_ns, float* row) noexcept;

  // A tradable book has been seen since reset(): rows are meaningful.
  bool ready() const noexcept { return have_book_; }
  // The last on_book() saw a tradable book.
  bool tradable() const noexcept { return tradable_; }
  // Mid of the last tradable book (0 before the first).
  double mid() const noexcept { return mid_; }

  const FeatureConfig& config() const noexcept { return cfg_; }
  // Rows pushed since reset() (the window is full once this reaches T).
  std::uint64_t samples() const noexcept { return n_samples_; }
  // The last min(samples(), T) rows, oldest first, contiguous [rows, F].
  std::span<const float> window() const noexcept;

 private:
  struct Decay {  // exponentially decayed sum in continuous time: S(t) = sum x_i exp(-(t - t_i)/tau)
    double tau_ns = 1e9;
    double s = 0;
    std::int64_t t = 0;
    bool init = false;
    void add(double x, std::int64_t ts) noexcept;
    double at(std::int64_t ts) const noexcept;
  };

  FeatureConfig cfg_;
  // book state (last tradable top of book)
  bool have_book_ = false;
  bool tradable_ = false;
  bool ofi_seeded_ = false;
  double bid_ = 0, ask_ = 0, bq_ = 0, aq_ = 0;  // best levels of the last tradable book
  double mid_ = 0, micro_ = 0;
  double obi_[4] = {};                          // levels 1, 3, 5, 10
  double obi_dw_ = 0;
  // order-flow imbalance
  double ofi_acc_ = 0;
  Decay ofi1_, ofi10_;
  // trades
  Decay buys1_, sells1_, buys10_, sells10_, sv1_, sv10_, pv10_, v10_;
  bool have_trade_ = false;
  std::int64_t last_trade_ts_ = 0;
  // per-sample history
  std::array<double, kRetHistory> mid_hist_{}, micro_hist_{};
  std::uint64_t n_samples_ = 0;
  double rv_var_ = 0;
  // window: 2*T rows, row i stored at i and i + T
  std::unique_ptr<float[]> ring_;
  std::size_t head_ = 0;  // next row slot in [0, T)
  std::array<feed::Level, kDepth> lv_bid_{}, lv_ask_{};
};

}  // namespace tickrt::features
