// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/search_problem.h"

#include <algorithm>
#include <ctime>
#include <numeric>
#include <random>
#include <unordered_map>

#include "measure/operators.h"

namespace sonar {

std::vector<int64_t> SampleArchitectures(const ArchitectureSpace& space, int64_t count,
                                         uint64_t seed) {
  std::vector<int64_t> all(static_cast<size_t>(space.size()));
  std::iota(all.begin(), all.end(), int64_t{0});
  if (count <= 0 || count >= space.size()) return all;
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    // Uniform in [i, size) by rejection, so the draw is the same on every standard library.
    const uint64_t span = static_cast<uint64_t>(space.size() - i);
    const uint64_t limit = std::numeric_limits<uint64_t>::max() / span * span;
    uint64_t r;
    do r = rng();
    while (r >= limit);
    std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(i + r % span)]);
  }
  all.resize(static_cast<size_t>(count));
  std::sort(all.begin(), all.end());
  return all;
}

StatusOr<SearchProblem> MakeSearchProblem(const ArchitectureSpace& space,
                                          std::vector<int64_t> candidates,
                                          const std::string& target) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  SearchProblem problem;
  problem.space = &space;
  std::map<std::pair<std::string, std::vector<int64_t>>, int> index;
  for (int64_t a : candidates) {
    if (a < 0 || a >= space.size()) {
      return InvalidArgumentError("architecture index " + std::to_string(a) + " is not in " +
                                  space.name() + " (size " + std::to_string(space.size()) + ")");
    }
    const int c = static_cast<int>(problem.candidates.size());
    problem.candidates.push_back(a);
    std::vector<int>& mine = problem.layers_of.emplace_back();
    for (const LayerSpec& spec : space.Layers(space.at(a))) {
      auto [it, inserted] = index.try_emplace({spec.op, spec.shape}, 0);
      if (inserted) {
        StatusOr<Task> task = MakeOperatorTask(spec.op, spec.shape, target);
        if (!task.ok()) {
          return InvalidArgumentError("architecture " + space.at(a).Name() + ": layer " + spec.op +
                                      ": " + task.status().message());
        }
        it->second = static_cast<int>(problem.layers.size());
        problem.layers.push_back({spec, *std::move(task), {}});
      }
      std::vector<int>& users = problem.layers[it->second].candidates;
      if (users.empty() || users.back() != c) users.push_back(c);
      mine.push_back(it->second);
    }
  }
  return problem;
}

Record MakeTrainingRecord(const ArchitectureSpace& space, const Architecture& arch,
                          const std::string& trainer_id, const EpochResult& epoch,
                          const Status& error, const std::string& method,
                          const std::string& hardware_id) {
  Record r;
  r.task.op = kTrainingOp;
  r.task.name = arch.Name();
  r.task.args_json = space.ToJson(arch);
  r.task.target = trainer_id;
  r.workload_key = r.task.ComputeWorkloadKey();
  r.config.values = {KnobValue{.name = "epoch", .kind = KnobKind::kInt, .ints = {epoch.epoch}}};
  if (error.ok()) {
    r.result.status = MeasureStatus::kOk;
    r.result.run_seconds = {epoch.seconds};
    r.result.accuracy = epoch.validation_accuracy;
  } else {
    r.result.status = error.code() == StatusCode::kDeadlineExceeded ? MeasureStatus::kRunTimeout
                                                                    : MeasureStatus::kRuntimeError;
    r.result.error_msg = error.message();
  }
  r.result.all_cost_seconds = epoch.seconds;
  r.timestamp_unix_s = static_cast<double>(std::time(nullptr));
  r.tuner = method;
  r.trial = epoch.epoch;
  r.hardware_id = hardware_id;
  r.source_version = "sonar";
  return r;
}

std::map<int64_t, TrainingCurve> TrainingCurves(const ArchitectureSpace& space,
                                                const std::string& trainer_id,
                                                const std::vector<Record>& records) {
  std::unordered_map<std::string, int64_t> by_name;
  for (int64_t i = 0; i < space.size(); ++i) by_name.emplace(space.at(i).Name(), i);
  std::map<int64_t, TrainingCurve> curves;
  std::unordered_map<int64_t, std::string> json;  // ToJson of each architecture met, once
  for (const Record& r : records) {
    if (!IsTrainingRecord(r) || r.task.target != trainer_id) continue;
    auto it = by_name.find(r.task.name);
    if (it == by_name.end()) continue;
    auto [j, added] = json.try_emplace(it->second);
    if (added) j->second = space.ToJson(space.at(it->second));
    if (r.task.args_json != j->second) continue;
    if (r.config.values.size() != 1 || r.config.values[0].ints.size() != 1) continue;
    TrainingCurve& curve = curves[it->second];
    if (curve.failed) continue;
    const int64_t epoch = r.config.values[0].ints[0];
    if (!r.result.ok()) {
      if (epoch == static_cast<int64_t>(curve.accuracy.size()) + 1) {
        curve.failed = true;
        curve.error = r.result.error_msg;
      }
      continue;
    }
    if (epoch != static_cast<int64_t>(curve.accuracy.size()) + 1) continue;  // gap or repeat
    curve.accuracy.push_back(r.result.accuracy);
    curve.seconds.push_back(r.result.run_seconds.empty() ? 0 : r.result.run_seconds[0]);
  }
  return curves;
}

}  // namespace sonar
