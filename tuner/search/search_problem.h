// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the pieces every joint-search method shares. SearchProblem is a set
// of candidate architectures reduced to their distinct layer tasks (a layer shape shared by
// several networks is tuned once); training records are how an epoch of training is kept in a
// record log next to the layers' tuning records (op "train", one record per epoch, the
// validation accuracy in MeasureResult::accuracy and the epoch's seconds in run_seconds), and
// TrainingCurves reads them back.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(ArchitectureSpace space, BuiltinArchitectureSpace("digits-cnn"));
//   std::vector<int64_t> subset = SampleArchitectures(space, 300, /*seed=*/0);
//   SONAR_ASSIGN_OR_RETURN(SearchProblem problem, MakeSearchProblem(space, subset, ""));
//   for (const SearchLayer& layer : problem.layers) std::cout << layer.task.name << "\n";
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "measure/record.h"
#include "measure/training/trainer.h"
#include "space/architecture.h"
#include "space/task.h"

namespace sonar {

// One distinct layer of a problem: its operator task and the candidates that contain it.
struct SearchLayer {
  LayerSpec spec;
  Task task;                    // MakeOperatorTask(spec.op, spec.shape, target)
  std::vector<int> candidates;  // indices into SearchProblem::candidates
};

// Candidates and their layers. Thread safety: value type.
struct SearchProblem {
  const ArchitectureSpace* space = nullptr;  // not owned; outlives the problem
  std::vector<int64_t> candidates;           // architecture indices in *space, ascending
  std::vector<SearchLayer> layers;           // distinct layers, in order of first use
  // layers_of[c]: indices into `layers` of candidate c's layers, in execution order (a
  // layer used twice by one network appears twice).
  std::vector<std::vector<int>> layers_of;
  const Architecture& architecture(int c) const { return space->at(candidates[c]); }
};

// `count` distinct architecture indices drawn uniformly with `seed` (a seeded Fisher-Yates
// prefix, the same on every standard library), ascending; all of them when count <= 0 or
// count >= space.size().
std::vector<int64_t> SampleArchitectures(const ArchitectureSpace& space, int64_t count,
                                         uint64_t seed);

// The problem of `candidates` (indices into space; sorted and deduplicated here). Layer tasks
// get `target`. InvalidArgument when an index is out of range or a layer is not a valid
// operator task (the message names the architecture).
StatusOr<SearchProblem> MakeSearchProblem(const ArchitectureSpace& space,
                                          std::vector<int64_t> candidates,
                                          const std::string& target);

// ---- training records ----

// The record of one epoch of `arch` (or of its failure, when `error` is not empty: status
// kRunTimeout for a DeadlineExceeded error, else kRuntimeError, with the message). The task
// is {op "train", name arch.Name(), args_json space.ToJson(arch), target trainer_id}; the
// config is one int knob "epoch"; trial is the epoch.
Record MakeTrainingRecord(const ArchitectureSpace& space, const Architecture& arch,
                          const std::string& trainer_id, const EpochResult& epoch,
                          const Status& error, const std::string& method,
                          const std::string& hardware_id);

// One architecture's recorded training: epochs 1..n without gaps (later duplicates of an
// epoch are ignored), and whether it failed.
struct TrainingCurve {
  std::vector<double> accuracy;  // accuracy[e-1]: validation accuracy after epoch e
  std::vector<double> seconds;   // seconds[e-1]: seconds epoch e took
  bool failed = false;
  std::string error;
};

// The curves in `records` of `trainer_id`'s training of architectures of `space`, by
// architecture index. Records of other trainers, other spaces or non-training records are
// skipped.
std::map<int64_t, TrainingCurve> TrainingCurves(const ArchitectureSpace& space,
                                                const std::string& trainer_id,
                                                const std::vector<Record>& records);

}  // namespace sonar
