// Reduced-precision fused ops (domain "tickrt"), produced by the precision rewrite of src/infer/quant
// (quant/precision.cpp) from tickrt.FusedLSTM / tickrt.FusedGemm:
//   Int8LSTM  inputs X, Wq (u8 blob [4H,I]), Rq (u8 blob [4H,H]), bias [4H] f32 [, h0, c0 as FusedLSTM's inputs 2, 3,
//             attrs h0_layer / c0_layer]; attrs I, H, layout, x_scale
//   Fp16LSTM  inputs X, Wh (u8 blob of halves), Rh, bias;                 attrs I, H, layout
//   Int8Gemm  inputs A [..., K], Wq (u8 blob [N,K]), bias [N] (optional);  attrs K, N, act, alpha, a_scale
//   Fp16Gemm  inputs A [..., K], Wh, bias (optional);                      attrs K, N, act, alpha
// Outputs and layouts are those of the FP32 op they replace. Blobs are ISA independent (cpu/int8_kernels.hpp);
// the INT8 path (VNNI or not) is chosen here, at prepare time, from the engine's ISA.
#include "infer/cpu/int8_kernels.hpp"
#include "infer/ops/common.hpp"

namespace tickrt::infer::ops {
namespace {

struct QLstmParams { cpu::LstmDims d; int layout; float x_scale; cpu::Int8Isa i8; std::size_t h0_off = 0, c0_off = 0; };
const float* opt_state(const Kernel& k, std::size_t i, std::size_t off) {
  return k.in.size() > i && k.in[i] ? k.in[i]->as<float>() + off : nullptr;
}

Status check_blob(PrepareCtx& c, std::size_t i, std::size_t need, const char* what) {
  if (!c.has(i) || !c.in[i].constant) return c.fail(std::string(what) + " must be a constant");
  if (c.in[i].dtype != DType::u8 || c.in[i].constant->nbytes < need)
    return c.fail(std::string(what) + ": want a u8 blob of " + std::to_string(need) + " bytes, got " + dtype_name(c.in[i].dtype) + " " +
                  std::to_string(c.in[i].constant->nbytes));
  return Status::Ok();
}

const std::byte* blob(const Kernel& k, std::size_t i) { return k.in[i]->data; }
float* opt_out(const Kernel& k, std::size_t i) { return k.out.size() > i && k.out[i] ? k.out[i]->as<float>() : nullptr; }

void int8_lstm_run(const Kernel& k) {
  const auto& p = k.p<QLstmParams>();
  cpu::i8_lstm_forward(p.i8, p.d, blob(k, 1), blob(k, 2), k.in[3]->as<float>(), p.x_scale, k.in[0]->as<float>(), p.layout,
                       opt_out(k, 0), opt_out(k, 1), opt_out(k, 2), k.workspace, opt_state(k, 4, p.h0_off), opt_state(k, 5, p.c0_off));
}
void fp16_lstm_run(const Kernel& k) {
  const auto& p = k.p<QLstmParams>();
  cpu::f16_lstm_forward(k.isa, p.d, blob(k, 1), blob(k, 2), k.in[3]->as<float>(), k.in[0]->as<float>(), p.layout, opt_out(k, 0),
                        opt_out(k, 1), opt_out(k, 2), k.workspace, opt_state(k, 4, p.h0_off), opt_state(k, 5, p.c0_off));
}

template <bool Int8>
Status qlstm_prepare(PrepareCtx& c) {
  const auto& x = c.in[0].dims;
  const std::int64_t I = c.node.attr_i("I", 0), H = c.node.attr_i("H", 0);
  const int layout = static_cast<int>(c.node.attr_i("layout", 0));
  if (I < 1 || H < 1) return c.fail("attributes I and H must be positive");
  if (c.in[0].dtype != DType::f32 || x.size() != 3 || x[2] != I) return c.fail("X " + dims_str(x) + " is not float32 [*, *, " + std::to_string(I) + "]");
  const int i = static_cast<int>(I), h = static_cast<int>(H);
  TICKRT_RETURN_IF_ERROR(check_blob(c, 1, Int8 ? cpu::i8_packed_bytes(i, 4 * h) : cpu::f16_packed_bytes(i, 4 * h), "W"));
  TICKRT_RETURN_IF_ERROR(check_blob(c, 2, Int8 ? cpu::i8_packed_bytes(h, 4 * h) : cpu::f16_packed_bytes(h, 4 * h), "R"));
  if (!c.has(3) || c.in[3].dtype != DType::f32 || numel(c.in[3].dims) != 4 * H) return c.fail("bias must be float32 [4H]");
  auto p = std::make_shared<QLstmParams>();
  p->layout = layout;
  p->d = {static_cast<int>(layout ? x[1] : x[0]), static_cast<int>(layout ? x[0] : x[1]), i, h};
  p->x_scale = c.node.attr_f("x_scale", 0.f);
  if (Int8 && !(p->x_scale > 0.f)) return c.fail("x_scale must be positive (calibration)");
  p->i8 = cpu::int8_isa(c.isa);
  for (std::size_t s = 4; s < 6; ++s) {   // initial state (streaming): [L, B, H] at layer h0_layer / c0_layer, or [B, H]
    if (!c.has(s)) continue;
    const auto& d = c.in[s].dims;
    const std::int64_t layer = c.node.attr_i(s == 4 ? "h0_layer" : "c0_layer", 0);
    if (c.in[s].dtype != DType::f32 || d.size() < 2 || d.back() != H || d[d.size() - 2] != p->d.B ||
        !(d.size() == 2 || (d.size() == 3 && layer >= 0 && layer < d[0])))
      return c.fail(std::string(s == 4 ? "initial_h " : "initial_c ") + dims_str(d) + " is not float32 [L, B, H] with layer < L");
    (s == 4 ? p->h0_off : p->c0_off) = static_cast<std::size_t>(layer * p->d.B * H);
  }
  c.out[0] = TensorInfo{DType::f32, {x[0], x[1], H}};
  if (c.out.size() > 1) c.out[1] = TensorInfo{DType::f32, {1, p->d.B, H}};
  if (c.out.size() > 2) c.out[2] = TensorInfo{DType::f32, {1, p->d.B, H}};
  c.k.workspace_bytes = Int8 ? cpu::i8_lstm_workspace_bytes(p->d) : cpu::f16_lstm_workspace_bytes(p->d);
  c.k.params = p;
  c.k.run = Int8 ? &int8_lstm_run : &fp16_lstm_run;
  return Status::Ok();
}

struct QGemmParams { int M, N, K; cpu::Epilogue epi; float a_scale; cpu::Int8Isa i8; };
const float* opt_bias(const Kernel& k) { return k.in.size() > 2 && k.in[2] ? k.in[2]->as<float>() : nullptr; }
void int8_gemm_run(const Kernel& k) {
  const auto& p = k.p<QGemmParams>();
  cpu::i8_gemm_f32(p.i8, p.M, p.N, p.K, k.in[0]->as<float>(), p.K, p.a_scale, blob(k, 1), opt_bias(k), p.epi, k.out[0]->as<float>(), p.N,
                   k.workspace);
}
void fp16_gemm_run(const Kernel& k) {
  const auto& p = k.p<QGemmParams>();
  cpu::f16_gemm(k.isa, p.M, p.N, p.K, k.in[0]->as<float>(), p.K, blob(k, 1), opt_bias(k), p.epi, k.out[0]->as<float>(), p.N);
}
template <bool Int8>
Status qgemm_prepare(PrepareCtx& c) {
  const auto& x = c.in[0].dims;
  const std::int64_t K = c.node.attr_i("K", 0), N = c.node.attr_i("N", 0);
  if (K < 1 || N < 1) return c.fail("attributes K and N must be positive");
  if (c.in[0].dtype != DType::f32 || x.empty() || x.back() != K) return c.fail("input " + dims_str(x) + " is not float32 [..., " + std::to_string(K) + "]");
  TICKRT_RETURN_IF_ERROR(check_blob(c, 1, Int8 ? cpu::i8_packed_bytes(static_cast<int>(K), static_cast<int>(N))
                                               : cpu::f16_packed_bytes(static_cast<int>(K), static_cast<int>(N)), "W"));
  if (c.has(2) && (c.in[2].dtype != DType::f32 || numel(c.in[2].dims) != N)) return c.fail("bias must be float32 [N]");
  auto p = std::make_shared<QGemmParams>();
  p->M = static_cast<int>(numel(x) / K);
  p->N = static_cast<int>(N);
  p->K = static_cast<int>(K);
  p->epi.act = static_cast<cpu::Act>(c.node.attr_i("act", 0));
  p->epi.alpha = c.node.attr_f("alpha", 0.01f);
  p->a_scale = c.node.attr_f("a_scale", 0.f);
  if (Int8 && !(p->a_scale > 0.f)) return c.fail("a_scale must be positive (calibration)");
  p->i8 = cpu::int8_isa(c.isa);
  Dims out = x;
  out.back() = N;
  c.out[0] = TensorInfo{DType::f32, out};
  if (Int8) c.k.workspace_bytes = cpu::i8_gemm_workspace_bytes(p->M, p->K, p->N);
  c.k.params = p;
  c.k.run = Int8 ? &int8_gemm_run : &fp16_gemm_run;
  return Status::Ok();
}

}  // namespace

void register_quant(std::vector<OpDef>& r) {
  r.push_back({"tickrt", "Int8LSTM", &qlstm_prepare<true>});
  r.push_back({"tickrt", "Fp16LSTM", &qlstm_prepare<false>});
  r.push_back({"tickrt", "Int8Gemm", &qgemm_prepare<true>});
  r.push_back({"tickrt", "Fp16Gemm", &qgemm_prepare<false>});
}

}  // namespace tickrt::infer::ops
