// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The main() of every measured CUDA kernel binary (docs/cuda.md). Sonar compiles it with nvcc
// (once per nvcc and flags, into a cached object) and links it with one generated (or user) .cu
// translation unit that defines the harness contract, all host functions with C linkage:
//
//   extern "C" void* sonar_init(unsigned long long seed);  // cudaMalloc the buffers, fill the
//                                                          // inputs from `seed`
//   extern "C" void sonar_run(void* state);                // launch the timed kernel(s) on the
//                                                          // default stream (no synchronize)
//   extern "C" double sonar_check(void* state);            // optional: after a run, the max
//                                                          // relative error |y-ref|/(|ref|+1)
//                                                          // against a reference, or < 0
//   extern "C" const float* sonar_output(void* state,      // optional: the output copied to a
//                                        unsigned long long* n);  // HOST buffer, n floats
//
// This program creates its own CUDA context on device DEVICE, runs sonar_run once, synchronizes
// and checks it, warms up, scales NUMBER until one repeat lasts MIN_REPEAT_MS (timed with CUDA
// events), then times REPEAT repeats. With FLUSH_L2 = 1 an L2-sized buffer is overwritten before
// every call (outside the timed events) and each call is timed alone.
//
// Usage: kernel DEVICE WARMUP NUMBER REPEAT MIN_REPEAT_MS CHECK SEED FLUSH_L2 [OUTPUT_FILE]
// On success it prints one line on stdout, as the CPU harness does:
//   {"sonar": 1, "max_error": E, "number": N, "output_floats": F, "run_seconds": [s, ...]}
// On a CUDA error it prints one line
//   {"sonar_cuda_error": 1, "class": "launch", "phase": "first_run", "code": 701,
//    "name": "cudaErrorLaunchOutOfResources", "message": "too many resources requested ..."}
// and exits with the class's code: 20 launch (the config asks for more registers, shared memory
// or threads than the device has: reported by the launch itself), 21 runtime (a fault while the
// kernel ran: illegal address, misaligned access, device assert), 22 device (no usable device:
// none, no driver, no kernel image for it), 23 memory (cudaMalloc failed). Exit 3: host out of
// memory; 4: the output file cannot be written; 64: bad usage. The parent classifies
// (measure/cuda/cuda_measurer.h, ClassifyCudaRun); this program decides nothing itself.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>

extern "C" void* sonar_init(unsigned long long seed);
extern "C" void sonar_run(void* state);
extern "C" __attribute__((weak)) double sonar_check(void* state);
extern "C" __attribute__((weak)) const float* sonar_output(void* state, unsigned long long* n);

namespace {

constexpr int kExitLaunch = 20;
constexpr int kExitRuntime = 21;
constexpr int kExitDevice = 22;
constexpr int kExitMemory = 23;

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

// Prints the error line and returns the exit code of its class.
int Report(const char* klass, const char* phase, cudaError_t e) {
  std::printf(
      "{\"sonar_cuda_error\": 1, \"class\": \"%s\", \"phase\": \"%s\", \"code\": %d, \"name\": ",
      klass, phase, static_cast<int>(e));
  PrintJsonString(cudaGetErrorName(e));
  std::printf(", \"message\": ");
  PrintJsonString(cudaGetErrorString(e));
  std::printf("}\n");
  std::fflush(stdout);
  std::fprintf(stderr, "sonar cuda harness: %s error in %s: %s (%s)\n", klass, phase,
               cudaGetErrorName(e), cudaGetErrorString(e));
  if (std::string_view(klass) == "launch") return kExitLaunch;
  if (std::string_view(klass) == "device") return kExitDevice;
  if (std::string_view(klass) == "memory") return kExitMemory;
  return kExitRuntime;
}

bool IsDeviceError(cudaError_t e) {
  return e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver ||
         e == cudaErrorInvalidDevice || e == cudaErrorNoKernelImageForDevice ||
         e == cudaErrorUnsupportedPtxVersion || e == cudaErrorDevicesUnavailable ||
         e == cudaErrorSystemDriverMismatch || e == cudaErrorCompatNotSupportedOnDevice ||
         e == cudaErrorInitializationError || e == cudaErrorInvalidPtx ||
         e == cudaErrorInvalidSource;
}

// An error returned by the launch itself (before the kernel ran): the config does not fit.
const char* LaunchClass(cudaError_t e) {
  if (IsDeviceError(e)) return "device";
  if (e == cudaErrorMemoryAllocation) return "memory";
  return "launch";
}

// An error seen when synchronizing: the kernel faulted while it ran.
const char* RuntimeClass(cudaError_t e) {
  if (IsDeviceError(e)) return "device";
  if (e == cudaErrorMemoryAllocation) return "memory";
  if (e == cudaErrorLaunchOutOfResources || e == cudaErrorInvalidConfiguration) return "launch";
  return "runtime";
}

// Launches once and synchronizes; 0 or the exit code of the error (already reported).
int RunChecked(void* state, const char* phase) {
  sonar_run(state);
  cudaError_t e = cudaPeekAtLastError();
  if (e != cudaSuccess) {
    cudaGetLastError();
    return Report(LaunchClass(e), phase, e);
  }
  e = cudaDeviceSynchronize();
  if (e != cudaSuccess) return Report(RuntimeClass(e), phase, e);
  return 0;
}

int RunHarness(int argc, char** argv) {
  if (argc != 9 && argc != 10) {
    std::fprintf(stderr,
                 "usage: %s DEVICE WARMUP NUMBER REPEAT MIN_REPEAT_MS CHECK SEED FLUSH_L2 "
                 "[OUTPUT_FILE]\n",
                 argv[0]);
    return 64;
  }
  const int device = std::atoi(argv[1]);
  const int warmup = std::atoi(argv[2]);
  long long number = std::atoll(argv[3]);
  const int repeat = std::atoi(argv[4]);
  const double min_repeat_ms = std::atof(argv[5]);
  const bool check = std::atoi(argv[6]) != 0;
  const unsigned long long seed = std::strtoull(argv[7], nullptr, 10);
  const bool flush_l2 = std::atoi(argv[8]) != 0;
  const char* output_file = argc == 10 ? argv[9] : nullptr;
  if (number < 1) number = 1;

  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return Report("device", "setup", e);
  if (device < 0 || device >= count) return Report("device", "setup", cudaErrorInvalidDevice);
  e = cudaSetDevice(device);
  if (e == cudaSuccess) e = cudaFree(nullptr);  // creates the context now, not in the first call
  if (e != cudaSuccess) return Report("device", "setup", e);

  void* state = sonar_init(seed);
  e = cudaDeviceSynchronize();
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e != cudaSuccess) return Report(RuntimeClass(e), "init", e);

