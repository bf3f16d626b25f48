// pipeline/trader.cpp — strategy -> risk -> OMS, reports back (see trader.hpp).
#include "pipeline/trader.hpp"

#include <cmath>

namespace tickrt::pipeline {

namespace {

std::int64_t to_raw(double v) { return static_cast<std::int64_t>(std::llround(v * static_cast<double>(kDecimalScale))); }

}  // namespace

Result<strategy::StrategyConfig> strategy_config(const PipelineConfig& all, const std::string& symbol) {
  const PipelineConfig cfg = for_symbol(all, symbol);  // [strategy.symbols.<SYMBOL>] sizes
  strategy::StrategyConfig sc;
  sc.symbol = symbol;
  sc.enter_prob = cfg.enter_prob;
  sc.exit_prob = cfg.exit_prob;
  sc.min_edge = cfg.min_edge;
  if (!strategy::parse_sizing(cfg.sizing, sc.sizing)) return Status(Code::invalid_argument, "strategy.sizing: " + cfg.sizing);
  if (!strategy::parse_order_style(cfg.style, sc.style)) return Status(Code::invalid_argument, "strategy.style: " + cfg.style);
  sc.aggressive_market = cfg.aggressive_market;
  sc.order_qty = Qty::from_raw(to_raw(cfg.order_qty));
  sc.max_position = Qty::from_raw(to_raw(cfg.max_position));
  sc.qty_step = Qty::from_raw(to_raw(cfg.qty_step));
  sc.tick_size = Price::from_raw(to_raw(cfg.tick_size));
  sc.reprice_ticks = cfg.reprice_ticks;
  sc.passive_max_age_ns = cfg.passive_max_age_ms * 1'000'000;
  sc.min_interval_ns = cfg.min_interval_ms * 1'000'000;
  return sc;
}

risk::SymbolLimits symbol_limits(const PipelineConfig& all, std::string_view symbol) {
  const PipelineConfig cfg = for_symbol(all, symbol);  // [strategy.symbols.<SYMBOL>] sizes
  risk::SymbolLimits sl;
  sl.max_position = Qty::from_raw(to_raw(cfg.max_position));
  sl.max_order_qty = Qty::from_raw(to_raw(std::max(cfg.order_qty, cfg.max_position)));
  sl.max_order_notional = risk::Notional::from_raw(to_raw(cfg.max_order_notional));
  sl.min_order_notional = risk::Notional::from_raw(to_raw(cfg.min_order_notional));
  sl.collar_bps = cfg.collar_bps;
  sl.max_open_orders = static_cast<std::uint32_t>(cfg.max_open_orders);
  return sl;
}

risk::AccountLimits account_limits(const PipelineConfig& cfg, std::uint32_t max_open_orders, std::uint32_t orders_per_s) {
  risk::AccountLimits al;
  al.max_gross_notional = risk::Notional::from_raw(to_raw(cfg.max_gross_notional));
  al.max_open_orders = max_open_orders;
  al.order_rate = {orders_per_s, orders_per_s};
  al.cancel_rate = {orders_per_s * 2, orders_per_s * 2};
  al.max_md_staleness_ns = cfg.max_md_staleness_ms * 1'000'000;
  al.max_daily_loss = risk::Notional::from_raw(to_raw(cfg.max_daily_loss));
  al.max_drawdown = risk::Notional::from_raw(to_raw(cfg.max_drawdown));
  return al;
}

std::size_t open_orders_of(const exec::Oms& oms, int oms_idx, std::array<risk::OpenOrder, 64>& out, bool caller_time) noexcept {
  std::size_t n = 0;
  oms.for_each_open([&](const exec::OrderEntry& e) {
    if (e.symbol_index != oms_idx || n >= out.size()) return;
    risk::OpenOrder& o = out[n++];
    o.symbol = e.req.symbol;
    o.client_order_id = e.req.client_order_id;
    o.exchange_order_id = e.exchange_order_id;
    o.side = e.req.side;
    o.type = e.req.type;
    o.price = e.req.price;
    o.leaves = Qty::from_raw(e.req.qty.raw - e.cum_qty.raw);
    o.sent_ns = caller_time ? e.req.created_ns : e.enqueue_ns;
    o.cancel_pending = e.status == exec::OrderStatus::pending_cancel;
  });
  return n;
}

Result<std::unique_ptr<Trader>> Trader::create(const PipelineConfig& cfg, const std::vector<std::string>& symbols,
                                               exec::GatewayRings rings, exec::Journal* journal, std::uint32_t session,
                                               TscClock clock) {
  using R = Result<std::unique_ptr<Trader>>;
  if (symbols.empty()) return R(Code::invalid_argument, "trader: no symbol to trade");
  if (symbols.size() > risk::RiskEngine::kMaxSymbols)
    return R(Code::invalid_argument, "trader: at most " + std::to_string(risk::RiskEngine::kMaxSymbols) + " traded symbols");
  std::unique_ptr<Trader> t(new Trader(clock));
  t->map_.fill(-1);
  t->causes_.resize(kCauses);

  exec::OmsConfig oc;
  oc.id_prefix = cfg.id_prefix;
  oc.session = session;
  oc.max_open_orders = 64;  // the strategy keeps a handful; a small table keeps for_each_open cheap
  oc.symbols = symbols;
  auto oms = exec::Oms::create(oc, rings, journal);
  if (!oms.ok()) return oms.status().with_context("exec");
  t->oms_ = std::move(oms.value());

  const risk::AccountLimits al = account_limits(cfg, static_cast<std::uint32_t>(cfg.max_open_orders) * static_cast<std::uint32_t>(symbols.size()),
                                                static_cast<std::uint32_t>(cfg.max_orders_per_s));
  auto re = risk::RiskEngine::create(al, now_ns());
  if (!re.ok()) return re.status().with_context("risk");
  t->risk_ = std::move(re.value());

  for (const std::string& s : symbols) {
    auto sc = strategy_config(cfg, s);
    if (!sc.ok()) return sc.status();
    auto st = strategy::SignalStrategy::create(sc.value());
    if (!st.ok()) return st.status();
    const risk::SymbolLimits sl = symbol_limits(cfg, s);
    auto rid = t->risk_->add_symbol(s, sl);
    if (!rid.ok()) return rid.status().with_context("risk." + s);
    Sym sym{s, exec::SymbolName::from(s), std::move(st.value()), rid.value(), t->oms_->symbol_index(s)};
    if (sym.oms_idx < 0) return R(Code::internal, "oms: symbol " + s + " not configured");
    t->syms_.push_back(std::move(sym));
  }
  return t;
}

Status Trader::recover(const exec::JournalContents& jc, exec::Gateway& gw, exec::Journal* journal,
                       const exec::RecoveryConfig& rc, exec::RecoveryReport& rep) {
  TICKRT_RETURN_IF_ERROR(exec::recover(jc, *oms_, gw, journal, rc, rep).with_context("exec recovery"));
  if (!rep.ok) return Status::Ok();
  for (const Sym& s : syms_) {
    const exec::Position& pos = oms_->position(s.oms_idx);
    risk_->seed_position(s.risk_id, s.sname, pos.qty_raw, pos.avg_price_raw, now_ns());
  }
  return Status::Ok();
}

Status Trader::enable_warm(const PipelineConfig& cfg, const std::vector<std::string>& symbols) {
  PipelineConfig wc = cfg;
  wc.min_interval_ms = 0;            // a warm order every cycle (the shadow's own throttle would refuse it)
  wc.max_orders_per_s = 1'000'000;   // ... and its own order-rate bucket
  warm_out_ = std::make_unique<exec::RequestRing>(64);
  warm_in_ = std::make_unique<exec::ReportRing>(64);
  warm_lat_ = std::make_unique<StageLatency>();
  auto t = Trader::create(wc, symbols, exec::GatewayRings{warm_out_.get(), warm_in_.get()}, nullptr, 1, clock_);
  if (!t.ok()) return t.status().with_context("keep_warm_path shadow trader");
  shadow_ = std::move(t.value());
  for (std::size_t i = 0; i < map_.size(); ++i)   // symbols mapped before (none at startup)
    if (map_[i] >= 0) shadow_->map_[i] = map_[i];
  return Status::Ok();
}

void Trader::warm_slice(int slice, const InferResult& last) noexcept {
  if (!shadow_) return;
  if (slice == 0) {
    if (!last.ok || last.n_out < 3) return;
    warm_res_ = last;
    const bool up = (++warm_flip_ & 1u) != 0;
    warm_res_.out[0] = up ? -2.0f : 2.0f;   // p(entry side) ~0.87: an entry on the side of the turn
    warm_res_.out[1] = 0.0f;
    warm_res_.out[2] = up ? 2.0f : -2.0f;
    warm_res_.meta.book_update_ns = clock_.now_ns();   // fresh for the shadow risk's staleness check
    (void)shadow_->on_result(warm_res_, *warm_lat_);
    return;
  }
  // Settle: answer every request the shadow pushed with a rejection, let its poll() apply it.
  while (const exec::GatewayRequest* q = warm_out_->front()) {
    exec::ExecReport rep;
    if (q->op == exec::GatewayOp::new_order) {
      exec::set_order_fields(rep, q->order);
      rep.exec_type = exec::ExecType::rejected;
      rep.status = exec::OrderStatus::rejected;
      rep.reject = exec::RejectCode::unknown;
    } else {
      rep.symbol = q->cancel.symbol;
      rep.client_order_id = q->cancel.client_order_id;
      rep.orig_client_order_id = q->cancel.orig_client_order_id;
      rep.exec_type = exec::ExecType::canceled;
      rep.status = exec::OrderStatus::canceled;
    }
    rep.local_ns = clock_.now_ns();
    rep.request_sent_ns = rep.local_ns;
    warm_out_->pop();
    if (!warm_in_->try_push(rep)) break;
  }
  (void)shadow_->poll(*warm_lat_);
  LogRecord lr;
  while (shadow_->log_.try_pop(lr)) {
  }
}

void Trader::map_symbol(feed::SymbolId id, std::string_view name) noexcept {
  if (shadow_) shadow_->map_symbol(id, name);
  if (id >= map_.size() || map_[id] != -1) return;
  map_[id] = -2;
  for (std::size_t i = 0; i < syms_.size(); ++i)
    if (syms_[i].name == name) map_[id] = static_cast<std::int16_t>(i);
}

template <bool kCallerTime>
std::size_t Trader::open_of(int oms_idx, std::array<risk::OpenOrder, 64>& out) const noexcept {
  return open_orders_of(*oms_, oms_idx, out, kCallerTime);
}

template <bool kCallerTime>
int Trader::decide(const InferResult& r, StageLatency& lat, std::int64_t caller_now) noexcept {
  if (!r.ok || r.n_out < 3 || r.meta.symbol >= map_.size()) return 0;
  const int si = map_[r.meta.symbol];
  if (si < 0) return 0;
  const std::uint64_t t_enter = TscClock::ticks();
  Sym& s = syms_[static_cast<std::size_t>(si)];
  const std::int64_t now = kCallerTime ? caller_now : clock_.now_ns();
  ++c_.decisions;
  risk::MarketTop top;
  top.bid = r.meta.best_bid.price;
  top.ask = r.meta.best_ask.price;
  top.state = r.meta.tradable ? book::BookState::synced : book::BookState::resyncing;
  top.crossed = false;
  top.update_ns = r.meta.book_update_ns;
  (void)risk_->on_market(s.risk_id, top);
  if (top.has_both_sides()) oms_->mark(s.oms_idx, Price::from_raw(top.mid_raw()));

  std::array<risk::OpenOrder, 64> open;
  const std::size_t n_open = open_of<kCallerTime>(s.oms_idx, open);
  strategy::AccountView acct;
  acct.position = Qty::from_raw(oms_->position(s.oms_idx).qty_raw);
  acct.open = std::span<const risk::OpenOrder>(open.data(), n_open);
  std::array<strategy::Intent, strategy::SignalStrategy::kMaxIntents> intents;
  const std::size_t n = s.strat.on_model_output(r.out, top, acct, now, intents);
  const std::uint64_t t_strat = TscClock::ticks();
  c_.intents += n;
  const risk::Exposure ex = risk::exposure_of(acct.open, static_cast<std::uint32_t>(oms_->open_orders()));
  const strategy::Probabilities& p = s.strat.last_probabilities();
  int sent = 0;
  for (std::size_t i = 0; i < n; ++i) {
    strategy::Intent& in = intents[i];
    if (in.kind == strategy::Intent::Kind::new_order) {
      const std::uint64_t t_risk0 = TscClock::ticks();
      const risk::Reason why = risk_->check_new(s.risk_id, in.order, ex, now);
      const std::uint64_t t_risk1 = TscClock::ticks();
      if (why != risk::Reason::ok) {
        ++c_.risk_refused;
        LogRecord lr;
        lr.kind = LogRecord::Kind::refused;
        lr.side = in.order.side;
        lr.symbol = s.sname;
        lr.price = in.order.price;
        lr.qty = in.order.qty;
        lr.ns = now;
        lr.code = static_cast<std::int16_t>(why);
        push_log(lr);
        continue;
      }
      const std::uint64_t seq = oms_->next_seq();
      exec::ClientOrderId id;
      const exec::SubmitResult sr = oms_->submit(in.order, &id);
      if (sr != exec::SubmitResult::ok) {
        ++c_.submit_failed;
        continue;
      }
      ++c_.orders;
      ++sent;
      Cause& cz = causes_[seq % kCauses];
      cz.oms_seq = seq;
      cz.recv_ns = clock_.to_ns(r.meta.t.recv);
      cz.md_seq = r.meta.md_seq;
      const std::uint64_t t_q = TscClock::ticks();
      rec(lat, Stage::tick_to_queued, clock_.ticks_to_ns(static_cast<std::int64_t>(t_q - r.meta.t.recv)));
      if (sent == 1) {   // the tick's first order: where its time went (a second order of the tick adds only risk + OMS)
        const TickStamps& ts = r.meta.t;
        auto part = [&](OrderPart p, std::uint64_t a, std::uint64_t b) {
          if (a != 0 && b >= a) parts_.record(p, clock_.ticks_to_ns(static_cast<std::int64_t>(b - a)));
        };
        part(OrderPart::parse, ts.recv, ts.parsed);
        part(OrderPart::book, ts.parsed, ts.book);
        part(OrderPart::features, ts.book, ts.feat);
        part(OrderPart::to_infer, ts.feat, r.infer_start);
        part(OrderPart::inference, r.infer_start, r.infer_end);
        part(OrderPart::to_decide, r.infer_end, t_enter);
        part(OrderPart::strategy, t_enter, t_strat);
        part(OrderPart::risk, t_risk0, t_risk1);
        part(OrderPart::oms, t_risk1, t_q);
        part(OrderPart::total, ts.recv, t_q);
      }
      LogRecord lr;
      lr.kind = LogRecord::Kind::order;
      lr.side = in.order.side;
      lr.type = in.order.type;
      lr.symbol = s.sname;
      lr.id = id;
      lr.price = in.order.price;
      lr.qty = in.order.qty;
      lr.ns = now;
      lr.md_seq = r.meta.md_seq;
      lr.p_down = static_cast<float>(p.down);
      lr.p_up = static_cast<float>(p.up);
      push_log(lr);
    } else {
      if (risk_->check_cancel(s.risk_id, now) != risk::Reason::ok) {
        ++c_.risk_refused;
        continue;
      }
      if (oms_->cancel(in.cancel.orig_client_order_id) == exec::SubmitResult::ok) ++c_.cancels;
    }
  }
  rec(lat, Stage::decision_risk, clock_.ticks_to_ns(static_cast<std::int64_t>(TscClock::ticks() - r.infer_end)));
  // The PnL / position gauges after the orders are out (marked at this sample's mid above): observation only.
  if (metrics_ != nullptr) {
    const exec::Position& pos = oms_->position(s.oms_idx);
    // tickrt_pnl_quote is the account's: every traded symbol's net (at most kMaxSymbols positions).
    std::int64_t net_raw = 0;
    for (const Sym& y : syms_) {
      const exec::Position& p = oms_->position(y.oms_idx);
      net_raw += p.realized_raw + p.unrealized_raw() - p.fees_raw;
    }
    metrics_->pnl_quote->set(static_cast<double>(net_raw) * 1e-8);
    if (static_cast<std::size_t>(si) < metrics_->position.size())
      metrics_->position[static_cast<std::size_t>(si)]->set(static_cast<double>(pos.qty_raw) * 1e-8);
  }
  return sent;
}

template int Trader::decide<false>(const InferResult&, StageLatency&, std::int64_t) noexcept;
template int Trader::decide<true>(const InferResult&, StageLatency&, std::int64_t) noexcept;

std::size_t Trader::poll(StageLatency& lat) noexcept {
  if (risk_->latched() && oms_->open_orders() > 0) (void)cancel_all();
  return oms_->poll([&](const exec::OmsEvent& ev) {
    const exec::ExecReport& rep = *ev.report;
    if (ev.order != nullptr && rep.request_sent_ns != 0) {
      Cause& cz = causes_[ev.order->seq % kCauses];
      if (cz.oms_seq == ev.order->seq && cz.oms_seq != 0) {
        rec(lat, Stage::encode_send, rep.request_sent_ns - ev.order->enqueue_ns);
        rec(lat, Stage::tick_to_sent, rep.request_sent_ns - cz.recv_ns);
        cz.oms_seq = 0;  // first answer only
      }
    }
    LogRecord lr;
    lr.symbol = rep.symbol;
    lr.id = rep.client_order_id;
    lr.side = rep.side;
    lr.ns = rep.local_ns;
    if (ev.fill_applied) {
      ++c_.fills;
      if (metrics_ != nullptr) metrics_->fills->add();
      risk::SymbolId rid;
      if (risk_->find(rep.symbol, rid)) (void)risk_->on_fill(rid, rep);
      lr.kind = LogRecord::Kind::fill;
      lr.price = rep.last_price;
      lr.qty = rep.last_qty;
      lr.maker = rep.is_maker;
      push_log(lr);
    } else if (rep.exec_type == exec::ExecType::rejected) {
      ++c_.rejects;
      lr.kind = LogRecord::Kind::reject;
      lr.price = rep.price;
      lr.qty = rep.qty;
      lr.code = static_cast<std::int16_t>(rep.reject);
      push_log(lr);
    } else if (rep.exec_type == exec::ExecType::expired) {
      lr.kind = LogRecord::Kind::expired;
      lr.price = rep.price;
      lr.qty = rep.qty;
      push_log(lr);
    } else if (rep.exec_type == exec::ExecType::canceled) {
      // The REST answer and the user data stream both report a cancel: log it once.
      const exec::ClientOrderId& which = rep.orig_client_order_id.empty() ? rep.client_order_id : rep.orig_client_order_id;
      if (which == last_canceled_) return;
      last_canceled_ = which;
      lr.id = which;
      lr.kind = LogRecord::Kind::canceled;
      lr.price = rep.price;
      lr.qty = rep.qty;
      push_log(lr);
    }
  });
}

std::size_t Trader::cancel_all() noexcept { return oms_->cancel_all(-1, nullptr); }

}  // namespace tickrt::pipeline
