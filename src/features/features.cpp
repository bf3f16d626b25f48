#include "features/features.hpp"

#include <cmath>
#include <cstring>
#include <string>

namespace tickrt::features {

std::uint64_t feature_schema_hash() noexcept {
  std::uint64_t h = 1469598103934665603ull;
  auto eat = [&](char c) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  };
  for (std::size_t i = 0; i < kNumFeatures; ++i) {
    if (i) eat(',');
    for (char c : kFeatureNames[i]) eat(c);
  }
  return h;
}

std::string feature_list_csv() {
  std::string s;
  for (std::size_t i = 0; i < kNumFeatures; ++i) {
    if (i) s += ',';
    s += kFeatureNames[i];
  }
  return s;
}

std::string sampling_string(std::int64_t p) {
  if (p <= 0) return "event";
  if (p % 1'000'000 == 0) return "clock:" + std::to_string(p / 1'000'000) + "ms";
  return "clock:" + std::to_string(p) + "ns";
}

void FeatureEngine::Decay::add(double x, std::int64_t ts) noexcept {
  if (init && ts > t) s *= std::exp(-static_cast<double>(ts - t) / tau_ns);
  if (!init || ts > t) t = ts;
  init = true;
  s += x;
}

double FeatureEngine::Decay::at(std::int64_t ts) const noexcept {
  if (!init) return 0.0;
  return ts > t ? s * std::exp(-static_cast<double>(ts - t) / tau_ns) : s;
}

FeatureEngine::FeatureEngine(FeatureConfig cfg) : cfg_(cfg) {
  if (cfg_.window == 0) cfg_.window = 1;
  ring_ = std::make_unique<float[]>(2 * cfg_.window * kNumFeatures);
  reset();
}

void FeatureEngine::reset() noexcept {
  have_book_ = tradable_ = ofi_seeded_ = false;
  bid_ = ask_ = bq_ = aq_ = mid_ = micro_ = 0;
  for (double& o : obi_) o = 0;
  obi_dw_ = 0;
  ofi_acc_ = 0;
  auto mk = [](double tau_s) {
    Decay d;
    d.tau_ns = tau_s * 1e9;
    return d;
  };
  ofi1_ = mk(1);
  ofi10_ = mk(10);
  buys1_ = sells1_ = sv1_ = mk(1);
  buys10_ = sells10_ = sv10_ = pv10_ = v10_ = mk(10);
  have_trade_ = false;
  last_trade_ts_ = 0;
  mid_hist_.fill(0);
  micro_hist_.fill(0);
  n_samples_ = 0;
  rv_var_ = 0;
  head_ = 0;
  std::memset(ring_.get(), 0, 2 * cfg_.window * kNumFeatures * sizeof(float));
}

namespace {
// Imbalance (b - a) / (b + a), 0 when both are 0 (empty or zero-quantity levels).
inline double imbalance(double b, double a) noexcept {
  const double s = b + a;
  return s > 0 ? (b - a) / s : 0.0;
}
inline float finite_or_zero(double v) noexcept {
  const float f = static_cast<float>(v);
  return std::isfinite(f) ? f : 0.0f;
}
}  // namespace

