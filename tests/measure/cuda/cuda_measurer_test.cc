// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/cuda/cuda_measurer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/random.h"
#include "measure/child_process.h"
#include "measure/compile_cache.h"
#include "measure/cuda/cuda_operators.h"
#include "measure/timing.h"
#include "measure/user_kernel.h"
#include "tests/testing/cuda.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::CudaTestCacheDir;

TEST(CudaOptions, DefaultsAreValid) { EXPECT_TRUE(CudaOptions{}.Validate().ok()); }

TEST(CudaOptions, RejectsANegativeDeviceAndABadArch) {
  CudaOptions o;
  o.device = -1;
  EXPECT_FALSE(o.Validate().ok());
  o = CudaOptions{};
  o.arch = "sm_90; rm -rf /";
  EXPECT_FALSE(o.Validate().ok());
  o.arch = "sm_90a";
  EXPECT_TRUE(o.Validate().ok());
  o.arch = "compute_80";
  EXPECT_TRUE(o.Validate().ok());
}

TEST(CudaOptions, ArchDefaultsToTheDeviceComputeCapability) {
  if (!CudaArchFor(CudaOptions{}, 9, 0).empty() && CudaArchFor(CudaOptions{}, 9, 0) != "sm_90") {
    GTEST_SKIP() << "built with SONAR_CUDA_ARCH=" << CudaArchFor(CudaOptions{}, 9, 0);
  }
  EXPECT_EQ(CudaArchFor(CudaOptions{}, 9, 0), "sm_90");
  EXPECT_EQ(CudaArchFor(CudaOptions{}, 8, 6), "sm_86");
  CudaOptions o;
  o.arch = "sm_80";
  EXPECT_EQ(CudaArchFor(o, 9, 0), "sm_80");
}

TEST(CudaCompileCacheOptions, UseNvccTheCudaHarnessAndCuSources) {
  CudaOptions cuda;
  cuda.nvcc = "/opt/cuda/bin/nvcc";
  const CompileCacheOptions o = CudaCompileCacheOptions(MeasureOptions{}, cuda, "sm_90");
  EXPECT_EQ(o.compiler, "/opt/cuda/bin/nvcc");
  ASSERT_FALSE(o.flags.empty());
  EXPECT_EQ(o.flags[0], "-arch=sm_90");
  EXPECT_EQ(o.source_extension, ".cu");
  EXPECT_TRUE(o.link_flags.empty());
  EXPECT_NE(o.harness_source.find("cudaEventElapsedTime"), std::string::npos);
  EXPECT_TRUE(o.Validate().ok());
}

// ---- classification of recorded harness outputs ----

