// pipeline/stream_infer.cpp — see stream_infer.hpp.
#include "pipeline/stream_infer.hpp"

#include <algorithm>
#include <cstring>

namespace tickrt::pipeline {

Result<std::unique_ptr<StreamRunner>> StreamRunner::create(std::shared_ptr<const infer::Engine> engine, const infer::StreamSpec& spec,
                                                           const StreamConfig& cfg) {
  if (cfg.slots < 1) return Status(Code::invalid_argument, "stream slots must be >= 1");
  // One slot more than symbols: the scratch slot of warm_step().
  auto sc = infer::StreamContext::create(std::move(engine), spec, {cfg.slots + 1, 1});
  if (!sc.ok()) return sc.status();
  std::unique_ptr<StreamRunner> r(new StreamRunner());
  r->sc_ = std::move(sc.value());
  if (cfg.warmup >= 0) r->sc_->set_warmup(static_cast<std::uint32_t>(cfg.warmup));
  const auto n = static_cast<std::size_t>(cfg.slots);
  r->n_out_ = spec.result_floats.empty() ? 0 : spec.result_floats[0];
  if (r->n_out_ > kSlotOut)
    return Status(Code::unsupported, "streaming result of " + std::to_string(r->n_out_) + " floats (at most " + std::to_string(kSlotOut) + ")");
  r->slot_.assign(n, Slot{});
  r->to_prepare_.reserve(n);
  r->x_.assign(spec.x_floats, 0.f);
  r->max_gap_ns_ = cfg.max_gap_ns;
  r->scratch_ = cfg.slots;
  return r;
}

void StreamRunner::reset_symbol(std::uint32_t symbol) noexcept {
  if (symbol < slot_.size()) slot_[symbol].pending_reset = 1;
}

StreamOutcome StreamRunner::advance(const features::ModelPackage& pkg, std::uint32_t symbol, std::int64_t sample_ts_ns,
                                    std::uint64_t rows_total, std::span<const float> window_raw) noexcept {
  const std::size_t F = x_.size();
  if (symbol >= slot_.size() || F == 0 || pkg.features.size() != F) {
    ++c_.errors;
    return StreamOutcome::error;
  }
  const int slot = static_cast<int>(symbol);
  Slot& st = slot_[symbol];
  const std::uint64_t have = window_raw.size() / F;   // rows the window still holds
  const std::uint64_t seen = st.rows_seen;
  bool reset = false;
  bool replay = true;   // a rebuild steps rows the slot had stepped before (or never saw: new instance)
  if (st.pending_reset) { reset = true; ++c_.resets_resync; st.pending_reset = 0; }
  else if (seen == 0 || rows_total < seen) {
    reset = true;
    ++c_.resets_session;
    // The features restarted after the slot's last step (rows_total < seen): every row the window
    // holds came after that step, so stepping them is catching up, not a replay. seen == 0 is a
    // fresh slot (session start, or a new instance after a hot swap): rows before this sample are
    // a replay unless the caller stepped every row (then rows_total is this sample's rows only).
    if (seen != 0 && rows_total <= have) replay = false;
  }
  else if (rows_total - seen > have) { reset = true; ++c_.resets_lost; }
  else if (st.last_ts != 0 && sample_ts_ns - st.last_ts > max_gap_ns_) { reset = true; ++c_.resets_gap; }
  std::uint64_t todo = rows_total - seen;
  if (reset) {
    sc_->reset(slot);
    todo = std::min<std::uint64_t>(rows_total, have);   // rebuild from what the window holds
  }
  if (todo == 0) {   // nothing new (the rows were stepped ahead, or a second sample on the same row)
    if (st.out_rows != rows_total) {
      ++c_.errors;
      return StreamOutcome::error;
    }
    ++c_.reused;   // the last step's output stands
    return st.warm ? StreamOutcome::ok : StreamOutcome::not_warm;
  }
  const float* rows = window_raw.data() + (have - todo) * F;
  for (std::uint64_t i = 0; i < todo; ++i) {
    pkg.normalize(rows + i * F, 1, x_.data());
    c_.prepared_steps += sc_->prepared(slot) ? 1 : 0;
    if (sc_->step(slot, x_.data()) != Code::ok) {
      ++c_.errors;
      sc_->reset(slot);
      st.rows_seen = 0;
      st.last_ts = 0;
      st.out_rows = 0;
      return StreamOutcome::error;
    }
  }
  std::memcpy(st.out, sc_->output(0), n_out_ * sizeof(float));
  st.out_rows = rows_total;
  st.warm = sc_->warm(slot) ? 1 : 0;
  c_.steps += todo;
  if (todo > 1 && reset && replay) c_.replayed += todo - 1;
  if (!st.queued) {
    st.queued = 1;
    to_prepare_.push_back(static_cast<int>(symbol));   // within the capacity reserved at create(): no allocation
  }
  st.rows_seen = rows_total;
  st.last_ts = sample_ts_ns;
  return st.warm ? StreamOutcome::ok : StreamOutcome::not_warm;
}

StreamOutcome StreamRunner::infer(const features::ModelPackage& pkg, std::uint32_t symbol, std::int64_t sample_ts_ns,
                                  std::uint64_t rows_total, std::span<const float> window_raw, float* out,
                                  std::size_t& n_out) noexcept {
  n_out = 0;
  const StreamOutcome o = advance(pkg, symbol, sample_ts_ns, rows_total, window_raw);
  if (o == StreamOutcome::not_warm) ++c_.not_warm;
  if (o != StreamOutcome::ok) return o;
  // The slot's kept output, not the context's: a step of another slot (or keep-warm's) may have run since.
  std::memcpy(out, slot_[symbol].out, n_out_ * sizeof(float));
  n_out = n_out_;
  return StreamOutcome::ok;
}

bool StreamRunner::prepare_next() noexcept {
  while (!to_prepare_.empty()) {
    const int slot = to_prepare_.back();
    to_prepare_.pop_back();
    slot_[static_cast<std::size_t>(slot)].queued = 0;
    if (sc_->prepare(slot)) {
      ++c_.prepares;
      return true;
    }
  }
  return false;
}

void StreamRunner::warm_step(int max_symbols) noexcept {
  // A scratch state that ran long is restarted like a session would be (bounded, realistic values).
  if (sc_->steps(scratch_) >= 4096) sc_->reset(scratch_);
  // Prepared first, as a symbol's slot is by the time its tick comes (prepare_next): the throw-away
  // step then runs the tick's own code path (the input half + cell over a prepared h @ R^T), not
  // the whole step's, which no tick runs once prepares keep up.
  (void)sc_->prepare(scratch_);
  (void)sc_->step(scratch_, x_.data());
  ++c_.warm_steps;
  unsigned sink = 0;
  int done = 0;
  for (std::size_t s = 0; s < slot_.size() && done < max_symbols; ++s) {
    if (slot_[s].rows_seen == 0) continue;
    const auto [p, n] = sc_->slot_range(static_cast<int>(s));
    const volatile unsigned char* b = reinterpret_cast<const volatile unsigned char*>(p);
    for (std::size_t off = 0; off < n; off += 64) sink += b[off];
    ++done;
  }
  asm volatile("" : : "r"(sink));
}

StreamOutcome StreamRunner::step(const features::ModelPackage& pkg, std::uint32_t symbol, std::int64_t sample_ts_ns,
                                 std::uint64_t rows_total, std::span<const float> window_raw) noexcept {
  ++c_.row_steps;
  return advance(pkg, symbol, sample_ts_ns, rows_total, window_raw);
}

}  // namespace tickrt::pipeline

