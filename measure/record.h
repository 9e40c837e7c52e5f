// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Record, one tuning measurement (which task, which config, what
// happened), the value type that the record log stores, that history files import into and
// export from, and that surrogates learn from. MeasureResult is the outcome part of it.
//
// Example:
//   Record r;
//   r.task = {.op = "dense", .args_json = "[512,512,512]", .target = "cpu-x86_64-avx2"};
//   r.workload_key = r.task.ComputeWorkloadKey();
//   r.config.values = space.ToValues(config);
//   r.result.status = MeasureStatus::kOk;
//   r.result.run_seconds = {1.2e-3, 1.1e-3, 1.2e-3};
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"
#include "space/knob.h"

namespace sonar {

// What was measured. Two records are of the same workload when their workload keys are equal.
struct TaskIdentity {
  std::string name;              // human-readable, e.g. "conv2d_nchw.cuda" or "dense_512x512x512"
  std::string op;                // operator or template name: "dense", "topi_nn_conv2d", ...
  std::string args_json;         // the task's arguments/shape as minified JSON text
  std::string target;            // target string, e.g. "cuda -model=v100", "cpu-x86_64-avx2"
  int32_t template_version = 0;  // 0 when unknown (imported)
  // WorkloadKeyOf(op, args_json, target): the key every record of this task carries.
  uint64_t ComputeWorkloadKey() const;
  friend bool operator==(const TaskIdentity&, const TaskIdentity&) = default;
};

// A config by knob names and values, plus its index in the task's space when known.
struct RecordConfig {
  std::vector<KnobValue> values;
  std::optional<int64_t> index;  // AutoTVM config index / listed-space position
  std::string code_hash;         // AutoTVM code_hash, kept for round trips; usually empty
  friend bool operator==(const RecordConfig&, const RecordConfig&) = default;
};

// The outcome of one measurement (STYLE tier c: failures are data).
struct MeasureResult {
  MeasureStatus status = MeasureStatus::kUnknownError;
  std::vector<double> run_seconds;  // one entry per timed repeat; empty unless ok()
  double compile_seconds = 0;       // 0 when unknown
  double all_cost_seconds = 0;      // wall time of the whole measurement; 0 when unknown
  std::string error_msg;            // first lines of the compiler/child stderr, or the reason
  // The error code of the source format, kept for exact round trips (AutoTVM error_no;
  // -1 when the record is Sonar's own).
  int32_t source_error_code = -1;
  // Median seconds of the batch's reference config, timed in the same batch (the drift
  // normalizer of the timing protocol); 0 when there was none. A cost relative to the
  // reference is median_seconds() / reference_seconds.
  double reference_seconds = 0;
  // The cost the source format itself reported, seconds, when it differs in kind from the
  // median of run_seconds: Kernel Tuner's "time" and AutoTVM's mean of costs, which their
  // tuners ranked by. 0 for Sonar's own measurements.
  double reported_seconds = 0;
  // Training records only (op "train", written by `sonar search`): the validation accuracy,
  // a fraction in [0, 1], after the epoch the record is of; run_seconds holds that epoch's
  // seconds. 0 for kernel measurements.
  double accuracy = 0;
  bool ok() const { return status == MeasureStatus::kOk; }
  // The one cost Sonar ranks results by: reported_seconds when set (imported data keeps its
  // source's ranking), else median_seconds(). requires: ok() and !run_seconds.empty().
  double cost_seconds() const { return reported_seconds > 0 ? reported_seconds : median_seconds(); }
  // Median of run_seconds. requires: ok() and !run_seconds.empty().
  double median_seconds() const;
  // Mean of run_seconds (what AutoTVM and Kernel Tuner report). requires: as median_seconds.
  double mean_seconds() const;
  friend bool operator==(const MeasureResult&, const MeasureResult&) = default;
};

// One tuning record.
struct Record {
  uint64_t workload_key = 0;
  TaskIdentity task;
  RecordConfig config;
  MeasureResult result;
  double timestamp_unix_s = 0;  // when measured (seconds since the epoch; fractional kept)
  std::string tuner;            // "random", "autotvm", ... or the import source ("autotvm-log")
  int32_t trial = -1;           // trial number within its tuning run; -1 when unknown
  std::string hardware_id;      // id of the HardwareDescriptor of the measuring machine
  std::string source_version;   // format/version it came from: "autotvm-0.2", "kernel-tuner", ...
  std::string tool_version;     // e.g. AutoTVM's tvm_version; empty when unknown
  friend bool operator==(const Record&, const Record&) = default;
};

// The cost used to rank records everywhere in Sonar: MeasureResult::cost_seconds() for ok
// records (the median of the repeats, or the source's own figure for imported data), +infinity
// for failures.
double RecordCost(const Record& record);

// Sets every field of *record to its default (Record{}), keeping the storage of its strings and
// vectors for reuse, except config.values, which is left for the caller to size (readers fill
// the knob values in place).
void ResetKeepingStorage(Record* record);

// Training records (`sonar search`, tuner/search/search_problem.h) have this op: one epoch of
// training of an architecture, not a kernel measurement.
inline constexpr char kTrainingOp[] = "train";
inline bool IsTrainingRecord(const Record& record) { return record.task.op == kTrainingOp; }

}  // namespace sonar
