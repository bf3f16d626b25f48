// Precision specs (--precision), the FP32 -> INT8 / FP16 rewrite of fused nodes, accuracy evaluation, the
// one-call build with its validation guard and automatic mixed precision, and per-layer sensitivity.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include "infer/cpu/int8_kernels.hpp"
#include "infer/latency.hpp"
#include "infer/passes/passes.hpp"
#include "infer/quant/quant.hpp"

namespace tickrt::infer::quant {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::fp16: return "fp16";
    case Precision::int8: return "int8";
  }
  return "?";
}

Result<Precision> parse_precision_word(const std::string& s) {
  if (s == "fp32" || s == "float32") return Precision::fp32;
  if (s == "fp16" || s == "float16" || s == "half") return Precision::fp16;
  if (s == "int8") return Precision::int8;
  return Status(Code::invalid_argument, "precision '" + s + "': expected fp32, fp16 or int8");
}

bool glob_match(const std::string& pat, const std::string& s) {
  // Iterative glob with backtracking to the last '*'.
  std::size_t p = 0, i = 0, star = std::string::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) { ++p; ++i; }
    else if (p < pat.size() && pat[p] == '*') { star = p++; mark = i; }
    else if (star != std::string::npos) { p = star + 1; i = ++mark; }
    else return false;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

Precision PrecisionSpec::resolve(const std::string& name) const {
  Precision p = def;
  for (auto& [pat, pr] : rules)
    if (glob_match(pat, name)) p = pr;
  return p;
}

std::string PrecisionSpec::to_string() const {
  std::string s = std::string("default=") + precision_name(def);
  for (auto& [pat, p] : rules) s += "," + pat + "=" + precision_name(p);
  return s;
}

Result<PrecisionSpec> parse_precision_spec(const std::string& text) {
  PrecisionSpec spec;
  if (text.empty()) return Status(Code::invalid_argument, "--precision: empty (e.g. default=int8,*attn*=fp32)");
  std::size_t pos = 0;
  int item = 0;
  bool seen_default = false;
  while (pos <= text.size()) {
    const std::size_t comma = text.find(',', pos);
    const std::string tok = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    ++item;
    const std::string where = "--precision '" + text + "', item " + std::to_string(item) + " ('" + tok + "')";
    if (tok.empty()) return Status(Code::invalid_argument, where + ": empty item (stray comma?)");
    const std::size_t eq = tok.rfind('=');
    std::string pat = eq == std::string::npos ? "default" : tok.substr(0, eq);
    const std::string word = eq == std::string::npos ? tok : tok.substr(eq + 1);
    if (eq != std::string::npos && pat.empty()) return Status(Code::invalid_argument, where + ": missing node-name pattern before '='");
    auto p = parse_precision_word(word);
    if (!p) return Status(Code::invalid_argument, where + ": " + p.status().message());
    if (pat == "default") {
      if (seen_default) return Status(Code::invalid_argument, where + ": default given twice");
      if (item != 1) return Status(Code::invalid_argument, where + ": default must come first (later patterns override it)");
      seen_default = true;
      spec.def = *p;
    } else {
      spec.rules.emplace_back(pat, *p);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return spec;
}

std::int64_t constant_bytes(const Graph& g) {
  std::int64_t n = 0;
  for (const Value& v : g.values)
    if (v.constant) n += static_cast<std::int64_t>(v.constant->nbytes);
  return n;
}

std::vector<std::pair<std::string, std::string>> quantizable_nodes(const Graph& g) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Node& n : g.nodes)
    if (!n.dead && n.domain == "tickrt" && (n.op == "FusedLSTM" || n.op == "FusedGemm")) out.emplace_back(n.name, "tickrt." + n.op);
  return out;
}

