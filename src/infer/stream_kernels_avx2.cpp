// infer/stream_kernels_avx2.cpp — the avx2 build of stream_kernels_impl.hpp (its own flags: src/infer/CMakeLists.txt).
#define TICKRT_KERNELS_ISA_AVX2 1
#define TICKRT_ISA_NS avx2
#include "infer/stream_kernels_impl.hpp"
