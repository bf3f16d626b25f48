#include "features/model_package.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace tickrt::features {

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (true) {
    std::size_t e = s.find(',', b);
    std::string part = s.substr(b, e == std::string::npos ? std::string::npos : e - b);
    // trim spaces
    std::size_t l = part.find_first_not_of(" \t"), r = part.find_last_not_of(" \t");
    out.push_back(l == std::string::npos ? std::string() : part.substr(l, r - l + 1));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return out;
}

Status need(const std::map<std::string, std::string>& m, const char* key, const std::string*& out) {
  auto it = m.find(key);
  if (it == m.end())
    return {Code::not_found, std::string("model package: metadata key '") + key +
                                 "' is missing (the model was not exported with tickrt's feature package)"};
  out = &it->second;
  return Status::Ok();
}

Status floats(const std::string& key, const std::string& text, std::size_t want, std::vector<float>& out) {
  std::vector<std::string> parts = split(text);
  if (parts.size() != want)
    return {Code::invalid_argument, "model package: '" + key + "' has " + std::to_string(parts.size()) +
                                        " values, tickrt.features names " + std::to_string(want)};
  out.resize(want);
  for (std::size_t i = 0; i < want; ++i) {
    const char* b = parts[i].c_str();
    char* e = nullptr;
    errno = 0;
    const float v = std::strtof(b, &e);
    if (parts[i].empty() || e != b + parts[i].size() || errno == ERANGE || !std::isfinite(v))
      return {Code::parse_error, "model package: '" + key + "' value " + std::to_string(i) + " ('" + parts[i] +
                                     "') is not a finite float"};
    out[i] = v;
  }
  return Status::Ok();
}

}  // namespace

void ModelPackage::normalize(const float* raw, std::size_t rows, float* out) const noexcept {
  const std::size_t F = mean.size();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < F; ++j) out[r * F + j] = (raw[r * F + j] - mean[j]) * inv_std[j];
}

bool ModelPackage::fill_input(const FeatureEngine& fe, float* out) const noexcept {
  const std::span<const float> w = fe.window();
  if (mean.size() != kNumFeatures || fe.config().window != window || w.size() != window * kNumFeatures) return false;
  normalize(w.data(), window, out);
  return true;
}

Result<ModelPackage> parse_model_package(const std::map<std::string, std::string>& md) {
  ModelPackage p;
  const std::string *feat, *win, *samp, *lab, *mean, *sd;
  TICKRT_RETURN_IF_ERROR(need(md, "tickrt.features", feat));
  TICKRT_RETURN_IF_ERROR(need(md, "tickrt.window", win));
  TICKRT_RETURN_IF_ERROR(need(md, "tickrt.sampling", samp));
  TICKRT_RETURN_IF_ERROR(need(md, "tickrt.label", lab));
  TICKRT_RETURN_IF_ERROR(need(md, "tickrt.norm_mean", mean));
  TICKRT_RETURN_IF_ERROR(need(md, "tickrt.norm_std", sd));
  p.features = split(*feat);
  for (std::size_t i = 0; i < p.features.size(); ++i)
    if (p.features[i].empty())
      return Result<ModelPackage>(Code::parse_error,
                                  "model package: 'tickrt.features' entry " + std::to_string(i) + " is empty");
  {
    char* e = nullptr;
    errno = 0;
    const long long t = std::strtoll(win->c_str(), &e, 10);
    if (win->empty() || *e != '\0' || errno == ERANGE || t < 1 || t > (1 << 20))
      return Result<ModelPackage>(Code::parse_error,
                                  "model package: 'tickrt.window' = '" + *win + "' is not a window length (1..2^20)");
    p.window = static_cast<std::size_t>(t);
  }
  p.sampling = *samp;
  p.label = *lab;
  TICKRT_RETURN_IF_ERROR(floats("tickrt.norm_mean", *mean, p.features.size(), p.mean));
  TICKRT_RETURN_IF_ERROR(floats("tickrt.norm_std", *sd, p.features.size(), p.std_));
  p.inv_std.resize(p.std_.size());
  for (std::size_t i = 0; i < p.std_.size(); ++i) {
    const float s = p.std_[i];
    p.inv_std[i] = (s == 0.0f || !std::isfinite(s)) ? 1.0f : 1.0f / s;
  }
  return p;
}

Status check_model_package(const ModelPackage& pkg, const FeatureConfig& running) {
  const std::size_t n = pkg.features.size() < kNumFeatures ? pkg.features.size() : kNumFeatures;
  for (std::size_t i = 0; i < n; ++i) {
    if (pkg.features[i] != kFeatureNames[i])
      return {Code::invalid_argument, "model package: feature " + std::to_string(i) + " is '" + pkg.features[i] +
                                          "' in the model but '" + std::string(kFeatureNames[i]) +
                                          "' in the running feature code (schema v" +
                                          std::to_string(kFeatureSchemaVersion) + ")"};
  }
  if (pkg.features.size() != kNumFeatures) {
    // Built by append: g++ 12 warns falsely (-Wrestrict) on "'" + std::string temporaries here.
    std::string first(1, '\'');
    if (pkg.features.size() > kNumFeatures) first.append(pkg.features[kNumFeatures]).append("' (model only)");
    else first.append(kFeatureNames[n]).append("' (code only)");
    return {Code::invalid_argument, "model package: the model has " + std::to_string(pkg.features.size()) +
                                        " features, the running code " + std::to_string(kNumFeatures) +
                                        "; first mismatching feature at " + std::to_string(n) + ": " + first};
  }
  if (pkg.window != running.window)
    return {Code::invalid_argument, "model package: tickrt.window = " + std::to_string(pkg.window) +
                                        " but the feature engine keeps T = " + std::to_string(running.window)};
  const std::string samp = sampling_string(running.sample_period_ns);
  if (pkg.sampling != samp)
    return {Code::invalid_argument,
            "model package: tickrt.sampling = '" + pkg.sampling + "' but the feature engine samples '" + samp + "'"};
  return Status::Ok();
}

}  // namespace tickrt::features
