// Engine files (round trip, corruption, version/ISA mismatch), memory plan (reuse, workspace limit,
// no allocation in run()), ONNX import errors, and the conformance suite.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../support/counting_new.hpp"  // this executable's operator new, counted
#include "graph_builder.hpp"
#include "infer/format/engine_file.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/conformance.hpp"
#include "infer/onnx/onnx_import.hpp"

using namespace tickrt;
using namespace tickrt::infer;
using namespace tickrt::infer::testing;


namespace {
std::string tmp(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

std::shared_ptr<Engine> small_engine() {
  auto g = import_onnx_file("models/lstm_attn_s/model.onnx");
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  BuildOptions bo;
  bo.batch = {1, 1, 8};
  auto e = Engine::build(std::move(*g), bo);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return *e;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void spit(const std::string& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
}  // namespace

TEST(EngineFile, RoundTripGivesIdenticalOutputs) {
  auto e = small_engine();
  const std::string path = tmp("rt.engine");
  ASSERT_TRUE(e->save(path).ok());
  auto l = Engine::load(path);
  ASSERT_TRUE(l.ok()) << l.status().to_string();
  ExecutionContext a(e), b(*l);
  ASSERT_TRUE(a.prepare_batch(3).ok());
  ASSERT_TRUE(b.prepare_batch(3).ok());
  fill_golden_input(9, a.input(0), 3 * 64 * 32);
  fill_golden_input(9, b.input(0), 3 * 64 * 32);
  ASSERT_EQ(a.run(), Code::ok);
  ASSERT_EQ(b.run(), Code::ok);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(a.output(0)[i], b.output(0)[i]);
}

TEST(EngineFile, CorruptTruncatedAndForeignFilesAreRefused) {
  auto e = small_engine();
  const std::string path = tmp("c.engine");
  ASSERT_TRUE(e->save(path).ok());
  const std::string good = slurp(path);

  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  spit(path, flipped);
  auto r1 = Engine::load(path);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), Code::corrupt);
  EXPECT_NE(r1.status().message().find("checksum"), std::string::npos);

  spit(path, good.substr(0, good.size() - 100));
  auto r2 = Engine::load(path);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), Code::corrupt);

  spit(path, good.substr(0, 10));
  EXPECT_EQ(Engine::load(path).status().code(), Code::corrupt);

  spit(path, "definitely not an engine file, but long enough to have a header of sixty-four bytes.....");
  auto r3 = Engine::load(path);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("magic"), std::string::npos);

  // A file from another kernel-layout version (header re-checksummed, so only the version differs).
  std::string other = good;
  std::uint32_t layout = kKernelLayoutVersion + 1;
  std::memcpy(other.data() + 16, &layout, 4);
  const std::uint32_t hcrc = crc32c(other.data(), 60);   // header CRC covers the 60 bytes before it
  std::memcpy(other.data() + 60, &hcrc, 4);
  spit(path, other);
  auto r4 = Engine::load(path);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.status().code(), Code::unsupported);
  EXPECT_NE(r4.status().message().find("rebuild"), std::string::npos);

  EXPECT_EQ(Engine::load(tmp("does-not-exist.engine")).status().code(), Code::not_found);
}

TEST(EngineFile, LoadsInMilliseconds) {
  auto g = import_onnx_file("models/lstm_attn_l/model.onnx");
  ASSERT_TRUE(g.ok());
  BuildOptions bo;
  auto e = Engine::build(std::move(*g), bo);
  ASSERT_TRUE(e.ok());
  const std::string path = tmp("l.engine");
  ASSERT_TRUE((*e)->save(path).ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto l = Engine::load(path);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(l.ok());
  // A 4 MB engine: mmap + CRC32C + graph parse. Generous bound (shared CI machine); the figure is in
  // docs/BENCHMARKS.md from `tickrt inspect`.
  EXPECT_LT(ms, 500.0);
}

TEST(MemoryPlan, ReusesMemoryAndEnforcesTheWorkspaceLimit) {
  auto g = import_onnx_file("models/transformer_s/model.onnx");
  ASSERT_TRUE(g.ok());
  BuildOptions bo;
  BuildReport rep;
  auto e = Engine::build(*g, bo, &rep);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_LT(rep.plan_max.arena_bytes, rep.plan_max.naive_bytes);
  bo.workspace_limit = 4096;
  auto small = Engine::build(std::move(*g), bo);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().code(), Code::resource_exhausted);
  EXPECT_NE(small.status().message().find("workspace limit"), std::string::npos);
}

