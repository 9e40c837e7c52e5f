// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// A user kernel (harness contract, docs/user_kernels.md) whose knob FAULT picks a failure, for
// local_measurer_test.cc: 0 ok, 1 segfault, 2 never returns, 3 does not compile, 4 wrong answer,
// 5 allocates far beyond the run memory limit, 6 NaN output.
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#ifndef FAULT
#define FAULT 0
#endif

#if FAULT == 3
this line is not C++ and must not compile;
#endif

namespace {
constexpr int kN = 4096;
struct State {
  std::vector<float> x, b, y;
  float a = 1.5f;
};
}  // namespace

extern "C" void* sonar_init(unsigned long long seed) {
  auto* s = new State;
  s->x.resize(kN);
  s->b.resize(kN);
  s->y.resize(kN);
  unsigned long long r = seed;
  for (int i = 0; i < kN; ++i) {
    r = r * 6364136223846793005ULL + 1442695040888963407ULL;
    s->x[i] = static_cast<float>((r >> 40) % 1000) / 500.0f - 1.0f;
    s->b[i] = static_cast<float>((r >> 20) % 1000) / 500.0f - 1.0f;
  }
#if FAULT == 5
  // 64 GiB: far beyond any run memory limit a test sets.
  std::vector<char>* huge = new std::vector<char>(size_t{64} << 30, 1);
  s->y[0] = (*huge)[12345];
#endif
  return s;
}

extern "C" void sonar_run(void* state) {
  auto* s = static_cast<State*>(state);
  for (int i = 0; i < kN; ++i) s->y[i] = s->a * s->x[i] + s->b[i];
#if FAULT == 1
  volatile int* null = nullptr;
  *null = 42;
#elif FAULT == 2
  while (true) asm volatile("");
#elif FAULT == 4
  s->y[7] += 1.0f;
#elif FAULT == 6
  s->y[3] = std::nanf("");
#endif
}

extern "C" double sonar_check(void* state) {
  auto* s = static_cast<State*>(state);
  double worst = 0;
  for (int i = 0; i < kN; ++i) {
    const double ref = static_cast<double>(s->a) * s->x[i] + s->b[i];
    const double e = std::fabs(s->y[i] - ref) / (std::fabs(ref) + 1.0);
    if (std::isnan(e)) return e;
    if (e > worst) worst = e;
  }
  return worst;
}
