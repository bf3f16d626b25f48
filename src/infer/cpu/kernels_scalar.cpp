// infer/cpu/kernels_scalar.cpp — the scalar build of kernels_impl.inl (compiled with its own flags, see
// CMakeLists.txt). Nothing else lives here.
#define TICKRT_KERNELS_ISA_SCALAR 1
#define TICKRT_ISA_NS scalar
#include "infer/cpu/kernels_isa.hpp"
#include "infer/cpu/kernels_impl.inl"
