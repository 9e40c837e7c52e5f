// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/xgb_cost_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common/random.h"
#include "common/statistics.h"

namespace sonar {
namespace {

// n x 5 features in [0, 1) and a smooth target (larger is better), normalised to max 1.
void MakeData(int n, uint64_t seed, Eigen::MatrixXd* x, Eigen::VectorXd* y) {
  Rng rng = MakeRng(seed);
  x->resize(n, 5);
  y->resize(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 5; ++j) (*x)(i, j) = UniformDouble(rng);
    const double a = (*x)(i, 0) - 0.3, b = (*x)(i, 1) - 0.7;
    (*y)[i] = 1.0 / (1.0 + 4 * a * a + 8 * b * b + 0.5 * (*x)(i, 2));
  }
  *y /= y->maxCoeff();
}

TEST(XgbOptions, DefaultsAreValid) { EXPECT_TRUE(XgbOptions{}.Validate().ok()); }

TEST(XgbOptions, BadValuesAreRejected) {
  XgbOptions o;
  o.max_depth = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = XgbOptions{};
  o.eta = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = XgbOptions{};
  o.subsample = 1.5;
  EXPECT_FALSE(o.Validate().ok());
  o = XgbOptions{};
  o.validation_fraction = 0.95;
  EXPECT_FALSE(o.Validate().ok());
  o = XgbOptions{};
  o.recall_at = 0;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(AverageRecallAtN, MatchesAutoTvmsCurveOnSmallCases) {
  Eigen::VectorXd label(4);
  label << 0.1, 0.9, 0.5, 0.3;  // true ranks: 3, 0, 1, 2
  // Perfect order: curve[i] = i / (i + 1) (AutoTVM counts trials before i only).
  EXPECT_NEAR(AverageRecallAtN(label, label, 3), (0.0 + 1.0 / 2 + 2.0 / 3) / 3, 1e-12);
  // Reversed order: trials have ranks 3, 2, 1, 0.
  // i=0: 0; i=1: {3}<=1? 0; i=2: {3,2}<=2 -> 1 -> 1/3; i=3: {3,2,1}<=3 -> 3 -> 3/4.
  EXPECT_NEAR(AverageRecallAtN(-label, label, 4), (0.0 + 0.0 + 1.0 / 3 + 3.0 / 4) / 4, 1e-12);
  // N beyond the row count is capped.
  EXPECT_NEAR(AverageRecallAtN(label, label, 100), AverageRecallAtN(label, label, 4), 1e-12);
  EXPECT_EQ(AverageRecallAtN(Eigen::VectorXd(), Eigen::VectorXd(), 5), 0.0);
}

TEST(XgbCostModel, LearnsARankingThatHoldsOnUnseenRows) {
  Eigen::MatrixXd x_train, x_test;
  Eigen::VectorXd y_train, y_test;
  MakeData(500, 1, &x_train, &y_train);
  MakeData(300, 2, &x_test, &y_test);
  XgbCostModel model;
  ASSERT_TRUE(model.Fit(x_train, y_train).ok());
  EXPECT_TRUE(model.fitted());
  EXPECT_EQ(model.num_features(), 5);
  EXPECT_GE(model.num_rounds(), model.best_round() + 1);
  const Eigen::VectorXd score = model.Predict(x_test).value();
  ASSERT_EQ(score.size(), 300);
  EXPECT_TRUE(score.allFinite());
  EXPECT_GT(SpearmanRho(score, y_test), 0.9);
}

TEST(XgbCostModel, RegressionObjectiveAndHeldOutEarlyStoppingWork) {
  Eigen::MatrixXd x_train, x_test;
  Eigen::VectorXd y_train, y_test;
  MakeData(500, 3, &x_train, &y_train);
  MakeData(300, 4, &x_test, &y_test);
  XgbOptions o;
  o.objective = "reg:squarederror";
  o.validation_fraction = 0.2;
  o.truncate_to_best_round = true;
  XgbCostModel model(o);
  ASSERT_TRUE(model.Fit(x_train, y_train).ok());
  EXPECT_GT(SpearmanRho(model.Predict(x_test).value(), y_test), 0.9);
}

TEST(XgbCostModel, SameSeedGivesTheSameModel) {
  Eigen::MatrixXd x, x_test;
  Eigen::VectorXd y, y_test;
  MakeData(300, 5, &x, &y);
  MakeData(50, 6, &x_test, &y_test);
  XgbOptions o;
  o.seed = 9;
  XgbCostModel a(o), b(o);
  ASSERT_TRUE(a.Fit(x, y).ok());
  ASSERT_TRUE(b.Fit(x, y).ok());
  EXPECT_EQ(a.Predict(x_test).value(), b.Predict(x_test).value());
  EXPECT_EQ(a.num_rounds(), b.num_rounds());
}

TEST(XgbCostModel, BaseMarginReplacesTheBaseScore) {
  Eigen::MatrixXd x, x_test;
  Eigen::VectorXd y, y_test;
  MakeData(200, 7, &x, &y);
  MakeData(40, 8, &x_test, &y_test);
  Eigen::VectorXd train_margin = 2.0 * y;  // a prior that knows the answer
  XgbCostModel model;
  ASSERT_TRUE(model.Fit(x, y, &train_margin).ok());
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(40);
  const Eigen::VectorXd margin = Eigen::VectorXd::LinSpaced(40, -1.0, 3.0);
  const Eigen::VectorXd with_zero = model.Predict(x_test, &zero).value();
  const Eigen::VectorXd with_margin = model.Predict(x_test, &margin).value();
  const Eigen::VectorXd without = model.Predict(x_test).value();
  for (Eigen::Index i = 0; i < 40; ++i) {
    EXPECT_NEAR(with_margin[i] - with_zero[i], margin[i], 1e-5) << i;
    EXPECT_NEAR(without[i] - with_zero[i], XgbOptions{}.base_score, 1e-5) << i;
  }
}

TEST(XgbCostModel, FitRejectsBadInput) {
  XgbCostModel model;
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(4, 2);
  Eigen::VectorXd y = Eigen::VectorXd::Ones(4);
  EXPECT_EQ(model.Fit(Eigen::MatrixXd(0, 2), Eigen::VectorXd(0)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(model.Fit(x, Eigen::VectorXd::Ones(3)).code(), StatusCode::kInvalidArgument);
  y[2] = std::nan("");
  EXPECT_EQ(model.Fit(x, y).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(model.fitted());
  XgbOptions o;
  o.objective = "no:such_objective";
  XgbCostModel bad(o);
  Status s = bad.Fit(x, Eigen::VectorXd::Ones(4));
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
}

TEST(XgbCostModel, ConstantTargetsStillGiveFinitePredictions) {
  Eigen::MatrixXd x, x_test;
  Eigen::VectorXd y, y_test;
  MakeData(64, 9, &x, &y);
  MakeData(8, 10, &x_test, &y_test);
  XgbCostModel model;
  ASSERT_TRUE(model.Fit(x, Eigen::VectorXd::Zero(64)).ok());
  EXPECT_TRUE(model.Predict(x_test).value().allFinite());
}

}  // namespace
}  // namespace sonar
