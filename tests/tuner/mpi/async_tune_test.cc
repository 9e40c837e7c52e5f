// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/mpi/async_tune.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <set>

#include "tests/testing/fakes.h"
#include "tests/testing/test_records.h"
#include "tuner/compare.h"
#include "tuner/mpi/mpi_work_queue.h"

namespace sonar {
namespace {

using testing::FunctionMeasurer;
using testing::ScratchDir;
using testing::SyntheticCost;
using testing::SyntheticTask;

// N workers of equal speed: results return oldest first.
class FifoAsyncMeasurer final : public AsyncMeasurer {
 public:
  FifoAsyncMeasurer(Measurer& measurer, int capacity) : measurer_(measurer), capacity_(capacity) {}
  int capacity() const override { return capacity_; }
  void Submit(int64_t id, const Task& task, const Config& config) override {
    ASSERT_LT(static_cast<int>(queue_.size()), capacity_);
    queue_.push_back({id, measurer_.Measure(task, {config})[0]});
    max_in_flight_ = std::max(max_in_flight_, static_cast<int>(queue_.size()));
  }
  std::pair<int64_t, MeasureResult> Next() override {
    auto out = queue_.front();
    queue_.pop_front();
    return out;
  }
  int max_in_flight() const { return max_in_flight_; }

 private:
  Measurer& measurer_;
  int capacity_;
  std::deque<std::pair<int64_t, MeasureResult>> queue_;
  int max_in_flight_ = 0;
};

std::set<std::vector<int32_t>> DistinctConfigs(const Task& task, const RecordStore& store) {
  std::set<std::vector<int32_t>> out;
  for (const Record& r : store.records())
    out.insert(task.space.FromValues(r.config.values)->choice);
  return out;
}

TEST(TuneAsync, RecordsEveryResultOnceAndKeepsEveryWorkerBusy) {
  const Task task = SyntheticTask();
  FunctionMeasurer measurer(&SyntheticCost);
  FifoAsyncMeasurer async(measurer, 4);
  ScratchDir dir;
  RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
  TunerOptions to;
  to.kind = TunerKind::kRandom;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, to).value();
  TuneOptions options;
  options.max_trials = 30;
  TuneSummary s = TuneAsync(options, task, *tuner, async, store).value();
  EXPECT_EQ(s.num_trials, 30);
  EXPECT_EQ(s.reason, TerminationReason::kMaxTrials);
  EXPECT_EQ(store.records().size(), 30u);
  EXPECT_EQ(DistinctConfigs(task, store).size(), 30u);
  EXPECT_EQ(async.max_in_flight(), 4);
  EXPECT_EQ(s.best_seconds_by_trial.size(), 30u);
  for (size_t i = 0; i < store.records().size(); ++i)
    EXPECT_EQ(store.records()[i].trial, static_cast<int>(i));
}

TEST(TuneAsync, ResumesFromTheLogWithNothingMeasuredTwice) {
  const Task task = SyntheticTask();
  FunctionMeasurer measurer(&SyntheticCost);
  ScratchDir dir;
  for (int budget : {12, 30}) {
    RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
    FifoAsyncMeasurer async(measurer, 3);
    TunerOptions to;
    to.kind = TunerKind::kBayesOpt;
    to.seed = 3;
    std::unique_ptr<Tuner> tuner = MakeTuner(task, to).value();
    TuneOptions options;
    options.max_trials = budget;
    TuneSummary s = TuneAsync(options, task, *tuner, async, store).value();
    EXPECT_EQ(s.num_trials, budget);
    EXPECT_EQ(s.num_resumed, budget == 12 ? 0 : 12);
  }
  RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
  EXPECT_EQ(store.records().size(), 30u);
  EXPECT_EQ(DistinctConfigs(task, store).size(), 30u);
  EXPECT_EQ(measurer.measured(), 30);
}

TEST(TuneAsync, EarlyStoppingWaitsForTheConfigsInFlight) {
  const Task task = SyntheticTask();
  FunctionMeasurer measurer(&SyntheticCost);
  FifoAsyncMeasurer async(measurer, 4);
  ScratchDir dir;
  RecordStore store = RecordStore::Open(dir.File("r.sonar"), {}).value();
  TunerOptions to;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, to).value();
  TuneOptions options;
  options.max_trials = 1000;
  int calls = 0;
  options.callbacks.push_back([&](const TuneProgress& p) {
    ++calls;
    EXPECT_EQ(p.last_batch->size(), 1u);
    return p.trial >= 10 ? CallbackAction::kStop : CallbackAction::kContinue;
  });
  TuneSummary s = TuneAsync(options, task, *tuner, async, store).value();
  EXPECT_EQ(s.reason, TerminationReason::kUserRequested);
  // The stop came with 3 configs still out: they are measured and recorded too.
  EXPECT_EQ(s.num_trials, 13);
  EXPECT_EQ(store.records().size(), 13u);
  EXPECT_EQ(calls, 13);
}

// Distance between two configs of the synthetic space (knob indices).
double Distance(const Config& a, const Config& b) {
  double d = 0;
  for (size_t k = 0; k < a.choice.size(); ++k) d += std::abs(a.choice[k] - b.choice[k]);
  return d;
}

// Proposals made one at a time while earlier ones are still being measured.
std::vector<Config> PendingProposals(bool fantasize, uint64_t seed) {
  const Task task = SyntheticTask();
  TunerOptions to;
  to.kind = TunerKind::kBayesOpt;
  to.seed = seed;
  to.bo.fantasize_pending = fantasize;
  std::unique_ptr<Tuner> tuner = MakeTuner(task, to).value();
  std::vector<Observation> obs;
  for (const Config& c : tuner->Propose(16)) obs.push_back({c, SyntheticCost(c)});
  tuner->Observe(obs);
  std::vector<Config> out;
  for (int i = 0; i < 4; ++i) out.push_back(tuner->Propose(1).at(0));
  return out;
}

