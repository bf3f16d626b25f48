// tickrt build | infer | inspect | conformance | bench — the inference engine's verbs (thin: parse, call, print).
#include <sched.h>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "commands.hpp"
#include "core/clock.hpp"
#include "infer/engine.hpp"
#include "infer/latency.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/conformance.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/window_prefix.hpp"
#include "quant_cli.hpp"
#if defined(TICKRT_HAVE_CUDA)
#include "infer/cuda/cuda_backend.hpp"
#endif

namespace tickrt::cli {
namespace {

using namespace tickrt::infer;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  throw CLI::RuntimeError(1);
}

bool is_engine_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char m[8] = {};
  const bool ok = std::fread(m, 1, 8, f) == 8 && std::memcmp(m, "TICKRTEN", 8) == 0;
  std::fclose(f);
  return ok;
}

BatchProfile parse_profile(const std::string& s) {
  BatchProfile p;
  std::vector<std::int64_t> v;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ':')) {
    try { v.push_back(std::stoll(tok)); } catch (...) { die("--batch '" + s + "': expected min:opt:max, e.g. 1:8:64"); }
  }
  if (v.size() == 1) p = {v[0], v[0], v[0]};
  else if (v.size() == 3) p = {v[0], v[1], v[2]};
  else die("--batch '" + s + "': expected N or min:opt:max, e.g. 1:8:64");
  return p;
}

cpu::Isa parse_isa(const std::string& s) {
  if (s.empty()) return cpu::detect_isa();
  if (s == "scalar") return cpu::Isa::scalar;
  if (s == "avx2") return cpu::Isa::avx2;
  if (s == "avx512") return cpu::Isa::avx512;
  die("--isa '" + s + "': expected scalar, avx2 or avx512");
}

std::shared_ptr<Engine> build_or_load(const std::string& path, const BuildOptions& bo, BuildReport* rep) {
  if (is_engine_file(path)) {
    auto e = Engine::load(path);
    if (!e) die(e.status().to_string());
    return *e;
  }
  auto g = import_onnx_file(path);
  if (!g) die(g.status().to_string());
  auto e = Engine::build(std::move(*g), bo, rep);
  if (!e) die("building " + path + ": " + e.status().to_string());
  return *e;
}

void print_histogram(const char* title, const std::map<std::string, int>& h) {
  int total = 0;
  for (auto& [k, v] : h) total += v;
  std::printf("%s: %d nodes\n", title, total);
  for (auto& [k, v] : h) std::printf("  %-28s %d\n", k.c_str(), v);
}

void print_plan(const char* what, const PlanStats& s) {
  std::printf("  %-10s kernels/inference %3d, folded %3d, views %2d, arena %8zu B (%zu B without reuse), workspace %zu B\n", what,
              s.steps, s.folded, s.aliased, s.arena_bytes, s.naive_bytes, s.workspace_bytes);
}

// --device cuda[:N|:UUID] / --fallback cpu (docs/CUDA.md). Returns true when the GPU is to be used; with
// --fallback cpu a missing GPU/driver (or a build without CUDA) is a warning and the CPU is used instead.
bool use_cuda(const std::string& device, const std::string& fallback) {
  if (device.empty() || device == "cpu") return false;
  if (fallback != "none" && fallback != "cpu") die("--fallback '" + fallback + "': expected none or cpu");
#if defined(TICKRT_HAVE_CUDA)
  auto d = infer::cuda::resolve_device(device);
  if (d) return true;
  if (fallback == "cpu") {
    std::fprintf(stderr, "warning: %s; falling back to the CPU (--fallback cpu)\n", d.status().message().c_str());
    return false;
  }
  die(d.status().to_string());
#else
  if (fallback == "cpu") {
    std::fprintf(stderr, "warning: this tickrt was built without CUDA; falling back to the CPU (--fallback cpu)\n");
    return false;
  }
  die("--device " + device + ": this tickrt was built without the CUDA backend (configure with -DTICKRT_CUDA=ON where nvcc is)");
#endif
}

