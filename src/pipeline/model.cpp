// pipeline/model.cpp — model load/validation and the hot-swap machinery (setup/background paths).
#include "pipeline/model.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/clock.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/quant/quant.hpp"
#include "pipeline/threads.hpp"

namespace tickrt::pipeline {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Runs `n` windows (x: [n, T, F]) through ctx in batches of up to max_batch; writes [n, C] to y.
Status run_windows(ModelInstance& ctx, int max_batch, const float* x, std::size_t n, std::size_t in_floats,
                   std::size_t out_floats, std::vector<float>& y) {
  y.assign(n * out_floats, 0.f);
  for (std::size_t i = 0; i < n;) {
    const std::size_t b = std::min<std::size_t>(static_cast<std::size_t>(max_batch), n - i);
    if (ctx.select_batch(static_cast<std::int64_t>(b)) != Code::ok)
      return Status(Code::internal, "batch " + std::to_string(b) + " not prepared");
    std::memcpy(ctx.input(), x + i * in_floats, b * in_floats * sizeof(float));
    const Code c = ctx.run();
    if (c != Code::ok) return Status(c, "engine run failed at window " + std::to_string(i) + ": " + std::string(code_name(c)));
    std::memcpy(y.data() + i * out_floats, ctx.output(), b * out_floats * sizeof(float));
    i += b;
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> choose_device(const std::string& device, const std::string& fallback, std::string& note) {
  using R = Result<std::string>;
  note.clear();
  if (device.empty() || device == "cpu") return std::string("cpu");
#if defined(TICKRT_HAVE_CUDA)
  auto d = infer::cuda::resolve_device(device);
  if (d.ok()) return device;
  const std::string why = d.status().message();
#else
  const std::string why = "this tickrt was built without the CUDA backend (configure with -DTICKRT_CUDA=ON where nvcc is)";
#endif
  if (fallback == "cpu") {
    note = "engine.device '" + device + "': " + why + "; running on the CPU (engine.fallback = \"cpu\")";
    return std::string("cpu");
  }
  return R(Code::not_found, "engine.device '" + device + "': " + why +
                                " (engine.device = \"cpu\", or engine.fallback = \"cpu\" to fall back)");
}

Result<std::unique_ptr<ModelInstance>> make_instance(std::shared_ptr<const LoadedModel> m, int max_batch) {
  auto inst = std::make_unique<ModelInstance>();
  inst->model = m;
#if defined(TICKRT_HAVE_CUDA)
  if (m->device != "cpu") {
    infer::cuda::GpuOptions go;
    go.device = m->device;
    auto g = infer::cuda::GpuContext::create(m->engine, go);
    if (!g.ok()) return g.status().with_context(m->path + ": engine.device " + m->device);
    inst->gpu = std::move(g.value());
    const int maxb = std::min<int>(max_batch, static_cast<int>(m->engine->profile().max));
    for (int b = maxb; b >= 1; --b) {
      Status st = inst->gpu->prepare_batch(b);
      if (!st.ok()) return st.with_context(m->path + ": " + m->device + " prepare batch " + std::to_string(b));
    }
    if (inst->gpu->select_batch(1) != Code::ok) return Status(Code::internal, m->path + ": batch 1 not prepared");
    return inst;
  }
#endif
  if (m->device != "cpu") return Status(Code::unsupported, m->path + ": device " + m->device + " needs a tickrt built with CUDA");
  if (m->streaming) {   // state slots per symbol (pipeline/stream_infer.hpp)
    auto r = StreamRunner::create(m->engine, m->stream_spec, m->stream);
    if (!r.ok()) return r.status().with_context(m->path + ": streaming context");
    inst->stream = std::move(r.value());
    // keep_warm = "touch" reads the step plan (weights, arena: bound to the arena until the first step) and
    // the first symbols' state slots; "infer" steps the runner's scratch slot instead (warm_step: no symbol's
    // state moves), which also warms code and branch history.
    inst->warm = WarmSet::of(inst->stream->context().exec());
    const auto [p, n] = inst->stream->context().slot_memory(4);
    if (n > 0) {
      inst->warm.ranges.push_back({p, n});
      std::sort(inst->warm.ranges.begin(), inst->warm.ranges.end(), [](const WarmRange& a, const WarmRange& b) { return a.p < b.p; });
      inst->warm.bytes += n;
      inst->warm.lines += (n + 63) / 64;
    }
    return inst;
  }
  inst->ctx = std::make_unique<infer::ExecutionContext>(m->engine);
  const int maxb = std::min<int>(max_batch, static_cast<int>(m->engine->profile().max));
  for (int b = maxb; b >= 1; --b) {  // largest first: the arena is sized once
    Status st = inst->ctx->prepare_batch(b);
    if (!st.ok()) return st.with_context(m->path + ": prepare batch " + std::to_string(b));
  }
  if (inst->ctx->select_batch(1) != Code::ok) return Status(Code::internal, m->path + ": batch 1 not prepared");
  inst->warm = WarmSet::of(*inst->ctx);
  if (m->prefix_slice > 0) {  // not every model qualifies: the reason is reported, the model runs whole
    auto pr = PrefixRunner::create(*inst->ctx, m->package, m->prefix_slice);
    if (pr.ok()) inst->prefix = std::move(pr.value());
    else inst->prefix_note = pr.status().message();
  }
  return inst;
}

Result<std::shared_ptr<const LoadedModel>> load_model(const ModelOptions& opt) {
  using R = Result<std::shared_ptr<const LoadedModel>>;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string& path = opt.path;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return R(Code::not_found, path + ": model file not found");
  if (opt.max_batch < 1) return R(Code::invalid_argument, path + ": max_batch must be >= 1");

  std::shared_ptr<const infer::Engine> engine;
  const infer::Graph* graph = nullptr;
  if (ends_with(path, ".engine")) {
    auto e = infer::Engine::load(path);
    if (!e.ok()) return e.status().with_context(path);
    if (e.value()->profile().max < opt.max_batch)
      return R(Code::invalid_argument, path + ": engine file built for batch <= " + std::to_string(e.value()->profile().max) +
                                           ", the pipeline needs " + std::to_string(opt.max_batch) + " (batch.max_batch)");
    engine = std::move(e.value());
    graph = &engine->graph();
    if (opt.precision != "fp32")
      return R(Code::invalid_argument, path + ": engine.precision = \"" + opt.precision +
                                           "\" applies to ONNX models; an engine file keeps the precision it was built with "
                                           "(tickrt build --int8 ...): set engine.precision = \"fp32\" or give the ONNX file");
  }
  infer::Graph g;
  if (!engine) {
    auto gr = infer::import_onnx_file(path);
    if (!gr.ok()) return gr.status().with_context(path);
    g = std::move(gr.value());
    graph = &g;
  }
  // The model package before the (slower) build: a model for other features is refused at once.
  auto pkg = features::parse_model_package(graph->metadata);
  if (!pkg.ok()) return pkg.status().with_context(path);
  if (infer::is_streaming(*graph)) return load_stream_model(opt, std::move(engine), std::move(g), std::move(pkg.value()), t0);
  Status pst = features::check_model_package(pkg.value(), opt.features);
  if (!pst.ok()) return pst.with_context(path + ": model package check");
  auto lm = std::make_shared<LoadedModel>();
  lm->package = std::move(pkg.value());
  lm->path = path;
  lm->version = opt.version;
  lm->device = opt.device.empty() ? std::string("cpu") : opt.device;
  lm->prefix_slice = opt.prefix_slice;
  if (engine) {
    auto it = engine->graph().metadata.find("tickrt.precision_spec");
    if (it != engine->graph().metadata.end() && it->second != "fp32" && it->second != "default=fp32") lm->precision = it->second;
  }
  if (!engine && opt.precision != "fp32") {
    // Reduced precision (infer/quant): as `tickrt build --precision <spec>` (docs/QUANTIZATION.md).
    if (lm->device != "cpu")
      return R(Code::unsupported, path + ": engine.precision = \"" + opt.precision + "\" is a CPU engine; engine.device is " + lm->device);
    auto spec = infer::quant::parse_precision_spec(opt.precision);
    if (!spec.ok()) return spec.status().with_context("engine.precision");
    infer::BuildOptions bo;
    bo.batch = {1, 1, std::max<std::int64_t>(1, opt.max_batch)};
    bo.workspace_limit = opt.workspace_limit;
    infer::quant::QuantOptions qo;
    qo.spec = spec.value();
    qo.calib_cache = opt.calib_cache;
    const fs::path mdir = fs::path(path).parent_path();
    std::string calib_p = opt.calib;
    if (calib_p.empty()) calib_p = fs::exists(mdir / "parity_x.npy", ec) ? (mdir / "parity_x.npy").string() : (mdir.parent_path() / "parity_x.npy").string();
    infer::TensorData calib;
    const bool cache_ok = !opt.calib_cache.empty() && fs::exists(opt.calib_cache, ec);
    if (fs::exists(calib_p, ec)) {
      auto x = infer::read_npy(calib_p);
      if (!x.ok()) return x.status().with_context("engine.calib " + calib_p);
      calib = std::move(x.value());
      qo.calib = &calib;
    } else if (!cache_ok && !opt.calib.empty()) {
      return R(Code::not_found, "engine.calib " + calib_p + ": file not found");
    }
    infer::quant::QuantReport rep;
    auto e = infer::quant::build_engine(g, bo, qo, &rep);
    if (!e.ok()) return e.status().with_context(path + ": engine.precision \"" + opt.precision + "\" build");
    engine = std::move(e.value());
    lm->precision = spec.value().to_string();
  }
  if (!engine) {
    infer::BuildOptions bo;
    bo.batch = {1, 1, std::max<std::int64_t>(1, opt.max_batch)};
    bo.workspace_limit = opt.workspace_limit;
#if defined(TICKRT_HAVE_CUDA)
    if (lm->device != "cpu") {
      // GPU: the plain graph (the CUDA backend lowers it itself), target stamped; as `tickrt build --device`.
      auto d = infer::cuda::resolve_device(lm->device);
      if (!d.ok()) return d.status().with_context("engine.device");
      infer::cuda::stamp_target(g, d.value());
      bo.optimize = false;
      bo.isa = infer::cpu::Isa::scalar;
    }
#endif
    auto e = infer::Engine::build(std::move(g), bo);
    if (!e.ok()) return e.status().with_context(path + ": engine build");
    engine = std::move(e.value());
  }
  lm->engine = engine;
  if (engine->num_inputs() != 1 || engine->num_outputs() < 1)
    return R(Code::unsupported, path + ": the pipeline needs one input [batch, T, F] and an output [batch, C]");
  lm->in_floats = lm->package.window * lm->package.features.size();
  {
    const infer::Dims& in = engine->input_shape(0);
    std::int64_t per = 1;
    for (std::size_t i = 1; i < in.size(); ++i) per *= in[i];
    if (in.size() < 2 || per != static_cast<std::int64_t>(lm->in_floats))
      return R(Code::invalid_argument, path + ": input '" + engine->input_name(0) + "' does not hold window x features = " +
                                           std::to_string(lm->in_floats) + " floats per sample");
  }
  auto inst = make_instance(lm, opt.max_batch);
  if (!inst.ok()) return inst.status();
  ModelInstance& ctx = *inst.value();
  {
    const infer::Dims& od = ctx.output_dims();
    std::int64_t per = 1;
    for (std::size_t i = 1; i < od.size(); ++i) per *= od[i];
    lm->out_floats = static_cast<std::size_t>(per);
    if ((ctx.ctx && ctx.ctx->output_dtype(0) != infer::DType::f32) || per < 1)  // the GPU runs float32 only
      return R(Code::unsupported, path + ": output '" + engine->output_name(0) + "' is not float32 [batch, C]");
  }
  // Golden validation.
  const fs::path dir = fs::path(path).parent_path();
  const fs::path ref_p = dir / "parity_logits.npy";
  fs::path x_p = dir / "parity_x.npy";
  if (!fs::exists(x_p, ec)) x_p = dir.parent_path() / "parity_x.npy";
  std::ostringstream v;
  if (fs::exists(ref_p, ec) && fs::exists(x_p, ec)) {
    auto x = infer::read_npy(x_p.string());
    if (!x.ok()) return x.status().with_context(path + ": golden input");
    auto ref = infer::read_npy(ref_p.string());
    if (!ref.ok()) return ref.status().with_context(path + ": golden output");
    const std::size_t n = x.value().dims.empty() ? 0 : static_cast<std::size_t>(x.value().dims[0]);
    if (x.value().dtype != infer::DType::f32 || static_cast<std::size_t>(x.value().count()) != n * lm->in_floats || n == 0)
      return R(Code::invalid_argument, path + ": golden input " + x_p.string() + " is not float32 [n, T, F] for this model");
    if (ref.value().dtype != infer::DType::f32 || static_cast<std::size_t>(ref.value().count()) != n * lm->out_floats)
      return R(Code::invalid_argument, path + ": golden output " + ref_p.string() + " is not float32 [" + std::to_string(n) + ", " +
                                           std::to_string(lm->out_floats) + "]");
    std::vector<float> y;
    TICKRT_RETURN_IF_ERROR(run_windows(ctx, opt.max_batch, x.value().as<float>(), n, lm->in_floats, lm->out_floats, y)
                               .with_context(path + ": golden run"));
    const float* r = ref.value().as<float>();
    double maxd = 0;
    // Reduced precision: its logits differ from the FP32 reference by design; what must hold is the
    // decision (argmax) on nearly every golden window.
    const bool reduced = lm->precision != "fp32";
    std::size_t agree = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t am_e = 0, am_r = 0;
      for (std::size_t c = 0; c < lm->out_floats; ++c) {
        const float a = y[i * lm->out_floats + c], b = r[i * lm->out_floats + c];
        if (!std::isfinite(a))
          return R(Code::corrupt, path + ": golden validation: window " + std::to_string(i) + " output " + std::to_string(c) + " is not finite");
        maxd = std::max(maxd, static_cast<double>(std::fabs(a - b)));
        if (a > y[i * lm->out_floats + am_e]) am_e = c;
        if (b > r[i * lm->out_floats + am_r]) am_r = c;
      }
      const double tie = std::fabs(r[i * lm->out_floats + am_e] - r[i * lm->out_floats + am_r]);
      agree += am_e == am_r || tie <= opt.golden_tol;
      if (reduced) continue;
      if (am_e != am_r && tie > opt.golden_tol)
        return R(Code::corrupt, path + ": golden validation: window " + std::to_string(i) + " argmax " + std::to_string(am_e) +
                                    " vs reference " + std::to_string(am_r));
    }
    if (reduced) {
      const double a = static_cast<double>(agree) / static_cast<double>(n);
      if (a < opt.golden_min_agreement) {
        std::ostringstream o;
        o << path << ": golden validation (" << lm->precision << ") failed: argmax agreement with the FP32 reference "
          << a * 100 << " % < engine.golden_min_agreement " << opt.golden_min_agreement * 100 << " % over " << n
          << " windows of " << x_p.string() << " (max |diff| " << maxd << ")";
        return R(Code::corrupt, o.str());
      }
      v << "golden (" << lm->precision << "): " << n << " windows, argmax agreement " << a * 100 << " % >= "
        << opt.golden_min_agreement * 100 << " %, max |diff| " << maxd;
    } else if (maxd > opt.golden_tol) {
      std::ostringstream o;
      o << path << ": golden validation failed: max |engine - reference| = " << maxd << " > tolerance " << opt.golden_tol
        << " over " << n << " windows of " << x_p.string();
      return R(Code::corrupt, o.str());
    }
    if (!reduced) v << "golden: " << n << " windows, max |diff| " << maxd << " <= " << opt.golden_tol;
  } else {
    if (opt.require_golden)
      return R(Code::not_found, path + ": no golden data (" + ref_p.string() + " + parity_x.npy) and model.require_golden = true");
    // Synthetic window: the package's mean (a normalised zero) must give finite outputs.
    std::vector<float> x(lm->in_floats, 0.f), y;
    TICKRT_RETURN_IF_ERROR(run_windows(ctx, 1, x.data(), 1, lm->in_floats, lm->out_floats, y).with_context(path + ": smoke run"));
    for (float f : y)
      if (!std::isfinite(f)) return R(Code::corrupt, path + ": smoke run: non-finite output on a zero window");
    v << "no golden data beside the model: finite outputs on a zero window only";
  }
  lm->validation = v.str();
  lm->load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  return std::shared_ptr<const LoadedModel>(std::move(lm));
}

// ---- ModelSlot ----------------------------------------------------------------------------------

ModelSlot::ModelSlot(std::unique_ptr<ModelInstance> first) : cur_(first.release()) {
  running_version_.store(cur_->model->version, std::memory_order_relaxed);
}

ModelSlot::~ModelSlot() {
  collect();
  delete pending_.exchange(nullptr);
  delete retire_overflow_;
  delete cur_;
}

bool ModelSlot::gate_expired(ModelInstance* p) noexcept {
  const std::int64_t now = now_ns();
  if (p != seen_) {
    seen_ = p;
    seen_ns_ = now;
    warm_cursor_.reset();
    touched_ = false;
    prefix_synced_ = false;
    return false;
  }
  return now - seen_ns_ >= warm_max_ns_;
}

bool ModelSlot::warm_pending(std::size_t lines) noexcept {
  ModelInstance* p = pending_.load(std::memory_order_acquire);
  if (p == nullptr || !warm_gate_ || p == warmed_) return true;
  if (p != seen_) (void)gate_expired(p);  // starts the clock and the pass
  if (!touched_) {
    touched_ = warm_cursor_.touch(p->warm, lines);
    return false;
  }
  if (p->prefix && cur_->prefix) {
    if (!prefix_synced_) {
      p->prefix->take_wants_from(*cur_->prefix);
      prefix_synced_ = true;
      return false;
    }
    if (p->prefix->idle() || p->prefix->busy()) return false;  // one slice of the new model's prefix
  }
  warmed_ = p;
  return true;
}

void ModelSlot::want_prefix(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept {
  if (!cur_->prefix) return;
  cur_->prefix->want(sym, fe);
  ModelInstance* p = pending_.load(std::memory_order_acquire);
  if (p != nullptr && p == seen_ && prefix_synced_ && p->prefix) p->prefix->want(sym, fe);
}

void ModelSlot::adopt() noexcept {
  ModelInstance* p = pending_.exchange(nullptr, std::memory_order_acq_rel);
  if (!p) return;
  const bool synced = p == seen_ && prefix_synced_;  // the warm-up already follows the old runner's wants
  seen_ = nullptr;
  warmed_ = nullptr;
  touched_ = false;
  prefix_synced_ = false;
  ModelInstance* old = cur_;
  // Window prefix: the new model recomputes the prefixes the old one was keeping (between ticks), so the
  // first samples after a hot swap are not whole windows. With swap warm-up that happened before adoption.
  if (p->prefix && old->prefix && !synced) p->prefix->take_wants_from(*old->prefix);
  if (old->prefix) retired_prefix_ += old->prefix->counters();
  cur_ = p;
  running_version_.store(p->model->version, std::memory_order_relaxed);
  adopted_.fetch_add(1, std::memory_order_relaxed);
  if (!retired_.try_push(old)) {
    // The swapper has not collected 16 retirements: keep one aside (freed by collect()/dtor).
    if (retire_overflow_ == nullptr) retire_overflow_ = old;
  }
}

PrefixCounters ModelSlot::prefix_counters() const noexcept {
  PrefixCounters t = retired_prefix_;
  if (cur_->prefix) t += cur_->prefix->counters();
  return t;
}

bool ModelSlot::publish(ModelInstance* inst) noexcept {
  ModelInstance* expected = nullptr;
  return pending_.compare_exchange_strong(expected, inst, std::memory_order_acq_rel);
}

int ModelSlot::collect() noexcept {
  int n = 0;
  ModelInstance* p = nullptr;
  while (retired_.try_pop(p)) {
    delete p;
    ++n;
  }
  return n;
}

// ---- ModelSwapper -------------------------------------------------------------------------------

ModelSwapper::ModelSwapper(ModelOptions opt, std::shared_ptr<const LoadedModel> first, std::vector<ModelSlot*> slots,
                           bool watch, int watch_ms)
    : opt_(std::move(opt)), slots_(std::move(slots)), watch_(watch), watch_ms_(watch_ms), model_(std::move(first)) {}

ModelSwapper::~ModelSwapper() { stop(); }

void ModelSwapper::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void ModelSwapper::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (ModelSlot* s : slots_) s->collect();
}

void ModelSwapper::request_swap(const std::string& path) {
  {
    std::lock_guard<std::mutex> g(mu_);
    queue_.push_back(path.empty() ? opt_.path : path);
  }
  cv_.notify_all();
}

bool ModelSwapper::wait_idle(int timeout_ms) {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return queue_.empty() && !busy_; });
}

