// pipeline/gateway_config.hpp — the config's [exec] gateway settings as exec::BinanceGateway takes them.
//
// Who calls: setup only, once per process, before the gateway is made: the single process
// (pipeline/runtime.cpp Pipeline::Impl::setup_exec) and the NATS execution node (bus/exec_node.cpp
// ExecNode::create). One mapping, so exec.gateway_spin_us / gateway_sleep_us / gateway_cpu (the IO
// thread's idle wait and pinning, exec/gateway.hpp IdleWait) hold wherever the gateway runs (the exec
// node built its own copy before and dropped gateway_cpu).
//
// Where the orders go:
//   local_port > 0  an in-process venue (venue/venue.hpp) on 127.0.0.1:local_port, plain HTTP; an empty
//                   exec.api_key means the venue's test key and secret.
//   local_port = 0  feed.rest_url (a parse error names it) with exec.api_key and exec.api_secret, both
//                   needed (invalid_argument naming them otherwise: a caller that trades without keys
//                   as "no orders" checks before).
// The cpu is not checked against this machine here: BinanceGateway::start() refuses a CPU it lacks.
#pragma once

#include <cstdint>

#include "core/status.hpp"
#include "exec/binance_gateway.hpp"
#include "pipeline/config.hpp"

namespace tickrt::pipeline {

Result<exec::BinanceConfig> gateway_config(const PipelineConfig& cfg, std::uint16_t local_port);

}  // namespace tickrt::pipeline
