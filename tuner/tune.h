// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Tune(), the loop every tuner shares (propose a batch, measure it,
// append the records, then let the tuner observe them), with resume from a record log, early
// stopping, budgets, progress callbacks, and the TuneSummary it returns.
//
// Example:
//   TuneOptions options;
//   options.max_trials = 200;
//   options.early_stopping.no_improvement_trials = 100;  // AutoTVM's early_stopping
//   SONAR_ASSIGN_OR_RETURN(TuneSummary summary, Tune(options, task, *tuner, *measurer, store));
//   std::cout << summary.BriefReport() << "\n";
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "measure/measurer.h"
#include "measure/record_store.h"
#include "tuner/tuner.h"

namespace sonar {

// When to stop before the trial budget. Criteria combine: the first that fires stops the run.
struct EarlyStopOptions {
  // AutoTVM's early_stopping: stop when the last `no_improvement_trials` trials found no new
  // best. 0 = off.
  int no_improvement_trials = 0;
  // Stop when the best cost improved by less than min_relative_gain (e.g. 0.01 = 1%) over the
  // last relative_window trials. 0 = off (both must be > 0 to be on).
  double min_relative_gain = 0;
  int relative_window = 0;
  Status Validate() const;
};

// What a progress callback sees after each batch (callbacks), or after each measured config
// (on_result).
struct TuneProgress {
  int trial = 0;               // trials done, resumed ones included
  int num_failed = 0;          // of which failed
  int num_resumed = 0;         // trials replayed from the log at the start
  double best_seconds = 0;     // +infinity until a config succeeds
  double elapsed_seconds = 0;  // wall time of this run
  int max_trials = 0;
  const std::vector<Observation>* last_batch = nullptr;  // callbacks only
  // on_result only: configs of the batch being measured that are done, and its size.
  int batch_done = 0;
  int batch_size = 0;
};

enum class CallbackAction { kContinue, kStop };

enum class TerminationReason {
  kMaxTrials,
  kEarlyStopped,
  kSpaceExhausted,
  kWallTime,
  kUserRequested,
};
std::string_view TerminationReasonToString(TerminationReason reason);

struct TuneOptions {
  // Trials to reach, counting the workload's records already in the log (so a killed run
  // started again with the same options finishes the same budget).
  int max_trials = 1000;
  // Configs proposed and measured per round.
  int batch_size = 8;
  EarlyStopOptions early_stopping;
  // Stop once this much wall time has passed in this run; 0 = no limit.
  double max_wall_seconds = 0;
  // Replay the workload's records from the log into the tuner first.
  bool resume = true;
  // Written into every record.
  std::string tuner_name;
  std::string hardware_id;
  // Called after every batch; returning kStop ends the run (kUserRequested) once the batch's
  // records are written.
  std::vector<std::function<CallbackAction(const TuneProgress&)>> callbacks;
  // Called each time one config of a batch is measured, before the batch's records are written
  // (for progress displays; through Measurer::set_result_callback). Null for none.
  std::function<void(const TuneProgress&)> on_result;
  Status Validate() const;
};

// One kind of failed measurement of a run: how many, and the first one's message.
struct FailureClass {
  MeasureStatus status = MeasureStatus::kUnknownError;
  int count = 0;
  std::string first_message;  // error_msg of its first record
};

// What a run did. Defaults describe a run that never happened.
struct TuneSummary {
  TerminationReason reason = TerminationReason::kMaxTrials;
  std::string message = "sonar::Tune was not called.";
  int num_trials = 0;  // resumed included
  int num_failed = 0;  // resumed included
  int num_resumed = 0;
  int num_unreadable_resumed = 0;  // records of the workload whose config no longer fits the space
  double wall_seconds = 0;
  std::optional<Record> best;
  // best_seconds_by_trial[i]: best cost after trial i+1 (+infinity before the first success).
  std::vector<double> best_seconds_by_trial;
  // Failed trials by status (resumed included), in order of first appearance; their counts sum
  // to num_failed.
  std::vector<FailureClass> failures;
  std::string BriefReport() const;
  std::string FullReport() const;
};

// Runs the loop. Errors are I/O or invalid options only; failed measurements are counted.
// Every result is appended to `records` before the tuner observes it, so a killed run loses
// nothing that the tuner saw.
StatusOr<TuneSummary> Tune(const TuneOptions& options, const Task& task, Tuner& tuner,
                           Measurer& measurer, RecordStore& records);

// The record Tune() writes for one measurement (exposed for tools that measure outside Tune).
Record MakeRecord(const Task& task, const Config& config, const MeasureResult& result,
                  const std::string& tuner, int trial, const std::string& hardware_id);

}  // namespace sonar
