// exec/recovery.hpp — restart recovery: rebuild the OMS from the journal, reconcile with the
// exchange, fail closed on what cannot be explained.
//
// Who calls: the process that owns the OMS, once at startup, before the gateway IO thread runs
// orders (the blocking Gateway queries are used; the OMS's rings must be idle). Setup path.
//
// Steps (docs/EXECUTION.md "Recovery"):
//  1. replay_journal(): every journaled order request, cancel and applied report is replayed into
//     a fresh Oms (journal detached, nothing sent). Positions and PnL are recomputed from the
//     journaled fills.
//  2. reconcile():
//     a. myTrades per symbol (from a look-back before the last journaled trade id, or from 0 with
//        full_trade_history): every exchange trade the journal lacks is a fill that happened while
//        we were down (or whose journal row was lost in the crash): applied to its order and
//        journaled. An order the trade belongs to that the journal never saw is looked up by
//        exchange order id; it is adopted when it is explainable (see below), else a mismatch.
//     b. every non-terminal order in the rebuilt OMS is queried: the answer moves it (filled,
//        canceled, still open, or rejected when the exchange never saw it — the request was lost
//        before it left). An answer whose executed quantity exceeds the fills we hold after (a)
//        is a mismatch.
//     c. openOrders per symbol: every open order must be a live order of the OMS; one with our
//        prefix the journal never saw is adopted if explainable, else a mismatch; one without
//        our prefix is a mismatch unless allow_foreign_orders.
//     d. with full_trade_history: the journal's fills must equal the exchange's trades (same
//        trade ids, quantities, prices): a journaled fill the exchange does not have is a mismatch.
//  "Explainable" lost order: its id parses as ours, its session is one the journal recorded, and
//  its seq is above every seq journaled for that session (the journal writes in order, so only a
//  tail can be lost in a crash). Adopted orders are journaled (kind adopt) from the exchange's
//  view of them.
//  3. Fail closed: any mismatch halts the OMS (Oms::halt(): no new orders; cancels allowed) and
//     RecoveryReport::ok is false with one line per mismatch naming symbol, ids and quantities.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "exec/gateway.hpp"
#include "exec/journal.hpp"
#include "exec/oms.hpp"

namespace tickrt::exec {

struct RecoveryConfig {
  bool full_trade_history = false;    // fetch myTrades from id 0 and compare the whole ledger
  std::uint64_t trade_lookback = 1000; // else: from (max journaled trade id - lookback)
  bool allow_foreign_orders = false;  // open orders without our prefix are not a mismatch
};

struct RecoveryReport {
  bool ok = true;
  std::vector<std::string> mismatches;   // why it failed closed (empty when ok)
  std::vector<std::string> notes;        // what it did (adoptions, fills applied, resolutions)
  std::size_t journal_records = 0;
  std::size_t orders_replayed = 0;
  std::size_t fills_replayed = 0;
  std::size_t fills_recovered = 0;       // exchange trades the journal lacked, now applied
  std::size_t orders_adopted = 0;
  std::size_t orders_resolved = 0;       // non-terminal orders whose status the query settled
  std::string summary() const;
};

// Step 1. `oms` must be freshly created with the same prefix and the new session. The Oms's
// journal pointer is detached during replay and restored after.
[[nodiscard]] Status replay_journal(const JournalContents& jc, Oms& oms, RecoveryReport& report);

// Step 2-3. `journal` receives the rows for recovered fills/adoptions (may be null in tests).
// Returns a Status only for transport failures (the exchange could not be asked: also fail
// closed, the OMS is halted); mismatches are in the report.
[[nodiscard]] Status reconcile(const JournalContents& jc, Oms& oms, Gateway& gw, Journal* journal,
                               const RecoveryConfig& cfg, RecoveryReport& report);

// Both steps, what a process does at startup (tests/exec/exec_sigkill_child.cpp shows the whole
// sequence): jc = journal.load(); session = journal.begin_session(prefix); create the Oms with that
// session; recover(jc, oms, gateway, &journal, cfg, report); if report.ok: gateway.start(rings).
// The gateway's blocking queries work before start().
[[nodiscard]] inline Status recover(const JournalContents& jc, Oms& oms, Gateway& gw, Journal* journal,
                                    const RecoveryConfig& cfg, RecoveryReport& report) {
  TICKRT_RETURN_IF_ERROR(replay_journal(jc, oms, report));
  return reconcile(jc, oms, gw, journal, cfg, report);
}

}  // namespace tickrt::exec
