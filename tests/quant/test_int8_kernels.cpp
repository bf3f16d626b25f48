// INT8 / FP16 kernels against scalar references: the int32 products must be exact on every INT8 path;
// the FP16 GEMM matches a double reference on FP16-rounded weights within FP32 rounding; the INT8 LSTM
// matches a float reference that applies the same quantization; f32<->f16 conversion is round-to-nearest-even.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "infer/cpu/int8_kernels.hpp"

using namespace tickrt::infer::cpu;

namespace {

std::vector<Int8Isa> paths() {
  std::vector<Int8Isa> v;
  for (auto i : {Int8Isa::scalar, Int8Isa::avx2, Int8Isa::avx_vnni, Int8Isa::avx512_vnni})
    if (int8_isa_available(i)) v.push_back(i);
  return v;
}
std::vector<float> randn(std::size_t n, std::mt19937& rng, float s = 1.f) {
  std::normal_distribution<float> d(0.f, s);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}
struct Packed {
  std::vector<std::byte> b;
  explicit Packed(std::size_t n) : b(n + 64) {}
  std::byte* p() { return b.data(); }
};

}  // namespace

TEST(QuantKernels, Int8GemmExactOnEveryPath) {
  std::mt19937 rng(1);
  for (auto [M, N, K] : {std::tuple{1, 256, 64}, {7, 33, 13}, {64, 256, 24}, {5, 16, 4}, {3, 3, 130}}) {
    auto W = randn(static_cast<std::size_t>(N) * K, rng);
    std::vector<std::byte> packed(i8_packed_bytes(K, N));
    i8_pack_weights(W.data(), nullptr, K, N, packed.data());
    const int Kp = i8_kp(K), Np = i8_np(N);
    std::vector<int8_t> A(static_cast<std::size_t>(M) * Kp, 0);
    std::uniform_int_distribution<int> u(-127, 127);
    for (int m = 0; m < M; ++m)
      for (int k = 0; k < K; ++k) A[static_cast<std::size_t>(m) * Kp + k] = static_cast<int8_t>(u(rng));
    // Extremes: every product at +-127*127 (the AVX2 saturation corner).
    for (int k = 0; k < K; ++k) A[k] = static_cast<int8_t>((k & 1) ? -127 : 127);
    std::vector<int32_t> ref(static_cast<std::size_t>(M) * Np, 0);
    const float* sw = i8_wscale(packed.data(), K, N);
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        int32_t s = 0;
        for (int k = 0; k < K; ++k)
          s += A[static_cast<std::size_t>(m) * Kp + k] * static_cast<int32_t>(std::lround(i8_weight(packed.data(), K, N, n, k) / sw[n]));
        ref[static_cast<std::size_t>(m) * Np + n] = s;
      }
    for (auto isa : paths()) {
      std::vector<int32_t> C(static_cast<std::size_t>(M) * Np, -1);
      i8_gemm_s32(isa, M, N, K, A.data(), Kp, packed.data(), C.data(), Np);
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n)
          ASSERT_EQ(C[static_cast<std::size_t>(m) * Np + n], ref[static_cast<std::size_t>(m) * Np + n])
              << int8_isa_name(isa) << " M" << M << " N" << N << " K" << K << " at " << m << "," << n;
    }
  }
}

TEST(QuantKernels, PerChannelWeightsWithinHalfAStep) {
  std::mt19937 rng(2);
  const int K = 37, N = 21;
  auto W = randn(static_cast<std::size_t>(N) * K, rng);
  for (int k = 0; k < K; ++k) W[5 * K + k] = 0.f;   // an all-zero channel stays exactly zero
  std::vector<std::byte> packed(i8_packed_bytes(K, N));
  i8_pack_weights(W.data(), nullptr, K, N, packed.data());
  const float* sw = i8_wscale(packed.data(), K, N);
  for (int n = 0; n < N; ++n) {
    float amax = 0;
    for (int k = 0; k < K; ++k) amax = std::max(amax, std::fabs(W[static_cast<std::size_t>(n) * K + k]));
    if (n != 5) { EXPECT_FLOAT_EQ(sw[n], amax / 127.f); }
    for (int k = 0; k < K; ++k)
      EXPECT_LE(std::fabs(i8_weight(packed.data(), K, N, n, k) - W[static_cast<std::size_t>(n) * K + k]), 0.5f * sw[n] * 1.0001f);
  }
  for (int k = 0; k < K; ++k) EXPECT_EQ(i8_weight(packed.data(), K, N, 5, k), 0.f);
}

