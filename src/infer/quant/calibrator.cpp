// Calibrators (min-max, percentile, entropy/KL as TensorRT's), the calibration table and its cache file, and
// the calibration run itself (the fused FP32 graph with the quantized ops' inputs exposed as outputs).
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "infer/quant/quant.hpp"

namespace tickrt::infer::quant {

const char* calibrator_name(Calibrator c) {
  switch (c) {
    case Calibrator::minmax: return "minmax";
    case Calibrator::percentile: return "percentile";
    case Calibrator::entropy: return "entropy";
  }
  return "?";
}
Result<Calibrator> parse_calibrator(const std::string& s) {
  if (s == "minmax" || s == "min-max") return Calibrator::minmax;
  if (s == "percentile") return Calibrator::percentile;
  if (s == "entropy" || s == "kl") return Calibrator::entropy;
  return Status(Code::invalid_argument, "calibrator '" + s + "': expected minmax, percentile or entropy");
}

double threshold_minmax(const Histogram& h) { return h.amax; }

double threshold_percentile(const Histogram& h, double pct) {
  double total = 0;
  for (double c : h.counts) total += c;
  if (total <= 0 || h.counts.empty()) return h.amax;
  const double want = total * std::min(100.0, std::max(0.0, pct)) / 100.0;
  double acc = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    acc += h.counts[i];
    if (acc >= want) return (static_cast<double>(i) + 1) * h.bin_width();
  }
  return h.amax;
}

double threshold_entropy(const Histogram& h) {
  const std::size_t nb = h.counts.size();
  constexpr std::size_t kLevels = 128;
  if (nb <= kLevels) return h.amax;
  double best_kl = std::numeric_limits<double>::infinity();
  std::size_t best_i = nb;
  std::vector<double> p, q;
  for (std::size_t i = kLevels; i <= nb; ++i) {
    // P: the first i bins, everything beyond clipped into the last one (what saturation does).
    p.assign(h.counts.begin(), h.counts.begin() + static_cast<std::ptrdiff_t>(i));
    double outliers = 0;
    for (std::size_t j = i; j < nb; ++j) outliers += h.counts[j];
    p[i - 1] += outliers;
    // Q: P's bins merged into 128 levels (from the raw counts, without the clipped mass, as TensorRT), each
    // level's mass spread evenly over its non-empty bins.
    q.assign(i, 0.0);
    const double per = static_cast<double>(i) / kLevels;
    for (std::size_t l = 0; l < kLevels; ++l) {
      const auto lo = static_cast<std::size_t>(std::floor(static_cast<double>(l) * per));
      const auto hi = l + 1 == kLevels ? i : static_cast<std::size_t>(std::floor(static_cast<double>(l + 1) * per));
      double mass = 0;
      std::size_t nonzero = 0;
      for (std::size_t j = lo; j < hi; ++j) {
        mass += h.counts[j];
        nonzero += h.counts[j] > 0;
      }
      if (!nonzero) continue;
      for (std::size_t j = lo; j < hi; ++j)
        if (h.counts[j] > 0) q[j] = mass / static_cast<double>(nonzero);
    }
    double sp = 0, sq = 0;
    for (std::size_t j = 0; j < i; ++j) { sp += p[j]; sq += q[j]; }
    if (sp <= 0 || sq <= 0) continue;
    double kl = 0;
    for (std::size_t j = 0; j < i; ++j) {
      if (p[j] <= 0) continue;
      const double pj = p[j] / sp;
      // A bin P has but Q lost (only the clipped last bin can be): smoothed instead of infinite.
      const double qj = q[j] > 0 ? q[j] / sq : 1e-12;
      kl += pj * std::log(pj / qj);
    }
    if (kl < best_kl) { best_kl = kl; best_i = i; }
  }
  return (static_cast<double>(best_i) + 0.5) * h.bin_width() > h.amax ? h.amax : (static_cast<double>(best_i) + 0.5) * h.bin_width();
}