namespace {

TensorData blob(const std::vector<std::byte>& b) { return TensorData::from_bytes(DType::u8, {static_cast<std::int64_t>(b.size())}, b.data(), b.size()); }

std::vector<std::byte> pack(Precision p, const float* nk, const float* kn, int K, int N) {
  std::vector<std::byte> b(p == Precision::int8 ? cpu::i8_packed_bytes(K, N) : cpu::f16_packed_bytes(K, N));
  if (p == Precision::int8) cpu::i8_pack_weights(nk, kn, K, N, b.data());
  else cpu::f16_pack_weights(nk, kn, K, N, b.data());
  return b;
}

}  // namespace

Result<std::vector<LayerChoice>> apply_precision(Graph& g, const Graph& source, const PrecisionSpec& spec, const CalibrationTable* calib) {
  // The fused FP32 nodes hold ISA-packed panels; the original weights are re-read from the source graph
  // (after dead-node removal and constant folding, which is where the fusions found them constant).
  Graph src = source;
  if (auto r = passes::eliminate_dead_nodes(src); !r) return r.status();
  if (auto r = passes::fold_constants(src, cpu::Isa::scalar); !r) return r.status();
  std::map<std::string, const Node*> by_name;
  for (const Node& n : src.nodes)
    if (!n.dead) by_name[n.name] = &n;
  std::vector<LayerChoice> out;
  int changed = 0;
  for (std::size_t ni = 0; ni < g.nodes.size(); ++ni) {
    Node& n = g.nodes[ni];
    if (n.dead || n.domain != "tickrt" || (n.op != "FusedLSTM" && n.op != "FusedGemm")) continue;
    LayerChoice lc{n.name, "tickrt." + n.op, spec.resolve(n.name), 0};
    const Precision p = lc.precision;
    if (p == Precision::fp32) {
      for (int v : n.inputs)
        if (g.is_const(v)) lc.weight_bytes += static_cast<std::int64_t>(g.const_data(v).nbytes);
      out.push_back(lc);
      continue;
    }
    auto it = by_name.find(n.name);
    if (it == by_name.end()) return Status(Code::not_found, n.label() + ": no node of that name in the source graph to read its weights from");
    const Node& s = *it->second;
    const std::string& xname = g.values[n.inputs[0]].name;
    float scale = 0;
    if (p == Precision::int8) {
      if (!calib) return Status(Code::invalid_argument, n.label() + ": INT8 needs calibration (--calib <windows.npy> or --calib-cache)");
      auto t = calib->tensors.find(xname);
      if (t == calib->tensors.end())
        return Status(Code::not_found, n.label() + ": input '" + xname + "' has no range in the calibration table (made for another model? recalibrate)");
      scale = static_cast<float>(t->second.threshold / 127.0);
    }
    auto cst = [&](int k) -> const TensorData* {
      const int v = k < static_cast<int>(s.inputs.size()) ? s.inputs[k] : -1;
      return src.is_const(v) && src.const_data(v).dtype == DType::f32 ? &src.const_data(v) : nullptr;
    };
    if (n.op == "FusedLSTM") {
      const int I = static_cast<int>(n.attr_i("I", 0)), H = static_cast<int>(n.attr_i("H", 0));
      const TensorData *W = cst(1), *R = cst(2), *B = cst(3);
      if (s.op != "LSTM" || !W || !R || W->count() != 4LL * H * I || R->count() != 4LL * H * H)
        return Status(Code::internal, n.label() + ": source node is not an LSTM with constant W [1,4H,I] and R [1,4H,H]");
      std::vector<float> bias(static_cast<std::size_t>(4 * H), 0.f);
      if (B) {
        if (B->count() != 8LL * H) return Status(Code::invalid_argument, s.label() + ": B is not [1, 8H]");
        for (int j = 0; j < 4 * H; ++j) bias[j] = B->as<float>()[j] + B->as<float>()[4 * H + j];
      }
      auto wb = pack(p, W->as<float>(), nullptr, I, 4 * H), rb = pack(p, R->as<float>(), nullptr, H, 4 * H);
      lc.weight_bytes = static_cast<std::int64_t>(wb.size() + rb.size() + bias.size() * 4);
      const int x = n.inputs[0];
      const int h0 = n.inputs.size() > 2 ? n.inputs[2] : -1, c0 = n.inputs.size() > 3 ? n.inputs[3] : -1;   // streaming state
      n.inputs = {x, g.add_constant(g.unique_name(n.name + "/W_" + precision_name(p)), blob(wb)),
                  g.add_constant(g.unique_name(n.name + "/R_" + precision_name(p)), blob(rb)),
                  g.add_constant(g.unique_name(n.name + "/bias"), TensorData::from_bytes(DType::f32, {4LL * H}, bias.data(), bias.size() * 4))};
      if (h0 >= 0 || c0 >= 0) {   // kept as inputs 4, 5 (attrs h0_layer / c0_layer stay)
        n.inputs.push_back(h0);
        n.inputs.push_back(c0);
      }
      n.op = p == Precision::int8 ? "Int8LSTM" : "Fp16LSTM";
      if (p == Precision::int8) {
        n.attrs["x_scale"].kind = Attr::Kind::f;
        n.attrs["x_scale"].f = scale;
      }
    } else {
      const int K = static_cast<int>(n.attr_i("K", 0)), N = static_cast<int>(n.attr_i("N", 0));
      const TensorData* Bm = cst(1);
      if ((s.op != "MatMul" && s.op != "Gemm") || !Bm || Bm->dims.size() != 2)
        return Status(Code::internal, n.label() + ": source node is not a MatMul/Gemm with a constant 2-D B");
      const bool trans_b = s.op == "Gemm" && s.attr_i("transB", 0) != 0;
      if ((trans_b ? Bm->dims[1] : Bm->dims[0]) != K || (trans_b ? Bm->dims[0] : Bm->dims[1]) != N)
        return Status(Code::internal, n.label() + ": source B " + dims_str(Bm->dims) + " does not match K, N");
      auto wb = trans_b ? pack(p, Bm->as<float>(), nullptr, K, N) : pack(p, nullptr, Bm->as<float>(), K, N);
      lc.weight_bytes = static_cast<std::int64_t>(wb.size()) + (n.inputs.size() > 2 && n.inputs[2] >= 0 ? 4LL * N : 0);
      n.inputs[1] = g.add_constant(g.unique_name(n.name + "/W_" + precision_name(p)), blob(wb));
      n.op = p == Precision::int8 ? "Int8Gemm" : "Fp16Gemm";
      if (p == Precision::int8) {
        n.attrs["a_scale"].kind = Attr::Kind::f;
        n.attrs["a_scale"].f = scale;
      }
    }
    n.attrs.erase("isa");   // the blobs are ISA independent
    ++changed;
    out.push_back(lc);
  }
  g.compact();
  std::string desc;
  for (auto& l : out) desc += (desc.empty() ? "" : ";") + l.node + "=" + precision_name(l.precision);
  g.metadata["tickrt.precision"] = desc;
  g.metadata["tickrt.precision_spec"] = spec.to_string();
  if (calib && changed) {
    bool any_int8 = false;
    for (auto& l : out) any_int8 |= l.precision == Precision::int8;
    if (any_int8) g.metadata["tickrt.calibration"] = calib->to_text();
  }
  TICKRT_RETURN_IF_ERROR(g.validate());
  return out;
}

