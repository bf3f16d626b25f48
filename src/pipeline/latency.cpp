// pipeline/latency.cpp — stage names and the latency table (report path).
#include "pipeline/latency.hpp"

#include <cstdio>

namespace tickrt::pipeline {

std::string_view stage_name(Stage s) noexcept {
  switch (s) {
    case Stage::recv_parsed: return "receive->parsed";
    case Stage::book: return "book";
    case Stage::features: return "features";
    case Stage::queue_wait: return "queue wait";
    case Stage::inference: return "inference";
    case Stage::window_result: return "window->output";
    case Stage::decision_risk: return "decision+risk";
    case Stage::encode_send: return "order encode+send";
    case Stage::tick_to_queued: return "tick->order queued";
    case Stage::tick_to_sent: return "tick->order sent";
    case Stage::wire_to_wire: return "wire-to-wire (venue)";
    case Stage::count_: break;
  }
  return "?";
}

std::string_view stage_key(Stage s) noexcept {
  switch (s) {
    case Stage::recv_parsed: return "recv_parsed";
    case Stage::book: return "book";
    case Stage::features: return "features";
    case Stage::queue_wait: return "queue_wait";
    case Stage::inference: return "inference";
    case Stage::window_result: return "window_output";
    case Stage::decision_risk: return "decision_risk";
    case Stage::encode_send: return "encode_send";
    case Stage::tick_to_queued: return "tick_to_queued";
    case Stage::tick_to_sent: return "tick_to_sent";
    case Stage::wire_to_wire: return "wire_to_wire";
    case Stage::count_: break;
  }
  return "?";
}

std::string latency_table(const StageLatency& l) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "| %-22s | %9s | %9s | %9s | %9s | %9s | %9s |\n", "stage (us)", "count", "P50", "P95",
                "P99", "P99.9", "max");
  out += buf;
  out += "|------------------------|-----------|-----------|-----------|-----------|-----------|-----------|\n";
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const LatencyHistogram& h = l.h[i];
    if (h.empty()) {
      std::snprintf(buf, sizeof(buf), "| %-22s | %9d | %9s | %9s | %9s | %9s | %9s |\n",
                    std::string(stage_name(static_cast<Stage>(i))).c_str(), 0, "-", "-", "-", "-", "-");
    } else {
      std::snprintf(buf, sizeof(buf), "| %-22s | %9llu | %9.1f | %9.1f | %9.1f | %9.1f | %9.1f |\n",
                    std::string(stage_name(static_cast<Stage>(i))).c_str(),
                    static_cast<unsigned long long>(h.count()), us(h.percentile(50)), us(h.percentile(95)),
                    us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()));
    }
    out += buf;
  }
  const LatencyHistogram& t = l[Stage::tick_to_sent];
  const LatencyHistogram& w = l[Stage::wire_to_wire];
  std::snprintf(buf, sizeof(buf), "budget (article): %.1f ms in process -> measured tick->order sent P99 %s; %.1f ms with the network -> measured wire-to-wire P99 %s\n",
                kBudgetInProcessUs / 1000.0,
                t.empty() ? "n/a" : (std::to_string(us(t.percentile(99))).substr(0, 8) + " us").c_str(),
                kBudgetWireUs / 1000.0,
                w.empty() ? "n/a" : (std::to_string(us(w.percentile(99))).substr(0, 8) + " us").c_str());
  out += buf;
  return out;
}

}  // namespace tickrt::pipeline
