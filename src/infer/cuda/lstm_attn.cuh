// infer/cuda/lstm_attn.cuh — one persistent kernel for a whole "2-layer LSTM + additive attention + MLP head"
// model (tools/models/defs.py LstmAttn; lstm_attn_s and the trained lstm_attn_s): both LSTM layers, attention
// and head in ONE launch. FP16 (tensor cores) also does the input projection x W1^T inside the kernel (input width
// I <= kLaMaxXI), reads x straight from the caller's mapped pinned buffer (small inputs) or from device memory while
// its last steps are still being copied (large ones), and writes the logits to the pinned output; FP32 / INT8 (and FP16 with I > 32)
// keep the projection as one cuBLAS GEMM before the kernel (p.G1).
//
// Who calls: context.cpp at prepare time, when the plan's steps match the pattern (match_lstm_attn): it packs
// the weights once (lstm_attn_pack, setup path) and adds GEMM + lstm_attn_run as one step of the CUDA graph.
// Design (docs/CUDA.md "The fused LSTM + attention kernel"):
//   - one block of 768 threads per group of S samples (S = 1, 2, 4 or 8, chosen so the grid is one wave);
//     warps 0-7 run layer 1 (4 lanes per hidden unit, each a quarter of K = H), warps 8-23 layer 2 (8 lanes per
//     unit over K = 2H: [h1_t, h2_{t-1}]); every lane computes the unit's 4 gates for all S samples, the lane
//     group meets through xor shuffles, and the owner lane of (unit, sample) keeps c in a register;
//   - wavefront: iteration k runs layer 1 step k and layer 2 step k-1 together; both read h1_{k-1} (double
//     buffers in shared memory), so ONE __syncthreads per iteration, T + 1 iterations;
//   - the recurrent weights (R1 [4H,H], [W2|R2] [4H,2H]) live in shared memory for the whole sequence:
//     FP32 (200 KiB), FP16 (100 KiB, FP32 accumulate) or INT8 (56 KiB: per-row scales as src/infer/quant's
//     cpu::i8_pack_weights; h (|h| < 1) as two int8 digits, h ~ (hi + lo/254)/127, two __dp4a into int32),
//     copied in with cp.async (every 16-byte piece in flight at once);
//   - layer 2's hidden sequence stays in shared memory where it fits (else global, L2-resident);
//   - then the attention/head weights are staged (cp.async) where the recurrent weights were, and attention
//     (score_t = v . tanh(h2_t Wa + ba), softmax over t, context) and fc1-relu-fc2 run from shared memory,
//     one warp per (sample, step) row for the scores, one warp per sample after; logits to the graph output.
// FP16 (since docs/gpu/run6; x W1^T inside since run7) runs a tensor-core variant instead (lstm_attn_mma_kernel, 512 threads): the gate products
// as mma.sync m16n8k16 with the weights as A fragments held in registers for the whole sequence (lstm_attn_pack
// writes the FP16 image in that fragment layout) and the S <= 8 samples as the N = 8 columns, h in FP16 shared memory,
// c in FP32 registers, the attention scores folded into the loop (warps 0-3, A <= 64), layer 2's hidden sequence in
// FP16 shared memory where it fits; needs sm_80+.
// Limits: H == 64 only (kH); attention width A <= 128; fc1 width <= 128; weights as ONNX LSTM (gates i, o, f, c,
// default activations, forward); h0/c0 may be given ([B, H]) or null (zeros).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <cuda_runtime.h>

