// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// A tunable blocked matrix multiply C = A B (fp32, N x N), the user-kernel example of
// docs/user_kernels.md. Sonar compiles this file once per config with the knobs of SPACE.json
// as macros (-DBLOCK_I=32 -DBLOCK_J=64 -DBLOCK_K=16 -DUNROLL=4 -DLOOP_ORDER=1) and links it with
// its harness main, which times sonar_run.
//
//   sonar measure --kernel examples/user_kernel/matmul.cc \
//                 --space examples/user_kernel/SPACE.json --sample 4
#include <cmath>
#include <cstdint>
#include <vector>

// Defaults, so the file also compiles on its own.
#ifndef BLOCK_I
#define BLOCK_I 32
#endif
#ifndef BLOCK_J
#define BLOCK_J 32
#endif
#ifndef BLOCK_K
#define BLOCK_K 32
#endif
#ifndef UNROLL
#define UNROLL 1
#endif
#ifndef LOOP_ORDER
#define LOOP_ORDER 0
#endif

// `#pragma GCC unroll` does not expand macros; _Pragma on a stringized argument does.
#define MATMUL_PRAGMA(x) _Pragma(#x)
#define MATMUL_UNROLL(n) MATMUL_PRAGMA(GCC unroll n)

namespace {

constexpr int kN = 256;  // the problem size

struct State {
  std::vector<float> a, b, c;
};

// Inputs in [-1, 1) from a 64-bit LCG seeded by the harness (the same for every config).
float Next(uint64_t* r) {
  *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<float>((*r >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

}  // namespace

// 1. Allocate and fill the inputs from `seed`. Called once, untimed.
extern "C" void* sonar_init(unsigned long long seed) {
  auto* s = new State;
  s->a.resize(kN * kN);
  s->b.resize(kN * kN);
  s->c.resize(kN * kN);
  uint64_t r = seed;
  for (float& v : s->a) v = Next(&r);
  for (float& v : s->b) v = Next(&r);
  return s;
}

// 2. The timed call: must compute the full result every time (no state between calls).
extern "C" void sonar_run(void* state) {
  auto* s = static_cast<State*>(state);
  const float* a = s->a.data();
  const float* b = s->b.data();
  float* c = s->c.data();
  for (int i = 0; i < kN * kN; ++i) c[i] = 0.0f;
#if LOOP_ORDER == 0
  for (int i0 = 0; i0 < kN; i0 += BLOCK_I)
    for (int j0 = 0; j0 < kN; j0 += BLOCK_J)
#else
  for (int j0 = 0; j0 < kN; j0 += BLOCK_J)
    for (int i0 = 0; i0 < kN; i0 += BLOCK_I)
#endif
      for (int k0 = 0; k0 < kN; k0 += BLOCK_K)
        for (int i = i0; i < i0 + BLOCK_I; ++i)
          for (int k = k0; k < k0 + BLOCK_K; ++k) {
            const float aik = a[i * kN + k];
            MATMUL_UNROLL(UNROLL)
            for (int j = j0; j < j0 + BLOCK_J; ++j) c[i * kN + j] += aik * b[k * kN + j];
          }
}

// 3. Optional: the max relative error |y - ref| / (|ref| + 1) of the last run against a naive
//    double-precision reference. Without it, Sonar compares each config's output (below) with
//    the output of the first config that ran.
extern "C" double sonar_check(void* state) {
  auto* s = static_cast<State*>(state);
  double worst = 0;
  for (int i = 0; i < kN; ++i)
    for (int j = 0; j < kN; ++j) {
      double ref = 0;
      for (int k = 0; k < kN; ++k) ref += double(s->a[i * kN + k]) * s->b[k * kN + j];
      const double e = std::fabs(s->c[i * kN + j] - ref) / (std::fabs(ref) + 1.0);
      if (!(e <= worst)) worst = e;  // NaN propagates
    }
  return worst;
}

// 4. Optional: the output buffer, for checks against the first config.
extern "C" const float* sonar_output(void* state, unsigned long long* n) {
  auto* s = static_cast<State*>(state);
  *n = s->c.size();
  return s->c.data();
}
