// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// QueryCudaDevice: build the embedded device-query program with nvcc (cached), run it as a
// child, parse its JSON line; CudaDeviceDescriptor: the HardwareDescriptor of the answer.
#include "measure/cuda/cuda_device.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "measure/child_process.h"
#include "measure/cuda/cuda_sources.h"
#include "space/task.h"

namespace sonar {
namespace {

namespace fs = std::filesystem;

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] != '\0') {
    return std::string(xdg) + "/sonar/kernels";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    return std::string(home) + "/.cache/sonar/kernels";
  }
  return "/tmp/sonar-kernels-" + std::to_string(getuid());
}

// The query program's executable, built on first use; "" and *error on failure.
std::string BuildQueryProgram(const CudaOptions& cuda, const std::string& cache_dir,
                              std::string* error) {
  const std::string nvcc = FindProgram(ResolveNvcc(cuda));
  if (nvcc.empty()) {
    *error =
        "nvcc ('" + ResolveNvcc(cuda) + "') not found; install the CUDA toolkit or pass --nvcc";
    return "";
  }
  ChildOptions version;
  version.argv = {nvcc, "--version"};
  version.timeout_s = 30;
  ChildResult v = RunChild(version);
  if (!v.ok()) {
    *error = "cannot run '" + nvcc + " --version': " + (v.error.empty() ? v.stderr_text : v.error);
    return "";
  }
  const std::string dir = cache_dir.empty() ? DefaultCacheDir() : cache_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return "";
  }
  const std::string key = Hex64(Fnv1a64(std::string(internal::kCudaDeviceQuerySource) + "\x1f" +
                                        nvcc + "\x1f" + v.stdout_text));
  const std::string binary = dir + "/cuda-device-query-" + key;
  if (access(binary.c_str(), X_OK) == 0) return binary;
  const std::string unique = std::to_string(getpid());
  const std::string src = dir + "/cuda-device-query-" + key + "-" + unique + ".cu";
  {
    std::ofstream out(src, std::ios::binary | std::ios::trunc);
    out << internal::kCudaDeviceQuerySource;
    if (!out) {
      *error = "cannot write " + src;
      return "";
    }
  }
  const std::string tmp = binary + ".tmp-" + unique;
  ChildOptions c;
  c.argv = {nvcc, "-O2", "-o", tmp, src};
  c.timeout_s = 300;
  ChildResult r = RunChild(c);
  std::remove(src.c_str());
  if (!r.ok()) {
    std::remove(tmp.c_str());
    *error = "nvcc could not build the device-query program: " +
             (r.timed_out ? std::string("timed out") : FirstLines(r.stderr_text, 6) + r.error);
    return "";
  }
  if (std::rename(tmp.c_str(), binary.c_str()) != 0) {
    *error = "cannot rename " + tmp;
    return "";
  }
  return binary;
}

}  // namespace

StatusOr<CudaDeviceInfo> ParseCudaDeviceJson(std::string_view stdout_text, int device) {
  std::string line, error_line;
  std::istringstream in{std::string(stdout_text)};
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("{\"sonar_cuda_device\":", 0) == 0) line = l;
    if (l.rfind("{\"sonar_cuda_error\":", 0) == 0) error_line = l;
  }
  if (line.empty()) {
    if (!error_line.empty()) {
      StatusOr<CudaHarnessError> e = ParseCudaHarnessError(error_line);
      if (e.ok()) {
        return FailedPreconditionError("no usable CUDA device " + std::to_string(device) + ": " +
                                       e->name + " (" + e->message + ")");
      }
    }
    return FailedPreconditionError("the CUDA device query printed no result for device " +
                                   std::to_string(device));
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("malformed CUDA device query line: " + line.substr(0, 200));
  }
  CudaDeviceInfo d;
  auto get_int = [&](const char* key, auto* out) {
    if (j.contains(key) && j[key].is_number_integer()) {
      *out = j[key].get<std::remove_reference_t<decltype(*out)>>();
    }
  };
  auto get_double = [&](const char* key, double* out) {
    if (j.contains(key) && j[key].is_number()) *out = j[key].get<double>();
  };
  get_int("device", &d.device);
  get_int("device_count", &d.device_count);
  if (j.contains("name") && j["name"].is_string()) d.name = j["name"].get<std::string>();
  if (j.contains("uuid") && j["uuid"].is_string()) d.uuid = j["uuid"].get<std::string>();
  get_int("major", &d.major);
  get_int("minor", &d.minor);
  get_int("sm_count", &d.sm_count);
  get_int("clock_khz", &d.clock_khz);
  get_int("memory_clock_khz", &d.memory_clock_khz);
  get_int("memory_bus_bits", &d.memory_bus_bits);
  get_int("global_memory_bytes", &d.global_memory_bytes);
  get_int("l2_bytes", &d.l2_bytes);
  get_int("shared_per_block_bytes", &d.shared_per_block_bytes);
  get_int("shared_per_block_optin_bytes", &d.shared_per_block_optin_bytes);
  get_int("shared_per_sm_bytes", &d.shared_per_sm_bytes);
  get_int("regs_per_block", &d.regs_per_block);
  get_int("regs_per_sm", &d.regs_per_sm);
  get_int("max_threads_per_block", &d.max_threads_per_block);
  get_int("max_threads_per_sm", &d.max_threads_per_sm);
  get_int("warp_size", &d.warp_size);
  get_int("driver_version", &d.driver_version);
  get_int("runtime_version", &d.runtime_version);
  get_double("probe_fma_gflops", &d.probe_fma_gflops);
  get_double("probe_bandwidth_gbs", &d.probe_bandwidth_gbs);
  if (d.name.empty() || d.major <= 0) {
    return InvalidArgumentError("CUDA device query line lacks name or compute capability: " +
                                line.substr(0, 200));
  }
  return d;
}

