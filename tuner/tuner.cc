// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/tuner.h"

#include <array>
#include <limits>
#include <utility>

#include "common/enum_names.h"
#include "tuner/internal.h"

namespace sonar {
namespace {

constexpr EnumNames<TunerKind, 7> kTunerNames = {{
    {TunerKind::kRandom, "random"},
    {TunerKind::kGrid, "grid"},
    {TunerKind::kGenetic, "ga"},
    {TunerKind::kAutoTvm, "autotvm"},
    {TunerKind::kBayesOpt, "bo"},
    {TunerKind::kTransferBayesOpt, "transfer-bo"},
    {TunerKind::kRgpe, "rgpe"},
}};

}  // namespace

double ObservationCost(const Observation& o) {
  if (!o.result.ok() || o.result.run_seconds.empty()) {
    return std::numeric_limits<double>::infinity();
  }
  return o.result.cost_seconds();
}

std::string_view TunerKindToString(TunerKind kind) { return EnumToName(kTunerNames, kind); }
bool StringToTunerKind(std::string_view name, TunerKind* kind) {
  return NameToEnum(kTunerNames, name, kind);
}

Status GeneticOptions::Validate() const {
  if (population < 2) return InvalidArgumentError("GeneticOptions::population must be >= 2");
  if (elites < 0 || elites > population) {
    return InvalidArgumentError("GeneticOptions::elites must be in [0, population]");
  }
  if (!(mutation_prob >= 0 && mutation_prob <= 1)) {
    return InvalidArgumentError("GeneticOptions::mutation_prob must be in [0, 1]");
  }
  return OkStatus();
}

Status AutoTvmOptions::Validate() const {
  if (plan_size < 1) return InvalidArgumentError("AutoTvmOptions::plan_size must be >= 1");
  if (!(eps_greedy >= 0 && eps_greedy <= 1)) {
    return InvalidArgumentError("AutoTvmOptions::eps_greedy must be in [0, 1]");
  }
  if (sa_chains < 1 || sa_iterations < 1 || sa_early_stop < 1) {
    return InvalidArgumentError(
        "AutoTvmOptions: sa_chains, sa_iterations, sa_early_stop must be >= 1");
  }
  if (!(sa_temperature_start >= sa_temperature_end && sa_temperature_end >= 0)) {
    return InvalidArgumentError(
        "AutoTvmOptions: need sa_temperature_start >= sa_temperature_end >= 0");
  }
  if (num_boost_round < 1)
    return InvalidArgumentError("AutoTvmOptions::num_boost_round must be >= 1");
  if (min_transfer_records < 0) {
    return InvalidArgumentError("AutoTvmOptions::min_transfer_records must be >= 0");
  }
  return OkStatus();
}

Status TunerOptions::Validate() const {
  SONAR_RETURN_IF_ERROR(genetic.Validate());
  SONAR_RETURN_IF_ERROR(autotvm.Validate());
  SONAR_RETURN_IF_ERROR(bo.Validate());
  SONAR_RETURN_IF_ERROR(transfer.Validate());
  if (transfer_prior != nullptr && transfer_prior->kind != kind &&
      (kind == TunerKind::kTransferBayesOpt || kind == TunerKind::kRgpe)) {
    return InvalidArgumentError("TunerOptions::transfer_prior was built for another tuner kind");
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Tuner>> MakeTuner(const Task& task, const TunerOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  if (task.space.size() == 0) return InvalidArgumentError("the task's space is empty");
  switch (options.kind) {
    case TunerKind::kRandom: return internal::MakeRandomTuner(task, options);
    case TunerKind::kGrid: return internal::MakeGridTuner(task, options);
    case TunerKind::kGenetic: return internal::MakeGeneticTuner(task, options);
    case TunerKind::kAutoTvm: return internal::MakeAutoTvmTuner(task, options);
    case TunerKind::kBayesOpt: return internal::MakeBayesOptTuner(task, options, nullptr);
    case TunerKind::kTransferBayesOpt:
    case TunerKind::kRgpe: {
      if (options.transfer_prior != nullptr) {
        return internal::MakeBayesOptTuner(task, options, nullptr);
      }
      if (options.transfer_records.empty()) {
        return InvalidArgumentError(std::string("tuner '") +
                                    std::string(TunerKindToString(options.kind)) +
                                    "' needs records of other workloads to transfer from");
      }
      SONAR_ASSIGN_OR_RETURN(std::unique_ptr<TransferPrior> prior,
                             BuildTransferPrior(task, options.transfer_records, options.kind,
                                                options.transfer, options.seed));
      TunerOptions with_prior = options;
      with_prior.transfer_prior = prior.get();
      with_prior.transfer_records.clear();
      return internal::MakeBayesOptTuner(task, with_prior, std::move(prior));
    }
  }
  return InvalidArgumentError("unknown tuner kind");
}

namespace internal {

bool IsWellFormed(const ConfigSpace& space, const Config& config) {
  if (config.choice.size() != static_cast<size_t>(space.num_knobs())) return false;
  for (int k = 0; k < space.num_knobs(); ++k) {
    if (config.choice[k] < 0 || config.choice[k] >= space.knob(k).size()) return false;
  }
  return true;
}

std::optional<double> UsableCost(const Observation& observation) {
  const double cost = ObservationCost(observation);
  if (std::isfinite(cost) && cost > 0) return cost;
  return std::nullopt;
}

void IndexSampler::Fill(size_t size, VisitedSet* visited, std::vector<Config>* out) {
  while (out->size() < size) {
    std::optional<Config> c = Take(visited);
    if (!c) return;
    out->push_back(std::move(*c));
  }
}

std::optional<Config> IndexSampler::Take(VisitedSet* visited) {
  const uint64_t n = space_.size();
  while (drawn_ < n) {
    // Swap position drawn_ with a uniform position in [drawn_, n) and take what lands there.
    const uint64_t j =
        drawn_ + static_cast<uint64_t>(UniformInt(rng_, 0, static_cast<int64_t>(n - drawn_ - 1)));
    auto at = [&](uint64_t pos) {
      auto it = swapped_.find(pos);
      return it == swapped_.end() ? pos : it->second;
    };
    const uint64_t picked = at(j);
    swapped_[j] = at(drawn_);
    swapped_.erase(drawn_);
    ++drawn_;
    Config c = space_.At(picked);
    if (visited->count(c) || !space_.Satisfies(c)) continue;
    visited->insert(c);
    return c;
  }
  return std::nullopt;
}

}  // namespace internal
}  // namespace sonar
