// tests/sim helpers: a recording sink and short constructors for requests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/matching_engine.hpp"

namespace tickrt::sim::testing {

inline Price px(std::string_view s) {
  Price p;
  if (Price::parse(s, p) != DecimalError::ok) std::abort();
  return p;
}
inline Qty qt(std::string_view s) {
  Qty q;
  if (Qty::parse(s, q) != DecimalError::ok) std::abort();
  return q;
}
inline std::int64_t raw(std::string_view s) { return px(s).raw; }
// prefix + number, built by append (g++ 12 -Wrestrict false positive on "lit" + std::to_string)
inline std::string idn(const char* prefix, long long i) {
  std::string s(prefix);
  s.append(std::to_string(i));
  return s;
}

struct Report {
  AccountId account;
  ExecReport r;
  std::int64_t deliver_ns;
};

class Recorder final : public ReportSink {
 public:
  std::vector<Report> reports;
  std::vector<PublicTrade> trades;
  std::vector<BookUpdate> book;
  void on_exec_report(AccountId a, const ExecReport& r, std::int64_t d) override { reports.push_back({a, r, d}); }
  void on_public_trade(const PublicTrade& t) override { trades.push_back(t); }
  void on_book_update(const BookUpdate& u) override { book.push_back(u); }
  std::vector<Report> for_order(std::uint64_t id) const {
    std::vector<Report> out;
    for (const Report& x : reports)
      if (x.r.exchange_order_id == id) out.push_back(x);
    return out;
  }
  void clear() { reports.clear(); trades.clear(); book.clear(); }
};

inline SymbolSpec btcusdt() {
  SymbolSpec s;
  s.name = SymbolName::from("BTCUSDT");
  s.base = AssetName::from("BTC");
  s.quote = AssetName::from("USDT");
  return s;  // tick 0.01, step 0.00001
}

inline SimConfig base_config() {
  SimConfig c;
  c.symbols.push_back(btcusdt());
  c.start_balances = {{AssetName::from("BTC"), raw("100")}, {AssetName::from("USDT"), raw("10000000")}};
  return c;
}

inline OrderRequest order(std::string_view clid, Side side, std::string_view price, std::string_view qty,
                          OrderType type = OrderType::limit, TimeInForce tif = TimeInForce::gtc,
                          StpMode stp = StpMode::none, std::string_view symbol = "BTCUSDT") {
  OrderRequest r;
  r.symbol = SymbolName::from(symbol);
  r.client_order_id = ClientOrderId::from(clid);
  r.side = side;
  r.type = type;
  r.tif = tif;
  r.stp = stp;
  if (!price.empty()) r.price = px(price);
  r.qty = qt(qty);
  return r;
}

inline CancelRequest cancel_of(std::string_view orig, std::string_view clid = "", std::uint64_t id = 0,
                               std::string_view symbol = "BTCUSDT") {
  CancelRequest c;
  c.symbol = SymbolName::from(symbol);
  c.client_order_id = ClientOrderId::from(clid);
  c.orig_client_order_id = ClientOrderId::from(orig);
  c.exchange_order_id = id;
  return c;
}

}  // namespace tickrt::sim::testing
