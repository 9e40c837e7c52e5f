// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: RunBruteForce, the joint search's reference method and the
// generator of its ground truth: train every candidate architecture for the full epoch budget
// (keeping every epoch's accuracy and seconds) and tune every distinct layer with a large trial
// budget (keeping every measurement), all as records in one log. Killed and started again with
// the same options, it skips what the log already holds: layers resume their tuning where it
// stopped (Tune's resume) and architectures with all their epochs are not trained again (a
// partly trained one is retrained from scratch, appending only the epochs the log lacks). The
// replay evaluation of `sonar search --replay` answers every method's training and measuring
// from such a log.
//
// Example:
//   BruteForceOptions options;
//   options.epochs = 15;
//   options.layer_trials = 128;
//   options.trainer_id = "builtin:digits16x16:split0";
//   auto start = [&](const Architecture& a) { return StartBuiltinTraining(space, a, data, {}); };
//   SONAR_ASSIGN_OR_RETURN(BruteForceSummary s,
//                          RunBruteForce(options, problem, start, *measurer, store));
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "measure/measurer.h"
#include "measure/record_store.h"
#include "measure/training/trainer.h"
#include "tuner/search/search_problem.h"
#include "tuner/tuner.h"

namespace sonar {

// Starts training one architecture (StartBuiltinTraining or StartExternalTraining bound to
// their data and options).
using StartTrainingFn =
    std::function<StatusOr<std::unique_ptr<TrainingRun>>(const Architecture& arch)>;

struct BruteForceOptions {
  // Epochs every candidate is trained. >= 1.
  int epochs = 15;
  // Trials every distinct layer is tuned (capped by its space). >= 1.
  int layer_trials = 128;
  TunerKind layer_tuner = TunerKind::kAutoTvm;
  int batch_size = 8;  // configs per measured batch, >= 1
  uint64_t seed = 0;   // the layer tuners' seed
  // Phases to run: tuning the layers, then training the architectures.
  bool tune = true, train = true;
  // Written into the records: the trainer's identity (training records are filed under it)
  // and the machine's.
  std::string trainer_id = "builtin";
  std::string hardware_id;
  // Stop, resumably, once this much wall time has passed; 0 = no limit.
  double max_wall_seconds = 0;
  // Called with one line per finished layer or architecture (progress); may be empty.
  std::function<void(const std::string&)> progress;
  Status Validate() const;
};

// What a run did. Defaults describe a run that never happened.
struct BruteForceSummary {
  int layers = 0, layers_done = 0;                // distinct layers; fully tuned ones
  int architectures = 0, architectures_done = 0;  // candidates; trained or failed ones
  int architectures_failed = 0;
  int64_t trials_measured = 0, epochs_trained = 0;  // in this run
  double tune_seconds = 0, train_seconds = 0;       // wall time of each phase in this run
  bool complete = false;                            // every phase asked for is done
  std::string BriefReport() const;
};

// Runs the phases. Errors are I/O or invalid options only; failed measurements and failed
// trainings are records.
StatusOr<BruteForceSummary> RunBruteForce(const BruteForceOptions& options,
                                          const SearchProblem& problem,
                                          const StartTrainingFn& start_training, Measurer& measurer,
                                          RecordStore& records);

}  // namespace sonar
