// bench/infer_kernels: the CPU kernels per ISA (scalar, avx2, avx512 — those this CPU runs), at the
// shapes of the reference models. Single-threaded; pin it (taskset -c N) for stable figures.
// Counters: p50_us / p10_us per call, GFLOP/s at the median (multiply-adds count 2), LSTM ns/step. Compare ISAs by name suffix.
//
//   build-kernels/bin/bench_infer_kernels --benchmark_filter='lstm' --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <array>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "infer/cpu/amx.hpp"
#include "infer/cpu/kernels.hpp"

namespace k = tickrt::infer::cpu;
using k::Isa;

namespace {

struct Free {
  void operator()(float* p) const { std::free(p); }
};
using Buf = std::unique_ptr<float[], Free>;
Buf alloc(size_t n) {
  return Buf(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64 + 64)));
}
Buf rnd(size_t n, unsigned seed, float scale = 1.f) {
  Buf b = alloc(n);
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  for (size_t i = 0; i < n; ++i) b[i] = d(g);
  return b;
}

// The machine is shared (other builds run beside us), so the mean over iterations carries time slices
// spent in other processes. Every call is also timed on its own; the median and the 10th percentile
// of those per-call times are reported (p50_us, p10_us) and GFLOP/s is computed from the median.
struct CallTimer {
  std::vector<double> us;
  std::chrono::steady_clock::time_point t0;
  CallTimer() { us.reserve(1 << 20); }
  void start() { t0 = std::chrono::steady_clock::now(); }
  void stop() {
    if (us.size() < us.capacity())
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  void report(benchmark::State& st, double flops_per_call) {
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    const double p50 = us[us.size() / 2], p10 = us[us.size() / 10];
    st.counters["p50_us"] = p50;
    st.counters["p10_us"] = p10;
    if (flops_per_call > 0) st.counters["GFLOP/s"] = flops_per_call * 1e-3 / p50;
  }
};

void BM_gemm_packed(benchmark::State& st, Isa isa, int M, int N, int K) {
  auto A = rnd(static_cast<size_t>(M) * K, 1), B = rnd(static_cast<size_t>(K) * N, 2), bias = rnd(N, 3);
  auto packed = alloc(k::gemm_packed_b_floats(isa, K, N));
  k::gemm_pack_b(isa, B.get(), K, N, true, packed.get());
  auto C = alloc(static_cast<size_t>(M) * N);
  CallTimer tm;
  for (auto _ : st) {
    tm.start();
    k::gemm_packed(isa, M, N, K, A.get(), K, packed.get(), bias.get(), k::Epilogue{}, C.get(), N);
    tm.stop();
    benchmark::DoNotOptimize(C.get());
    benchmark::ClobberMemory();
  }
  tm.report(st, 2.0 * M * N * K);
}

// The AMX projection GEMM (three-way BF16 split) on its own, same shapes as gemm_packed; compare
// with gemm_packed/.../avx512 in the same run.
void BM_amx_gemm(benchmark::State& st, int M, int N, int K) {
  auto A = rnd(static_cast<size_t>(M) * K, 1), B = rnd(static_cast<size_t>(K) * N, 2), bias = rnd(N, 3);
  struct Ctx { const float* B; int N; } ctx{B.get(), N};
  auto packed = alloc(k::amx::packed_floats(K, N));
  k::amx::pack_b(K, N, [](const void* p, int kk, int n) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    return c.B[static_cast<size_t>(kk) * c.N + n];
  }, &ctx, packed.get());
  auto ws = alloc(k::amx::workspace_floats(M, K));
  auto C = alloc(static_cast<size_t>(M) * N);
  CallTimer tm;
  for (auto _ : st) {
    tm.start();
    k::amx::gemm(M, N, K, A.get(), K, packed.get(), bias.get(), C.get(), N, ws.get());
    tm.stop();
    benchmark::DoNotOptimize(C.get());
    benchmark::ClobberMemory();
  }
  tm.report(st, 2.0 * M * N * K);
}

