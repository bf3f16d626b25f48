// infer/cpu/conv_nhwc_avx512.cpp — the avx512 build of conv_nhwc_impl.inl (own flags, see CMakeLists.txt).
#define TICKRT_KERNELS_ISA_AVX512 1
#define TICKRT_ISA_NS avx512
#include "infer/cpu/conv_nhwc_isa.hpp"
#include "infer/cpu/conv_nhwc_impl.inl"
