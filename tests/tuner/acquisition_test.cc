// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/acquisition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <unordered_set>

#include "space/config_space.h"
#include "surrogate/feasibility.h"
#include "tuner/candidate_pool.h"

namespace sonar {
namespace {

Prediction OnePoint(double mean, double variance) {
  Prediction p;
  p.mean = Eigen::VectorXd::Constant(1, mean);
  p.variance = Eigen::VectorXd::Constant(1, variance);
  return p;
}

double Score1(const Prediction& p, double best, AcquisitionKind kind, double lpf = 0) {
  AcquisitionOptions o;
  o.kind = kind;
  Rng rng = MakeRng(1);
  Eigen::VectorXd f = Eigen::VectorXd::Constant(1, lpf);
  return ScoreAcquisition(p, best, o, lpf != 0 ? &f : nullptr, rng)[0];
}

TEST(AcquisitionOptions, DefaultsAreValid) { EXPECT_TRUE(AcquisitionOptions{}.Validate().ok()); }

TEST(AcquisitionOptions, BadValuesAreRejected) {
  AcquisitionOptions o;
  o.xi = -1;
  EXPECT_FALSE(o.Validate().ok());
  o = {};
  o.lcb_beta = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = {};
  o.min_stddev = 0;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(AcquisitionKind, NamesRoundTrip) {
  for (AcquisitionKind k :
       {AcquisitionKind::kLogExpectedImprovement, AcquisitionKind::kExpectedImprovement,
        AcquisitionKind::kProbabilityOfImprovement, AcquisitionKind::kLowerConfidenceBound,
        AcquisitionKind::kThompson}) {
    AcquisitionKind back;
    ASSERT_TRUE(StringToAcquisitionKind(AcquisitionKindToString(k), &back));
    EXPECT_EQ(back, k);
  }
}

TEST(Acquisition, ExpectedImprovementMatchesTheClosedForm) {
  // z = 0: EI = sigma * phi(0).
  EXPECT_NEAR(Score1(OnePoint(0, 1), 0, AcquisitionKind::kExpectedImprovement),
              1 / std::sqrt(2 * M_PI), 1e-12);
  // mu = 1, sigma = 2, best = 0: z = -0.5, EI = 2 (phi(-0.5) - 0.5 Phi(-0.5)).
  const double z = -0.5;
  const double phi = std::exp(-z * z / 2) / std::sqrt(2 * M_PI);
  const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
  EXPECT_NEAR(Score1(OnePoint(1, 4), 0, AcquisitionKind::kExpectedImprovement), 2 * (phi + z * cdf),
              1e-12);
  // Far below the best: EI -> best - mu.
  EXPECT_NEAR(Score1(OnePoint(-10, 1e-4), 0, AcquisitionKind::kExpectedImprovement), 10, 1e-9);
}

TEST(Acquisition, LogExpectedImprovementIsTheLogOfEiWhereEiIsRepresentable) {
  for (double z = -35; z <= 6; z += 0.25) {
    const double ei = Score1(OnePoint(-z, 1), 0, AcquisitionKind::kExpectedImprovement);
    ASSERT_GT(ei, 0) << z;
    const double log_ei = Score1(OnePoint(-z, 1), 0, AcquisitionKind::kLogExpectedImprovement);
    EXPECT_NEAR(log_ei, std::log(ei), 1e-9 * std::max(1.0, std::abs(std::log(ei)))) << "z=" << z;
  }
}

TEST(Acquisition, LogExpectedImprovementStaysFiniteAndMonotoneWhereEiUnderflows) {
  EXPECT_EQ(Score1(OnePoint(60, 1), 0, AcquisitionKind::kExpectedImprovement), 0.0);
  double previous = -std::numeric_limits<double>::infinity();
  for (double z : {-1e6, -1e4, -300.0, -60.0, -40.0, -37.5, -36.5, -20.0, -1.0, -0.5}) {
    const double v = LogExpectedImprovementOfZ(z);
    ASSERT_TRUE(std::isfinite(v)) << z;
    EXPECT_GT(v, previous) << z;
    previous = v;
  }
  // Asymptote: -z^2/2 - log(sqrt(2 pi)) - 2 log|z|.
  const double z = -1e4;
  EXPECT_NEAR(LogExpectedImprovementOfZ(z),
              -z * z / 2 - 0.5 * std::log(2 * M_PI) - 2 * std::log(-z), 1e-6);
  // Continuity across the branch points.
  for (double b : {-1.0, -37.0}) {
    EXPECT_NEAR(LogExpectedImprovementOfZ(b - 1e-9), LogExpectedImprovementOfZ(b + 1e-9), 1e-6);
  }
}

TEST(Acquisition, ProbabilityOfImprovementIsLogPhiAndFiniteInTheTail) {
  EXPECT_NEAR(Score1(OnePoint(0, 1), 0, AcquisitionKind::kProbabilityOfImprovement), std::log(0.5),
              1e-12);
  EXPECT_NEAR(LogNormalCdf(-3), std::log(0.5 * std::erfc(3 / std::sqrt(2.0))), 1e-12);
  EXPECT_NEAR(LogNormalCdf(-6), std::log(0.5 * std::erfc(6 / std::sqrt(2.0))), 1e-10);
  const double tail = LogNormalCdf(-100);
  EXPECT_TRUE(std::isfinite(tail));
  EXPECT_NEAR(tail, -5000 - std::log(100) - 0.5 * std::log(2 * M_PI), 1e-3);
}

TEST(Acquisition, LowerConfidenceBoundAndThompson) {
  EXPECT_NEAR(Score1(OnePoint(1, 4), 0, AcquisitionKind::kLowerConfidenceBound), -(1 - 2 * 2),
              1e-12);
  // Thompson draws from N(mu, sigma^2): the mean of many draws is -mu.
  Prediction p;
  p.mean = Eigen::VectorXd::Constant(20000, 3.0);
  p.variance = Eigen::VectorXd::Constant(20000, 1.0);
  AcquisitionOptions o;
  o.kind = AcquisitionKind::kThompson;
  Rng rng = MakeRng(3);
  const Eigen::VectorXd s = ScoreAcquisition(p, 0, o, nullptr, rng);
  EXPECT_NEAR(s.mean(), -3.0, 0.05);
  Rng rng2 = MakeRng(3);
  EXPECT_EQ(ScoreAcquisition(p, 0, o, nullptr, rng2), s);  // seeded
}

TEST(Acquisition, FeasibilityWeightsTheScore) {
  const Prediction p = OnePoint(0, 1);
  const double lpf = std::log(0.5);
  EXPECT_NEAR(Score1(p, 0, AcquisitionKind::kLogExpectedImprovement, lpf),
              Score1(p, 0, AcquisitionKind::kLogExpectedImprovement) + lpf, 1e-12);
  EXPECT_NEAR(Score1(p, 0, AcquisitionKind::kExpectedImprovement, lpf),
              0.5 * Score1(p, 0, AcquisitionKind::kExpectedImprovement), 1e-12);
  EXPECT_NEAR(Score1(p, 0, AcquisitionKind::kLowerConfidenceBound, lpf),
              Score1(p, 0, AcquisitionKind::kLowerConfidenceBound), 1e-12);
  // Below min_feasibility (0.5 by default) every kind ranks after the feasible candidates.
  for (AcquisitionKind k :
       {AcquisitionKind::kLogExpectedImprovement, AcquisitionKind::kExpectedImprovement,
        AcquisitionKind::kProbabilityOfImprovement, AcquisitionKind::kLowerConfidenceBound,
        AcquisitionKind::kThompson}) {
    EXPECT_LT(Score1(p, 0, k, std::log(0.4)), -1e5) << AcquisitionKindToString(k);
  }
}

TEST(Acquisition, LocalPenaltyIsSmallNearThePendingPointAndVanishesFarAway) {
  Eigen::VectorXd d(4);
  d << 0, 0.1, 1, 10;
  const Eigen::VectorXd pen = LogLocalPenalty(d, /*mu_j=*/1.0, /*sigma_j=*/0.1, /*best_y=*/0.0,
                                              /*lipschitz=*/5.0);
  EXPECT_LT(pen[0], std::log(0.01));
  EXPECT_LT(pen[0], pen[1]);
  EXPECT_LT(pen[1], pen[2]);
  EXPECT_NEAR(pen[3], 0, 1e-12);
  EXPECT_LE(pen.maxCoeff(), 0);
}

ConfigSpace Grid2d(int n) {
  return ConfigSpace::Make({IntKnob("a", 0, n - 1), IntKnob("b", 0, n - 1)}).value();
}

TEST(CandidatePoolOptions, DefaultsAreValid) {
  EXPECT_TRUE(CandidatePoolOptions{}.Validate().ok());
}

TEST(CandidatePool, EnumeratesASmallListedSpaceExactly) {
  std::vector<Config> members;
  for (int a = 0; a < 10; ++a) {
    for (int b = 0; b < 10; ++b) {
      if ((a + b) % 3 == 0) members.push_back(Config{{a, b}});
    }
  }
  const ConfigSpace space =
      ConfigSpace::MakeListed({IntKnob("a", 0, 9), IntKnob("b", 0, 9)}, members).value();
  std::unordered_set<Config, ConfigHash> visited = {members[0], members[5]};
  AcquisitionFn score = [](const std::vector<Config>& c) {
    Eigen::VectorXd s(static_cast<Eigen::Index>(c.size()));
    for (size_t i = 0; i < c.size(); ++i) {
      s[static_cast<Eigen::Index>(i)] =
          -std::abs(c[i].choice[0] - 7) - std::abs(c[i].choice[1] - 2);
    }
    return s;
  };
  Rng rng = MakeRng(0);
  const ScoredPool pool = MaximizeAcquisition(space, score, {}, visited, {}, rng);
  EXPECT_EQ(pool.configs.size(), members.size() - 2);
  ASSERT_GE(pool.best, 0);
  EXPECT_EQ(pool.configs[static_cast<size_t>(pool.best)], (Config{{7, 2}}));
}

TEST(CandidatePool, NeverEnumeratesALargeSpaceAndAnnealsTowardTheOptimum) {
  // 10^12 configs; the score peaks at (a, b) = (654321, 123456).
  const ConfigSpace space = Grid2d(1000000);
  AcquisitionFn score = [](const std::vector<Config>& c) {
    Eigen::VectorXd s(static_cast<Eigen::Index>(c.size()));
    for (size_t i = 0; i < c.size(); ++i) {
      s[static_cast<Eigen::Index>(i)] =
          -std::abs(c[i].choice[0] - 654321.0) - std::abs(c[i].choice[1] - 123456.0);
    }
    return s;
  };
  const Config incumbent{{654300, 123400}};
  std::unordered_set<Config, ConfigHash> visited = {incumbent};
  CandidatePoolOptions o;
  o.num_random = 100;
  o.sa_steps = 30;
  Rng rng = MakeRng(2);
  const ScoredPool pool = MaximizeAcquisition(space, score, {incumbent}, visited, o, rng);
  EXPECT_LE(pool.configs.size(), static_cast<size_t>(100 + o.max_neighbors + o.sa_chains * 30));
  std::unordered_set<Config, ConfigHash> distinct(pool.configs.begin(), pool.configs.end());
  EXPECT_EQ(distinct.size(), pool.configs.size());
  EXPECT_FALSE(distinct.count(incumbent));
  // Better than the incumbent (score -77): neighbours and annealing moved toward the peak.
  EXPECT_GT(pool.scores[pool.best], -77);
  EXPECT_EQ(pool.scores.size(), static_cast<Eigen::Index>(pool.configs.size()));
}

TEST(FeasibilityModel, LearnsAHalfSpaceOfFailures) {
  // Fails when a + b > 12 on a 16 x 16 grid.
  Rng rng = MakeRng(4);
  const int n = 120;
  Eigen::MatrixXd x(n, 2);
  Eigen::VectorXd f(n);
  for (int i = 0; i < n; ++i) {
    x(i, 0) = static_cast<double>(UniformInt(rng, 0, 15));
    x(i, 1) = static_cast<double>(UniformInt(rng, 0, 15));
    f[i] = x(i, 0) + x(i, 1) > 12 ? 0 : 1;
  }
  FeasibilityModel model;
  ASSERT_TRUE(model.Fit(x, f).ok());
  Eigen::MatrixXd q(2, 2);
  q << 2, 3, 14, 13;
  const Eigen::VectorXd lp = model.LogProbability(q);
  EXPECT_GT(std::exp(lp[0]), 0.9);
  EXPECT_LT(std::exp(lp[1]), 0.05);
  // All feasible: probability one everywhere.
  FeasibilityModel all;
  ASSERT_TRUE(all.Fit(x, Eigen::VectorXd::Ones(n)).ok());
  EXPECT_EQ(all.LogProbability(q).maxCoeff(), 0.0);
  EXPECT_FALSE(model.Fit(x, Eigen::VectorXd::Ones(3)).ok());
}

}  // namespace
}  // namespace sonar
