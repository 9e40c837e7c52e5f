// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the replay evaluation of the joint-search methods over a ground-truth
// table (the records of `sonar search --method brute-force`). Every method's training and
// measuring is answered from the table and charged the seconds the table recorded:
//   - an epoch: its recorded seconds;
//   - a trial: its record's compile-and-run seconds (all_cost_seconds);
//   - a layer's untuned latency: one trial's median cost.
// Each layer is tuned by a real tuner over the configs the table measured (a listed space).
// The truth of a candidate is its best accuracy over the full epochs and the sum of its
// layers' best recorded latencies. A method has reached the front once its answer (its
// SearchState::Front(), judged by the truth) holds, for every point of the true front, a
// network at most accuracy_tolerance less accurate and at most latency_tolerance slower. The
// headline metric is the median over seeds of the charged seconds until then (a seed that
// never gets there counts the whole brute-force cost). The runs also record the hypervolume of
// the answer, as a fraction of the true front's, over time.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(SearchTable table, LoadSearchTable(space, records, {}));
//   ReplayOptions options;
//   options.methods = {SearchMethod::kSonar, SearchMethod::kRandom};
//   SONAR_ASSIGN_OR_RETURN(ReplayResult result, ReplaySearch(table, options));
//   std::cout << ReplaySummaryJson(result) << "\n";
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "measure/record.h"
#include "space/architecture.h"
#include "tuner/search/joint_search.h"
#include "tuner/search/search_problem.h"
#include "tuner/tuner.h"

namespace sonar {

// A ground-truth table. Thread safety: immutable once loaded; safe to share.
struct SearchTable {
  std::unique_ptr<ArchitectureSpace> space;  // owned, so `problem.space` stays valid
  // Candidates: the architectures fully trained (or failed) in the log whose every layer has a
  // successful measurement; incomplete_candidates counts the trained ones left out for want
  // of measurements (a table still being generated).
  SearchProblem problem;
  int incomplete_candidates = 0;
  std::string trainer_id;
  int full_epochs = 0;                             // epochs every ok candidate has
  int full_trials = 0;                             // the most trials any layer has
  std::vector<TrainingCurve> curves;               // per candidate
  std::vector<std::vector<Record>> layer_records;  // per layer, in log order
  std::vector<double> untuned_seconds;  // per layer: median of its records' reference_seconds
  std::vector<double> trial_seconds;    // per layer: median of its records' all_cost_seconds
  std::vector<double> true_accuracy;    // per candidate (NaN when failed)
  std::vector<double> true_latency;     // per candidate, seconds (+inf when failed)
  std::vector<int> true_front;          // candidates, ascending latency
  double brute_force_seconds = 0;       // every epoch and every trial of the table
};

struct SearchTableOptions {
  std::string trainer_id;  // "" = the only trainer in the records
  int full_epochs = 0;     // 0 = the most epochs any architecture has
};

// Builds the table from a brute-force run's records. InvalidArgument when the records hold no
// training, several trainers and no trainer_id, or no trained architecture has all its layers
// measured.
StatusOr<SearchTable> LoadSearchTable(const ArchitectureSpace& space,
                                      const std::vector<Record>& records,
                                      const SearchTableOptions& options);

// True when `answer` covers `table.true_front` within the tolerances (see above).
bool CoversTrueFront(const SearchTable& table, const std::vector<int>& answer,
                     double accuracy_tolerance, double latency_tolerance);
// Hypervolume of `answer` judged by the truth, over that of the true front (reference point:
// the least accurate and the slowest candidate of the table), in [0, 1].
double HypervolumeRatio(const SearchTable& table, const std::vector<int>& answer);

// Answers a method's calls from the table (tuning with a real tuner of `layer_tuner` over each
// layer's measured configs, seeded with `seed`).
std::unique_ptr<SearchEnvironment> MakeReplayEnvironment(const SearchTable& table,
                                                         TunerKind layer_tuner, uint64_t seed);

struct ReplayOptions {
  std::vector<SearchMethod> methods = {SearchMethod::kSonar, SearchMethod::kSequential,
                                       SearchMethod::kRandom, SearchMethod::kHyperband,
                                       SearchMethod::kBruteForce};
  int seeds = 20;  // seeds 0 .. seeds-1 for every method
  // The methods' options (method, seed, budgets and on_step are set per run; full budgets
  // default to the table's).
  JointSearchOptions search;
  TunerKind layer_tuner = TunerKind::kAutoTvm;
  double accuracy_tolerance = 0.01;
  double latency_tolerance = 0.05;
  int threads = 0;  // 0 = one per core
  Status Validate() const;
};

struct ReplayMethodResult {
  SearchMethod method = SearchMethod::kSonar;
  std::vector<double> seconds_to_front;   // per seed; brute_force_seconds when never reached
  std::vector<bool> reached;              // per seed
  std::vector<double> final_hypervolume;  // per seed, at the end of the run (or at the front)
  // hypervolume_curve[seed]: (charged seconds, hypervolume ratio) each time the answer changed.
  std::vector<std::vector<std::pair<double, double>>> hypervolume_curve;
  double median_seconds_to_front = 0;
  int seeds_reaching_front = 0;
};

struct ReplayResult {
  double brute_force_seconds = 0;
  int seeds = 0;
  int candidates = 0, layers = 0;
  size_t true_front_size = 0;
  std::vector<ReplayMethodResult> methods;
  double wall_seconds = 0;
};

// Runs every method with every seed (in parallel over runs). A run stops once it reaches the
// front or has been charged brute_force_seconds.
StatusOr<ReplayResult> ReplaySearch(const SearchTable& table, const ReplayOptions& options);

// {"brute_force_seconds": B, "seeds": S, "candidates", "layers", "true_front_size",
//  "methods": [{"method", "median_seconds_to_front", "speedup_vs_brute_force",
//  "seeds_reaching_front", "median_final_hypervolume_ratio"}]}
std::string ReplaySummaryJson(const ReplayResult& result);

}  // namespace sonar
