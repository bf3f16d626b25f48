// infer/ops/op.hpp — how an operator is prepared once and run many times.
//
// Setup path: prepare(PrepareCtx&) validates the node against concrete input dtypes/shapes (and constant
// input values where an op needs them, e.g. Reshape's shape), fills the output dtypes/shapes, picks the run
// function and stores pre-parsed parameters in the Kernel. Errors name the node and the reason.
// Hot path: Kernel::run(const Kernel&) with data pointers already bound: no allocation, no exceptions, no
// lookups; a plain function pointer per step (no virtual dispatch), as ggml's compute table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "infer/cpu/kernels.hpp"
#include "infer/ir/graph.hpp"

namespace tickrt::infer {

// A bound tensor at run time: the planner sets `data` once per context.
struct TensorRef {
  std::byte* data = nullptr;
  DType dtype = DType::undefined;
  Dims dims;
  std::int64_t numel = 0;
  template <class T> T* as() const noexcept { return reinterpret_cast<T*>(data); }
};

struct Kernel;
using RunFn = void (*)(const Kernel&);
class ThreadPool;   // infer/runtime/thread_pool.hpp

struct Kernel {
  RunFn run = nullptr;
  std::vector<const TensorRef*> in;   // nullptr for an omitted optional input
  std::vector<const TensorRef*> out;  // nullptr for an omitted optional output
  std::shared_ptr<void> params;       // op-specific, immutable after prepare
  std::byte* workspace = nullptr;     // scratch, valid during run (shared by all steps)
  std::size_t workspace_bytes = 0;    // asked for by prepare
  cpu::Isa isa = cpu::Isa::scalar;
  bool reads_input_data = true;       // false for Shape/Size: foldable as soon as shapes are known
  bool alias_out0_in0 = false;        // output 0 is a view of input 0's bytes (Reshape & co): no copy
  const Node* node = nullptr;
  // Intra-op threads (ExecutionContext::set_threads, runtime/parallel.hpp): an op with a parallel form sets run_mt at
  // prepare; a context with a pool of 2+ threads then runs run_mt with `pool` set (run_mt falls back to the serial
  // code itself where the shape is too small to gain). Workers' scratch: pool->scratch(tid), at least
  // workspace_bytes (the context reserves it). Left null, a context with threads runs `run`, as with one thread.
  RunFn run_mt = nullptr;
  ThreadPool* pool = nullptr;
  template <class P> const P& p() const noexcept { return *static_cast<const P*>(params.get()); }
};

struct TensorInfo {
  DType dtype = DType::undefined;
  Dims dims;
  const TensorData* constant = nullptr;   // non-null when the value is known at prepare time
  bool present = false;                   // false for an omitted optional input
};

struct PrepareCtx {
  const Node& node;
  std::int64_t opset;
  cpu::Isa isa;
  std::vector<TensorInfo> in;
  std::vector<TensorInfo> out;            // sized to node.outputs; prepare fills dtype and dims
  Kernel& k;

  std::size_t nin() const { return in.size(); }
  bool has(std::size_t i) const { return i < in.size() && in[i].present; }
  Status fail(const std::string& why) const { return Status(Code::invalid_argument, node.label() + ": " + why); }
  Status unsupported(const std::string& why) const { return Status(Code::unsupported, node.label() + ": " + why); }
};

using PrepareFn = Status (*)(PrepareCtx&);

struct OpDef {
  std::string_view domain;   // "" for ai.onnx
  std::string_view op;
  PrepareFn prepare;
};

// The registry of every op the CPU backend runs (ops/registry.cpp). nullptr if unsupported.
const OpDef* find_op(std::string_view domain, std::string_view op);
std::vector<std::string> supported_ops();

// Intra-op threads at batch 1 (ops/fused.cpp): turns `first` (a tickrt.FusedLSTM step at batch 1) into one step that
// runs `first` and `second` (the next FusedLSTM, reading first's Y) as a two-thread pipeline: first's layer on a
// worker in chunks of time steps, second's chunk k as soon as first's chunk k is published. False (nothing changed)
// when the pair does not qualify. `ws_bytes` is the plan's shared workspace (the caller's side must fit in it);
// *scratch_bytes receives what the worker needs. Caller: runtime/parallel.cpp, which also checks that second reads
// first's Y bytes and that the two steps' tensors do not share arena bytes.
bool pipeline_lstm_pair(Kernel& first, const Kernel& second, std::size_t ws_bytes, std::size_t* scratch_bytes);

// Shared helpers for op implementations.
Status broadcast_shapes(const Dims& a, const Dims& b, Dims& out);
inline std::int64_t norm_axis(std::int64_t axis, std::int64_t rank) { return axis < 0 ? axis + rank : axis; }
Dims strides_of(const Dims& d);

}  // namespace tickrt::infer
