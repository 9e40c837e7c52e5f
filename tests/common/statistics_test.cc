// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "common/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace sonar {
namespace {

TEST(Statistics, MedianAndQuantile) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(Median({})));
  // numpy.quantile([1, 2, 3, 4], 0.25) == 1.75 (linear interpolation).
  EXPECT_DOUBLE_EQ(Quantile({4, 3, 2, 1}, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(Quantile({4, 3, 2, 1}, 1.0), 4.0);
}

TEST(Statistics, StandardizeUsesTheSampleDeviation) {
  Eigen::VectorXd y(4);
  y << 1, 2, 3, 6;
  double mean = 0, scale = 0;
  const Eigen::VectorXd z = Standardize(y, &mean, &scale);
  EXPECT_DOUBLE_EQ(mean, 3.0);
  EXPECT_DOUBLE_EQ(scale, std::sqrt(14.0 / 3.0));  // (4 + 1 + 0 + 9) / (n - 1)
  EXPECT_NEAR(z.mean(), 0.0, 1e-12);
  EXPECT_NEAR((z.array() * scale + mean - y.array()).abs().maxCoeff(), 0.0, 1e-12);
  // Constant and single values keep scale 1; an empty vector has mean 0.
  const Eigen::VectorXd c = Standardize(Eigen::VectorXd::Constant(3, 5.0), &mean, &scale);
  EXPECT_EQ(scale, 1.0);
  EXPECT_EQ(c, Eigen::VectorXd::Zero(3));
  Standardize(Eigen::VectorXd(), &mean, &scale);
  EXPECT_EQ(mean, 0.0);
  EXPECT_EQ(scale, 1.0);
}

TEST(Statistics, RankCorrelations) {
  Eigen::VectorXd a(5), b(5);
  a << 1, 2, 3, 4, 5;
  b << 10, 20, 30, 50, 40;
  // Spearman: 1 - 6 * sum d^2 / (n (n^2 - 1)) = 1 - 6 * 2 / 120.
  EXPECT_NEAR(SpearmanRho(a, b), 0.9, 1e-12);
  // Kendall: 9 concordant, 1 discordant pair of 10.
  EXPECT_NEAR(KendallTauB(a, b), 0.8, 1e-12);
  EXPECT_NEAR(SpearmanRho(a, -a), -1.0, 1e-12);
  EXPECT_TRUE(std::isnan(SpearmanRho(a, Eigen::VectorXd::Constant(5, 1.0))));
}

}  // namespace
}  // namespace sonar
