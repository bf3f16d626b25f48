// infer/engine.hpp — the inference engine's public contract.
//
//   auto g   = import_onnx_file("model.onnx");                  // infer/onnx (protobuf), setup path
//   auto eng = Engine::build(std::move(*g), {.batch = {1, 8, 64}});// passes + pre-packed weights
//   eng->save("model.engine");  Engine::load("model.engine");    // mmap, milliseconds
//   ExecutionContext ctx(eng);  ctx.prepare_batch(1);             // plan + arena (pre-faulted), setup path
//   std::copy(x, x + n, ctx.input(0));  if (ctx.run() != Code::ok) ...;  ctx.output(0)
//
// Threading: an Engine is immutable after build/load and may be shared by many contexts on many threads.
// An ExecutionContext belongs to one thread at a time. run() is the hot path: no allocation, no exceptions,
// no locks, no virtual calls; it walks a flat array of prepared steps.
// Intra-op threads (optional, default 1 = none): ctx.set_threads(2) before prepare*() gives the context a pool of
// persistent workers (runtime/thread_pool.hpp) that run() hands work to through atomics; which kernels split their
// work, and how, is runtime/parallel.hpp and docs/ENGINE.md "Intra-op threads".
// Limits: float32 CPU backend; a graph input's dynamic dimensions other than the batch (axis 0) must be
// given through prepare(shapes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "infer/cpu/kernels.hpp"
#include "infer/ir/graph.hpp"
#include "infer/runtime/plan.hpp"
#include "infer/runtime/thread_pool.hpp"

namespace tickrt::infer {

struct BatchProfile {
  std::int64_t min = 1, opt = 1, max = 64;
};

struct BuildOptions {
  BatchProfile batch;
  std::size_t workspace_limit = 0;   // bytes of activations + scratch at the max batch; 0 = unlimited
  cpu::Isa isa = cpu::detect_isa();
  bool optimize = true;              // run the fusion passes (off: reference kernels only)
  bool check_profile = true;         // specialize at min/opt/max at build (off for fixed-shape test graphs)
};

struct PassReport {
  std::string pass;
  int changed = 0;
};

struct BuildReport {
  std::map<std::string, int> ops_before, ops_after;
  std::vector<PassReport> passes;
  PlanStats plan_min, plan_opt, plan_max;   // specializations checked at build
};

class Engine {
 public:
  static Result<std::shared_ptr<Engine>> build(Graph g, const BuildOptions& opt, BuildReport* report = nullptr);
  static Result<std::shared_ptr<Engine>> load(const std::string& path);
  Status save(const std::string& path) const;

  const Graph& graph() const { return graph_; }
  cpu::Isa isa() const { return isa_; }
  const BatchProfile& profile() const { return profile_; }
  std::size_t workspace_limit() const { return workspace_limit_; }
  // Graph input i's shape with the dynamic axes set to -1.
  const Dims& input_shape(std::size_t i) const { return graph_.values[graph_.inputs[i]].shape; }
  std::size_t num_inputs() const { return graph_.inputs.size(); }
  std::size_t num_outputs() const { return graph_.outputs.size(); }
  const std::string& input_name(std::size_t i) const { return graph_.values[graph_.inputs[i]].name; }
  const std::string& output_name(std::size_t i) const { return graph_.values[graph_.outputs[i]].name; }
  std::string fingerprint() const;

  Engine(Graph g, cpu::Isa isa, BatchProfile p, std::size_t ws) : graph_(std::move(g)), isa_(isa), profile_(p), workspace_limit_(ws) {}
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

 private:
  Graph graph_;
  cpu::Isa isa_;
  BatchProfile profile_;
  std::size_t workspace_limit_;
};

class ExecutionContext {
 public:
  explicit ExecutionContext(std::shared_ptr<const Engine> engine);
  ExecutionContext(const ExecutionContext&) = delete;
  ExecutionContext& operator=(const ExecutionContext&) = delete;

  // Setup path. Intra-op threads for run(): n - 1 workers (pinned to `cpus`, n - 1 ids, when given) plus the
  // calling thread; n = 1 (the default) removes the pool and runs exactly the one-thread plan. Plans prepared before
  // are prepared again (their bind_input/bind_output bindings are dropped): call it before prepare*(). Errors name
  // the bad count or CPU id.
  Status set_threads(int n, const std::vector<int>& cpus = {});
  int threads() const { return pool_ ? pool_->size() : 1; }

  // Setup path. Prepares (or selects, if prepared before) the plan for these input shapes and makes it
  // current. The arena grows to the largest prepared plan (re-allocated and pre-faulted here, never in run()).
  Status prepare(const std::vector<Dims>& input_shapes);
  // Every input's axis 0 (the batch) set to b, other dynamic axes refused.
  Status prepare_batch(std::int64_t batch);

  // Hot path: makes the plan prepared for this batch current (no allocation); not_found if never prepared.
  [[nodiscard]] Code select_batch(std::int64_t batch) noexcept;

  // Pointers valid until the next prepare*(); inputs are written by the caller before run().
  void* input_data(std::size_t i) const { return cur_->tensors[cur_->inputs[i]].data; }
  float* input(std::size_t i) const { return static_cast<float*>(input_data(i)); }
  const Dims& input_dims(std::size_t i) const { return cur_->tensors[cur_->inputs[i]].dims; }
  const void* output_data(std::size_t i) const { return cur_->tensors[cur_->outputs[i]].data; }
  const float* output(std::size_t i) const { return static_cast<const float*>(output_data(i)); }
  const Dims& output_dims(std::size_t i) const { return cur_->tensors[cur_->outputs[i]].dims; }
  DType output_dtype(std::size_t i) const { return cur_->tensors[cur_->outputs[i]].dtype; }
  const PlanStats& stats() const { return cur_->stats; }
  const Plan& plan() const { return *cur_; }
  const Engine& engine() const { return *engine_; }

  // Hot path (streaming, infer/stream.hpp): graph input / output i of the CURRENT plan is read from /
  // written to `data` (caller memory of the tensor's size: a state slot) instead of the arena, so state
  // needs no copy in or out. Holds for that plan until it is bound again or the next prepare*().
  void bind_input(std::size_t i, void* data) noexcept { cur_->tensors[cur_->inputs[i]].data = static_cast<std::byte*>(data); }
  void bind_output(std::size_t i, void* data) noexcept { cur_->tensors[cur_->outputs[i]].data = static_cast<std::byte*>(data); }

  // Hot path.
  [[nodiscard]] Code run() noexcept;
  // Profiling (not the hot path): run() with a clock read around every step; ns[i] += time of step i.
  Code run_profiled(std::vector<std::int64_t>& ns) noexcept;

 private:
  void bind(Plan& p);
  std::shared_ptr<const Engine> engine_;
  std::vector<std::pair<std::vector<Dims>, std::unique_ptr<Plan>>> plans_;
  Plan* cur_ = nullptr;
  std::vector<Plan*> by_batch_;   // index = batch, filled by prepare_batch
  AlignedBytes arena_;
  std::unique_ptr<ThreadPool> pool_;   // null with one thread
};

// Runs the optimisation passes in order (passes/pipeline.cpp); used by Engine::build.
Status optimize_graph(Graph& g, const BuildOptions& opt, std::vector<PassReport>* report);

}  // namespace tickrt::infer
