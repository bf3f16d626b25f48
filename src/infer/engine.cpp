#include "infer/engine.hpp"

#include <cstring>

#include "core/clock.hpp"
#include "infer/runtime/parallel.hpp"

namespace tickrt::infer {

namespace {
std::vector<Dims> batch_shapes(const Graph& g, std::int64_t batch, Status& st) {
  std::vector<Dims> shapes;
  for (int v : g.inputs) {
    const Value& val = g.values[v];
    if (!val.has_shape || val.shape.empty()) {
      st = Status(Code::invalid_argument, "input '" + val.name + "' has no declared shape: use prepare(shapes)");
      return {};
    }
    Dims d = val.shape;
    // The batch axis: axis 0 when dynamic, else the input's only dynamic axis (a streaming model's
    // state, e.g. h [layers, B, H]: infer/stream.hpp); an input with no dynamic axis keeps its shape.
    std::size_t axis = 0;
    if (d[0] >= 0)
      for (std::size_t k = 1; k < d.size(); ++k)
        if (d[k] < 0) { axis = k; break; }
    if (d[axis] < 0) d[axis] = batch;
    for (std::size_t k = 1; k < d.size(); ++k)
      if (d[k] < 0) {
        st = Status(Code::invalid_argument, "input '" + val.name + "' has dynamic axis " + std::to_string(k) +
                                                " besides the batch: use prepare(shapes)");
        return {};
      }
    shapes.push_back(d);
  }
  return shapes;
}
}  // namespace

Result<std::shared_ptr<Engine>> Engine::build(Graph g, const BuildOptions& opt, BuildReport* report) {
  if (opt.batch.min < 1 || opt.batch.min > opt.batch.opt || opt.batch.opt > opt.batch.max)
    return Status(Code::invalid_argument, "batch profile must satisfy 1 <= min <= opt <= max");
  if (opt.isa > cpu::detect_isa())
    return Status(Code::unsupported, std::string("ISA ") + cpu::isa_name(opt.isa) + " is not available on this CPU (best: " +
                                         cpu::isa_name(cpu::detect_isa()) + ")");
  TICKRT_RETURN_IF_ERROR(g.validate());
  if (report) report->ops_before = g.op_histogram();
  if (opt.optimize) {
    auto st = optimize_graph(g, opt, report ? &report->passes : nullptr);
    if (!st.ok()) return st.with_context("optimizing");
  }
  if (report) report->ops_after = g.op_histogram();
  // After fusion: an op the passes absorbed (e.g. LSTM into tickrt.FusedLSTM) need not run on its own.
  TICKRT_RETURN_IF_ERROR(check_supported(g));
  // Shape inference + planning at min/opt/max proves the engine runs across its profile and enforces the
  // workspace limit now, at build time, rather than at the first trade.
  for (std::int64_t b : {opt.batch.min, opt.batch.opt, opt.batch.max}) {
    if (!opt.check_profile) break;
    Status st;
    auto shapes = batch_shapes(g, b, st);
    if (!st.ok()) {
      if (g.inputs.empty()) shapes.clear();
      else return st;
    }
    Plan plan;
    SpecializeOptions so{opt.isa, opt.workspace_limit};
    auto ps = specialize(g, shapes, so, plan);
    if (!ps.ok()) return ps.with_context("batch " + std::to_string(b));
    if (report) {
      if (b == opt.batch.min) report->plan_min = plan.stats;
      if (b == opt.batch.opt) report->plan_opt = plan.stats;
      if (b == opt.batch.max) report->plan_max = plan.stats;
    }
  }
  return std::make_shared<Engine>(std::move(g), opt.isa, opt.batch, opt.workspace_limit);
}

std::string Engine::fingerprint() const {
  // A GPU engine (tickrt build --device cuda) carries its target's compute capability (infer/cuda stamp_target).
  if (auto it = graph_.metadata.find("tickrt.cuda.sm"); it != graph_.metadata.end()) {
    auto d = graph_.metadata.find("tickrt.cuda.device");
    return "tickrt-engine/cuda/sm_" + it->second + (d != graph_.metadata.end() ? "/" + d->second : std::string());
  }
  return std::string("tickrt-engine/cpu/") + cpu::isa_name(isa_);
}

ExecutionContext::ExecutionContext(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}

Status ExecutionContext::prepare(const std::vector<Dims>& shapes) {
  for (auto& [s, p] : plans_)
    if (s == shapes) {
      cur_ = p.get();
      bind(*cur_);
      return Status::Ok();
    }
  auto plan = std::make_unique<Plan>();
  SpecializeOptions so{engine_->isa(), engine_->workspace_limit()};
  TICKRT_RETURN_IF_ERROR(specialize(engine_->graph(), shapes, so, *plan));
  // With a pool: parallel forms and LSTM pipelines, decided on the plan's memory layout (a pipelined pair may move
  // an output to its own arena bytes), so before the arena is sized and bound.
  if (pool_) TICKRT_RETURN_IF_ERROR(parallelize(*plan, *pool_).with_context("intra-op threads"));
  if (plan->arena_bytes > arena_.size) {
    // Grow once; every existing plan re-binds to the new arena. Pre-faulted by allocate()'s memset.
    arena_ = AlignedBytes::allocate(plan->arena_bytes);
  }
  plans_.emplace_back(shapes, std::move(plan));
  for (auto& [s, p] : plans_) bind(*p);
  cur_ = plans_.back().second.get();
  return Status::Ok();
}

Status ExecutionContext::set_threads(int n, const std::vector<int>& cpus) {
  if (n < 1 || n > ThreadPool::kMaxThreads)
    return Status(Code::invalid_argument, "threads = " + std::to_string(n) + ": must be in [1, " + std::to_string(ThreadPool::kMaxThreads) + "]");
  if (n == 1 && !cpus.empty()) return Status(Code::invalid_argument, "threads = 1 takes no worker CPU list (got " + std::to_string(cpus.size()) + ")");
  std::unique_ptr<ThreadPool> pool;
  if (n > 1) {
    auto p = ThreadPool::create(n, cpus);
    if (!p.ok()) return p.status();
    pool = std::move(*p);
  }
  // Re-prepare what was prepared, under the new thread count, keeping the batch index and the current plan.
  std::vector<std::vector<Dims>> shapes;
  for (auto& [s, p] : plans_) shapes.push_back(s);
  std::vector<int> batch_plan(by_batch_.size(), -1);
  int cur_index = -1;
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    if (plans_[i].second.get() == cur_) cur_index = static_cast<int>(i);
    for (std::size_t b = 0; b < by_batch_.size(); ++b)
      if (by_batch_[b] == plans_[i].second.get()) batch_plan[b] = static_cast<int>(i);
  }
  plans_.clear();
  by_batch_.clear();
  cur_ = nullptr;
  pool_ = std::move(pool);
  for (auto& s : shapes) TICKRT_RETURN_IF_ERROR(prepare(s));
  by_batch_.assign(batch_plan.size(), nullptr);
  for (std::size_t b = 0; b < batch_plan.size(); ++b)
    if (batch_plan[b] >= 0) by_batch_[b] = plans_[static_cast<std::size_t>(batch_plan[b])].second.get();
  cur_ = cur_index >= 0 ? plans_[static_cast<std::size_t>(cur_index)].second.get() : nullptr;
  return Status::Ok();
}