struct BuildArgs {
  std::string model, out, batch = "1:1:64", isa, device = "cpu", fallback = "none";
  std::size_t workspace_limit = 0;
  bool no_optimize = false;
};

void build_cmd(const BuildArgs& a) {
  BuildOptions bo;
  bo.batch = parse_profile(a.batch);
  bo.workspace_limit = a.workspace_limit;
  bo.isa = parse_isa(a.isa);
  bo.optimize = !a.no_optimize;
  BuildReport rep;
  const auto t0 = now_ns();
  Result<std::shared_ptr<Engine>> e = std::shared_ptr<Engine>();
#if defined(TICKRT_HAVE_CUDA)
  if (use_cuda(a.device, a.fallback)) {
    // GPU engine: the plain graph (the CUDA backend lowers it itself), target compute capability stamped.
    auto d = infer::cuda::resolve_device(a.device);
    auto g = import_onnx_file(a.model);
    if (!g) die(g.status().to_string());
    infer::cuda::stamp_target(*g, *d);
    bo.optimize = false;
    bo.isa = cpu::Isa::scalar;
    e = Engine::build(std::move(*g), bo, &rep);
    if (!e) die("building " + a.model + ": " + e.status().to_string());
    auto ctx = infer::cuda::GpuContext::create(*e, {.device = a.device});
    if (!ctx) die(ctx.status().to_string());
    for (auto b : {bo.batch.min, bo.batch.max})   // prove the GPU runs it across the profile, now
      if (auto st = (*ctx)->prepare_batch(b); !st.ok()) die(st.to_string());
    if (auto st = (*e)->save(a.out); !st.ok()) die(st.to_string());
    std::printf("built %s -> %s for %s (batch %lld:%lld:%lld), %zu bytes\n%s", a.model.c_str(), a.out.c_str(),
                infer::cuda::fingerprint((*ctx)->device()).c_str(), static_cast<long long>(bo.batch.min),
                static_cast<long long>(bo.batch.opt), static_cast<long long>(bo.batch.max),
                static_cast<std::size_t>(std::filesystem::file_size(a.out)), (*ctx)->describe().c_str());
    return;
  }
#else
  (void)use_cuda(a.device, a.fallback);
#endif
  if (quant_build_requested()) {   // --precision/--int8/--fp16/--auto-precision: src/infer/quant
    e = quant_build(a.model, bo);
  } else {
    auto g = import_onnx_file(a.model);
    if (!g) die(g.status().to_string());
    e = Engine::build(std::move(*g), bo, &rep);
    if (!e) die("building " + a.model + ": " + e.status().to_string());
  }
  const auto t1 = now_ns();
  if (auto st = (*e)->save(a.out); !st.ok()) die(st.to_string());
  std::printf("built %s -> %s in %.1f ms (%s, batch %lld:%lld:%lld), %zu bytes\n", a.model.c_str(), a.out.c_str(), (t1 - t0) / 1e6,
              (*e)->fingerprint().c_str(), static_cast<long long>(bo.batch.min), static_cast<long long>(bo.batch.opt),
              static_cast<long long>(bo.batch.max), static_cast<std::size_t>(std::filesystem::file_size(a.out)));
  if (quant_build_requested()) return;   // quant_build printed the per-layer precision instead
  std::printf("nodes %d -> %d; ", [&] { int n = 0; for (auto& [k, v] : rep.ops_before) n += v; return n; }(),
              [&] { int n = 0; for (auto& [k, v] : rep.ops_after) n += v; return n; }());
  for (auto& p : rep.passes) if (p.changed) std::printf("%s: %d; ", p.pass.c_str(), p.changed);
  std::printf("\n");
  print_plan("batch max", rep.plan_max);
}

