// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Sonar on MPI (docs/mpi.md). A command started by mpirun (or srun)
// runs on every rank; rank 0 runs the tuner, the search or the comparison and is the only
// writer of the record log, and the other ranks are workers that take jobs from an
// asynchronous queue: a worker gets its next job as soon as it returns a result. Jobs are
// opaque bytes (a config to measure, a seed of a replayed comparison); this file moves them
// and shares the timing cores: compiles run on every worker at once, timed runs only while
// the worker holds one of the timing slots of its node (MpiQueueOptions). Only
// mpi_work_queue.cc includes <mpi.h>; without SONAR_WITH_MPI, MpiSize() is 1 and the rest is
// never reached (it fails with FailedPrecondition).
//
// Example (every rank runs the same code):
//   MpiInitIfLaunched(&argc, &argv);
//   if (MpiSize() > 1 && MpiRank() > 0) return RunMpiMeasureWorker(task, *measurer, {});
//   MpiAsyncMeasurer workers(queue_options);  // rank 0
//   SONAR_ASSIGN_OR_RETURN(TuneSummary s, TuneAsync(options, task, *tuner, workers, store));
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "measure/measurer.h"
#include "space/task.h"
#include "tuner/mpi/async_tune.h"

namespace sonar {

// Whether this build has MPI (CMake option SONAR_WITH_MPI).
bool MpiBuilt();
// Initializes MPI when this process was started by an MPI launcher (mpirun, srun: it sees
// OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK); does nothing otherwise, so a plain run never
// touches MPI. Call once, first thing in main().
void MpiInitIfLaunched(int* argc, char*** argv);
// Finalizes MPI when it was initialized; on rank 0, first tells any worker still waiting to stop.
void MpiFinalizeIfInitialized();
// Ends every rank at once (MPI_Abort) with `code`; returns only when MPI is not initialized.
void MpiAbortAll(int code);
int MpiRank();  // 0 when MPI is not initialized
int MpiSize();  // 1 when MPI is not initialized

struct MpiQueueOptions {
  // Timed runs at once per node (each pinned to its own core, counted from the last core a
  // worker may use). 1, the default, is safe on a node shared with other jobs; on a node of
  // your own, the number of cores you can leave free of compiles.
  int timing_ranks_per_node = 1;
  Status Validate() const;
};

// Worker ranks: says hello to rank 0 (with `hello`, e.g. the hardware id), then runs `handle`
// on each job until rank 0 stops the workers. Returns OK when stopped.
Status RunMpiWorker(const std::string& hello,
                    const std::function<std::string(const std::string& job)>& handle);
// From inside a worker's job (MeasureOptions::acquire_timing / release_timing): blocks until
// rank 0 grants one of this node's timing slots; returns the CPU to pin timed runs to.
int MpiAcquireTiming();
void MpiReleaseTiming();

// Rank 0: the queue of jobs, one per worker at a time. Construction waits for every worker's
// hello; destruction stops the workers. Thread safety: thread-compatible; rank 0 only.
class MpiDispatcher {
 public:
  explicit MpiDispatcher(const MpiQueueOptions& options);
  ~MpiDispatcher();
  MpiDispatcher(const MpiDispatcher&) = delete;
  MpiDispatcher& operator=(const MpiDispatcher&) = delete;
  int num_workers() const;
  int num_idle() const;
  const std::string& hello(int worker) const;  // worker = rank, 1 .. num_workers()
  // Sends `job` to an idle worker and returns its rank. requires: num_idle() > 0.
  int Send(const std::string& job);
  // Waits for the next result (granting timing slots meanwhile): {worker rank, result bytes}.
  // requires: a job in flight.
  std::pair<int, std::string> Receive();
  // Stops every worker (also done by the destructor).
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// TuneAsync's measurer on MPI workers (rank 0). Each worker runs RunMpiMeasureWorker.
class MpiAsyncMeasurer final : public AsyncMeasurer {
 public:
  explicit MpiAsyncMeasurer(const MpiQueueOptions& options);
  int capacity() const override;
  void Submit(int64_t id, const Task& task, const Config& config) override;
  std::pair<int64_t, MeasureResult> Next() override;
  std::string hardware_id() const override;

 private:
  MpiDispatcher dispatcher_;
  std::vector<int64_t> job_of_worker_;
};

// How a worker of a tuning run measures.
struct MpiMeasureWorkerOptions {
  // With `no_reference` given to RunMpiMeasureWorker: the reference config is re-timed in every
  // reference_every-th job only, and the jobs between carry its last median as
  // MeasureResult::reference_seconds. A single process re-times it once per batch (--batch, 8),
  // so 8 keeps the same rate per config. >= 1.
  int reference_every = 8;
  // Keep this worker's compiles off the node's timing cores (the last timing_cores cores it
  // may use) when it has more cores than that, so that no compile shares a core with a timed
  // run. 0: compiles may run on any core.
  int timing_cores = 0;
  Status Validate() const;
};

// Worker ranks of a tuning run: measures each config rank 0 sends with `measurer` (made with
// MeasureOptions::acquire_timing = MpiAcquireTiming for a live measurer), one at a time.
// `no_reference`, when given, is the same measurer made with time_reference = false (see
// MpiMeasureWorkerOptions::reference_every).
Status RunMpiMeasureWorker(const Task& task, Measurer& measurer, Measurer* no_reference = nullptr,
                           const MpiMeasureWorkerOptions& options = {});

// The CompareOptions::executor that spreads the seeds of a comparison over the MPI ranks: on
// rank 0 it hands job indices to the workers and stores the curves they return (returns true);
// on a worker it runs the jobs it is given until stopped (returns false: its results went to
// rank 0).
bool MpiRunCompareJobs(size_t num_jobs, const std::function<std::vector<double>(size_t)>& run,
                       const std::function<void(size_t, std::vector<double>)>& store);

// Byte encodings of what the queue carries (exposed for tests).
std::string EncodeMeasureResult(const MeasureResult& result);
StatusOr<MeasureResult> DecodeMeasureResult(const std::string& bytes);

}  // namespace sonar
