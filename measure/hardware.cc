// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// DescribeThisMachine: static facts (CPUID, sysfs, sysconf), probes with counters, the id, and
// the JSON form. See docs/hardware.md for every feature, its unit and its source.
#include "measure/hardware.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#if defined(__linux__)
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "common/random.h"
#include "common/statistics.h"
#include "measure/hardware_probes.h"
#include "measure/perf_counters.h"

namespace sonar {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
constexpr int64_t kGiB = 1024 * kMiB;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ------------------------------------------------------------------------------ static facts

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// "32K" -> 32768, "1024K", "32M", "48" -> bytes; 0 when unparsable.
int64_t ParseSysfsSize(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || v <= 0) return 0;
  switch (*end) {
    case '\0': return v;
    case 'K': return v * kKiB;
    case 'M': return v * kMiB;
    case 'G': return v * kGiB;
    default: return 0;
  }
}

struct CacheFact {
  int64_t bytes = 0;
  std::string source;
};

// Caches of cpu0 by key "l1d", "l1i", "l2", "l3", "line".
using CacheFacts = std::map<std::string, CacheFact>;

std::string CacheKey(int level, const std::string& type) {
  if (level == 1 && type == "data") return "l1d";
  if (level == 1 && type == "instruction") return "l1i";
  if (level >= 2 && level <= 4 && type != "instruction") return "l" + std::to_string(level);
  return "";
}

CacheFacts SysfsCaches() {
  CacheFacts out;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string level = ReadSmallFile(dir + "level");
    if (level.empty()) continue;
    std::string type = ReadSmallFile(dir + "type");
    std::transform(type.begin(), type.end(), type.begin(), ::tolower);
    const std::string key = CacheKey(std::atoi(level.c_str()), type);
    const int64_t size = ParseSysfsSize(ReadSmallFile(dir + "size"));
    if (!key.empty() && size > 0) out[key] = {size, "sysfs"};
    const int64_t line = ParseSysfsSize(ReadSmallFile(dir + "coherency_line_size"));
    if (line > 0 && !out.count("line")) out["line"] = {line, "sysfs"};
  }
  return out;
}

CacheFacts CpuidCaches(const internal::CpuidFacts& f) {
  CacheFacts out;
  for (const internal::CpuidCache& c : f.caches) {
    const std::string key = CacheKey(c.level, c.type);
    if (!key.empty() && c.size_bytes > 0) out[key] = {c.size_bytes, "cpuid"};
    if (c.line_bytes > 0 && !out.count("line")) out["line"] = {c.line_bytes, "cpuid"};
  }
  return out;
}

CacheFacts SysconfCaches() {
  CacheFacts out;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  const std::pair<const char*, int> names[] = {
      {"l1d", _SC_LEVEL1_DCACHE_SIZE}, {"l1i", _SC_LEVEL1_ICACHE_SIZE},
      {"l2", _SC_LEVEL2_CACHE_SIZE},   {"l3", _SC_LEVEL3_CACHE_SIZE},
      {"l4", _SC_LEVEL4_CACHE_SIZE},   {"line", _SC_LEVEL1_DCACHE_LINESIZE}};
  for (const auto& [key, name] : names) {
    const long v = sysconf(name);
    if (v > 0) out[key] = {v, "sysconf"};
  }
#endif
  return out;
}

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; empty on a parse error.
std::vector<int> ParseCpuList(const std::string& list) {
  std::vector<int> out;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) {
    int lo = 0, hi = 0;
    if (std::sscanf(part.c_str(), "%d-%d", &lo, &hi) == 2) {
      if (lo < 0 || hi < lo || hi > 65535) return {};
      for (int c = lo; c <= hi; ++c) out.push_back(c);
    } else if (std::sscanf(part.c_str(), "%d", &lo) == 1 && lo >= 0) {
      out.push_back(lo);
    } else {
      return {};
    }
  }
  return out;
}

// Physical cores and packages from the sysfs topology of the online CPUs; 0 when unknown.
void SysfsTopology(int* physical_cores, int* packages) {
  *physical_cores = 0;
  *packages = 0;
  std::set<std::pair<std::string, std::string>> cores;
  std::set<std::string> pkgs;
  for (int cpu : ParseCpuList(ReadSmallFile("/sys/devices/system/cpu/online"))) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    const std::string pkg = ReadSmallFile(dir + "physical_package_id");
    const std::string core = ReadSmallFile(dir + "core_id");
    if (pkg.empty() || core.empty()) return;  // incomplete topology: unknown
    cores.insert({pkg, core});
    pkgs.insert(pkg);
  }
  *physical_cores = static_cast<int>(cores.size());
  *packages = static_cast<int>(pkgs.size());
}

