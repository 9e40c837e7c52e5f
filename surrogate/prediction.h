// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Prediction, the predictive distribution every cost model of
// surrogate/ returns (GaussianProcess, DeepKernelGp, RgpeModel) and every acquisition function
// of tuner/acquisition.h scores. The models share this result type, not an interface: each is
// fitted its own way (a MAP fit, a pretrain-then-adapt, an ensemble of fitted GPs), and the one
// place that chooses among them (tuner/bo_tuner.cc) needs what is particular to each.
//
// Example:
//   GaussianProcess gp;
//   SONAR_RETURN_IF_ERROR(gp.Fit(x, y));      // x: n x d, y: n (log seconds)
//   Prediction p = gp.Predict(x_new);         // p.mean, p.variance: m each
#pragma once

#include <Eigen/Core>

namespace sonar {

// Predictive distribution at m points: mean and variance of the latent function, in the units
// of the targets the model was fitted on (log seconds for tuners). variance >= 0.
struct Prediction {
  Eigen::VectorXd mean;      // m
  Eigen::VectorXd variance;  // m
};

}  // namespace sonar
