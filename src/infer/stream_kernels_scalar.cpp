// infer/stream_kernels_scalar.cpp — the scalar build of stream_kernels_impl.hpp (its own flags: src/infer/CMakeLists.txt).
#define TICKRT_KERNELS_ISA_SCALAR 1
#define TICKRT_ISA_NS scalar
#include "infer/stream_kernels_impl.hpp"
