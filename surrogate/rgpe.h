// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: RgpeModel, the ranking-weighted Gaussian process ensemble (RGPE,
// Feurer et al. 2018), the transfer baseline of `sonar compare`: one GP per source task, fitted
// once (tuner/transfer.h builds them in a TransferPrior), and a GP on the target's data,
// weighted by how often each model ranks the target's observations best (bootstrap over
// predictive draws; the target GP judged by leave-one-out); sources whose median ranking loss
// exceeds the 95th percentile of the target model's are dropped.
//
// Example:
//   RgpeModel model(&prior->source_gps, GpOptions{}, /*loss_samples=*/256, /*seed=*/0);
//   SONAR_RETURN_IF_ERROR(model.Fit(x, y));          // target data, log seconds
//   Prediction p = model.Predict(candidates);        // units of y
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "common/random.h"
#include "common/status.h"
#include "surrogate/gaussian_process.h"
#include "surrogate/prediction.h"

namespace sonar {

// Thread safety: Predict may run concurrently after Fit; Fit and Condition need exclusive
// access. The source GPs are read only.
class RgpeModel {
 public:
  // source_gps: fitted GPs on standardized source targets, in the same feature layout as the
  // target's x; not owned, must outlive the model.
  RgpeModel(const std::vector<GaussianProcess>* source_gps, GpOptions target_gp, int loss_samples,
            uint64_t seed);
  // Refits the target GP (MAP) and recomputes the weights.
  Status Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  // Conditions the target GP on (x, y) with its hyperparameters and standardization, keeping
  // the weights (the cheap update between Fits); a full Fit while the target GP has none.
  Status Condition(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);
  Prediction Predict(const Eigen::MatrixXd& x) const;
  const std::vector<double>& weights() const { return weights_; }  // sources..., target last

 private:
  const std::vector<GaussianProcess>* source_gps_;
  GaussianProcess target_;
  int loss_samples_;
  Rng rng_;
  bool target_fitted_ = false;
  double y_mean_ = 0, y_scale_ = 1;
  std::vector<double> weights_;
};

}  // namespace sonar
