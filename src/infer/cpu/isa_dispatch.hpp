// infer/cpu/isa_dispatch.hpp — TICKRT_DISPATCH(call): returns `call` from the namespace (avx512::, avx2::,
// scalar::) of the Isa named `isa` in the calling function. Used by the entry points that pick an ISA build
// (dispatch.cpp, conv_nhwc.cpp); the ISA is chosen once by the engine (detect_isa()), never per call site.
#pragma once

#define TICKRT_DISPATCH(call)              \
  switch (isa) {                           \
    case Isa::avx512: return avx512::call; \
    case Isa::avx2: return avx2::call;     \
    case Isa::scalar: break;               \
  }                                        \
  return scalar::call
