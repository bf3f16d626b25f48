// infer/cpu/int8_avxvnni.cpp — the avxvnni build of int8_fp16_impl.inl (INT8 and FP16 weight kernels), compiled with
// its own flags (CMakeLists.txt). Nothing else lives here.
#define TICKRT_KERNELS_ISA_AVX2 1
#if defined(TICKRT_I8_NO_AVXVNNI)
#define TICKRT_I8_AVX2 1
#else
#define TICKRT_I8_AVXVNNI 1
#endif
#define TICKRT_ISA_NS i8_avxvnni
#include "infer/cpu/int8_isa.hpp"
#include "infer/cpu/int8_fp16_impl.inl"
