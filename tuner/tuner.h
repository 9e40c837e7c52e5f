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
#include "surrogate/feasibility.h"
#include "surrogate/gaussian_process.h"
#include "tuner/acquisition.h"
#include "tuner/candidate_pool.h"
#include "tuner/transfer.h"

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
  kRandom,            // uniform over valid configs, never repeating one
  kGrid,              // index order, skipping invalid configs (AutoTVM GridSearchTuner)
  kGenetic,           // AutoTVM GATuner
  kAutoTvm,           // XGBoost rank model + parallel simulated annealing (AutoTVM XGBTuner)
  kBayesOpt,          // Gaussian-process Bayesian optimisation
  kTransferBayesOpt,  // BO on a deep-kernel GP pretrained on other workloads (tuner/transfer.h)
  kRgpe,  // BO on RGPE, a ranking-weighted ensemble of per-source GPs (transfer baseline)
};
std::string_view TunerKindToString(TunerKind kind);  // "random", "grid", "ga", "autotvm", "bo", ...
bool StringToTunerKind(std::string_view name, TunerKind* kind);

// AutoTVM GATuner's parameters.
struct GeneticOptions {
  int population = 100;        // genes per generation (capped at the space size)
  int elites = 3;              // best genes carried over unchanged
  double mutation_prob = 0.1;  // per-knob probability of a random new value
  Status Validate() const;
};

// AutoTVM XGBTuner's parameters (rank objective, knob features, simulated annealing).
struct AutoTvmOptions {
  int plan_size = 64;        // refit the model and re-plan every plan_size observations
  double eps_greedy = 0.05;  // share of each plan drawn at random
  int sa_chains = 128;       // parallel simulated-annealing chains
  int sa_iterations = 500;   // SA steps per planning round
  int sa_early_stop = 50;    // stop SA after this many steps without a new top config
  double sa_temperature_start = 1.0;
  double sa_temperature_end = 0.0;
  int num_boost_round = 8000;  // upper bound; training stops early on a held-out split
  // Transfer (AutoTVM load_history) from TunerOptions::transfer_records, used when at least
  // min_transfer_records of them are usable.
  int min_transfer_records = 500;
  Status Validate() const;
};

// How Bayesian optimisation picks q > 1 configs per Propose.
enum class BoBatchMethod {
  kLocalPenalization,  // Gonzalez et al. 2016: argmax, then penalise around each pick
  kThompson,           // a fresh Thompson draw over the pool per pick
  kKrigingBeliever,    // Ginsbourger et al. 2010: condition on the pick's mean, re-score
};

// GpOptions as BO uses them by default: 3 restarts, hyperparameters fitted on at most 300
// observations (a random subset beyond), which bounds a refit to about 300^3 flops per L-BFGS
// evaluation.
inline GpOptions BoDefaultGpOptions() {
  GpOptions gp;
  gp.restarts = 3;
  gp.max_fit_samples = 300;
  return gp;
}

inline FeasibilityOptions BoDefaultFeasibilityOptions() {
  FeasibilityOptions f;
  f.gp = BoDefaultGpOptions();
  return f;
}

// The Bayesian-optimisation tuner (TunerKind::kBayesOpt; docs/bayesian_optimization.md): a GP on
// log cost of the successful configs, a feasibility model of the failed ones, and an acquisition
// maximised over a candidate pool of valid unvisited configs.
struct BoOptions {
  // Random configs before the first model (the initial design). Range >= 1; 5-20 is typical.
  int num_initial = 10;
  // Hyperparameters are re-fitted (MAP, full Cholesky) on every observation while the GP holds
  // fewer than refit_all_below samples, then once the samples grew by
  // max(refit_every, refit_growth * samples at the last fit); in between the GP is updated
  // incrementally (GaussianProcess::AddSamples) with the same hyperparameters. The geometric
  // schedule keeps the number of refits logarithmic in the observations (about 15 in 1000).
  // Ranges >= 0, >= 1 and >= 0.
  int refit_all_below = 40;
  int refit_every = 25;
  double refit_growth = 0.2;
  // Bound on the work of one acquisition pass, in units of n^2 * m (GP samples squared times
  // candidates scored), which is what predictive variances cost. A small listed space is
  // enumerated only within it; otherwise the pool's random part shrinks to fit (never below
  // 64). Range > 0.
  double max_predict_work = 1e8;
  AcquisitionOptions acquisition;
  BoBatchMethod batch = BoBatchMethod::kLocalPenalization;
  CandidatePoolOptions pool;
  // Model the failed configs and weight the acquisition by the probability of feasibility
  // (false: failed configs are only excluded from proposals).
  bool model_failures = true;
  FeasibilityOptions feasibility = BoDefaultFeasibilityOptions();
  // The GP (kernel, priors, restarts, exact size and its subset-of-data approximation beyond
  // gp.max_exact_samples). Its seed is derived from TunerOptions::seed.
  GpOptions gp = BoDefaultGpOptions();
  // Configs proposed but not yet observed are pending (an asynchronous loop such as
  // tuner/mpi/'s proposes while other configs are measured). true: bo conditions its GP on their
  // predicted means before proposing (kriging believer, Ginsbourger et al. 2010), transfer-bo
  // and rgpe penalize the acquisition around them (local penalization), so that N workers do
  // not measure near-duplicates. false: pending configs are only never proposed twice (plain
  // top-q of the acquisition). Nothing is pending in a synchronous loop, which is unaffected.
  bool fantasize_pending = true;
  Status Validate() const;
};

struct TunerOptions {
  TunerKind kind = TunerKind::kRandom;
  // Every random choice derives from this seed: same seed and observations, same proposals.
  uint64_t seed = 0;
  GeneticOptions genetic;
  AutoTvmOptions autotvm;
  BoOptions bo;  // also the acquisition, pool and feasibility model of transfer-bo and rgpe
  // Records of other workloads for the transfer tuners (autotvm's load_history, transfer-bo,
  // rgpe); records of the task's own workload are ignored.
  std::vector<Record> transfer_records;
  // transfer-bo and rgpe: what they learn from transfer_records. When transfer_prior is set
  // (BuildTransferPrior, built once and shared read-only by many runs on one task; not owned,
  // it must outlive every tuner made with it) transfer_records is not read; else MakeTuner
  // builds one with this seed, owned by the tuner.
  TransferOptions transfer;
  const TransferPrior* transfer_prior = nullptr;
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
  // has nothing left (the space is exhausted). requires: max_configs >= 1. May be called
  // again before earlier proposals are observed (asynchronous loops, tuner/mpi/): ga and autotvm
  // go on with their generation or plan, bo, transfer-bo and rgpe treat the configs still out
  // as pending (BoOptions::fantasize_pending).
  virtual std::vector<Config> Propose(int max_configs) = 0;
  // Results of proposed configs, or of records replayed on resume (configs it never proposed
  // are accepted too, and are never proposed afterwards). Failed results are infeasible.
  virtual void Observe(const std::vector<Observation>& observations) = 0;
  virtual std::string_view name() const = 0;
};

// Builds the tuner of options.kind for `task`. Fails with InvalidArgument for bad options, and
// for transfer-bo and rgpe without transfer records (or transfer_prior); with
// FailedPrecondition when no transfer record is usable (no other workload has enough ok
// records sharing a knob with the task).
StatusOr<std::unique_ptr<Tuner>> MakeTuner(const Task& task, const TunerOptions& options);

}  // namespace sonar
