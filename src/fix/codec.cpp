#include "fix/codec.hpp"

#include <charconv>
#include <ctime>

namespace tickrt::fix {

using namespace tickrt::exec;

namespace {

constexpr int kAccount = 1, kAvgPx = 6, kClOrdID = 11, kCommission = 12, kCommType = 13, kCumQty = 14,
              kExecID = 17, kExecInst = 18, kLastPx = 31, kLastQty = 32, kOrderID = 37, kOrderQty = 38,
              kOrdStatus = 39, kOrdType = 40, kOrigClOrdID = 41, kPrice = 44, kSide = 54, kSymbol = 55,
              kText = 58, kTimeInForce = 59, kTransactTime = 60, kCxlRejReason = 102, kOrdRejReason = 103,
              kExecType = 150, kLeavesQty = 151, kCxlRejResponseTo = 434, kOrdStatusReqID = 790,
              kSecondaryExecID = 527, kLastLiquidityInd = 851;

DecodeError err(int tag, std::string what) {
  DecodeError e;
  e.tag = tag;
  e.text = "tag " + std::to_string(tag) + " (" + std::string(tag_name(tag)) + ") " + what;
  return e;
}

// The field's value, or nullptr when absent. FieldMap::getField throws on absence, so ask first.
const std::string* field(const FIX::FieldMap& m, int tag) {
  if (!m.isSetField(tag)) return nullptr;
  return &m.getField(tag);
}

DecodeError required(const FIX::FieldMap& m, int tag, const std::string*& v) {
  v = field(m, tag);
  if (v == nullptr) return err(tag, "missing");
  if (v->empty()) return err(tag, "empty");
  return {};
}

template <class Tag>
DecodeError decimal_field(const FIX::FieldMap& m, int tag, bool must_be_positive, Fixed<Tag>& out) {
  const std::string* v = nullptr;
  if (auto e = required(m, tag, v); !e.ok()) return e;
  const DecimalError de = Fixed<Tag>::parse(*v, out);
  if (de != DecimalError::ok) {
    return err(tag, "value '" + *v + "' is not a decimal: " + std::string(decimal_error_name(de)));
  }
  if (must_be_positive && out.raw <= 0) return err(tag, "value '" + *v + "' must be > 0");
  if (!must_be_positive && out.raw < 0) return err(tag, "value '" + *v + "' must be >= 0");
  return {};
}

DecodeError char_field(const FIX::FieldMap& m, int tag, char& out) {
  const std::string* v = nullptr;
  if (auto e = required(m, tag, v); !e.ok()) return e;
  if (v->size() != 1) return err(tag, "value '" + *v + "' is not a single character");
  out = (*v)[0];
  return {};
}

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

DecodeError client_id_field(const FIX::FieldMap& m, int tag, ClientOrderId& out) {
  const std::string* v = nullptr;
  if (auto e = required(m, tag, v); !e.ok()) return e;
  if (!valid_client_order_id(*v) || !out.assign(*v)) {
    return err(tag, "value '" + v->substr(0, 64) + "' is not 1-36 characters of [.A-Za-z0-9:/_-]");
  }
  return {};
}

DecodeError symbol_field(const FIX::FieldMap& m, SymbolName& out) {
  const std::string* v = nullptr;
  if (auto e = required(m, kSymbol, v); !e.ok()) return e;
  if (v->size() > 20 || !out.assign(*v)) return err(kSymbol, "value '" + v->substr(0, 64) + "' longer than 20");
  return {};
}

DecodeError side_field(const FIX::FieldMap& m, Side& out) {
  char c = 0;
  if (auto e = char_field(m, kSide, c); !e.ok()) return e;
  if (c == '1') out = Side::buy;
  else if (c == '2') out = Side::sell;
  else return err(kSide, std::string("value '") + c + "' not supported (1=Buy, 2=Sell)");
  return {};
}

DecodeError exchange_id_field(const FIX::FieldMap& m, std::uint64_t& out) {
  out = 0;
  const std::string* v = field(m, kOrderID);
  if (v == nullptr || *v == "NONE") return {};
  if (!parse_u64(*v, out)) return err(kOrderID, "value '" + v->substr(0, 64) + "' is not an order id");
  return {};
}

// The order part of 35=D and 35=G (ClOrdID 11 = the new order's id).
DecodeError decode_order_fields(const FIX::Message& m, OrderRequest& out) {
  out = OrderRequest{};
  if (auto e = client_id_field(m, kClOrdID, out.client_order_id); !e.ok()) return e;
  if (auto e = symbol_field(m, out.symbol); !e.ok()) return e;
  if (auto e = side_field(m, out.side); !e.ok()) return e;
  if (auto e = decimal_field(m, kOrderQty, true, out.qty); !e.ok()) return e;
  char ot = 0;
  if (auto e = char_field(m, kOrdType, ot); !e.ok()) return e;
  if (ot == '1') out.type = OrderType::market;
  else if (ot == '2') out.type = OrderType::limit;
  else return err(kOrdType, std::string("value '") + ot + "' not supported (1=Market, 2=Limit)");
  if (out.type == OrderType::limit) {
    if (!m.isSetField(kPrice)) return err(kPrice, "missing: required for OrdType=2 (Limit)");
    if (auto e = decimal_field(m, kPrice, true, out.price); !e.ok()) return e;
  }
  out.tif = TimeInForce::gtc;
  if (const std::string* v = field(m, kTimeInForce)) {
    if (*v == "0" || *v == "1") out.tif = TimeInForce::gtc;
    else if (*v == "3") out.tif = TimeInForce::ioc;
    else if (*v == "4") out.tif = TimeInForce::fok;
    else return err(kTimeInForce, "value '" + v->substr(0, 16) + "' not supported (0=Day, 1=GTC, 3=IOC, 4=FOK)");
  }
  if (const std::string* v = field(m, kExecInst)) {
    // MultipleCharValue: space-separated. Only 6 (participate don't initiate) is offered.
    bool post_only = false;
    std::string_view s = *v;
    while (!s.empty()) {
      const std::size_t sp = s.find(' ');
      const std::string_view tok = s.substr(0, sp);
      if (tok == "6") post_only = true;
      else if (!tok.empty()) return err(kExecInst, "value '" + std::string(tok) + "' not supported (6=post-only)");
      if (sp == std::string_view::npos) break;
      s.remove_prefix(sp + 1);
    }
    if (post_only) {
      if (out.type != OrderType::limit) return err(kExecInst, "6 (post-only) needs OrdType=2 (Limit)");
      if (out.tif != TimeInForce::gtc) return err(kExecInst, "6 (post-only) needs TimeInForce GTC");
      out.type = OrderType::limit_maker;
    }
  }
  return {};
}

std::string text_of(const FIX::FieldMap& m) {
  const std::string* v = field(m, kText);
  return v ? *v : std::string();
}

}  // namespace

std::string_view tag_name(int tag) noexcept {
  switch (tag) {
    case kAccount: return "Account";
    case kAvgPx: return "AvgPx";
    case kClOrdID: return "ClOrdID";
    case kCumQty: return "CumQty";
    case kExecID: return "ExecID";
    case kExecInst: return "ExecInst";
    case kLastPx: return "LastPx";
    case kLastQty: return "LastQty";
    case kOrderID: return "OrderID";
    case kOrderQty: return "OrderQty";
    case kOrdStatus: return "OrdStatus";
    case kOrdType: return "OrdType";
    case kOrigClOrdID: return "OrigClOrdID";
    case kPrice: return "Price";
    case kSide: return "Side";
    case kSymbol: return "Symbol";
    case kText: return "Text";
    case kTimeInForce: return "TimeInForce";
    case kTransactTime: return "TransactTime";
    case kExecType: return "ExecType";
    case kLeavesQty: return "LeavesQty";
    case kCxlRejResponseTo: return "CxlRejResponseTo";
    case kOrdStatusReqID: return "OrdStatusReqID";
    case kSecondaryExecID: return "SecondaryExecID";
    case kLastLiquidityInd: return "LastLiquidityInd";
    case kCommission: return "Commission";
    case 35: return "MsgType";
    default: return "?";
  }
}

std::string decimal(std::int64_t raw) {
  std::string s = format_decimal(raw, kDecimalDigits);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

std::string utc_timestamp(std::int64_t wall_ns) {
  const std::time_t secs = static_cast<std::time_t>(wall_ns / 1'000'000'000);
  const int ms = static_cast<int>((wall_ns / 1'000'000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d-%02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

bool parse_utc_timestamp(std::string_view s, std::int64_t& wall_ns) noexcept {
  // YYYYMMDD-HH:MM:SS[.fraction of 1-9 digits]
  if (s.size() < 17) return false;
  auto digits = [&](std::size_t at, std::size_t n, int& v) {
    v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int Y, M, D, h, m, sec;
  if (!digits(0, 4, Y) || !digits(4, 2, M) || !digits(6, 2, D) || s[8] != '-' || !digits(9, 2, h) || s[11] != ':' ||
      !digits(12, 2, m) || s[14] != ':' || !digits(15, 2, sec)) {
    return false;
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return false;
  std::int64_t frac_ns = 0;
  if (s.size() > 17) {
    if (s[17] != '.' || s.size() < 19 || s.size() > 27) return false;
    std::int64_t scale = 100'000'000;
    for (std::size_t i = 18; i < s.size(); ++i, scale /= 10) {
      if (s[i] < '0' || s[i] > '9') return false;
      frac_ns += (s[i] - '0') * scale;
    }
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  wall_ns = static_cast<std::int64_t>(t) * 1'000'000'000 + frac_ns;
  return true;
}

char fix_side(Side s) noexcept { return s == Side::buy ? '1' : '2'; }
char fix_ord_type(OrderType t) noexcept { return t == OrderType::market ? '1' : '2'; }
char fix_tif(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc: return '1';
    case TimeInForce::ioc: return '3';
    case TimeInForce::fok: return '4';
  }
  return '1';
}
char fix_exec_type(ExecType t) noexcept {
  switch (t) {
    case ExecType::new_: return '0';
    case ExecType::canceled: return '4';
    case ExecType::replaced: return '5';
    case ExecType::rejected: return '8';
    case ExecType::trade: return 'F';
    case ExecType::expired: return 'C';
    case ExecType::status: return 'I';
  }
  return 'I';
}
char fix_ord_status(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::pending_new: return 'A';
    case OrderStatus::new_: return '0';
    case OrderStatus::partially_filled: return '1';
    case OrderStatus::filled: return '2';
    case OrderStatus::canceled: return '4';
    case OrderStatus::pending_cancel: return '6';
    case OrderStatus::rejected: return '8';
    case OrderStatus::expired: return 'C';
    case OrderStatus::unknown: return '8';  // FIX has no "unknown": only the gateway uses it, never on the wire
  }
  return '8';
}
bool exec_type_from_fix(char c, ExecType& out) noexcept {
  switch (c) {
    case '0': out = ExecType::new_; return true;
    case '4': out = ExecType::canceled; return true;
    case '5': out = ExecType::replaced; return true;
    case '8': out = ExecType::rejected; return true;
    case 'F': out = ExecType::trade; return true;
    case 'C': out = ExecType::expired; return true;
    case 'I': out = ExecType::status; return true;
    default: return false;
  }
}
bool ord_status_from_fix(char c, OrderStatus& out) noexcept {
  switch (c) {
    case 'A': out = OrderStatus::pending_new; return true;
    case '0': out = OrderStatus::new_; return true;
    case '1': out = OrderStatus::partially_filled; return true;
    case '2': out = OrderStatus::filled; return true;
    case '4': out = OrderStatus::canceled; return true;
    case '6': out = OrderStatus::pending_cancel; return true;
    case '8': out = OrderStatus::rejected; return true;
    case 'C': out = OrderStatus::expired; return true;
    default: return false;
  }
}

// ---- requests ----------------------------------------------------------------------------------

FIX::Message encode_new_order(const OrderRequest& req, std::int64_t wall_ns) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("D"));
  m.setField(kClOrdID, std::string(req.client_order_id.view()));
  m.setField(kSymbol, std::string(req.symbol.view()));
  m.setField(kSide, std::string(1, fix_side(req.side)));
  m.setField(kTransactTime, utc_timestamp(wall_ns));
  m.setField(kOrderQty, decimal(req.qty.raw));
  m.setField(kOrdType, std::string(1, fix_ord_type(req.type)));
  if (req.type != OrderType::market) m.setField(kPrice, decimal(req.price.raw));
  if (req.type == OrderType::limit_maker) {
    m.setField(kExecInst, "6");
    m.setField(kTimeInForce, "1");
  } else {
    m.setField(kTimeInForce, std::string(1, fix_tif(req.tif)));
  }
  return m;
}

FIX::Message encode_cancel(const CancelRequest& req, Side side, std::int64_t wall_ns) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("F"));
  m.setField(kOrigClOrdID, std::string(req.orig_client_order_id.view()));
  m.setField(kClOrdID, std::string(req.client_order_id.view()));
  if (req.exchange_order_id != 0) m.setField(kOrderID, std::to_string(req.exchange_order_id));
  m.setField(kSymbol, std::string(req.symbol.view()));
  m.setField(kSide, std::string(1, fix_side(side)));
  m.setField(kTransactTime, utc_timestamp(wall_ns));
  return m;
}

FIX::Message encode_status_request(const CancelRequest& req, Side side) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("H"));
  // FIX 4.4 requires ClOrdID in 35=H; a query by exchange id alone sends "NONE" and OrderID 37.
  m.setField(kClOrdID, req.orig_client_order_id.empty() ? std::string("NONE")
                                                        : std::string(req.orig_client_order_id.view()));
  if (req.exchange_order_id != 0) m.setField(kOrderID, std::to_string(req.exchange_order_id));
  if (!req.client_order_id.empty()) m.setField(kOrdStatusReqID, std::string(req.client_order_id.view()));
  m.setField(kSymbol, std::string(req.symbol.view()));
  m.setField(kSide, std::string(1, fix_side(side)));
  return m;
}

DecodeError decode_new_order(const FIX::Message& m, OrderRequest& out) {
  if (auto e = decode_order_fields(m, out); !e.ok()) return e;
  const std::string* t = nullptr;
  if (auto e = required(m, kTransactTime, t); !e.ok()) return e;
  std::int64_t ns = 0;
  if (!parse_utc_timestamp(*t, ns)) return err(kTransactTime, "value '" + t->substr(0, 32) + "' is not UTCTimestamp");
  return {};
}

DecodeError decode_cancel(const FIX::Message& m, CancelRequest& out) {
  out = CancelRequest{};
  if (auto e = client_id_field(m, kClOrdID, out.client_order_id); !e.ok()) return e;
  if (auto e = client_id_field(m, kOrigClOrdID, out.orig_client_order_id); !e.ok()) return e;
  if (auto e = symbol_field(m, out.symbol); !e.ok()) return e;
  return exchange_id_field(m, out.exchange_order_id);
}

DecodeError decode_replace(const FIX::Message& m, ReplaceRequest& out) {
  out = ReplaceRequest{};
  if (auto e = decode_order_fields(m, out.replacement); !e.ok()) return e;
  out.cancel.symbol = out.replacement.symbol;
  out.cancel.client_order_id = out.replacement.client_order_id;
  if (auto e = client_id_field(m, kOrigClOrdID, out.cancel.orig_client_order_id); !e.ok()) return e;
  return exchange_id_field(m, out.cancel.exchange_order_id);
}

DecodeError decode_status_request(const FIX::Message& m, CancelRequest& out) {
  out = CancelRequest{};
  if (auto e = symbol_field(m, out.symbol); !e.ok()) return e;
  if (auto e = exchange_id_field(m, out.exchange_order_id); !e.ok()) return e;
  const std::string* id = field(m, kClOrdID);
  if ((id == nullptr || *id == "NONE") && out.exchange_order_id == 0) {
    return err(kClOrdID, "missing: 35=H needs ClOrdID 11 or OrderID 37");
  }
  if (id != nullptr && *id != "NONE") {
    if (auto e = client_id_field(m, kClOrdID, out.orig_client_order_id); !e.ok()) return e;
  }
  if (const std::string* rid = field(m, kOrdStatusReqID)) (void)out.client_order_id.assign(rid->substr(0, 36));
  return {};
}

// ---- reports -----------------------------------------------------------------------------------

FIX::Message encode_execution_report(const ExecReport& r, std::string_view exec_id, std::string_view text,
                                     std::int64_t wall_ns) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("8"));
  m.setField(kOrderID, r.exchange_order_id ? std::to_string(r.exchange_order_id) : std::string("NONE"));
  m.setField(kClOrdID, r.client_order_id.empty() ? std::string("NONE") : std::string(r.client_order_id.view()));
  if (!r.orig_client_order_id.empty()) m.setField(kOrigClOrdID, std::string(r.orig_client_order_id.view()));
  m.setField(kExecID, std::string(exec_id));
  m.setField(kExecType, std::string(1, fix_exec_type(r.exec_type)));
  m.setField(kOrdStatus, std::string(1, fix_ord_status(r.status)));
  m.setField(kSymbol, std::string(r.symbol.view()));
  m.setField(kSide, std::string(1, fix_side(r.side)));
  m.setField(kOrderQty, decimal(r.qty.raw));
  m.setField(kOrdType, std::string(1, fix_ord_type(r.type)));
  if (r.type != OrderType::market) m.setField(kPrice, decimal(r.price.raw));
  if (r.type == OrderType::limit_maker) m.setField(kExecInst, "6");
  m.setField(kTimeInForce, std::string(1, fix_tif(r.tif)));
  m.setField(kLastQty, decimal(r.exec_type == ExecType::trade ? r.last_qty.raw : 0));
  m.setField(kLastPx, decimal(r.exec_type == ExecType::trade ? r.last_price.raw : 0));
  m.setField(kCumQty, decimal(r.cum_qty.raw));
  const bool open = !is_terminal(r.status) && r.status != OrderStatus::unknown;
  m.setField(kLeavesQty, decimal(open ? (r.qty - r.cum_qty).raw : 0));
  // AvgPx = cum_quote / cum_qty, both 1e-8 fixed point: avg_raw = cum_quote_raw * 1e8 / cum_qty_raw.
  std::int64_t avg = 0;
  if (r.cum_qty.raw > 0) {
    __extension__ using i128 = __int128;
    avg = static_cast<std::int64_t>(static_cast<i128>(r.cum_quote_raw) * kDecimalScale / r.cum_qty.raw);
  }
  m.setField(kAvgPx, decimal(avg));
  if (r.exec_type == ExecType::trade) {
    m.setField(kCommission, decimal(r.commission_raw));
    m.setField(kCommType, "3");  // absolute amount, in the quote asset
    if (r.trade_id != 0) m.setField(kSecondaryExecID, std::to_string(r.trade_id));
    m.setField(kLastLiquidityInd, r.is_maker ? "1" : "2");  // 1 added liquidity (maker), 2 removed
  }
  if (r.exec_type == ExecType::rejected || r.reject != RejectCode::none) {
    int reason = 99;
    if (r.reject == RejectCode::bad_symbol) reason = 1;
    else if (r.reject == RejectCode::no_such_order || r.reject == RejectCode::cancel_rejected) reason = 5;
    else if (r.reject == RejectCode::invalid_client_order_id) reason = 6;
    if (r.exec_type == ExecType::rejected) m.setField(kOrdRejReason, std::to_string(reason));
  }
  if (!text.empty()) m.setField(kText, std::string(text));
  m.setField(kTransactTime, utc_timestamp(r.transact_ns > 0 ? r.transact_ns : wall_ns));
  return m;
}

