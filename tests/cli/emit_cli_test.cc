// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// `sonar emit` as a user types it: tune, emit, compile the result; and `sonar search --emit`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "measure/child_process.h"
#include "measure/training/trainer.h"
#include "tests/testing/cli_runner.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::CliResult;
using ::testing::HasSubstr;
using testing::RunSonar;
using testing::ScratchDir;
using Json = nlohmann::json;

// Compiles every .cc of `dir` into objects (the emitted package as a user builds it).
void ExpectCompiles(const std::string& dir) {
  ChildOptions c;
  c.argv = {"c++",     "-std=c++17", "-O3", "-march=native", "-pthread", "-Wall",
            "-Werror", "-I" + dir,   "-c"};
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".cc") c.argv.push_back(e.path().string());
  }
  c.working_dir = dir;
  c.timeout_s = 300;
  ChildResult r = RunChild(c);
  EXPECT_TRUE(r.ok()) << r.error << r.stderr_text;
}

TEST(EmitCli, TuneThenEmitEveryWorkloadOrOneAndRefuseToOverwrite) {
  ScratchDir dir;
  const std::string log = dir.File("t.sonar");
  for (const char* shape : {"16,32,24", "8,16,16"}) {
    CliResult r = RunSonar({"tune", "--op", "dense", "--shape", shape, "--trials", "3",
                            "--min-repeat-ms", "1", "--records", log},
                           dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CliResult r =
      RunSonar({"emit", "--records", log, "--all", "--out", dir.File("all"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  ASSERT_EQ(j["workloads"].size(), 2u);
  EXPECT_EQ(j["workloads"][0]["name"], "dense_m16_n32_k24");
  EXPECT_EQ(j["workloads"][1]["name"], "dense_m8_n16_k16");
  for (const char* f : {"sonar_tuned.h", "sonar_tuned.cc", "best_configs.json",
                        "dense_m16_n32_k24.cc", "dense_m8_n16_k16.cc"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.File(std::string("all/") + f))) << f;
  }
  ExpectCompiles(dir.File("all"));

  // One workload, by name; again without --force is refused and changes nothing.
  r = RunSonar(
      {"emit", "--records", log, "--workload", "dense_m8_n16_k16", "--out", dir.File("one")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote 4 files"));
  EXPECT_THAT(r.out, HasSubstr("compile with: c++ -std=c++17 -O3 -march=native -pthread"));
  const std::string header = testing::ReadFile(dir.File("one/sonar_tuned.h"));
  EXPECT_THAT(header, ::testing::Not(HasSubstr("dense_m16_n32_k24")));
  r = RunSonar({"emit", "--records", log, "--all", "--out", dir.File("one")}, dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--force"));
  EXPECT_EQ(testing::ReadFile(dir.File("one/sonar_tuned.h")), header);
  EXPECT_FALSE(std::filesystem::exists(dir.File("one/dense_m16_n32_k24.cc")));
  r = RunSonar({"emit", "--records", log, "--all", "--out", dir.File("one"), "--force"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir.File("one/dense_m16_n32_k24.cc")));
}

TEST(EmitCli, ALiveSearchEmitsItsFrontAsNetworks) {
  if (FindDigitsCsv().empty()) GTEST_SKIP() << "python3-sklearn's digits.csv.gz is not installed";
  ScratchDir dir;
  testing::WriteFile(dir.File("tiny.json"),
                     R"({"name": "tiny", "blocks": {"min": 1, "max": 1, "channels": [4, 8],
                         "kernel": [3]}, "dense": {"min": 0, "max": 0}})");
  CliResult r =
      RunSonar({"search", "--space", dir.File("tiny.json"), "--epochs", "2", "--layer-trials", "2",
                "--min-repeat-ms", "1", "--layer-tuner", "random", "--records", dir.File("s.sonar"),
                "--emit", dir.File("net"), "--json", "--no-network-timing"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  ASSERT_FALSE(j["front"].empty());
  ASSERT_FALSE(j["emitted"].is_null()) << r.out;
  EXPECT_EQ(j["emitted"]["networks"].size(), j["front"].size());
  const std::string header = testing::ReadFile(dir.File("net/sonar_tuned.h"));
  for (const Json& f : j["front"]) {
    EXPECT_THAT(header, HasSubstr("// Network " + f["architecture"].get<std::string>()));
  }
  ExpectCompiles(dir.File("net"));
  // A directory that is not empty is refused before any work.
  r = RunSonar({"search", "--space", dir.File("tiny.json"), "--records", dir.File("s2.sonar"),
                "--emit", dir.File("net")},
               dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not empty"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("s2.sonar")));
}

}  // namespace
}  // namespace sonar
