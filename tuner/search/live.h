// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the live SearchEnvironment of `sonar search`: epochs are trained for
// real (a TrainingRun per candidate, started on first use and kept until the search ends) and
// trials are measured for real (a tuner per layer, the local measurer), every result appended
// to the record log before the method sees it. Resume: what the log already holds for a
// candidate or a layer is answered from the log first (charged its recorded seconds, so a
// budget spans runs); a candidate that must train further is retrained from scratch to catch
// up (the built-in trainer is seeded, so the catch-up epochs repeat the recorded ones).
// Layers are tuned with transfer-bo by default, learning from --transfer-from records and
// from the layers tuned earlier in the same search; a layer tuned before any other has
// records to learn from uses plain bo.
//
// Example:
//   LiveSearchOptions live;
//   live.trainer_id = "builtin-dlib:...";
//   std::unique_ptr<SearchEnvironment> env =
//       MakeLiveEnvironment(problem, start_training, *measurer, store, live);
//   SONAR_ASSIGN_OR_RETURN(SearchSummary s, RunJointSearch(options, problem, *env));
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "measure/measurer.h"
#include "measure/record_store.h"
#include "tuner/search/brute_force.h"
#include "tuner/search/joint_search.h"
#include "tuner/tuner.h"

namespace sonar {

struct LiveSearchOptions {
  // The layers' tuner; kTransferBayesOpt falls back to kBayesOpt while nothing is there to
  // learn from.
  TunerKind layer_tuner = TunerKind::kTransferBayesOpt;
  uint64_t seed = 0;
  std::string method_name = "sonar";  // written as the records' tuner
  std::string trainer_id;             // the training records' target
  std::string hardware_id;
  // Records of other workloads (--transfer-from) for the transfer tuners.
  std::vector<Record> transfer_records;
};

// The environment. `problem`, `measurer` and `records` must outlive it.
std::unique_ptr<SearchEnvironment> MakeLiveEnvironment(const SearchProblem& problem,
                                                       StartTrainingFn start_training,
                                                       Measurer& measurer, RecordStore& records,
                                                       const LiveSearchOptions& options);

}  // namespace sonar
