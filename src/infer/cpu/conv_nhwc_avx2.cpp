// infer/cpu/conv_nhwc_avx2.cpp — the avx2 build of conv_nhwc_impl.inl (own flags, see CMakeLists.txt).
#define TICKRT_KERNELS_ISA_AVX2 1
#define TICKRT_ISA_NS avx2
#include "infer/cpu/conv_nhwc_isa.hpp"
#include "infer/cpu/conv_nhwc_impl.inl"