void BM_gemm(benchmark::State& st, Isa isa, bool tb, int M, int N, int K) {
  auto A = rnd(static_cast<size_t>(M) * K, 1), B = rnd(static_cast<size_t>(K) * N, 2);
  auto C = alloc(static_cast<size_t>(M) * N);
  CallTimer tm;
  for (auto _ : st) {
    tm.start();
    k::gemm(isa, false, tb, M, N, K, 1.f, A.get(), K, B.get(), tb ? K : N, 0.f, C.get(), N);
    tm.stop();
    benchmark::DoNotOptimize(C.get());
    benchmark::ClobberMemory();
  }
  tm.report(st, 2.0 * M * N * K);
}

void BM_lstm(benchmark::State& st, Isa isa, int T, int B, int I, int H) {
  const float sc = 1.f / std::sqrt(static_cast<float>(H));
  auto W = rnd(static_cast<size_t>(4) * H * I, 1, sc), R = rnd(static_cast<size_t>(4) * H * H, 2, sc);
  auto Wb = rnd(4 * H, 3, sc), Rb = rnd(4 * H, 4, sc), x = rnd(static_cast<size_t>(T) * B * I, 5);
  auto packed = alloc(k::lstm_packed_floats(isa, I, H));
  k::lstm_pack(isa, I, H, W.get(), R.get(), Wb.get(), Rb.get(), packed.get());
  const k::LstmDims d{T, B, I, H};
  auto ws = alloc(k::lstm_workspace_floats(isa, d));
  auto y = alloc(static_cast<size_t>(T) * B * H);
  CallTimer tm;
  for (auto _ : st) {
    tm.start();
    k::lstm_forward(isa, d, packed.get(), x.get(), 1, nullptr, nullptr, y.get(), nullptr, nullptr, ws.get());
    tm.stop();
    benchmark::DoNotOptimize(y.get());
    benchmark::ClobberMemory();
  }
  tm.report(st, 2.0 * T * B * 4.0 * H * (I + H));
  st.counters["ns/step"] = st.counters["p50_us"].value * 1e3 / T;
}

void BM_attn(benchmark::State& st, Isa isa, int B, int T, int D, int A) {
  auto Wm = rnd(static_cast<size_t>(A) * D, 1, 0.2f), bw = rnd(A, 2), v = rnd(A, 3), h = rnd(static_cast<size_t>(B) * T * D, 4);
  auto packed = alloc(k::additive_attention_packed_floats(isa, D, A));
  k::additive_attention_pack(isa, D, A, Wm.get(), bw.get(), v.get(), 0.1f, packed.get());
  auto ws = alloc(k::additive_attention_workspace_floats(isa, B, T, D, A));
  auto ctx = alloc(static_cast<size_t>(B) * D);
  CallTimer tm;
  for (auto _ : st) {
    tm.start();
    k::additive_attention(isa, B, T, D, A, packed.get(), h.get(), 1, ctx.get(), nullptr, ws.get());
    tm.stop();
    benchmark::DoNotOptimize(ctx.get());
    benchmark::ClobberMemory();
  }
  tm.report(st, 2.0 * B * T * A * D + 4.0 * B * T * (A + D));
}

void BM_sdpa(benchmark::State& st, Isa isa, int BH, int T, int d) {
  auto q = rnd(static_cast<size_t>(BH) * T * d, 1), kk = rnd(static_cast<size_t>(BH) * T * d, 2),
       v = rnd(static_cast<size_t>(BH) * T * d, 3);
  auto ws = alloc(k::sdpa_workspace_floats(isa, T, T));
  auto out = alloc(static_cast<size_t>(BH) * T * d);
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  CallTimer tm;
  for (auto _ : st) {
    tm.start();
    k::sdpa(isa, BH, T, T, d, scale, q.get(), kk.get(), v.get(), out.get(), ws.get());
    tm.stop();
    benchmark::DoNotOptimize(out.get());
    benchmark::ClobberMemory();
  }
  tm.report(st, 4.0 * BH * T * T * d);
}

