// tests/strategy: SignalStrategy on hand-made inputs (signal + hysteresis, sizing, order styles,
// working-order accounting, reprice / stale / wrong-side cancels, throttle) and determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "strategy/strategy.hpp"

namespace tickrt::strategy {
namespace {

constexpr std::int64_t kMs = 1'000'000;

Price px(const char* s) {
  Price p;
  EXPECT_EQ(Price::parse(s, p), DecimalError::ok);
  return p;
}
Qty qty(const char* s) {
  Qty q;
  EXPECT_EQ(Qty::parse(s, q), DecimalError::ok);
  return q;
}
risk::MarketTop top(const char* bid, const char* ask, book::BookState st = book::BookState::synced) {
  risk::MarketTop t;
  t.bid = px(bid);
  t.ask = px(ask);
  t.state = st;
  t.update_ns = 1;
  return t;
}
risk::OpenOrder open_order(const char* id, exec::Side side, const char* price, const char* leaves, std::int64_t sent,
                           exec::OrderType type = exec::OrderType::limit_maker) {
  risk::OpenOrder o;
  o.symbol = exec::SymbolName::from("BTCUSDT");
  o.client_order_id = exec::ClientOrderId::from(id);
  o.side = side;
  o.type = type;
  o.price = px(price);
  o.leaves = qty(leaves);
  o.sent_ns = sent;
  return o;
}

StrategyConfig base_config() {
  StrategyConfig c;
  c.symbol = "BTCUSDT";
  c.inputs_are_logits = false;  // hand-made probabilities read directly
  c.enter_prob = 0.55;
  c.exit_prob = 0.45;
  c.min_edge = 0.10;
  c.order_qty = qty("0.001");
  c.max_position = qty("0.003");
  c.qty_step = qty("0.00001");
  c.tick_size = px("0.01");
  c.min_interval_ns = 100 * kMs;
  c.passive_max_age_ns = 1000 * kMs;
  c.reprice_ticks = 2;
  return c;
}

struct Probe {
  SignalStrategy s;
  std::array<Intent, 8> buf{};
  explicit Probe(const StrategyConfig& c) : s(SignalStrategy::create(c).value()) {}
  std::vector<Intent> model(float down, float flat, float up, const risk::MarketTop& t, const AccountView& a,
                            std::int64_t now) {
    const float v[3] = {down, flat, up};
    const std::size_t n = s.on_model_output(v, t, a, now, buf);
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
  }
  std::vector<Intent> book(const risk::MarketTop& t, const AccountView& a, std::int64_t now) {
    const std::size_t n = s.on_book(t, a, now, buf);
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
  }
};

TEST(Probabilities, SoftmaxAndFallbacks) {
  const float z[3] = {0, 0, 0};
  Probabilities p = to_probabilities(z, true);
  EXPECT_NEAR(p.down, 1.0 / 3, 1e-12);
  EXPECT_NEAR(p.up, 1.0 / 3, 1e-12);
  const float l[3] = {0.0f, std::log(2.0f), std::log(5.0f)};  // e^x = 1, 2, 5 -> 1/8, 2/8, 5/8
  p = to_probabilities(l, true);
  EXPECT_NEAR(p.down, 0.125, 1e-6);
  EXPECT_NEAR(p.flat, 0.25, 1e-6);
  EXPECT_NEAR(p.up, 0.625, 1e-6);
  const float big[3] = {1000.0f, 1000.0f, 999.0f};  // no overflow: max subtracted
  p = to_probabilities(big, true);
  EXPECT_TRUE(std::isfinite(p.up));
  EXPECT_NEAR(p.down + p.flat + p.up, 1.0, 1e-12);
  const float pr[3] = {1, 1, 2};
  p = to_probabilities(pr, false);
  EXPECT_DOUBLE_EQ(p.up, 0.5);
  const float nan[3] = {NAN, 0, 1};
  p = to_probabilities(nan, true);
  EXPECT_EQ(p.flat, 1.0);
  const float zero[3] = {0, 0, 0};
  p = to_probabilities(zero, false);
  EXPECT_EQ(p.flat, 1.0);
}

TEST(Strategy, SignalHysteresisAndFlips) {
  Probe t(base_config());
  const auto tp = top("100", "100.01");
  AccountView a;
  std::int64_t now = 1000 * kMs;
  auto step = [&](float d, float f, float u) {
    (void)t.model(d, f, u, tp, a, now);
    now += 1000 * kMs;
    return t.s.signal();
  };
  EXPECT_EQ(step(0.2f, 0.3f, 0.5f), Signal::flat);     // p_up below enter
  EXPECT_EQ(step(0.1f, 0.3f, 0.6f), Signal::long_);    // enter long
  EXPECT_EQ(step(0.2f, 0.3f, 0.5f), Signal::long_);    // 0.5 >= exit 0.45: held
  EXPECT_EQ(step(0.2f, 0.36f, 0.44f), Signal::flat);   // below exit
  EXPECT_EQ(step(0.5f, 0.0f, 0.5f), Signal::flat);     // neither enters
  EXPECT_EQ(step(0.58f, 0.0f, 0.42f), Signal::short_); // enter short
  EXPECT_EQ(step(0.46f, 0.1f, 0.44f), Signal::short_); // held
  EXPECT_EQ(step(0.1f, 0.2f, 0.7f), Signal::long_);    // flips directly
  EXPECT_EQ(t.s.counters().signal_changes.get(), 4u);
  EXPECT_EQ(t.s.counters().decisions.get(), 8u);

  StrategyConfig c = base_config();
  c.min_edge = 0.3;
  Probe e(c);
  (void)e.model(0.35f, 0.05f, 0.6f, tp, a, 0);
  EXPECT_EQ(e.s.signal(), Signal::flat);  // edge 0.25 < 0.3
  (void)e.model(0.25f, 0.15f, 0.6f, tp, a, 0);
  EXPECT_EQ(e.s.signal(), Signal::long_);  // edge 0.35
}

TEST(Strategy, SizingModes) {
  const auto tp = top("100", "100.01");
  AccountView a;
  StrategyConfig c = base_config();
  c.sizing = Sizing::fixed;
  Probe f(c);
  (void)f.model(0.1f, 0.3f, 0.6f, tp, a, 0);
  EXPECT_EQ(f.s.target(), qty("0.001"));
  c.sizing = Sizing::max_position;
  Probe m(c);
  (void)m.model(0.6f, 0.3f, 0.1f, tp, a, 0);
  EXPECT_EQ(m.s.target(), qty("-0.003"));
  c.sizing = Sizing::confidence;
  c.max_position = qty("0.01");
  Probe k(c);
  // p_up 0.725: (0.725 - 0.45) / 0.55 = 0.5 -> 0.005 (float input: within one step, rounded down).
  (void)k.model(0.075f, 0.2f, 0.725f, tp, a, 0);
  EXPECT_GE(k.s.target().raw, qty("0.00499").raw);
  EXPECT_LE(k.s.target().raw, qty("0.005").raw);
  EXPECT_EQ(k.s.target().raw % c.qty_step.raw, 0);
  // Weaker but held (0.5 >= exit): smaller target; below exit: zero.
  (void)k.model(0.2f, 0.3f, 0.5f, tp, a, kMs);
  EXPECT_EQ(k.s.signal(), Signal::long_);
  EXPECT_LT(k.s.target().raw, qty("0.001").raw);
  EXPECT_GT(k.s.target().raw, 0);
  (void)k.model(0.2f, 0.4f, 0.4f, tp, a, 2 * kMs);
  EXPECT_EQ(k.s.target().raw, 0);
}

TEST(Strategy, AggressiveLimitIocAtTheTouch) {
  StrategyConfig c = base_config();
  c.style = OrderStyle::aggressive;
  c.max_position = qty("0.0025");
  c.sizing = Sizing::max_position;
  Probe t(c);
  AccountView a;
  auto in = t.model(0.1f, 0.3f, 0.6f, top("100", "100.01"), a, 5 * kMs);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].kind, Intent::Kind::new_order);
  const exec::OrderRequest& o = in[0].order;
  EXPECT_EQ(o.symbol.view(), "BTCUSDT");
  EXPECT_EQ(o.side, exec::Side::buy);
  EXPECT_EQ(o.type, exec::OrderType::limit);
  EXPECT_EQ(o.tif, exec::TimeInForce::ioc);
  EXPECT_EQ(o.price, px("100.01"));   // buys take the ask
  EXPECT_EQ(o.qty, qty("0.001"));     // one clip of the 0.0025 target
  EXPECT_EQ(o.created_ns, 5 * kMs);
  EXPECT_TRUE(o.client_order_id.empty());
  // Filled 0.002 so far: the remainder 0.0005 goes next (after the interval).
  a.position = qty("0.002");
  EXPECT_TRUE(t.book(top("100", "100.01"), a, 5 * kMs + 99 * kMs).empty());  // throttled
  EXPECT_EQ(t.s.counters().throttled.get(), 1u);
  in = t.book(top("100", "100.01"), a, 105 * kMs);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].order.qty, qty("0.0005"));
  // Short: sells hit the bid; market variant has no price.
  c.aggressive_market = true;
  Probe s(c);
  AccountView flat;
  in = s.model(0.6f, 0.3f, 0.1f, top("100", "100.01"), flat, 0);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].order.side, exec::Side::sell);
  EXPECT_EQ(in[0].order.type, exec::OrderType::market);
  EXPECT_EQ(in[0].order.price.raw, 0);
}

