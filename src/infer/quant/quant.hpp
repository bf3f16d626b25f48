// infer/quant/quant.hpp — reduced precision for the engine: calibration, per-layer precision, INT8 / FP16
// rewrites, accuracy guard, sensitivity and automatic mixed precision (docs/QUANTIZATION.md).
//
// Who calls: `tickrt build --precision/--calib/...`, `tickrt calibrate`, `tickrt quant-sensitivity`,
// `tickrt quant-eval` (apps/tickrt/cmd_quant.cpp) and tests/quant. Setup path only: everything here
// allocates, may take seconds (calibration runs the FP32 engine over the calibration windows) and reports
// errors as Status naming the file / node / pattern. The engines it returns are ordinary Engines: the hot
// path is the engine's (ops/quant_ops.cpp kernels), nothing here runs per tick.
//
// Flow (build_engine):
//   ONNX graph --optimize_graph (FP32 fusion, as Engine::build)--> fused graph
//   --calibrate (FP32 engine with the quantized ops' inputs exposed; histograms of |x|; a calibrator picks
//     each tensor's threshold) or load the calibration cache-->
//   --apply_precision (FusedLSTM -> Int8LSTM/Fp16LSTM, FusedGemm -> Int8Gemm/Fp16Gemm per node, from the
//     precision spec; weights re-read from the source graph, quantized per channel)-->
//   Engine::build(optimize = false) ; metadata "tickrt.precision", "tickrt.calibration" recorded in the engine
//   file --validation guard (optional): accuracy drop vs FP32 on labelled windows <= limit, else refused.
// Which ops change precision: tickrt.FusedLSTM and tickrt.FusedGemm (every FLOP of lstm_attn_s's recurrent
// layers and MLP, the projections of transformer_s). Other ops (attention, convolutions, layer norm,
// softmax) stay FP32 whatever the spec says; the report lists them.
// Limits: activations are quantized per tensor (symmetric). LSTM initial states (streaming models) stay FP32
// inputs; INT8 quantizes h0 on the same fixed 1/127 grid as every later h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "infer/engine.hpp"

