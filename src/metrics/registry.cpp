// metrics/registry.cpp — registration and the text exposition (format 0.0.4).
#include "metrics/registry.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tickrt::metrics {

std::vector<std::int64_t> default_latency_bounds_ns() {
  std::vector<std::int64_t> b;
  for (std::int64_t decade = 1'000; decade <= 100'000'000; decade *= 10) {
    b.push_back(decade);
    b.push_back(decade * 5 / 2);
    b.push_back(decade * 5);
  }
  b.push_back(1'000'000'000);
  return b;  // 1us 2.5us 5us ... 100ms 250ms 500ms 1s
}

bool valid_metric_name(std::string_view n) noexcept {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view n) noexcept {
  if (n.empty() || n.substr(0, 2) == "__") return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view v) {
  std::string o;
  o.reserve(v.size());
  for (char c : v) {
    if (c == '\\') o += "\\\\";
    else if (c == '"') o += "\\\"";
    else if (c == '\n') o += "\\n";
    else o.push_back(c);
  }
  return o;
}

static std::string escape_help(std::string_view v) {
  std::string o;
  for (char c : v) {
    if (c == '\\') o += "\\\\";
    else if (c == '\n') o += "\\n";
    else o.push_back(c);
  }
  return o;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest round-trip digits, laid out like Go's strconv.FormatFloat(v, 'g', -1, 64), which is
  // what Prometheus' own clients write (le="0.0001", le="2.5e-06", le="1e+06"): label values are
  // matched as strings, so the same bound should read the same in every exporter.
  char sci[64];
  auto rs = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  const std::string_view s(sci, static_cast<std::size_t>(rs.ptr - sci));
  const auto e = s.find('e');
  const int exp = std::atoi(s.data() + e + 1);
  if (v == 0.0 || (exp >= -4 && exp < 6)) {
    char fix[64];
    auto rf = std::to_chars(fix, fix + sizeof fix, v, std::chars_format::fixed);
    return std::string(fix, rf.ptr);
  }
  return std::string(s);
}

Result<Registry::Series*> Registry::add_series(std::string_view name, std::string_view help, Type type,
                                               const Labels& labels) {
  const std::string n(name);
  if (!valid_metric_name(name)) return Result<Series*>(Code::invalid_argument, "metrics: invalid metric name '" + n + "'");
  std::string rendered;
  for (const auto& [k, v] : labels) {
    if (!valid_label_name(k)) return Result<Series*>(Code::invalid_argument, "metrics: " + n + ": invalid label name '" + k + "'");
    if (k == "le" && type == Type::histogram) {
      return Result<Series*>(Code::invalid_argument, "metrics: " + n + ": label 'le' is reserved for histogram buckets");
    }
    if (!rendered.empty()) rendered += ',';
    rendered += k + "=\"" + escape_label_value(v) + "\"";
  }
  std::lock_guard<std::mutex> lock(mu_);
  Family* fam = nullptr;
  for (auto& f : families_) {
    if (f->name == name) fam = f.get();
  }
  if (fam == nullptr) {
    families_.push_back(std::make_unique<Family>(Family{n, std::string(help), type, {}}));
    fam = families_.back().get();
  } else if (fam->type != type) {
    return Result<Series*>(Code::invalid_argument, "metrics: " + n + " registered before with another type");
  }
  for (const Series& s : fam->series) {
    if (s.labels == rendered) {
      return Result<Series*>(Code::invalid_argument, "metrics: " + n + "{" + rendered + "} registered twice");
    }
  }
  fam->series.push_back(Series{rendered, nullptr, nullptr, nullptr, nullptr});
  return &fam->series.back();
}

Result<Counter*> Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  auto s = add_series(name, help, Type::counter, labels);
  if (!s.ok()) return s.status();
  (*s)->counter = std::make_unique<Counter>();
  return (*s)->counter.get();
}

Result<Gauge*> Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  auto s = add_series(name, help, Type::gauge, labels);
  if (!s.ok()) return s.status();
  (*s)->gauge = std::make_unique<Gauge>();
  return (*s)->gauge.get();
}