Result<EvalResult> evaluate(const std::shared_ptr<Engine>& e, const TensorData& x, const TensorData* labels) {
  EvalResult r;
  if (x.dtype != DType::f32 || x.dims.size() < 2) return Status(Code::invalid_argument, "windows must be float32 [N, ...]");
  const std::int64_t N = x.dims[0], per = x.count() / std::max<std::int64_t>(N, 1);
  if (labels && (labels->count() != N || (labels->dtype != DType::i64 && labels->dtype != DType::i32)))
    return Status(Code::invalid_argument, "labels must be int64 [" + std::to_string(N) + "], got " + dtype_name(labels->dtype) + " " + dims_str(labels->dims));
  const std::vector<std::int64_t> lab = labels ? labels->to_i64() : std::vector<std::int64_t>{};
  ExecutionContext ctx(e);
  const std::int64_t bmax = std::min<std::int64_t>(64, e->profile().max);
  r.argmax.reserve(static_cast<std::size_t>(N));
  for (std::int64_t s = 0; s < N; s += bmax) {
    const std::int64_t b = std::min(bmax, N - s);
    TICKRT_RETURN_IF_ERROR(ctx.prepare_batch(b));
    if (numel(ctx.input_dims(0)) != b * per)
      return Status(Code::invalid_argument, "windows " + dims_str(x.dims) + " do not match the model input " + dims_str(e->input_shape(0)));
    std::memcpy(ctx.input(0), x.as<float>() + s * per, static_cast<std::size_t>(b * per) * 4);
    if (ctx.run() != Code::ok) return Status(Code::internal, "run failed");
    const std::int64_t C = numel(ctx.output_dims(0)) / b;
    const float* y = ctx.output(0);
    for (std::int64_t i = 0; i < b; ++i) {
      const float* row = y + i * C;
      const int am = static_cast<int>(std::max_element(row, row + C) - row);
      r.argmax.push_back(am);
      if (labels && lab[static_cast<std::size_t>(s + i)] >= 0) {
        ++r.n;
        r.correct += am == lab[static_cast<std::size_t>(s + i)];
      }
    }
  }
  if (!labels) r.n = N;
  return r;
}

