// tests/cuda/cuda_models.hpp — where tests/cuda and bench/cuda get the reference models' graphs.
//
// With the ONNX importer (protobuf present: dev machines, CI) the graph comes from models/<m>/model.onnx.
// Without it (the GPU machine: no protobuf) from an engine file <dir>/<m>.engine written beforehand by
// `tickrt_cuda_engines <dir>` (bench/cuda/make_engines.cpp, built where the importer is): the engine is built
// unoptimized (optimize=false, scalar ISA), so its graph is the plain ONNX graph and any ISA loads it.
// dir = $TICKRT_GPU_ENGINES, default "gpu-engines".
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "infer/engine.hpp"
#if defined(TICKRT_HAVE_ONNX)
#include "infer/onnx/onnx_import.hpp"
#endif

namespace tickrt::infer::cudatest {

struct ModelRef {
  std::string name;   // engine file stem
  std::string onnx;   // path relative to the project root
};

inline std::vector<ModelRef> reference_models() {
  return {{"lstm_attn_s", "models/lstm_attn_s/model.onnx"},
          {"lstm_attn_l", "models/lstm_attn_l/model.onnx"},
          {"convlstm", "models/convlstm/model.onnx"},
          {"transformer_s", "models/transformer_s/model.onnx"},
          {"trained_lstm_attn_s", "models/trained/lstm_attn_s/model.onnx"},
          {"trained_convlstm", "models/trained/convlstm/model.onnx"},
          {"trained_transformer_s", "models/trained/transformer_s/model.onnx"}};
}

inline std::string engine_dir() {
  const char* d = std::getenv("TICKRT_GPU_ENGINES");
  return d ? d : "gpu-engines";
}

// The plain graph of model m (not optimized), or a Status saying where it looked.
inline Result<Graph> load_graph(const ModelRef& m) {
  const std::string eng = engine_dir() + "/" + m.name + ".engine";
  if (std::filesystem::exists(eng)) {
    auto e = Engine::load(eng);
    if (!e.ok()) return e.status();
    return Graph((*e)->graph());
  }
#if defined(TICKRT_HAVE_ONNX)
  if (std::filesystem::exists(m.onnx)) return import_onnx_file(m.onnx);
  return Status(Code::not_found, m.onnx + " and " + eng + " are both absent");
#else
  return Status(Code::not_found, eng + " is absent (no ONNX importer in this build: write it with tickrt_cuda_engines)");
#endif
}

// The engine the GPU runs: the plain graph, batch profile [1, max].
inline Result<std::shared_ptr<Engine>> gpu_engine(Graph g, std::int64_t max_batch) {
  BuildOptions o;
  o.batch = {1, 1, max_batch};
  o.isa = cpu::Isa::scalar;
  o.optimize = false;
  o.check_profile = false;
  return Engine::build(std::move(g), o);
}

// The CPU FP32 engine (every pass, this CPU's best ISA): the reference the GPU must match.
inline Result<std::shared_ptr<Engine>> cpu_engine(Graph g, std::int64_t max_batch) {
  BuildOptions o;
  o.batch = {1, 1, max_batch};
  o.check_profile = false;
  return Engine::build(std::move(g), o);
}

}  // namespace tickrt::infer::cudatest