SwapResult ModelSwapper::last_result() const {
  std::lock_guard<std::mutex> g(mu_);
  return last_;
}

std::shared_ptr<const LoadedModel> ModelSwapper::current_model() const {
  std::lock_guard<std::mutex> g(mu_);
  return model_;
}

void ModelSwapper::loop() {
  name_current_thread("tickrt-swap");
  make_current_thread_background();
  auto stamp = [](const std::string& p) -> std::int64_t {
    struct stat sb;
    if (::stat(p.c_str(), &sb) != 0) return -1;
    return static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1'000'000'000 + sb.st_mtim.tv_nsec + sb.st_size;
  };
  std::int64_t seen = stamp(opt_.path);
  for (;;) {
    std::string job;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(watch_ ? watch_ms_ : 50), [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      if (!queue_.empty()) {
        job = queue_.front();
        queue_.erase(queue_.begin());
        busy_ = true;
      }
    }
    for (ModelSlot* s : slots_) s->collect();
    if (job.empty() && watch_) {
      const std::int64_t now = stamp(opt_.path);
      if (now != seen && now != -1) {
        // Wait one more period for the writer to finish, then build what is there.
        std::this_thread::sleep_for(std::chrono::milliseconds(watch_ms_));
        seen = stamp(opt_.path);
        job = opt_.path;
        std::lock_guard<std::mutex> g(mu_);
        busy_ = true;
      }
    }
    if (!job.empty()) {
      do_swap(job);
      {
        std::lock_guard<std::mutex> g(mu_);
        busy_ = false;
      }
      cv_.notify_all();
    }
  }
}

