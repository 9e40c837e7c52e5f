// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/replay.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/random.h"
#include "tuner/tune.h"

namespace sonar {
namespace {

// A ground-truth table made up for the test: 2 block counts x {4, 8} channels x 0/1 hidden
// layers on 16x16 inputs; accuracy curves that saturate at a level growing with the network's
// size, and layers whose recorded configs cost their FLOPs times a config-dependent factor.
struct Fixture {
  ArchitectureSpace space;
  std::vector<Record> records;
};

Fixture MakeFixture(int epochs = 8, int trials = 16) {
  ArchitectureSpaceSpec spec;
  spec.name = "tiny";
  spec.channels = {4, 8};
  spec.kernels = {3};
  spec.min_blocks = 1;
  spec.max_blocks = 2;
  spec.hidden_widths = {8};
  Fixture f{*ArchitectureSpace::Make(spec), {}};
  StatusOr<SearchProblem> problem =
      MakeSearchProblem(f.space, SampleArchitectures(f.space, 0, 0), "");
  EXPECT_TRUE(problem.ok());
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  for (int c = 0; c < static_cast<int>(problem->candidates.size()); ++c) {
    const Architecture& arch = problem->architecture(c);
    const double top =
        0.9 + 0.08 * std::log1p(f.space.NumParams(arch)) / std::log1p(1e5) + 0.005 * u(rng);
    for (int e = 1; e <= epochs; ++e) {
      EpochResult r{e, top - (top - 0.3) * std::exp(-0.5 * (e - 1)), 0,
                    0.2 + 1e-5 * f.space.Flops(arch)};
      f.records.push_back(
          MakeTrainingRecord(f.space, arch, "test-trainer", r, OkStatus(), "brute-force", ""));
    }
  }
  for (const SearchLayer& layer : problem->layers) {
    Rng config_rng(7);
    const double base = 1e-9 * (layer.task.space.size() % 7 + 1) * 1e3;
    for (int t = 0; t < trials; ++t) {
      StatusOr<Config> config = layer.task.space.Sample(config_rng);
      EXPECT_TRUE(config.ok());
      MeasureResult m;
      m.status = MeasureStatus::kOk;
      const double cost = base * (1 + 3 * u(rng));
      m.run_seconds = {cost, cost};
      m.all_cost_seconds = 0.5;
      m.reference_seconds = base * 5;
      f.records.push_back(MakeRecord(layer.task, *config, m, "brute-force", t, ""));
    }
  }
  return f;
}

TEST(SearchReplay, TableHoldsTheTruthAndTheBruteForceCost) {
  Fixture f = MakeFixture();
  StatusOr<SearchTable> table = LoadSearchTable(f.space, f.records, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->problem.candidates.size(), static_cast<size_t>(f.space.size()));
  EXPECT_EQ(table->full_epochs, 8);
  EXPECT_EQ(table->full_trials, 16);
  EXPECT_FALSE(table->true_front.empty());
  double cost = 0;
  for (const Record& r : f.records) {
    cost += IsTrainingRecord(r) ? r.result.run_seconds[0] : r.result.all_cost_seconds;
  }
  EXPECT_NEAR(table->brute_force_seconds, cost, 1e-6 * cost);
  EXPECT_TRUE(CoversTrueFront(*table, table->true_front, 0, 0));
  EXPECT_DOUBLE_EQ(HypervolumeRatio(*table, table->true_front), 1.0);
  EXPECT_FALSE(CoversTrueFront(*table, {}, 0.01, 0.05));
  EXPECT_EQ(HypervolumeRatio(*table, {}), 0.0);
  EXPECT_EQ(table->incomplete_candidates, 0);
  // Training records alone are not a table: the layers have no measurement.
  std::vector<Record> training;
  for (const Record& r : f.records) {
    if (IsTrainingRecord(r)) training.push_back(r);
  }
  StatusOr<SearchTable> untuned = LoadSearchTable(f.space, training, {});
  ASSERT_FALSE(untuned.ok());
  EXPECT_NE(untuned.status().message().find("--phase tune"), std::string::npos);
  EXPECT_FALSE(LoadSearchTable(f.space, {}, {}).ok());
}

TEST(SearchReplay, EveryMethodReachesTheFrontAndSeedsReproduce) {
  Fixture f = MakeFixture();
  StatusOr<SearchTable> table = LoadSearchTable(f.space, f.records, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ReplayOptions options;
  options.seeds = 3;
  options.layer_tuner = TunerKind::kRandom;
  StatusOr<ReplayResult> a = ReplaySearch(*table, options);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->methods.size(), 5u);
  for (const ReplayMethodResult& m : a->methods) {
    EXPECT_EQ(m.seeds_reaching_front, 3) << SearchMethodToString(m.method);
    EXPECT_LE(m.median_seconds_to_front, a->brute_force_seconds * (1 + 1e-9))
        << SearchMethodToString(m.method);
    for (const auto& curve : m.hypervolume_curve) EXPECT_FALSE(curve.empty());
  }
  StatusOr<ReplayResult> b = ReplaySearch(*table, options);
  ASSERT_TRUE(b.ok());
  for (size_t m = 0; m < a->methods.size(); ++m) {
    EXPECT_EQ(a->methods[m].seconds_to_front, b->methods[m].seconds_to_front);
  }
  EXPECT_NE(ReplaySummaryJson(*a).find("\"speedup_vs_brute_force\""), std::string::npos);
}

TEST(SearchReplay, SonarDropsCandidatesAndStopsLayersEarly) {
  Fixture f = MakeFixture(/*epochs=*/20, /*trials=*/32);
  StatusOr<SearchTable> table = LoadSearchTable(f.space, f.records, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  std::unique_ptr<SearchEnvironment> env =
      MakeReplayEnvironment(*table, TunerKind::kRandom, /*seed=*/0);
  JointSearchOptions options;
  options.full_epochs = table->full_epochs;
  options.full_trials = table->full_trials;
  std::vector<std::string> lines;
  options.log = [&](const std::string& line) { lines.push_back(line); };
  StatusOr<SearchSummary> s = RunJointSearch(options, table->problem, *env);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(lines.empty());
  EXPECT_FALSE(s->front.empty());
  int dropped = 0;
  for (const SearchState::Candidate& c : s->state.candidates) dropped += !c.alive;
  EXPECT_GT(dropped, 0);
  EXPECT_LT(s->train_seconds + s->tune_seconds, table->brute_force_seconds);
  EXPECT_TRUE(CoversTrueFront(*table, s->front, 0.01, 0.05));
}

}  // namespace
}  // namespace sonar