std::string ProcCpuinfoModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string v = line.substr(colon + 1);
      const size_t b = v.find_first_not_of(" \t");
      return b == std::string::npos ? "" : v.substr(b);
    }
  }
  return "";
}

std::string FormatNumber(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%.17g", v);
  }
  return buf;
}

// Static facts: model, cores, SIMD, caches. Fills `hw` features and notes; returns the id basis.
void AddStaticFacts(const internal::CpuidFacts& cpuid, HardwareDescriptor* hw,
                    std::vector<std::string>* notes) {
  hw->vendor = cpuid.vendor;
  hw->device_name = cpuid.brand;
  if (hw->device_name.empty()) hw->device_name = ProcCpuinfoModelName();
  if (hw->device_name.empty()) hw->device_name = "unknown CPU";

#if defined(_SC_NPROCESSORS_ONLN)
  const long logical = sysconf(_SC_NPROCESSORS_ONLN);
  if (logical > 0) hw->AddFeature("cpu_logical_cores", logical, "count", "sysconf");
#endif
  int physical = 0, packages = 0;
  SysfsTopology(&physical, &packages);
  if (physical > 0) hw->AddFeature("cpu_physical_cores", physical, "count", "sysfs");
  if (packages > 0) hw->AddFeature("cpu_packages", packages, "count", "sysfs");

  if (cpuid.valid) {
    hw->AddFeature("cpu_family", cpuid.family, "id", "cpuid");
    hw->AddFeature("cpu_model", cpuid.model, "id", "cpuid");
    hw->AddFeature("cpu_stepping", cpuid.stepping, "id", "cpuid");
    const std::pair<const char*, bool> flags[] = {
        {"simd_sse", cpuid.sse},           {"simd_sse2", cpuid.sse2},
        {"simd_sse3", cpuid.sse3},         {"simd_ssse3", cpuid.ssse3},
        {"simd_sse4_1", cpuid.sse4_1},     {"simd_sse4_2", cpuid.sse4_2},
        {"simd_avx", cpuid.avx},           {"simd_avx2", cpuid.avx2},
        {"simd_fma", cpuid.fma},           {"simd_avx512f", cpuid.avx512f},
        {"simd_avx512dq", cpuid.avx512dq}, {"simd_avx512bw", cpuid.avx512bw},
        {"simd_avx512vl", cpuid.avx512vl}, {"simd_avx512_vnni", cpuid.avx512_vnni}};
    for (const auto& [name, on] : flags) hw->AddFeature(name, on ? 1 : 0, "flag", "cpuid");
    const int width = cpuid.avx512f ? 512 : cpuid.avx ? 256 : cpuid.sse ? 128 : 0;
    if (width > 0) hw->AddFeature("simd_max_width_bits", width, "bits", "cpuid");
  }

  // Caches: sysfs first (the kernel's view, corrected for quirks), then CPUID, then sysconf.
  // glibc's sysconf has been seen to report an AMD L3 ten times too large; disagreements are
  // noted, never averaged.
  const CacheFacts sources[] = {SysfsCaches(), CpuidCaches(cpuid), SysconfCaches()};
  const std::pair<const char*, const char*> caches[] = {
      {"l1d", "cache_l1d_bytes"}, {"l1i", "cache_l1i_bytes"}, {"l2", "cache_l2_bytes"},
      {"l3", "cache_l3_bytes"},   {"l4", "cache_l4_bytes"},   {"line", "cache_line_bytes"}};
  for (const auto& [key, feature] : caches) {
    const CacheFact* chosen = nullptr;
    for (const CacheFacts& s : sources) {
      auto it = s.find(key);
      if (it == s.end()) continue;
      if (chosen == nullptr) {
        chosen = &it->second;
      } else if (it->second.bytes != chosen->bytes) {
        notes->push_back(std::string(feature) + ": " + it->second.source + " says " +
                         std::to_string(it->second.bytes) + ", " + chosen->source + " says " +
                         std::to_string(chosen->bytes) + "; using " + chosen->source);
      }
    }
    if (chosen != nullptr) {
      hw->AddFeature(feature, static_cast<double>(chosen->bytes), "bytes", chosen->source);
    }
  }

#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    hw->AddFeature("memory_total_bytes", static_cast<double>(pages) * static_cast<double>(page),
                   "bytes", "sysconf");
  }
