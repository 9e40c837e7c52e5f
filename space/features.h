// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the numeric encoding of configs that surrogates regress on
// (FeatureOptions, EncodeFeatures, FeatureNames) and its task-aware variant
// (EncodeTaskFeatures, TaskFeatureNames), which appends the task's shape so one model can learn
// across layers. Feature matrices are n x d, one row per config, in the order of the input.
//
// Columns, knob by knob in knob order:
//   kSplit:   one column per factor, outermost first (explicit outer factor included):
//             log2(factor), or the raw factor when !log2_split. Names
//             "tile_x.f0.log2" ... (or "tile_x.f0" ... when raw).
//   kChoice with labels: one-hot over the candidates (one_hot_choice), names "vec=avx2"; or
//             one column holding the candidate index, name "vec.index".
//   kChoice with integers: always one column: log2(value) when every value of the knob is >= 1,
//             else the raw value (e.g. AutoTVM's unroll steps {0, 512, 1500}). Name "unroll"
//             or "unroll.log2".
//   kReorder: one column per axis a: the position of axis a in the permutation (0-based).
//             Names "order.pos0" ...
//   kInt:     one column: log2(value) when (log_int or the knob's log_scale) and every value of
//             the knob is >= 1, else the raw value. Name "n" or "n.log2".
//   kBool:    one column, 0 or 1. Name "fast".
// Task columns (EncodeTaskFeatures with task_features): log2(max(1, dim)) for each shape
// dimension, names "task.dim0" ...
//
// Example:
//   FeatureOptions options;
//   Eigen::MatrixXd x = EncodeFeatures(space, configs, options);   // configs.size() x d
//   std::vector<std::string> names = FeatureNames(space, options);  // d names
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "common/status.h"
#include "space/config.h"
#include "space/config_space.h"
#include "space/task.h"

namespace sonar {

// How configs become feature rows.
// Thread safety: value type.
struct FeatureOptions {
  // Split factors as log2 (true) or raw (false). Log is better for GPs: factors span decades.
  bool log2_split = true;
  // Labelled choices one-hot (true) or as one candidate-index column (false). One-hot suits GPs;
  // the index column is compact for trees with many labels.
  bool one_hot_choice = true;
  // Every int knob whose values are all >= 1 as log2 (true); false lets each knob's log_scale
  // decide.
  bool log_int = false;
  // EncodeTaskFeatures appends the task shape columns (true) or not (false). Turn on when one
  // model is trained across tasks (transfer learning).
  bool task_features = false;

  // Always OK today: every combination of the flags is meaningful. Kept so callers validate
  // options uniformly.
  Status Validate() const;
};

// The n x d feature matrix of `configs` (n = configs.size(); d = FeatureNames(space).size()).
// requires: every config is well-formed for `space` (checked: SONAR_CHECK).
Eigen::MatrixXd EncodeFeatures(const ConfigSpace& space, const std::vector<Config>& configs,
                               const FeatureOptions& options);

// One name per column of EncodeFeatures, in column order (see the file comment).
std::vector<std::string> FeatureNames(const ConfigSpace& space, const FeatureOptions& options);

// EncodeFeatures(task.space, configs, options), followed, when options.task_features, by
// task.shape.size() columns holding log2(max(1, dim)) (the same in every row).
Eigen::MatrixXd EncodeTaskFeatures(const Task& task, const std::vector<Config>& configs,
                                   const FeatureOptions& options);

// One name per column of EncodeTaskFeatures.
std::vector<std::string> TaskFeatureNames(const Task& task, const FeatureOptions& options);

}  // namespace sonar
