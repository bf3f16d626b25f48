// infer/cpu/conv_nhwc.cpp — picks the ISA build of the channels-last convolution (the Isa argument, chosen
// once by the engine from detect_isa()).
#include "infer/cpu/conv_nhwc.hpp"

#include "infer/cpu/conv_nhwc_isa.hpp"
#include "infer/cpu/isa_dispatch.hpp"

namespace tickrt::infer::cpu {

size_t conv_nhwc_packed_floats(Isa isa, int M, int C, int KH, int KW) { TICKRT_DISPATCH(conv_nhwc_packed_floats(M, C, KH, KW)); }
void conv_nhwc_pack(Isa isa, int M, int C, int KH, int KW, const float* W, const float* bias, float* packed) {
  TICKRT_DISPATCH(conv_nhwc_pack(M, C, KH, KW, W, bias, packed));
}
void conv_nhwc(Isa isa, const ConvNhwcDims& d, const float* packed, Epilogue epi, const float* x, float* y) {
  TICKRT_DISPATCH(conv_nhwc(d, packed, epi, x, y));
}

}  // namespace tickrt::infer::cpu
