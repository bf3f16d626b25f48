// infer/stream.hpp on tests/infer_stream/tiny.onnx (make_step_graph.py: a 2-layer LSTM + ring attention
// one-step graph, F=6, H=8, ring 4, random weights): streamed steps against PyTorch over the whole
// sequence, slots independent of each other, batching across slots, reset, warm-up, and the spec checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/stream.hpp"
#include "stream_fixture.hpp"

using namespace tickrt;
using namespace tickrt::infer;

namespace {

constexpr const char* kModel = "tests/infer_stream/tiny.onnx";

std::shared_ptr<const Engine> build(bool optimize = true, std::int64_t max_batch = 8) {
  auto g = import_onnx_file(kModel);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  BuildOptions bo;
  bo.optimize = optimize;
  bo.batch = {1, 1, max_batch};
  auto e = Engine::build(std::move(*g), bo);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  return *e;
}

struct Data {
  TensorData xs, ref;
  std::size_t T = 0, F = 0;
};
Data load() {
  Data d;
  auto xs = read_npy("tests/infer_stream/tiny_xs.npy");
  auto ref = read_npy("tests/infer_stream/tiny_ref.npy");
  EXPECT_TRUE(xs.ok() && ref.ok());
  d.xs = *xs;
  d.ref = *ref;
  d.T = static_cast<std::size_t>(d.xs.dims[0]);
  d.F = static_cast<std::size_t>(d.xs.dims[1]);
  return d;
}

std::unique_ptr<StreamContext> make(std::shared_ptr<const Engine> e, int slots, int max_batch) {
  return tickrt::infer::testing::stream_context(e, slots, max_batch);
}

double diff3(const float* a, const float* b) {
  double m = 0;
  for (int k = 0; k < 3; ++k) m = std::max(m, static_cast<double>(std::fabs(a[k] - b[k])));
  return m;
}

}  // namespace

TEST(StreamSpec, ParsesTheDeclaredPairs) {
  auto e = build();
  auto spec = parse_stream_spec(e->graph());
  ASSERT_TRUE(spec.ok()) << spec.status().to_string();
  ASSERT_EQ(spec->pairs.size(), 4u);
  EXPECT_EQ(spec->pairs[0].in_name, "h");
  EXPECT_EQ(spec->pairs[0].in_axis, 1);          // h [2, B, 8]
  EXPECT_EQ(spec->pairs[0].bytes, 2u * 8 * 4);
  EXPECT_EQ(spec->pairs[2].in_name, "ring");
  EXPECT_EQ(spec->pairs[2].bytes, 4u * 8 * 4);
  EXPECT_EQ(spec->x, 0);
  EXPECT_EQ(spec->x_floats, 6u);
  EXPECT_EQ(spec->results.size(), 1u);
  EXPECT_EQ(spec->result_floats[0], 3u);
  EXPECT_EQ(spec->warmup, 4u);
  EXPECT_TRUE(spec->batchable);
}

TEST(StreamSpec, BadDeclarationsNameWhatIsWrong) {
  auto g = import_onnx_file(kModel);
  ASSERT_TRUE(g.ok());
  auto with = [&](const std::string& v) {
    Graph h = *g;
    h.metadata["tickrt.state"] = v;
    return parse_stream_spec(h).status();
  };
  auto s = with("h:h_out,c:nope");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'nope' is not an output"), std::string::npos) << s.to_string();
  s = with("h:c_out,c:h_out,ring:ring_out,n");
  EXPECT_NE(s.message().find("pair 'n' is not 'input:output'"), std::string::npos) << s.to_string();
  s = with("h:ring_out");
  EXPECT_NE(s.message().find("differs from output shape"), std::string::npos) << s.to_string();
  s = with("h:h_out,c:c_out");   // ring and n left as plain inputs: two non-state inputs
  EXPECT_NE(s.message().find("exactly one"), std::string::npos) << s.to_string();
  Graph h = *g;
  h.metadata.erase("tickrt.state");
  EXPECT_FALSE(is_streaming(h));
  EXPECT_EQ(parse_stream_spec(h).status().code(), Code::not_found);
  h = *g;
  h.metadata["tickrt.warmup"] = "ten";
  EXPECT_NE(parse_stream_spec(h).status().message().find("tickrt.warmup"), std::string::npos);
}

