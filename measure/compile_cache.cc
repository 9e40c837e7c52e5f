// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/compile_cache.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "measure/child_process.h"
#include "measure/harness/harness_source.h"
#include "space/task.h"

namespace sonar {
namespace {

namespace fs = std::filesystem;

constexpr int kErrorLines = 12;

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// 128 bits as two independent FNV-1a 64 hashes.
std::string Hash128(const std::string& data) {
  return Hex64(Fnv1a64(data)) + Hex64(Fnv1a64("sonar-compile-cache\x1f" + data));
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

bool WriteFileAtomically(const std::string& path, const std::string& text, const std::string& tmp) {
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    out.flush();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

bool IsExecutable(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// Classifies a finished compiler child.
KernelBuild FromCompiler(const ChildResult& r, double timeout_s) {
  KernelBuild b;
  b.compile_seconds = r.wall_seconds;
  if (!r.started) {
    b.status = MeasureStatus::kUnknownError;
    b.error_msg = "cannot run the compiler: " + r.error;
  } else if (r.timed_out) {
    b.status = MeasureStatus::kCompileTimeout;
    char buf[96];
    std::snprintf(buf, sizeof(buf), "compile timed out after %.3g s (compile_timeout_s)",
                  timeout_s);
    b.error_msg = buf;
  } else if (r.term_signal != 0) {
    b.status = MeasureStatus::kCompileError;
    b.error_msg = "the compiler died on signal " + std::to_string(r.term_signal) + "\n" +
                  FirstLines(r.stderr_text, kErrorLines);
  } else if (r.exit_code != 0) {
    b.status = MeasureStatus::kCompileError;
    b.error_msg = FirstLines(r.stderr_text, kErrorLines);
    if (b.error_msg.empty())
      b.error_msg = "the compiler exited with " + std::to_string(r.exit_code);
  } else {
    b.status = MeasureStatus::kOk;
  }
  return b;
}

}  // namespace

Status CompileCacheOptions::Validate() const {
  if (compiler.empty()) return InvalidArgumentError("compiler is empty");
  if (!(compile_timeout_s > 0)) {
    return InvalidArgumentError("compile_timeout_s must be > 0, got " +
                                std::to_string(compile_timeout_s));
  }
  for (const std::string& f : flags) {
    if (f.empty()) return InvalidArgumentError("compiler flags hold an empty entry");
  }
  for (const std::string& f : link_flags) {
    if (f.empty()) return InvalidArgumentError("link flags hold an empty entry");
  }
  if (source_extension.size() < 2 || source_extension[0] != '.') {
    return InvalidArgumentError("source_extension must start with '.', got '" + source_extension +
                                "'");
  }
  return OkStatus();
}

CompileCache::CompileCache(CompileCacheOptions options) : options_(std::move(options)) {}

CompileCache::~CompileCache() {
  std::error_code ec;
  if (!scratch_.empty()) fs::remove_all(scratch_, ec);
}

StatusOr<std::unique_ptr<CompileCache>> CompileCache::Make(const CompileCacheOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<CompileCache> cache(new CompileCache(options));
  const std::string path = FindProgram(options.compiler);
  if (path.empty()) {
    return InvalidArgumentError("compiler '" + options.compiler + "' not found in PATH");
  }
  ChildOptions version;
  version.argv = {path, "--version"};
  version.timeout_s = 30;
  ChildResult r = RunChild(version);
  if (!r.ok()) {
    return InvalidArgumentError("cannot run '" + options.compiler + " --version': " +
                                (r.error.empty() ? FirstLines(r.stderr_text, 3) : r.error));
  }
  cache->identity_ = path + "\n" + r.stdout_text;
  cache->dir_ = options.cache_dir.empty() ? DefaultCacheDir() : options.cache_dir;
  std::error_code ec;
  fs::create_directories(cache->dir_, ec);
  if (ec) {
    return InternalError("cannot create the kernel cache directory " + cache->dir_ + ": " +
                         ec.message());
  }
  std::string tmpl = cache->dir_ + "/scratch-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return InternalError("cannot create a scratch directory in " + cache->dir_);
  }
  cache->scratch_ = tmpl;
  return cache;
}

const char* CompileCache::HarnessSource() const {
  return options_.harness_source.empty() ? internal::kHarnessMainSource
                                         : options_.harness_source.c_str();
}

std::string CompileCache::KeyOf(const std::string& source,
                                const std::vector<std::string>& extra_flags) const {
  std::string data = "kernel\x1f" + source + "\x1fharness\x1f" + HarnessSource() +
                     "\x1f"
                     "compiler\x1f" +
                     identity_ +
                     "\x1f"
                     "flags";
  for (const std::string& f : options_.flags) data += "\x1f" + f;
  data +=
      "\x1f"
      "extra";
  for (const std::string& f : extra_flags) data += "\x1f" + f;
  // Only a kind of build other than the default C++ one adds these, so C++ keys stay as they were.
  if (options_.source_extension != ".cc" ||
      options_.link_flags != std::vector<std::string>{"-pthread"}) {
    data +=
        "\x1f"
        "ext\x1f" +
        options_.source_extension +
        "\x1f"
        "link";
    for (const std::string& f : options_.link_flags) data += "\x1f" + f;
  }
  return Hash128(data);
}

std::string CompileCache::HarnessObject(KernelBuild* failure) {
  std::lock_guard<std::mutex> lock(harness_mu_);
  if (!harness_object_.empty()) return harness_object_;
  if (harness_status_ != MeasureStatus::kOk) {
    failure->status = harness_status_;
    failure->error_msg = harness_error_;
    return "";
  }
  std::string data = std::string("harness\x1f") + HarnessSource() + "\x1f" + identity_;
  for (const std::string& f : options_.flags) data += "\x1f" + f;
  const std::string key = Hash128(data);
  const std::string base = options_.use_cache ? dir_ : scratch_;
  const std::string object = base + "/harness-" + key + ".o";
  struct stat st;
  if (options_.use_cache && stat(object.c_str(), &st) == 0 && st.st_size > 0) {
    harness_object_ = object;
    return object;
  }
  const std::string unique = std::to_string(getpid()) + "-" + std::to_string(counter_++);
  const std::string src = scratch_ + "/harness_main-" + unique + options_.source_extension;
  if (!WriteFileAtomically(src, HarnessSource(), src + ".tmp")) {
    failure->status = harness_status_ = MeasureStatus::kUnknownError;
    failure->error_msg = harness_error_ = "cannot write " + src;
    return "";
  }
  const std::string tmp_obj = object + ".tmp-" + unique;
  ChildOptions c;
  c.argv = {options_.compiler};
  c.argv.insert(c.argv.end(), options_.flags.begin(), options_.flags.end());
  c.argv.insert(c.argv.end(), {"-c", "-o", tmp_obj, src});
  c.timeout_s = options_.compile_timeout_s;
  KernelBuild b = FromCompiler(RunChild(c), options_.compile_timeout_s);
  if (b.status != MeasureStatus::kOk) {
    std::remove(tmp_obj.c_str());
    harness_status_ = b.status;
    harness_error_ = "compiling the harness main failed: " + b.error_msg;
    failure->status = harness_status_;
    failure->error_msg = harness_error_;
    return "";
  }
  if (std::rename(tmp_obj.c_str(), object.c_str()) != 0) {
    failure->status = harness_status_ = MeasureStatus::kUnknownError;
    failure->error_msg = harness_error_ = "cannot rename " + tmp_obj;
    return "";
  }
  harness_object_ = object;
  return object;
}

KernelBuild CompileCache::Build(const std::string& source, const std::string& source_path,
                                const std::vector<std::string>& extra_flags) {
  KernelBuild failure;
  const std::string key = KeyOf(source, extra_flags);
  failure.key = key;
  const std::string cached = dir_ + "/k-" + key;
  if (options_.use_cache && IsExecutable(cached)) {
    ++hits_;
    KernelBuild b;
    b.status = MeasureStatus::kOk;
    b.binary_path = cached;
    b.cache_hit = true;
    b.key = key;
    return b;
  }
  const std::string harness = HarnessObject(&failure);
  if (harness.empty()) return failure;

  const std::string unique = std::to_string(getpid()) + "-" + std::to_string(counter_++);
  std::string src = source_path;
  if (src.empty()) {
    src = scratch_ + "/kernel-" + key + "-" + unique + options_.source_extension;
    if (!WriteFileAtomically(src, source, src + ".tmp")) {
      failure.status = MeasureStatus::kUnknownError;
      failure.error_msg = "cannot write the kernel source to " + src;
      return failure;
    }
  }
  const std::string tmp_bin =
      (options_.use_cache ? dir_ : scratch_) + "/k-" + key + ".tmp-" + unique;
  ChildOptions c;
  c.argv = {options_.compiler};
  c.argv.insert(c.argv.end(), options_.flags.begin(), options_.flags.end());
  c.argv.insert(c.argv.end(), extra_flags.begin(), extra_flags.end());
  c.argv.insert(c.argv.end(), {"-o", tmp_bin, src, harness});
  c.argv.insert(c.argv.end(), options_.link_flags.begin(), options_.link_flags.end());
  c.timeout_s = options_.compile_timeout_s;
  ++builds_;
  KernelBuild b = FromCompiler(RunChild(c), options_.compile_timeout_s);
  b.key = key;
  if (source_path.empty()) std::remove(src.c_str());
  if (b.status != MeasureStatus::kOk) {
    std::remove(tmp_bin.c_str());
    return b;
  }
  if (options_.use_cache && options_.keep_sources) {
    const std::string kept = dir_ + "/k-" + key + options_.source_extension;
    WriteFileAtomically(kept, source, kept + ".tmp-" + unique);
  }
  const std::string final_path =
      options_.use_cache ? cached : scratch_ + "/k-" + key + "-" + unique;
  if (std::rename(tmp_bin.c_str(), final_path.c_str()) != 0) {
    std::remove(tmp_bin.c_str());
    b.status = MeasureStatus::kUnknownError;
    b.error_msg = "cannot move the kernel binary to " + final_path;
    return b;
  }
  b.binary_path = final_path;
  return b;
}

}  // namespace sonar