TEST(Strategy, PassivePostOnlyAtOwnSideAndWorkingOrdersCount) {
  Probe t(base_config());
  AccountView a;
  auto in = t.model(0.1f, 0.3f, 0.6f, top("100", "100.01"), a, 0);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].order.type, exec::OrderType::limit_maker);
  EXPECT_EQ(in[0].order.price, px("100"));  // buys rest on the bid
  // The order is working: target 0.001 already covered, nothing more (even after the interval).
  std::vector<risk::OpenOrder> open = {open_order("a", exec::Side::buy, "100", "0.001", 0)};
  a.open = open;
  EXPECT_TRUE(t.book(top("100", "100.01"), a, 200 * kMs).empty());
  // Touch moved 1 tick (reprice_ticks = 2): keep; 2 ticks: cancel (reprice), no new order until
  // the cancel is acknowledged (its leaves still count).
  EXPECT_TRUE(t.book(top("100.01", "100.02"), a, 300 * kMs).empty());
  in = t.book(top("100.02", "100.03"), a, 400 * kMs);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].kind, Intent::Kind::cancel);
  EXPECT_EQ(in[0].why, CancelWhy::reprice);
  EXPECT_EQ(in[0].cancel.orig_client_order_id.view(), "a");
  open[0].cancel_pending = true;
  EXPECT_TRUE(t.book(top("100.02", "100.03"), a, 500 * kMs).empty());  // not canceled twice
  // Acknowledged: the order is gone, the new one goes at the new bid.
  a.open = {};
  in = t.book(top("100.02", "100.03"), a, 600 * kMs);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].order.price, px("100.02"));
}

