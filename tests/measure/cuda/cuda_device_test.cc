// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/cuda/cuda_device.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/testing/cuda.h"

namespace sonar {
namespace {

// What the device-query program prints on an H200 (recorded by hand from its format).
constexpr const char* kH200 =
    "{\"sonar_cuda_device\": 1, \"device\": 0, \"device_count\": 1, \"name\": \"NVIDIA H200\", "
    "\"uuid\": \"0123456789abcdef0123456789abcdef\", \"major\": 9, \"minor\": 0, \"sm_count\": "
    "132, \"clock_khz\": 1980000, \"memory_clock_khz\": 3201000, \"memory_bus_bits\": 6144, "
    "\"global_memory_bytes\": 150754820096, \"l2_bytes\": 52428800, \"shared_per_block_bytes\": "
    "49152, \"shared_per_block_optin_bytes\": 232448, \"shared_per_sm_bytes\": 233472, "
    "\"regs_per_block\": 65536, \"regs_per_sm\": 65536, \"max_threads_per_block\": 1024, "
    "\"max_threads_per_sm\": 2048, \"warp_size\": 32, \"driver_version\": 13000, "
    "\"runtime_version\": 13000, \"probe_fma_gflops\": 51234.5, \"probe_bandwidth_gbs\": "
    "4012.25}\n";

TEST(CudaDevice, ParsesTheQueryProgramsLine) {
  StatusOr<CudaDeviceInfo> d = ParseCudaDeviceJson(std::string("noise\n") + kH200, 0);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->name, "NVIDIA H200");
  EXPECT_EQ(d->major, 9);
  EXPECT_EQ(d->minor, 0);
  EXPECT_EQ(d->sm_count, 132);
  EXPECT_EQ(d->global_memory_bytes, 150754820096);
  EXPECT_EQ(d->l2_bytes, 52428800);
  EXPECT_DOUBLE_EQ(d->probe_bandwidth_gbs, 4012.25);
}

TEST(CudaDevice, TheDescriptorHasPropertiesProbesAndAStableId) {
  StatusOr<CudaDeviceInfo> d = ParseCudaDeviceJson(kH200, 0);
  ASSERT_TRUE(d.ok());
  const HardwareDescriptor hw = CudaDeviceDescriptor(*d);
  EXPECT_EQ(hw.device_name, "NVIDIA H200");
  EXPECT_DOUBLE_EQ(hw.Feature("cuda_sm_count"), 132);
  EXPECT_DOUBLE_EQ(hw.Feature("cuda_compute_capability"), 9.0);
  EXPECT_DOUBLE_EQ(hw.Feature("cuda_clock_ghz"), 1.98);
  EXPECT_DOUBLE_EQ(hw.Feature("probe_gpu_fma_gflops"), 51234.5);
  EXPECT_EQ(hw.FeatureSource("probe_gpu_bandwidth_gbs"), "probe");
  EXPECT_EQ(hw.FeatureSource("cuda_l2_bytes"), "cuda_runtime");
  EXPECT_EQ(hw.id.rfind("hw-", 0), 0u);
  // Probes do not change the id (static facts only).
  CudaDeviceInfo no_probes = *d;
  no_probes.probe_fma_gflops = std::nan("");
  EXPECT_EQ(CudaDeviceDescriptor(no_probes).id, hw.id);
  EXPECT_TRUE(std::isnan(CudaDeviceDescriptor(no_probes).Feature("probe_gpu_fma_gflops")));
  EXPECT_EQ(CudaTarget(*d), "cuda-sm_90 " + hw.id);
  // The JSON form round-trips through the CPU descriptor's reader.
  StatusOr<HardwareDescriptor> back = HardwareDescriptorFromJson(HardwareDescriptorToJson(hw));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_DOUBLE_EQ(back->Feature("cuda_sm_count"), 132);
}

TEST(CudaDevice, AnErrorLineBecomesAClearFailedPrecondition) {
  StatusOr<CudaDeviceInfo> d = ParseCudaDeviceJson(
      "{\"sonar_cuda_error\": 1, \"class\": \"device\", \"phase\": \"cudaGetDeviceCount\", "
      "\"code\": 100, \"name\": \"cudaErrorNoDevice\", \"message\": \"no CUDA-capable device is "
      "detected\"}\n",
      3);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(d.status().message(),
            "no usable CUDA device 3: cudaErrorNoDevice (no CUDA-capable device is detected)");
  EXPECT_FALSE(ParseCudaDeviceJson("", 0).ok());
  EXPECT_FALSE(ParseCudaDeviceJson("{\"sonar_cuda_device\": 1, \"name\": \"x\"}", 0).ok());
}

TEST(CudaDevice, TheQueryAnswersOnAGpuAndFailsClearlyWithoutOne) {
  SONAR_REQUIRE_NVCC();
  CudaOptions o;
  StatusOr<CudaDeviceInfo> d = QueryCudaDevice(o, /*probes=*/true, testing::CudaTestCacheDir());
  if (!testing::GpuUnavailableReason().empty()) {
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(d.status().message().find("no usable CUDA device 0"), std::string::npos)
        << d.status().message();
    return;
  }
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_GT(d->sm_count, 0);
  EXPECT_GT(d->probe_fma_gflops, 0);
  EXPECT_GT(d->probe_bandwidth_gbs, 0);
  o.device = 999;
  EXPECT_EQ(QueryCudaDevice(o, false, testing::CudaTestCacheDir()).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sonar
