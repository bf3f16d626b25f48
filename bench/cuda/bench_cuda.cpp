// bench/cuda/bench_cuda.cpp — per model and batch: latency (median, p99) and throughput of tickrt-CUDA
// (FP32, FP16, INT8 and, for lstm_attn_s, FP32 with the LSTM+attention fusion off; one CUDA graph per batch, input copy from pinned memory and result copy
// back included) and of tickrt's CPU engine on the same host (one core, as the pipeline runs it).
//
//   bench_cuda [--models lstm_attn_s,convlstm] [--batches 1,64,1024] [--seconds 1.0] [--no-cpu] [--no-profile] [--out file.tsv]
// With profiling on, batch 1 and 1024 (every precision) also print the per-step device times (GpuContext::profile) as # lines.
//
// Each timing is one synchronous inference measured with steady_clock around run(), after 20 warm-up
// runs, repeated until --seconds have passed (at least 5, at most 20000 times). Rows are TSV:
// model backend batch median_us p99_us samples_per_s iters.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "cuda_models.hpp"
#include "infer/cuda/cuda_backend.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, ','))
    if (!t.empty()) out.push_back(t);
  return out;
}

struct Stat {
  double median_us = 0, p99_us = 0, per_s = 0;
  std::size_t iters = 0;
};

