// tests/infer_kernels: every kernel, every ISA this CPU runs, against plain double-precision references.
// Odd sizes (1, 3, 17, 63, 65, 127 ...), both layouts, null biases / h0 / c0, every epilogue. Workspaces
// are allocated at exactly the size the kernels ask for, followed by canaries that must survive.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "infer/cpu/amx.hpp"
#include "infer/cpu/kernels.hpp"

namespace k = tickrt::infer::cpu;
using k::Act;
using k::Isa;

namespace {

// 64-byte aligned float buffer with kCanary floats of canaries after the requested size.
constexpr size_t kCanary = 32;
constexpr float kCanaryValue = 1234.5f;
struct Buf {
  explicit Buf(size_t n) : n_(n) {
    const size_t bytes = ((n + kCanary) * sizeof(float) + 63) / 64 * 64;
    p_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    for (size_t i = 0; i < n + kCanary; ++i) p_[i] = i < n ? 0.f : kCanaryValue;
  }
  float* data() { return p_.get(); }
  bool canaries_ok() const {
    for (size_t i = n_; i < n_ + kCanary; ++i)
      if (p_[i] != kCanaryValue) return false;
    return true;
  }
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  size_t n_;
  std::unique_ptr<float[], Free> p_;
};

std::vector<float> rnd(size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

std::vector<Isa> isas() {
  std::vector<Isa> v{Isa::scalar};
  const Isa best = k::detect_isa();
  if (best >= Isa::avx2) v.push_back(Isa::avx2);
  if (best >= Isa::avx512) v.push_back(Isa::avx512);
  return v;
}

double act_ref(Act a, double alpha, double x) {
  switch (a) {
    case Act::none: return x;
    case Act::relu: return x > 0 ? x : 0;
    case Act::leaky_relu: return x > 0 ? x : alpha * x;
    case Act::tanh: return std::tanh(x);
    case Act::sigmoid: return 1.0 / (1.0 + std::exp(-x));
  }
  return x;
}
double sigm(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

TEST(Isa, DetectAndNames) {
  const Isa best = k::detect_isa();
  EXPECT_EQ(best, k::detect_isa());  // cached, stable
  EXPECT_STREQ(k::isa_name(Isa::scalar), "scalar");
  EXPECT_STREQ(k::isa_name(Isa::avx2), "avx2");
  EXPECT_STREQ(k::isa_name(Isa::avx512), "avx512");
  EXPECT_EQ(k::isa_width(Isa::avx512), 16);
  const char* env = std::getenv("TICKRT_ISA");
  if (env && std::string(env) == "scalar") {
    EXPECT_EQ(best, Isa::scalar);
  }
  if (env && std::string(env) == "avx2") {
    EXPECT_LE(static_cast<int>(best), static_cast<int>(Isa::avx2));
  }
}

// Dense sweep incl. large |x|: max relative error of the vectorised tanh / sigmoid, no NaN on
// saturation, exact +-1 / 0..1 bounds.
TEST(Math, TanhSigmoidDenseSweep) {
  std::vector<float> x;
  for (double v = -30.0; v <= 30.0; v += 1.0 / 1024) x.push_back(static_cast<float>(v));
  for (double v = 1e-8; v < 1e-2; v *= 1.01) { x.push_back(static_cast<float>(v)); x.push_back(static_cast<float>(-v)); }
  for (float v : {0.f, -0.f, 0.625f, -0.625f, 0.62499f, 50.f, -50.f, 87.f, -87.f, 88.5f, -88.5f, 100.f, -100.f,
                  1e10f, -1e10f, 3e38f, -3e38f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity()})
    x.push_back(v);
  x.push_back(0.3f);  // odd count: exercises the masked tail
  for (Isa isa : isas()) {
    for (Act a : {Act::tanh, Act::sigmoid}) {
      std::vector<float> y(x.size());
      k::activation(isa, a, 0.f, x.size(), x.data(), y.data());
      double worst = 0;
      size_t worst_i = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_FALSE(std::isnan(y[i])) << k::isa_name(isa) << " x=" << x[i];
        const double ref = act_ref(a, 0, x[i]);
        const double err = std::fabs(y[i] - ref);
        // relative where the result is a normal float; tiny absolute error in the denormal tail
        const double rel = std::fabs(ref) > 1e-37 ? err / std::fabs(ref) : err * 1e30;
        if (rel > worst) { worst = rel; worst_i = i; }
      }
      EXPECT_LT(worst, 2e-6) << k::isa_name(isa) << " act=" << static_cast<int>(a) << " worst at x=" << x[worst_i];
    }
    // in place
    std::vector<float> z = {-2.f, -0.5f, 0.f, 0.5f, 2.f};
    k::activation(isa, Act::leaky_relu, 0.1f, z.size(), z.data(), z.data());
    EXPECT_FLOAT_EQ(z[0], -0.2f);
    EXPECT_FLOAT_EQ(z[1], -0.05f);
    EXPECT_FLOAT_EQ(z[4], 2.f);
    k::activation(isa, Act::relu, 0.f, z.size(), z.data(), z.data());
    EXPECT_EQ(z[0], 0.f);
    EXPECT_EQ(z[4], 2.f);
  }
}

// ---- gemm_packed ----------------------------------------------------------------------------------
TEST(Gemm, PackedMatchesReference) {
  const int Ms[] = {1, 2, 3, 5, 6, 7, 13, 64, 65};
  const int Ns[] = {1, 3, 17, 63, 64, 65, 127, 256};
  const int Ks[] = {1, 3, 17, 32, 65};
  unsigned seed = 1;
  for (Isa isa : isas())
    for (int M : Ms)
      for (int N : Ns)
        for (int K : Ks) {
          const bool trans_b = (M + N + K) % 2 == 0;
          const int lda = K + (M % 3);  // padded rows sometimes
          const int ldc = N + (N % 2);
          auto A = rnd(static_cast<size_t>(M) * lda, seed++);
          auto B = rnd(static_cast<size_t>(K) * N, seed++);
          auto bias = rnd(N, seed++);
          Buf packed(k::gemm_packed_b_floats(isa, K, N));
          k::gemm_pack_b(isa, B.data(), K, N, trans_b, packed.data());
          ASSERT_TRUE(packed.canaries_ok());
          const Act acts[] = {Act::none, Act::relu, Act::leaky_relu, Act::tanh, Act::sigmoid};
          const Act act = acts[(M * 7 + N * 3 + K) % 5];
          const bool with_bias = (M + K) % 3 != 0;
          std::vector<float> C(static_cast<size_t>(M) * ldc, -777.f);
          k::gemm_packed(isa, M, N, K, A.data(), lda, packed.data(), with_bias ? bias.data() : nullptr,
                         k::Epilogue{act, 0.05f}, C.data(), ldc);
          for (int m = 0; m < M; ++m)
            for (int n = 0; n < ldc; ++n) {
              if (n >= N) {
                ASSERT_EQ(C[m * ldc + n], -777.f) << "wrote outside C";
                continue;
              }
              double s = with_bias ? bias[n] : 0, mag = with_bias ? std::fabs(bias[n]) : 0;
              for (int kk = 0; kk < K; ++kk) {
                const double b = trans_b ? B[n * K + kk] : B[kk * N + n];
                s += static_cast<double>(A[m * lda + kk]) * b;
                mag += std::fabs(A[m * lda + kk] * b);
              }
              const double ref = act_ref(act, 0.05f, s);
              ASSERT_NEAR(C[m * ldc + n], ref, 1e-5 * (mag + 1) + 2e-6 * std::fabs(ref))
                  << k::isa_name(isa) << " M=" << M << " N=" << N << " K=" << K << " m=" << m << " n=" << n;
            }
        }
}

TEST(Gemm, PlainAllTransposesAlphaBeta) {
  struct Shape { int M, N, K; };
  const Shape shapes[] = {{1, 1, 1}, {3, 17, 5}, {17, 3, 65}, {63, 65, 16}, {64, 16, 64}, {7, 129, 300}, {5, 9, 2100}};
  unsigned seed = 100;
  for (Isa isa : isas())
    for (auto s : shapes)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (float beta : {0.f, 1.f, -0.5f}) {
            const int M = s.M, N = s.N, K = s.K;
            const int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
            auto A = rnd(static_cast<size_t>(ta ? K : M) * lda, seed++);
            auto B = rnd(static_cast<size_t>(tb ? N : K) * ldb, seed++);
            auto C0 = rnd(static_cast<size_t>(M) * ldc, seed++);
            auto C = C0;
            if (beta == 0.f)
              for (auto& c : C) c = std::numeric_limits<float>::quiet_NaN();  // must not be read
            const float alpha = 0.75f;
            k::gemm(isa, ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
            for (int m = 0; m < M; ++m)
              for (int n = 0; n < N; ++n) {
                double acc = 0, mag = 0;
                for (int kk = 0; kk < K; ++kk) {
                  const double a = ta ? A[kk * lda + m] : A[m * lda + kk];
                  const double b = tb ? B[n * ldb + kk] : B[kk * ldb + n];
                  acc += a * b;
                  mag += std::fabs(a * b);
                }
                const double ref = alpha * acc + (beta == 0.f ? 0.0 : beta * C0[m * ldc + n]);
                ASSERT_NEAR(C[m * ldc + n], ref, 1e-5 * (mag + 1))
                    << k::isa_name(isa) << " M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb
                    << " beta=" << beta;
              }
          }
}

// ---- LSTM -----------------------------------------------------------------------------------------
namespace {
// Step-by-step ONNX LSTM (forward, gates i o f c) in double.
void lstm_ref(int T, int B, int I, int H, const std::vector<float>& W, const std::vector<float>& R,
              const float* Wb, const float* Rb, const std::vector<float>& x, int layout, const float* h0,
              const float* c0, std::vector<double>& y, std::vector<double>& hT, std::vector<double>& cT) {
  std::vector<double> h(static_cast<size_t>(B) * H), c(static_cast<size_t>(B) * H);
  for (int i = 0; i < B * H; ++i) { h[i] = h0 ? h0[i] : 0; c[i] = c0 ? c0[i] : 0; }
  y.assign(static_cast<size_t>(T) * B * H, 0);
  std::vector<double> g(4 * H), hn(static_cast<size_t>(B) * H);
  for (int t = 0; t < T; ++t) {
    for (int b = 0; b < B; ++b) {
      const float* xt = x.data() + static_cast<size_t>(layout == 0 ? t * B + b : b * T + t) * I;
      for (int r = 0; r < 4 * H; ++r) {
        double s = (Wb ? Wb[r] : 0) + (Rb ? Rb[r] : 0);
        for (int i = 0; i < I; ++i) s += static_cast<double>(W[r * I + i]) * xt[i];
        for (int j = 0; j < H; ++j) s += static_cast<double>(R[r * H + j]) * h[b * H + j];
        g[r] = s;
      }
      for (int j = 0; j < H; ++j) {
        const double ig = sigm(g[j]), og = sigm(g[H + j]), fg = sigm(g[2 * H + j]), cg = std::tanh(g[3 * H + j]);
        c[b * H + j] = fg * c[b * H + j] + ig * cg;
        hn[b * H + j] = og * std::tanh(c[b * H + j]);
      }
    }
    h = hn;
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) y[static_cast<size_t>(layout == 0 ? t * B + b : b * T + t) * H + j] = h[b * H + j];
  }
  hT = h;
  cT = c;
}
}  // namespace

TEST(Lstm, MatchesOnnxReference) {
  struct Case { int T, B, I, H, layout; bool biases, init, want_y; };
  const Case cases[] = {
      {1, 1, 1, 1, 0, true, true, true},     {5, 1, 3, 17, 1, false, false, true},
      {17, 1, 32, 64, 1, true, false, true}, {9, 1, 64, 65, 0, true, true, true},
      {7, 2, 3, 3, 0, true, true, false},    {6, 3, 17, 64, 1, false, true, true},
      {4, 7, 32, 64, 0, true, false, true},  {5, 13, 5, 33, 1, true, true, true},
      {3, 64, 16, 64, 1, true, true, true},  {3, 65, 7, 17, 0, true, false, true},
      {4, 1, 20, 127, 1, true, true, true},  {2, 8, 64, 256, 1, true, true, true},
      // T = 1, B = 1: the streaming step's fused pass (x @ W^T and h @ R^T in one set of accumulators); one chunk of
      // panels (lstm_attn_stream's layers), several chunks (H 127, 256), padded units (H 33), no initial state.
      {1, 1, 24, 64, 0, true, true, true},   {1, 1, 64, 64, 1, true, true, true},
      {1, 1, 20, 127, 1, true, true, true},  {1, 1, 5, 33, 0, false, false, true},
      {1, 1, 64, 256, 0, true, true, false},
  };
  unsigned seed = 500;
  for (Isa isa : isas())
    for (const Case& cs : cases) {
      const int T = cs.T, B = cs.B, I = cs.I, H = cs.H;
      const float sc = 1.f / std::sqrt(static_cast<float>(H));
      auto W = rnd(static_cast<size_t>(4) * H * I, seed++, -sc, sc);
      auto R = rnd(static_cast<size_t>(4) * H * H, seed++, -sc, sc);
      auto Wb = rnd(4 * H, seed++), Rb = rnd(4 * H, seed++);
      auto x = rnd(static_cast<size_t>(T) * B * I, seed++, -2.f, 2.f);
      auto h0 = rnd(static_cast<size_t>(B) * H, seed++), c0 = rnd(static_cast<size_t>(B) * H, seed++);
      Buf packed(k::lstm_packed_floats(isa, I, H));
      k::lstm_pack(isa, I, H, W.data(), R.data(), cs.biases ? Wb.data() : nullptr, cs.biases ? Rb.data() : nullptr,
                   packed.data());
      ASSERT_TRUE(packed.canaries_ok());
      const k::LstmDims d{T, B, I, H};
      Buf ws(k::lstm_workspace_floats(isa, d));
      std::vector<float> y(static_cast<size_t>(T) * B * H, -9.f), hT(static_cast<size_t>(B) * H), cT(hT.size());
      k::lstm_forward(isa, d, packed.data(), x.data(), cs.layout, cs.init ? h0.data() : nullptr,
                      cs.init ? c0.data() : nullptr, cs.want_y ? y.data() : nullptr, hT.data(), cT.data(), ws.data());
      ASSERT_TRUE(ws.canaries_ok()) << "workspace overflow";
      std::vector<double> yr, hr, cr;
      lstm_ref(T, B, I, H, W, R, cs.biases ? Wb.data() : nullptr, cs.biases ? Rb.data() : nullptr, x, cs.layout,
               cs.init ? h0.data() : nullptr, cs.init ? c0.data() : nullptr, yr, hr, cr);
      const std::string where = std::string(k::isa_name(isa)) + " T=" + std::to_string(T) + " B=" + std::to_string(B) +
                                " I=" + std::to_string(I) + " H=" + std::to_string(H);
      for (size_t i = 0; i < hr.size(); ++i) {
        ASSERT_NEAR(hT[i], hr[i], 1e-5 * (1 + std::fabs(hr[i]))) << where << " hT i=" << i;
        ASSERT_NEAR(cT[i], cr[i], 1e-5 * (1 + std::fabs(cr[i]))) << where << " cT i=" << i;
      }
      if (cs.want_y)
        for (size_t i = 0; i < yr.size(); ++i) ASSERT_NEAR(y[i], yr[i], 1e-5 * (1 + std::fabs(yr[i]))) << where << " y i=" << i;
      else
        for (float v : y) ASSERT_EQ(v, -9.f);
    }
}

// The AMX projection (three-way BF16 split) on its own, odd M and K, against the double reference:
// it must meet the same FP32-level bound as the FMA GEMM.
TEST(Amx, SplitBf16GemmMatchesReference) {
  if (k::detect_isa() < Isa::avx512 || !k::amx::available()) GTEST_SKIP() << "no AMX here (or TICKRT_AMX=0)";
  unsigned seed = 4000;
  for (int M : {1, 15, 17, 64, 65})
    for (int K : {1, 31, 32, 33, 64, 100})
      for (int N : {64, 192}) {
        auto A = rnd(static_cast<size_t>(M) * K, seed++, -3.f, 3.f);
        auto B = rnd(static_cast<size_t>(K) * N, seed++, -0.5f, 0.5f);
        auto bias = rnd(N, seed++);
        struct Ctx { const std::vector<float>* B; int N; } ctx{&B, N};
        Buf packed(k::amx::packed_floats(K, N));
        k::amx::pack_b(K, N, [](const void* p, int kk, int n) {
          const Ctx& c = *static_cast<const Ctx*>(p);
          return (*c.B)[static_cast<size_t>(kk) * c.N + n];
        }, &ctx, packed.data());
        Buf ws(k::amx::workspace_floats(M, K));
        std::vector<float> C(static_cast<size_t>(M) * N);
        k::amx::gemm(M, N, K, A.data(), K, packed.data(), bias.data(), C.data(), N, ws.data());
        ASSERT_TRUE(ws.canaries_ok() && packed.canaries_ok());
        for (int m = 0; m < M; ++m)
          for (int n = 0; n < N; ++n) {
            double r = bias[n], mag = std::fabs(bias[n]);
            for (int kk = 0; kk < K; ++kk) {
              r += static_cast<double>(A[m * K + kk]) * B[kk * N + n];
              mag += std::fabs(A[m * K + kk] * B[kk * N + n]);
            }
            ASSERT_NEAR(C[m * N + n], r, 1e-6 * (mag + 1)) << "M=" << M << " K=" << K << " N=" << N;
          }
      }
}

// Two runs with the same inputs give bit-identical outputs (no state left in the workspace).
TEST(Lstm, DeterministicAcrossCalls) {
  for (Isa isa : isas()) {
    const int T = 64, B = 1, I = 32, H = 64;
    auto W = rnd(4 * H * I, 1, -0.2f, 0.2f), R = rnd(4 * H * H, 2, -0.2f, 0.2f), x = rnd(T * I, 3);
    Buf packed(k::lstm_packed_floats(isa, I, H));
    k::lstm_pack(isa, I, H, W.data(), R.data(), nullptr, nullptr, packed.data());
    Buf ws(k::lstm_workspace_floats(isa, {T, B, I, H}));
    std::vector<float> y1(T * H), y2(T * H);
    k::lstm_forward(isa, {T, B, I, H}, packed.data(), x.data(), 1, nullptr, nullptr, y1.data(), nullptr, nullptr, ws.data());
    k::lstm_forward(isa, {T, B, I, H}, packed.data(), x.data(), 1, nullptr, nullptr, y2.data(), nullptr, nullptr, ws.data());
    EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float))) << k::isa_name(isa);
  }
}