TEST(Strategy, StaleAndWrongSideCancels) {
  Probe t(base_config());
  AccountView a;
  std::vector<risk::OpenOrder> open = {open_order("old", exec::Side::buy, "100", "0.0004", 0),
                                       open_order("ioc", exec::Side::buy, "100.01", "0.0002", 0, exec::OrderType::limit)};
  a.open = open;
  (void)t.model(0.1f, 0.3f, 0.6f, top("100", "100.01"), a, 10 * kMs);  // long 0.001
  // 1001 ms later the passive one is stale; the IOC (type limit) is never canceled for age.
  auto in = t.book(top("100", "100.01"), a, 1011 * kMs);
  ASSERT_GE(in.size(), 1u);
  EXPECT_EQ(in[0].kind, Intent::Kind::cancel);
  EXPECT_EQ(in[0].why, CancelWhy::stale);
  EXPECT_EQ(in[0].cancel.orig_client_order_id.view(), "old");
  // Plus a new order for the uncovered 0.0004 (0.001 - 0.0004 - 0.0002).
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[1].order.qty, qty("0.0004"));

  // Signal flips short while buys are working: cancel them, and no sell until they are gone.
  (void)t.model(0.6f, 0.3f, 0.1f, top("100", "100.01"), AccountView{}, 2000 * kMs);
  in = t.book(top("100", "100.01"), a, 2500 * kMs);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].why, CancelWhy::wrong_side);
  EXPECT_EQ(in[1].why, CancelWhy::wrong_side);
  EXPECT_EQ(in[1].kind, Intent::Kind::cancel);
}

TEST(Strategy, NoNewOrdersWithoutATradableBook) {
  Probe t(base_config());
  AccountView a;
  EXPECT_TRUE(t.model(0.1f, 0.3f, 0.6f, top("100", "100.01", book::BookState::resyncing), a, 0).empty());
  EXPECT_TRUE(t.book(top("100.02", "100.01"), a, kMs).empty());  // crossed
  EXPECT_TRUE(t.book(top("100", "0"), a, kMs).empty());          // one-sided
  EXPECT_EQ(t.s.counters().no_book.get(), 3u);
  EXPECT_EQ(t.book(top("100", "100.01"), a, kMs).size(), 1u);
}

