// pipeline/latency.hpp — per-stage latency histograms of the tick-to-order path and the table
// `tickrt run` / `make demo` print.
//
// Stages (each a core/latency_histogram.hpp, ns; intervals from TscClock stamps on one time base):
//   receive->parsed    frame read -> event parsed
//   book               parsed -> book updated
//   features           book -> features updated and window sampled (ticks that sampled)
//   queue wait         window enqueued -> picked by the inference thread (pipelined mode)
//   inference          engine run incl. input normalisation (per window; a batch counts for each); a result
//                      the engine made at the boundary (infer_at_boundary) costs the tick only its hand-over
//   inference ahead    the engine runs made at a sampling boundary by the clock, between ticks (inline)
//   window->output     window sampled -> model output ready (queue wait + batching + inference)
//   decision+risk      strategy + risk checks + OMS submit (ticks that made an order)
//   order encode+send  OMS enqueue -> the gateway's write returned (exec/gateway.hpp t2 - t1)
//   tick->order queued receive -> the order request is in the gateway ring (this thread's work)
//   tick->order sent   receive -> the gateway's write returned (internal tick-to-order)
//   wire-to-wire       venue side: market-data frame sent -> the order it caused read (loopback)
// Who calls: each recording thread owns its own StageLatency; the reporting thread merges them
// after the threads stopped (or reads copies): LatencyHistogram is single-threaded.
#pragma once

#include <array>
#include <vector>

#include "exec/gateway.hpp"
#include <cstdint>
#include <string>
#include <string_view>

#include "core/latency_histogram.hpp"

namespace tickrt::pipeline {

enum class Stage : std::uint8_t {
  recv_parsed = 0,
  book,
  features,
  queue_wait,
  inference,
  infer_ahead,
  window_result,
  decision_risk,
  encode_send,
  tick_to_queued,
  tick_to_sent,
  wire_to_wire,
  count_
};
inline constexpr std::size_t kStageCount = static_cast<std::size_t>(Stage::count_);
std::string_view stage_name(Stage s) noexcept;
// Prometheus-friendly name ("recv_parsed", ...).
std::string_view stage_key(Stage s) noexcept;

struct StageLatency {
  std::array<LatencyHistogram, kStageCount> h;
  void record(Stage s, std::int64_t ns) noexcept { h[static_cast<std::size_t>(s)].record(ns); }
  LatencyHistogram& operator[](Stage s) noexcept { return h[static_cast<std::size_t>(s)]; }
  const LatencyHistogram& operator[](Stage s) const noexcept { return h[static_cast<std::size_t>(s)]; }
  void merge(const StageLatency& o) noexcept {
    for (std::size_t i = 0; i < kStageCount; ++i) h[i].merge(o.h[i]);
  }
  void reset() noexcept {
    for (auto& x : h) x.reset();
  }
};

// tick->order queued of the ticks that made an order, cut into its parts (Trader::decide stamps them; the
// stage table above mixes every tick's parse/book/features with the order ticks' totals, so it cannot say
// where an ORDER tick's time went). Parts, in order, sum to the total:
enum class OrderPart : std::uint8_t {
  parse = 0,     // frame read -> parsed
  book,          // parsed -> book updated
  features,      // book -> features updated, window sampled
  to_infer,      // sampled -> inference started (inline: the call; pipelined: ring + batching)
  inference,     // normalise + engine (streaming: the step)
  to_decide,     // inference done -> Trader::decide entered
  strategy,      // risk mark + position/open orders view + strategy (intents)
  risk,          // pre-trade check of the order
  oms,           // OMS submit: id, journal record, push to the gateway ring
  total,         // frame read -> in the gateway ring (= tick->order queued)
  count_
};
inline constexpr std::size_t kOrderPartCount = static_cast<std::size_t>(OrderPart::count_);
struct OrderParts {
  std::array<LatencyHistogram, kOrderPartCount> h;
  void record(OrderPart p, std::int64_t ns) noexcept { h[static_cast<std::size_t>(p)].record(ns); }
};
// part | P50 | P95 | P99 | max (µs) of the order ticks; empty when there was no order. Report path.
std::string order_parts_table(const OrderParts& o);

// The article's budget (docs/PIPELINE.md): 6.6 ms in process, 9.8 ms with the network.
inline constexpr double kBudgetInProcessUs = 6600.0;
inline constexpr double kBudgetWireUs = 9800.0;

// Markdown-ish table: stage | count | P50 | P95 | P99 | P99.9 | max (µs), plus the budget lines.
std::string latency_table(const StageLatency& l);

// "order encode+send" of new orders split by the gateway's SendTrace stamps (exec/gateway.hpp):
// wait (ring hand-off + IO thread wake-up), queued (connection busy), format, sign, write, total;
// P50 / P95 / max µs. Empty when there is none. Setup path (after the gateway stopped).
std::string send_breakdown_table(const std::vector<exec::SendTrace>& traces);

}  // namespace tickrt::pipeline
