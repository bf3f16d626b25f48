// tests/bus/test_wire.cpp — bus/wire.hpp: exact round trips of every message kind; truncated,
// garbled and lying input gives an error, never a crash or an out-of-bounds read.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "bus/wire.hpp"

using namespace tickrt;
using namespace tickrt::bus;

namespace {

feed::Event depth_event(std::vector<feed::Level>& store) {
  store = {{Price::from_raw(5'800'000'000'000), Qty::from_raw(12'345)},
           {Price::from_raw(5'799'999'000'000), Qty::from_raw(0)},
           {Price::from_raw(5'800'001'000'000), Qty::from_raw(777)}};
  feed::Event ev;
  ev.kind = feed::EventKind::depth_update;
  ev.market = feed::Market::spot;
  ev.local_ts_ns = 1'723'161'253'937'085'768;
  ev.event_ts_ns = 1'723'161'253'900'000'000;
  ev.depth.first_update_id = 100;
  ev.depth.final_update_id = 105;
  ev.depth.bids = std::span<const feed::Level>(store.data(), 2);
  ev.depth.asks = std::span<const feed::Level>(store.data() + 2, 1);
  return ev;
}

}  // namespace

TEST(Wire, DepthRoundTripIsExact) {
  std::vector<feed::Level> store;
  const feed::Event ev = depth_event(store);
  std::vector<std::uint8_t> buf(512);
  const std::size_t n = encode_event(ev, "BTCUSDT", 42, 7, buf);
  ASSERT_EQ(n, kHeaderSize + 60 + 3 * 16);
  Header h;
  feed::Event out;
  std::vector<feed::Level> lv(16);
  ASSERT_EQ(decode_event(std::span<const std::uint8_t>(buf.data(), n), h, out, lv), WireError::ok);
  EXPECT_EQ(h.kind, MsgKind::md_depth_update);
  EXPECT_EQ(h.seq, 42u);
  EXPECT_EQ(h.stamp_ns, 7);
  EXPECT_EQ(h.symbol.view(), "BTCUSDT");
  EXPECT_EQ(out.local_ts_ns, ev.local_ts_ns);
  EXPECT_EQ(out.event_ts_ns, ev.event_ts_ns);
  EXPECT_EQ(out.depth.first_update_id, 100u);
  EXPECT_EQ(out.depth.final_update_id, 105u);
  ASSERT_EQ(out.depth.bids.size(), 2u);
  ASSERT_EQ(out.depth.asks.size(), 1u);
  EXPECT_EQ(out.depth.bids[0], store[0]);
  EXPECT_EQ(out.depth.bids[1], store[1]);
  EXPECT_EQ(out.depth.asks[0], store[2]);
}

TEST(Wire, TradeTickerSnapshotMarkRoundTrip) {
  std::vector<std::uint8_t> buf(1024);
  std::vector<feed::Level> lv(16);
  Header h;
  feed::Event ev, out;
  ev.kind = feed::EventKind::trade;
  ev.market = feed::Market::futures;
  ev.local_ts_ns = 11;
  ev.txn_ts_ns = 12;
  ev.trade.trade_id = 99;
  ev.trade.price = Price::from_raw(123);
  ev.trade.qty = Qty::from_raw(456);
  ev.trade.buyer_is_maker = true;
  std::size_t n = encode_event(ev, "ETHUSDT", 1, 0, buf);
  ASSERT_GT(n, 0u);
  ASSERT_EQ(decode_event(std::span<const std::uint8_t>(buf.data(), n), h, out, lv), WireError::ok);
  EXPECT_EQ(out.kind, feed::EventKind::trade);
  EXPECT_EQ(out.market, feed::Market::futures);
  EXPECT_EQ(out.trade.trade_id, 99u);
  EXPECT_EQ(out.trade.price.raw, 123);
  EXPECT_EQ(out.trade.qty.raw, 456);
  EXPECT_TRUE(out.trade.buyer_is_maker);
  EXPECT_EQ(out.txn_ts_ns, 12);

  ev.kind = feed::EventKind::book_ticker;
  ev.ticker = {7, Price::from_raw(1), Qty::from_raw(2), Price::from_raw(3), Qty::from_raw(4)};
  n = encode_event(ev, "ETHUSDT", 2, 0, buf);
  ASSERT_EQ(decode_event(std::span<const std::uint8_t>(buf.data(), n), h, out, lv), WireError::ok);
  EXPECT_EQ(out.ticker.update_id, 7u);
  EXPECT_EQ(out.ticker.ask_qty.raw, 4);

  ev.kind = feed::EventKind::mark_price;
  ev.mark.mark_price = Price::from_raw(5);
  ev.mark.funding_rate = feed::Rate::from_raw(-3);
  ev.mark.next_funding_ts_ns = 9;
  n = encode_event(ev, "ETHUSDT", 3, 0, buf);
  ASSERT_EQ(decode_event(std::span<const std::uint8_t>(buf.data(), n), h, out, lv), WireError::ok);
  EXPECT_EQ(out.mark.funding_rate.raw, -3);
  EXPECT_EQ(out.mark.next_funding_ts_ns, 9);

  std::vector<feed::Level> snap = {{Price::from_raw(10), Qty::from_raw(1)}, {Price::from_raw(11), Qty::from_raw(2)}};
  ev.kind = feed::EventKind::depth_snapshot;
  ev.snapshot.last_update_id = 1234;
  ev.snapshot.bids = std::span<const feed::Level>(snap.data(), 1);
  ev.snapshot.asks = std::span<const feed::Level>(snap.data() + 1, 1);
  n = encode_event(ev, "ETHUSDT", 4, 0, buf);
  ASSERT_EQ(decode_event(std::span<const std::uint8_t>(buf.data(), n), h, out, lv), WireError::ok);
  EXPECT_EQ(out.snapshot.last_update_id, 1234u);
  ASSERT_EQ(out.snapshot.asks.size(), 1u);
  EXPECT_EQ(out.snapshot.asks[0].price.raw, 11);
  // Too few levels in the caller's buffer: an error, not an overrun.
  std::vector<feed::Level> one(1);
  EXPECT_EQ(decode_event(std::span<const std::uint8_t>(buf.data(), n), h, out, one), WireError::no_room);
}

TEST(Wire, IntentAnswerAccountControlRoundTrip) {
  std::vector<std::uint8_t> buf(8192);
  IntentMsg im;
  im.md_seq = 77;
  im.recv_ns = 5;
  im.top.bid = Price::from_raw(100);
  im.top.ask = Price::from_raw(101);
  im.top.state = 2;
  im.top.update_ns = 4;
  im.p_up = 0.75f;
  im.n = 2;
  im.intents[0].kind = 0;
  im.intents[0].side = exec::Side::sell;
  im.intents[0].type = exec::OrderType::limit_maker;
  im.intents[0].price = Price::from_raw(101);
  im.intents[0].qty = Qty::from_raw(100000);
  im.intents[1].kind = 1;
  im.intents[1].why = 3;
  (void)im.intents[1].orig_id.assign("tk1-2-3");
  std::size_t n = encode_intent(im, "BTCUSDT", 9, 1, buf);
  ASSERT_GT(n, 0u);
  Header h;
  IntentMsg ii;
  ASSERT_EQ(decode_intent(std::span<const std::uint8_t>(buf.data(), n), h, ii), WireError::ok);
  EXPECT_EQ(ii.md_seq, 77u);
  EXPECT_EQ(ii.n, 2);
  EXPECT_EQ(ii.p_up, 0.75f);
  EXPECT_EQ(ii.intents[0].side, exec::Side::sell);
  EXPECT_EQ(ii.intents[0].type, exec::OrderType::limit_maker);
  EXPECT_EQ(ii.intents[0].qty.raw, 100000);
  EXPECT_EQ(ii.intents[1].orig_id.view(), "tk1-2-3");

  AnswerMsg a;
  a.n = 2;
  a.verdict[0] = Verdict::accepted;
  (void)a.id[0].assign("tk1-2-4");
  a.verdict[1] = Verdict::refused;
  a.reason[1] = 17;
  a.view.version = 5;
  a.view.position = Qty::from_raw(-300);
  a.view.kill = true;
  a.view.n = 1;
  (void)a.view.orders[0].id.assign("tk1-2-4");
  a.view.orders[0].cancel_pending = true;
  a.view.orders[0].leaves = Qty::from_raw(100000);
  n = encode_answer(a, "BTCUSDT", 9, 2, buf);
  AnswerMsg b;
  ASSERT_EQ(decode_answer(std::span<const std::uint8_t>(buf.data(), n), h, b), WireError::ok);
  EXPECT_EQ(b.verdict[1], Verdict::refused);
  EXPECT_EQ(b.reason[1], 17);
  EXPECT_EQ(b.id[0].view(), "tk1-2-4");
  EXPECT_EQ(b.view.position.raw, -300);
  EXPECT_TRUE(b.view.kill);
  EXPECT_TRUE(b.view.orders[0].cancel_pending);
  EXPECT_EQ(b.view.orders[0].leaves.raw, 100000);

  n = encode_account(a.view, "BTCUSDT", 3, buf);
  AccountView v;
  ASSERT_EQ(decode_account(std::span<const std::uint8_t>(buf.data(), n), h, v), WireError::ok);
  EXPECT_EQ(h.seq, 5u);
  EXPECT_EQ(v.version, 5u);

  ControlMsg c{ControlAction::kill}, d;
  n = encode_control(c, 1, 2, buf);
  ASSERT_EQ(decode_control(std::span<const std::uint8_t>(buf.data(), n), h, d), WireError::ok);
  EXPECT_EQ(d.action, ControlAction::kill);
  // A control message is not an intent.
  EXPECT_EQ(decode_intent(std::span<const std::uint8_t>(buf.data(), n), h, ii), WireError::bad_kind);
}

// Every enum carried as a byte is checked against its enum's range: one past the last value is
// bad_value, never a cast to a value the enum does not have (the book state let 3 through before).
TEST(Wire, EnumBytesPastTheirRangeAreBadValue) {
  std::vector<std::uint8_t> buf(1024);
  IntentMsg im;
  im.top.state = kMaxBookState;
  im.n = 1;
  im.intents[0].kind = 1;
  im.intents[0].why = kMaxCancelWhy;
  im.intents[0].side = exec::Side::sell;
  im.intents[0].type = exec::OrderType::limit_maker;
  im.intents[0].tif = exec::TimeInForce::fok;
  im.intents[0].stp = exec::StpMode::expire_both;
  const std::size_t n = encode_intent(im, "BTCUSDT", 1, 1, buf);
  ASSERT_GT(n, 0u);
  Header h;
  IntentMsg out;
  ASSERT_EQ(decode_intent(std::span<const std::uint8_t>(buf.data(), n), h, out), WireError::ok);  // the last values pass
  EXPECT_EQ(out.top.state, kMaxBookState);
  // body offsets: top.state 40; the first intent at 52: kind, why, side, type, tif, stp.
  const std::size_t state = kHeaderSize + 40, first = kHeaderSize + 52;
  for (std::size_t at : {state, first, first + 1, first + 2, first + 3, first + 4, first + 5}) {
    std::vector<std::uint8_t> bad(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    bad[at] = static_cast<std::uint8_t>(bad[at] + 1);
    EXPECT_EQ(decode_intent(bad, h, out), WireError::bad_value) << "byte " << at - kHeaderSize << " of the body";
  }
}

TEST(Wire, EveryTruncationIsAnError) {
  std::vector<feed::Level> store;
  const feed::Event ev = depth_event(store);
  std::vector<std::uint8_t> buf(512);
  const std::size_t n = encode_event(ev, "BTCUSDT", 1, 0, buf);
  std::vector<feed::Level> lv(16);
  for (std::size_t k = 0; k < n; ++k) {
    Header h;
    feed::Event out;
    // An exact-size copy: a sanitizer run catches any read past the end.
    std::vector<std::uint8_t> cut(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
    EXPECT_NE(decode_event(cut, h, out, lv), WireError::ok) << "prefix of " << k << " bytes";
  }
  // Body length that lies (says more than present) and a bad version.
  std::vector<std::uint8_t> lie(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  lie[4] = static_cast<std::uint8_t>(lie[4] + 1);
  Header h;
  feed::Event out;
  EXPECT_EQ(decode_event(lie, h, out, lv), WireError::bad_length);
  std::vector<std::uint8_t> ver(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  ver[0] = 2;
  EXPECT_EQ(decode_event(ver, h, out, lv), WireError::bad_version);
  // A level count that does not match the body.
  std::vector<std::uint8_t> cnt(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  cnt[kHeaderSize + 52] = 200;  // bids count
  EXPECT_EQ(decode_event(cnt, h, out, lv), WireError::bad_count);
}

TEST(Wire, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(1234);
  std::vector<feed::Level> store;
  const feed::Event ev = depth_event(store);
  std::vector<std::uint8_t> good(512);
  const std::size_t n = encode_event(ev, "BTCUSDT", 1, 0, good);
  good.resize(n);
  std::vector<feed::Level> lv(16);
  std::uint64_t errors = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> m = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    if (rng() % 4 == 0) m.resize(rng() % (m.size() + 1));
    Header h;
    feed::Event out;
    IntentMsg im;
    AnswerMsg am;
    AccountView av;
    ControlMsg cm;
    errors += decode_event(m, h, out, lv) != WireError::ok;
    (void)decode_intent(m, h, im);
    (void)decode_answer(m, h, am);
    (void)decode_account(m, h, av);
    (void)decode_control(m, h, cm);
  }
  EXPECT_GT(errors, 0u);  // most flips land in a checked field; the rest decode to other values
}
