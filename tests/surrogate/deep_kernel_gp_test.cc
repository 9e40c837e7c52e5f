// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of DeepKernelGp: the analytic gradient against finite differences (both kernels),
// pretraining on related synthetic tasks raises the target's likelihood and beats a plain GP
// with few target points, the zero-shot mean ranks a related target, the MAP prior moves the
// adapted model from the pretrained one (strong prior) towards a free fit (weak prior), and the
// same seed gives the same model.
#include "surrogate/deep_kernel_gp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "common/random.h"
#include "common/statistics.h"
#include "surrogate/gaussian_process.h"

namespace sonar {
namespace {

Eigen::MatrixXd Points(int n, int d, Rng& rng) {
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) x(i, j) = 4.0 * UniformDouble(rng) - 2.0;
  }
  return x;
}

// A family of related tasks: a shared nonlinear landscape, scaled and shifted per task, plus a
// small task-specific tilt. Targets are "log costs".
Eigen::VectorXd Related(const Eigen::MatrixXd& x, double scale, double shift, double tilt) {
  Eigen::VectorXd y(x.rows());
  for (int i = 0; i < x.rows(); ++i) {
    const double a = x(i, 0), b = x(i, 1);
    y(i) = shift + scale * (std::sin(2.0 * a) * std::cos(1.5 * b) + 0.3 * a * a) + tilt * b;
  }
  return y;
}

std::vector<DkgpTask> RelatedSources(int tasks, int n, uint64_t seed) {
  Rng rng = MakeRng(seed, 1);
  std::vector<DkgpTask> out;
  for (int t = 0; t < tasks; ++t) {
    DkgpTask task;
    task.x = Points(n, 3, rng);
    task.y = Related(task.x, 0.8 + 0.1 * t, -5.0 + t, 0.05 * (t - 2));
    out.push_back(std::move(task));
  }
  return out;
}

DkgpOptions SmallOptions() {
  DkgpOptions o;
  o.hidden = {16, 16};
  o.feature_dim = 4;
  o.pretrain_iterations = 200;
  o.adapt_iterations = 60;
  o.zero_shot_weight = 1.0;
  o.seed = 3;
  return o;
}

// Mean held-out log density of y under a Gaussian prediction (noise-free variance + floor).
double MeanLogDensity(const Prediction& p, const Eigen::VectorXd& y, double noise) {
  double s = 0;
  for (int i = 0; i < y.size(); ++i) {
    const double v = p.variance(i) + noise;
    const double e = y(i) - p.mean(i);
    s += -0.5 * (std::log(2 * M_PI * v) + e * e / v);
  }
  return s / static_cast<double>(y.size());
}

TEST(DkgpOptions, DefaultsValidAndBadValuesRejected) {
  EXPECT_TRUE(DkgpOptions().Validate().ok());
  DkgpOptions o;
  o.prior_precisions = {};
  EXPECT_FALSE(o.Validate().ok());
  o = DkgpOptions();
  o.hidden = {0};
  EXPECT_FALSE(o.Validate().ok());
  o = DkgpOptions();
  o.prior_precisions = {1.0, -1.0};
  EXPECT_FALSE(o.Validate().ok());
}

void CheckGradient(GpKernel kernel) {
  DkgpOptions o;
  o.hidden = {5, 4};
  o.feature_dim = 3;
  o.kernel = kernel;
  o.seed = 11;
  DeepKernelGp model(o);
  model.SetInputScaling(Eigen::RowVectorXd::Zero(3), Eigen::RowVectorXd::Ones(3));
  std::vector<DkgpTask> tasks = RelatedSources(2, 12, 5);
  Rng rng = MakeRng(9, 2);
  Eigen::VectorXd p = model.params();
  for (int i = 0; i < p.size(); ++i) p(i) += 0.3 * (UniformDouble(rng) - 0.5);
  Eigen::VectorXd center = Eigen::VectorXd::Zero(p.size());
  for (int i = 0; i < p.size(); ++i) center(i) = 0.2 * (UniformDouble(rng) - 0.5);
  Eigen::VectorXd grad;
  const double f0 = model.LogObjective(tasks, p, center, 0.7, &grad);
  ASSERT_TRUE(std::isfinite(f0));
  ASSERT_EQ(grad.size(), p.size());
  for (int i = 0; i < p.size(); ++i) {
    const double h = 1e-5;
    Eigen::VectorXd up = p, down = p;
    up(i) += h;
    down(i) -= h;
    const double fd = (model.LogObjective(tasks, up, center, 0.7, nullptr) -
                       model.LogObjective(tasks, down, center, 0.7, nullptr)) /
                      (2 * h);
    EXPECT_NEAR(grad(i), fd, 1e-5 * std::max(1.0, std::abs(fd))) << "parameter " << i;
  }
}

