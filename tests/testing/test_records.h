// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: helpers shared by the measure tests: a sample Record, a scratch
// directory, file helpers, and the path of ../shared/datasets (tests that need it skip when it is
// absent).
//
// Example:
//   ScratchDir dir;
//   Record r = SampleRecord(3);
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "measure/record.h"
#include "space/task.h"

namespace sonar::testing {

// A record with every field set; `i` varies the config, costs and workload.
inline Record SampleRecord(int i, int workloads = 3) {
  Record r;
  r.task.name = "dense_test";
  r.task.op = "dense";
  r.task.args_json = "[64," + std::to_string(64 * (1 + i % workloads)) + ",32]";
  r.task.target = "cpu-x86_64-test";
  r.task.template_version = 2;
  r.workload_key = r.task.ComputeWorkloadKey();
  r.config.values = {
      KnobValue{.name = "tile_y", .kind = KnobKind::kSplit, .ints = {-1, 4 << (i % 3), 2}},
      KnobValue{.name = "order", .kind = KnobKind::kReorder, .ints = {2, 0, 1}},
      KnobValue{.name = "vec", .kind = KnobKind::kChoice, .strings = {i % 2 ? "avx2" : "none"}},
      KnobValue{.name = "unroll", .kind = KnobKind::kInt, .ints = {i % 16}},
      KnobValue{.name = "pack", .kind = KnobKind::kBool, .ints = {i % 2}},
  };
  r.config.index = 1000 + i;
  if (i % 5 == 4) {
    r.result.status = MeasureStatus::kCompileError;
    r.result.error_msg = "error: expected ';' (config " + std::to_string(i) + ")";
  } else {
    r.result.status = MeasureStatus::kOk;
    r.result.run_seconds = {1e-3 * (1 + i % 7), 1.1e-3 * (1 + i % 7), 0.9e-3 * (1 + i % 7)};
  }
  r.result.compile_seconds = 0.25 + i;
  r.result.reference_seconds = i % 3 ? 2e-3 : 0;
  r.result.accuracy = i % 4 ? 0 : 0.5 + i * 1e-3;
  r.result.all_cost_seconds = 1.5 + i;
  r.timestamp_unix_s = 1.7e9 + i + 0.123456;
  r.tuner = "random";
  r.trial = i;
  r.hardware_id = "hw-test";
  r.source_version = "sonar";
  return r;
}

// A fresh directory under $TMPDIR, removed with its contents at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sonar_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// A scratch directory for the whole test process (e.g. a compile cache shared by its tests, so
// kernels compile once), removed when the process exits.
inline const std::string& ProcessScratchDir() {
  static const std::string dir = [] {
    std::string t = (std::filesystem::temp_directory_path() / "sonar-test-cache-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) return std::string("/tmp/sonar-test-cache");
    static std::string to_remove = t;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return t;
  }();
  return dir;
}

// ../shared/datasets beside the repository, or "" when absent.
inline std::string DatasetsDir() {
  const std::string dir = std::string(SONAR_SHARED_DIR) + "/datasets";
  return std::filesystem::is_directory(dir) ? dir : "";
}

#define SONAR_SKIP_WITHOUT_DATASETS()                               \
  if (::sonar::testing::DatasetsDir().empty())                      \
  GTEST_SKIP() << "../shared/datasets is absent (" SONAR_SHARED_DIR \
                  "/datasets); these tests read the real histories there"

}  // namespace sonar::testing
