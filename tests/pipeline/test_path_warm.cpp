// The path warm-up (keep_warm_path: MarketHandler::warm_slice, Trader::warm_slice): between ticks the book,
// sampling, features, strategy, risk and OMS code runs on scratch state. These tests hold it to "nothing a
// tick sees changes":
//  - each warm function leaves the real state byte-identical (a digest of every book level, counter,
//    window, stamp and OMS/strategy/risk value before == after), while doing real work on its scratch;
//  - a capture replayed through the whole inline chain (market -> the trained streaming model -> trader,
//    with a loopback "gateway" answering the orders) gives the same windows, logits and order requests
//    with the warm-up run between every two messages as without it.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "pipeline/capture_source.hpp"
#include "pipeline/infer_stage.hpp"
#include "pipeline/market.hpp"
#include "pipeline/model.hpp"
#include "pipeline/trader.hpp"

namespace tickrt::pipeline {
namespace {

constexpr const char* kCapture = "data/captures/spot_btcusdt_20240808.gz";
constexpr const char* kStreamModel = "models/trained/lstm_attn_stream/model.onnx";

template <class T>
void put(std::string& d, const T& v) {
  d.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// "" when equal, else where the first difference is (the digests are long: no dump).
std::string diff_at(const std::string& a, const std::string& b) {
  if (a == b) return {};
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return "sizes " + std::to_string(a.size()) + " / " + std::to_string(b.size()) + ", first difference at byte " + std::to_string(i);
}

// Everything of the handler a tick reads or that a report prints, as bytes. with_clock: also the values
// stamped from the real clock (book update time, stage stamps), which two runs cannot share.
std::string digest(const MarketHandler& mh, bool with_clock = true) {
  std::string d;
  std::vector<feed::Level> lv;
  for (std::size_t id = 0; id < mh.symbol_count(); ++id) {
    const SymbolState* s = mh.symbol(static_cast<feed::SymbolId>(id));
    if (s == nullptr) continue;
    put(d, s->book.state());
    put(d, s->book.crossed());
    put(d, s->book.last_update_id());
    put(d, s->book.counters());
    lv.resize(s->book.bid_levels() + s->book.ask_levels() + 1);
    const std::size_t nb = s->book.top_bids(lv.data(), s->book.bid_levels());
    const std::size_t na = s->book.top_asks(lv.data() + nb, s->book.ask_levels());
    d.append(reinterpret_cast<const char*>(lv.data()), (nb + na) * sizeof(feed::Level));
    const std::span<const float> w = s->fe.window();
    d.append(reinterpret_cast<const char*>(w.data()), w.size_bytes());
    put(d, s->fe.samples());
    put(d, s->fe.ready());
    put(d, s->fe.tradable());
    put(d, s->fe.mid());
    put(d, s->next_sample);
    if (with_clock) put(d, s->book_update_ns);
    put(d, s->messages);
    put(d, s->samples);
  }
  put(d, mh.counters());
  put(d, mh.md_seq());
  if (with_clock) put(d, mh.last_stamps());
  const feed::Event& e = mh.last_event();
  put(d, e.kind);
  put(d, e.symbol);
  put(d, e.local_ts_ns);
  put(d, e.trade.trade_id);   // field by field: no padding bytes
  put(d, e.trade.price);
  put(d, e.trade.qty);
  put(d, e.trade.buyer_is_maker);
  if (e.kind == feed::EventKind::depth_update) {   // its levels live in the parser's buffer, which the warm-up refills
    put(d, e.depth.first_update_id);
    put(d, e.depth.final_update_id);
    d.append(reinterpret_cast<const char*>(e.depth.bids.data()), e.depth.bids.size_bytes());
    d.append(reinterpret_cast<const char*>(e.depth.asks.data()), e.depth.asks.size_bytes());
  }
  return d;
}

// Splits a capture line "<ts> <json>" (the live path keeps frames for the warm-up: on_json, not on_line).
bool split(std::string_view line, std::int64_t& ts, std::string_view& json) {
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return false;
  ts = std::stoll(std::string(line.substr(0, sp)));
  json = line.substr(sp + 1);
  return true;
}

TEST(PathWarm, MarketSlicesLeaveEverySymbolsStateByteIdentical) {
  if (!std::filesystem::exists(kCapture)) GTEST_SKIP() << kCapture << " not present";
  auto src = CaptureSource::open(kCapture, 1, 0.0);
  ASSERT_TRUE(src.ok()) << src.status().to_string();
  MarketHandler plain(features::FeatureConfig{}), warmed(features::FeatureConfig{});
  for (int i = 0; i < MarketHandler::kWarmSlices; ++i) warmed.warm_slice(i);   // nothing kept yet: no-ops
  EXPECT_EQ(warmed.warm_applied(), 0u);
  std::string_view line, json;
  std::int64_t ts = 0;
  SampleMeta ma, mb;
  int frames = 0, samples = 0, checked = 0;
  std::uint64_t scratch_levels = 0;
  while (frames < 8000 && src.value()->next(line)) {
    ASSERT_TRUE(split(line, ts, json));
    const int da = plain.on_json(json, ts, TickStamps{}, ma);
    const int db = warmed.on_json(json, ts, TickStamps{}, mb);
    plain.keep_frame();
    warmed.keep_frame();   // as the inline loop does after the tick's decision
    ++frames;
    ASSERT_EQ(da, db) << "frame " << frames;
    // Every slice, twice, in order (as the inline loop runs a cycle, and again at the next idle period);
    // the whole state byte for byte before and after (every 7th frame: the digest copies every level).
    const bool check = frames % 7 == 0;
    const std::string before = check ? digest(warmed) : std::string();
    for (int k = 0; k < 2; ++k)
      for (int i = 0; i < MarketHandler::kWarmSlices; ++i) warmed.warm_slice(i);
    for (int k = 0; k < 5; ++k) warmed.touch_books(4);   // the trickle's book reads: loads only
    if (check) {
      ASSERT_EQ("", diff_at(before, digest(warmed))) << "frame " << frames << ": a warm slice changed the handler's state";
      ++checked;
    }
    if (const SymbolState* sc = warmed.warm_scratch(feed::Market::spot); sc != nullptr) scratch_levels += sc->book.bid_levels();
    if (da != 1) continue;
    ++samples;
    ASSERT_EQ(ma.sample_ts_ns, mb.sample_ts_ns);
    ASSERT_EQ(ma.md_seq, mb.md_seq);
    ASSERT_EQ(ma.best_bid.price.raw, mb.best_bid.price.raw);
    ASSERT_EQ(ma.best_ask.qty.raw, mb.best_ask.qty.raw);
    const auto wa = plain.symbol(ma.symbol)->fe.window();
    const auto wb = warmed.symbol(mb.symbol)->fe.window();
    ASSERT_EQ(wa.size(), wb.size());
    ASSERT_EQ(0, std::memcmp(wa.data(), wb.data(), wa.size_bytes())) << "sample " << samples;
  }
  EXPECT_GT(samples, 100);
  EXPECT_GT(checked, 1000);
  EXPECT_EQ("", diff_at(digest(plain, false), digest(warmed, false)));
  // The warm-up did its work on the scratch state: diffs and trades applied, a book of real levels.
  EXPECT_GT(warmed.warm_applied(), static_cast<std::uint64_t>(frames));
  EXPECT_GT(scratch_levels, 100u * static_cast<std::uint64_t>(frames));
}

// A small deterministic "model": logits from the window's last row, so the strategy enters and leaves.
void fake_logits(std::span<const float> w, InferResult& r) {
  const float* row = w.data() + w.size() - features::kNumFeatures;
  const float x = row[7] * 3.0f + row[1] * 0.5f;   // obi_1, ret_mid_1
  r.n_out = 3;
  r.out[0] = -x;
  r.out[1] = 0.0f;
  r.out[2] = x;
  r.ok = true;
}

// The test's gateway: answers every request in `out` (new -> NEW, cancel -> CANCELED) into `in`; returns the
// requests' fields that do not depend on the clock (op, ids, side, type, price, qty, caller time).
std::string answer(exec::RequestRing& out, exec::ReportRing& in) {
  std::string d;
  while (const exec::GatewayRequest* q = out.front()) {
    put(d, q->op);
    exec::ExecReport rep;
    if (q->op == exec::GatewayOp::new_order) {
      put(d, q->order);
      exec::set_order_fields(rep, q->order);
      rep.exec_type = exec::ExecType::new_;
      rep.status = exec::OrderStatus::new_;
    } else {
      put(d, q->cancel);
      rep.symbol = q->cancel.symbol;
      rep.client_order_id = q->cancel.client_order_id;
      rep.orig_client_order_id = q->cancel.orig_client_order_id;
      rep.exec_type = exec::ExecType::canceled;
      rep.status = exec::OrderStatus::canceled;
    }
    out.pop();
    EXPECT_TRUE(in.try_push(rep));
  }
  return d;
}

std::string digest(Trader& t) {
  std::string d;
  put(d, t.counters());
  put(d, t.oms().counters());
  put(d, t.oms().open_orders());
  put(d, t.oms().next_seq());
  t.oms().for_each_open([&](const exec::OrderEntry& e) {   // not enqueue_ns: the real clock at submit
    put(d, e.req);
    put(d, e.seq);
    put(d, e.status);
    put(d, e.cum_qty);
  });
  for (std::size_t i = 0; i < t.symbol_count(); ++i) {
    put(d, t.oms().position(t.oms_index(i)));
    const strategy::SignalStrategy& s = t.strategy(i);
    put(d, s.signal());
    put(d, s.target());
    put(d, s.last_probabilities());
    put(d, s.counters().decisions.get());
    put(d, s.counters().new_intents.get());
    put(d, s.counters().cancel_intents.get());
    put(d, s.counters().throttled.get());
  }
  const risk::RiskCounters& rc = t.risk().counters();
  put(d, rc.new_checks.get());
  put(d, rc.cancel_checks.get());
  put(d, rc.passed.get());
  for (const auto& r : rc.refused) put(d, r.get());
  put(d, t.risk().position(0));
  put(d, t.risk().latched());
  for (const auto& h : t.order_parts().h) put(d, h.count());
  put(d, t.log().size());
  return d;
}

struct Chain {
  std::unique_ptr<exec::RequestRing> out = std::make_unique<exec::RequestRing>(1024);
  std::unique_ptr<exec::ReportRing> in = std::make_unique<exec::ReportRing>(1024);
  std::unique_ptr<Trader> trader;
  StageLatency lat;
};

Chain make_chain(const PipelineConfig& cfg, TscClock clock, bool warm) {
  Chain c;
  auto t = Trader::create(cfg, {"BTCUSDT"}, exec::GatewayRings{c.out.get(), c.in.get()}, nullptr, 1, clock);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  c.trader = std::move(t.value());
  if (warm) {
    const Status st = c.trader->enable_warm(cfg, {"BTCUSDT"});
    EXPECT_TRUE(st.ok()) << st.to_string();
  }
  return c;
}

TEST(PathWarm, TraderSlicesLeaveTheTraderByteIdenticalAndSendNothing) {
  if (!std::filesystem::exists(kCapture)) GTEST_SKIP() << kCapture << " not present";
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  ASSERT_TRUE(clock.ok());
  PipelineConfig cfg;
  Chain plain = make_chain(cfg, clock.value(), false), warmed = make_chain(cfg, clock.value(), true);
  ASSERT_TRUE(warmed.trader->warm_enabled());
  auto src = CaptureSource::open(kCapture, 1, 0.0, 30000);
  ASSERT_TRUE(src.ok());
  MarketHandler mh(features::FeatureConfig{});
  std::string_view line;
  SampleMeta meta;
  InferResult r;
  int decisions = 0;
  std::uint64_t orders_before = 0;
  while (src.value()->next(line)) {
    if (mh.on_line(line, TickStamps{}, meta) != 1) continue;
    plain.trader->map_symbol(meta.symbol, mh.symbol(meta.symbol)->name);
    warmed.trader->map_symbol(meta.symbol, mh.symbol(meta.symbol)->name);
    r = InferResult{};
    r.meta = meta;
    r.meta.book_update_ns = meta.sample_ts_ns;   // decisions at the capture's time (on_result_at): its clock
    fake_logits(mh.symbol(meta.symbol)->fe.window(), r);
    const int na = plain.trader->on_result_at(r, plain.lat, meta.sample_ts_ns);
    const int nb = warmed.trader->on_result_at(r, warmed.lat, meta.sample_ts_ns);
    ASSERT_EQ(na, nb) << "decision " << decisions;
    ASSERT_EQ("", diff_at(answer(*plain.out, *plain.in), answer(*warmed.out, *warmed.in))) << "decision " << decisions;
    (void)plain.trader->poll(plain.lat);
    (void)warmed.trader->poll(warmed.lat);
    ++decisions;
    // The warm-up between ticks: both slices, three cycles; the trader's state before == after, nothing
    // in its gateway ring, nothing in its log.
    const std::string before = digest(*warmed.trader);
    const std::size_t ring_before = warmed.out->size();
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i < Trader::kWarmSlices; ++i) warmed.trader->warm_slice(i, r);
    ASSERT_EQ("", diff_at(before, digest(*warmed.trader))) << "decision " << decisions << ": a warm slice changed the trader";
    ASSERT_EQ(warmed.out->size(), ring_before);
    ASSERT_EQ("", diff_at(digest(*plain.trader), digest(*warmed.trader))) << "decision " << decisions;
    orders_before = plain.trader->counters().orders;
  }
  EXPECT_GT(decisions, 200);
  EXPECT_GT(orders_before, 5u) << "the fake model should trade";
  // Every warm cycle submitted an order on the shadow (strategy -> risk -> OMS ran through to the ring).
  EXPECT_EQ(warmed.trader->warm_orders(), 3u * static_cast<std::uint64_t>(decisions));
}

// The whole inline chain over the capture, warm-up off vs on between every two messages: the same windows,
// logits, decisions and order requests.
struct ChainOutcome {
  std::vector<float> logits;
  std::string requests;
  std::string final_digest;
  std::uint64_t warm_orders = 0, warm_applied = 0;
  int due = 0;
};

ChainOutcome replay_chain(bool warm) {
  ChainOutcome o;
  ModelOptions mo;
  mo.path = kStreamModel;
  mo.max_batch = 1;
  auto m = load_model(mo);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  if (!m.ok()) return o;
  auto inst = make_instance(m.value(), 1);
  EXPECT_TRUE(inst.ok());
  if (!inst.ok()) return o;
  ModelSlot slot(std::move(inst.value()));
  auto clock = TscClock::calibrate(std::chrono::milliseconds(5));
  EXPECT_TRUE(clock.ok());
  InferStage stage(slot, BatchConfig{1, 0, false}, clock.value());
  features::FeatureConfig fc;
  fc.window = replay_rows(*m.value());
  MarketHandler mh(fc);
  mh.set_row_samples(true);   // as tickrt run inline with a streaming model
  PipelineConfig cfg;
  Chain c = make_chain(cfg, clock.value(), warm);
  auto src = CaptureSource::open(kCapture, 1, 0.0);
  EXPECT_TRUE(src.ok());
  if (!src.ok()) return o;
  std::string_view line, json;
  std::int64_t ts = 0;
  SampleMeta meta;
  InferResult res;
  bool have_res = false;
  while (src.value()->next(line)) {
    if (!split(line, ts, json)) continue;
    const int due = mh.on_json(json, ts, TickStamps{}, meta);
    if (due == MarketHandler::kRowOnly) stage.step_row(meta, mh.symbol(meta.symbol)->fe);
    if (due == 1) {
      ++o.due;
      const features::FeatureEngine& fe = mh.symbol(meta.symbol)->fe;
      c.trader->map_symbol(meta.symbol, mh.symbol(meta.symbol)->name);
      if (stage.infer_one(meta, fe, res)) {
        o.logits.insert(o.logits.end(), res.out, res.out + res.n_out);
        res.meta.book_update_ns = meta.sample_ts_ns;   // decisions at the capture's time (on_result_at): its clock
        (void)c.trader->on_result_at(res, c.lat, meta.sample_ts_ns);
        have_res = true;
        o.requests += answer(*c.out, *c.in);
      }
    }
    (void)c.trader->poll(c.lat);
    mh.keep_frame();
    if (warm) {   // a whole cycle between every two messages, in the inline loop's order
      for (int i = 0; i < MarketHandler::kWarmSlices; ++i) mh.warm_slice(i);
      if (have_res)
        for (int i = 0; i < Trader::kWarmSlices; ++i) c.trader->warm_slice(i, res);
    }
  }
  o.final_digest = digest(mh, false) + digest(*c.trader);
  o.warm_orders = c.trader->warm_orders();
  o.warm_applied = mh.warm_applied();
  return o;
}

TEST(PathWarm, CaptureThroughTheStreamingModelAndTraderSameWithAndWithout) {
  if (!std::filesystem::exists(kCapture)) GTEST_SKIP() << kCapture << " not present";
  if (!std::filesystem::exists(kStreamModel)) GTEST_SKIP() << kStreamModel << " not present";
  const ChainOutcome off = replay_chain(false), on = replay_chain(true);
  ASSERT_GT(off.due, 1000);
  EXPECT_EQ(off.due, on.due);
  ASSERT_EQ(off.logits.size(), on.logits.size());
  EXPECT_GT(off.logits.size(), 1000u * 3);
  EXPECT_EQ(0, std::memcmp(off.logits.data(), on.logits.data(), off.logits.size() * sizeof(float)));
  EXPECT_FALSE(off.requests.empty()) << "the trained model should trade on the capture";
  EXPECT_EQ("", diff_at(off.requests, on.requests));
  EXPECT_EQ("", diff_at(off.final_digest, on.final_digest));
  EXPECT_EQ(off.warm_orders, 0u);
  EXPECT_GT(on.warm_orders, 1000u);
  EXPECT_GT(on.warm_applied, 10000u);
}

TEST(PathWarm, ConfigKeyDefaultsOnAndIsChecked) {
  auto d = parse_config("", "<t>", "/b");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE(d.value().keep_warm_path);
  EXPECT_EQ(d.value().keep_warm, "infer");
  auto off = parse_config("[engine]\nkeep_warm_path = false\n", "t.toml", "/b");
  ASSERT_TRUE(off.ok()) << off.status().to_string();
  EXPECT_FALSE(off.value().keep_warm_path);
  auto bad = parse_config("[engine]\nkeep_warm_path = \"yes\"\n", "t.toml", "/b");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().to_string().find("engine.keep_warm_path"), std::string::npos) << bad.status().to_string();
  EXPECT_NE(bad.status().to_string().find("t.toml:2"), std::string::npos) << bad.status().to_string();
}

}  // namespace
}  // namespace tickrt::pipeline
