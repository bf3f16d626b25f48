// tests/pipeline: [engine] device / fallback (docs/CUDA.md). This machine has no GPU: the error and
// CPU-fallback paths are what run here; on a machine where the device resolves, those checks skip.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "pipeline/config.hpp"
#include "pipeline/model.hpp"
#include "pipeline/pipeline.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;

bool gpu_present() {
  std::string note;
  auto d = choose_device("cuda:0", "none", note);
  return d.ok() && d.value() != "cpu";
}

TEST(PipelineDevice, ConfigKeysAndTheirErrors) {
  auto d = parse_config("", "<t>", "/b");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().engine_device, "cpu");
  EXPECT_EQ(d.value().engine_fallback, "none");
  auto r = parse_config("[engine]\ndevice = \"cuda:1\"\nfallback = \"cpu\"\n", "<t>", "/b");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r.value().engine_device, "cuda:1");
  EXPECT_EQ(r.value().engine_fallback, "cpu");
  auto bad = parse_config("[engine]\ndevice = \"gpu0\"\n", "<t>", "/b");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("<t>:2: key 'engine.device'"), std::string::npos) << bad.status().message();
  auto badf = parse_config("[engine]\nfallback = \"gpu\"\n", "<t>", "/b");
  ASSERT_FALSE(badf.ok());
  EXPECT_NE(badf.status().message().find("engine.fallback"), std::string::npos) << badf.status().message();
}

TEST(PipelineDevice, CpuNeedsNoGpu) {
  std::string note;
  auto d = choose_device("cpu", "none", note);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value(), "cpu");
  EXPECT_TRUE(note.empty());
}

TEST(PipelineDevice, NoGpuIsAClearErrorOrACpuFallback) {
  if (gpu_present()) GTEST_SKIP() << "a CUDA device is present: the no-GPU paths do not apply";
  std::string note;
  auto e = choose_device("cuda:0", "none", note);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("engine.device 'cuda:0': "), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("engine.fallback"), std::string::npos) << e.status().message();
  auto f = choose_device("cuda:GPU-0000", "cpu", note);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f.value(), "cpu");
  EXPECT_NE(note.find("engine.device 'cuda:GPU-0000'"), std::string::npos) << note;
}

TEST(PipelineDevice, PipelineRefusesOrFallsBackBeforeAnySocket) {
  if (!fs::exists("models/trained/lstm_attn_s/model.onnx") || !fs::exists("data/captures/spot_btcusdt_20240808.gz"))
    GTEST_SKIP() << "bundled capture or trained model not present";
  if (gpu_present()) GTEST_SKIP() << "a CUDA device is present: the no-GPU paths do not apply";
  auto c = default_config(fs::current_path().string());
  ASSERT_TRUE(c.ok());
  PipelineConfig cfg = c.value();
  cfg.source = FeedSource::capture;
  cfg.trade = false;
  cfg.metrics = false;
  cfg.journal = "";
  cfg.engine_device = "cuda";
  {
    std::ostringstream log;
    auto p = Pipeline::create(cfg, log);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find("engine.device 'cuda'"), std::string::npos) << p.status().message();
  }
  cfg.engine_fallback = "cpu";
  {
    std::ostringstream log;
    auto p = Pipeline::create(cfg, log);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    EXPECT_NE(log.str().find("warning: engine.device 'cuda': "), std::string::npos) << log.str();
    EXPECT_NE(log.str().find("running on the CPU"), std::string::npos) << log.str();
  }
}

// With a GPU: the model loads on it and passes the golden check there (load_model validates the
// instance that will run: the GPU context's outputs against parity_logits.npy).
TEST(PipelineDevice, GpuModelPassesGoldenWhenPresent) {
  if (!gpu_present()) GTEST_SKIP() << "no CUDA device visible";
  if (!fs::exists("models/trained/lstm_attn_s/model.onnx")) GTEST_SKIP() << "trained model not present";
  ModelOptions mo;
  mo.path = "models/trained/lstm_attn_s/model.onnx";
  mo.max_batch = 8;
  mo.require_golden = true;
  mo.device = "cuda:0";
  auto m = load_model(mo);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m.value()->device, "cuda:0");
  EXPECT_NE(m.value()->validation.find("golden"), std::string::npos) << m.value()->validation;
  auto inst = make_instance(m.value(), 8);
  ASSERT_TRUE(inst.ok()) << inst.status().to_string();
#if defined(TICKRT_HAVE_CUDA)
  EXPECT_NE(inst.value()->gpu, nullptr);
#endif
  EXPECT_EQ(inst.value()->ctx, nullptr);
  std::printf("GPU model: %s\n", m.value()->validation.c_str());
}

}  // namespace
}  // namespace tickrt::pipeline