// ---- attention ------------------------------------------------------------------------------------
TEST(Attention, AdditiveMatchesReference) {
  struct Case { int B, T, D, A, layout; bool bw; };
  const Case cases[] = {{1, 1, 1, 1, 1, true}, {1, 64, 64, 64, 1, true}, {3, 17, 17, 33, 0, false},
                        {2, 65, 63, 17, 1, true}, {5, 7, 64, 65, 0, true}};
  unsigned seed = 900;
  for (Isa isa : isas())
    for (const Case& cs : cases) {
      const int B = cs.B, T = cs.T, D = cs.D, A = cs.A;
      auto Wm = rnd(static_cast<size_t>(A) * D, seed++, -0.3f, 0.3f), bw = rnd(A, seed++), v = rnd(A, seed++);
      auto h = rnd(static_cast<size_t>(B) * T * D, seed++);
      const float bv = 0.3f;
      Buf packed(k::additive_attention_packed_floats(isa, D, A));
      k::additive_attention_pack(isa, D, A, Wm.data(), cs.bw ? bw.data() : nullptr, v.data(), bv, packed.data());
      Buf ws(k::additive_attention_workspace_floats(isa, B, T, D, A));
      std::vector<float> ctx(static_cast<size_t>(B) * D), wts(static_cast<size_t>(B) * T);
      k::additive_attention(isa, B, T, D, A, packed.data(), h.data(), cs.layout, ctx.data(), wts.data(), ws.data());
      ASSERT_TRUE(ws.canaries_ok() && packed.canaries_ok());
      for (int b = 0; b < B; ++b) {
        auto hat = [&](int t, int i) { return static_cast<double>(h[cs.layout == 1 ? (b * T + t) * D + i : (t * B + b) * D + i]); };
        std::vector<double> s(T);
        double mx = -1e300;
        for (int t = 0; t < T; ++t) {
          double st = bv;
          for (int a = 0; a < A; ++a) {
            double u = cs.bw ? bw[a] : 0;
            for (int i = 0; i < D; ++i) u += Wm[a * D + i] * hat(t, i);
            st += v[a] * std::tanh(u);
          }
          s[t] = st;
          mx = std::max(mx, st);
        }
        double sum = 0;
        for (auto& e : s) { e = std::exp(e - mx); sum += e; }
        for (int t = 0; t < T; ++t) ASSERT_NEAR(wts[b * T + t], s[t] / sum, 1e-5 * (s[t] / sum) + 1e-7) << k::isa_name(isa);
        for (int i = 0; i < D; ++i) {
          double c = 0;
          for (int t = 0; t < T; ++t) c += s[t] / sum * hat(t, i);
          ASSERT_NEAR(ctx[b * D + i], c, 1e-5 * (1 + std::fabs(c))) << k::isa_name(isa) << " B=" << B << " T=" << T << " D=" << D;
        }
      }
    }
}

