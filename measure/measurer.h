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

#include <cstdint>
#include <functional>
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
  // MeasureResult::reference_seconds of every result of the batch. The reference is
  // `reference_values` when given, else DefaultConfig(task) for built-in operators, else the
  // first valid config of the space (user kernels; LoadUserKernel reads SPACE.json's
  // "reference" into UserKernel::reference).
  bool time_reference = true;
  // The reference config by knob values (ConfigSpace::FromValues); empty = as above.
  std::vector<KnobValue> reference_values;
  // ---- isolation ----
  double compile_timeout_s = 60;
  double run_timeout_s = 10;
  // Address-space limit of the timed child, MiB (0 = none).
  int64_t run_memory_limit_mb = 4096;
  // CPU the timed child is pinned to (-1 = the last CPU this process may use).
  int pin_cpu = -1;
  // ---- correctness ----
  bool check_correctness = true;
  // Max relative error |y - ref| / (|ref| + 1) allowed against the reference implementation
  // (or, for user kernels without one, against the output of the first config that ran).
  double check_tolerance = 1e-3;
  // Seed of the kernels' random inputs (sonar_init); the same for every config.
  uint64_t input_seed = 12345;
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
  // ---- sharing the timing core with other processes (MPI workers, tuner/mpi/) ----
  // When set, called once per Measure() call before its first timed run: it blocks until this
  // process may time, and returns the CPU to pin the timed children to (-1: pin_cpu as above).
  // release_timing is then called after the last timed run of that call. Builds never wait
  // for it. Null (the default): this process times whenever it likes.
  std::function<int()> acquire_timing;
  std::function<void()> release_timing;
  Status Validate() const;
};

// Counters of a measurer since it was made (what the compile cache saved, what ran).
// Thread safety: value type.
struct MeasurerStats {
  int64_t configs = 0;       // configs passed to Measure()
  int64_t builds = 0;        // compiler invocations for kernels (cache misses)
  int64_t cache_hits = 0;    // kernels found in the compile cache
  int64_t timed_runs = 0;    // timed child runs, reference and re-measurements included
  int64_t remeasured = 0;    // configs re-measured because their repeats disagreed
  double build_seconds = 0;  // wall time of the build phases
  double run_seconds = 0;    // wall time of the timed-run phases
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
  // Counters since the measurer was made; all zero for measurers that keep none.
  virtual MeasurerStats stats() const { return {}; }
  // Called by Measure on the calling thread each time one config's result is final (index into
  // the configs, in the order they finish), for progress displays; null (the default) for none.
  // Measurers that answer at once (replay) may not call it.
  using ResultCallback = std::function<void(size_t index, const MeasureResult& result)>;
  void set_result_callback(ResultCallback callback) { on_result_ = std::move(callback); }

 protected:
  ResultCallback on_result_;
};

// Compiles and runs built-in operator tasks (see measure/operators.h) and user-kernel tasks
// (op "user", see measure/user_kernel.h) on this machine.
StatusOr<std::unique_ptr<Measurer>> MakeLocalMeasurer(const MeasureOptions& options);

// Answers from a table of records (an imported history, a Kernel Tuner cache): a config is
// matched by its knob values; one missing from the table gets MeasureStatus::kNotInTable.
// Records are looked up under task.WorkloadKey(); when the table holds no record of that key
// and exactly one workload in all, that workload answers (so a task rebuilt by
// TaskFromRecords from an imported history whose args are not a flat shape still replays).
// A split value with outer factor -1 (AutoTVM) matches the config with the same inner factors.
// When a config has several records, the first ok one answers (else the first one).
//
// `timing` makes each Measure() call also take time, as the measurement it replays did, so
// that parallel replays (tuner/mpi/) can be timed honestly on a small machine.
struct ReplayTiming {
  enum class Mode {
    kInstant,   // answer at once (the default)
    kRecorded,  // sleep each config's recorded all_cost_seconds when set, else its
                // compile_seconds plus the sum of its run_seconds (Kernel Tuner caches and
                // AutoTVM records hold them); a config missing from the table costs nothing
    kFixed,     // sleep fixed_seconds per config
  };
  Mode mode = Mode::kInstant;
  double fixed_seconds = 0;  // kFixed only; seconds per config, >= 0
  Status Validate() const;
};
// Parses --replay-seconds: "recorded", a number of seconds (>= 0; "0" is instant), or "" for
// instant.
StatusOr<ReplayTiming> ParseReplayTiming(const std::string& text);
// The simulated seconds `timing` charges for `result` (0 for kInstant).
double ReplaySeconds(const ReplayTiming& timing, const MeasureResult& result);

std::unique_ptr<Measurer> MakeReplayMeasurer(std::vector<Record> table,
                                             const ReplayTiming& timing = {});

// A task whose space lists exactly the distinct configs recorded for `workload_key` in
// `records`: one knob per knob name (its candidates the distinct values seen, in first-seen
// order; int knobs sorted), members the distinct configs. op, target and name come from the
// first record; shape is args_json when that is a flat integer array, else empty and
// task.args_json is the records' args_json, so WorkloadKey() == workload_key either way (when
// the records' key is their own op/args/target hash). Records whose knob names differ from the
// first record's are left out. Returns NotFound when no record has that key, InvalidArgument when
// the values cannot form a space.
StatusOr<Task> TaskFromRecords(const std::vector<Record>& records, uint64_t workload_key);

}  // namespace sonar
