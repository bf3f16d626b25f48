// bus/jobs.hpp — distributed backtests over a JetStream work queue (`tickrt backtest --distributed`,
// `tickrt worker`).
//
//   coordinator ──js publish bt.job.<sweep>.<k>──► stream BTJOBS (WorkQueue retention) ──pull consumer "workers"──► worker(s)
//   worker: parse job -> backtest::Backtester (bt-core's library entry point) on ONE engine x ONE data file
//           -> BacktestResult with that one EngineRun -> to_json ──js publish bt.result.<sweep>.<k>──► stream BTRES
//   coordinator ◄──ordered consumer bt.result.<sweep>.>── collects n results -> per data file: finalize() -> write_report()
//
// Who calls: the CLI (apps/tickrt/cmd_bus.cpp; cmd_backtest.cpp routes --distributed here).
// A sweep = engines x data files x zero-latency twins; each combination is one job (its text
// carries the effective backtest TOML, so every worker runs the same configuration).
//
// Delivery: explicit acks, AckWait (coordinator option, default 60 s). A worker sends "in progress"
// every AckWait/3 while its backtest runs, and acknowledges only after its result is stored in
// BTRES. A worker that dies mid-job stops the heartbeats: the job is redelivered to another
// worker after AckWait. A result that arrives twice (a worker died between storing its result and
// acking) is kept once. Paths (engines, data) are made absolute: workers need the same files at
// the same paths (a shared file system or the same checkout).
//
// Limits: parameters other than engines, data files and twins are swept by giving several
// --config files one after the other (no in-TOML grid yet).
#pragma once

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace tickrt::bus {

struct SweepOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string config;                 // backtest TOML ("" = embedded default)
  std::string engines;                // comma list (backtest --engines form)
  std::vector<std::string> data;      // capture files (override backtest.data)
  std::string out;                    // report directory (one sub-directory per data file when several)
  std::int64_t seed = -1;
  std::string twins;                  // "" = config; on | off
  std::string command;                // echoed into the result
  std::int64_t ack_wait_s = 60;
  double timeout_s = 3600;            // whole sweep
  std::string source_root;            // base directory of the embedded default config
};

struct WorkerOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string name = "worker";
  double idle_exit_s = 0;             // stop after this long without a job (0 = never)
  int max_jobs = 0;                   // 0 = unlimited
};

// Coordinator: publishes the jobs, waits for every result, writes the report(s). `out` gets
// progress lines. Returns the number of jobs on success.
Result<int> run_sweep(const SweepOptions& o, std::ostream& out);
// Worker: pulls and runs jobs until stop / idle / max_jobs.
Status run_worker(const WorkerOptions& o, const std::atomic<bool>& stop, std::ostream& out);

}  // namespace tickrt::bus
