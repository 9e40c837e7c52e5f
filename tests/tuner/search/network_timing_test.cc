// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/network_timing.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "measure/operators.h"

namespace sonar {
namespace {

TEST(NetworkTiming, AWholeNetworkWithItsLayersAndGlueCompilesRunsAndIsTimed) {
  StatusOr<ArchitectureSpace> space = BuiltinArchitectureSpace("digits-cnn");
  ASSERT_TRUE(space.ok());
  Architecture arch;
  arch.blocks = {{"conv2d", 8, 3, 1, 2}, {"conv2d", 16, 5, 1, 2}};
  arch.hidden = {32};
  ASSERT_GE(space->IndexOf(arch), 0);
  std::vector<Task> tasks;
  std::vector<Config> configs;
  Rng rng(3);
  for (const LayerSpec& l : space->Layers(arch)) {
    StatusOr<Task> task = MakeOperatorTask(l.op, l.shape);
    ASSERT_TRUE(task.ok());
    StatusOr<Config> config = task->space.Sample(rng);  // any valid schedule
    ASSERT_TRUE(config.ok());
    tasks.push_back(*task);
    configs.push_back(*config);
  }
  StatusOr<std::string> source = EmitNetworkSource(*space, arch, tasks, configs);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  for (int i = 0; i < 4; ++i) {
    EXPECT_NE(source->find("namespace layer" + std::to_string(i)), std::string::npos);
  }
  MeasureOptions options;
  options.min_repeat_ms = 2;
  options.repeat = 3;
  StatusOr<MeasureResult> r = TimeNetwork(*source, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->ok()) << MeasureStatusToString(r->status) << ": " << r->error_msg;
  EXPECT_GT(r->median_seconds(), 0);
  EXPECT_FALSE(EmitNetworkSource(*space, arch, tasks, {}).ok());
}

}  // namespace
}  // namespace sonar