double agreement(const EvalResult& a, const EvalResult& b) {
  const std::size_t n = std::min(a.argmax.size(), b.argmax.size());
  if (!n) return 0;
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += a.argmax[i] == b.argmax[i];
  return static_cast<double>(same) / static_cast<double>(n);
}

namespace {

Result<Graph> fuse(const Graph& source, const BuildOptions& bo) {
  Graph g = source;
  TICKRT_RETURN_IF_ERROR(g.validate());
  auto st = optimize_graph(g, bo, nullptr);
  if (!st.ok()) return st.with_context("optimizing");
  return g;
}

Result<std::shared_ptr<Engine>> build_with(const Graph& fused, const Graph& source, const BuildOptions& bo, const PrecisionSpec& spec,
                                           const CalibrationTable* calib, std::vector<LayerChoice>* layers) {
  Graph g = fused;
  auto lc = apply_precision(g, source, spec, calib);
  if (!lc) return lc.status();
  if (layers) *layers = *lc;
  BuildOptions b2 = bo;
  b2.optimize = false;   // already fused; the rewrite only swapped ops and weights
  return Engine::build(std::move(g), b2);
}

bool needs_int8(const Graph& fused, const PrecisionSpec& spec, bool auto_precision) {
  if (auto_precision) return true;
  for (auto& [name, op] : quantizable_nodes(fused))
    if (spec.resolve(name) == Precision::int8) return true;
  return false;
}

}  // namespace