StatusOr<CudaDeviceInfo> QueryCudaDevice(const CudaOptions& cuda, bool probes,
                                         const std::string& cache_dir) {
  SONAR_RETURN_IF_ERROR(cuda.Validate());
  std::string error;
  const std::string program = BuildQueryProgram(cuda, cache_dir, &error);
  if (program.empty()) return FailedPreconditionError(error);
  ChildOptions c;
  c.argv = {program, std::to_string(cuda.device), probes ? "1" : "0"};
  c.timeout_s = 120;
  const auto t0 = std::chrono::steady_clock::now();
  ChildResult r = RunChild(c);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.started) return FailedPreconditionError("cannot run the CUDA device query: " + r.error);
  if (r.timed_out) return FailedPreconditionError("the CUDA device query timed out after 120 s");
  if (r.term_signal != 0) {
    return FailedPreconditionError("the CUDA device query died on signal " +
                                   std::to_string(r.term_signal));
  }
  StatusOr<CudaDeviceInfo> info = ParseCudaDeviceJson(r.stdout_text, cuda.device);
  if (info.ok()) info->query_seconds = seconds;
  return info;
}

HardwareDescriptor CudaDeviceDescriptor(const CudaDeviceInfo& d) {
  HardwareDescriptor hw;
  hw.device_name = d.name;
  hw.vendor = "NVIDIA";
  const std::string facts = "cuda_runtime";
  auto add = [&](const char* name, double v, const char* unit, const std::string& source) {
    if (v >= 0 && std::isfinite(v)) hw.AddFeature(name, v, unit, source);
  };
  add("cuda_compute_capability", d.major + d.minor / 10.0, "version", facts);
  add("cuda_sm_count", d.sm_count, "count", facts);
  add("cuda_clock_ghz", d.clock_khz > 0 ? d.clock_khz * 1e-6 : -1, "GHz", facts);
  add("cuda_memory_clock_ghz", d.memory_clock_khz > 0 ? d.memory_clock_khz * 1e-6 : -1, "GHz",
      facts);
  add("cuda_memory_bus_bits", d.memory_bus_bits, "bits", facts);
  add("cuda_global_memory_bytes", static_cast<double>(d.global_memory_bytes), "bytes", facts);
  add("cuda_l2_bytes", static_cast<double>(d.l2_bytes), "bytes", facts);
  add("cuda_shared_per_block_bytes", static_cast<double>(d.shared_per_block_bytes), "bytes", facts);
  add("cuda_shared_per_block_optin_bytes", static_cast<double>(d.shared_per_block_optin_bytes),
      "bytes", facts);
  add("cuda_shared_per_sm_bytes", static_cast<double>(d.shared_per_sm_bytes), "bytes", facts);
  add("cuda_regs_per_block", d.regs_per_block, "count", facts);
  add("cuda_regs_per_sm", d.regs_per_sm, "count", facts);
  add("cuda_max_threads_per_block", d.max_threads_per_block, "count", facts);
  add("cuda_max_threads_per_sm", d.max_threads_per_sm, "count", facts);
  add("cuda_warp_size", d.warp_size, "count", facts);
  if (d.sm_count > 0 && d.clock_khz > 0) {
    // 128 fp32 lanes per SM on every NVIDIA architecture since Maxwell except sm_60 / sm_70-75
    // (64): a peak estimate, labelled as such.
    const int lanes = (d.major == 6 && d.minor == 0) || d.major == 7 ? 64 : 128;
    add("cuda_peak_fp32_gflops_estimate", 2.0 * lanes * d.sm_count * d.clock_khz * 1e-6, "GFLOP/s",
        facts);
  }
  if (d.memory_clock_khz > 0 && d.memory_bus_bits > 0) {
    add("cuda_peak_bandwidth_gbs_estimate",
        2.0 * d.memory_clock_khz * 1e3 * (d.memory_bus_bits / 8.0) * 1e-9, "GB/s", facts);
  }
  add("probe_gpu_fma_gflops", d.probe_fma_gflops, "GFLOP/s", "probe");
  add("probe_gpu_bandwidth_gbs", d.probe_bandwidth_gbs, "GB/s", "probe");
  hw.source = std::isfinite(d.probe_fma_gflops) ? "cuda_runtime+probes" : "cuda_runtime";
  char basis[512];
  std::snprintf(basis, sizeof basis, "cuda|%s|sm_%d%d|sms=%d|mem=%lld|l2=%lld", d.name.c_str(),
                d.major, d.minor, d.sm_count, static_cast<long long>(d.global_memory_bytes),
                static_cast<long long>(d.l2_bytes));
  hw.id_basis = basis;
  hw.id = HardwareIdFromBasis(hw.id_basis);
  hw.describe_seconds = d.query_seconds;
  hw.notes.push_back("CUDA device " + std::to_string(d.device) + " of " +
                     std::to_string(d.device_count) + ", uuid " + d.uuid + ", driver " +
                     std::to_string(d.driver_version) + ", runtime " +
                     std::to_string(d.runtime_version));
  return hw;
}

std::string CudaTarget(const CudaDeviceInfo& info) {
  return "cuda-sm_" + std::to_string(info.major) + std::to_string(info.minor) + " " +
         CudaDeviceDescriptor(info).id;
}

}  // namespace sonar
