// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: user kernels (Kernel Tuner style, docs/user_kernels.md): a C++ file
// that reads its knob values as preprocessor macros and defines the harness contract
// (sonar_init, sonar_run, optional sonar_check / sonar_output; measure/harness/harness_main.cc),
// plus a SPACE.json that lists the knobs. LoadUserKernel turns the pair into a Task (op "user")
// that the local measurer compiles with one -DNAME=value argument per knob.
//
// SPACE.json (every field but "knobs" optional):
//   {"name": "saxpy",
//    "knobs": [{"name": "BLOCK", "kind": "int", "range": [1, 64], "step": 1},
//              {"name": "UNROLL", "kind": "choice", "values": [1, 2, 4, 8]},
//              {"name": "USE_FMA", "kind": "bool"},
//              {"name": "TILE", "kind": "split", "extent": 512, "parts": 2},
//              {"name": "ORDER", "kind": "reorder", "axes": 3}],
//    "constraints": ["BLOCK % UNROLL == 0", "TILE_1 <= 64"],
//    "reference": {"BLOCK": 1, "UNROLL": 1, "USE_FMA": 0, "TILE": [512, 1], "ORDER": [0, 1, 2]}}
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(UserKernel k, LoadUserKernel("saxpy.cc", "SPACE.json"));
//   MeasureOptions o;
//   o.reference_values = k.reference;
//   SONAR_ASSIGN_OR_RETURN(auto m, MakeLocalMeasurer(o));
//   std::vector<MeasureResult> r = m->Measure(k.task, {k.task.space.At(0)});
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "space/config.h"
#include "space/config_space.h"
#include "space/knob.h"
#include "space/task.h"

namespace sonar {

// A loaded user kernel.
// Thread safety: value type.
struct UserKernel {
  // op "user", shape [], name "user:<absolute kernel path>", target as given or
  // "cpu-<machine>" (uname), space from SPACE.json.
  Task task;
  std::string kernel_path;           // absolute
  std::string space_path;            // as given
  std::vector<KnobValue> reference;  // SPACE.json "reference"; empty when absent
};

// Reads and checks both files. Errors (InvalidArgument, or NotFound for a missing file) name
// the file and either line:column (malformed JSON) or the field ("knobs[2].values: ...").
StatusOr<UserKernel> LoadUserKernel(const std::string& kernel_path,
                                    const std::string& space_json_path, std::string target = "");

// LoadUserKernel(...).task.
StatusOr<Task> MakeUserKernelTask(const std::string& kernel_path,
                                  const std::string& space_json_path, std::string target = "");

// Parses SPACE.json text; `file_name` prefixes error messages. *reference (may be null)
// receives the "reference" config's values.
StatusOr<ConfigSpace> ParseSpaceJson(std::string_view text, const std::string& file_name,
                                     std::vector<KnobValue>* reference);

// The kernel file of a user-kernel task (name "user:<path>"), or "" for other tasks.
std::string UserKernelPath(const Task& task);

// The compiler arguments that pass `config` to the kernel, one argv entry each:
// int/bool/integer-choice knobs: -DNAME=v; string choice: -DNAME=label; split and reorder:
// -DNAME_0=.. -DNAME_1=.. (outermost factor / first axis first). requires: config well-formed.
std::vector<std::string> UserKernelDefines(const ConfigSpace& space, const Config& config);
// The same from a config's knob values (a record's RecordConfig::values): what `sonar emit`
// writes for a user kernel's best config.
std::vector<std::string> UserKernelDefinesOfValues(const std::vector<KnobValue>& values);

}  // namespace sonar
