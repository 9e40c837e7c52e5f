// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of the few-shot evaluation: rank metrics against brute force, the poisoning test
// (adaptation never reads target latencies other than the k samples and the references),
// determinism, and `sonar latency` end to end (eval --json, train/adapt/predict).
#include "surrogate/latency/latency_eval.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <sstream>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "tests/surrogate/latency/latency_testing.h"
#include "tests/testing/cli_runner.h"
#include "tests/testing/test_records.h"

extern char** environ;

namespace sonar {
namespace {

using testing::ReadFile;
using testing::ScratchDir;
using testing::SmallPredictorOptions;
using testing::SyntheticLatencyTable;
using testing::SyntheticReferences;
using testing::WriteFile;

double BruteForceTauB(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double conc = 0, disc = 0, ta = 0, tb = 0;
  for (int i = 0; i < a.size(); ++i) {
    for (int j = i + 1; j < a.size(); ++j) {
      const double da = a(i) - a(j), db = b(i) - b(j);
      if (da == 0 && db == 0) continue;
      if (da == 0) {
        ++ta;
      } else if (db == 0) {
        ++tb;
      } else if (da * db > 0) {
        ++conc;
      } else {
        ++disc;
      }
    }
  }
  return (conc - disc) / std::sqrt((conc + disc + ta) * (conc + disc + tb));
}

TEST(LatencyMetrics, KendallMatchesBruteForceWithTies) {
  Rng rng = MakeRng(5);
  for (int trial = 0; trial < 5; ++trial) {
    Eigen::VectorXd a(200), b(200);
    for (int i = 0; i < 200; ++i) {
      a(i) = static_cast<double>(UniformInt(rng, 0, 20));  // many ties, like whole milliseconds
      b(i) = a(i) + static_cast<double>(UniformInt(rng, 0, 8));
    }
    EXPECT_NEAR(KendallTauB(a, b), BruteForceTauB(a, b), 1e-12);
  }
}

TEST(LatencyMetrics, SpearmanAndWithinShares) {
  Eigen::VectorXd t(4), p(4);
  t << 1, 2, 3, 4;
  p << 1.005, 2.08, 3.6, 5;  // errors 0.5%, 4%, 20%, 25%
  const LatencyMetrics m = ComputeLatencyMetrics(p, t);
  EXPECT_DOUBLE_EQ(m.within_1pct, 0.25);
  EXPECT_DOUBLE_EQ(m.within_5pct, 0.5);
  EXPECT_DOUBLE_EQ(m.within_10pct, 0.5);
  EXPECT_DOUBLE_EQ(m.spearman, 1.0);
  EXPECT_DOUBLE_EQ(m.kendall, 1.0);
  Eigen::VectorXd r(4);
  r << 4, 3, 2, 1;
  EXPECT_DOUBLE_EQ(SpearmanRho(r, t), -1.0);
  EXPECT_TRUE(std::isnan(SpearmanRho(Eigen::VectorXd::Ones(4), t)));
}

TEST(LatencyEvalOptions, DefaultsNeedOnlyTestDevices) {
  LatencyEvalOptions o;
  EXPECT_FALSE(o.Validate().ok());
  o.test_devices = {"fpga"};
  EXPECT_TRUE(o.Validate().ok());
  o.repeats = 0;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(LatencyEval, AdaptationNeverReadsOtherTargetLatencies) {
  const LatencyTable clean = SyntheticLatencyTable(250, 6, 11);
  const std::vector<int64_t> refs = SyntheticReferences();
  const std::vector<int> sources = {0, 1, 2, 3, 4};
  const int target = 5;
  const std::vector<int> samples = {40, 77, 123, 200, 231};
  LatencyPredictor trained(SmallPredictorOptions());
  ASSERT_TRUE(trained.Train(MakeLatencyTrainingSet(clean, sources, refs)).ok());
  // Poison every target latency except the samples and the reference architectures.
  for (double poison : {std::numeric_limits<double>::quiet_NaN(), 1e30, -5.0}) {
    LatencyTable poisoned = clean;
    for (int i = 0; i < poisoned.num_archs(); ++i) {
      const bool keep = std::find(samples.begin(), samples.end(), i) != samples.end() ||
                        std::find(refs.begin(), refs.end(), poisoned.arch_idx[i]) != refs.end();
      if (!keep) poisoned.latency_ms(i, target) = poison;
    }
    for (LatencyEvalMethod m : AllLatencyEvalMethods()) {
      StatusOr<Eigen::VectorXd> a =
          PredictTargetLogMs(clean, refs, trained, sources, target, samples, m);
      StatusOr<Eigen::VectorXd> b =
          PredictTargetLogMs(poisoned, refs, trained, sources, target, samples, m);
      ASSERT_TRUE(a.ok() && b.ok()) << LatencyEvalMethodToString(m);
      EXPECT_EQ(*a, *b) << LatencyEvalMethodToString(m) << " read a poisoned latency";
      EXPECT_TRUE(a->allFinite());
    }
  }
}

LatencyEvalOptions SmallEvalOptions() {
  LatencyEvalOptions o;
  o.test_devices = {"dev4", "dev5"};
  o.source_devices = {"dev0", "dev1", "dev2", "dev3"};
  o.shots = {3, 10};
  o.repeats = 3;
  o.ceiling_epochs = 100;
  o.threads = 2;
  o.seed = 3;
  o.predictor = SmallPredictorOptions(3);
  return o;
}

TEST(LatencyEval, SameSeedSameTableAndEveryMethodReported) {
  const LatencyTable t = SyntheticLatencyTable(250, 6, 12);
  const LatencyEvalOptions o = SmallEvalOptions();
  StatusOr<LatencyEvalSummary> a = EvaluateLatencyPredictor(t, SyntheticReferences(), o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  LatencyEvalOptions one_thread = o;
  one_thread.threads = 1;
  StatusOr<LatencyEvalSummary> b = EvaluateLatencyPredictor(t, SyntheticReferences(), one_thread);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->FullReport(), b->FullReport());
  EXPECT_EQ(a->rows.size(), 2u * 2u * AllLatencyEvalMethods().size());
  for (const LatencyEvalRow& r : a->rows) {
    EXPECT_EQ(r.num_test_archs, 250 - 10 - r.shots);
    EXPECT_GE(r.mean.within_10pct, 0);
    EXPECT_LE(r.mean.within_10pct, 1);
  }
  const LatencyEvalRow* head = a->Find("dev5", 10, LatencyEvalMethod::kMapHead);
  ASSERT_NE(head, nullptr);
  EXPECT_GT(head->mean.spearman, 0.8);
  ASSERT_NE(a->Device("dev4"), nullptr);
  EXPECT_GT(a->Device("dev4")->ceiling.spearman, 0.8);
  EXPECT_NE(a->BriefReport().find("k=10"), std::string::npos);
  LatencyEvalOptions bad = o;
  bad.test_devices = {"nope"};
  EXPECT_EQ(EvaluateLatencyPredictor(t, SyntheticReferences(), bad).status().code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------- CLI
using testing::CliResult;
using testing::RunSonar;

// A small synthetic data set in HELP's layout: CSV + reference index file.
void WriteSmallDataset(const ScratchDir& dir) {
  const LatencyTable t = SyntheticLatencyTable(200, 5, 21);
  testing::WriteLatencyCsv(t, dir.File("nasbench201_latency_ms.csv"));
  std::string refs;
  for (int64_t a : SyntheticReferences()) refs += std::to_string(a) + "\n";
  WriteFile(dir.File("nasbench201_hardware_embedding_index.txt"), refs);
}

const std::vector<std::string> kSmallModel = {"--epochs",      "20", "--ensemble",     "2",
                                              "--hidden",      "16", "--feature-size", "8",
                                              "--maple-steps", "100"};

TEST(LatencyCli, EvalJsonHasTheDocumentedFields) {
  ScratchDir dir;
  WriteSmallDataset(dir);
  std::vector<std::string> args = {
      "latency",          "eval",        "--data",         dir.File("nasbench201_latency_ms.csv"),
      "--space",          "nasbench201", "--test-devices", "dev3,dev4",
      "--shots",          "3,5",         "--repeats",      "2",
      "--ceiling-epochs", "10",          "--json"};
  args.insert(args.end(), kSmallModel.begin(), kSmallModel.end());
  CliResult r = RunSonar(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["results"].is_array());
  ASSERT_EQ(j["results"].size(), 4u);  // 2 devices x 2 shots
  for (const auto& row : j["results"]) {
    for (const char* key : {"device", "shots", "within_10pct", "spearman", "ceiling_within_10pct",
                            "within_5pct", "within_1pct", "kendall", "methods"}) {
      EXPECT_TRUE(row.contains(key)) << key << " in " << row.dump();
    }
    EXPECT_TRUE(row["methods"].contains("best_affine_device"));
    EXPECT_TRUE(row["within_10pct"].is_number());
  }
  EXPECT_EQ(j["results"][0]["device"], "dev3");
  EXPECT_EQ(j["results"][0]["shots"], 3);
}

// The first hour on a new device (issue 17): `latency references` lists what to time, a CSV of
// architecture and ms (no arch_idx needed) adapts with the references recognised, `train` reports
// its fit, and `eval --no-ceilings` prints no ceiling column.
TEST(LatencyCli, ReferencesListWhatToTimeAndAdaptRecognisesThemWithoutIndices) {
  ScratchDir dir;
  WriteSmallDataset(dir);
  const std::string data = dir.File("nasbench201_latency_ms.csv");
  CliResult r = RunSonar(
      {"latency", "references", "--data", data, "--space", "nasbench201", "--device", "dev4"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "arch_idx,arch_str,latency_ms");
  // The samples a user writes: architecture and ms only, the 10 references and 3 others.
  const LatencyTable t = SyntheticLatencyTable(200, 5, 21);
  std::string samples = "arch_str,latency_ms\n";
  int rows = 0;
  while (std::getline(lines, line)) {
    const std::string arch = line.substr(line.find(',') + 1, line.rfind(',') - line.find(',') - 1);
    const double ms = std::stod(line.substr(line.rfind(',') + 1));
    EXPECT_GT(ms, 0) << line;  // filled from --device
    samples += arch + "," + line.substr(line.rfind(',') + 1) + "\n";
    ++rows;
  }
  EXPECT_EQ(rows, 10);
  for (int i : {50, 60, 70}) {
    samples += t.arch_keys[i][0] + "," + std::to_string(t.latency_ms(i, 4)) + "\n";
  }
  WriteFile(dir.File("samples.csv"), samples);
  std::vector<std::string> train = {
      "latency", "train",           "--data",    data,
      "--space", "nasbench201",     "--devices", "dev0,dev1,dev2,dev3",
      "--out",   dir.File("m.json")};
  train.insert(train.end(), kSmallModel.begin(), kSmallModel.end() - 2);  // no --maple-steps
  r = RunSonar(train, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("training fit (in-sample"), std::string::npos) << r.out;
  r = RunSonar({"latency", "adapt", "--model", dir.File("m.json"), "--samples",
                dir.File("samples.csv"), "--device", "dev4", "--out", dir.File("a.json"), "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json aj = nlohmann::json::parse(r.out);
  EXPECT_EQ(aj["descriptor_features"], 10);  // recognised by their architecture
  EXPECT_EQ(aj["samples"], 3);
  std::vector<std::string> eval = {"latency",   "eval",        "--data",         data,
                                   "--space",   "nasbench201", "--test-devices", "dev4",
                                   "--shots",   "3",           "--repeats",      "1",
                                   "--methods", "auto",        "--no-ceilings",  "--compact"};
  eval.insert(eval.end(), kSmallModel.begin(), kSmallModel.end() - 2);
  r = RunSonar(eval, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("ceiling"), std::string::npos) << r.out;
}

// On a terminal, latency eval shows a status line while it trains and evaluates.
TEST(LatencyCli, EvalShowsProgressOnATerminal) {
  ScratchDir dir;
  WriteSmallDataset(dir);
  std::vector<std::string> eval = {
      "latency",   "eval",        "--data",         dir.File("nasbench201_latency_ms.csv"),
      "--space",   "nasbench201", "--test-devices", "dev4",
      "--shots",   "3",           "--repeats",      "1",
      "--methods", "auto",        "--no-ceilings"};
  eval.insert(eval.end(), kSmallModel.begin(), kSmallModel.end() - 2);
  int exit_code = -1;
  const std::string screen = testing::RunSonarOnATerminal(eval, &exit_code);
  EXPECT_EQ(exit_code, 0) << screen;
  EXPECT_NE(screen.find("trained on "), std::string::npos) << screen;
}

TEST(LatencyCli, TrainAdaptPredictRoundTrip) {
  ScratchDir dir;
  WriteSmallDataset(dir);
  CliResult r = RunSonar(
      {"latency",       "train",       "--data",         dir.File("nasbench201_latency_ms.csv"),
       "--space",       "nasbench201", "--devices",      "dev0,dev1,dev2,dev3",
       "--epochs",      "20",          "--ensemble",     "2",
       "--hidden",      "16",          "--feature-size", "8",
       "--maple-steps", "100",         "--out",          dir.File("m.json"),
       "--json"},
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"sources\""), std::string::npos);
  // Samples of dev4: two reference architectures (descriptor) and three others.
  const LatencyTable t = SyntheticLatencyTable(200, 5, 21);
  std::string samples = "arch_idx,arch_str,latency_ms\n";
  for (int i : {0, 1, 50, 60, 70}) {
    samples += std::to_string(i) + "," + t.arch_keys[i][0] + "," +
               std::to_string(t.latency_ms(i, 4)) + "\n";
  }
  WriteFile(dir.File("samples.csv"), samples);
  r = RunSonar({"latency", "adapt", "--model", dir.File("m.json"), "--samples",
                dir.File("samples.csv"), "--device", "dev4", "--out", dir.File("a.json"), "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json aj = nlohmann::json::parse(r.out);
  EXPECT_EQ(aj["samples"], 3);
  EXPECT_EQ(aj["descriptor_features"], 2);
  // The MAPLE network is opt-in: maple_mix on a model trained without --maple says how to get
  // one, and works on a model trained with it.
  r = RunSonar({"latency", "adapt", "--model", dir.File("m.json"), "--samples",
                dir.File("samples.csv"), "--method", "maple_mix", "--out", dir.File("mm.json")},
               dir);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("sonar latency train --maple"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("mm.json")));
  r = RunSonar({"latency",
                "train",
                "--data",
                dir.File("nasbench201_latency_ms.csv"),
                "--space",
                "nasbench201",
                "--devices",
                "dev0,dev1,dev2,dev3",
                "--epochs",
                "20",
                "--ensemble",
                "1",
                "--hidden",
                "16",
                "--feature-size",
                "8",
                "--maple",
                "--maple-steps",
                "100",
                "--out",
                dir.File("maple.json")},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunSonar({"latency", "adapt", "--model", dir.File("maple.json"), "--samples",
                dir.File("samples.csv"), "--method", "maple_mix", "--out", dir.File("mm.json")},
               dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunSonar({"latency", "predict", "--model", dir.File("a.json"), "--arch", t.arch_keys[100][0],
                "--json"},
               dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json pj = nlohmann::json::parse(r.out);
  ASSERT_EQ(pj["predictions"].size(), 1u);
  EXPECT_GT(pj["predictions"][0]["latency_ms"].get<double>(), 0);
  EXPECT_EQ(pj["device"], "dev4");
  // Predicting with a model that is not adapted, or a malformed one, fails clearly.
  r = RunSonar({"latency", "predict", "--model", dir.File("m.json"), "--arch", t.arch_keys[0][0]},
               dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("adapt"), std::string::npos);
  WriteFile(dir.File("bad.json"), "{\"format\": \"sonar-latency-predictor\", \"version\": 1}");
  r = RunSonar({"latency", "predict", "--model", dir.File("bad.json"), "--arch", t.arch_keys[0][0]},
               dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("malformed latency model"), std::string::npos) << r.err;
}

TEST(LatencyCli, EveryCommandHasHelpWithAnExampleAndBadUsageExitsWithTwo) {
  ScratchDir dir;
  for (const char* cmd : {"train", "adapt", "predict", "eval"}) {
    CliResult r = RunSonar({"latency", cmd, "--help"}, dir);
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << cmd;
  }
  EXPECT_EQ(RunSonar({"latency", "eval", "--space", "nasbench201"}, dir).exit_code, 2);
  EXPECT_EQ(
      RunSonar({"latency", "eval", "--data", "x.csv", "--space", "darts", "--test-devices", "a"},
               dir)
          .exit_code,
      2);
}

}  // namespace
}  // namespace sonar