void FeatureEngine::on_book(const book::L2Book& b, std::int64_t ts_ns) noexcept {
  const std::size_t nb = b.tradable() ? b.top_bids(lv_bid_.data(), kDepth) : 0;
  const std::size_t na = b.tradable() ? b.top_asks(lv_ask_.data(), kDepth) : 0;
  if (nb == 0 || na == 0) {
    // Resyncing, crossed or one-sided: keep the last valid state; OFI restarts after it.
    tradable_ = false;
    ofi_seeded_ = false;
    return;
  }
  const double bid = lv_bid_[0].price.to_double(), ask = lv_ask_[0].price.to_double();
  const double bq = lv_bid_[0].qty.to_double(), aq = lv_ask_[0].qty.to_double();
  if (!(bid > 0) || !(ask > bid)) {
    tradable_ = false;
    ofi_seeded_ = false;
    return;
  }
  // Cont, Kukanov & Stoikov (2014) e_n from the best levels before (bid_, bq_, ask_, aq_) and now.
  if (ofi_seeded_) {
    double e = 0;
    if (bid >= bid_) e += bq;
    if (bid <= bid_) e -= bq_;
    if (ask <= ask_) e -= aq;
    if (ask >= ask_) e += aq_;
    if (e != 0) {
      ofi_acc_ += e;
      ofi1_.add(e, ts_ns);
      ofi10_.add(e, ts_ns);
    }
  }
  ofi_seeded_ = true;
  bid_ = bid;
  ask_ = ask;
  bq_ = bq;
  aq_ = aq;
  mid_ = 0.5 * (bid + ask);
  micro_ = (bq + aq) > 0 ? (bid * aq + ask * bq) / (bq + aq) : mid_;
  // Cumulative depth imbalances at 1, 3, 5, 10 levels and the depth-weighted one, in one pass.
  double cb = 0, ca = 0, wb = 0, wa = 0;
  int k = 0;
  for (std::size_t i = 0; i < kDepth; ++i) {
    const double q_b = i < nb ? lv_bid_[i].qty.to_double() : 0.0;
    const double q_a = i < na ? lv_ask_[i].qty.to_double() : 0.0;
    cb += q_b;
    ca += q_a;
    const double w = 1.0 / static_cast<double>(i + 1);
    wb += w * q_b;
    wa += w * q_a;
    if (i == 0 || i == 2 || i == 4 || i == 9) obi_[k++] = imbalance(cb, ca);
  }
  obi_dw_ = imbalance(wb, wa);
  have_book_ = true;
  tradable_ = true;
}

void FeatureEngine::on_trade(const feed::TradeFields& t, std::int64_t ts_ns) noexcept {
  const double q = t.qty.to_double(), p = t.price.to_double();
  if (!(q >= 0) || !(p >= 0)) return;
  const bool buy = !t.buyer_is_maker;  // buyer aggressor
  (buy ? buys1_ : sells1_).add(1.0, ts_ns);
  (buy ? buys10_ : sells10_).add(1.0, ts_ns);
  const double sq = buy ? q : -q;
  sv1_.add(sq, ts_ns);
  sv10_.add(sq, ts_ns);
  pv10_.add(p * q, ts_ns);
  v10_.add(q, ts_ns);
  have_trade_ = true;
  last_trade_ts_ = ts_ns;
}

