// infer/cpu/conv_nhwc_scalar.cpp — the scalar build of conv_nhwc_impl.inl (own flags, see CMakeLists.txt).
#define TICKRT_KERNELS_ISA_SCALAR 1
#define TICKRT_ISA_NS scalar
#include "infer/cpu/conv_nhwc_isa.hpp"
#include "infer/cpu/conv_nhwc_impl.inl"
