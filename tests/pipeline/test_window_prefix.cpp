// The window prefix in the inline pipeline (pipeline/prefix_infer.hpp): over a real capture, an
// InferStage whose idle() precomputes the next window gives the same logits at every due sample as
// one that runs every window whole; samples are served from the prefix when it was finished, and
// fall back to the whole window (same result) when it was not.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/clock.hpp"
#include "pipeline/capture_source.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"

namespace tickrt::pipeline {
namespace {

constexpr const char* kModel = "models/trained/lstm_attn_s/model.onnx";
constexpr const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";

std::shared_ptr<const LoadedModel> load(int prefix_slice) {
  ModelOptions mo;
  mo.path = kModel;
  mo.max_batch = 1;
  mo.prefix_slice = prefix_slice;
  auto m = load_model(mo);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return m.ok() ? m.value() : nullptr;
}

struct Outcome {
  int due = 0;
  double worst = 0;
  PrefixCounters pc;
  std::uint64_t warm_runs = 0;
};

// idle_calls: idle() calls on the prefix stage after each message (0: the thread never idles).
Outcome replay(int idle_calls, int slice, KeepWarm keep_warm = KeepWarm::off, bool row_samples = true, int copies = 1,
               int prefix_slots = PrefixRunner::kDefaultSymbols) {
  Outcome o;
  auto whole_m = load(0), pre_m = load(slice);
  EXPECT_TRUE(whole_m && pre_m);
  if (!whole_m || !pre_m) return o;
  auto iw = make_instance(whole_m, 1), ip = make_instance(pre_m, 1);
  EXPECT_TRUE(iw.ok() && ip.ok());
  EXPECT_EQ(iw.value()->prefix, nullptr);
  EXPECT_NE(ip.value()->prefix, nullptr) << ip.value()->prefix_note;
  if (!ip.value()->prefix) return o;
  if (prefix_slots != PrefixRunner::kDefaultSymbols) {
    auto pr = PrefixRunner::create(*ip.value()->ctx, pre_m->package, slice, prefix_slots);
    EXPECT_TRUE(pr.ok()) << pr.status().to_string();
    if (pr.ok()) ip.value()->prefix = std::move(pr.value());
  }
  ModelSlot slot_w(std::move(iw.value())), slot_p(std::move(ip.value()));
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  EXPECT_TRUE(clock.ok());
  InferStage whole(slot_w, BatchConfig{1, 0, false}, clock.value());
  InferStage pre(slot_p, BatchConfig{1, 0, false}, clock.value());
  pre.set_warm({keep_warm, 0, 64});  // keep_warm after 0 ns: every idle() once the prefix is ready
  features::FeatureConfig fc;
  MarketHandler mh(fc);
  mh.set_row_samples(row_samples);  // as `tickrt run` inline with the prefix on
  auto src = CaptureSource::open(kCapture, copies, 0, 60000);  // copies > 1: renamed symbols, interleaved
  EXPECT_TRUE(src.ok());
  if (!src.ok()) return o;
  std::string_view line;
  SampleMeta meta;
  InferResult rw, rp;
  while (src.value()->next(line)) {
    TickStamps t;
    const int due = mh.on_line(line, t, meta);
    if (due == MarketHandler::kRowOnly) pre.step_row(meta, mh.symbol(meta.symbol)->fe);  // the prefix of the next window
    if (due == 1) {
      const features::FeatureEngine& fe = mh.symbol(meta.symbol)->fe;
      ++o.due;
      const bool okw = whole.infer_one(meta, fe, rw);
      const bool okp = pre.infer_one(meta, fe, rp);
      EXPECT_EQ(okw, okp);
      EXPECT_EQ(rw.n_out, rp.n_out);
      for (int c = 0; c < rw.n_out; ++c) o.worst = std::max(o.worst, static_cast<double>(std::fabs(rw.out[c] - rp.out[c])));
    }
    for (int i = 0; i < idle_calls; ++i) pre.idle();
  }
  o.pc = slot_p.current()->prefix->counters();
  o.warm_runs = pre.counters().warm_runs;
  return o;
}

TEST(WindowPrefixPipeline, SameLogitsAtEveryDueSampleAndMostFromThePrefix) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  const Outcome o = replay(/*idle_calls=*/16, /*slice=*/16);
  std::printf("window prefix over the capture: %d due samples, %llu from the prefix, %llu whole, %llu slices, %llu dropped, max |diff| %.3g\n",
              o.due, static_cast<unsigned long long>(o.pc.hits), static_cast<unsigned long long>(o.pc.misses),
              static_cast<unsigned long long>(o.pc.slices), static_cast<unsigned long long>(o.pc.dropped), o.worst);
  ASSERT_GT(o.due, 400) << "capture too short for the test";
  EXPECT_LE(o.worst, 1e-5);
  EXPECT_EQ(o.pc.hits + o.pc.misses, static_cast<std::uint64_t>(o.due));
  // With row samples the rows before the first due sample and skipped rows start a prefix too: every
  // due sample can be served (a prefix is only missing when a message crosses two boundaries at once).
  EXPECT_GE(o.pc.hits, static_cast<std::uint64_t>(o.due) * 99 / 100);
  const Outcome no_rows = replay(16, 16, KeepWarm::off, /*row_samples=*/false);
  EXPECT_LE(no_rows.worst, 1e-5);
  EXPECT_GT(no_rows.pc.misses, o.pc.misses);  // the first sample and those after skipped rows run whole
  EXPECT_GT(o.pc.slices, o.pc.hits);  // ~8 slices of 16 steps + one normalisation per prefix
}

TEST(WindowPrefixPipeline, KeepWarmInferRunsTheTicksPathOnTheReadyPrefixWithoutChangingResults) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  const Outcome o = replay(/*idle_calls=*/16, /*slice=*/16, KeepWarm::infer);
  ASSERT_GT(o.due, 400);
  EXPECT_GT(o.warm_runs, static_cast<std::uint64_t>(o.due));  // several warm passes per sample
  EXPECT_LE(o.worst, 1e-5);
  EXPECT_GE(o.pc.hits, static_cast<std::uint64_t>(o.due) * 9 / 10);
}

