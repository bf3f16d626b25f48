// Intra-op threads: the pool itself (runtime/thread_pool.hpp), ExecutionContext::set_threads, the parallel kernel
// forms and the batch-1 LSTM pipeline (runtime/parallel.hpp): every reference model at 1 and 2 threads against its
// PyTorch golden (batch 1 and 64) and against the one-thread run (batch 1, 8, 64).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "graph_builder.hpp"
#include "infer/engine.hpp"
#include "infer/npy.hpp"
#if defined(TICKRT_HAVE_ONNX)
#include "infer/onnx/onnx_import.hpp"
#endif
#include "infer/runtime/thread_pool.hpp"

using namespace tickrt;
using namespace tickrt::infer;
using namespace tickrt::infer::testing;

namespace {

struct Tally {
  std::atomic<int> calls[ThreadPool::kMaxThreads];
  std::atomic<int> bad_n{0};
  int expect_n = 0;
};
void count_task(void* ctx, int tid, int n) noexcept {
  auto& t = *static_cast<Tally*>(ctx);
  if (n != t.expect_n) t.bad_n.fetch_add(1);
  t.calls[tid].fetch_add(1, std::memory_order_relaxed);
}

void run_counted(int threads, int runs, bool pause_between = false) {
  auto pool = ThreadPool::create(threads);
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  Tally t;
  t.expect_n = threads;
  for (auto& c : t.calls) c = 0;
  for (int r = 0; r < runs; ++r) {
    (*pool)->run(&count_task, &t);
    // run() returns only when every thread has finished its share of this run
    for (int tid = 0; tid < threads; ++tid) ASSERT_EQ(t.calls[tid].load(), r + 1) << "thread " << tid << " run " << r;
    if (pause_between && r % 3 == 0)   // past the spin budget: the workers are asleep in the futex and must be woken
      std::this_thread::sleep_for(std::chrono::nanoseconds(2 * ThreadPool::kSpinNs));
  }
  EXPECT_EQ(t.bad_n.load(), 0);
}

}  // namespace

TEST(ThreadPool, OneThreadRunsOnTheCaller) {
  auto pool = ThreadPool::create(1);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ((*pool)->size(), 1);
  std::thread::id seen;
  struct Ctx { std::thread::id* seen; } c{&seen};
  (*pool)->run([](void* p, int tid, int n) noexcept {
    if (tid == 0 && n == 1) *static_cast<Ctx*>(p)->seen = std::this_thread::get_id();
  }, &c);
  EXPECT_EQ(seen, std::this_thread::get_id());
}

TEST(ThreadPool, ManyRunsEveryThreadOncePerRun) { run_counted(2, 20000); }
TEST(ThreadPool, WakesSleepingWorkers) { run_counted(2, 30, true); }
TEST(ThreadPool, MoreThreadsThanCpus) {
  const int n = std::min(ThreadPool::kMaxThreads, 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 1);
  run_counted(n, 300);
}

TEST(ThreadPool, ShutdownRightAfterStartAndAfterWork) {
  for (int i = 0; i < 20; ++i) {
    auto pool = ThreadPool::create(3);
    ASSERT_TRUE(pool.ok());
    if (i % 2) {
      Tally t;
      t.expect_n = 3;
      for (auto& c : t.calls) c = 0;
      (*pool)->run(&count_task, &t);
      EXPECT_EQ(t.calls[2].load(), 1);
    }
  }   // each destructor stops and joins its workers: the test would hang or crash otherwise
}

TEST(ThreadPool, BadInputIsRefusedWithTheValue) {
  for (int n : {0, -1, ThreadPool::kMaxThreads + 1}) {
    auto p = ThreadPool::create(n);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find(std::to_string(n)), std::string::npos) << p.status().to_string();
  }
  auto wrong_len = ThreadPool::create(2, {0, 1});
  ASSERT_FALSE(wrong_len.ok());
  EXPECT_NE(wrong_len.status().message().find("2 CPU ids"), std::string::npos) << wrong_len.status().to_string();
  auto bad_cpu = ThreadPool::create(2, {4000});   // beyond CPU_SETSIZE
  ASSERT_FALSE(bad_cpu.ok());
  EXPECT_NE(bad_cpu.status().message().find("CPU 4000"), std::string::npos) << bad_cpu.status().to_string();
}

