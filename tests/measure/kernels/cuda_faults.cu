// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// A CUDA user kernel that fails on purpose, one failure class per value of the knob FAULT:
// 0 ok, 1 illegal address (device fault), 2 too many threads per block (launch failure),
// 3 hangs (run timeout), 4 wrong answer, 5 compile error, 6 out of device memory.
// tests/measure/cuda/cuda_measurer_test.cc measures each on a GPU.
#include <cuda_runtime.h>

#include <cmath>

#ifndef FAULT
#define FAULT 0
#endif
#if FAULT == 5
#error "FAULT=5: a compile error on purpose"
#endif

constexpr int kN = 1024;

__global__ void Kernel(float* y, float* bad) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
#if FAULT == 1
  if (i == 0) bad[1ll << 40] = 1.0f;  // far outside any allocation
#endif
#if FAULT == 3
  while (*reinterpret_cast<volatile float*>(y) != -1.0f) {
  }
#endif
  if (i < kN) y[i] = 2.0f * i;
}

struct State {
  float* y = nullptr;
  float* bad = nullptr;
  float host[kN];
};

extern "C" void* sonar_init(unsigned long long) {
  State* s = new State;
#if FAULT == 6
  void* huge = nullptr;
  cudaMalloc(&huge, size_t(1) << 52);  // 4 PiB
#endif
  cudaMalloc(&s->y, kN * sizeof(float));
  cudaMemset(s->y, 0, kN * sizeof(float));
  return s;
}

extern "C" void sonar_run(void* state) {
  State* s = static_cast<State*>(state);
#if FAULT == 2
  Kernel<<<1, 4096>>>(s->y, s->bad);  // more threads per block than any GPU allows
#else
  Kernel<<<kN / 256, 256>>>(s->y, s->bad);
#endif
}

extern "C" double sonar_check(void* state) {
  State* s = static_cast<State*>(state);
  cudaMemcpy(s->host, s->y, sizeof s->host, cudaMemcpyDeviceToHost);
  double worst = 0;
  for (int i = 0; i < kN; ++i) {
    worst = fmax(worst, std::fabs(s->host[i] - 2.0 * i) / (2.0 * i + 1.0));
  }
  return FAULT == 4 ? 1.0 : worst;
}
