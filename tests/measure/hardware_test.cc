// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of the hardware descriptor. They hold on any Linux machine, with or without hardware
// performance counters: counter features are checked for consistency with the counters'
// availability, never for being absent. No absolute timing is asserted.
#include "measure/hardware.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace sonar {
namespace {

// One quick description shared by the tests (each call loads a core for a fraction of a second).
const HardwareDescriptor& QuickDescriptor() {
  static const HardwareDescriptor* hw = [] {
    StatusOr<HardwareDescriptor> d = DescribeThisMachine(HardwareOptions::Quick());
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return new HardwareDescriptor(d.ok() ? *d : HardwareDescriptor{});
  }();
  return *hw;
}

bool IsHardwareCounter(const std::string& name) {
  return name == "cycles" || name == "instructions" || name == "cache_references" ||
         name == "cache_misses" || name == "branch_misses";
}

TEST(HardwareOptions, DefaultsAreValid) {
  EXPECT_TRUE(HardwareOptions{}.Validate().ok());
  EXPECT_TRUE(HardwareOptions::Quick().Validate().ok());
}

TEST(HardwareOptions, InvalidOptionsGiveAnError) {
  HardwareOptions o;
  o.repeats = 0;
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  StatusOr<HardwareDescriptor> hw = DescribeThisMachine(o);
  ASSERT_FALSE(hw.ok());
  EXPECT_EQ(hw.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(hw.status().message().find("repeats"), std::string::npos);

  o = HardwareOptions{};
  o.min_repeat_seconds = 0;
  EXPECT_FALSE(o.Validate().ok());
  o.min_repeat_seconds = std::nan("");
  EXPECT_FALSE(o.Validate().ok());
  o = HardwareOptions{};
  o.triad_array_bytes = 100;
  EXPECT_FALSE(o.Validate().ok());
  o = HardwareOptions{};
  o.latency_memory_bytes = -1;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(HardwareDescriptor, FeatureIsNanForAnAbsentName) {
  HardwareDescriptor hw;
  EXPECT_TRUE(std::isnan(hw.Feature("probe_fma_gflops")));
  hw.AddFeature("x", 2.5, "count", "probe");
  EXPECT_EQ(hw.Feature("x"), 2.5);
  EXPECT_EQ(hw.FeatureSource("x"), "probe");
  EXPECT_TRUE(std::isnan(hw.Feature("no_such_feature")));
  EXPECT_EQ(hw.FeatureSource("no_such_feature"), "");
  EXPECT_TRUE(std::isnan(QuickDescriptor().Feature("no_such_feature")));
}

TEST(HardwareDescriptor, HasTheStaticFacts) {
  const HardwareDescriptor& hw = QuickDescriptor();
  EXPECT_FALSE(hw.device_name.empty());
  EXPECT_GE(hw.Feature("cpu_logical_cores"), 1);
  ASSERT_EQ(hw.feature_names.size(), static_cast<size_t>(hw.features.size()));
  ASSERT_EQ(hw.feature_sources.size(), hw.feature_names.size());
  ASSERT_EQ(hw.feature_units.size(), hw.feature_names.size());
  const std::set<std::string> sources = {"cpuid", "sysconf",    "sysfs",
                                         "probe", "perf_event", "software_counter"};
  std::set<std::string> names;
  for (size_t i = 0; i < hw.feature_names.size(); ++i) {
    EXPECT_TRUE(names.insert(hw.feature_names[i]).second) << hw.feature_names[i];
    EXPECT_TRUE(sources.count(hw.feature_sources[i])) << hw.feature_sources[i];
    EXPECT_FALSE(hw.feature_units[i].empty()) << hw.feature_names[i];
    EXPECT_TRUE(std::isfinite(hw.features[static_cast<Eigen::Index>(i)])) << hw.feature_names[i];
  }
#if defined(__x86_64__) || defined(__i386__)
  EXPECT_FALSE(hw.vendor.empty());
  for (const char* flag :
       {"simd_sse", "simd_sse2", "simd_avx", "simd_avx2", "simd_fma", "simd_avx512f"}) {
    const double v = hw.Feature(flag);
    EXPECT_TRUE(v == 0 || v == 1) << flag << " = " << v;
    EXPECT_EQ(hw.FeatureSource(flag), "cpuid");
  }
  EXPECT_EQ(hw.Feature("simd_sse2"), 1);  // part of x86-64
  EXPECT_GE(hw.Feature("simd_max_width_bits"), 128);
#endif
  // A cache size, when known, is a real one: positive and ordered L1 < L2 < L3.
  const double l1 = hw.Feature("cache_l1d_bytes"), l2 = hw.Feature("cache_l2_bytes"),
               l3 = hw.Feature("cache_l3_bytes");
  if (!std::isnan(l1)) EXPECT_GT(l1, 0);
  if (!std::isnan(l1) && !std::isnan(l2)) EXPECT_LT(l1, l2);
  if (!std::isnan(l2) && !std::isnan(l3)) EXPECT_LT(l2, l3);
}

TEST(HardwareDescriptor, ProbeValuesArePositiveAndFinite) {
  const HardwareDescriptor& hw = QuickDescriptor();
  for (const char* name :
       {"probe_fma_gflops", "probe_triad_gbps", "probe_latency_l1_ns", "probe_latency_mem_ns"}) {
    const double v = hw.Feature(name);
    EXPECT_TRUE(std::isfinite(v) && v > 0) << name << " = " << v;
    EXPECT_EQ(hw.FeatureSource(name), "probe");
  }
  ASSERT_GE(hw.probes.size(), 4u);
  for (const ProbeSummary& p : hw.probes) {
    EXPECT_EQ(p.repeats, HardwareOptions::Quick().repeats) << p.name;
    EXPECT_LE(p.min, p.median) << p.name;
    EXPECT_LE(p.median, p.max) << p.name;
    EXPECT_GT(p.work_per_repeat, 0) << p.name;
  }
  // Pointer chasing through DRAM is 20x+ slower than through L1 on any machine with caches;
  // 3x leaves room for a noisy neighbour.
  EXPECT_GT(hw.Feature("probe_latency_mem_ns"), 3 * hw.Feature("probe_latency_l1_ns"));
}

TEST(HardwareDescriptor, CounterFeaturesMatchCounterAvailability) {
  const HardwareDescriptor& hw = QuickDescriptor();
  ASSERT_EQ(hw.counters.size(), 9u);
  std::set<std::string> available_hardware;
  for (const CounterInfo& c : hw.counters) {
    EXPECT_EQ(c.kind, IsHardwareCounter(c.name) ? "hardware" : "software") << c.name;
    if (c.available) {
      EXPECT_TRUE(c.error.empty()) << c.name << ": " << c.error;
      EXPECT_FALSE(c.method.empty()) << c.name;
      if (c.kind == "hardware") available_hardware.insert(c.name);
    } else {
      EXPECT_FALSE(c.error.empty()) << c.name << " is unavailable without a reason";
    }
  }
  int perf_features = 0;
  for (const std::string& src : hw.feature_sources) perf_features += src == "perf_event";
  // A perf_event feature exists iff hardware counters counted; the source says so.
  EXPECT_EQ(perf_features > 0, !available_hardware.empty());
  EXPECT_EQ(hw.source, perf_features > 0 ? "perf_event+probes" : "probes");
  if (available_hardware.count("cycles") && available_hardware.count("instructions")) {
    EXPECT_GT(hw.Feature("perf_fma_ipc"), 0);
  } else {
    EXPECT_TRUE(std::isnan(hw.Feature("perf_fma_ipc")));
  }
  // Software counters: task clock, page faults and context switches always have a path.
  for (const char* name : {"sw_task_clock_seconds", "sw_page_faults", "sw_context_switches"}) {
    const double v = hw.Feature(name);
    EXPECT_TRUE(std::isfinite(v) && v >= 0) << name << " = " << v;
    EXPECT_EQ(hw.FeatureSource(name), "software_counter");
  }
  EXPECT_GT(hw.Feature("sw_task_clock_seconds"), 0);
}

TEST(HardwareDescriptor, IdIsStableAndHashesOnlyStaticFacts) {
  const HardwareDescriptor& first = QuickDescriptor();
  HardwareOptions facts_only;
  facts_only.probe_fma = facts_only.probe_triad = facts_only.probe_latency = false;
  StatusOr<HardwareDescriptor> second = DescribeThisMachine(facts_only);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->source, "facts");
  EXPECT_TRUE(std::isnan(second->Feature("probe_fma_gflops")));
  EXPECT_EQ(first.id, second->id);
  EXPECT_EQ(first.id_basis, second->id_basis);
  EXPECT_EQ(first.id, HardwareIdFromBasis(first.id_basis));
  ASSERT_EQ(first.id.size(), 19u);
  EXPECT_EQ(first.id.substr(0, 3), "hw-");
  EXPECT_EQ(first.id.find_first_not_of("0123456789abcdef", 3), std::string::npos);
  EXPECT_EQ(first.id_basis.find("probe_"), std::string::npos);
  EXPECT_NE(HardwareIdFromBasis("a"), HardwareIdFromBasis("b"));
}

TEST(HardwareDescriptorJson, RoundTrips) {
  const HardwareDescriptor& hw = QuickDescriptor();
  const std::string json = HardwareDescriptorToJson(hw);
  StatusOr<HardwareDescriptor> back = HardwareDescriptorFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, hw.id);
  EXPECT_EQ(back->device_name, hw.device_name);
  EXPECT_EQ(back->vendor, hw.vendor);
  EXPECT_EQ(back->source, hw.source);
  EXPECT_EQ(back->id_basis, hw.id_basis);
  EXPECT_EQ(back->feature_names, hw.feature_names);
  EXPECT_EQ(back->feature_sources, hw.feature_sources);
  EXPECT_EQ(back->feature_units, hw.feature_units);
  ASSERT_EQ(back->features.size(), hw.features.size());
  for (Eigen::Index i = 0; i < hw.features.size(); ++i) {
    EXPECT_EQ(back->features[i], hw.features[i]) << hw.feature_names[i];
  }
  ASSERT_EQ(back->counters.size(), hw.counters.size());
  for (size_t i = 0; i < hw.counters.size(); ++i) {
    EXPECT_EQ(back->counters[i].name, hw.counters[i].name);
    EXPECT_EQ(back->counters[i].available, hw.counters[i].available);
    EXPECT_EQ(back->counters[i].error, hw.counters[i].error);
  }
  ASSERT_EQ(back->probes.size(), hw.probes.size());
  EXPECT_EQ(back->notes, hw.notes);
  EXPECT_EQ(HardwareDescriptorToJson(*back), json);  // a fixed point

  // The JSON names every feature with its value, unit and source.
  const nlohmann::json j = nlohmann::json::parse(json);
  for (const auto& f : j.at("features")) {
    EXPECT_TRUE(f.at("name").is_string());
    EXPECT_TRUE(f.at("value").is_number());
    EXPECT_TRUE(f.at("unit").is_string());
    EXPECT_TRUE(f.at("source").is_string());
  }
  for (const auto& c : j.at("counters")) {
    EXPECT_TRUE(c.at("available").is_boolean());
    if (!c.at("available").get<bool>()) EXPECT_FALSE(c.at("error").get<std::string>().empty());
  }
}

TEST(HardwareDescriptorJson, MalformedInputGivesAnError) {
  for (const char* bad : {"", "not json", "[]", "{}", R"({"id": 3, "features": []})",
                          R"({"id": "hw-1"})", R"({"id": "hw-1", "features": [{"value": 1}]})",
                          R"({"id": "hw-1", "features": [{"name": "a", "value": "x"}]})",
                          R"({"id": "hw-1", "features": [{"name": "a", "value": 1},
                                                         {"name": "a", "value": 2}]})"}) {
    StatusOr<HardwareDescriptor> hw = HardwareDescriptorFromJson(bad);
    EXPECT_FALSE(hw.ok()) << bad;
    if (!hw.ok()) EXPECT_EQ(hw.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  StatusOr<HardwareDescriptor> minimal =
      HardwareDescriptorFromJson(R"({"id": "hw-1", "features": [{"name": "a", "value": 1}]})");
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_EQ(minimal->Feature("a"), 1);
}

// `sonar hw describe --json` prints one object with the descriptor's fields. Skipped when the
// executable has not been built (this binary does not depend on it).
TEST(HardwareCli, DescribeJsonPrintsOneObject) {
  if (!std::filesystem::exists(SONAR_CLI_PATH)) GTEST_SKIP() << "no " << SONAR_CLI_PATH;
  const std::string cmd = std::string(SONAR_CLI_PATH) + " hw describe --json --no-probes";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  ASSERT_EQ(status, 0) << out;
  StatusOr<HardwareDescriptor> hw = HardwareDescriptorFromJson(out);
  ASSERT_TRUE(hw.ok()) << hw.status().ToString() << "\n" << out;
  EXPECT_EQ(hw->id, QuickDescriptor().id);
  EXPECT_GE(hw->Feature("cpu_logical_cores"), 1);
}

}  // namespace
}  // namespace sonar