TEST(Attention, SdpaMatchesReference) {
  struct Case { int BH, Tq, Tk, d; };
  const Case cases[] = {{1, 1, 1, 1}, {4, 64, 64, 16}, {3, 17, 65, 17}, {2, 5, 3, 64}};
  unsigned seed = 1300;
  for (Isa isa : isas())
    for (const Case& cs : cases) {
      const int BH = cs.BH, Tq = cs.Tq, Tk = cs.Tk, d = cs.d;
      auto q = rnd(static_cast<size_t>(BH) * Tq * d, seed++), kk = rnd(static_cast<size_t>(BH) * Tk * d, seed++),
           v = rnd(static_cast<size_t>(BH) * Tk * d, seed++);
      const float scale = 1.f / std::sqrt(static_cast<float>(d));
      Buf ws(k::sdpa_workspace_floats(isa, Tq, Tk));
      std::vector<float> out(static_cast<size_t>(BH) * Tq * d);
      k::sdpa(isa, BH, Tq, Tk, d, scale, q.data(), kk.data(), v.data(), out.data(), ws.data());
      ASSERT_TRUE(ws.canaries_ok());
      for (int h = 0; h < BH; ++h)
        for (int i = 0; i < Tq; ++i) {
          std::vector<double> s(Tk);
          double mx = -1e300, sum = 0;
          for (int j = 0; j < Tk; ++j) {
            double a = 0;
            for (int e = 0; e < d; ++e) a += static_cast<double>(q[(h * Tq + i) * d + e]) * kk[(h * Tk + j) * d + e];
            s[j] = a * scale;
            mx = std::max(mx, s[j]);
          }
          for (auto& e : s) { e = std::exp(e - mx); sum += e; }
          for (int e = 0; e < d; ++e) {
            double o = 0;
            for (int j = 0; j < Tk; ++j) o += s[j] / sum * v[(h * Tk + j) * d + e];
            ASSERT_NEAR(out[(h * Tq + i) * d + e], o, 1e-5 * (1 + std::fabs(o))) << k::isa_name(isa);
          }
        }
    }
}