namespace tickrt::infer::quant {

enum class Precision : std::uint8_t { fp32 = 0, fp16 = 1, int8 = 2 };
const char* precision_name(Precision);
Result<Precision> parse_precision_word(const std::string& s);

// "--precision default=int8,*attn*=fp32,/lstm_1/*=fp16": the last matching pattern wins; patterns are globs
// (* any run, ? one char) on the fused node's name (`tickrt inspect` and `tickrt quant-sensitivity` list them).
// A bare word ("int8") is the default alone.
struct PrecisionSpec {
  Precision def = Precision::fp32;
  std::vector<std::pair<std::string, Precision>> rules;
  Precision resolve(const std::string& node_name) const;
  std::string to_string() const;
};
Result<PrecisionSpec> parse_precision_spec(const std::string& s);
bool glob_match(const std::string& pattern, const std::string& name);

// ---- calibration ----------------------------------------------------------------------------------------
enum class Calibrator : std::uint8_t { minmax, percentile, entropy };
const char* calibrator_name(Calibrator);
Result<Calibrator> parse_calibrator(const std::string& s);

// Histogram of |x| over [0, amax] in `bins` equal bins (TensorRT: 2048).
struct Histogram {
  double amax = 0;
  std::vector<double> counts;
  double bin_width() const { return counts.empty() ? 0 : amax / static_cast<double>(counts.size()); }
};
// Threshold T (the |x| that maps to 127) from a histogram.
double threshold_minmax(const Histogram& h);
double threshold_percentile(const Histogram& h, double pct);   // pct in (0, 100], e.g. 99.99
// TensorRT's entropy calibration: for each candidate i >= 128 bins, P = counts[0, i) with the outliers added
// to bin i-1, Q = P merged into 128 levels and expanded back over P's non-empty bins; T = the edge of the i
// minimizing KL(P || Q).
double threshold_entropy(const Histogram& h);
double threshold(Calibrator c, const Histogram& h, double pct = 99.99);

struct TensorRange {
  double amax = 0;        // max |x| seen
  double threshold = 0;   // chosen by the calibrator (scale = threshold / 127)
};
struct CalibrationTable {
  std::string model_id;           // hash of the fused FP32 graph's weights and names (cache key)
  Calibrator calibrator = Calibrator::entropy;
  std::int64_t windows = 0;       // calibration samples seen
  std::map<std::string, TensorRange> tensors;   // by value name in the fused graph
  std::string to_text() const;
  static Result<CalibrationTable> from_text(const std::string& text, const std::string& where);
  Status save(const std::string& path) const;
  static Result<CalibrationTable> load(const std::string& path);
};

// Names of the tensors whose ranges INT8 needs (inputs of FusedLSTM / FusedGemm nodes) in a fused graph.
std::vector<std::string> calibration_tensors(const Graph& fused);
// Runs the fused FP32 graph over `windows` ([N, ...] matching input 0) and builds the table.
Result<CalibrationTable> calibrate(const Graph& fused, const TensorData& windows, Calibrator c, const BuildOptions& bo,
                                   double percentile = 99.99);
std::string model_id(const Graph& fused);

// ---- precision rewrite ---------------------------------------------------------------------------------
struct LayerChoice {
  std::string node, op;           // fused node name and its FP32 op (tickrt.FusedLSTM, ...)
  Precision precision = Precision::fp32;
  std::int64_t weight_bytes = 0;  // after the rewrite
};
// `source` is the graph as imported (weights are re-read from it by node name).
Result<std::vector<LayerChoice>> apply_precision(Graph& fused, const Graph& source, const PrecisionSpec& spec,
                                                 const CalibrationTable* calib);
// Quantizable nodes of a fused graph (name, op).
std::vector<std::pair<std::string, std::string>> quantizable_nodes(const Graph& fused);

// ---- accuracy ------------------------------------------------------------------------------------------
struct EvalResult {
  std::int64_t n = 0, correct = 0;
  std::vector<int> argmax;        // per window
  double accuracy() const { return n ? static_cast<double>(correct) / static_cast<double>(n) : 0; }
};
// Runs windows [N, ...] in batches of up to 64 (the engine's profile max); labels (int64 [N], nullable) count
// correct argmaxes; labels < 0 are skipped.
Result<EvalResult> evaluate(const std::shared_ptr<Engine>& e, const TensorData& windows, const TensorData* labels);
double agreement(const EvalResult& a, const EvalResult& b);

// ---- one-call build ------------------------------------------------------------------------------------
struct QuantOptions {
  PrecisionSpec spec;
  Calibrator calibrator = Calibrator::entropy;
  double percentile = 99.99;
  const TensorData* calib = nullptr;       // calibration windows (needed for INT8 unless the cache has them)
  std::string calib_cache;                 // read if present and matching; written after calibrating
  // Guard: with validation windows and labels, refuse the engine if its accuracy is more than
  // max_accuracy_drop percentage points below FP32's (negative = no guard).
  const TensorData* val = nullptr;
  const TensorData* val_labels = nullptr;
  double max_accuracy_drop = -1;
  bool auto_precision = false;             // choose the fastest mix within max_accuracy_drop (needs val)
};
struct QuantReport {
  std::vector<LayerChoice> layers;
  CalibrationTable calib;
  bool calib_from_cache = false;
  double val_acc_fp32 = -1, val_acc = -1, val_agreement = -1;
  std::vector<std::string> log;            // auto-precision and guard decisions, one line each
  PrecisionSpec chosen;                    // the spec finally built (auto-precision's pick)
};
Result<std::shared_ptr<Engine>> build_engine(const Graph& source, const BuildOptions& bo, const QuantOptions& qo,
                                             QuantReport* report = nullptr);

// Sensitivity: accuracy on (windows, labels) with only that node in INT8 (others FP32), most harmful first.
struct Sensitivity {
  std::string node, op;
  double accuracy = 0, drop_pp = 0, agreement = 0;
};
Result<std::vector<Sensitivity>> sensitivity(const Graph& source, const BuildOptions& bo, const CalibrationTable& calib,
                                             const TensorData& windows, const TensorData& labels, Precision p = Precision::int8);

// Bytes of the engine's constants (weights, packed blobs, scales).
std::int64_t constant_bytes(const Graph& g);

}  // namespace tickrt::infer::quant
