// infer/cpu/conv_nhwc_isa.hpp — internal: per-ISA entry points behind conv_nhwc.hpp (conv_nhwc.cpp dispatches).
#pragma once

#include "infer/cpu/conv_nhwc.hpp"

#define TICKRT_DECLARE_CONV_NHWC(ns)                                                                   \
  namespace tickrt::infer::cpu::ns {                                                                   \
  size_t conv_nhwc_packed_floats(int M, int C, int KH, int KW);                                        \
  void conv_nhwc_pack(int M, int C, int KH, int KW, const float* W, const float* bias, float* packed); \
  void conv_nhwc(const ConvNhwcDims& d, const float* packed, Epilogue epi, const float* x, float* y);   \
  }

TICKRT_DECLARE_CONV_NHWC(scalar)
TICKRT_DECLARE_CONV_NHWC(avx2)
TICKRT_DECLARE_CONV_NHWC(avx512)