Result<Histogram*> Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                                       std::span<const std::int64_t> bounds, double scale) {
  const std::string n(name);
  if (bounds.empty() || bounds.size() > Histogram::kMaxBuckets) {
    return Result<Histogram*>(Code::invalid_argument, "metrics: " + n + ": between 1 and " +
                                                          std::to_string(Histogram::kMaxBuckets) + " bucket bounds needed");
  }
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    if (bounds[i] <= bounds[i - 1]) {
      return Result<Histogram*>(Code::invalid_argument, "metrics: " + n + ": bucket bounds not strictly increasing at index " +
                                                            std::to_string(i));
    }
  }
  if (!(scale > 0.0) || !std::isfinite(scale)) return Result<Histogram*>(Code::invalid_argument, "metrics: " + n + ": scale must be > 0");
  auto s = add_series(name, help, Type::histogram, labels);
  if (!s.ok()) return s.status();
  auto h = std::make_unique<Histogram>();
  for (std::size_t i = 0; i < bounds.size(); ++i) h->bounds_[i] = bounds[i];
  h->n_ = bounds.size();
  h->scale_ = scale;
  (*s)->histogram = std::move(h);
  return (*s)->histogram.get();
}

Status Registry::info(std::string_view name, std::string_view help, const Labels& labels) {
  auto g = gauge(name, help, labels);
  if (!g.ok()) return g.status();
  (*g)->set(1.0);
  return Status::Ok();
}

Status Registry::counter_fn(std::string_view name, std::string_view help, const Labels& labels, std::function<double()> fn) {
  if (!fn) return {Code::invalid_argument, "metrics: " + std::string(name) + ": empty callback"};
  auto s = add_series(name, help, Type::counter, labels);
  if (!s.ok()) return s.status();
  (*s)->fn = std::move(fn);
  return Status::Ok();
}

Status Registry::gauge_fn(std::string_view name, std::string_view help, const Labels& labels, std::function<double()> fn) {
  if (!fn) return {Code::invalid_argument, "metrics: " + std::string(name) + ": empty callback"};
  auto s = add_series(name, help, Type::gauge, labels);
  if (!s.ok()) return s.status();
  (*s)->fn = std::move(fn);
  return Status::Ok();
}

// bound * scale carries binary noise (1000 * 1e-9 = 1.0000000000000002e-06); 15 significant
// digits (what a double always holds exactly) removes it, so le="1e-06" reads as written.
static std::string format_scaled(double v) {
  if (!std::isfinite(v)) return format_value(v);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return format_value(std::strtod(buf, nullptr));
}

std::string Registry::render() const {
  std::string out;
  out.reserve(4096);
  auto braces = [](const std::string& labels, std::string_view extra = {}) {
    std::string s;
    if (labels.empty() && extra.empty()) return s;
    s += '{';
    s += labels;
    if (!labels.empty() && !extra.empty()) s += ',';
    s += extra;
    s += '}';
    return s;
  };
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) {
    out += "# HELP " + f->name + " " + escape_help(f->help) + "\n";
    out += "# TYPE " + f->name + " " +
           (f->type == Type::counter ? "counter" : f->type == Type::gauge ? "gauge" : "histogram") + "\n";
    for (const Series& s : f->series) {
      if (f->type == Type::histogram) {
        const Histogram& h = *s.histogram;
        std::uint64_t cum = 0;
        for (std::size_t i = 0; i < h.n_; ++i) {
          cum += h.bucket_count(i);
          const std::string le = "le=\"" + format_scaled(static_cast<double>(h.bounds_[i]) * h.scale_) + "\"";
          out += f->name + "_bucket" + braces(s.labels, le) + " " + std::to_string(cum) + "\n";
        }
        cum += h.bucket_count(h.n_);
        out += f->name + "_bucket" + braces(s.labels, "le=\"+Inf\"") + " " + std::to_string(cum) + "\n";
        out += f->name + "_sum" + braces(s.labels) + " " + format_scaled(static_cast<double>(h.sum()) * h.scale_) + "\n";
        out += f->name + "_count" + braces(s.labels) + " " + std::to_string(cum) + "\n";
        continue;
      }
      std::string value;
      if (s.fn) value = format_value(s.fn());
      else if (s.counter) value = std::to_string(s.counter->value());
      else value = format_value(s.gauge->value());
      out += f->name + braces(s.labels) + " " + value + "\n";
    }
  }
  return out;
}

}  // namespace tickrt::metrics
