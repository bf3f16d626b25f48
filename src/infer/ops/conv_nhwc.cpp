// tickrt.ConvNHWC (domain "tickrt"): a 2-D convolution (group 1, no padding, dilation 1) + bias + Relu/LeakyRelu
// over channels-last tensors, produced by passes/conv_layout_nhwc.cpp from tickrt.FusedConv chains.
// Inputs: X [N, H, W, C] (or, with attribute in_nchw = 1 and C == 1, the NCHW tensor [N, 1, H, W]: the same
// bytes), packed (cpu::conv_nhwc_pack for the engine's ISA, attribute "isa"). Output Y [N, OH, OW, M].
// Attributes: M, C, KH, KW, strides, act (cpu::Act: none/relu/leaky_relu), alpha, in_nchw, isa.
#include <algorithm>

#include "infer/cpu/conv_nhwc.hpp"
#include "infer/ops/common.hpp"
#include "infer/runtime/thread_pool.hpp"

namespace tickrt::infer::ops {
namespace {

struct ConvNhwcParams { cpu::ConvNhwcDims d; cpu::Epilogue epi; };

void conv_nhwc_run(const Kernel& k) {
  const auto& p = k.p<ConvNhwcParams>();
  cpu::conv_nhwc(k.isa, p.d, k.in[1]->as<float>(), p.epi, k.in[0]->as<float>(), k.out[0]->as<float>());
}

Status conv_nhwc_prepare(PrepareCtx& c) {
  const auto packed_for = static_cast<cpu::Isa>(c.node.attr_i("isa", 0));
  if (packed_for != c.isa)
    return c.fail(std::string("weights were packed for ISA ") + cpu::isa_name(packed_for) + " but the engine runs " + cpu::isa_name(c.isa) +
                  ": rebuild the engine on this machine");
  const auto& x = c.in[0].dims;
  const std::int64_t M = c.node.attr_i("M", 0), C = c.node.attr_i("C", 0), KH = c.node.attr_i("KH", 0), KW = c.node.attr_i("KW", 0);
  const bool in_nchw = c.node.attr_i("in_nchw", 0) != 0;
  auto strides = c.node.attr_is("strides");
  if (strides.size() != 2) strides = {1, 1};
  if (M < 1 || C < 1 || KH < 1 || KW < 1 || strides[0] < 1 || strides[1] < 1) return c.fail("bad M/C/KH/KW/strides attributes");
  if (c.in[0].dtype != DType::f32 || x.size() != 4) return c.fail("X " + dims_str(x) + " is not a float32 4-D tensor");
  if (in_nchw && (C != 1 || x[1] != 1)) return c.fail("in_nchw needs one input channel, X is " + dims_str(x));
  if (!in_nchw && x[3] != C) return c.fail("X " + dims_str(x) + " is not [N, H, W, " + std::to_string(C) + "]");
  const std::int64_t H = in_nchw ? x[2] : x[1], Wd = in_nchw ? x[3] : x[2];
  if (H < KH || Wd < KW) return c.fail("input " + dims_str(x) + " smaller than the " + std::to_string(KH) + "x" + std::to_string(KW) + " kernel");
  if (!c.in[1].constant || numel(c.in[1].dims) < static_cast<std::int64_t>(cpu::conv_nhwc_packed_floats(c.isa, static_cast<int>(M), static_cast<int>(C),
                                                                                                         static_cast<int>(KH), static_cast<int>(KW))))
    return c.fail("packed weights missing or too small");
  const auto act = static_cast<cpu::Act>(c.node.attr_i("act", 0));
  if (act != cpu::Act::none && act != cpu::Act::relu && act != cpu::Act::leaky_relu) return c.fail("activation must be none, relu or leaky_relu");
  auto p = std::make_shared<ConvNhwcParams>();
  p->d = {static_cast<int>(x[0]), static_cast<int>(H), static_cast<int>(Wd), static_cast<int>(C), static_cast<int>(M), static_cast<int>(KH),
          static_cast<int>(KW), static_cast<int>(strides[0]), static_cast<int>(strides[1]), 0, 0};
  p->d.OH = (p->d.H - p->d.KH) / p->d.SH + 1;
  p->d.OW = (p->d.W - p->d.KW) / p->d.SW + 1;
  p->epi = cpu::Epilogue{act, c.node.attr_f("alpha", 0.01f)};
  c.out[0] = TensorInfo{DType::f32, {x[0], p->d.OH, p->d.OW, M}};
  c.k.params = p;
  c.k.run = &conv_nhwc_run;
  return Status::Ok();
}

}  // namespace

void register_conv_nhwc_chain(std::vector<OpDef>& r);
void register_conv_nhwc(std::vector<OpDef>& r) {
  r.push_back({"tickrt", "ConvNHWC", &conv_nhwc_prepare});
  register_conv_nhwc_chain(r);
}

}  // namespace tickrt::infer::ops

