// The four reference models against their PyTorch goldens (tools/models/README.md), at batch 1 and 64,
// optimized and unoptimized, straight from ONNX and through a saved + mmapped engine file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "infer/engine.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {

struct ModelCase { const char* name; int k; };

std::uint64_t seed_of(int k, int batch) { return 1000ull * k + static_cast<std::uint64_t>(batch); }

double max_err(const ExecutionContext& ctx, const TensorData& want) {
  EXPECT_EQ(ctx.output_dims(0), want.dims);
  double e = 0;
  for (std::int64_t i = 0; i < want.count(); ++i)
    e = std::max(e, static_cast<double>(std::fabs(ctx.output(0)[i] - want.as<float>()[i])));
  return e;
}

void check_model(const ModelCase& m, bool optimize, bool via_file) {
  const std::string dir = std::string("models/") + m.name;
  auto g = import_onnx_file(dir + "/model.onnx");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  BuildOptions bo;
  bo.optimize = optimize;
  bo.batch = {1, 1, 64};
  auto eng = Engine::build(std::move(*g), bo);
  ASSERT_TRUE(eng.ok()) << eng.status().to_string();
  std::shared_ptr<Engine> e = *eng;
  if (via_file) {
    const std::string path = (std::filesystem::temp_directory_path() / (std::string(m.name) + "_test.engine")).string();
    ASSERT_TRUE(e->save(path).ok());
    auto loaded = Engine::load(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
    e = *loaded;
  }
  ExecutionContext ctx(e);
  for (int batch : {1, 64}) {
    ASSERT_TRUE(ctx.prepare_batch(batch).ok());
    const std::size_t n = static_cast<std::size_t>(numel(ctx.input_dims(0)));
    fill_golden_input(seed_of(m.k, batch), ctx.input(0), n);
    ASSERT_EQ(ctx.run(), Code::ok);
    auto want = read_npy(dir + "/golden_b" + std::to_string(batch) + ".npy");
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    EXPECT_LE(max_err(ctx, *want), 1e-4) << m.name << " batch " << batch << (optimize ? " optimized" : " reference");
  }
}

const ModelCase kModels[] = {{"lstm_attn_s", 1}, {"lstm_attn_l", 2}, {"convlstm", 3}, {"transformer_s", 4}};

}  // namespace

TEST(GoldenInput, MatchesPythonGenerator) {
  float x[3];
  fill_golden_input(1001, x, 3);
  std::uint32_t bits;
  std::memcpy(&bits, &x[0], 4);
  EXPECT_EQ(bits, 0xbeb30800u);
  EXPECT_FLOAT_EQ(x[1], -0.5408523082733154f);
}

class Models : public ::testing::TestWithParam<ModelCase> {};
TEST_P(Models, OptimizedMatchesPyTorch) { check_model(GetParam(), true, false); }
TEST_P(Models, ReferenceMatchesPyTorch) { check_model(GetParam(), false, false); }
TEST_P(Models, EngineFileMatchesPyTorch) { check_model(GetParam(), true, true); }
INSTANTIATE_TEST_SUITE_P(All, Models, ::testing::ValuesIn(kModels),
                         [](const auto& info) { return std::string(info.param.name); });