#endif
}

// The canonical text of the static facts: vendor, model name and every cpuid/sysfs/sysconf
// feature except memory_total_bytes (memory size is not a property of the CPU).
std::string IdBasis(const HardwareDescriptor& hw) {
  std::string basis = "vendor=" + hw.vendor + ";name=" + hw.device_name;
  for (size_t i = 0; i < hw.feature_names.size(); ++i) {
    const std::string& src = hw.feature_sources[i];
    if (src != "cpuid" && src != "sysfs" && src != "sysconf") continue;
    if (hw.feature_names[i] == "memory_total_bytes") continue;
    basis += ";" + hw.feature_names[i] + "=" + FormatNumber(hw.features[i]);
  }
  return basis;
}

// ------------------------------------------------------------------------------ probes

// Restores the thread's CPU affinity on destruction.
class PinGuard {
 public:
  explicit PinGuard(bool pin) {
#if defined(__linux__)
    if (!pin) return;
    if (sched_getaffinity(0, sizeof(saved_), &saved_) != 0) return;
    const int cpu = sched_getcpu();
    if (cpu < 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
#else
    (void)pin;
#endif
  }
  ~PinGuard() {
#if defined(__linux__)
    if (pinned_) (void)sched_setaffinity(0, sizeof(saved_), &saved_);
#endif
  }
  PinGuard(const PinGuard&) = delete;
  PinGuard& operator=(const PinGuard&) = delete;

 private:
#if defined(__linux__)
  cpu_set_t saved_;
#endif
  bool pinned_ = false;
};

// Memory for a probe, 2 MiB aligned with transparent huge pages requested, so that the
// latency probes measure caches and DRAM rather than TLB misses where the kernel allows.
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<void, FreeDeleter>;

Buffer AllocateProbeMemory(int64_t bytes) {
  const size_t align = 2 * kMiB;
  const size_t size = (static_cast<size_t>(bytes) + align - 1) / align * align;
  void* p = std::aligned_alloc(align, size);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p != nullptr) (void)madvise(p, size, MADV_HUGEPAGE);
#endif
  return Buffer(p);
}

struct Timed {
  std::vector<double> seconds;  // per repeat
  int64_t work = 0;             // work units per repeat
};

volatile uint64_t g_sink = 0;  // results of probe kernels go here so they are not elided

// Warm-up that sizes the work: grows `work` until one run takes a quarter of the target, then
// scales it to the target. `run(work)` runs `work` units.
template <typename Run>
int64_t Calibrate(const Run& run, int64_t work, int64_t max_work, double target_seconds) {
  for (;;) {
    const Clock::time_point t0 = Clock::now();
    run(work);
    const double t = SecondsSince(t0);
    if (t >= target_seconds / 4 || work >= max_work) {
      const double scaled = static_cast<double>(work) * target_seconds / std::max(t, 1e-9);
      return std::clamp<int64_t>(static_cast<int64_t>(scaled), 1, max_work);
    }
    work = std::min<int64_t>(max_work, work * 4);
  }
}

template <typename Run>
Timed TimeRepeats(const Run& run, int64_t work, int repeats) {
  Timed out;
  out.work = work;
  for (int r = 0; r < repeats; ++r) {
    const Clock::time_point t0 = Clock::now();
    run(work);
    out.seconds.push_back(SecondsSince(t0));
  }
  return out;
}

// Turns per-repeat seconds into per-repeat rates (value = per_repeat_amount / seconds, or
// seconds * scale / work for latencies) and fills a summary.
ProbeSummary Summarize(const std::string& name, const std::string& unit, const std::string& variant,
                       int64_t working_set, const Timed& t, const std::vector<double>& values) {
  ProbeSummary p;
  p.name = name;
  p.unit = unit;
  p.variant = variant;
  p.working_set_bytes = working_set;
  p.work_per_repeat = t.work;
  p.repeats = static_cast<int>(values.size());
  p.median = Median(values);
  p.min = *std::min_element(values.begin(), values.end());
  p.max = *std::max_element(values.begin(), values.end());
  return p;
}

