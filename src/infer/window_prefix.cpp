#include "infer/window_prefix.hpp"

#include <algorithm>
#include <cstring>

namespace tickrt::infer {
namespace {

bool is_fused_lstm(const Kernel& k) { return k.node && k.node->domain == "tickrt" && k.node->op == "FusedLSTM"; }

bool reads(const Kernel& k, const TensorRef* t) {
  return t != nullptr && std::find(k.in.begin(), k.in.end(), t) != k.in.end();
}

// The number of leading FusedLSTM steps that form a splittable chain, or 0 with the reason.
std::size_t lstm_chain(const ExecutionContext& ctx, std::string* why) {
  const Plan& p = ctx.plan();
  auto fail = [&](const std::string& w) { if (why) *why = w; return std::size_t{0}; };
  if (ctx.engine().num_inputs() != 1) return fail("the model has " + std::to_string(ctx.engine().num_inputs()) + " inputs (one window input expected)");
  const TensorRef* x = &p.tensors[p.inputs[0]];
  if (x->dims.size() != 3 || x->dims[0] != 1) return fail("input 0 is not [1, T, F] in the current plan (prepare_batch(1) first)");
  if (p.steps.empty() || !is_fused_lstm(p.steps[0])) return fail("the optimized plan does not start with tickrt.FusedLSTM");
  std::size_t n = 0;
  const TensorRef* prev = x;
  while (n < p.steps.size() && is_fused_lstm(p.steps[n])) {
    const Kernel& k = p.steps[n];
    const std::string at = "step " + std::to_string(n) + " (" + k.node->name + ")";
    if (k.in.empty() || k.in[0] != prev) break;   // not chained: the chain ends here
    if (k.node->attr_i("layout", 0) != 1) return fail(at + ": not batch-first");
    if ((k.in.size() > 2 && k.in[2]) || (k.in.size() > 3 && k.in[3])) return fail(at + ": has an initial state");
    if (k.out.empty() || !k.out[0]) return fail(at + ": its output sequence is not materialised");
    prev = k.out[0];
    ++n;
  }
  if (n == 0) return fail("step 0 does not read input 0");
  // Every layer's sequence but the last is read only by the next layer; input 0 only by layer 0.
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    const Kernel& k = p.steps[i];
    if (i >= 1 && reads(k, x)) return fail("step " + std::to_string(i) + " (" + (k.node ? k.node->name : "?") + ") reads the window input");
    for (std::size_t l = 0; l + 1 < n; ++l)
      if (i != l + 1 && reads(k, p.steps[l].out[0]))
        return fail("layer " + std::to_string(l) + "'s output sequence is read by step " + std::to_string(i));
  }
  for (int o : p.outputs)
    for (std::size_t l = 0; l + 1 < n; ++l)
      if (&p.tensors[o] == p.steps[l].out[0]) return fail("layer " + std::to_string(l) + "'s output sequence is a graph output");
  return n;
}

}  // namespace

std::string WindowPrefix::why_not(const ExecutionContext& ctx) {
  std::string why;
  return lstm_chain(ctx, &why) ? std::string() : why;
}

Result<std::unique_ptr<WindowPrefix>> WindowPrefix::create(ExecutionContext& ctx) {
  using R = Result<std::unique_ptr<WindowPrefix>>;
  std::string why;
  const std::size_t n = lstm_chain(ctx, &why);
  if (n == 0) return R(Code::unsupported, "window prefix: " + why);
  const Plan& p = ctx.plan();
  std::unique_ptr<WindowPrefix> w(new WindowPrefix());
  w->ctx_ = &ctx;
  w->isa_ = ctx.engine().isa();
  const TensorRef& x = p.tensors[p.inputs[0]];
  w->T_ = static_cast<int>(x.dims[1]);
  w->F_ = static_cast<int>(x.dims[2]);
  if (w->T_ < 2) return R(Code::unsupported, "window prefix: window of " + std::to_string(w->T_) + " rows (needs >= 2)");
  std::size_t off = 0, ws_floats = 0;
  int in_width = w->F_;
  for (std::size_t l = 0; l < n; ++l) {
    const Kernel& k = p.steps[l];
    Layer L;
    const int I = static_cast<int>(k.node->attr_i("I", 0)), H = static_cast<int>(k.node->attr_i("H", 0));
    if (I != in_width || H <= 0)
      return R(Code::invalid_argument, "window prefix: " + k.node->name + " I " + std::to_string(I) + " H " + std::to_string(H) +
                                           " does not follow a width of " + std::to_string(in_width));
    L.step = {1, 1, I, H};
    L.packed = k.in[1]->as<float>();
    L.y_plan = k.out[0]->as<float>();
    L.hT_plan = k.out.size() > 1 && k.out[1] ? k.out[1]->as<float>() : nullptr;
    L.cT_plan = k.out.size() > 2 && k.out[2] ? k.out[2]->as<float>() : nullptr;
    auto take = [&off](std::size_t floats) { const std::size_t o = off; off += (floats + 15) / 16 * 16; return o; };
    L.y_off = take(static_cast<std::size_t>(w->T_) * H);
    L.h_off = take(static_cast<std::size_t>(H));
    L.c_off = take(static_cast<std::size_t>(H));
    L.h2_off = take(static_cast<std::size_t>(H));
    L.c2_off = take(static_cast<std::size_t>(H));
    ws_floats = std::max(ws_floats, cpu::lstm_workspace_floats(w->isa_, {w->T_ - 1, 1, I, H}));
    ws_floats = std::max(ws_floats, cpu::lstm_workspace_floats(w->isa_, L.step));
    w->layers_.push_back(L);
    in_width = H;
  }
  w->first_rest_ = n;
  w->plan_ = &p;
  // An additive attention over the chain's outputs (lstm_attn_*): its prefix rows are scored ahead too, and
  // run_last() computes it in its place in the plan order (its output bytes may be another step's before).
  for (std::size_t i = n; i < p.steps.size(); ++i) {
    const Kernel& k = p.steps[i];
    const Layer& top = w->layers_.back();
    if (k.node && k.node->domain == "tickrt" && k.node->op == "AdditiveAttention" && k.in.size() >= 2 &&
        k.in[0] == p.steps[n - 1].out[0] && k.node->attr_i("D", 0) == top.step.H && !k.out.empty() && k.out[0]) {
      w->attn_split_ = true;
      w->attn_step_ = i;
      w->attn_A_ = static_cast<int>(k.node->attr_i("A", 0));
      w->attn_packed_ = k.in[1]->as<float>();
      w->attn_ctx_plan_ = k.out[0]->as<float>();
      ws_floats = std::max(ws_floats, cpu::additive_attention_workspace_floats(w->isa_, 1, w->T_, top.step.H, w->attn_A_));
      break;
    }
  }
  w->scores_off_ = off;
  off += (static_cast<std::size_t>(w->T_) + 15) / 16 * 16;
  w->buf_ = AlignedBytes::allocate(off * sizeof(float));
  w->ws_ = AlignedBytes::allocate(std::max<std::size_t>(ws_floats, 16) * sizeof(float));
  return R(std::move(w));
}

