// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the joint architecture and schedule search methods, written once
// against SearchEnvironment (train one more epoch of a candidate; measure more trials of a
// layer), so the same code runs live (real training and measuring, tuner/search/live.h) and on
// a replayed ground-truth table (tuner/search/replay.h). Every call is charged its seconds (the
// epoch's training time, each measurement's compile-and-run time); the methods differ only in
// what they spend them on:
//   - sonar: rounds that interleave training epochs and tuning trials (successive-halving
//     rungs on both), after a pilot that trains and tunes the most promising candidates to the
//     full budgets; between rounds, a candidate is dropped when another one is surely at least
//     as good on both objectives within the tolerances (the optimistic bounds of
//     tuner/search/stopping.h), and a layer's tuning stops when its forecast gain is below
//     `layer_gain_threshold` of the fastest live network that holds it.
//   - brute-force: tune every layer fully, then train every candidate fully.
//   - sequential: train every candidate fully, rank by accuracy and untuned latency (each
//     layer's default config), then tune the layers of that front fully.
//   - random: candidates in a seeded random order, each trained fully and its layers tuned.
//   - hyperband: Hyperband's brackets (Li et al.) on accuracy, ranking by non-dominated sorting
//     on (accuracy, untuned latency); the survivors' layers are then tuned fully.
// SearchState holds what a method knows; its Front() is the method's answer at any moment.
//
// Example:
//   JointSearchOptions options;
//   options.method = SearchMethod::kSonar;
//   SONAR_ASSIGN_OR_RETURN(SearchSummary s, RunJointSearch(options, problem, env));
//   for (int c : s.front) std::cout << problem.architecture(c).Name() << "\n";
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "measure/training/trainer.h"
#include "tuner/search/search_problem.h"
#include "tuner/search/stopping.h"

namespace sonar {

enum class SearchMethod { kSonar, kBruteForce, kSequential, kRandom, kHyperband };
std::string_view SearchMethodToString(SearchMethod method);  // "sonar", "brute-force", ...
bool StringToSearchMethod(std::string_view name, SearchMethod* method);

// Where a method's work happens. Thread safety: thread-compatible.
class SearchEnvironment {
 public:
  virtual ~SearchEnvironment() = default;
  SearchEnvironment() = default;
  SearchEnvironment(const SearchEnvironment&) = delete;
  SearchEnvironment& operator=(const SearchEnvironment&) = delete;
  // Trains candidate c one more epoch. An error means the candidate failed (it stays failed).
  virtual StatusOr<EpochResult> TrainEpoch(int c) = 0;
  // Measures up to n more trials of layer l and returns their costs, seconds (+inf for a failed
  // trial), in order; fewer (or none) when the layer's space is exhausted. Errors are I/O only.
  virtual StatusOr<std::vector<double>> TuneLayer(int l, int n) = 0;
  // The seconds of layer l's default (untuned) config, measured on the first call (charged).
  virtual StatusOr<double> UntunedLatency(int l) = 0;
  // Seconds charged so far, by kind.
  virtual double train_seconds() const = 0;
  virtual double tune_seconds() const = 0;
  double charged_seconds() const { return train_seconds() + tune_seconds(); }
};

// What a method knows. Thread safety: value type.
struct SearchState {
  const SearchProblem* problem = nullptr;
  struct Candidate {
    std::vector<double> accuracy;  // per epoch trained
    bool failed = false;
    bool alive = true;  // false once a method dropped it
  };
  struct Layer {
    std::vector<double> best_so_far;  // per trial, seconds (+inf before a success)
    double untuned = std::numeric_limits<double>::quiet_NaN();  // NaN until measured
    bool stopped = false;    // tuning ended early (or the space is exhausted)
    bool exhausted = false;  // no trial left to measure
  };
  std::vector<Candidate> candidates;
  std::vector<Layer> layers;

  explicit SearchState(const SearchProblem& p);
  SearchState() = default;
  // Best accuracy so far; NaN before the first epoch or when failed.
  double Accuracy(int c) const;
  // Sum of the layers' best latency so far, where a layer without a successful trial counts
  // its untuned latency (when measured); +inf when some layer is neither.
  double Latency(int c) const;
  // The method's answer: candidates with a finite accuracy and latency estimate, alive, not
  // dominated by another such candidate (higher or equal accuracy and lower or equal latency,
  // one strictly), in ascending latency.
  std::vector<int> Front() const;
};

// How sonar compares latencies when it drops a candidate: kBounds needs the other network to be
// surely faster (its latency so far below this one's optimistic bound: safe, prunes late);
// kEstimates compares expected final latencies (best so far lowered by the peers' median gain
// of the remaining trials; the model's prediction for untuned layers).
enum class LatencyRule { kBounds, kEstimates };

struct JointSearchOptions {
  SearchMethod method = SearchMethod::kSonar;
  // Full budgets: epochs of training and tuning trials per layer. >= 1.
  int full_epochs = 20;
  int full_trials = 64;
  // Successive-halving factor of the rungs (sonar, hyperband), >= 2.
  int eta = 3;
  // Measured configs per TuneLayer call, >= 1.
  int batch_size = 8;
  // sonar: candidates trained to the full epoch budget first (peers of the accuracy bound);
  // the layers of the first of them are tuned to the full trial budget (peers of the latency
  // bound).
  int pilot_candidates = 3;
  // sonar: layers tuned to the first rung before the first pruning, to fit the layer latency
  // model (surrogate/latency/layer_latency_model.h) that bounds the untuned layers; the layers
  // shared by the most candidates go first. >= 3.
  int model_layers = 8;
  // sonar: an untuned layer's latency bounds are exp(mean -/+ z sd) of the model's prediction.
  double latency_z = 2.0;
  LatencyRule latency_rule = LatencyRule::kBounds;
  // sonar: the goal's tolerances (accuracy absolute, latency relative): a candidate is dropped
  // when another one is surely within half of them of it or better.
  double accuracy_tolerance = 0.01;
  double latency_tolerance = 0.05;
  // sonar: stop tuning a layer when its forecast gain is below this fraction of the latency of
  // the fastest live network that contains it. [0, 1).
  double layer_gain_threshold = 0.01;
  // The bounds' peer quantile is 1 here (the largest gain any peer showed): on the digits
  // table's curves, 0.9 dropped front networks in 2 of 6 seeds (docs/search.md).
  CurveBoundOptions bounds = {.quantile = 1.0};
  // random and hyperband: the seed of their choices.
  uint64_t seed = 0;
  // Stop once this many seconds are charged (0 = no limit).
  double budget_seconds = 0;
  // Called after every charged call (an epoch or a batch of trials) with the state; returning
  // false stops the search. May be empty.
  std::function<bool(const SearchState&, const SearchEnvironment&)> on_step;
  // One line per round or phase (progress). May be empty.
  std::function<void(const std::string&)> log;
  Status Validate() const;
};

struct SearchSummary {
  std::vector<int> front;  // SearchState::Front() at the end
  SearchState state;
  double train_seconds = 0, tune_seconds = 0;
  int epochs_trained = 0;
  int64_t trials_measured = 0;
  int rounds = 0;
  bool stopped_early = false;  // budget or on_step ended it
  std::string BriefReport() const;
};

// Runs options.method. Errors are the environment's I/O errors or invalid options.
StatusOr<SearchSummary> RunJointSearch(const JointSearchOptions& options,
                                       const SearchProblem& problem, SearchEnvironment& env);

}  // namespace sonar
