// metrics/standard.cpp — see standard.hpp.
#include "metrics/standard.hpp"

#include <string>

namespace tickrt::metrics {

Result<StandardMetrics> register_standard(Registry& r, std::string_view version,
                                          std::span<const std::string_view> stages,
                                          std::span<const std::string_view> symbols) {
  StandardMetrics m;
  TICKRT_RETURN_IF_ERROR(r.info("tickrt_engine_info", "tickrt build information.", {{"version", std::string(version)}}));
  const auto lat = default_latency_bounds_ns();
  for (std::string_view st : stages) {
    auto h = r.histogram("tickrt_stage_latency_seconds", "Time spent per pipeline stage, per event.",
                         {{"stage", std::string(st)}}, lat, 1e-9);
    if (!h.ok()) return h.status();
    m.stage_latency.push_back(*h);
  }
  auto c = [&](const char* name, const char* help, Counter*& out) -> Status {
    auto x = r.counter(name, help);
    if (!x.ok()) return x.status();
    out = *x;
    return Status::Ok();
  };
  TICKRT_RETURN_IF_ERROR(c("tickrt_messages_total", "Market-data messages processed.", m.messages));
  TICKRT_RETURN_IF_ERROR(c("tickrt_orders_total", "Orders sent to the venue.", m.orders));
  TICKRT_RETURN_IF_ERROR(c("tickrt_fills_total", "Fills received.", m.fills));
  TICKRT_RETURN_IF_ERROR(c("tickrt_resyncs_total", "Order-book resynchronisations.", m.resyncs));
  auto q = r.gauge("tickrt_queue_depth", "Events waiting in the pipeline queues.");
  if (!q.ok()) return q.status();
  m.queue_depth = *q;
  const std::int64_t bs[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  auto b = r.histogram("tickrt_batch_size", "Inference batch size.", {}, bs, 1.0);
  if (!b.ok()) return b.status();
  m.batch_size = *b;
  auto p = r.gauge("tickrt_pnl_quote", "Profit and loss in the quote currency, marked at the mid.");
  if (!p.ok()) return p.status();
  m.pnl_quote = *p;
  for (std::string_view s : symbols) {
    auto g = r.gauge("tickrt_position", "Position in base units.", {{"symbol", std::string(s)}});
    if (!g.ok()) return g.status();
    m.position.push_back(*g);
  }
  return m;
}

Status register_risk(Registry& r, const risk::RiskEngine& engine) {
  const risk::RiskCounters* c = &engine.counters();
  for (std::size_t i = 1; i < risk::kReasonCount; ++i) {
    TICKRT_RETURN_IF_ERROR(r.counter_fn("tickrt_rejects_total", "Intents refused by pre-trade risk, by reason.",
                                        {{"reason", std::string(risk::reason_name(static_cast<risk::Reason>(i)))}},
                                        [c, i] { return static_cast<double>(c->refused[i].get()); }));
  }
  const risk::RiskEngine* e = &engine;
  return r.gauge_fn("tickrt_kill_switch_latched", "1 while the risk kill switch is latched.", {},
                    [e] { return e->latched() ? 1.0 : 0.0; });
}

}  // namespace tickrt::metrics
