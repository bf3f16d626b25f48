// A streaming model in the pipeline's inference stage (pipeline/stream_infer.hpp): load_model() recognises
// and validates it, InferStage::infer_one() (inline mode, `tickrt run` and `tickrt backtest`) steps one row
// per sample over a real capture, the reset policy (session, long gap, lost rows, resync), and a hot swap
// (the new instance rebuilds its state by replaying the window before its first result).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/clock.hpp"
#include "pipeline/capture_source.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"

using namespace tickrt;
using namespace tickrt::pipeline;

namespace {

constexpr const char* kModel = "models/lstm_attn_stream/model.onnx";
constexpr const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";

std::shared_ptr<const LoadedModel> load(std::uint64_t version = 1) {
  ModelOptions mo;
  mo.path = kModel;
  mo.max_batch = 1;
  mo.version = version;
  auto m = load_model(mo);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return m.ok() ? m.value() : nullptr;
}

}  // namespace

TEST(StreamPipeline, LoadsAndValidatesTheStreamingModel) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " absent";
  auto m = load();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->streaming);
  EXPECT_EQ(m->in_floats, 24u);
  EXPECT_EQ(m->out_floats, 3u);
  EXPECT_NE(m->validation.find("golden (streamed)"), std::string::npos) << m->validation;
  auto inst = make_instance(m, 1);
  ASSERT_TRUE(inst.ok()) << inst.status().to_string();
  EXPECT_TRUE(inst.value()->stream);
  EXPECT_FALSE(inst.value()->ctx);
  EXPECT_EQ(replay_rows(*m), 64u);   // warm-up 64: the default window holds it
  // The trained model (warm-up 80) wants a longer replay buffer.
  ModelOptions mo;
  mo.path = "models/trained/lstm_attn_stream/model.onnx";
  if (std::filesystem::exists(mo.path)) {
    auto t = load_model(mo);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_TRUE(t.value()->streaming);
    EXPECT_EQ(replay_rows(*t.value()), static_cast<std::size_t>(t.value()->stream_spec.warmup));
  }
}

// Over a real capture: every due sample gives the output of the state stepped over EVERY row since the
// session started (checked against an independent StreamContext fed all rows), and the swap rebuilds.
TEST(StreamPipeline, InlineStepsEveryRowAndSwapRebuildsTheState) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  auto m = load();
  ASSERT_TRUE(m);
  auto inst = make_instance(m, 1);
  ASSERT_TRUE(inst.ok());
  ModelSlot slot(std::move(inst.value()));
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  ASSERT_TRUE(clock.ok());
  InferStage stage(slot, BatchConfig{1, 0, false}, clock.value());
  auto src = CaptureSource::open(kCapture, 1, 0, 60000);
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  features::FeatureConfig fc;
  MarketHandler mh(fc);
  // The independent reference: one StreamContext stepped on every row the symbol's FeatureEngine made.
  auto ref = infer::StreamContext::create(m->engine, m->stream_spec, {1, 1});
  ASSERT_TRUE(ref.ok());
  std::vector<float> x(24);
  std::uint64_t ref_rows = 0;
  int samples = 0, results = 0, swapped_at = -1;
  double worst = 0, worst_swap = 0;
  std::string_view line;
  SampleMeta meta;
  InferResult res;
  while (src.value()->next(line)) {
    TickStamps t;
    t.recv = TscClock::ticks();
    if (mh.on_line(line, t, meta) != 1) continue;
    const features::FeatureEngine& fe = mh.symbol(meta.symbol)->fe;
    ++samples;
    // Reference: step the rows it has not seen (the window holds them all: the capture has no long gap).
    const auto w = fe.window();
    const std::uint64_t have = w.size() / 24, todo = fe.samples() - ref_rows;
    ASSERT_LE(todo, have);
    for (std::uint64_t i = 0; i < todo; ++i) {
      m->package.normalize(w.data() + (have - todo + i) * 24, 1, x.data());
      ASSERT_EQ(ref.value()->step(0, x.data()), Code::ok);
    }
    ref_rows = fe.samples();
    if (samples == 300) {   // hot swap to a new instance of the same model: state rebuilt from the window
      auto m2 = load(2);
      ASSERT_TRUE(m2);
      auto i2 = make_instance(m2, 1);
      ASSERT_TRUE(i2.ok());
      ASSERT_TRUE(slot.publish(i2.value().release()));
      swapped_at = samples;
    }
    const bool ok = stage.infer_one(meta, fe, res);
    ASSERT_TRUE(ok) << "sample " << samples;  // the window is full at the first due sample: warm at once
    ++results;
    ASSERT_EQ(res.n_out, 3);
    if (swapped_at < 0) {
      for (int c = 0; c < 3; ++c) worst = std::max(worst, static_cast<double>(std::fabs(res.out[c] - ref.value()->output(0)[c])));
    } else if (samples == swapped_at) {
      // The new instance's first output = a fresh state stepped over the window's 64 rows.
      auto fresh = infer::StreamContext::create(m->engine, m->stream_spec, {1, 1});
      ASSERT_TRUE(fresh.ok());
      for (std::uint64_t i = 0; i < have; ++i) {
        m->package.normalize(w.data() + i * 24, 1, x.data());
        ASSERT_EQ(fresh.value()->step(0, x.data()), Code::ok);
      }
      for (int c = 0; c < 3; ++c) worst_swap = std::max(worst_swap, static_cast<double>(std::fabs(res.out[c] - fresh.value()->output(0)[c])));
      EXPECT_EQ(res.model_version, 2u);
    }
  }
  ASSERT_GT(samples, 400) << "capture too short for the test";
  EXPECT_EQ(results, samples);
  EXPECT_LE(worst, 1e-6);
  EXPECT_LE(worst_swap, 1e-6);
  const StreamCounters& c = slot.current()->stream->counters();
  EXPECT_EQ(c.resets_session, 1u);       // the new instance's first sample of the symbol
  EXPECT_EQ(c.replayed, 63u);            // 64 rows replayed, the last one being the sample's own
  EXPECT_EQ(c.resets_gap + c.resets_lost + c.resets_resync + c.errors, 0u);
}

