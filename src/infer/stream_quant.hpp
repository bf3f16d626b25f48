// infer/stream_quant.hpp — FP16 / INT8 engines of streaming (stateful) models through infer/quant.
//
// quant::calibrate() feeds windows into input 0 only; a step graph's other inputs are its state, which
// only exists by stepping. calibrate_stream() records the step inputs the way they occur: it steps the
// FP32 fused graph over N consecutive rows in one state slot (StreamContext), with the tensors INT8
// needs (quant::calibration_tensors: the inputs of FusedLSTM / FusedGemm) exposed as extra outputs, and
// builds the same CalibrationTable (two passes: max |x|, then histograms; the chosen calibrator).
// build_stream_engine() then goes through quant::build_engine unchanged, with that table handed over as
// its calibration cache (same model id: the same passes on the same graph), so the precision rewrite,
// kernels and engine file are those of windowed models. The LSTM initial state stays an FP32 input
// (Int8LSTM / Fp16LSTM inputs 4, 5).
// Setup path only (allocates; seconds).
#pragma once

#include <memory>
#include <string>

#include "infer/engine.hpp"
#include "infer/quant/quant.hpp"

namespace tickrt::infer {

// rows: float32 [N, F] normalised feature rows, consecutive (one stream from a reset).
Result<quant::CalibrationTable> calibrate_stream(const Graph& fused, const TensorData& rows, quant::Calibrator c, const BuildOptions& bo,
                                                 double percentile = 99.99);

// FP16 (rows unused) or INT8 streaming engine from the imported graph. cache_path: where the calibration
// table is written for build_engine to pick up (a temporary file of the caller's choice).
Result<std::shared_ptr<Engine>> build_stream_engine(const Graph& source, const BuildOptions& bo, quant::Precision p, const TensorData* rows,
                                                    const std::string& cache_path, quant::QuantReport* report = nullptr);

}  // namespace tickrt::infer
