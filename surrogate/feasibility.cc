// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/feasibility.h"

#include <Eigen/Cholesky>
#include <cmath>

#include "common/check.h"

namespace sonar {
namespace {

// log sigmoid(t), stable for both signs.
double LogSigmoid(double t) {
  return t >= 0 ? -std::log1p(std::exp(-t)) : t - std::log1p(std::exp(t));
}

// log Phi(z), stable in the lower tail.
double LogPhi(double z) {
  if (z > -5) return std::log(0.5 * std::erfc(-z / std::sqrt(2.0)));
  const double x = -z / std::sqrt(2.0);
  // erfc(x) ~ exp(-x^2) / (x sqrt(pi)) (1 - 1 / (2 x^2)).
  return -x * x - std::log(x * std::sqrt(M_PI)) + std::log1p(-1 / (2 * x * x)) + std::log(0.5);
}

Eigen::VectorXd Binary(const Eigen::VectorXd& feasible) {
  return (feasible.array() > 0.5).cast<double>().matrix();
}

}  // namespace

Status FeasibilityOptions::Validate() const {
  if (!(l2 > 0) || !std::isfinite(l2))
    return InvalidArgumentError("FeasibilityOptions::l2 must be > 0");
  if (max_iterations < 1)
    return InvalidArgumentError("FeasibilityOptions::max_iterations must be >= 1");
  if (!(probit_variance > 0) || !std::isfinite(probit_variance)) {
    return InvalidArgumentError("FeasibilityOptions::probit_variance must be > 0");
  }
  return gp.Validate();
}

FeasibilityModel::FeasibilityModel(FeasibilityOptions options) : options_(std::move(options)) {}
FeasibilityModel::~FeasibilityModel() = default;
FeasibilityModel::FeasibilityModel(FeasibilityModel&&) noexcept = default;
FeasibilityModel& FeasibilityModel::operator=(FeasibilityModel&&) noexcept = default;

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
  x_ = x;
  labels_ = Binary(feasible);
  const double num_feasible = labels_.sum();
  fitted_ = true;
  if (num_feasible == 0 || num_feasible == static_cast<double>(x.rows())) {
    constant_ = true;
    constant_log_p_ = num_feasible > 0 ? 0.0 : -30.0;
    return OkStatus();
  }
  constant_ = false;
  if (options_.method == FeasibilityMethod::kLogistic) return FitLogistic(x, labels_);
  gp_ = std::make_unique<GaussianProcess>(options_.gp);
  const Status s = gp_->Fit(x, 2 * labels_.array() - 1);
  if (!s.ok()) {
    fitted_ = false;
    gp_.reset();
  }
  return s;
}

Status FeasibilityModel::AddSamples(const Eigen::MatrixXd& x, const Eigen::VectorXd& feasible) {
  SONAR_CHECK(fitted_) << "FeasibilityModel::AddSamples needs a successful Fit first";
  if (x.rows() == 0) return OkStatus();
  Eigen::MatrixXd all(x_.rows() + x.rows(), x_.cols());
  all << x_, x;
  Eigen::VectorXd labels(labels_.size() + feasible.size());
  labels << labels_, Binary(feasible);
  if (constant_ || options_.method == FeasibilityMethod::kLogistic) return Fit(all, labels);
  x_ = std::move(all);
  labels_ = std::move(labels);
  return gp_->AddSamples(x, 2 * Binary(feasible).array() - 1);
}

Status FeasibilityModel::FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  shift_ = x.colwise().mean();
  scale_ = ((x.rowwise() - shift_).array().square().colwise().mean()).sqrt().matrix();
  for (Eigen::Index j = 0; j < scale_.size(); ++j) {
    if (!(scale_[j] > 1e-12)) scale_[j] = 1.0;  // constant column: any scale works
  }
  const Eigen::MatrixXd a = Design(x);
  const Eigen::Index p = a.cols();
  weights_ = Eigen::VectorXd::Zero(p);
  // Start at the base rate, so the first step is already calibrated.
  const double rate = y.mean();
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
  SONAR_CHECK(x.cols() == x_.cols()) << "FeasibilityModel: x has " << x.cols()
                                     << " columns, the model was fitted on " << x_.cols();
  Eigen::VectorXd out(x.rows());
  if (options_.method == FeasibilityMethod::kLogistic) {
    const Eigen::VectorXd t = Design(x) * weights_;
    for (Eigen::Index i = 0; i < t.size(); ++i) out[i] = LogSigmoid(t[i]);
    return out;
  }
  const Prediction p = gp_->Predict(x);
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    out[i] = LogPhi(p.mean[i] / std::sqrt(std::max(p.variance[i], 0.0) + options_.probit_variance));
  }
  return out;
}

}  // namespace sonar
