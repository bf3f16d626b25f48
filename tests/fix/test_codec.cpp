// fix/codec: FIX 4.4 <-> order vocabulary, without sockets.
#include <gtest/gtest.h>

#include "fix/codec.hpp"

namespace tickrt::fix {
namespace {

using namespace tickrt::exec;

FIX::Message parse(const std::string& body_fields) {
  // Builds a message from "tag=value|tag=value" (test shorthand).
  FIX::Message m;
  std::size_t p = 0;
  while (p < body_fields.size()) {
    std::size_t bar = body_fields.find('|', p);
    if (bar == std::string::npos) bar = body_fields.size();
    const std::string kv = body_fields.substr(p, bar - p);
    const std::size_t eq = kv.find('=');
    const int tag = std::stoi(kv.substr(0, eq));
    if (tag == 35) m.getHeader().setField(35, kv.substr(eq + 1));
    else m.setField(tag, kv.substr(eq + 1));
    p = bar + 1;
  }
  return m;
}

TEST(FixCodec, DecimalsAndTimestamps) {
  EXPECT_EQ(decimal(100'00000000), "100");
  EXPECT_EQ(decimal(50000000), "0.5");
  EXPECT_EQ(decimal(1), "0.00000001");
  EXPECT_EQ(decimal(-150000000), "-1.5");
  std::int64_t ns = 0;
  ASSERT_TRUE(parse_utc_timestamp("20261129-05:17:31.123", ns));
  EXPECT_EQ(utc_timestamp(ns), "20261129-05:17:31.123");
  ASSERT_TRUE(parse_utc_timestamp("20261129-05:17:31", ns));
  EXPECT_FALSE(parse_utc_timestamp("2026-11-29T05:17:31", ns));
  EXPECT_FALSE(parse_utc_timestamp("20261329-05:17:31", ns));
  EXPECT_FALSE(parse_utc_timestamp("20261129-05:17:31.", ns));
}

TEST(FixCodec, NewOrderRoundTripWithPostOnly) {
  OrderRequest req;
  (void)req.symbol.assign("BTCUSDT");
  (void)req.client_order_id.assign("tk-1-7");
  req.side = Side::sell;
  req.type = OrderType::limit_maker;
  req.price = Price::from_raw(12345'67000000);
  req.qty = Qty::from_raw(1'500);
  const FIX::Message m = encode_new_order(req, 1'700'000'000'000'000'000);
  EXPECT_EQ(m.getField(18), "6");
  EXPECT_EQ(m.getField(44), "12345.67");
  EXPECT_EQ(m.getField(38), "0.000015");
  OrderRequest back;
  const DecodeError e = decode_new_order(m, back);
  ASSERT_TRUE(e.ok()) << e.text;
  EXPECT_EQ(back.symbol, req.symbol);
  EXPECT_EQ(back.client_order_id, req.client_order_id);
  EXPECT_EQ(back.side, Side::sell);
  EXPECT_EQ(back.type, OrderType::limit_maker);
  EXPECT_EQ(back.price, req.price);
  EXPECT_EQ(back.qty, req.qty);
}

TEST(FixCodec, MalformedOrdersNameTheTag) {
  const std::string base = "35=D|11=x1|55=BTCUSDT|54=1|60=20261129-05:00:00|38=1|40=2|44=100";
  OrderRequest out;
  EXPECT_TRUE(decode_new_order(parse(base), out).ok());
  struct C { std::string msg; int tag; std::string text; };
  const std::vector<C> cases = {
      {"35=D|55=BTCUSDT|54=1|60=20261129-05:00:00|38=1|40=2|44=100", 11, "tag 11 (ClOrdID) missing"},
      {"35=D|11=x1|55=BTCUSDT|54=1|60=20261129-05:00:00|38=1|40=2", 44, "tag 44 (Price) missing"},
      {"35=D|11=x1|55=BTCUSDT|54=3|60=20261129-05:00:00|38=1|40=2|44=1", 54, "tag 54 (Side) value '3'"},
      {"35=D|11=x1|55=BTCUSDT|54=1|60=20261129-05:00:00|38=-1|40=2|44=1", 38, "must be > 0"},
      {"35=D|11=x1|55=BTCUSDT|54=1|60=20261129-05:00:00|38=1|40=2|44=abc", 44, "not a decimal"},
      {"35=D|11=x1|55=BTCUSDT|54=1|60=20261129-05:00:00|38=1|40=1|18=6", 18, "needs OrdType=2"},
      {"35=D|11=x1|55=BTCUSDT|54=1|38=1|40=2|44=1", 60, "tag 60 (TransactTime) missing"},
      {"35=D|11=x1|55=BTCUSDT|54=1|60=20261129-05:00:00|38=1|40=2|44=1|59=6", 59, "tag 59 (TimeInForce)"},
  };
  for (const C& c : cases) {
    const DecodeError e = decode_new_order(parse(c.msg), out);
    EXPECT_EQ(e.tag, c.tag) << c.msg << " -> " << e.text;
    EXPECT_NE(e.text.find(c.text), std::string::npos) << c.msg << " -> " << e.text;
  }
  // Market orders need no price.
  EXPECT_TRUE(decode_new_order(parse("35=D|11=m|55=BTCUSDT|54=2|60=20261129-05:00:00|38=1|40=1"), out).ok());
  EXPECT_EQ(out.type, OrderType::market);
}

TEST(FixCodec, ExecutionReportRoundTrip) {
  ExecReport r;
  (void)r.symbol.assign("BTCUSDT");
  (void)r.client_order_id.assign("tk-1-9");
  r.exchange_order_id = 77;
  r.trade_id = 5;
  r.side = Side::buy;
  r.exec_type = ExecType::trade;
  r.status = OrderStatus::partially_filled;
  r.price = Price::from_int(100);
  r.qty = Qty::from_int(2);
  r.last_price = Price::from_int(99);
  r.last_qty = Qty::from_raw(50000000);
  r.cum_qty = Qty::from_raw(150000000);
  r.cum_quote_raw = 149'50000000;  // 0.5@99 + 1@100
  r.commission_raw = 123;
  r.is_maker = true;
  r.transact_ns = 1'700'000'000'123'000'000;
  const FIX::Message m = encode_execution_report(r, "E1", "", 0);
  EXPECT_EQ(m.getField(151), "0.5");
  EXPECT_EQ(m.getField(6), "99.66666666");
  ExecReport back;
  const DecodeError e = decode_execution_report(m, back);
  ASSERT_TRUE(e.ok()) << e.text;
  EXPECT_EQ(back.exec_type, ExecType::trade);
  EXPECT_EQ(back.status, OrderStatus::partially_filled);
  EXPECT_EQ(back.client_order_id, r.client_order_id);
  EXPECT_EQ(back.exchange_order_id, 77u);
  EXPECT_EQ(back.trade_id, 5u);
  EXPECT_EQ(back.last_qty, r.last_qty);
  EXPECT_EQ(back.last_price, r.last_price);
  EXPECT_EQ(back.cum_qty, r.cum_qty);
  EXPECT_EQ(back.commission_raw, 123);
  EXPECT_TRUE(back.is_maker);
  EXPECT_EQ(back.transact_ns, r.transact_ns);
  // AvgPx carries 8 decimals: cum_quote comes back within one unit per 1e-8 of price.
  EXPECT_NEAR(static_cast<double>(back.cum_quote_raw), static_cast<double>(r.cum_quote_raw), 2.0);
}

TEST(FixCodec, RejectsCarryTheBinanceCode) {
  ExecReport r;
  (void)r.symbol.assign("BTCUSDT");
  (void)r.client_order_id.assign("x");
  r.exec_type = ExecType::rejected;
  r.status = OrderStatus::rejected;
  r.reject = RejectCode::new_order_rejected;
  const FIX::Message m = encode_execution_report(r, "E2", "code=-2010 Order would immediately match and take.", 0);
  ExecReport back;
  ASSERT_TRUE(decode_execution_report(m, back).ok());
  EXPECT_EQ(back.reject, RejectCode::new_order_rejected);
  const FIX::Message cr = encode_cancel_reject("c", "o", 0, OrderStatus::rejected, 1, false, "code=-2011 Unknown order sent.");
  ASSERT_TRUE(decode_cancel_reject(cr, back).ok());
  EXPECT_EQ(back.reject, RejectCode::cancel_rejected);
  EXPECT_EQ(back.orig_client_order_id.view(), "o");
  EXPECT_EQ(back.client_order_id.view(), "c");
  EXPECT_EQ(back.exec_type, ExecType::rejected);
}

}  // namespace
}  // namespace tickrt::fix