TEST(QuantKernels, QuantizeRowsRoundsHalfEvenAndClampsOnEveryPath) {
  const int K = 19;
  std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 126.5f, 127.4f, 500.f, -500.f, 0.49f, -3.2f, 7.7f, 0.f, -0.f, 1e-9f, 64.5f, -64.5f, 3.5f, 2.49f};
  const std::vector<int> want = {0, 2, 2, 0, -2, 126, 127, 127, -127, 0, -3, 8, 0, 0, 0, 64, -64, 4, 2};
  for (auto isa : paths()) {
    std::vector<int8_t> q(static_cast<std::size_t>(i8_kp(K)), 99);
    i8_quantize_rows(isa, 1, K, x.data(), K, 1.f, q.data(), i8_kp(K));
    for (int k = 0; k < K; ++k) EXPECT_EQ(q[k], want[k]) << int8_isa_name(isa) << " x=" << x[k];
    for (int k = K; k < i8_kp(K); ++k) EXPECT_EQ(q[k], 0) << "padding";
  }
}

TEST(QuantKernels, Fp16ConversionRoundsToNearestEven) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.f), 0x7c00);           // rounds up past the largest half: inf
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);  // exact tie -> even
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.f, -25)), 0x0000);  // tie with 0 -> even (0)
  EXPECT_EQ(f32_to_f16(std::ldexp(3.f, -25)), 0x0002);  // 1.5 units -> 2
  for (uint32_t h = 0; h < 0x7c00; ++h) ASSERT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h);
}

TEST(QuantKernels, Fp16GemmMatchesReferenceOnEveryIsa) {
  std::mt19937 rng(3);
  for (auto [M, N, K] : {std::tuple{1, 256, 64}, {9, 35, 17}, {64, 64, 128}}) {
    auto W = randn(static_cast<std::size_t>(N) * K, rng), A = randn(static_cast<std::size_t>(M) * K, rng), b = randn(N, rng);
    std::vector<std::byte> packed(f16_packed_bytes(K, N));
    f16_pack_weights(W.data(), nullptr, K, N, packed.data());
    for (auto isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
      if (isa > detect_isa()) continue;
      std::vector<float> C(static_cast<std::size_t>(M) * N);
      f16_gemm(isa, M, N, K, A.data(), K, packed.data(), b.data(), {Act::relu, 0.f}, C.data(), N);
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          double s = b[n], mag = std::fabs(b[n]);
          for (int k = 0; k < K; ++k) {
            const double w = f16_to_f32(f32_to_f16(W[static_cast<std::size_t>(n) * K + k]));
            s += A[static_cast<std::size_t>(m) * K + k] * w;
            mag += std::fabs(A[static_cast<std::size_t>(m) * K + k] * w);
          }
          ASSERT_NEAR(C[static_cast<std::size_t>(m) * N + n], std::max(0.0, s), 1e-6 * mag + 1e-6) << isa_name(isa);
        }
    }
  }
}

namespace {
// Float LSTM reference that applies the INT8 scheme explicitly: quantized weights (dequantized), x and
// h rounded to their int8 grids; everything else in double.
void ref_lstm_q(int T, int B, int I, int H, const std::vector<float>& x, const std::byte* Wq, const std::byte* Rq,
                const std::vector<float>& bias, float sx, std::vector<float>& y) {
  auto q = [](double v, double s) { return std::max(-127.0, std::min(127.0, std::nearbyint(v / s))) * s; };
  std::vector<double> h(static_cast<std::size_t>(B) * H, 0), c(static_cast<std::size_t>(B) * H, 0);
  y.assign(static_cast<std::size_t>(T) * B * H, 0);
  auto sg = [](double v) { return 1 / (1 + std::exp(-v)); };
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b) {
      std::vector<double> g(4 * H);
      for (int n = 0; n < 4 * H; ++n) {
        double s = bias[n];
        for (int k = 0; k < I; ++k) s += q(x[(static_cast<std::size_t>(b) * T + t) * I + k], sx) * i8_weight(Wq, I, 4 * H, n, k);
        for (int k = 0; k < H; ++k) s += q(h[static_cast<std::size_t>(b) * H + k], 1.0 / 127) * i8_weight(Rq, H, 4 * H, n, k);
        g[n] = s;
      }
      for (int j = 0; j < H; ++j) {
        const double i = sg(g[j]), o = sg(g[H + j]), f = sg(g[2 * H + j]), cc = std::tanh(g[3 * H + j]);
        double& cj = c[static_cast<std::size_t>(b) * H + j];
        cj = f * cj + i * cc;
        h[static_cast<std::size_t>(b) * H + j] = o * std::tanh(cj);
      }
      for (int j = 0; j < H; ++j) y[(static_cast<std::size_t>(b) * T + t) * H + j] = static_cast<float>(h[static_cast<std::size_t>(b) * H + j]);
    }
}
}  // namespace

