// tests/pipeline: the latency work of issue 8 — INT8 / reduced-precision engines in the pipeline
// ([engine] precision, engine files built by infer/quant), the WarmSet / keep_warm machinery
// (warm.hpp), the swap warm-up gate of ModelSlot, and the gateway's per-order SendTrace stamps.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "exec/binance_gateway.hpp"
#include "infer/npy.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/quant/quant.hpp"
#include "pipeline/config.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/model.hpp"
#include "sim/matching_engine.hpp"
#include "venue/venue.hpp"

namespace tickrt::pipeline {
namespace {

namespace fs = std::filesystem;
const char* kLstm = "models/trained/lstm_attn_s/model.onnx";
const char* kParityX = "models/trained/parity_x.npy";

#define NEED_MODEL()                                                                   \
  do {                                                                                 \
    if (!fs::exists(kLstm) || !fs::exists(kParityX)) GTEST_SKIP() << "models/trained not present"; \
  } while (0)

ModelOptions opts(const std::string& path, const std::string& precision = "fp32") {
  ModelOptions o;
  o.path = path;
  o.max_batch = 1;
  o.precision = precision;
  return o;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("tickrt_pperf_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Runs one fixed window through an instance; the outputs.
std::vector<float> run_once(ModelInstance& inst, std::size_t in_floats) {
  EXPECT_EQ(inst.select_batch(1), Code::ok);
  for (std::size_t i = 0; i < in_floats; ++i) inst.input()[i] = static_cast<float>((i * 7919) % 200) / 100.0f - 1.0f;
  EXPECT_EQ(inst.run(), Code::ok);
  return std::vector<float>(inst.output(), inst.output() + 3);
}

TEST(PipelinePrecision, Int8FromOnnxCalibratesOnGoldenInputsAndValidatesByAgreement) {
  NEED_MODEL();
  auto m = load_model(opts(kLstm, "int8"));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_NE(m.value()->precision.find("int8"), std::string::npos) << m.value()->precision;
  EXPECT_NE(m.value()->validation.find("argmax agreement"), std::string::npos) << m.value()->validation;
  auto fp = load_model(opts(kLstm));
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(fp.value()->precision, "fp32");
  auto a = make_instance(m.value(), 1);
  auto b = make_instance(fp.value(), 1);
  ASSERT_TRUE(a.ok() && b.ok());
  const auto ya = run_once(*a.value(), m.value()->in_floats), yb = run_once(*b.value(), fp.value()->in_floats);
  double maxd = 0;
  for (int c = 0; c < 3; ++c) {
    EXPECT_TRUE(std::isfinite(ya[c]));
    maxd = std::max(maxd, static_cast<double>(std::fabs(ya[c] - yb[c])));
  }
  EXPECT_GT(maxd, 0.0) << "an INT8 engine computing exactly the FP32 logits was not quantized";
  EXPECT_LT(maxd, 1.0);
}

TEST(PipelinePrecision, Int8EngineFileLoadsWithItsPrecisionAndGolden) {
  NEED_MODEL();
  auto g = infer::import_onnx_file(kLstm);
  ASSERT_TRUE(g.ok());
  auto x = infer::read_npy(kParityX);
  ASSERT_TRUE(x.ok());
  infer::BuildOptions bo;
  bo.batch = {1, 1, 8};
  infer::quant::QuantOptions qo;
  qo.spec = infer::quant::parse_precision_spec("int8").value();
  qo.calib = &x.value();
  auto e = infer::quant::build_engine(g.value(), bo, qo);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  const fs::path d = temp_dir("int8file");
  ASSERT_TRUE(e.value()->save((d / "m.int8.engine").string()).ok());
  fs::copy_file("models/trained/lstm_attn_s/parity_logits.npy", d / "parity_logits.npy");
  fs::copy_file(kParityX, d / "parity_x.npy");
  auto m = load_model(opts((d / "m.int8.engine").string()));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_NE(m.value()->precision.find("int8"), std::string::npos) << m.value()->precision;
  EXPECT_NE(m.value()->validation.find("golden (") , std::string::npos) << m.value()->validation;
  // Asking to re-quantize an engine file is refused, naming the key.
  auto r = load_model(opts((d / "m.int8.engine").string(), "int8"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("engine.precision"), std::string::npos) << r.status().to_string();
  // An agreement floor above what INT8 reaches refuses the model with the figures.
  ModelOptions strict = opts((d / "m.int8.engine").string());
  strict.golden_min_agreement = 1.0;
  auto s = load_model(strict);
  if (!s.ok()) {
    EXPECT_NE(s.status().message().find("golden_min_agreement"), std::string::npos) << s.status().to_string();
  }
  fs::remove_all(d);
}

TEST(PipelinePrecision, BadSpecAndMissingCalibrationAreNamed) {
  NEED_MODEL();
  auto m = load_model(opts(kLstm, "int7"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("engine.precision"), std::string::npos) << m.status().to_string();
  ModelOptions o = opts(kLstm, "int8");
  o.calib = "/nonexistent/calib.npy";
  auto c = load_model(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/calib.npy"), std::string::npos) << c.status().to_string();
}

TEST(PipelinePrecision, ConfigKeys) {
  auto c = parse_config("[engine]\nprecision = \"int8\"\nkeep_warm = \"infer\"\nkeep_warm_after_us = 250\n"
                        "[model]\nswap_warm = false\nswap_warm_max_ms = 7\n[exec]\ngateway_cpu = 3\n",
                        "t.toml", ".");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c.value().precision, "int8");
  EXPECT_EQ(c.value().keep_warm, "infer");
  EXPECT_EQ(c.value().keep_warm_after_us, 250);
  EXPECT_FALSE(c.value().swap_warm);
  EXPECT_EQ(c.value().swap_warm_max_ms, 7);
  EXPECT_EQ(c.value().gateway_cpu, 3);
  auto d = default_config(".");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().precision, "fp32");
  EXPECT_TRUE(d.value().swap_warm);
  EXPECT_EQ(d.value().keep_warm, "infer");
  auto bad = parse_config("[engine]\nkeep_warm = \"hot\"\n", "t.toml", ".");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("engine.keep_warm"), std::string::npos) << bad.status().to_string();
  // keep_warm_trickle_us: default 20, 0 = off, a negative value is refused naming the key.
  EXPECT_EQ(d.value().keep_warm_trickle_us, 20);
  auto off = parse_config("[engine]\nkeep_warm_trickle_us = 0\n", "t.toml", ".");
  ASSERT_TRUE(off.ok()) << off.status().to_string();
  EXPECT_EQ(off.value().keep_warm_trickle_us, 0);
  auto neg = parse_config("[engine]\nkeep_warm_trickle_us = -5\n", "t.toml", ".");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("keep_warm_trickle_us"), std::string::npos) << neg.status().to_string();
}

TEST(PipelineWarm, WarmSetCoversWeightsAndArenaAndCursorCompletesPasses) {
  NEED_MODEL();
  auto m = load_model(opts(kLstm));
  ASSERT_TRUE(m.ok());
  auto inst = make_instance(m.value(), 1);
  ASSERT_TRUE(inst.ok());
  const WarmSet& w = inst.value()->warm;
  const std::int64_t weights = infer::quant::constant_bytes(m.value()->engine->graph());
  EXPECT_GE(static_cast<double>(w.bytes), 0.9 * static_cast<double>(weights)) << w.bytes << " vs " << weights;
  EXPECT_GT(w.bytes, static_cast<std::size_t>(weights));  // + the arena
  for (std::size_t i = 1; i < w.ranges.size(); ++i) EXPECT_GE(w.ranges[i].p, w.ranges[i - 1].p + w.ranges[i - 1].bytes);
  WarmCursor c;
  EXPECT_TRUE(c.touch(w, w.lines));  // one call, the whole set
  std::size_t calls = 1;
  while (!c.touch(w, 64)) ++calls;
  EXPECT_EQ(calls, (w.lines + 63) / 64);  // slices run on across ranges: ceil(lines / 64) calls a pass
}

TEST(PipelineWarm, SwapWarmGateAdoptsOnlyAfterAWholePassOrTheDeadline) {
  NEED_MODEL();
  auto m = load_model(opts(kLstm));
  ASSERT_TRUE(m.ok());
  ModelSlot slot(make_instance(m.value(), 1).value());
  slot.set_swap_warm(true, 10'000'000'000);  // 10 s: only the pass can open the gate here
  ModelInstance* first = slot.current();
  ModelInstance* next = make_instance(m.value(), 1).value().release();
  ASSERT_TRUE(slot.publish(next));
  EXPECT_EQ(slot.current(), first);  // published, not warmed: not adopted
  int slices = 0;
  while (!slot.warm_pending(64)) {
    ++slices;
    EXPECT_EQ(slot.current(), first);
    ASSERT_LT(slices, 1'000'000);
  }
  EXPECT_GT(slices, 10);                 // ~0.5 MB in 4 KiB slices
  EXPECT_EQ(slot.current(), next);       // warm: adopted at the next inference
  EXPECT_EQ(slot.adopted(), 1u);
  // Deadline: a thread that never idles still adopts.
  slot.set_swap_warm(true, 2'000'000);   // 2 ms
  ModelInstance* third = make_instance(m.value(), 1).value().release();
  ASSERT_TRUE(slot.publish(third));
  EXPECT_EQ(slot.current(), next);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(slot.current(), third);
  // Off: adopted at once (the behaviour before).
  slot.set_swap_warm(false, 0);
  ModelInstance* fourth = make_instance(m.value(), 1).value().release();
  ASSERT_TRUE(slot.publish(fourth));
  EXPECT_EQ(slot.current(), fourth);
  EXPECT_EQ(slot.adopted(), 3u);
}

TEST(PipelineWarm, KeepWarmTouchAndInferRunBetweenTicksWithoutChangingResults) {
  NEED_MODEL();
  auto m = load_model(opts(kLstm));
  ASSERT_TRUE(m.ok());
  auto clk = TscClock::calibrate();
  ASSERT_TRUE(clk.ok());
  for (KeepWarm mode : {KeepWarm::touch, KeepWarm::infer}) {
    ModelSlot slot(make_instance(m.value(), 1).value());
    InferStage stage(slot, BatchConfig{1, 0, false}, clk.value());
    stage.set_warm({mode, 100'000, 64});  // after 100 us idle
    const auto before = run_once(*slot.current(), m.value()->in_floats);
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
    while (std::chrono::steady_clock::now() < end) stage.idle();
    if (mode == KeepWarm::touch) {
      EXPECT_GT(stage.counters().warm_passes, 0u);
      EXPECT_EQ(stage.counters().warm_runs, 0u);
    } else {
      EXPECT_GT(stage.counters().warm_runs, 0u);
      EXPECT_LT(stage.counters().warm_runs, 400u);  // at most one per 100 us of idleness
    }
    EXPECT_EQ(run_once(*slot.current(), m.value()->in_floats), before);
  }
  ModelSlot slot(make_instance(m.value(), 1).value());
  InferStage off(slot, BatchConfig{1, 0, false}, clk.value());
  off.set_warm({KeepWarm::off, 0, 64});
  for (int i = 0; i < 1000; ++i) off.idle();
  EXPECT_EQ(off.counters().warm_passes + off.counters().warm_runs, 0u);
}

// [engine] keep_warm_trickle_us: between the throw-away inferences, a vector burst + WarmSet lines every trickle
// period; the results are unchanged, it runs only in infer mode, and it is paced by the period.
TEST(PipelineWarm, TrickleRunsBetweenThrowAwayInferencesAtItsPeriodWithoutChangingResults) {
  NEED_MODEL();
  auto m = load_model(opts(kLstm));
  ASSERT_TRUE(m.ok());
  auto clk = TscClock::calibrate();
  ASSERT_TRUE(clk.ok());
  for (KeepWarm mode : {KeepWarm::infer, KeepWarm::touch}) {
    ModelSlot slot(make_instance(m.value(), 1).value());
    InferStage stage(slot, BatchConfig{1, 0, false}, clk.value());
    StageWarmConfig w{mode, 10'000'000'000, 64};   // no throw-away inference within the test (10 s)
    w.trickle_ns = 50'000;                          // a trickle per 50 us
    stage.set_warm(w);
    const auto before = run_once(*slot.current(), m.value()->in_floats);
    (void)run_once(*slot.current(), m.value()->in_floats);
    const auto t0 = std::chrono::steady_clock::now();
    const auto end = t0 + std::chrono::milliseconds(30);
    while (std::chrono::steady_clock::now() < end) stage.idle();
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (mode == KeepWarm::infer) {
      EXPECT_GT(stage.counters().trickles, 0u);
      EXPECT_LE(static_cast<double>(stage.counters().trickles), us / 50.0 + 1.0);   // paced: at most one per period
    } else {
      EXPECT_EQ(stage.counters().trickles, 0u);   // touch mode has its own slices; the trickle is infer's
    }
    EXPECT_LE(stage.counters().warm_runs, 1u);   // the first idle() may run one (no inference through the stage yet)
    EXPECT_EQ(run_once(*slot.current(), m.value()->in_floats), before);
  }
  // Off (0): none.
  ModelSlot slot(make_instance(m.value(), 1).value());
  InferStage off(slot, BatchConfig{1, 0, false}, clk.value());
  off.set_warm({KeepWarm::infer, 10'000'000'000, 64});
  for (int i = 0; i < 100000; ++i) off.idle();
  EXPECT_EQ(off.counters().trickles, 0u);
}

TEST(PipelineGateway, SendTracesStampEveryStageInOrder) {
  venue::SimSetup s = venue::default_sim_setup();
  s.venue.port = 0;
  s.venue.captures.clear();
  sim::MatchingEngine engine(s.engine);
  venue::VenueServer server(s.venue, engine);
  ASSERT_TRUE(server.start().ok());
  exec::BinanceConfig bc;
  bc.host = "127.0.0.1";
  bc.port = std::to_string(server.port());
  bc.tls = false;
  bc.api_key = venue::kTestApiKey;
  bc.secret = venue::kTestSecret;
  exec::BinanceGateway gw(bc);
  exec::RequestRing out(64);
  exec::ReportRing in(256);
  ASSERT_TRUE(gw.start({&out, &in}).ok());
  exec::GatewayRequest g;
  g.op = exec::GatewayOp::new_order;
  g.order.symbol = exec::SymbolName::from("BTCUSDT");
  g.order.client_order_id = exec::ClientOrderId::from("pp-1");
  g.order.side = exec::Side::buy;
  g.order.price = Price::from_raw(10'000LL * 100'000'000);
  g.order.qty = Qty::from_raw(100'000);
  g.enqueue_ns = now_ns();
  ASSERT_TRUE(out.try_push(g));
  std::int64_t ack_sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  exec::ExecReport r;
  while (ack_sent == 0 && std::chrono::steady_clock::now() < deadline) {
    while (in.try_pop(r))
      if (r.request_sent_ns != 0) ack_sent = r.request_sent_ns;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  exec::GatewayRequest c;
  c.op = exec::GatewayOp::cancel;
  c.cancel.symbol = g.order.symbol;
  c.cancel.orig_client_order_id = g.order.client_order_id;
  c.cancel.client_order_id = exec::ClientOrderId::from("pp-1c");
  c.enqueue_ns = now_ns();
  ASSERT_TRUE(out.try_push(c));
  bool canceled = false;
  while (!canceled && std::chrono::steady_clock::now() < deadline) {
    while (in.try_pop(r)) canceled |= r.exec_type == exec::ExecType::canceled;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  gw.stop();
  server.stop();
  ASSERT_NE(ack_sent, 0);
  ASSERT_TRUE(canceled);
  const auto tr = gw.send_traces();
  ASSERT_EQ(tr.size(), 2u);
  EXPECT_EQ(tr[0].op, exec::GatewayOp::new_order);
  EXPECT_EQ(tr[1].op, exec::GatewayOp::cancel);
  EXPECT_EQ(tr[0].sent_ns, ack_sent);  // the stamp the OMS gets is the trace's t2
  for (const exec::SendTrace& t : tr) {
    EXPECT_LE(t.enqueue_ns, t.pop_ns);
    EXPECT_LE(t.pop_ns, t.start_ns);
    EXPECT_LE(t.start_ns, t.sign_ns);
    EXPECT_LT(t.sign_ns, t.signed_ns);
    EXPECT_LE(t.signed_ns, t.encoded_ns);
    EXPECT_LT(t.encoded_ns, t.sent_ns);
  }
}

}  // namespace
}  // namespace tickrt::pipeline
