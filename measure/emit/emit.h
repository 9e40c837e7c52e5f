// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: using what was tuned. BestConfigs reads a record log (or any history
// file) and returns the best config of each workload, the lookup an application or framework
// does at start-up instead of profiling. EmitTunedKernels (`sonar emit`) writes them into a
// directory as code a user's program compiles:
//   - built-in operators (dense, conv2d, depthwise_conv2d): one C++ file per workload with the
//     exact kernel that was measured (EmitShippedKernelSource), a header `sonar_tuned.h` and a
//     dispatch file `sonar_tuned.cc` whose `sonar_tuned::Layer` picks the tuned kernel by op and
//     shape and falls back to a generic kernel for any other shape; networks of the joint search
//     get a `Network` class each, their layers in order with the ReLU/max-pool glue;
//   - user kernels: a header of the best knob values as the macros the kernel was compiled with
//     (`<stem>_config.h`);
//   - every workload, both kinds: `best_configs.json`.
// The emitted code needs GCC or Clang (GNU vector extensions) on a POSIX system and nothing
// beyond the C++17 standard library; compile it with the flags Sonar measured with
// (kEmittedCompileFlags). docs/emit.md has the API and a walk-through.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(std::vector<BestConfig> best, BestConfigs("tune.sonar"));
//   SONAR_ASSIGN_OR_RETURN(EmitSummary s, EmitTunedKernels(best, {.out_dir = "tuned"}));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "measure/record.h"
#include "space/architecture.h"

namespace sonar {

// The compiler and flags every kernel is measured with by default (MeasureOptions), which the
// emitted files state: `c++ -O3 -march=native -pthread` (C++17, GCC or Clang).
inline constexpr const char* kEmittedCompileFlags = "-std=c++17 -O3 -march=native -pthread";

// The best successful record of one workload.
struct BestConfig {
  Record record;            // the whole record: task, config values, result, hardware id, timestamp
  double cost_seconds = 0;  // RecordCost(record): what it was ranked by
};

// The best ok record of each workload of `path` (a record log, or a history file `sonar import`
// reads), in order of first appearance, streamed. `selector` as ForEachRecordOrHistory ("" all,
// a workload key in hex, a task name or an op). Training records are left out. NotFound when
// the file cannot be read; InvalidArgument "--workload: ..." when the selector matches nothing,
// FailedPrecondition "PATH has no successful record of W" when it matches only failures.
// A config's knob values as a JSON object text {knob: value}: a string for a labelled choice,
// true/false for a bool, a list for split and reorder knobs, else the integer (what
// best_configs.json and `sonar measure --json` print).
std::string KnobValuesToJson(const std::vector<KnobValue>& values);

// *only_failed (may be null) receives one line per selected workload that has records but no
// successful one ("KEY (name): its N records all failed").
StatusOr<std::vector<BestConfig>> BestConfigs(const std::string& path,
                                              const std::string& selector = "",
                                              std::vector<std::string>* only_failed = nullptr);

// A network of the joint search to emit as one unit: its layers in order (space.Layers(arch)).
struct EmitNetworkSpec {
  std::string name;  // e.g. the architecture's name; made a C++ identifier ("net_...")
  std::vector<LayerSpec> layers;
};

struct EmitOptions {
  std::string out_dir;  // created when missing (its parent must exist)
  // Replace files of the names emit writes; without it an existing one is an error and nothing
  // is written.
  bool force = false;
  std::string name_space = "sonar_tuned";  // C++ namespace of everything emitted
  std::string source_log;                  // named in the emitted comments and JSON
  // Of several workloads of one op and shape for different targets, the one of this target is
  // emitted and the others are listed in EmitSummary::skipped; when none or several are of
  // it, FailedPrecondition naming their keys.
  std::string preferred_target;
  Status Validate() const;
};

struct EmittedWorkload {
  std::string name;  // the workload's identifier in the code (task name / kernel stem)
  std::string kind;  // "kernel" (built-in operator) or "constants" (user kernel)
  std::string file;  // the file written for it
  double cost_seconds = 0;
};

struct EmitSummary {
  std::vector<EmittedWorkload> workloads;
  std::vector<std::string> networks;  // identifiers of the emitted Network classes
  std::vector<std::string> files;     // every file written, paths under out_dir
  // Workloads left out, one line each with the reason: with `skip_unusable`, those that cannot
  // be emitted (imported TVM tasks, older template versions); always, those of another target
  // whose shape preferred_target's workload takes.
  std::vector<std::string> skipped;
};

// Writes the files described at the top of this header. Every check runs before any file is
// written, and each file is written to a temporary name and renamed, so a failed emit leaves
// nothing new. Errors: InvalidArgument for bad options or a network whose layer is not a
// template op; FailedPrecondition for a best record that cannot be emitted (a task Sonar's
// templates did not make, a record of an older template version), unless `skip_unusable`, which
// lists those in EmitSummary::skipped instead (an error still when nothing is left to emit);
// InvalidArgument "--out: ..." when a file exists and !force; Internal when a file cannot be
// written.
StatusOr<EmitSummary> EmitTunedKernels(const std::vector<BestConfig>& best,
                                       const EmitOptions& options, bool skip_unusable = false,
                                       const std::vector<EmitNetworkSpec>& networks = {});

}  // namespace sonar
