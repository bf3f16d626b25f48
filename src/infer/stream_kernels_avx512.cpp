// infer/stream_kernels_avx512.cpp — the avx512 build of stream_kernels_impl.hpp (its own flags: src/infer/CMakeLists.txt).
#define TICKRT_KERNELS_ISA_AVX512 1
#define TICKRT_ISA_NS avx512
#include "infer/stream_kernels_impl.hpp"