TEST(BayesOpt, SpreadsProposalsAroundThePendingConfigs) {
  // Without pending handling, BO proposes the argmax's neighbours while the argmax is still
  // out; with the kriging believer, the next proposals move away from it.
  double with = 0, without = 0;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const std::vector<Config> a = PendingProposals(true, seed);
    const std::vector<Config> b = PendingProposals(false, seed);
    EXPECT_EQ(a[0], b[0]);  // nothing pending yet: the same proposal
    for (size_t i = 1; i < a.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        with += Distance(a[i], a[j]);
        without += Distance(b[i], b[j]);
      }
    }
  }
  EXPECT_GT(with, without);
}

TEST(BayesOpt, SynchronousProposalsIgnoreThePendingOption) {
  // Nothing is pending between batches of a synchronous loop: both settings propose the same.
  const Task task = SyntheticTask();
  std::vector<std::vector<Config>> runs;
  for (bool fantasize : {true, false}) {
    TunerOptions to;
    to.kind = TunerKind::kBayesOpt;
    to.seed = 5;
    to.bo.fantasize_pending = fantasize;
    std::unique_ptr<Tuner> tuner = MakeTuner(task, to).value();
    std::vector<Config> all;
    for (int round = 0; round < 5; ++round) {
      std::vector<Config> batch = tuner->Propose(4);
      std::vector<Observation> obs;
      for (const Config& c : batch) obs.push_back({c, SyntheticCost(c)});
      tuner->Observe(obs);
      all.insert(all.end(), batch.begin(), batch.end());
    }
    runs.push_back(all);
  }
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(CompareTuners, SimulatesAsynchronousWorkers) {
  std::vector<Record> records;
  const Task task = SyntheticTask();
  for (uint64_t i = 0; i < task.space.size(); i += 7) {
    const Config c = task.space.At(i);
    if (!task.space.Satisfies(c)) continue;
    records.push_back(MakeRecord(task, c, SyntheticCost(c), "test", 0, ""));
  }
  std::vector<CompareTable> tables = TablesFromRecords(records, "synthetic");
  CompareOptions options;
  options.tuners = {TunerKind::kBayesOpt};
  options.seeds = 2;
  options.trials = 40;
  options.async_workers = 4;
  CompareResult r = CompareTuners(tables, options).value();
  ASSERT_EQ(r.tables.size(), 1u);
  for (const CompareTunerResult& t : r.tables[0].tuners) {
    for (const std::vector<double>& c : t.curves) EXPECT_EQ(c.size(), 40u);
  }
  options.async_workers = 0;
  EXPECT_FALSE(CompareTuners(tables, options).ok());
}

TEST(ReplayTiming, ParsesRecordedAndSeconds) {
  EXPECT_EQ(ParseReplayTiming("").value().mode, ReplayTiming::Mode::kInstant);
  EXPECT_EQ(ParseReplayTiming("0").value().mode, ReplayTiming::Mode::kInstant);
  EXPECT_EQ(ParseReplayTiming("recorded").value().mode, ReplayTiming::Mode::kRecorded);
  const ReplayTiming fixed = ParseReplayTiming("0.25").value();
  EXPECT_EQ(fixed.mode, ReplayTiming::Mode::kFixed);
  EXPECT_DOUBLE_EQ(fixed.fixed_seconds, 0.25);
  EXPECT_FALSE(ParseReplayTiming("-1").ok());
  EXPECT_FALSE(ParseReplayTiming("soon").ok());
  MeasureResult r;
  r.status = MeasureStatus::kOk;
  r.compile_seconds = 0.5;
  r.run_seconds = {0.1, 0.2};
  EXPECT_DOUBLE_EQ(ReplaySeconds(ParseReplayTiming("recorded").value(), r), 0.8);
  r.all_cost_seconds = 2;
  EXPECT_DOUBLE_EQ(ReplaySeconds(ParseReplayTiming("recorded").value(), r), 2);
  EXPECT_DOUBLE_EQ(ReplaySeconds(fixed, r), 0.25);
  EXPECT_DOUBLE_EQ(ReplaySeconds(ReplayTiming{}, r), 0);
}

TEST(MpiWorkQueue, MeasureResultsRoundTrip) {
  MeasureResult r;
  r.status = MeasureStatus::kRunTimeout;
  r.run_seconds = {1e-3, 2e-3};
  r.compile_seconds = 0.7;
  r.all_cost_seconds = 1.5;
  r.error_msg = "timed out\nafter 10 s";
  r.source_error_code = 4;
  r.reference_seconds = 3e-3;
  r.reported_seconds = 1.1e-3;
  r.accuracy = 0.5;
  EXPECT_EQ(DecodeMeasureResult(EncodeMeasureResult(r)).value(), r);
  std::string cut = EncodeMeasureResult(r);
  cut.pop_back();
  EXPECT_FALSE(DecodeMeasureResult(cut).ok());
  EXPECT_EQ(MpiSize(), 1);  // not launched by mpirun: MPI is never initialized
  EXPECT_EQ(MpiRank(), 0);
}

TEST(MpiQueueOptions, DefaultsAreValid) { EXPECT_TRUE(MpiQueueOptions{}.Validate().ok()); }

}  // namespace
}  // namespace sonar
