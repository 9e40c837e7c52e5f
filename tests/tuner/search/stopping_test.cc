// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/stopping.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace sonar {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A saturating learning curve y(t) = top - (top - start) * exp(-rate (t - 1)), plus noise.
std::vector<double> Saturating(double start, double top, double rate, int epochs,
                               std::mt19937_64& rng, double noise = 0.005) {
  std::normal_distribution<double> n(0, noise);
  std::vector<double> y;
  for (int t = 1; t <= epochs; ++t) {
    y.push_back(std::min(1.0, top - (top - start) * std::exp(-rate * (t - 1)) + n(rng)));
  }
  return y;
}

TEST(Stopping, RunningExtremaAreMonotone) {
  EXPECT_EQ(RunningMax({0.5, 0.4, 0.7, 0.6}), (std::vector<double>{0.5, 0.5, 0.7, 0.7}));
  EXPECT_EQ(RunningMin({kInf, 3, 4, 2}), (std::vector<double>{kInf, 3, 3, 2}));
  EXPECT_TRUE(RunningMax({}).empty());
}

TEST(Stopping, AccuracyBoundIsTrivialWithoutPeersAndExactAtTheFullBudget) {
  const CurveBoundOptions options;
  EXPECT_EQ(AccuracyUpperBound({0.5, 0.7}, 20, {}, options), 1.0);
  EXPECT_EQ(AccuracyUpperBound({0.5, 0.9, 0.8}, 3, {}, options), 0.9);
  // Peers that did not reach the full budget do not count.
  std::vector<std::vector<double>> short_peers(5, std::vector<double>(10, 0.9));
  EXPECT_EQ(AccuracyUpperBound({0.5, 0.7}, 20, short_peers, options), 1.0);
}

TEST(Stopping, AccuracyBoundCoversTheFinalAccuracyOfCurvesLikeThePeers) {
  // Networks whose curves share a shape but not a level: the bound from 10 peers, at epoch 2,
  // must cover the best accuracy that most other networks of the family reach by epoch 20, and
  // must be tighter than the trivial bound.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> top(0.80, 0.98), rate(0.2, 0.5);
  std::vector<std::vector<double>> peers;
  for (int i = 0; i < 10; ++i) peers.push_back(Saturating(0.3, top(rng), rate(rng), 20, rng));
  int covered = 0, trials = 200;
  double mean_bound = 0;
  for (int i = 0; i < trials; ++i) {
    std::vector<double> full = Saturating(0.3, top(rng), rate(rng), 20, rng);
    std::vector<double> seen(full.begin(), full.begin() + 2);
    const double u = AccuracyUpperBound(seen, 20, peers, {});
    const double final_best = *std::max_element(full.begin(), full.end());
    covered += u >= final_best;
    mean_bound += u / trials;
    EXPECT_GE(u, *std::max_element(seen.begin(), seen.end()));
  }
  EXPECT_GE(covered, trials * 8 / 10);
  EXPECT_LT(mean_bound, 0.995);
  // The bound grows with the accuracy reached: a network behind another at the same epoch
  // gets the lower bound, so the front can drop it first.
  std::vector<double> weak = {0.10, 0.15, 0.18};
  std::vector<double> strong = {0.30, 0.50, 0.60};
  EXPECT_LT(AccuracyUpperBound(weak, 20, peers, {}), AccuracyUpperBound(strong, 20, peers, {}));
  EXPECT_LT(AccuracyUpperBound(strong, 20, peers, {}), 1.0);
  // quantile 1 is the most optimistic peer: never below the 0.5 quantile's bound.
  CurveBoundOptions median_options;
  median_options.quantile = 0.5;
  CurveBoundOptions max_options;
  max_options.quantile = 1.0;
  EXPECT_LE(AccuracyUpperBound(weak, 20, peers, median_options),
            AccuracyUpperBound(weak, 20, peers, max_options));
}

// A tuning curve: best-so-far of costs that improve like c_inf * (1 + a / t^0.7).
std::vector<double> TuningCurve(double c_inf, double a, int trials, std::mt19937_64& rng) {
  std::lognormal_distribution<double> noise(0, 0.05);
  std::vector<double> costs;
  for (int t = 1; t <= trials; ++t)
    costs.push_back(c_inf * (1 + a / std::pow(t, 0.7)) * noise(rng));
  return RunningMin(costs);
}

TEST(Stopping, LatencyBoundAndGainFollowThePeers) {
  std::mt19937_64 rng(3);
  std::vector<std::vector<double>> peers;
  for (int i = 0; i < 8; ++i) peers.push_back(TuningCurve(1e-4 * (i + 1), 2.0, 64, rng));
  std::vector<double> curve = TuningCurve(5e-5, 2.0, 64, rng);
  std::vector<double> early(curve.begin(), curve.begin() + 8);
  const double bound = LatencyLowerBound(early, 64, peers, {});
  EXPECT_GT(bound, 0);
  EXPECT_LE(bound, early.back());
  EXPECT_LE(bound, curve.back() * 1.05);  // optimistic: at most the final best (with noise)
  const double gain_early = ExpectedTuningGain(early, 64, peers, 8, {});
  std::vector<double> late(curve.begin(), curve.begin() + 56);
  const double gain_late = ExpectedTuningGain(late, 64, peers, 8, {});
  EXPECT_GT(gain_early, 0);
  EXPECT_GT(gain_early, 3 * gain_late);  // diminishing returns
  EXPECT_EQ(ExpectedTuningGain(curve, 64, peers, 8, {}), 0.0);
  EXPECT_EQ(LatencyLowerBound(curve, 64, peers, {}), curve.back());
}

TEST(Stopping, TuningGainWithoutPeersUsesTheRecentSlope) {
  // Flat for the last 8 trials: no gain forecast; still falling: a positive one, capped at the
  // current best.
  std::vector<double> flat = {kInf, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3};
  EXPECT_EQ(ExpectedTuningGain(flat, 64, {}, 8, {}), 0.0);
  std::vector<double> falling = {10, 9, 8, 7, 6, 5, 4, 3.5, 3.2, 3.0};
  const double g = ExpectedTuningGain(falling, 64, {}, 4, {});
  EXPECT_NEAR(g, 3.0, 1e-12);  // slope (5 - 3) / 4 * 54 trials left = 27, capped at 3
  std::vector<double> slow = {10, 9.9, 9.8, 9.7, 9.6, 9.5, 9.4, 9.3, 9.2, 9.1};
  EXPECT_NEAR(ExpectedTuningGain(slow, 20, {}, 4, {}), 0.1 * 10, 1e-9);
  // Nothing known yet: keep tuning.
  EXPECT_EQ(ExpectedTuningGain({kInf, kInf}, 64, {}, 4, {}), kInf);
  EXPECT_EQ(ExpectedTuningGain({5, 4}, 64, {}, 4, {}), kInf);
  EXPECT_EQ(ExpectedTuningGain({}, 64, {}, 4, {}), kInf);
  EXPECT_EQ(LatencyLowerBound({kInf}, 64, {}, {}), kInf);
  EXPECT_EQ(LatencyLowerBound({5, 4}, 64, {}, {}), 0.0);
}

}  // namespace
}  // namespace sonar
