// bench_onednn_lstm: one LSTM layer, tickrt's kernel (cpu::lstm_forward) against oneDNN's LSTM primitive
// (Debian libdnnl-dev 2.6, forward_inference, weights in the layout the primitive picks, reordered once outside
// the timed loop), on the shapes of the reference models' layers, same inputs, same thread, same run.
// "Use oneDNN where it beats hand-written kernels; measure to decide" (issue 3): this is the measurement.
//
//   taskset -c 1 build/bin/bench_onednn_lstm [--seconds 1] [--shapes all|s|l] [--layout 0|1]
//
// Shapes (T, B, I, H): lstm_attn_s layers 1 / 2 = (64, B, 32, 64) / (64, B, 64, 64); lstm_attn_l's = (128, B, 64,
// 256) / (128, B, 256, 256); B = 1, 8, 64. oneDNN runs single-threaded (its OpenMP runtime limited to one thread
// with omp_set_num_threads(1) when DNNL_CPU_RUNTIME is OMP; the binary is pinned by taskset). Each row: median and
// p99 of per-call wall times (now_ns around the call), and the ratio oneDNN / tickrt (> 1: tickrt faster). The
// outputs are compared too (max |h_T diff|; oneDNN's gate order i, f, c~, o is fed the same weights permuted from
// ONNX's i, o, f, c), so both compute the same layer.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "infer/cpu/kernels.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  double median_us = 0, p99_us = 0;
  std::size_t n = 0;
};

template <class F>
Stats time_calls(double seconds, F&& f) {
  for (int i = 0; i < 3; ++i) f();  // warm-up
  std::vector<double> us;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end || us.size() < 20) {
    const auto t0 = Clock::now();
    f();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  Stats s;
  s.n = us.size();
  s.median_us = us[us.size() / 2];
  s.p99_us = us[std::min(us.size() - 1, static_cast<std::size_t>(static_cast<double>(us.size()) * 0.99))];
  return s;
}

// 64-byte aligned float buffers, as the engine's arena and weight blobs are (a std::vector's 16-byte alignment splits
// every 64-byte load across two cache lines and slowed our kernel ~1.4x in a first version of this bench).
struct Aligned {
  float* p = nullptr;
  std::size_t n = 0;
  explicit Aligned(std::size_t count) : n(count) {
    p = static_cast<float*>(std::aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64));
    std::memset(p, 0, count * sizeof(float));
  }
  ~Aligned() { std::free(p); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
  float* data() const { return p; }
};

struct Shape {
  const char* model;
  int layer, T, B, I, H;
};

// One layer, both implementations; returns false when oneDNN refuses the shape.
int g_layout = 0;   // --layout: 0 = [T,B,I] (tnc), 1 = [B,T,I] (ntc, batch_first: the reference models' layout)

