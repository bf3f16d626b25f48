// tests/pipeline: model load/validation and hot swap (good swap adopted, bad models refused with
// the reason, no request dropped while a swap is built and adopted).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pipeline/infer_stage.hpp"
#include "pipeline/model.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;
const char* kLstm = "models/trained/lstm_attn_s/model.onnx";
const char* kTransformer = "models/trained/transformer_s/model.onnx";

#define NEED_MODELS()                                                             \
  do {                                                                            \
    if (!fs::exists(kLstm) || !fs::exists(kTransformer)) {                        \
      GTEST_SKIP() << "models/trained not present";                               \
    }                                                                             \
  } while (0)

ModelOptions opts(const std::string& path, int max_batch = 4) {
  ModelOptions o;
  o.path = path;
  o.max_batch = max_batch;
  return o;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tickrt_pipeline_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(PipelineModel, TrainedModelLoadsAndPassesGolden) {
  NEED_MODELS();
  auto m = load_model(opts(kLstm));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_NE(m.value()->validation.find("golden: 85 windows"), std::string::npos) << m.value()->validation;
  EXPECT_EQ(m.value()->in_floats, 64u * 24u);
  EXPECT_EQ(m.value()->out_floats, 3u);
  EXPECT_EQ(m.value()->version, 1u);
}

TEST(PipelineModel, MissingAndTruncatedFilesAreNamed) {
  NEED_MODELS();
  auto m = load_model(opts("/nonexistent/model.onnx"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("/nonexistent/model.onnx"), std::string::npos);
  fs::path d = temp_dir("trunc");
  {
    std::ifstream in(kLstm, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out(d / "model.onnx", std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  auto t = load_model(opts((d / "model.onnx").string()));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find((d / "model.onnx").string()), std::string::npos) << t.status().to_string();
  fs::remove_all(d);
}

TEST(PipelineModel, GoldenMismatchIsRefusedWithReason) {
  NEED_MODELS();
  // transformer_s weights beside lstm_attn_s's reference logits: must not validate.
  fs::path d = temp_dir("golden");
  fs::create_directories(d / "m");
  fs::copy_file(kTransformer, d / "m" / "model.onnx");
  fs::copy_file("models/trained/lstm_attn_s/parity_logits.npy", d / "m" / "parity_logits.npy");
  fs::copy_file("models/trained/parity_x.npy", d / "parity_x.npy");
  auto m = load_model(opts((d / "m" / "model.onnx").string()));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::corrupt);
  EXPECT_NE(m.status().message().find("golden validation"), std::string::npos) << m.status().to_string();
  // Without golden data it loads only when golden data is not required.
  fs::remove(d / "m" / "parity_logits.npy");
  auto n = load_model(opts((d / "m" / "model.onnx").string()));
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_NE(n.value()->validation.find("no golden"), std::string::npos);
  ModelOptions strict = opts((d / "m" / "model.onnx").string());
  strict.require_golden = true;
  auto s = load_model(strict);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("require_golden"), std::string::npos);
  fs::remove_all(d);
}

TEST(PipelineModel, PackageMismatchIsRefused) {
  NEED_MODELS();
  ModelOptions o = opts(kLstm);
  o.features.window = 32;  // the running feature code would hand the model 32 rows
  auto m = load_model(o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("model package"), std::string::npos) << m.status().to_string();
}

// Runs windows through an InferStage on this thread while the swapper builds and publishes a new
// model; a producer thread enqueues one window every 200 us into a 1024-slot ring.
struct SwapRig {
  std::shared_ptr<const LoadedModel> first;
  std::unique_ptr<ModelSlot> slot;
  std::unique_ptr<ModelSwapper> swapper;
  TscClock clock;

  void init() {
    auto m = load_model(opts(kLstm));
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    first = m.value();
    auto inst = make_instance(first, 4);
    ASSERT_TRUE(inst.ok());
    slot = std::make_unique<ModelSlot>(std::move(inst.value()));
    swapper = std::make_unique<ModelSwapper>(opts(kLstm), first, std::vector<ModelSlot*>{slot.get()}, false, 50);
    swapper->start();
    auto c = TscClock::calibrate(std::chrono::milliseconds(5));
    ASSERT_TRUE(c.ok());
    clock = c.value();
  }
};

TEST(PipelineModel, HotSwapAdoptsGoodModelAndDropsNothing) {
  NEED_MODELS();
  SwapRig rig;
  rig.init();
  if (HasFatalFailure()) return;
  BatchConfig bc;
  bc.max_batch = 4;
  bc.max_delay_ns = 0;
  bc.coalesce = false;
  InferStage stage(*rig.slot, bc, rig.clock);
  auto in = std::make_unique<SpscRing<InferRequest>>(1024);
  auto out = std::make_unique<SpscRing<InferResult>>(4096);
  std::vector<float> window(64 * 24, 0.25f);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> pushed{0}, ring_full{0};
  std::thread producer([&] {
    SampleMeta meta;
    meta.symbol = 0;
    while (!stop.load()) {
      meta.md_seq = pushed.load() + 1;
      if (in->try_emplace(meta, std::span<const float>(window))) pushed.fetch_add(1);
      else ring_full.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::uint64_t results = 0;
  std::uint64_t v1 = 0, v2 = 0;
  float out_v1 = 0, out_v2 = 0;
  auto drain = [&] {
    InferResult r;
    while (out->try_pop(r)) {
      ++results;
      ASSERT_TRUE(r.ok);
      if (r.model_version == 1) { ++v1; out_v1 = r.out[0]; }
      if (r.model_version == 2) { ++v2; out_v2 = r.out[0]; }
    }
  };
  const auto t_end_warm = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (std::chrono::steady_clock::now() < t_end_warm) { (void)stage.poll(*in, *out); drain(); }
  rig.swapper->request_swap(kTransformer);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (rig.slot->running_version() != 2 && std::chrono::steady_clock::now() < deadline) {
    (void)stage.poll(*in, *out);
    drain();
  }
  const auto t_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (std::chrono::steady_clock::now() < t_end) { (void)stage.poll(*in, *out); drain(); }
  stop.store(true);
  producer.join();
  while (stage.poll(*in, *out) > 0) drain();
  drain();
  ASSERT_TRUE(rig.swapper->wait_idle(10000));
  SwapResult sr = rig.swapper->last_result();
  EXPECT_TRUE(sr.ok) << sr.message;
  EXPECT_EQ(sr.version, 2u);
  EXPECT_EQ(rig.slot->running_version(), 2u);
  EXPECT_EQ(rig.slot->adopted(), 1u);
  EXPECT_GT(v1, 0u);
  EXPECT_GT(v2, 0u);
  EXPECT_NE(out_v1, out_v2);  // another model really answers
  EXPECT_EQ(ring_full.load(), 0u) << "the feed side lost windows during the swap";
  EXPECT_EQ(results, pushed.load());
  EXPECT_EQ(stage.counters().results_dropped, 0u);
  rig.swapper->stop();
}

TEST(PipelineModel, HotSwapRefusesBadModelAndKeepsTheOld) {
  NEED_MODELS();
  SwapRig rig;
  rig.init();
  if (HasFatalFailure()) return;
  fs::path d = temp_dir("badswap");
  { std::ofstream(d / "model.onnx") << "not an onnx file"; }
  rig.swapper->request_swap((d / "model.onnx").string());
  ASSERT_TRUE(rig.swapper->wait_idle(30000));
  SwapResult sr = rig.swapper->last_result();
  EXPECT_FALSE(sr.ok);
  EXPECT_NE(sr.message.find((d / "model.onnx").string()), std::string::npos) << sr.message;
  EXPECT_EQ(rig.swapper->swaps_failed(), 1u);
  // The slot never saw a new instance: the old model still runs.
  EXPECT_EQ(rig.slot->current()->model->version, 1u);
  EXPECT_EQ(rig.slot->adopted(), 0u);
  rig.swapper->stop();
  fs::remove_all(d);
}

TEST(PipelineModel, WatchedFileChangeTriggersSwap) {
  NEED_MODELS();
  fs::path d = temp_dir("watch");
  fs::copy_file(kLstm, d / "model.onnx");
  fs::copy_file("models/trained/lstm_attn_s/parity_logits.npy", d / "parity_logits.npy");
  fs::copy_file("models/trained/parity_x.npy", d / "parity_x.npy");
  auto m = load_model(opts((d / "model.onnx").string()));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto inst = make_instance(m.value(), 4);
  ASSERT_TRUE(inst.ok());
  ModelSlot slot(std::move(inst.value()));
  ModelSwapper sw(opts((d / "model.onnx").string()), m.value(), {&slot}, true, 20);
  sw.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  // Rewrite the file (same content, new mtime): the watcher rebuilds and publishes it.
  fs::copy_file(kLstm, d / "model.onnx", fs::copy_options::overwrite_existing);
  fs::last_write_time(d / "model.onnx", fs::file_time_type::clock::now() + std::chrono::seconds(2));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sw.swaps_ok() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sw.swaps_ok(), 1u);
  EXPECT_EQ(slot.current()->model->version, 2u);
  sw.stop();
  fs::remove_all(d);
}

}  // namespace
}  // namespace tickrt::pipeline