// ---- load_stream_model ---------------------------------------------------------------------------

#include <cmath>
#include <filesystem>
#include <sstream>

#include "infer/npy.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/model.hpp"

namespace tickrt::pipeline {

Result<std::shared_ptr<const LoadedModel>> load_stream_model(const ModelOptions& opt, std::shared_ptr<const infer::Engine> engine,
                                                             infer::Graph g, features::ModelPackage pkg,
                                                             std::chrono::steady_clock::time_point t0) {
  namespace fs = std::filesystem;
  using R = Result<std::shared_ptr<const LoadedModel>>;
  const std::string& path = opt.path;
  features::FeatureConfig as_step = opt.features;
  as_step.window = pkg.window;   // tickrt.window of a step graph is the rows per step (1)
  Status pst = features::check_model_package(pkg, as_step);
  if (!pst.ok()) return pst.with_context(path + ": model package check");
  if (pkg.window != 1)
    return R(Code::invalid_argument, path + ": streaming model with tickrt.window = " + std::to_string(pkg.window) + " (one row per step expected)");
  if (opt.device != "cpu" && !opt.device.empty())
    return R(Code::unsupported, path + ": streaming models run on the CPU (engine.device = \"cpu\")");
  if (!engine) {
    infer::BuildOptions bo;
    bo.batch = {1, 1, std::max<std::int64_t>(2, opt.max_batch)};
    bo.workspace_limit = opt.workspace_limit;
    auto e = infer::Engine::build(std::move(g), bo);
    if (!e.ok()) return e.status().with_context(path + ": engine build");
    engine = std::move(e.value());
  }
  auto spec = infer::parse_stream_spec(engine->graph());
  if (!spec.ok()) return spec.status().with_context(path);
  if (spec->x_floats != pkg.features.size())
    return R(Code::invalid_argument, path + ": streaming input holds " + std::to_string(spec->x_floats) + " floats, the package lists " +
                                         std::to_string(pkg.features.size()) + " features");
  if (spec->result_floats[0] < 1 || spec->result_floats[0] > kMaxOutputs)
    return R(Code::unsupported, path + ": streaming result of " + std::to_string(spec->result_floats[0]) + " floats (1 .. " +
                                    std::to_string(kMaxOutputs) + ")");
  auto lm = std::make_shared<LoadedModel>();
  lm->engine = engine;
  lm->package = std::move(pkg);
  lm->path = path;
  lm->version = opt.version;
  lm->device = "cpu";
  lm->streaming = true;
  lm->stream_spec = *spec;
  lm->stream = opt.stream;
  lm->in_floats = spec->x_floats;
  lm->out_floats = spec->result_floats[0];
  const std::int64_t warm = opt.stream.warmup >= 0 ? opt.stream.warmup : static_cast<std::int64_t>(spec->warmup);
  // Validation on its own context (the instances get fresh, zeroed slots).
  const fs::path dir = fs::path(path).parent_path();
  const fs::path x_p = dir / "golden_x.npy", ref_p = dir / "golden_logits.npy";
  std::error_code ec;
  std::ostringstream v;
  if (fs::exists(x_p, ec) && fs::exists(ref_p, ec)) {
    auto x = infer::read_npy(x_p.string());
    auto ref = infer::read_npy(ref_p.string());
    if (!x.ok()) return x.status().with_context(path + ": golden input");
    if (!ref.ok()) return ref.status().with_context(path + ": golden output");
    const auto& xd = x->dims;
    const std::size_t F = spec->x_floats, C = lm->out_floats;
    if (x->dtype != infer::DType::f32 || xd.size() != 3 || static_cast<std::size_t>(xd[2]) != F || xd[0] < 1 || xd[1] < 1)
      return R(Code::invalid_argument, path + ": golden input " + x_p.string() + " is not float32 [T, S, " + std::to_string(F) + "]");
    const std::size_t T = static_cast<std::size_t>(xd[0]), S = static_cast<std::size_t>(xd[1]);
    if (ref->dtype != infer::DType::f32 || static_cast<std::size_t>(ref->count()) != T * S * C)
      return R(Code::invalid_argument, path + ": golden output " + ref_p.string() + " is not float32 [" + std::to_string(T) + ", " +
                                           std::to_string(S) + ", " + std::to_string(C) + "]");
    auto sc = infer::StreamContext::create(engine, *spec, {static_cast<int>(S), 1});
    if (!sc.ok()) return sc.status().with_context(path + ": golden run");
    double maxd = 0;
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t s = 0; s < S; ++s) {
        if ((*sc)->step(static_cast<int>(s), x->as<float>() + (t * S + s) * F) != Code::ok)
          return R(Code::internal, path + ": golden run: step " + std::to_string(t) + " of stream " + std::to_string(s) + " failed");
        for (std::size_t c = 0; c < C; ++c) {
          const float a = (*sc)->output(0)[c], b = ref->as<float>()[(t * S + s) * C + c];
          if (!std::isfinite(a))
            return R(Code::corrupt, path + ": golden validation: step " + std::to_string(t) + " output " + std::to_string(c) + " is not finite");
          maxd = std::max(maxd, static_cast<double>(std::fabs(a - b)));
        }
      }
    if (maxd > opt.golden_tol) {
      std::ostringstream o;
      o << path << ": golden validation failed: max |engine - reference| = " << maxd << " > tolerance " << opt.golden_tol << " over "
        << T << " steps x " << S << " streams of " << x_p.string();
      return R(Code::corrupt, o.str());
    }
    v << "golden (streamed): " << T << " steps x " << S << " streams, max |diff| " << maxd << " <= " << opt.golden_tol;
  } else {
    if (opt.require_golden)
      return R(Code::not_found, path + ": no golden data (" + x_p.string() + " + golden_logits.npy) and model.require_golden = true");
    auto sc = infer::StreamContext::create(engine, *spec, {1, 1});
    if (!sc.ok()) return sc.status().with_context(path + ": smoke run");
    std::vector<float> zero(spec->x_floats, 0.f);
    for (int t = 0; t < 8; ++t) {
      if ((*sc)->step(0, zero.data()) != Code::ok) return R(Code::internal, path + ": smoke run: step failed");
      for (std::size_t c = 0; c < lm->out_floats; ++c)
        if (!std::isfinite((*sc)->output(0)[c])) return R(Code::corrupt, path + ": smoke run: non-finite output on zero rows");
    }
    v << "no golden data beside the streaming model: finite outputs over 8 zero rows only";
  }
  v << "; streaming: " << spec->pairs.size() << " state tensors, warm-up " << warm << " steps";
  lm->validation = v.str();
  lm->load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  return std::shared_ptr<const LoadedModel>(std::move(lm));
}

std::size_t replay_rows(const LoadedModel& m) {
  const std::int64_t w = m.stream.warmup >= 0 ? m.stream.warmup : static_cast<std::int64_t>(m.stream_spec.warmup);
  return std::max<std::size_t>(64, static_cast<std::size_t>(w));
}

}  // namespace tickrt::pipeline
