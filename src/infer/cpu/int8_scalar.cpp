// infer/cpu/int8_scalar.cpp — the scalar build of int8_fp16_impl.inl (INT8 and FP16 weight kernels), compiled with
// its own flags (CMakeLists.txt). Nothing else lives here.
#define TICKRT_KERNELS_ISA_SCALAR 1
#define TICKRT_I8_SCALAR 1
#define TICKRT_ISA_NS i8_scalar
#include "infer/cpu/int8_isa.hpp"
#include "infer/cpu/int8_fp16_impl.inl"
