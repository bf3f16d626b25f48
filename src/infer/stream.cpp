#include "infer/stream.hpp"

#include <algorithm>

#include "infer/cpu/kernels.hpp"
#include "infer/ops/lstm_step.hpp"

#include <cstring>

namespace tickrt::infer {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t a = 0;
  while (true) {
    const std::size_t b = s.find(sep, a);
    std::string part = s.substr(a, b == std::string::npos ? std::string::npos : b - a);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    out.push_back(part);
    if (b == std::string::npos) break;
    a = b + 1;
  }
  return out;
}

// The batch axis of a declared shape (engine.cpp batch_shapes' rule): axis 0 when dynamic, else the only
// dynamic axis; -1 when none. Dims of batch 1 into `one`.
int batch_axis(const Value& v, Dims& one) {
  one = v.shape;
  int axis = -1;
  if (!one.empty() && one[0] < 0) axis = 0;
  for (std::size_t k = 0; axis < 0 && k < one.size(); ++k)
    if (one[k] < 0) axis = static_cast<int>(k);
  for (auto& d : one)
    if (d < 0) d = 1;
  return axis;
}

constexpr std::size_t align64(std::size_t n) { return (n + 63) / 64 * 64; }

}  // namespace

bool is_streaming(const Graph& g) { return g.metadata.count("tickrt.state") != 0; }