bool run_shape(const Shape& sh, double seconds) {
  const int T = sh.T, B = sh.B, I = sh.I, H = sh.H;
  std::mt19937 rng(1234);
  // torch's LSTM initialisation, U(-1/sqrt(H), 1/sqrt(H)) for weights and biases (the reference models' scale; a
  // wider one saturates the gates, and the cell's exp then runs into denormals, which times the FPU's slow path,
  // not the kernels), inputs U(-1, 1).
  const float sc = 1.f / std::sqrt(static_cast<float>(H));
  std::uniform_real_distribution<float> u(-sc, sc), ux(-1.f, 1.f);
  // ONNX layouts: W [4H, I], R [4H, H], Wb / Rb [4H], gates i, o, f, c; x [T, B, I].
  std::vector<float> W(static_cast<std::size_t>(4) * H * I), R(static_cast<std::size_t>(4) * H * H), Wb(4 * H), Rb(4 * H);
  std::vector<float> x(static_cast<std::size_t>(T) * B * I);
  for (auto* v : {&W, &R, &Wb, &Rb})
    for (float& f : *v) f = u(rng);
  for (float& f : x) f = ux(rng);

  // tickrt
  const tickrt::infer::cpu::Isa isa = tickrt::infer::cpu::detect_isa();
  Aligned packed(tickrt::infer::cpu::lstm_packed_floats(isa, I, H) + 16);
  tickrt::infer::cpu::lstm_pack(isa, I, H, W.data(), R.data(), Wb.data(), Rb.data(), packed.data());
  const tickrt::infer::cpu::LstmDims d{T, B, I, H};
  Aligned ws(tickrt::infer::cpu::lstm_workspace_floats(isa, d) + 16), xa(x.size());
  std::memcpy(xa.data(), x.data(), x.size() * sizeof(float));
  Aligned y(static_cast<std::size_t>(T) * B * H), hT(static_cast<std::size_t>(B) * H), cT(static_cast<std::size_t>(B) * H);
  auto ours = [&] {
    tickrt::infer::cpu::lstm_forward(isa, d, packed.data(), xa.data(), g_layout, nullptr, nullptr, y.data(), hT.data(), cT.data(),
                                     ws.data());
  };
  const Stats st = time_calls(seconds, ours);
  const std::vector<float> our_h(hT.data(), hT.data() + hT.n);

  // oneDNN: gates i, f, c~, o; weights_layer [L, D, I, G, O] (ldigo), weights_iter [L, D, H, G, O], bias [L, D, G, O].
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dim L = 1, D = 1, G = 4;
  const memory::dims src_dims = {T, B, I}, dst_dims = {T, B, H};
  const memory::dims wl_dims = {L, D, I, G, H}, wi_dims = {L, D, H, G, H}, b_dims = {L, D, G, H};
  const memory::dims iter_dims = {L, D, B, H};
  using dt = memory::data_type;
  using tag = memory::format_tag;
  auto src_md = memory::desc(src_dims, dt::f32, g_layout ? tag::ntc : tag::tnc);
  auto dst_md = memory::desc(dst_dims, dt::f32, g_layout ? tag::ntc : tag::tnc);
  auto wl_any = memory::desc(wl_dims, dt::f32, tag::any);
  auto wi_any = memory::desc(wi_dims, dt::f32, tag::any);
  auto b_md = memory::desc(b_dims, dt::f32, tag::ldgo);
  auto iter_md = memory::desc(iter_dims, dt::f32, tag::ldnc);
  lstm_forward::primitive_desc pd;
  try {
    auto desc = lstm_forward::desc(prop_kind::forward_inference, rnn_direction::unidirectional_left2right, src_md, iter_md,
                                   iter_md, wl_any, wi_any, b_md, dst_md, iter_md, iter_md);
    pd = lstm_forward::primitive_desc(desc, eng);
  } catch (const dnnl::error& e) {
    std::printf("| %s L%d | T %d B %d I %d H %d | oneDNN refused: %s |\n", sh.model, sh.layer, T, B, I, H, e.what());
    return false;
  }
  // ONNX gate g (i, o, f, c) -> oneDNN gate (i, f, c, o).
  const int onnx_to_dnnl[4] = {0, 3, 1, 2};
  std::vector<float> wl(static_cast<std::size_t>(I) * G * H), wi(static_cast<std::size_t>(H) * G * H), bias(static_cast<std::size_t>(G) * H);
  for (int g = 0; g < 4; ++g) {
    const int dg = onnx_to_dnnl[g];
    for (int o = 0; o < H; ++o) {
      for (int i = 0; i < I; ++i) wl[(static_cast<std::size_t>(i) * G + dg) * H + o] = W[(static_cast<std::size_t>(g) * H + o) * I + i];
      for (int i = 0; i < H; ++i) wi[(static_cast<std::size_t>(i) * G + dg) * H + o] = R[(static_cast<std::size_t>(g) * H + o) * H + i];
      bias[static_cast<std::size_t>(dg) * H + o] = Wb[g * H + o] + Rb[g * H + o];
    }
  }
  memory wl_user({wl_dims, dt::f32, tag::ldigo}, eng, wl.data()), wi_user({wi_dims, dt::f32, tag::ldigo}, eng, wi.data());
  memory wl_mem(pd.weights_layer_desc(), eng), wi_mem(pd.weights_iter_desc(), eng);
  reorder(wl_user, wl_mem).execute(strm, wl_user, wl_mem);
  reorder(wi_user, wi_mem).execute(strm, wi_user, wi_mem);
  memory src_mem(src_md, eng, xa.data()), b_mem(b_md, eng, bias.data());
  Aligned dy(static_cast<std::size_t>(T) * B * H), dh(static_cast<std::size_t>(B) * H), dc(static_cast<std::size_t>(B) * H);
  Aligned zeros(static_cast<std::size_t>(B) * H), zeros_c(static_cast<std::size_t>(B) * H);
  memory dst_mem(dst_md, eng, dy.data()), h_out(iter_md, eng, dh.data()), c_out(iter_md, eng, dc.data());
  memory h_in(iter_md, eng, zeros.data()), c_in(iter_md, eng, zeros_c.data());
  memory ws_mem;
  if (pd.workspace_desc().get_size() != 0) ws_mem = memory(pd.workspace_desc(), eng);
  memory scratch(pd.scratchpad_desc(), eng);
  lstm_forward prim(pd);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, src_mem}, {DNNL_ARG_SRC_ITER, h_in},   {DNNL_ARG_SRC_ITER_C, c_in},
                                          {DNNL_ARG_WEIGHTS_LAYER, wl_mem}, {DNNL_ARG_WEIGHTS_ITER, wi_mem}, {DNNL_ARG_BIAS, b_mem},
                                          {DNNL_ARG_DST_LAYER, dst_mem}, {DNNL_ARG_DST_ITER, h_out},     {DNNL_ARG_DST_ITER_C, c_out},
                                          {DNNL_ARG_SCRATCHPAD, scratch}};
  if (pd.workspace_desc().get_size() != 0) args.insert({DNNL_ARG_WORKSPACE, ws_mem});
  auto theirs = [&] {
    prim.execute(strm, args);
    strm.wait();
  };
  const Stats so = time_calls(seconds, theirs);
  float maxd = 0;
  for (std::size_t i = 0; i < dh.n; ++i) maxd = std::max(maxd, std::fabs(dh.data()[i] - our_h[i]));
  std::printf("| %-11s L%d | %3d | %2d | %3d | %3d | %10.1f | %10.1f | %10.1f | %10.1f | %5.2fx | %.1e |\n", sh.model, sh.layer, T, B,
              I, H, st.median_us, st.p99_us, so.median_us, so.p99_us, so.median_us / st.median_us, static_cast<double>(maxd));
  std::fflush(stdout);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  std::string which = "all";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (a == "--shapes" && i + 1 < argc) which = argv[++i];
    else if (a == "--layout" && i + 1 < argc) g_layout = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_onednn_lstm [--seconds S] [--shapes all|s|l] [--layout 0|1]\n");
      return 2;
    }
  }
#if defined(_OPENMP)
  omp_set_num_threads(1);
#endif
  std::printf("bench_onednn_lstm: one LSTM layer, tickrt (%s) vs oneDNN %d.%d.%d, 1 thread, %.1f s per row, layout %d\n",
              tickrt::infer::cpu::isa_name(tickrt::infer::cpu::detect_isa()), dnnl::version()->major, dnnl::version()->minor,
              dnnl::version()->patch, seconds, g_layout);
  std::printf("| layer          |   T |  B |   I |   H | tickrt P50 | tickrt P99 | oneDNN P50 | oneDNN P99 | oneDNN/tickrt | max|dh| |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::vector<Shape> shapes;
  for (int b : {1, 8, 64}) {
    if (which == "all" || which == "s") {
      shapes.push_back({"lstm_attn_s", 1, 64, b, 32, 64});
      shapes.push_back({"lstm_attn_s", 2, 64, b, 64, 64});
    }
    if (which == "all" || which == "l") {
      shapes.push_back({"lstm_attn_l", 1, 128, b, 64, 256});
      shapes.push_back({"lstm_attn_l", 2, 128, b, 256, 256});
    }
  }
  for (const Shape& s : shapes) (void)run_shape(s, seconds);
  return 0;
}
