// infer/cpu/kernels_avx2.cpp — the avx2 build of kernels_impl.inl (compiled with its own flags, see
// CMakeLists.txt). Nothing else lives here.
#define TICKRT_KERNELS_ISA_AVX2 1
#define TICKRT_ISA_NS avx2
#include "infer/cpu/kernels_isa.hpp"
#include "infer/cpu/kernels_impl.inl"
