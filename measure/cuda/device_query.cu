// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The CUDA device query and probe program behind DescribeCudaDevice (measure/cuda/
// cuda_device.h). Sonar compiles it with nvcc (cached like a kernel) and runs it as an isolated
// child, so the library itself never links CUDA.
//
// Usage: device_query DEVICE PROBES     (PROBES: 0 = facts only, 1 = also the probes)
// Prints one JSON line: {"sonar_cuda_device": 1, "device": N, "name": ..., "major": .., ...,
// "probe_fma_gflops": .., "probe_bandwidth_gbs": ..}. On an error: the harness's error line
// ({"sonar_cuda_error": 1, "class": "device", ...}) and exit 22.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

void PrintJsonString(const char* s) {
  std::putchar('"');
  for (; s != nullptr && *s != '\0'; ++s) {
    const unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      std::printf("\\%c", c);
    } else if (c < 0x20) {
      std::printf("\\u%04x", c);
    } else {
      std::putchar(c);
    }
  }
  std::putchar('"');
}

int Fail(const char* phase, cudaError_t e) {
  std::printf(
      "{\"sonar_cuda_error\": 1, \"class\": \"device\", \"phase\": \"%s\", \"code\": %d, "
      "\"name\": ",
      phase, static_cast<int>(e));
  PrintJsonString(cudaGetErrorName(e));
  std::printf(", \"message\": ");
  PrintJsonString(cudaGetErrorString(e));
  std::printf("}\n");
  std::fflush(stdout);
  std::fprintf(stderr, "sonar device query: %s: %s (%s)\n", phase, cudaGetErrorName(e),
               cudaGetErrorString(e));
  return 22;
}

// kFmaPerThread independent-chain FMAs per loop trip, 8 chains per thread.
constexpr int kFmaIters = 4096;
__global__ void FmaProbe(float* out, float a, float b) {
  float x0 = threadIdx.x, x1 = x0 + 1, x2 = x0 + 2, x3 = x0 + 3, x4 = x0 + 4, x5 = x0 + 5,
        x6 = x0 + 6, x7 = x0 + 7;
  for (int i = 0; i < kFmaIters; ++i) {
    x0 = fmaf(x0, a, b);
    x1 = fmaf(x1, a, b);
    x2 = fmaf(x2, a, b);
    x3 = fmaf(x3, a, b);
    x4 = fmaf(x4, a, b);
    x5 = fmaf(x5, a, b);
    x6 = fmaf(x6, a, b);
    x7 = fmaf(x7, a, b);
  }
  const float s = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
  if (s == 12345.678f) out[0] = s;  // keeps the chains alive; never true in practice
}

__global__ void Triad(float* a, const float* b, const float* c, float s, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    a[i] = b[i] + s * c[i];
  }
}

// Median of `repeats` event timings of `launch`, milliseconds; < 0 on an error.
template <typename F>
float MedianMs(int repeats, F launch) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  launch();  // warm-up
  if (cudaDeviceSynchronize() != cudaSuccess) return -1;
  std::vector<float> ms;
  for (int r = 0; r < repeats; ++r) {
    cudaEventRecord(start);
    launch();
    cudaEventRecord(stop);
    if (cudaEventSynchronize(stop) != cudaSuccess) return -1;
    float t = 0;
    cudaEventElapsedTime(&t, start, stop);
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DEVICE PROBES\n", argv[0]);
    return 64;
  }
  const int device = std::atoi(argv[1]);
  const bool probes = std::atoi(argv[2]) != 0;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return Fail("cudaGetDeviceCount", e);
  if (device < 0 || device >= count) return Fail("cudaSetDevice", cudaErrorInvalidDevice);
  if ((e = cudaSetDevice(device)) != cudaSuccess) return Fail("cudaSetDevice", e);
  cudaDeviceProp p;
  if ((e = cudaGetDeviceProperties(&p, device)) != cudaSuccess) {
    return Fail("cudaGetDeviceProperties", e);
  }
  auto attr = [&](cudaDeviceAttr a) {
    int v = 0;
    return cudaDeviceGetAttribute(&v, a, device) == cudaSuccess ? v : -1;
  };
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  std::printf("{\"sonar_cuda_device\": 1, \"device\": %d, \"device_count\": %d, \"name\": ", device,
              count);
  PrintJsonString(p.name);
  std::printf(", \"uuid\": \"");
  for (int i = 0; i < 16; ++i) std::printf("%02x", static_cast<unsigned char>(p.uuid.bytes[i]));
  std::printf("\", \"major\": %d, \"minor\": %d, \"sm_count\": %d", p.major, p.minor,
              p.multiProcessorCount);
  std::printf(", \"clock_khz\": %d, \"memory_clock_khz\": %d, \"memory_bus_bits\": %d",
              attr(cudaDevAttrClockRate), attr(cudaDevAttrMemoryClockRate), p.memoryBusWidth);
  std::printf(", \"global_memory_bytes\": %llu, \"l2_bytes\": %d",
              static_cast<unsigned long long>(p.totalGlobalMem), p.l2CacheSize);
  std::printf(", \"shared_per_block_bytes\": %llu, \"shared_per_block_optin_bytes\": %llu",
              static_cast<unsigned long long>(p.sharedMemPerBlock),
              static_cast<unsigned long long>(p.sharedMemPerBlockOptin));
  std::printf(", \"shared_per_sm_bytes\": %llu, \"regs_per_block\": %d, \"regs_per_sm\": %d",
              static_cast<unsigned long long>(p.sharedMemPerMultiprocessor), p.regsPerBlock,
              p.regsPerMultiprocessor);
  std::printf(", \"max_threads_per_block\": %d, \"max_threads_per_sm\": %d, \"warp_size\": %d",
              p.maxThreadsPerBlock, p.maxThreadsPerMultiProcessor, p.warpSize);
  std::printf(", \"driver_version\": %d, \"runtime_version\": %d", driver, runtime);
  if (probes) {
    float* out = nullptr;
    if ((e = cudaMalloc(&out, sizeof(float))) != cudaSuccess) return Fail("cudaMalloc", e);
    const int threads = 256;
    const int blocks = p.multiProcessorCount * 8;
    const float fma_ms = MedianMs(7, [&] { FmaProbe<<<blocks, threads>>>(out, 0.999f, 0.001f); });
    if (fma_ms > 0) {
      const double flop = 2.0 * 8 * kFmaIters * double(blocks) * threads;
      std::printf(", \"probe_fma_gflops\": %.6g", flop / (fma_ms * 1e-3) * 1e-9);
    }
    // Triad over three arrays of max(8 x L2, 64 MiB) each.
    const size_t bytes = std::max<size_t>(size_t(p.l2CacheSize) * 8, size_t(64) << 20);
    const size_t n = bytes / sizeof(float);
    float *a = nullptr, *b = nullptr, *c = nullptr;
    if (cudaMalloc(&a, bytes) == cudaSuccess && cudaMalloc(&b, bytes) == cudaSuccess &&
        cudaMalloc(&c, bytes) == cudaSuccess) {
      cudaMemset(b, 0, bytes);
      cudaMemset(c, 0, bytes);
      const float triad_ms =
          MedianMs(7, [&] { Triad<<<p.multiProcessorCount * 16, 256>>>(a, b, c, 3.0f, n); });
      if (triad_ms > 0) {
        std::printf(", \"probe_bandwidth_gbs\": %.6g", 3.0 * bytes / (triad_ms * 1e-3) * 1e-9);
      }
    }
    if ((e = cudaGetLastError()) != cudaSuccess) return Fail("probes", e);
  }
  std::printf("}\n");
  return 0;
}