void WindowPrefix::precompute(const float* rows) noexcept {
  start(rows);
  (void)advance(static_cast<int>(layers_.size()) * T_);
}

void WindowPrefix::start(const float* rows) noexcept {
  rows_ = rows;
  layer_ = 0;
  step_ = 0;
  ready_ = false;
}

bool WindowPrefix::advance(int max_steps) noexcept {
  if (ready_ || rows_ == nullptr) return ready_;
  float* buf = reinterpret_cast<float*>(buf_.ptr.get());
  float* ws = reinterpret_cast<float*>(ws_.ptr.get());
  const int n_pre = T_ - 1;
  while (max_steps > 0 && layer_ < layers_.size()) {
    Layer& L = layers_[layer_];
    const int n = std::min(max_steps, n_pre - step_);
    const float* in = layer_ == 0 ? rows_ + static_cast<std::size_t>(step_) * F_
                                  : buf + layers_[layer_ - 1].y_off + static_cast<std::size_t>(step_) * L.step.I;
    const bool first = step_ == 0;   // a window's LSTM starts from zeros; a later slice from the last (h, c)
    cpu::lstm_forward(isa_, {n, 1, L.step.I, L.step.H}, L.packed, in, 1, first ? nullptr : buf + L.h_off,
                      first ? nullptr : buf + L.c_off, buf + L.y_off + static_cast<std::size_t>(step_) * L.step.H,
                      buf + L.h_off, buf + L.c_off, ws);
    step_ += n;
    max_steps -= n;
    if (step_ == n_pre) {
      ++layer_;
      step_ = 0;
    }
  }
  if (layer_ == layers_.size() && max_steps > 0) {
    if (attn_split_) {  // the attention scores of the T-1 prefix rows (about one slice of work)
      const Layer& top = layers_.back();
      cpu::additive_attention_scores(isa_, n_pre, top.step.H, attn_A_, attn_packed_, buf + top.y_off, buf + scores_off_, ws);
    }
    ready_ = true;
    rows_ = nullptr;
  }
  return ready_;
}

Code WindowPrefix::run_last(const float* last) noexcept {
  if (!ready_) return Code::out_of_sync;
  if (&ctx_->plan() != plan_) return Code::invalid_argument;
  float* buf = reinterpret_cast<float*>(buf_.ptr.get());
  float* ws = reinterpret_cast<float*>(ws_.ptr.get());
  const float* in = last;
  for (Layer& L : layers_) {
    const std::size_t H = static_cast<std::size_t>(L.step.H);
    float* y = buf + L.y_off;
    float* y_last = y + static_cast<std::size_t>(T_ - 1) * H;
    // One step from the prefix's state, into separate (h, c): the prefix stays usable.
    cpu::lstm_forward(isa_, L.step, L.packed, in, 1, buf + L.h_off, buf + L.c_off, y_last, buf + L.h2_off, buf + L.c2_off, ws);
    if (L.hT_plan) std::memcpy(L.hT_plan, buf + L.h2_off, H * sizeof(float));
    if (L.cT_plan) std::memcpy(L.cT_plan, buf + L.c2_off, H * sizeof(float));
    in = y_last;
  }
  // Only the last layer's sequence is read after the chain (checked at create).
  const Layer& top = layers_.back();
  std::memcpy(top.y_plan, buf + top.y_off, static_cast<std::size_t>(T_) * top.step.H * sizeof(float));
  const auto& steps = plan_->steps;
  for (std::size_t i = first_rest_; i < steps.size(); ++i) {
    if (attn_split_ && i == attn_step_) {  // the last row's score, then softmax + context over all T
      float* s = buf + scores_off_;
      const float* y = buf + top.y_off;
      cpu::additive_attention_scores(isa_, 1, top.step.H, attn_A_, attn_packed_, y + static_cast<std::size_t>(T_ - 1) * top.step.H,
                                     s + (T_ - 1), ws);
      cpu::attention_context(isa_, T_, top.step.H, s, y, attn_ctx_plan_, ws);
      continue;
    }
    steps[i].run(steps[i]);
  }
  return Code::ok;
}

}  // namespace tickrt::infer