TEST(StreamPipeline, ResetPolicyGapLostRowsResyncAndWarmup) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " absent";
  auto m = load();
  ASSERT_TRUE(m);
  StreamConfig cfg;
  cfg.slots = 4;
  cfg.max_gap_ns = 1'000'000'000;
  cfg.warmup = 8;
  auto r = StreamRunner::create(m->engine, m->stream_spec, cfg);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  StreamRunner& s = *r.value();
  std::vector<float> win(64 * 24, 0.f);
  for (std::size_t i = 0; i < win.size(); ++i) win[i] = std::sin(0.01f * static_cast<float>(i));
  float out[8];
  std::size_t n = 0;
  const std::int64_t sec = 1'000'000'000;
  // First sample with 3 rows: session reset, 3 steps, still warming (warm-up 8).
  EXPECT_EQ(s.infer(m->package, 1, 10 * sec, 3, std::span<const float>(win.data(), 3 * 24), out, n), StreamOutcome::not_warm);
  EXPECT_EQ(s.counters().resets_session, 1u);
  EXPECT_EQ(s.counters().steps, 3u);
  // 5 more rows: warm (8 steps).
  EXPECT_EQ(s.infer(m->package, 1, 10 * sec + 500'000'000, 8, std::span<const float>(win.data(), 8 * 24), out, n), StreamOutcome::ok);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(s.counters().steps, 8u);
  // A gap over 1 s: reset, rebuilt from the 9 rows the window holds (warm again at once: 9 >= 8).
  EXPECT_EQ(s.infer(m->package, 1, 12 * sec, 9, std::span<const float>(win.data(), 9 * 24), out, n), StreamOutcome::ok);
  EXPECT_EQ(s.counters().resets_gap, 1u);
  // 70 rows appeared but the window holds 64: rows lost -> reset and rebuild from 64.
  EXPECT_EQ(s.infer(m->package, 1, 12 * sec + 100, 79, std::span<const float>(win.data(), 64 * 24), out, n), StreamOutcome::ok);
  EXPECT_EQ(s.counters().resets_lost, 1u);
  // Book integrity lost: the next sample restarts from the window.
  s.reset_symbol(1);
  EXPECT_EQ(s.infer(m->package, 1, 12 * sec + 200, 80, std::span<const float>(win.data(), 4 * 24), out, n), StreamOutcome::not_warm);
  EXPECT_EQ(s.counters().resets_resync, 1u);
  // Features reset (row count went down): session reset.
  EXPECT_EQ(s.infer(m->package, 1, 12 * sec + 300, 2, std::span<const float>(win.data(), 2 * 24), out, n), StreamOutcome::not_warm);
  EXPECT_EQ(s.counters().resets_session, 2u);
  // Symbols beyond the slots are refused, never written out of bounds.
  EXPECT_EQ(s.infer(m->package, 4, sec, 1, std::span<const float>(win.data(), 24), out, n), StreamOutcome::error);
  // Other symbols are untouched by all this.
  EXPECT_EQ(s.context().steps(0), 0u);
}

