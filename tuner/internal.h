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

#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "common/random.h"
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

}  // namespace sonar::internal
