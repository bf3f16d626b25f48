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

// Shared helpers for op implementations.
Status broadcast_shapes(const Dims& a, const Dims& b, Dims& out);
inline std::int64_t norm_axis(std::int64_t axis, std::int64_t rank) { return axis < 0 ? axis + rank : axis; }
Dims strides_of(const Dims& d);

}  // namespace tickrt::infer
