// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of GaussianProcess: interpolation, variance, analytic gradients against finite
// differences, hyperparameter recovery from GP draws, robustness (duplicates, constant and
// extreme targets), AddSamples vs refit, subset of data beyond max_exact_samples, save/load,
// determinism. Sizes are small: the whole file runs in a few seconds.
#include "surrogate/gaussian_process.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/random.h"
#include "surrogate/kernels.h"

namespace sonar {
namespace {

Eigen::MatrixXd UniformPoints(int n, int d, Rng& rng) {
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) x(i, j) = UniformDouble(rng);
  }
  return x;
}

double Normal(Rng& rng) {
  double u1 = UniformDouble(rng);
  while (u1 <= 0) u1 = UniformDouble(rng);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * UniformDouble(rng));
}

Eigen::VectorXd Smooth(const Eigen::MatrixXd& x) {
  Eigen::VectorXd y(x.rows());
  for (int i = 0; i < x.rows(); ++i) {
    y(i) = std::sin(3 * x(i, 0)) + 0.5 * std::cos(4 * x(i, 1 % x.cols()));
  }
  return y;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("sonar_gp_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

bool AllFinite(const Prediction& p) { return p.mean.allFinite() && p.variance.allFinite(); }

TEST(GpOptions, DefaultsAreValid) { EXPECT_TRUE(GpOptions().Validate().ok()); }

TEST(GpOptions, RejectsBadValues) {
  GpOptions o;
  o.restarts = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = GpOptions();
  o.max_jitter = o.initial_jitter / 10;
  EXPECT_FALSE(o.Validate().ok());
  o = GpOptions();
  o.subset_best_fraction = 1.5;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(GaussianProcess, FitRejectsMismatchedAndNonFiniteInput) {
  GaussianProcess gp;
  EXPECT_FALSE(gp.Fit(Eigen::MatrixXd(3, 2), Eigen::VectorXd(2)).ok());
  EXPECT_FALSE(gp.Fit(Eigen::MatrixXd(0, 2), Eigen::VectorXd(0)).ok());
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(3, 2);
  Eigen::VectorXd y = Eigen::VectorXd::Zero(3);
  y(1) = std::nan("");
  EXPECT_FALSE(gp.Fit(x, y).ok());
}

TEST(GaussianProcess, InterpolatesNoiseFreeData) {
  for (GpKernel kernel : {GpKernel::kMatern52, GpKernel::kRbf}) {
    Rng rng = MakeRng(1);
    const Eigen::MatrixXd x = UniformPoints(40, 2, rng);
    const Eigen::VectorXd y = Smooth(x);
    GpOptions o;
    o.kernel = kernel;
    o.noise_prior_mean = -14;  // noise-free data
    o.noise_prior_sd = 0.5;
    o.min_noise_variance = 1e-10;
    GaussianProcess gp(o);
    ASSERT_TRUE(gp.Fit(x, y).ok());
    const Prediction p = gp.Predict(x);
    EXPECT_LT((p.mean - y).cwiseAbs().maxCoeff(), 1e-3)
        << (kernel == GpKernel::kRbf ? "rbf" : "m52");
  }
}

TEST(GaussianProcess, PredictiveVarianceSmallAtObservedPointsAndLargeFarAway) {
  Rng rng = MakeRng(2);
  const Eigen::MatrixXd x = UniformPoints(30, 2, rng);
  const Eigen::VectorXd y = Smooth(x);
  GaussianProcess gp;
  ASSERT_TRUE(gp.Fit(x, y).ok());
  const Prediction at = gp.Predict(x);
  Eigen::MatrixXd far(2, 2);
  far << 50, 50, -40, 60;
  const Prediction away = gp.Predict(far);
  EXPECT_LT(at.variance.maxCoeff(), 0.05 * gp.signal_variance());
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(away.variance(i), gp.signal_variance(), 1e-6 * gp.signal_variance());
  EXPECT_GT(away.variance.minCoeff(), 20 * at.variance.maxCoeff());
  EXPECT_TRUE((at.variance.array() >= 0).all());
}

// Central differences of the log marginal likelihood and log posterior at random points,
// both kernels, ARD on and off.
TEST(GaussianProcess, AnalyticGradientMatchesFiniteDifferences) {
  Rng rng = MakeRng(3);
  const Eigen::MatrixXd x = UniformPoints(130, 3, rng);  // > the 96-row base block
  Eigen::VectorXd y = Smooth(x);
  for (int i = 0; i < y.size(); ++i) y(i) += 0.1 * Normal(rng);
  for (GpKernel kernel : {GpKernel::kMatern52, GpKernel::kRbf}) {
    for (bool ard : {true, false}) {
      GpOptions o;
      o.kernel = kernel;
      o.ard = ard;
      o.restarts = 1;
      o.max_iterations = 5;
      GaussianProcess gp(o);
      ASSERT_TRUE(gp.Fit(x, y).ok());
      const int np = static_cast<int>(gp.log_params().size());
      ASSERT_EQ(np, (ard ? 3 : 1) + 3);
      for (int trial = 0; trial < 3; ++trial) {
        Eigen::VectorXd p(np);
        for (int i = 0; i < np - 3; ++i) p(i) = -2.0 + 2.5 * UniformDouble(rng);
        p(np - 3) = -1.0 + 2.0 * UniformDouble(rng);
        p(np - 2) = -5.0 + 3.0 * UniformDouble(rng);
        p(np - 1) = -0.5 + UniformDouble(rng);
        for (bool posterior : {false, true}) {
          auto f = [&](const Eigen::VectorXd& q, Eigen::VectorXd* g) {
            return posterior ? gp.LogPosterior(q, g) : gp.LogMarginalLikelihood(q, g);
          };
          Eigen::VectorXd grad;
          const double value = f(p, &grad);
          ASSERT_TRUE(std::isfinite(value));
          ASSERT_EQ(grad.size(), np);
          for (int i = 0; i < np; ++i) {
            const double h = 1e-5;
            Eigen::VectorXd a = p, b = p;
            a(i) += h;
            b(i) -= h;
            const double fd = (f(a, nullptr) - f(b, nullptr)) / (2 * h);
            EXPECT_NEAR(grad(i), fd, 1e-5 * std::max(1.0, std::abs(fd)))
                << "param " << i << " kernel " << static_cast<int>(kernel) << " ard " << ard
                << " posterior " << posterior;
          }
        }
      }
    }
  }
}

// The blocked triangular routines of the gradient, at a size that exercises the recursion.
TEST(GpKernels, BlockedTriangularInverseAndProductMatchEigen) {
  Rng rng = MakeRng(15);
  const Eigen::MatrixXd a = UniformPoints(300, 300, rng);
  const Eigen::MatrixXd spd = a * a.transpose() + 300 * Eigen::MatrixXd::Identity(300, 300);
  const Eigen::MatrixXd l = spd.llt().matrixL();
  Eigen::MatrixXd inv = l;
  internal::InvertLowerTriangular(inv);
  const Eigen::MatrixXd inv_lower = inv.triangularView<Eigen::Lower>();
  EXPECT_LT((inv_lower * l - Eigen::MatrixXd::Identity(300, 300)).cwiseAbs().maxCoeff(), 1e-10);
  internal::LowerTransposeTimesLower(inv);
  const Eigen::MatrixXd expected = spd.inverse();
  const Eigen::MatrixXd got = inv.triangularView<Eigen::Lower>();
  const Eigen::MatrixXd want = expected.triangularView<Eigen::Lower>();
  EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-10 * expected.cwiseAbs().maxCoeff());
}

// Draws y from a GP with lengthscale 0.2 (RBF) and noise variance 0.01 on [0,1]^2, then fits
// with weak priors and compares.
TEST(GaussianProcess, RecoversKnownHyperparametersFromGpDraws) {
  Rng rng = MakeRng(4);
  const int n = 300;
  const Eigen::MatrixXd x = UniformPoints(n, 2, rng);
  const double true_ls = 0.2, true_noise = 0.01;
  Eigen::MatrixXd k;
  const Eigen::MatrixXd z = internal::ScaleByLengthscales(x, Eigen::VectorXd::Constant(1, true_ls));
  internal::SquaredDistances(z, z, &k);
  internal::ApplyKernel(GpKernel::kRbf, 1.0, &k, nullptr);
  k.diagonal().array() += 1e-8;
  const Eigen::MatrixXd l = k.llt().matrixL();
  Eigen::VectorXd e(n), u(n);
  for (int i = 0; i < n; ++i) e(i) = Normal(rng);
  for (int i = 0; i < n; ++i) u(i) = Normal(rng);
  const Eigen::VectorXd y = l * e + std::sqrt(true_noise) * u;

  GpOptions o;
  o.kernel = GpKernel::kRbf;
  o.normalize_inputs = false;
  o.lengthscale_prior_sd = 3;
  o.signal_prior_sd = 3;
  o.noise_prior_sd = 3;
  GaussianProcess gp(o);
  ASSERT_TRUE(gp.Fit(x, y).ok());
  const Eigen::VectorXd ls = gp.lengthscales();
  for (int j = 0; j < 2; ++j) {
    EXPECT_GT(ls(j), true_ls / 1.5);
    EXPECT_LT(ls(j), true_ls * 1.5);
  }
  EXPECT_GT(gp.noise_variance(), true_noise / 2);
  EXPECT_LT(gp.noise_variance(), true_noise * 2);
}

TEST(GaussianProcess, NoNanWithDuplicateInputs) {
  Rng rng = MakeRng(5);
  Eigen::MatrixXd x = UniformPoints(20, 3, rng);
  Eigen::MatrixXd dup(60, 3);
  dup << x, x, x;  // every point three times
  Eigen::VectorXd y(60);
  for (int i = 0; i < 60; ++i) y(i) = Smooth(dup.row(i))(0) + 0.01 * Normal(rng);
  for (GpKernel kernel : {GpKernel::kMatern52, GpKernel::kRbf}) {
    GpOptions o;
    o.kernel = kernel;
    o.min_noise_variance = 1e-12;
    o.noise_prior_mean = -20;  // pushes towards a singular kernel matrix
    o.noise_prior_sd = 0.1;
    GaussianProcess gp(o);
    ASSERT_TRUE(gp.Fit(dup, y).ok());
    EXPECT_TRUE(AllFinite(gp.Predict(UniformPoints(10, 3, rng))));
    ASSERT_TRUE(gp.AddSamples(x.topRows(5), y.head(5)).ok());
    EXPECT_TRUE(AllFinite(gp.Predict(x)));
  }
}

TEST(GaussianProcess, NoNanWithConstantTargets) {
  Rng rng = MakeRng(6);
  const Eigen::MatrixXd x = UniformPoints(15, 2, rng);
  for (double c : {0.0, -3.5, 1e3}) {
    GaussianProcess gp;
    ASSERT_TRUE(gp.Fit(x, Eigen::VectorXd::Constant(15, c)).ok());
    const Prediction p = gp.Predict(UniformPoints(5, 2, rng));
    ASSERT_TRUE(AllFinite(p));
    EXPECT_NEAR(p.mean(0), c, 1e-6 * std::max(1.0, std::abs(c)));
  }
  // One observation; constant inputs.
  GaussianProcess one;
  ASSERT_TRUE(one.Fit(Eigen::MatrixXd::Ones(1, 2), Eigen::VectorXd::Constant(1, 2.0)).ok());
  EXPECT_TRUE(AllFinite(one.Predict(x)));
}

TEST(GaussianProcess, NoNanWithTargetsSpanningFifteenDecades) {
  Rng rng = MakeRng(7);
  const int n = 40;
  const Eigen::MatrixXd x = UniformPoints(n, 3, rng);
  Eigen::VectorXd raw(n);
  for (int i = 0; i < n; ++i) raw(i) = std::pow(10.0, -12.0 + 15.0 * i / (n - 1));  // 1e-12 .. 1e3
  for (const Eigen::VectorXd& y : {Eigen::VectorXd(raw), Eigen::VectorXd(raw.array().log())}) {
    GaussianProcess gp;
    ASSERT_TRUE(gp.Fit(x, y).ok());
    const Prediction p = gp.Predict(UniformPoints(20, 3, rng));
    EXPECT_TRUE(AllFinite(p));
    EXPECT_TRUE((p.variance.array() >= 0).all());
    EXPECT_TRUE(std::isfinite(gp.NegativeLogPredictiveDensity(x, y)));
  }
}

TEST(GaussianProcess, AddSamplesEqualsRefitWithFixedHyperparameters) {
  Rng rng = MakeRng(8);
  const Eigen::MatrixXd x = UniformPoints(60, 3, rng);
  Eigen::VectorXd y = Smooth(x);
  for (int i = 0; i < y.size(); ++i) y(i) += 0.05 * Normal(rng);
  const Eigen::MatrixXd test = UniformPoints(30, 3, rng);
  GpOptions o;
  o.restarts = 2;
  GaussianProcess incremental(o), refit(o);
  ASSERT_TRUE(incremental.Fit(x.topRows(40), y.head(40)).ok());
  ASSERT_TRUE(refit.Fit(x.topRows(40), y.head(40)).ok());
  ASSERT_TRUE(incremental.AddSamples(x.middleRows(40, 7), y.segment(40, 7)).ok());
  ASSERT_TRUE(incremental.AddSamples(x.bottomRows(13), y.tail(13)).ok());
  ASSERT_TRUE(refit.Condition(x, y).ok());
  EXPECT_EQ(incremental.num_samples(), 60);
  EXPECT_EQ(incremental.log_params(), refit.log_params());
  const Prediction a = incremental.Predict(test), b = refit.Predict(test);
  EXPECT_LT((a.mean - b.mean).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_LT((a.variance - b.variance).cwiseAbs().maxCoeff(), 1e-8);
}

TEST(GaussianProcess, SubsetOfDataEngagesBeyondMaxExactSamples) {
  Rng rng = MakeRng(9);
  const Eigen::MatrixXd x = UniformPoints(150, 2, rng);
  const Eigen::VectorXd y = Smooth(x);
  GpOptions o;
  o.max_exact_samples = 100;
  o.subset_best_fraction = 0.3;
  o.max_fit_samples = 60;
  o.restarts = 2;
  GaussianProcess gp(o);
  ASSERT_TRUE(gp.Fit(x, y).ok());
  EXPECT_TRUE(gp.uses_subset());
  EXPECT_EQ(gp.num_samples(), 100);
  EXPECT_EQ(gp.num_observed(), 150);
  EXPECT_EQ(gp.fit_summary().num_fit_samples, 60);
  // The best observation is kept: the model reproduces it closely.
  int best = 0;
  y.minCoeff(&best);
  EXPECT_NEAR(gp.Predict(x.row(best)).mean(0), y(best), 0.05);
  ASSERT_TRUE(gp.AddSamples(UniformPoints(10, 2, rng), Eigen::VectorXd::Zero(10)).ok());
  EXPECT_EQ(gp.num_samples(), 100);
  EXPECT_EQ(gp.num_observed(), 160);
  // Below the threshold the GP stays exact.
  GaussianProcess exact;
  ASSERT_TRUE(exact.Fit(x, y).ok());
  EXPECT_FALSE(exact.uses_subset());
}

TEST(GaussianProcess, SaveLoadRoundTrips) {
  Rng rng = MakeRng(10);
  const Eigen::MatrixXd x = UniformPoints(30, 3, rng);
  const Eigen::VectorXd y = Smooth(x);
  GpOptions o;
  o.kernel = GpKernel::kRbf;
  GaussianProcess gp(o);
  ASSERT_TRUE(gp.Fit(x * 7.0, y * 3.0).ok());
  const std::string path = TempPath("roundtrip.gp");
  ASSERT_TRUE(gp.Save(path).ok());
  StatusOr<GaussianProcess> loaded = GaussianProcess::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Eigen::MatrixXd test = UniformPoints(10, 3, rng) * 7.0;
  const Prediction a = gp.Predict(test), b = loaded->Predict(test);
  EXPECT_LT((a.mean - b.mean).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_LT((a.variance - b.variance).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_EQ(loaded->options().kernel, GpKernel::kRbf);
  EXPECT_EQ(loaded->log_params(), gp.log_params());
  std::filesystem::remove(path);
}

TEST(GaussianProcess, LoadRejectsMalformedFilesWithAClearStatus) {
  EXPECT_EQ(GaussianProcess::Load(TempPath("does_not_exist")).status().code(),
            StatusCode::kNotFound);
  Rng rng = MakeRng(11);
  GaussianProcess gp;
  ASSERT_TRUE(gp.Fit(UniformPoints(10, 2, rng), Eigen::VectorXd::LinSpaced(10, 0, 1)).ok());
  const std::string path = TempPath("good.gp");
  ASSERT_TRUE(gp.Save(path).ok());
  std::ifstream in(path);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto load_text = [&](const std::string& text) {
    const std::string bad = TempPath("bad.gp");
    std::ofstream(bad) << text;
    StatusOr<GaussianProcess> r = GaussianProcess::Load(bad);
    std::filesystem::remove(bad);
    return r.status();
  };
  EXPECT_FALSE(load_text("").ok());
  EXPECT_FALSE(load_text("hello world\n").ok());
  EXPECT_FALSE(load_text(good.substr(0, good.size() / 2)).ok());  // truncated
  std::string wrong_kernel = good;
  wrong_kernel.replace(wrong_kernel.find("kernel matern52"), 15, "kernel matern99");
  const Status s = load_text(wrong_kernel);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":2:"), std::string::npos) << s.message();  // line number
  std::string nan_row = good;
  nan_row.replace(nan_row.find("log_params ") + 11, 1, "nan ");
  EXPECT_FALSE(load_text(nan_row).ok());
  EXPECT_TRUE(load_text(good).ok());
  std::filesystem::remove(path);
}

TEST(GaussianProcess, SameSeedGivesTheSameFit) {
  Rng rng = MakeRng(12);
  const Eigen::MatrixXd x = UniformPoints(50, 4, rng);
  const Eigen::VectorXd y = Smooth(x);
  GpOptions o;
  o.seed = 42;
  GaussianProcess a(o), b(o);
  o.num_threads = 2;  // threads do not change the result
  GaussianProcess c(o);
  ASSERT_TRUE(a.Fit(x, y).ok());
  ASSERT_TRUE(b.Fit(x, y).ok());
  ASSERT_TRUE(c.Fit(x, y).ok());
  EXPECT_EQ(a.log_params(), b.log_params());
  EXPECT_EQ(a.log_params(), c.log_params());
  const Eigen::MatrixXd test = UniformPoints(5, 4, rng);
  EXPECT_EQ(a.Predict(test).mean, b.Predict(test).mean);
  // Predict's blocks of candidates shared by two threads: the same numbers.
  const Eigen::MatrixXd many = UniformPoints(1000, 4, rng);
  const Prediction pa = a.Predict(many), pc = c.Predict(many);
  EXPECT_EQ(pa.mean, pc.mean);
  EXPECT_EQ(pa.variance, pc.variance);
}

TEST(GaussianProcess, FitImprovesTheLogPosteriorOverTheDefaultStart) {
  Rng rng = MakeRng(13);
  const Eigen::MatrixXd x = UniformPoints(60, 3, rng);
  Eigen::VectorXd y = Smooth(x);
  for (int i = 0; i < y.size(); ++i) y(i) += 0.05 * Normal(rng);
  GpOptions o;
  o.restarts = 3;
  GaussianProcess fitted(o);
  ASSERT_TRUE(fitted.Fit(x, y).ok());
  GpOptions none = o;
  none.max_iterations = 0;
  none.restarts = 1;
  GaussianProcess start(none);
  ASSERT_TRUE(start.Fit(x, y).ok());
  EXPECT_GT(fitted.LogPosterior(fitted.log_params(), nullptr),
            fitted.LogPosterior(start.log_params(), nullptr));
  EXPECT_NE(fitted.fit_summary().BriefReport().find("restarts"), std::string::npos);
}

TEST(GaussianProcess, BatchedPredictionMatchesOnePointAtATime) {
  Rng rng = MakeRng(14);
  const Eigen::MatrixXd x = UniformPoints(40, 2, rng);
  GaussianProcess gp;
  ASSERT_TRUE(gp.Fit(x, Smooth(x)).ok());
  const Eigen::MatrixXd test = UniformPoints(2500, 2, rng);  // many blocks of 256
  const Prediction all = gp.Predict(test);
  // Not bit-identical: the kernel's vectorized exp (packets) and scalar exp (a lone point)
  // differ in the last bits.
  for (int i : {0, 1, 255, 256, 2047, 2048, 2499}) {
    const Prediction one = gp.Predict(test.row(i));
    EXPECT_NEAR(one.mean(0), all.mean(i), 1e-10);
    EXPECT_NEAR(one.variance(0), all.variance(i), 1e-10);
  }
}

}  // namespace
}  // namespace sonar
