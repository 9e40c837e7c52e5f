// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: HardwareDescriptor, a short named vector that characterizes a device
// (MAPLE's idea), and DescribeThisMachine, which builds one for the machine it runs on from
// CPUID/sysconf facts, probe kernels and, where perf_event_open offers them, performance
// counters. Data sets describe their devices by reference-architecture latencies instead; both
// kinds go through this one type.
//
// Example:
//   StatusOr<HardwareDescriptor> hw = DescribeThisMachine(HardwareOptions{});
//   double gflops = hw->Feature("probe_fma_gflops");  // NaN when absent
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "common/status.h"

namespace sonar {

// A device as a vector of named features. Unknown features are absent, never guessed.
// Thread safety: value type.
struct HardwareDescriptor {
  std::string id;                          // stable id, e.g. "hw-<16 hex digits>" of the facts
  std::string device_name;                 // "Intel(R) Xeon(R) ...", "raspi4", ...
  std::vector<std::string> feature_names;  // one per entry of `features`
  std::vector<std::string> feature_sources;  // per feature: "cpuid", "sysconf", "probe",
                                             // "perf_event", "software_counter", "reference_arch"
  Eigen::VectorXd features;
  std::string source;  // how it was built: "perf_event+probes", "probes", "reference_latencies"
  // The value of a named feature, or NaN when the descriptor does not have it.
  double Feature(const std::string& name) const;
};

}  // namespace sonar
