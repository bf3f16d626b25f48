// strategy/strategy.hpp — the strategy stage: model output -> signal -> target position -> order
// intents. The contract.
//
// Who calls, when: the thread that owns the symbol's book and sees the OMS state (the pipeline's
// trading thread; the backtester's single thread runs this same code verbatim):
//   on_model_output(out, top, account, now, intents)  after each inference of the symbol's model;
//   on_book(top, account, now, intents)               after book changes (optional): maintenance
//       only (cancel stale / off-touch passive orders, cancel orders that fight the target, and
//       top up to the current target); it never changes the signal.
// Both write intents (new orders without client ids, cancels without their own ids: the OMS
// assigns ids) into the caller's array and return how many. Every intent then goes through risk/
// before the OMS sends it; the strategy never talks to a gateway.
// Hot path: noexcept, no allocation, no clock reads (time is the caller's now_ns), no virtual
// calls, no logging; deterministic: the same inputs in the same order give the same intents.
//
// Signal (three classes down/flat/up, models/trained/*/model_card.md; logits are softmaxed):
//   flat -> long  when p_up >= enter_prob and p_up - p_down >= min_edge (short symmetric);
//   long -> flat  when p_up < exit_prob (hysteresis: exit_prob <= enter_prob keeps a position
//                 through small dips); long -> short directly when the short entry holds.
// Target position = signal x size, where size is
//   fixed:      order_qty (one clip);
//   max:        max_position;
//   confidence: max_position x (p_dir - exit_prob) / (1 - exit_prob), rounded DOWN to qty_step
//               (so a weakening signal shrinks the position before it exits).
// always clamped to [-max_position, max_position] and rounded down to qty_step.
//
// Orders: working = position + open buy leaves - open sell leaves (orders with a cancel in flight
// count: a cancel can lose a race with a fill, so exposure never exceeds the target). delta =
// target - working. Orders on the side opposite to delta (or any order when delta is 0 and
// the position already equals the target) are canceled. A new order of min(|delta|, order_qty)
// goes out when |delta| >= qty_step, the book top is tradable, and min_interval_ns has passed
// since the last new-order intent. Style:
//   aggressive: LIMIT IOC at the touch (buy at the best ask, sell at the best bid), or MARKET
//               when aggressive_market is set;
//   passive:    LIMIT_MAKER (post-only) at the same-side touch (buy at the best bid, sell at the
//               best ask). A passive order is canceled when it is older than passive_max_age_ns,
//               or when the touch moved reprice_ticks x tick_size or more away from its price
//               (reprice rule: cancel now, re-place on the first decision after the cancel is
//               acknowledged, when its leaves no longer count).
// Cancels are not subject to min_interval_ns (they only reduce exposure).
// Limits: at most kMaxIntents intents per call are useful (the caller's array may be smaller: the
// remainder is dropped and counted, and the next call re-derives it from the state).
#pragma once

#include "strategy/signal_strategy.hpp"
