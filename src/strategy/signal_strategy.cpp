// strategy/signal_strategy.cpp — see strategy/strategy.hpp for the rules.
#include "strategy/signal_strategy.hpp"

#include <algorithm>
#include <cmath>

namespace tickrt::strategy {

std::string_view signal_name(Signal s) noexcept {
  switch (s) {
    case Signal::short_: return "short";
    case Signal::flat: return "flat";
    case Signal::long_: return "long";
  }
  return "?";
}

bool parse_sizing(std::string_view s, Sizing& out) noexcept {
  if (s == "fixed") out = Sizing::fixed;
  else if (s == "max_position") out = Sizing::max_position;
  else if (s == "confidence") out = Sizing::confidence;
  else return false;
  return true;
}

bool parse_order_style(std::string_view s, OrderStyle& out) noexcept {
  if (s == "aggressive") out = OrderStyle::aggressive;
  else if (s == "passive") out = OrderStyle::passive;
  else return false;
  return true;
}

Status validate(const StrategyConfig& c) {
  auto bad = [](const std::string& what) { return Status(Code::invalid_argument, "strategy." + what); };
  exec::SymbolName n;
  if (c.symbol.empty() || !n.assign(c.symbol)) return bad("symbol: '" + c.symbol + "' empty or too long");
  auto prob = [](double p) { return std::isfinite(p) && p >= 0.0 && p <= 1.0; };
  if (!prob(c.enter_prob)) return bad("enter_prob: must be in [0, 1], got " + std::to_string(c.enter_prob));
  if (!prob(c.exit_prob)) return bad("exit_prob: must be in [0, 1], got " + std::to_string(c.exit_prob));
  if (c.exit_prob > c.enter_prob) {
    return bad("exit_prob: " + std::to_string(c.exit_prob) + " above enter_prob " + std::to_string(c.enter_prob) +
               " (hysteresis needs exit <= enter)");
  }
  if (c.exit_prob >= 1.0 && c.sizing == Sizing::confidence) return bad("exit_prob: must be < 1 with confidence sizing");
  if (!std::isfinite(c.min_edge) || c.min_edge < -1.0 || c.min_edge > 1.0) return bad("min_edge: must be in [-1, 1]");
  if (c.qty_step.raw <= 0) return bad("qty_step: must be > 0");
  if (c.order_qty.raw < c.qty_step.raw) return bad("order_qty: must be >= qty_step");
  if (c.max_position.raw < c.qty_step.raw) return bad("max_position: must be >= qty_step");
  if (c.tick_size.raw <= 0) return bad("tick_size: must be > 0");
  if (c.min_interval_ns < 0) return bad("min_interval_ns: must be >= 0");
  return Status::Ok();
}

Probabilities to_probabilities(const float* v, bool logits) noexcept {
  const double a = v[0], b = v[1], c = v[2];
  if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c)) return {0, 1, 0};
  double x, y, z;
  if (logits) {
    const double m = std::max(a, std::max(b, c));
    x = std::exp(a - m);
    y = std::exp(b - m);
    z = std::exp(c - m);
  } else {
    x = std::max(a, 0.0);
    y = std::max(b, 0.0);
    z = std::max(c, 0.0);
  }
  const double s = x + y + z;
  if (!(s > 0.0) || !std::isfinite(s)) return {0, 1, 0};
  return {x / s, y / s, z / s};
}

Result<SignalStrategy> SignalStrategy::create(const StrategyConfig& cfg) {
  if (Status s = validate(cfg); !s.ok()) return s;
  return SignalStrategy(cfg);
}

SignalStrategy::SignalStrategy(const StrategyConfig& cfg)
    : cfg_(cfg), symbol_(exec::SymbolName::from(cfg.symbol)), c_(std::make_unique<StrategyCounters>()) {}

void SignalStrategy::reset() noexcept {
  signal_ = Signal::flat;
  target_ = Qty{};
  probs_ = {0, 1, 0};
  last_new_ns_ = 0;
  any_new_ = false;
}

std::int64_t SignalStrategy::round_down(std::int64_t raw) const noexcept {
  // Toward zero, to a multiple of qty_step.
  return raw - raw % cfg_.qty_step.raw;
}

