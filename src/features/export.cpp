#include "features/export.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "infer/npy.hpp"

namespace tickrt::features {

int direction_label(double mid_now, double mid_ahead, double deadband_bps) noexcept {
  if (!(mid_now > 0) || !(mid_ahead > 0)) return -1;
  const double change = (mid_ahead / mid_now - 1.0) * 1e4;
  if (change > deadband_bps) return 2;
  if (change < -deadband_bps) return 0;
  return 1;
}

std::string label_string(int horizon, double deadband_bps) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "mid_direction:h=%d:deadband_bps=%g", horizon, deadband_bps);
  return buf;
}

namespace {

struct CollectSink final : RowSink {
  std::vector<float> x;
  std::vector<double> mid;
  std::vector<std::uint8_t> ok;
  std::vector<std::int64_t> ts;
  std::vector<std::int32_t> sess;
  int cur = 0;
  void begin_session(const SessionInfo& s) override { cur = s.index; }
  void row(const RowInfo& r, const float* f) override {
    x.insert(x.end(), f, f + kNumFeatures);
    mid.push_back(r.mid);
    ok.push_back(r.tradable ? 1 : 0);
    ts.push_back(r.ts_ns);
    sess.push_back(cur);
  }
};

}  // namespace

Status export_dataset(const std::vector<std::string>& files, const std::string& out_dir, const ExportOptions& opt,
                      const ReplayProgress* progress, ExportSummary* summary) {
  if (opt.horizon < 1) return {Code::invalid_argument, "horizon must be >= 1 row"};
  if (!(opt.deadband_bps >= 0)) return {Code::invalid_argument, "deadband_bps must be >= 0"};
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return {Code::io_error, out_dir + ": cannot create directory: " + ec.message()};

  FeatureReplay rp(opt.features);
  CollectSink sink;
  TICKRT_RETURN_IF_ERROR(rp.run(files, sink, progress));

  const std::size_t n = sink.ts.size();
  std::vector<std::int64_t> labels(n, -1);
  const std::size_t h = static_cast<std::size_t>(opt.horizon);
  for (std::size_t i = 0; i + h < n; ++i) {
    if (sink.sess[i] != sink.sess[i + h] || !sink.ok[i] || !sink.ok[i + h]) continue;
    labels[i] = direction_label(sink.mid[i], sink.mid[i + h], opt.deadband_bps);
  }
  std::uint64_t counts[4] = {};
  for (std::int64_t l : labels) ++counts[l + 1];

  const std::int64_t N = static_cast<std::int64_t>(n), F = static_cast<std::int64_t>(kNumFeatures);
  namespace fs = std::filesystem;
  auto path = [&](const char* name) { return (fs::path(out_dir) / name).string(); };
  TICKRT_RETURN_IF_ERROR(infer::write_npy(path("features.npy"), infer::DType::f32, {N, F}, sink.x.data()));
  TICKRT_RETURN_IF_ERROR(infer::write_npy(path("labels.npy"), infer::DType::i64, {N}, labels.data()));
  TICKRT_RETURN_IF_ERROR(infer::write_npy(path("timestamps.npy"), infer::DType::i64, {N}, sink.ts.data()));
  TICKRT_RETURN_IF_ERROR(infer::write_npy(path("session.npy"), infer::DType::i32, {N}, sink.sess.data()));

  nlohmann::json meta;
  meta["features"] = nlohmann::json::array();
  for (std::string_view f : kFeatureNames) meta["features"].push_back(std::string(f));
  meta["F"] = kNumFeatures;
  meta["sampling"] = sampling_string(opt.features.sample_period_ns);
  meta["sample_period_ns"] = opt.features.sample_period_ns;
  meta["clock"] = "local receive time (capture stamp), ns";
  meta["horizon"] = opt.horizon;
  meta["deadband_bps"] = opt.deadband_bps;
  meta["label"] = label_string(opt.horizon, opt.deadband_bps);
  meta["schema_version"] = kFeatureSchemaVersion;
  char hex[24];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(feature_schema_hash()));
  meta["schema_hash"] = hex;
  meta["rows"] = n;
  meta["sessions"] = nlohmann::json::array();
  for (const SessionInfo& s : rp.sessions()) {
    nlohmann::json j;
    j["session"] = s.index;
    j["files"] = s.files;
    j["file"] = s.files.empty() ? std::string() : s.files.front();
    j["symbol"] = s.symbol;
    j["market"] = std::string(feed::market_name(s.market));
    j["t_first_ns"] = s.first_ts_ns;
    j["t_last_ns"] = s.last_ts_ns;
    j["rows"] = s.rows;
    j["lines"] = s.lines;
    j["malformed"] = s.malformed;
    j["book_gaps"] = s.gaps;
    j["book_resyncs"] = s.resyncs;
    meta["sessions"].push_back(j);
  }
  meta["class_counts"] = {{"-1", counts[0]}, {"0", counts[1]}, {"1", counts[2]}, {"2", counts[3]}};
  {
    std::ofstream o(path("meta.json"));
    o << meta.dump(1) << "\n";
    if (!o) return {Code::io_error, path("meta.json") + ": write failed"};
  }
  if (summary) {
    summary->rows = n;
    for (int c = 0; c < 4; ++c) summary->class_counts[c] = counts[c];
    summary->sessions = rp.sessions();
  }
  return Status::Ok();
}

}  // namespace tickrt::features
