// venue/api.cpp — REST endpoints, the WebSocket API and the user data stream, in Binance's JSON.
// Every request runs to completion on the IO thread: weight -> auth -> params -> engine -> JSON.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <random>

#include "venue/impl.hpp"

namespace tickrt::venue {

namespace {

using exec::OrderStatus;
using exec::OrderType;
using exec::Side;
using exec::StpMode;
using exec::TimeInForce;

ApiResponse err(int http_status, int code, std::string_view msg) {
  ApiResponse r;
  r.status = http_status;
  r.body = error_body(code, msg);
  return r;
}
ApiResponse ok_body(std::string body) {
  ApiResponse r;
  r.body = std::move(body);
  return r;
}
std::string missing_msg(std::string_view p) {
  return "Mandatory parameter '" + std::string(p) + "' was not sent, was empty/null, or malformed.";
}
std::string dec(std::int64_t raw) { return format_decimal(raw, 8); }
std::int64_t ns_to_ms(std::int64_t ns) { return ns / 1'000'000; }

std::string_view stp_name(StpMode m) {
  switch (m) {
    case StpMode::none: return "NONE";
    case StpMode::expire_taker: return "EXPIRE_TAKER";
    case StpMode::expire_maker: return "EXPIRE_MAKER";
    case StpMode::expire_both: return "EXPIRE_BOTH";
  }
  return "NONE";
}

// Binance request weights (REQUEST_WEIGHT, per minute per IP) of the endpoints served.
std::uint32_t rest_weight(const std::string& method, const std::string& path, const Params& p) {
  if (path == "/api/v3/depth") {
    long limit = 100;
    if (auto l = p.get("limit")) limit = std::strtol(std::string(*l).c_str(), nullptr, 10);  // clamps on overflow
    if (limit <= 100) return 5;
    if (limit <= 500) return 25;
    if (limit <= 1000) return 50;
    return 250;
  }
  if (path == "/api/v3/exchangeInfo") return 20;
  if (path == "/api/v3/account" || path == "/api/v3/myTrades") return 20;
  if (path == "/api/v3/order" && method == "GET") return 4;
  if (path == "/api/v3/openOrders" && method == "GET") return p.has("symbol") ? 6 : 80;
  if (path == "/api/v3/userDataStream") return 2;
  return 1;
}

std::uint32_t ws_weight(const std::string& method, const Params& p) {
  if (method == "order.status") return 4;
  if (method == "openOrders.status") return p.has("symbol") ? 6 : 80;
  if (method == "account.status") return 20;
  if (method == "exchangeInfo") return 20;
  if (method == "depth") {
    long limit = 100;
    if (auto l = p.get("limit")) limit = std::strtol(std::string(*l).c_str(), nullptr, 10);  // clamps on overflow
    return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
  }
  return 1;
}

}  // namespace

// -------------------------------------------------------------------------------------------------
// The API proper: one class of free-standing handlers over the Impl (keeps impl.hpp small).
struct Api {
  VenueServer::Impl& s;

  // ---- checks ----
  // Adds the request's weight to the IP's minute; false (and a 429 in out) when over the limit.
  bool charge(const std::string& ip, std::uint32_t w, ApiResponse& out) {
    const std::int64_t now = s.now_ms();
    const std::int64_t minute = now / 60000;
    auto& wt = s.weights[ip];
    if (wt.minute != minute) {
      wt.minute = minute;
      wt.used = 0;
    }
    wt.used += w;
    out.used_weight = wt.used;
    const bool fault = s.engine.faults().throttle > 0.0 && s.engine.should_throttle();
    if (wt.used > s.cfg.weight_limit_1m || fault) {
      ++s.counters.throttled;
      const std::uint32_t used = wt.used;
      out = err(429, -1003,
                "Too much request weight used; current limit is " + std::to_string(s.cfg.weight_limit_1m) +
                    " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
                    "the API.");
      out.used_weight = used;
      out.retry_after_s = static_cast<int>((60000 - now % 60000 + 999) / 1000);
      return false;
    }
    return true;
  }

  const ApiKey* find_key(std::string_view k) const {
    for (const ApiKey& a : s.cfg.keys)
      if (a.key == k) return &a;
    return nullptr;
  }

  // X-MBX-APIKEY only (userDataStream).
  bool check_key(const ApiRequest& req, ApiResponse& out, const ApiKey*& key) {
    if (!req.api_key || req.api_key->empty()) {
      out = err(401, -2014, "API-key format invalid.");
      return false;
    }
    key = find_key(*req.api_key);
    if (!key) {
      out = err(401, -2015, "Invalid API-key, IP, or permissions for action.");
      return false;
    }
    return true;
  }