Result<StreamSpec> parse_stream_spec(const Graph& g) {
  auto it = g.metadata.find("tickrt.state");
  if (it == g.metadata.end()) return Status(Code::not_found, "model metadata has no 'tickrt.state' key: not a streaming model");
  const std::string key = "metadata 'tickrt.state' = \"" + it->second + "\"";
  StreamSpec spec;
  auto find = [](const std::vector<int>& ids, const Graph& gr, const std::string& name) {
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (gr.values[ids[i]].name == name) return static_cast<int>(i);
    return -1;
  };
  std::vector<char> in_used(g.inputs.size(), 0), out_used(g.outputs.size(), 0);
  bool batchable = true;
  for (const auto& item : split(it->second, ',')) {
    const auto io = split(item, ':');
    if (io.size() != 2 || io[0].empty() || io[1].empty())
      return Status(Code::parse_error, key + ": pair '" + item + "' is not 'input:output'");
    StatePair p;
    p.in_name = io[0];
    p.out_name = io[1];
    p.in = find(g.inputs, g, p.in_name);
    p.out = find(g.outputs, g, p.out_name);
    if (p.in < 0) return Status(Code::not_found, key + ": '" + p.in_name + "' is not an input of the graph");
    if (p.out < 0) return Status(Code::not_found, key + ": '" + p.out_name + "' is not an output of the graph");
    if (in_used[p.in] || out_used[p.out]) return Status(Code::invalid_argument, key + ": pair '" + item + "' reuses a tensor of another pair");
    in_used[p.in] = out_used[p.out] = 1;
    const Value& vi = g.values[g.inputs[p.in]];
    const Value& vo = g.values[g.outputs[p.out]];
    if (!vi.has_shape || !vo.has_shape) return Status(Code::invalid_argument, key + ": pair '" + item + "' needs declared shapes");
    Dims di, dout;
    p.in_axis = batch_axis(vi, di);
    p.out_axis = batch_axis(vo, dout);
    const DType ti = vi.dtype == DType::undefined ? DType::f32 : vi.dtype;
    const DType to = vo.dtype == DType::undefined ? DType::f32 : vo.dtype;
    if (ti != to) return Status(Code::invalid_argument, key + ": pair '" + item + "': input and output dtypes differ");
    if (di != dout)
      return Status(Code::invalid_argument, key + ": pair '" + item + "': input shape " + dims_str(vi.shape) +
                                                " differs from output shape " + dims_str(vo.shape));
    if (p.in_axis < 0 || p.out_axis < 0) batchable = false;
    else if (p.in_axis != p.out_axis) return Status(Code::invalid_argument, key + ": pair '" + item + "': batch axes differ");
    p.bytes = static_cast<std::size_t>(numel(di)) * dtype_size(ti);
    if (p.bytes == 0) return Status(Code::invalid_argument, key + ": pair '" + item + "' has an empty state");
    spec.pairs.push_back(std::move(p));
  }
  if (spec.pairs.empty()) return Status(Code::parse_error, key + ": no state pairs");
  if (auto ip = g.metadata.find("tickrt.state_inplace"); ip != g.metadata.end()) {
    for (const auto& name : split(ip->second, ',')) {
      bool found = false;
      for (auto& p : spec.pairs)
        if (p.in_name == name) p.in_place = found = true;
      if (!found) return Status(Code::not_found, "metadata 'tickrt.state_inplace' = \"" + ip->second + "\": '" + name + "' is not a state input");
    }
  }
  if (spec.pairs.size() > kMaxStatePairs)
    return Status(Code::out_of_range, key + ": " + std::to_string(spec.pairs.size()) + " pairs, at most " + std::to_string(kMaxStatePairs));
  for (std::size_t i = 0; i < g.inputs.size(); ++i) {
    if (in_used[i]) continue;
    if (spec.x >= 0)
      return Status(Code::unsupported, key + ": inputs '" + g.values[g.inputs[spec.x]].name + "' and '" + g.values[g.inputs[i]].name +
                                           "' are both non-state: a streaming model takes exactly one (the step's features)");
    spec.x = static_cast<int>(i);
  }
  if (spec.x < 0) return Status(Code::invalid_argument, key + ": every input is state: no input for the step's features");
  const Value& vx = g.values[g.inputs[spec.x]];
  if (vx.dtype != DType::f32 && vx.dtype != DType::undefined)
    return Status(Code::unsupported, "streaming input '" + vx.name + "' must be float32");
  if (!vx.has_shape) return Status(Code::invalid_argument, "streaming input '" + vx.name + "' needs a declared shape");
  Dims dx;
  spec.x_axis = batch_axis(vx, dx);
  if (spec.x_axis < 0) batchable = false;
  spec.x_floats = static_cast<std::size_t>(numel(dx));
  for (std::size_t o = 0; o < g.outputs.size(); ++o) {
    if (out_used[o]) continue;
    const Value& vo = g.values[g.outputs[o]];
    Dims d;
    spec.results.push_back(static_cast<int>(o));
    if (!vo.has_shape) {   // an internal value exposed as an output (calibration): batch axis 0, size from the plan
      spec.result_floats.push_back(0);
      continue;
    }
    const int ax = batch_axis(vo, d);
    if (ax > 0 && batchable) return Status(Code::unsupported, "streaming output '" + vo.name + "': batch axis must be 0");
    if (ax < 0) batchable = false;
    spec.result_floats.push_back(static_cast<std::size_t>(numel(d)));
  }
  if (spec.results.empty()) return Status(Code::invalid_argument, key + ": every output is state: no result output");
  if (spec.x_axis > 0 && batchable) return Status(Code::unsupported, "streaming input '" + vx.name + "': batch axis must be 0");
  spec.batchable = batchable;
  if (auto w = g.metadata.find("tickrt.warmup"); w != g.metadata.end()) {
    char* end = nullptr;
    const long long v = std::strtoll(w->second.c_str(), &end, 10);
    if (w->second.empty() || *end != '\0' || v < 0 || v > 100'000'000)
      return Status(Code::parse_error, "metadata 'tickrt.warmup' = \"" + w->second + "\" is not a step count (0 .. 1e8)");
    spec.warmup = static_cast<std::uint32_t>(v);
  }
  return spec;
}

