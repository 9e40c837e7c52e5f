// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// End-to-end tests of `sonar tune` and `sonar compare` through the executable.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/testing/cli_runner.h"

namespace sonar {
namespace {

using nlohmann::json;
using testing::CliResult;
using testing::ReadFile;
using testing::RunSonar;
using testing::ScratchDir;
using testing::WriteFile;

// A complete Kernel Tuner cache written by the test: 3 parameters, 8 x 6 x 4 = 192 configs, a
// smooth cost with its minimum at bx=64, t=4, m=2, and the configs with t=6 failing.
// A Kernel Tuner cache of a synthetic kernel: 192 configs, t == 6 fails to compile; `shift`
// moves the best bx (another device's landscape).
std::string WriteCache(const ScratchDir& dir, const std::string& device = "Test GPU", int shift = 0,
                       const std::string& file = "cache.json") {
  const std::vector<int> bx = {16, 32, 48, 64, 80, 96, 112, 128}, t = {1, 2, 3, 4, 5, 6},
                         m = {0, 1, 2, 3};
  std::ostringstream s;
  s << "{\n\"device_name\": \"" << device
    << "\",\n\"kernel_name\": \"test_kernel\",\n\"problem_size\": [1024],\n"
    << "\"tune_params_keys\": [\"bx\", \"t\", \"m\"],\n"
    << "\"tune_params\": {\"bx\": [16, 32, 48, 64, 80, 96, 112, 128], \"t\": [1, 2, 3, 4, 5, 6], "
       "\"m\": [0, 1, 2, 3]},\n"
    << "\"cache\": {\n";
  bool first = true;
  for (int a : bx) {
    for (int b : t) {
      for (int c : m) {
        s << (first ? "" : ",\n") << "\"" << a << "," << b << "," << c << "\": {\"bx\": " << a
          << ", \"t\": " << b << ", \"m\": " << c << ", \"time\": ";
        first = false;
        if (b == 6) {
          s << "\"CompilationFailedConfig\"}";
        } else {
          const double ms = 1.0 + 0.0004 * (a - 64 - shift) * (a - 64 - shift) +
                            0.1 * (b - 4) * (b - 4) + 0.2 * std::abs(c - 2);
          s << ms << ", \"times\": [" << ms << "]}";
        }
      }
    }
  }
  s << "\n}\n}\n";
  const std::string path = dir.File(file);
  WriteFile(path, s.str());
  return path;
}

TEST(TuneCli, ReplayRunResumesToTheSameBudgetWithoutRepeats) {
  ScratchDir dir;
  const std::string cache = WriteCache(dir);
  const std::string records = dir.File("r.sonar");
  CliResult r = RunSonar({"tune", "--replay", cache, "--tuner", "random", "--trials", "30",
                          "--records", records, "--json", "--seed", "3"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["trials"], 30);
  EXPECT_EQ(j["resumed"], 0);
  EXPECT_EQ(j["reason"], "max_trials");
  // A replayed run shows its last progress line, and no rate (its trials cost nothing here).
  r = RunSonar({"tune", "--replay", cache, "--tuner", "random", "--trials", "10", "--records",
                dir.File("p.sonar")},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("trial 10/10"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("/min"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("s/trial"), std::string::npos) << r.err;
  r = RunSonar({"tune", "--replay", cache, "--tuner", "ga", "--trials", "80", "--records", records,
                "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["trials"], 80);
  EXPECT_EQ(j["resumed"], 30);
  // The log holds 80 records of 80 distinct configs.
  r = RunSonar({"records", "dump", records}, dir);
  ASSERT_EQ(r.exit_code, 0);
  std::istringstream lines(r.out);
  std::string line;
  std::set<std::string> configs;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    configs.insert(json::parse(line)["config"]["knobs"].dump());
  }
  EXPECT_EQ(n, 80);
  EXPECT_EQ(configs.size(), 80u);
  // The whole table: exhausting it finds the true best (1.0 ms at bx=64, t=4, m=2).
  r = RunSonar({"tune", "--replay", cache, "--tuner", "grid", "--trials", "1000", "--records",
                dir.File("all.sonar"), "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["reason"], "space_exhausted");
  EXPECT_EQ(j["trials"], 192);
  EXPECT_EQ(j["failed"], 32);
  EXPECT_NEAR(j["best_seconds"].get<double>(), 1.0e-3, 1e-12);
}

TEST(TuneCli, BadUsageExitsWithTwoAndFailuresWithOne) {
  ScratchDir dir;
  EXPECT_EQ(RunSonar({"tune", "--tuner", "random"}, dir).exit_code,
            2);  // no --op/--kernel/--replay
  const std::string cache = WriteCache(dir);
  EXPECT_EQ(RunSonar({"tune", "--replay", cache, "--tuner", "simplex"}, dir).exit_code, 2);
  EXPECT_EQ(RunSonar({"tune", "--op", "dense", "--shape", "8,x,8"}, dir).exit_code, 2);
  CliResult r = RunSonar({"tune", "--replay", dir.File("absent.json")}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("absent.json"), std::string::npos);
  r = RunSonar({"tune", "--op", "conv3d", "--shape", "1,2,3"}, dir);
  EXPECT_EQ(r.exit_code, 2);  // an unknown --op is a wrong command line
  EXPECT_NE(r.err.find("--op"), std::string::npos) << r.err;
  EXPECT_EQ(RunSonar({"compare", "--replay", cache, "--tuners", "random,magic"}, dir).exit_code, 2);
}

TEST(CompareCli, WritesCurvesSummaryAndJson) {
  ScratchDir dir;
  const std::string cache = WriteCache(dir);
  const std::string out = dir.File("cmp");
  CliResult r = RunSonar({"compare", "--replay", cache, "--tuners", "random,grid,ga", "--seeds",
                          "6", "--trials", "500", "--out", out, "--json"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["tables"].size(), 1u);
  const json& t = j["tables"][0];
  EXPECT_EQ(t["size"], 192);
  EXPECT_NEAR(t["best_seconds"].get<double>(), 1e-3, 1e-12);
  ASSERT_EQ(t["tuners"].size(), 3u);
  EXPECT_EQ(t["tuners"][0]["tuner"], "random");
  EXPECT_EQ(t["tuners"][0]["ratio_to_baseline"]["5"], 1.0);
  for (const json& tu : t["tuners"]) {
    for (const char* x : {"1", "5", "10"}) {
      const double v = tu["median_trials_to"][x].get<double>();
      EXPECT_GE(v, 1);
      EXPECT_LE(v, 192);
    }
    EXPECT_LE(tu["median_trials_to"]["10"].get<double>(),
              tu["median_trials_to"]["1"].get<double>());
  }
  // Grid search is deterministic and walks a replayed table in its listed order (the cache's
  // order: m fastest, then t, then bx), so the best (bx=64, t=4, m=2), the only config within
  // 5%, is member 3*24 + 3*4 + 2 = 86: trial 87.
  EXPECT_EQ(t["tuners"][1]["median_trials_to"]["1"], 87);
  EXPECT_EQ(t["tuners"][1]["median_trials_to"]["5"], 87);
  EXPECT_EQ(t["trials"], 192);  // the budget is capped at the table's size
  for (const char* f : {"curves.csv", "summary.csv", "summary.json"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }
  const std::string curves = ReadFile(out + "/curves.csv");
  EXPECT_EQ(std::count(curves.begin(), curves.end(), '\n'), 1 + 3 * 6 * 192);
}

// What a reader of compare's output can misread (issue 17): censored medians are marked, the
// baseline runs without being asked for, checkpoints past the budget are absent, the plots have
// no sentinel and their scripts run from anywhere, and the file count is exact.
TEST(CompareCli, CensoredResultsAreMarkedAndTheBaselineRunsImplicitly) {
  ScratchDir dir;
  const std::string cache = WriteCache(dir);
  const std::string out = dir.File("cmp");
  // 20 trials of 192 configs: grid (which walks the table in order) never reaches the best,
  // found at trial 87; random is not asked for.
  CliResult r = RunSonar({"compare", "--replay", cache, "--tuners", "grid,ga", "--seeds", "5",
                          "--trials", "20", "--out", out, "--json"},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["baseline"], "random");
  const json& tuners = j["tables"][0]["tuners"];
  ASSERT_EQ(tuners.size(), 3u);
  EXPECT_EQ(tuners[2]["tuner"], "random");  // run as the baseline
  const json& grid = tuners[0];
  EXPECT_EQ(grid["tuner"], "grid");
  EXPECT_TRUE(grid["censored"]["1"].get<bool>());
  EXPECT_EQ(grid["reached"]["1"], 0);
  EXPECT_TRUE(grid["ratio_to_baseline"]["1"].is_null());  // no ratio of a lower bound
  EXPECT_TRUE(grid["median_relative_at"].contains("10"));
  EXPECT_FALSE(grid["median_relative_at"].contains("25"));  // past the 20-trial budget
  const std::string summary = ReadFile(out + "/summary.csv");
  EXPECT_NE(summary.find("grid,>20,>20,"), std::string::npos) << summary;
  // The text table marks them too.
  r = RunSonar({"compare", "--replay", cache, "--tuners", "grid", "--seeds", "2", "--trials", "20"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(">20"), std::string::npos) << r.out;
  // Every file written is counted, and the plot data has no sentinel value.
  r = RunSonar({"compare", "--replay", cache, "--tuners", "ga", "--seeds", "2", "--trials", "20",
                "--out", dir.File("cmp2")},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int files = 0;
  std::string gp;
  for (const auto& e : std::filesystem::directory_iterator(dir.File("cmp2"))) {
    ++files;
    if (e.path().extension() == ".gp") gp = ReadFile(e.path().string());
    if (e.path().extension() == ".dat") {
      EXPECT_EQ(ReadFile(e.path().string()).find(" 1000"), std::string::npos);
    }
  }
  EXPECT_NE(r.err.find("wrote " + std::to_string(files) + " files"), std::string::npos) << r.err;
  // The script names its files by absolute paths, so gnuplot runs it from any directory.
  EXPECT_NE(gp.find("set output '/"), std::string::npos) << gp;
  EXPECT_NE(gp.find("set xrange [1:20]"), std::string::npos) << gp;
  // Another baseline, by name.
  r = RunSonar({"compare", "--replay", cache, "--tuners", "grid", "--baseline", "ga", "--seeds",
                "2", "--trials", "200", "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["baseline"], "ga");
}

// On a terminal, compare shows how far it is (issue 17: it used to print nothing for minutes).
TEST(CompareCli, ShowsProgressOnATerminal) {
  ScratchDir dir;
  const std::string cache = WriteCache(dir);
  int exit_code = -1;
  const std::string screen = testing::RunSonarOnATerminal(
      {"compare", "--replay", cache, "--tuners", "ga", "--seeds", "3", "--trials", "20"},
      &exit_code);
  EXPECT_EQ(exit_code, 0) << screen;
  EXPECT_NE(screen.find("run 1/6"), std::string::npos) << screen;  // ga and random, 3 seeds
  EXPECT_NE(screen.find("run 6/6"), std::string::npos) << screen;
}

TEST(CompareCli, StopWithinKeepsTrialsToLargerThresholds) {
  ScratchDir dir;
  const std::string cache = WriteCache(dir);
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        "compare", "--replay", cache,      "--tuners", "random,grid,ga",
        "--seeds", "5",        "--trials", "192",      "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CliResult r = RunSonar(args, dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  };
  const json full = run({});
  const json stopped = run({"--stop-within", "5"});
  const json& a = full["tables"][0]["tuners"];
  const json& b = stopped["tables"][0]["tuners"];
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a[i]["median_trials_to"]["5"], b[i]["median_trials_to"]["5"]) << a[i]["tuner"];
    EXPECT_EQ(a[i]["median_trials_to"]["10"], b[i]["median_trials_to"]["10"]) << a[i]["tuner"];
    EXPECT_TRUE(b[i]["median_trials_to"]["1"].is_null()) << a[i]["tuner"];
    EXPECT_TRUE(a[i]["median_trials_to"]["1"].is_number()) << a[i]["tuner"];
  }
  EXPECT_EQ(b[1]["median_trials_to"]["5"], 87);  // grid: the only config within 5% is trial 87
  // A value outside [0, 99] is a usage error.
  EXPECT_EQ(RunSonar({"compare", "--replay", cache, "--stop-within", "-1"}, dir).exit_code, 2);
}

TEST(CompareCli, TransferTunersLearnFromAnotherDevice) {
  ScratchDir dir;
  const std::string target = WriteCache(dir);
  const std::string source = WriteCache(dir, "Other GPU", 16, "source.json");
  CliResult r =
      RunSonar({"compare", "--replay", target, "--transfer-from", source, target, "--tuners",
                "random,bo,transfer-bo,rgpe", "--seeds", "2", "--trials", "25", "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["tables"].size(), 1u);
  for (const json& tu : j["tables"][0]["tuners"]) {
    const std::string name = tu["tuner"];
    if (name != "transfer-bo" && name != "rgpe") {
      EXPECT_FALSE(tu.contains("zero_shot_spearman")) << name;
      continue;
    }
    EXPECT_EQ(tu["transfer_sources"], 1) << name;  // the target's own records are left out
    EXPECT_GT(tu["zero_shot_spearman"].get<double>(), 0.5) << name;
  }
  EXPECT_TRUE(j["median_ratio_to"]["transfer-bo"]["bo"].contains("5"));
  // sonar tune: transfer-bo needs --transfer-from (a usage error naming it), and tunes with it.
  r = RunSonar({"tune", "--replay", target, "--tuner", "transfer-bo", "--trials", "5", "--records",
                dir.File("t.sonar"), "--json"},
               dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--transfer-from"), std::string::npos) << r.err;
  r = RunSonar({"tune", "--replay", target, "--tuner", "transfer-bo", "--transfer-from", source,
                "--trials", "6", "--batch", "2", "--records", dir.File("t2.sonar"), "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["trials"], 6);
}

// Every trial fails: the summary says why (issue 17), in the text and in --json.
TEST(TuneCli, WhenTrialsFailTheSummarySaysWhy) {
  ScratchDir dir;
  // 40000 x 40000 floats (6.4 GB) is over the run's memory limit: the kernel aborts.
  CliResult r = RunSonar({"tune", "--op", "dense", "--shape", "40000,40000,1", "--trials", "3",
                          "--records", dir.File("f.sonar")},
                         dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 failed with "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(first: "), std::string::npos) << r.out;
  r = RunSonar({"tune", "--op", "dense", "--shape", "40000,40000,1", "--trials", "4", "--records",
                dir.File("f.sonar"), "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["failures"].size(), 1u) << r.out;
  EXPECT_EQ(j["failures"][0]["count"], 4);  // the 3 resumed and the new one
  EXPECT_FALSE(j["failures"][0]["first_message"].get<std::string>().empty());
}

// Ctrl-C: the batch in flight finishes and is written, the summary and how to resume are
// printed, the exit code is the shell's for SIGINT, and the same command resumes.
TEST(TuneCli, SigintStopsAfterTheBatchInFlightAndTheRunResumes) {
  ScratchDir dir;
  const std::string log = dir.File("i.sonar");
  const std::vector<std::string> args = {"tune",     "--op",   "dense",   "--shape", "48,48,48",
                                         "--trials", "40",     "--batch", "3",       "--records",
                                         log,        "--seed", "1"};
  int exit_code = -1;
  ASSERT_TRUE(testing::RunSonarUntilFileGrows(args, dir, log, 64, SIGINT, &exit_code));
  EXPECT_EQ(exit_code, 130);
  const std::string err = testing::ReadFile(dir.File("killed_stderr.txt"));
  const std::string out = testing::ReadFile(dir.File("killed_stdout.txt"));
  EXPECT_NE(err.find("Run the same command again to resume"), std::string::npos) << err;
  EXPECT_NE(out.find("interrupted by SIGINT"), std::string::npos) << out;
  // Progress came per measured config, not only per batch.
  EXPECT_NE(err.find("(batch 1/3)"), std::string::npos) << err;
  CliResult stats = RunSonar({"records", "stats", log, "--json"}, dir);
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const int written = nlohmann::json::parse(stats.out)["records"].get<int>();
  EXPECT_GT(written, 0);
  EXPECT_EQ(written % 3, 0) << "whole batches only";
  EXPECT_LT(written, 40);
  // The same command, with a smaller budget, resumes from the log.
  std::vector<std::string> again = args;
  again[6] = std::to_string(written + 3);
  again.push_back("--json");
  CliResult r = RunSonar(again, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["resumed"], written);
  EXPECT_EQ(j["trials"], written + 3);
}

TEST(TuneCli, TunesARealDenseKernelOnThisMachine) {
  ScratchDir dir;
  CliResult r =
      RunSonar({"tune", "--op", "dense", "--shape", "32,32,32", "--tuner", "random", "--trials",
                "4", "--records", dir.File("d.sonar"), "--json", "--min-repeat-ms", "5"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["trials"], 4);
  ASSERT_FALSE(j["best_seconds"].is_null()) << r.out;
  EXPECT_GT(j["best_seconds"].get<double>(), 0);
  EXPECT_GT(j["best_gflops"].get<double>(), 0);
  EXPECT_GT(j["default_seconds"].get<double>(), 0);
  EXPECT_EQ(j["best"]["result"]["status"], "ok");
}

}  // namespace
}  // namespace sonar
