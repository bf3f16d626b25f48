// The circular ring (passes/stream_ring.cpp + StreamContext's in-place pairs) on the committed
// lstm_attn_stream over real ticks: the pass applies, the rings stay in their one buffer, the rotated ring
// equals the shifted one, the logits equal the shifted graph's to float rounding; and the pass leaves the
// graph alone (RingShift) when a ring-ordered value reaches something that is not order-blind.
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

constexpr const char* kModel = "models/lstm_attn_stream/model.onnx";
constexpr const char* kTicks = "tests/infer_stream/data/real10k_x.npy";

// expose: an internal value made a graph output (as calibration does), which the pass must refuse.
std::unique_ptr<StreamContext> make(const char* expose, int max_batch = 1) {
  namespace t = tickrt::infer::testing;
  return t::stream_context(t::build_stream_model(kModel, max_batch, expose), 4, max_batch);
}

int pair_index(const StreamContext& sc, const char* in_name) {
  for (std::size_t p = 0; p < sc.spec().pairs.size(); ++p)
    if (sc.spec().pairs[p].in_name == in_name) return static_cast<int>(p);
  return -1;
}

int count_op(const StreamContext& sc, const char* op) {
  const auto h = sc.engine().graph().op_histogram();
  const auto it = h.find(op);
  return it == h.end() ? 0 : it->second;
}

}  // namespace

TEST(CircularRing, AppliesToTheStreamModelAndMatchesTheShiftedGraph) {
  auto xs = read_npy(kTicks);
  if (!xs.ok()) GTEST_SKIP() << "no " << kTicks << ": " << xs.status().to_string();
  auto circ = make(nullptr);
  auto shifted = make("/Softmax_output_0");   // the attention weights exposed: ring-ordered output -> no rewrite
  ASSERT_TRUE(circ && shifted);

  EXPECT_EQ(count_op(*circ, "tickrt.RingWrite"), 3);
  EXPECT_EQ(count_op(*circ, "tickrt.RingShift"), 0);
  EXPECT_EQ(count_op(*shifted, "tickrt.RingWrite"), 0);
  EXPECT_EQ(count_op(*shifted, "tickrt.RingShift"), 3);
  // passes/stream_linear.cpp: the narrow layers (att_v 64x1, fc2 64x3) as RowLinear, the 64-wide ones stay FusedGemm.
  EXPECT_EQ(count_op(*circ, "tickrt.RowLinear"), 2);
  EXPECT_EQ(count_op(*circ, "tickrt.FusedGemm"), 2);
  const int ring = pair_index(*circ, "ring"), head = pair_index(*circ, "tickrt.ring_head");
  const int sring = pair_index(*shifted, "ring");
  ASSERT_GE(ring, 0);
  ASSERT_GE(head, 0);
  ASSERT_GE(sring, 0);
  EXPECT_EQ(pair_index(*shifted, "tickrt.ring_head"), -1);
  for (const char* name : {"ring", "ring_score", "ring_valid"}) {
    EXPECT_TRUE(circ->spec().pairs[static_cast<std::size_t>(pair_index(*circ, name))].in_place) << name;
    EXPECT_FALSE(shifted->spec().pairs[static_cast<std::size_t>(pair_index(*shifted, name))].in_place) << name;
  }
  EXPECT_FALSE(circ->spec().pairs[static_cast<std::size_t>(pair_index(*circ, "h"))].in_place);

  const std::size_t F = static_cast<std::size_t>(xs->dims[1]);
  const std::size_t T = std::min<std::size_t>(3000, static_cast<std::size_t>(xs->dims[0]));
  const std::byte* ring_buf = circ->state(1, static_cast<std::size_t>(ring));
  const std::size_t K = 64, D = 64;
  double worst = 0;
  for (std::size_t t = 0; t < T; ++t) {
    const float* x = xs->as<float>() + t * F;
    ASSERT_EQ(circ->step(1, x), Code::ok);
    ASSERT_EQ(shifted->step(1, x), Code::ok);
    for (int k = 0; k < 3; ++k) worst = std::max(worst, static_cast<double>(std::fabs(circ->output(0)[k] - shifted->output(0)[k])));
    // In place: the ring never moves; the head is the next row to write.
    ASSERT_EQ(circ->state(1, static_cast<std::size_t>(ring)), ring_buf);
    const float h = *reinterpret_cast<const float*>(circ->state(1, static_cast<std::size_t>(head)));
    ASSERT_EQ(h, static_cast<float>((t + 1) % K)) << t;
    if (t % 97 == 0 || t + 1 == T) {   // the circular ring read from the head on equals the shifted ring (oldest first)
      const float* c = reinterpret_cast<const float*>(ring_buf);
      const float* s = reinterpret_cast<const float*>(shifted->state(1, static_cast<std::size_t>(sring)));
      for (std::size_t r = 0; r < K; ++r)
        ASSERT_EQ(0, std::memcmp(s + r * D, c + ((static_cast<std::size_t>(h) + r) % K) * D, D * sizeof(float))) << "t " << t << " row " << r;
    }
  }
  EXPECT_LE(worst, 1e-5);
  std::printf("circular vs shifted ring over %zu real ticks: max |logits diff| %.3g\n", T, worst);
  // Reset: zeros, head 0; a reset slot and a fresh slot step alike.
  circ->reset(1);
  EXPECT_EQ(*reinterpret_cast<const float*>(circ->state(1, static_cast<std::size_t>(head))), 0.f);
  ASSERT_EQ(circ->step(1, xs->as<float>()), Code::ok);
  float a[3];
  std::memcpy(a, circ->output(0), sizeof a);
  ASSERT_EQ(circ->step(2, xs->as<float>()), Code::ok);
  EXPECT_EQ(0, std::memcmp(a, circ->output(0), sizeof a));
}

TEST(CircularRing, BatchedSlotsEqualSingleSteps) {
  auto xs = read_npy(kTicks);
  if (!xs.ok()) GTEST_SKIP() << "no " << kTicks;
  auto single = make(nullptr, 1);
  auto batched = make(nullptr, 3);
  ASSERT_TRUE(single && batched);
  const std::size_t F = static_cast<std::size_t>(xs->dims[1]);
  std::vector<float> xb(3 * F), want(9);
  int slots[3] = {2, 0, 1};
  double worst = 0;
  // Slots at different phases (head positions differ inside one batch): slot s starts 10*s rows in.
  for (std::size_t t = 0; t < 300; ++t) {
    if (t == 150) { single->reset(0); batched->reset(0); }   // slot 0's head restarts, the others' do not
    for (int i = 0; i < 3; ++i) {
      const int s = slots[i];
      std::memcpy(&xb[static_cast<std::size_t>(i) * F], xs->as<float>() + (t + 10 * static_cast<std::size_t>(s)) * F, F * sizeof(float));
      ASSERT_EQ(single->step(s, &xb[static_cast<std::size_t>(i) * F]), Code::ok);
      std::memcpy(&want[static_cast<std::size_t>(i) * 3], single->output(0), 3 * sizeof(float));
    }
    ASSERT_EQ(batched->step_batch(slots, 3, xb.data()), Code::ok);
    for (int i = 0; i < 9; ++i) worst = std::max(worst, static_cast<double>(std::fabs(batched->output(0)[i] - want[static_cast<std::size_t>(i)])));
  }
  EXPECT_LE(worst, 1e-5);
}
