// infer/runtime/plan.hpp — a graph specialized to concrete input shapes: the steps to run and the memory plan.
//
// specialize() is the setup path (milliseconds): shape inference with concrete shapes, constant folding of
// everything that does not depend on a graph input (this is where torch's Shape/Gather/Concat/Reshape chains
// disappear once the batch is known), kernel choice, liveness analysis and a greedy arena layout where
// tensors whose lifetimes do not overlap share bytes. The Plan owns no activation memory: an ExecutionContext
// allocates the arena once (pre-faulted) and binds it.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "infer/ops/op.hpp"

namespace tickrt::infer {

struct PlanStats {
  int nodes_in = 0;            // live nodes of the graph
  int steps = 0;               // kernels run per inference
  int folded = 0;              // nodes evaluated at specialization (constant folding)
  int aliased = 0;             // view ops that cost no copy
  std::size_t arena_bytes = 0; // activations (after reuse)
  std::size_t naive_bytes = 0; // activations if nothing were reused
  std::size_t workspace_bytes = 0;
  int parallel_steps = 0;      // intra-op threads (runtime/parallel.hpp): steps running their parallel form
  int pipelined_pairs = 0;     // FusedLSTM pairs run as one two-thread pipeline (batch 1)
};

struct Plan {
  std::vector<TensorRef> tensors;    // one per graph value
  std::vector<std::ptrdiff_t> offset;// arena offset per value, -1 = constant / not in arena
  std::vector<int> storage_of;       // value whose bytes a value uses (aliases), itself otherwise
  std::deque<TensorData> folded;     // constants created by folding (stable addresses)
  std::vector<Kernel> steps;
  std::vector<int> inputs, outputs;  // value ids
  std::size_t arena_bytes = 0;       // includes the shared workspace at the end
  std::size_t workspace_offset = 0;
  PlanStats stats;
};

struct SpecializeOptions {
  cpu::Isa isa = cpu::Isa::scalar;
  std::size_t workspace_limit = 0;   // 0 = unlimited; bytes of arena + workspace
};

// input_dims[i] gives the concrete shape of graph input i.
Status specialize(const Graph& g, const std::vector<Dims>& input_dims, const SpecializeOptions& opt, Plan& plan);

// Evaluates one node on constant inputs (nullptr = omitted optional input): constant folding at build time.
Result<std::vector<TensorData>> evaluate_node(const Node& n, std::int64_t opset, cpu::Isa isa,
                                              const std::vector<const TensorData*>& inputs);

// Every node whose op the backend does not run, listed by name (all at once), or ok.
Status check_supported(const Graph& g);

}  // namespace tickrt::infer