// Everything a probe run hands back to DescribeThisMachine.
struct ProbeRun {
  ProbeSummary summary;
  internal::CounterValues counters;  // hardware counters over the timed repeats
  double timed_seconds = 0;          // wall time of the timed repeats
};

ProbeRun RunFmaProbe(const HardwareOptions& o, internal::FmaVariant v, internal::CounterGroup& hw) {
  auto run = [v](int64_t iterations) {
    g_sink = g_sink + static_cast<uint64_t>(internal::RunFmaKernel(v, iterations));
  };
  const int64_t iterations = Calibrate(run, 1 << 12, int64_t{1} << 40, o.min_repeat_seconds);
  hw.Start();
  const Timed t = TimeRepeats(run, iterations, o.repeats);
  ProbeRun out;
  out.counters = hw.Stop();
  std::vector<double> gflops;
  const double flops = static_cast<double>(iterations * internal::FmaFlopsPerIteration(v));
  for (double s : t.seconds) {
    gflops.push_back(flops / s * 1e-9);
    out.timed_seconds += s;
  }
  out.summary = Summarize("fma", "GFLOP/s", internal::FmaVariantName(v), 0, t, gflops);
  return out;
}

StatusOr<ProbeRun> RunTriadProbe(const HardwareOptions& o, int64_t array_bytes,
                                 internal::CounterGroup& hw) {
  const int64_t n = array_bytes / static_cast<int64_t>(sizeof(double));
  Buffer ba = AllocateProbeMemory(array_bytes), bb = AllocateProbeMemory(array_bytes),
         bc = AllocateProbeMemory(array_bytes);
  if (!ba || !bb || !bc) {
    return ResourceExhaustedError("triad probe: cannot allocate 3 x " +
                                  std::to_string(array_bytes) + " bytes");
  }
  double* a = static_cast<double*>(ba.get());
  double* b = static_cast<double*>(bb.get());
  double* c = static_cast<double*>(bc.get());
  for (int64_t i = 0; i < n; ++i) {
    a[i] = 0;
    b[i] = 1.0;
    c[i] = 2.0;
  }
  auto run = [&](int64_t passes) {
    for (int64_t p = 0; p < passes; ++p) internal::TriadKernel(a, b, c, 0.5, n);
    g_sink = g_sink + static_cast<uint64_t>(a[n / 2]);
  };
  const int64_t passes = Calibrate(run, 1, 1 << 20, o.min_repeat_seconds);
  hw.Start();
  const Timed t = TimeRepeats(run, passes, o.repeats);
  ProbeRun out;
  out.counters = hw.Stop();
  // STREAM convention: 3 x 8 bytes per element (two reads, one write; write-allocate traffic
  // is not counted).
  const double bytes = 3.0 * static_cast<double>(array_bytes) * static_cast<double>(passes);
  std::vector<double> gbps;
  for (double s : t.seconds) {
    gbps.push_back(bytes / s * 1e-9);
    out.timed_seconds += s;
  }
  out.summary = Summarize("triad", "GB/s", "fp64", 3 * array_bytes, t, gbps);
  return out;
}

// Pointer chase over a random cyclic permutation of the cache lines of `bytes` bytes.
StatusOr<ProbeRun> RunLatencyProbe(const HardwareOptions& o, const std::string& name, int64_t bytes,
                                   int64_t line_bytes, uint64_t stream,
                                   internal::CounterGroup& hw) {
  const int64_t stride = std::max<int64_t>(1, line_bytes / 8);  // uint64 per line
  const int64_t lines = std::max<int64_t>(2, bytes / (stride * 8));
  Buffer buffer = AllocateProbeMemory(lines * stride * 8);
  if (!buffer) {
    return ResourceExhaustedError(name + " probe: cannot allocate " + std::to_string(bytes) +
                                  " bytes");
  }
  uint64_t* next = static_cast<uint64_t*>(buffer.get());
  {
    // A random order of the lines, linked into one cycle: every load misses the line before.
    std::vector<uint32_t> order(static_cast<size_t>(lines));
    for (int64_t i = 0; i < lines; ++i) order[i] = static_cast<uint32_t>(i);
    Rng rng = MakeRng(o.seed, stream);
    for (int64_t i = lines - 1; i > 0; --i) {
      std::swap(order[i], order[UniformInt(rng, 0, i)]);
    }
    for (int64_t i = 0; i < lines; ++i) {
      next[static_cast<int64_t>(order[i]) * stride] =
          static_cast<uint64_t>(order[(i + 1) % lines]) * stride;
    }
  }
  uint64_t p = 0;
  auto run = [&](int64_t loads) { p = internal::ChaseKernel(next, loads, p); };
  const int64_t loads = Calibrate(run, 1 << 12, int64_t{1} << 36, o.min_repeat_seconds);
  hw.Start();
  const Timed t = TimeRepeats(run, loads, o.repeats);
  ProbeRun out;
  out.counters = hw.Stop();
  g_sink = g_sink + p;
  std::vector<double> ns;
  for (double s : t.seconds) {
    ns.push_back(s / static_cast<double>(loads) * 1e9);
    out.timed_seconds += s;
  }
  out.summary = Summarize(name, "ns", "pointer_chase", lines * stride * 8, t, ns);
  return out;
}