TEST(Strategy, SmallOutputArrayDropsAndCounts) {
  Probe t(base_config());
  AccountView a;
  std::vector<risk::OpenOrder> open = {open_order("s1", exec::Side::sell, "100.01", "0.001", 0),
                                       open_order("s2", exec::Side::sell, "100.01", "0.001", 0)};
  a.open = open;
  Intent one[1];
  const float v[3] = {0.1f, 0.3f, 0.6f};
  EXPECT_EQ(t.s.on_model_output(v, top("100", "100.01"), a, 0, one), 1u);
  EXPECT_EQ(one[0].cancel.orig_client_order_id.view(), "s1");
  EXPECT_EQ(t.s.counters().dropped.get(), 1u);
}

// The backtester reuses the strategy verbatim: the same inputs must give the same intents.
TEST(Strategy, Deterministic) {
  auto run = [](std::vector<std::string>& log) {
    StrategyConfig c = base_config();
    c.inputs_are_logits = true;
    c.sizing = Sizing::confidence;
    c.max_position = qty("0.01");
    Probe t(c);
    std::mt19937 rng(42);
    std::normal_distribution<float> n(0.0f, 1.5f);
    std::vector<risk::OpenOrder> open;
    Qty pos;
    std::int64_t now = 0;
    std::int64_t bid = 10'000'000'000;  // 100.00
    for (int i = 0; i < 2000; ++i) {
      now += 37 * kMs;
      bid += static_cast<std::int64_t>(rng() % 5) * 1'000'000 - 2'000'000;
      risk::MarketTop tp;
      tp.bid = Price::from_raw(bid);
      tp.ask = Price::from_raw(bid + 1'000'000);
      tp.state = book::BookState::synced;
      tp.update_ns = now;
      AccountView a{pos, open};
      const float v[3] = {n(rng), n(rng), n(rng)};
      std::array<Intent, 8> buf;
      const std::size_t k = t.s.on_model_output(v, tp, a, now, buf);
      for (std::size_t j = 0; j < k; ++j) {
        const Intent& it = buf[j];
        if (it.kind == Intent::Kind::new_order) {
          log.push_back("N " + std::string(exec::side_name(it.order.side)) + " " + it.order.price.to_string() + " " +
                        it.order.qty.to_string());
          // Fill half the time immediately, else rest.
          if (rng() % 2) pos.raw += exec::side_sign(it.order.side) * it.order.qty.raw;
          else {
            risk::OpenOrder o;
            o.client_order_id = exec::ClientOrderId::from("o" + std::to_string(i));
            o.side = it.order.side;
            o.type = it.order.type;
            o.price = it.order.price;
            o.leaves = it.order.qty;
            o.sent_ns = now;
            open.push_back(o);
          }
        } else {
          log.push_back("C " + std::string(it.cancel.orig_client_order_id.view()));
          for (auto o = open.begin(); o != open.end(); ++o) {
            if (o->client_order_id == it.cancel.orig_client_order_id) {
              open.erase(o);
              break;
            }
          }
        }
      }
    }
  };
  std::vector<std::string> a, b;
  run(a);
  run(b);
  EXPECT_GT(a.size(), 50u);  // the run actually trades
  EXPECT_EQ(a, b);
}

TEST(StrategyConfigCheck, BadFieldsNameThemselves) {
  StrategyConfig c = base_config();
  c.exit_prob = 0.7;
  auto r = SignalStrategy::create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("strategy.exit_prob"), std::string::npos);
  c = base_config();
  c.qty_step = Qty{};
  r = SignalStrategy::create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("qty_step"), std::string::npos);
  c = base_config();
  c.symbol = "";
  EXPECT_FALSE(SignalStrategy::create(c).ok());
  Sizing s;
  EXPECT_TRUE(parse_sizing("confidence", s));
  EXPECT_EQ(s, Sizing::confidence);
  EXPECT_FALSE(parse_sizing("kelly", s));
  OrderStyle o;
  EXPECT_TRUE(parse_order_style("aggressive", o));
  EXPECT_FALSE(parse_order_style("iceberg", o));
}

}  // namespace
}  // namespace tickrt::strategy