void FeatureEngine::sample(std::int64_t ts, float* row) noexcept {
  double f[kNumFeatures];
  const double mid = mid_, micro = micro_;
  f[0] = mid > 0 ? (ask_ - bid_) / mid * 1e4 : 0.0;
  auto ret = [&](const std::array<double, kRetHistory>& h, double now, std::size_t lag) -> double {
    if (n_samples_ < lag || !(now > 0)) return 0.0;
    const double past = h[(n_samples_ + 1 - lag) % kRetHistory];  // sample n_samples_+1-lag (1-based)
    return past > 0 ? std::log(now / past) * 1e4 : 0.0;
  };
  f[1] = ret(mid_hist_, mid, 1);
  f[2] = ret(mid_hist_, mid, 10);
  f[3] = ret(mid_hist_, mid, 100);
  f[4] = ret(micro_hist_, micro, 1);
  f[5] = ret(micro_hist_, micro, 10);
  f[6] = mid > 0 ? (micro - mid) / mid * 1e4 : 0.0;
  f[7] = obi_[0];
  f[8] = obi_[1];
  f[9] = obi_[2];
  f[10] = obi_[3];
  f[11] = obi_dw_;
  f[12] = ofi_acc_;
  f[13] = ofi1_.at(ts);
  f[14] = ofi10_.at(ts);
  const double b1 = buys1_.at(ts), s1 = sells1_.at(ts), b10 = buys10_.at(ts), s10 = sells10_.at(ts);
  f[15] = imbalance(b1, s1);
  f[16] = imbalance(b10, s10);
  f[17] = sv1_.at(ts);
  f[18] = sv10_.at(ts);
  f[19] = (b1 + s1) / 1.0;   // decayed count / tau(1 s)
  f[20] = (b10 + s10) / 10.0;
  const double r1 = f[1];
  constexpr double kAlpha = 2.0 / (50.0 + 1.0);
  rv_var_ = n_samples_ == 0 ? 0.0 : (1 - kAlpha) * rv_var_ + kAlpha * r1 * r1;
  f[21] = std::sqrt(rv_var_);
  if (have_trade_) {
    const double age = ts > last_trade_ts_ ? static_cast<double>(ts - last_trade_ts_) * 1e-9 : 0.0;
    f[22] = age < kMaxTradeAge_s ? age : kMaxTradeAge_s;
  } else {
    f[22] = kMaxTradeAge_s;
  }
  const double v = v10_.at(ts), pv = pv10_.at(ts);
  const double vwap = v > 1e-12 ? pv / v : 0.0;
  f[23] = (vwap > 0 && mid > 0) ? (mid - vwap) / vwap * 1e4 : 0.0;

  // History for the next sample's returns, then the row.
  ++n_samples_;
  mid_hist_[n_samples_ % kRetHistory] = mid;
  micro_hist_[n_samples_ % kRetHistory] = micro;
  ofi_acc_ = 0;

  const std::size_t T = cfg_.window;
  float* a = ring_.get() + head_ * kNumFeatures;
  float* b = ring_.get() + (head_ + T) * kNumFeatures;
  for (std::size_t i = 0; i < kNumFeatures; ++i) {
    const float x = finite_or_zero(f[i]);
    row[i] = x;
    a[i] = x;
    b[i] = x;
  }
  head_ = head_ + 1 == T ? 0 : head_ + 1;
}

bool FeatureEngine::copy_state_from(const FeatureEngine& o) noexcept {
  if (this == &o || o.cfg_.window != cfg_.window) return false;
  cfg_ = o.cfg_;
  have_book_ = o.have_book_;
  tradable_ = o.tradable_;
  ofi_seeded_ = o.ofi_seeded_;
  bid_ = o.bid_;
  ask_ = o.ask_;
  bq_ = o.bq_;
  aq_ = o.aq_;
  mid_ = o.mid_;
  micro_ = o.micro_;
  for (std::size_t i = 0; i < 4; ++i) obi_[i] = o.obi_[i];
  obi_dw_ = o.obi_dw_;
  ofi_acc_ = o.ofi_acc_;
  ofi1_ = o.ofi1_;
  ofi10_ = o.ofi10_;
  buys1_ = o.buys1_;
  sells1_ = o.sells1_;
  buys10_ = o.buys10_;
  sells10_ = o.sells10_;
  sv1_ = o.sv1_;
  sv10_ = o.sv10_;
  pv10_ = o.pv10_;
  v10_ = o.v10_;
  have_trade_ = o.have_trade_;
  last_trade_ts_ = o.last_trade_ts_;
  mid_hist_ = o.mid_hist_;
  micro_hist_ = o.micro_hist_;
  n_samples_ = o.n_samples_;
  rv_var_ = o.rv_var_;
  head_ = o.head_;
  lv_bid_ = o.lv_bid_;
  lv_ask_ = o.lv_ask_;
  return true;
}

std::span<const float> FeatureEngine::window() const noexcept {
  const std::size_t T = cfg_.window;
  const std::size_t rows = n_samples_ < T ? static_cast<std::size_t>(n_samples_) : T;
  // The newest row is at head_-1 (and head_-1+T); the block of `rows` rows ending there, taken
  // in the second copy, never runs before the ring's start.
  const std::size_t end = head_ + T;  // one past the newest row, in [T, 2T)
  return {ring_.get() + (end - rows) * kNumFeatures, rows * kNumFeatures};
}

}  // namespace tickrt::features
