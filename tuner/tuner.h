// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the ask/tell Tuner interface every search strategy implements
// (Propose configs, Observe their results), Observation, TunerKind with its one spelling as a
// string, TunerOptions, and MakeTuner. A Tuner never calls a Measurer; Tune() (tuner/tune.h) is
// the loop that connects them.
//
// Example:
//   TunerOptions options;
//   options.kind = TunerKind::kRandom;
//   options.seed = 7;
//   SONAR_ASSIGN_OR_RETURN(std::unique_ptr<Tuner> tuner, MakeTuner(task, options));
//   std::vector<Config> batch = tuner->Propose(8);
//   // ... measure them ...
//   tuner->Observe(observations);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "measure/record.h"
#include "space/config.h"
#include "space/task.h"

namespace sonar {

// A measured config, as a tuner sees it.
struct Observation {
  Config config;
  MeasureResult result;
};

// Cost of an observation to minimise: MeasureResult::cost_seconds() of an ok result, +infinity
// otherwise (failures are infeasible, never times).
double ObservationCost(const Observation& observation);

enum class TunerKind {
  kRandom,    // uniform over valid configs, never repeating one
  kGrid,      // index order, skipping invalid configs (AutoTVM GridSearchTuner)
  kGenetic,   // AutoTVM GATuner
  kAutoTvm,   // XGBoost rank model + parallel simulated annealing (AutoTVM XGBTuner)
  kBayesOpt,  // Gaussian-process Bayesian optimisation
  kTransferBayesOpt,
};
std::string_view TunerKindToString(TunerKind kind);  // "random", "grid", "ga", "autotvm", "bo", ...
bool StringToTunerKind(std::string_view name, TunerKind* kind);

// AutoTVM GATuner's parameters.
struct GeneticOptions {
  int population = 100;         // genes per generation (capped at the space size)
  int elites = 3;               // best genes carried over unchanged
  double mutation_prob = 0.1;   // per-knob probability of a random new value
  Status Validate() const;
};

// AutoTVM XGBTuner's parameters (rank objective, knob features, simulated annealing).
struct AutoTvmOptions {
  int plan_size = 64;             // refit the model and re-plan every plan_size observations
  double eps_greedy = 0.05;       // share of each plan drawn at random
  int sa_chains = 128;            // parallel simulated-annealing chains
  int sa_iterations = 500;        // SA steps per planning round
  int sa_early_stop = 50;         // stop SA after this many steps without a new top config
  double sa_temperature_start = 1.0;
  double sa_temperature_end = 0.0;
  int num_boost_round = 8000;     // upper bound; training stops early on a held-out split
  // Transfer (AutoTVM load_history): past records of other workloads, used when at least
  // min_transfer_records of them are usable.
  std::vector<Record> transfer_records;
  int min_transfer_records = 500;
  Status Validate() const;
};

struct TunerOptions {
  TunerKind kind = TunerKind::kRandom;
  // Every random choice derives from this seed: same seed and observations, same proposals.
  uint64_t seed = 0;
  GeneticOptions genetic;
  AutoTvmOptions autotvm;
  Status Validate() const;
};

// Thread safety: thread-compatible (one thread drives a tuner).
class Tuner {
 public:
  virtual ~Tuner() = default;
  Tuner() = default;
  Tuner(const Tuner&) = delete;
  Tuner& operator=(const Tuner&) = delete;
  // Up to max_configs valid configs never proposed or observed before; empty when the tuner
  // has nothing left (the space is exhausted). requires: max_configs >= 1.
  virtual std::vector<Config> Propose(int max_configs) = 0;
  // Results of proposed configs, or of records replayed on resume (configs it never proposed
  // are accepted too, and are never proposed afterwards). Failed results are infeasible.
  virtual void Observe(const std::vector<Observation>& observations) = 0;
  virtual std::string_view name() const = 0;
};

// Builds the tuner of options.kind for `task`. Fails with InvalidArgument for bad options and
// with FailedPrecondition for a kind this build does not provide.
StatusOr<std::unique_ptr<Tuner>> MakeTuner(const Task& task, const TunerOptions& options);

}  // namespace sonar