// Whether `tickrt run` (inline) can run this engine as a window prefix + last step (infer/window_prefix.hpp).
void print_window_prefix(const std::shared_ptr<const Engine>& e) {
  if (e->profile().min > 1) return;
  ExecutionContext ctx(e);
  if (!ctx.prepare_batch(1).ok()) return;
  const std::string why = WindowPrefix::why_not(ctx);
  if (why.empty()) std::printf("window prefix (tickrt run, inline): applies — a sample costs one LSTM step per layer + the rest\n");
  else std::printf("window prefix (tickrt run, inline): does not apply — %s\n", why.c_str());
}

void inspect_cmd(const std::string& path, const std::string& batch, const std::string& isa) {
  BuildOptions bo;
  bo.batch = parse_profile(batch);
  bo.isa = parse_isa(isa);
  if (is_engine_file(path)) {
    const auto t0 = now_ns();
    auto e = Engine::load(path);
    if (!e) die(e.status().to_string());
    std::printf("%s: %s, batch profile %lld:%lld:%lld, loaded in %.2f ms\n", path.c_str(), (*e)->fingerprint().c_str(),
                static_cast<long long>((*e)->profile().min), static_cast<long long>((*e)->profile().opt),
                static_cast<long long>((*e)->profile().max), (now_ns() - t0) / 1e6);
    print_histogram("optimized graph", (*e)->graph().op_histogram());
    ExecutionContext ctx(*e);
    for (auto b : {(*e)->profile().min, (*e)->profile().max}) {
      if (auto st = ctx.prepare_batch(b); !st.ok()) die(st.to_string());
      print_plan(("batch " + std::to_string(b)).c_str(), ctx.stats());
    }
    print_window_prefix(*e);
    return;
  }
  auto g = import_onnx_file(path);
  if (!g) die(g.status().to_string());
  std::printf("%s: opset %lld, %zu inputs, %zu outputs\n", path.c_str(), static_cast<long long>(g->opset), g->inputs.size(), g->outputs.size());
  BuildReport rep;
  BuildOptions ref = bo;
  ref.optimize = false;
  auto plain = Engine::build(*g, ref, nullptr);
  auto e = Engine::build(std::move(*g), bo, &rep);
  if (!e) die(e.status().to_string());
  print_histogram("before optimisation", rep.ops_before);
  print_histogram("after optimisation", rep.ops_after);
  std::printf("passes:\n");
  for (auto& p : rep.passes) std::printf("  %-30s %d\n", p.pass.c_str(), p.changed);
  std::printf("kernels per inference (after constant folding at the given batch):\n");
  if (plain) {
    ExecutionContext pc(*plain);
    if (pc.prepare_batch(bo.batch.min).ok()) print_plan("reference", pc.stats());
  }
  print_plan("optimized", rep.plan_min);
  print_plan("opt batch", rep.plan_opt);
  print_plan("max batch", rep.plan_max);
  print_window_prefix(*e);
}