Result<std::unique_ptr<StreamContext>> StreamContext::create(std::shared_ptr<const Engine> engine, const StreamSpec& spec,
                                                             const StreamOptions& opt) {
  if (!engine) return Status(Code::invalid_argument, "StreamContext: no engine");
  if (opt.slots < 1 || opt.slots > (1 << 20)) return Status(Code::out_of_range, "StreamContext: slots must be 1 .. 2^20");
  if (opt.max_batch < 1) return Status(Code::out_of_range, "StreamContext: max_batch must be >= 1");
  if (opt.max_batch > 1 && !spec.batchable)
    return Status(Code::unsupported, "StreamContext: max_batch " + std::to_string(opt.max_batch) +
                                         " but the model has fixed-size (batch 1) tensors: export it with a dynamic batch axis");
  if (opt.max_batch > engine->profile().max)
    return Status(Code::out_of_range, "StreamContext: max_batch " + std::to_string(opt.max_batch) + " is above the engine's profile max " +
                                          std::to_string(engine->profile().max));
  std::unique_ptr<StreamContext> sc(new StreamContext());
  sc->engine_ = engine;
  sc->ctx_ = std::make_unique<ExecutionContext>(engine);
  sc->spec_ = spec;
  sc->nslots_ = opt.slots;
  sc->max_batch_ = opt.max_batch;
  sc->warmup_ = spec.warmup;
  for (int b = 1; b <= opt.max_batch; ++b) {
    auto st = sc->ctx_->prepare_batch(b);
    if (!st.ok()) return st.with_context("streaming context, batch " + std::to_string(b));
  }
  // Check the plan's tensors against the spec (sizes at batch 1) and derive the gather/scatter splits.
  if (sc->ctx_->select_batch(1) != Code::ok) return Status(Code::internal, "StreamContext: batch 1 plan missing");
  const Plan& p1 = sc->ctx_->plan();
  auto split_of = [](const Dims& d, int axis, std::size_t elem) {
    Split s;
    s.inner = elem;
    for (int k = 0; k < static_cast<int>(d.size()); ++k) {
      if (k < axis) s.outer *= static_cast<std::size_t>(d[static_cast<std::size_t>(k)]);
      else if (k > axis) s.inner *= static_cast<std::size_t>(d[static_cast<std::size_t>(k)]);
    }
    return s;
  };
  std::size_t off = 0;
  for (const auto& pr : spec.pairs) {
    const TensorRef& ti = p1.tensors[p1.inputs[static_cast<std::size_t>(pr.in)]];
    const TensorRef& to = p1.tensors[p1.outputs[static_cast<std::size_t>(pr.out)]];
    const std::size_t bi = static_cast<std::size_t>(ti.numel) * dtype_size(ti.dtype);
    const std::size_t bo = static_cast<std::size_t>(to.numel) * dtype_size(to.dtype);
    if (bi != pr.bytes || bo != pr.bytes || ti.dtype != to.dtype)
      return Status(Code::invalid_argument, "state pair '" + pr.in_name + ":" + pr.out_name + "': the planned tensors (" + dims_str(ti.dims) +
                                                ", " + dims_str(to.dims) + ") do not match the declared state of " + std::to_string(pr.bytes) + " bytes");
    sc->pair_off_.push_back(off);
    sc->pair_size_.push_back(align64(pr.bytes));
    off += (pr.in_place ? 1 : 2) * align64(pr.bytes);
    sc->in_split_.push_back(split_of(ti.dims, pr.in_axis < 0 ? 0 : pr.in_axis, dtype_size(ti.dtype)));
    sc->out_split_.push_back(split_of(to.dims, pr.out_axis < 0 ? 0 : pr.out_axis, dtype_size(to.dtype)));
  }
  sc->slot_stride_ = off;
  for (std::size_t r = 0; r < sc->spec_.results.size(); ++r) {   // result sizes as planned (batch 1)
    const TensorRef& t = p1.tensors[p1.outputs[static_cast<std::size_t>(sc->spec_.results[r])]];
    sc->spec_.result_floats[r] = static_cast<std::size_t>(t.numel);
  }
  sc->x_row_bytes_ = spec.x_floats * sizeof(float);
  const TensorRef& tx = p1.tensors[p1.inputs[static_cast<std::size_t>(spec.x)]];
  if (static_cast<std::size_t>(tx.numel) != spec.x_floats)
    return Status(Code::invalid_argument, "streaming input: planned " + dims_str(tx.dims) + " != declared " + std::to_string(spec.x_floats) + " floats");
  // prepare(): the one-row LSTM kernels of the batch-1 plan whose initial h is a state input.
  for (const Kernel& k : p1.steps) {
    ops::LstmStepInfo li;
    if (!ops::fused_lstm_step_info(k, li)) continue;
    for (std::size_t p = 0; p < spec.pairs.size(); ++p) {
      if (li.h0 != &p1.tensors[p1.inputs[static_cast<std::size_t>(spec.pairs[p].in)]]) continue;
      PreLstm e{&k, p, li.h0_off, li.I, li.H, li.isa, li.packed, sc->pre_floats_};
      sc->pre_floats_ += (cpu::lstm_pre_floats(li.isa, li.I, li.H) + 15) / 16 * 16;   // 64-byte aligned blocks
      sc->pre_lstm_.push_back(e);
      break;
    }
  }
  sc->pre_ = AlignedBytes::allocate(std::max<std::size_t>(sc->pre_floats_, 16) * sizeof(float) * static_cast<std::size_t>(opt.slots));
  sc->pre_valid_.assign(static_cast<std::size_t>(opt.slots), 0);
  sc->slots_ = AlignedBytes::allocate(off * static_cast<std::size_t>(opt.slots));   // zero-filled: every slot starts reset
  sc->cur_.assign(static_cast<std::size_t>(opt.slots), 0);
  sc->steps_.assign(static_cast<std::size_t>(opt.slots), 0);
  return sc;
}

