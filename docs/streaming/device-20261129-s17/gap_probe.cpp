// gap_probe: how long one lstm_attn_stream step (both LSTM layers, cpu::lstm_forward T=1 B=1) takes after an idle gap, and
// what keeps it at its hot time. Session 17 diagnostic (docs/BENCHMARKS.md "## streaming", session 17); not built by CMake.
//   g++ -O2 -std=c++20 -Isrc -o gap docs/streaming/device-20261129-s17/gap_probe.cpp build/lib/libtickrt_infer_kernels.a -lpthread
//   taskset -c 1 ./gap <gap_us> <mode> [burst_every_us burst_iters]
// mode bits: 1 one zmm FMA every 20 us, 2 recv() syscalls instead of pause, 4 read the weights in slices, 8 FMA bursts,
// 16 also time a second call right after the first.
#include "infer/cpu/kernels.hpp"
#include <immintrin.h>
#include <x86intrin.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>
#include <algorithm>
#include <random>
using namespace tickrt::infer::cpu;
static inline long long ns(){return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();}
__attribute__((target("avx512f"))) static void zmm_touch(){ __m512 a=_mm512_set1_ps(1.f); a=_mm512_fmadd_ps(a,a,a); asm volatile(""::"v"(a)); }
__attribute__((target("avx512f"))) static void zmm_burst(int n){ __m512 a[8]; for(int j=0;j<8;++j)a[j]=_mm512_set1_ps(0.5f+j); const __m512 m=_mm512_set1_ps(0.999f), c=_mm512_set1_ps(0.001f);
  for(int i=0;i<n;++i){ for(int j=0;j<8;++j) a[j]=_mm512_fmadd_ps(a[j],m,c);} for(int j=0;j<8;++j) asm volatile(""::"v"(a[j])); }
int main(int argc, char** argv){
  int H = 64; long gap_us = atol(argv[1]); int mode = atoi(argv[2]); long burst_every = argc>3?atol(argv[3])*1000:20000; int burst_n = argc>4?atoi(argv[4]):64;  // 0 spin, 1 spin+zmm every 20us, 2 recv syscalls, 3 recv+zmm
  Isa isa = detect_isa();
  std::mt19937 g(1); std::normal_distribution<float> n(0,0.1f);
  struct L { std::vector<float> pbuf; float* pk; std::vector<float> ws,x,h,c,y,hT,cT; LstmDims d; };
  L l[2];
  int Is[2]={24,64};
  for(int i=0;i<2;++i){ int I=Is[i]; std::vector<float> W(4*H*I), R(4*H*H), b(4*H); for(auto&x:W)x=n(g); for(auto&x:R)x=n(g); for(auto&x:b)x=n(g);
    l[i].pbuf.resize(lstm_packed_floats(isa,I,H)+64); l[i].pk=(float*)(((uintptr_t)l[i].pbuf.data()+63)&~(uintptr_t)63);
    lstm_pack(isa,I,H,W.data(),R.data(),b.data(),b.data(),l[i].pk); l[i].d={1,1,I,H};
    l[i].ws.resize(lstm_workspace_floats(isa,l[i].d)+64); l[i].x.assign(I,0.1f); l[i].h.assign(H,0); l[i].c.assign(H,0); l[i].y.assign(H,0); l[i].hT.assign(H,0); l[i].cT.assign(H,0);}
  int sv[2]; socketpair(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK, 0, sv); char buf[4096];
  std::vector<long long> t, t2; size_t nbytes[2]; for(int i=0;i<2;++i) nbytes[i]=lstm_packed_floats(isa,Is[i],H)*4; int li=0; size_t off=0; volatile char sink=0;
  for(int r=0;r<(gap_us>=1000?3000:20000);++r){
    long long end = ns() + gap_us*1000, lastz = 0;
    while (ns() < end) {
      if (mode & 2) (void)recv(sv[0], buf, sizeof buf, MSG_DONTWAIT); else _mm_pause();
      if ((mode & 1) && ns() - lastz > 20000) { zmm_touch(); lastz = ns(); }
      if ((mode & 8) && ns() - lastz > burst_every) { zmm_burst(burst_n); lastz = ns(); }
      if (mode & 4) { for (int q = 0; q < 32; ++q) { const char* base = (const char*)l[li].pk; sink += base[off]; off += 64; if (off >= nbytes[li]) { off = 0; li ^= 1; } } }
    }
    long long a=ns();
    for(int i=0;i<2;++i) lstm_forward(isa,l[i].d,l[i].pk,l[i].x.data(),0,l[i].h.data(),l[i].c.data(),l[i].y.data(),l[i].hT.data(),l[i].cT.data(),l[i].ws.data());
    long long e=ns(); t.push_back(e-a);
    if (mode & 16) { long long a2=ns(); for(int i=0;i<2;++i) lstm_forward(isa,l[i].d,l[i].pk,l[i].x.data(),0,l[i].h.data(),l[i].c.data(),l[i].y.data(),l[i].hT.data(),l[i].cT.data(),l[i].ws.data()); t2.push_back(ns()-a2); }
  }
  std::sort(t.begin(),t.end()); if(!t2.empty()){ std::sort(t2.begin(),t2.end()); printf("   second call: median %lld p90 %lld p99 %lld\n", t2[t2.size()/2], t2[t2.size()*9/10], t2[t2.size()*99/100]); }
  printf("gap %6ld us mode %d: two layers median %5lld ns p90 %5lld p99 %5lld\n",gap_us,mode,t[t.size()/2],t[t.size()*9/10],t[t.size()*99/100]);
}
