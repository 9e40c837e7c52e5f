// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// A user kernel with no reference function (no sonar_check): it exports its output through
// sonar_output, so configs are checked against the first config that ran. BUG=1 computes a
// wrong result; SCALE only changes the loop shape (all its values are correct).
#include <vector>

#ifndef BUG
#define BUG 0
#endif
#ifndef STEP
#define STEP 1
#endif

namespace {
constexpr int kN = 2048;
struct State {
  std::vector<float> x, y;
};
}  // namespace

extern "C" void* sonar_init(unsigned long long seed) {
  auto* s = new State;
  s->x.resize(kN);
  s->y.resize(kN);
  for (int i = 0; i < kN; ++i) s->x[i] = static_cast<float>((seed + 7 * i) % 101) / 50.0f;
  return s;
}

extern "C" void sonar_run(void* state) {
  auto* s = static_cast<State*>(state);
  for (int i0 = 0; i0 < kN; i0 += STEP) {
    for (int i = i0; i < i0 + STEP && i < kN; ++i) s->y[i] = 2.0f * s->x[i] + (BUG ? 0.5f : 0.0f);
  }
}

extern "C" const float* sonar_output(void* state, unsigned long long* n) {
  auto* s = static_cast<State*>(state);
  *n = s->y.size();
  return s->y.data();
}