double threshold(Calibrator c, const Histogram& h, double pct) {
  double t = 0;
  switch (c) {
    case Calibrator::minmax: t = threshold_minmax(h); break;
    case Calibrator::percentile: t = threshold_percentile(h, pct); break;
    case Calibrator::entropy: t = threshold_entropy(h); break;
  }
  // A tensor that is all zeros still needs a positive scale (its codes are all 0).
  return t > 0 ? t : (h.amax > 0 ? h.amax : 1.0);
}

// ---- table and cache ----------------------------------------------------------------------------------
std::string CalibrationTable::to_text() const {
  std::string s = "tickrt-calibration 1\nmodel " + model_id + "\ncalibrator " + calibrator_name(calibrator) + "\nwindows " +
                  std::to_string(windows) + "\n";
  char buf[128];
  for (auto& [name, r] : tensors) {
    std::snprintf(buf, sizeof buf, "tensor %a %a ", r.threshold, r.amax);
    s += buf + name + "\n";
  }
  return s;
}

Result<CalibrationTable> CalibrationTable::from_text(const std::string& text, const std::string& where) {
  CalibrationTable t;
  std::istringstream in(text);
  std::string line;
  int ln = 0;
  bool header = false;
  auto bad = [&](const std::string& why) { return Status(Code::parse_error, where + ":" + std::to_string(ln) + ": " + why); };
  while (std::getline(in, line)) {
    ++ln;
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    if (!header) {
      int ver = 0;
      if (key != "tickrt-calibration" || !(ls >> ver) || ver != 1) return bad("not a tickrt calibration cache (want 'tickrt-calibration 1')");
      header = true;
    } else if (key == "model") {
      ls >> t.model_id;
    } else if (key == "calibrator") {
      std::string c;
      ls >> c;
      auto r = parse_calibrator(c);
      if (!r) return bad(r.status().message());
      t.calibrator = *r;
    } else if (key == "windows") {
      if (!(ls >> t.windows)) return bad("windows: expected an integer");
    } else if (key == "tensor") {
      std::string th, am;
      ls >> th >> am;
      std::string name;
      std::getline(ls, name);
      if (!name.empty() && name[0] == ' ') name.erase(0, 1);
      char* e1 = nullptr;
      char* e2 = nullptr;
      TensorRange r{std::strtod(am.c_str(), &e2), std::strtod(th.c_str(), &e1)};
      if (th.empty() || am.empty() || *e1 || *e2 || name.empty() || !(r.threshold > 0) || !std::isfinite(r.threshold))
        return bad("tensor: expected '<threshold> <amax> <name>' with a positive threshold");
      t.tensors[name] = r;
    } else {
      return bad("unknown key '" + key + "'");
    }
  }
  if (!header) return Status(Code::parse_error, where + ": empty calibration cache");
  return t;
}

Status CalibrationTable::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) return Status(Code::io_error, path + ": cannot write the calibration cache");
    f << to_text();
    if (!f) return Status(Code::io_error, path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status(Code::io_error, path + ": rename failed");
  return Status::Ok();
}

Result<CalibrationTable> CalibrationTable::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(Code::not_found, path + ": cannot open the calibration cache");
  std::stringstream ss;
  ss << f.rdbuf();
  return from_text(ss.str(), path);
}

// ---- which tensors, and the run ----------------------------------------------------------------------------
std::vector<std::string> calibration_tensors(const Graph& g) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Node& n : g.nodes) {
    if (n.dead || n.domain != "tickrt" || (n.op != "FusedLSTM" && n.op != "FusedGemm")) continue;
    const std::string& v = g.values[n.inputs[0]].name;
    if (seen.insert(v).second) out.push_back(v);
  }
  return out;
}

std::string model_id(const Graph& g) {
  // FNV-1a over node names/ops and every constant's bytes: a cache made for other weights never matches.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) { h ^= b[i]; h *= 1099511628211ull; }
  };
  for (const Node& n : g.nodes) {
    if (n.dead) continue;
    mix(n.name.data(), n.name.size());
    mix(n.op.data(), n.op.size());
  }
  for (const Value& v : g.values)
    if (v.constant && v.constant->dtype == DType::f32) mix(v.constant->bytes, v.constant->nbytes);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