TEST(MemoryPlan, RunDoesNotAllocate) {
  auto e = small_engine();
  ExecutionContext ctx(e);
  ASSERT_TRUE(ctx.prepare_batch(1).ok());
  ASSERT_TRUE(ctx.prepare_batch(8).ok());
  fill_golden_input(3, ctx.input(0), 8 * 64 * 32);
  const tickrt::test::AllocationCounter allocs;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(ctx.run(), Code::ok);
  ASSERT_EQ(ctx.select_batch(1), Code::ok);   // switching to a prepared batch does not allocate either
  ASSERT_EQ(ctx.run(), Code::ok);
  ASSERT_EQ(ctx.select_batch(8), Code::ok);
  ASSERT_EQ(ctx.run(), Code::ok);
  EXPECT_EQ(ctx.select_batch(5), Code::not_found);   // never prepared: refused, not planned on the hot path
  EXPECT_EQ(allocs.count(), 0);
}

// With intra-op threads (the batch-1 LSTM pipeline, the batch-8 splits) neither the caller nor the worker allocates.
TEST(MemoryPlan, RunWithTwoThreadsDoesNotAllocate) {
  auto e = small_engine();
  ExecutionContext ctx(e);
  ASSERT_TRUE(ctx.set_threads(2).ok());
  ASSERT_TRUE(ctx.prepare_batch(1).ok());
  ASSERT_TRUE(ctx.prepare_batch(8).ok());
  ASSERT_GT(ctx.stats().parallel_steps, 0);
  fill_golden_input(3, ctx.input(0), 8 * 64 * 32);
  ASSERT_EQ(ctx.run(), Code::ok);   // the worker's first task (thread start-up is done in set_threads)
  const tickrt::test::AllocationCounter allocs;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(ctx.run(), Code::ok);
  ASSERT_EQ(ctx.select_batch(1), Code::ok);
  EXPECT_EQ(ctx.stats().pipelined_pairs, 1);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(ctx.run(), Code::ok);
  EXPECT_EQ(allocs.count(), 0);
}

TEST(OnnxImport, MalformedFilesGiveClearErrors) {
  const std::string p = tmp("bad.onnx");
  spit(p, "\x08\x07garbage\xff\xff\xff\xff\x0f not protobuf");
  auto r = import_onnx_file(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(p), std::string::npos);

  const std::string good = slurp("models/lstm_attn_s/model.onnx");
  for (std::size_t cut : {good.size() / 3, good.size() - 7}) {
    spit(p, good.substr(0, cut));
    auto t = import_onnx_file(p);
    EXPECT_FALSE(t.ok()) << "truncated at " << cut;
  }
  EXPECT_EQ(import_onnx_file(tmp("missing.onnx")).status().code(), Code::not_found);
}

TEST(OnnxImport, UnsupportedOpsAreListedByName) {
  GB b;
  int x = b.input("x", {2});
  int y = b.node("FancyOp", {x});
  int z = b.node("OtherOp", {y});
  b.output(z);
  auto e = Engine::build(b.g, BuildOptions{});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::unsupported);
  EXPECT_NE(e.status().message().find("FancyOp"), std::string::npos);
  EXPECT_NE(e.status().message().find("OtherOp"), std::string::npos);
}

TEST(Conformance, EveryTestOfEverySupportedOpPasses) {
  if (!std::filesystem::is_directory(kOnnxNodeTestDir)) GTEST_SKIP() << "libonnx-testdata not installed";
  auto results = run_conformance(kOnnxNodeTestDir, "");
  const auto& expected = conformance_expected_failures();
  int pass = 0, unsupported = 0;
  for (auto& r : results) {
    bool expected_fail = false;
    for (auto& [name, why] : expected) expected_fail = expected_fail || name == r.test;
    if (r.outcome == ConformanceResult::Outcome::pass) { ++pass; EXPECT_FALSE(expected_fail) << r.test << " passes now: drop it from the list"; }
    else if (r.outcome == ConformanceResult::Outcome::unsupported) ++unsupported;
    else EXPECT_TRUE(expected_fail) << r.test << ": " << r.detail;
  }
  std::printf("conformance: %d pass, %d unsupported, %zu tests\n", pass, unsupported, results.size());
  EXPECT_GT(pass, 300);
}

TEST(Conformance, EveryOpTheModelsUseIsSupported) {
  for (const char* m : {"lstm_attn_s", "lstm_attn_l", "convlstm", "transformer_s"}) {
    auto g = import_onnx_file(std::string("models/") + m + "/model.onnx");
    ASSERT_TRUE(g.ok());
    EXPECT_TRUE(check_supported(*g).ok()) << m << ": " << check_supported(*g).message();
  }
}