  if (int code = RunChecked(state, "first_run"); code != 0) return code;
  double max_error = -1;
  if (check && sonar_check != nullptr) max_error = sonar_check(state);
  unsigned long long output_floats = 0;
  if (output_file != nullptr && sonar_output != nullptr) {
    const float* out = sonar_output(state, &output_floats);
    std::FILE* f = std::fopen(output_file, "wb");
    if (f == nullptr || (output_floats > 0 && out != nullptr &&
                         std::fwrite(out, sizeof(float), output_floats, f) != output_floats)) {
      std::fprintf(stderr, "sonar cuda harness: cannot write the output to %s\n", output_file);
      return 4;
    }
    std::fclose(f);
  }
  e = cudaGetLastError();  // the check may launch kernels or copy
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  if (e != cudaSuccess) return Report(RuntimeClass(e), "check", e);
  for (int i = 0; i < warmup; ++i) {
    if (int code = RunChecked(state, "warmup"); code != 0) return code;
  }

  // The L2 flush buffer: twice the L2 size, rewritten before every timed call.
  void* flush = nullptr;
  size_t flush_bytes = 0;
  if (flush_l2) {
    int l2 = 0;
    cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device);
    flush_bytes = static_cast<size_t>(l2 > 0 ? l2 : (64 << 20)) * 2;
    e = cudaMalloc(&flush, flush_bytes);
    if (e != cudaSuccess) return Report("memory", "flush_l2", e);
  }
  cudaEvent_t start, stop;
  if ((e = cudaEventCreate(&start)) != cudaSuccess || (e = cudaEventCreate(&stop)) != cudaSuccess) {
    return Report("runtime", "events", e);
  }
  int failure = 0;
  // Seconds for n calls (each flushed and timed alone when flush_l2); < 0 on an error.
  auto time_calls = [&](long long n) -> double {
    float total_ms = 0;
    const long long rounds = flush_l2 ? n : 1;
    const long long per_round = flush_l2 ? 1 : n;
    for (long long r = 0; r < rounds; ++r) {
      if (flush_l2) cudaMemsetAsync(flush, static_cast<int>(r & 0xff), flush_bytes);
      cudaEventRecord(start);
      for (long long i = 0; i < per_round; ++i) sonar_run(state);
      cudaEventRecord(stop);
      cudaError_t le = cudaPeekAtLastError();
      if (le != cudaSuccess) {
        cudaGetLastError();
        failure = Report(LaunchClass(le), "timed", le);
        return -1;
      }
      le = cudaEventSynchronize(stop);
      if (le != cudaSuccess) {
        failure = Report(RuntimeClass(le), "timed", le);
        return -1;
      }
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      total_ms += ms;
    }
    return total_ms * 1e-3;
  };
  // Scale `number` until one repeat lasts at least min_repeat_ms (TVM's min_repeat_ms rule).
  const double min_repeat_s = min_repeat_ms * 1e-3;
  double elapsed = time_calls(number);
  if (elapsed < 0) return failure;
  while (elapsed < min_repeat_s && number < (1LL << 30)) {
    const double factor = elapsed > 0 ? 1.2 * min_repeat_s / elapsed : 16.0;
    number = static_cast<long long>(std::ceil(number * std::min(std::max(factor, 2.0), 1024.0)));
    elapsed = time_calls(number);
    if (elapsed < 0) return failure;
  }
  std::vector<double> seconds;
  for (int r = 0; r < repeat; ++r) {
    const double s = time_calls(number);
    if (s < 0) return failure;
    seconds.push_back(s / static_cast<double>(number));
  }

  std::printf("{\"sonar\": 1, \"max_error\": ");
  if (std::isnan(max_error)) {
    std::printf("null");
  } else if (std::isinf(max_error)) {
    std::printf("1e308");
  } else {
    std::printf("%.9g", max_error);
  }
  std::printf(", \"number\": %lld, \"output_floats\": %llu, \"run_seconds\": [", number,
              output_floats);
  for (size_t i = 0; i < seconds.size(); ++i) std::printf("%s%.9g", i ? ", " : "", seconds[i]);
  std::printf("]}\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return RunHarness(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "sonar cuda harness: out of host memory (std::bad_alloc)\n");
    return 3;
  }
}
