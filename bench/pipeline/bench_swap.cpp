// bench_pipeline_swap: what a hot swap costs the inference path.
//
// A producer thread enqueues one model-input window every --period-us into a 1024-slot ring (the
// feed side of pipelined mode); the inference thread (this bench's main loop, InferStage::poll
// with batch 1) runs them and records enqueue -> result latency for each. After a baseline of
// --baseline-s seconds the ModelSwapper is asked to rebuild the SAME model file --swaps times (so
// the model's own speed does not change; only the swap machinery and the cold new weights can
// add latency). Reported: latency percentiles outside and inside swap windows (request ->
// adoption + 50 ms), the first inference on each newly adopted engine, and windows dropped
// because the ring was full (the goal: <= 50 us added, zero dropped).
//
//   build/bin/bench_pipeline_swap [--model models/trained/lstm_attn_s/model.onnx] [--swaps 5]
//                                 [--period-us 500] [--baseline-s 2] [--cpu-infer -1] [--cpu-feed -1]
//                                 [--swap-warm 1] [--keep-warm off|touch|infer]
// --swap-warm 1 (the pipeline's default, [model] swap_warm): the inference thread reads the new
// engine's weights and arena (WarmSet, pipeline/warm.hpp) in slices between windows before adopting
// it; 0: adopted at the next window, cold (the behaviour before). The idle hook is InferStage::idle(),
// called when poll() found nothing, as the pipeline's threads do.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/latency_histogram.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/model.hpp"
#include "pipeline/threads.hpp"

using namespace tickrt;
using namespace tickrt::pipeline;

