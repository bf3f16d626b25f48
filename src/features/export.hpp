// features/export.hpp — the dataset export behind `tickrt features`: captures -> FeatureReplay
// (features/replay.hpp, the same code as a live replay) -> numpy files + meta.json.
//
// Who calls: the CLI and tests, one thread, setup path (allocates freely; Status on errors naming
// the file). Format (docs/FEATURES.md, consumed by tools/train/data.py):
//   features.npy   float32 [N, F]  raw rows, time order, sessions concatenated
//   labels.npy     int64   [N]     0 down / 1 flat / 2 up: mid `horizon` rows ahead vs now,
//                                  change = (mid[i+h] / mid[i] - 1) * 1e4 bps, |change| <= deadband
//                                  -> flat; -1 when i+h is past the session's end or the book is
//                                  not tradable at either end
//   timestamps.npy int64   [N]     sample time, ns (local receive clock)
//   session.npy    int32   [N]     session index (rows of a session are contiguous)
//   meta.json
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "features/replay.hpp"

namespace tickrt::features {

struct ExportOptions {
  FeatureConfig features;       // sampling period (window is irrelevant to the export)
  int horizon = 20;             // label horizon in rows (samples)
  double deadband_bps = 0.5;    // |mid change| <= this -> flat
};

struct ExportSummary {
  std::uint64_t rows = 0;
  std::uint64_t class_counts[4] = {};  // -1, 0, 1, 2
  std::vector<SessionInfo> sessions;
};

// Label for one row pair (the definition, shared with tests): 0/1/2, or -1 if either mid is not usable.
int direction_label(double mid_now, double mid_ahead, double deadband_bps) noexcept;

// The label string of the model package: "mid_direction:h=<h>:deadband_bps=<x>".
std::string label_string(int horizon, double deadband_bps);

Status export_dataset(const std::vector<std::string>& files, const std::string& out_dir, const ExportOptions& opt,
                      const ReplayProgress* progress = nullptr, ExportSummary* summary = nullptr);

}  // namespace tickrt::features