namespace {

// Two runners of the streaming model (3 symbols, no warm-up) fed the same 64 rows (row value i of the window:
// value(i)); b also runs `before(b)` before each of its samples and `after_row(b, rows)` after each row's three
// samples. Every sample's logits of a and b must be bitwise equal. a and b are returned for the caller's checks.
template <class Before, class AfterRow>
void same_logits_with_and_without(const LoadedModel& m, float (*value)(std::size_t), Before before, AfterRow after_row,
                                  std::unique_ptr<StreamRunner>& a, std::unique_ptr<StreamRunner>& b) {
  StreamConfig cfg;
  cfg.slots = 3;
  cfg.warmup = 0;
  auto ra = StreamRunner::create(m.engine, m.stream_spec, cfg);
  auto rb = StreamRunner::create(m.engine, m.stream_spec, cfg);
  ASSERT_TRUE(ra.ok() && rb.ok());
  a = std::move(ra.value());
  b = std::move(rb.value());
  std::vector<float> win(64 * 24);
  for (std::size_t i = 0; i < win.size(); ++i) win[i] = value(i);
  float oa[8], ob[8];
  std::size_t na = 0, nb = 0;
  const std::int64_t ms = 1'000'000;
  for (std::uint64_t rows = 1; rows <= 64; ++rows) {
    const std::span<const float> w(win.data(), rows * 24);
    for (std::uint32_t sym = 0; sym < 3; ++sym) {
      ASSERT_EQ(a->infer(m.package, sym, static_cast<std::int64_t>(rows) * 100 * ms, rows, w, oa, na), StreamOutcome::ok);
      before(*b);
      ASSERT_EQ(b->infer(m.package, sym, static_cast<std::int64_t>(rows) * 100 * ms, rows, w, ob, nb), StreamOutcome::ok);
      ASSERT_EQ(na, nb);
      ASSERT_EQ(0, std::memcmp(oa, ob, na * sizeof(float))) << "rows " << rows << " symbol " << sym;
    }
    after_row(*b, rows);
  }
}

}  // namespace

// keep_warm = "infer" for a streaming instance: warm_step() steps a scratch slot no symbol maps to, so the
// symbols' states, step counts and next results are exactly what they would have been without it.
TEST(StreamPipeline, WarmStepLeavesEverySymbolsStateAlone) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " absent";
  auto m = load();
  ASSERT_TRUE(m);
  std::unique_ptr<StreamRunner> a, b;
  same_logits_with_and_without(
      *m, [](std::size_t i) { return std::cos(0.013f * static_cast<float>(i)); },
      [](StreamRunner& r) { for (int k = 0; k < 3; ++k) r.warm_step(); },   // between ticks, as InferStage::idle does
      [](StreamRunner&, std::uint64_t) {}, a, b);
  if (HasFatalFailure()) return;
  EXPECT_EQ(b->counters().warm_steps, 64u * 3u * 3u);
  EXPECT_EQ(a->counters().steps, b->counters().steps);   // warm steps are not symbol steps
  for (int sym = 0; sym < 3; ++sym) EXPECT_EQ(a->context().steps(sym), b->context().steps(sym));
  EXPECT_GT(b->context().steps(3), 0u);                  // the scratch slot is the one that moved
}

