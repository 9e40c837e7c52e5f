// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: FeasibilityModel, the classifier Bayesian optimisation uses to learn
// which configs fail (compile error, crash, timeout, not in the table) from the configs that did
// and did not, so the acquisition can be weighted by the probability of feasibility (Gardner et
// al., "Bayesian Optimization with Inequality Constraints", ICML 2014) and no sentinel cost ever
// reaches the regression surrogate. The model is an L2-regularised (Gaussian prior) logistic
// regression fitted by Newton's method (IRLS) on standardised features, optionally with pairwise
// products. Why logistic on log features: the failures of tuning spaces are mostly resource
// limits such as threads per block (bx * by > 1024) or shared memory (a product of tile and
// block sizes) - products of knob values, which are half-spaces in log2 features.
//
// Example:
//   FeasibilityModel model;                                 // FeasibilityOptions{}
//   SONAR_RETURN_IF_ERROR(model.Fit(x, feasible));          // x: n x d, feasible: n of 0/1
//   Eigen::VectorXd log_p = model.LogProbability(x_new);    // m, <= 0
#pragma once

#include <Eigen/Core>

#include "common/status.h"

namespace sonar {

struct FeasibilityOptions {
  // Precision of the Gaussian prior on the weights (standardised features), i.e. the L2 penalty
  // lambda in sum log-likelihood - lambda / 2 |w|^2. Range (0, inf). Larger gives softer
  // probabilities; smaller fits sharp boundaries from few failures.
  double l2 = 0.1;
  // Add the products of every pair of features (and squares): d (d + 1) / 2 more columns. Lets
  // the boundary curve; worth it when failures are not half-spaces in the features.
  bool pairwise = false;
  // Newton iterations; converges in about 10 on separable data thanks to the prior. Range >= 1.
  int max_iterations = 30;
  Status Validate() const;
};

// Thread safety: LogProbability is safe to call concurrently after Fit; Fit needs exclusive
// access. A model fitted on labels that are all feasible (or all infeasible) predicts that
// constant for every input.
class FeasibilityModel {
 public:
  explicit FeasibilityModel(FeasibilityOptions options = {});
  // x: n x d features; feasible: n entries, 1 for a feasible config and 0 for a failed one.
  // Fails with InvalidArgument on mismatched sizes, n == 0 or non-finite values.
  Status Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& feasible);
  // log P(feasible | x) for each row of x (m x d, the d of Fit); m entries, each <= 0.
  // requires: a successful Fit.
  Eigen::VectorXd LogProbability(const Eigen::MatrixXd& x) const;
  bool fitted() const { return fitted_; }
  const FeasibilityOptions& options() const { return options_; }

 private:
  Eigen::MatrixXd Design(const Eigen::MatrixXd& x) const;  // standardised (+ pairwise), 1 column

  FeasibilityOptions options_;
  bool fitted_ = false;
  double constant_log_p_ = 0;  // used when the labels were all equal
  bool constant_ = false;
  Eigen::RowVectorXd shift_, scale_;  // standardisation of the raw features
  Eigen::VectorXd weights_;           // bias first
};

}  // namespace sonar
