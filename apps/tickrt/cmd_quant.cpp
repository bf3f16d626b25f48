// tickrt calibrate | quant-sensitivity | quant-eval, and the precision options of `tickrt build`
// (thin: parse, call src/infer/quant, print). docs/QUANTIZATION.md describes the scheme.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "commands.hpp"
#include "core/clock.hpp"
#include "infer/cpu/int8_kernels.hpp"
#include "infer/latency.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/quant/quant.hpp"
#include "quant_cli.hpp"

namespace tickrt::cli {
namespace {

using namespace tickrt::infer;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  throw CLI::RuntimeError(1);
}

struct QuantArgs {
  std::string precision, calib, calibrator = "entropy", calib_cache, val, val_labels;
  bool int8 = false, fp16 = false, auto_precision = false;
  double max_drop = -1, percentile = 99.99;
};
QuantArgs g_build;

TensorData load_npy(const std::string& path, const char* what) {
  auto t = read_npy(path);
  if (!t) die(std::string(what) + ": " + t.status().to_string());
  return std::move(*t);
}

// Keeps the loaded arrays alive for the QuantOptions pointers.
struct Loaded {
  std::optional<TensorData> calib, val, val_labels;
};

quant::QuantOptions make_options(const QuantArgs& a, Loaded& l) {
  quant::QuantOptions qo;
  std::string spec = a.precision;
  if (spec.empty()) spec = a.int8 ? "int8" : a.fp16 ? "fp16" : "fp32";
  else if (a.int8 || a.fp16) die("--precision and --int8/--fp16 are exclusive (use --precision default=int8,...)");
  auto s = quant::parse_precision_spec(spec);
  if (!s) die(s.status().message());
  qo.spec = *s;
  auto c = quant::parse_calibrator(a.calibrator);
  if (!c) die("--calibrator: " + c.status().message());
  qo.calibrator = *c;
  qo.percentile = a.percentile;
  qo.calib_cache = a.calib_cache;
  if (!a.calib.empty()) {
    l.calib = load_npy(a.calib, "--calib");
    qo.calib = &*l.calib;
  }
  if (!a.val.empty() != !a.val_labels.empty()) die("--val and --val-labels go together");
  if (!a.val.empty()) {
    l.val = load_npy(a.val, "--val");
    l.val_labels = load_npy(a.val_labels, "--val-labels");
    qo.val = &*l.val;
    qo.val_labels = &*l.val_labels;
  }
  qo.max_accuracy_drop = a.max_drop;
  qo.auto_precision = a.auto_precision;
  return qo;
}

void add_options(CLI::App* c, QuantArgs& a, bool with_precision) {
  if (with_precision) {
    c->add_option("--precision", a.precision, "default=int8|fp16|fp32 then <node-glob>=<precision>,... (last match wins)");
    c->add_flag("--int8", a.int8, "same as --precision int8");
    c->add_flag("--fp16", a.fp16, "same as --precision fp16");
    c->add_flag("--auto-precision", a.auto_precision, "pick the fastest INT8/FP16/FP32 mix within --max-accuracy-drop on --val");
    c->add_option("--max-accuracy-drop", a.max_drop, "percentage points of validation accuracy INT8 may lose vs FP32 (guard; default: no guard)");
  }
  c->add_option("--calib", a.calib, "calibration windows .npy float32 [N, T, F] (tools/quant/sets.py)")->check(CLI::ExistingFile);
  c->add_option("--calibrator", a.calibrator, "minmax | percentile | entropy (KL, TensorRT-style)")->capture_default_str();
  c->add_option("--percentile", a.percentile, "percentile of |x| for --calibrator percentile")->capture_default_str();
  c->add_option("--calib-cache", a.calib_cache, "calibration cache file: reused when it matches the model and calibrator, written otherwise");
  c->add_option("--val", a.val, "validation windows .npy (guard, auto-precision)")->check(CLI::ExistingFile);
  c->add_option("--val-labels", a.val_labels, "validation labels .npy int64 [N]")->check(CLI::ExistingFile);
}

Graph import(const std::string& model) {
  auto g = import_onnx_file(model);
  if (!g) die(g.status().to_string());
  return std::move(*g);
}

void print_log(const quant::QuantReport& r) {
  for (auto& l : r.log) std::printf("%s\n", l.c_str());
  for (auto& l : r.layers)
    std::printf("  %-40s %-18s %-5s %8lld weight bytes\n", l.node.c_str(), l.op.c_str(), quant::precision_name(l.precision),
                static_cast<long long>(l.weight_bytes));
  if (r.val_acc >= 0)
    std::printf("validation: accuracy %.4f (FP32 %.4f, drop %.2f pp), argmax agreement with FP32 %.4f\n", r.val_acc, r.val_acc_fp32,
                100 * (r.val_acc_fp32 - r.val_acc), r.val_agreement);
}

// ---- calibrate --------------------------------------------------------------------------------------------
void calibrate_cmd(const std::string& model, const QuantArgs& a, const std::string& isa_s) {
  if (a.calib.empty()) die("--calib <windows.npy> is required");
  if (a.calib_cache.empty()) die("--calib-cache <file> is required (where to write the table)");
  const Graph src = import(model);
  BuildOptions bo;
  bo.batch = {1, 1, 64};
  Graph fused = src;
  if (auto st = optimize_graph(fused, bo, nullptr); !st.ok()) die(st.to_string());
  const TensorData x = load_npy(a.calib, "--calib");
  auto c = quant::parse_calibrator(a.calibrator);
  if (!c) die(c.status().message());
  const auto t0 = now_ns();
  auto table = quant::calibrate(fused, x, *c, bo, a.percentile);
  if (!table) die(table.status().to_string());
  if (auto st = table->save(a.calib_cache); !st.ok()) die(st.to_string());
  std::printf("calibrated %s on %lld windows in %.1f ms with %s -> %s (model %s)\n", model.c_str(), static_cast<long long>(table->windows),
              (now_ns() - t0) / 1e6, quant::calibrator_name(*c), a.calib_cache.c_str(), table->model_id.c_str());
  // Every calibrator's threshold side by side, for the record (same histograms).
  auto mm = quant::calibrate(fused, x, quant::Calibrator::minmax, bo);
  auto pc = quant::calibrate(fused, x, quant::Calibrator::percentile, bo, a.percentile);
  auto en = quant::calibrate(fused, x, quant::Calibrator::entropy, bo);
  if (!mm || !pc || !en) die("calibrating");
  std::printf("  %-44s %10s %10s %10s %10s\n", "tensor", "max|x|", "minmax", "percentile", "entropy");
  for (auto& [name, r] : table->tensors)
    std::printf("  %-44s %10.4g %10.4g %10.4g %10.4g\n", name.c_str(), r.amax, mm->tensors[name].threshold, pc->tensors[name].threshold,
                en->tensors[name].threshold);
  (void)isa_s;
}

// ---- quant-sensitivity --------------------------------------------------------------------------------------
void sensitivity_cmd(const std::string& model, const QuantArgs& a, const std::string& prec) {
  if (a.val.empty() || a.val_labels.empty()) die("--val and --val-labels are required (labelled windows to measure accuracy on)");
  Loaded l;
  QuantArgs b = a;
  b.precision = "int8";
  quant::QuantOptions qo = make_options(b, l);
  const Graph src = import(model);
  BuildOptions bo;
  bo.batch = {1, 1, 64};
  // Calibration from the cache or the windows, as build does.
  quant::QuantReport rep;
  auto e = quant::build_engine(src, bo, qo, &rep);
  if (!e) die(e.status().to_string());
  auto p = quant::parse_precision_word(prec);
  if (!p) die(p.status().message());
  auto s = quant::sensitivity(src, bo, rep.calib, *l.val, *l.val_labels, *p);
  if (!s) die(s.status().to_string());
  std::printf("sensitivity of %s: validation accuracy with only that layer in %s (all others FP32), most harmful first\n", model.c_str(),
              quant::precision_name(*p));
  std::printf("FP32 accuracy %.4f on %lld windows\n", rep.val_acc_fp32, static_cast<long long>(l.val->dims[0]));
  std::printf("  %-3s %-44s %-18s %9s %9s %10s\n", "#", "node", "op", "accuracy", "drop pp", "agreement");
  int i = 0;
  for (auto& r : *s)
    std::printf("  %-3d %-44s %-18s %9.4f %9.2f %10.4f\n", ++i, r.node.c_str(), r.op.c_str(), r.accuracy, r.drop_pp, r.agreement);
}

// ---- quant-eval: the measurements behind docs/QUANTIZATION.md ------------------------------------------
struct EvalArgs {
  std::string model, name, test, test_labels, out_dir = "build/quant";
  double seconds = 0.3, max_drop = 0.5;
  int rounds = 3;
};

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\';
    o += ch;
  }
  return o + "\"";
}

