// libtorch peer benchmark: the reference models as TorchScript, run the way a C++ user of
// libtorch 1.13 would run them at low latency (InferenceMode, frozen module, fixed threads).
//
// Who runs it: tools/bench/compare.py, or by hand:
//   build-x/bin/bench_libtorch --models-dir models --pt-dir build/models --batches 1,8,64 --threads 1
// Needs build/models/<name>/model.pt (tools/models/export_all.sh) and models/<name>/golden.json.
// Output: one JSON line per (model, batch, threads) on stdout, the same keys as ort_bench.js:
//   {"impl":"libtorch","model","batch","threads","median_us","p99_us","throughput_per_s","iters",
//    "variant"}
// Before timing, the batch-1 and batch-64 outputs are checked against the golden .npy files;
// a mismatch fails the run (exit 1), so a figure is never printed for a wrong result.
//
// Threads: at::set_num_threads(n) sets the intra-op pool (OpenMP); inter-op is 1. libtorch's
// GEMMs go to libblas.so.3, which must be OpenBLAS (Debian alternative), not the reference
// BLAS: the runner sets OPENBLAS_NUM_THREADS to the same n so that OpenBLAS does not spawn
// threads of its own beyond it.

#include <torch/script.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// splitmix64 -> ((z >> 40) * 2^-24) * 2 - 1, row-major; see tools/models/README.md.
std::vector<float> golden_input(uint64_t seed, size_t n) {
  std::vector<float> out(n);
  uint64_t s = seed;
  for (size_t i = 0; i < n; ++i) {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    out[i] = static_cast<float>(static_cast<double>(z >> 40) * 0x1p-24 * 2.0 - 1.0);
  }
  return out;
}

int model_index(const std::string& m) {
  if (m == "lstm_attn_s") return 1;
  if (m == "lstm_attn_l") return 2;
  if (m == "convlstm") return 3;
  if (m == "transformer_s") return 4;
  throw std::runtime_error("unknown model '" + m + "'");
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// .npy v1/v2, '<f4', C order.
std::vector<float> read_npy(const std::string& path) {
  const std::string b = slurp(path);
  if (b.size() < 12 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0)
    throw std::runtime_error(path + ": not a .npy file");
  const unsigned major = static_cast<unsigned char>(b[6]);
  size_t hlen, hstart;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    hstart = 10;
  } else {
    hlen = 0;
    for (int i = 3; i >= 0; --i) hlen = (hlen << 8) | static_cast<unsigned char>(b[8 + i]);
    hstart = 12;
  }
  const std::string header = b.substr(hstart, hlen);
  if (header.find("'<f4'") == std::string::npos || header.find("True") != std::string::npos)
    throw std::runtime_error(path + ": expected '<f4' C-order, header " + header);
  const size_t off = hstart + hlen, n = (b.size() - off) / 4;
  std::vector<float> v(n);
  std::memcpy(v.data(), b.data() + off, n * 4);
  return v;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');) v.push_back(std::stoi(t));
  return v;
}

std::vector<std::string> parse_names(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');) v.push_back(t);
  return v;
}

struct Stats {
  double median, p99;
  size_t n;
};