TEST(ClassifyCudaExit, ALaunchRefusalIsARuntimeErrorNamedLaunchFailure) {
  const std::string out =
      "{\"sonar_cuda_error\": 1, \"class\": \"launch\", \"phase\": \"first_run\", \"code\": 701, "
      "\"name\": \"cudaErrorLaunchOutOfResources\", \"message\": \"too many resources requested "
      "for launch\"}\n";
  MeasureStatus status;
  std::string msg;
  ClassifyCudaExit(kCudaExitLaunch, out, "sonar cuda harness: launch error\n", 1, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kRuntimeError);
  EXPECT_EQ(msg.rfind("launch failure: cudaErrorLaunchOutOfResources", 0), 0u) << msg;
  EXPECT_NE(msg.find("device 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("first_run"), std::string::npos) << msg;
}

TEST(ClassifyCudaExit, AnIllegalAddressIsACrash) {
  const std::string out =
      "{\"sonar_cuda_error\": 1, \"class\": \"runtime\", \"phase\": \"first_run\", \"code\": 700, "
      "\"name\": \"cudaErrorIllegalAddress\", \"message\": \"an illegal memory access was "
      "encountered\"}\n";
  MeasureStatus status;
  std::string msg;
  ClassifyCudaExit(kCudaExitRuntime, out, "", 0, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kCrashed);
  EXPECT_EQ(msg.rfind("device fault: cudaErrorIllegalAddress", 0), 0u) << msg;
}

TEST(ClassifyCudaExit, OutOfDeviceMemoryIsARuntimeError) {
  const std::string out =
      "{\"sonar_cuda_error\": 1, \"class\": \"memory\", \"phase\": \"init\", \"code\": 2, "
      "\"name\": \"cudaErrorMemoryAllocation\", \"message\": \"out of memory\"}\n";
  MeasureStatus status;
  std::string msg;
  ClassifyCudaExit(kCudaExitMemory, out, "", 0, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kRuntimeError);
  EXPECT_EQ(msg.rfind("out of device memory:", 0), 0u) << msg;
}

TEST(ClassifyCudaExit, NoDeviceIsNotTheConfigsFault) {
  const std::string out =
      "{\"sonar_cuda_error\": 1, \"class\": \"device\", \"phase\": \"setup\", \"code\": 35, "
      "\"name\": \"cudaErrorInsufficientDriver\", \"message\": \"CUDA driver version is "
      "insufficient for CUDA runtime version\"}\n";
  MeasureStatus status;
  std::string msg;
  ClassifyCudaExit(kCudaExitDevice, out, "", 0, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kUnknownError);
  EXPECT_NE(msg.find("no usable CUDA device 0"), std::string::npos) << msg;
}

TEST(ClassifyCudaExit, FallsBackOnTheExitCodeWhenTheLineIsMissing) {
  MeasureStatus status;
  std::string msg;
  ClassifyCudaExit(kCudaExitRuntime, "garbage", "stderr line", 0, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kCrashed);
  EXPECT_NE(msg.find("stderr line"), std::string::npos);
  ClassifyCudaExit(kCudaExitLaunch, "", "", 0, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kRuntimeError);
  EXPECT_EQ(msg.rfind("launch failure", 0), 0u);
  ClassifyCudaExit(3, "", "", 0, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kRuntimeError);
  EXPECT_NE(msg.find("out of host memory"), std::string::npos);
  ClassifyCudaExit(7, "", "", 0, &status, &msg);
  EXPECT_EQ(status, MeasureStatus::kRuntimeError);
  EXPECT_EQ(msg, "exited with code 7");
}

TEST(ParseCudaHarnessError, ReadsTheLastErrorLineAndRejectsMalformedOnes) {
  StatusOr<CudaHarnessError> e = ParseCudaHarnessError(
      "noise\n{\"sonar_cuda_error\": 1, \"class\": \"runtime\", \"phase\": \"timed\", \"code\": "
      "716, \"name\": \"cudaErrorMisalignedAddress\", \"message\": \"misaligned address\"}\n");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->error_class, "runtime");
  EXPECT_EQ(e->phase, "timed");
  EXPECT_EQ(e->code, 716);
  EXPECT_EQ(e->name, "cudaErrorMisalignedAddress");
  EXPECT_EQ(ParseCudaHarnessError("{\"sonar\": 1}").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseCudaHarnessError("{\"sonar_cuda_error\": 1, \"class\": ").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SummarizeNvccError, NamesKnownCausesFromRecordedCompilerOutput) {
  EXPECT_EQ(SummarizeNvccError("ptxas error   : Entry function '_Z6kernelPf' uses too much shared "
                               "data (0x10000 bytes, 0xc000 max)\n"),
            "ptxas: too much shared memory: ptxas error   : Entry function '_Z6kernelPf' uses too "
            "much shared data (0x10000 bytes, 0xc000 max)");
  EXPECT_EQ(SummarizeNvccError("nvcc fatal   : Unsupported gpu architecture 'compute_12'\n")
                .rfind("nvcc: unsupported GPU architecture", 0),
            0u);
  const std::string plain = "k.cu(3): error: identifier \"x\" is undefined\n1 error detected\n";
  EXPECT_EQ(SummarizeNvccError(plain),
            "k.cu(3): error: identifier \"x\" is undefined\n1 error "
            "detected");
}

// ---- nvcc (compile-only here; runs where there is a GPU) ----

std::unique_ptr<CompileCache> NvccCache(const std::string& dir) {
  MeasureOptions mo;
  mo.cache_dir = dir;
  mo.compile_timeout_s = 300;
  StatusOr<std::unique_ptr<CompileCache>> cache =
      CompileCache::Make(CudaCompileCacheOptions(mo, CudaOptions{}, testing::TestCudaArch()));
  EXPECT_TRUE(cache.ok()) << cache.status().message();
  return cache.ok() ? std::move(cache).value() : nullptr;
}

TEST(CudaCompile, ACompileErrorIsClassifiedWithTheFileAndLine) {
  SONAR_REQUIRE_NVCC();
  std::unique_ptr<CompileCache> cache = NvccCache(CudaTestCacheDir());
  ASSERT_NE(cache, nullptr);
  const std::string path = std::string(SONAR_SOURCE_DIR) + "/tests/measure/kernels/cuda_faults.cu";
  const std::string source = testing::ReadFile(path);
  KernelBuild b = cache->Build(source, path, {"-DFAULT=5"});
  EXPECT_EQ(b.status, MeasureStatus::kCompileError);
  EXPECT_NE(b.error_msg.find("cuda_faults.cu"), std::string::npos) << b.error_msg;
  EXPECT_NE(b.error_msg.find("FAULT=5"), std::string::npos) << b.error_msg;
}

TEST(CudaCompile, TooMuchSharedMemoryIsACompileErrorSaidSo) {
  SONAR_REQUIRE_NVCC();
  std::unique_ptr<CompileCache> cache = NvccCache(CudaTestCacheDir());
  ASSERT_NE(cache, nullptr);
  const std::string source = R"(#include <cuda_runtime.h>
__global__ void K(float* y) { __shared__ float big[20000]; big[threadIdx.x] = 1; y[threadIdx.x] = big[threadIdx.x ^ 1]; }
extern "C" void* sonar_init(unsigned long long) { return nullptr; }
extern "C" void sonar_run(void* s) { K<<<1, 32>>>(static_cast<float*>(s)); }
)";
  KernelBuild b = cache->Build(source, "", {});
  EXPECT_EQ(b.status, MeasureStatus::kCompileError);
  EXPECT_EQ(SummarizeNvccError(b.error_msg).rfind("ptxas: too much shared memory", 0), 0u)
      << b.error_msg;
}

// Without a GPU the harness itself says so, and that is classified as no usable device; with
// one the same binary runs and prints its result line.
TEST(CudaHarness, ReportsNoDeviceOrRunsTheKernel) {
  SONAR_REQUIRE_NVCC();
  std::unique_ptr<CompileCache> cache = NvccCache(CudaTestCacheDir());
  ASSERT_NE(cache, nullptr);
  const std::string path = std::string(SONAR_SOURCE_DIR) + "/tests/measure/kernels/cuda_faults.cu";
  KernelBuild b = cache->Build(testing::ReadFile(path), path, {"-DFAULT=0"});
  ASSERT_EQ(b.status, MeasureStatus::kOk) << b.error_msg;
  ChildOptions c;
  c.argv = {b.binary_path, "0", "1", "1", "3", "1", "1", "7", "0"};
  c.timeout_s = 60;
  const ChildResult r = RunChild(c);
  ASSERT_TRUE(r.started) << r.error;
  if (testing::GpuUnavailableReason().empty()) {
    EXPECT_EQ(r.exit_code, 0) << r.stdout_text << r.stderr_text;
    StatusOr<HarnessOutput> out = ParseHarnessOutput(r.stdout_text);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->run_seconds.size(), 3u);
    EXPECT_LT(out->max_error, 1e-6);
  } else {
    EXPECT_EQ(r.exit_code, kCudaExitDevice) << r.stdout_text << r.stderr_text;
    MeasureStatus status;
    std::string msg;
    ClassifyCudaExit(r.exit_code, r.stdout_text, r.stderr_text, 0, &status, &msg);
    EXPECT_EQ(status, MeasureStatus::kUnknownError);
    EXPECT_NE(msg.find("no usable CUDA device 0"), std::string::npos) << msg;
  }
}

