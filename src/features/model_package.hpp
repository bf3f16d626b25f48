// features/model_package.hpp — what travels with a model (ONNX metadata_props, landing in
// infer::Graph::metadata) and the check that it matches the running feature code.
//
// Keys (written by tools/train/train.py):
//   tickrt.features   comma-separated feature names, in input order
//   tickrt.window     T (rows per input window)
//   tickrt.sampling   e.g. "clock:100ms" or "event"
//   tickrt.label      e.g. "mid_direction:h=10:deadband_bps=0.5"
//   tickrt.norm_mean  comma-separated floats, one per feature
//   tickrt.norm_std   comma-separated floats, one per feature (0 -> treated as 1)
// Who calls: setup (model load): parse_model_package() then check(); both return Status whose
// message names the key / feature / position that failed. Per tick: normalize() (noexcept, no
// allocation) writes (x - mean) / std of the engine's [T, F] window into the input buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "features/features.hpp"

namespace tickrt::features {

struct ModelPackage {
  std::vector<std::string> features;
  std::size_t window = 0;
  std::string sampling;
  std::string label;
  std::vector<float> mean;
  std::vector<float> inv_std;  // 1 / std (std == 0 or non-finite -> 1)
  std::vector<float> std_;     // as given

  // Normalises `rows` rows of raw features ([rows, F], F == features.size()) into out.
  void normalize(const float* raw, std::size_t rows, float* out) const noexcept;
  // Per inference: the engine's window, normalised, into the model input `out` ([T, F] float32).
  // false (nothing written) until the engine holds T rows, or when T or F differ from the package
  // (check_model_package() at setup makes that impossible).
  [[nodiscard]] bool fill_input(const FeatureEngine& fe, float* out) const noexcept;
};

// From a graph's metadata (infer::Graph::metadata). Missing key, bad integer or float, or a
// mean/std count that differs from the feature count -> error naming the key (and position).
Result<ModelPackage> parse_model_package(const std::map<std::string, std::string>& metadata);

// Against the running code: feature list (order and names; the first mismatch is named), and,
// when given, the window T and the sampling string of the running FeatureConfig.
Status check_model_package(const ModelPackage& pkg, const FeatureConfig& running);

}  // namespace tickrt::features