void ModelSwapper::do_swap(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  SwapResult r;
  r.path = path;
  ModelOptions o = opt_;
  o.path = path;
  {
    std::lock_guard<std::mutex> g(mu_);
    o.version = model_->version + 1;
  }
  bool was_streaming = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    was_streaming = model_->streaming;
  }
  auto m = load_model(o);
  std::vector<std::unique_ptr<ModelInstance>> insts;
  Status st = m.ok() ? Status::Ok() : m.status();
  // A streaming model and a windowed one need differently sized feature windows (stream_infer.hpp
  // replay_rows) and threads.mode inline: a swap between the two kinds is refused (restart instead).
  if (st.ok() && m.value()->streaming != was_streaming)
    st = Status(Code::unsupported, path + (was_streaming ? ": a windowed model cannot replace the running streaming model"
                                                         : ": a streaming model cannot replace the running windowed model") +
                                       " by hot swap: restart tickrt with it");
  if (st.ok()) {
    const std::shared_ptr<const LoadedModel>& lm = m.value();
    for (std::size_t i = 0; i < slots_.size() && st.ok(); ++i) {
      auto inst = make_instance(lm, opt_.max_batch);
      if (!inst.ok()) {
        st = inst.status();
      } else {
        // One throw-away run: the arena and weights are touched (and in the shared L3) before the
        // inference thread's first run on them.
        // Not for a streaming instance: a step would advance a state slot (its state is rebuilt by
        // replaying the feature window at each symbol's first sample, stream_infer.hpp).
        ModelInstance& ctx = *inst.value();
        if (!ctx.stream && ctx.select_batch(1) == Code::ok) {
          std::fill(ctx.input(), ctx.input() + lm->in_floats, 0.0f);
          (void)ctx.run();
        }
        insts.push_back(std::move(inst.value()));
      }
    }
  }
  if (st.ok()) {
    // Publish to every inference thread; a slot that has not adopted the previous swap yet is
    // retried until it does (it adopts at its next inference).
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      ModelInstance* p = insts[i].release();
      while (!slots_[i]->publish(p)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::lock_guard<std::mutex> g(mu_);
        if (stop_) { delete p; p = nullptr; break; }
      }
    }
    std::lock_guard<std::mutex> g(mu_);
    model_ = m.value();
    r.ok = true;
    r.version = m.value()->version;
    r.message = m.value()->validation;
    ok_.fetch_add(1);
  } else {
    r.ok = false;
    r.message = st.to_string();
    std::lock_guard<std::mutex> g(mu_);
    r.version = model_->version;
    failed_.fetch_add(1);
  }
  r.build_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard<std::mutex> g(mu_);
    last_ = r;
  }
  if (on_result_) on_result_(r);
}

}  // namespace tickrt::pipeline