// Derived hardware-counter features of one probe, present only when their counters counted.
void AddCounterFeatures(const std::string& probe, const ProbeRun& run,
                        const internal::CounterGroup& hw, HardwareDescriptor* out) {
  auto value = [&](const char* name) {
    if (!hw.available(name)) return kNaN;
    auto it = run.counters.find(name);
    return it == run.counters.end() ? kNaN : it->second;
  };
  const double cycles = value("cycles"), instructions = value("instructions");
  const double refs = value("cache_references"), misses = value("cache_misses");
  const double branch_misses = value("branch_misses");
  const std::string p = "perf_" + probe + "_";
  auto add = [&](const std::string& name, double v, const char* unit) {
    if (std::isfinite(v)) out->AddFeature(p + name, v, unit, "perf_event");
  };
  if (cycles > 0 && instructions >= 0) add("ipc", instructions / cycles, "ratio");
  if (cycles > 0 && run.timed_seconds > 0) add("ghz", cycles / run.timed_seconds * 1e-9, "GHz");
  if (refs > 0 && misses >= 0) add("cache_miss_ratio", misses / refs, "ratio");
  if (instructions > 0 && misses >= 0) {
    add("cache_misses_per_kinstr", misses / instructions * 1e3, "per 1000 instructions");
  }
  if (instructions > 0 && branch_misses >= 0) {
    add("branch_misses_per_kinstr", branch_misses / instructions * 1e3, "per 1000 instructions");
  }
}

}  // namespace

// ------------------------------------------------------------------------------ public API

double HardwareDescriptor::Feature(const std::string& name) const {
  for (size_t i = 0; i < feature_names.size() && i < static_cast<size_t>(features.size()); ++i) {
    if (feature_names[i] == name) return features[static_cast<Eigen::Index>(i)];
  }
  return kNaN;
}

std::string HardwareDescriptor::FeatureSource(const std::string& name) const {
  for (size_t i = 0; i < feature_names.size() && i < feature_sources.size(); ++i) {
    if (feature_names[i] == name) return feature_sources[i];
  }
  return "";
}

void HardwareDescriptor::AddFeature(const std::string& name, double value, const std::string& unit,
                                    const std::string& feature_source) {
  SONAR_CHECK(std::find(feature_names.begin(), feature_names.end(), name) == feature_names.end())
      << "feature '" << name << "' added twice";
  SONAR_CHECK(static_cast<size_t>(features.size()) == feature_names.size())
      << "features and feature_names differ in length";
  feature_names.push_back(name);
  feature_sources.push_back(feature_source);
  feature_units.resize(feature_names.size() - 1);
  feature_units.push_back(unit);
  features.conservativeResize(features.size() + 1);
  features[features.size() - 1] = value;
}

HardwareOptions HardwareOptions::Quick() {
  HardwareOptions o;
  o.repeats = 3;
  o.min_repeat_seconds = 0.004;
  o.triad_array_bytes = 16 * kMiB;
  o.latency_memory_bytes = 64 * kMiB;
  return o;
}

