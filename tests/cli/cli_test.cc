// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// End-to-end tests of the `sonar` executable: exit codes, --json output, and that import,
// export and records agree with each other and with the data.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/testing/cli_runner.h"

namespace sonar {
namespace {

using nlohmann::json;
using testing::DatasetsDir;
using testing::ReadFile;
using testing::ScratchDir;
using testing::WriteFile;
using testing::CliResult;
using testing::RunSonar;

TEST(Cli, EveryCommandHasHelpWithAnExample) {
  ScratchDir dir;
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {}, {"import"}, {"export"}, {"records"}, {"records", "stats"}, {"records", "best"},
           {"records", "dump"}}) {
    cmd.push_back("--help");
    CliResult r = RunSonar(cmd, dir);
    EXPECT_EQ(r.exit_code, 0) << cmd[0];
    EXPECT_NE(r.out.find("Example"), std::string::npos) << r.out;
  }
}

TEST(Cli, BadUsageExitsWithTwo) {
  ScratchDir dir;
  EXPECT_EQ(RunSonar({"import"}, dir).exit_code, 2);                    // no files, no --out
  EXPECT_EQ(RunSonar({"frobnicate"}, dir).exit_code, 2);
  EXPECT_EQ(RunSonar({"import", "x.log", "--out", dir.File("o"), "--format", "xml"}, dir).exit_code, 2);
  EXPECT_EQ(RunSonar({"export", dir.File("o"), "--format", "csv", "--out", "-"}, dir).exit_code, 2);
}

TEST(Cli, FailuresExitWithOne) {
  ScratchDir dir;
  CliResult r = RunSonar({"records", "stats", dir.File("absent.sonar")}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("absent.sonar"), std::string::npos);
  WriteFile(dir.File("bad.log"), "{\"input\": oops}\n");
  r = RunSonar({"import", dir.File("bad.log"), "--out", dir.File("o.sonar"), "--strict"}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.log:1:"), std::string::npos) << r.err;
}

TEST(Cli, ImportSkipsBadLinesWithFileAndLineAndStillSucceeds) {
  ScratchDir dir;
  const std::string good =
      R"({"input": ["llvm", "dense", [[1, 2]], {}], "config": {"index": 1, "code_hash": null, "entity": [["tile", "sp", [-1, 2]]]}, "result": [[0.5], 0, 1.0, 2.0], "version": 0.2, "tvm_version": null})";
  WriteFile(dir.File("h.log"), good + "\nnot json\n" + good + "\n");
  CliResult r = RunSonar({"import", dir.File("h.log"), "--out", dir.File("o.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["records"], 2);
  EXPECT_EQ(j["ok"], 2);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["skipped_lines"], 1);
  EXPECT_EQ(j["workloads"], 1);
  // The two good lines are the same record: the second is a duplicate, counted, not appended.
  EXPECT_EQ(j["appended"], 1);
  EXPECT_EQ(j["duplicates"], 1);
  EXPECT_NE(r.err.find("h.log:2:"), std::string::npos) << r.err;
  // Importing again appends nothing; --allow-duplicates appends both.
  r = RunSonar({"import", dir.File("h.log"), "--out", dir.File("o.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0);
  j = json::parse(r.out);
  EXPECT_EQ(j["appended"], 0);
  EXPECT_EQ(j["duplicates"], 2);
  EXPECT_EQ(j["log_records_after"], 1);
  r = RunSonar({"import", dir.File("h.log"), "--out", dir.File("o.sonar"), "--allow-duplicates",
                "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0);
  r = RunSonar({"records", "stats", dir.File("o.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0);
  j = json::parse(r.out);
  EXPECT_EQ(j["records"], 3);
  ASSERT_EQ(j["workloads"].size(), 1u);
  EXPECT_EQ(j["workloads"][0]["records"], 3);
  EXPECT_EQ(j["workloads"][0]["best_seconds"], 0.5);
  EXPECT_EQ(j["workloads"][0]["name"], "dense");
}

TEST(Cli, ImportStatsExportAndReimportAgreeOnRealData) {
  SONAR_SKIP_WITHOUT_DATASETS();
  ScratchDir dir;
  const std::string dense = DatasetsDir() + "/autotvm_cuda_v100_nnfusion/dense_records_v0.2.jsonl.gz";
  const std::string kt = DatasetsDir() + "/kernel_tuner_cache/pnpoly__RTX_Titan.json.gz";
  CliResult r = RunSonar({"import", dense, kt, "--out", dir.File("h.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json imported = json::parse(r.out);
  EXPECT_EQ(imported["skipped_lines"], 0);
  EXPECT_EQ(imported["workloads"], 15 + 1);
  r = RunSonar({"records", "stats", dir.File("h.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0);
  json stats = json::parse(r.out);
  EXPECT_EQ(stats["records"], imported["records"]);
  EXPECT_EQ(stats["ok"], imported["ok"]);
  EXPECT_EQ(stats["workloads"].size(), 16u);
  // Export the dense workloads to AutoTVM and re-import: same counts.
  r = RunSonar({"export", dir.File("h.sonar"), "--format", "autotvm", "--out", dir.File("d.log"),
                "--workload", "topi_nn_dense"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunSonar({"import", dir.File("d.log"), "--out", dir.File("d.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0);
  json again = json::parse(r.out);
  EXPECT_EQ(again["records"], stats["records"].get<int>() - 4092);
  EXPECT_EQ(again["workloads"], 15);
  // best and dump work on one workload.
  const std::string key = stats["workloads"][0]["key"];
  r = RunSonar({"records", "best", dir.File("h.sonar"), "--workload", key, "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0);
  json best = json::parse(r.out);
  ASSERT_EQ(best["best"].size(), 1u);
  EXPECT_EQ(best["best"][0]["workload_key"], key);
  r = RunSonar({"records", "dump", dir.File("h.sonar"), "--workload", key}, dir);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), stats["workloads"][0]["records"].get<int>());
}

}  // namespace
}  // namespace sonar
