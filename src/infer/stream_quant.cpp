#include "infer/stream_quant.hpp"

#include <algorithm>
#include <cmath>

#include "infer/stream.hpp"

namespace tickrt::infer {

Result<quant::CalibrationTable> calibrate_stream(const Graph& fused, const TensorData& rows, quant::Calibrator cal, const BuildOptions& bo,
                                                 double pct) {
  quant::CalibrationTable table;
  table.model_id = quant::model_id(fused);
  table.calibrator = cal;
  if (rows.dtype != DType::f32 || rows.dims.size() != 2 || rows.dims[0] < 1)
    return Status(Code::invalid_argument, "stream calibration rows must be float32 [N, F], got " + dims_str(rows.dims));
  const auto names = quant::calibration_tensors(fused);
  if (names.empty()) return table;
  Graph g = fused;
  auto spec0 = parse_stream_spec(g);
  if (!spec0.ok()) return spec0.status().with_context("stream calibration");
  const int x_value = g.inputs[static_cast<std::size_t>(spec0->x)];
  std::vector<int> result_of(names.size(), -1);   // index into the spec's results; -1 = the step input x
  const std::size_t first_extra = g.outputs.size();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const int v = g.find_value(names[i]);
    if (v < 0) return Status(Code::internal, "calibration tensor '" + names[i] + "' not found");
    for (int in : g.inputs)
      if (in == v && in != x_value)
        return Status(Code::unsupported, "calibration tensor '" + names[i] + "' is a state input: not supported");
    if (v == x_value) continue;
    result_of[i] = static_cast<int>(g.outputs.size() - first_extra);
    g.outputs.push_back(v);
  }
  BuildOptions cb = bo;
  cb.optimize = false;
  cb.check_profile = false;
  cb.batch = {1, 1, 1};
  auto eng = Engine::build(std::move(g), cb);
  if (!eng) return eng.status().with_context("building the stream calibration engine");
  auto spec = parse_stream_spec((*eng)->graph());
  if (!spec.ok()) return spec.status();
  if (static_cast<std::int64_t>(spec->x_floats) != rows.dims[1])
    return Status(Code::invalid_argument, "stream calibration rows have " + std::to_string(rows.dims[1]) + " floats, the step input " +
                                              std::to_string(spec->x_floats));
  auto sc = StreamContext::create(*eng, *spec, {1, 1});
  if (!sc) return sc.status();
  // The extra outputs follow the model's own result(s) in the spec's result list.
  const std::size_t base = spec->results.size() - (names.size() - static_cast<std::size_t>(std::count(result_of.begin(), result_of.end(), -1)));
  const std::int64_t N = rows.dims[0];
  const std::size_t F = spec->x_floats;
  table.windows = N;
  std::vector<quant::Histogram> hist(names.size());
  constexpr std::size_t kBins = 2048;
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1)
      for (auto& h : hist) h.counts.assign(kBins, 0.0);
    (*sc)->reset(0);
    for (std::int64_t t = 0; t < N; ++t) {
      const float* xr = rows.as<float>() + static_cast<std::size_t>(t) * F;
      if ((*sc)->step(0, xr) != Code::ok) return Status(Code::internal, "stream calibration: step " + std::to_string(t) + " failed");
      for (std::size_t i = 0; i < names.size(); ++i) {
        const std::size_t r = result_of[i] < 0 ? 0 : base + static_cast<std::size_t>(result_of[i]);
        const float* x = result_of[i] < 0 ? xr : (*sc)->output(r);
        const std::size_t n = result_of[i] < 0 ? F : spec->result_floats[r];
        quant::Histogram& h = hist[i];
        if (pass == 0) {
          for (std::size_t k = 0; k < n; ++k) h.amax = std::max(h.amax, static_cast<double>(std::fabs(x[k])));
        } else if (h.amax > 0) {
          const double inv = static_cast<double>(kBins) / h.amax;
          for (std::size_t k = 0; k < n; ++k) h.counts[std::min<std::size_t>(kBins - 1, static_cast<std::size_t>(std::fabs(x[k]) * inv))] += 1;
        }
      }
    }
  }
  for (std::size_t i = 0; i < names.size(); ++i) table.tensors[names[i]] = {hist[i].amax, quant::threshold(cal, hist[i], pct)};
  return table;
}

Result<std::shared_ptr<Engine>> build_stream_engine(const Graph& source, const BuildOptions& bo, quant::Precision p, const TensorData* rows,
                                                    const std::string& cache_path, quant::QuantReport* report) {
  quant::QuantOptions qo;
  qo.spec.def = p;
  if (p == quant::Precision::int8) {
    if (!rows) return Status(Code::invalid_argument, "an INT8 streaming engine needs calibration rows");
    Graph fused = source;
    TICKRT_RETURN_IF_ERROR(fused.validate());
    TICKRT_RETURN_IF_ERROR(optimize_graph(fused, bo, nullptr).with_context("optimizing"));
    auto table = calibrate_stream(fused, *rows, qo.calibrator, bo, qo.percentile);
    if (!table) return table.status().with_context("stream calibration");
    TICKRT_RETURN_IF_ERROR(table->save(cache_path));
    qo.calib_cache = cache_path;
  }
  return quant::build_engine(source, bo, qo, report);
}

}  // namespace tickrt::infer
