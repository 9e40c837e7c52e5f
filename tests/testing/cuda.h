// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the conditions of the CUDA tests (docs/cuda.md): tests that call nvcc
// skip, with a message, on a build without SONAR_WITH_CUDA or without nvcc; tests that need a GPU
// skip when the device query (a tiny nvcc-built program) finds none. The answer is computed once
// per process.
//
// Example:
//   TEST(CudaMeasurer, TimesTheDefaultConfig) {
//     SONAR_REQUIRE_GPU();
//     ...
//   }
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "measure/child_process.h"
#include "measure/cuda/cuda_device.h"
#include "measure/cuda/cuda_measurer.h"
#include "tests/testing/test_records.h"

namespace sonar::testing {

// A kernel cache shared by the CUDA tests of every test process (nvcc is slow; the cache is
// content-addressed with atomic renames, so sharing it is safe): $TMPDIR/sonar-cuda-test-cache-UID.
inline std::string CudaTestCacheDir() {
  return (std::filesystem::temp_directory_path() /
          ("sonar-cuda-test-cache-" + std::to_string(getuid())))
      .string();
}

// "" when nvcc can be used, else why not.
inline const std::string& NvccUnavailableReason() {
  static const std::string reason = [] {
    if (!SonarBuiltWithCuda()) return std::string("built without SONAR_WITH_CUDA (no nvcc)");
    if (FindProgram(ResolveNvcc(CudaOptions{})).empty()) {
      return "nvcc '" + ResolveNvcc(CudaOptions{}) + "' not found";
    }
    return std::string();
  }();
  return reason;
}

// "" when CUDA device 0 answers the device query, else why not (the query's error).
inline const std::string& GpuUnavailableReason() {
  static const std::string reason = [] {
    if (!NvccUnavailableReason().empty()) return NvccUnavailableReason();
    StatusOr<CudaDeviceInfo> info = QueryCudaDevice(CudaOptions{}, false, CudaTestCacheDir());
    return info.ok() ? std::string() : info.status().message();
  }();
  return reason;
}

// The architecture compile-only tests build for: the device's when there is a GPU, else sm_90.
inline std::string TestCudaArch() {
  if (GpuUnavailableReason().empty()) {
    StatusOr<CudaDeviceInfo> info = QueryCudaDevice(CudaOptions{}, false, CudaTestCacheDir());
    if (info.ok()) return CudaArchFor(CudaOptions{}, info->major, info->minor);
  }
  return "sm_90";
}

}  // namespace sonar::testing

#define SONAR_REQUIRE_NVCC()                                                       \
  do {                                                                             \
    if (!::sonar::testing::NvccUnavailableReason().empty()) {                      \
      GTEST_SKIP() << "needs nvcc: " << ::sonar::testing::NvccUnavailableReason(); \
    }                                                                              \
  } while (0)

#define SONAR_REQUIRE_GPU()                                                             \
  do {                                                                                  \
    if (!::sonar::testing::GpuUnavailableReason().empty()) {                            \
      GTEST_SKIP() << "needs a CUDA GPU: " << ::sonar::testing::GpuUnavailableReason(); \
    }                                                                                   \
  } while (0)