TEST(WindowPrefixPipeline, OneSlotPerSymbolServesTwoSymbolsSampledTogether) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  const Outcome two = replay(/*idle_calls=*/16, /*slice=*/16, KeepWarm::off, true, /*copies=*/2);
  ASSERT_GT(two.due, 800);
  EXPECT_LE(two.worst, 1e-5);
  EXPECT_GE(two.pc.hits, static_cast<std::uint64_t>(two.due) * 98 / 100);
  // One slot for two symbols: each sample's want() takes the slot from the other symbol.
  const Outcome one = replay(16, 16, KeepWarm::off, true, 2, /*prefix_slots=*/1);
  EXPECT_LE(one.worst, 1e-5);
  EXPECT_LT(one.pc.hits, two.pc.hits / 2);
}

TEST(WindowPrefixPipeline, AThreadThatNeverIdlesRunsWholeWindowsWithTheSameLogits) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  const Outcome o = replay(/*idle_calls=*/0, 16);
  ASSERT_GT(o.due, 400);
  EXPECT_EQ(o.worst, 0.0);  // every sample ran the whole window: bitwise the same
  EXPECT_EQ(o.pc.hits, 0u);
  EXPECT_EQ(o.pc.misses, static_cast<std::uint64_t>(o.due));
}

TEST(WindowPrefixPipeline, TooFewIdleSlicesBetweenSamplesFallBackToTheWholeWindow) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  // One 1-step slice per message: a prefix of 2 x 63 steps is rarely done before the next sample.
  const Outcome o = replay(/*idle_calls=*/1, /*slice=*/1);
  ASSERT_GT(o.due, 400);
  EXPECT_LE(o.worst, 1e-5);
  EXPECT_GT(o.pc.misses, 0u);
  EXPECT_GT(o.pc.dropped, 0u);  // unfinished prefixes were abandoned when the next row came
}

TEST(WindowPrefixPipeline, ModelsWithoutAnLstmChainRunWholeWithTheReason) {
  if (!std::filesystem::exists("models/trained/transformer_s/model.onnx")) GTEST_SKIP() << "model absent";
  ModelOptions mo;
  mo.path = "models/trained/transformer_s/model.onnx";
  mo.max_batch = 1;
  mo.prefix_slice = 16;
  auto m = load_model(mo);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto inst = make_instance(m.value(), 1);
  ASSERT_TRUE(inst.ok());
  EXPECT_EQ(inst.value()->prefix, nullptr);
  EXPECT_NE(inst.value()->prefix_note.find("window prefix"), std::string::npos) << inst.value()->prefix_note;
}

}  // namespace
}  // namespace tickrt::pipeline