struct InferArgs { std::string engine, input, output; std::string isa, device = "cpu", fallback = "none"; int threads = 1; };
void infer_cmd(const InferArgs& a) {
  BuildOptions bo;
  bo.isa = parse_isa(a.isa);
  auto eng = build_or_load(a.engine, bo, nullptr);
  auto x = read_npy(a.input);
  if (!x) die(x.status().to_string());
#if defined(TICKRT_HAVE_CUDA)
  if (use_cuda(a.device, a.fallback)) {
    auto ctx = infer::cuda::GpuContext::create(eng, {.device = a.device});
    if (!ctx) die(ctx.status().to_string());
    if (x->dims.empty() || x->dims != [&] { Dims d = eng->input_shape(0); d[0] = x->dims[0]; return d; }())
      die(a.input + ": shape " + dims_str(x->dims) + " does not match the engine's input " + dims_str(eng->input_shape(0)));
    if (auto st = (*ctx)->prepare_batch(x->dims[0]); !st.ok()) die(st.to_string());
    std::memcpy((*ctx)->input(0), x->bytes, x->nbytes);
    const auto t0 = now_ns();
    if ((*ctx)->run() != Code::ok) die("run on " + (*ctx)->device().name + " failed: " + (*ctx)->last_error());
    const auto t1 = now_ns();
    const Dims& od = (*ctx)->output_dims(0);
    std::fprintf(stderr, "%s %s -> %s %s in %.1f us on %s\n", eng->input_name(0).c_str(), dims_str(x->dims).c_str(),
                 eng->output_name(0).c_str(), dims_str(od).c_str(), (t1 - t0) / 1e3, (*ctx)->device().name.c_str());
    if (!a.output.empty()) {
      if (auto st = write_npy(a.output, DType::f32, od, (*ctx)->output(0)); !st.ok()) die(st.to_string());
    } else {
      const std::int64_t rows = od.empty() ? 1 : od[0], cols = od.empty() ? 1 : numel(od) / od[0];
      for (std::int64_t r = 0; r < rows && r < 16; ++r) {
        for (std::int64_t c = 0; c < cols && c < 16; ++c) std::printf("%s% .6f", c ? " " : "", (*ctx)->output(0)[r * cols + c]);
        std::printf("\n");
      }
    }
    return;
  }
#else
  (void)use_cuda(a.device, a.fallback);
#endif
  ExecutionContext ctx(eng);
  if (auto st = ctx.set_threads(a.threads); !st.ok()) die(st.to_string());
  if (eng->num_inputs() != 1) die("infer takes models with one input; this one has " + std::to_string(eng->num_inputs()));
  if (auto st = ctx.prepare({x->dims}); !st.ok()) die(a.input + ": " + st.to_string());
  std::memcpy(ctx.input_data(0), x->bytes, x->nbytes);
  const auto t0 = now_ns();
  if (ctx.run() != Code::ok) die("run failed");
  const auto t1 = now_ns();
  const Dims& od = ctx.output_dims(0);
  std::fprintf(stderr, "%s %s -> %s %s in %.1f us\n", eng->input_name(0).c_str(), dims_str(x->dims).c_str(), eng->output_name(0).c_str(),
               dims_str(od).c_str(), (t1 - t0) / 1e3);
  if (!a.output.empty()) {
    if (auto st = write_npy(a.output, ctx.output_dtype(0), od, ctx.output_data(0)); !st.ok()) die(st.to_string());
  } else if (ctx.output_dtype(0) == DType::f32) {
    const std::int64_t rows = od.empty() ? 1 : od[0], cols = od.empty() ? 1 : numel(od) / od[0];
    for (std::int64_t r = 0; r < rows && r < 16; ++r) {
      for (std::int64_t c = 0; c < cols && c < 16; ++c) std::printf("%s% .6f", c ? " " : "", ctx.output(0)[r * cols + c]);
      std::printf("\n");
    }
  }
}

