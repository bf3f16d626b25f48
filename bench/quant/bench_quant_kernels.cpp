// LSTM layer kernels of lstm_attn_s (T 64, H 64; I 24 and 64) at batch 1 and 64: FP32 (cpu::lstm_forward,
// the peer) vs INT8 on every available path vs FP16, in one binary so the ratios come from the same run.
//   taskset -c 1 build/bin/bench_quant_kernels --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "infer/cpu/int8_kernels.hpp"

using namespace tickrt::infer::cpu;

namespace {

struct Layer {
  int T, B, I, H;
  std::vector<float> W, R, b, x, y;
  explicit Layer(int T_, int B_, int I_, int H_) : T(T_), B(B_), I(I_), H(H_) {
    std::mt19937 rng(7);
    std::normal_distribution<float> d(0.f, 0.2f);
    W.resize(static_cast<size_t>(4 * H) * I);
    R.resize(static_cast<size_t>(4 * H) * H);
    b.resize(static_cast<size_t>(4 * H));
    x.resize(static_cast<size_t>(T) * B * I);
    y.resize(static_cast<size_t>(T) * B * H);
    for (auto* v : {&W, &R, &b, &x})
      for (auto& e : *v) e = d(rng);
  }
};

void fp32(benchmark::State& s) {
  Layer L(64, static_cast<int>(s.range(0)), static_cast<int>(s.range(1)), 64);
  const Isa isa = detect_isa();
  std::vector<float> packed(lstm_packed_floats(isa, L.I, L.H)), ws(lstm_workspace_floats(isa, {L.T, L.B, L.I, L.H}) + 16);
  lstm_pack(isa, L.I, L.H, L.W.data(), L.R.data(), L.b.data(), nullptr, packed.data());
  for (auto _ : s) {
    lstm_forward(isa, {L.T, L.B, L.I, L.H}, packed.data(), L.x.data(), 1, nullptr, nullptr, L.y.data(), nullptr, nullptr, ws.data());
    benchmark::DoNotOptimize(L.y.data());
  }
}
void int8(benchmark::State& s) {
  const auto path = static_cast<Int8Isa>(s.range(2));
  if (!int8_isa_available(path)) {
    s.SkipWithError("INT8 path not available on this CPU");
    return;
  }
  Layer L(64, static_cast<int>(s.range(0)), static_cast<int>(s.range(1)), 64);
  std::vector<std::byte> Wq(i8_packed_bytes(L.I, 4 * L.H)), Rq(i8_packed_bytes(L.H, 4 * L.H)), ws(i8_lstm_workspace_bytes({L.T, L.B, L.I, L.H}));
  i8_pack_weights(L.W.data(), nullptr, L.I, 4 * L.H, Wq.data());
  i8_pack_weights(L.R.data(), nullptr, L.H, 4 * L.H, Rq.data());
  for (auto _ : s) {
    i8_lstm_forward(path, {L.T, L.B, L.I, L.H}, Wq.data(), Rq.data(), L.b.data(), 1.f / 40, L.x.data(), 1, L.y.data(), nullptr, nullptr, ws.data());
    benchmark::DoNotOptimize(L.y.data());
  }
  s.SetLabel(int8_isa_name(path));
}
void fp16(benchmark::State& s) {
  Layer L(64, static_cast<int>(s.range(0)), static_cast<int>(s.range(1)), 64);
  std::vector<std::byte> Wp(f16_packed_bytes(L.I, 4 * L.H)), Rp(f16_packed_bytes(L.H, 4 * L.H)), ws(f16_lstm_workspace_bytes({L.T, L.B, L.I, L.H}));
  f16_pack_weights(L.W.data(), nullptr, L.I, 4 * L.H, Wp.data());
  f16_pack_weights(L.R.data(), nullptr, L.H, 4 * L.H, Rp.data());
  for (auto _ : s) {
    f16_lstm_forward(detect_isa(), {L.T, L.B, L.I, L.H}, Wp.data(), Rp.data(), L.b.data(), L.x.data(), 1, L.y.data(), nullptr, nullptr, ws.data());
    benchmark::DoNotOptimize(L.y.data());
  }
}

}  // namespace

BENCHMARK(fp32)->ArgNames({"B", "I"})->Args({1, 24})->Args({1, 64})->Args({64, 64});
BENCHMARK(int8)->ArgNames({"B", "I", "path"})->Args({1, 24, 3})->Args({1, 64, 3})->Args({1, 64, 2})->Args({1, 64, 1})->Args({64, 64, 3});
BENCHMARK(fp16)->ArgNames({"B", "I"})->Args({1, 24})->Args({1, 64})->Args({64, 64});
BENCHMARK_MAIN();