FIX::Message encode_cancel_reject(std::string_view cancel_id, std::string_view orig_id,
                                  std::uint64_t exchange_order_id, OrderStatus order_status, int reason,
                                  bool replace, std::string_view text) {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("9"));
  m.setField(kOrderID, exchange_order_id ? std::to_string(exchange_order_id) : std::string("NONE"));
  m.setField(kClOrdID, cancel_id.empty() ? std::string("NONE") : std::string(cancel_id));
  m.setField(kOrigClOrdID, orig_id.empty() ? std::string("NONE") : std::string(orig_id));
  m.setField(kOrdStatus, std::string(1, fix_ord_status(order_status)));
  m.setField(kCxlRejResponseTo, replace ? "2" : "1");
  m.setField(kCxlRejReason, std::to_string(reason));
  if (!text.empty()) m.setField(kText, std::string(text));
  return m;
}

RejectCode reject_code_from_text(std::string_view text) noexcept {
  if (text.substr(0, 5) != "code=") return RejectCode::unknown;
  text.remove_prefix(5);
  int v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc()) return RejectCode::unknown;
  return static_cast<RejectCode>(v);
}

DecodeError decode_execution_report(const FIX::Message& m, ExecReport& out) {
  out = ExecReport{};
  char c = 0;
  if (auto e = char_field(m, kExecType, c); !e.ok()) return e;
  if (!exec_type_from_fix(c, out.exec_type)) return err(kExecType, std::string("value '") + c + "' not supported");
  if (auto e = char_field(m, kOrdStatus, c); !e.ok()) return e;
  if (!ord_status_from_fix(c, out.status)) return err(kOrdStatus, std::string("value '") + c + "' not supported");
  if (auto e = symbol_field(m, out.symbol); !e.ok()) return e;
  if (auto e = side_field(m, out.side); !e.ok()) return e;
  if (auto e = exchange_id_field(m, out.exchange_order_id); !e.ok()) return e;
  if (const std::string* id = field(m, kClOrdID); id != nullptr && *id != "NONE") {
    if (auto e = client_id_field(m, kClOrdID, out.client_order_id); !e.ok()) return e;
  }
  if (const std::string* id = field(m, kOrigClOrdID); id != nullptr && *id != "NONE") {
    if (auto e = client_id_field(m, kOrigClOrdID, out.orig_client_order_id); !e.ok()) return e;
  }
  if (m.isSetField(kOrderQty)) {
    if (auto e = decimal_field(m, kOrderQty, false, out.qty); !e.ok()) return e;
  }
  if (auto e = decimal_field(m, kCumQty, false, out.cum_qty); !e.ok()) return e;
  Price avg;
  if (auto e = decimal_field(m, kAvgPx, false, avg); !e.ok()) return e;
  {
    __extension__ using i128 = __int128;
    out.cum_quote_raw = static_cast<std::int64_t>(static_cast<i128>(avg.raw) * out.cum_qty.raw / kDecimalScale);
  }
  if (const std::string* v = field(m, kOrdType)) {
    out.type = (*v == "1") ? OrderType::market : OrderType::limit;
  }
  if (const std::string* v = field(m, kExecInst); v != nullptr && v->find('6') != std::string::npos) {
    out.type = OrderType::limit_maker;
  }
  if (const std::string* v = field(m, kTimeInForce)) {
    out.tif = (*v == "3") ? TimeInForce::ioc : (*v == "4") ? TimeInForce::fok : TimeInForce::gtc;
  }
  if (m.isSetField(kPrice)) {
    if (auto e = decimal_field(m, kPrice, false, out.price); !e.ok()) return e;
  }
  if (out.exec_type == ExecType::trade) {
    if (auto e = decimal_field(m, kLastQty, true, out.last_qty); !e.ok()) return e;
    if (auto e = decimal_field(m, kLastPx, true, out.last_price); !e.ok()) return e;
    if (const std::string* v = field(m, kSecondaryExecID)) {
      if (!parse_u64(*v, out.trade_id)) return err(kSecondaryExecID, "value '" + v->substr(0, 32) + "' is not a trade id");
    }
    if (const std::string* v = field(m, kCommission)) {
      Price fee;
      if (Price::parse(*v, fee) != DecimalError::ok) return err(kCommission, "value '" + *v + "' is not a decimal");
      out.commission_raw = fee.raw;
    }
    if (const std::string* v = field(m, kLastLiquidityInd)) out.is_maker = (*v == "1");
  }
  if (const std::string* v = field(m, kTransactTime)) {
    std::int64_t ns = 0;
    if (parse_utc_timestamp(*v, ns)) out.transact_ns = ns;
  }
  if (out.exec_type == ExecType::rejected || out.status == OrderStatus::rejected) {
    const RejectCode code = reject_code_from_text(text_of(m));
    if (code != RejectCode::unknown) out.reject = code;
    else out.reject = RejectCode::new_order_rejected;
    if (out.exec_type == ExecType::status && out.reject == RejectCode::new_order_rejected) {
      // A status answer for an order the exchange does not know.
      if (const std::string* r = field(m, kOrdRejReason); r != nullptr && *r == "5") out.reject = RejectCode::no_such_order;
    }
  }
  return {};
}