int main(int argc, char** argv) {
  std::string model = "models/trained/lstm_attn_s/model.onnx";
  int swaps = 5, period_us = 500, cpu_infer = -1, cpu_feed = -1, swap_warm = 1;
  std::string keep_warm = "off";
  double baseline_s = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--model") model = argv[i + 1];
    else if (a == "--swaps") swaps = std::atoi(argv[i + 1]);
    else if (a == "--period-us") period_us = std::atoi(argv[i + 1]);
    else if (a == "--baseline-s") baseline_s = std::atof(argv[i + 1]);
    else if (a == "--cpu-infer") cpu_infer = std::atoi(argv[i + 1]);
    else if (a == "--cpu-feed") cpu_feed = std::atoi(argv[i + 1]);
    else if (a == "--swap-warm") swap_warm = std::atoi(argv[i + 1]);
    else if (a == "--keep-warm") keep_warm = argv[i + 1];
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  ModelOptions mo;
  mo.path = model;
  mo.max_batch = 1;
  auto m = load_model(mo);
  if (!m.ok()) { std::fprintf(stderr, "%s\n", m.status().to_string().c_str()); return 1; }
  auto inst = make_instance(m.value(), 1);
  if (!inst.ok()) { std::fprintf(stderr, "%s\n", inst.status().to_string().c_str()); return 1; }
  ModelSlot slot(std::move(inst.value()));
  ModelSwapper sw(mo, m.value(), {&slot}, false, 50);
  sw.start();
  auto clk = TscClock::calibrate();
  if (!clk.ok()) { std::fprintf(stderr, "%s\n", clk.status().to_string().c_str()); return 1; }
  const TscClock clock = clk.value();
  InferStage stage(slot, BatchConfig{1, 0, false}, clock);
  slot.set_swap_warm(swap_warm != 0, 50'000'000);
  stage.set_warm({keep_warm == "touch" ? KeepWarm::touch : keep_warm == "infer" ? KeepWarm::infer : KeepWarm::off, 1'000'000, 64});
  auto in = std::make_unique<SpscRing<InferRequest>>(1024);
  auto out = std::make_unique<SpscRing<InferResult>>(1 << 16);
  std::vector<float> window(m.value()->in_floats);
  for (std::size_t i = 0; i < window.size(); ++i) window[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> pushed{0}, dropped{0};
  std::atomic<bool> in_swap{false};
  std::thread producer([&] {
    (void)pin_current_thread(cpu_feed, "bench-feed");
    SampleMeta meta;
    meta.symbol = 0;
    auto next = std::chrono::steady_clock::now();
    while (!stop.load()) {
      next += std::chrono::microseconds(period_us);
      meta.md_seq = pushed.load() + 1;
      meta.t.feat = in_swap.load(std::memory_order_relaxed) ? 1 : 0;  // tag: enqueued during a swap window
      if (in->try_emplace(meta, std::span<const float>(window))) pushed.fetch_add(1);
      else dropped.fetch_add(1);
      std::this_thread::sleep_until(next);
    }
  });
  (void)pin_current_thread(cpu_infer, "bench-infer");
  LatencyHistogram base, during, first_after;
  std::uint64_t results = 0, last_version = slot.running_version();
  bool await_first = false;
  auto drain = [&] {
    InferResult r;
    while (out->try_pop(r)) {
      ++results;
      const std::int64_t ns = clock.ticks_to_ns(static_cast<std::int64_t>(r.infer_end - r.enqueue_tsc));
      if (await_first && r.model_version != last_version) {
        first_after.record(ns);
        last_version = r.model_version;
        await_first = false;
      }
      (r.meta.t.feat ? during : base).record(ns);
    }
  };
  auto run_for = [&](std::chrono::nanoseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (stage.poll(*in, *out) == 0) {
        stage.idle();
        cpu_relax();
      }
      drain();
    }
  };
  run_for(std::chrono::milliseconds(static_cast<int>(baseline_s * 1000)));
  std::vector<double> build_ms;
  for (int k = 0; k < swaps; ++k) {
    in_swap.store(true);
    const std::uint64_t want = slot.running_version() + 1;
    await_first = true;
    sw.request_swap(model);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (slot.running_version() < want && std::chrono::steady_clock::now() < deadline) {
      if (stage.poll(*in, *out) == 0) {
        stage.idle();
        cpu_relax();
      }
      drain();
    }
    run_for(std::chrono::milliseconds(50));
    in_swap.store(false);
    (void)sw.wait_idle(10000);
    const SwapResult r = sw.last_result();
    if (!r.ok) { std::fprintf(stderr, "swap %d failed: %s\n", k, r.message.c_str()); break; }
    build_ms.push_back(static_cast<double>(r.build_ms));
    run_for(std::chrono::milliseconds(300));
  }
  stop.store(true);
  producer.join();
  while (stage.poll(*in, *out) > 0) drain();
  drain();
  sw.stop();
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::printf("model %s, one window every %d us, %d swaps of the same file (build+validate %.0f..%.0f ms on a SCHED_IDLE thread), "
              "swap warm-up %s (%zu KiB per engine), keep_warm %s\n",
              model.c_str(), period_us, static_cast<int>(build_ms.size()),
              build_ms.empty() ? 0.0 : *std::min_element(build_ms.begin(), build_ms.end()),
              build_ms.empty() ? 0.0 : *std::max_element(build_ms.begin(), build_ms.end()), swap_warm ? "on" : "off",
              slot.current()->warm.bytes / 1024, keep_warm.c_str());
  std::printf("| enqueue->result (us) | count | P50 | P90 | P99 | max |\n|---|---|---|---|---|---|\n");
  const std::pair<const char*, const LatencyHistogram*> rows[] = {
      {"outside swaps", &base}, {"during swaps (request -> adoption + 50 ms)", &during}, {"first inference on each new engine", &first_after}};
  for (const auto& [name, h] : rows)
    std::printf("| %s | %llu | %.1f | %.1f | %.1f | %.1f |\n", name, static_cast<unsigned long long>(h->count()), us(h->percentile(50)),
                us(h->percentile(90)), us(h->percentile(99)), us(h->max()));
  // What a swap adds, quantile against quantile: the first inference on each new engine against every
  // window outside swaps (a max of a few samples compared with a P50 mostly measures the spread).
  std::printf("added latency: first inference on a new engine vs outside swaps: P50 %+.1f us, P90 %+.1f us, max - P99 %+.1f us; "
              "during-swap max - outside P99 %+.1f us\n",
              us(first_after.percentile(50) - base.percentile(50)), us(first_after.percentile(90) - base.percentile(90)),
              us(first_after.max() - base.percentile(99)), us(during.max() - base.percentile(99)));
  std::printf("windows enqueued %llu, results %llu, dropped (ring full) %llu, adopted swaps %llu\n",
              static_cast<unsigned long long>(pushed.load()), static_cast<unsigned long long>(results),
              static_cast<unsigned long long>(dropped.load()), static_cast<unsigned long long>(slot.adopted()));
  return dropped.load() == 0 && results == pushed.load() ? 0 : 1;
}
