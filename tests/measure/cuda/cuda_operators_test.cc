// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/cuda/cuda_operators.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/parallel.h"
#include "common/random.h"
#include "measure/compile_cache.h"
#include "measure/cuda/cuda_measurer.h"
#include "measure/history_io.h"
#include "tests/testing/cuda.h"

namespace sonar {
namespace {

std::vector<std::string> KnobNames(const Task& task) {
  std::vector<std::string> names;
  for (const Knob& k : task.space.knobs()) names.push_back(k.name);
  return names;
}

TEST(CudaOperators, DenseHasBlockAndThreadTilingVectorWidthAndUnrolling) {
  StatusOr<Task> t = MakeCudaOperatorTask("dense", {4096, 4096, 4096});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->op, "cuda_dense");
  EXPECT_EQ(t->target, "cuda");
  EXPECT_TRUE(IsCudaOperatorTask(*t));
  EXPECT_EQ(KnobNames(*t), (std::vector<std::string>{"block_m", "block_n", "block_k", "thread_m",
                                                     "thread_n", "vec", "unroll_k", "shared_pad"}));
  EXPECT_DOUBLE_EQ(CudaOperatorFlops(*t), 2.0 * 4096.0 * 4096.0 * 4096.0);
  EXPECT_TRUE(t->space.Satisfies(CudaDefaultConfig(*t)));
}

TEST(CudaOperators, ConvUsesKernelTunerNames) {
  StatusOr<Task> t = MakeCudaOperatorTask("conv2d", {4096, 4096, 15, 15});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->op, "cuda_conv2d");
  EXPECT_EQ(KnobNames(*t),
            (std::vector<std::string>{"block_size_x", "block_size_y", "tile_size_x", "tile_size_y",
                                      "read_only", "use_padding", "use_shmem"}));
  EXPECT_DOUBLE_EQ(CudaOperatorFlops(*t), 2.0 * 4096 * 4096 * 15 * 15);
  EXPECT_TRUE(t->space.Satisfies(CudaDefaultConfig(*t)));
}

TEST(CudaOperators, BadShapesAndOpsAreRefusedNamingTheProblem) {
  EXPECT_NE(MakeCudaOperatorTask("depthwise_conv2d", {1, 2, 3})
                .status()
                .message()
                .find("GPU templates are dense and conv2d"),
            std::string::npos);
  EXPECT_FALSE(MakeCudaOperatorTask("dense", {1, 2}).ok());
  EXPECT_FALSE(MakeCudaOperatorTask("dense", {0, 2, 3}).ok());
  EXPECT_NE(
      MakeCudaOperatorTask("conv2d", {64, 64, 200, 200}).status().message().find("constant memory"),
      std::string::npos);
}

// Every Kernel Tuner convolution cache names each of the template's knobs (the older caches lack
// use_shmem), so its records are transfer sources for the template's tasks.
TEST(CudaOperators, KernelTunerConvolutionCachesShareTheKnobNames) {
  StatusOr<Task> t = MakeCudaOperatorTask("conv2d", {4096, 4096, 15, 15});
  ASSERT_TRUE(t.ok());
  const std::string dir = std::string(SONAR_SHARED_DIR) + "/datasets/kernel_tuner_cache/";
  for (const char* file : {"convolution_milo__A100.json.gz", "convolution__RTX_3090.json.gz"}) {
    ImportReport report;
    StatusOr<std::vector<Record>> records = ImportHistoryFile(dir + file, {}, &report);
    if (!records.ok()) GTEST_SKIP() << "no Kernel Tuner cache: " << records.status().message();
    ASSERT_FALSE(records->empty());
    std::vector<std::string> names;
    for (const KnobValue& v : (*records)[0].config.values) names.push_back(v.name);
    int shared = 0;
    for (const std::string& knob : KnobNames(*t)) {
      const bool has = std::find(names.begin(), names.end(), knob) != names.end();
      shared += has;
      if (knob != "use_shmem" || std::string(file).find("milo") != std::string::npos) {
        EXPECT_TRUE(has) << file << " lacks " << knob;
      }
    }
    EXPECT_GE(shared, 6) << file;
    // The template accepts the cache's best config (the knobs it shares).
    const Record* best = nullptr;
    for (const Record& r : *records) {
      if (r.result.ok() && (best == nullptr || RecordCost(r) < RecordCost(*best))) best = &r;
    }
    ASSERT_NE(best, nullptr);
    std::vector<KnobValue> values;
    for (const KnobValue& v : best->config.values) {
      if (t->space.FindKnob(v.name) >= 0) values.push_back(v);
    }
    if (t->space.FindKnob("use_shmem") >= 0 && values.size() == 6) {
      KnobValue shmem;
      shmem.name = "use_shmem";
      shmem.kind = KnobKind::kChoice;
      shmem.ints = {1};
      values.push_back(shmem);
    }
    StatusOr<Config> c = t->space.FromValues(values);
    ASSERT_TRUE(c.ok()) << file << ": " << c.status().message();
    EXPECT_TRUE(t->space.Satisfies(*c)) << file << " best " << t->space.ToString(*c);
  }
}

