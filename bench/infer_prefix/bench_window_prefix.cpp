// bench_window_prefix: per-inference latency of a window model run whole (ExecutionContext::run, the
// peer) against WindowPrefix's split: precompute() (off the tick's path: between ticks) and run_last()
// (on it), in the same run, on real sliding windows (models/trained/parity_x.npy laid end to end).
//   taskset -c 1 build/bin/bench_window_prefix [--model models/trained/lstm_attn_s/model.onnx] [--iters 20000]
//                                               [--cold]   (evict the caches before every timed call, as
//                                                           ticks 100 ms apart find them)
// Prints one JSON line per row: {"row": "full"|"precompute"|"run_last", "median_us", "p99_us", ...}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "infer/engine.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/window_prefix.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {
double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
struct Stats { double median, p99, mean; };
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double s = 0;
  for (double x : v) s += x;
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], s / static_cast<double>(v.size())};
}
std::vector<char> g_evict(32u << 20);
void evict() {  // read+write 32 MiB: the L1/L2 (and most of what the model had in L3's share) are gone
  for (std::size_t i = 0; i < g_evict.size(); i += 64) g_evict[i] = static_cast<char>(g_evict[i] + 1);
}
}  // namespace

int main(int argc, char** argv) {
  std::string model = "models/trained/lstm_attn_s/model.onnx";
  int iters = 20000;
  bool cold = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model = argv[++i];
    else if (a == "--iters" && i + 1 < argc) iters = std::max(100, std::atoi(argv[++i]));
    else if (a == "--cold") cold = true;
    else { std::fprintf(stderr, "usage: bench_window_prefix [--model m.onnx] [--iters N] [--cold]\n"); return 2; }
  }
  auto g = import_onnx_file(model);
  if (!g.ok()) { std::fprintf(stderr, "%s\n", g.status().to_string().c_str()); return 1; }
  BuildOptions bo;
  bo.batch = {1, 1, 1};
  auto e = Engine::build(std::move(*g), bo);
  if (!e.ok()) { std::fprintf(stderr, "%s\n", e.status().to_string().c_str()); return 1; }
  ExecutionContext ctx(*e);
  if (auto st = ctx.prepare_batch(1); !st.ok()) { std::fprintf(stderr, "%s\n", st.to_string().c_str()); return 1; }
  auto wp = WindowPrefix::create(ctx);
  if (!wp.ok()) { std::fprintf(stderr, "%s\n", wp.status().to_string().c_str()); return 1; }
  auto x = read_npy("models/trained/parity_x.npy");
  if (!x.ok()) { std::fprintf(stderr, "%s\n", x.status().to_string().c_str()); return 1; }
  const std::vector<float> rows = x->to_f32();
  const int T = (*wp)->window(), F = (*wp)->row_width();
  const int nwin = static_cast<int>(rows.size() / F) - T;
  if (F != x->dims[2] || nwin < 1) { std::fprintf(stderr, "parity_x.npy rows do not fit the model\n"); return 1; }
  std::vector<double> full, pre, last;
  full.reserve(iters); pre.reserve(iters); last.reserve(iters);
  float sink = 0;
  for (int it = -200; it < iters; ++it) {  // 200 warm-up rounds
    const float* w = rows.data() + static_cast<std::size_t>((it + 200) % nwin) * F;
    std::memcpy(ctx.input(0), w, sizeof(float) * T * F);
    if (cold) evict();
    double t0 = now_us();
    (void)ctx.run();
    double t1 = now_us();
    sink += ctx.output(0)[0];
    if (cold) evict();
    const double t2 = now_us();
    (*wp)->precompute(w);
    const double t3 = now_us();
    if (cold) evict();
    const double t4 = now_us();
    (void)(*wp)->run_last(w + static_cast<std::size_t>(T - 1) * F);
    const double t5 = now_us();
    sink -= ctx.output(0)[0];  // same window: ~0
    if (it >= 0) { full.push_back(t1 - t0); pre.push_back(t3 - t2); last.push_back(t5 - t4); }
  }
  const char* names[] = {"full", "precompute", "run_last"};
  std::vector<double>* v[] = {&full, &pre, &last};
  const Stats sf = stats(full);
  for (int i = 0; i < 3; ++i) {
    const Stats s = stats(*v[i]);
    std::printf("{\"row\": \"%s\", \"model\": \"%s\", \"cold\": %s, \"median_us\": %.3f, \"p99_us\": %.3f, \"mean_us\": %.3f, "
                "\"iters\": %d, \"full_over_this\": %.2f}\n",
                names[i], model.c_str(), cold ? "true" : "false", s.median, s.p99, s.mean, iters, sf.median / s.median);
  }
  std::fprintf(stderr, "check (full - split of the last window's logit 0, summed): %g\n", sink);
  return 0;
}
