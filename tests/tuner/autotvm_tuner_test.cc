// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The AutoTVM-style tuner (tuner/autotvm_tuner.cc) through the Tuner interface, on synthetic
// tables whose costs are known functions of the config.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <set>
#include <vector>

#include "common/statistics.h"
#include "tuner/tuner.h"

namespace sonar {
namespace {

using CostFn = std::function<double(const Config&)>;  // seconds; NaN or inf = failure

// 12 x 12 x 14 = 2016 configs: two ordered knobs and an unordered labelled choice.
Task TableTask(const std::string& op = "table", int64_t extent = 12) {
  std::vector<std::string> labels;
  for (int i = 0; i < 14; ++i) labels.push_back("v" + std::to_string(i));
  Task task;
  task.name = op;
  task.op = op;
  task.shape = {extent};
  task.target = "test";
  task.space =
      ConfigSpace::Make({IntKnob("a", 0, 11), IntKnob("b", 0, 11), ChoiceKnob("c", labels)})
          .value();
  return task;
}

// A smooth bowl in (a, b) with an interaction, plus an arbitrary effect of the label c.
// `shift` moves the optimum of a (a related workload).
double TableCost(const Config& c, int shift = 0) {
  const double a = c.choice[0] - 8 - shift, b = c.choice[1] - 3;
  const double label = 0.05 * ((c.choice[2] * 5) % 14);
  return 1e-3 * (1 + 0.04 * a * a + 0.06 * b * b + 0.02 * a * b + label);
}

MeasureResult Result(double seconds) {
  MeasureResult r;
  if (std::isfinite(seconds)) {
    r.status = MeasureStatus::kOk;
    r.run_seconds = {seconds};
  } else {
    r.status = MeasureStatus::kRuntimeError;
  }
  return r;
}

// Small annealing so the tests stay fast; the defaults run in DefaultOptionsFindAGoodConfig.
TunerOptions FastOptions(uint64_t seed) {
  TunerOptions o;
  o.kind = TunerKind::kAutoTvm;
  o.seed = seed;
  o.autotvm.sa_chains = 64;
  o.autotvm.sa_iterations = 150;
  o.autotvm.num_boost_round = 300;
  return o;
}

// Drives `tuner` for up to `trials` trials in batches; returns the proposals in order.
std::vector<Config> Drive(Tuner& tuner, const CostFn& cost, int trials, int batch = 8) {
  std::vector<Config> proposed;
  while (static_cast<int>(proposed.size()) < trials) {
    std::vector<Config> b =
        tuner.Propose(std::min(batch, trials - static_cast<int>(proposed.size())));
    if (b.empty()) break;
    std::vector<Observation> obs;
    for (const Config& c : b) obs.push_back({c, Result(cost(c))});
    tuner.Observe(obs);
    proposed.insert(proposed.end(), b.begin(), b.end());
  }
  return proposed;
}

// Trials until the first config with cost <= threshold (budget + 1 if never).
int TrialsToReach(Tuner& tuner, const CostFn& cost, double threshold, int budget) {
  int trials = 0;
  while (trials < budget) {
    std::vector<Config> b = tuner.Propose(std::min(8, budget - trials));
    if (b.empty()) break;
    std::vector<Observation> obs;
    for (const Config& c : b) {
      ++trials;
      if (cost(c) <= threshold) return trials;
      obs.push_back({c, Result(cost(c))});
    }
    tuner.Observe(obs);
  }
  return budget + 1;
}

std::vector<Config> AllConfigs(const ConfigSpace& space) {
  std::vector<Config> all;
  for (uint64_t i = 0; i < space.size(); ++i) all.push_back(space.At(i));
  return all;
}

// `n` records of workload `source` (random distinct configs), costs from TableCost(shift).
std::vector<Record> SourceRecords(const Task& source, int n, int shift, uint64_t seed) {
  Rng rng = MakeRng(seed);
  std::set<std::vector<int32_t>> seen;
  std::vector<Record> records;
  while (static_cast<int>(records.size()) < n) {
    Config c = source.space.Sample(rng).value();
    if (!seen.insert(c.choice).second) continue;
    Record r;
    r.workload_key = source.WorkloadKey();
    r.task.op = source.op;
    r.task.args_json = ShapeToJson(source.shape);
    r.task.target = source.target;
    r.config.values = source.space.ToValues(c);
    r.result = Result(TableCost(c, shift));
    records.push_back(std::move(r));
  }
  return records;
}

TEST(AutoTvmTuner, IsBuiltByMakeTuner) {
  TunerOptions o;
  o.kind = TunerKind::kAutoTvm;
  StatusOr<std::unique_ptr<Tuner>> tuner = MakeTuner(TableTask(), o);
  ASSERT_TRUE(tuner.ok()) << tuner.status().ToString();
  EXPECT_EQ((*tuner)->name(), "autotvm");
}

TEST(AutoTvmTuner, SameSeedGivesTheSameProposalsOverSeveralPlans) {
  const Task task = TableTask();
  const CostFn cost = [](const Config& c) { return TableCost(c); };
  TunerOptions o = FastOptions(11);
  o.autotvm.plan_size = 32;
  std::unique_ptr<Tuner> a = MakeTuner(task, o).value();
  std::unique_ptr<Tuner> b = MakeTuner(task, o).value();
  const std::vector<Config> pa = Drive(*a, cost, 200);  // 6 refits
  const std::vector<Config> pb = Drive(*b, cost, 200);
  EXPECT_EQ(pa, pb);
  o.seed = 12;
  std::unique_ptr<Tuner> c = MakeTuner(task, o).value();
  EXPECT_NE(Drive(*c, cost, 200), pa);
}

TEST(AutoTvmTuner, NeverProposesAConfigTwiceNorAnInvalidOne) {
  // 6 x 6 x 10 = 360 configs, a constraint removes a + b > 8; 300 proposals nearly exhaust it.
  std::vector<Knob> knobs = {IntKnob("a", 0, 5), IntKnob("b", 0, 5), IntKnob("c", 0, 9)};
  Task task;
  task.op = "small";
  task.space =
      ConfigSpace::Make(
          knobs, {{"a_plus_b", [](const ConfigSpace&,
                                  const Config& c) { return c.choice[0] + c.choice[1] <= 8; }}})
          .value();
  int valid = 0;
  for (const Config& c : AllConfigs(task.space)) valid += task.space.Satisfies(c);
  const CostFn cost = [](const Config& c) {
    return 1e-3 * (1 + std::abs(c.choice[0] - 2) + std::abs(c.choice[1] - 4) + 0.1 * c.choice[2]);
  };
  TunerOptions o = FastOptions(3);
  o.autotvm.plan_size = 16;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
  std::vector<Config> all = Drive(*tuner, cost, 300, 7);
  ASSERT_EQ(all.size(), 300u);
  std::set<std::vector<int32_t>> seen;
  for (const Config& c : all) {
    EXPECT_TRUE(seen.insert(c.choice).second) << "repeated " << c;
    EXPECT_TRUE(task.space.Satisfies(c)) << "invalid " << c;
  }
  // The rest of the space, then nothing.
  std::vector<Config> rest = Drive(*tuner, cost, 1000, 7);
  EXPECT_EQ(static_cast<int>(all.size() + rest.size()), valid);
  for (const Config& c : rest) EXPECT_TRUE(seen.insert(c.choice).second) << "repeated " << c;
  EXPECT_TRUE(tuner->Propose(4).empty());
}

TEST(AutoTvmTuner, FailedObservationsAreInfeasibleAndNeverBreakIt) {
  const Task task = TableTask();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Configs with a >= 10 fail; some "ok" results carry NaN, zero or no timings.
  int calls = 0;
  auto observe_all = [&](Tuner& tuner, int trials, bool all_fail) {
    std::set<std::vector<int32_t>> seen;
    for (int done = 0; done < trials;) {
      std::vector<Config> b = tuner.Propose(16);
      ASSERT_FALSE(b.empty());
      std::vector<Observation> obs;
      for (const Config& c : b) {
        EXPECT_TRUE(seen.insert(c.choice).second);
        EXPECT_TRUE(task.space.Satisfies(c));
        MeasureResult r = Result(TableCost(c));
        ++calls;
        if (all_fail || c.choice[0] >= 10) {
          r = Result(std::numeric_limits<double>::infinity());
        } else if (calls % 17 == 0) {
          r.run_seconds = {nan};
        } else if (calls % 19 == 0) {
          r.run_seconds = {0.0};
        } else if (calls % 23 == 0) {
          r.run_seconds.clear();
        }
        obs.push_back({c, r});
      }
      tuner.Observe(obs);
      done += static_cast<int>(b.size());
    }
  };
  std::unique_ptr<Tuner> mixed = MakeTuner(task, FastOptions(5)).value();
  observe_all(*mixed, 320, /*all_fail=*/false);
  // After several fits the plans avoid the failing region (a sixth of the space).
  std::vector<Config> next = mixed->Propose(40);
  int failing_region = 0;
  for (const Config& c : next) failing_region += c.choice[0] >= 10;
  EXPECT_LE(failing_region, 4);

  std::unique_ptr<Tuner> failing = MakeTuner(task, FastOptions(6)).value();
  observe_all(*failing, 200, /*all_fail=*/true);  // no model is ever fitted: random proposals
  EXPECT_EQ(failing->Propose(8).size(), 8u);
}

TEST(AutoTvmTuner, ObservedButUnproposedConfigsTrainTheModelAndAreNeverProposed) {
  const Task task = TableTask();
  std::vector<Config> all = AllConfigs(task.space);
  std::vector<Observation> history;
  for (size_t i = 0; i < all.size(); i += 15)
    history.push_back({all[i], Result(TableCost(all[i]))});
  std::unique_ptr<Tuner> tuner = MakeTuner(task, FastOptions(8)).value();
  tuner->Observe(history);  // 135 rows: a resume fits at once
  std::set<std::vector<int32_t>> observed;
  for (const Observation& o : history) observed.insert(o.config.choice);
  const std::vector<Config> plan = tuner->Propose(64);
  ASSERT_EQ(plan.size(), 64u);
  double mean = 0;
  for (const Config& c : plan) {
    EXPECT_FALSE(observed.count(c.choice)) << c;
    mean += TableCost(c) / 64;
  }
  double mean_all = 0;
  for (const Config& c : all) mean_all += TableCost(c) / static_cast<double>(all.size());
  EXPECT_LT(mean, mean_all);
}

TEST(AutoTvmTuner, ReachesTheBestOnePercentInFewerTrialsThanRandomSearch) {
  const Task task = TableTask();
  const CostFn cost = [](const Config& c) { return TableCost(c); };
  std::vector<double> costs;
  for (const Config& c : AllConfigs(task.space)) costs.push_back(cost(c));
  std::sort(costs.begin(), costs.end());
  const double threshold = costs[costs.size() / 100 - 1];  // the best 20 of 2016
  const int budget = 600;
  std::vector<double> autotvm, random;  // over 20 seeds
  for (uint64_t seed = 0; seed < 20; ++seed) {
    TunerOptions o = FastOptions(seed);
    o.autotvm.plan_size = 32;
    std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
    autotvm.push_back(TrialsToReach(*tuner, cost, threshold, budget));
    TunerOptions r;
    r.kind = TunerKind::kRandom;
    r.seed = seed;
    std::unique_ptr<Tuner> rs = MakeTuner(task, r).value();
    random.push_back(TrialsToReach(*rs, cost, threshold, budget));
  }
  std::printf("median trials to the best 1%%: autotvm %.1f, random %.1f\n", Median(autotvm),
              Median(random));
  EXPECT_LT(Median(autotvm), Median(random));
}

TEST(AutoTvmTuner, DefaultOptionsFindAGoodConfig) {
  // AutoTVM's defaults (plan_size 64, 128 chains x 500 steps, 8000 rounds) over 4 plans.
  const Task task = TableTask();
  const CostFn cost = [](const Config& c) { return TableCost(c); };
  TunerOptions o;
  o.kind = TunerKind::kAutoTvm;
  o.seed = 1;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
  const std::vector<Config> proposed = Drive(*tuner, cost, 320, 64);
  ASSERT_EQ(proposed.size(), 320u);
  std::vector<double> costs;
  for (const Config& c : AllConfigs(task.space)) costs.push_back(cost(c));
  std::sort(costs.begin(), costs.end());
  double best = std::numeric_limits<double>::infinity();
  for (const Config& c : proposed) best = std::min(best, cost(c));
  EXPECT_LE(best, costs[costs.size() / 100 - 1]);  // within the best 1%
}

// Mean cost of the first plan (the first plan_size proposals), normalised by the table's best.
double FirstPlanMeanCost(const Task& task, const TunerOptions& options) {
  std::unique_ptr<Tuner> tuner = MakeTuner(task, options).value();
  const std::vector<Config> plan = tuner->Propose(options.autotvm.plan_size);
  double mean = 0;
  for (const Config& c : plan) mean += TableCost(c) / static_cast<double>(plan.size());
  return mean;
}

TEST(AutoTvmTuner, TransferFromARelatedWorkloadImprovesTheFirstPlan) {
  const Task target = TableTask("target");
  const Task source = TableTask("source", 24);  // another shape: another workload key
  ASSERT_NE(source.WorkloadKey(), target.WorkloadKey());
  const std::vector<Record> records = SourceRecords(source, 600, /*shift=*/1, 77);
  std::vector<double> with, without;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    TunerOptions o = FastOptions(seed);
    without.push_back(FirstPlanMeanCost(target, o));
    o.transfer_records = records;
    with.push_back(FirstPlanMeanCost(target, o));
  }
  std::printf("first-plan mean cost: with transfer %.4g, without %.4g\n", Median(with),
              Median(without));
  EXPECT_LT(Median(with), 0.8 * Median(without));

