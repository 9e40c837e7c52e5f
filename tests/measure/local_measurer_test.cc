// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Compiles and runs real kernels (tests/measure/kernels/). Never asserts absolute times.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "measure/measurer.h"
#include "measure/operators.h"
#include "measure/user_kernel.h"

#include "tests/testing/test_records.h"

namespace sonar {
namespace {

const std::string kKernels = std::string(SONAR_SOURCE_DIR) + "/tests/measure/kernels/";

std::string TestCacheDir() { return testing::ProcessScratchDir(); }

MeasureOptions FastOptions() {
  MeasureOptions o;
  o.warmup = 0;
  o.repeat = 3;
  o.min_repeat_ms = 1;
  o.max_remeasure = 1;
  o.max_repeat_spread = 10;  // these tests are about classification, not noise
  o.run_timeout_s = 5;
  o.run_memory_limit_mb = 512;
  o.compiler_flags = {"-O1"};
  o.cache_dir = TestCacheDir();
  return o;
}

Config FaultConfig(const Task& task, int64_t fault) {
  KnobValue v;
  v.name = "FAULT";
  v.kind = KnobKind::kInt;
  v.ints = {fault};
  StatusOr<Config> c = task.space.FromValues({v});
  SONAR_CHECK(c.ok()) << c.status().ToString();
  return *c;
}

TEST(MeasureOptions, DefaultsAreValid) { EXPECT_TRUE(MeasureOptions{}.Validate().ok()); }

TEST(MeasureOptions, RejectsBadValues) {
  MeasureOptions o;
  o.repeat = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = MeasureOptions{};
  o.run_timeout_s = 0;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(LocalMeasurer, ClassifiesEveryFailureAndSurvives) {
  StatusOr<UserKernel> k = LoadUserKernel(kKernels + "faults.cc", kKernels + "faults_space.json");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  MeasureOptions o = FastOptions();
  o.run_timeout_s = 1.5;
  o.reference_values = k->reference;
  auto m = MakeLocalMeasurer(o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const Task& task = k->task;
  std::vector<Config> configs;
  for (int f = 0; f <= 6; ++f) configs.push_back(FaultConfig(task, f));
  Config invalid = configs[0];
  invalid.choice[0] = 99;  // out of range
  configs.push_back(invalid);
  std::vector<MeasureResult> r = (*m)->Measure(task, configs);
  ASSERT_EQ(r.size(), 8u);
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE("FAULT=" + std::to_string(i) + ": " + r[i].error_msg);
    EXPECT_GT(r[i].reference_seconds, 0);
  }
  EXPECT_EQ(r[0].status, MeasureStatus::kOk) << r[0].error_msg;
  EXPECT_EQ(r[0].run_seconds.size(), 3u);
  EXPECT_EQ(r[1].status, MeasureStatus::kCrashed) << r[1].error_msg;
  EXPECT_NE(r[1].error_msg.find("signal 11"), std::string::npos) << r[1].error_msg;
  EXPECT_EQ(r[2].status, MeasureStatus::kRunTimeout) << r[2].error_msg;
  EXPECT_EQ(r[3].status, MeasureStatus::kCompileError) << r[3].error_msg;
  EXPECT_NE(r[3].error_msg.find("faults.cc"), std::string::npos) << r[3].error_msg;
  EXPECT_NE(r[3].error_msg.find("error"), std::string::npos) << r[3].error_msg;
  EXPECT_EQ(r[4].status, MeasureStatus::kWrongAnswer) << r[4].error_msg;
  EXPECT_TRUE(r[4].run_seconds.empty());
  // Beyond the memory limit: classified (runtime error: out of memory), not a tuner crash.
  EXPECT_EQ(r[5].status, MeasureStatus::kRuntimeError) << r[5].error_msg;
  EXPECT_NE(r[5].error_msg.find("out of memory"), std::string::npos) << r[5].error_msg;
  EXPECT_EQ(r[6].status, MeasureStatus::kWrongAnswer) << r[6].error_msg;
  EXPECT_EQ(r[7].status, MeasureStatus::kInvalidConfig) << r[7].error_msg;
  EXPECT_FALSE((*m)->hardware_id().empty());
}

TEST(LocalMeasurer, SecondMeasurementHitsTheCompileCache) {
  StatusOr<UserKernel> k = LoadUserKernel(kKernels + "faults.cc", kKernels + "faults_space.json");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  MeasureOptions o = FastOptions();
  o.time_reference = false;
  auto m = MakeLocalMeasurer(o);
  ASSERT_TRUE(m.ok());
  const Config c = FaultConfig(k->task, 0);
  std::vector<MeasureResult> first = (*m)->Measure(k->task, {c});
  ASSERT_TRUE(first[0].ok()) << first[0].error_msg;
  const int64_t builds = (*m)->stats().builds;
  std::vector<MeasureResult> second = (*m)->Measure(k->task, {c});
  ASSERT_TRUE(second[0].ok()) << second[0].error_msg;
  EXPECT_EQ(second[0].compile_seconds, 0.0);
  EXPECT_EQ((*m)->stats().builds, builds);
  EXPECT_GE((*m)->stats().cache_hits, 1);
  EXPECT_EQ(second[0].reference_seconds, 0.0);  // no reference timed

  // A new measurer (a resumed run) finds the same binary on disk.
  auto m2 = MakeLocalMeasurer(o);
  ASSERT_TRUE(m2.ok());
  std::vector<MeasureResult> third = (*m2)->Measure(k->task, {c});
  ASSERT_TRUE(third[0].ok()) << third[0].error_msg;
  EXPECT_EQ((*m2)->stats().builds, 0);
  EXPECT_EQ((*m2)->stats().cache_hits, 1);

  // --no-cache compiles again.
  o.use_cache = false;
  auto m3 = MakeLocalMeasurer(o);
  ASSERT_TRUE(m3.ok());
  ASSERT_TRUE((*m3)->Measure(k->task, {c})[0].ok());
  EXPECT_EQ((*m3)->stats().builds, 1);
  EXPECT_EQ((*m3)->stats().cache_hits, 0);
}

TEST(LocalMeasurer, CompileTimeoutIsClassified) {
  StatusOr<UserKernel> k = LoadUserKernel(kKernels + "faults.cc", kKernels + "faults_space.json");
  ASSERT_TRUE(k.ok());
  MeasureOptions o = FastOptions();
  o.use_cache = false;
  o.time_reference = false;
  o.compile_timeout_s = 0.05;
  o.compiler_flags = {"-O3"};
  auto m = MakeLocalMeasurer(o);
  ASSERT_TRUE(m.ok());
  std::vector<MeasureResult> r = (*m)->Measure(k->task, {FaultConfig(k->task, 0)});
  EXPECT_EQ(r[0].status, MeasureStatus::kCompileTimeout) << r[0].error_msg;
}

TEST(LocalMeasurer, RemeasuresUnsteadyConfigsAndSaysSo) {
  StatusOr<UserKernel> k = LoadUserKernel(kKernels + "faults.cc", kKernels + "faults_space.json");
  ASSERT_TRUE(k.ok());
  MeasureOptions o = FastOptions();
  o.time_reference = false;
  o.max_repeat_spread = 0;  // every attempt counts as unsteady
  o.max_remeasure = 2;
  auto m = MakeLocalMeasurer(o);
  ASSERT_TRUE(m.ok());
  std::vector<MeasureResult> r = (*m)->Measure(k->task, {FaultConfig(k->task, 0)});
  ASSERT_TRUE(r[0].ok()) << r[0].error_msg;
  EXPECT_EQ(r[0].run_seconds.size(), 3u);
  EXPECT_NE(r[0].error_msg.find("re-measured"), std::string::npos) << r[0].error_msg;
  EXPECT_EQ((*m)->stats().timed_runs, 3);
  EXPECT_EQ((*m)->stats().remeasured, 1);
}

TEST(LocalMeasurer, MissingCompilerIsAnError) {
  MeasureOptions o = FastOptions();
  o.compiler = "no-such-compiler-xyz";
  EXPECT_FALSE(MakeLocalMeasurer(o).ok());
}

TEST(LocalMeasurer, BuiltInDenseRunsEndToEnd) {
  StatusOr<Task> task = MakeOperatorTask("dense", {16, 16, 16});
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  MeasureOptions o = FastOptions();
  o.compiler_flags = {"-O2", "-march=native"};
  auto m = MakeLocalMeasurer(o);
  ASSERT_TRUE(m.ok());
  Rng rng = MakeRng(3);
  StatusOr<Config> c = task->space.Sample(rng);
  ASSERT_TRUE(c.ok());
  std::vector<MeasureResult> r = (*m)->Measure(*task, {*c, DefaultConfig(*task)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, MeasureStatus::kOk) << r[0].error_msg;
  EXPECT_EQ(r[1].status, MeasureStatus::kOk) << r[1].error_msg;
  EXPECT_GT(r[0].reference_seconds, 0);
  EXPECT_EQ(r[0].reference_seconds, r[1].reference_seconds);
}

}  // namespace
}  // namespace sonar
