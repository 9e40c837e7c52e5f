// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/feasibility.h"

#include <Eigen/Cholesky>
#include <cmath>

#include "common/check.h"

namespace sonar {
namespace {

// log sigmoid(t), stable for both signs.
double LogSigmoid(double t) { return t >= 0 ? -std::log1p(std::exp(-t)) : t - std::log1p(std::exp(t)); }

}  // namespace

Status FeasibilityOptions::Validate() const {
  if (!(l2 > 0) || !std::isfinite(l2)) return InvalidArgumentError("FeasibilityOptions::l2 must be > 0");
  if (max_iterations < 1) return InvalidArgumentError("FeasibilityOptions::max_iterations must be >= 1");
  return OkStatus();
}

FeasibilityModel::FeasibilityModel(FeasibilityOptions options) : options_(options) {}

Eigen::MatrixXd FeasibilityModel::Design(const Eigen::MatrixXd& x) const {
  const Eigen::Index n = x.rows(), d = x.cols();
  Eigen::MatrixXd z = (x.rowwise() - shift_).array().rowwise() / scale_.array();
  const Eigen::Index extra = options_.pairwise ? d * (d + 1) / 2 : 0;
  Eigen::MatrixXd out(n, 1 + d + extra);
  out.col(0).setOnes();
  out.middleCols(1, d) = z;
  Eigen::Index c = 1 + d;
  for (Eigen::Index i = 0; i < d && options_.pairwise; ++i) {
    for (Eigen::Index j = i; j < d; ++j) out.col(c++) = z.col(i).cwiseProduct(z.col(j));
  }
  return out;
}

Status FeasibilityModel::Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& feasible) {
  SONAR_RETURN_IF_ERROR(options_.Validate());
  if (x.rows() == 0 || x.rows() != feasible.size()) {
    return InvalidArgumentError("FeasibilityModel::Fit needs n >= 1 rows and one label per row");
  }
  if (!x.allFinite() || !feasible.allFinite()) {
    return InvalidArgumentError("FeasibilityModel::Fit: non-finite features or labels");
  }
  const double num_feasible = (feasible.array() > 0.5).count();
  fitted_ = true;
  if (num_feasible == 0 || num_feasible == static_cast<double>(x.rows())) {
    constant_ = true;
    constant_log_p_ = num_feasible > 0 ? 0.0 : -30.0;
    return OkStatus();
  }
  constant_ = false;
  shift_ = x.colwise().mean();
  scale_ = ((x.rowwise() - shift_).array().square().colwise().mean()).sqrt().matrix();
  for (Eigen::Index j = 0; j < scale_.size(); ++j) {
    if (!(scale_[j] > 1e-12)) scale_[j] = 1.0;  // constant column: any scale works
  }
  const Eigen::MatrixXd a = Design(x);
  const Eigen::Index p = a.cols();
  const Eigen::VectorXd y = (feasible.array() > 0.5).cast<double>().matrix();
  weights_ = Eigen::VectorXd::Zero(p);
  // Start at the base rate, so the first step is already calibrated.
  const double rate = num_feasible / static_cast<double>(x.rows());
  weights_[0] = std::log(rate / (1 - rate));
  Eigen::VectorXd prior = Eigen::VectorXd::Constant(p, options_.l2);
  prior[0] = 1e-6;  // nearly flat prior on the bias
  for (int it = 0; it < options_.max_iterations; ++it) {
    const Eigen::VectorXd t = a * weights_;
    Eigen::VectorXd prob(t.size()), w(t.size());
    for (Eigen::Index i = 0; i < t.size(); ++i) {
      prob[i] = 1.0 / (1.0 + std::exp(-t[i]));
      w[i] = std::max(prob[i] * (1 - prob[i]), 1e-12);
    }
    const Eigen::VectorXd grad = a.transpose() * (y - prob) - prior.cwiseProduct(weights_);
    Eigen::MatrixXd h = a.transpose() * w.asDiagonal() * a;
    h.diagonal() += prior;
    const Eigen::VectorXd step = h.ldlt().solve(grad);
    if (!step.allFinite()) break;
    weights_ += step;
    if (step.lpNorm<Eigen::Infinity>() < 1e-8) break;
  }
  return OkStatus();
}

Eigen::VectorXd FeasibilityModel::LogProbability(const Eigen::MatrixXd& x) const {
  SONAR_CHECK(fitted_) << "FeasibilityModel::LogProbability called before a successful Fit";
  if (constant_) return Eigen::VectorXd::Constant(x.rows(), constant_log_p_);
  SONAR_CHECK(x.cols() == shift_.size())
      << "FeasibilityModel: x has " << x.cols() << " columns, the model was fitted on "
      << shift_.size();
  const Eigen::VectorXd t = Design(x) * weights_;
  Eigen::VectorXd out(t.size());
  for (Eigen::Index i = 0; i < t.size(); ++i) out[i] = LogSigmoid(t[i]);
  return out;
}

}  // namespace sonar
