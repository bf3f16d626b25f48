// infer/cpu/kernels_avx512.cpp — the avx512 build of kernels_impl.inl (compiled with its own flags, see
// CMakeLists.txt). Nothing else lives here.
#define TICKRT_KERNELS_ISA_AVX512 1
#define TICKRT_ISA_NS avx512
#include "infer/cpu/kernels_isa.hpp"
#include "infer/cpu/kernels_impl.inl"