// ---- tickrt.ConvNHWCChain: L channels-last convolutions run sample by sample --------------------------------------
// Inputs: X (as the first ConvNHWC's), packed_1..packed_L. Attributes: per-layer int lists M, C, KH, KW, SH, SW, act
// and float list alpha; in_nchw (first layer). Output: the last layer's [N, OH, OW, M].
// Why: layer by layer over a batch of 64, every intermediate (convlstm: up to 5 MB) goes through L3 between layers;
// sample by sample the intermediates (< 80 KiB each) stay in L1/L2. Workspace: two per-sample intermediates.
namespace tickrt::infer::ops {
namespace {

struct ConvChainParams {
  std::vector<cpu::ConvNhwcDims> d;   // per layer, N = 1
  std::vector<cpu::Epilogue> epi;
  int N = 0;
  std::size_t in_img = 0, out_img = 0, buf = 0;   // floats
};

// Samples [n0, n1) with the two intermediates in `ws`.
void conv_chain_samples(const Kernel& k, int n0, int n1, std::byte* ws) noexcept {
  const auto& p = k.p<ConvChainParams>();
  const float* x = k.in[0]->as<float>();
  float* y = k.out[0]->as<float>();
  float* b0 = reinterpret_cast<float*>(ws);
  float* b1 = b0 + p.buf;
  const std::size_t L = p.d.size();
  for (int n = n0; n < n1; ++n) {
    const float* src = x + n * p.in_img;
    for (std::size_t l = 0; l < L; ++l) {
      float* dst = l + 1 == L ? y + n * p.out_img : (l % 2 == 0 ? b0 : b1);
      cpu::conv_nhwc(k.isa, p.d[l], k.in[1 + l]->as<float>(), p.epi[l], src, dst);
      src = dst;
    }
  }
}
void conv_chain_run(const Kernel& k) { conv_chain_samples(k, 0, k.p<ConvChainParams>().N, k.workspace); }
// Intra-op threads, batch > 1: samples split across threads, each with its own two intermediates.
void conv_chain_task(void* ctx, int tid, int n) noexcept {
  const Kernel& k = *static_cast<const Kernel*>(ctx);
  const int N = k.p<ConvChainParams>().N;
  conv_chain_samples(k, N * tid / n, N * (tid + 1) / n, tid == 0 ? k.workspace : k.pool->scratch(tid));
}
void conv_chain_run_mt(const Kernel& k) {
  if (k.p<ConvChainParams>().N < 2) return conv_chain_run(k);
  k.pool->run(&conv_chain_task, const_cast<Kernel*>(&k));
}

Status conv_chain_prepare(PrepareCtx& c) {
  const auto packed_for = static_cast<cpu::Isa>(c.node.attr_i("isa", 0));
  if (packed_for != c.isa)
    return c.fail(std::string("weights were packed for ISA ") + cpu::isa_name(packed_for) + " but the engine runs " + cpu::isa_name(c.isa) +
                  ": rebuild the engine on this machine");
  const auto M = c.node.attr_is("M"), C = c.node.attr_is("C"), KH = c.node.attr_is("KH"), KW = c.node.attr_is("KW"), SH = c.node.attr_is("SH"),
             SW = c.node.attr_is("SW"), act = c.node.attr_is("act");
  const auto alpha = c.node.attr_fs("alpha");
  const std::size_t L = M.size();
  if (L < 1 || C.size() != L || KH.size() != L || KW.size() != L || SH.size() != L || SW.size() != L || act.size() != L || alpha.size() != L ||
      c.nin() != L + 1)
    return c.fail("per-layer attributes and packed inputs disagree on the number of layers");
  const auto& x = c.in[0].dims;
  const bool in_nchw = c.node.attr_i("in_nchw", 0) != 0;
  if (c.in[0].dtype != DType::f32 || x.size() != 4) return c.fail("X " + dims_str(x) + " is not a float32 4-D tensor");
  if (in_nchw && (C[0] != 1 || x[1] != 1)) return c.fail("in_nchw needs one input channel, X is " + dims_str(x));
  if (!in_nchw && x[3] != C[0]) return c.fail("X " + dims_str(x) + " is not [N, H, W, " + std::to_string(C[0]) + "]");
  auto p = std::make_shared<ConvChainParams>();
  p->N = static_cast<int>(x[0]);
  std::int64_t H = in_nchw ? x[2] : x[1], Wd = in_nchw ? x[3] : x[2], Cin = C[0];
  p->in_img = static_cast<std::size_t>(H * Wd * Cin);
  for (std::size_t l = 0; l < L; ++l) {
    const std::string at = "layer " + std::to_string(l) + ": ";
    if (M[l] < 1 || KH[l] < 1 || KW[l] < 1 || SH[l] < 1 || SW[l] < 1 || C[l] != Cin) return c.fail(at + "bad M/C/KH/KW/strides");
    if (H < KH[l] || Wd < KW[l]) return c.fail(at + "input " + std::to_string(H) + "x" + std::to_string(Wd) + " smaller than the kernel");
    const auto a = static_cast<cpu::Act>(act[l]);
    if (a != cpu::Act::none && a != cpu::Act::relu && a != cpu::Act::leaky_relu) return c.fail(at + "activation must be none, relu or leaky_relu");
    if (!c.in[1 + l].constant || numel(c.in[1 + l].dims) < static_cast<std::int64_t>(cpu::conv_nhwc_packed_floats(
                                                                  c.isa, static_cast<int>(M[l]), static_cast<int>(Cin), static_cast<int>(KH[l]),
                                                                  static_cast<int>(KW[l]))))
      return c.fail(at + "packed weights missing or too small");
    cpu::ConvNhwcDims d{1, static_cast<int>(H), static_cast<int>(Wd), static_cast<int>(Cin), static_cast<int>(M[l]), static_cast<int>(KH[l]),
                        static_cast<int>(KW[l]), static_cast<int>(SH[l]), static_cast<int>(SW[l]), 0, 0};
    d.OH = (d.H - d.KH) / d.SH + 1;
    d.OW = (d.W - d.KW) / d.SW + 1;
    p->d.push_back(d);
    p->epi.push_back(cpu::Epilogue{a, alpha[l]});
    H = d.OH;
    Wd = d.OW;
    Cin = M[l];
    const std::size_t img = static_cast<std::size_t>(H * Wd * Cin);
    if (l + 1 < L) p->buf = std::max(p->buf, (img + 15) / 16 * 16);
    else p->out_img = img;
  }
  c.out[0] = TensorInfo{DType::f32, {x[0], H, Wd, Cin}};
  c.k.workspace_bytes = 2 * p->buf * sizeof(float);
  c.k.params = p;
  c.k.run = &conv_chain_run;
  c.k.run_mt = &conv_chain_run_mt;
  return Status::Ok();
}

}  // namespace

void register_conv_nhwc_chain(std::vector<OpDef>& r) { r.push_back({"tickrt", "ConvNHWCChain", &conv_chain_prepare}); }

}  // namespace tickrt::infer::ops
