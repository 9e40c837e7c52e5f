// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the summary statistics used across Sonar, one home each: Median,
// Quantile, SpearmanRho and KendallTauB.
//
// Example:
//   double m = Median({3, 1, 2});                      // 2
//   double rho = SpearmanRho(predicted, measured);     // rank correlation in [-1, 1]
#pragma once

#include <Eigen/Core>

#include <vector>

namespace sonar {

// Median of `values` (the mean of the two middle ones for an even count); NaN when empty.
double Median(std::vector<double> values);
// The q-quantile (0 <= q <= 1) with linear interpolation between order statistics (numpy's
// default); NaN when empty.
double Quantile(std::vector<double> values, double q);
// (y - mean) / sd with the sample standard deviation, storing mean and sd (sd 1 when y is
// constant or has fewer than 2 values; mean 0 when y is empty).
Eigen::VectorXd Standardize(const Eigen::VectorXd& y, double* mean, double* scale);
// Spearman's rho with average ranks for ties; NaN when either side is constant or has fewer
// than 2 values. requires: a.size() == b.size(). O(n log n).
double SpearmanRho(const Eigen::VectorXd& a, const Eigen::VectorXd& b);
// Kendall's tau-b (Knight's O(n log n) algorithm); NaN when either side is constant.
// requires: a.size() == b.size().
double KendallTauB(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

}  // namespace sonar