TEST(ThreadPool, PinnedWorkerRunsOnItsCpu) {
  cpu_set_t mask;
  ASSERT_EQ(sched_getaffinity(0, sizeof(mask), &mask), 0);
  int cpu = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0 && cpu < 0; --c)
    if (CPU_ISSET(c, &mask)) cpu = c;
  auto pool = ThreadPool::create(2, {cpu});
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  struct Ctx { std::atomic<int> where{-2}; } c;
  (*pool)->run([](void* p, int tid, int) noexcept {
    if (tid == 1) static_cast<Ctx*>(p)->where = sched_getcpu();
  }, &c);
  EXPECT_EQ(c.where.load(), cpu);
}

TEST(ThreadPool, ScratchIsPerWorkerAndGrows) {
  auto pool = ThreadPool::create(3);
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->reserve_scratch(1000).ok());
  EXPECT_GE((*pool)->scratch_bytes(), 1000u);
  EXPECT_NE((*pool)->scratch(1), nullptr);
  EXPECT_NE((*pool)->scratch(1), (*pool)->scratch(2));
  ASSERT_TRUE((*pool)->reserve_scratch(100).ok());   // never shrinks
  EXPECT_GE((*pool)->scratch_bytes(), 1000u);
}

TEST(ExecutionContextThreads, BadCountsAreRefused) {
  GB b;
  int x = b.input("x", {2, 4});
  b.output(b.node("Relu", {x}));
  BuildOptions bo;
  bo.check_profile = false;
  auto e = Engine::build(b.g, bo);
  ASSERT_TRUE(e.ok());
  ExecutionContext ctx(*e);
  EXPECT_FALSE(ctx.set_threads(0).ok());
  EXPECT_FALSE(ctx.set_threads(ThreadPool::kMaxThreads + 1).ok());
  EXPECT_FALSE(ctx.set_threads(1, {0}).ok());
  EXPECT_EQ(ctx.threads(), 1);
  ASSERT_TRUE(ctx.set_threads(2).ok());
  EXPECT_EQ(ctx.threads(), 2);
  ASSERT_TRUE(ctx.set_threads(1).ok());
  EXPECT_EQ(ctx.threads(), 1);
}

// Two stacked LSTMs at batch 1 with T = 13 (not a multiple of the pipeline's chunk) and a Squeeze view between
// them, layer 1 starting from a non-zero state: the pipelined step must give the one-thread result.
TEST(ExecutionContextThreads, StackedLstmPipelineMatchesOneThread) {
  const int T = 13, I = 5, H = 24, H2 = 16;
  GB b;
  int x = b.input("x", {T, 1, I});
  int h0 = b.weights("h0", {1, 1, H});
  int c0 = b.weights("c0", {1, 1, H});
  int l1 = b.node("LSTM", {x, b.weights("W1", {1, 4 * H, I}), b.weights("R1", {1, 4 * H, H}), b.weights("B1", {1, 8 * H}), -1, h0, c0},
                  {{"hidden_size", ai(H)}}, 3);
  int sq = b.node("Squeeze", {l1, b.ints("ax1", {1})});
  int l2 = b.node("LSTM", {sq, b.weights("W2", {1, 4 * H2, H}), b.weights("R2", {1, 4 * H2, H2}), b.weights("B2", {1, 8 * H2})},
                  {{"hidden_size", ai(H2)}}, 3);
  b.output(l2);
  BuildOptions bo;
  bo.check_profile = false;
  BuildReport rep;
  auto e = Engine::build(b.g, bo, &rep);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  ASSERT_EQ(rep.ops_after.at("tickrt.FusedLSTM"), 2);
  std::vector<float> out[2];
  for (int threads : {1, 2}) {
    ExecutionContext ctx(*e);
    ASSERT_TRUE(ctx.set_threads(threads).ok());
    ASSERT_TRUE(ctx.prepare({{T, 1, I}}).ok());
    EXPECT_EQ(ctx.stats().pipelined_pairs, threads == 2 ? 1 : 0);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> d(-1, 1);
    for (int rep_i = 0; rep_i < 50; ++rep_i) {   // many runs: the progress counter is reset per run
      for (int i = 0; i < T * I; ++i) ctx.input(0)[i] = d(rng);
      ASSERT_EQ(ctx.run(), Code::ok);
    }
    out[threads - 1].assign(ctx.output(0), ctx.output(0) + numel(ctx.output_dims(0)));
  }
  EXPECT_LE(max_abs_diff(out[0], out[1]), 1e-5);
}

