// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/latency/layer_latency_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "measure/operators.h"

namespace sonar {
namespace {

TEST(LayerLatencyModel, LearnsLatencyThatFollowsTheWorkAndKnowsWhatItDoesNotKnow) {
  // Latency = FLOPs at 4 GFLOP/s plus 1 us; convolutions of several sizes.
  std::vector<Task> train, test;
  for (int c : {1, 4, 8, 16, 32}) {
    for (int k : {4, 8, 16, 32}) {
      StatusOr<Task> t = MakeOperatorTask("conv2d", {1, c, 8, 8, k, 3, 3, 1, 1});
      ASSERT_TRUE(t.ok());
      ((c + k) % 3 == 0 ? test : train).push_back(*std::move(t));
    }
  }
  auto seconds = [](const Task& t) { return OperatorFlops(t) / 4e9 + 1e-6; };
  std::vector<const Task*> tasks;
  std::vector<double> y;
  for (const Task& t : train) {
    tasks.push_back(&t);
    y.push_back(seconds(t));
  }
  LayerLatencyModel model;
  EXPECT_FALSE(model.fitted());
  ASSERT_TRUE(model.Fit(tasks, y).ok());
  ASSERT_TRUE(model.fitted());
  for (const Task& t : test) {
    LayerLatencyPrediction p = model.Predict(t);
    EXPECT_NEAR(p.log_mean, std::log(seconds(t)), 0.35) << t.name;
    EXPECT_GT(p.log_sd, 0);
  }
  // A dense layer is far from every convolution seen: the model is less sure of it.
  StatusOr<Task> dense = MakeOperatorTask("dense", {1, 64, 512});
  ASSERT_TRUE(dense.ok());
  EXPECT_GT(model.Predict(*dense).log_sd, model.Predict(test[0]).log_sd);
  EXPECT_EQ(LayerFeatures(*dense).size(), 8);
  EXPECT_FALSE(model.Fit({tasks[0]}, {y[0]}).ok());
  EXPECT_FALSE(model.Fit({tasks[0], tasks[1], tasks[2]}, {1e-3, 0, 1e-3}).ok());
}

}  // namespace
}  // namespace sonar
