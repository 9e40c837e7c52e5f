// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: FeasibilityModel, the classifier Bayesian optimisation uses to learn
// which configs fail (compile error, crash, timeout, not in the table) from the configs that did
// and did not, so the acquisition can be weighted by the probability of feasibility (Gardner et
// al., "Bayesian Optimization with Inequality Constraints", ICML 2014) and no sentinel cost ever
// reaches the regression surrogate. Two methods:
//   - kGaussianProcess (default): GP label regression (the least-squares classifier of Rasmussen
//     & Williams, section 6.5) with Sonar's GaussianProcess on labels +1 (feasible) / -1
//     (failed): p(x) = Phi(m(x) / sqrt(v(x) + probit_variance)), with m, v the GP's predictive
//     mean and variance of the label. ARD lengthscales learn which knobs decide failure, so the
//     boundary is sharp along them (e.g. the largest tile before a resource limit) and soft
//     along the others; unions of failure regions are fine. Cost: that of a second GP.
//   - kLogistic: L2-regularised logistic regression fitted by Newton's method (IRLS) on
//     standardised features, optionally with pairwise products. Cheap; a single (quadratic)
//     boundary only, so it cannot be sharp next to the best feasible configs.
//
// Example:
//   FeasibilityModel model;                                 // FeasibilityOptions{}
//   SONAR_RETURN_IF_ERROR(model.Fit(x, feasible));          // x: n x d, feasible: n of 0/1
//   SONAR_RETURN_IF_ERROR(model.AddSamples(x2, f2));        // incremental (GP: same
//   hyperparameters) Eigen::VectorXd log_p = model.LogProbability(x_new);    // m, <= 0
#pragma once

#include <Eigen/Core>
#include <memory>

#include "common/status.h"
#include "surrogate/gaussian_process.h"

namespace sonar {

enum class FeasibilityMethod { kGaussianProcess, kLogistic };

struct FeasibilityOptions {
  FeasibilityMethod method = FeasibilityMethod::kGaussianProcess;
  // kGaussianProcess: the label GP (its seed is set by the owner) and the variance added to the
  // predictive variance before the probit, in label units squared (range (0, inf)): at an
  // observed failure (m = -1, v = 0) p = Phi(-1 / sqrt(probit_variance)), 0.023 for 0.25.
  GpOptions gp;
  double probit_variance = 0.25;
  // kLogistic: precision of the Gaussian prior on the weights (standardised features), i.e. the
  // L2 penalty; range (0, inf). Pairwise products (and squares) of the features as extra columns.
  // Newton iterations, range >= 1.
  double l2 = 0.1;
  bool pairwise = false;
  int max_iterations = 30;
  Status Validate() const;
};

// Thread safety: LogProbability is safe to call concurrently after Fit; Fit and AddSamples need
// exclusive access. A model fitted on labels that are all feasible (or all infeasible) predicts
// that constant for every input until a fit sees both.
class FeasibilityModel {
 public:
  explicit FeasibilityModel(FeasibilityOptions options = {});
  ~FeasibilityModel();
  FeasibilityModel(FeasibilityModel&&) noexcept;
  FeasibilityModel& operator=(FeasibilityModel&&) noexcept;
  // x: n x d features; feasible: n entries, 1 for a feasible config and 0 for a failed one.
  // Fails with InvalidArgument on mismatched sizes, n == 0 or non-finite values.
  Status Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& feasible);
  // More observations without refitting hyperparameters (kGaussianProcess: GP AddSamples;
  // kLogistic: a full refit on everything seen). requires: a successful Fit.
  Status AddSamples(const Eigen::MatrixXd& x, const Eigen::VectorXd& feasible);
  // log P(feasible | x) for each row of x (m x d, the d of Fit); m entries, each <= 0.
  // requires: a successful Fit.
  Eigen::VectorXd LogProbability(const Eigen::MatrixXd& x) const;
  bool fitted() const { return fitted_; }
  const FeasibilityOptions& options() const { return options_; }

 private:
  Status FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& labels);
  Eigen::MatrixXd Design(const Eigen::MatrixXd& x) const;  // standardised (+ pairwise), 1 column

  FeasibilityOptions options_;
  bool fitted_ = false;
  bool constant_ = false;
  double constant_log_p_ = 0;  // used when the labels were all equal
  Eigen::MatrixXd x_;          // every row seen (for a constant model turning non-constant)
  Eigen::VectorXd labels_;     // 0/1
  std::unique_ptr<GaussianProcess> gp_;
  Eigen::RowVectorXd shift_, scale_;  // logistic: standardisation of the raw features
  Eigen::VectorXd weights_;           // logistic: bias first
};

}  // namespace sonar
