// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// RGPE's ranking-weighted ensemble (see rgpe.h).
#include "surrogate/rgpe.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/check.h"
#include "common/statistics.h"

namespace sonar {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

RgpeModel::RgpeModel(const std::vector<GaussianProcess>* source_gps, GpOptions target_gp,
                     int loss_samples, uint64_t seed)
    : source_gps_(source_gps),
      target_(std::move(target_gp)),
      loss_samples_(loss_samples),
      rng_(MakeRng(seed, 0x7267)) {
  const size_t s = (*source_gps_).size();
  weights_.assign(s + 1, 0.0);
  for (size_t i = 0; i < s; ++i) weights_[i] = 1.0 / static_cast<double>(s);
}

Status RgpeModel::Fit(const MatrixXd& x, const VectorXd& y) {
  const size_t s = (*source_gps_).size();
  const Index n = y.size();
  target_fitted_ = false;
  weights_.assign(s + 1, 0.0);
  if (n < 3) {  // too few pairs to rank: the sources, equally
    for (size_t i = 0; i < s; ++i) weights_[i] = 1.0 / static_cast<double>(s);
    if (n > 0) Standardize(y, &y_mean_, &y_scale_);
    return OkStatus();
  }
  const VectorXd ys = Standardize(y, &y_mean_, &y_scale_);
  SONAR_RETURN_IF_ERROR(target_.Fit(x, ys));
  target_fitted_ = true;
  // Ranking losses on a subset of at most 64 target points.
  const std::vector<Index> eval = RandomSubset(n, 64, rng_);
  const MatrixXd xe = x(eval, Eigen::all);
  const VectorXd ye = ys(eval);
  const Index m = xe.rows();
  std::vector<Prediction> preds;
  for (const GaussianProcess& gp : (*source_gps_)) preds.push_back(gp.Predict(xe));
  // The target model by leave-one-out (conditioned on at most 150 others).
  SONAR_ASSIGN_OR_RETURN(Prediction loo, LeaveOneOut(target_, x, ys, eval, 150, rng_));
  preds.push_back(loo);
  // Bootstrap: a draw of each model's predictions at the points, misranked pairs counted.
  const size_t models = preds.size();
  std::vector<std::vector<int>> losses(models,
                                       std::vector<int>(static_cast<size_t>(loss_samples_)));
  VectorXd draw(m);
  for (int b = 0; b < loss_samples_; ++b) {
    for (size_t k = 0; k < models; ++k) {
      for (Index i = 0; i < m; ++i) {
        draw(i) = preds[k].mean(i) +
                  std::sqrt(std::max(0.0, preds[k].variance(i))) * StandardNormal(rng_);
      }
      int loss = 0;
      for (Index i = 0; i < m; ++i) {
        for (Index j = i + 1; j < m; ++j) loss += ((draw(i) < draw(j)) != (ye(i) < ye(j)));
      }
      losses[k][static_cast<size_t>(b)] = loss;
    }
  }
  // Sources whose median loss exceeds the 95th percentile of the target's are left out.
  std::vector<int> target_sorted = losses.back();
  std::sort(target_sorted.begin(), target_sorted.end());
  const int p95 =
      target_sorted[static_cast<size_t>(std::min<double>(loss_samples_ - 1, 0.95 * loss_samples_))];
  std::vector<char> keep(models, 1);
  for (size_t k = 0; k + 1 < models; ++k) {
    std::vector<int> l = losses[k];
    std::nth_element(l.begin(), l.begin() + static_cast<long>(l.size() / 2), l.end());
    keep[k] = l[l.size() / 2] <= p95;
  }
  for (int b = 0; b < loss_samples_; ++b) {
    int best = std::numeric_limits<int>::max();
    for (size_t k = 0; k < models; ++k) {
      if (keep[k]) best = std::min(best, losses[k][static_cast<size_t>(b)]);
    }
    int ties = 0;
    for (size_t k = 0; k < models; ++k)
      ties += keep[k] && losses[k][static_cast<size_t>(b)] == best;
    for (size_t k = 0; k < models; ++k) {
      if (keep[k] && losses[k][static_cast<size_t>(b)] == best) {
        weights_[k] += 1.0 / (static_cast<double>(ties) * loss_samples_);
      }
    }
  }
  return OkStatus();
}

Status RgpeModel::Condition(const MatrixXd& x, const VectorXd& y) {
  if (!target_fitted_) return Fit(x, y);
  return target_.Condition(x, ((y.array() - y_mean_) / y_scale_).matrix());
}

Prediction RgpeModel::Predict(const MatrixXd& x) const {
  Prediction out;
  out.mean = VectorXd::Zero(x.rows());
  out.variance = VectorXd::Zero(x.rows());
  const size_t s = (*source_gps_).size();
  for (size_t k = 0; k <= s; ++k) {
    const double w = weights_[k];
    if (w <= 0) continue;
    if (k == s && !target_fitted_) continue;
    const Prediction p = k < s ? (*source_gps_)[k].Predict(x) : target_.Predict(x);
    out.mean += w * p.mean;
    out.variance += w * w * p.variance;
  }
  out.mean = (out.mean.array() * y_scale_ + y_mean_).matrix();
  out.variance *= y_scale_ * y_scale_;
  return out;
}

}  // namespace sonar