Result<CalibrationTable> calibrate(const Graph& fused, const TensorData& windows, Calibrator cal, const BuildOptions& bo, double pct) {
  CalibrationTable table;
  table.model_id = model_id(fused);
  table.calibrator = cal;
  if (fused.inputs.size() != 1) return Status(Code::unsupported, "calibration needs a model with one input (got " + std::to_string(fused.inputs.size()) + ")");
  if (windows.dtype != DType::f32 || windows.dims.size() < 2) return Status(Code::invalid_argument, "calibration windows must be float32 [N, ...]");
  const auto names = calibration_tensors(fused);
  if (names.empty()) return table;
  // Expose every tensor to calibrate as an extra graph output (graph inputs are read from the windows).
  Graph g = fused;
  std::vector<int> slot(names.size(), -1);   // output index, -1 = the graph input
  for (std::size_t i = 0; i < names.size(); ++i) {
    const int v = g.find_value(names[i]);
    if (v < 0) return Status(Code::internal, "calibration tensor '" + names[i] + "' not found");
    if (v == g.inputs[0]) continue;
    slot[i] = static_cast<int>(g.outputs.size());
    g.outputs.push_back(v);
  }
  BuildOptions cb = bo;
  cb.optimize = false;
  cb.check_profile = false;
  cb.batch = {1, 64, 64};
  auto eng = Engine::build(std::move(g), cb);
  if (!eng) return eng.status().with_context("building the calibration engine");
  ExecutionContext ctx(*eng);
  const std::int64_t N = windows.dims[0];
  const std::int64_t per = windows.count() / std::max<std::int64_t>(N, 1);
  table.windows = N;
  std::vector<Histogram> hist(names.size());
  constexpr std::size_t kBins = 2048;
  // Pass 1: max |x| per tensor; pass 2: histograms over [0, max].
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1)
      for (auto& h : hist) h.counts.assign(kBins, 0.0);
    for (std::int64_t s = 0; s < N; s += 64) {
      const std::int64_t b = std::min<std::int64_t>(64, N - s);
      TICKRT_RETURN_IF_ERROR(ctx.prepare_batch(b));
      if (numel(ctx.input_dims(0)) != b * per)
        return Status(Code::invalid_argument, "calibration windows " + dims_str(windows.dims) + " do not match the model input " +
                                                  dims_str((*eng)->input_shape(0)));
      std::memcpy(ctx.input(0), windows.as<float>() + s * per, static_cast<std::size_t>(b * per) * 4);
      if (ctx.run() != Code::ok) return Status(Code::internal, "calibration run failed");
      for (std::size_t i = 0; i < names.size(); ++i) {
        const float* x = slot[i] < 0 ? windows.as<float>() + s * per : ctx.output(static_cast<std::size_t>(slot[i]));
        const std::int64_t n = slot[i] < 0 ? b * per : numel(ctx.output_dims(static_cast<std::size_t>(slot[i])));
        Histogram& h = hist[i];
        if (pass == 0) {
          for (std::int64_t k = 0; k < n; ++k) h.amax = std::max(h.amax, static_cast<double>(std::fabs(x[k])));
        } else if (h.amax > 0) {
          const double inv = static_cast<double>(kBins) / h.amax;
          for (std::int64_t k = 0; k < n; ++k) {
            const auto bin = std::min<std::size_t>(kBins - 1, static_cast<std::size_t>(std::fabs(x[k]) * inv));
            h.counts[bin] += 1;
          }
        }
      }
    }
  }
  for (std::size_t i = 0; i < names.size(); ++i) table.tensors[names[i]] = {hist[i].amax, threshold(cal, hist[i], pct)};
  return table;
}

}  // namespace tickrt::infer::quant
