// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// A user CUDA kernel for Sonar (docs/cuda.md): y = a * x + y over 2^24 floats, with two knobs
// read as macros, BLOCK_SIZE (threads per block) and ITEMS (elements per thread, strided by the
// grid). Tune it with
//   sonar tune --kernel examples/cuda_kernel/saxpy.cu --space examples/cuda_kernel/SPACE.json \
//       --tuner bo --trials 20 --device 0
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

#ifndef BLOCK_SIZE
#define BLOCK_SIZE 256
#endif
#ifndef ITEMS
#define ITEMS 1
#endif

constexpr int64_t kN = int64_t(1) << 24;
constexpr float kA = 1.5f;

__global__ void __launch_bounds__(BLOCK_SIZE)
    Saxpy(const float* __restrict__ x, float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * BLOCK_SIZE;
  int64_t i = int64_t(blockIdx.x) * BLOCK_SIZE + threadIdx.x;
#pragma unroll
  for (int k = 0; k < ITEMS; ++k, i += stride) {
    if (i < kN) y[i] = kA * x[i] + y[i];
  }
}

struct State {
  std::vector<float> x, y0;
  float *dx = nullptr, *dy = nullptr;
};

extern "C" void* sonar_init(unsigned long long seed) {
  State* s = new State;
  s->x.resize(kN);
  s->y0.resize(kN);
  uint64_t r = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < kN; ++i) {
    r ^= r >> 12, r ^= r << 25, r ^= r >> 27;
    s->x[i] = static_cast<float>((r * 0x2545F4914F6CDD1Dull) >> 40) / (1 << 24) - 0.5f;
    s->y0[i] = 0.25f;
  }
  cudaMalloc(&s->dx, kN * sizeof(float));
  cudaMalloc(&s->dy, kN * sizeof(float));
  cudaMemcpy(s->dx, s->x.data(), kN * sizeof(float), cudaMemcpyHostToDevice);
  return s;
}

// One launch: y = a x + y (the timed call; y keeps growing over calls, which costs the same).
extern "C" void sonar_run(void* state) {
  State* s = static_cast<State*>(state);
  const int64_t per_block = int64_t(BLOCK_SIZE) * ITEMS;
  Saxpy<<<static_cast<unsigned>((kN + per_block - 1) / per_block), BLOCK_SIZE>>>(s->dx, s->dy);
}

extern "C" double sonar_check(void* state) {
  State* s = static_cast<State*>(state);
  // Recompute from a known y: reset it, run once more, compare.
  cudaMemcpy(s->dy, s->y0.data(), kN * sizeof(float), cudaMemcpyHostToDevice);
  sonar_run(state);
  std::vector<float> y(kN);
  cudaMemcpy(y.data(), s->dy, kN * sizeof(float), cudaMemcpyDeviceToHost);
  double worst = 0;
  for (int64_t i = 0; i < kN; i += 97) {
    const double ref = double(kA) * s->x[i] + s->y0[i];
    worst = std::fmax(worst, std::fabs(y[i] - ref) / (std::fabs(ref) + 1.0));
  }
  return worst;
}
