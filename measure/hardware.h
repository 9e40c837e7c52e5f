// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: HardwareDescriptor, a short named vector that characterizes a device
// (MAPLE's idea), and DescribeThisMachine, which builds one for the machine it runs on from
// CPUID/sysconf/sysfs facts, probe kernels (FMA throughput, triad bandwidth, pointer-chasing
// latencies) and, where perf_event_open offers them, performance counters read while the probes
// run. Data sets describe their devices by reference-architecture latencies instead; both kinds
// go through this one type. HardwareDescriptorToJson / HardwareDescriptorFromJson convert it to
// and from the JSON that `sonar hw describe --json` prints. docs/hardware.md lists every feature.
//
// Example:
//   StatusOr<HardwareDescriptor> hw = DescribeThisMachine(HardwareOptions{});
//   if (!hw.ok()) return hw.status();
//   double gflops = hw->Feature("probe_fma_gflops");  // NaN when absent
//   record.hardware_id = hw->id;                     // "hw-<16 hex digits>"
//   std::string json = HardwareDescriptorToJson(*hw);
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sonar {

// One performance counter that DescribeThisMachine tried to open.
// Thread safety: value type.
struct CounterInfo {
  std::string name;        // "cycles", "instructions", "cache_references", "cache_misses",
                           // "branch_misses", "task_clock", "page_faults", "context_switches",
                           // "cpu_migrations"
  std::string kind;        // "hardware" or "software"
  bool available = false;  // true when it opened and counted while the probes ran
  std::string method;      // how it was read when available: "perf_event" (user+kernel),
                           // "perf_event_user" (exclude_kernel), "getrusage", "clock_gettime"
  std::string error;       // why it is unavailable (strerror text and errno), else empty
};

// The raw numbers behind one probe feature.
// Thread safety: value type.
struct ProbeSummary {
  std::string name;               // "fma", "triad", "latency_l1", "latency_l2", "latency_l3",
                                  // "latency_mem"
  std::string unit;               // unit of median/min/max: "GFLOP/s", "GB/s", "ns"
  std::string variant;            // code path: "avx512f", "avx2_fma", "sse", "scalar", "fp64"...
  int64_t working_set_bytes = 0;  // bytes the probe touches (0 for register-only probes)
  int64_t work_per_repeat = 0;    // FMA instructions, triad elements or dependent loads
  int repeats = 0;                // timed repeats after the warm-up
  double median = std::numeric_limits<double>::quiet_NaN();
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

// A device as a vector of named features. Unknown features are absent, never guessed.
// Thread safety: value type.
struct HardwareDescriptor {
  std::string id;                            // stable id, "hw-<16 hex digits>" of the static facts
  std::string device_name;                   // "Intel(R) Xeon(R) ...", "raspi4", ...
  std::vector<std::string> feature_names;    // one per entry of `features`
  std::vector<std::string> feature_sources;  // per feature: "cpuid", "sysconf", "sysfs", "probe",
                                             // "perf_event", "software_counter", "reference_arch"
  Eigen::VectorXd features;
  std::string source;  // how it was built: "perf_event+probes", "probes", "facts",
                       // "reference_latencies"
  // The value of a named feature, or NaN when the descriptor does not have it.
  double Feature(const std::string& name) const;

  // Added by DescribeThisMachine; may stay empty for descriptors built from data sets.
  std::vector<std::string> feature_units;  // per feature: "bytes", "count", "flag", "GFLOP/s",
                                           // "GB/s", "ns", "seconds", "ratio", "GHz", ...
  std::string vendor;                      // CPUID vendor string, e.g. "AuthenticAMD"
  std::string id_basis;                    // the canonical text of static facts hashed into `id`
  std::vector<CounterInfo> counters;       // every counter tried, available or not
  std::vector<ProbeSummary> probes;        // every probe that ran
  double describe_seconds = 0;             // wall time DescribeThisMachine took
  std::vector<std::string> notes;          // e.g. sources that disagreed on a cache size

  // Appends a feature. requires: `name` is not already present.
  void AddFeature(const std::string& name, double value, const std::string& unit,
                  const std::string& feature_source);
  // The source of a named feature, or "" when absent.
  std::string FeatureSource(const std::string& name) const;
};

// What DescribeThisMachine measures and for how long. The defaults take a few seconds on a
// desktop-class core; Quick() takes well under one second and is what tests use.
// Thread safety: value type.
struct HardwareOptions {
  // Run the fp32 FMA-throughput probe (single core, widest SIMD the CPU and OS support).
  bool probe_fma = true;
  // Run the STREAM-style triad bandwidth probe (single core, fp64, a[i] = b[i] + s * c[i]).
  bool probe_triad = true;
  // Run the pointer-chasing latency probes (L1, L2, L3 when the caches are known, memory).
  bool probe_latency = true;
  // Try hardware counters (cycles, instructions, cache references/misses, branch misses) with
  // perf_event_open while the probes run. Off: they are reported unavailable ("disabled").
  bool try_hardware_counters = true;
  // Count software events (task clock, page faults, context switches, CPU migrations) while the
  // probes run, through perf_event_open or, if it is refused, getrusage/clock_gettime.
  bool software_counters = true;
  // Pin the calling thread to the CPU it runs on while probing; its affinity is restored after.
  bool pin_thread = true;
  // Timed repeats per probe after one warm-up; the median is reported. Range [1, 1000].
  int repeats = 7;
  // Target wall time of one repeat, seconds; each probe sizes its work to it in the warm-up.
  // Range (0, 10]. Larger is steadier and slower.
  double min_repeat_seconds = 0.03;
  // Bytes of each of the three triad arrays. 0 = automatic: max(2 x last-level cache, 32 MiB),
  // 64 MiB when the cache size is unknown. Otherwise at least 4096 and at most 16 GiB.
  int64_t triad_array_bytes = 0;
  // Working set of the memory-latency chase, bytes. 0 = automatic: max(4 x last-level cache,
  // 64 MiB), 256 MiB when the cache size is unknown. Otherwise at least 4096, at most 16 GiB.
  int64_t latency_memory_bytes = 0;
  // Seed of the random cyclic permutations of the latency probes.
  uint64_t seed = 0;

  // Options for tests and `--quick`: 3 repeats of about 4 ms, smaller memory arrays.
  static HardwareOptions Quick();
  Status Validate() const;
};

// Describes the machine this runs on. Facts come from CPUID (x86), sysconf and sysfs; unknown
// facts are left out. Probe features are medians over `options.repeats`. Counter features are
// present only for counters that opened (see `counters` for the others and why).
// Returns InvalidArgument for invalid options, ResourceExhausted if probe memory cannot be
// allocated. Not to be run concurrently with timed measurements: it loads one core fully.
StatusOr<HardwareDescriptor> DescribeThisMachine(const HardwareOptions& options);

// The id of a set of static facts: "hw-" + 16 lower-case hex digits of FNV-1a 64 of `id_basis`.
std::string HardwareIdFromBasis(std::string_view id_basis);

// The default target of tasks measured on this machine: "cpu-<arch> <hardware id>", e.g.
// "cpu-x86_64 hw-2a159af4dd04ab10". The id (static facts only, no probes) keeps records of
// different machines apart in one log. Computed once per process.
std::string ThisMachineTarget();

// One JSON object: id, device_name, vendor, source, id_basis, describe_seconds, features
// (name, value, unit, source), counters (name, kind, available, method, error) and probes.
std::string HardwareDescriptorToJson(const HardwareDescriptor& hw);

// Parses HardwareDescriptorToJson's output back. Returns InvalidArgument for malformed JSON or
// missing/ill-typed required fields (id, features[].name, features[].value).
StatusOr<HardwareDescriptor> HardwareDescriptorFromJson(std::string_view json);

}  // namespace sonar