Status ExecutionContext::prepare_batch(std::int64_t batch) {
  const auto& prof = engine_->profile();
  if (batch < 1 || batch > prof.max)
    return Status(Code::out_of_range, "batch " + std::to_string(batch) + " is outside the engine's profile [" +
                                          std::to_string(prof.min) + ", " + std::to_string(prof.max) + "]: rebuild with --batch");
  Status st;
  auto shapes = batch_shapes(engine_->graph(), batch, st);
  TICKRT_RETURN_IF_ERROR(st);
  TICKRT_RETURN_IF_ERROR(prepare(shapes));
  if (by_batch_.size() <= static_cast<std::size_t>(batch)) by_batch_.resize(static_cast<std::size_t>(batch) + 1, nullptr);
  by_batch_[static_cast<std::size_t>(batch)] = cur_;
  return Status::Ok();
}

Code ExecutionContext::select_batch(std::int64_t batch) noexcept {
  if (batch < 0 || static_cast<std::size_t>(batch) >= by_batch_.size() || !by_batch_[static_cast<std::size_t>(batch)]) return Code::not_found;
  cur_ = by_batch_[static_cast<std::size_t>(batch)];
  return Code::ok;
}

void ExecutionContext::bind(Plan& p) {
  std::byte* base = arena_.ptr.get();
  for (std::size_t v = 0; v < p.tensors.size(); ++v)
    if (p.offset[v] >= 0) p.tensors[v].data = base + p.offset[v];
  for (auto& k : p.steps) k.workspace = base + p.workspace_offset;
}

Code ExecutionContext::run_profiled(std::vector<std::int64_t>& ns) noexcept {
  if (!cur_) return Code::invalid_argument;
  if (ns.size() < cur_->steps.size()) return Code::invalid_argument;
  for (std::size_t i = 0; i < cur_->steps.size(); ++i) {
    const std::int64_t t0 = now_ns();
    cur_->steps[i].run(cur_->steps[i]);
    ns[i] += now_ns() - t0;
  }
  return Code::ok;
}

Code ExecutionContext::run() noexcept {
  if (!cur_) return Code::invalid_argument;
  for (const Kernel& k : cur_->steps) k.run(k);
  return Code::ok;
}

}  // namespace tickrt::infer