void eval_cmd(const EvalArgs& ea, const QuantArgs& a) {
  if (a.calib.empty() || a.val.empty() || ea.test.empty()) die("--calib, --val/--val-labels and --test/--test-labels are required");
  Loaded l;
  const Graph src = import(ea.model);
  const TensorData tx = load_npy(ea.test, "--test"), ty = load_npy(ea.test_labels, "--test-labels");
  std::filesystem::create_directories(ea.out_dir);
  const std::string name = ea.name.empty() ? std::filesystem::path(ea.model).parent_path().filename().string() : ea.name;
  BuildOptions bo;
  bo.batch = {1, 1, 64};
  struct Variant {
    std::string label, spec, calibrator;
    bool auto_p = false, timed = true;
    std::shared_ptr<Engine> eng;
    quant::QuantReport rep;
    quant::EvalResult test;
    std::int64_t file_bytes = 0;
    bool reload_match = false;
    std::vector<double> lat1, lat64;
    std::vector<std::int64_t> prof_ns;
    std::size_t arena1 = 0, arena64 = 0;
  };
  auto mk = [](const char* label, const char* spec, const char* cal, bool auto_p, bool timed) {
    Variant v;
    v.label = label;
    v.spec = spec;
    v.calibrator = cal;
    v.auto_p = auto_p;
    v.timed = timed;
    return v;
  };
  std::vector<Variant> vs;
  vs.push_back(mk("fp32", "fp32", "", false, true));
  vs.push_back(mk("fp16", "fp16", "", false, true));
  vs.push_back(mk("int8", "int8", "entropy", false, true));
  vs.push_back(mk("int8-minmax", "int8", "minmax", false, false));
  vs.push_back(mk("int8-percentile", "int8", "percentile", false, false));
  vs.push_back(mk("auto", "int8", "entropy", true, true));
  for (auto& v : vs) {
    QuantArgs b = a;
    b.precision = v.spec;
    if (!v.calibrator.empty()) b.calibrator = v.calibrator;
    b.calib_cache = ea.out_dir + "/" + name + "." + (v.calibrator.empty() ? "entropy" : v.calibrator) + ".calib";
    b.auto_precision = v.auto_p;
    b.max_drop = v.auto_p ? ea.max_drop : -1;
    quant::QuantOptions qo = make_options(b, l);
    auto e = quant::build_engine(src, bo, qo, &v.rep);
    if (!e) die(name + " " + v.label + ": " + e.status().to_string());
    // Save, reload, and use the reloaded engine: what a deployment runs.
    const std::string path = ea.out_dir + "/" + name + "." + v.label + ".engine";
    if (auto st = (*e)->save(path); !st.ok()) die(st.to_string());
    v.file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(path));
    auto loaded = Engine::load(path);
    if (!loaded) die(loaded.status().to_string());
    auto r_built = quant::evaluate(*e, tx, &ty);
    auto r = quant::evaluate(*loaded, tx, &ty);
    if (!r || !r_built) die("evaluating " + v.label);
    v.reload_match = r->argmax == r_built->argmax;
    v.test = *r;
    v.eng = *loaded;
    std::fprintf(stderr, "%s %s: test acc %.4f\n", name.c_str(), v.label.c_str(), v.test.accuracy());
  }
  // Latency: every timed variant at batch 1 and 64, interleaved round by round so they share the machine's state.
  const std::int64_t per = tx.count() / tx.dims[0];
  std::vector<std::unique_ptr<ExecutionContext>> ctx1, ctx64;
  for (auto& v : vs) {
    ctx1.push_back(std::make_unique<ExecutionContext>(v.eng));
    ctx64.push_back(std::make_unique<ExecutionContext>(v.eng));
    if (!ctx1.back()->prepare_batch(1).ok() || !ctx64.back()->prepare_batch(64).ok()) die("prepare");
    std::memcpy(ctx1.back()->input(0), tx.as<float>(), static_cast<std::size_t>(per) * 4);
    std::memcpy(ctx64.back()->input(0), tx.as<float>(), static_cast<std::size_t>(std::min<std::int64_t>(64, tx.dims[0]) * per) * 4);
    v.arena1 = ctx1.back()->plan().arena_bytes;
    v.arena64 = ctx64.back()->plan().arena_bytes;
  }
  for (int round = 0; round < ea.rounds; ++round)
    for (std::size_t i = 0; i < vs.size(); ++i) {
      if (!vs[i].timed) continue;
      vs[i].lat1.push_back(measure_latency(*ctx1[i], 1, ea.seconds).median_us);
      vs[i].lat64.push_back(measure_latency(*ctx64[i], 64, ea.seconds).median_us);
    }
  // Per-kernel profile at batch 1: 7 passes of 50 runs, interleaved across variants; per step the fastest
  // pass (a pass hit by another process's burst shows up as one slow step, not as a property of the kernel).
  constexpr int kPass = 7, kRuns = 50;
  std::vector<std::vector<std::int64_t>> best(vs.size());
  for (int pass = 0; pass < kPass; ++pass)
    for (std::size_t i = 0; i < vs.size(); ++i) {
      std::vector<std::int64_t> ns(ctx1[i]->plan().steps.size(), 0);
      for (int k = 0; k < kRuns; ++k) (void)ctx1[i]->run_profiled(ns);
      if (best[i].empty()) best[i] = ns;
      for (std::size_t s = 0; s < ns.size(); ++s) best[i][s] = std::min(best[i][s], ns[s]);
    }
  for (std::size_t i = 0; i < vs.size(); ++i) vs[i].prof_ns = best[i];
  auto med = [](std::vector<double> x) {
    if (x.empty()) return -1.0;
    std::sort(x.begin(), x.end());
    return x[x.size() / 2];
  };
  const auto& base = vs[0].test;
  for (std::size_t i = 0; i < vs.size(); ++i) {
    auto& v = vs[i];
    std::string layers = "[";
    for (auto& lc : v.rep.layers)
      layers += std::string(layers.size() > 1 ? ", " : "") + "{\"node\": " + json_str(lc.node) + ", \"op\": " + json_str(lc.op) +
                ", \"precision\": \"" + quant::precision_name(lc.precision) + "\", \"weight_bytes\": " + std::to_string(lc.weight_bytes) + "}";
    layers += "]";
    std::string prof = "[";
    auto& steps = ctx1[i]->plan().steps;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const Node* n = steps[s].node;
      char b[64];
      std::snprintf(b, sizeof b, "%.3f", v.prof_ns[s] / static_cast<double>(kRuns) / 1e3);
      prof += std::string(prof.size() > 1 ? ", " : "") + "[" + json_str((n->domain.empty() ? "" : n->domain + ".") + n->op) + ", " +
              json_str(n->name) + ", " + b + "]";
    }
    prof += "]";
    std::string logs = "[";
    for (auto& s : v.rep.log) logs += std::string(logs.size() > 1 ? ", " : "") + json_str(s);
    logs += "]";
    std::printf("{\"model\": %s, \"variant\": %s, \"spec\": %s, \"calibrator\": %s, \"calib_windows\": %lld, \"test_n\": %lld, "
                "\"test_acc\": %.6f, \"test_agree_fp32\": %.6f, \"val_acc\": %.6f, \"val_acc_fp32\": %.6f, \"lat_b1_us\": %.3f, "
                "\"lat_b64_us\": %.3f, \"lat_b1_rounds\": [%s], \"engine_bytes\": %lld, \"weight_bytes\": %lld, \"arena_b1\": %zu, "
                "\"arena_b64\": %zu, \"reload_match\": %s, \"int8_isa\": \"%s\", \"isa\": \"%s\", \"avx512fp16\": %s, \"layers\": %s, "
                "\"profile_b1_us\": %s, \"log\": %s}\n",
                json_str(name).c_str(), json_str(v.label).c_str(), json_str(v.rep.chosen.to_string()).c_str(),
                json_str(v.calibrator.empty() ? "-" : v.calibrator).c_str(), static_cast<long long>(v.rep.calib.windows),
                static_cast<long long>(v.test.n), v.test.accuracy(), quant::agreement(v.test, base), v.rep.val_acc, v.rep.val_acc_fp32,
                med(v.lat1), med(v.lat64),
                [&] {
                  std::string s;
                  for (double x : v.lat1) s += (s.empty() ? "" : ", ") + std::to_string(x);
                  return s;
                }().c_str(),
                static_cast<long long>(v.file_bytes), static_cast<long long>(quant::constant_bytes(v.eng->graph())), v.arena1, v.arena64,
                v.reload_match ? "true" : "false", cpu::int8_isa_name(cpu::int8_isa(v.eng->isa())), cpu::isa_name(v.eng->isa()),
                cpu::cpu_has_avx512fp16() ? "true" : "false", layers.c_str(), prof.c_str(), logs.c_str());
  }
}

}  // namespace