namespace tickrt::pipeline {
namespace {

// Hot swap: the capture through a prefix stage (and a whole-window stage, the reference); after the 300th due
// sample a second instance of the same model is published into the prefix stage's slot; `after` due samples
// are counted once it is adopted. warm_gate: ModelSlot::set_swap_warm (60 s: only the warm-up opens the gate).
struct SwapOutcome {
  int due = 0, during = 0, after = 0;   // due samples: all, published but not adopted, adopted
  double worst = 0;                     // max |prefix stage - whole window| over every sample
  std::uint64_t old_misses_at_publish = 0, old_misses_at_end = 0;
  PrefixCounters new_pc, all;           // the new instance's counters, the slot's over both
  std::uint64_t adopted = 0, first_on_new = 0, others = 0;
  bool current_is_new = false;
};

void swap_replay(bool warm_gate, std::size_t warm_lines, int after, SwapOutcome& o) {
  auto m1 = load(16), m2 = load(16), whole_m = load(0);
  ASSERT_TRUE(m1 && m2 && whole_m);
  auto i1 = make_instance(m1, 1), i2 = make_instance(m2, 1), iw = make_instance(whole_m, 1);
  ASSERT_TRUE(i1.ok() && i2.ok() && iw.ok());
  ASSERT_TRUE(i1.value()->prefix && i2.value()->prefix);
  ModelInstance* first = i1.value().get();
  ModelInstance* second = i2.value().release();
  ModelSlot slot(std::move(i1.value())), slot_w(std::move(iw.value()));
  if (warm_gate) slot.set_swap_warm(true, 60'000'000'000);
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  ASSERT_TRUE(clock.ok());
  InferStage pre(slot, BatchConfig{1, 0, false}, clock.value()), whole(slot_w, BatchConfig{1, 0, false}, clock.value());
  pre.set_warm({KeepWarm::off, 0, warm_lines});
  features::FeatureConfig fc;
  MarketHandler mh(fc);
  mh.set_row_samples(true);
  auto src = CaptureSource::open(kCapture, 1, 0, 60000);
  ASSERT_TRUE(src.ok());
  std::string_view line;
  SampleMeta meta;
  InferResult rw, rp;
  bool published = false;
  while (src.value()->next(line) && o.after < after) {
    TickStamps t;
    const int d = mh.on_line(line, t, meta);
    if (d == MarketHandler::kRowOnly) pre.step_row(meta, mh.symbol(meta.symbol)->fe);
    if (d == 1) {
      const features::FeatureEngine& fe = mh.symbol(meta.symbol)->fe;
      ASSERT_TRUE(whole.infer_one(meta, fe, rw));
      ASSERT_TRUE(pre.infer_one(meta, fe, rp));
      for (int c = 0; c < rw.n_out; ++c) o.worst = std::max(o.worst, static_cast<double>(std::fabs(rw.out[c] - rp.out[c])));
      if (published && slot.adopted() == 1) ++o.after;
      else if (published) ++o.during;
      if (++o.due == 300) {  // publish after a sample: the old runner wants the next window's prefix
        o.old_misses_at_publish = first->prefix->counters().misses;
        ASSERT_TRUE(slot.publish(second));
        published = true;
      }
    }
    for (int i = 0; i < 16; ++i) pre.idle();
  }
  o.old_misses_at_end = first->prefix->counters().misses;  // retired, not freed: collect() never ran
  o.new_pc = second->prefix->counters();
  o.all = slot.prefix_counters();
  o.adopted = slot.adopted();
  o.current_is_new = slot.current() == second;
  o.first_on_new = pre.first_on_new_engine().count();
  o.others = pre.other_inferences().count();
}

// Without the warm gate (ModelSlot::adopt at the next inference): the new instance's runner takes over the
// prefixes the old one kept, so the samples right after the swap are served from a prefix of the NEW model.
TEST(WindowPrefixPipeline, HotSwapCarriesThePrefixWantsToTheNewModel) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  SwapOutcome o;
  swap_replay(/*warm_gate=*/false, 64, 200, o);
  ASSERT_EQ(o.after, 200);
  EXPECT_EQ(o.adopted, 1u);
  EXPECT_TRUE(o.current_is_new);
  EXPECT_EQ(o.new_pc.hits + o.new_pc.misses, 200u);
  // Without the carried wants the first sample after the swap finds no prefix (a whole window, 1 miss).
  EXPECT_EQ(o.new_pc.misses, 0u) << "the first sample after the swap should come from the new model's prefix";
  EXPECT_LE(o.worst, 1e-5);
}

// With the warm gate (`[model] swap_warm`, the pipeline's default): before adopting, the inference thread reads
// the new engine's memory and recomputes, on the NEW model, the prefixes the running one keeps (following the
// rows that arrive meanwhile); the running model's own prefix comes first in idle(), so no sample during the
// warm-up and none after the adoption runs a whole window.
TEST(WindowPrefixPipeline, WarmGatedSwapComputesTheNewModelsPrefixBeforeAdoptingIt) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  SwapOutcome o;
  swap_replay(/*warm_gate=*/true, /*warm_lines=*/8, 100, o);  // 8 lines per idle(): the warm-up spans many messages
  ASSERT_EQ(o.after, 100);
  EXPECT_GT(o.during, 0) << "the warm-up should span samples served by the running model";
  EXPECT_TRUE(o.current_is_new);
  // The running model kept its own prefixes during the warm-up: no whole window for it either.
  EXPECT_EQ(o.old_misses_at_end, o.old_misses_at_publish);
  EXPECT_EQ(o.new_pc.hits + o.new_pc.misses, 100u);
  EXPECT_EQ(o.new_pc.misses, 0u) << "the first sample on the new model should come from its prefix, computed before adoption";
  EXPECT_LE(o.worst, 1e-5);
  EXPECT_EQ(o.all.hits + o.all.misses, static_cast<std::uint64_t>(o.due));  // both models' samples
  EXPECT_EQ(o.first_on_new, 1u);
  EXPECT_EQ(o.others, static_cast<std::uint64_t>(o.due - 1));
}

}  // namespace
}  // namespace tickrt::pipeline
