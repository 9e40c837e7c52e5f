// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// End-to-end tests of `sonar search`: bad input exits 2 naming the file and field, and the
// brute-force method writes training and tuning records and resumes from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  EXPECT_THAT(r.err, HasSubstr("epoch budget must be >= 1"));
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

  // Again: everything is in the log, nothing is trained or measured.
  r = RunSonar(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["epochs_trained"], 0);
  EXPECT_EQ(j["trials_measured"], 0);
  EXPECT_EQ(j["complete"], true);
}

}  // namespace
}  // namespace sonar