// The core promise: stepping the slot T times equals the model's function over the whole sequence.
TEST(StreamContext, StepsEqualTheFullSequence) {
  const Data d = load();
  for (bool optimize : {true, false}) {
    auto sc = make(build(optimize), 1, 1);
    double worst = 0;
    for (std::size_t t = 0; t < d.T; ++t) {
      ASSERT_EQ(sc->step(0, d.xs.as<float>() + t * d.F), Code::ok);
      worst = std::max(worst, diff3(sc->output(0), d.ref.as<float>() + t * 3));
    }
    EXPECT_LE(worst, 1e-5) << "optimize=" << optimize;
    EXPECT_EQ(sc->steps(0), d.T);
  }
}

// Slots are independent: two symbols interleaved, started at different times, each follow their own
// sequence; a reset slot starts over exactly.
TEST(StreamContext, SlotsAreIndependentAndResetStartsOver) {
  const Data d = load();
  auto sc = make(build(), 3, 1);
  std::size_t t1 = 0;
  double worst = 0;
  for (std::size_t t0 = 0; t0 < d.T; ++t0) {
    ASSERT_EQ(sc->step(0, d.xs.as<float>() + t0 * d.F), Code::ok);
    worst = std::max(worst, diff3(sc->output(0), d.ref.as<float>() + t0 * 3));
    if (t0 >= 50 && t1 < d.T) {     // slot 2 starts 50 ticks later on the same sequence
      ASSERT_EQ(sc->step(2, d.xs.as<float>() + t1 * d.F), Code::ok);
      worst = std::max(worst, diff3(sc->output(0), d.ref.as<float>() + t1 * 3));
      ++t1;
    }
    if (t0 == 120) {                // reset slot 2 mid-way: it restarts from the first row
      sc->reset(2);
      EXPECT_EQ(sc->steps(2), 0u);
      t1 = 0;
    }
  }
  EXPECT_LE(worst, 1e-5);
  EXPECT_EQ(sc->steps(1), 0u);      // never stepped
  const std::byte* s1 = sc->state(1, 0);
  for (std::size_t i = 0; i < sc->spec().pairs[0].bytes; ++i) ASSERT_EQ(s1[i], std::byte{0});
}