// prepare_next() between ticks (what InferStage::idle runs first for a streaming model): the symbols that stepped are
// prepared one per call, each once, and the logits stay bitwise those of a runner that never prepares (the
// backtester's case); the warm step's scratch slot is never queued.
TEST(StreamPipeline, PrepareBetweenTicksKeepsTheLogitsBitwise) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " absent";
  auto m = load();
  ASSERT_TRUE(m);
  std::unique_ptr<StreamRunner> a, b;
  bool first = true;
  same_logits_with_and_without(
      *m, [](std::size_t i) { return std::sin(0.011f * static_cast<float>(i)); },
      [&first](StreamRunner& r) {
        if (first) {
          EXPECT_FALSE(r.prepare_next());   // nothing stepped yet
        }
        first = false;
      },
      [](StreamRunner& r, std::uint64_t rows) {
        r.warm_step();                 // the scratch slot steps: never queued for a prepare
        int prepared = 0;
        while (r.prepare_next()) ++prepared;
        EXPECT_EQ(prepared, 3) << "rows " << rows;   // the three symbols, once each
      },
      a, b);
  if (HasFatalFailure()) return;
  EXPECT_EQ(b->counters().prepares, 64u * 3u);
  EXPECT_EQ(b->counters().prepared_steps, 63u * 3u);   // every step after the first row of each symbol
  EXPECT_EQ(a->counters().prepared_steps, 0u);
  // The warm step runs the tick's path: its scratch slot is prepared, then stepped (not counted above).
  EXPECT_EQ(b->context().prepared_steps(), 63u * 3u + b->counters().warm_steps);
}

// The swapper (the path `tickrt run` uses): a new streaming model is adopted (no throw-away step on it), a
// windowed model cannot replace a streaming one (different feature windows): refused, the old one keeps running.
TEST(StreamPipeline, SwapperAdoptsStreamingAndRefusesAKindChange) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists("models/trained/lstm_attn_s/model.onnx")) GTEST_SKIP() << "models absent";
  auto m = load();
  ASSERT_TRUE(m);
  auto inst = make_instance(m, 1);
  ASSERT_TRUE(inst.ok());
  ModelSlot slot(std::move(inst.value()));
  ModelOptions mo;
  mo.path = kModel;
  mo.max_batch = 1;
  ModelSwapper sw(mo, m, {&slot}, false, 0);
  sw.start();
  sw.request_swap(kModel);
  ASSERT_TRUE(sw.wait_idle(20000));
  EXPECT_TRUE(sw.last_result().ok) << sw.last_result().message;
  EXPECT_TRUE(slot.current()->stream);
  EXPECT_EQ(slot.current()->model->version, 2u);
  sw.request_swap("models/trained/lstm_attn_s/model.onnx");
  ASSERT_TRUE(sw.wait_idle(20000));
  EXPECT_FALSE(sw.last_result().ok);
  EXPECT_NE(sw.last_result().message.find("cannot replace the running streaming model"), std::string::npos) << sw.last_result().message;
  EXPECT_TRUE(slot.current()->stream);
  sw.stop();
}

