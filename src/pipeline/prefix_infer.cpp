// pipeline/prefix_infer.cpp — see prefix_infer.hpp.
#include "pipeline/prefix_infer.hpp"

namespace tickrt::pipeline {

Result<std::unique_ptr<PrefixRunner>> PrefixRunner::create(infer::ExecutionContext& ctx, const features::ModelPackage& pkg, int slice) {
  using R = Result<std::unique_ptr<PrefixRunner>>;
  if (slice < 1) return R(Code::invalid_argument, "window prefix: slice must be >= 1 LSTM steps");
  auto wp = infer::WindowPrefix::create(ctx);
  if (!wp.ok()) return R(wp.status());
  std::unique_ptr<PrefixRunner> r(new PrefixRunner());
  r->wp_ = std::move(wp.value());
  r->pkg_ = &pkg;
  r->slice_ = slice;
  r->T_ = r->wp_->window();
  r->F_ = r->wp_->row_width();
  if (pkg.window != static_cast<std::size_t>(r->T_) || pkg.features.size() != static_cast<std::size_t>(r->F_))
    return R(Code::invalid_argument, "window prefix: the model package's window " + std::to_string(pkg.window) + " x " +
                                         std::to_string(pkg.features.size()) + " differs from the engine's input");
  r->rows_ = infer::AlignedBytes::allocate(static_cast<std::size_t>(r->T_ - 1) * r->F_ * sizeof(float));
  r->last_ = infer::AlignedBytes::allocate(static_cast<std::size_t>(r->F_) * sizeof(float));
  return R(std::move(r));
}

bool PrefixRunner::try_run(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept {
  const bool match = wp_->ready() && sym == sym_ && &fe == fe_ && fe.samples() == samples_ + 1 &&
                     fe.window().size() == static_cast<std::size_t>(T_) * F_;
  if (!match) {
    ++c_.misses;
    return false;
  }
  float* last = reinterpret_cast<float*>(last_.ptr.get());
  pkg_->normalize(fe.window().data() + static_cast<std::size_t>(T_ - 1) * F_, 1, last);
  if (wp_->run_last(last) != Code::ok) {
    ++c_.misses;
    return false;
  }
  ++c_.hits;
  return true;
}

void PrefixRunner::want(feed::SymbolId sym, const features::FeatureEngine& fe) noexcept {
  if (wp_->started() && !wp_->ready()) ++c_.dropped;
  wp_->invalidate();
  sym_ = sym;
  fe_ = &fe;
  samples_ = fe.samples();
  wanted_ = fe.window().size() >= static_cast<std::size_t>(T_ - 1) * F_;  // the next row completes a window
}

bool PrefixRunner::warm() noexcept {
  if (!wp_->ready()) return false;
  return wp_->run_last(reinterpret_cast<const float*>(last_.ptr.get())) == Code::ok;
}

bool PrefixRunner::idle() noexcept {
  if (!wanted_ || wp_->ready()) return false;
  if (fe_->samples() != samples_) {  // a row came in before the prefix was finished: the window moved
    if (wp_->started()) ++c_.dropped;
    wp_->invalidate();
    wanted_ = false;
    return false;
  }
  if (!wp_->started()) {
    // The next window's first T-1 rows are this window's last T-1 (the ring does not change until the
    // next row is sampled, which happens on this thread).
    float* rows = reinterpret_cast<float*>(rows_.ptr.get());
    const std::span<const float> w = fe_->window();  // T rows after a sample, T-1 before the first one
    pkg_->normalize(w.data() + (w.size() - static_cast<std::size_t>(T_ - 1) * F_), static_cast<std::size_t>(T_ - 1), rows);
    wp_->start(rows);
  } else {
    (void)wp_->advance(slice_);
  }
  ++c_.slices;
  return true;
}

}  // namespace tickrt::pipeline
