// infer/cpu/conv_nhwc.hpp — direct 2-D convolution over channels-last (NHWC) tensors, FP32.
//
// Who calls: tickrt.ConvNHWC (ops/conv_nhwc.cpp), produced by passes/conv_layout_nhwc.cpp from chains of
// tickrt.FusedConv. Build time (setup path): conv_nhwc_pack() once per weight for the engine's ISA; the blob
// is flat (no pointers) and stored in the engine file. Run time (hot path): conv_nhwc(): no allocation, no
// exceptions, no locks, single-threaded, no workspace.
//
// Why channels-last: with x[n, h, w, c] the receptive field of one output pixel is KH runs of KW*C
// contiguous floats, so the convolution is a GEMM over pixels read in place (no im2col copy, no transpose),
// and its output y[n, oh, ow, m] is the next layer's channels-last input. The micro-kernel keeps RP pixels x
// NV vectors of output channels in registers: per k it loads NV weight vectors and does RP*NV FMAs with one
// broadcast input element per pixel (the same register tile as gemm_packed, with the "A" rows strided over the
// image instead of gathered). convlstm's 16-channel convolutions use every lane (M = 16 = one AVX-512 vector),
// where gemm_packed's 64-column panels were 3/4 padding.
//
// ISA variants: scalar, AVX2+FMA, AVX-512 builds of conv_nhwc_impl.inl (own flags), picked by the Isa argument,
// which must equal the Isa the weights were packed for. Precision: FP32 FMA accumulation in (kh, kw, c) order;
// differs from the reference conv only by summation order.
// Limits: group 1, no padding, no dilation (the pass only converts such convs); act none/relu/leaky_relu.
#pragma once

#include <cstddef>

#include "infer/cpu/kernels.hpp"

namespace tickrt::infer::cpu {

struct ConvNhwcDims {
  int N, H, W, C;     // input [N, H, W, C]
  int M, KH, KW;      // weights [M, C, KH, KW] (ONNX order, before packing)
  int SH, SW;         // strides
  int OH, OW;         // output [N, OH, OW, M]: OH = (H - KH) / SH + 1, OW likewise
};

// Packed layout: M padded to a multiple of the ISA width Wv; per block j of Wv output channels,
// [K][Wv] with k = (kh * KW + kw) * C + c (the order of a channels-last patch), blocks back to back;
// then the bias [Mp].
size_t conv_nhwc_packed_floats(Isa, int M, int C, int KH, int KW);
// W [M, C, KH, KW] (ONNX), bias [M] (nullable = 0).
void conv_nhwc_pack(Isa, int M, int C, int KH, int KW, const float* W, const float* bias, float* packed);
// y = act(conv(x) + bias); x and y must not overlap. act: none, relu or leaky_relu (alpha).
void conv_nhwc(Isa, const ConvNhwcDims&, const float* packed, Epilogue, const float* x, float* y);

}  // namespace tickrt::infer::cpu
