// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the enums shared across layers (KnobKind, MeasureStatus) and their
// one spelling as strings, used by the CLI, the records and the reports alike (Ceres types.h).
//
// Example:
//   MeasureStatus s;
//   if (StringToMeasureStatus("compile_error", &s)) { ... }
//   std::string_view name = MeasureStatusToString(MeasureStatus::kRunTimeout);  // "run_timeout"
#pragma once

#include <string_view>

namespace sonar {

// The kinds of knob a ConfigSpace is built from.
enum class KnobKind {
  kSplit,    // factorization of a loop extent into n parts (AutoTVM "sp")
  kReorder,  // a permutation of loop axes (AutoTVM "re")
  kChoice,   // one of a list of labels or integers (AutoTVM "ot"/"an")
  kInt,      // an integer range with a step, optionally log-scaled
  kBool,     // false/true
};

// The outcome of one measurement. Failures are data, never errors (STYLE tier c).
// AutoTVM's MeasureErrorNo and Kernel Tuner's failed-config strings map onto these; see
// docs/records.md for every mapping.
enum class MeasureStatus {
  kOk,
  kInvalidConfig,   // the config cannot be instantiated (AutoTVM 1, Kernel Tuner InvalidConfig)
  kCompileError,    // AutoTVM 2 and 3, Kernel Tuner CompilationFailedConfig
  kCompileTimeout,  // AutoTVM 6 (build timeout)
  kRuntimeError,    // AutoTVM 4, Kernel Tuner RuntimeFailedConfig
  kRunTimeout,      // AutoTVM 7
  kCrashed,         // the measured child died on a signal
  kWrongAnswer,     // AutoTVM 5: output differs from the reference
  kNotInTable,      // replay: the config is absent from the recorded table
  kUnknownError,    // AutoTVM 8, or anything unclassified
};

std::string_view KnobKindToString(KnobKind kind);
// Returns false (and leaves *kind alone) for an unknown name.
bool StringToKnobKind(std::string_view name, KnobKind* kind);

std::string_view MeasureStatusToString(MeasureStatus status);
// Returns false (and leaves *status alone) for an unknown name.
bool StringToMeasureStatus(std::string_view name, MeasureStatus* status);

}  // namespace sonar
