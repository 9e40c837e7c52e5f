// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Measurer, the one interface through which tuners' configs become
// MeasureResults, its options, and the factories for the local measurer (compile each config
// with the system compiler, run it in an isolated child, check it, time it) and the replay
// measurer (answer from a recorded table).
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(Task task, MakeOperatorTask("dense", {512, 512, 512}));
//   SONAR_ASSIGN_OR_RETURN(std::unique_ptr<Measurer> m, MakeLocalMeasurer(MeasureOptions{}));
//   std::vector<MeasureResult> results = m->Measure(task, {task.space.At(0)});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "measure/record.h"
#include "space/config.h"
#include "space/task.h"

namespace sonar {

struct MeasureOptions {
  // ---- timing protocol (see docs/measurement.md) ----
  // Untimed runs before timing, to warm caches and the CPU clock.
  int warmup = 1;
  // Kernel calls per timed repeat; scaled up until one repeat lasts min_repeat_ms.
  int number = 1;
  // Timed repeats; every one is kept in MeasureResult::run_seconds (seconds per call).
  int repeat = 5;
  // Lower bound on the wall time of one repeat, milliseconds (TVM's min_repeat_ms).
  double min_repeat_ms = 50;
  // A result whose repeats spread more than this (max/min - 1) is measured again, up to
  // max_remeasure times, keeping the steadiest attempt.
  double max_repeat_spread = 0.10;
  int max_remeasure = 2;
  // Re-time a reference config in every Measure() call and store its median in
  // MeasureResult::reference_seconds. The reference is config index 0 of the task's space
  // unless the task's template names a default.
  bool time_reference = true;
  // ---- isolation ----
  double compile_timeout_s = 60;
  double run_timeout_s = 10;
  // Address-space limit of the timed child, MiB (0 = none).
  int64_t run_memory_limit_mb = 4096;
  // CPU the timed child is pinned to (-1 = the last CPU this process may use).
  int pin_cpu = -1;
  // ---- correctness ----
  bool check_correctness = true;
  // Max relative error |y - ref| / (|ref| + 1) allowed against the reference implementation.
  double check_tolerance = 1e-3;
  // ---- compilation ----
  std::string compiler = "c++";
  std::vector<std::string> compiler_flags = {"-O3", "-march=native"};
  // Builds running at once (they never overlap a timed run). 0 = one per core.
  int parallel_builds = 0;
  // Compiled kernels are cached under this directory keyed by a hash of source, compiler
  // (its --version output) and flags; "" = $XDG_CACHE_HOME/sonar/kernels or ~/.cache/...
  std::string cache_dir;
  bool use_cache = true;
  // Keep the generated sources and binaries of each measurement in cache_dir for inspection.
  bool keep_sources = false;
  Status Validate() const;
};

// Never throws; one result per input config, in order. Failures are results, not errors.
// Thread safety: thread-compatible; Measure() runs builds in parallel internally but never times
// two kernels at once.
class Measurer {
 public:
  virtual ~Measurer() = default;
  Measurer() = default;
  Measurer(const Measurer&) = delete;
  Measurer& operator=(const Measurer&) = delete;
  virtual std::vector<MeasureResult> Measure(const Task& task,
                                             const std::vector<Config>& configs) = 0;
  // The id of the hardware descriptor of the machine the results come from ("" unknown).
  virtual std::string hardware_id() const { return ""; }
};

// Compiles and runs built-in operator tasks (see measure/operators.h) and user-kernel tasks
// (op "user", see measure/user_kernel.h) on this machine.
StatusOr<std::unique_ptr<Measurer>> MakeLocalMeasurer(const MeasureOptions& options);

// Answers from a table of records (an imported history, a Kernel Tuner cache): a config is
// matched by its knob values; one missing from the table gets MeasureStatus::kNotInTable.
std::unique_ptr<Measurer> MakeReplayMeasurer(std::vector<Record> table);

}  // namespace sonar
