// pipeline/prefix_infer.cpp — see prefix_infer.hpp.
#include "pipeline/prefix_infer.hpp"

#include <algorithm>

namespace tickrt::pipeline {

Result<std::unique_ptr<PrefixRunner>> PrefixRunner::create(infer::ExecutionContext& ctx, const features::ModelPackage& pkg, int slice,
                                                           int symbols) {
  using R = Result<std::unique_ptr<PrefixRunner>>;
  if (slice < 1) return R(Code::invalid_argument, "window prefix: slice must be >= 1 LSTM steps");
  if (symbols < 1 || symbols > kMaxSymbols)
    return R(Code::invalid_argument, "window prefix: " + std::to_string(symbols) + " symbol slots (1.." + std::to_string(kMaxSymbols) + ")");
  std::unique_ptr<PrefixRunner> r(new PrefixRunner());
  r->slots_.resize(static_cast<std::size_t>(symbols));
  for (Slot& sl : r->slots_) {
    auto wp = infer::WindowPrefix::create(ctx);
    if (!wp.ok()) return R(wp.status());
    sl.wp = std::move(wp.value());
  }
  r->pkg_ = &pkg;
  r->slice_ = slice;
  r->T_ = r->slots_[0].wp->window();
  r->F_ = r->slots_[0].wp->row_width();
  if (pkg.window != static_cast<std::size_t>(r->T_) || pkg.features.size() != static_cast<std::size_t>(r->F_))
    return R(Code::invalid_argument, "window prefix: the model package's window " + std::to_string(pkg.window) + " x " +
                                         std::to_string(pkg.features.size()) + " differs from the engine's input");
  for (Slot& sl : r->slots_) sl.rows = infer::AlignedBytes::allocate(static_cast<std::size_t>(r->T_ - 1) * r->F_ * sizeof(float));
  r->last_ = infer::AlignedBytes::allocate(static_cast<std::size_t>(r->F_) * sizeof(float));
  return R(std::move(r));
}

PrefixRunner::Slot* PrefixRunner::find(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept {
  for (Slot& sl : slots_)
    if (sl.used && sl.sym == sym && sl.fe == &fe) return &sl;
  return nullptr;
}

bool PrefixRunner::try_run(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept {
  Slot* sl = find(sym, fe);
  const bool match = sl != nullptr && sl->wp->ready() && fe.samples() == sl->samples + 1 &&
                     fe.window().size() == static_cast<std::size_t>(T_) * F_;
  if (!match) {
    ++c_.misses;
    return false;
  }
  float* last = reinterpret_cast<float*>(last_.ptr.get());
  pkg_->normalize(fe.window().data() + static_cast<std::size_t>(T_ - 1) * F_, 1, last);
  if (sl->wp->run_last(last) != Code::ok) {
    ++c_.misses;
    return false;
  }
  last_used_ = sl;
  ++c_.hits;
  return true;
}

void PrefixRunner::want(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept {
  Slot* sl = find(sym, fe);
  if (sl == nullptr) {  // a free slot, else the one wanted longest ago
    sl = &slots_[0];
    for (Slot& s : slots_) {
      if (!s.used) { sl = &s; break; }
      if (s.stamp < sl->stamp) sl = &s;
    }
    if (sl == last_used_) last_used_ = nullptr;
  }
  if (sl->wp->started() && !sl->wp->ready()) ++c_.dropped;
  sl->wp->invalidate();
  sl->used = true;
  sl->sym = sym;
  sl->fe = &fe;
  sl->samples = fe.samples();
  sl->stamp = ++clock_;
  sl->wanted = fe.window().size() >= static_cast<std::size_t>(T_ - 1) * F_;  // the next row completes a window
}

bool PrefixRunner::idle() noexcept {
  Slot* sl = nullptr;   // the wanted prefix wanted longest ago
  for (Slot& s : slots_)
    if (s.wanted && !s.wp->ready() && (sl == nullptr || s.stamp < sl->stamp)) sl = &s;
  if (sl == nullptr) return false;
  if (sl->fe->samples() != sl->samples) {  // a row came in before the prefix was finished: the window moved
    if (sl->wp->started()) ++c_.dropped;
    sl->wp->invalidate();
    sl->wanted = false;
    return false;
  }
  if (!sl->wp->started()) {
    // The next window's first T-1 rows are this window's last T-1 (the ring does not change until the
    // next row is sampled, which happens on this thread).
    float* rows = reinterpret_cast<float*>(sl->rows.ptr.get());
    const std::span<const float> w = sl->fe->window();  // T rows after a sample, T-1 before the first one
    pkg_->normalize(w.data() + (w.size() - static_cast<std::size_t>(T_ - 1) * F_), static_cast<std::size_t>(T_ - 1), rows);
    sl->wp->start(rows);
  } else {
    (void)sl->wp->advance(slice_);
  }
  ++c_.slices;
  return true;
}

bool PrefixRunner::busy() const noexcept {
  for (const Slot& s : slots_)
    if (s.wanted && !s.wp->ready()) return true;
  return false;
}

void PrefixRunner::take_wants_from(const PrefixRunner& old) noexcept {
  if (old.T_ != T_ || old.F_ != F_) return;  // another window shape: nothing to carry over
  std::size_t k = 0;
  for (const Slot& o : old.slots_) {
    if (!o.used || k == slots_.size()) continue;
    Slot& sl = slots_[k++];
    sl.wp->invalidate();
    sl.used = true;
    sl.sym = o.sym;
    sl.fe = o.fe;
    sl.samples = o.samples;
    sl.stamp = o.stamp;
    sl.wanted = o.wanted || o.wp->started();   // a ready or unfinished prefix of the old model: redo it here
  }
  clock_ = std::max(clock_, old.clock_);
  last_used_ = nullptr;
}

bool PrefixRunner::warm() noexcept {
  Slot* sl = last_used_ != nullptr && last_used_->wp->ready() ? last_used_ : nullptr;
  if (sl == nullptr)
    for (Slot& s : slots_)
      if (s.wp->ready()) { sl = &s; break; }
  if (sl == nullptr) return false;
  return sl->wp->run_last(reinterpret_cast<const float*>(last_.ptr.get())) == Code::ok;
}

}  // namespace tickrt::pipeline