template <class F>
Stat measure(F&& run_once, std::int64_t batch, double seconds) {
  const auto w0 = std::chrono::steady_clock::now();   // warm-up: 20 runs or a quarter of the budget (slow CPU cases)
  for (int i = 0; i < 20 && (i < 2 || std::chrono::steady_clock::now() - w0 < std::chrono::duration<double>(seconds / 4)); ++i)
    if (!run_once()) return {};
  std::vector<double> us;
  const auto t_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while ((us.size() < 5 || std::chrono::steady_clock::now() < t_end) && us.size() < 20000) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!run_once()) return {};
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  Stat s;
  s.iters = us.size();
  s.median_us = us[us.size() / 2];
  s.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  s.per_s = static_cast<double>(batch) * 1e6 / s.median_us;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models = {"lstm_attn_s", "lstm_attn_l", "convlstm", "transformer_s"};
  std::vector<std::int64_t> batches = {1, 64, 1024};
  double seconds = 1.0;
  bool cpu = true, profile = true;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--models" && i + 1 < argc) models = split(argv[++i]);
    else if (a == "--batches" && i + 1 < argc) {
      batches.clear();
      for (auto& b : split(argv[++i])) batches.push_back(std::stoll(b));
    } else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
    else if (a == "--no-cpu") cpu = false;
    else if (a == "--no-profile") profile = false;
    else if (a == "--out" && i + 1 < argc) out_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_cuda [--models a,b] [--batches 1,64,1024] [--seconds S] [--no-cpu] [--no-profile] [--out file.tsv]\n");
      return 2;
    }
  }
  auto n = cuda::device_count();
  if (!n.ok()) {
    std::fprintf(stderr, "bench_cuda: %s\n", n.status().message().c_str());
    return 77;
  }
  auto dev = cuda::resolve_device("cuda:0");
  std::printf("# device: %s (%s), %d SMs\n", cuda::fingerprint(*dev).c_str(), dev->uuid.c_str(), dev->sms);
  std::printf("# cpu engine ISA: %s\n", cpu::isa_name(cpu::detect_isa()));
  {
    // The host link's copy rate (what a batch-1024 lstm_attn_s input, 8 MiB FP32, costs to move): pinned H2D with
    // cudaMemcpy, median of 20, so the tickrt and PyTorch rows can be read against it.
    const std::size_t nb = std::size_t{8} << 20;
    void *h = nullptr, *dv = nullptr;
    if (cudaMallocHost(&h, nb) == cudaSuccess && cudaMalloc(&dv, nb) == cudaSuccess) {
      std::memset(h, 1, nb);
      std::vector<double> t;
      for (int i = 0; i < 23; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        cudaMemcpy(dv, h, nb, cudaMemcpyHostToDevice);
        if (i >= 3) t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(t.begin(), t.end());
      std::printf("# pinned H2D cudaMemcpy of %zu B: median %.1f us (%.1f GB/s)\n", nb, t[t.size() / 2], nb / t[t.size() / 2] / 1e3);
      // The same bytes as the batch-1024 input copied in time chunks (cudaMemcpy2D: 1024 rows of `chunk` steps x 128 B,
      // pitch 8 KiB), what the FP16 fused kernel's chunked input copy does.
      for (int steps : {8, 16}) {
        std::vector<double> t2;
        const std::size_t w = static_cast<std::size_t>(steps) * 128, pitch = 8192, rows = nb / pitch;
        for (int i = 0; i < 13; ++i) {
          const auto t0 = std::chrono::steady_clock::now();
          for (std::size_t off = 0; off < pitch; off += w)
            cudaMemcpy2DAsync(static_cast<char*>(dv) + off, pitch, static_cast<char*>(h) + off, pitch, w, rows, cudaMemcpyHostToDevice, 0);
          cudaDeviceSynchronize();
          if (i >= 3) t2.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(t2.begin(), t2.end());
        std::printf("# pinned H2D in %zu cudaMemcpy2D time chunks of %d steps (%zu B rows): median %.1f us (%.1f GB/s)\n", pitch / w, steps, w,
                    t2[t2.size() / 2], nb / t2[t2.size() / 2] / 1e3);
      }
    }
    if (dv) cudaFree(dv);
    if (h) cudaFreeHost(h);
  }
  FILE* out = out_path.empty() ? nullptr : std::fopen(out_path.c_str(), "w");
  const char* header = "model\tbackend\tbatch\tmedian_us\tp99_us\tsamples_per_s\titers\n";
  std::printf("%s", header);
  if (out) std::fputs(header, out);
  auto row = [&](const std::string& m, const char* backend, std::int64_t b, const Stat& s) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s\t%s\t%lld\t%.1f\t%.1f\t%.0f\t%zu\n", m.c_str(), backend, static_cast<long long>(b), s.median_us,
                  s.p99_us, s.per_s, s.iters);
    std::fputs(buf, stdout);
    std::fflush(stdout);
    if (out) std::fputs(buf, out);
  };
  const std::int64_t bmax = *std::max_element(batches.begin(), batches.end());
  for (auto& name : models) {
    cudatest::ModelRef ref{name, "models/" + name + "/model.onnx"};
    auto g = cudatest::load_graph(ref);
    if (!g.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), g.status().message().c_str());
      continue;
    }
    auto ge = cudatest::gpu_engine(*g, bmax);
    auto ce = cudatest::cpu_engine(*g, bmax);
    if (!ge.ok() || !ce.ok()) {
      std::fprintf(stderr, "%s: engine build failed\n", name.c_str());
      continue;
    }
    struct Variant {
      cuda::Precision prec;
      bool fuse;
      const char* name;
      bool direct = true;
    };
    std::vector<Variant> variants = {{cuda::Precision::fp32, true, "tickrt-cuda-fp32"},
                                     {cuda::Precision::fp16, true, "tickrt-cuda-fp16"},
                                     {cuda::Precision::int8, true, "tickrt-cuda-int8"}};
    // The per-node lowering of the same model (fusion off), for the models the fused kernel applies to, and the FP16
    // fused kernel with copy nodes instead of reading / writing the pinned buffers in place (host_direct_io off).
    if (name.find("lstm_attn_s") != std::string::npos) {
      variants.push_back({cuda::Precision::fp32, false, "tickrt-cuda-fp32-unfused"});
      variants.push_back({cuda::Precision::fp16, true, "tickrt-cuda-fp16-copy", false});
    }
    for (const Variant& v : variants) {
      const cuda::Precision prec = v.prec;
      auto ctx = cuda::GpuContext::create(*ge, {.device = "cuda:0", .precision = prec, .stream_priority = -1, .fuse_lstm_attn = v.fuse,
                                                                .host_direct_io = v.direct});
      if (!ctx.ok()) {
        std::fprintf(stderr, "%s: %s\n", name.c_str(), ctx.status().message().c_str());
        return 1;
      }
      for (auto b : batches) {
        auto st = (*ctx)->prepare_batch(b);
        if (!st.ok()) {
          std::fprintf(stderr, "%s batch %lld: %s\n", name.c_str(), static_cast<long long>(b), st.message().c_str());
          continue;
        }
        std::mt19937 rng(7);
        std::normal_distribution<float> d;
        const auto cnt = numel((*ctx)->input_dims(0));
        for (std::int64_t i = 0; i < cnt; ++i) (*ctx)->input(0)[i] = d(rng);
        auto& c = **ctx;
        const Stat s = measure([&] { return c.run() == Code::ok; }, b, seconds);
        row(name, v.name, b, s);
        if (profile && (b == 1 || b == 1024)) {
          std::printf("# profile %s batch %lld (%s)\n", name.c_str(), static_cast<long long>(b), c.describe().substr(0, c.describe().find('\n')).c_str());
          std::string pr = c.profile(20);
          for (std::size_t at = 0; at < pr.size();) {
            const std::size_t e = pr.find('\n', at);
            std::printf("#   %s\n", pr.substr(at, e - at).c_str());
            at = e == std::string::npos ? pr.size() : e + 1;
          }
        }
      }
    }
    if (!cpu) continue;
    ExecutionContext cx(*ce);
    for (auto b : batches) {
      if (!cx.prepare_batch(b).ok()) continue;
      std::mt19937 rng(7);
      std::normal_distribution<float> d;
      const auto cnt = numel(cx.input_dims(0));
      for (std::int64_t i = 0; i < cnt; ++i) cx.input(0)[i] = d(rng);
      const Stat s = measure([&] { return cx.run() == Code::ok; }, b, seconds);
      row(name, "tickrt-cpu-1core", b, s);
    }
  }
  if (out) std::fclose(out);
  return 0;
}