Result<std::shared_ptr<Engine>> build_engine(const Graph& source, const BuildOptions& bo, const QuantOptions& qo, QuantReport* rep) {
  QuantReport local;
  QuantReport& R = rep ? *rep : local;
  auto fused = fuse(source, bo);
  if (!fused) return fused.status();
  // Calibration: the cache if it matches this model and calibrator, else a run over the windows.
  CalibrationTable calib;
  bool have_calib = false;
  if (needs_int8(*fused, qo.spec, qo.auto_precision)) {
    const std::string id = model_id(*fused);
    if (!qo.calib_cache.empty()) {
      auto c = CalibrationTable::load(qo.calib_cache);
      if (c && c->model_id == id && c->calibrator == qo.calibrator) {
        calib = *c;
        have_calib = R.calib_from_cache = true;
        R.log.push_back("calibration: reused " + qo.calib_cache + " (" + std::to_string(c->windows) + " windows, " + calibrator_name(c->calibrator) + ")");
      } else if (c) {
        R.log.push_back("calibration: " + qo.calib_cache + " was made for " + (c->model_id != id ? "another model" : "another calibrator") + ": recalibrating");
      } else if (c.status().code() != Code::not_found) {
        return c.status();
      }
    }
    if (!have_calib) {
      if (!qo.calib) return Status(Code::invalid_argument, "INT8 needs calibration windows (--calib <windows.npy>) or a matching --calib-cache");
      auto c = calibrate(*fused, *qo.calib, qo.calibrator, bo, qo.percentile);
      if (!c) return c.status().with_context("calibrating");
      calib = *c;
      have_calib = true;
      R.log.push_back("calibration: " + std::to_string(calib.windows) + " windows, " + calibrator_name(calib.calibrator));
      if (!qo.calib_cache.empty()) {
        TICKRT_RETURN_IF_ERROR(calib.save(qo.calib_cache));
        R.log.push_back("calibration: wrote " + qo.calib_cache);
      }
    }
    R.calib = calib;
  }
  const CalibrationTable* cp = have_calib ? &calib : nullptr;
  const bool validate = qo.val && qo.val_labels;
  if (qo.auto_precision && (!validate || qo.max_accuracy_drop < 0))
    return Status(Code::invalid_argument, "--auto-precision needs validation windows and labels (--val, --val-labels) and --max-accuracy-drop");
  EvalResult base;
  if (validate) {
    auto e32 = build_with(*fused, source, bo, PrecisionSpec{}, nullptr, nullptr);
    if (!e32) return e32.status();
    auto r = evaluate(*e32, *qo.val, qo.val_labels);
    if (!r) return r.status().with_context("validating FP32");
    base = *r;
    R.val_acc_fp32 = base.accuracy();
  }
  auto drop_pp = [&](const EvalResult& r) { return 100.0 * (base.accuracy() - r.accuracy()); };
  PrecisionSpec spec = qo.spec;
  if (qo.auto_precision) {
    // Fastest first: every quantizable layer INT8. While over the tolerance, the layer whose INT8 alone costs
    // the most accuracy steps up (INT8 -> FP16 -> FP32), most sensitive first. A greedy walk, not an
    // exhaustive search: at most 2 * layers + 1 candidate engines are built and validated.
    const auto nodes = quantizable_nodes(*fused);
    std::vector<std::pair<double, std::string>> order;
    for (auto& [name, op] : nodes) {
      PrecisionSpec one;
      one.rules.emplace_back(name, Precision::int8);
      auto e = build_with(*fused, source, bo, one, cp, nullptr);
      if (!e) return e.status();
      auto r = evaluate(*e, *qo.val, qo.val_labels);
      if (!r) return r.status();
      order.emplace_back(drop_pp(*r) + 1e-3 * (1.0 - agreement(*r, base)), name);
    }
    std::stable_sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::map<std::string, Precision> cur;
    for (auto& [name, op] : nodes) cur[name] = Precision::int8;
    auto to_spec = [&] {
      PrecisionSpec s;
      s.def = Precision::fp32;
      for (auto& [name, p] : cur) s.rules.emplace_back(name, p);
      return s;
    };
    // Is FP16 a step worth taking on this CPU? All-FP16 vs all-FP32 at batch 1, timed here (interleaved, 3 x
    // 0.1 s each): where FP16 is not faster (it is not on Sapphire Rapids, docs/QUANTIZATION.md) a layer goes
    // from INT8 straight to FP32.
    bool fp16_step = false;
    {
      PrecisionSpec all16;
      all16.def = Precision::fp16;
      auto e16 = build_with(*fused, source, bo, all16, cp, nullptr);
      auto e32 = build_with(*fused, source, bo, PrecisionSpec{}, nullptr, nullptr);
      if (!e16) return e16.status();
      if (!e32) return e32.status();
      ExecutionContext c16(*e16), c32(*e32);
      TICKRT_RETURN_IF_ERROR(c16.prepare_batch(1));
      TICKRT_RETURN_IF_ERROR(c32.prepare_batch(1));
      const std::int64_t per = qo.val->count() / qo.val->dims[0];
      std::memcpy(c16.input(0), qo.val->as<float>(), static_cast<std::size_t>(per) * 4);
      std::memcpy(c32.input(0), qo.val->as<float>(), static_cast<std::size_t>(per) * 4);
      std::vector<double> t16, t32;
      for (int r = 0; r < 3; ++r) {
        t16.push_back(measure_latency(c16, 1, 0.1).median_us);
        t32.push_back(measure_latency(c32, 1, 0.1).median_us);
      }
      std::sort(t16.begin(), t16.end());
      std::sort(t32.begin(), t32.end());
      fp16_step = t16[1] < t32[1];
      char line[256];
      std::snprintf(line, sizeof line, "auto-precision: batch 1 all-FP16 %.1f us vs all-FP32 %.1f us -> fallback INT8 -> %s", t16[1], t32[1],
                    fp16_step ? "FP16 -> FP32" : "FP32 (FP16 is not faster here)");
      R.log.push_back(line);
    }
    // The walk: each layer INT8 -> FP16 in sensitivity order, then FP16 -> FP32 in the same order (or INT8 ->
    // FP32 directly when FP16 does not pay).
    std::vector<std::pair<std::string, Precision>> moves;
    if (fp16_step)
      for (auto& o : order) moves.emplace_back(o.second, Precision::fp16);
    for (auto& o : order) moves.emplace_back(o.second, Precision::fp32);
    for (std::size_t m = 0;; ++m) {
      auto e = build_with(*fused, source, bo, to_spec(), cp, nullptr);
      if (!e) return e.status();
      auto r = evaluate(*e, *qo.val, qo.val_labels);
      if (!r) return r.status();
      char line[512];
      std::snprintf(line, sizeof line, "auto-precision: %s -> val acc %.4f (FP32 %.4f, drop %.2f pp, limit %.2f)", to_spec().to_string().c_str(),
                    r->accuracy(), base.accuracy(), drop_pp(*r), qo.max_accuracy_drop);
      R.log.push_back(line);
      if (drop_pp(*r) <= qo.max_accuracy_drop || m >= moves.size()) break;
      cur[moves[m].first] = moves[m].second;
    }
    spec = to_spec();
  }
  R.chosen = spec;
  auto e = build_with(*fused, source, bo, spec, cp, &R.layers);
  if (!e) return e.status();
  if (validate) {
    auto r = evaluate(*e, *qo.val, qo.val_labels);
    if (!r) return r.status();
    R.val_acc = r->accuracy();
    R.val_agreement = agreement(*r, base);
    if (qo.max_accuracy_drop >= 0 && drop_pp(*r) > qo.max_accuracy_drop) {
      char msg[256];
      std::snprintf(msg, sizeof msg, "refusing the %s engine: validation accuracy %.4f is %.2f pp below FP32's %.4f (limit %.2f pp)",
                    spec.to_string().c_str(), r->accuracy(), drop_pp(*r), base.accuracy(), qo.max_accuracy_drop);
      return Status(Code::out_of_range, msg);
    }
  }
  return e;
}

