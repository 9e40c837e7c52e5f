// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: LayerLatencyModel, the joint search's prediction of a layer's tuned
// latency on this machine before any of its configs is measured: a Gaussian process on shape
// features of built-in operator tasks (operator, log FLOPs, log input/output/weight sizes, log
// reduction length), fitted on the log latencies of layers already tuned in the same search.
// It is the MAPLE idea at layer level, adapted from the layers measured so far; its predictive
// standard deviation makes the search's latency bounds for untuned layers.
//
// Example:
//   LayerLatencyModel model;
//   SONAR_RETURN_IF_ERROR(model.Fit(tuned_tasks, tuned_seconds));
//   LayerLatencyPrediction p = model.Predict(untuned_task);  // exp(p.log_mean) seconds
#pragma once

#include <memory>
#include <vector>

#include <Eigen/Dense>

#include "common/status.h"
#include "space/task.h"

namespace sonar {

// The features of a built-in operator task (dense, conv2d, depthwise_conv2d): one-hot
// operator, then log2 of FLOPs, input, output and weight elements, and reduction length.
// requires: task made by MakeOperatorTask.
Eigen::VectorXd LayerFeatures(const Task& task);

struct LayerLatencyPrediction {
  double log_mean = 0;  // natural log of seconds
  double log_sd = 0;    // predictive standard deviation of the log, noise included
};

// Thread safety: Predict is safe to call concurrently after Fit; Fit needs exclusive access.
class LayerLatencyModel {
 public:
  LayerLatencyModel();
  ~LayerLatencyModel();
  LayerLatencyModel(LayerLatencyModel&&) noexcept;
  LayerLatencyModel& operator=(LayerLatencyModel&&) noexcept;
  // Fits log(seconds) of `tasks`. InvalidArgument for fewer than 3 tasks, mismatched sizes or
  // a non-positive or non-finite latency.
  Status Fit(const std::vector<const Task*>& tasks, const std::vector<double>& seconds);
  bool fitted() const;
  // requires: fitted().
  LayerLatencyPrediction Predict(const Task& task) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sonar
