// risk/risk.hpp — the risk stage: what may reach the exchange. The contract.
//
// Every intent the strategy makes passes RiskEngine::check_new()/check_cancel() (risk_engine.hpp)
// before the OMS sends it; a refusal carries a Reason, is counted per reason, and never leaves the
// process. The engine also owns the kill switch: daily loss or drawdown beyond its limit (from the
// fills and the book mids it is given) or an operator's kill() LATCHES it; while latched every new
// order is refused, cancel_all() produces cancels for every open order, and only reset() with a
// reason unlatches it. Throttles are exact integer token buckets on the caller's clock
// (token_bucket.hpp). The views it reads (MarketTop, OpenOrder, Exposure: views.hpp) are plain values
// the pipeline fills from book/ and exec/, so risk/ includes neither's classes beyond the book's
// state enum and the shared order vocabulary (exec/order_types.hpp).
// One owning thread; hot-path calls are noexcept, allocation-free, clock-free, virtual-free.
#pragma once

#include "risk/risk_engine.hpp"
#include "risk/token_bucket.hpp"
#include "risk/views.hpp"