std::size_t SignalStrategy::on_model_output(const float* out3, const risk::MarketTop& top, const AccountView& acct,
                                            std::int64_t now_ns, std::span<Intent> out) noexcept {
  c_->decisions.add();
  if (!std::isfinite(out3[0]) || !std::isfinite(out3[1]) || !std::isfinite(out3[2])) c_->bad_output.add();
  probs_ = to_probabilities(out3, cfg_.inputs_are_logits);
  const Probabilities& p = probs_;
  const bool long_entry = p.up >= cfg_.enter_prob && p.up - p.down >= cfg_.min_edge;
  const bool short_entry = p.down >= cfg_.enter_prob && p.down - p.up >= cfg_.min_edge;
  Signal next = signal_;
  switch (signal_) {
    case Signal::flat:
      if (long_entry) next = Signal::long_;
      else if (short_entry) next = Signal::short_;
      break;
    case Signal::long_:
      if (short_entry) next = Signal::short_;
      else if (p.up < cfg_.exit_prob) next = Signal::flat;
      break;
    case Signal::short_:
      if (long_entry) next = Signal::long_;
      else if (p.down < cfg_.exit_prob) next = Signal::flat;
      break;
  }
  if (next != signal_) c_->signal_changes.add();
  signal_ = next;

  std::int64_t size = 0;
  if (signal_ != Signal::flat) {
    switch (cfg_.sizing) {
      case Sizing::fixed: size = cfg_.order_qty.raw; break;
      case Sizing::max_position: size = cfg_.max_position.raw; break;
      case Sizing::confidence: {
        const double pd = signal_ == Signal::long_ ? p.up : p.down;
        const double f = std::clamp((pd - cfg_.exit_prob) / (1.0 - cfg_.exit_prob), 0.0, 1.0);
        size = static_cast<std::int64_t>(std::floor(static_cast<double>(cfg_.max_position.raw) * f));
        break;
      }
    }
    size = round_down(std::min(size, cfg_.max_position.raw));
  }
  target_.raw = signal_ == Signal::short_ ? -size : size;
  return act(top, acct, now_ns, out);
}

std::size_t SignalStrategy::on_book(const risk::MarketTop& top, const AccountView& acct, std::int64_t now_ns,
                                    std::span<Intent> out) noexcept {
  c_->maintenance.add();
  return act(top, acct, now_ns, out);
}

std::size_t SignalStrategy::act(const risk::MarketTop& top, const AccountView& acct, std::int64_t now_ns,
                                std::span<Intent> out) noexcept {
  std::int64_t working = acct.position.raw;
  for (const risk::OpenOrder& o : acct.open) working += o.side == exec::Side::buy ? o.leaves.raw : -o.leaves.raw;
  const std::int64_t delta = target_.raw - working;
  const bool tradable = top.tradable();
  const std::int64_t reprice_dist =
      cfg_.reprice_ticks > 0 ? static_cast<std::int64_t>(cfg_.reprice_ticks) * cfg_.tick_size.raw : 0;

  std::size_t n = 0;
  bool opposite_working = false;  // an order fighting the target is still out (maybe being canceled)
  for (const risk::OpenOrder& o : acct.open) {
    const bool wrong = (delta > 0 && o.side == exec::Side::sell) || (delta < 0 && o.side == exec::Side::buy);
    if (wrong) opposite_working = true;
    if (o.cancel_pending) continue;
    CancelWhy why = CancelWhy::none;
    if (wrong) {
      why = CancelWhy::wrong_side;
    } else if (o.type == exec::OrderType::limit_maker) {
      if (cfg_.passive_max_age_ns > 0 && now_ns - o.sent_ns > cfg_.passive_max_age_ns) {
        why = CancelWhy::stale;
      } else if (reprice_dist > 0 && tradable) {
        const Price touch = o.side == exec::Side::buy ? top.bid : top.ask;
        const std::int64_t d = touch.raw - o.price.raw;
        if ((d < 0 ? -d : d) >= reprice_dist) why = CancelWhy::reprice;
      }
    }
    if (why == CancelWhy::none) continue;
    if (n == out.size()) {
      c_->dropped.add();
      continue;
    }
    Intent& it = out[n++];
    it = Intent{};
    it.kind = Intent::Kind::cancel;
    it.why = why;
    it.cancel.symbol = o.symbol.empty() ? symbol_ : o.symbol;
    it.cancel.orig_client_order_id = o.client_order_id;
    it.cancel.exchange_order_id = o.exchange_order_id;
    c_->cancel_intents.add();
  }

  const std::int64_t abs_delta = round_down(delta < 0 ? -delta : delta);
  if (abs_delta < cfg_.qty_step.raw || opposite_working) return n;
  if (!tradable) {
    c_->no_book.add();
    return n;
  }
  if (any_new_ && now_ns - last_new_ns_ < cfg_.min_interval_ns) {
    c_->throttled.add();
    return n;
  }
  if (n == out.size()) {
    c_->dropped.add();
    return n;
  }
  const bool buy = delta > 0;
  Intent& it = out[n++];
  it = Intent{};
  it.kind = Intent::Kind::new_order;
  exec::OrderRequest& r = it.order;
  r.symbol = symbol_;
  r.side = buy ? exec::Side::buy : exec::Side::sell;
  r.qty.raw = std::min(abs_delta, cfg_.order_qty.raw);
  r.created_ns = now_ns;
  if (cfg_.style == OrderStyle::passive) {
    r.type = exec::OrderType::limit_maker;
    r.tif = exec::TimeInForce::gtc;
    r.price = buy ? top.bid : top.ask;
  } else if (cfg_.aggressive_market) {
    r.type = exec::OrderType::market;
    r.tif = exec::TimeInForce::gtc;  // ignored by the venue for MARKET
    r.price = Price{};
  } else {
    r.type = exec::OrderType::limit;
    r.tif = exec::TimeInForce::ioc;
    r.price = buy ? top.ask : top.bid;
  }
  last_new_ns_ = now_ns;
  any_new_ = true;
  c_->new_intents.add();
  return n;
}

}  // namespace tickrt::strategy
