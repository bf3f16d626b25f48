#include "backtest/sim_gateway.hpp"

namespace tickrt::backtest {

bool apply_gateway_request(sim::MatchingEngine& me, sim::AccountId account, const exec::GatewayRequest& g,
                           std::int64_t now_ns, exec::ExecReport& r) noexcept {
  r = exec::ExecReport{};
  r.transact_ns = now_ns;
  switch (g.op) {
    case exec::GatewayOp::new_order: {
      const sim::SubmitResult sr = me.submit(account, g.order, now_ns);
      if (sr.ok()) return false;
      exec::set_order_fields(r, g.order);
      r.exec_type = exec::ExecType::rejected;
      r.status = exec::OrderStatus::rejected;
      r.reject = sr.code;
      return true;
    }
    case exec::GatewayOp::cancel: {
      const sim::CancelResult cr = me.cancel(account, g.cancel, now_ns);
      if (cr.ok()) return false;
      r.symbol = g.cancel.symbol;
      r.client_order_id = g.cancel.client_order_id;
      r.orig_client_order_id = g.cancel.orig_client_order_id;
      r.exec_type = exec::ExecType::rejected;
      r.status = exec::OrderStatus::new_;
      r.reject = cr.code == exec::RejectCode::none || cr.code == exec::RejectCode::unknown ? exec::RejectCode::cancel_rejected
                                                                                            : cr.code;
      return true;
    }
    case exec::GatewayOp::query: {
      const auto st = me.query(account, g.cancel.symbol, g.cancel.orig_client_order_id);
      if (st) {
        r = sim::status_report(*st);
        r.transact_ns = now_ns;
        return true;
      }
      r.symbol = g.cancel.symbol;
      r.client_order_id = g.cancel.orig_client_order_id;
      r.exec_type = exec::ExecType::status;
      r.reject = exec::RejectCode::no_such_order;
      r.status = exec::OrderStatus::rejected;
      return true;
    }
  }
  return false;
}

}  // namespace tickrt::backtest
