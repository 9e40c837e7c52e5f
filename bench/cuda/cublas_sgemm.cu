// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The cuBLAS baseline of scripts/gpu_check.sh: times cublasSgemm for Sonar's GPU dense
// semantics, Y[M,N] = X[M,K] * W[N,K]^T (row-major), with CUDA events, and prints one line
//   cublas_sgemm M N K device median_seconds min_seconds gflops
// Build: nvcc -O2 -o cublas_sgemm bench/cuda/cublas_sgemm.cu -lcublas
// Usage: cublas_sgemm M N K [DEVICE [REPEATS]]
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK_CUDA(x)                                                            \
  do {                                                                           \
    cudaError_t e = (x);                                                         \
    if (e != cudaSuccess) {                                                      \
      std::fprintf(stderr, "cublas_sgemm: %s: %s\n", #x, cudaGetErrorString(e)); \
      return 1;                                                                  \
    }                                                                            \
  } while (0)

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s M N K [DEVICE [REPEATS]]\n", argv[0]);
    return 64;
  }
  const int m = std::atoi(argv[1]), n = std::atoi(argv[2]), k = std::atoi(argv[3]);
  const int device = argc > 4 ? std::atoi(argv[4]) : 0;
  const int repeats = argc > 5 ? std::atoi(argv[5]) : 20;
  CHECK_CUDA(cudaSetDevice(device));
  float *x, *w, *y;
  CHECK_CUDA(cudaMalloc(&x, sizeof(float) * size_t(m) * k));
  CHECK_CUDA(cudaMalloc(&w, sizeof(float) * size_t(n) * k));
  CHECK_CUDA(cudaMalloc(&y, sizeof(float) * size_t(m) * n));
  std::vector<float> host(size_t(std::max(m, n)) * k);
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = float((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  CHECK_CUDA(cudaMemcpy(x, host.data(), sizeof(float) * size_t(m) * k, cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(w, host.data(), sizeof(float) * size_t(n) * k, cudaMemcpyHostToDevice));
  cublasHandle_t h;
  if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "cublas_sgemm: cublasCreate failed\n");
    return 1;
  }
  // Plain fp32 (no TF32 tensor cores), the arithmetic Sonar's template does.
  cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
  const float one = 1.0f, zero = 0.0f;
  // Row-major Y[M,N] = X W^T is column-major Y^T[N,M] = W^T(op T of col-major KxN) * X(KxM).
  auto run = [&] {
    return cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &one, w, k, x, k, &zero, y, n);
  };
  for (int i = 0; i < 3; ++i) {
    if (run() != CUBLAS_STATUS_SUCCESS) {
      std::fprintf(stderr, "cublas_sgemm: cublasSgemm failed\n");
      return 1;
    }
  }
  CHECK_CUDA(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  CHECK_CUDA(cudaEventCreate(&start));
  CHECK_CUDA(cudaEventCreate(&stop));
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    CHECK_CUDA(cudaEventRecord(start));
    run();
    CHECK_CUDA(cudaEventRecord(stop));
    CHECK_CUDA(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
    seconds.push_back(ms * 1e-3);
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf("cublas_sgemm %d %d %d %d %.9g %.9g %.1f\n", m, n, k, device, median, seconds[0],
              2.0 * m * n * k / median * 1e-9);
  return 0;
}