void BM_rows(benchmark::State& st, Isa isa, int which, int rows, int n) {
  auto x = rnd(static_cast<size_t>(rows) * n, 1), g = rnd(n, 2), b = rnd(n, 3);
  auto y = alloc(static_cast<size_t>(rows) * n);
  CallTimer tm;
  for (auto _ : st) {
    tm.start();
    if (which == 0) k::softmax_rows(isa, rows, n, x.get(), y.get());
    else if (which == 1) k::layernorm_rows(isa, rows, n, x.get(), g.get(), b.get(), 1e-5f, y.get());
    else k::activation(isa, k::Act::tanh, 0.f, static_cast<size_t>(rows) * n, x.get(), y.get());
    tm.stop();
    benchmark::DoNotOptimize(y.get());
    benchmark::ClobberMemory();
  }
  tm.report(st, 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Isa> isas{Isa::scalar};
  if (k::detect_isa() >= Isa::avx2) isas.push_back(Isa::avx2);
  if (k::detect_isa() >= Isa::avx512) isas.push_back(Isa::avx512);
  for (Isa isa : isas) {
    const std::string s = std::string("/") + k::isa_name(isa);
    // gemm_packed: LSTM input projections (T*B x 4H x I) and the MLP head / attention shapes.
    for (auto [M, N, K] : {std::array{64, 256, 32}, std::array{64, 256, 64}, std::array{128, 1024, 64},
                           std::array{128, 1024, 256}, std::array{1, 256, 64}, std::array{1, 32, 64},
                           std::array{64, 64, 64}, std::array{4096, 256, 64}})
      benchmark::RegisterBenchmark(("gemm_packed/M" + std::to_string(M) + "_N" + std::to_string(N) + "_K" +
                                    std::to_string(K) + s).c_str(), BM_gemm_packed, isa, M, N, K);
    // plain gemm: sdpa's two products, and convlstm's im2col conv (M = 16 output channels, N = positions)
    for (auto [M, N, K] : {std::array{64, 64, 16}, std::array{64, 16, 64}, std::array{64, 256, 64},
                           std::array{16, 1220, 64}})
      benchmark::RegisterBenchmark(("gemm/M" + std::to_string(M) + "_N" + std::to_string(N) + "_K" +
                                    std::to_string(K) + s).c_str(), BM_gemm, isa, false, M, N, K);
    for (auto [T, B, I, H] : {std::array{64, 1, 32, 64}, std::array{64, 1, 64, 64}, std::array{128, 1, 64, 256},
                              std::array{128, 1, 256, 256}, std::array{64, 8, 32, 64}, std::array{64, 64, 32, 64},
                              std::array{64, 8, 64, 64}, std::array{64, 64, 64, 64}, std::array{128, 8, 64, 256},
                              std::array{128, 64, 64, 256}, std::array{128, 8, 256, 256},
                              std::array{128, 64, 256, 256}})
      benchmark::RegisterBenchmark(("lstm/T" + std::to_string(T) + "_B" + std::to_string(B) + "_I" + std::to_string(I) +
                                    "_H" + std::to_string(H) + s).c_str(), BM_lstm, isa, T, B, I, H);
    benchmark::RegisterBenchmark(("additive_attention/B1_T64_D64_A64" + s).c_str(), BM_attn, isa, 1, 64, 64, 64);
    benchmark::RegisterBenchmark(("additive_attention/B64_T64_D64_A64" + s).c_str(), BM_attn, isa, 64, 64, 64, 64);
    benchmark::RegisterBenchmark(("sdpa/BH4_T64_d16" + s).c_str(), BM_sdpa, isa, 4, 64, 16);
    benchmark::RegisterBenchmark(("softmax_rows/64x64" + s).c_str(), BM_rows, isa, 0, 64, 64);
    benchmark::RegisterBenchmark(("layernorm_rows/64x64" + s).c_str(), BM_rows, isa, 1, 64, 64);
    benchmark::RegisterBenchmark(("tanh/4096" + s).c_str(), BM_rows, isa, 2, 64, 64);
  }
  if (k::detect_isa() == Isa::avx512 && k::amx::available())
    for (auto [M, N, K] : {std::array{64, 256, 32}, std::array{64, 256, 64}, std::array{128, 1024, 64},
                           std::array{128, 1024, 256}, std::array{4096, 256, 64}})
      benchmark::RegisterBenchmark(("amx_gemm/M" + std::to_string(M) + "_N" + std::to_string(N) + "_K" +
                                    std::to_string(K) + "/avx512").c_str(), BM_amx_gemm, M, N, K);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
