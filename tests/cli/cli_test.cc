// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// End-to-end tests of the `sonar` executable: exit codes, --json output, and that import,
// export and records agree with each other and with the data.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "tests/testing/cli_runner.h"

namespace sonar {
namespace {

using nlohmann::json;
using testing::CliResult;
using testing::DatasetsDir;
using testing::ReadFile;
using testing::RunSonar;
using testing::ScratchDir;
using testing::WriteFile;

// `n` distinct AutoTVM v0.2 lines of one dense workload (index and timestamp vary).
std::string AutoTvmLines(int n, int first = 0) {
  std::string out;
  for (int i = first; i < first + n; ++i) {
    out +=
        R"({"input": ["llvm -mcpu=test", "dense_nopack.x86", [["TENSOR", [64, 64], "float32"], ["TENSOR", [64, 64], "float32"], null, "float32"], {}], "config": {"index": )" +
        std::to_string(i) +
        R"(, "code_hash": null, "entity": [["tile_y", "sp", [-1, 4]], ["tile_x", "sp", [-1, 16]], ["tile_k", "sp", [-1, 8]]]}, "result": [[)" +
        std::to_string(1e-4 * (1 + i % 97)) + R"(], 0, 1.25, )" + std::to_string(1600000000 + i) +
        R"(], "version": 0.2, "tvm_version": "0.9.0"})" + "\n";
  }
  return out;
}

json StatsOf(const std::string& log, const ScratchDir& dir) {
  CliResult r = RunSonar({"records", "stats", log, "--json"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

TEST(Cli, WritingCommandsRefuseFilesThatAreNotRecordLogsAndLeaveThemAsTheyWere) {
  ScratchDir dir;
  const std::string tvm = dir.File("mytvm.log"), readme = dir.File("README.md"),
                    notes = dir.File("notes.txt");
  WriteFile(tvm, AutoTvmLines(3));
  WriteFile(readme, "# My project\n\nNotes about tuning.\n");
  WriteFile(notes, "");  // an empty file may become a log; fill it first
  WriteFile(notes, "measured on Tuesday\n");
  WriteFile(dir.File("h.log"), AutoTvmLines(5, 100));
  struct Case {
    std::vector<std::string> args;
    std::string file, looks_like;
  };
  const std::vector<Case> cases = {
      {{"import", dir.File("h.log"), "--out", tvm}, tvm, "looks like an AutoTVM log"},
      {{"import", dir.File("h.log"), "--out", readme}, readme, "looks like a text file"},
      {{"import", dir.File("h.log"), "--out", notes}, notes, "looks like a text file"},
      {{"measure", "--op", "dense", "--shape", "8,8,8", "--sample", "1", "--records", readme},
       readme,
       "looks like a text file"},
      {{"tune", "--replay", dir.File("h.log"), "--trials", "2", "--records", tvm},
       tvm,
       "looks like an AutoTVM log"},
  };
  for (const Case& c : cases) {
    const std::string before = ReadFile(c.file);
    CliResult r = RunSonar(c.args, dir);
    EXPECT_EQ(r.exit_code, 1) << c.args[0] << " " << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.looks_like), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
    EXPECT_EQ(ReadFile(c.file), before) << c.args[0] << " changed " << c.file;
  }
  // The AutoTVM log is still what `import` reads.
  CliResult r = RunSonar({"import", tvm, "--out", dir.File("ok.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["appended"], 3);
}

TEST(Cli, ExportNeverReplacesAFileWithoutForceNorEverItsInput) {
  ScratchDir dir;
  WriteFile(dir.File("h.log"), AutoTvmLines(4));
  const std::string log = dir.File("twice.sonar");
  ASSERT_EQ(RunSonar({"import", dir.File("h.log"), "--out", log}, dir).exit_code, 0);
  const std::string log_bytes = ReadFile(log);
  // Onto its own input: refused, even with --force.
  for (bool force : {false, true}) {
    std::vector<std::string> args = {"export", log, "--format", "autotvm", "--out", log};
    if (force) args.push_back("--force");
    CliResult r = RunSonar(args, dir);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("onto itself"), std::string::npos) << r.err;
    EXPECT_EQ(ReadFile(log), log_bytes);
  }
  // Onto another existing file: refused without --force, replaced with it.
  const std::string other = dir.File("other.log");
  WriteFile(other, "keep me\n");
  CliResult r = RunSonar({"export", log, "--format", "autotvm", "--out", other}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(other), "keep me\n");
  r = RunSonar({"export", log, "--format", "autotvm", "--out", other, "--force"}, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string exported = ReadFile(other);
  EXPECT_EQ(std::count(exported.begin(), exported.end(), '\n'), 4);
  // A failed export (missing input) leaves nothing behind.
  r = RunSonar(
      {"export", dir.File("absent.sonar"), "--format", "jsonl", "--out", dir.File("x.jsonl")}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.File("x.jsonl")));
  for (const auto& e : std::filesystem::directory_iterator(dir.File(""))) {
    EXPECT_EQ(e.path().filename().string().find("x.jsonl."), std::string::npos) << e.path();
  }
}

TEST(Cli, AFailedImportLeavesNoNewFileAndAStrictOneLeavesTheLogAsItWas) {
  ScratchDir dir;
  // An input that cannot be read, and one whose format cannot be told: no --out appears.
  CliResult r = RunSonar({"import", dir.File("absent.log"), "--out", dir.File("new.sonar")}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.File("new.sonar")));
  WriteFile(dir.File("mystery.txt"), "hello\n");
  r = RunSonar({"import", dir.File("mystery.txt"), "--out", dir.File("new.sonar")}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir.File("new.sonar")));
  // A strict import of a file with a bad line, after good ones: nothing from it is appended,
  // to a new log (which then does not remain) or to an existing one (byte for byte as it was).
  WriteFile(dir.File("bad.log"), AutoTvmLines(200) + "not json\n" + AutoTvmLines(10, 500));
  r = RunSonar({"import", dir.File("bad.log"), "--out", dir.File("new.sonar"), "--strict"}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.log:201:"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("new.sonar")));
  WriteFile(dir.File("good.log"), AutoTvmLines(7, 1000));
  ASSERT_EQ(
      RunSonar({"import", dir.File("good.log"), "--out", dir.File("log.sonar")}, dir).exit_code, 0);
  const std::string before = ReadFile(dir.File("log.sonar"));
  r = RunSonar({"import", dir.File("bad.log"), "--out", dir.File("log.sonar"), "--strict"}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(dir.File("log.sonar")), before);
  // Without --strict the good lines go in and the bad one is counted.
  r = RunSonar({"import", dir.File("bad.log"), "--out", dir.File("log.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["appended"], 210);
  EXPECT_EQ(json::parse(r.out)["skipped_lines"], 1);
}

TEST(Cli, ImportMergesRecordLogsAndRefusesToImportALogIntoItself) {
  ScratchDir dir;
  WriteFile(dir.File("a.log"), AutoTvmLines(30));
  WriteFile(dir.File("b.log"), AutoTvmLines(30, 20));  // 10 in common with a.log
  ASSERT_EQ(RunSonar({"import", dir.File("a.log"), "--out", dir.File("a.sonar")}, dir).exit_code,
            0);
  ASSERT_EQ(RunSonar({"import", dir.File("b.log"), "--out", dir.File("b.sonar")}, dir).exit_code,
            0);
  CliResult r =
      RunSonar({"import", dir.File("b.sonar"), "--out", dir.File("a.sonar"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["files"][0]["format"], "sonar-log");
  EXPECT_EQ(j["appended"], 20);
  EXPECT_EQ(j["duplicates"], 10);
  EXPECT_EQ(StatsOf(dir.File("a.sonar"), dir)["records"], 50);
  const std::string before = ReadFile(dir.File("a.sonar"));
  r = RunSonar({"import", dir.File("a.sonar"), "--out", dir.File("a.sonar"), "--allow-duplicates"},
               dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("into itself"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir.File("a.sonar")), before);
}

TEST(Cli, AnImportKilledMidwayLeavesAReadableLogThatTheNextImportCompletes) {
  ScratchDir dir;
  const int n = 300000;  // about 80 MB: the import takes a good fraction of a second
  WriteFile(dir.File("big.log"), AutoTvmLines(n));
  const std::string log = dir.File("log.sonar");
  for (int64_t kill_at : {int64_t{2} << 20, int64_t{17} << 20}) {
    std::filesystem::remove(log);
    ASSERT_TRUE(testing::RunSonarUntilFileGrows({"import", dir.File("big.log"), "--out", log}, dir,
                                                log, kill_at))
        << "the import ended before it could be killed";
    // The log reads: at most the frame being written when it died is lost (a torn tail).
    json stats = StatsOf(log, dir);
    EXPECT_LE(stats["skipped_frames"].get<int>(), 1);
    EXPECT_EQ(stats["skipped_frames"].get<int>() == 1, stats["torn_tail"].get<bool>());
    const int64_t kept = stats["records"];
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, n);
    // Importing again cuts the torn tail, skips what is in, and appends the rest.
    CliResult r = RunSonar({"import", dir.File("big.log"), "--out", log, "--json"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_EQ(j["duplicates"], kept);
    EXPECT_EQ(j["appended"].get<int64_t>(), n - kept);
    stats = StatsOf(log, dir);
    EXPECT_EQ(stats["records"], n);
    EXPECT_EQ(stats["skipped_frames"], 0);
  }
}

TEST(Cli, EveryCommandHasHelpWithAnExample) {
  ScratchDir dir;
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{{},
                                                                            {"import"},
                                                                            {"export"},
                                                                            {"records"},
                                                                            {"records", "stats"},
                                                                            {"records", "best"},
                                                                            {"records", "dump"},
                                                                            {"search"}}) {
    cmd.push_back("--help");
    CliResult r = RunSonar(cmd, dir);
    EXPECT_EQ(r.exit_code, 0) << cmd[0];
    EXPECT_NE(r.out.find("Example"), std::string::npos) << r.out;
  }
}

TEST(Cli, BadUsageExitsWithTwo) {
  ScratchDir dir;
  EXPECT_EQ(RunSonar({"import"}, dir).exit_code, 2);  // no files, no --out
  EXPECT_EQ(RunSonar({"frobnicate"}, dir).exit_code, 2);
  EXPECT_EQ(RunSonar({"import", "x.log", "--out", dir.File("o"), "--format", "xml"}, dir).exit_code,
            2);
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
  CliResult r =
      RunSonar({"import", dir.File("h.log"), "--out", dir.File("o.sonar"), "--json"}, dir);
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
  r = RunSonar(
      {"import", dir.File("h.log"), "--out", dir.File("o.sonar"), "--allow-duplicates", "--json"},
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
  const std::string dense =
      DatasetsDir() + "/autotvm_cuda_v100_nnfusion/dense_records_v0.2.jsonl.gz";
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
                "--workload", "topi_nn_dense"},
               dir);
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
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'),
            stats["workloads"][0]["records"].get<int>());
}

}  // namespace
}  // namespace sonar