Status HardwareOptions::Validate() const {
  if (repeats < 1 || repeats > 1000) {
    return InvalidArgumentError("HardwareOptions.repeats must be in [1, 1000], got " +
                                std::to_string(repeats));
  }
  if (!(min_repeat_seconds > 0) || min_repeat_seconds > 10) {
    return InvalidArgumentError("HardwareOptions.min_repeat_seconds must be in (0, 10], got " +
                                FormatNumber(min_repeat_seconds));
  }
  const std::pair<const char*, int64_t> sizes[] = {{"triad_array_bytes", triad_array_bytes},
                                                   {"latency_memory_bytes", latency_memory_bytes}};
  for (const auto& [name, v] : sizes) {
    if (v != 0 && (v < 4 * kKiB || v > 16 * kGiB)) {
      return InvalidArgumentError(std::string("HardwareOptions.") + name +
                                  " must be 0 (automatic) or in [4096, 16 GiB], got " +
                                  std::to_string(v));
    }
  }
  return OkStatus();
}

std::string HardwareIdFromBasis(std::string_view id_basis) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : id_basis) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof(buf), "hw-%016llx", static_cast<unsigned long long>(h));
  return buf;
}

StatusOr<HardwareDescriptor> DescribeThisMachine(const HardwareOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  const Clock::time_point t0 = Clock::now();
  HardwareDescriptor hw;
  std::vector<std::string> notes;
  const internal::CpuidFacts cpuid = internal::ReadCpuid();
  AddStaticFacts(cpuid, &hw, &notes);
  hw.id_basis = IdBasis(hw);
  hw.id = HardwareIdFromBasis(hw.id_basis);

  const bool any_probe = options.probe_fma || options.probe_triad || options.probe_latency;
  {
    PinGuard pin(options.pin_thread && any_probe);
    internal::CounterGroup hwc(internal::CounterGroup::Kind::kHardware,
                               options.try_hardware_counters && any_probe);
    internal::CounterGroup swc(internal::CounterGroup::Kind::kSoftware, options.software_counters);
    swc.Start();
    std::vector<std::pair<std::string, ProbeRun>> runs;  // feature stem -> run

    if (options.probe_fma) {
      runs.emplace_back("fma", RunFmaProbe(options, internal::BestFmaVariant(cpuid), hwc));
    }
    const double llc = [&] {
      for (const char* n : {"cache_l4_bytes", "cache_l3_bytes", "cache_l2_bytes"}) {
        const double v = hw.Feature(n);
        if (std::isfinite(v) && v > 0) return v;
      }
      return kNaN;
    }();
    if (options.probe_triad) {
      int64_t bytes = options.triad_array_bytes;
      if (bytes == 0) {
        bytes = std::isfinite(llc) ? std::max<int64_t>(static_cast<int64_t>(2 * llc), 32 * kMiB)
                                   : 64 * kMiB;
      }
      StatusOr<ProbeRun> r = RunTriadProbe(options, bytes, hwc);
      if (!r.ok()) return r.status();
      runs.emplace_back("triad", std::move(*r));
    }
    if (options.probe_latency) {
      const double line_f = hw.Feature("cache_line_bytes");
      const int64_t line = std::isfinite(line_f) && line_f >= 8 ? static_cast<int64_t>(line_f) : 64;
      const double l1 = hw.Feature("cache_l1d_bytes"), l2 = hw.Feature("cache_l2_bytes"),
                   l3 = hw.Feature("cache_l3_bytes");
      std::vector<std::pair<std::string, int64_t>> levels;  // probe name, working set
      // Half of each cache: the chase stays inside it despite associativity and other data.
      // L1 falls back to 16 KiB (smaller than any L1d of the last two decades); L2 and L3 are
      // skipped when their size is unknown.
      levels.push_back(
          {"latency_l1", std::isfinite(l1) ? static_cast<int64_t>(l1 / 2) : 16 * kKiB});
      if (std::isfinite(l2)) levels.push_back({"latency_l2", static_cast<int64_t>(l2 / 2)});
      if (std::isfinite(l3)) levels.push_back({"latency_l3", static_cast<int64_t>(l3 / 2)});
      int64_t mem = options.latency_memory_bytes;
      if (mem == 0) {
        mem = std::isfinite(llc) ? std::max<int64_t>(static_cast<int64_t>(4 * llc), 64 * kMiB)
                                 : 256 * kMiB;
      }
      levels.push_back({"latency_mem", mem});
      uint64_t stream = 1;
      for (const auto& [name, bytes] : levels) {
        StatusOr<ProbeRun> r = RunLatencyProbe(options, name, bytes, line, stream++, hwc);
        if (!r.ok()) return r.status();
        runs.emplace_back(name, std::move(*r));
      }
    }
    internal::CounterValues sw = swc.Stop();

    static const std::map<std::string, std::pair<std::string, std::string>> kProbeFeature = {
        {"fma", {"probe_fma_gflops", "GFLOP/s"}},
        {"triad", {"probe_triad_gbps", "GB/s"}},
        {"latency_l1", {"probe_latency_l1_ns", "ns"}},
        {"latency_l2", {"probe_latency_l2_ns", "ns"}},
        {"latency_l3", {"probe_latency_l3_ns", "ns"}},
        {"latency_mem", {"probe_latency_mem_ns", "ns"}}};
    for (const auto& [stem, run] : runs) {
      const auto& [feature, unit] = kProbeFeature.at(stem);
      hw.AddFeature(feature, run.summary.median, unit, "probe");
      hw.probes.push_back(run.summary);
    }

    internal::CounterValues totals;
    for (const auto& [stem, run] : runs) {
      for (const auto& [name, v] : run.counters) {
        if (std::isfinite(v)) totals[name] += v;
      }
    }
    hwc.MarkSilent(totals);
    bool any_hardware = false;
    for (const auto& [stem, run] : runs) {
      const size_t before = hw.feature_names.size();
      AddCounterFeatures(stem, run, hwc, &hw);
      any_hardware = any_hardware || hw.feature_names.size() > before;
    }

    const std::pair<const char*, const char*> sw_features[] = {{"task_clock", "seconds"},
                                                               {"page_faults", "count"},
                                                               {"context_switches", "count"},
                                                               {"cpu_migrations", "count"}};
    for (const auto& [name, unit] : sw_features) {
      auto it = sw.find(name);
      if (swc.available(name) && it != sw.end() && std::isfinite(it->second)) {
        hw.AddFeature(
            std::string("sw_") + name + (std::strcmp(unit, "seconds") == 0 ? "_seconds" : ""),
            it->second, unit, "software_counter");
      }
    }
    hw.counters = hwc.infos();
    hw.counters.insert(hw.counters.end(), swc.infos().begin(), swc.infos().end());
    hw.source = !any_probe ? "facts" : any_hardware ? "perf_event+probes" : "probes";
  }
  hw.describe_seconds = SecondsSince(t0);
  hw.notes = std::move(notes);
  return hw;
}