TEST(DeepKernelGp, GradientMatchesFiniteDifferencesMatern) { CheckGradient(GpKernel::kMatern52); }
TEST(DeepKernelGp, GradientMatchesFiniteDifferencesRbf) { CheckGradient(GpKernel::kRbf); }

TEST(DeepKernelGp, AdaptBeforePretrainFails) {
  DeepKernelGp model(SmallOptions());
  EXPECT_EQ(model.Adapt(Eigen::MatrixXd(0, 3), Eigen::VectorXd(0)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_FALSE(model.Pretrain({}).ok());
}

TEST(DeepKernelGp, PretrainingRaisesTargetLikelihoodAndBeatsPlainGp) {
  DeepKernelGp model(SmallOptions());
  ASSERT_TRUE(model.Pretrain(RelatedSources(5, 120, 7)).ok());
  Rng rng = MakeRng(21, 3);
  DkgpTask target;
  target.x = Points(8, 3, rng);
  target.y = Related(target.x, 1.1, 2.0, 0.02);
  // The pretrained parameters explain the target far better than the initial ones.
  DeepKernelGp fresh(SmallOptions());
  fresh.SetInputScaling(Eigen::RowVectorXd::Zero(3), Eigen::RowVectorXd::Ones(3));
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(model.num_params());
  const double pre = model.LogObjective({target}, model.pretrained_params(), zero, 1e-12, nullptr);
  const double init = model.LogObjective({target}, fresh.params(), zero, 1e-12, nullptr);
  EXPECT_GT(pre, init + 2.0) << "pretrained " << pre << " vs initial " << init;

  // With 8 target points, held-out density beats a plain GP fitted on the same 8 points.
  ASSERT_TRUE(model.Adapt(target.x, target.y).ok());
  const Eigen::MatrixXd xt = Points(300, 3, rng);
  const Eigen::VectorXd yt = Related(xt, 1.1, 2.0, 0.02);
  GpOptions gp_options;
  gp_options.seed = 1;
  GaussianProcess gp(gp_options);
  ASSERT_TRUE(gp.Fit(target.x, target.y).ok());
  const double noise = 1e-2;
  const double dk = MeanLogDensity(model.Predict(xt), yt, noise);
  const double plain = MeanLogDensity(gp.Predict(xt), yt, noise);
  EXPECT_GT(dk, plain) << "deep kernel " << dk << " vs plain GP " << plain;
  EXPECT_GT(SpearmanRho(model.Predict(xt).mean, yt), SpearmanRho(gp.Predict(xt).mean, yt));
}

TEST(DeepKernelGp, ZeroShotMeanRanksARelatedTarget) {
  DeepKernelGp model(SmallOptions());
  ASSERT_TRUE(model.Pretrain(RelatedSources(5, 120, 7)).ok());
  ASSERT_TRUE(model.Adapt(Eigen::MatrixXd(0, 3), Eigen::VectorXd(0)).ok());
  Rng rng = MakeRng(22, 3);
  const Eigen::MatrixXd xt = Points(300, 3, rng);
  const Eigen::VectorXd yt = Related(xt, 1.3, 7.0, -0.03);
  const Prediction p = model.Predict(xt);
  EXPECT_GT(SpearmanRho(p.mean, yt), 0.8);
  EXPECT_TRUE((p.variance.array() > 0).all());
}

TEST(DeepKernelGp, PriorStrengthInterpolatesBetweenPretrainedAndFreeFit) {
  Rng rng = MakeRng(23, 3);
  DkgpTask target;
  target.x = Points(30, 3, rng);
  // A target that differs from the sources: the free fit must move the parameters.
  target.y = Related(target.x, -0.7, 1.0, 0.5);
  std::vector<double> distance, fit;
  for (double precision : {1e6, 1e1, 1e-4}) {
    DkgpOptions o = SmallOptions();
    o.prior_precisions = {precision};
    o.adapt_iterations = 300;   // converged fits, so the likelihoods compare
    o.source_residual = false;  // LogObjective scores the mean head alone
    DeepKernelGp model(o);
    ASSERT_TRUE(model.Pretrain(RelatedSources(4, 80, 7)).ok());
    ASSERT_TRUE(model.Adapt(target.x, target.y).ok());
    EXPECT_EQ(model.adapt_summary().prior_precision, precision);
    // The network and mean-head weights carry the prior (the last four are the head's bias and
    // the hyperparameters).
    const int nw = model.num_params() - 4;
    distance.push_back((model.params() - model.pretrained_params()).head(nw).norm());
    // The target likelihood alone (no prior: a vanishing precision).
    fit.push_back(model.LogObjective({target}, model.params(), model.params(), 1e-12, nullptr));
  }
  EXPECT_LT(distance[0], 0.05) << distance[0];
  EXPECT_LT(distance[0], distance[1]);
  EXPECT_LT(distance[1], distance[2]);
  // Both weaker priors fit the target better than the (nearly) frozen pretrained model. (Between
  // the two weaker ones L-BFGS may stop in different local optima, so no order is asserted.)
  EXPECT_LT(fit[0], fit[1]);
  EXPECT_LT(fit[0], fit[2]);
}

TEST(DeepKernelGp, CrossValidationScoresEveryCandidate) {
  DkgpOptions o = SmallOptions();
  o.prior_precisions = {1e3, 1.0, 1e-3};
  DeepKernelGp model(o);
  ASSERT_TRUE(model.Pretrain(RelatedSources(4, 80, 7)).ok());
  Rng rng = MakeRng(24, 3);
  DkgpTask target;
  target.x = Points(4, 3, rng);
  target.y = Related(target.x, 1.0, 0.0, 0.0);
  ASSERT_TRUE(model.Adapt(target.x, target.y).ok());  // below min_cv_samples: the strongest
  EXPECT_TRUE(model.adapt_summary().cv_scores.empty());
  EXPECT_EQ(model.adapt_summary().prior_precision, 1e3);
  target.x = Points(24, 3, rng);
  target.y = Related(target.x, 1.0, 0.0, 0.0);
  ASSERT_TRUE(model.Adapt(target.x, target.y).ok());
  ASSERT_EQ(model.adapt_summary().cv_scores.size(), 3u);
  for (double s : model.adapt_summary().cv_scores) EXPECT_TRUE(std::isfinite(s));
  const auto& cv = model.adapt_summary().cv_scores;
  const size_t best = static_cast<size_t>(std::max_element(cv.begin(), cv.end()) - cv.begin());
  EXPECT_EQ(model.adapt_summary().prior_precision, o.prior_precisions[best]);
}

TEST(DeepKernelGp, SameSeedSameModel) {
  Rng rng = MakeRng(25, 3);
  DkgpTask target;
  target.x = Points(12, 3, rng);
  target.y = Related(target.x, 1.0, 0.5, 0.1);
  const Eigen::MatrixXd xt = Points(50, 3, rng);
  auto run = [&](uint64_t seed) {
    DkgpOptions o = SmallOptions();
    o.seed = seed;
    o.pretrain_iterations = 60;
    DeepKernelGp model(o);
    EXPECT_TRUE(model.Pretrain(RelatedSources(3, 60, 7)).ok());
    EXPECT_TRUE(model.Adapt(target.x, target.y).ok());
    return model.Predict(xt);
  };
  const Prediction a = run(5), b = run(5), c = run(6);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.variance, b.variance);
  EXPECT_NE(a.mean, c.mean);
}

TEST(DeepKernelGp, ConditionKeepsParametersAndInterpolates) {
  DeepKernelGp model(SmallOptions());
  ASSERT_TRUE(model.Pretrain(RelatedSources(4, 80, 7)).ok());
  Rng rng = MakeRng(26, 3);
  const Eigen::MatrixXd x = Points(20, 3, rng);
  const Eigen::VectorXd y = Related(x, 1.0, 3.0, 0.0);
  ASSERT_TRUE(model.Adapt(x.topRows(10), y.head(10)).ok());
  const Eigen::VectorXd before = model.params();
  ASSERT_TRUE(model.Condition(x, y).ok());
  EXPECT_EQ(model.params(), before);
  EXPECT_EQ(model.num_samples(), 20);
  const Prediction p = model.Predict(x);
  EXPECT_LT((p.mean - y).cwiseAbs().maxCoeff(), 0.5);
}

TEST(DeepKernelGp, SourceWeightsSelectWhichSourceThePriorFollows) {
  // Two sources that disagree: the second is the first upside down. With equal weights the
  // prior mean follows neither; weighted to one, it ranks that source's landscape.
  Rng rng = MakeRng(21, 1);
  std::vector<DkgpTask> sources(2);
  for (int t = 0; t < 2; ++t) {
    sources[t].x = Points(80, 3, rng);
    sources[t].y = (t == 0 ? 1.0 : -1.0) * Related(sources[t].x, 1.0, -4.0, 0.0);
  }
  DkgpOptions o = SmallOptions();
  o.zero_shot_weight = 0.0;
  DeepKernelGp model(o);
  ASSERT_TRUE(model.Pretrain(sources).ok());
  ASSERT_EQ(model.num_sources(), 2);
  const Eigen::MatrixXd x = Points(200, 3, rng);
  const Eigen::VectorXd truth = Related(x, 1.0, -4.0, 0.0);
  const Eigen::MatrixXd views = model.SourcePriorMeans(x);
  ASSERT_EQ(views.cols(), 2);
  EXPECT_GT(SpearmanRho(views.col(0), truth), 0.6);
  EXPECT_LT(SpearmanRho(views.col(1), truth), -0.6);
  ASSERT_TRUE(model.SetSourceWeights({3.0, 0.0}).ok());
  EXPECT_DOUBLE_EQ(model.source_weights()[0], 1.0);
  EXPECT_GT(SpearmanRho(model.PriorMean(x), truth), 0.6);
  ASSERT_TRUE(model.SetSourceWeights({0.0, 1.0}).ok());
  EXPECT_LT(SpearmanRho(model.PriorMean(x), truth), -0.6);
  EXPECT_FALSE(model.SetSourceWeights({1.0}).ok());
  EXPECT_FALSE(model.SetSourceWeights({-1.0, 2.0}).ok());
  EXPECT_FALSE(model.SetSourceWeights({0.0, 0.0}).ok());
}

TEST(DeepKernelGp, ExactSourceValuesAtTheSourcesOwnConfigs) {
  // One source with 400 points; pretraining sees 64 of them and the residual 128. Zero-shot, the
  // mean at any of the source's configs is its measurement (standardized), at others the model's.
  Rng rng = MakeRng(5, 1);
  std::vector<DkgpTask> sources(1);
  sources[0].x = Points(400, 3, rng);
  sources[0].y = Related(sources[0].x, 1.0, -4.0, 0.1);
  DkgpOptions o = SmallOptions();
  o.max_samples_per_task = 64;
  o.residual_samples_per_task = 128;
  DeepKernelGp exact(o);
  ASSERT_TRUE(exact.Pretrain(sources).ok());
  o.exact_source_values = false;
  DeepKernelGp smooth(o);
  ASSERT_TRUE(smooth.Pretrain(sources).ok());
  const double mean = sources[0].y.mean();
  const double sd = std::sqrt((sources[0].y.array() - mean).square().sum() / 399.0);  // n - 1
  const Eigen::VectorXd standardized = (sources[0].y.array() - mean) / sd;
  const Eigen::VectorXd at_exact = exact.PriorMean(sources[0].x);
  const Eigen::VectorXd at_smooth = smooth.PriorMean(sources[0].x);
  EXPECT_LT((at_exact - standardized).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_GT((at_smooth - standardized).cwiseAbs().maxCoeff(), 1e-3);  // smoothed by the GP
  // Away from the source's configs both models agree.
  const Eigen::MatrixXd fresh = Points(50, 3, rng);
  EXPECT_LT((exact.PriorMean(fresh) - smooth.PriorMean(fresh)).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(DeepKernelGp, TaskColumnsReadEachSourceAtItsOwnTask) {
  // Configs on a 15 x 15 grid (columns 0 and 1); the last column is the task. Each source task
  // has a smooth landscape plus its own config-specific detail no smooth network learns (as real
  // kernels have), so only its residual carries it. Sources: tasks 0 and 1; the target rows sit at
  // task 6. With task_columns = 1 each source's residual is read at the config with the source's
  // own task column; without, across the task distance, where it fades.
  Rng rng = MakeRng(9, 1);
  Eigen::MatrixXd grid(225, 3);
  Eigen::MatrixXd detail(225, 2);
  for (int i = 0; i < 225; ++i) {
    grid(i, 0) = -2.0 + 4.0 * (i / 15) / 14.0;
    grid(i, 1) = -2.0 + 4.0 * (i % 15) / 14.0;
    grid(i, 2) = 0;
    detail(i, 0) = StandardNormal(rng);
    detail(i, 1) = StandardNormal(rng);
  }
  const Eigen::VectorXd smooth = Related(grid, 0.5, -4.0, 0.0);
  std::vector<DkgpTask> sources(2);
  for (int t = 0; t < 2; ++t) {
    sources[t].x = grid;
    sources[t].x.col(2).setConstant(t);
    sources[t].y = smooth + detail.col(t) + Eigen::VectorXd::Constant(225, 0.5 * t);
  }
  DkgpOptions o = SmallOptions();
  o.exact_source_values = false;  // the GP residual itself, not the stored measurements
  o.task_columns = 1;
  DeepKernelGp own(o);
  ASSERT_TRUE(own.Pretrain(sources).ok());
  o.task_columns = 0;
  DeepKernelGp across(o);
  ASSERT_TRUE(across.Pretrain(sources).ok());
  Eigen::MatrixXd target = grid;
  target.col(2).setConstant(6.0);
  const Eigen::MatrixXd r_own = own.SourceResiduals(target);
  const Eigen::MatrixXd r_across = across.SourceResiduals(target);
  for (int t = 0; t < 2; ++t) {
    // Column t carries source t's detail, not the other source's, and only when read at its task.
    const double mine = SpearmanRho(r_own.col(t), detail.col(t));
    const double other = SpearmanRho(r_own.col(t), detail.col(1 - t));
    const double faded = SpearmanRho(r_across.col(t), detail.col(t));
    std::printf(
        "source %d's residual at task 6, rank correlation with its detail: own task columns %.3f "
        "(other source's detail %.3f), across tasks %.3f\n",
        t, mine, other, faded);
    EXPECT_GT(mine, 0.4);
    EXPECT_LT(std::abs(other), 0.2);
    EXPECT_GT(mine, faded + 0.2);
  }
  // With exact values: at a config the source measured, its view is its own measurement, read at
  // its own task and at the target's alike (no shift by the mean head's change between tasks);
  // the GP part of the residual, elsewhere, does move with the head.
  o.exact_source_values = true;
  o.task_columns = 1;
  DeepKernelGp exact(o);
  ASSERT_TRUE(exact.Pretrain(sources).ok());
  Eigen::MatrixXd off_grid = grid.array() + 0.1;  // configs no source measured
  off_grid.col(2).setConstant(6.0);
  for (int t = 0; t < 2; ++t) {
    Eigen::MatrixXd at_source = grid;
    at_source.col(2).setConstant(t);
    const Eigen::VectorXd y = sources[t].y;
    const double mean = y.mean(),
                 sd = std::sqrt((y.array() - mean).square().sum() / (y.size() - 1.0));
    const Eigen::VectorXd measured = (y.array() - mean) / sd;
    EXPECT_LT((exact.SourcePriorMeans(at_source).col(t) - measured).cwiseAbs().maxCoeff(), 1e-9);
    EXPECT_LT((exact.SourcePriorMeans(target).col(t) - measured).cwiseAbs().maxCoeff(), 1e-9);
    Eigen::MatrixXd off_source = off_grid;
    off_source.col(2).setConstant(t);
    const Eigen::VectorXd head_shift = exact.PriorMean(off_grid) - exact.PriorMean(off_source);
    const Eigen::VectorXd view_shift =
        exact.SourcePriorMeans(off_grid).col(t) - exact.SourcePriorMeans(off_source).col(t);
    EXPECT_GT(head_shift.cwiseAbs().maxCoeff(), 1e-3);
    EXPECT_LT((view_shift - head_shift).cwiseAbs().maxCoeff(), 1e-9);
  }
  // More task columns than inputs, or task columns that vary within a task: clear errors.
  o.task_columns = 4;
  DeepKernelGp bad(o);
  EXPECT_EQ(bad.Pretrain(sources).code(), StatusCode::kInvalidArgument);
  o.task_columns = 1;
  std::vector<DkgpTask> mixed = sources;
  mixed[1].x(7, 2) = 5.0;
  DeepKernelGp bad_task(o);
  EXPECT_EQ(bad_task.Pretrain(mixed).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sonar