void add_quant_build_options(CLI::App* build) { add_options(build, g_build, true); }

bool quant_build_requested() {
  const auto& a = g_build;
  return a.int8 || a.fp16 || a.auto_precision || !a.precision.empty() || a.max_drop >= 0;
}

std::shared_ptr<infer::Engine> quant_build(const std::string& model, const infer::BuildOptions& bo) {
  Loaded l;
  quant::QuantOptions qo = make_options(g_build, l);
  // The guard needs a baseline: with validation data and no explicit limit, just report the drop.
  quant::QuantReport rep;
  auto e = quant::build_engine(import(model), bo, qo, &rep);
  print_log(rep);
  if (!e) die("building " + model + ": " + e.status().to_string());
  return *e;
}

void register_quant(CLI::App& app) {
  {
    static std::string model, isa;
    static QuantArgs a;
    auto* c = app.add_subcommand("calibrate", "Calibrate INT8 activation ranges on representative windows and write the calibration cache");
    c->add_option("model", model, "ONNX model")->required()->check(CLI::ExistingFile);
    add_options(c, a, false);
    c->footer("Examples:\n  tools/quant/sets.py --out build/quant/sets   # calibration / validation / test windows\n"
              "  tickrt calibrate models/trained/lstm_attn_s/model.onnx --calib build/quant/sets/calib_x.npy \\\n"
              "      --calibrator entropy --calib-cache build/quant/lstm_attn_s.calib\n"
              "  tickrt build models/trained/lstm_attn_s/model.onnx -o m.engine --int8 --calib-cache build/quant/lstm_attn_s.calib");
    c->callback([] { calibrate_cmd(model, a, isa); });
  }
  {
    static std::string model, prec = "int8";
    static QuantArgs a;
    auto* c = app.add_subcommand("quant-sensitivity", "Rank layers by the validation accuracy lost when only that layer is quantized");
    c->add_option("model", model, "ONNX model")->required()->check(CLI::ExistingFile);
    c->add_option("--as", prec, "precision tried per layer: int8 or fp16")->capture_default_str();
    add_options(c, a, false);
    c->footer("Example:\n  tickrt quant-sensitivity models/trained/lstm_attn_s/model.onnx --calib build/quant/sets/calib_x.npy \\\n"
              "      --val build/quant/sets/val_x.npy --val-labels build/quant/sets/val_y.npy");
    c->callback([] { sensitivity_cmd(model, a, prec); });
  }
  {
    static EvalArgs ea;
    static QuantArgs a;
    auto* c = app.add_subcommand("quant-eval", "FP32 vs FP16 vs INT8 vs auto: accuracy, agreement, latency b1/b64, size, memory (JSON lines)");
    c->add_option("model", ea.model, "ONNX model")->required()->check(CLI::ExistingFile);
    c->add_option("--name", ea.name, "model name (default: the model's folder name)");
    c->add_option("--test", ea.test, "test windows .npy")->required()->check(CLI::ExistingFile);
    c->add_option("--test-labels", ea.test_labels, "test labels .npy")->required()->check(CLI::ExistingFile);
    c->add_option("--out-dir", ea.out_dir, "where engines and calibration caches go")->capture_default_str();
    c->add_option("--seconds", ea.seconds, "timing budget per variant, batch and round")->capture_default_str();
    c->add_option("--rounds", ea.rounds, "interleaved timing rounds (the median is reported)")->capture_default_str();
    c->add_option("--max-accuracy-drop", ea.max_drop, "tolerance for the auto variant (pp)")->capture_default_str();
    add_options(c, a, false);
    c->footer("Used by tools/quant/report.py (make quant-report), which writes docs/QUANTIZATION.md.");
    c->callback([] { eval_cmd(ea, a); });
  }
}

}  // namespace tickrt::cli
