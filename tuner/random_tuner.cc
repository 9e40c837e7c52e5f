// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Random search (AutoTVM RandomTuner) and grid search (AutoTVM GridSearchTuner).
#include "tuner/internal.h"

namespace sonar::internal {
namespace {

// Uniform over valid configs without repetition: a lazy shuffle of the space's indices.
class RandomTuner final : public Tuner {
 public:
  RandomTuner(const Task& task, const TunerOptions& options)
      : task_(task), sampler_(task_.space, MakeRng(options.seed, 1)) {}

  std::vector<Config> Propose(int max_configs) override {
    std::vector<Config> out;
    sampler_.Fill(static_cast<size_t>(max_configs), &visited_, &out);
    return out;
  }

  void Observe(const std::vector<Observation>& observations) override {
    for (const Observation& o : observations) visited_.insert(o.config);
  }

  std::string_view name() const override { return "random"; }

 private:
  Task task_;
  IndexSampler sampler_;
  VisitedSet visited_;
};

// Index order 0, 1, 2, ... skipping invalid and already-seen configs.
class GridTuner final : public Tuner {
 public:
  explicit GridTuner(const Task& task) : task_(task) {}

  std::vector<Config> Propose(int max_configs) override {
    std::vector<Config> out;
    while (static_cast<int>(out.size()) < max_configs && next_ < task_.space.size()) {
      Config c = task_.space.At(next_++);
      if (visited_.count(c) || !task_.space.Satisfies(c)) continue;
      visited_.insert(c);
      out.push_back(std::move(c));
    }
    return out;
  }

  void Observe(const std::vector<Observation>& observations) override {
    for (const Observation& o : observations) visited_.insert(o.config);
  }

  std::string_view name() const override { return "grid"; }

 private:
  Task task_;
  uint64_t next_ = 0;
  VisitedSet visited_;
};

}  // namespace

std::unique_ptr<Tuner> MakeRandomTuner(const Task& task, const TunerOptions& options) {
  return std::make_unique<RandomTuner>(task, options);
}

std::unique_ptr<Tuner> MakeGridTuner(const Task& task, const TunerOptions&) {
  return std::make_unique<GridTuner>(task);
}

}  // namespace sonar::internal