DecodeError decode_cancel_reject(const FIX::Message& m, ExecReport& out) {
  out = ExecReport{};
  out.exec_type = ExecType::rejected;
  if (const std::string* id = field(m, kClOrdID); id != nullptr && *id != "NONE") {
    if (auto e = client_id_field(m, kClOrdID, out.client_order_id); !e.ok()) return e;
  }
  if (auto e = client_id_field(m, kOrigClOrdID, out.orig_client_order_id); !e.ok()) return e;
  if (auto e = exchange_id_field(m, out.exchange_order_id); !e.ok()) return e;
  char c = 0;
  if (auto e = char_field(m, kOrdStatus, c); !e.ok()) return e;
  if (!ord_status_from_fix(c, out.status)) return err(kOrdStatus, std::string("value '") + c + "' not supported");
  const std::string* reason = field(m, kCxlRejReason);
  const RejectCode code = reject_code_from_text(text_of(m));
  if (code != RejectCode::unknown) out.reject = code;
  else out.reject = (reason != nullptr && *reason == "1") ? RejectCode::no_such_order : RejectCode::cancel_rejected;
  if (m.isSetField(kSymbol)) {
    if (auto e = symbol_field(m, out.symbol); !e.ok()) return e;
  }
  return {};
}

}  // namespace tickrt::fix
