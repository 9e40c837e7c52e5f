// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the GPU hardware descriptor (docs/cuda.md, docs/hardware.md):
// QueryCudaDevice builds and runs a small nvcc-compiled program (measure/cuda/device_query.cu,
// embedded in the library) that reads a CUDA device's properties (SMs, clocks, memory, caches,
// compute capability, per-block limits) and, optionally, runs two probes (fp32 FMA throughput,
// triad memory bandwidth); CudaDeviceDescriptor turns the answer into a HardwareDescriptor, the
// type `sonar hw describe` prints for CPUs too. Without a GPU (or driver) QueryCudaDevice
// returns FailedPrecondition with the CUDA error in words.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(CudaDeviceInfo info, QueryCudaDevice(CudaOptions{}, /*probes=*/true));
//   HardwareDescriptor hw = CudaDeviceDescriptor(info);
//   double bw = hw.Feature("probe_gpu_bandwidth_gbs");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "measure/cuda/cuda_measurer.h"
#include "measure/hardware.h"

namespace sonar {

// What the device-query program printed. Unknown values are -1 (probes: NaN when not run).
// Thread safety: value type.
struct CudaDeviceInfo {
  int device = 0;
  int device_count = 0;
  std::string name;  // "NVIDIA H200"
  std::string uuid;  // 32 hex digits
  int major = 0, minor = 0;
  int sm_count = -1;
  int64_t clock_khz = -1, memory_clock_khz = -1;
  int memory_bus_bits = -1;
  int64_t global_memory_bytes = -1, l2_bytes = -1;
  int64_t shared_per_block_bytes = -1, shared_per_block_optin_bytes = -1, shared_per_sm_bytes = -1;
  int regs_per_block = -1, regs_per_sm = -1;
  int max_threads_per_block = -1, max_threads_per_sm = -1, warp_size = -1;
  int driver_version = -1, runtime_version = -1;
  double probe_fma_gflops = std::numeric_limits<double>::quiet_NaN();
  double probe_bandwidth_gbs = std::numeric_limits<double>::quiet_NaN();
  double query_seconds = 0;  // wall time of the query (build excluded)
};

// Builds the query program with nvcc (cached under the kernel cache directory, no -arch: PTX
// for any GPU) and runs it for `cuda.device`, with the probes when `probes`. Returns
// FailedPrecondition "no usable CUDA device N: cudaErrorNoDevice (...)" when there is no GPU or
// driver, or when nvcc cannot be run; InvalidArgument for bad options.
StatusOr<CudaDeviceInfo> QueryCudaDevice(const CudaOptions& cuda, bool probes,
                                         const std::string& cache_dir = "");

// Parses the program's output (its last {"sonar_cuda_device": ...} line). An error line of the
// program becomes FailedPrecondition naming the device and the CUDA error.
StatusOr<CudaDeviceInfo> ParseCudaDeviceJson(std::string_view stdout_text, int device);

// A descriptor with features named cuda_* (facts, source "cuda_runtime") and probe_gpu_*
// (probes). Its id hashes the static facts (name, compute capability, SMs, memory, L2).
HardwareDescriptor CudaDeviceDescriptor(const CudaDeviceInfo& info);

// The target of tasks measured on that device: "cuda-sm_<major><minor> <hardware id>".
std::string CudaTarget(const CudaDeviceInfo& info);

}  // namespace sonar