struct BenchArgs {
  std::string model, name, batches = "1,8,64", isa;
  int threads = 1;
  double seconds = 2.0;
  bool json = false;
  bool profile = false;
};
void print_profile(ExecutionContext& ctx, std::int64_t batch, int iters) {
  const auto& steps = ctx.plan().steps;
  std::vector<std::int64_t> ns(steps.size(), 0);
  for (int i = 0; i < iters; ++i) (void)ctx.run_profiled(ns);
  std::int64_t total = 0;
  for (auto x : ns) total += x;
  std::printf("  profile, batch %lld (%d runs, time per inference):\n", static_cast<long long>(batch), iters);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Node* n = steps[i].node;
    std::printf("    %-26s %-40s %9.2f us %5.1f%%\n", ((n->domain.empty() ? "" : n->domain + ".") + n->op).c_str(), n->name.substr(0, 40).c_str(),
                ns[i] / 1e3 / iters, 100.0 * ns[i] / std::max<std::int64_t>(total, 1));
  }
}
void bench_cmd(const BenchArgs& a) {
  std::vector<std::int64_t> batches;
  {
    std::stringstream ss(a.batches);
    std::string t;
    while (std::getline(ss, t, ',')) batches.push_back(std::stoll(t));
  }
  BuildOptions bo;
  bo.isa = parse_isa(a.isa);
  bo.batch = {1, 1, *std::max_element(batches.begin(), batches.end())};
  auto eng = build_or_load(a.model, bo, nullptr);
  std::string name = a.name;
  if (name.empty()) name = std::filesystem::path(a.model).parent_path().filename().string();
  const std::string dir = std::filesystem::path(a.model).parent_path().string();
  // Golden check where the model folder has one (tools/models/README.md), as the peers do.
  static const std::map<std::string, int> kSeedK = {{"lstm_attn_s", 1}, {"lstm_attn_l", 2}, {"convlstm", 3}, {"transformer_s", 4}};
  ExecutionContext ctx(eng);
  {
    // Intra-op threads: this thread stays on the first CPU it may use, worker i goes to the i-th next one (when the
    // process may use that many), so the two sides of a hand-off never queue behind each other on one CPU.
    std::vector<int> allowed, workers;
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (a.threads > 1 && sched_getaffinity(0, sizeof(mask), &mask) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &mask)) allowed.push_back(c);
    if (static_cast<int>(allowed.size()) >= a.threads) {
      cpu_set_t self;
      CPU_ZERO(&self);
      CPU_SET(allowed[0], &self);
      (void)sched_setaffinity(0, sizeof(self), &self);
      workers.assign(allowed.begin() + 1, allowed.begin() + a.threads);
    }
    if (auto st = ctx.set_threads(a.threads, workers); !st.ok()) die(st.to_string());
  }
  for (auto b : batches) {
    if (auto st = ctx.prepare_batch(b); !st.ok()) die(st.to_string());
    const std::size_t n = static_cast<std::size_t>(numel(ctx.input_dims(0)));
    const auto k = kSeedK.find(name);
    fill_golden_input(k != kSeedK.end() ? 1000ull * k->second + b : 7ull, ctx.input(0), n);
    if (ctx.run() != Code::ok) die("run failed");
    const std::string golden = dir + "/golden_b" + std::to_string(b) + ".npy";
    double err = -1;
    if (k != kSeedK.end() && std::filesystem::exists(golden)) {
      auto want = read_npy(golden);
      if (!want) die(want.status().to_string());
      err = 0;
      for (std::int64_t i = 0; i < want->count(); ++i)
        err = std::max(err, static_cast<double>(std::fabs(ctx.output(0)[i] - want->as<float>()[i])));
      if (err > 1e-4) die(name + " batch " + std::to_string(b) + ": output differs from the golden by " + std::to_string(err));
    }
    const auto r = measure_latency(ctx, b, a.seconds);
    if (a.profile) print_profile(ctx, b, 200);
    if (a.json)
      std::printf("{\"impl\": \"tickrt\", \"model\": \"%s\", \"batch\": %lld, \"threads\": %d, \"median_us\": %.3f, \"p99_us\": %.3f, "
                  "\"throughput_per_s\": %.1f, \"iters\": %lld, \"threads_used\": %d, \"isa\": \"%s\", \"golden_max_abs_err\": %.3g}\n",
                  name.c_str(), static_cast<long long>(b), a.threads, r.median_us, r.p99_us, r.throughput_per_s,
                  static_cast<long long>(r.iters), ctx.threads(), cpu::isa_name(eng->isa()), err);
    else
      std::printf("%-14s batch %3lld: median %9.2f us  p99 %9.2f us  min %9.2f us  %10.0f samples/s  (%lld runs, %s)\n", name.c_str(),
                  static_cast<long long>(b), r.median_us, r.p99_us, r.min_us, r.throughput_per_s, static_cast<long long>(r.iters),
                  cpu::isa_name(eng->isa()));
    std::fflush(stdout);
  }
}

