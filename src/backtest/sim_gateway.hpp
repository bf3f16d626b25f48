// backtest/sim_gateway.hpp — one OMS request applied to the simulator's matching engine, answered
// the way tickrt's live Binance gateway answers the same request.
//
// Who calls: both backtesters (backtester.cpp: tick replay; bars_backtest.cpp: bar-fill model), in
// place of a gateway's IO thread: they drain the OMS's outbound ring and hand each request here.
// The matching engine reports accepted work (NEW / TRADE / CANCELED / EXPIRED) through its sink;
// what it answers in its return value (a refused order, a refused cancel, a status query) becomes
// the ExecReport this function writes, with the live gateway's semantics (exec/binance_gateway.cpp,
// its error path), so the OMS sees the same state machine in a backtest as live:
//   * refused new order   -> exec_type rejected, status rejected, reject = the engine's code
//   * refused cancel      -> exec_type rejected, status new_ (the order is not known to be gone),
//                            reject = the engine's code, cancel_rejected when it gives none; the
//                            OMS then marks the order unknown and queries it
//   * query, not found    -> exec_type status, status rejected, reject no_such_order
//   * query, found        -> exec_type status with the order's state and cumulative quantities
// Hot path of a backtest: noexcept, no allocation beyond the engine's own.
#pragma once

#include <cstdint>

#include "exec/gateway.hpp"
#include "sim/matching_engine.hpp"

namespace tickrt::backtest {

// Returns true and fills `answer` (transact_ns = now; local_ns left to the caller's latency model)
// when the request is answered here; false when the engine's reports come through its sink.
// The simulator's settings both backtesters replay with: the run's fees and seed; no balance checks,
// no fill log and no book-update events (the replay drives the books itself and keeps its own fills).
inline sim::SimConfig replay_sim_config(double maker_fee_bps, double taker_fee_bps, std::uint64_t seed) {
  sim::SimConfig sc;
  sc.maker_fee_bps = maker_fee_bps;
  sc.taker_fee_bps = taker_fee_bps;
  sc.enforce_balances = false;
  sc.record_fills = false;
  sc.emit_book_updates = false;
  sc.seed = static_cast<std::int64_t>(seed);
  return sc;
}

[[nodiscard]] bool apply_gateway_request(sim::MatchingEngine& me, sim::AccountId account, const exec::GatewayRequest& g,
                                         std::int64_t now_ns, exec::ExecReport& answer) noexcept;

}  // namespace tickrt::backtest
