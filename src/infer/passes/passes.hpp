// infer/passes/passes.hpp — graph optimisation passes, one per file. Each returns how many rewrites it made
// (for `tickrt inspect` and the build report) and leaves the graph valid, topologically ordered and SSA.
// Run order (pipeline.cpp): dead nodes -> constant folding -> Conv+BN(+act) -> channels-last convs -> LSTM (zero states, glue,
// packing) -> additive attention -> scaled dot-product attention -> MatMul/Gemm+bias+act -> dead nodes.
#pragma once

#include "core/status.hpp"
#include "infer/cpu/kernels.hpp"
#include "infer/ir/graph.hpp"

namespace tickrt::infer::passes {

// Removes nodes whose outputs reach no graph output.
Result<int> eliminate_dead_nodes(Graph& g);
// Transpose pairs composed, identity transposes and Squeeze(Unsqueeze) removed, Identity dropped.
Result<int> simplify(Graph& g);
// Evaluates nodes whose inputs are all constants and replaces them by constants.
Result<int> fold_constants(Graph& g, cpu::Isa isa);
// Conv -> BatchNormalization folded into the Conv's weights and bias; a following Relu/LeakyRelu becomes
// the Conv's fused activation (tickrt.FusedConv with pre-packed weights).
Result<int> fuse_conv_bn_act(Graph& g, cpu::Isa isa);
// tickrt.FusedConv (act none/relu/leaky) -> tickrt.ConvNHWC: channels-last direct convolutions; chains stay
// channels-last, Transposes only at the chain's edges (none into a 1-channel input; Squeeze(3) on the way out
// becomes Squeeze(2) + Transpose(0,2,1)) (conv_layout_nhwc.cpp).
Result<int> convert_conv_nhwc(Graph& g, cpu::Isa isa);
// Runs of tickrt.ConvNHWC (each output read only by the next) -> tickrt.ConvNHWCChain, run sample by sample so the
// intermediates stay in cache (conv_chain.cpp).
Result<int> fuse_conv_nhwc_chains(Graph& g);
// LSTM with constant weights, forward, default activations -> tickrt.FusedLSTM (pre-packed W/R/bias, input
// projection batched over time); zero initial states (ConstantOfShape->Slice chains) dropped; the
// Transpose before X and Squeeze/Transpose after Y absorbed into the op's layouts.
Result<int> fuse_lstm(Graph& g, cpu::Isa isa);
// tickrt.FusedLSTM reading Transpose([1,0,2]) output switches to batch-first input (removing that copy).
Result<int> relayout_fused_lstm(Graph& g);
// Streaming one-step graphs: ring shift Concat(Slice(r, 1:), new) -> tickrt.RingShift; attention context
// ReduceSum(Mul(Unsqueeze(a, 2), v), 1) -> tickrt.WeightedSum (stream_fusion.cpp).
Result<int> fuse_stream_ops(Graph& g);
// Streaming step graphs: state rings as circular buffers when every consumer is order-blind (stream_ring.cpp).
Result<int> circular_stream_rings(Graph& g);
// Streaming step graphs: MatMul/Gemm (+bias, +activation) of one row as tickrt.RowLinear (stream_linear.cpp).
Result<int> stream_row_linear(Graph& g);
// h -> MatMul(W)+Add(b) -> Tanh -> MatMul(v)(+Add) -> Softmax(time) -> Mul(h) -> ReduceSum(time)
// -> tickrt.AdditiveAttention.
Result<int> fuse_additive_attention(Graph& g, cpu::Isa isa);
// MatMul(Q, K^T) (* scale) -> Softmax(last) -> MatMul(., V) -> tickrt.SDPA.
Result<int> fuse_sdpa(Graph& g, cpu::Isa isa);
// Split(qkv) -> Reshape/Transpose per head -> tickrt.SDPA -> Transpose -> Reshape -> tickrt.MHA(qkv) (no copies).
Result<int> fuse_mha(Graph& g);
// MatMul(X, W const) (+ Add(bias const)) (+ Relu/LeakyRelu/Tanh/Sigmoid) and Gemm(transA=0, B const)
// (+ act) -> tickrt.FusedGemm with pre-packed B.
Result<int> fuse_gemm_bias_act(Graph& g, cpu::Isa isa);
// Chains of float32 elementwise unary ops -> one tickrt.ElementwiseChain pass over memory.
Result<int> fuse_elementwise_chains(Graph& g, cpu::Isa isa);

}  // namespace tickrt::infer::passes