void StreamContext::reset(int slot) noexcept {
  if (slot < 0 || slot >= nslots_) return;
  std::memset(slots_.ptr.get() + static_cast<std::size_t>(slot) * slot_stride_, 0, slot_stride_);
  cur_[static_cast<std::size_t>(slot)] = 0;
  steps_[static_cast<std::size_t>(slot)] = 0;
  pre_valid_[static_cast<std::size_t>(slot)] = 0;
}

bool StreamContext::prepare(int slot) noexcept {
  if (slot < 0 || slot >= nslots_ || pre_lstm_.empty() || pre_valid_[static_cast<std::size_t>(slot)]) return false;
  float* pre = reinterpret_cast<float*>(pre_.ptr.get()) + static_cast<std::size_t>(slot) * pre_floats_;
  const int cur = cur_[static_cast<std::size_t>(slot)];
  for (const PreLstm& e : pre_lstm_) {
    const float* h = reinterpret_cast<const float*>(buf(slot, e.pair, cur)) + e.h0_off;
    cpu::lstm_recurrent_pre(e.isa, e.I, e.H, e.packed, h, pre + e.pre_off);
  }
  pre_valid_[static_cast<std::size_t>(slot)] = 1;
  return true;
}

const std::byte* StreamContext::state(int slot, std::size_t p) const noexcept {
  if (slot < 0 || slot >= nslots_ || p >= spec_.pairs.size()) return nullptr;
  return buf(slot, p, cur_[static_cast<std::size_t>(slot)]);
}

Code StreamContext::step(int slot, const float* x) noexcept { return step_impl(slot, x, nullptr); }

Code StreamContext::step_profiled(int slot, const float* x, std::vector<std::int64_t>& ns) noexcept { return step_impl(slot, x, &ns); }