#if defined(TICKRT_HAVE_ONNX)   // engine-only builds (no protobuf) cannot import the reference models
namespace {

struct ModelCase { const char* name; int k; };
const ModelCase kModels[] = {{"lstm_attn_s", 1}, {"lstm_attn_l", 2}, {"convlstm", 3}, {"transformer_s", 4}};

class ModelThreads : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ModelThreads, TwoThreadsMatchGoldenAndOneThread) {
  const ModelCase m = GetParam();
  const std::string dir = std::string("models/") + m.name;
  if (!std::filesystem::exists(dir + "/model.onnx")) GTEST_SKIP() << dir << "/model.onnx is absent";
  auto g = import_onnx_file(dir + "/model.onnx");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  BuildOptions bo;
  bo.batch = {1, 1, 64};
  auto e = Engine::build(std::move(*g), bo);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  ExecutionContext one(*e), two(*e);
  ASSERT_TRUE(two.set_threads(2).ok());
  for (int batch : {1, 8, 64}) {
    ASSERT_TRUE(one.prepare_batch(batch).ok());
    ASSERT_TRUE(two.prepare_batch(batch).ok());
    const std::size_t n = static_cast<std::size_t>(numel(one.input_dims(0)));
    const std::uint64_t seed = 1000ull * m.k + static_cast<std::uint64_t>(batch);
    fill_golden_input(seed, one.input(0), n);
    ASSERT_EQ(one.run(), Code::ok);
    for (int r = 0; r < 3; ++r) {   // repeated runs give the same answer (the arena may reuse the input's bytes: refill)
      fill_golden_input(seed, two.input(0), n);
      ASSERT_EQ(two.run(), Code::ok);
    }
    // something must actually run in parallel: the LSTM pipeline at batch 1, split kernels at batch > 1
    if (batch == 1 && std::string(m.name).rfind("lstm_attn", 0) == 0) {
      EXPECT_EQ(two.stats().pipelined_pairs, 1) << m.name;
    }
    if (batch > 1) {
      EXPECT_GT(two.stats().parallel_steps, 0) << m.name << " batch " << batch;
    }
    ASSERT_EQ(one.output_dims(0), two.output_dims(0));
    const std::int64_t count = numel(one.output_dims(0));
    double diff = 0;
    for (std::int64_t i = 0; i < count; ++i) diff = std::max(diff, static_cast<double>(std::fabs(one.output(0)[i] - two.output(0)[i])));
    EXPECT_LE(diff, 1e-5) << m.name << " batch " << batch << ": 2 threads vs 1";
    const std::string golden = dir + "/golden_b" + std::to_string(batch) + ".npy";
    if (!std::filesystem::exists(golden)) continue;   // goldens exist for batch 1 and 64
    auto want = read_npy(golden);
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    ASSERT_EQ(want->count(), count);
    double err = 0;
    for (std::int64_t i = 0; i < count; ++i) err = std::max(err, static_cast<double>(std::fabs(two.output(0)[i] - want->as<float>()[i])));
    EXPECT_LE(err, 1e-4) << m.name << " batch " << batch << " at 2 threads vs the PyTorch golden";
  }
}
INSTANTIATE_TEST_SUITE_P(All, ModelThreads, ::testing::ValuesIn(kModels), [](const auto& info) { return std::string(info.param.name); });

}  // namespace
#endif  // TICKRT_HAVE_ONNX
