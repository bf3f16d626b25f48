// bus/shard_node.hpp — `tickrt run --source nats://... --symbols A,B`: a strategy node for one shard.
//
//   JetStream MD ──durable push consumer per symbol──► delivery thread ─MsgRing─► shard thread:
//     decode (bus/wire.hpp) -> seq check -> L2Book -> FeatureEngine -> sample -> InferStage -> SignalStrategy
//     -> intents ──NATS request ex.intent.<SYM>──► exec node (risk + OMS) ──reply: verdicts + account view
//   ex.acct.<SYM> (account views after fills/cancels) and ctl.all (kill / cancel-all / reset) arrive
//   on the same ring.
//
// Who calls: the CLI (apps/tickrt/cmd_bus.cpp via cmd_run.cpp) and the tests: create() (setup:
// model, NATS, consumers, rebuild), run(stop) on the calling thread.
//
// Exactness: the book, the features, the sampling rule and the strategy are the single process's
// code (pipeline/market.cpp's rule, applied to the decoded events: the same event sequence the
// single process parses), so a shard decides what the single process decides for its symbols;
// the only difference is the account view (position, open orders), which comes from the exec node
// one hop later (the reply to each intent message carries it; fills arrive on ex.acct.<SYM>).
//
// Delivery guarantees: one durable consumer per (node, symbol), explicit acks, each message acked
// after it was fully processed (its intents answered). A restarted node (same --node name) resumes
// after its ack floor: create() re-creates the consumer to start at floor + 1 (no redelivery wait,
// no reordering) and first replays the symbol's stream up to the floor through book and features
// (no inference, no intents) so its state equals the state of a node that never stopped. Per
// symbol, seq must grow by exactly 1: a duplicate (seq <= last) is dropped and counted, a jump is
// counted as a gap (and the book's own chain check resyncs at the next snapshot).
//
// Hot path: no allocation after each symbol's first message; the intent request blocks this
// thread for one round trip (the measured strategy -> execution hop).
// Limits: symbols must be named (no wildcards: one consumer per symbol keeps per-symbol order);
// strategy memory (signal hysteresis, last-order time) is not rebuilt on restart (starts flat).
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

struct ShardOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string stream = "MD";
  std::string venue = "binance";
  std::string node = "shard";            // durable consumer prefix: <node>_<SYMBOL>
  std::vector<std::string> symbols;      // this shard's symbols (upper case)
  pipeline::PipelineConfig cfg;          // model, [strategy]; exec.trade false = no intents
  double idle_exit_s = 0;                // stop after this long without market data (0 = never)
  double duration_s = 0;                 // 0 = until stop / idle
  int request_timeout_ms = 2000;
  std::string events_out;                // tests: append "SYMBOL seq\n" per applied event to this file
  bool rebuild = true;                   // restart: replay up to the ack floor first
};

struct ShardCounters {
  std::uint64_t messages = 0, duplicates = 0, gaps = 0, resets = 0, bad = 0, replayed = 0;
  std::uint64_t samples = 0, inferences = 0, intent_msgs = 0, intents = 0;
  std::uint64_t accepted = 0, refused = 0, failed = 0, timeouts = 0, views = 0, controls = 0;
  std::uint64_t orders_new = 0, cancels = 0;   // accepted intents by kind
  std::uint64_t refused_account_flat = 0;      // new orders refused by an account-wide limit while this
                                               // symbol had no open order (another shard's orders did it)
  double seconds = 0;
};

class ShardNode {
 public:
  static Result<std::unique_ptr<ShardNode>> create(const ShardOptions& o, std::ostream& out);
  ~ShardNode();
  ShardNode(const ShardNode&) = delete;
  ShardNode& operator=(const ShardNode&) = delete;

  Status run(const std::atomic<bool>& stop);
  const ShardCounters& counters() const noexcept { return c_; }
  std::string report() const;
  // feed receive -> shard delivery (feed hop), and intent request round trip (exec hop).
  const LatencyHistogram& feed_hop() const noexcept { return feed_hop_; }
  const LatencyHistogram& exec_hop() const noexcept { return exec_hop_; }

  struct Impl;

 private:
  explicit ShardNode(std::unique_ptr<Impl> i);
  std::unique_ptr<Impl> impl_;
  ShardCounters c_;
  LatencyHistogram feed_hop_, exec_hop_;
};

}  // namespace tickrt::bus