Result<std::vector<Sensitivity>> sensitivity(const Graph& source, const BuildOptions& bo, const CalibrationTable& calib, const TensorData& x,
                                             const TensorData& labels, Precision p) {
  auto fused = fuse(source, bo);
  if (!fused) return fused.status();
  auto e32 = build_with(*fused, source, bo, PrecisionSpec{}, nullptr, nullptr);
  if (!e32) return e32.status();
  auto base = evaluate(*e32, x, &labels);
  if (!base) return base.status();
  std::vector<Sensitivity> out;
  for (auto& [name, op] : quantizable_nodes(*fused)) {
    PrecisionSpec one;
    one.rules.emplace_back(name, p);
    auto e = build_with(*fused, source, bo, one, &calib, nullptr);
    if (!e) return e.status();
    auto r = evaluate(*e, x, &labels);
    if (!r) return r.status();
    out.push_back({name, op, r->accuracy(), 100.0 * (base->accuracy() - r->accuracy()), agreement(*r, *base)});
  }
  std::stable_sort(out.begin(), out.end(), [](const Sensitivity& a, const Sensitivity& b) {
    return a.drop_pp != b.drop_pp ? a.drop_pp > b.drop_pp : a.agreement < b.agreement;
  });
  return out;
}

}  // namespace tickrt::infer::quant