Code StreamContext::step_impl(int slot, const float* x, std::vector<std::int64_t>* prof) noexcept {
  if (slot < 0 || slot >= nslots_) return Code::out_of_range;
  if (const Code c = ctx_->select_batch(1); c != Code::ok) return c;
  const int cur = cur_[static_cast<std::size_t>(slot)];
  const std::size_t np = spec_.pairs.size();
  for (std::size_t p = 0; p < np; ++p) {
    ctx_->bind_input(static_cast<std::size_t>(spec_.pairs[p].in), buf(slot, p, cur));
    ctx_->bind_output(static_cast<std::size_t>(spec_.pairs[p].out), buf(slot, p, cur ^ 1));
  }
  std::memcpy(ctx_->input(static_cast<std::size_t>(spec_.x)), x, x_row_bytes_);
  const bool pre = pre_valid_[static_cast<std::size_t>(slot)] != 0;
  if (!pre_lstm_.empty()) {
    const float* base = reinterpret_cast<const float*>(pre_.ptr.get()) + static_cast<std::size_t>(slot) * pre_floats_;
    for (const PreLstm& e : pre_lstm_) ops::fused_lstm_bind_pre(*e.k, pre ? base + e.pre_off : nullptr);
  }
  if (const Code c = prof ? ctx_->run_profiled(*prof) : ctx_->run(); c != Code::ok) return c;   // state unchanged on failure (buffers not flipped)
  prepared_steps_ += pre ? 1 : 0;
  pre_valid_[static_cast<std::size_t>(slot)] = 0;
  cur_[static_cast<std::size_t>(slot)] = static_cast<std::uint8_t>(cur ^ 1);
  ++steps_[static_cast<std::size_t>(slot)];
  return Code::ok;
}

Code StreamContext::step_batch(const int* slots, int n, const float* xs) noexcept {
  if (n == 1) return step(slots[0], xs);
  if (n < 1 || n > max_batch_) return Code::out_of_range;
  for (int i = 0; i < n; ++i) {
    if (slots[i] < 0 || slots[i] >= nslots_) return Code::out_of_range;
    for (int j = 0; j < i; ++j)
      if (slots[j] == slots[i]) return Code::invalid_argument;   // one step per slot per batch
  }
  if (const Code c = ctx_->select_batch(n); c != Code::ok) return c;
  const std::size_t np = spec_.pairs.size();
  const std::size_t nb = static_cast<std::size_t>(n);
  // Gather: slot i's state chunk o goes to batch row (o * n + i).
  for (std::size_t p = 0; p < np; ++p) {
    auto* dst = static_cast<std::byte*>(ctx_->input_data(static_cast<std::size_t>(spec_.pairs[p].in)));
    const Split s = in_split_[p];
    for (std::size_t i = 0; i < nb; ++i) {
      const std::byte* src = buf(slots[i], p, cur_[static_cast<std::size_t>(slots[i])]);
      for (std::size_t o = 0; o < s.outer; ++o) std::memcpy(dst + (o * nb + i) * s.inner, src + o * s.inner, s.inner);
    }
  }
  std::memcpy(ctx_->input(static_cast<std::size_t>(spec_.x)), xs, x_row_bytes_ * nb);
  if (const Code c = ctx_->run(); c != Code::ok) return c;
  for (std::size_t p = 0; p < np; ++p) {
    const auto* src = static_cast<const std::byte*>(ctx_->output_data(static_cast<std::size_t>(spec_.pairs[p].out)));
    const Split s = out_split_[p];
    for (std::size_t i = 0; i < nb; ++i) {
      std::byte* dst = buf(slots[i], p, cur_[static_cast<std::size_t>(slots[i])] ^ 1);
      for (std::size_t o = 0; o < s.outer; ++o) std::memcpy(dst + o * s.inner, src + (o * nb + i) * s.inner, s.inner);
    }
  }
  for (std::size_t i = 0; i < nb; ++i) {
    auto& c = cur_[static_cast<std::size_t>(slots[i])];
    c = static_cast<std::uint8_t>(c ^ 1);
    pre_valid_[static_cast<std::size_t>(slots[i])] = 0;   // the batch plan ran the whole step; the state moved
    ++steps_[static_cast<std::size_t>(slots[i])];
  }
  return Code::ok;
}

}  // namespace tickrt::infer
