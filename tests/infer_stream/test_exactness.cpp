// Exactness of the streaming engine on the committed lstm_attn_stream (models/lstm_attn_stream, seeded
// random weights): (1) its golden, two streams stepped together (step_batch of 2) and apart; (2) 10,000
// consecutive REAL ticks (tests/infer_stream/data, tools/stream/make_exactness.py: event-sampled features
// of a BTCUSD_PERP capture) against PyTorch over the whole sequence: max |diff| <= 1e-4 and no drift
// (the last 1,000 steps no worse than the first 1,000 beyond float noise).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/stream.hpp"
#include "stream_fixture.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {

constexpr const char* kModel = "models/lstm_attn_stream/model.onnx";

std::unique_ptr<StreamContext> make(int slots, int max_batch, const char* model = kModel) {
  namespace t = tickrt::infer::testing;
  return t::stream_context(t::build_stream_model(model, max_batch), slots, max_batch);
}

double diff3(const float* a, const float* b) {
  double m = 0;
  for (int k = 0; k < 3; ++k) m = std::max(m, static_cast<double>(std::fabs(a[k] - b[k])));
  return m;
}

}  // namespace

TEST(StreamExactness, GoldenTwoStreamsBatchedAndAlone) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " absent";
  auto x = read_npy("models/lstm_attn_stream/golden_x.npy");         // [T, 2, F]
  auto want = read_npy("models/lstm_attn_stream/golden_logits.npy");  // [T, 2, 3]
  ASSERT_TRUE(x.ok() && want.ok());
  const std::size_t T = static_cast<std::size_t>(x->dims[0]), F = static_cast<std::size_t>(x->dims[2]);
  auto batched = make(2, 2), alone = make(2, 1);
  ASSERT_TRUE(batched && alone);
  const int slots[2] = {0, 1};
  double wb = 0, wa = 0;
  for (std::size_t t = 0; t < T; ++t) {
    const float* xt = x->as<float>() + t * 2 * F;
    const float* rt = want->as<float>() + t * 2 * 3;
    ASSERT_EQ(batched->step_batch(slots, 2, xt), Code::ok);
    wb = std::max({wb, diff3(batched->output(0), rt), diff3(batched->output(0) + 3, rt + 3)});
    for (int b = 0; b < 2; ++b) {
      ASSERT_EQ(alone->step(b, xt + b * F), Code::ok);
      wa = std::max(wa, diff3(alone->output(0), rt + b * 3));
    }
  }
  EXPECT_LE(wb, 1e-4);
  EXPECT_LE(wa, 1e-4);
  std::printf("golden %zu steps x 2 streams: max |diff| batched %.3g, one at a time %.3g\n", T, wb, wa);
}

// Steps `model` over x ([T, F]) in one slot and checks every output against want ([T, 3]).
void check_long_stream(const char* model, const std::string& x_path, const std::string& want_path) {
  if (!std::filesystem::exists(model) || !std::filesystem::exists(x_path)) GTEST_SKIP() << "data absent";
  auto x = read_npy(x_path);
  auto want = read_npy(want_path);
  ASSERT_TRUE(x.ok() && want.ok());
  const std::size_t T = static_cast<std::size_t>(x->dims[0]), F = static_cast<std::size_t>(x->dims[1]);
  ASSERT_GE(T, 10000u);
  ASSERT_EQ(static_cast<std::size_t>(want->dims[0]), T);
  auto sc = make(1, 1, model);
  ASSERT_TRUE(sc);
  double worst = 0, first = 0, last = 0;
  for (std::size_t t = 0; t < T; ++t) {
    ASSERT_EQ(sc->step(0, x->as<float>() + t * F), Code::ok);
    const double d = diff3(sc->output(0), want->as<float>() + t * 3);
    worst = std::max(worst, d);
    if (t < 1000) first = std::max(first, d);
    if (t >= T - 1000) last = std::max(last, d);
  }
  std::printf("%s, %zu real ticks: max |engine - PyTorch full sequence| %.3g (first 1000: %.3g, last 1000: %.3g)\n", model, T,
              worst, first, last);
  EXPECT_LE(worst, 1e-4);
  // No drift: errors stay at float rounding level instead of growing with the length of the stream.
  EXPECT_LE(last, std::max(2.0 * first, 1e-5));
}

TEST(StreamExactness, TenThousandRealTicksNoDrift) {
  check_long_stream(kModel, "tests/infer_stream/data/real10k_x.npy", "tests/infer_stream/data/real10k_ref.npy");
}

// The TRAINED model (models/trained/lstm_attn_stream, tools/train/train_stream.py) over its own 10,000-row
// PyTorch full-sequence reference (tests/data/stream_lstm_attn_{x,logits}.npy: normalised real feature rows).
TEST(StreamExactness, TrainedModelTenThousandRealTicksNoDrift) {
  check_long_stream("models/trained/lstm_attn_stream/model.onnx", "tests/data/stream_lstm_attn_x.npy",
                    "tests/data/stream_lstm_attn_logits.npy");
}

// StreamContext::prepare (the recurrent half of the next step between ticks, ops/lstm_step.hpp): over the 10,000 real
// ticks, steps from a prepared slot give BITWISE the outputs of whole steps (the same operations in the same order),
// so the pipeline (which prepares when it idles) and the backtester (which never idles) agree to the bit. Also: a
// second prepare is a no-op, a step or a reset invalidates it, step_batch steps do too, and the counter counts.
TEST(StreamExactness, PreparedStepsAreBitwiseTheWholeSteps) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " absent";
  auto x = read_npy("tests/infer_stream/data/real10k_x.npy");
  ASSERT_TRUE(x.ok());
  const std::size_t T = static_cast<std::size_t>(x->dims[0]), F = static_cast<std::size_t>(x->dims[1]);
  auto whole = make(1, 1), prep = make(2, 2);
  ASSERT_TRUE(whole && prep);
  std::uint64_t prepared = 0;
  for (std::size_t t = 0; t < T; ++t) {
    const float* xt = x->as<float>() + t * F;
    ASSERT_EQ(whole->step(0, xt), Code::ok);
    if (t % 5 != 4) {   // most steps prepared, some not: both paths, interleaved
      ASSERT_TRUE(prep->prepare(0)) << "step " << t;
      ASSERT_FALSE(prep->prepare(0));   // already prepared
      ASSERT_TRUE(prep->prepared(0));
      ++prepared;
    }
    ASSERT_EQ(prep->step(0, xt), Code::ok);
    ASSERT_FALSE(prep->prepared(0));    // the state moved
    ASSERT_EQ(0, std::memcmp(whole->output(0), prep->output(0), 3 * sizeof(float))) << "step " << t;
  }
  EXPECT_EQ(prep->prepared_steps(), prepared);
  ASSERT_TRUE(prep->prepare(1));
  prep->reset(1);
  EXPECT_FALSE(prep->prepared(1));
  ASSERT_TRUE(prep->prepare(1));
  const int both[2] = {0, 1};
  std::vector<float> two(2 * F);
  std::copy(x->as<float>(), x->as<float>() + 2 * F, two.begin());
  ASSERT_EQ(prep->step_batch(both, 2, two.data()), Code::ok);
  EXPECT_FALSE(prep->prepared(1));
  EXPECT_FALSE(prep->prepare(-1));
  EXPECT_FALSE(prep->prepare(2));
}