namespace tickrt::infer::cuda::k {

constexpr int kLaH = 64;           // hidden size the fused kernel is built for
constexpr int kLaThreads = 768;    // 256 (layer 1) + 512 (layer 2)
constexpr int kLaMaxA = 128, kLaMaxM1 = 128;
constexpr int kLaMaxXI = 32;       // FP16 kernel: input widths it projects itself (x W1^T: 2 mma k-steps)

enum class LaWeights : int { fp32 = 0, fp16 = 1, int8 = 2 };

struct LstmAttn {
  int B = 0, T = 0;
  int A = 0, M1 = 0, C = 0;        // attention width, fc1 width, classes
  LaWeights wmode = LaWeights::fp32;
  int hs_smem = 0;                 // 1: layer 2's hidden sequence stays in shared memory (when it fits)
  const float* G1 = nullptr;       // [B*T, 4H]: x W1^T, row b*T + t (no bias); unused when X is set
  // FP16 only: the raw input x [B, T, I] (device memory or a mapped pinned host buffer, 16-byte aligned); the kernel
  // then computes x W1^T itself (W1's fragments follow the recurrent ones in img; lstm_attn_pack with W1). I <= kLaMaxXI.
  const float* X = nullptr;
  int I = 0;
  // X in device memory whose steps >= xfirst are still being copied WHILE the kernel runs (another stream, followed
  // by *xready = nonzero): the kernel issues those steps' loads only after it sees the flag (ld.acquire). Null: X is
  // complete at launch.
  const unsigned* xready = nullptr;
  int xfirst = 0;
  const float* bias1 = nullptr;    // [4H] = Wb + Rb of layer 1
  const float* bias2 = nullptr;    // [4H] of layer 2
  const void* img = nullptr;       // packed R1 then [W2|R2] (lstm_attn_pack), copied verbatim to shared memory
  const float* scale1 = nullptr;   // INT8: per-row weight scales [4H] of layer 1 / layer 2
  const float* scale2 = nullptr;
  const float *h01 = nullptr, *c01 = nullptr, *h02 = nullptr, *c02 = nullptr;   // [B, H] or null
  // Attention and head weights in one buffer (lstm_attn_pack_head), staged into shared memory after the
  // recurrence (where the recurrent weights were): Wa [H, A], ba [A], va [A], F1^T [2H, M1], b1 [M1], F2 [C, M1], b2 [C].
  const float* head = nullptr;
  int head_floats = 0;             // multiple of 4
  int oWa = 0, oba = 0, ova = 0, oF1T = 0, ob1 = 0, oF2 = 0, ob2 = 0;
  float* Hs = nullptr;             // [B, T, H] scratch: layer 2's hidden sequence (when not in shared memory)
  float* out = nullptr;            // [B, C]
  unsigned sm_off[7] = {};         // FP16 kernel: shared-memory layout offsets (set by the launch, not the caller)
};

// Setup path: the shared-memory image of both layers' recurrent weights for `mode` (R1: [4H, H] row-major,
// W2/R2: [4H, H]); INT8 also fills the per-row scales (4H each).
// FP16: with W1 ([4H, I], I <= kLaMaxXI) the image also holds W1's fragments, for p.X (the kernel's own x W1^T).
std::vector<std::uint8_t> lstm_attn_pack(LaWeights mode, const float* R1, const float* W2, const float* R2, std::vector<float>& scale1,
                                         std::vector<float>& scale2, const float* W1 = nullptr, int I = 0);
// Setup path: the head buffer (Wa [H, A], ba, va, F1 [M1, 2H] (stored transposed), b1, F2 [C, M1], b2), offsets into p.
std::vector<float> lstm_attn_pack_head(const float* Wa, const float* ba, const float* va, const float* F1, const float* b1,
                                       const float* F2, const float* b2, LstmAttn& p);
// Bytes of the recurrent weight image (the head buffer must fit there: it is staged into that space).
std::size_t lstm_attn_weight_bytes(LaWeights mode);
// Samples per block for a batch (one wave on `sms` multiprocessors where possible).
int lstm_attn_samples_per_block(int B, int sms);
// Dynamic shared memory of one block (compare with cudaDevAttrMaxSharedMemoryPerBlockOptin). FP16: the tensor-core
// kernel's (head weights staged at the start, FP16 hidden sequence, partial scores, x ring when xin = p.X set).
std::size_t lstm_attn_smem(LaWeights mode, int S, int T, bool hs_smem, int head_floats, bool xin);
// One launch; the caller ran the x W1^T GEMM into p.G1 before it on the same stream.
cudaError_t lstm_attn_run(const LstmAttn& p, int S, cudaStream_t s);
// Not the hot path: SM cycles of the phases of block 0 in the last launch (clock64 stamps): prologue (weight
// image into shared memory), recurrence (T + 1 wavefront iterations), head staging, attention scores, softmax +
// context + MLP head. False if they could not be read.
bool lstm_attn_phase_cycles(long long out[5]);
// The same for the tensor-core kernel's head (FP16): softmax, context, fc1 + relu, fc2 + logits out.
bool lstm_attn_head_cycles(long long out[4]);
// The tensor-core kernel, block 0, iteration 10: SM cycles from the iteration's start to each of the 16 warps' arrival
// at its barrier (which warps set the pace of the recurrence).
bool lstm_attn_warp_cycles(long long out[16]);

}  // namespace tickrt::infer::cuda::k