TEST(StreamContext, BatchAcrossSlotsEqualsSingleSteps) {
  const Data d = load();
  auto single = make(build(), 4, 1);
  auto batched = make(build(), 4, 4);
  // Slots at different phases: slot s starts at row 10*s. Every tick, every slot steps once.
  int slots[4] = {0, 1, 2, 3};
  std::vector<float> xs(4 * d.F), want(4 * 3);
  double worst = 0;
  for (std::size_t t = 0; t + 40 < d.T; ++t) {
    for (int s = 0; s < 4; ++s) {
      std::memcpy(&xs[static_cast<std::size_t>(s) * d.F], d.xs.as<float>() + (t + 10 * s) * d.F, d.F * sizeof(float));
      ASSERT_EQ(single->step(s, &xs[static_cast<std::size_t>(s) * d.F]), Code::ok);
      std::memcpy(&want[static_cast<std::size_t>(s) * 3], single->output(0), 3 * sizeof(float));
    }
    const int n = (t % 3 == 2) ? 3 : 4;   // sometimes a smaller batch (slot 3 skips; it then lags)
    if (n == 3) {
      ASSERT_EQ(batched->step_batch(slots, 3, xs.data()), Code::ok);
      for (int s = 0; s < 3; ++s) worst = std::max(worst, diff3(batched->output(0) + s * 3, &want[static_cast<std::size_t>(s) * 3]));
      ASSERT_EQ(batched->step(3, &xs[3 * d.F]), Code::ok);   // catch slot 3 up alone
      worst = std::max(worst, diff3(batched->output(0), &want[9]));
    } else {
      int order[4] = {2, 0, 3, 1};        // any order of slots in a batch
      std::vector<float> xo(4 * d.F);
      for (int i = 0; i < 4; ++i)
        std::memcpy(&xo[static_cast<std::size_t>(i) * d.F], &xs[static_cast<std::size_t>(order[i]) * d.F], d.F * sizeof(float));
      ASSERT_EQ(batched->step_batch(order, 4, xo.data()), Code::ok);
      for (int i = 0; i < 4; ++i)
        worst = std::max(worst, diff3(batched->output(0) + i * 3, &want[static_cast<std::size_t>(order[i]) * 3]));
    }
  }
  EXPECT_LE(worst, 1e-5);
  // The states agree to float rounding, not to the bit: a one-row step adds h @ R^T before x @ W^T (so the first half
  // can run between ticks, StreamContext::prepare), a batch step adds them the other way round.
  for (int s = 0; s < 4; ++s)
    for (std::size_t p = 0; p < 4; ++p) {
      const auto* a = reinterpret_cast<const float*>(single->state(s, p));
      const auto* b = reinterpret_cast<const float*>(batched->state(s, p));
      double md = 0;
      for (std::size_t i = 0; i < single->spec().pairs[p].bytes / sizeof(float); ++i)
        md = std::max(md, static_cast<double>(std::fabs(a[i] - b[i])));
      EXPECT_LE(md, 1e-5) << "slot " << s << " pair " << p;
    }
  int dup[2] = {1, 1};
  EXPECT_EQ(batched->step_batch(dup, 2, xs.data()), Code::invalid_argument);
  int bad[2] = {1, 9};
  EXPECT_EQ(batched->step_batch(bad, 2, xs.data()), Code::out_of_range);
  EXPECT_EQ(batched->step(4, xs.data()), Code::out_of_range);
}

// The state lives in the slot's two buffers, which alternate (the step writes the other one).
TEST(StreamContext, StateIsReadFromTheSlotWithoutCopies) {
  const Data d = load();
  auto sc = make(build(), 1, 1);
  for (std::size_t t = 0; t < 10; ++t) ASSERT_EQ(sc->step(0, d.xs.as<float>() + t * d.F), Code::ok);
  const std::byte* a = sc->state(0, 0);
  ASSERT_EQ(sc->step(0, d.xs.as<float>() + 10 * d.F), Code::ok);
  const std::byte* b = sc->state(0, 0);
  EXPECT_NE(a, b);
  ASSERT_EQ(sc->step(0, d.xs.as<float>() + 11 * d.F), Code::ok);
  EXPECT_EQ(sc->state(0, 0), a);
}

TEST(StreamContext, WarmupCountsStepsSinceReset) {
  const Data d = load();
  auto sc = make(build(), 2, 1);
  EXPECT_EQ(sc->warmup(), 4u);
  for (int t = 0; t < 4; ++t) {
    EXPECT_FALSE(sc->warm(0));
    ASSERT_EQ(sc->step(0, d.xs.as<float>()), Code::ok);
  }
  EXPECT_TRUE(sc->warm(0));
  EXPECT_FALSE(sc->warm(1));
  sc->reset(0);
  EXPECT_FALSE(sc->warm(0));
  sc->set_warmup(0);
  EXPECT_TRUE(sc->warm(1));
}

TEST(StreamContext, RefusesBatchBeyondTheProfile) {
  auto e = build(true, 2);
  auto spec = parse_stream_spec(e->graph());
  ASSERT_TRUE(spec.ok());
  auto sc = StreamContext::create(e, *spec, {4, 8});
  EXPECT_FALSE(sc.ok());
  EXPECT_NE(sc.status().message().find("profile max"), std::string::npos);
}
