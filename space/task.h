// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Task (one tunable workload: an operator, its shape, its space and its
// target) and the workload key that records are filed under. The key is FNV-1a-64 of the
// canonical string op '\x1f' args_json '\x1f' target, so it is stable across runs, machines and
// standard libraries (std::hash is not). Imported AutoTVM records use the same function with
// the template name and the minified argument JSON.
//
// Example:
//   Task task{.name = "dense_1x64x128", .op = "dense", .shape = {1, 64, 128},
//             .space = std::move(space), .target = "llvm -mcpu=skylake"};
//   uint64_t key = task.WorkloadKey();  // == WorkloadKeyOf("dense", "[1,64,128]", task.target)
//   std::string hex = WorkloadKeyToHex(key);  // "ca43af56fc9d3212"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "space/config_space.h"

namespace sonar {

// One tunable workload.
// Thread safety: value type; immutable once built and safe to share.
struct Task {
  std::string name;  // for people: "conv2d_n1_c64_h56_w56_k64_r3_s1"
  std::string op;    // "dense" | "conv2d" | "depthwise_conv2d" | "user" | an AutoTVM template
  std::vector<int64_t> shape;  // the workload's dimensions, as the template defines them
  ConfigSpace space;
  std::string target;        // "cpu-x86_64-avx2", "llvm -mcpu=skylake", ...
  int template_version = 1;  // bump when the template's code changes; not part of the key
  // The task's arguments as minified JSON when a shape does not say it all: a user kernel's
  // {"kernel": path}, an imported AutoTVM task's argument list. Empty = ShapeToJson(shape).
  std::string args_json;

  // args_json, or ShapeToJson(shape) when it is empty: what records store as task.args_json.
  std::string ArgsJson() const;
  // WorkloadKeyOf(op, ArgsJson(), target). Name and template_version are not part of it.
  uint64_t WorkloadKey() const;
};

// The shape as minified JSON: {1, 2, 3} -> "[1,2,3]", {} -> "[]".
std::string ShapeToJson(const std::vector<int64_t>& shape);

// op + '\x1f' + args_json + '\x1f' + target, byte for byte (no normalisation: callers pass
// minified JSON).
std::string CanonicalWorkload(std::string_view op, std::string_view args_json,
                              std::string_view target);

// FNV-1a 64 of CanonicalWorkload(op, args_json, target).
uint64_t WorkloadKeyOf(std::string_view op, std::string_view args_json, std::string_view target);

// FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of the bytes of `data`.
uint64_t Fnv1a64(std::string_view data);

// The key as exactly 16 lowercase hex digits, zero-padded: "00000000000000ff".
std::string WorkloadKeyToHex(uint64_t key);

// Parses 1 to 16 hex digits (either case, no "0x" prefix) into *key. Returns false, leaving
// *key alone, for anything else.
bool HexToWorkloadKey(std::string_view hex, uint64_t* key);

}  // namespace sonar
