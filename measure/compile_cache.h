// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: CompileCache, which turns one kernel translation unit into a
// measured-kernel executable (kernel + the harness main, measure/harness/harness_main.cc) with
// the system compiler, run as an isolated child with a timeout, and caches the executable on
// disk keyed by a hash of (kernel source, extra flags, harness source, compiler identity = its
// resolved path and `--version` output, flags). The harness main is compiled once per
// (compiler, flags) into a cached object. Every write is a temp file + rename(2), so several
// processes may share one cache directory.
//
// Example:
//   SONAR_ASSIGN_OR_RETURN(auto cache, CompileCache::Make(options));
//   KernelBuild b = cache->Build(source, /*source_path=*/"", {"-DTILE=8"});
//   if (b.status == MeasureStatus::kOk) RunChild({.argv = {b.binary_path, ...}});
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace sonar {

struct CompileCacheOptions {
  // Compiler program (looked up in $PATH) and the flags of every compile and link.
  std::string compiler = "c++";
  std::vector<std::string> flags = {"-O3", "-march=native"};
  // Cache directory; "" = $XDG_CACHE_HOME/sonar/kernels or $HOME/.cache/sonar/kernels, or
  // /tmp/sonar-kernels-<uid> when neither is set.
  std::string cache_dir;
  // false: never read or write cached executables (builds go to a private scratch directory
  // that is deleted with the cache object); the harness object is still reused in-process.
  bool use_cache = true;
  // Keep each kernel's source next to its cached executable (<key>.cc) for inspection.
  bool keep_sources = false;
  // Wall-clock limit of one compile, seconds (> 0).
  double compile_timeout_s = 60;
  // ---- the kind of program (the defaults build C++ kernels with the CPU harness) ----
  // Text of the harness main compiled once and linked with every kernel; "" = the CPU harness
  // (measure/harness/harness_main.cc). The CUDA measurer passes its own (measure/cuda/).
  std::string harness_source;
  // File extension of the sources written for the compiler: ".cc", or ".cu" for nvcc.
  std::string source_extension = ".cc";
  // Flags appended after the objects when linking a kernel ({} for nvcc, which links cudart).
  std::vector<std::string> link_flags = {"-pthread"};
  Status Validate() const;
};

// The outcome of one build: kOk, kCompileError, kCompileTimeout or kUnknownError (the compiler
// could not be started, the disk is full, ...).
struct KernelBuild {
  MeasureStatus status = MeasureStatus::kUnknownError;
  std::string binary_path;     // the executable, when kOk
  double compile_seconds = 0;  // wall time of the compiler run; 0 on a cache hit
  bool cache_hit = false;
  std::string error_msg;  // first lines of the compiler's stderr, or the reason
  std::string key;        // the cache key (32 hex digits)
};

// Thread safety: Build() may be called from several threads at once.
class CompileCache {
 public:
  // Resolves the compiler and reads its identity (`compiler --version`), creates the cache
  // directory. Fails with InvalidArgument when the compiler cannot be run, Internal when the
  // directory cannot be created.
  static StatusOr<std::unique_ptr<CompileCache>> Make(const CompileCacheOptions& options);
  ~CompileCache();
  CompileCache(const CompileCache&) = delete;
  CompileCache& operator=(const CompileCache&) = delete;

  // Builds `source` (its text; when `source_path` is not empty the compiler reads that file
  // instead, so its diagnostics and relative #includes refer to the user's file, and `source`
  // must hold its current text, which is what the key hashes) with the cache flags plus
  // `extra_flags` (each one argv entry, e.g. "-DTILE=8"), and links it with the harness main.
  KernelBuild Build(const std::string& source, const std::string& source_path,
                    const std::vector<std::string>& extra_flags);

  // The cache key Build would use (32 hex digits).
  std::string KeyOf(const std::string& source, const std::vector<std::string>& extra_flags) const;

  const std::string& cache_dir() const { return dir_; }
  // A private scratch directory of this object (deleted with it) for run outputs.
  const std::string& scratch_dir() const { return scratch_; }
  const std::string& compiler_identity() const { return identity_; }
  int64_t builds() const { return builds_.load(); }
  int64_t cache_hits() const { return hits_.load(); }

 private:
  explicit CompileCache(CompileCacheOptions options);
  // The harness object for these flags, compiled on first use. Empty path + *error on failure.
  std::string HarnessObject(KernelBuild* failure);
  // options_.harness_source, or the CPU harness main when it is empty.
  const char* HarnessSource() const;

  CompileCacheOptions options_;
  std::string dir_;
  std::string scratch_;
  std::string identity_;  // resolved compiler path + its --version output
  std::mutex harness_mu_;
  std::string harness_object_;
  std::string harness_error_;
  MeasureStatus harness_status_ = MeasureStatus::kOk;
  std::atomic<int64_t> builds_{0};
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> counter_{0};
};

}  // namespace sonar
