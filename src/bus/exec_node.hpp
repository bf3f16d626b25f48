// bus/exec_node.hpp — `tickrt exec --nats nats://...`: the execution node of a sharded deployment.
// It owns what must be ONE per account: the gateway (exec/binance_gateway.hpp), the OMS
// (exec/oms.hpp), the journal (exec/journal.hpp) and pre-trade risk (risk/risk_engine.hpp) over
// every symbol of every shard.
//
//   shard nodes ──request ex.intent.<SYM>──► delivery thread ─MsgRing─► exec thread ──► risk ──► OMS ─ring─► gateway ─► venue
//               ◄──reply: verdicts + account view─────────────────────── (one thread)
//               ◄──publish ex.acct.<SYM>: the symbol's account view after each report (fills, cancels, acks)
//   anyone ──publish ctl.all: kill | cancel-all | reset──► (same ring) ──► risk kill switch / OMS cancel_all
//
// Who calls: the CLI and the tests: create() (setup: venue, journal, OMS, risk, gateway, NATS),
// run(stop) on the calling thread; it returns on stop or after `idle_exit_s` without an intent.
//
// Per intent message (hot path, the exec thread): the top of book the strategy saw marks risk and
// the OMS (as pipeline/trader.cpp does per inference), then each intent in order: new orders go
// through RiskEngine::check_new (exposure from the OMS's open orders of the symbol, the account's
// open-order count over ALL shards), then Oms::submit; cancels through check_cancel then
// Oms::cancel. The answer carries a verdict per intent (accepted / refused + risk::Reason /
// failed) and the symbol's account view (position + open orders) the strategy decides from next.
// An intent message whose md_seq is not above the last one seen for its symbol is a resend (a
// restarted shard re-processing its last unacknowledged tick): answered `failed`, reason 255,
// nothing sent to the venue.
//
// Staleness across hosts: the intent carries the book's age when it was sent (stamp - update_ns,
// both the shard's clock); the exec node re-bases it onto its own clock at receipt, so
// max_md_staleness holds across machines (the hop itself is not counted as age).
//
// Hot path: no allocation, no exceptions; cnats' publish takes its connection lock (the only lock).
// Setup: the gateway is made from [exec] exactly as the single process makes it
// (pipeline/gateway_config.hpp: gateway_spin_us / gateway_sleep_us / gateway_cpu hold here too);
// with a journal, restart recovery (exec/recovery.hpp) runs before the gateway starts, as in the
// single process, and fails closed (against the in-process simulator, born empty, it is skipped).
// Limits: risk::RiskEngine::kMaxSymbols symbols.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/latency_histogram.hpp"
#include "core/status.hpp"
#include "pipeline/config.hpp"

namespace tickrt::bus {

struct ExecOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::vector<std::string> symbols;      // every traded symbol of every shard (upper case)
  pipeline::PipelineConfig cfg;          // [risk], [exec], [strategy] sizes; feed.source sim/capture =
                                         // in-process venue (no market data), url = cfg.rest_url
  int max_open_orders_account = 0;       // 0: cfg.max_open_orders x symbols (as the single process)
  int max_orders_per_s_account = 0;      // 0: risk.max_orders_per_s x symbols: the single process trades one
                                         // symbol, so N symbols ran as N processes had N x the order (and
                                         // cancel) rate; one account-wide bucket of 1 x refused the sharded
                                         // deployment's orders that the processes placed (order_rate)
  double idle_exit_s = 0;                // stop after this long without an intent (0 = never)
  double duration_s = 0;                 // 0 = until stop
};

struct ExecCounters {
  std::uint64_t intent_msgs = 0, intents = 0, orders = 0, cancels = 0, refused = 0, failed = 0, duplicates = 0;
  std::uint64_t bad_msgs = 0, fills = 0, rejects = 0, views_published = 0, controls = 0;
  std::uint64_t cancels_at_shutdown = 0, open_at_end = 0;
  std::uint64_t refused_by[32] = {};  // by risk::Reason (index = its value): which rule refused
  std::uint64_t failed_by[32] = {};   // new orders the OMS did not take, by exec::SubmitResult value
  double seconds = 0;
};

class ExecNode {
 public:
  static Result<std::unique_ptr<ExecNode>> create(const ExecOptions& o, std::ostream& out);
  ~ExecNode();
  ExecNode(const ExecNode&) = delete;
  ExecNode& operator=(const ExecNode&) = delete;

  Status run(const std::atomic<bool>& stop);
  const ExecCounters& counters() const noexcept { return c_; }
  // Per symbol: orders accepted, refused, position (base, 1e-8) at the end.
  std::string report() const;
  // exec thread's time from intent delivery to reply sent.
  const LatencyHistogram& service_latency() const noexcept { return service_; }

  struct Impl;

 private:
  explicit ExecNode(std::unique_ptr<Impl> i);
  std::unique_ptr<Impl> impl_;
  ExecCounters c_;
  LatencyHistogram service_;
};

}  // namespace tickrt::bus