// Row samples (MarketHandler::set_row_samples + InferStage::step_row, what `tickrt run` inline and
// `tickrt backtest` do for a streaming model): the slot is stepped on every row from the first one after
// the session reset, so no sample, the first due one included, steps more than the rows since the previous
// step (no replay at session start), and every due sample's logits equal the previous behaviour's (the
// first due sample replaying the window, then one step per sample) bit for bit.
TEST(StreamPipeline, RowSamplesStepFromTheFirstRowWithTheSameLogits) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kCapture)) GTEST_SKIP() << "model or capture absent";
  auto m = load();
  ASSERT_TRUE(m);
  auto ia = make_instance(m, 1), ib = make_instance(m, 1);
  ASSERT_TRUE(ia.ok() && ib.ok());
  ModelSlot slot_a(std::move(ia.value())), slot_b(std::move(ib.value()));
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  ASSERT_TRUE(clock.ok());
  InferStage old_stage(slot_a, BatchConfig{1, 0, false}, clock.value());
  InferStage new_stage(slot_b, BatchConfig{1, 0, false}, clock.value());
  features::FeatureConfig fc;
  MarketHandler mh_old(fc), mh_new(fc);
  mh_new.set_row_samples(true);
  auto sa = CaptureSource::open(kCapture, 1, 0, 60000), sb = CaptureSource::open(kCapture, 1, 0, 60000);
  ASSERT_TRUE(sa.ok() && sb.ok());
  const StreamRunner& rb = *slot_b.current()->stream;
  std::string_view la, lb;
  SampleMeta ma, mb;
  InferResult ra, rb_res;
  int due = 0, row_only = 0, first_due_steps = -1;
  std::uint64_t max_steps_per_call = 0, first_old_replay = 0, rows_at_last_call = 0, first_due_rows = 0;
  double worst = 0;
  std::int64_t first_old_ns = 0, first_new_ns = 0, max_old_ns = 0, max_new_ns = 0;   // infer_one, informative only
  while (sa.value()->next(la)) {
    ASSERT_TRUE(sb.value()->next(lb));
    ASSERT_EQ(la, lb);
    TickStamps t;
    const int da = mh_old.on_line(la, t, ma);
    const int db = mh_new.on_line(lb, t, mb);
    ASSERT_EQ(da == 1, db == 1) << "row samples change which samples are due";
    if (db == 0) continue;
    const features::FeatureEngine& fe = mh_new.symbol(mb.symbol)->fe;
    const std::uint64_t rows_new = fe.samples() - rows_at_last_call;
    rows_at_last_call = fe.samples();
    const std::uint64_t steps_before = rb.counters().steps;
    if (db == MarketHandler::kRowOnly) {
      ++row_only;
      new_stage.step_row(mb, fe);
    } else if (db == 1) {
      ++due;
      const bool oka = old_stage.infer_one(ma, mh_old.symbol(ma.symbol)->fe, ra);
      const bool okb = new_stage.infer_one(mb, fe, rb_res);
      ASSERT_EQ(oka, okb) << "due sample " << due;
      ASSERT_TRUE(okb) << "due sample " << due;   // warm at the first due sample, as before
      const std::int64_t dt_old = clock.value().ticks_to_ns(static_cast<std::int64_t>(ra.infer_end - ra.infer_start));
      const std::int64_t dt_new = clock.value().ticks_to_ns(static_cast<std::int64_t>(rb_res.infer_end - rb_res.infer_start));
      max_old_ns = std::max(max_old_ns, dt_old);
      max_new_ns = std::max(max_new_ns, dt_new);
      if (due == 1) {
        first_old_ns = dt_old;
        first_new_ns = dt_new;
        first_due_steps = static_cast<int>(rb.counters().steps - steps_before);
        first_due_rows = rows_new;
        first_old_replay = slot_a.current()->stream->counters().replayed;
      }
      ASSERT_EQ(ra.n_out, rb_res.n_out);
      for (int c = 0; c < ra.n_out; ++c) worst = std::max(worst, static_cast<double>(std::fabs(ra.out[c] - rb_res.out[c])));
    }
    // The cost of this sample: the rows since the slot's previous step (one but after a quiet spell), never a replay.
    ASSERT_EQ(rb.counters().steps - steps_before, rows_new) << "due sample " << due << ", row-only " << row_only;
    max_steps_per_call = std::max(max_steps_per_call, rows_new);
    ASSERT_EQ(rb.counters().steps, fe.samples()) << "every row stepped exactly once";
  }
  ASSERT_GT(due, 400) << "capture too short for the test";
  // Timing is printed, not asserted (shared, loaded test machines): the replay's cost next to one step.
  std::printf("infer_one at the first due sample: replaying path %.1f us, row samples %.1f us; max over %d due samples: %.1f / %.1f us\n",
              static_cast<double>(first_old_ns) * 1e-3, static_cast<double>(first_new_ns) * 1e-3, due,
              static_cast<double>(max_old_ns) * 1e-3, static_cast<double>(max_new_ns) * 1e-3);
  EXPECT_GE(static_cast<std::size_t>(row_only), fc.window - 1);  // the warm-up rows before the first due sample
  EXPECT_EQ(worst, 0.0) << "logits differ from the replaying path";
  EXPECT_EQ(static_cast<std::uint64_t>(first_due_steps), first_due_rows) << "the first due sample steps its own rows only";
  EXPECT_LT(first_due_rows, fc.window / 4);
  EXPECT_EQ(first_old_replay, fc.window - 1) << "the old path replayed the window at the first due sample";
  const StreamCounters& c = rb.counters();
  EXPECT_EQ(c.replayed, 0u);
  EXPECT_EQ(c.resets_session, 1u);
  EXPECT_EQ(c.resets_gap + c.resets_lost + c.resets_resync + c.errors, 0u);
  EXPECT_LE(max_steps_per_call, 8u) << "a sample stepped more than the rows of one quiet spell";
  EXPECT_GT(c.row_steps, 0u);
  EXPECT_EQ(new_stage.counters().run_errors, 0u);
  EXPECT_EQ(new_stage.counters().inferences, static_cast<std::uint64_t>(due));
}
