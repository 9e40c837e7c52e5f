// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// End-to-end tests of `sonar search`: bad input exits 2 naming the file and field, and the
// brute-force method writes training and tuning records and resumes from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "measure/training/trainer.h"
#include "tests/testing/cli_runner.h"

namespace sonar {
namespace {

using nlohmann::json;
using testing::CliResult;
using ::testing::HasSubstr;
using testing::RunSonar;
using testing::ScratchDir;
using testing::WriteFile;

TEST(SearchCli, BadSpacesAndFlagsExitTwoWithTheFieldNamed) {
  ScratchDir dir;
  WriteFile(dir.File("typo.json"), R"({"blocks": {"chanels": [4]}})");
  CliResult r =
      RunSonar({"search", "--space", dir.File("typo.json"), "--records", dir.File("x.sonar")}, dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(dir.File("typo.json") + ": blocks.chanels: unknown field"));
  r = RunSonar({"search", "--space", "no-such-space"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("built in: digits-cnn"));
  r = RunSonar({"search", "--method", "exhaustive"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  r = RunSonar({"search", "--epochs", "0"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--epochs: must be >= 1"));
  r = RunSonar({"search", "--method", "brute-force", "--layer-tuner", "transfer-bo"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir.File("sonar_search.sonar")));
}

TEST(SearchCli, BruteForceWritesTrainingAndTuningRecordsAndResumes) {
  if (FindDigitsCsv().empty()) GTEST_SKIP() << "python3-sklearn's digits.csv.gz is not installed";
  ScratchDir dir;
  // Two networks sharing their conv layer: 4 distinct layers (conv, two classifiers, hidden).
  WriteFile(dir.File("two.json"),
            R"({"name": "two", "blocks": {"min": 1, "max": 1, "channels": [4], "kernel": [3]},
                "dense": {"min": 0, "max": 1, "width": [8]}})");
  const std::vector<std::string> args = {
      "search",   "--method",  "brute-force",       "--space", dir.File("two.json"),
      "--epochs", "3",         "--layer-trials",    "2",       "--min-repeat-ms",
      "2",        "--records", dir.File("t.sonar"), "--json"};
  CliResult r = RunSonar(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["architectures"], 2);
  EXPECT_EQ(j["layers"], 4);
  EXPECT_EQ(j["epochs_trained"], 6);
  EXPECT_EQ(j["trials_measured"], 8);
  EXPECT_EQ(j["complete"], true);

  r = RunSonar({"records", "dump", dir.File("t.sonar")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int train = 0, tune = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    json rec = json::parse(line);
    if (rec["task"]["op"] == "train") {
      ++train;
      EXPECT_GT(rec["result"]["accuracy"].get<double>(), 0.05);
      EXPECT_LE(rec["result"]["accuracy"].get<double>(), 1.0);
      EXPECT_EQ(rec["tuner"], "brute-force");
    } else {
      ++tune;
    }
  }
  EXPECT_EQ(train, 6);
  EXPECT_EQ(tune, 8);
  // As an AutoTVM log: the layers' measurements only.
  r = RunSonar({"export", dir.File("t.sonar"), "--format", "autotvm", "--out", dir.File("t.log")},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("left out 6 training records"));
  const std::string tvm = testing::ReadFile(dir.File("t.log"));
  EXPECT_EQ(std::count(tvm.begin(), tvm.end(), '\n'), 8);

  // Again: everything is in the log, nothing is trained or measured.
  r = RunSonar(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["epochs_trained"], 0);
  EXPECT_EQ(j["trials_measured"], 0);
  EXPECT_EQ(j["complete"], true);
}

TEST(SearchCli, ALiveSearchKilledMidwayResumesFromItsLogAndARunAfterTheEndAppendsNothing) {
  if (FindDigitsCsv().empty()) GTEST_SKIP() << "python3-sklearn's digits.csv.gz is not installed";
  ScratchDir dir;
  WriteFile(dir.File("tiny.json"),
            R"({"name": "tiny", "blocks": {"min": 1, "max": 2, "channels": [4, 8], "kernel": [3]},
                "dense": {"min": 0, "max": 0}})");
  const std::string log = dir.File("s.sonar");
  std::vector<std::string> args = {"search",
                                   "--space",
                                   dir.File("tiny.json"),
                                   "--epochs",
                                   "3",
                                   "--layer-trials",
                                   "3",
                                   "--min-repeat-ms",
                                   "2",
                                   "--layer-tuner",
                                   "random",
                                   "--records",
                                   log};
  // Kill it with SIGKILL once the log holds a few records.
  std::vector<std::string> quiet = args;
  quiet.push_back("--quiet");
  ASSERT_TRUE(testing::RunSonarUntilFileGrows(quiet, dir, log, 3000))
      << "the search ended before it could be killed";
  CliResult r = RunSonar({"records", "stats", log, "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(json::parse(r.out)["skipped_frames"].get<int>(), 1);

  args.push_back("--json");
  r = RunSonar(args, dir);  // resumes and finishes
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json resumed = json::parse(r.out);
  ASSERT_FALSE(resumed["front"].empty());
  const auto size = std::filesystem::file_size(log);
  args.push_back("--out");
  args.push_back(dir.File("out"));
  r = RunSonar(args, dir);  // everything is in the log: same answer, nothing appended
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json again = json::parse(r.out);
  // The same networks with the same accuracies and latencies (each run times the whole
  // networks afresh: those times differ).
  for (json* j : {&again, &resumed}) {
    for (json& f : (*j)["front"]) f.erase("measured_network_seconds");
  }
  EXPECT_EQ(again["front"], resumed["front"]);
  EXPECT_EQ(std::filesystem::file_size(log), size);
  // --out: every candidate, and the time split.
  const std::string candidates = testing::ReadFile(dir.File("out/candidates.csv"));
  EXPECT_EQ(std::count(candidates.begin(), candidates.end(), '\n'), 1 + 6);
  EXPECT_NE(testing::ReadFile(dir.File("out/time.csv")).find("step,train_seconds"),
            std::string::npos);
}

TEST(SearchCli, AnExternalTrainerThatCrashesOnSomeNetworksFailsThoseAndTheSearchGoesOn) {
  ScratchDir dir;
  WriteFile(dir.File("tiny.json"),
            R"({"name": "tiny", "blocks": {"min": 1, "max": 1, "channels": [4, 8], "kernel": [3]},
                "dense": {"min": 0, "max": 1, "width": [16]}})");
  // Networks with 8 channels crash after one epoch; the others learn a made-up curve.
  WriteFile(dir.File("train.py"), R"(import json, sys, os, signal
arch = json.load(sys.stdin)
print("loading data", flush=True)
for epoch in range(1, 4):
    if arch["blocks"][0]["channels"] == 8 and epoch == 2:
        os.kill(os.getpid(), signal.SIGSEGV)
    acc = 0.5 + 0.1 * epoch + 0.01 * len(arch["hidden"])
    print(json.dumps({"epoch": epoch, "accuracy": acc, "seconds": 0.1}), flush=True)
)");
  const std::string log = dir.File("x.sonar");
  CliResult r =
      RunSonar({"search", "--space", dir.File("tiny.json"), "--epochs", "3", "--layer-trials", "2",
                "--min-repeat-ms", "2", "--layer-tuner", "random", "--records", log, "--json",
                "--train-command", "python3", dir.File("train.py")},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_FALSE(j["front"].empty());
  for (const json& f : j["front"]) {
    EXPECT_EQ(f["architecture"].get<std::string>().rfind("c4k3", 0), 0u) << f;
  }
  r = RunSonar({"records", "dump", log}, dir);
  ASSERT_EQ(r.exit_code, 0);
  int failed = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    json rec = json::parse(line);
    if (rec["task"]["op"] == "train" && rec["result"]["status"] != "ok") {
      ++failed;
      EXPECT_THAT(rec["result"]["error_msg"].get<std::string>(), HasSubstr("SIGSEGV"));
      EXPECT_EQ(rec["trial"], 2);
    }
  }
  EXPECT_EQ(failed, 2);  // c8k3 and c8k3-h16
}

}  // namespace
}  // namespace sonar
