// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// CudaOptions, the build-time defaults (SONAR_WITH_CUDA, the nvcc path, the default -arch: this
// file alone gets them as compile definitions, measure/cuda/cuda.cmake) and the classification of
// what nvcc and the CUDA harness report. MakeCudaMeasurer itself is in measure/local_measurer.cc:
// it is the local measurer with a CUDA backend.
#include "measure/cuda/cuda_measurer.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

#include "measure/child_process.h"
#include "measure/cuda/cuda_sources.h"

#ifndef SONAR_WITH_CUDA
#define SONAR_WITH_CUDA 0
#endif
#ifndef SONAR_NVCC_DEFAULT
#define SONAR_NVCC_DEFAULT "nvcc"
#endif
#ifndef SONAR_CUDA_ARCH_DEFAULT
#define SONAR_CUDA_ARCH_DEFAULT ""
#endif

namespace sonar {
namespace {

constexpr int kErrorLines = 12;

bool ValidArch(const std::string& arch) {
  // sm_90, sm_90a, compute_90, native, all, all-major
  if (arch == "native" || arch == "all" || arch == "all-major") return true;
  const std::string::size_type u = arch.find('_');
  if (u == std::string::npos || u + 1 >= arch.size()) return false;
  for (char c : arch) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

void AppendLines(std::string* msg, const std::string& text) {
  const std::string lines = FirstLines(text, kErrorLines);
  if (lines.empty()) return;
  if (!msg->empty()) *msg += "\n";
  *msg += lines;
}

}  // namespace

Status CudaOptions::Validate() const {
  if (device < 0) return InvalidArgumentError("CudaOptions: device must be >= 0");
  if (!arch.empty() && !ValidArch(arch)) {
    return InvalidArgumentError("CudaOptions: arch '" + arch +
                                "' is not an nvcc architecture such as sm_90");
  }
  for (const std::string& f : flags) {
    if (f.empty()) return InvalidArgumentError("CudaOptions: flags hold an empty entry");
  }
  return OkStatus();
}

bool SonarBuiltWithCuda() { return SONAR_WITH_CUDA != 0; }

std::string ResolveNvcc(const CudaOptions& cuda) {
  if (!cuda.nvcc.empty()) return cuda.nvcc;
  return SONAR_NVCC_DEFAULT;
}

std::string CudaArchFor(const CudaOptions& cuda, int major, int minor) {
  if (!cuda.arch.empty()) return cuda.arch;
  const std::string built = SONAR_CUDA_ARCH_DEFAULT;
  if (!built.empty()) return built;
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

CompileCacheOptions CudaCompileCacheOptions(const MeasureOptions& options, const CudaOptions& cuda,
                                            const std::string& arch) {
  CompileCacheOptions co;
  co.compiler = ResolveNvcc(cuda);
  co.flags = {"-arch=" + arch};
  co.flags.insert(co.flags.end(), cuda.flags.begin(), cuda.flags.end());
  co.cache_dir = options.cache_dir;
  co.use_cache = options.use_cache;
  co.keep_sources = options.keep_sources;
  co.compile_timeout_s = options.compile_timeout_s;
  co.harness_source = internal::kCudaHarnessMainSource;
  co.source_extension = ".cu";
  co.link_flags = {};
  return co;
}

StatusOr<CudaHarnessError> ParseCudaHarnessError(const std::string& stdout_text) {
  std::string line;
  std::istringstream in(stdout_text);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("{\"sonar_cuda_error\":", 0) == 0) line = l;
  }
  if (line.empty()) return NotFoundError("no {\"sonar_cuda_error\": ...} line");
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("class") || !j["class"].is_string()) {
    return InvalidArgumentError("malformed CUDA harness error line: " + line.substr(0, 200));
  }
  CudaHarnessError e;
  e.error_class = j["class"].get<std::string>();
  if (j.contains("phase") && j["phase"].is_string()) e.phase = j["phase"].get<std::string>();
  if (j.contains("code") && j["code"].is_number_integer()) e.code = j["code"].get<int>();
  if (j.contains("name") && j["name"].is_string()) e.name = j["name"].get<std::string>();
  if (j.contains("message") && j["message"].is_string()) {
    e.message = j["message"].get<std::string>();
  }
  return e;
}

void ClassifyCudaExit(int exit_code, const std::string& stdout_text, const std::string& stderr_text,
                      int device, MeasureStatus* status, std::string* error_msg) {
  StatusOr<CudaHarnessError> e = ParseCudaHarnessError(stdout_text);
  std::string klass;
  if (e.ok()) {
    klass = e->error_class;
  } else if (exit_code == kCudaExitLaunch) {
    klass = "launch";
  } else if (exit_code == kCudaExitRuntime) {
    klass = "runtime";
  } else if (exit_code == kCudaExitDevice) {
    klass = "device";
  } else if (exit_code == kCudaExitMemory) {
    klass = "memory";
  }
  const std::string what =
      e.ok() ? e->name + " (" + e->message + ") in " + e->phase : std::string();
  const std::string on = "device " + std::to_string(device);
  if (klass == "launch") {
    *status = MeasureStatus::kRuntimeError;
    *error_msg = "launch failure: " + (what.empty() ? "the launch was refused" : what) +
                 ": the config needs more registers, shared memory or threads per block than " +
                 on + " offers";
  } else if (klass == "runtime") {
    *status = MeasureStatus::kCrashed;
    *error_msg = "device fault: " + (what.empty() ? "the kernel faulted" : what) + " on " + on;
  } else if (klass == "memory") {
    *status = MeasureStatus::kRuntimeError;
    *error_msg =
        "out of device memory: " + (what.empty() ? "cudaMalloc failed" : what) + " on " + on;
  } else if (klass == "device") {
    *status = MeasureStatus::kUnknownError;
    *error_msg =
        "no usable CUDA " + on + ": " + (what.empty() ? "the harness could not use it" : what);
  } else {
    *status = MeasureStatus::kRuntimeError;
    *error_msg = "exited with code " + std::to_string(exit_code);
    if (exit_code == 3) *error_msg += " (out of host memory)";
  }
  AppendLines(error_msg, stderr_text);
}

std::string SummarizeNvccError(const std::string& stderr_text) {
  std::istringstream in(stderr_text);
  std::string first_error;
  std::string cause;
  for (std::string l; std::getline(in, l);) {
    const bool ptxas = l.find("ptxas") != std::string::npos;
    if (ptxas && l.find("too much shared data") != std::string::npos) {
      cause = "ptxas: too much shared memory";
    } else if (ptxas && (l.find("registers") != std::string::npos ||
                         l.find("too many resources") != std::string::npos)) {
      cause = "ptxas: too many registers";
    } else if (l.find("Unsupported gpu architecture") != std::string::npos ||
               l.find("Unsupported GPU architecture") != std::string::npos) {
      cause = "nvcc: unsupported GPU architecture";
    }
    if (first_error.empty() && (l.find("error") != std::string::npos)) first_error = l;
    if (!cause.empty()) {
      first_error = l;
      break;
    }
  }
  std::string out = cause.empty() ? "" : cause + ": ";
  if (!first_error.empty() && !cause.empty()) return out + first_error;
  return FirstLines(stderr_text, kErrorLines);
}

}  // namespace sonar
