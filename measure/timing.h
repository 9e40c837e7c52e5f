// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the pure parts of the timing protocol (docs/measurement.md): parsing
// the harness's JSON result line, the median and the repeat spread, and the rule that decides
// whether an attempt is steady enough or must be measured again.
//
// Example:
//   StatusOr<HarnessOutput> out = ParseHarnessOutput(child.stdout_text);
//   if (out.ok() && RepeatSpread(out->run_seconds) > options.max_repeat_spread) { /* again */ }
#pragma once

#include <string>
#include <vector>

#include "common/statistics.h"  // Median
#include "common/status.h"

namespace sonar {

// What the harness main printed (see measure/harness/harness_main.cc).
// Thread safety: value type.
struct HarnessOutput {
  double max_error = -1;                 // < 0: no check ran; NaN: the check produced NaN
  long long number = 0;                  // kernel calls per repeat
  unsigned long long output_floats = 0;  // floats written to the output file (0 = none)
  std::vector<double> run_seconds;       // seconds per call, one per repeat
};

// Parses the last line of `stdout_text` that starts with {"sonar":. Returns InvalidArgument
// when there is none or it is malformed (e.g. the kernel printed over it), or when it claims
// fewer than one call per repeat or a time that is not finite and positive (a kernel that
// prints a forged line gets a runtime_error record, never an ok one).
StatusOr<HarnessOutput> ParseHarnessOutput(const std::string& stdout_text);

// max/min - 1 of the repeats: 0 for identical repeats; +inf if min <= 0. requires: non-empty.
double RepeatSpread(const std::vector<double>& values);

}  // namespace sonar
