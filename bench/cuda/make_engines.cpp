// bench/cuda/make_engines.cpp — tickrt_cuda_engines <dir>: writes <dir>/<model>.engine for every reference
// model, unoptimized (plain ONNX graph, scalar ISA: loads on any x86-64), so that the GPU machine, which has
// no protobuf and hence no ONNX importer, runs tests/cuda and bench/cuda from them (docs/CUDA.md).
#include <cstdio>
#include <filesystem>

#include "cuda_models.hpp"

using namespace tickrt::infer;

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "gpu-engines";
  std::filesystem::create_directories(dir);
  int bad = 0;
  for (auto& m : cudatest::reference_models()) {
    auto g = import_onnx_file(m.onnx);
    if (!g.ok()) {
      std::fprintf(stderr, "%s: %s\n", m.onnx.c_str(), g.status().message().c_str());
      ++bad;
      continue;
    }
    auto e = cudatest::gpu_engine(std::move(*g), 1024);
    if (!e.ok()) {
      std::fprintf(stderr, "%s: %s\n", m.onnx.c_str(), e.status().message().c_str());
      ++bad;
      continue;
    }
    const std::string out = dir + "/" + m.name + ".engine";
    auto st = (*e)->save(out);
    std::printf("%s -> %s: %s\n", m.onnx.c_str(), out.c_str(), st.ok() ? "ok" : st.message().c_str());
    bad += !st.ok();
  }
  return bad ? 1 : 0;
}
