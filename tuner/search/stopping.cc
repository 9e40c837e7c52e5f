// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/stopping.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/check.h"
#include "common/statistics.h"

namespace sonar {

std::vector<double> RunningMax(const std::vector<double>& curve) {
  std::vector<double> out(curve);
  for (size_t i = 1; i < out.size(); ++i) out[i] = std::max(out[i], out[i - 1]);
  return out;
}

std::vector<double> RunningMin(const std::vector<double>& curve) {
  std::vector<double> out(curve);
  for (size_t i = 1; i < out.size(); ++i) out[i] = std::min(out[i], out[i - 1]);
  return out;
}

double AccuracyUpperBound(const std::vector<double>& curve, int full_epochs,
                          const std::vector<std::vector<double>>& peers,
                          const CurveBoundOptions& options) {
  SONAR_CHECK(!curve.empty() && full_epochs >= 1) << "AccuracyUpperBound needs a curve";
  const size_t e = curve.size();
  const double best = *std::max_element(curve.begin(), curve.end());
  if (e >= static_cast<size_t>(full_epochs)) return best;
  std::vector<double> gains;
  for (const std::vector<double>& p : peers) {
    if (p.size() < static_cast<size_t>(full_epochs)) continue;
    const double at_e = *std::max_element(p.begin(), p.begin() + e);
    const double at_full = *std::max_element(p.begin(), p.begin() + full_epochs);
    gains.push_back(at_e >= 1 ? 0.0 : (at_full - at_e) / (1 - at_e));
  }
  if (static_cast<int>(gains.size()) < options.min_peers) return 1.0;
  const double g = std::max(0.0, Quantile(gains, options.quantile));
  return std::clamp(best + (1 - best) * g + options.accuracy_margin, best, 1.0);
}

namespace {

// Ratios c_i(T) / c_i(t) of the peers that qualify.
std::vector<double> PeerRatios(size_t t, int full_trials,
                               const std::vector<std::vector<double>>& peers) {
  std::vector<double> ratios;
  for (const std::vector<double>& p : peers) {
    if (p.size() < static_cast<size_t>(full_trials)) continue;
    const double at_t = *std::min_element(p.begin(), p.begin() + t);
    const double at_full = *std::min_element(p.begin(), p.begin() + full_trials);
    if (!std::isfinite(at_t) || !(at_t > 0)) continue;
    ratios.push_back(at_full / at_t);
  }
  return ratios;
}

}  // namespace

double LatencyLowerBound(const std::vector<double>& best_so_far, int full_trials,
                         const std::vector<std::vector<double>>& peers,
                         const CurveBoundOptions& options) {
  SONAR_CHECK(!best_so_far.empty() && full_trials >= 1) << "LatencyLowerBound needs a curve";
  const double best = *std::min_element(best_so_far.begin(), best_so_far.end());
  if (!std::isfinite(best)) return std::numeric_limits<double>::infinity();
  if (best_so_far.size() >= static_cast<size_t>(full_trials)) return best;
  std::vector<double> ratios = PeerRatios(best_so_far.size(), full_trials, peers);
  if (static_cast<int>(ratios.size()) < options.min_peers) return 0.0;
  return best * std::clamp(Quantile(ratios, 1 - options.quantile), 0.0, 1.0);
}

double ExpectedTuningGain(const std::vector<double>& best_so_far, int full_trials,
                          const std::vector<std::vector<double>>& peers, int window,
                          const CurveBoundOptions& options) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const size_t t = best_so_far.size();
  if (t >= static_cast<size_t>(full_trials)) return 0.0;
  if (t == 0) return kInf;
  const double best = *std::min_element(best_so_far.begin(), best_so_far.end());
  if (!std::isfinite(best)) return kInf;
  std::vector<double> ratios = PeerRatios(t, full_trials, peers);
  if (static_cast<int>(ratios.size()) >= options.min_peers) {
    return best * (1 - std::clamp(Median(ratios), 0.0, 1.0));
  }
  if (window < 1 || t <= static_cast<size_t>(window)) return kInf;
  const double before = *std::min_element(best_so_far.begin(), best_so_far.end() - window);
  if (!std::isfinite(before)) return kInf;        // the first success is in the window
  const double slope = (before - best) / window;  // seconds gained per trial, >= 0
  return std::min(best, slope * static_cast<double>(full_trials - static_cast<int>(t)));
}

}  // namespace sonar
