// pipeline/latency.cpp — stage names and the latency table (report path).
#include "pipeline/latency.hpp"

#include <algorithm>
#include <cstdio>

namespace tickrt::pipeline {

std::string_view stage_name(Stage s) noexcept {
  switch (s) {
    case Stage::recv_parsed: return "receive->parsed";
    case Stage::book: return "book";
    case Stage::features: return "features";
    case Stage::queue_wait: return "queue wait";
    case Stage::inference: return "inference";
    case Stage::infer_ahead: return "inference ahead";
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
    case Stage::infer_ahead: return "inference_ahead";
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

std::string order_parts_table(const OrderParts& o) {
  static const char* names[kOrderPartCount] = {"parse",     "book",           "features",   "sampled->infer start", "inference",
                                               "infer->decide", "strategy (+mark)", "risk check", "OMS submit",         "total (queued)"};
  const LatencyHistogram& t = o.h[static_cast<std::size_t>(OrderPart::total)];
  if (t.empty()) return {};
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "tick->order queued by part (the %llu order ticks only), us:\n| %-22s | %9s | %9s | %9s | %9s |\n",
                static_cast<unsigned long long>(t.count()), "part", "P50", "P95", "P99", "max");
  out += buf;
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  for (std::size_t i = 0; i < kOrderPartCount; ++i) {
    const LatencyHistogram& h = o.h[i];
    if (h.empty()) continue;
    std::snprintf(buf, sizeof(buf), "| %-22s | %9.1f | %9.1f | %9.1f | %9.1f |\n", names[i], us(h.percentile(50)), us(h.percentile(95)),
                  us(h.percentile(99)), us(h.max()));
    out += buf;
  }
  return out;
}

std::string send_breakdown_table(const std::vector<exec::SendTrace>& traces) {
  std::vector<double> v[6];
  int slept = 0, async = 0;
  for (const exec::SendTrace& t : traces) {
    if (t.op != exec::GatewayOp::new_order || t.sent_ns == 0 || t.encoded_ns == 0) continue;
    const double sign = static_cast<double>(t.signed_ns - t.sign_ns) / 1e3;
    v[0].push_back(static_cast<double>(t.pop_ns - t.enqueue_ns) / 1e3);
    v[1].push_back(static_cast<double>(t.start_ns - t.pop_ns) / 1e3);
    v[2].push_back(static_cast<double>(t.encoded_ns - t.start_ns) / 1e3 - sign);
    v[3].push_back(sign);
    v[4].push_back(static_cast<double>(t.sent_ns - t.encoded_ns) / 1e3);
    v[5].push_back(static_cast<double>(t.sent_ns - t.enqueue_ns) / 1e3);
    slept += t.woke_from_sleep;
    async += t.write_async;
  }
  if (v[5].empty()) return {};
  static const char* names[6] = {"wait (ring + wake-up)", "queued (conn busy)", "format", "sign (HMAC)", "write", "total (encode+send)"};
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "order encode+send by stage (new orders: %zu; IO thread asleep at %d, write went async for %d), us:\n",
                v[5].size(), slept, async);
  out += buf;
  out += "| gateway stage          |       P50 |       P95 |       max |\n";
  for (int i = 0; i < 6; ++i) {
    std::vector<double>& x = v[i];
    std::sort(x.begin(), x.end());
    auto at = [&](double p) { return x[std::min(x.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(x.size())))]; };
    std::snprintf(buf, sizeof(buf), "| %-22s | %9.1f | %9.1f | %9.1f |\n", names[i], at(50), at(95), x.back());
    out += buf;
  }
  return out;
}

}  // namespace tickrt::pipeline