TEST(QuantKernels, Int8LstmMatchesQuantizedReference) {
  std::mt19937 rng(4);
  const int T = 12, B = 3, I = 10, H = 20;
  auto W = randn(static_cast<std::size_t>(4 * H) * I, rng, 0.3f), R = randn(static_cast<std::size_t>(4 * H) * H, rng, 0.3f);
  auto bias = randn(4 * H, rng, 0.1f), x = randn(static_cast<std::size_t>(B) * T * I, rng);
  std::vector<std::byte> Wq(i8_packed_bytes(I, 4 * H)), Rq(i8_packed_bytes(H, 4 * H));
  i8_pack_weights(W.data(), nullptr, I, 4 * H, Wq.data());
  i8_pack_weights(R.data(), nullptr, H, 4 * H, Rq.data());
  const float sx = 3.f / 127;
  std::vector<float> ref;
  ref_lstm_q(T, B, I, H, x, Wq.data(), Rq.data(), bias, sx, ref);
  for (auto isa : paths()) {
    std::vector<std::byte> ws(i8_lstm_workspace_bytes({T, B, I, H}));
    std::vector<float> y(ref.size()), hT(static_cast<std::size_t>(B) * H);
    i8_lstm_forward(isa, {T, B, I, H}, Wq.data(), Rq.data(), bias.data(), sx, x.data(), 1, y.data(), hT.data(), nullptr, ws.data());
    double md = 0;
    for (std::size_t i = 0; i < y.size(); ++i) md = std::max(md, static_cast<double>(std::fabs(y[i] - ref[i])));
    // h crosses a rounding boundary of its 1/127 grid now and then (float vs double gate sums): one step
    // of that grid, propagated, bounds the difference.
    EXPECT_LT(md, 2.0 / 127) << int8_isa_name(isa);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) EXPECT_EQ(hT[static_cast<std::size_t>(b) * H + j], y[(static_cast<std::size_t>(b) * T + T - 1) * H + j]);
  }
}

TEST(QuantKernels, Fp16LstmCloseToFp32) {
  std::mt19937 rng(5);
  const int T = 16, B = 2, I = 8, H = 24;
  auto W = randn(static_cast<std::size_t>(4 * H) * I, rng, 0.3f), R = randn(static_cast<std::size_t>(4 * H) * H, rng, 0.3f);
  auto bias = randn(4 * H, rng, 0.1f), x = randn(static_cast<std::size_t>(B) * T * I, rng);
  std::vector<std::byte> Wp(f16_packed_bytes(I, 4 * H)), Rp(f16_packed_bytes(H, 4 * H));
  f16_pack_weights(W.data(), nullptr, I, 4 * H, Wp.data());
  f16_pack_weights(R.data(), nullptr, H, 4 * H, Rp.data());
  // FP32 reference (float weights): FP16 weights differ by <= 2^-11 relative, so h by ~1e-3 at most.
  std::vector<double> h(static_cast<std::size_t>(B) * H, 0), c(h.size(), 0), yref(static_cast<std::size_t>(B) * T * H);
  auto sg = [](double v) { return 1 / (1 + std::exp(-v)); };
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b) {
      std::vector<double> g(4 * H);
      for (int n = 0; n < 4 * H; ++n) {
        double s = bias[n];
        for (int k = 0; k < I; ++k) s += x[(static_cast<std::size_t>(b) * T + t) * I + k] * W[static_cast<std::size_t>(n) * I + k];
        for (int k = 0; k < H; ++k) s += h[static_cast<std::size_t>(b) * H + k] * R[static_cast<std::size_t>(n) * H + k];
        g[n] = s;
      }
      for (int j = 0; j < H; ++j) {
        double& cj = c[static_cast<std::size_t>(b) * H + j];
        cj = sg(g[2 * H + j]) * cj + sg(g[j]) * std::tanh(g[3 * H + j]);
        h[static_cast<std::size_t>(b) * H + j] = sg(g[H + j]) * std::tanh(cj);
        yref[(static_cast<std::size_t>(b) * T + t) * H + j] = h[static_cast<std::size_t>(b) * H + j];
      }
    }
  for (auto isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (isa > detect_isa()) continue;
    std::vector<std::byte> ws(f16_lstm_workspace_bytes({T, B, I, H}));
    std::vector<float> y(yref.size());
    f16_lstm_forward(isa, {T, B, I, H}, Wp.data(), Rp.data(), bias.data(), x.data(), 1, y.data(), nullptr, nullptr, ws.data());
    for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], yref[i], 3e-3) << isa_name(isa) << " at " << i;
  }
}
