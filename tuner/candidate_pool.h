// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: MaximizeAcquisition, the discrete acquisition optimiser of Bayesian
// optimisation, and CandidatePoolOptions. Configs are discrete and constrained, so the
// acquisition is maximised over a candidate pool of valid, not yet visited configs: every member
// of a small listed space (enumeration is exact and cheap there), or else random valid configs
// plus the neighbours of the best observed configs; then simulated-annealing walks on the
// acquisition itself (start at the pool's best, move to random one-knob neighbours, Metropolis
// acceptance with a cooling temperature) add the configs they visit. A large space is never
// enumerated: the pool has at most about num_random + num_incumbents * max_neighbors +
// sa_chains * sa_steps configs.
//
// Example:
//   CandidatePoolOptions options;
//   ScoredPool pool = MaximizeAcquisition(space, score, incumbents, visited, options, rng);
//   // pool.configs[i] has acquisition pool.scores[i]; pool.best is the argmax.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <unordered_set>
#include <vector>

#include "common/random.h"
#include "common/status.h"
#include "space/config.h"
#include "space/config_space.h"

namespace sonar {

// Thread safety: value type.
struct CandidatePoolOptions {
  // A listed space with at most this many members is enumerated (every unvisited valid member
  // is a candidate) and the annealing is skipped. 0 never enumerates. Product spaces are never
  // enumerated.
  uint64_t enumerate_limit = 8192;
  // Random valid unvisited configs in the pool (when not enumerating). Range >= 0.
  int num_random = 512;
  // The best observed configs whose neighbours join the pool; range >= 0.
  int num_incumbents = 8;
  // Neighbours differing in up to this many knobs (ConfigSpace::Neighbors); 1 or 2.
  int neighbor_knobs = 2;
  // At most this many neighbours per incumbent (a deterministic random subset when there are
  // more). Range >= 0.
  int max_neighbors = 256;
  // Simulated annealing on the acquisition: chains started at the best pool members, steps per
  // chain. 0 chains or steps skip it.
  int sa_chains = 8;
  int sa_steps = 40;
  Status Validate() const;
};

// Scores of m configs, larger is better; one entry per config, -inf for "never pick".
using AcquisitionFn = std::function<Eigen::VectorXd(const std::vector<Config>&)>;

struct ScoredPool {
  std::vector<Config> configs;  // distinct, valid, none in `visited`
  Eigen::VectorXd scores;       // configs.size()
  int best = -1;                // index of the largest score; -1 when the pool is empty
};

// Builds the pool, scores it with `score` and runs the annealing (see the file comment).
// `incumbents` are observed configs, best first. Deterministic given rng's state. An empty pool
// means no unvisited valid config was found (the space may be exhausted).
ScoredPool MaximizeAcquisition(const ConfigSpace& space, const AcquisitionFn& score,
                               const std::vector<Config>& incumbents,
                               const std::unordered_set<Config, ConfigHash>& visited,
                               const CandidatePoolOptions& options, Rng& rng);

}  // namespace sonar
