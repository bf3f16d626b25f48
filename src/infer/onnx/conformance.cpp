#include "infer/onnx/conformance.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "infer/engine.hpp"
#include "infer/onnx/onnx_import.hpp"

namespace tickrt::infer {
namespace fs = std::filesystem;

namespace {

std::string compare(const TensorData& want, const void* got, DType got_t, const Dims& got_dims, const std::string& name) {
  if (got_t != want.dtype)
    return name + ": dtype " + dtype_name(got_t) + ", expected " + dtype_name(want.dtype);
  if (got_dims != want.dims)
    return name + ": shape " + dims_str(got_dims) + ", expected " + dims_str(want.dims);
  const std::int64_t n = want.count();
  auto close = [](double a, double e, double rtol, double atol) {
    if (std::isnan(e)) return std::isnan(a);
    if (std::isinf(e)) return a == e;
    return std::fabs(a - e) <= atol + rtol * std::fabs(e);
  };
  for (std::int64_t i = 0; i < n; ++i) {
    double a = 0, e = 0;
    bool ok = true;
    switch (want.dtype) {
      case DType::f32: a = static_cast<const float*>(got)[i]; e = want.as<float>()[i]; ok = close(a, e, 1e-3, 1e-5); break;
      case DType::f64: a = static_cast<const double*>(got)[i]; e = want.as<double>()[i]; ok = close(a, e, 1e-3, 1e-5); break;
      case DType::f16: {
        TensorData tmp;  // compare raw bits loosely via float conversion: accept 1e-2 relative
        const auto* g16 = static_cast<const std::uint16_t*>(got);
        ok = g16[i] == want.as<std::uint16_t>()[i] || std::abs(int(g16[i]) - int(want.as<std::uint16_t>()[i])) <= 1;
        break;
      }
      default: {
        const std::size_t es = dtype_size(want.dtype);
        ok = std::memcmp(static_cast<const std::byte*>(got) + i * es, want.bytes + i * es, es) == 0;
        if (!ok) {
          auto wi = want.to_i64();
          e = static_cast<double>(wi[i]);
        }
      }
    }
    if (!ok)
      return name + ": element " + std::to_string(i) + " is " + std::to_string(a) + ", expected " + std::to_string(e);
  }
  return {};
}

}  // namespace

namespace {
ConformanceResult run_one(const std::string& dir);
}

ConformanceResult run_conformance_test(const std::string& dir) {
  try {
    return run_one(dir);
  } catch (const std::exception& e) {   // a bug in an op must not stop the suite: report it
    ConformanceResult r;
    r.test = fs::path(dir).filename().string();
    r.detail = std::string("exception: ") + e.what();
    return r;
  }
}

namespace {
ConformanceResult run_one(const std::string& dir) {
  ConformanceResult r;
  r.test = fs::path(dir).filename().string();
  auto g = import_onnx_file((fs::path(dir) / "model.onnx").string());
  if (!g) {
    r.outcome = g.status().code() == Code::unsupported ? ConformanceResult::Outcome::unsupported : ConformanceResult::Outcome::fail;
    r.detail = g.status().to_string();
    return r;
  }
  for (int v : g->inputs)
    if (!dtype_supported(g->values[v].dtype) && g->values[v].dtype != DType::undefined) {
      r.outcome = ConformanceResult::Outcome::unsupported;
      r.detail = std::string("input type ") + dtype_name(g->values[v].dtype) + " is not supported";
      return r;
    }
  std::vector<int> shape_inputs;   // indices of graph inputs bound as constants
  std::set<std::string> ops;
  for (auto& n : g->nodes) ops.insert((n.domain.empty() ? "" : n.domain + ".") + n.op);
  r.ops.assign(ops.begin(), ops.end());
  if (auto st = check_supported(*g); !st.ok()) {
    r.outcome = ConformanceResult::Outcome::unsupported;
    r.detail = st.message();
    return r;
  }
  // ONNX tests feed shape operands (Reshape's shape, Slice's starts...) as int64 graph inputs. tickrt
  // specializes shapes before running (as TensorRT's shape tensors), so int64 inputs are bound as constants
  // from test_data_set_0 before the build.
  {
    std::vector<int> keep;
    for (std::size_t i = 0; i < g->inputs.size(); ++i) {
      const int v = g->inputs[i];
      if (g->values[v].dtype == DType::i64) {
        auto t = import_tensor_proto_file((fs::path(dir) / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb")).string());
        if (!t) {
          r.outcome = t.status().code() == Code::unsupported ? ConformanceResult::Outcome::unsupported : ConformanceResult::Outcome::fail;
          r.detail = t.status().to_string();
          return r;
        }
        g->values[v].constant = std::move(*t);
        shape_inputs.push_back(static_cast<int>(i));
      } else {
        keep.push_back(v);
      }
    }
    g->inputs = keep;
  }
  const std::size_t nin = g->inputs.size();
  BuildOptions bo;
  bo.check_profile = false;
  auto eng = Engine::build(std::move(*g), bo);
  if (!eng) {
    r.outcome = eng.status().code() == Code::unsupported ? ConformanceResult::Outcome::unsupported : ConformanceResult::Outcome::fail;
    r.detail = eng.status().to_string();
    return r;
  }
  std::vector<fs::path> sets;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) { r.detail = "no test_data_set"; return r; }
  ExecutionContext ctx(eng.value());
  for (auto& set : sets) {
    std::vector<TensorData> inputs;
    // Inputs are matched to the graph's inputs in order (ONNX test convention: input_K is graph input K,
    // counting only non-initializer inputs).
    for (std::size_t i = 0, file = 0; i < nin; ++i, ++file) {
      while (std::find(shape_inputs.begin(), shape_inputs.end(), static_cast<int>(file)) != shape_inputs.end()) ++file;
      auto t = import_tensor_proto_file((set / ("input_" + std::to_string(file) + ".pb")).string());
      if (!t) {
        r.outcome = t.status().code() == Code::unsupported ? ConformanceResult::Outcome::unsupported : ConformanceResult::Outcome::fail;
        r.detail = t.status().to_string();
        return r;
      }
      inputs.push_back(std::move(*t));
    }
    std::vector<Dims> shapes;
    for (auto& t : inputs) shapes.push_back(t.dims);
    if (auto st = ctx.prepare(shapes); !st.ok()) {
      r.outcome = st.code() == Code::unsupported ? ConformanceResult::Outcome::unsupported : ConformanceResult::Outcome::fail;
      r.detail = st.to_string();
      return r;
    }
    for (std::size_t i = 0; i < nin; ++i) {
      const Value& v = (*eng)->graph().values[(*eng)->graph().inputs[i]];
      if (v.dtype != DType::undefined && v.dtype != inputs[i].dtype) {
        r.detail = "input " + std::to_string(i) + " dtype mismatch";
        return r;
      }
      if (inputs[i].nbytes) std::memcpy(ctx.input_data(i), inputs[i].bytes, inputs[i].nbytes);
    }
    if (ctx.run() != Code::ok) { r.detail = "run failed"; return r; }
    for (std::size_t o = 0; o < (*eng)->num_outputs(); ++o) {
      auto want = import_tensor_proto_file((set / ("output_" + std::to_string(o) + ".pb")).string());
      if (!want) { r.detail = want.status().to_string(); return r; }
      auto msg = compare(*want, ctx.output_data(o), ctx.output_dtype(o), ctx.output_dims(o), "output " + std::to_string(o));
      if (!msg.empty()) { r.outcome = ConformanceResult::Outcome::fail; r.detail = set.filename().string() + ": " + msg; return r; }
    }
  }
  r.outcome = ConformanceResult::Outcome::pass;
  return r;
}
}  // namespace

std::vector<ConformanceResult> run_conformance(const std::string& root, const std::string& filter) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root, ec)) {
    if (!e.is_directory()) continue;
    const std::string name = e.path().filename().string();
    if (!filter.empty() && fnmatch(filter.c_str(), name.c_str(), 0) != 0) continue;
    dirs.push_back(e.path().string());
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<ConformanceResult> out;
  for (auto& d : dirs) out.push_back(run_conformance_test(d));
  return out;
}

