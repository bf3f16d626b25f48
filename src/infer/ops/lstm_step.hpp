// infer/ops/lstm_step.hpp — a streaming step's FusedLSTM kernels, seen from the streaming context.
//
// StreamContext (infer/stream.hpp) splits each one-row LSTM step (T = 1, B = 1, initial state from a state input) in
// two: between ticks it computes the half that depends only on the previous state, (Wb + Rb) + h @ R^T
// (cpu::lstm_recurrent_pre), and binds it to the kernel for the slot's next step; the kernel then runs only the input
// half and the cell (cpu::lstm_step_pre). Bitwise the same result as the whole step.
#pragma once

#include <cstddef>

#include "infer/ops/op.hpp"

namespace tickrt::infer::ops {

struct LstmStepInfo {
  int I = 0, H = 0;
  cpu::Isa isa = cpu::Isa::scalar;
  const float* packed = nullptr;      // the kernel's packed weights (input 1)
  const TensorRef* h0 = nullptr;      // the initial-h input tensor (a state input in a streaming graph)
  std::size_t h0_off = 0;             // floats into it: this layer's h
};

// True (and `out` filled) for a FusedLSTM kernel that runs one row (T = 1, B = 1) from an initial h input.
bool fused_lstm_step_info(const Kernel& k, LstmStepInfo& out) noexcept;
// Binds the precomputed recurrent half for the kernel's next run (nullptr: the whole step, as without). The binding
// stays until changed: the streaming context sets it before every run of its batch-1 plan. Hot path.
void fused_lstm_bind_pre(const Kernel& k, const float* pre) noexcept;

}  // namespace tickrt::infer::ops