TEST(CudaOperators, ConstraintsRejectBadConfigsBeforeCompiling) {
  StatusOr<Task> conv = MakeCudaOperatorTask("conv2d", {4096, 4096, 15, 15});
  ASSERT_TRUE(conv.ok());
  // 256 x 32 threads: more than 1024 per block.
  StatusOr<Config> too_many =
      conv->space.FromValues({{.name = "block_size_x", .kind = KnobKind::kChoice, .ints = {256}},
                              {.name = "block_size_y", .kind = KnobKind::kChoice, .ints = {32}},
                              {.name = "tile_size_x", .kind = KnobKind::kChoice, .ints = {1}},
                              {.name = "tile_size_y", .kind = KnobKind::kChoice, .ints = {1}},
                              {.name = "read_only", .kind = KnobKind::kChoice, .ints = {0}},
                              {.name = "use_padding", .kind = KnobKind::kChoice, .ints = {0}},
                              {.name = "use_shmem", .kind = KnobKind::kChoice, .ints = {0}}});
  ASSERT_TRUE(too_many.ok()) << too_many.status().message();
  StatusOr<std::string> src = EmitCudaKernelSource(*conv, *too_many);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("threads_per_block"), std::string::npos)
      << src.status().message();
  // 128 x 8 threads with 8 x 3 tiles staged in shared memory: (24 + 14) x (1024 + 14) floats.
  StatusOr<Config> too_big =
      conv->space.FromValues({{.name = "block_size_x", .kind = KnobKind::kChoice, .ints = {128}},
                              {.name = "block_size_y", .kind = KnobKind::kChoice, .ints = {8}},
                              {.name = "tile_size_x", .kind = KnobKind::kChoice, .ints = {8}},
                              {.name = "tile_size_y", .kind = KnobKind::kChoice, .ints = {3}},
                              {.name = "read_only", .kind = KnobKind::kChoice, .ints = {0}},
                              {.name = "use_padding", .kind = KnobKind::kChoice, .ints = {0}},
                              {.name = "use_shmem", .kind = KnobKind::kChoice, .ints = {1}}});
  ASSERT_TRUE(too_big.ok());
  src = EmitCudaKernelSource(*conv, *too_big);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("shared_memory"), std::string::npos);
  StatusOr<Task> dense = MakeCudaOperatorTask("dense", {4096, 4096, 4094});
  ASSERT_TRUE(dense.ok());
  Rng rng = MakeRng(1);
  for (int i = 0; i < 200; ++i) {
    StatusOr<Config> c = dense->space.Sample(rng);
    ASSERT_TRUE(c.ok());
    const std::vector<KnobValue> v = dense->space.ToValues(*c);
    for (const KnobValue& x : v) {
      if (x.name == "vec") EXPECT_NE(x.ints[0], 4) << "K = 4094 is not a multiple of 4";
    }
  }
}