TEST(CudaMeasurer, WithoutAGpuTheFactoryFailsClearly) {
  SONAR_REQUIRE_NVCC();
  if (testing::GpuUnavailableReason().empty()) GTEST_SKIP() << "this machine has a GPU";
  MeasureOptions mo;
  mo.cache_dir = CudaTestCacheDir();
  StatusOr<std::unique_ptr<Measurer>> m = MakeCudaMeasurer(mo, CudaOptions{});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(m.status().message().find("no usable CUDA device 0"), std::string::npos)
      << m.status().message();
}

// ---- on a GPU ----

MeasureOptions GpuTestOptions() {
  MeasureOptions mo;
  mo.cache_dir = CudaTestCacheDir();
  mo.min_repeat_ms = 1;
  mo.repeat = 3;
  mo.run_timeout_s = 20;
  mo.compile_timeout_s = 300;
  return mo;
}

TEST(CudaMeasurer, ClassifiesEveryFaultOnAGpu) {
  SONAR_REQUIRE_GPU();
  testing::ScratchDir dir;
  const std::string space = dir.File("SPACE.json");
  testing::WriteFile(space,
                     "{\"name\": \"cuda_faults\", \"knobs\": [{\"name\": \"FAULT\", \"kind\": "
                     "\"choice\", \"values\": [0, 1, 2, 3, 4, 5, 6]}], \"reference\": "
                     "{\"FAULT\": 0}}");
  StatusOr<UserKernel> k = LoadUserKernel(
      std::string(SONAR_SOURCE_DIR) + "/tests/measure/kernels/cuda_faults.cu", space, "cuda-test");
  ASSERT_TRUE(k.ok()) << k.status().message();
  MeasureOptions mo = GpuTestOptions();
  mo.run_timeout_s = 8;
  mo.reference_values = k->reference;
  StatusOr<std::unique_ptr<Measurer>> m = MakeCudaMeasurer(mo, CudaOptions{});
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<Config> configs;
  for (uint64_t i = 0; i < 7; ++i) configs.push_back(k->task.space.At(i));
  const std::vector<MeasureResult> r = (*m)->Measure(k->task, configs);
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0].status, MeasureStatus::kOk) << r[0].error_msg;
  EXPECT_GT(r[0].reference_seconds, 0);
  EXPECT_EQ(r[1].status, MeasureStatus::kCrashed) << r[1].error_msg;
  EXPECT_NE(r[1].error_msg.find("device fault"), std::string::npos) << r[1].error_msg;
  EXPECT_EQ(r[2].status, MeasureStatus::kRuntimeError) << r[2].error_msg;
  EXPECT_NE(r[2].error_msg.find("launch failure"), std::string::npos) << r[2].error_msg;
  EXPECT_EQ(r[3].status, MeasureStatus::kRunTimeout) << r[3].error_msg;
  EXPECT_EQ(r[4].status, MeasureStatus::kWrongAnswer) << r[4].error_msg;
  EXPECT_EQ(r[5].status, MeasureStatus::kCompileError) << r[5].error_msg;
  EXPECT_EQ(r[6].status, MeasureStatus::kRuntimeError) << r[6].error_msg;
  EXPECT_NE(r[6].error_msg.find("out of device memory"), std::string::npos) << r[6].error_msg;
}

