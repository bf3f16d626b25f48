// infer/runtime/parallel.hpp — how a specialized plan is made to use an intra-op thread pool (setup path).
//
// Who calls: ExecutionContext::prepare, when set_threads(n >= 2) gave the context a pool, after the plan is bound to
// the arena. Nothing here runs per inference.
// What it does, per step: a kernel with a parallel form (Kernel::run_mt) gets the pool and runs that form; two
// consecutive tickrt.FusedLSTM steps at batch 1 where the second reads the first's Y become one pipelined step
// (ops/fused.cpp, pipeline_lstm_pair) unless the arena puts the second's outputs in bytes the first still uses.
// Invariant: every plan change keeps the results within FP32 rounding of the one-thread plan (the parallel forms
// split independent rows, samples or heads; the pipeline computes the same recurrence in chunks).
#pragma once

#include <cstddef>

#include "core/status.hpp"
#include "infer/runtime/plan.hpp"
#include "infer/runtime/thread_pool.hpp"

namespace tickrt::infer {

struct ParallelReport {
  int parallel_steps = 0;     // steps running their run_mt form
  int pipelined_pairs = 0;    // FusedLSTM pairs merged into one pipelined step
  std::size_t scratch_bytes = 0;   // per worker, reserved in the pool
};

Status parallelize(Plan& plan, ThreadPool& pool, ParallelReport* report = nullptr);

}  // namespace tickrt::infer