  // After the first plans are observed, the tuner goes on with the discounted base model.
  TunerOptions o = FastOptions(4);
  o.transfer_records = records;
  std::unique_ptr<Tuner> tuner = MakeTuner(target, o).value();
  const std::vector<Config> proposed = Drive(
      *tuner, [](const Config& c) { return TableCost(c); }, 400);
  std::set<std::vector<int32_t>> seen;
  for (const Config& c : proposed) EXPECT_TRUE(seen.insert(c.choice).second);
}

TEST(AutoTvmTuner, TooFewOrUnusableTransferRecordsChangeNothing) {
  const Task target = TableTask("target");
  const Task source = TableTask("source", 24);
  const CostFn cost = [](const Config& c) { return TableCost(c); };
  TunerOptions plain = FastOptions(9);
  std::unique_ptr<Tuner> reference = MakeTuner(target, plain).value();
  const std::vector<Config> expected = Drive(*reference, cost, 100);

  TunerOptions few = plain;
  few.transfer_records = SourceRecords(source, 499, 0, 1);  // one short of 500
  std::unique_ptr<Tuner> a = MakeTuner(target, few).value();
  EXPECT_EQ(Drive(*a, cost, 100), expected);

  TunerOptions renamed = plain;
  renamed.transfer_records = SourceRecords(source, 600, 0, 2);
  for (Record& r : renamed.transfer_records) r.config.values[0].name = "other";
  std::unique_ptr<Tuner> b = MakeTuner(target, renamed).value();
  EXPECT_EQ(Drive(*b, cost, 100), expected);

  TunerOptions same_workload = plain;  // the task's own records are observations, not transfer
  same_workload.transfer_records = SourceRecords(target, 600, 0, 3);
  std::unique_ptr<Tuner> c = MakeTuner(target, same_workload).value();
  EXPECT_EQ(Drive(*c, cost, 100), expected);
}

TEST(AutoTvmTuner, ListedSpacesAreSearchedToo) {
  // Every third config of the table, as a replayed history would list them.
  const Task product = TableTask();
  std::vector<Config> members;
  for (uint64_t i = 0; i < product.space.size(); i += 3) members.push_back(product.space.At(i));
  Task task = product;
  task.space = ConfigSpace::MakeListed(product.space.knobs(), members).value();
  const CostFn cost = [](const Config& c) { return TableCost(c); };
  TunerOptions o = FastOptions(2);
  o.autotvm.plan_size = 32;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
  const std::vector<Config> proposed = Drive(*tuner, cost, 200);
  ASSERT_EQ(proposed.size(), 200u);
  std::set<std::vector<int32_t>> seen;
  for (const Config& c : proposed) {
    EXPECT_TRUE(task.space.Satisfies(c));
    EXPECT_TRUE(seen.insert(c.choice).second);
  }
}

// Timing of planning rounds with the defaults on a large product space; prints, asserts nothing
// about time. Run with --gtest_also_run_disabled_tests.
TEST(AutoTvmTuner, DISABLED_PlanningRoundTiming) {
  std::vector<Knob> knobs = {SplitKnob("tile_x", 1024, 3), SplitKnob("tile_y", 1024, 3),
                             SplitKnob("tile_k", 512, 2), IntKnob("unroll", 0, 3), BoolKnob("vec")};
  Task task;
  task.op = "big";
  task.space = ConfigSpace::Make(knobs).value();
  std::printf("space size %llu\n", static_cast<unsigned long long>(task.space.size()));
  auto cost = [&](const Config& c) {
    double s = 1e-3;
    for (int k = 0; k < 3; ++k) {
      const auto& f = task.space.knob(k).candidates[c.choice[k]];
      s *= 1 + 0.1 * std::abs(std::log2(static_cast<double>(f.back())) - 3);
    }
    return s * (1 + 0.1 * c.choice[3]) * (c.choice[4] ? 1.0 : 1.3);
  };
  TunerOptions o;
  o.kind = TunerKind::kAutoTvm;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, o).value();
  for (int round = 0; round < 8; ++round) {
    std::vector<Config> b = tuner->Propose(64);
    std::vector<Observation> obs;
    for (const Config& c : b) obs.push_back({c, Result(cost(c))});
    const auto start = std::chrono::steady_clock::now();
    tuner->Observe(obs);  // fit + simulated annealing
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("round %d (%d rows): fit + plan %.3f s\n", round, 64 * (round + 1), s);
  }
}

}  // namespace
}  // namespace sonar