void conformance_cmd(const std::string& dir, const std::string& filter, bool verbose) {
  auto results = run_conformance(dir, filter);
  if (results.empty()) die("no tests under " + dir + " match '" + filter + "' (install libonnx-testdata: scripts/install-deps.sh engine)");
  struct Tally { int pass = 0, fail = 0, unsupported = 0; };
  std::map<std::string, Tally> by_op;
  Tally total;
  for (auto& r : results) {
    std::string key = r.ops.size() == 1 ? r.ops[0] : (r.ops.empty() ? "?" : "(multi-op)");
    auto& t = by_op[key];
    switch (r.outcome) {
      case ConformanceResult::Outcome::pass: ++t.pass; ++total.pass; break;
      case ConformanceResult::Outcome::fail: ++t.fail; ++total.fail; break;
      case ConformanceResult::Outcome::unsupported: ++t.unsupported; ++total.unsupported; break;
    }
    if (verbose || r.outcome == ConformanceResult::Outcome::fail)
      std::printf("%-12s %-55s %s\n",
                  r.outcome == ConformanceResult::Outcome::pass ? "PASS" : r.outcome == ConformanceResult::Outcome::fail ? "FAIL" : "UNSUPPORTED",
                  r.test.c_str(), r.detail.c_str());
  }
  std::printf("\n%-28s %6s %6s %12s\n", "op", "pass", "fail", "unsupported");
  for (auto& [op, t] : by_op) std::printf("%-28s %6d %6d %12d\n", op.c_str(), t.pass, t.fail, t.unsupported);
  std::printf("%-28s %6d %6d %12d   (%zu tests)\n", "TOTAL", total.pass, total.fail, total.unsupported, results.size());
}

}  // namespace

