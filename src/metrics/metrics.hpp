// metrics/metrics.hpp — the metrics stage: what the process tells the outside. The contract.
//
// registry.hpp     lock-free, single-writer counters / gauges / histograms written on the hot
//                  path; Registry::render() produces Prometheus text format 0.0.4.
// http_server.hpp  one Boost.Beast thread serving /metrics, /health (200/503 from a callback)
//                  and bearer-token-protected POST /control/{swap,kill,reset,cancel-all} that call
//                  callbacks the pipeline installs (they post to the trading thread; never block).
// standard.hpp     the tickrt metric names (tickrt_stage_latency_seconds{stage}, ..._total, ...).
// Nothing here runs on the hot path except Counter::add / Gauge::set / Histogram::observe.
#pragma once

#include "metrics/http_server.hpp"
#include "metrics/registry.hpp"
#include "metrics/standard.hpp"
