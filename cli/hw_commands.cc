// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar hw describe: the hardware descriptor of this machine (measure/hardware.h).
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "measure/cuda/cuda_device.h"
#include "measure/hardware.h"

namespace sonar {
namespace {

using cli::Fail;
using cli::kExitOk;
using cli::kExitUsage;

struct DescribeArgs {
  bool json = false;
  bool quick = false;
  bool no_probes = false;
  bool no_hardware_counters = false;
  int repeats = 0;  // 0: the default of HardwareOptions (or of Quick())
  uint64_t seed = 0;
  int device = -1;  // >= 0: describe that CUDA GPU instead of the CPU
};

std::string FormatValue(double v, const std::string& unit) {
  char buf[64];
  if (!std::isfinite(v)) return "unknown";
  if (unit == "flag") return v != 0 ? "yes" : "no";
  if (unit == "bytes" && v >= 1024 && v < 1024.0 * 1024 * 1024 && std::fmod(v, 1024) == 0) {
    const char* suffix[] = {"KiB", "MiB", "GiB", "TiB"};
    int i = -1;
    while (v >= 1024 && std::fmod(v, 1024) == 0 && i < 3) {
      v /= 1024;
      ++i;
    }
    std::snprintf(buf, sizeof(buf), "%.0f %s", v, suffix[i]);
    return buf;
  }
  if (unit == "bytes" && v >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", v / (1024.0 * 1024 * 1024));
    return buf;
  }
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f %s", v, unit.c_str());
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g %s", v, unit.c_str());
  }
  return buf;
}

int RunDescribe(const DescribeArgs& a) {
  HardwareOptions options = a.quick ? HardwareOptions::Quick() : HardwareOptions{};
  if (a.no_probes) {
    options.probe_fma = options.probe_triad = options.probe_latency = false;
  }
  if (a.no_hardware_counters) options.try_hardware_counters = false;
  if (a.repeats != 0) options.repeats = a.repeats;
  options.seed = a.seed;
  if (Status s = options.Validate(); !s.ok()) {
    std::fprintf(stderr, "sonar hw describe: %s\n", s.message().c_str());
    return kExitUsage;
  }
  StatusOr<HardwareDescriptor> hw = InternalError("not described");
  if (a.device >= 0) {
    // The GPU: properties and two probes read by a small nvcc-built program (docs/cuda.md).
    CudaOptions cuda;
    cuda.device = a.device;
    StatusOr<CudaDeviceInfo> info = QueryCudaDevice(cuda, /*probes=*/!a.no_probes);
    if (!info.ok()) return Fail(info.status());
    hw = CudaDeviceDescriptor(*info);
  } else {
    hw = DescribeThisMachine(options);
  }
  if (!hw.ok()) return Fail(hw.status());
  if (a.json) {
    std::cout << HardwareDescriptorToJson(*hw) << std::endl;
    return kExitOk;
  }
  std::printf("%s (%s)\nid %s, built from %s in %.2f s\n\n", hw->device_name.c_str(),
              hw->vendor.empty() ? "vendor unknown" : hw->vendor.c_str(), hw->id.c_str(),
              hw->source.c_str(), hw->describe_seconds);
  std::printf("%-36s %-22s %s\n", "feature", "value", "source");
  for (size_t i = 0; i < hw->feature_names.size(); ++i) {
    const std::string unit = i < hw->feature_units.size() ? hw->feature_units[i] : "";
    std::printf("%-36s %-22s %s\n", hw->feature_names[i].c_str(),
                FormatValue(hw->features[static_cast<Eigen::Index>(i)], unit).c_str(),
                hw->feature_sources[i].c_str());
  }
  if (!hw->probes.empty()) {
    std::printf("\n%-12s %-14s %10s %10s %10s  %s\n", "probe", "variant", "median", "min", "max",
                "unit (repeats)");
    for (const ProbeSummary& p : hw->probes) {
      std::printf("%-12s %-14s %10.4g %10.4g %10.4g  %s (%d)\n", p.name.c_str(), p.variant.c_str(),
                  p.median, p.min, p.max, p.unit.c_str(), p.repeats);
    }
  }
  if (!hw->counters.empty()) std::printf("\ncounters:\n");
  for (const CounterInfo& c : hw->counters) {
    std::printf(
        "  %-18s %-9s %s\n", c.name.c_str(), c.kind.c_str(),
        c.available ? ("available via " + c.method).c_str() : ("unavailable: " + c.error).c_str());
  }
  for (const std::string& n : hw->notes) std::printf("note: %s\n", n.c_str());
  return kExitOk;
}

}  // namespace

namespace cli {

void RegisterHwCommands(CLI::App& app, int* exit_code) {
  CLI::App* hw = app.add_subcommand("hw", "Describe the hardware Sonar measures on.");
  hw->require_subcommand(1);
  hw->footer(
      "Example:\n"
      "  sonar hw describe --json > hw.json");
  auto args = std::make_shared<DescribeArgs>();
  CLI::App* describe = hw->add_subcommand(
      "describe",
      "CPU model, cores, SIMD and caches (CPUID, sysfs, sysconf), probe kernels (FMA "
      "throughput, triad bandwidth, L1/L2/L3/memory latency) and performance counters read "
      "while they run. Unknown facts are left out, never guessed.");
  describe->add_flag("--json", args->json, "Print one JSON object on stdout");
  describe->add_flag("--quick", args->quick, "Shorter probes (under a second), noisier values");
  describe->add_flag("--no-probes", args->no_probes, "Static facts only (instant)");
  describe->add_flag("--no-hardware-counters", args->no_hardware_counters,
                     "Do not try perf_event hardware counters");
  describe->add_option("--repeats", args->repeats, "Timed repeats per probe (default 7, quick 3)")
      ->check(InRange(1, 1000));
  describe->add_option("--seed", args->seed, "Seed of the latency probes' random permutations")
      ->check(AtLeast(0));
  describe
      ->add_option("--device", args->device,
                   "Describe CUDA GPU N instead (SMs, clocks, memory, compute capability; FMA and "
                   "bandwidth probes); exit 1 when there is no such GPU")
      ->check(AtLeast(0));
  describe->footer(
      "Example:\n"
      "  sonar hw describe\n"
      "  sonar hw describe --json --quick | jq '.features[] | select(.source == \"probe\")'\n"
      "  sonar hw describe --device 0        # an NVIDIA GPU (docs/cuda.md)\n"
      "The id (hw-<16 hex digits>) hashes only static facts, so it is the same on every run on\n"
      "one machine; records measured here carry it. See docs/hardware.md.");
  describe->get_option("--no-probes")->excludes("--repeats");
  describe->callback([=] { *exit_code = RunDescribe(*args); });
}

}  // namespace cli
}  // namespace sonar
