// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/tune.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <set>

#include "tests/testing/fakes.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::FunctionMeasurer;
using testing::ScratchDir;
using testing::SyntheticCost;
using testing::SyntheticTask;

std::unique_ptr<Tuner> RandomTuner(const Task& task, uint64_t seed = 0) {
  TunerOptions o;
  o.seed = seed;
  return MakeTuner(task, o).value();
}

TEST(TuneOptions, DefaultsAreValid) { EXPECT_TRUE(TuneOptions{}.Validate().ok()); }

TEST(TuneOptions, BadValuesAreRejected) {
  TuneOptions o;
  o.batch_size = 0;
  EXPECT_FALSE(o.Validate().ok());
  o = TuneOptions{};
  o.early_stopping.no_improvement_trials = -1;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(TuneSummary, DefaultSaysTuneWasNotCalled) {
  EXPECT_EQ(TuneSummary{}.message, "sonar::Tune was not called.");
}

TEST(Tune, RunsToTheTrialBudgetAndWritesEveryRecordFirst) {
  ScratchDir dir;
  const Task task = SyntheticTask();
  RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
  FunctionMeasurer measurer(SyntheticCost);
  std::unique_ptr<Tuner> tuner = RandomTuner(task);
  TuneOptions o;
  o.max_trials = 100;
  o.batch_size = 7;
  int callbacks = 0;
  o.callbacks.push_back([&](const TuneProgress& p) {
    ++callbacks;
    // The records of the batch are in the log before the callback (and the tuner) see it.
    EXPECT_EQ(store.size(), p.trial);
    return CallbackAction::kContinue;
  });
  TuneSummary s = Tune(o, task, *tuner, measurer, store).value();
  EXPECT_EQ(s.reason, TerminationReason::kMaxTrials);
  EXPECT_EQ(s.num_trials, 100);
  EXPECT_EQ(store.size(), 100);
  EXPECT_EQ(callbacks, 15);  // ceil(100 / 7)
  EXPECT_EQ(s.best_seconds_by_trial.size(), 100u);
  for (size_t i = 1; i < s.best_seconds_by_trial.size(); ++i) {
    EXPECT_LE(s.best_seconds_by_trial[i], s.best_seconds_by_trial[i - 1]);
  }
  ASSERT_TRUE(s.best.has_value());
  EXPECT_DOUBLE_EQ(RecordCost(*s.best), s.best_seconds_by_trial.back());
  int failed = 0;
  std::set<int> trials;
  for (const Record& r : store.records()) {
    failed += !r.result.ok();
    trials.insert(r.trial);
    EXPECT_EQ(r.workload_key, task.WorkloadKey());
    EXPECT_EQ(r.tuner, "random");
  }
  EXPECT_EQ(failed, s.num_failed);
  EXPECT_EQ(trials.size(), 100u);
  EXPECT_EQ(*trials.begin(), 0);
  EXPECT_EQ(*trials.rbegin(), 99);
  EXPECT_NE(s.BriefReport().find("100 trials"), std::string::npos);
}

TEST(Tune, AutoTvmEarlyStoppingStopsNTrialsAfterTheLastBest) {
  ScratchDir dir;
  const Task task = SyntheticTask();
  RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
  // Costs only ever get worse after trial 5: the best is found at trial 5.
  int calls = 0;
  FunctionMeasurer measurer([&](const Config&) {
    ++calls;
    MeasureResult r;
    r.status = MeasureStatus::kOk;
    r.run_seconds = {calls <= 5 ? 1.0 / calls : 1.0 + calls};
    return r;
  });
  std::unique_ptr<Tuner> tuner = RandomTuner(task);
  TuneOptions o;
  o.batch_size = 1;
  o.early_stopping.no_improvement_trials = 20;
  TuneSummary s = Tune(o, task, *tuner, measurer, store).value();
  EXPECT_EQ(s.reason, TerminationReason::kEarlyStopped);
  EXPECT_EQ(s.num_trials, 25);
}

TEST(Tune, RelativeEarlyStoppingNeedsAGainAboveTheThreshold) {
  ScratchDir dir;
  const Task task = SyntheticTask();
  RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
  // Each trial improves the best by 0.5%: below a 1% gain over any 10-trial window? No:
  // 10 trials of 0.5% each is about 4.9%, above 1%. Over a 1-trial window it is below.
  int calls = 0;
  FunctionMeasurer measurer([&](const Config&) {
    MeasureResult r;
    r.status = MeasureStatus::kOk;
    r.run_seconds = {std::pow(0.995, calls++)};
    return r;
  });
  TuneOptions o;
  o.batch_size = 1;
  o.max_trials = 60;
  o.early_stopping.min_relative_gain = 0.01;
  o.early_stopping.relative_window = 10;
  std::unique_ptr<Tuner> tuner = RandomTuner(task);
  EXPECT_EQ(Tune(o, task, *tuner, measurer, store)->reason, TerminationReason::kMaxTrials);
  o.early_stopping.relative_window = 1;
  calls = 0;
  ScratchDir dir2;
  RecordStore store2 = RecordStore::Open(dir2.File("r.sonar"), {}).value();
  tuner = RandomTuner(task);
  TuneSummary s = Tune(o, task, *tuner, measurer, store2).value();
  EXPECT_EQ(s.reason, TerminationReason::kEarlyStopped);
  EXPECT_EQ(s.num_trials, 1);
}

TEST(Tune, WallTimeUserStopAndExhaustionEndTheRun) {
  ScratchDir dir;
  const Task task = SyntheticTask();
  RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
  FunctionMeasurer slow(SyntheticCost, 0.002);
  TuneOptions o;
  o.max_wall_seconds = 0.05;
  o.batch_size = 4;
  std::unique_ptr<Tuner> tuner = RandomTuner(task);
  TuneSummary s = Tune(o, task, *tuner, slow, store).value();
  EXPECT_EQ(s.reason, TerminationReason::kWallTime);
  EXPECT_GT(s.num_trials, 0);
  EXPECT_LT(s.num_trials, 1000);

  TuneOptions u;
  u.resume = false;
  u.callbacks.push_back([](const TuneProgress& p) {
    return p.trial >= 16 ? CallbackAction::kStop : CallbackAction::kContinue;
  });
  tuner = RandomTuner(task, 1);
  FunctionMeasurer fast(SyntheticCost);
  s = Tune(u, task, *tuner, fast, store).value();
  EXPECT_EQ(s.reason, TerminationReason::kUserRequested);
  EXPECT_EQ(s.num_trials, 16);

  std::vector<Knob> knobs = {IntKnob("a", 0, 2)};
  Task tiny;
  tiny.op = "tiny";
  tiny.space = ConfigSpace::Make(knobs).value();
  tuner = RandomTuner(tiny);
  s = Tune(TuneOptions{}, tiny, *tuner, fast, store).value();
  EXPECT_EQ(s.reason, TerminationReason::kSpaceExhausted);
  EXPECT_EQ(s.num_trials, 3);
}

TEST(Tune, ResumeReplaysTheLogAndFinishesTheSameBudget) {
  ScratchDir dir;
  const Task task = SyntheticTask();
  const std::string path = dir.File("r.sonar");
  FunctionMeasurer measurer(SyntheticCost);
  TuneOptions o;
  o.max_trials = 40;
  {
    RecordStore store = RecordStore::Open(path, {}).value();
    std::unique_ptr<Tuner> tuner = RandomTuner(task, 1);
    o.max_trials = 24;
    ASSERT_TRUE(Tune(o, task, *tuner, measurer, store).ok());
  }
  RecordStore store = RecordStore::Open(path, {}).value();
  std::unique_ptr<Tuner> tuner = RandomTuner(task, 2);
  o.max_trials = 40;
  TuneSummary s = Tune(o, task, *tuner, measurer, store).value();
  EXPECT_EQ(s.num_resumed, 24);
  EXPECT_EQ(s.num_trials, 40);
  EXPECT_EQ(store.size(), 40);
  std::set<std::vector<int32_t>> configs;
  for (const Record& r : store.records()) {
    configs.insert(task.space.FromValues(r.config.values).value().choice);
  }
  EXPECT_EQ(configs.size(), 40u) << "a resumed run proposed a config again";
}

// The crash-safety promise, end to end: kill -9 a tuning process in the middle, run again, and
// the records and trial counts add up with nothing lost or duplicated.
TEST(Tune, KillNineInTheMiddleThenRerunLosesAndDuplicatesNothing) {
  ScratchDir dir;
  const std::string path = dir.File("killed.sonar");
  const Task task = SyntheticTask();
  TuneOptions o;
  o.max_trials = 300;
  o.batch_size = 5;
  auto run = [&](uint64_t seed) {
    RecordStore store = RecordStore::Open(path, {}).value();
    std::unique_ptr<Tuner> tuner = RandomTuner(task, seed);
    FunctionMeasurer measurer(SyntheticCost, 0.001);
    return Tune(o, task, *tuner, measurer, store);
  };
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    (void)run(11);
    _exit(0);
  }
  // Let it record some batches, then kill it without warning.
  for (int i = 0; i < 200; ++i) {
    usleep(5000);
    RecordLogStats stats;
    auto got = ReadRecordLog(path, &stats);
    if (got.ok() && got->size() >= 60) break;
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child finished before it was killed";
  RecordLogStats stats;
  const size_t before = ReadRecordLog(path, &stats).value().size();
  EXPECT_GT(before, 0u);
  EXPECT_LT(before, 300u);

  StatusOr<TuneSummary> s = run(12);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->num_resumed, static_cast<int>(before));
  EXPECT_EQ(s->num_trials, 300);
  std::vector<Record> all = ReadRecordLog(path, &stats).value();
  EXPECT_EQ(stats.skipped_frames, 0);
  ASSERT_EQ(all.size(), 300u);
  std::set<int> trials;
  std::set<std::vector<int32_t>> configs;
  for (const Record& r : all) {
    trials.insert(r.trial);
    configs.insert(task.space.FromValues(r.config.values).value().choice);
  }
  EXPECT_EQ(trials.size(), 300u);
  EXPECT_EQ(*trials.rbegin(), 299);
  EXPECT_EQ(configs.size(), 300u);
}

}  // namespace
}  // namespace sonar