const std::vector<std::pair<std::string, std::string>>& conformance_expected_failures() {
  // Only tests that cannot pass for a reason outside the engine's control or its stated scope.
  static const std::vector<std::pair<std::string, std::string>> list = {
      // libonnx-testdata 1.12: the model declares 'like' as [3,4] but test_data_set_0/input_1.pb holds a [1]
      // tensor (and the bfloat16 side is stored as UINT16); bfloat16 is also outside the engine's dtypes.
      {"test_castlike_BFLOAT16_to_FLOAT", "test data contradicts its model ('like' is [1], model says [3,4]); bfloat16 unsupported"},
      {"test_castlike_BFLOAT16_to_FLOAT_expanded", "test data contradicts its model ('like' is [1], model says [3,4]); bfloat16 unsupported"},
      {"test_castlike_FLOAT_to_BFLOAT16", "test data contradicts its model ('like' is [1], model says [3,4]); bfloat16 unsupported"},
      {"test_castlike_FLOAT_to_BFLOAT16_expanded", "test data contradicts its model ('like' is [1], model says [3,4]); bfloat16 unsupported"},
      // Inference engine: BatchNormalization training_mode=1 (batch statistics, running-mean outputs) is refused
      // at prepare time as unsupported.
      {"test_batchnorm_epsilon_training_mode", "BatchNormalization training_mode=1 is training-only; refused as unsupported"},
      {"test_batchnorm_example_training_mode", "BatchNormalization training_mode=1 is training-only; refused as unsupported"},
  };
  return list;
}

}  // namespace tickrt::infer