Stats stats(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const size_t n = us.size();
  const double med = n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
  const size_t k = std::min(n - 1, static_cast<size_t>(std::ceil(0.99 * n)) - 1);
  return {med, us[k], n};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"libtorch (TorchScript) peer benchmark for the reference models"};
  std::string models_dir = "models", pt_dir = "build/models";
  std::string models = "lstm_attn_s,lstm_attn_l,convlstm,transformer_s";
  std::string batches = "1,8,64", threads = "1";
  std::string variant = "freeze";
  double seconds = 2.0;
  size_t min_iters = 50, max_iters = 20000;
  double tol = 1e-4;
  app.add_option("--models-dir", models_dir, "golden.json / golden_b*.npy per model");
  app.add_option("--pt-dir", pt_dir, "<pt-dir>/<name>/model.pt (tools/models/export_all.sh)");
  app.add_option("--models", models, "comma-separated model names");
  app.add_option("--batches", batches, "comma-separated batch sizes");
  app.add_option("--threads", threads, "comma-separated intra-op thread counts");
  app.add_option("--variant", variant, "plain | freeze | optimize (optimize_for_inference)")
      ->check(CLI::IsMember({"plain", "freeze", "optimize"}));
  app.add_option("--seconds", seconds, "timed seconds per configuration (at least min-iters)");
  app.add_option("--min-iters", min_iters);
  app.add_option("--max-iters", max_iters);
  app.add_option("--tol", tol, "max |y - golden| / (1 + |golden|)");
  app.footer(
      "Examples:\n"
      "  bench_libtorch --models lstm_attn_s --batches 1 --threads 1\n"
      "  OPENBLAS_NUM_THREADS=2 bench_libtorch --threads 2 --variant optimize");
  CLI11_PARSE(app, argc, argv);

  try {
    at::set_num_interop_threads(1);
    for (const auto& name : parse_names(models)) {
      const auto meta = nlohmann::json::parse(slurp(models_dir + "/" + name + "/golden.json"));
      const int t = meta["input"]["shape"][1], f = meta["input"]["shape"][2];
      for (int nth : parse_list(threads)) {
        at::set_num_threads(nth);
        c10::InferenceMode guard;
        auto mod = torch::jit::load(pt_dir + "/" + name + "/model.pt");
        mod.eval();
        if (variant == "freeze") mod = torch::jit::freeze(mod);
        if (variant == "optimize") mod = torch::jit::optimize_for_inference(mod);
        for (int b : parse_list(batches)) {
          uint64_t seed = 1000ull * model_index(name) + b;
          const nlohmann::json* g = nullptr;
          for (const auto& e : meta["goldens"])
            if (e["batch"] == b) g = &e;
          if (g) seed = (*g)["seed"];
          auto data = golden_input(seed, static_cast<size_t>(b) * t * f);
          if (g) {
            for (int i = 0; i < 8; ++i)
              if (data[i] != (*g)["first_inputs"][i].get<float>())
                throw std::runtime_error(name + ": generator disagrees with golden.json at " +
                                         std::to_string(i));
          }
          auto x = torch::from_blob(data.data(), {b, t, f}, torch::kFloat32).clone();
          std::vector<torch::jit::IValue> in{x};
          auto y = mod.forward(in).toTensor().contiguous();
          if (g) {
            const auto ref = read_npy(models_dir + "/" + name + "/" +
                                      (*g)["output_file"].get<std::string>());
            if (static_cast<size_t>(y.numel()) != ref.size())
              throw std::runtime_error(name + ": output size differs from golden");
            const float* p = y.data_ptr<float>();
            double err = 0;
            for (size_t i = 0; i < ref.size(); ++i)
              err = std::max(err, std::abs(double(p[i]) - ref[i]) / (1.0 + std::abs(ref[i])));
            if (!(err <= tol))
              throw std::runtime_error(name + " b" + std::to_string(b) +
                                       ": libtorch differs from golden, max rel err " +
                                       std::to_string(err));
            if (nth == parse_list(threads)[0])
              std::fprintf(stderr, "bench_libtorch: %s b%d matches golden (max rel err %.2e)\n",
                           name.c_str(), b, err);
          }
          for (int i = 0; i < 20; ++i) (void)mod.forward(in);
          std::vector<double> us;
          us.reserve(max_iters);
          using clk = std::chrono::steady_clock;
          const auto deadline = clk::now() + std::chrono::duration<double>(seconds);
          while (us.size() < max_iters && (us.size() < min_iters || clk::now() < deadline)) {
            const auto t0 = clk::now();
            auto out = mod.forward(in);
            const auto t1 = clk::now();
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
          }
          const Stats s = stats(us);
          nlohmann::json j;
          j["impl"] = "libtorch";
          j["model"] = name;
          j["batch"] = b;
          j["threads"] = nth;
          j["median_us"] = std::round(s.median * 100) / 100;
          j["p99_us"] = std::round(s.p99 * 100) / 100;
          j["throughput_per_s"] = std::llround(b * 1e6 / s.median);
          j["iters"] = s.n;
          j["variant"] = variant;
          j["version"] = TORCH_VERSION;
          std::printf("%s\n", j.dump().c_str());
          std::fflush(stdout);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_libtorch: %s\n", e.what());
    return 1;
  }
  return 0;
}
