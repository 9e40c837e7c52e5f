// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/candidate_pool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace sonar {

Status CandidatePoolOptions::Validate() const {
  if (num_random < 0 || num_incumbents < 0 || max_neighbors < 0 || sa_chains < 0 || sa_steps < 0) {
    return InvalidArgumentError(
        "CandidatePoolOptions: num_random, num_incumbents, max_neighbors, sa_chains and sa_steps "
        "must be >= 0");
  }
  if (neighbor_knobs < 1 || neighbor_knobs > 2) {
    return InvalidArgumentError("CandidatePoolOptions::neighbor_knobs must be 1 or 2");
  }
  return OkStatus();
}

ScoredPool MaximizeAcquisition(const ConfigSpace& space, const AcquisitionFn& score,
                               const std::vector<Config>& incumbents,
                               const std::unordered_set<Config, ConfigHash>& visited,
                               const CandidatePoolOptions& options, Rng& rng) {
  ScoredPool pool;
  std::unordered_set<Config, ConfigHash> in_pool;
  auto add = [&](const Config& c) {
    if (visited.count(c) || in_pool.count(c)) return false;
    in_pool.insert(c);
    pool.configs.push_back(c);
    return true;
  };
  const bool enumerate = space.is_listed() && space.size() <= options.enumerate_limit;
  if (enumerate) {
    for (const Config& c : space.members()) {
      if (!visited.count(c) && space.Satisfies(c)) add(c);
    }
  } else {
    int misses = 0;
    while (static_cast<int>(pool.configs.size()) < options.num_random &&
           misses < 4 * options.num_random + 16) {
      StatusOr<Config> c = space.Sample(rng);
      if (!c.ok()) break;
      if (!add(*c)) ++misses;
    }
    const int k = std::min<int>(options.num_incumbents, static_cast<int>(incumbents.size()));
    for (int i = 0; i < k; ++i) {
      std::vector<Config> nb = space.Neighbors(incumbents[i], options.neighbor_knobs);
      if (static_cast<int>(nb.size()) > options.max_neighbors) {
        // A deterministic random subset: partial Fisher-Yates.
        for (int j = 0; j < options.max_neighbors; ++j) {
          const int64_t r = UniformInt(rng, j, static_cast<int64_t>(nb.size()) - 1);
          std::swap(nb[static_cast<size_t>(j)], nb[static_cast<size_t>(r)]);
        }
        nb.resize(static_cast<size_t>(options.max_neighbors));
      }
      for (const Config& c : nb) add(c);
    }
  }
  if (pool.configs.empty()) return pool;
  pool.scores = score(pool.configs);

  if (!enumerate && options.sa_chains > 0 && options.sa_steps > 0) {
    // Chains start at the best distinct pool members.
    std::vector<int> order(pool.configs.size());
    std::iota(order.begin(), order.end(), 0);
    const int chains = std::min<int>(options.sa_chains, static_cast<int>(order.size()));
    std::partial_sort(order.begin(), order.begin() + chains, order.end(),
                      [&](int a, int b) { return pool.scores[a] > pool.scores[b]; });
    std::vector<Config> at;
    std::vector<double> at_score;
    for (int i = 0; i < chains; ++i) {
      at.push_back(pool.configs[static_cast<size_t>(order[static_cast<size_t>(i)])]);
      at_score.push_back(pool.scores[order[static_cast<size_t>(i)]]);
    }
    // Temperature: a tenth of the spread between the best and the median finite score, cooling
    // linearly to zero.
    std::vector<double> finite;
    for (Eigen::Index i = 0; i < pool.scores.size(); ++i) {
      if (std::isfinite(pool.scores[i])) finite.push_back(pool.scores[i]);
    }
    double t0 = 1.0;
    if (!finite.empty()) {
      std::nth_element(finite.begin(), finite.begin() + finite.size() / 2, finite.end());
      const double median = finite[finite.size() / 2];
      const double top = *std::max_element(finite.begin(), finite.end());
      t0 = std::max(0.1 * (top - median), 1e-6);
    }
    std::vector<Config> next(at.size());
    std::vector<Config> extra;
    std::vector<double> extra_scores;
    for (int step = 0; step < options.sa_steps; ++step) {
      const double t = t0 * (1.0 - static_cast<double>(step) / options.sa_steps);
      for (size_t i = 0; i < at.size(); ++i) {
        std::optional<Config> c = space.RandomNeighbor(at[i], rng);
        next[i] = c ? std::move(*c) : at[i];
      }
      const Eigen::VectorXd s = score(next);
      for (size_t i = 0; i < at.size(); ++i) {
        const double ns = s[static_cast<Eigen::Index>(i)];
        if (!std::isfinite(ns)) continue;
        const double delta = ns - at_score[i];
        if (delta >= 0 || UniformDouble(rng) < std::exp(delta / std::max(t, 1e-12))) {
          at[i] = next[i];
          at_score[i] = ns;
        }
        if (add(next[i])) extra_scores.push_back(ns);
      }
    }
    if (!extra_scores.empty()) {
      const Eigen::Index old = pool.scores.size();
      pool.scores.conservativeResize(old + static_cast<Eigen::Index>(extra_scores.size()));
      for (size_t i = 0; i < extra_scores.size(); ++i) {
        pool.scores[old + static_cast<Eigen::Index>(i)] = extra_scores[i];
      }
    }
  }
  Eigen::Index best = 0;
  pool.scores.maxCoeff(&best);
  pool.best = static_cast<int>(best);
  return pool;
}

}  // namespace sonar
