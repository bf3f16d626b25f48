// backtest/latency_model.cpp — see latency_model.hpp.
#include "backtest/latency_model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace tickrt::backtest {

double Rng::normal() noexcept {
  // Box-Muller with u1 in (0,1] so log() is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

LatencyDist LatencyDist::fixed_ns(std::int64_t ns) noexcept {
  LatencyDist d;
  d.kind_ = Kind::kFixed;
  d.a_ = static_cast<double>(ns < 0 ? 0 : ns);
  return d;
}

namespace {
bool parse_num(std::string_view s, double& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size() && std::isfinite(out);
}
}  // namespace

Result<LatencyDist> LatencyDist::parse(std::string_view spec, const std::string& where) {
  const auto bad = [&](const std::string& why) {
    return Status(Code::invalid_argument, where + ": bad latency \"" + std::string(spec) + "\": " + why +
                         " (expected fixed:<us> | normal:<mean_us>,<sd_us> | lognormal:<median_us>,<sigma> | "
                         "uniform:<lo_us>,<hi_us>)");
  };
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos) return bad("no ':'");
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view args = spec.substr(colon + 1);
  const auto comma = args.find(',');
  double x = 0, y = 0;
  LatencyDist d;
  if (kind == "fixed") {
    if (comma != std::string_view::npos || !parse_num(args, x)) return bad("fixed takes one number");
    if (x < 0) return bad("negative latency");
    return fixed_ns(static_cast<std::int64_t>(std::llround(x * 1e3)));
  }
  if (comma == std::string_view::npos || !parse_num(args.substr(0, comma), x) ||
      !parse_num(args.substr(comma + 1), y))
    return bad(std::string(kind) + " takes two numbers");
  if (kind == "normal") {
    if (x < 0 || y < 0) return bad("negative mean or sd");
    d.kind_ = Kind::kNormal;
    d.a_ = x * 1e3;
    d.b_ = y * 1e3;
  } else if (kind == "lognormal") {
    if (x <= 0 || y < 0) return bad("median must be > 0 and sigma >= 0");
    d.kind_ = Kind::kLognormal;
    d.a_ = std::log(x * 1e3);
    d.b_ = y;
  } else if (kind == "uniform") {
    if (x < 0 || y < x) return bad("need 0 <= lo <= hi");
    d.kind_ = Kind::kUniform;
    d.a_ = x * 1e3;
    d.b_ = y * 1e3;
  } else {
    return bad("unknown kind \"" + std::string(kind) + "\"");
  }
  return d;
}

LatencyDist LatencyDist::from_samples(std::vector<std::int64_t> samples_ns) {
  if (samples_ns.empty()) return fixed_ns(0);
  LatencyDist d;
  d.kind_ = Kind::kEmpirical;
  std::sort(samples_ns.begin(), samples_ns.end());
  d.samples_ = std::move(samples_ns);
  return d;
}

std::int64_t LatencyDist::sample(Rng& rng) const noexcept {
  double v = 0;
  switch (kind_) {
    case Kind::kFixed:
      return static_cast<std::int64_t>(a_);
    case Kind::kNormal:
      v = a_ + b_ * rng.normal();
      break;
    case Kind::kLognormal:
      v = std::exp(a_ + b_ * rng.normal());
      break;
    case Kind::kUniform:
      v = a_ + (b_ - a_) * rng.uniform();
      break;
    case Kind::kEmpirical:
      return samples_[static_cast<std::size_t>(rng.next() % samples_.size())];
  }
  return v <= 0 ? 0 : static_cast<std::int64_t>(v);
}

double LatencyDist::mean_ns() const noexcept {
  switch (kind_) {
    case Kind::kFixed: return a_;
    case Kind::kNormal: return a_;  // truncation at 0 ignored (sd << mean in practice)
    case Kind::kLognormal: return std::exp(a_ + 0.5 * b_ * b_);
    case Kind::kUniform: return 0.5 * (a_ + b_);
    case Kind::kEmpirical: {
      double s = 0;
      for (auto x : samples_) s += static_cast<double>(x);
      return s / static_cast<double>(samples_.size());
    }
  }
  return 0;
}

std::string LatencyDist::describe() const {
  char buf[160];
  switch (kind_) {
    case Kind::kFixed: std::snprintf(buf, sizeof buf, "fixed %.3f us", a_ / 1e3); break;
    case Kind::kNormal: std::snprintf(buf, sizeof buf, "normal(mean %.3f us, sd %.3f us)", a_ / 1e3, b_ / 1e3); break;
    case Kind::kLognormal:
      std::snprintf(buf, sizeof buf, "lognormal(median %.3f us, sigma %.3f)", std::exp(a_) / 1e3, b_);
      break;
    case Kind::kUniform: std::snprintf(buf, sizeof buf, "uniform(%.3f..%.3f us)", a_ / 1e3, b_ / 1e3); break;
    case Kind::kEmpirical:
      std::snprintf(buf, sizeof buf, "measured (%zu samples, median %.3f us)", samples_.size(),
                    static_cast<double>(samples_[samples_.size() / 2]) / 1e3);
      break;
  }
  return buf;
}

}  // namespace tickrt::backtest