TEST(CudaOperators, EveryKnobValueIsAConstantOfTheSource) {
  StatusOr<Task> t = MakeCudaOperatorTask("dense", {100, 72, 36});
  ASSERT_TRUE(t.ok());
  StatusOr<std::string> src = EmitCudaKernelSource(*t, CudaDefaultConfig(*t));
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_NE(src->find("constexpr int M = 100, N = 72, K = 36;"), std::string::npos);
  EXPECT_NE(src->find("constexpr int BM = 16, BN = 16, BK = 8;"), std::string::npos);
  EXPECT_NE(src->find("extern \"C\" void sonar_run(void* state)"), std::string::npos);
  EXPECT_EQ(src->find('@'), std::string::npos) << "an unreplaced placeholder";
  StatusOr<Task> c = MakeCudaOperatorTask("conv2d", {37, 29, 5, 3});
  ASSERT_TRUE(c.ok());
  src = EmitCudaKernelSource(*c, CudaDefaultConfig(*c));
  ASSERT_TRUE(src.ok());
  EXPECT_NE(src->find("constexpr int block_size_x = 16, block_size_y = 16;"), std::string::npos);
  EXPECT_EQ(src->find('@'), std::string::npos);
}

// Compile-only where there is no GPU: the default config and seeded random configs of both
// templates, on odd shapes (tails in every dimension), build with nvcc and link with the harness.
TEST(CudaOperators, EverySampledConfigCompilesWithNvcc) {
  SONAR_REQUIRE_NVCC();
  MeasureOptions mo;
  mo.cache_dir = testing::CudaTestCacheDir();
  mo.compile_timeout_s = 600;
  StatusOr<std::unique_ptr<CompileCache>> cache =
      CompileCache::Make(CudaCompileCacheOptions(mo, CudaOptions{}, testing::TestCudaArch()));
  ASSERT_TRUE(cache.ok()) << cache.status().message();
  struct Job {
    std::string what;
    std::string source;
  };
  std::vector<Job> jobs;
  Rng rng = MakeRng(20);
  for (const auto& [op, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"dense", {100, 72, 36}}, {"conv2d", {37, 29, 5, 3}}}) {
    StatusOr<Task> t = MakeCudaOperatorTask(op, shape);
    ASSERT_TRUE(t.ok());
    std::vector<Config> configs = {CudaDefaultConfig(*t)};
    for (int i = 0; i < 3; ++i) configs.push_back(*t->space.Sample(rng));
    for (const Config& c : configs) {
      StatusOr<std::string> src = EmitCudaKernelSource(*t, c);
      ASSERT_TRUE(src.ok()) << src.status().message();
      jobs.push_back({t->name + " " + t->space.ToString(c), *src});
    }
  }
  std::vector<KernelBuild> builds(jobs.size());
  ParallelForEach(jobs.size(), 2,
                  [&](size_t i) { builds[i] = (*cache)->Build(jobs[i].source, "", {}); });
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(builds[i].status, MeasureStatus::kOk) << jobs[i].what << "\n" << builds[i].error_msg;
  }
}

TEST(CudaOperators, TheUserKernelExampleCompilesWithNvcc) {
  SONAR_REQUIRE_NVCC();
  MeasureOptions mo;
  mo.cache_dir = testing::CudaTestCacheDir();
  mo.compile_timeout_s = 600;
  StatusOr<std::unique_ptr<CompileCache>> cache =
      CompileCache::Make(CudaCompileCacheOptions(mo, CudaOptions{}, testing::TestCudaArch()));
  ASSERT_TRUE(cache.ok()) << cache.status().message();
  const std::string path = std::string(SONAR_SOURCE_DIR) + "/examples/cuda_kernel/saxpy.cu";
  KernelBuild b = (*cache)->Build(testing::ReadFile(path), path, {"-DBLOCK_SIZE=128", "-DITEMS=4"});
  EXPECT_EQ(b.status, MeasureStatus::kOk) << b.error_msg;
}

}  // namespace
}  // namespace sonar