// ------------------------------------------------------------------------------ JSON

namespace {
using Json = nlohmann::ordered_json;

Json FiniteOrNull(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

double NumberOrNaN(const Json& j) { return j.is_number() ? j.get<double>() : kNaN; }

std::string StringOr(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

std::string HardwareDescriptorToJson(const HardwareDescriptor& hw) {
  Json j;
  j["id"] = hw.id;
  j["device_name"] = hw.device_name;
  j["vendor"] = hw.vendor;
  j["source"] = hw.source;
  j["id_basis"] = hw.id_basis;
  j["describe_seconds"] = hw.describe_seconds;
  Json features = Json::array();
  for (size_t i = 0; i < hw.feature_names.size(); ++i) {
    features.push_back({{"name", hw.feature_names[i]},
                        {"value", FiniteOrNull(i < static_cast<size_t>(hw.features.size())
                                                   ? hw.features[static_cast<Eigen::Index>(i)]
                                                   : kNaN)},
                        {"unit", i < hw.feature_units.size() ? hw.feature_units[i] : ""},
                        {"source", i < hw.feature_sources.size() ? hw.feature_sources[i] : ""}});
  }
  j["features"] = std::move(features);
  Json counters = Json::array();
  for (const CounterInfo& c : hw.counters) {
    counters.push_back({{"name", c.name},
                        {"kind", c.kind},
                        {"available", c.available},
                        {"method", c.method},
                        {"error", c.error}});
  }
  j["counters"] = std::move(counters);
  Json probes = Json::array();
  for (const ProbeSummary& p : hw.probes) {
    probes.push_back({{"name", p.name},
                      {"unit", p.unit},
                      {"variant", p.variant},
                      {"working_set_bytes", p.working_set_bytes},
                      {"work_per_repeat", p.work_per_repeat},
                      {"repeats", p.repeats},
                      {"median", FiniteOrNull(p.median)},
                      {"min", FiniteOrNull(p.min)},
                      {"max", FiniteOrNull(p.max)}});
  }
  j["probes"] = std::move(probes);
  j["notes"] = hw.notes;
  return j.dump();
}

StatusOr<HardwareDescriptor> HardwareDescriptorFromJson(std::string_view json) {
  const Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("hardware descriptor: not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("hardware descriptor: not a JSON object");
  auto id = j.find("id");
  if (id == j.end() || !id->is_string()) {
    return InvalidArgumentError("hardware descriptor: missing string field 'id'");
  }
  HardwareDescriptor hw;
  hw.id = id->get<std::string>();
  hw.device_name = StringOr(j, "device_name");
  hw.vendor = StringOr(j, "vendor");
  hw.source = StringOr(j, "source");
  hw.id_basis = StringOr(j, "id_basis");
  if (auto it = j.find("describe_seconds"); it != j.end()) hw.describe_seconds = NumberOrNaN(*it);
  auto features = j.find("features");
  if (features == j.end() || !features->is_array()) {
    return InvalidArgumentError("hardware descriptor: missing array field 'features'");
  }
  for (size_t i = 0; i < features->size(); ++i) {
    const Json& f = (*features)[i];
    const std::string where = "hardware descriptor: features[" + std::to_string(i) + "]";
    if (!f.is_object()) return InvalidArgumentError(where + " is not an object");
    const std::string name = StringOr(f, "name");
    if (name.empty()) return InvalidArgumentError(where + " has no string 'name'");
    auto value = f.find("value");
    if (value == f.end() || !(value->is_number() || value->is_null())) {
      return InvalidArgumentError(where + " ('" + name + "') has no numeric 'value'");
    }
    if (std::find(hw.feature_names.begin(), hw.feature_names.end(), name) !=
        hw.feature_names.end()) {
      return InvalidArgumentError(where + ": feature '" + name + "' appears twice");
    }
    hw.AddFeature(name, NumberOrNaN(*value), StringOr(f, "unit"), StringOr(f, "source"));
  }
  if (auto counters = j.find("counters"); counters != j.end() && counters->is_array()) {
    for (const Json& c : *counters) {
      if (!c.is_object()) return InvalidArgumentError("hardware descriptor: bad counter entry");
      CounterInfo info;
      info.name = StringOr(c, "name");
      info.kind = StringOr(c, "kind");
      auto a = c.find("available");
      info.available = a != c.end() && a->is_boolean() && a->get<bool>();
      info.method = StringOr(c, "method");
      info.error = StringOr(c, "error");
      hw.counters.push_back(std::move(info));
    }
  }
  if (auto probes = j.find("probes"); probes != j.end() && probes->is_array()) {
    for (const Json& p : *probes) {
      if (!p.is_object()) return InvalidArgumentError("hardware descriptor: bad probe entry");
      ProbeSummary s;
      s.name = StringOr(p, "name");
      s.unit = StringOr(p, "unit");
      s.variant = StringOr(p, "variant");
      auto integer = [&](const char* key) -> int64_t {
        auto it = p.find(key);
        return it != p.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
      };
      s.working_set_bytes = integer("working_set_bytes");
      s.work_per_repeat = integer("work_per_repeat");
      s.repeats = static_cast<int>(integer("repeats"));
      if (auto it = p.find("median"); it != p.end()) s.median = NumberOrNaN(*it);
      if (auto it = p.find("min"); it != p.end()) s.min = NumberOrNaN(*it);
      if (auto it = p.find("max"); it != p.end()) s.max = NumberOrNaN(*it);
      hw.probes.push_back(std::move(s));
    }
  }
  if (auto notes = j.find("notes"); notes != j.end() && notes->is_array()) {
    for (const Json& n : *notes) {
      if (n.is_string()) hw.notes.push_back(n.get<std::string>());
    }
  }
  return hw;
}

std::string ThisMachineTarget() {
  static const std::string target = [] {
    HardwareOptions options;
    options.probe_fma = false;
    options.probe_triad = false;
    options.probe_latency = false;
    options.try_hardware_counters = false;
    options.software_counters = false;
    struct utsname u;
    const std::string arch = uname(&u) == 0 ? u.machine : "unknown";
    StatusOr<HardwareDescriptor> hw = DescribeThisMachine(options);
    return "cpu-" + arch + (hw.ok() ? " " + hw->id : "");
  }();
  return target;
}

}  // namespace sonar
