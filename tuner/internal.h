// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: sonar::internal helpers shared by the tuners: the per-kind factories
// MakeTuner dispatches to, and VisitedSet/IndexSampler, which give every tuner the "never
// propose a config twice" guarantee cheaply. Not part of the public API.
//
// Example:
//   internal::IndexSampler sampler(space, seed);
//   std::optional<Config> c = sampler.Next(visited);
#pragma once

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/random.h"
#include "measure/record_store.h"
#include "tuner/tune.h"
#include "tuner/tuner.h"

namespace sonar::internal {

std::unique_ptr<Tuner> MakeRandomTuner(const Task& task, const TunerOptions& options);
std::unique_ptr<Tuner> MakeGridTuner(const Task& task, const TunerOptions& options);
std::unique_ptr<Tuner> MakeGeneticTuner(const Task& task, const TunerOptions& options);
// Defined in autotvm_tuner.cc.
std::unique_ptr<Tuner> MakeAutoTvmTuner(const Task& task, const TunerOptions& options);
// Defined in bo_tuner.cc. bo, transfer-bo and rgpe; the last two read options.transfer_prior,
// which `owned_prior` holds when MakeTuner built it for this tuner alone (else null).
std::unique_ptr<Tuner> MakeBayesOptTuner(const Task& task, const TunerOptions& options,
                                         std::unique_ptr<TransferPrior> owned_prior);

// Configs proposed or observed so far.
using VisitedSet = std::unordered_set<Config, ConfigHash>;

// Whether every choice of `config` indexes a candidate of its knob (a config replayed from a
// record of another space version may not): what the model-based tuners can encode.
bool IsWellFormed(const ConfigSpace& space, const Config& config);

// The cost of an observation when it is a usable time (ObservationCost finite and > 0);
// nullopt for a failure. What every tuner's Observe starts from.
std::optional<double> UsableCost(const Observation& observation);

// Draws space indices uniformly without replacement (a lazy Fisher-Yates shuffle: memory grows
// with the draws, not with the space), returning only valid configs not in `visited`.
// Thread safety: thread-compatible.
class IndexSampler {
 public:
  IndexSampler(const ConfigSpace& space, Rng rng) : space_(space), rng_(rng) {}
  // The next valid config not in *visited, added to it; nullopt when every index has been drawn.
  std::optional<Config> Take(VisitedSet* visited);
  // Appends Take()'s configs to *out until it holds `size` configs or the space is exhausted.
  void Fill(size_t size, VisitedSet* visited, std::vector<Config>* out);
  bool exhausted() const { return drawn_ >= space_.size(); }

 private:
  const ConfigSpace& space_;
  Rng rng_;
  uint64_t drawn_ = 0;
  std::unordered_map<uint64_t, uint64_t> swapped_;  // position -> index moved there
};

// The best-so-far curve of a tuning run (Tune, TuneAsync): trials, failures by class, the best
// cost after every trial, and the two early-stopping criteria that read it.
class TuneCurve {
 public:
  // Counts `o` (its `record` becomes *best when it is the new best).
  void Add(const Observation& o, const Record& record, std::optional<Record>* best);
  // No new best in the last n trials (n > 0).
  bool NoImprovementFor(int n) const { return n > 0 && trials_ - best_trial_ >= n; }
  // The best improved by less than `gain` (a fraction) over the last `window` trials.
  bool GainBelow(double gain, int window) const;
  int trials() const { return trials_; }
  int failed() const { return failed_; }
  double best() const { return best_; }
  const std::vector<double>& by_trial() const { return by_trial_; }
  const std::vector<FailureClass>& failures() const { return failures_; }

 private:
  std::vector<FailureClass> failures_;
  int trials_ = 0;
  int failed_ = 0;
  int best_trial_ = 0;
  double best_ = std::numeric_limits<double>::infinity();
  std::vector<double> by_trial_;
};

// Why a run stops now (trial budget, either early-stopping rule, wall time, in that order) and
// the message saying so; nullopt while it goes on.
std::optional<std::pair<TerminationReason, std::string>> StopReason(const TuneOptions& options,
                                                                    const TuneCurve& curve,
                                                                    double elapsed_seconds);

// Resume: every record of task's workload in `records` counted on *curve and observed by the
// tuner in one batch; summary->num_resumed and num_unreadable_resumed (records whose config does
// not fit the space) set, summary->best updated.
void ResumeFromLog(const Task& task, const RecordStore& records, Tuner& tuner, TuneCurve* curve,
                   TuneSummary* summary);

}  // namespace sonar::internal
