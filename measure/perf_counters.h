// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: internal::CounterGroup, the performance counters that
// DescribeThisMachine reads around its probes: hardware counters through perf_event_open where
// the kernel offers them, software counters through perf_event_open or, when it is refused,
// getrusage / clock_gettime. Internal to measure/hardware*.cc; not installed API.
//
// Example:
//   internal::CounterGroup hw(internal::CounterGroup::Kind::kHardware, /*enabled=*/true);
//   hw.Start();
//   RunProbe();
//   internal::CounterValues v = hw.Stop();  // v.at("cycles") is NaN when unavailable
#pragma once

#include <map>
#include <string>
#include <vector>

#include "measure/hardware.h"

namespace sonar::internal {

// Counter name -> counted value over one Start/Stop window; NaN when not counted.
using CounterValues = std::map<std::string, double>;

// Thread safety: thread-compatible; counts the thread that constructed it only.
class CounterGroup {
 public:
  enum class Kind { kHardware, kSoftware };

  // Opens every counter of `kind` for the calling thread. When `enabled` is false nothing is
  // opened and every counter is reported unavailable with the reason "disabled by options".
  CounterGroup(Kind kind, bool enabled);
  ~CounterGroup();
  CounterGroup(const CounterGroup&) = delete;
  CounterGroup& operator=(const CounterGroup&) = delete;

  // Resets and starts every available counter.
  void Start();
  // Stops them and returns the values counted since Start() (scaled for multiplexing).
  CounterValues Stop();

  // Availability of each counter, in a fixed order. Call MarkSilent() first if needed.
  const std::vector<CounterInfo>& infos() const { return infos_; }
  bool available(const std::string& name) const;
  // Marks hardware counters that opened but never counted anything (a virtual PMU that
  // accepts events and counts nothing) as unavailable. `totals` are summed Stop() values.
  void MarkSilent(const CounterValues& totals);

 private:
  struct Counter {
    int fd = -1;            // perf_event fd, or -1 when not opened
    bool fallback = false;  // read through getrusage / clock_gettime instead
  };
  std::vector<Counter> counters_;  // parallel to infos_
  std::vector<CounterInfo> infos_;
  // getrusage / clock_gettime fallback state for software counters.
  double start_cpu_seconds_ = 0;
  long start_minflt_ = 0, start_majflt_ = 0, start_nvcsw_ = 0, start_nivcsw_ = 0;
};

}  // namespace sonar::internal