TEST(CudaMeasurer, TimesTemplateConfigsOnAGpuAndCachesTheirBuilds) {
  SONAR_REQUIRE_GPU();
  StatusOr<Task> task = MakeCudaOperatorTask("dense", {256, 192, 128}, "cuda-test");
  ASSERT_TRUE(task.ok());
  MeasureOptions mo = GpuTestOptions();
  for (bool flush : {false, true}) {
    CudaOptions cuda;
    cuda.flush_l2 = flush;
    StatusOr<std::unique_ptr<Measurer>> m = MakeCudaMeasurer(mo, cuda);
    ASSERT_TRUE(m.ok()) << m.status().message();
    Rng rng = MakeRng(3);
    std::vector<Config> configs = {CudaDefaultConfig(*task)};
    for (int i = 0; i < 3; ++i) configs.push_back(*task->space.Sample(rng));
    const std::vector<MeasureResult> r = (*m)->Measure(*task, configs);
    for (const MeasureResult& x : r) {
      EXPECT_EQ(x.status, MeasureStatus::kOk) << x.error_msg;
      EXPECT_EQ(x.run_seconds.size(), 3u);
      EXPECT_GT(x.reference_seconds, 0);
    }
    EXPECT_FALSE((*m)->hardware_id().empty());
    (*m)->Measure(*task, {configs[0]});
    EXPECT_GE((*m)->stats().cache_hits, 1);
  }
}

}  // namespace
}  // namespace sonar
