// pipeline/infer_stage.cpp — inline and batched inference (hot path, see infer_stage.hpp).
#include "pipeline/infer_stage.hpp"

#include <algorithm>
#include <cstring>

#include "pipeline/threads.hpp"

namespace tickrt::pipeline {

namespace {

// Copies the model outputs of window i of the current plan into r.
void take_outputs(const ModelInstance& ctx, std::size_t i, std::size_t n_out, InferResult& r) noexcept {
  const std::size_t n = std::min(n_out, kMaxOutputs);
  const float* y = ctx.output() + i * n_out;
  for (std::size_t c = 0; c < n; ++c) r.out[c] = y[c];
  r.n_out = static_cast<std::uint8_t>(n);
}

}  // namespace

InferStage::InferStage(ModelSlot& slot, BatchConfig bc, TscClock clock) : slot_(slot), bc_(bc), clock_(clock) {
  bc_.max_batch = std::clamp(bc_.max_batch, 1, 256);
  meta_.resize(static_cast<std::size_t>(bc_.max_batch));
  raw_.resize(static_cast<std::size_t>(bc_.max_batch) * kMaxWindowFloats);
  slot_of_sym_.assign(kMaxSymbols, -1);
  seen_.assign(kMaxSymbols, 0);
  ahead_.resize(kMaxSymbols);
  // ns -> TSC ticks for the delay check (one multiply-free compare per poll).
  max_delay_ticks_ = static_cast<std::int64_t>(clock_.ns_to_ticks(bc_.max_delay_ns));
}

bool InferStage::infer_one(const SampleMeta& meta, const features::FeatureEngine& fe, InferResult& out) noexcept {
  ModelInstance* inst = slot_.current();
  ModelInstance& ctx = *inst;  // CPU or GPU context (model.hpp)
  out.meta = meta;
  out.enqueue_tsc = 0;
  out.batch = 1;
  out.model_version = inst->model->version;
  out.infer_start = TscClock::ticks();
  out.ok = false;
  if (Ahead& a = ahead_[meta.symbol < kMaxSymbols ? meta.symbol : 0]; a.rows != 0 && meta.symbol < kMaxSymbols) {
    // The model ran on these rows at their boundary (infer_ahead): the result stands if nothing moved since
    // (the same instance, no new row; a resync in between cleared it: on_resync).
    const bool same = a.inst == inst && a.version == inst->model->version && a.rows == fe.samples();
    a.rows = 0;
    if (same) {
      for (std::size_t c = 0; c < a.n_out; ++c) out.out[c] = a.out[c];
      out.n_out = a.n_out;
      out.ok = true;
      out.infer_end = TscClock::ticks();
      ++c_.ahead_used;
      ++c_.inferences;
      ++c_.batches;
      ++c_.batch_hist[1];
      return true;
    }
  }
  if (inst->stream) [[unlikely]] {  // streaming model: step the symbol's state slot (stream_infer.hpp)
    std::size_t n = 0;
    const std::uint64_t reused = inst->stream->counters().reused;
    const StreamOutcome o = inst->stream->infer(inst->model->package, meta.symbol, meta.sample_ts_ns, fe.samples(), fe.window(), out.out, n);
    out.infer_end = TscClock::ticks();
    if (o != StreamOutcome::ok) {
      if (o == StreamOutcome::error) ++c_.run_errors;
      return false;  // warming up: no result, the strategy does not act
    }
    out.n_out = static_cast<std::uint8_t>(n);
    out.ok = true;
    if (inst->stream->counters().reused != reused) ++c_.ahead_used;   // stepped at the boundary (infer_ahead)
    else record_engine_time(inst, out.infer_start, out.infer_end);
    ++c_.inferences;
    ++c_.batches;
    ++c_.batch_hist[1];
    return true;
  }
  if (!run_window(*inst, meta.symbol, fe)) {
    ++c_.run_errors;
    out.infer_end = TscClock::ticks();
    return false;
  }
  take_outputs(ctx, 0, inst->model->out_floats, out);
  out.ok = true;
  out.infer_end = TscClock::ticks();
  record_engine_time(inst, out.infer_start, out.infer_end);
  slot_.want_prefix(meta.symbol, fe);  // computed by idle(), after this tick's order went out
  last_work_tsc_ = out.infer_end;
  ++c_.inferences;
  ++c_.batches;
  ++c_.batch_hist[1];
  return true;
}

bool InferStage::infer_ahead(const SampleMeta& meta, const features::FeatureEngine& fe, std::uint64_t& t0,
                             std::uint64_t& t1) noexcept {
  ModelInstance* inst = slot_.current();
  const LoadedModel& m = *inst->model;
  t0 = TscClock::ticks();
  if (inst->stream) {
    const std::uint64_t before = inst->stream->counters().steps;
    const StreamOutcome o = inst->stream->step(m.package, meta.symbol, meta.sample_ts_ns, fe.samples(), fe.window());
    t1 = TscClock::ticks();
    if (inst->stream->counters().steps == before) return false;
    // Kept for the tick as a window model's result is (one line to read then); a slot still warming up keeps
    // nothing: the tick asks the runner, which withholds it.
    if (o == StreamOutcome::ok && meta.symbol < kMaxSymbols)
      keep_ahead(meta.symbol, inst, fe.samples(), inst->stream->kept_output(meta.symbol));
  } else {
    if (meta.symbol >= kMaxSymbols || !inst->ctx || fe.samples() < static_cast<std::uint64_t>(m.package.window)) {
      slot_.want_prefix(meta.symbol, fe);   // what a row that is not a due sample asks for (step_row)
      return false;
    }
    if (!run_window(*inst, meta.symbol, fe)) return false;   // the tick runs it (and counts the error)
    t1 = TscClock::ticks();
    keep_ahead(meta.symbol, inst, fe.samples(), inst->output());
    slot_.want_prefix(meta.symbol, fe);
  }
  record_engine_time(inst, t0, t1);
  last_work_tsc_ = t1;
  ++c_.ahead_runs;
  return true;
}

bool InferStage::run_window(ModelInstance& inst, feed::SymbolId sym, const features::FeatureEngine& fe) noexcept {
  if (inst.select_batch(1) != Code::ok) return false;
  // The next window's first T-1 rows may have been run between ticks (prefix_infer.hpp): one step then.
  PrefixRunner* pr = inst.prefix.get();
  const bool from_prefix = pr != nullptr && pr->try_run(sym, fe);
  return from_prefix || (inst.model->package.fill_input(fe, inst.input()) && inst.run() == Code::ok);
}

void InferStage::keep_ahead(feed::SymbolId sym, const ModelInstance* inst, std::uint64_t rows, const float* y) noexcept {
  Ahead& a = ahead_[sym];
  const std::size_t n = std::min(inst->model->out_floats, kMaxOutputs);
  for (std::size_t c = 0; c < n; ++c) a.out[c] = y[c];
  a.n_out = static_cast<std::uint8_t>(n);
  a.inst = inst;
  a.version = inst->model->version;
  a.rows = rows;
}

void InferStage::record_engine_time(const ModelInstance* inst, std::uint64_t t0, std::uint64_t t1) noexcept {
  const std::int64_t ns = clock_.ticks_to_ns(static_cast<std::int64_t>(t1 - t0));
  // A new instance (hot swap adopted since the last inference): versions grow per swap, and two
  // instances alive at once never share an address.
  (last_inst_ != nullptr && inst != last_inst_ ? swap_first_ : others_).record(ns);
  last_inst_ = inst;
}

void InferStage::set_warm(const StageWarmConfig& w) noexcept {
  warm_ = w;
  warm_after_ticks_ = clock_.ns_to_ticks(w.after_ns);
  trickle_ticks_ = w.mode == KeepWarm::infer ? clock_.ns_to_ticks(w.trickle_ns) : 0;
  isa_ = infer::cpu::detect_isa();
  last_work_tsc_ = TscClock::ticks();
}

void InferStage::idle() noexcept {
  // The running model's next window prefix first (the next tick needs it), then the warm-up of a
  // swapped-in model (its WarmSet, then its own prefixes: model.hpp), then keep_warm.
  if (PrefixRunner* pr = slot_.current()->prefix.get(); pr != nullptr && pr->idle()) {
    last_work_tsc_ = TscClock::ticks();
    return;
  }
  // A streaming model: the recurrent half of the next step of a symbol that just stepped (stream_infer.hpp
  // prepare_next), before any warm-up: it takes work off that symbol's next tick.
  if (StreamRunner* sr = slot_.current()->stream.get(); sr != nullptr && sr->prepare_next()) {
    last_work_tsc_ = TscClock::ticks();
    return;
  }
  if (!slot_.warm_pending(warm_.lines)) return;
  if (warm_.mode == KeepWarm::off) return;
  const std::uint64_t now = TscClock::ticks();
  if (now - last_work_tsc_ < warm_after_ticks_) {
    trickle(now);
    return;
  }
  ModelInstance* inst = slot_.current();
  if (!inst->ctx && !inst->stream) return;  // GPU instance: nothing of it lives in this core's caches
  if (inst->stream && warm_.mode == KeepWarm::infer) {
    // Streaming: a throw-away step of the runner's scratch slot (no symbol's state moves) + a read of the
    // trading symbols' slots (stream_infer.hpp warm_step).
    inst->stream->warm_step();
    ++c_.warm_runs;
    last_work_tsc_ = TscClock::ticks();
  } else if (warm_.mode == KeepWarm::touch || inst->stream) {
    if (warm_cursor_.touch(inst->warm, warm_.lines)) {
      ++c_.warm_passes;
      last_work_tsc_ = now;  // one pass per after_ns of idleness
    }
  } else {
    // Runs the batch-1 plan on whatever input it holds (the last window): output discarded, the
    // next real inference selects its batch and writes its input again. With a ready window prefix,
    // the tick's own path instead: its last step + attention/head (a few us, not a whole window).
    if (inst->prefix == nullptr || !inst->prefix->warm())
      if (inst->ctx->select_batch(1) == Code::ok) (void)inst->ctx->run();
    ++c_.warm_runs;
    last_work_tsc_ = TscClock::ticks();
  }
}

void InferStage::trickle(std::uint64_t now) noexcept {
  if (trickle_ticks_ == 0 || now - last_trickle_tsc_ < trickle_ticks_) return;
  last_trickle_tsc_ = now;
  const ModelInstance* inst = slot_.current();
  if (!inst->ctx && !inst->stream) return;  // GPU instance: nothing of it runs on this core
  trickle_sink_ += infer::cpu::vector_keepalive(isa_, warm_.trickle_iters);
  (void)warm_cursor_.touch(inst->warm, warm_.lines);   // infer mode: the cursor is this trickle's alone
  ++c_.trickles;
}

bool enqueue_window(SpscRing<InferRequest>& ring, const SampleMeta& meta, const features::FeatureEngine& fe) noexcept {
  const std::span<const float> w = fe.window();
  if (w.size() > kMaxWindowFloats) return false;
  return ring.try_emplace(meta, w);  // the window is copied straight into the ring slot
}

void InferStage::stage(const InferRequest& r) noexcept {
  int at = staged_;
  const feed::SymbolId sym = r.meta.symbol;
  if (bc_.coalesce && sym < kMaxSymbols && slot_of_sym_[sym] >= 0) {
    at = slot_of_sym_[sym];  // newer window of a staged symbol: replace it in place
    ++c_.coalesced;
  } else {
    ++staged_;
    if (sym < kMaxSymbols) {
      slot_of_sym_[sym] = static_cast<std::int16_t>(at);
      if (!seen_[sym]) {
        seen_[sym] = 1;
        ++symbols_seen_;
      }
    }
  }
  InferResult& m = meta_[static_cast<std::size_t>(at)];
  m.meta = r.meta;
  m.enqueue_tsc = r.enqueue_tsc;
  std::memcpy(raw_.data() + static_cast<std::size_t>(at) * kMaxWindowFloats, r.x, r.n_floats * sizeof(float));
}

int InferStage::poll(SpscRing<InferRequest>& in, SpscRing<InferResult>& out) noexcept {
  InferRequest* r = in.front();
  if (r == nullptr) return 0;
  const std::uint64_t first_enq = r->enqueue_tsc;
  stage(*r);
  in.pop();
  // Gather until the batch is full or the first window has waited max_delay. With coalescing a
  // batch never holds more windows than symbols, so once every symbol seen so far is staged there
  // is nothing to wait for (one symbol: no added delay at all).
  while (staged_ < bc_.max_batch) {
    r = in.front();
    if (r != nullptr) {  // what is already queued is always taken
      stage(*r);
      in.pop();
      continue;
    }
    if (bc_.coalesce && staged_ >= symbols_seen_) break;
    if (static_cast<std::int64_t>(TscClock::ticks() - first_enq) >= max_delay_ticks_) break;
    cpu_relax();
  }
  const int b = staged_;
  ModelInstance* inst = slot_.current();  // adopt a swapped model between batches only
  ModelInstance& ctx = *inst;  // CPU or GPU context (model.hpp)
  const LoadedModel& m = *inst->model;
  const std::uint64_t t0 = TscClock::ticks();
  bool ok = !inst->stream && ctx.select_batch(b) == Code::ok;  // streaming models run inline only (refused at setup)
  if (ok) {
    float* x = ctx.input();
    for (int i = 0; i < b; ++i)
      m.package.normalize(raw_.data() + static_cast<std::size_t>(i) * kMaxWindowFloats, m.package.window,
                          x + static_cast<std::size_t>(i) * m.in_floats);
    ok = ctx.run() == Code::ok;
  }
  const std::uint64_t t1 = TscClock::ticks();
  last_work_tsc_ = t1;
  if (!ok) c_.run_errors += static_cast<std::uint64_t>(b);
  else record_engine_time(inst, t0, t1);
  for (int i = 0; i < b; ++i) {
    InferResult& res = meta_[static_cast<std::size_t>(i)];
    res.infer_start = t0;
    res.infer_end = t1;
    res.batch = static_cast<std::uint16_t>(b);
    res.model_version = m.version;
    res.ok = ok;
    if (ok) take_outputs(ctx, static_cast<std::size_t>(i), m.out_floats, res);
    if (res.meta.symbol < kMaxSymbols) slot_of_sym_[res.meta.symbol] = -1;
    if (!out.try_push(res)) ++c_.results_dropped;
  }
  staged_ = 0;
  c_.inferences += static_cast<std::uint64_t>(b);
  ++c_.batches;
  ++c_.batch_hist[std::min(b, 256)];
  return b;
}

}  // namespace tickrt::pipeline
