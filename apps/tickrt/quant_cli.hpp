// apps/tickrt/quant_cli.hpp — the reduced-precision options of `tickrt build` (cmd_quant.cpp), so cmd_engine.cpp
// only adds two calls: add_quant_build_options() when registering `build`, quant_build() when running it.
#pragma once

#include <memory>
#include <string>

#include "infer/engine.hpp"

namespace CLI { class App; }

namespace tickrt::cli {

// --precision, --int8, --fp16, --calib, --calibrator, --calib-cache, --val, --val-labels, --auto-precision,
// --max-accuracy-drop on the given subcommand.
void add_quant_build_options(CLI::App* build);
// True when any of those options asks for something other than plain FP32.
bool quant_build_requested();
// Builds `model` (ONNX) with those options; prints the calibration / guard / auto-precision log; dies on error.
std::shared_ptr<infer::Engine> quant_build(const std::string& model, const infer::BuildOptions& bo);

}  // namespace tickrt::cli