// ---- row ops --------------------------------------------------------------------------------------
TEST(RowOps, SoftmaxAndLayerNorm) {
  unsigned seed = 2000;
  for (Isa isa : isas())
    for (int n : {1, 3, 16, 17, 63, 64, 65, 127}) {
      const int rows = 3;
      auto x = rnd(static_cast<size_t>(rows) * n, seed++, -20.f, 20.f);
      x[0] += 100.f;  // large offsets must not overflow (max subtracted)
      auto g = rnd(n, seed++), bt = rnd(n, seed++);
      std::vector<float> y(x.size());
      k::softmax_rows(isa, rows, n, x.data(), y.data());
      for (int r = 0; r < rows; ++r) {
        double mx = -1e300, sum = 0;
        for (int i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[r * n + i]));
        for (int i = 0; i < n; ++i) sum += std::exp(x[r * n + i] - mx);
        for (int i = 0; i < n; ++i) {
          const double ref = std::exp(x[r * n + i] - mx) / sum;
          ASSERT_NEAR(y[r * n + i], ref, 1e-5 * ref + 1e-30) << k::isa_name(isa) << " n=" << n;
        }
      }
      auto xi = x;
      k::softmax_rows(isa, rows, n, xi.data(), xi.data());  // in place
      for (size_t i = 0; i < xi.size(); ++i) ASSERT_EQ(xi[i], y[i]);

      for (int affine = 0; affine < 2; ++affine) {
        k::layernorm_rows(isa, rows, n, x.data(), affine ? g.data() : nullptr, affine ? bt.data() : nullptr, 1e-5f, y.data());
        for (int r = 0; r < rows; ++r) {
          double mean = 0, var = 0;
          for (int i = 0; i < n; ++i) mean += x[r * n + i];
          mean /= n;
          for (int i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
          var /= n;
          for (int i = 0; i < n; ++i) {
            double ref = (x[r * n + i] - mean) / std::sqrt(var + 1e-5);
            if (affine) ref = ref * g[i] + bt[i];
            ASSERT_NEAR(y[r * n + i], ref, 2e-5 * (1 + std::fabs(ref))) << k::isa_name(isa) << " n=" << n;
          }
        }
      }
    }
}

// vector_keepalive (pipeline keep_warm trickle): pure register work, the same value on every call, finite; the scalar
// build does nothing. Each lane runs a = a * 0.999 + 0.001 from its start: the result is the 8 chains' lanes summed.
TEST(Kernels, VectorKeepaliveIsRegisterOnlyAndDeterministic) {
  for (Isa isa : isas()) {
    const float a = k::vector_keepalive(isa, 32), b = k::vector_keepalive(isa, 32);
    EXPECT_EQ(a, b) << k::isa_name(isa);
    ASSERT_TRUE(std::isfinite(a)) << k::isa_name(isa);
    if (isa == Isa::scalar) {
      EXPECT_EQ(a, 0.f);
      continue;
    }
    const int lanes = isa == Isa::avx512 ? 16 : 8;
    double ref = 0;
    for (int j = 0; j < 8; ++j) {
      double x = 0.5 + 0.0625 * j;
      for (int i = 0; i < 32; ++i) x = x * 0.999 + 0.001;
      ref += lanes * x;
    }
    EXPECT_NEAR(a, ref, 1e-4 * ref) << k::isa_name(isa);
  }
}
