// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: TuneAsync, the asynchronous form of Tune() (tuner/tune.h), and the
// AsyncMeasurer it drives. Up to AsyncMeasurer::capacity() configs are measured at once (MPI
// workers: tuner/mpi/mpi_work_queue.h); the next config is proposed as soon as one result
// returns, never waiting for a batch to finish. The tuner is asked for one config at a time
// (the first round asks for as many as there are free workers), so a tuner that proposes in
// batches (ga, autotvm) goes on with its generation or plan, and bo, transfer-bo and rgpe
// propose with the configs still being measured taken into account (BoOptions::
// fantasize_pending). Every result is appended to the record log before the tuner observes it,
// so a killed run resumes from the log with nothing lost or measured twice (the configs in
// flight at the kill were never recorded, and are proposed again as any unmeasured config).
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(TuneSummary summary,
//                          TuneAsync(options, task, *tuner, async_measurer, store));
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "common/status.h"
#include "measure/record.h"
#include "measure/record_store.h"
#include "space/config.h"
#include "space/task.h"
#include "tuner/tune.h"
#include "tuner/tuner.h"

namespace sonar {

// Measures configs in the background, several at once.
// Thread safety: thread-compatible (one thread submits and waits).
class AsyncMeasurer {
 public:
  virtual ~AsyncMeasurer() = default;
  AsyncMeasurer() = default;
  AsyncMeasurer(const AsyncMeasurer&) = delete;
  AsyncMeasurer& operator=(const AsyncMeasurer&) = delete;
  // Configs that can be in flight at once (>= 1).
  virtual int capacity() const = 0;
  // Starts measuring `config` of `task`; `id` names it in Next(). requires: fewer than
  // capacity() in flight.
  virtual void Submit(int64_t id, const Task& task, const Config& config) = 0;
  // Blocks until one config in flight is measured; returns its id and result (failures are
  // results). requires: at least one in flight.
  virtual std::pair<int64_t, MeasureResult> Next() = 0;
  // The hardware id written into the records ("" unknown).
  virtual std::string hardware_id() const { return ""; }
};

// Runs the asynchronous loop until options.max_trials results are in (resumed ones included),
// the tuner runs out of configs, early stopping or the wall-time budget fires, or a callback
// returns kStop; then it waits for the configs in flight and records them too (they were
// measured). options.batch_size is not used (one config per free worker); options.callbacks
// are called after every result (TuneProgress::last_batch holds that one observation), and
// options.on_result too. Records are numbered in the order results arrive. Errors are I/O
// or invalid options only.
StatusOr<TuneSummary> TuneAsync(const TuneOptions& options, const Task& task, Tuner& tuner,
                                AsyncMeasurer& measurer, RecordStore& records);

}  // namespace sonar