  // SIGNED endpoints: key, signature, timestamp within recvWindow.
  bool check_signed(const ApiRequest& req, ApiResponse& out, std::uint32_t& account) {
    const ApiKey* key = nullptr;
    if (!check_key(req, out, key)) return false;
    const auto sig = req.params.get("signature");
    if (!sig || sig->empty()) {
      out = err(400, -1102, missing_msg("signature"));
      return false;
    }
    const auto ts = req.params.get("timestamp");
    if (!ts || ts->empty()) {
      out = err(400, -1102, missing_msg("timestamp"));
      return false;
    }
    if (!signature_equal(*sig, hmac_sha256_hex(key->secret, req.signed_payload))) {
      out = err(400, -1022, "Signature for this request is not valid.");
      return false;
    }
    std::int64_t t = 0, rw = 5000;
    if (!parse_int(*ts, t)) {
      out = err(400, -1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.");
      return false;
    }
    if (auto w = req.params.get("recvWindow")) {
      std::int64_t raw = 0;
      // recvWindow may carry up to three decimals (microseconds) since 2025; whole ms here.
      if (parse_decimal(*w, raw) != DecimalError::ok || raw < 0) {
        out = err(400, -1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.");
        return false;
      }
      rw = raw / kDecimalScale;
      if (rw > 60000) {
        out = err(400, -1131, "recvWindow must be less than 60000");
        return false;
      }
    }
    const std::int64_t now = s.now_ms();
    if (t >= now + 1000) {
      out = err(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
      return false;
    }
    if (now - t > rw) {
      out = err(400, -1021, "Timestamp for this request is outside of the recvWindow.");
      return false;
    }
    account = key->account;
    return true;
  }

  static bool parse_int(std::string_view v, std::int64_t& out) {
    if (v.empty() || v.size() > 19) return false;
    std::uint64_t x = 0;  // 19 digits fit in uint64; the int64 range is checked below
    for (char c : v) {
      if (c < '0' || c > '9') return false;
      x = x * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (x > static_cast<std::uint64_t>(INT64_MAX)) return false;
    out = static_cast<std::int64_t>(x);
    return true;
  }

  // symbol -> engine index; -1102 when absent, -1121 when unknown.
  bool symbol(const Params& p, sim::SymbolIndex& idx, exec::SymbolName& name, ApiResponse& out) {
    const auto v = p.get("symbol");
    if (!v || v->empty()) {
      out = err(400, -1102, missing_msg("symbol"));
      return false;
    }
    std::string up(*v);
    for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    idx = s.engine.find_symbol(up);
    if (idx == sim::kNoSymbolIndex || up.size() > exec::SymbolName::capacity()) {
      out = err(400, -1121, "Invalid symbol.");
      return false;
    }
    name = exec::SymbolName::from(up);
    return true;
  }

  template <class F>
  bool decimal_param(const Params& p, std::string_view name, F& out, ApiResponse& r) {
    const auto v = p.get(name);
    if (!v || v->empty()) {
      r = err(400, -1102, missing_msg(name));
      return false;
    }
    const DecimalError e = F::parse(*v, out);
    if (e == DecimalError::too_precise) {
      r = err(400, -1111, "Precision is over the maximum defined for this asset.");
      return false;
    }
    if (e != DecimalError::ok || out.raw < 0) {
      r = err(400, -1100, "Illegal characters found in parameter '" + std::string(name) +
                              "'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.");
      return false;
    }
    return true;
  }

  std::string new_client_id() {
    // Binance makes a random 22-character id when the client sends none.
    static constexpr char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string id(22, 'x');
    for (char& c : id) c = kAlpha[rng() % 62];
    return id;
  }
  std::mt19937_64 rng{0x7e11e7};

  // ---- order parameters -> OrderRequest ----
  enum class RespType { ack, result, full };
  bool order_params(const Params& p, exec::OrderRequest& o, RespType& rt, ApiResponse& r, std::string_view prefix = "") {
    auto P = [&](std::string_view n) { return std::string(prefix) + std::string(n); };
    sim::SymbolIndex idx;
    if (!symbol(p, idx, o.symbol, r)) return false;
    const auto side = p.get(P("side"));
    if (!side || side->empty()) { r = err(400, -1102, missing_msg(P("side"))); return false; }
    if (*side == "BUY") o.side = Side::buy;
    else if (*side == "SELL") o.side = Side::sell;
    else { r = err(400, -1100, "Illegal characters found in parameter 'side'; legal range is 'BUY, SELL'."); return false; }
    const auto type = p.get(P("type"));
    if (!type || type->empty()) { r = err(400, -1102, missing_msg(P("type"))); return false; }
    if (*type == "LIMIT") o.type = OrderType::limit;
    else if (*type == "MARKET") o.type = OrderType::market;
    else if (*type == "LIMIT_MAKER") o.type = OrderType::limit_maker;
    else if (*type == "STOP_LOSS" || *type == "STOP_LOSS_LIMIT" || *type == "TAKE_PROFIT" || *type == "TAKE_PROFIT_LIMIT") {
      r = err(400, -1014, "Unsupported order combination.");
      return false;
    } else { r = err(400, -1116, "Invalid orderType."); return false; }
    const auto tif = p.get(P("timeInForce"));
    if (o.type == OrderType::limit) {
      if (!tif || tif->empty()) { r = err(400, -1102, missing_msg(P("timeInForce"))); return false; }
      if (*tif == "GTC") o.tif = TimeInForce::gtc;
      else if (*tif == "IOC") o.tif = TimeInForce::ioc;
      else if (*tif == "FOK") o.tif = TimeInForce::fok;
      else { r = err(400, -1115, "Invalid timeInForce."); return false; }
    } else if (tif && o.type == OrderType::limit_maker) {
      r = err(400, -1106, "Parameter 'timeInForce' sent when not required.");
      return false;
    } else {
      o.tif = TimeInForce::gtc;
      if (tif && o.type == OrderType::market) {
        if (*tif == "IOC") o.tif = TimeInForce::ioc;
        else if (*tif == "FOK") o.tif = TimeInForce::fok;
      }
    }
    if (p.has(P("quoteOrderQty"))) { r = err(400, -1014, "Unsupported order combination."); return false; }
    if (!decimal_param(p, P("quantity"), o.qty, r)) return false;
    if (o.type == OrderType::market) {
      if (p.has(P("price"))) { r = err(400, -1106, "Parameter 'price' sent when not required."); return false; }
    } else if (!decimal_param(p, P("price"), o.price, r)) {
      return false;
    }
    std::string cid;
    if (auto c = p.get(P("newClientOrderId")); c && !c->empty()) {
      if (!exec::valid_client_order_id(*c)) {
        r = err(400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                            "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.");
        return false;
      }
      cid = std::string(*c);
    } else {
      cid = new_client_id();
    }
    (void)o.client_order_id.assign(cid);
    o.stp = StpMode::expire_maker;  // Binance's default selfTradePreventionMode
    if (auto m = p.get(P("selfTradePreventionMode"))) {
      if (*m == "NONE") o.stp = StpMode::none;
      else if (*m == "EXPIRE_TAKER") o.stp = StpMode::expire_taker;
      else if (*m == "EXPIRE_MAKER") o.stp = StpMode::expire_maker;
      else if (*m == "EXPIRE_BOTH") o.stp = StpMode::expire_both;
      else { r = err(400, -1100, "Illegal characters found in parameter 'selfTradePreventionMode'."); return false; }
    }
    rt = (o.type == OrderType::limit_maker) ? RespType::ack : RespType::full;
    if (auto t = p.get(P("newOrderRespType"))) {
      if (*t == "ACK") rt = RespType::ack;
      else if (*t == "RESULT") rt = RespType::result;
      else if (*t == "FULL") rt = RespType::full;
      else { r = err(400, -1100, "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT, FULL'."); return false; }
    }
    return true;
  }

  // ---- JSON of orders ----
  std::string quote_asset(const exec::SymbolName& sym) {
    const sim::SymbolIndex i = s.engine.find_symbol(sym.view());
    return i == sim::kNoSymbolIndex ? std::string("USDT") : std::string(s.engine.spec(i).quote.view());
  }

  static bool working(OrderStatus st) { return st == OrderStatus::new_ || st == OrderStatus::partially_filled; }

  // GET /api/v3/order shape.
  std::string order_json(const sim::OrderState& o) {
    return JsonObj()
        .str("symbol", o.symbol.view())
        .unum("orderId", o.exchange_order_id)
        .num("orderListId", -1)
        .str("clientOrderId", o.client_order_id.view())
        .str("price", dec(o.price.raw))
        .str("origQty", dec(o.qty.raw))
        .str("executedQty", dec(o.cum_qty.raw))
        .str("cummulativeQuoteQty", dec(o.cum_quote_raw))
        .str("status", exec::order_status_name(o.status))
        .str("timeInForce", exec::tif_name(o.tif))
        .str("type", exec::order_type_name(o.type))
        .str("side", exec::side_name(o.side))
        .str("stopPrice", "0.00000000")
        .str("icebergQty", "0.00000000")
        .num("time", ns_to_ms(o.created_ns))
        .num("updateTime", ns_to_ms(o.updated_ns))
        .boolean("isWorking", working(o.status))
        .num("workingTime", ns_to_ms(o.created_ns))
        .str("origQuoteOrderQty", "0.00000000")
        .str("selfTradePreventionMode", stp_name(o.stp))
        .done();
  }

  // DELETE /api/v3/order shape.
  std::string cancel_json(const sim::OrderState& o, std::string_view cancel_cid) {
    return JsonObj()
        .str("symbol", o.symbol.view())
        .str("origClientOrderId", o.client_order_id.view())
        .unum("orderId", o.exchange_order_id)
        .num("orderListId", -1)
        .str("clientOrderId", cancel_cid)
        .num("transactTime", ns_to_ms(s.call_now_ns))
        .str("price", dec(o.price.raw))
        .str("origQty", dec(o.qty.raw))
        .str("executedQty", dec(o.cum_qty.raw))
        .str("cummulativeQuoteQty", dec(o.cum_quote_raw))
        .str("status", exec::order_status_name(o.status))
        .str("timeInForce", exec::tif_name(o.tif))
        .str("type", exec::order_type_name(o.type))
        .str("side", exec::side_name(o.side))
        .str("selfTradePreventionMode", stp_name(o.stp))
        .done();
  }

  // POST /api/v3/order answer (ACK / RESULT / FULL), from the submit result and the reports the
  // engine produced during the call.
  std::string new_order_json(const exec::OrderRequest& o, const sim::SubmitResult& res, RespType rt) {
    const std::int64_t t = ns_to_ms(s.call_now_ns);
    JsonObj j;
    j.str("symbol", o.symbol.view())
        .unum("orderId", res.exchange_order_id)
        .num("orderListId", -1)
        .str("clientOrderId", o.client_order_id.view())
        .num("transactTime", t);
    if (rt == RespType::ack) return j.done();
    j.str("price", dec(o.type == OrderType::market ? 0 : o.price.raw))
        .str("origQty", dec(o.qty.raw))
        .str("executedQty", dec(res.executed.raw))
        .str("origQuoteOrderQty", "0.00000000")
        .str("cummulativeQuoteQty", dec(res.cum_quote_raw))
        .str("status", exec::order_status_name(res.status))
        .str("timeInForce", exec::tif_name(o.tif))
        .str("type", exec::order_type_name(o.type))
        .str("side", exec::side_name(o.side))
        .num("workingTime", t);
    if (rt == RespType::full) {
      std::string fills = "[";
      const std::string qa = quote_asset(o.symbol);
      for (const exec::ExecReport& r : s.call_reports) {
        if (r.exec_type != exec::ExecType::trade || r.exchange_order_id != res.exchange_order_id) continue;
        if (fills.size() > 1) fills.push_back(',');
        fills += JsonObj()
                     .str("price", dec(r.last_price.raw))
                     .str("qty", dec(r.last_qty.raw))
                     .str("commission", dec(r.commission_raw))
                     .str("commissionAsset", qa)
                     .unum("tradeId", r.trade_id)
                     .done();
      }
      fills.push_back(']');
      j.raw("fills", fills);
    }
    j.str("selfTradePreventionMode", stp_name(o.stp));
    return j.done();
  }

  // Runs an engine call with report capture around it; positions are flushed after.
  template <class F>
  void engine_call(F&& f) {
    s.call_now_ns = s.now_ns();
    s.call_reports.clear();
    s.capturing = true;
    s.touched_accounts.clear();
    s.touched_delay_ms = 0;
    f(s.call_now_ns);
    s.capturing = false;
    s.flush_account_positions(s.touched_delay_ms);
  }

  std::int64_t delay_of(std::int64_t deliver_ns) const {
    const std::int64_t d = deliver_ns - s.call_now_ns;
    return d > 0 ? (d + 999'999) / 1'000'000 : 0;
  }

  // ---- endpoints shared by REST and the WS API ----
  ApiResponse place(const Params& p, std::uint32_t account, bool test_only) {
    ApiResponse r;
    exec::OrderRequest o;
    RespType rt;
    if (!order_params(p, o, rt, r)) return r;
    if (test_only) return ok_body("{}");
    ++s.counters.orders;
    sim::SubmitResult res;
    engine_call([&](std::int64_t now) {
      o.created_ns = now;
      res = s.engine.submit(account, o, now);
    });
    if (res.ack_lost) {
      r.drop = true;
      return r;
    }
    if (!res.ok()) {
      r = err(400, static_cast<int>(sim::reject_code(res.reason)), sim::reject_message(res.reason));
    } else {
      r.body = new_order_json(o, res, rt);
    }
    r.delay_ms = delay_of(res.deliver_ns);
    return r;
  }

  bool order_ref(const Params& p, exec::CancelRequest& c, ApiResponse& r, std::string_view id_name = "orderId",
                 std::string_view cid_name = "origClientOrderId") {
    const auto oid = p.get(id_name);
    const auto ocid = p.get(cid_name);
    if ((!oid || oid->empty()) && (!ocid || ocid->empty())) {
      r = err(400, -1102, "Param '" + std::string(cid_name) + "' or '" + std::string(id_name) +
                              "' must be sent, but both were empty/null!");
      return false;
    }
    if (oid && !oid->empty()) {
      std::int64_t v = 0;
      if (!parse_int(*oid, v)) {
        r = err(400, -1100, "Illegal characters found in parameter '" + std::string(id_name) +
                                "'; legal range is '^[0-9]{1,20}$'.");
        return false;
      }
      c.exchange_order_id = static_cast<std::uint64_t>(v);
    }
    if (ocid && !ocid->empty()) (void)c.orig_client_order_id.assign(ocid->substr(0, 36));
    return true;
  }

  ApiResponse cancel(const Params& p, std::uint32_t account) {
    ApiResponse r;
    exec::CancelRequest c;
    sim::SymbolIndex idx;
    if (!symbol(p, idx, c.symbol, r)) return r;
    if (!order_ref(p, c, r)) return r;
    std::string cid;
    if (auto n = p.get("newClientOrderId"); n && !n->empty()) cid = std::string(*n);
    else cid = new_client_id();
    (void)c.client_order_id.assign(cid.substr(0, 36));
    sim::CancelResult res;
    engine_call([&](std::int64_t now) { res = s.engine.cancel(account, c, now); });
    if (!res.ok()) return err(400, -2011, "Unknown order sent.");
    r.body = cancel_json(res.order, cid);
    r.delay_ms = delay_of(res.deliver_ns);
    return r;
  }

  ApiResponse query(const Params& p, std::uint32_t account) {
    ApiResponse r;
    exec::CancelRequest c;
    sim::SymbolIndex idx;
    if (!symbol(p, idx, c.symbol, r)) return r;
    if (!order_ref(p, c, r)) return r;
    std::optional<sim::OrderState> o;
    if (c.exchange_order_id != 0) {
      o = s.engine.query(account, c.symbol, c.exchange_order_id);
      if (o && !c.orig_client_order_id.empty() && !(o->client_order_id == c.orig_client_order_id)) o.reset();
    } else {
      o = s.engine.query(account, c.symbol, c.orig_client_order_id);
    }
    if (!o) return err(400, -2013, "Order does not exist.");
    return ok_body(order_json(*o));
  }

  ApiResponse open_orders(const Params& p, std::uint32_t account) {
    ApiResponse r;
    std::vector<sim::OrderState> v;
    if (p.has("symbol")) {
      sim::SymbolIndex idx;
      exec::SymbolName name;
      if (!symbol(p, idx, name, r)) return r;
      s.engine.open_orders(account, &name, v);
    } else {
      s.engine.open_orders(account, nullptr, v);
    }
    std::string body = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) body.push_back(',');
      body += order_json(v[i]);
    }
    body.push_back(']');
    return ok_body(std::move(body));
  }

  ApiResponse cancel_all(const Params& p, std::uint32_t account) {
    ApiResponse r;
    sim::SymbolIndex idx;
    exec::SymbolName name;
    if (!symbol(p, idx, name, r)) return r;
    std::vector<sim::OrderState> canceled;
    exec::RejectCode code = exec::RejectCode::none;
    engine_call([&](std::int64_t now) { code = s.engine.cancel_all(account, name, now, &canceled); });
    if (code != exec::RejectCode::none) return err(400, static_cast<int>(code), "Invalid symbol.");
    if (canceled.empty()) return err(400, -2011, "Unknown order sent.");  // Binance: nothing to cancel
    std::string body = "[";
    for (std::size_t i = 0; i < canceled.size(); ++i) {
      if (i) body.push_back(',');
      body += cancel_json(canceled[i], new_client_id());
    }
    body.push_back(']');
    return ok_body(std::move(body));
  }

  ApiResponse cancel_replace(const Params& p, std::uint32_t account) {
    ApiResponse r;
    const auto mode = p.get("cancelReplaceMode");
    if (!mode || mode->empty()) return err(400, -1102, missing_msg("cancelReplaceMode"));
    if (*mode != "STOP_ON_FAILURE" && *mode != "ALLOW_FAILURE")
      return err(400, -1100, "Illegal characters found in parameter 'cancelReplaceMode'; legal range is "
                             "'STOP_ON_FAILURE, ALLOW_FAILURE'.");
    exec::ReplaceRequest rq;
    RespType rt;
    if (!order_params(p, rq.replacement, rt, r)) return r;
    rq.cancel.symbol = rq.replacement.symbol;
    if (!order_ref(p, rq.cancel, r, "cancelOrderId", "cancelOrigClientOrderId")) return r;
    std::string ccid;
    if (auto n = p.get("cancelNewClientOrderId"); n && !n->empty()) ccid = std::string(*n);
    else ccid = new_client_id();
    (void)rq.cancel.client_order_id.assign(ccid.substr(0, 36));
    ++s.counters.orders;
    sim::ReplaceResult res;
    if (*mode == "ALLOW_FAILURE") {
      // ALLOW_FAILURE: the new order goes in whether or not the cancel worked.
      engine_call([&](std::int64_t now) {
        res.cancel = s.engine.cancel(account, rq.cancel, now);
        rq.replacement.created_ns = now;
        res.replacement = s.engine.submit(account, rq.replacement, now);
        res.placed = true;
      });
    } else {
      engine_call([&](std::int64_t now) {
        rq.replacement.created_ns = now;
        res = s.engine.cancel_replace(account, rq, now);
      });
    }
    if (res.placed && res.replacement.ack_lost) {
      r.drop = true;
      return r;
    }
    const std::string cancel_part =
        res.cancel.ok() ? cancel_json(res.cancel.order, ccid) : error_body(-2011, "Unknown order sent.");
    std::string new_part = "null";
    if (res.placed) {
      new_part = res.replacement.ok()
                     ? new_order_json(rq.replacement, res.replacement, rt)
                     : error_body(static_cast<int>(sim::reject_code(res.replacement.reason)),
                                  sim::reject_message(res.replacement.reason));
    }
    const char* cres = res.cancel.ok() ? "SUCCESS" : "FAILURE";
    const char* nres = !res.placed ? "NOT_ATTEMPTED" : res.replacement.ok() ? "SUCCESS" : "FAILURE";
    const std::string data = JsonObj()
                                 .str("cancelResult", cres)
                                 .str("newOrderResult", nres)
                                 .raw("cancelResponse", cancel_part)
                                 .raw("newOrderResponse", new_part)
                                 .done();
    if (res.cancel.ok() && res.placed && res.replacement.ok()) {
      r.body = data;
    } else {
      const bool both = !res.cancel.ok() && (!res.placed || !res.replacement.ok());
      const bool partial = !both;
      r.status = 400;
      r.body = JsonObj()
                   .num("code", partial ? -2021 : -2022)
                   .str("msg", partial ? "Order cancel-replace partially failed." : "Order cancel-replace failed.")
                   .raw("data", data)
                   .done();
    }
    r.delay_ms = delay_of(std::max(res.cancel.deliver_ns, res.replacement.deliver_ns));
    return r;
  }

  ApiResponse account_info(std::uint32_t account) {
    const auto bals = s.engine.balances(account);
    std::string b = "[";
    for (std::size_t i = 0; i < bals.size(); ++i) {
      if (i) b.push_back(',');
      b += JsonObj()
               .str("asset", bals[i].first.view())
               .str("free", dec(bals[i].second.free_raw))
               .str("locked", dec(bals[i].second.locked_raw))
               .done();
    }
    b.push_back(']');
    const sim::SimConfig& sc = s.engine.config();
    const auto bp = [](double bps) { return static_cast<std::int64_t>(bps); };
    const auto rate = [](double bps) { return format_decimal(static_cast<std::int64_t>(bps * 1e4), 8); };
    const std::string rates = JsonObj()
                                  .str("maker", rate(sc.maker_fee_bps))
                                  .str("taker", rate(sc.taker_fee_bps))
                                  .str("buyer", "0.00000000")
                                  .str("seller", "0.00000000")
                                  .done();
    return ok_body(JsonObj()
                       .num("makerCommission", bp(sc.maker_fee_bps))
                       .num("takerCommission", bp(sc.taker_fee_bps))
                       .num("buyerCommission", 0)
                       .num("sellerCommission", 0)
                       .raw("commissionRates", rates)
                       .boolean("canTrade", true)
                       .boolean("canWithdraw", false)
                       .boolean("canDeposit", false)
                       .boolean("brokered", false)
                       .boolean("requireSelfTradePrevention", false)
                       .boolean("preventSor", false)
                       .num("updateTime", s.now_ms())
                       .str("accountType", "SPOT")
                       .raw("balances", b)
                       .raw("permissions", "[\"SPOT\"]")
                       .num("uid", account)
                       .done());
  }

  ApiResponse my_trades(const Params& p, std::uint32_t account) {
    ApiResponse r;
    sim::SymbolIndex idx;
    exec::SymbolName name;
    if (!symbol(p, idx, name, r)) return r;
    std::int64_t limit = 500, order_id = -1, from_id = -1;
    if (auto l = p.get("limit")) {
      if (!parse_int(*l, limit) || limit < 1) return err(400, -1100, "Illegal characters found in parameter 'limit'.");
      limit = std::min<std::int64_t>(limit, 1000);
    }
    if (auto o = p.get("orderId"); o && !parse_int(*o, order_id))
      return err(400, -1100, "Illegal characters found in parameter 'orderId'.");
    if (auto f = p.get("fromId"); f && !parse_int(*f, from_id))
      return err(400, -1100, "Illegal characters found in parameter 'fromId'.");
    const std::string qa = quote_asset(name);
    std::vector<const sim::Fill*> sel;
    for (const sim::Fill& f : s.engine.fills()) {
      if (f.account != account || !(f.symbol == name)) continue;
      if (order_id >= 0 && f.exchange_order_id != static_cast<std::uint64_t>(order_id)) continue;
      if (from_id >= 0 && f.trade_id < static_cast<std::uint64_t>(from_id)) continue;
      sel.push_back(&f);
    }
    // Binance returns the most recent `limit` trades (oldest first) unless fromId is given.
    std::size_t first = 0;
    if (from_id < 0 && sel.size() > static_cast<std::size_t>(limit)) first = sel.size() - static_cast<std::size_t>(limit);
    std::string body = "[";
    for (std::size_t i = first, n = 0; i < sel.size() && n < static_cast<std::size_t>(limit); ++i, ++n) {
      const sim::Fill& f = *sel[i];
      if (body.size() > 1) body.push_back(',');
      body += JsonObj()
                  .str("symbol", f.symbol.view())
                  .unum("id", f.trade_id)
                  .unum("orderId", f.exchange_order_id)
                  .num("orderListId", -1)
                  .str("price", dec(f.price.raw))
                  .str("qty", dec(f.qty.raw))
                  .str("quoteQty", dec(f.quote_raw))
                  .str("commission", dec(f.commission_raw))
                  .str("commissionAsset", qa)
                  .num("time", ns_to_ms(f.transact_ns))
                  .boolean("isBuyer", f.side == Side::buy)
                  .boolean("isMaker", f.is_maker)
                  .boolean("isBestMatch", true)
                  .done();
    }
    body.push_back(']');
    return ok_body(std::move(body));
  }

  ApiResponse exchange_info(const Params& p) {
    std::vector<sim::SymbolIndex> want;
    if (auto sym = p.get("symbol")) {
      ApiResponse r;
      sim::SymbolIndex idx;
      exec::SymbolName n;
      if (!symbol(p, idx, n, r)) return r;
      want.push_back(idx);
    } else {
      for (std::size_t i = 0; i < s.engine.symbol_count(); ++i) want.push_back(static_cast<sim::SymbolIndex>(i));
    }
    std::string syms = "[";
    for (sim::SymbolIndex i : want) {
      const sim::SymbolSpec& sp = s.engine.spec(i);
      std::string filters = "[";
      filters += JsonObj()
                     .str("filterType", "PRICE_FILTER")
                     .str("minPrice", dec(sp.tick_size.raw))
                     .str("maxPrice", dec(Price::from_int(1'000'000).raw))
                     .str("tickSize", dec(sp.tick_size.raw))
                     .done();
      filters += ",";
      filters += JsonObj()
                     .str("filterType", "LOT_SIZE")
                     .str("minQty", dec(sp.min_qty.raw))
                     .str("maxQty", dec(sp.max_qty.raw))
                     .str("stepSize", dec(sp.step_size.raw))
                     .done();
      filters += ",";
      filters += JsonObj()
                     .str("filterType", "NOTIONAL")
                     .str("minNotional", dec(sp.min_notional_raw))
                     .boolean("applyMinToMarket", true)
                     .str("maxNotional", "9000000.00000000")
                     .boolean("applyMaxToMarket", false)
                     .num("avgPriceMins", 5)
                     .done();
      filters += "]";
      if (syms.size() > 1) syms.push_back(',');
      syms += JsonObj()
                  .str("symbol", sp.name.view())
                  .str("status", "TRADING")
                  .str("baseAsset", sp.base.view())
                  .num("baseAssetPrecision", 8)
                  .str("quoteAsset", sp.quote.view())
                  .num("quotePrecision", 8)
                  .num("quoteAssetPrecision", 8)
                  .num("baseCommissionPrecision", 8)
                  .num("quoteCommissionPrecision", 8)
                  .raw("orderTypes", "[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\"]")
                  .boolean("icebergAllowed", false)
                  .boolean("ocoAllowed", false)
                  .boolean("otoAllowed", false)
                  .boolean("quoteOrderQtyMarketAllowed", false)
                  .boolean("allowTrailingStop", false)
                  .boolean("cancelReplaceAllowed", true)
                  .boolean("isSpotTradingAllowed", true)
                  .boolean("isMarginTradingAllowed", false)
                  .raw("filters", filters)
                  .raw("permissions", "[]")
                  .raw("permissionSets", "[[\"SPOT\"]]")
                  .str("defaultSelfTradePreventionMode", "EXPIRE_MAKER")
                  .raw("allowedSelfTradePreventionModes", "[\"NONE\",\"EXPIRE_TAKER\",\"EXPIRE_MAKER\",\"EXPIRE_BOTH\"]")
                  .done();
    }
    syms.push_back(']');
    const std::string limits =
        "[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":" +
        std::to_string(s.cfg.weight_limit_1m) + "}]";
    return ok_body(JsonObj()
                       .str("timezone", "UTC")
                       .num("serverTime", s.now_ms())
                       .raw("rateLimits", limits)
                       .raw("exchangeFilters", "[]")
                       .raw("symbols", syms)
                       .done());
  }

  ApiResponse depth(const Params& p) {
    ApiResponse r;
    sim::SymbolIndex idx;
    exec::SymbolName name;
    const auto v = p.get("symbol");
    if (!v || v->empty()) return err(400, -1102, missing_msg("symbol"));
    std::int64_t limit = 100;
    if (auto l = p.get("limit")) {
      if (!parse_int(*l, limit) || limit < 1)
        return err(400, -1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.");
      limit = std::min<std::int64_t>(limit, 5000);
    }
    (void)idx;
    (void)name;
    return s.depth(*v, static_cast<std::size_t>(limit));
  }

  std::string listen_key_for(std::uint32_t account) {
    for (auto& [k, lk] : s.listen_keys)
      if (lk.account == account) {
        lk.expires_ms = s.now_ms() + s.cfg.listen_key_ttl_ms;
        return k;
      }
    static constexpr char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string k(60, 'x');
    for (char& c : k) c = kAlpha[rng() % 62];
    s.listen_keys[k] = ListenKey{account, s.now_ms() + s.cfg.listen_key_ttl_ms};
    return k;
  }
};

namespace {
Api& api_of(VenueServer::Impl& s) {
  // One Api per server (holds the id RNG); created on first use on the IO thread.
  if (!s.api) s.api = std::make_shared<Api>(Api{s});
  return *s.api;
}
}  // namespace

// -------------------------------------------------------------------------------------------------
// REST routing

ApiResponse VenueServer::Impl::handle_rest(ApiRequest& req) {
  ++counters.http_requests;
  Api& a = api_of(*this);
  ApiResponse r;
  const std::string& m = req.method;
  // USD-M futures market data paths answer like their spot twins (a futures capture's book).
  if (req.path == "/fapi/v1/depth" || req.path == "/fapi/v1/ping" || req.path == "/fapi/v1/time")
    req.path = "/api/v3/" + req.path.substr(9);
  const std::string& path = req.path;
  if (path.rfind("/api/v3/", 0) != 0) return err(404, -1000, "Unknown endpoint " + path + ".");
  if (!a.charge(req.ip, rest_weight(m, path, req.params), r)) return r;
  const std::uint32_t used = r.used_weight;
  auto finish = [&](ApiResponse x) {
    x.used_weight = used;
    return x;
  };
  if (const auto d = req.params.duplicate(); !d.empty())
    return finish(err(400, -1101, "Duplicate values for parameter '" + std::string(d) + "'."));

  if (m == "GET" && path == "/api/v3/ping") return finish(ok_body("{}"));
  if (m == "GET" && path == "/api/v3/time") return finish(ok_body("{\"serverTime\":" + std::to_string(now_ms()) + "}"));
  if (m == "GET" && path == "/api/v3/exchangeInfo") return finish(a.exchange_info(req.params));
  if (m == "GET" && path == "/api/v3/depth") return finish(a.depth(req.params));

  if (path == "/api/v3/userDataStream") {
    const ApiKey* key = nullptr;
    if (!a.check_key(req, r, key)) return finish(r);
    if (m == "POST") return finish(ok_body(JsonObj().str("listenKey", a.listen_key_for(key->account)).done()));
    if (m == "PUT" || m == "DELETE") {
      const auto lk = req.params.get("listenKey");
      if (!lk || lk->empty()) return finish(err(400, -1102, missing_msg("listenKey")));
      auto it = listen_keys.find(std::string(*lk));
      if (it == listen_keys.end() || it->second.account != key->account)
        return finish(err(400, -1125, "This listenKey does not exist."));
      if (m == "PUT") {
        it->second.expires_ms = now_ms() + cfg.listen_key_ttl_ms;
      } else {
        const std::string k = it->first;
        listen_keys.erase(it);
        std::vector<WsSession*> close;
        for (WsSession* s : ws_sessions) {
          auto& v = s->listen_keys;
          if (std::find(v.begin(), v.end(), k) == v.end()) continue;
          v.erase(std::remove(v.begin(), v.end(), k), v.end());
          if (v.empty() && s->subs.empty()) close.push_back(s);
        }
        for (WsSession* s : close) s->close();
      }
      return finish(ok_body("{}"));
    }
    return finish(err(405, -1000, "Method not allowed."));
  }

  const bool known = (path == "/api/v3/order" && (m == "POST" || m == "DELETE" || m == "GET")) ||
                     (path == "/api/v3/order/test" && m == "POST") ||
                     (path == "/api/v3/openOrders" && (m == "GET" || m == "DELETE")) ||
                     (path == "/api/v3/order/cancelReplace" && m == "POST") ||
                     (path == "/api/v3/account" && m == "GET") || (path == "/api/v3/myTrades" && m == "GET");
  if (!known) return finish(err(404, -1000, "Unknown endpoint " + m + " " + path + "."));
  std::uint32_t account = 0;
  if (!a.check_signed(req, r, account)) return finish(r);
  if (path == "/api/v3/order" && m == "POST") return finish(a.place(req.params, account, false));
  if (path == "/api/v3/order/test") return finish(a.place(req.params, account, true));
  if (path == "/api/v3/order" && m == "DELETE") return finish(a.cancel(req.params, account));
  if (path == "/api/v3/order") return finish(a.query(req.params, account));
  if (path == "/api/v3/openOrders" && m == "GET") return finish(a.open_orders(req.params, account));
  if (path == "/api/v3/openOrders") return finish(a.cancel_all(req.params, account));
  if (path == "/api/v3/order/cancelReplace") return finish(a.cancel_replace(req.params, account));
  if (path == "/api/v3/account") return finish(a.account_info(account));
  return finish(a.my_trades(req.params, account));
}

// -------------------------------------------------------------------------------------------------
// WebSocket API

void VenueServer::Impl::handle_ws_api(WsSession& ws, std::string_view text) {
  ++counters.ws_api_requests;
  Api& a = api_of(*this);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::string id_json = "null";
  auto reply = [&](const ApiResponse& r) {
    std::string out = "{\"id\":" + id_json + ",\"status\":" + std::to_string(r.status) + ",";
    out += (r.status == 200 ? "\"result\":" : "\"error\":");
    out += r.body;
    out += ",\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":" +
           std::to_string(cfg.weight_limit_1m) + ",\"count\":" + std::to_string(r.used_weight) + "}]}";
    auto msg = std::make_shared<const std::string>(std::move(out));
    if (r.delay_ms > 0) {
      std::weak_ptr<WsSession> w = ws.shared_from_this();
      after(r.delay_ms, [w, msg] {
        if (auto s = w.lock()) s->send(msg);
      });
    } else {
      ws.send(msg);
    }
  };
  if (j.is_discarded() || !j.is_object()) {
    reply(err(400, -1000, "Malformed request: invalid JSON."));
    return;
  }
  if (auto it = j.find("id"); it != j.end()) {
    if (it->is_string() || it->is_number_integer() || it->is_number_unsigned() || it->is_null()) {
      id_json = it->dump();
    } else {
      reply(err(400, -1000, "Malformed request: 'id' must be a string, an integer or null."));
      return;
    }
  }
  const auto mit = j.find("method");
  if (mit == j.end() || !mit->is_string()) {
    reply(err(400, -1102, "Mandatory parameter 'method' was not sent, was empty/null, or malformed."));
    return;
  }
  const std::string method = mit->get<std::string>();
  ApiRequest req;
  req.ws_api = true;
  req.method = method;
  req.ip = ws.ip;
  if (auto pit = j.find("params"); pit != j.end()) {
    if (!pit->is_object()) {
      reply(err(400, -1135, "Invalid 'params' in JSON request; expected an object."));
      return;
    }
    // Signature payload: every param but signature, sorted by name (nlohmann keeps keys sorted).
    std::string payload;
    for (auto it = pit->begin(); it != pit->end(); ++it) {
      std::string v;
      if (it->is_string()) v = it->get<std::string>();
      else if (it->is_boolean()) v = it->get<bool>() ? "true" : "false";
      else if (it->is_number()) v = it->dump();
      else {
        reply(err(400, -1100, "Illegal characters found in parameter '" + it.key() + "'."));
        return;
      }
      if (it.key() == "apiKey") req.api_key = v;
      if (it.key() != "signature") {
        if (!payload.empty()) payload.push_back('&');
        payload += it.key() + "=" + v;
      }
      req.params.set(it.key(), std::move(v));
    }
    req.signed_payload = std::move(payload);
  }
  ApiResponse r;
  if (!a.charge(req.ip, ws_weight(method, req.params), r)) {
    reply(r);
    return;
  }
  const std::uint32_t used = r.used_weight;
  auto done = [&](ApiResponse x) {
    x.used_weight = used;
    if (x.drop) return;  // FaultConfig::lose_ack: the answer never comes
    reply(x);
  };
  if (method == "ping") return done(ok_body("{}"));
  if (method == "time") return done(ok_body("{\"serverTime\":" + std::to_string(now_ms()) + "}"));
  if (method == "exchangeInfo") return done(a.exchange_info(req.params));
  if (method == "depth") return done(a.depth(req.params));
  if (method == "userDataStream.start" || method == "userDataStream.ping" || method == "userDataStream.stop") {
    // API-key only (no signature), like the REST /api/v3/userDataStream.
    const ApiKey* key = nullptr;
    if (!a.check_key(req, r, key)) return done(r);
    if (method == "userDataStream.start")
      return done(ok_body(JsonObj().str("listenKey", a.listen_key_for(key->account)).done()));
    const auto lk = req.params.get("listenKey");
    if (!lk || lk->empty()) return done(err(400, -1102, missing_msg("listenKey")));
    auto it = listen_keys.find(std::string(*lk));
    if (it == listen_keys.end() || it->second.account != key->account)
      return done(err(400, -1125, "This listenKey does not exist."));
    if (method == "userDataStream.ping") {
      it->second.expires_ms = now_ms() + cfg.listen_key_ttl_ms;
    } else {
      listen_keys.erase(it);
    }
    return done(ok_body("{}"));
  }
  const bool is_signed = method == "order.place" || method == "order.test" || method == "order.cancel" ||
                         method == "order.status" || method == "openOrders.status" ||
                         method == "openOrders.cancelAll" || method == "order.cancelReplace" ||
                         method == "account.status" || method == "myTrades";
  if (!is_signed) return done(err(400, -1000, "Unknown method '" + method + "'."));
  std::uint32_t account = 0;
  if (!a.check_signed(req, r, account)) return done(r);
  if (method == "order.place") return done(a.place(req.params, account, false));
  if (method == "order.test") return done(a.place(req.params, account, true));
  if (method == "order.cancel") return done(a.cancel(req.params, account));
  if (method == "order.status") return done(a.query(req.params, account));
  if (method == "openOrders.status") return done(a.open_orders(req.params, account));
  if (method == "openOrders.cancelAll") return done(a.cancel_all(req.params, account));
  if (method == "order.cancelReplace") return done(a.cancel_replace(req.params, account));
  if (method == "account.status") return done(a.account_info(account));
  return done(a.my_trades(req.params, account));
}

// -------------------------------------------------------------------------------------------------
// Market-data WebSocket method messages (SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS)

void VenueServer::Impl::handle_ws_method(WsSession& ws, std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    ws.send(std::string("{\"code\":3,\"msg\":\"Invalid JSON: expected value\"}"));
    return;
  }
  if (!j.is_object()) {
    ws.send(std::string("{\"code\":2,\"msg\":\"Invalid request: request must be an object\"}"));
    return;
  }
  const auto id = j.find("id");
  if (id == j.end() || !(id->is_number_unsigned() || id->is_number_integer() || id->is_string())) {
    ws.send(std::string("{\"code\":2,\"msg\":\"Invalid request: request ID must be an unsigned integer\"}"));
    return;
  }
  const std::string id_json = id->dump();
  const auto m = j.find("method");
  const std::string method = (m != j.end() && m->is_string()) ? m->get<std::string>() : std::string();
  if (method == "LIST_SUBSCRIPTIONS") {
    std::string out = "{\"result\":[";
    bool first = true;
    for (const Subscription& s : ws.subs) {
      if (!first) out.push_back(',');
      first = false;
      append_json_string(out, s.name);
    }
    for (const std::string& k : ws.listen_keys) {
      if (!first) out.push_back(',');
      first = false;
      append_json_string(out, k);
    }
    out += "],\"id\":" + id_json + "}";
    ws.send(std::move(out));
    return;
  }
  if (method != "SUBSCRIBE" && method != "UNSUBSCRIBE") {
    ws.send("{\"code\":2,\"msg\":\"Invalid request: unknown variant '" + method +
            "', expected one of SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS\",\"id\":" + id_json + "}");
    return;
  }
  const auto p = j.find("params");
  if (p == j.end() || !p->is_array()) {
    ws.send("{\"code\":2,\"msg\":\"Invalid request: 'params' must be an array of stream names\",\"id\":" + id_json + "}");
    return;
  }
  for (const auto& v : *p) {
    if (!v.is_string()) {
      ws.send("{\"code\":1,\"msg\":\"Invalid value type: expected String\",\"id\":" + id_json + "}");
      return;
    }
  }
  for (const auto& v : *p) {
    const std::string name = v.get<std::string>();
    std::string key;
    const bool is_lk = name.find('@') == std::string::npos;
    if (method == "SUBSCRIBE") {
      if (is_lk) {
        if (!listen_key_valid(name)) continue;
        if (std::find(ws.listen_keys.begin(), ws.listen_keys.end(), name) == ws.listen_keys.end())
          ws.listen_keys.push_back(name);
      } else if (stream_key(name, key)) {
        bool have = false;
        for (const Subscription& s : ws.subs) have |= s.name == name;
        if (!have) ws.subs.push_back(Subscription{name, key});
      } else {
        ws.send("{\"code\":2,\"msg\":\"Invalid request: unknown stream '" + name + "'\",\"id\":" + id_json + "}");
        return;
      }
    } else {
      ws.subs.erase(std::remove_if(ws.subs.begin(), ws.subs.end(), [&](const Subscription& s) { return s.name == name; }),
                    ws.subs.end());
      ws.listen_keys.erase(std::remove(ws.listen_keys.begin(), ws.listen_keys.end(), name), ws.listen_keys.end());
    }
  }
  ws.send("{\"result\":null,\"id\":" + id_json + "}");
}

// -------------------------------------------------------------------------------------------------
// User data stream

bool VenueServer::Impl::listen_key_valid(const std::string& key) {
  auto it = listen_keys.find(key);
  return it != listen_keys.end() && it->second.expires_ms >= now_ms();
}

void VenueServer::Impl::deliver_user_event(std::uint32_t account, std::shared_ptr<const std::string> data,
                                           std::int64_t delay_ms) {
  auto deliver = [this, account, data] {
    for (WsSession* s : ws_sessions) {
      for (const std::string& k : s->listen_keys) {
        auto it = listen_keys.find(k);
        if (it == listen_keys.end() || it->second.account != account) continue;
        ++counters.exec_reports_sent;
        if (s->combined) {
          std::string w = "{\"stream\":";
          append_json_string(w, k);
          w += ",\"data\":" + *data + "}";
          s->send(std::move(w));
        } else {
          s->send(data);
        }
        break;
      }
    }
  };
  if (delay_ms > 0) {
    after(delay_ms, deliver);
  } else {
    deliver();
  }
}

void VenueServer::Impl::on_exec_report(sim::AccountId account, const exec::ExecReport& r, std::int64_t deliver_ns) {
  if (capturing) call_reports.push_back(r);
  const std::int64_t d = deliver_ns - call_now_ns;
  const std::int64_t delay_ms = d > 0 ? (d + 999'999) / 1'000'000 : 0;
  touched_accounts.insert(account);
  touched_delay_ms = std::max(touched_delay_ms, delay_ms);
  const std::int64_t t_ms = r.transact_ns / 1'000'000;
  const bool trade = r.exec_type == exec::ExecType::trade;
  std::string qa = "USDT";
  if (auto i = engine.find_symbol(r.symbol.view()); i != sim::kNoSymbolIndex) qa = std::string(engine.spec(i).quote.view());
  // Price*qty of this fill in 1e-8 quote units (exact: 128-bit intermediate).
  const __int128 lq = static_cast<__int128>(r.last_price.raw) * r.last_qty.raw / kDecimalScale;
  const bool cancel_like = r.exec_type == exec::ExecType::canceled;
  JsonObj j;
  j.str("e", "executionReport")
      .num("E", t_ms)
      .str("s", r.symbol.view())
      .str("c", r.client_order_id.view())
      .str("S", exec::side_name(r.side))
      .str("o", exec::order_type_name(r.type))
      .str("f", exec::tif_name(r.tif))
      .str("q", format_decimal(r.qty.raw, 8))
      .str("p", format_decimal(r.type == exec::OrderType::market ? 0 : r.price.raw, 8))
      .str("P", "0.00000000")
      .str("F", "0.00000000")
      .num("g", -1)
      .str("C", cancel_like ? r.orig_client_order_id.view() : std::string_view{})
      .str("x", exec::exec_type_name(r.exec_type))
      .str("X", exec::order_status_name(r.status))
      .str("r", r.exec_type == exec::ExecType::rejected ? "INSUFFICIENT_BALANCE" : "NONE")
      .unum("i", r.exchange_order_id)
      .str("l", format_decimal(r.last_qty.raw, 8))
      .str("z", format_decimal(r.cum_qty.raw, 8))
      .str("L", format_decimal(r.last_price.raw, 8))
      .str("n", format_decimal(r.commission_raw, 8));
  if (trade) j.str("N", qa);
  else j.null("N");
  j.num("T", t_ms)
      .num("t", trade ? static_cast<std::int64_t>(r.trade_id) : -1)
      .num("I", static_cast<std::int64_t>(r.exchange_order_id) * 2 + (trade ? 1 : 0))
      .boolean("w", r.status == exec::OrderStatus::new_ || r.status == exec::OrderStatus::partially_filled)
      .boolean("m", trade && r.is_maker)
      .boolean("M", false)
      .num("O", t_ms)
      .str("Z", format_decimal(r.cum_quote_raw, 8))
      .str("Y", format_decimal(static_cast<std::int64_t>(lq), 8))
      .str("Q", "0.00000000")
      .num("W", t_ms)
      .str("V", "NONE");
  deliver_user_event(account, std::make_shared<const std::string>(j.done()), delay_ms);
}

void VenueServer::Impl::flush_account_positions(std::int64_t delay_ms) {
  for (std::uint32_t account : touched_accounts) {
    const auto bals = engine.balances(account);
    std::string b = "[";
    for (std::size_t i = 0; i < bals.size(); ++i) {
      if (i) b.push_back(',');
      b += JsonObj()
               .str("a", bals[i].first.view())
               .str("f", format_decimal(bals[i].second.free_raw, 8))
               .str("l", format_decimal(bals[i].second.locked_raw, 8))
               .done();
    }
    b.push_back(']');
    const std::int64_t t = call_now_ns / 1'000'000;
    deliver_user_event(account,
                       std::make_shared<const std::string>(
                           JsonObj().str("e", "outboundAccountPosition").num("E", t).num("u", t).raw("B", b).done()),
                       delay_ms);
  }
  touched_accounts.clear();
}

}  // namespace tickrt::venue