void register_engine(CLI::App& app) {
  {
    static BuildArgs a;
    auto* c = app.add_subcommand("build", "Compile an ONNX model into an optimized, serialized engine for this CPU");
    c->add_option("model", a.model, "ONNX model file")->required()->check(CLI::ExistingFile);
    c->add_option("-o,--output", a.out, "engine file to write")->required();
    c->add_option("--batch", a.batch, "batch profile min:opt:max (or N)")->capture_default_str();
    c->add_option("--workspace-limit", a.workspace_limit, "max bytes of activations+scratch at the max batch (0 = none)");
    c->add_option("--isa", a.isa, "scalar|avx2|avx512 (default: the best this CPU has)");
    c->add_flag("--no-optimize", a.no_optimize, "skip fusion passes (reference kernels)");
    c->add_option("--device", a.device, "cpu, cuda, cuda:<index> or cuda:<UUID> (GPU-.../MIG-...): build a GPU engine")->capture_default_str();
    c->add_option("--fallback", a.fallback, "none|cpu: with cpu, no GPU/driver builds a CPU engine instead")->capture_default_str();
    add_quant_build_options(c);
    c->footer("Examples:\n  tickrt build models/lstm_attn_s/model.onnx -o lstm_attn_s.engine --batch 1:8:64\n"
              "  tickrt build model.onnx -o m.engine --workspace-limit 1048576\n"
              "  tickrt build model.onnx -o m.int8.engine --int8 --calib calib_x.npy --calib-cache m.calib\n"
              "  tickrt build model.onnx -o m.engine --precision 'default=int8,*attn*=fp32' --calib-cache m.calib\n"
              "  tickrt build model.onnx -o m.engine --auto-precision --max-accuracy-drop 0.5 --calib calib_x.npy \\\n"
              "      --val val_x.npy --val-labels val_y.npy   (docs/QUANTIZATION.md)\n"
              "  tickrt build model.onnx -o m.gpu.engine --device cuda:0 --batch 1:64:1024 --fallback cpu   (docs/CUDA.md)");
    c->callback([] { build_cmd(a); });
  }
  {
    static InferArgs a;
    auto* c = app.add_subcommand("infer", "Run an engine (or ONNX model) on a .npy input");
    c->add_option("engine", a.engine, "engine file or ONNX model")->required()->check(CLI::ExistingFile);
    c->add_option("--input", a.input, ".npy input (float32, C order)")->required()->check(CLI::ExistingFile);
    c->add_option("--output", a.output, "write the output to this .npy (default: print it)");
    c->add_option("--isa", a.isa, "scalar|avx2|avx512 when building from ONNX");
    c->add_option("--device", a.device, "cpu, cuda, cuda:<index> or cuda:<UUID>")->capture_default_str();
    c->add_option("--fallback", a.fallback, "none|cpu: with cpu, no GPU/driver runs on the CPU instead")->capture_default_str();
    c->add_option("--threads", a.threads, "intra-op threads on the CPU (1 = single-threaded; docs/ENGINE.md)")->capture_default_str()->check(CLI::Range(1, 64));
    c->footer("Examples:\n  tickrt infer lstm_attn_s.engine --input x.npy --output y.npy\n  tickrt infer lstm_attn_s.engine --input x.npy --threads 2\n"
              "  tickrt infer m.gpu.engine --input x.npy --device cuda:0 --fallback cpu");
    c->callback([] { infer_cmd(a); });
  }
  {
    static std::string path, batch = "1:1:64", isa;
    auto* c = app.add_subcommand("inspect", "Show node and kernel counts before and after optimisation, and the memory plan");
    c->add_option("model", path, "ONNX model or engine file")->required()->check(CLI::ExistingFile);
    c->add_option("--batch", batch, "batch profile min:opt:max")->capture_default_str();
    c->add_option("--isa", isa, "scalar|avx2|avx512");
    c->footer("Examples:\n  tickrt inspect models/lstm_attn_s/model.onnx\n  tickrt inspect lstm_attn_s.engine");
    c->callback([] { inspect_cmd(path, batch, isa); });
  }
  {
    static BenchArgs a;
    auto* c = app.add_subcommand("bench", "Latency and throughput of an engine or ONNX model (JSON for tools/bench/compare.py)");
    c->add_option("model", a.model, "ONNX model or engine file")->required()->check(CLI::ExistingFile);
    c->add_option("--batch", a.batches, "comma-separated batch sizes")->capture_default_str();
    c->add_option("--seconds", a.seconds, "timing budget per batch")->capture_default_str();
    c->add_option("--threads", a.threads, "intra-op threads per inference (1 = single-threaded; docs/ENGINE.md)")->capture_default_str()->check(CLI::Range(1, 64));
    c->add_option("--name", a.name, "model name for golden checks (default: the model's folder name)");
    c->add_option("--isa", a.isa, "scalar|avx2|avx512");
    c->add_flag("--json", a.json, "one JSON line per batch");
    c->add_flag("--profile", a.profile, "time every kernel of the plan (where the time goes)");
    c->footer("Examples:\n  tickrt bench models/lstm_attn_s/model.onnx --batch 1,8,64\n  taskset -c 0,1 tickrt bench models/lstm_attn_s/model.onnx --batch 1 --threads 2\n"
              "  tools/bench/compare.py --tickrt 'build/bin/tickrt bench {onnx} --name {model} --batch {batch} --threads {threads} --seconds {seconds} --json'");
    c->callback([] { bench_cmd(a); });
  }
  {
    static std::string dir = kOnnxNodeTestDir, filter;
    static bool verbose = false;
    auto* c = app.add_subcommand("conformance", "Run the ONNX backend node tests (libonnx-testdata) through the engine");
    c->add_option("--dir", dir, "folder of ONNX node tests")->capture_default_str();
    c->add_option("--filter", filter, "glob on test names, e.g. 'test_lstm*'");
    c->add_flag("-v,--verbose", verbose, "print every test, not only failures");
    c->footer("Examples:\n  tickrt conformance\n  tickrt conformance --filter 'test_gemm*' -v");
    c->callback([] { conformance_cmd(dir, filter, verbose); });
  }
}

}  // namespace tickrt::cli
