// metrics/standard.hpp — the tickrt metric set, registered once at setup, so every process
// (tickrt run, the demo, tests) exposes the same names:
//   tickrt_engine_info{version}                      gauge 1 (info)
//   tickrt_stage_latency_seconds{stage}              histogram per pipeline stage (observe ns)
//   tickrt_messages_total, tickrt_orders_total, tickrt_fills_total, tickrt_resyncs_total  counters
//   tickrt_queue_depth                               gauge
//   tickrt_batch_size                                histogram (inference batch, 1..256)
//   tickrt_pnl_quote                                 gauge (quote currency)
//   tickrt_position{symbol}                          gauge per symbol (base units)
//   tickrt_rejects_total{reason}                     counter per risk::Reason, read from the
//                                                    RiskEngine's single-writer counters at scrape
//   tickrt_kill_switch_latched                       gauge 0/1 (RiskEngine::latched, atomic)
// Who calls: setup. The returned pointers are then written by the owning threads (registry.hpp).
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "metrics/registry.hpp"
#include "risk/risk_engine.hpp"

namespace tickrt::metrics {

struct StandardMetrics {
  std::vector<Histogram*> stage_latency;  // one per stage, in the order given
  Counter* messages = nullptr;
  Counter* orders = nullptr;
  Counter* fills = nullptr;
  Counter* resyncs = nullptr;
  Gauge* queue_depth = nullptr;
  Histogram* batch_size = nullptr;
  Gauge* pnl_quote = nullptr;
  std::vector<Gauge*> position;           // one per symbol, in the order given
};

Result<StandardMetrics> register_standard(Registry& r, std::string_view version,
                                          std::span<const std::string_view> stages,
                                          std::span<const std::string_view> symbols);

// tickrt_rejects_total{reason} and tickrt_kill_switch_latched from a RiskEngine that outlives
// the registry's scrapes (the callbacks read its atomics on the server thread).
Status register_risk(Registry& r, const risk::RiskEngine& engine);

}  // namespace tickrt::metrics
