// bench_stream: per-tick latency of streaming inference (issue 10 item 5) on one core.
//   taskset -c 1 build/bin/bench_stream [--seconds 3] [--profile] [--stream models/lstm_attn_stream/model.onnx]
//                                      [--window models/trained/lstm_attn_s/model.onnx | none] [--batch 1] [--by-tick]
// Rows: "stream_step" = StreamContext::step of lstm_attn_stream (one step, state in the slot) over the
// 10,000 real ticks of tests/infer_stream/data (cycled; the slot is reset when the data wraps);
// "window" = ExecutionContext::run of the windowed model on a [1, 64, F] window (recomputing the whole
// window per tick, what lstm_attn_s costs); "stream_batch" = step_batch of --batch symbols (per call
// and per symbol). Each tick is timed on its own (now_ns around the call); median / p99 / max of those.
// --by-tick: whether the step's tail follows the data (same ticks slow on every pass) or not, and two
//   controls timed the same way (a register-only FMA chain of the step's median length; a 320 KiB read), so a
//   tail that belongs to the core shows in them too. BENCH_STREAM_DUMP=file: the raw per-step ns (int64).
// --profile: the step graph's per-kernel time (run_profiled), to show what the step costs.
// "stream_step_prepared": the same step after StreamContext::prepare (untimed, between the timed steps, as the
// pipeline does between ticks); "stream_prepare": the prepare alone.
// One JSON line per row on stdout, like the engine-vs-peers runner (tools/bench/README.md).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/stream.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {

struct Stats { double median_us = 0, p99_us = 0, max_us = 0; std::size_t n = 0; };
Stats stats(std::vector<std::int64_t>& ns) {
  std::sort(ns.begin(), ns.end());
  Stats s;
  s.n = ns.size();
  s.median_us = ns[ns.size() / 2] / 1e3;
  s.p99_us = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)] / 1e3;
  s.max_us = ns.back() / 1e3;
  return s;
}

void print(const char* impl, const char* what, const std::string& model, int batch, const Stats& s, const char* extra = "") {
  std::printf("{\"impl\": \"%s\", \"row\": \"%s\", \"model\": \"%s\", \"batch\": %d, \"threads\": 1, \"median_us\": %.3f, "
              "\"p99_us\": %.3f, \"max_us\": %.3f, \"iters\": %zu%s}\n",
              impl, what, model.c_str(), batch, s.median_us, s.p99_us, s.max_us, s.n, extra);
  std::fflush(stdout);
}

