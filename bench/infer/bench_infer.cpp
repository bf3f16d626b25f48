// bench_infer: the engine on the four reference models (Google Benchmark), and engine-file load time.
//   build/bin/bench_infer --benchmark_filter='Infer/lstm_attn_s' --benchmark_repetitions=5
// Peers (ONNX Runtime, libtorch) are measured in the same run by tools/bench/compare.py, which drives
// `tickrt bench --json`; this binary is for quick A/B work on the engine itself.
// Intra-op threads: Infer2T/<model> runs the same at 2 threads; ThreadPool/handoff times one empty ThreadPool::run()
// round trip (publish, the worker runs nothing, the caller sees it done):
//   taskset -c 0,1 build/bin/bench_infer --benchmark_filter='ThreadPool|Infer2T/lstm_attn_s'
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>

#include "infer/engine.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/runtime/thread_pool.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {

const char* kModels[] = {"lstm_attn_s", "lstm_attn_l", "convlstm", "transformer_s"};

std::shared_ptr<Engine> engine_for(const std::string& model, bool optimize) {
  static std::map<std::pair<std::string, bool>, std::shared_ptr<Engine>> cache;
  auto key = std::make_pair(model, optimize);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto g = import_onnx_file(std::string(TICKRT_SOURCE_DIR) + "/models/" + model + "/model.onnx");
  if (!g) return nullptr;
  BuildOptions bo;
  bo.optimize = optimize;
  auto e = Engine::build(std::move(*g), bo);
  if (!e) return nullptr;
  return cache[key] = *e;
}

void BM_infer(benchmark::State& state, const char* model, bool optimize, int threads) {
  auto e = engine_for(model, optimize);
  if (!e) { state.SkipWithError("cannot build engine"); return; }
  ExecutionContext ctx(e);
  if (!ctx.set_threads(threads).ok()) { state.SkipWithError("set_threads failed"); return; }
  const auto batch = state.range(0);
  if (!ctx.prepare_batch(batch).ok()) { state.SkipWithError("prepare failed"); return; }
  fill_golden_input(42, ctx.input(0), static_cast<std::size_t>(numel(ctx.input_dims(0))));
  for (auto _ : state) {
    if (ctx.run() != Code::ok) state.SkipWithError("run failed");
    benchmark::DoNotOptimize(ctx.output(0));
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_pool_handoff(benchmark::State& state) {
  auto pool = ThreadPool::create(2);
  if (!pool) { state.SkipWithError("cannot start the pool"); return; }
  for (auto _ : state) (*pool)->run([](void*, int, int) noexcept {}, nullptr);
}

void BM_load(benchmark::State& state, const char* model) {
  auto e = engine_for(model, true);
  if (!e) { state.SkipWithError("cannot build engine"); return; }
  const std::string path = (std::filesystem::temp_directory_path() / (std::string(model) + "_bench.engine")).string();
  if (!e->save(path).ok()) { state.SkipWithError("save failed"); return; }
  for (auto _ : state) {
    auto l = Engine::load(path);
    if (!l) state.SkipWithError("load failed");
    benchmark::DoNotOptimize(l);
  }
  state.counters["bytes"] = static_cast<double>(std::filesystem::file_size(path));
}

const int kRegistered = [] {
  for (const char* m : kModels) {
    benchmark::RegisterBenchmark((std::string("Infer/") + m).c_str(), BM_infer, m, true, 1)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("InferReference/") + m).c_str(), BM_infer, m, false, 1)->Arg(1)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("Infer2T/") + m).c_str(), BM_infer, m, true, 2)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("LoadEngineFile/") + m).c_str(), BM_load, m)->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("ThreadPool/handoff", BM_pool_handoff)->Unit(benchmark::kNanosecond);
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
