// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Surrogate, the one contract every regression model of tuning costs
// follows (fit on an n x d feature matrix and targets, predict mean and variance), and
// Prediction.
//
// Example:
//   GaussianProcess gp;                       // a Surrogate
//   SONAR_RETURN_IF_ERROR(gp.Fit(x, y));      // x: n x d, y: n (log seconds)
//   Prediction p = gp.Predict(x_new);         // p.mean, p.variance: m each
#pragma once

#include <Eigen/Core>
#include <string_view>

#include "common/status.h"

namespace sonar {

// Predictive distribution at m points: mean and variance of the latent function, in the units
// of the targets given to Fit (log seconds for tuners). variance >= 0; all zeros when the
// surrogate has none.
struct Prediction {
  Eigen::VectorXd mean;      // m
  Eigen::VectorXd variance;  // m
};

// Thread safety: Predict is safe to call concurrently after Fit returns; Fit needs exclusive
// access. Interfaces are non-copyable.
class Surrogate {
 public:
  virtual ~Surrogate() = default;
  Surrogate() = default;
  Surrogate(const Surrogate&) = delete;
  Surrogate& operator=(const Surrogate&) = delete;
  // x: n x d rows of features, y: n targets. Fails with InvalidArgument on mismatched sizes,
  // NaN/inf values or n == 0.
  virtual Status Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) = 0;
  // requires: a successful Fit; x has the same d.
  virtual Prediction Predict(const Eigen::MatrixXd& x) const = 0;
  virtual bool has_variance() const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace sonar