std::shared_ptr<const Engine> build(const std::string& path, std::int64_t max_batch) {
  auto g = import_onnx_file(path);
  if (!g.ok()) { std::fprintf(stderr, "%s\n", g.status().to_string().c_str()); return nullptr; }
  BuildOptions bo;
  bo.batch = {1, 1, std::max<std::int64_t>(2, max_batch)};
  auto e = Engine::build(std::move(*g), bo);
  if (!e.ok()) { std::fprintf(stderr, "%s\n", e.status().to_string().c_str()); return nullptr; }
  return *e;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root = TICKRT_SOURCE_DIR;
  std::string stream_path = root + "/models/lstm_attn_stream/model.onnx";
  std::string window_path = root + "/models/trained/lstm_attn_s/model.onnx";
  std::string data = root + "/tests/infer_stream/data/real10k_x.npy";
  double seconds = 3;
  int batch = 4;
  bool profile = false;
  bool by_tick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--seconds") seconds = std::stod(next());
    else if (a == "--stream") stream_path = next();
    else if (a == "--window") window_path = next();
    else if (a == "--data") data = next();
    else if (a == "--batch") batch = std::stoi(next());
    else if (a == "--profile") profile = true;
    else if (a == "--by-tick") by_tick = true;
    else { std::fprintf(stderr, "usage: see the header of bench/infer_stream/bench_stream.cpp (unknown %s)\n", a.c_str()); return 2; }
  }
  auto xs = read_npy(data);
  if (!xs.ok()) { std::fprintf(stderr, "%s\n", xs.status().to_string().c_str()); return 1; }
  const std::size_t T = static_cast<std::size_t>(xs->dims[0]), F = static_cast<std::size_t>(xs->dims[1]);
  const std::int64_t budget_ns = static_cast<std::int64_t>(seconds * 1e9);

  // --- streaming step ---
  auto se = build(stream_path, batch);
  if (!se) return 1;
  auto spec = parse_stream_spec(se->graph());
  if (!spec.ok()) { std::fprintf(stderr, "%s\n", spec.status().to_string().c_str()); return 1; }
  auto sc = StreamContext::create(se, *spec, {std::max(batch, 1), batch});
  if (!sc.ok()) { std::fprintf(stderr, "%s\n", sc.status().to_string().c_str()); return 1; }
  StreamContext& s = **sc;
  std::vector<std::int64_t> ns;
  ns.reserve(4'000'000);
  // Slot 0 stepped over the real ticks for the time budget (reset when the data wraps), each step timed alone into
  // ns; with `prep`, each step's StreamContext::prepare runs untimed before it and is timed into *prep.
  auto time_steps = [&](std::vector<std::int64_t>* prep) -> bool {
    ns.clear();
    s.reset(0);
    const std::int64_t end = now_ns() + budget_ns;
    std::size_t t = 0;
    while (now_ns() < end && ns.size() < ns.capacity()) {
      if (t == T) { t = 0; s.reset(0); }
      if (prep) {
        const std::int64_t p0 = now_ns();
        const bool did = s.prepare(0);
        const std::int64_t p1 = now_ns();
        if (did) prep->push_back(p1 - p0);
      }
      const float* x = xs->as<float>() + t * F;
      const std::int64_t t0 = now_ns();
      const Code c = s.step(0, x);
      const std::int64_t t1 = now_ns();
      if (c != Code::ok) return false;
      ns.push_back(t1 - t0);
      ++t;
    }
    return true;
  };
  {
    for (std::size_t t = 0; t < 2000; ++t)   // warm caches and the branch predictors
      if (s.step(0, xs->as<float>() + (t % T) * F) != Code::ok) return 1;
    if (!time_steps(nullptr)) return 1;
    std::vector<std::int64_t> raw;   // in step order (stats() sorts ns in place)
    if (by_tick) raw = ns;
    print("tickrt", "stream_step", "lstm_attn_stream", 1, stats(ns));
    if (by_tick) {
      // Is the tail tied to the data (the same ticks slow on every pass over the T rows: data-dependent work,
      // a reset) or spread at random (interrupts, preemption)? Per tick index: the median over passes.
      std::vector<std::int64_t> sorted(raw);
      std::sort(sorted.begin(), sorted.end());
      const std::int64_t med = sorted[sorted.size() / 2], p99 = sorted[sorted.size() * 99 / 100];
      const std::size_t passes = raw.size() / T;
      std::vector<std::int64_t> per_tick(T);
      std::size_t ticks_slow = 0, steps_slow = 0;
      std::size_t over2x = 0;   // steps taking more than twice the median (compare with interrupts on the core)
      for (std::size_t i = 0; i < raw.size(); ++i) { steps_slow += raw[i] >= p99; over2x += raw[i] > 2 * med; }
      std::vector<std::int64_t> v;
      for (std::size_t t = 0; t < T && passes > 0; ++t) {
        v.clear();
        for (std::size_t p = 0; p < passes; ++p) v.push_back(raw[p * T + t]);
        std::sort(v.begin(), v.end());
        per_tick[t] = v[v.size() / 2];
        ticks_slow += per_tick[t] >= p99;
      }
      std::sort(per_tick.begin(), per_tick.end());
      if (const char* dump = std::getenv("BENCH_STREAM_DUMP")) {   // raw per-step ns (int64) for offline looks
        if (std::FILE* f = std::fopen(dump, "wb")) { std::fwrite(raw.data(), sizeof(std::int64_t), raw.size(), f); std::fclose(f); }
      }
      std::fprintf(stderr,
                   "  by tick: %zu full passes over %zu ticks; step median %.3f us, p99 %.3f us; %zu steps >= p99;\n"
                   "  per-tick medians over passes: median %.3f, p99 %.3f, max %.3f us; %zu ticks whose median is >= p99;\n"
                   "  first step after a reset (tick 0) median %.3f us; %zu steps > 2x median (%.1f per second)\n",
                   passes, T, med / 1e3, p99 / 1e3, steps_slow, per_tick[T / 2] / 1e3, per_tick[T * 99 / 100] / 1e3,
                   per_tick[T - 1] / 1e3, ticks_slow, passes ? [&] { v.clear(); for (std::size_t p = 0; p < passes; ++p) v.push_back(raw[p * T]); std::sort(v.begin(), v.end()); return v[v.size() / 2] / 1e3; }() : 0.0,
                   over2x, static_cast<double>(over2x) / seconds);
      // Control: a fixed chain of dependent FMAs (no memory traffic), sized to the step's median, timed the same
      // way on the same core. If it shows the same tail, the tail belongs to the core, not to the step.
      volatile float seed = 1.0f;
      auto chain = [&](int n) { float a = seed, b = 0.9999f; for (int i = 0; i < n; ++i) a = a * b + 1e-7f; return a; };
      int n = 1000;
      for (;;) {   // calibrate n to the step median
        const std::int64_t c0 = now_ns();
        volatile float r = chain(n);
        (void)r;
        if (now_ns() - c0 >= med || n > (1 << 26)) break;
        n *= 2;
      }
      std::vector<std::int64_t> cn;
      cn.reserve(raw.size());
      const std::int64_t cend = now_ns() + budget_ns;
      while (now_ns() < cend && cn.size() < cn.capacity()) {
        const std::int64_t t0 = now_ns();
        volatile float r = chain(n);
        const std::int64_t t1 = now_ns();
        (void)r;
        cn.push_back(t1 - t0);
      }
      std::size_t c_over2x = 0;
      std::sort(cn.begin(), cn.end());
      const std::int64_t cmed = cn[cn.size() / 2];
      for (std::int64_t x : cn) c_over2x += x > 2 * cmed;
      std::fprintf(stderr, "  control (%d dependent FMAs): median %.3f us, p99 %.3f us, p99.9 %.3f us; %.2f %% > 2x median (step: %.2f %%)\n",
                   n, cmed / 1e3, cn[cn.size() * 99 / 100] / 1e3, cn[cn.size() * 999 / 1000] / 1e3,
                   100.0 * static_cast<double>(c_over2x) / static_cast<double>(cn.size()),
                   100.0 * static_cast<double>(over2x) / static_cast<double>(raw.size()));
      // Second control: read a buffer of the step's weight footprint (~290 KB of packed weights, the ring and
      // arena: 320 KiB) per iteration, as the step does; if this one shares the step's tail, the tail is the
      // cache being disturbed (another core / tenant), which only a smaller footprint would dodge.
      std::vector<float> buf(320 * 1024 / sizeof(float), 1.0f);
      cn.clear();
      const std::int64_t mend = now_ns() + budget_ns;
      while (now_ns() < mend && cn.size() < cn.capacity()) {
        const std::int64_t t0 = now_ns();
        float acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
        for (std::size_t i = 0; i + 3 < buf.size(); i += 4) { acc0 += buf[i]; acc1 += buf[i + 1]; acc2 += buf[i + 2]; acc3 += buf[i + 3]; }
        volatile float r = acc0 + acc1 + acc2 + acc3;
        const std::int64_t t1 = now_ns();
        (void)r;
        cn.push_back(t1 - t0);
      }
      std::sort(cn.begin(), cn.end());
      const std::int64_t mmed = cn[cn.size() / 2];
      std::size_t m_over2x = 0;
      for (std::int64_t x : cn) m_over2x += x > 2 * mmed;
      std::fprintf(stderr, "  control (read 320 KiB): median %.3f us, p99 %.3f us, p99.9 %.3f us; %.2f %% > 2x median\n",
                   mmed / 1e3, cn[cn.size() * 99 / 100] / 1e3, cn[cn.size() * 999 / 1000] / 1e3,
                   100.0 * static_cast<double>(m_over2x) / static_cast<double>(cn.size()));
    }
  }
  {
    // "stream_step_prepared": the tick's part when the pipeline prepared the slot between ticks
    // (StreamContext::prepare: each LSTM layer's h @ R^T, what InferStage::idle runs after a step) — the prepare
    // untimed before each timed step; "stream_prepare": that between-ticks part alone.
    std::vector<std::int64_t> prep;
    prep.reserve(ns.capacity());
    if (!time_steps(&prep)) return 1;
    if (!prep.empty()) {
      print("tickrt", "stream_step_prepared", "lstm_attn_stream", 1, stats(ns));
      print("tickrt", "stream_prepare", "lstm_attn_stream", 1, stats(prep));
    }
  }
  if (profile) {
    // Per-kernel time of the real step: slot 0 stepped over the real ticks (reset when the data wraps), so every
    // kernel sees the state and activations it sees in stream_step. (A separate context run on its unset
    // inputs, as before 2026-11-29 session 15, fed WeightedSum denormal garbage: 0.6 us there, 0.09 us here.)
    if (s.step(0, xs->as<float>()) != Code::ok) return 1;   // selects the batch-1 plan
    const Plan* plan = &s.exec().plan();
    const std::size_t nk = plan->steps.size();
    std::vector<std::int64_t> k;
    const int reps = 20000;
    std::vector<std::vector<std::int64_t>> per(nk);
    for (int r = 0; r < reps; ++r) {
      const std::size_t t = static_cast<std::size_t>(r) % T;
      if (t == 0) s.reset(0);
      k.assign(nk, 0);
      if (s.step_profiled(0, xs->as<float>() + t * F, k) != Code::ok) return 1;
      for (std::size_t i = 0; i < nk; ++i) per[i].push_back(k[i]);
    }
    double sum = 0;
    for (std::size_t i = 0; i < nk; ++i) {
      const Kernel& kk = plan->steps[i];
      std::sort(per[i].begin(), per[i].end());
      const double med = per[i][per[i].size() / 2] / 1e3;
      sum += med;
      std::fprintf(stderr, "  %-28s %-40s %8.3f us (median)\n", kk.node->op.c_str(), kk.node->name.c_str(), med);
    }
    std::fprintf(stderr, "  sum of kernel medians %.3f us (each includes one clock read)\n", sum);
  }
  // --- batch across symbols ---
  if (batch > 1) {
    std::vector<int> slots(static_cast<std::size_t>(batch));
    std::vector<float> xb(static_cast<std::size_t>(batch) * F);
    for (int i = 0; i < batch; ++i) { slots[static_cast<std::size_t>(i)] = i; s.reset(i); }
    ns.clear();
    const std::int64_t end = now_ns() + budget_ns;
    std::size_t t = 0;
    while (now_ns() < end && ns.size() < ns.capacity()) {
      for (int i = 0; i < batch; ++i)
        std::memcpy(&xb[static_cast<std::size_t>(i) * F], xs->as<float>() + ((t + 97 * static_cast<std::size_t>(i)) % T) * F, F * sizeof(float));
      const std::int64_t t0 = now_ns();
      const Code c = s.step_batch(slots.data(), batch, xb.data());
      const std::int64_t t1 = now_ns();
      if (c != Code::ok) return 1;
      ns.push_back(t1 - t0);
      if (++t == T) { t = 0; for (int i = 0; i < batch; ++i) s.reset(i); }
    }
    Stats st = stats(ns);
    char extra[96];
    std::snprintf(extra, sizeof extra, ", \"per_symbol_median_us\": %.3f", st.median_us / batch);
    print("tickrt", "stream_batch", "lstm_attn_stream", batch, st, extra);
  }
  // --- windowed model: the whole 64-row window recomputed per tick ---
  if (window_path == "none") return 0;   // --window none: the streaming rows only
  auto we = build(window_path, 1);
  if (!we) return 1;
  ExecutionContext ctx(we);
  if (!ctx.prepare_batch(1).ok()) return 1;
  const std::size_t win = static_cast<std::size_t>(numel(ctx.input_dims(0)));
  const std::size_t rows = win / F;
  if (rows * F != win) { std::fprintf(stderr, "window model input %zu floats is not [T, %zu]\n", win, F); return 1; }
  ns.clear();
  {
    const std::int64_t end = now_ns() + budget_ns;
    std::size_t t = 0;
    while (now_ns() < end && ns.size() < ns.capacity()) {
      if (t + rows > T) t = 0;
      std::memcpy(ctx.input(0), xs->as<float>() + t * F, win * sizeof(float));   // the tick's window (not timed)
      const std::int64_t t0 = now_ns();
      const Code c = ctx.run();
      const std::int64_t t1 = now_ns();
      if (c != Code::ok) return 1;
      ns.push_back(t1 - t0);
      ++t;
    }
    print("tickrt", "window", "lstm_attn_s", 1, stats(ns));
  }
  return 0;
}
